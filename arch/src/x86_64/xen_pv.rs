//! The Xen classic PV entry: ELF notes, the 64-bit virtual entry, the hypercall page and stubs.
//!
//! The same image that boots through PVH (`head.rs`) carries the notes that make Xen's PV domain
//! builder load it: the segments at `p_vaddr` (`VIRT_BASE` + `p_paddr`, so the addresses it was
//! linked for), Xen's own page tables mapping pseudo-physical page `n` at `VIRT_BASE + n * 4096`,
//! and entry at [`rivet_xen_pv_start`] in 64-bit mode, **ring 3**, `rsi` = the start info's
//! virtual address. From here on the kernel may not execute a privileged instruction: every
//! service is a hypercall through the page Xen filled in ([`hypercall`]), and traps are registered
//! with `set_trap_table` (the platform does it with [`trap_entry`] addresses).
//!
//! Hypercall ABI (x86_64 PV): `call hypercall_page + 32 * nr`, arguments in rdi, rsi, rdx, r10,
//! r8, result in rax; the stub's `syscall` clobbers rcx and r11, and a debug Xen scribbles over
//! the argument registers, so [`hypercall`] declares all of them (and the whole C ABI's
//! caller-saved set) clobbered. Not the `xen-sys` crate: its 5-argument calls use the wrong
//! registers.
//!
//! Trap frames: Xen delivers an exception to a 64-bit PV kernel on the current stack with `rcx`
//! and `r11` pushed on top of the native frame (rip, cs, rflags, rsp, ss, and the error code
//! where the CPU has one). Each stub here pops the two and jumps to the native stub in `trap.rs`,
//! so the report is the native one; `mov %cr2` in that report is emulated by Xen (it returns the
//! PV guest's virtual CR2).
//!
//! Weak spots: there are no IST stacks under PV, so an overflow of the stack the kernel is on
//! cannot be delivered (Xen cannot write the frame and kills the domain); Xen's initial mapping
//! is read-write-execute throughout, until the platform remaps the image W^X (`mmu_update`).

use super::head::VIRT_BASE;
use core::ops::Range;

/// How many hypercall stubs the page holds.
pub const HYPERCALL_STUBS: u64 = 4096 / 32;

core::arch::global_asm!(
    r#"
/*
 * =====================================================================================
 *  Entry contract (Xen classic PV, x86_64; xen/include/public/xen.h "start of day")
 * =====================================================================================
 *   mode    64-bit, ring 3 (the PV kernel ring), on Xen's page tables (pt_base): pseudo-
 *           physical page n at VIRT_BASE + n * 4096, read-write-execute, from VIRT_BASE to a
 *           4 MiB boundary at least 512 KiB past the bootstrap stack
 *   rsi     virtual address of struct start_info
 *   rsp     the top of Xen's bootstrap stack (one page, after the bootstrap page tables)
 *   events  masked; no trap table; every other register undefined
 *   The image is loaded at its link addresses; .bss is zero (zeroed again below anyway).
 *
 *  Register allocation: r12 = start info, r13 = entry TSC, r14 = Xen's stack pointer. They
 *  become rivet_xen_pv_entry(start_info: u64 rdi, xen_stack: u64 rsi, entry_tsc: u64 rdx).
 *  Privileged instructions fault here: nothing below uses one (rdtsc is allowed to PV kernels).
 */
    .section .text.rivet.xen_pv, "ax"
    .code64
    .globl rivet_xen_pv_start
    .type rivet_xen_pv_start, @function
rivet_xen_pv_start:
    rdtsc                                  /* first thing: the boot-time reference */
    shlq    $32, %rdx
    orq     %rdx, %rax
    movq    %rax, %r13                     /* r13 = entry TSC */
    movq    %rsi, %r12                     /* r12 = start info */
    movq    %rsp, %r14                     /* r14 = Xen's bootstrap stack */
    cld

    leaq    __boot_stack_top(%rip), %rsp   /* the image's boot stack, with its guard page */
    xorl    %ebp, %ebp                     /* the frame-pointer chain ends here */

    leaq    __bss_start(%rip), %rdi
    leaq    __bss_end(%rip), %rcx
    subq    %rdi, %rcx
    shrq    $3, %rcx
    xorl    %eax, %eax
    rep stosq

    movq    %r12, %rdi
    movq    %r14, %rsi
    movq    %r13, %rdx
    call    rivet_xen_pv_entry             /* platform/src/boot/xen_pv.rs; never returns */
    ud2
    .size rivet_xen_pv_start, . - rivet_xen_pv_start

/*
 * Trap entry stubs, 32 bytes apart: drop the rcx and r11 Xen pushed, clear the upper half of the
 * saved cs, then the native stub of the same vector (trap.rs), which sees exactly the frame the
 * CPU would have pushed. The error-code vectors are trap.rs's list.
 */
    .balign 32
    .globl rivet_xen_trap_stubs
rivet_xen_trap_stubs:
    .set .Lvector, 0
    .rept 32
    .org rivet_xen_trap_stubs + .Lvector * 32
    popq    %rcx
    popq    %r11
    /* Xen keeps the saved event mask in bits 32+ of the cs slot: show the report a plain cs. */
    .set .Lerror_code, .Lvector == 8 || (.Lvector >= 10 && .Lvector <= 14) || .Lvector == 17
    .set .Lerror_code, .Lerror_code || .Lvector == 21 || .Lvector == 29 || .Lvector == 30
    .if .Lerror_code
    movl    $0, 20(%rsp)                   /* error code, rip, cs: high half of cs */
    .else
    movl    $0, 12(%rsp)                   /* rip, cs: high half of cs */
    .endif
    jmp     rivet_trap_stubs + .Lvector * 16
    .set .Lvector, .Lvector + 1
    .endr

/*
 * The hypercall page: Xen writes 128 stubs of 32 bytes here while building the domain
 * (XEN_ELFNOTE_HYPERCALL_PAGE). Under PVH nothing fills it: int3 everywhere, so a stray
 * hypercall traps.
 */
    .section .text.rivet.xen_hypercall_page, "ax"
    .balign 4096
    .globl rivet_xen_hypercall_page
rivet_xen_hypercall_page:
    .fill 4096, 1, 0xcc

/*
 * The PV notes (xen/include/public/elfnote.h), beside the PVH note in head.rs. Each: name
 * "Xen\0", then the value; 8-byte values for addresses, NUL-terminated strings otherwise.
 * VIRT_BASE with PADDR_OFFSET 0: p_paddr is the pseudo-physical address, mapped at
 * VIRT_BASE + p_paddr = p_vaddr.
 */
    .section .note.Xen, "a", @note
    .macro rivet_xen_note type, size
    .balign 4
    .long 4
    .long \size
    .long \type
    .asciz "Xen"
    .endm
    rivet_xen_note 5, 8                    /* XEN_ELFNOTE_XEN_VERSION */
    .asciz "xen-3.0"
    rivet_xen_note 6, 6                    /* XEN_ELFNOTE_GUEST_OS */
    .asciz "Rivet"
    .balign 4
    rivet_xen_note 8, 8                    /* XEN_ELFNOTE_LOADER */
    .asciz "generic"
    rivet_xen_note 3, 8                    /* XEN_ELFNOTE_VIRT_BASE */
    .quad {virt_base}
    rivet_xen_note 4, 8                    /* XEN_ELFNOTE_PADDR_OFFSET */
    .quad 0
    rivet_xen_note 1, 8                    /* XEN_ELFNOTE_ENTRY */
    .quad rivet_xen_pv_start
    rivet_xen_note 2, 8                    /* XEN_ELFNOTE_HYPERCALL_PAGE */
    .quad rivet_xen_hypercall_page
    .balign 4
"#,
    virt_base = const VIRT_BASE,
    options(att_syntax)
);

extern "C" {
    static rivet_xen_hypercall_page: u8;
    static rivet_xen_trap_stubs: u8;
}

/// Makes hypercall `number` with up to five arguments (unused ones: pass 0) and returns Xen's
/// result (0 or positive on success, `-errno` on failure).
///
/// # Safety
/// 1. The kernel was entered through [`rivet_xen_pv_start`] (Xen filled the hypercall page).
/// 2. Every argument is what the hypercall expects: in particular each pointer argument is the
///    virtual address of memory valid for the access the operation makes (read or write), of the
///    size it implies, and the operation's effect (a mapping change, a shutdown…) does not break
///    memory the Rust program relies on.
pub unsafe fn hypercall(number: u64, a1: u64, a2: u64, a3: u64, a4: u64, a5: u64) -> i64 {
    assert!(number < HYPERCALL_STUBS, "no such hypercall stub");
    let stub = (&raw const rivet_xen_hypercall_page) as u64 + number * 32;
    let result: i64;
    // SAFETY: obligation 1 makes `stub` Xen's code for `number`; obligation 2 covers what the
    // hypercall does with its arguments. Every register the stub or a debug Xen may change is
    // declared clobbered (the C ABI's caller-saved set includes rcx, r11 and the argument
    // registers); memory is not `nomem`, so the compiler assumes Xen may read and write it.
    unsafe {
        core::arch::asm!(
            "call {stub}",
            stub = in(reg) stub,
            inlateout("rdi") a1 => _,
            inlateout("rsi") a2 => _,
            inlateout("rdx") a3 => _,
            inlateout("r10") a4 => _,
            inlateout("r8") a5 => _,
            lateout("rax") result,
            clobber_abi("C"),
        );
    }
    result
}

/// The PV trap entry for `vector` (0–31), for `set_trap_table`'s `trap_info.address`.
pub fn trap_entry(vector: u8) -> u64 {
    assert!(vector < 32, "only exception vectors have PV stubs");
    (&raw const rivet_xen_trap_stubs) as u64 + u64::from(vector) * 32
}

/// The kernel image in virtual addresses (as Xen mapped it): guard page and boot stack included.
pub fn kernel_image_virtual() -> Range<u64> {
    super::layout::image()
}

/// The boot stack's guard page (virtual). Xen maps it like the rest of the image; the platform
/// unmaps it with `update_va_mapping` so an overflow faults.
pub fn boot_stack_guard_page() -> u64 {
    super::layout::boot_stack().start - 4096
}
