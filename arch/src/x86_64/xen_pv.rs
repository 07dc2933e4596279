//! The Xen classic PV entry: ELF notes, the 64-bit virtual entry, the hypercall page and stubs.
//!
//! The same image that boots through PVH (`head.rs`) carries the notes that make Xen's PV domain
//! builder load it: the segments at `p_vaddr` (`VIRT_BASE` + `p_paddr`, so the addresses it was
//! linked for), Xen's own page tables mapping pseudo-physical page `n` at `VIRT_BASE + n * 4096`,
//! and entry at `rivet_xen_pv_start` in 64-bit mode, **ring 3**, `rsi` = the start info's
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
//! Events: Xen's "interrupts" are event channels, delivered by an *upcall* to the address the
//! platform registers with `set_callbacks` ([`event_callback_entry`]). Xen builds the frame on
//! the current stack, as for a trap (rcx and r11 on top of rip, cs, rflags, rsp, ss; the saved
//! event mask in bits 32+ of the cs slot, `rflags.IF` = events were unmasked) and enters with
//! events masked (`vcpu_info.evtchn_upcall_mask` = 1). The stub saves what a call clobbers and
//! calls `rivet_xen_event_upcall`, which dispatches every pending port through
//! [`rivet_core::interrupt::handle`] (the platform's controller claims them) and then runs
//! [`rivet_core::interrupt::after_interrupt`], the scheduler's preemption point — on the
//! interrupted thread's own stack, as `trap.rs`'s `rivet_interrupt_common` does natively, so a
//! thread switch there leaves the preempted thread's frame on its stack. The stub returns with
//! `HYPERVISOR_iret` (a ring-3 kernel cannot `iretq` to itself and restore the event mask
//! atomically): it pushes a zero `flags` word over the frame and jumps to the iret stub, which
//! pushes rcx, r11, rax and enters Xen; Xen restores the registers and frame and sets the event
//! mask to `!rflags.IF` in one step, so an event arriving meanwhile is delivered after the return,
//! not lost. The failsafe callback ([`failsafe_callback_entry`]: Xen could not return to the
//! guest, a bad segment or frame) reports and ends the run.
//!
//! Other vCPUs: the platform gives each a first state with `VCPUOP_initialise` whose `rip` is
//! [`vcpu_entry`], a stub that calls the Rust function the state names with two arguments, on the
//! stack the state names; the trap table and callbacks are part of that state (the same stubs).
//!
//! Weak spots: there are no IST stacks under PV, so an overflow of the stack the kernel is on
//! cannot be delivered (Xen cannot write the frame and kills the domain); Xen's initial mapping
//! is read-write-execute throughout, until the platform remaps the image W^X (`mmu_update`).
//! Xen writes the event frame right below the interrupted rsp (aligned down to 16), with no
//! room left for a red zone: code built with one (the C/C++ libraries) must not run with events
//! unmasked under PV — natively the IST landing pad and the copy below the red zone protect it.
//! Every event costs a second hypercall to return (`HYPERVISOR_iret`). The failsafe path has
//! never been seen to run (nothing here loads segments Xen could refuse).

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
 * rivet_xen_vcpu_start: where another vCPU starts (vcpu_guest_context.user_regs.rip, given with
 * VCPUOP_initialise; see vcpu_entry). Entry contract: 64-bit, ring 3 in guest kernel mode, on the
 * page tables of ctrlreg[3]; rsp = the stack top the context names (16-aligned); rdi, rsi = the
 * two arguments, rdx = the function (extern "C" fn(u64, u64) -> !) as the context's registers;
 * events masked. Calls the function with rsp = 8 (mod 16) at its entry, as the ABI wants.
 */
    .balign 16
    .globl rivet_xen_vcpu_start
    .type rivet_xen_vcpu_start, @function
rivet_xen_vcpu_start:
    xorl    %ebp, %ebp                     /* the frame-pointer chain ends here */
    cld
    call    *%rdx                          /* never returns */
    ud2
    .size rivet_xen_vcpu_start, . - rivet_xen_vcpu_start

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
 * rivet_xen_event_callback: the event upcall (set_callbacks' event address).
 *   Entry contract (Xen's create_bounce_frame, a 64-bit PV guest already in kernel mode): on the
 *   interrupted stack, which Xen aligned down to 16 before pushing 7 words, so rsp = 8 (mod 16):
 *     [rsp+0]  rcx      the interrupted code's (the live rcx and r11 are not: Xen may enter
 *     [rsp+8]  r11      with sysret, which overwrites them)
 *     [rsp+16] rip, cs (bits 32+: the saved event mask), rflags (IF: events were unmasked),
 *              rsp, ss
 *   Events masked (evtchn_upcall_mask = 1); every other register is the interrupted code's.
 *   Register use: rax, rdx, rsi, rdi, r8-r10 saved here (7 words: rsp = 0 mod 16 for the call);
 *   rcx and r11 are restored from the frame; the callee-saved registers are the Rust handler's
 *   to keep. DF is cleared for the ABI (iret restores the interrupted rflags).
 *   Returns with HYPERVISOR_iret, which pops an iret_context (xen-x86_64.h): flags (pushed here,
 *   0: not a syscall frame), then the rip..ss above; the iret stub pushes rcx, r11 and rax
 *   itself. Xen restores all of them and sets evtchn_upcall_mask = !rflags.IF atomically with
 *   the return. The handler may have switched threads and come back (after_interrupt): the frame
 *   is on this thread's stack, so it is still here.
 */
    .section .text.rivet.xen_pv, "ax"
    .balign 16
    .globl rivet_xen_event_callback
rivet_xen_event_callback:
    pushq   %rax
    pushq   %rdx
    pushq   %rsi
    pushq   %rdi
    pushq   %r8
    pushq   %r9
    pushq   %r10
    cld
    call    rivet_xen_event_upcall
    popq    %r10
    popq    %r9
    popq    %r8
    popq    %rdi
    popq    %rsi
    popq    %rdx
    popq    %rax
    popq    %rcx                           /* the interrupted rcx and r11, from Xen's frame */
    popq    %r11
    pushq   $0                             /* iret_context.flags: not VGCF_in_syscall */
    jmp     rivet_xen_hypercall_page + {iret} * 32

/*
 * rivet_xen_failsafe_callback: Xen could not return to the guest (a segment or frame it could
 * not load). [rsp] = rcx, r11, ds, es, fs, gs, rip, cs, rflags, rsp, ss (11 words). Events as
 * they were (set_callbacks registers the failsafe without masking). Never returns: the report
 * ends the run.
 */
    .balign 16
    .globl rivet_xen_failsafe_callback
rivet_xen_failsafe_callback:
    movq    %rsp, %rdi                     /* &[u64; 11] */
    andq    $-16, %rsp
    cld
    call    rivet_xen_failsafe
    ud2

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
    iret = const IRET_HYPERCALL,
    options(att_syntax)
);

/// `__HYPERVISOR_iret`: the stub the event callback jumps to (`rivet_xen_abi::hypercall::IRET`;
/// arch does not depend on that crate).
const IRET_HYPERCALL: u64 = 23;

extern "C" {
    static rivet_xen_hypercall_page: u8;
    static rivet_xen_trap_stubs: u8;
    static rivet_xen_event_callback: u8;
    static rivet_xen_failsafe_callback: u8;
    static rivet_xen_vcpu_start: u8;
}

/// Makes hypercall `number` with up to five arguments (unused ones: pass 0) and returns Xen's
/// result (0 or positive on success, `-errno` on failure).
///
/// # Safety
/// 1. The kernel was entered through `rivet_xen_pv_start` (Xen filled the hypercall page), or
///    runs as a Xen PVH/HVM guest that called [`register_hypercall_page`].
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

/// The CPUID leaf where Xen's leaves start (`0x4000_0000 + n * 0x100`, "XenVMMXenVMM" in
/// ebx/ecx/edx), when the kernel runs as an HVM or PVH guest of Xen; `None` elsewhere.
pub fn xen_cpuid_base() -> Option<u32> {
    // CPUID.1:ECX bit 31: a hypervisor is present (no hypervisor leaves to scan otherwise).
    if super::cpu::cpuid(1).ecx & (1 << 31) == 0 {
        return None;
    }
    (0x4000_0000..0x4001_0000u32).step_by(0x100).find(|&leaf| {
        let id = super::cpu::cpuid(leaf);
        id.eax >= leaf + 2 && [id.ebx, id.ecx, id.edx] == [0x566e_6558, 0x65584d4d, 0x4d4d566e]
        // "XenVMMXenVMM"
    })
}

/// Has Xen fill the image's hypercall page for an HVM/PVH guest: the MSR that CPUID leaf
/// `base + 2` names, written with the page's physical address (Xen writes `vmcall`/`vmmcall`
/// stubs there). From then on [`hypercall`] works as under PV.
///
/// # Safety
/// The kernel runs in ring 0 as a Xen HVM/PVH guest (`base` from [`xen_cpuid_base`]), and the
/// image is at its link-time physical address (`layout::virt_minus_phys`).
pub unsafe fn register_hypercall_page(base: u32) {
    let msr = super::cpu::cpuid(base + 2).ebx;
    let physical = (&raw const rivet_xen_hypercall_page) as u64 - super::layout::virt_minus_phys();
    // SAFETY: the MSR is Xen's hypercall-page MSR (CPUID leaf base + 2, the caller's promise);
    // Xen overwrites the image's page reserved for exactly this (int3-filled until then).
    unsafe { super::cpu::write_msr(msr, physical) };
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

/// The event upcall's entry, for `set_callbacks`' event address. The platform installs an
/// interrupt controller (`rivet_core::interrupt::set_controller`) that claims pending ports and
/// clears `evtchn_upcall_pending` before it unmasks events: with no controller, nothing would
/// clear the flag and Xen would re-enter the upcall for ever.
pub fn event_callback_entry() -> u64 {
    (&raw const rivet_xen_event_callback) as u64
}

/// Where another vCPU starts (`vcpu_guest_context.user_regs.rip` for `VCPUOP_initialise`): the
/// context must give `rsp` = a 16-aligned stack top, `rdi` and `rsi` = two arguments and `rdx` =
/// the address of an `extern "C" fn(u64, u64) -> !`, which the stub calls with them.
pub fn vcpu_entry() -> u64 {
    (&raw const rivet_xen_vcpu_start) as u64
}

/// The failsafe callback's entry, for `set_callbacks`' failsafe address.
pub fn failsafe_callback_entry() -> u64 {
    (&raw const rivet_xen_failsafe_callback) as u64
}

/// Called by `rivet_xen_event_callback` on the interrupted stack, events masked: handles every
/// pending port (the controller's `claim` returns them one by one, `None` when none is left),
/// then core's after-interrupt hook, which may switch threads.
#[no_mangle]
extern "C" fn rivet_xen_event_upcall() {
    use rivet_core::interrupt::{handle, Handled};
    // Without a controller `handle` fails at once: the loop ends (see `event_callback_entry`).
    while let Ok(Handled::Handler(_) | Handled::Unexpected(_)) = handle() {}
    rivet_core::interrupt::after_interrupt();
}

/// Called by `rivet_xen_failsafe_callback` with Xen's frame: reports it and ends the run.
#[no_mangle]
extern "C" fn rivet_xen_failsafe(frame: &[u64; 11]) -> ! {
    rivet_core::console::print_emergency(format_args!(
        "\nXen failsafe callback: Xen could not return to rip {:#x} (cs {:#x}, rflags {:#x}, rsp \
         {:#x}, ss {:#x}; ds {:#x} es {:#x} fs {:#x} gs {:#x})\n{}",
        frame[6],
        frame[7] & 0xffff,
        frame[8],
        frame[9],
        frame[10],
        frame[2],
        frame[3],
        frame[4],
        frame[5],
        rivet_core::exit::running_context()
    ));
    rivet_core::exit::exit(rivet_core::exit::CPU_EXCEPTION)
}
