//! Backtraces by the frame-pointer chain (every Rivet image is built with frame pointers).
//!
//! Each frame starts `push rbp; mov rbp, rsp`, so `[rbp]` is the caller's `rbp` and `[rbp + 8]`
//! the return address into the caller. The chain ends where the entry code set `rbp` to 0.
//!
//! A backtrace is printed when something has already gone wrong, so it must not fault: every frame
//! pointer is checked before it is dereferenced — 8-byte aligned, the 16 bytes it names inside
//! one of the known stacks (the boot stack, the running thread's, the exception stacks), and above the previous frame
//! on the same stack, so a corrupt chain ends the walk instead of looping or faulting.
//!
//! Weak spot: frames of code built without frame pointers (e.g. C objects compiled without
//! `-fno-omit-frame-pointer`) are skipped or end the walk early.

use core::ops::Range;

/// Frames walked at most, whatever the callback says.
const MAX_FRAMES: usize = 256;

/// Calls `visit` with the return address of each frame of the current call chain, innermost
/// first, until it returns `false` or the chain ends.
#[inline(always)]
pub fn walk(visit: impl FnMut(u64) -> bool) {
    let frame_pointer: u64;
    // SAFETY: reads rbp into a register; no memory access, no stack use, flags preserved.
    unsafe {
        core::arch::asm!("mov {}, rbp", out(reg) frame_pointer, options(nomem, nostack, preserves_flags))
    };
    walk_from(frame_pointer, visit);
}

/// Like [`walk`], from the frame whose frame pointer is `frame_pointer` (for instance the `rbp`
/// an exception interrupted).
pub fn walk_from(frame_pointer: u64, mut visit: impl FnMut(u64) -> bool) {
    let boot = super::layout::boot_stack();
    let mut frame_pointer = frame_pointer;
    let mut previous: Option<(u64, Range<u64>)> = None;
    for _ in 0..MAX_FRAMES {
        let Some(stack) = stack_holding(&boot, frame_pointer) else { return };
        if let Some((previous_pointer, previous_stack)) = &previous {
            // Frames get older towards the top of a stack: going down means a broken chain.
            if *previous_stack == stack && frame_pointer <= *previous_pointer {
                return;
            }
        }
        let slot = frame_pointer as *const u64;
        // SAFETY: `stack_holding` checked that the 16 bytes at `frame_pointer` (8-byte aligned)
        // lie inside a stack of the image, which is always mapped and readable.
        let (caller_frame, return_address) =
            unsafe { (slot.read_volatile(), slot.add(1).read_volatile()) };
        if return_address == 0 || !visit(return_address) {
            return;
        }
        previous = Some((frame_pointer, stack));
        frame_pointer = caller_frame;
    }
}

/// The known stack holding a frame record (saved rbp + return address) at `frame_pointer`.
fn stack_holding(boot: &Range<u64>, frame_pointer: u64) -> Option<Range<u64>> {
    if frame_pointer == 0 || !frame_pointer.is_multiple_of(8) {
        return None;
    }
    let end = frame_pointer.checked_add(16)?;
    core::iter::once(boot.clone())
        .chain(core::iter::once(crate::percpu::thread_stack()))
        .chain(super::gdt::ist_stacks())
        .find(|stack| stack.start <= frame_pointer && end <= stack.end)
}
