//! The PVH entry: from 32-bit protected mode to `rivet_pvh_entry` in 64-bit Rust, at high addresses.
//!
//! The image is linked high and loaded low (see `targets/x86_64-unknown-none/kernel.ld`). A PVH
//! loader (QEMU `-kernel`, Firecracker, cloud-hypervisor, Xen) reads the `XEN_ELFNOTE_PHYS32_ENTRY`
//! note emitted here and jumps to `rivet_pvh_start32` at its *physical* address with paging off.
//! The code below builds nothing at run time that the assembler could build: the boot page tables
//! are emitted pre-filled, so the path from the first instruction to Rust is ~40 instructions.
//!
//! Weak spots: the boot page tables map only the first [`BOOT_MAP_LIMIT`] bytes of physical
//! memory (identity, and again at [`VIRT_BASE`]), so the start info and everything it points at
//! must lie there (the platform checks, and every PVH loader we know places them in low memory);
//! and the boot page tables map that gigabyte read-write-execute, until the platform's own tables
//! replace them.
//!
//! Trade-off: the three boot tables (PML4, PDPT, PD) are 12 KiB of the image file. Filling them at
//! run time would keep them out of the file but cost thousands of emulated instructions (and zeroing
//! the upper levels first), which the boot-time goal does not allow.

/// Where the image's virtual addresses start: physical address `p` of the image is mapped at
/// `VIRT_BASE + p` (Linux's `__START_KERNEL_map`). Must equal `KERNEL_VIRT_BASE` in `kernel.ld`,
/// which checks it at link time.
pub const VIRT_BASE: u64 = 0xffff_ffff_8000_0000;

/// How much physical memory, from address 0, the boot page tables map (at its physical address
/// and again at [`VIRT_BASE`]). Until the platform activates its own tables, only memory below
/// this can be touched: page-table frames must come from below it (see core's `FramesBelow`).
pub const BOOT_MAP_LIMIT: u64 = 1 << 30;

/// `hvm_start_info.magic`, which the loader stores at the address it passes in `ebx`.
pub const XEN_HVM_START_MAGIC: u32 = 0x336e_c578;

/// The isa-debug-exit port the entry code writes an exit code to when it cannot start the kernel.
pub const DEBUG_EXIT_PORT: u16 = 0xf4;

/// The first 16550 UART, where the entry code's failure messages go.
pub const COM1_PORT: u16 = 0x3f8;

// Page-table entry bits the entry code needs (see paging.rs for the full set).
const PTE_PRESENT_WRITABLE: u64 = 0x3;
const PTE_PRESENT_WRITABLE_LARGE: u64 = 0x83;

core::arch::global_asm!(
    r#"
/*
 * ====================================================================================
 *  Entry contract (the PVH boot ABI, Xen's docs/misc/pvh.pandoc; x86/HVM direct boot)
 * ====================================================================================
 *   mode    32-bit protected mode, paging off, interrupts off (EFLAGS.IF = 0)
 *   ebx     physical address of struct hvm_start_info (magic 0x336ec578)
 *   cs      flat 32-bit code segment, read/execute
 *   ds/es/ss flat 32-bit data segments, read/write
 *   cr0     PE set, PG clear; cr4 = 0 (TSD clear, so rdtsc works)
 *   esp, every other register, the GDT and IDT: undefined
 *   The image is loaded at its physical addresses (p_paddr); .bss may or may not be zero.
 *
 *  Register allocation in the 32-bit part:
 *   esi     hvm_start_info physical address (ebx is needed by cpuid)
 *   edi     TSC at the first instruction, bits 31:0
 *   ebp     TSC at the first instruction, bits 63:32
 *   eax, ebx, ecx, edx   scratch
 *  In the 64-bit part, r12 = start info and r13 = entry TSC, zero-extended; they become
 *  the arguments of rivet_pvh_entry(start_info_phys: u64 in rdi, entry_tsc: u64 in rsi).
 *
 *  Exit on failure: a message on COM1, the code BAD_BOOT_INPUT on isa-debug-exit, halt.
 */

    .set RIVET_X86_VIRT_BASE, {virt_base}
    .globl RIVET_X86_VIRT_BASE             /* for kernel.ld's ASSERT */
    .set RIVET_X86_BOOT_MAP_LIMIT, {boot_map_limit}
    .globl RIVET_X86_BOOT_MAP_LIMIT

    .set CR0_MP, 1 << 1                    /* FPU/SSE: wait honours TS */
    .set CR0_EM, 1 << 2                    /* must be clear for SSE */
    .set CR0_TS, 1 << 3
    .set CR0_NE, 1 << 5                    /* native x87 error reporting */
    .set CR0_WP, 1 << 16                   /* read-only pages are read-only in ring 0 too */
    .set CR0_PG, 1 << 31
    .set CR4_PAE, 1 << 5
    .set CR4_OSFXSR, 1 << 9                /* the OS saves SSE state: SSE allowed (C code may use it) */
    .set CR4_OSXMMEXCPT, 1 << 10
    .set MSR_EFER, 0xc0000080
    .set EFER_LME, 1 << 8
    .set EFER_NXE, 1 << 11
    .set CPUID_EXT_LM, 1 << 29             /* CPUID 0x80000001 edx */
    .set CPUID_EXT_NX, 1 << 20
    .set BOOT_CS, 0x08
    .set BOOT_DS, 0x10
    .set COM1_LSR, {com1} + 5
    .set LSR_THRE, 0x20

/* ------------------------------------------------------------------------------------ */
    .section .text.rivet.head, "ax"
    .code32
    .globl rivet_pvh_start32
    .type rivet_pvh_start32, @function
rivet_pvh_start32:
    rdtsc                                  /* first thing: the boot-time reference */
    movl    %eax, %edi
    movl    %edx, %ebp
    movl    %ebx, %esi
    cld                                    /* rep stosq below counts upwards */

    /* Is ebx really a start info? Anything else is a loader we do not speak to. */
    cmpl    ${magic}, (%esi)
    jne     .Lbad_magic

    /* Long mode and NX (the page tables set bit 63). Any x86_64 CPU since 2004 has both. */
    movl    $0x80000000, %eax
    cpuid
    cmpl    $0x80000001, %eax
    jb      .Lno_long_mode
    movl    $0x80000001, %eax
    cpuid
    andl    $(CPUID_EXT_LM | CPUID_EXT_NX), %edx
    cmpl    $(CPUID_EXT_LM | CPUID_EXT_NX), %edx
    jne     .Lno_long_mode

    /*
     * Paging: PAE tables (pre-filled below), long mode, no-execute; then PG turns on IA-32e
     * mode (compatibility mode until the far jump). The identity map keeps this code mapped.
     */
    movl    $(rivet_boot_pml4 - RIVET_X86_VIRT_BASE), %eax
    movl    %eax, %cr3
    movl    %cr4, %eax
    orl     $(CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT), %eax
    movl    %eax, %cr4
    movl    $MSR_EFER, %ecx
    rdmsr
    orl     $(EFER_LME | EFER_NXE), %eax
    wrmsr
    lgdt    (rivet_boot_gdt_pointer32 - RIVET_X86_VIRT_BASE)
    movl    %cr0, %eax
    andl    $~(CR0_EM | CR0_TS), %eax
    orl     $(CR0_PG | CR0_WP | CR0_NE | CR0_MP), %eax
    movl    %eax, %cr0
    ljmp    $BOOT_CS, $(.Lstart64_low - RIVET_X86_VIRT_BASE)

/*
 * Failure: print the NUL-terminated message at esi on COM1, exit with BAD_BOOT_INPUT, halt.
 * Polls LSR.THRE at most 65536 times per byte, so a missing UART (which reads 0xff, THRE set)
 * or a stuck one cannot hang here. Corrupts: everything.
 */
.Lbad_magic:
    movl    $(.Lmessage_bad_magic - RIVET_X86_VIRT_BASE), %esi
    jmp     .Lfail32
.Lno_long_mode:
    movl    $(.Lmessage_no_long_mode - RIVET_X86_VIRT_BASE), %esi
.Lfail32:
    movb    (%esi), %bl
    testb   %bl, %bl
    jz      3f
    movl    $0x10000, %ecx
    movw    $COM1_LSR, %dx
1:  inb     %dx, %al
    testb   $LSR_THRE, %al
    jnz     2f
    loop    1b
2:  movw    ${com1}, %dx
    movb    %bl, %al
    outb    %al, %dx
    incl    %esi
    jmp     .Lfail32
3:  movl    ${bad_boot_input}, %eax
    movw    ${debug_exit}, %dx
    outl    %eax, %dx                      /* QEMU exits here if isa-debug-exit is present */
4:  cli
    hlt
    jmp     4b

    .code64
.Lstart64_low:
    /* 64-bit mode, still at the physical address: data segments, then up to the link address. */
    movl    $BOOT_DS, %eax
    movw    %ax, %ds
    movw    %ax, %es
    movw    %ax, %ss
    movw    %ax, %fs
    movw    %ax, %gs
    movabsq $.Lstart64_high, %rax
    jmp     *%rax

.Lstart64_high:
    /* The GDT by its high address, so the identity map can go once the platform's tables load. */
    lgdt    rivet_boot_gdt_pointer64(%rip)

    /* The upper halves of registers are undefined after 32-bit code: zero-extend explicitly. */
    movl    %esi, %r12d                    /* r12 = start info */
    movl    %edi, %r13d
    movl    %ebp, %eax
    shlq    $32, %rax
    orq     %rax, %r13                     /* r13 = entry TSC */

    leaq    __boot_stack_top(%rip), %rsp
    xorl    %ebp, %ebp                     /* the frame-pointer chain ends here */

    /* Zero .bss: QEMU and Xen load it zeroed, but the PVH ABI does not promise it. */
    leaq    __bss_start(%rip), %rdi
    leaq    __bss_end(%rip), %rcx
    subq    %rdi, %rcx
    shrq    $3, %rcx
    xorl    %eax, %eax
    rep stosq

    movq    %r12, %rdi
    movq    %r13, %rsi
    call    rivet_pvh_entry                /* platform/src/boot/pvh.rs; never returns */
    ud2
    .size rivet_pvh_start32, . - rivet_pvh_start32

/* ------------------------------------------------------------------------------------ */
    .section .rodata.rivet.head, "a"
.Lmessage_bad_magic:
    .asciz "rivet: PVH entry: ebx does not point at an hvm_start_info (bad magic); not a PVH boot?\r\n"
.Lmessage_no_long_mode:
    .asciz "rivet: this CPU lacks long mode or no-execute pages (CPUID 0x80000001); cannot run\r\n"

/*
 * The boot GDT. DO NOT MODIFY without checking gdt.rs, which loads the final GDT with the
 * same selectors. The accessed bits are preset so the CPU never writes here (this is .rodata).
 */
    .balign 16
rivet_boot_gdt:
    .quad 0                                /* 0x00: null */
    .quad 0x00af9b000000ffff               /* 0x08: 64-bit code, DPL 0, present, accessed */
    .quad 0x00cf93000000ffff               /* 0x10: data, read/write, present, accessed */
.Lboot_gdt_end:
rivet_boot_gdt_pointer32:                  /* lgdt in 32-bit mode: limit, 32-bit physical base */
    .word .Lboot_gdt_end - rivet_boot_gdt - 1
    .long rivet_boot_gdt - RIVET_X86_VIRT_BASE
    .balign 8
rivet_boot_gdt_pointer64:                  /* lgdt in 64-bit mode: limit, 64-bit virtual base */
    .word .Lboot_gdt_end - rivet_boot_gdt - 1
    .quad rivet_boot_gdt

/*
 * The boot page tables, pre-filled. DO NOT MODIFY without checking BOOT_MAP_LIMIT.
 *   PML4[0]   -> PDPT   identity:  virtual 0 .. 1 GiB          -> physical 0 .. 1 GiB
 *   PML4[511] -> PDPT   high:      virtual VIRT_BASE + 0 .. 1 GiB -> physical 0 .. 1 GiB
 *   PDPT[0], PDPT[510] -> PD: 512 x 2 MiB pages, present + writable + large.
 * One PDPT serves both halves; its two entries also make harmless aliases at 510 GiB and at
 * 0xffffff8000000000. The platform replaces all of this before main.
 */
    .section .data.rivet.page_tables, "aw"
    .balign 4096
    .globl rivet_boot_pml4
rivet_boot_pml4:
    .quad rivet_boot_pdpt - RIVET_X86_VIRT_BASE + {pte_table}
    .fill 510, 8, 0
    .quad rivet_boot_pdpt - RIVET_X86_VIRT_BASE + {pte_table}
rivet_boot_pdpt:
    .quad rivet_boot_pd - RIVET_X86_VIRT_BASE + {pte_table}
    .fill 509, 8, 0
    .quad rivet_boot_pd - RIVET_X86_VIRT_BASE + {pte_table}
    .quad 0
rivet_boot_pd:
    .set .Lphys, 0
    .rept 512
    .quad .Lphys + {pte_large}
    .set .Lphys, .Lphys + 0x200000
    .endr

/* ------------------------------------------------------------------------------------ */
/*
 * The PVH note (XEN_ELFNOTE_PHYS32_ENTRY = 18): the 32-bit physical entry point. DO NOT
 * MODIFY the layout: name "Xen" padded to 4 bytes, then the address. The descriptor is 8
 * bytes, as Linux emits it for 64-bit images; QEMU reads 8 bytes from a 64-bit ELF.
 */
    .section .note.Xen, "a", @note
    .balign 4
    .long 4                                /* n_namesz: "Xen\0" */
    .long 8                                /* n_descsz */
    .long 18                               /* n_type: XEN_ELFNOTE_PHYS32_ENTRY */
    .asciz "Xen"
    .balign 4
    .quad rivet_pvh_start32 - RIVET_X86_VIRT_BASE
    .balign 4
"#,
    virt_base = const VIRT_BASE,
    boot_map_limit = const BOOT_MAP_LIMIT,
    magic = const XEN_HVM_START_MAGIC,
    com1 = const COM1_PORT,
    debug_exit = const DEBUG_EXIT_PORT,
    bad_boot_input = const rivet_core::exit::BAD_BOOT_INPUT,
    pte_table = const PTE_PRESENT_WRITABLE,
    pte_large = const PTE_PRESENT_WRITABLE_LARGE,
    options(att_syntax)
);

// The boot PD holds 512 entries of 2 MiB: exactly BOOT_MAP_LIMIT.
const _: () = assert!(BOOT_MAP_LIMIT == 512 * (2 << 20));
