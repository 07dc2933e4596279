//! Switching threads: the callee-saved registers and FP state, kept on the stack.
//!
//! A thread that is not running is a stack pointer. [`switch`] saves what AAPCS64 says a call
//! preserves — x19–x29, the link register, the low halves of v8–v15 (d8–d15) — and FPCR/FPSR
//! (rounding mode and flags belong to the thread) on the thread's stack, stores the stack
//! pointer, loads the other thread's and restores the same from its stack. A thread preempted by
//! an interrupt was switched from inside the IRQ handler: its other registers, all 32 vector
//! registers included, are in the IRQ frame on its own stack (trap.rs).
//!
//! [`prepare`] lays out a new stack so that the first switch to it "returns" into
//! `rivet_thread_start`, which calls the thread's entry function with its argument.

use core::ops::Range;

/// Bytes of a switched-out frame: x19–x30 (12), d8–d15 (8), FPCR and FPSR (2), 16-aligned.
const FRAME: u64 = 176;

core::arch::global_asm!(
    r#"
    .section .text.rivet.context, "ax"
/*
 * rivet_switch(from: *mut u64 [x0], to: u64 [x1]): save this thread's callee-saved state on its
 * stack (SP_EL0) and its stack pointer at *from; resume the thread whose stack pointer is `to`.
 * Called with IRQs masked; returns when something switches back to `from`.
 */
    .globl rivet_switch
rivet_switch:
    sub     sp, sp, #{frame}
    stp     x19, x20, [sp, #0]
    stp     x21, x22, [sp, #16]
    stp     x23, x24, [sp, #32]
    stp     x25, x26, [sp, #48]
    stp     x27, x28, [sp, #64]
    stp     x29, x30, [sp, #80]
    stp     d8, d9, [sp, #96]
    stp     d10, d11, [sp, #112]
    stp     d12, d13, [sp, #128]
    stp     d14, d15, [sp, #144]
    mrs     x9, fpcr
    mrs     x10, fpsr
    stp     x9, x10, [sp, #160]
    mov     x9, sp
    str     x9, [x0]
    mov     sp, x1
    ldp     x9, x10, [sp, #160]
    msr     fpcr, x9
    msr     fpsr, x10
    ldp     d14, d15, [sp, #144]
    ldp     d12, d13, [sp, #128]
    ldp     d10, d11, [sp, #112]
    ldp     d8, d9, [sp, #96]
    ldp     x29, x30, [sp, #80]
    ldp     x27, x28, [sp, #64]
    ldp     x25, x26, [sp, #48]
    ldp     x23, x24, [sp, #32]
    ldp     x21, x22, [sp, #16]
    ldp     x19, x20, [sp, #0]
    add     sp, sp, #{frame}
    ret

/*
 * rivet_thread_start: where a new thread's first switch returns to. x19 = argument, x20 = entry
 * function (never returns). A zero frame pointer and link register end every backtrace here.
 */
    .globl rivet_thread_start
rivet_thread_start:
    mov     x0, x19
    mov     x29, #0
    mov     x30, #0
    blr     x20
    brk     #0
"#,
    frame = const FRAME,
);

extern "C" {
    fn rivet_switch(from: *mut u64, to: u64);
    static rivet_thread_start: u8;
}

/// Saves the running thread's state, storing its stack pointer at `from`, and resumes the thread
/// whose saved stack pointer is `to`. Returns when another `switch` resumes `from`.
///
/// # Safety
/// 1. IRQs are masked (a switch half done must not be interrupted).
/// 2. `to` is a stack pointer saved by `switch` or made by [`prepare`], of a thread that is not
///    running anywhere, whose stack stays mapped and unused by anything else until it resumes.
/// 3. `from` is valid for a write and stays where it is until the thread is resumed.
pub unsafe fn switch(from: *mut u64, to: u64) {
    // SAFETY: the obligations of this function are those of `rivet_switch`, which preserves the
    // callee-saved registers across the call as AAPCS64 requires.
    unsafe { rivet_switch(from, to) }
}

/// Lays out a new thread's stack (`stack`, 16-aligned, mapped, writable) so that [`switch`]ing
/// to the returned stack pointer calls `entry(argument)` on it.
pub fn prepare(stack: Range<u64>, entry: extern "C" fn(u64) -> !, argument: u64) -> u64 {
    let sp = (stack.end & !15) - FRAME;
    assert!(sp >= stack.start, "thread stack too small for its first frame");
    let words = sp as *mut u64;
    // SAFETY: [sp, sp + FRAME) lies inside `stack`, which the caller gives us mapped and
    // writable and which nothing else uses yet; every write is 8-aligned inside that range.
    unsafe {
        core::ptr::write_bytes(words as *mut u8, 0, FRAME as usize);
        words.write(argument); // x19
        words.add(1).write(entry as usize as u64); // x20
        words.add(11).write((&raw const rivet_thread_start) as u64); // x30
    }
    sp
}
