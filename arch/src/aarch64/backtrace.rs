//! Backtraces by the frame-pointer chain (x29), for panics and fault reports.
//!
//! Every function keeps a frame record — the caller's x29, then the return address (x30) — at
//! the address in x29 (AAPCS64 §6.2.3; `-C force-frame-pointers=yes` guarantees it). The walk
//! follows those records, checking each one lies inside a known stack (the boot stack, the
//! exception stack or the running thread's) and above the previous one *before* reading it, so a corrupt chain ends the
//! walk instead of faulting. The entry code zeroes x29, which ends every chain.
//!
//! Addresses are handed out as *link-time* addresses — offsets into the image, which is linked
//! at 0 — not where the loader happened to put it, so `llvm-addr2line -e` on the ELF finds them
//! whatever the load address was (QEMU, the Pi firmware and Xen all load it elsewhere).

use crate::layout;
use core::ops::Range;

/// Calls `visit` with each return address of the current call chain, innermost first, until it
/// returns `false` or the chain ends.
#[inline(never)]
pub fn walk(mut visit: impl FnMut(u64) -> bool) {
    let (caller_frame, return_address): (u64, u64);
    // SAFETY: x29 points at this function's own frame record, written by its prologue
    // (`-C force-frame-pointers=yes` gives every function one); reading it has no side effects.
    // It is read here, not in `walk_from`, because the call to `walk_from` may become a tail
    // call that pops this frame first.
    unsafe {
        core::arch::asm!(
            "ldp {frame}, {address}, [x29]",
            frame = out(reg) caller_frame,
            address = out(reg) return_address,
            options(nostack, readonly, preserves_flags),
        )
    };
    if return_address == 0 || !visit(layout::link_address(return_address)) {
        return;
    }
    walk_from(caller_frame, visit);
}

/// Like [`walk`], from the frame record at `frame` (a saved x29, e.g. from a trap frame).
pub fn walk_from(mut frame: u64, mut visit: impl FnMut(u64) -> bool) {
    let stacks = [layout::boot_stack(), layout::exception_stack(), crate::percpu::thread_stack()];
    let Some(stack) = stacks.iter().find(|s| holds_record(s, frame)) else { return };
    loop {
        // SAFETY: `holds_record` checked that the 16-byte record at `frame` lies inside a stack
        // of the image, which is mapped (or the MMU is off and it is RAM), and is 8-aligned.
        let (caller_frame, return_address) = unsafe {
            let record = frame as *const u64;
            (core::ptr::read_volatile(record), core::ptr::read_volatile(record.add(1)))
        };
        if return_address == 0 || !visit(layout::link_address(return_address)) {
            return;
        }
        // Records only move towards the top of the stack; anything else is a broken chain.
        if caller_frame <= frame || !holds_record(stack, caller_frame) {
            return;
        }
        frame = caller_frame;
    }
}

/// Whether a frame record (two words) at `frame` fits inside `stack` and is aligned.
fn holds_record(stack: &Range<u64>, frame: u64) -> bool {
    frame.is_multiple_of(8)
        && frame >= stack.start
        && frame.checked_add(16).is_some_and(|end| end <= stack.end)
}
