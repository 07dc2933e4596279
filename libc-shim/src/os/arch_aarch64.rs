//! The os layer's aarch64-specific part: `setjmp`/`longjmp` and Linux system-call numbers.
//!
//! `setjmp`/`longjmp` for aarch64 (AAPCS64): the per-architecture part of the shim, assembly
//! because saving the caller's registers and stack pointer cannot be written in Rust.
//!
//! glibc's `jmp_buf` is `struct __jmp_buf_tag[1]`: `__jmpbuf` (22 words), then
//! `__mask_was_saved` (int, byte 176) and a signal mask. Words here: x19–x28, x29 (frame
//! pointer), x30 (return address), sp, then d8–d15 (bytes 104–167). No pointer mangling and no
//! signal mask, as on x86_64.

core::arch::global_asm!(
    r#"
    .section .text.rivet_libc.setjmp, "ax"
    .globl setjmp, _setjmp, __sigsetjmp
    .type setjmp, %function
    .type _setjmp, %function
    .type __sigsetjmp, %function
setjmp:
_setjmp:
__sigsetjmp:
    stp     x19, x20, [x0, #0]
    stp     x21, x22, [x0, #16]
    stp     x23, x24, [x0, #32]
    stp     x25, x26, [x0, #48]
    stp     x27, x28, [x0, #64]
    stp     x29, x30, [x0, #80]
    mov     x2, sp
    str     x2, [x0, #96]
    stp     d8, d9, [x0, #104]
    stp     d10, d11, [x0, #120]
    stp     d12, d13, [x0, #136]
    stp     d14, d15, [x0, #152]
    str     wzr, [x0, #176]        /* __mask_was_saved */
    mov     w0, #0
    ret

    .globl longjmp, _longjmp, siglongjmp, __longjmp_chk
    .type longjmp, %function
    .type _longjmp, %function
    .type siglongjmp, %function
    .type __longjmp_chk, %function
longjmp:
_longjmp:
siglongjmp:
__longjmp_chk:
    ldp     x19, x20, [x0, #0]
    ldp     x21, x22, [x0, #16]
    ldp     x23, x24, [x0, #32]
    ldp     x25, x26, [x0, #48]
    ldp     x27, x28, [x0, #64]
    ldp     x29, x30, [x0, #80]
    ldr     x2, [x0, #96]
    mov     sp, x2
    ldp     d8, d9, [x0, #104]
    ldp     d10, d11, [x0, #120]
    ldp     d12, d13, [x0, #136]
    ldp     d14, d15, [x0, #152]
    cmp     w1, #0                 /* longjmp(env, 0) makes setjmp return 1 */
    csinc   w0, w1, wzr, ne
    br      x30
"#
);

/// The Linux system-call numbers `syscall()` answers (stubs.rs), for this architecture.
pub(crate) mod syscall_number {
    pub(crate) const FUTEX: i64 = 98;
    pub(crate) const GETPID: i64 = 172;
    pub(crate) const GETTID: i64 = 178;
    pub(crate) const SCHED_YIELD: i64 = 124;
}
