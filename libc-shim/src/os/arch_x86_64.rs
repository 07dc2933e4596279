//! The os layer's x86_64-specific part: `setjmp`/`longjmp` and Linux system-call numbers.
//!
//! `setjmp`/`longjmp` for x86_64 (System V): the per-architecture part of the shim, assembly
//! because saving the caller's registers and stack pointer cannot be written in Rust.
//!
//! glibc's `jmp_buf` is `struct __jmp_buf_tag[1]` (200 bytes): `__jmpbuf` (8 words), then
//! `__mask_was_saved` (int, byte 64) and a signal mask. Words here: rbx, rbp, r12–r15, the
//! stack pointer after `setjmp` returns, the return address. Pointers are not mangled (glibc
//! XORs them with a secret; no other code reads this buffer). The signal mask is never saved:
//! there are no signals.

core::arch::global_asm!(
    r#"
    .section .text.rivet_libc.setjmp, "ax"
    .globl setjmp, _setjmp, __sigsetjmp
    .type setjmp, @function
    .type _setjmp, @function
    .type __sigsetjmp, @function
setjmp:
_setjmp:
__sigsetjmp:
    movq    %rbx, 0(%rdi)
    movq    %rbp, 8(%rdi)
    movq    %r12, 16(%rdi)
    movq    %r13, 24(%rdi)
    movq    %r14, 32(%rdi)
    movq    %r15, 40(%rdi)
    leaq    8(%rsp), %rdx          /* the caller's stack pointer once we return */
    movq    %rdx, 48(%rdi)
    movq    (%rsp), %rdx           /* the return address */
    movq    %rdx, 56(%rdi)
    movl    $0, 64(%rdi)           /* __mask_was_saved */
    xorl    %eax, %eax
    ret

    .globl longjmp, _longjmp, siglongjmp, __longjmp_chk
    .type longjmp, @function
    .type _longjmp, @function
    .type siglongjmp, @function
    .type __longjmp_chk, @function
longjmp:
_longjmp:
siglongjmp:
__longjmp_chk:
    movl    %esi, %eax
    testl   %eax, %eax             /* longjmp(env, 0) makes setjmp return 1 */
    jnz     1f
    incl    %eax
1:
    movq    0(%rdi), %rbx
    movq    8(%rdi), %rbp
    movq    16(%rdi), %r12
    movq    24(%rdi), %r13
    movq    32(%rdi), %r14
    movq    40(%rdi), %r15
    movq    48(%rdi), %rsp
    jmpq    *56(%rdi)
"#,
    options(att_syntax)
);

/// The Linux system-call numbers `syscall()` answers (stubs.rs), for this architecture.
pub(crate) mod syscall_number {
    pub(crate) const FUTEX: i64 = 202;
    pub(crate) const GETPID: i64 = 39;
    pub(crate) const GETTID: i64 = 186;
    pub(crate) const SCHED_YIELD: i64 = 24;
}
