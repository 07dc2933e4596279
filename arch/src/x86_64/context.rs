//! Switching threads: the callee-saved registers and the x87/SSE state, kept on the stack.
//!
//! A thread that is not running is a stack pointer. [`switch`] pushes what the System V ABI says
//! a call preserves (rbx, rbp, r12–r15) and the whole x87/SSE state with `fxsave64` (512 bytes:
//! the kernel itself is soft-float, but C and C++ code linked in uses SSE, and their control
//! words — MXCSR, the x87 FCW — are callee-saved too), stores the stack pointer, loads the other
//! thread's, and undoes the same on its stack. A thread preempted by an interrupt was switched
//! from inside the interrupt handler (see trap.rs): its other registers are in the interrupt
//! frame on its own stack, and the soft-float kernel left its SSE registers untouched until the
//! `fxsave64` here.
//!
//! [`prepare`] lays out a new stack so that the first switch to it "returns" into
//! `rivet_thread_start`, which calls the thread's entry function with its argument.
//!
//! Non-goal for now: AVX state (`xsave`); the image enables only SSE (CR4.OSFXSR, head.rs).

use core::ops::Range;

/// Bytes `switch` keeps below the callee-saved registers for `fxsave64` (512, plus 8 so the
/// area is 16-byte aligned with the six pushes and the return address above it).
const FX_AREA: u64 = 520;
/// Bytes of a switched-out frame: FX_AREA, six registers, the return address.
const FRAME: u64 = FX_AREA + 6 * 8 + 8;

core::arch::global_asm!(
    r#"
    .section .text.rivet.context, "ax"
/*
 * rivet_switch(from: *mut u64 [rdi], to: u64 [rsi]): save this thread's callee-saved state on
 * its stack and its stack pointer at *from; resume the thread whose stack pointer is `to`.
 * Called with interrupts masked; returns when something switches back to `from`.
 */
    .globl rivet_switch
rivet_switch:
    pushq   %rbp
    pushq   %rbx
    pushq   %r12
    pushq   %r13
    pushq   %r14
    pushq   %r15
    subq    ${fx_area}, %rsp               /* 16-aligned: entry rsp was 8 mod 16, minus 48, minus 520 */
    fxsave64 (%rsp)
    movq    %rsp, (%rdi)
    movq    %rsi, %rsp
    fxrstor64 (%rsp)
    addq    ${fx_area}, %rsp
    popq    %r15
    popq    %r14
    popq    %r13
    popq    %r12
    popq    %rbx
    popq    %rbp
    ret

/*
 * rivet_thread_start: where a new thread's first switch returns to. rbx = argument,
 * r12 = entry function (never returns); rsp is 16-aligned, so the call is too.
 */
    .globl rivet_thread_start
rivet_thread_start:
    movq    %rbx, %rdi
    xorl    %ebp, %ebp                     /* the backtrace ends here */
    call    *%r12
    ud2
"#,
    fx_area = const FX_AREA,
    options(att_syntax)
);

extern "C" {
    fn rivet_switch(from: *mut u64, to: u64);
    static rivet_thread_start: u8;
}

/// Saves the running thread's state, storing its stack pointer at `from`, and resumes the thread
/// whose saved stack pointer is `to`. Returns when another `switch` resumes `from`.
///
/// # Safety
/// 1. Interrupts are masked (a switch half done must not be interrupted).
/// 2. `to` is a stack pointer saved by `switch` or made by [`prepare`], of a thread that is not
///    running anywhere, whose stack stays mapped and unused by anything else until it resumes.
/// 3. `from` is valid for a write and stays where it is until the thread is resumed.
pub unsafe fn switch(from: *mut u64, to: u64) {
    // SAFETY: the obligations of this function are those of `rivet_switch`, which preserves the
    // callee-saved registers across the call as the ABI requires.
    unsafe { rivet_switch(from, to) }
}

/// Lays out a new thread's stack (`stack`, 16-aligned, mapped, writable) so that [`switch`]ing
/// to the returned stack pointer calls `entry(argument)` on it.
pub fn prepare(stack: Range<u64>, entry: extern "C" fn(u64) -> !, argument: u64) -> u64 {
    // The stack pointer once the frame is popped: 16-aligned, with a zero word above it as the
    // outermost frame's return address.
    let resume = (stack.end - 16) & !15;
    let sp = resume - FRAME;
    assert!(sp >= stack.start, "thread stack too small for its first frame");
    let words = sp as *mut u64;
    // SAFETY: [sp, stack.end) lies inside `stack`, which the caller gives us mapped and writable,
    // and nothing else uses it yet; every write below is 8-aligned inside that range.
    unsafe {
        core::ptr::write_bytes(words as *mut u8, 0, (stack.end - sp) as usize);
        // fxsave layout: FCW at byte 0, MXCSR at byte 24: the power-on defaults (all exceptions
        // masked, round to nearest); zero would unmask every floating-point exception.
        (words as *mut u16).write(0x037f);
        (words as *mut u32).add(6).write(0x1f80);
        let registers = words.add((FX_AREA / 8) as usize);
        // Popped in the order r15, r14, r13, r12, rbx, rbp, then `ret`.
        registers.add(3).write(entry as usize as u64); // r12
        registers.add(4).write(argument); // rbx
        registers.add(5).write(0); // rbp
        registers.add(6).write((&raw const rivet_thread_start) as u64);
    }
    sp
}
