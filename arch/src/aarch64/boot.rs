//! The arm64 `Image` header and entry code: from the loader's hand-off to the first Rust.
//!
//! The image follows Linux's `Documentation/arch/arm64/booting.rst`, so QEMU `-kernel`, U-Boot
//! `booti`, the Raspberry Pi firmware and Xen can all start it. The entry code
//!
//! 1. reads the virtual counter first thing after the header (boot time is measured from there);
//! 2. leaves EL2 for EL1 if it was entered at EL2 (QEMU `virtualization=on`, the Pi firmware);
//! 3. puts SCTLR_EL1 in a known state (MMU and data cache still off) and enables FP/SIMD, which
//!    Rust code uses freely;
//! 4. invalidates the data cache over the part of the image it is about to write;
//! 5. applies the `R_AARCH64_RELATIVE` relocations with the load address (the image is a static
//!    PIE linked at 0);
//! 6. zeroes .bss, gives exception handlers SP_EL1 and the kernel SP_EL0 (the boot stack above
//!    the guard page), and calls the platform's `rivet_devicetree_entry`.
//!
//! Rust then runs with the MMU off until `paging::activate`: data accesses are Device-nGnRnE,
//! which is safe because the target is built with `+strict-align` (no unaligned accesses) — but
//! exclusive loads/stores (atomics' read-modify-write) are not guaranteed to work on Device
//! memory on real hardware, so the platform does no atomic read-modify-write before the MMU is on.
//!
//! The same file is a PE/COFF image (the `MZ` first word and PE headers Linux's EFI stub uses), so
//! UEFI firmware can start it too: its entry, `rivet_efi_entry`, is in `uefi.rs`.

// The header and entry code. The header's layout is fixed by the boot protocol: DO NOT MODIFY the
// field order or sizes.
core::arch::global_asm!(
    r#"
    .section .text.head, "ax"
    .global _start
    .type _start, %function

/*
 * Entry contract (booting.rst, "Call the kernel image"):
 *   - MMU off, data cache off (or cleaned), instruction cache on or off;
 *   - the image was cleaned to the point of coherency by the loader;
 *   - EL2 (without VHE) or EL1, interrupts masked in DAIF (masked again below regardless);
 *   - x0 = physical address of the DTB (8-byte aligned), x1 = x2 = x3 = 0;
 *   - only this core runs (secondaries are parked by PSCI or a spin table).
 *
 * Register allocation for the whole entry path:
 *   x19  counter value at the first instruction after the header (CNTVCT_EL0, corrected to
 *        CNTVOFF_EL2 = 0)
 *   x20  DTB physical address (x0 on entry)
 *   x21  exception level at entry (1 or 2), to pick the path below
 *   x22  relocations the entry code could not apply (handed to Rust, which reports them)
 *   x9 .. x15 scratch; x30 the return address of the shared subroutines below (bl)
 */
_start:
    /* code0: "MZ" in its low half-word, the DOS signature a PE/COFF loader (UEFI) checks, and an
     * arm64 instruction that does nothing harmful: ccmp x18, #0, #0xd, pl (sets flags only; what
     * Linux's head.S uses). DO NOT MODIFY */
    .inst   0xfa405a4d
    /* code1 */
    b       rivet_primary_entry
    .quad   0                       /* text_offset: load at a 2 MiB boundary + 0. DO NOT MODIFY */
    .quad   __image_size            /* image_size: bytes from the load address, bss and stack
                                       included (linker script). DO NOT MODIFY */
    .quad   0xa                     /* flags: bit 0 = 0 little-endian, bits 1-2 = 01 4 KiB pages,
                                       bit 3 = 1 placement anywhere in RAM. DO NOT MODIFY */
    .quad   0                       /* res2 */
    .quad   0                       /* res3 */
    .quad   0                       /* res4 */
    .ascii  "ARM\x64"               /* magic, at offset 56. DO NOT MODIFY */
    .long   rivet_pe_header - _start /* res5, at 0x3c = the DOS header's e_lfanew: offset of the
                                       PE header. DO NOT MODIFY */

/*
 * The PE/COFF headers (PE format, "COFF File Header", "Optional Header (Image Only)", "Section
 * Table"), so UEFI firmware can start the same file as an EFI application at rivet_efi_entry
 * (arch/src/aarch64/uefi.rs). Field values the linker computes are the __pe_* symbols of
 * kernel.ld. The headers fill the first 4 KiB page; the code starts on the second.
 *
 * No .reloc section and no base relocation directory: a firmware loader then places the image
 * wherever it likes and patches nothing (IMAGE_FILE_RELOCS_STRIPPED is *not* set, so it need not
 * load at ImageBase). rivet_efi_entry applies the image's own R_AARCH64_RELATIVE relocations,
 * as the Image entry does. DO NOT MODIFY the field order or sizes.
 */
    .balign 8
rivet_pe_header:
    .ascii  "PE\0\0"               /* Signature */
    .short  0xaa64                  /* Machine: IMAGE_FILE_MACHINE_ARM64 */
    .short  2                       /* NumberOfSections: .text, .data */
    .long   0                       /* TimeDateStamp */
    .long   0                       /* PointerToSymbolTable */
    .long   0                       /* NumberOfSymbols */
    .short  rivet_pe_sections - rivet_pe_optional /* SizeOfOptionalHeader */
    .short  0x0206                  /* Characteristics: EXECUTABLE_IMAGE | LINE_NUMS_STRIPPED |
                                       DEBUG_STRIPPED; not RELOCS_STRIPPED (see above) */
rivet_pe_optional:
    .short  0x20b                   /* Magic: PE32+ */
    .byte   0, 0                    /* Major/MinorLinkerVersion */
    .long   __pe_text_size          /* SizeOfCode */
    .long   __pe_data_file_size     /* SizeOfInitializedData */
    .long   0                       /* SizeOfUninitializedData: .bss is inside .data's size */
    .long   __pe_entry              /* AddressOfEntryPoint: rivet_efi_entry */
    .long   __pe_text_start         /* BaseOfCode */
    .quad   0                       /* ImageBase: linked at 0 */
    .long   4096                    /* SectionAlignment: the pages W^X is applied to */
    .long   512                     /* FileAlignment */
    .short  0, 0                    /* Major/MinorOperatingSystemVersion */
    .short  0, 0                    /* Major/MinorImageVersion */
    .short  0, 0                    /* Major/MinorSubsystemVersion */
    .long   0                       /* Win32VersionValue */
    .long   __image_size            /* SizeOfImage: memory from the load address, as image_size */
    .long   __pe_text_start         /* SizeOfHeaders: the first page */
    .long   0                       /* CheckSum */
    .short  10                      /* Subsystem: IMAGE_SUBSYSTEM_EFI_APPLICATION */
    .short  0                       /* DllCharacteristics: not NX_COMPAT (the entry writes
                                       relocations into what becomes read-only later) */
    .quad   0, 0, 0, 0              /* SizeOfStack/HeapReserve/Commit: unused by UEFI */
    .long   0                       /* LoaderFlags */
    .long   6                       /* NumberOfRvaAndSizes */
    .quad   0                       /* Export table */
    .quad   0                       /* Import table */
    .quad   0                       /* Resource table */
    .quad   0                       /* Exception table */
    .quad   0                       /* Certificate table */
    .quad   0                       /* Base relocation table: none (see above) */
rivet_pe_sections:
    .ascii  ".text\0\0\0"           /* Name */
    .long   __pe_text_size          /* VirtualSize */
    .long   __pe_text_start         /* VirtualAddress */
    .long   __pe_text_size          /* SizeOfRawData */
    .long   __pe_text_start         /* PointerToRawData: file offset == image offset */
    .long   0, 0                    /* PointerToRelocations, PointerToLinenumbers */
    .short  0, 0                    /* NumberOfRelocations, NumberOfLinenumbers */
    .long   0x60000020              /* Characteristics: CNT_CODE | MEM_EXECUTE | MEM_READ */

    .ascii  ".data\0\0\0"           /* Name: rodata, data, .bss and the stacks */
    .long   __pe_data_memory_size   /* VirtualSize: to the top of the boot stack */
    .long   __pe_data_start         /* VirtualAddress */
    .long   __pe_data_file_size     /* SizeOfRawData: the file's bytes (kernel.ld pads them) */
    .long   __pe_data_start         /* PointerToRawData */
    .long   0, 0                    /* PointerToRelocations, PointerToLinenumbers */
    .short  0, 0                    /* NumberOfRelocations, NumberOfLinenumbers */
    .long   0xc0000040              /* Characteristics: CNT_INITIALIZED_DATA | MEM_READ |
                                       MEM_WRITE */

    .balign 4096
    .global __pe_headers_end
__pe_headers_end:
    .size _start, . - _start

rivet_primary_entry:
    /* The first instruction after the header: read the counter, so boot time covers everything
     * we do. */
    mrs     x19, cntvct_el0
    msr     daifset, #0xf           /* mask Debug, SError, IRQ, FIQ: no vectors exist yet */
    mov     x20, x0
    mrs     x21, CurrentEL
    ubfx    x21, x21, #2, #2
    cmp     x21, #2
    b.eq    rivet_el2_entry
    cmp     x21, #1
    b.eq    rivet_el1_entry
    /* EL3 or EL0: outside the boot protocol, and there is no console to say so. */
1:  wfe
    b       1b

/*
 * Entered at EL2 (no VHE): configure EL2 so EL1 runs unhindered, then drop to EL1h. Rivet does
 * not use EL2 itself (but lets EL1 use the GICv3 system registers).
 * Preserves: x19 (corrected), x20, x21. Corrupts: x9, x10, x30.
 */
rivet_el2_entry:
    bl      rivet_el2_setup
    /* The first counter read was CNTPCT - CNTVOFF_EL2; with CNTVOFF_EL2 = 0 from now on, the
     * virtual counter equals the physical one, so add the old offset back. */
    add     x19, x19, x10
    /* SPSR_EL2: return to EL1h (M = 0b0101) with D, A, I, F masked (0x3c0). */
    mov     x9, #0x3c5
    msr     spsr_el2, x9
    adr     x9, rivet_el1_entry
    msr     elr_el2, x9
    /* eret is context-synchronising: the writes above take effect for EL1 without an isb. */
    eret

/*
 * rivet_apply_relocations: for each Elf64_Rela {{r_offset, r_info, r_addend}} of type
 * R_AARCH64_RELATIVE (1027), stores base + r_addend at base + r_offset, where base is the
 * address the image runs at (linked at 0, so the load address). R_AARCH64_NONE (0) is skipped;
 * anything else, and a misaligned target, is counted. Shared by this entry (MMU off: every
 * access is Device memory, hence the 8-byte alignment check) and the UEFI entry (MMU on).
 * Returns: x22 = relocations not applied. Corrupts: x9 .. x14. Uses no stack.
 */
    .global rivet_apply_relocations
    .type rivet_apply_relocations, %function
rivet_apply_relocations:
    adrp    x9, __image_start
    add     x9, x9, :lo12:__image_start
    adrp    x10, __rela_start
    add     x10, x10, :lo12:__rela_start
    adrp    x11, __rela_end
    add     x11, x11, :lo12:__rela_end
    mov     x22, #0
1:  cmp     x10, x11
    b.hs    3f
    ldp     x12, x13, [x10], #16    /* r_offset, r_info */
    ldr     x14, [x10], #8          /* r_addend */
    cmp     x13, #1027
    b.ne    2f
    tst     x12, #7
    b.ne    2f
    add     x14, x14, x9
    str     x14, [x9, x12]
    b       1b
2:  cbz     x13, 1b                 /* R_AARCH64_NONE */
    add     x22, x22, #1
    b       1b
3:  ret
    .size rivet_apply_relocations, . - rivet_apply_relocations

/*
 * rivet_zero_bss: zeroes .bss (16-byte aligned at both ends by the linker script). No `dc zva`:
 * it faults on Device memory, which is what every access is with the MMU off. The exception
 * stack is outside .bss: it needs no zeroing. Corrupts: x9, x10. Uses no stack.
 */
    .global rivet_zero_bss
    .type rivet_zero_bss, %function
rivet_zero_bss:
    adrp    x9, __bss_start
    add     x9, x9, :lo12:__bss_start
    adrp    x10, __bss_end
    add     x10, x10, :lo12:__bss_end
1:  cmp     x9, x10
    b.hs    2f
    stp     xzr, xzr, [x9], #16
    b       1b
2:  ret
    .size rivet_zero_bss, . - rivet_zero_bss

/*
 * rivet_set_stacks: SP_EL1 = the exception stack, then selects SP_EL0 and points it at the boot
 * stack (above its guard page). Shared by this entry and the UEFI one (uefi.rs). The caller's
 * stack is abandoned: call it only where nothing lives on it.
 * Corrupts: x9. Returns with SPSel = 0.
 */
    .global rivet_set_stacks
    .type rivet_set_stacks, %function
rivet_set_stacks:
    msr     spsel, #1
    adrp    x9, __exception_stack_top
    add     x9, x9, :lo12:__exception_stack_top
    mov     sp, x9
    msr     spsel, #0
    adrp    x9, __boot_stack_top
    add     x9, x9, :lo12:__boot_stack_top
    mov     sp, x9
    ret
    .size rivet_set_stacks, . - rivet_set_stacks

/*
 * rivet_el2_setup: configures EL2 so that EL1 runs unhindered: EL1 in AArch64, nothing trapped,
 * no stage 2, the counters and timers and (GICv3) the ICC_* system registers usable from EL1,
 * MIDR/MPIDR passed through. Shared by this entry and the UEFI entry (uefi.rs).
 * Call with bl at EL2, MMU on or off; uses no memory.
 * Returns: x10 = CNTVOFF_EL2 as it was (add it to a counter read taken before). Corrupts: x9.
 */
    .global rivet_el2_setup
    .type rivet_el2_setup, %function
rivet_el2_setup:
    mrs     x10, cntvoff_el2
    msr     cntvoff_el2, xzr
    /* HCR_EL2: RW = 1 (EL1 is AArch64), nothing trapped, no stage 2 (VM = 0). */
    mov     x9, #(1 << 31)
    msr     hcr_el2, x9
    /* CNTHCTL_EL2: EL1PCTEN | EL1PCEN, EL1 may use the physical counter and timer. */
    mov     x9, #3
    msr     cnthctl_el2, x9
    /* CPTR_EL2: RES1 bits only, so FP/SIMD (TFP, bit 10) is not trapped to EL2. */
    mov     x9, #0x33ff
    msr     cptr_el2, x9
    msr     hstr_el2, xzr
    msr     vttbr_el2, xzr
    /* ICC_SRE_EL2 (GICv3): where the CPU has the GIC system-register interface
     * (ID_AA64PFR0_EL1.GIC, bits 27:24, non-zero), set SRE (bit 0) and Enable (bit 3), so EL1
     * may set ICC_SRE_EL1.SRE and use ICC_* without trapping to EL2. Skipped on a GICv2-only
     * CPU, where the register does not exist. */
    mrs     x9, id_aa64pfr0_el1
    ubfx    x9, x9, #24, #4
    cbz     x9, 1f
    mrs     x9, S3_4_C12_C9_5       /* ICC_SRE_EL2 */
    orr     x9, x9, #0x1            /* SRE */
    orr     x9, x9, #0x8            /* Enable */
    msr     S3_4_C12_C9_5, x9
    isb
1:
    /* MIDR/MPIDR read at EL1 return VPIDR/VMPIDR_EL2, whose reset values are unknown. */
    mrs     x9, midr_el1
    msr     vpidr_el2, x9
    mrs     x9, mpidr_el1
    msr     vmpidr_el2, x9
    ret
    .size rivet_el2_setup, . - rivet_el2_setup

/*
 * At EL1, MMU off. Preserves: x19, x20, x21.
 */
rivet_el1_entry:
    /* SCTLR_EL1: a known state whatever the loader left. RES1 bits of ARMv8.0 (29, 28, 23, 22,
     * 20, 11), I (12, instruction cache: fast fetches while the MMU is off; invalidated below,
     * after the relocations), SA0 and SA (4, 3, stack alignment checks). M, C, A = 0: MMU, data
     * cache, alignment checks off. Little-endian (EE = E0E = 0). */
    movz    x9, #0x1818
    movk    x9, #0x30d0, lsl #16
    msr     sctlr_el1, x9
    /* CPACR_EL1.FPEN = 0b11: FP/SIMD instructions do not trap (Rust code uses them). */
    mov     x9, #(3 << 20)
    msr     cpacr_el1, x9
    /* isb: the SCTLR and CPACR writes take effect before the next instruction. */
    isb

    /*
     * Everything from the end of the code to the end of the image is written below with the MMU
     * (so the data cache) off: relocations, .bss, the stacks. The loader may have left lines of
     * that range in the cache, even dirty ones (its own data lived there), whose eviction would
     * later overwrite what we wrote. Invalidate them first (as Linux does for its early page
     * tables); `paging::activate` invalidates again for lines fetched speculatively meanwhile.
     * Code is only read: the loader cleaned it to the point of coherency.
     */
    mrs     x9, ctr_el0
    ubfx    x9, x9, #16, #4         /* DminLine: log2 of the line size in words */
    mov     x10, #4
    lsl     x9, x10, x9             /* x9 = line size in bytes */
    adrp    x10, __text_end         /* page-aligned, so line-aligned */
    add     x10, x10, :lo12:__text_end
    adrp    x11, __image_end
    add     x11, x11, :lo12:__image_end
    /* Two lines per iteration: a page-aligned range holds an even number of lines (at most
     * 2 KiB each). */
8:  dc      ivac, x10
    add     x10, x10, x9
    dc      ivac, x10
    add     x10, x10, x9
    cmp     x10, x11
    b.lo    8b
    /* dsb: the invalidation completes before the first write below. */
    dsb     sy

    /*
     * Apply the relocations: for each Elf64_Rela {{r_offset, r_info, r_addend}} of type
     * R_AARCH64_RELATIVE (1027), store base + r_addend at base + r_offset. Linked at 0, the base
     * is the load address. R_AARCH64_NONE (0) is skipped; anything else is counted in x22.
     * With the MMU off every access is Device memory: the target must be 8-byte aligned.
     */
    bl      rivet_apply_relocations
    /* Invalidate the instruction cache: the loader may have left stale lines, and a relocation
     * may (in principle) have patched code. dsb: the invalidation and the relocation stores are
     * complete; isb: nothing after this was fetched before them. */
    ic      iallu
    dsb     nsh
    isb

    /* Zero .bss (16-byte aligned at both ends by the linker script). No `dc zva`: it faults on
     * Device memory, which is what every access is with the MMU off. The exception stack is
     * outside .bss: it needs no zeroing. */
    bl      rivet_zero_bss
    /* Exception handlers run on SP_EL1 (their own stack, after .bss); the kernel on SP_EL0, the
     * boot stack above the guard page, so an overflow faults onto a stack that still works. */
    bl      rivet_set_stacks
    /* A zero frame pointer ends every backtrace here. */
    mov     x29, #0
    mov     x30, #0

    /* rivet_devicetree_entry(dtb, entry_ticks, unapplied_relocations) -> ! */
    mov     x0, x20
    mov     x1, x19
    mov     x2, x22
    bl      rivet_devicetree_entry
7:  wfe
    b       7b

    /* The exception stack (SP_EL1): NOBITS, placed by the linker script after .bss, in the
     * read-write data part of the image, and not zeroed. */
    .section .rivet_exception_stack, "aw", %nobits
    .balign 16
    .global __exception_stack_bottom
    .global __exception_stack_top
__exception_stack_bottom:
    .space  {exception_stack_size}
__exception_stack_top:
"#,
    exception_stack_size = const EXCEPTION_STACK_SIZE,
);

/// Bytes of the stack exception handlers run on.
pub const EXCEPTION_STACK_SIZE: usize = 16 * 1024;
