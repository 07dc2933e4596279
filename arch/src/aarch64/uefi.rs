//! The UEFI entry: the same image started by firmware as an EFI application (PE/COFF).
//!
//! `boot.rs`'s header makes the file a PE/COFF image whose entry point is `rivet_efi_entry`
//! below. Firmware calls it like a C function (UEFI 2.10 §2.3.6, AArch64 platforms: AAPCS64,
//! x0 = image handle, x1 = system table), with the MMU on, identity-mapped, caches on, at EL1 or
//! EL2, on a firmware stack of at least 128 KiB. The entry code
//!
//! 1. reads the counter (boot time starts here, as for the `Image` entry);
//! 2. applies the image's `R_AARCH64_RELATIVE` relocations (the firmware loaded the image where
//!    it chose and, the PE having no `.reloc` section, patched nothing) and zeroes .bss;
//! 3. calls the platform's `rivet_uefi_entry(image_handle, system_table, entry_ticks,
//!    unapplied_relocations)` on the firmware's stack, at the firmware's exception level, with
//!    the firmware's vectors and page tables still in force.
//!
//! If that returns (an error before boot services were left), its x0 — an EFI status — goes back
//! to the firmware, callee-saved registers restored, as the calling convention requires.
//!
//! Once the platform has left boot services, [`leave_firmware`] cleans the image to the point of
//! coherency, turns the firmware's MMU off at the current level, drops from EL2 to EL1 (set up as
//! the `Image` entry does) and continues on the kernel's own stacks in a platform function, which
//! then runs exactly like the devicetree boot: MMU off until `paging::activate`.
//!
//! Weak spots: the EL2 set-up is a copy of `boot.rs`'s (two places to change, ICC_SRE_EL2
//! included); firmware that runs with VHE (HCR_EL2.E2H = 1) is not handled
//! specially — EDK2 does not use it.

use core::arch::global_asm;

global_asm!(
    r#"
    .section .text.rivet_efi, "ax"
    .global rivet_efi_entry
    .type rivet_efi_entry, %function

/*
 * Entry contract (UEFI 2.10 §2.3.6, "AArch64 Platforms"):
 *   - x0 = EFI_HANDLE of this image, x1 = EFI_SYSTEM_TABLE *, x30 = return address;
 *   - MMU on with an identity map, caches on, EL1 or EL2, SP 16-byte aligned, >= 128 KiB of
 *     stack; interrupts may be enabled (the firmware's timer tick);
 *   - x19 .. x29, sp and d8 .. d15 must be preserved if we return.
 *
 * Register allocation:
 *   x19  counter at entry (CNTVCT_EL0; corrected for CNTVOFF_EL2 later, in leave_firmware)
 *   x20  image handle (x0 on entry)
 *   x21  system table (x1 on entry)
 *   x22  relocations that could not be applied
 *   x9 .. x14 scratch
 */
rivet_efi_entry:
    /* Save what we use of the callee-saved registers, and the frame record. */
    stp     x29, x30, [sp, #-48]!
    mov     x29, sp
    stp     x19, x20, [sp, #16]
    stp     x21, x22, [sp, #32]
    mrs     x19, cntvct_el0
    mov     x20, x0
    mov     x21, x1

    /*
     * Apply the relocations, exactly as boot.rs does (store base + r_addend at base + r_offset
     * for R_AARCH64_RELATIVE; count anything else in x22). Idempotent: leave_firmware's path
     * does not repeat it, but it would not matter. The MMU and caches are on, so these are
     * ordinary cached stores; leave_firmware cleans them to memory before the MMU goes off.
     */
    bl      rivet_apply_relocations
    /* Zero .bss (the firmware zeroes the section's tail too, but that is its choice to make). */
    bl      rivet_zero_bss
    /* rivet_uefi_entry(image_handle, system_table, entry_ticks, unapplied_relocations): returns
     * an EFI status only on failure before boot services were left. */
    mov     x0, x20
    mov     x1, x21
    mov     x2, x19
    mov     x3, x22
    bl      rivet_uefi_entry
    ldp     x21, x22, [sp, #32]
    ldp     x19, x20, [sp, #16]
    ldp     x29, x30, [sp], #48
    ret
    .size rivet_efi_entry, . - rivet_efi_entry

/*
 * rivet_leave_firmware(continuation, argument, entry_ticks) -> !
 *
 * Called after ExitBootServices, MMU on (the firmware's tables), at EL1 or EL2. Leaves the CPU
 * as the Image entry would have it and calls continuation(argument, entry_ticks) at EL1h, MMU
 * and data cache off, on the boot stack (SP_EL0), SP_EL1 = the exception stack.
 *
 * Register allocation: x19 continuation, x20 argument, x21 entry ticks, x9 .. x11 scratch.
 */
    .global rivet_leave_firmware
    .type rivet_leave_firmware, %function
rivet_leave_firmware:
    msr     daifset, #0xf           /* no more firmware interrupts: we take the CPU over */
    mov     x19, x0
    mov     x20, x1
    mov     x21, x2

    /*
     * Everything the kernel wrote so far (relocations, .bss, the data the platform keeps for
     * after this point) sits in the data cache. With the MMU off every access goes to memory,
     * so clean and invalidate the whole image to the point of coherency first.
     */
    mrs     x9, ctr_el0
    ubfx    x9, x9, #16, #4         /* DminLine: log2 of the line size in words */
    mov     x10, #4
    lsl     x9, x10, x9             /* x9 = line size in bytes */
    adrp    x10, __image_start
    add     x10, x10, :lo12:__image_start
    adrp    x11, __image_end
    add     x11, x11, :lo12:__image_end
6:  dc      civac, x10
    add     x10, x10, x9
    cmp     x10, x11
    b.lo    6b
    /* dsb: the cleaning is complete before the MMU goes off. */
    dsb     sy

    mrs     x9, CurrentEL
    ubfx    x9, x9, #2, #2
    cmp     x9, #2
    b.ne    7f

    /* At EL2: MMU (M, bit 0) and data cache (C, bit 2) off at EL2. This code runs
     * identity-mapped, so the next fetch is from the same address. isb: takes effect now. */
    mrs     x9, sctlr_el2
    bic     x9, x9, #0x1            /* M */
    bic     x9, x9, #0x4            /* C */
    msr     sctlr_el2, x9
    isb
    /* Then as boot.rs's rivet_el2_entry: EL2 set up for EL1 (rivet_el2_setup, corrupts x9,
     * x10, x30 — nothing returns from here), the entry read corrected by the old CNTVOFF_EL2,
     * and eret to EL1h. */
    bl      rivet_el2_setup
    add     x21, x21, x10
    mov     x9, #0x3c5
    msr     spsr_el2, x9
    adr     x9, 8f
    msr     elr_el2, x9
    /* eret is context-synchronising. */
    eret

7:  /* At EL1: MMU and data cache off. */
    mrs     x9, sctlr_el1
    bic     x9, x9, #0x1            /* M */
    bic     x9, x9, #0x4            /* C */
    msr     sctlr_el1, x9
    isb

8:  /* EL1, MMU off. SCTLR_EL1 and CPACR_EL1 as boot.rs sets them (see there for the bits). */
    movz    x9, #0x1818
    movk    x9, #0x30d0, lsl #16
    msr     sctlr_el1, x9
    mov     x9, #(3 << 20)
    msr     cpacr_el1, x9
    /* Drop the firmware's translations and any instructions fetched through them. dsb: done
     * before going on; isb: nothing after this was fetched before. */
    tlbi    vmalle1
    ic      iallu
    dsb     nsh
    isb

    bl      rivet_set_stacks        /* exception stack on SP_EL1, boot stack on SP_EL0 */
    mov     x29, #0
    mov     x30, #0
    mov     x0, x20
    mov     x1, x21
    blr     x19
9:  wfe
    b       9b
    .size rivet_leave_firmware, . - rivet_leave_firmware
"#
);

extern "C" {
    fn rivet_leave_firmware(
        continuation: extern "C" fn(u64, u64) -> !,
        argument: u64,
        entry_ticks: u64,
    ) -> !;
}

/// Leaves the firmware's CPU state for the kernel's: MMU off, EL1, the kernel's stacks; then
/// calls `continuation(argument, entry_ticks)`, which runs as the devicetree boot's entry does
/// (install vectors, build page tables, `paging::activate`).
///
/// # Safety
/// 1. Boot services have been left (`ExitBootServices` succeeded): nothing of the firmware's runs
///    any more, and nothing of the firmware's state (its stack, its tables) is used again.
/// 2. Everything `continuation` reads lies inside the image (which is cleaned to memory here) or
///    was never written with the caches on.
pub unsafe fn leave_firmware(
    continuation: extern "C" fn(u64, u64) -> !,
    argument: u64,
    entry_ticks: u64,
) -> ! {
    // SAFETY: obligations 1 and 2 are the caller's; the routine keeps the image's contents
    // (cleaned to the point of coherency before the MMU goes off) and runs on the image's stacks.
    unsafe { rivet_leave_firmware(continuation, argument, entry_ticks) }
}
