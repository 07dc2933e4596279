//! Starting the other cores (application processors, APs): the real-mode trampoline and the
//! 64-bit entry it leads to.
//!
//! An AP starts in 16-bit real mode at `vector << 12` when the boot core sends it INIT and then
//! STARTUP with that vector, so the first code it runs must lie in a page below 1 MiB. The
//! platform reserves two pages there and keeps them out of the heap and the frame allocator:
//!
//! - [`TRAMPOLINE`] (0x8000, STARTUP vector 0x08): the code below, copied there once during boot
//!   ([`install_trampoline`], while the boot page tables still map it writable) and mapped
//!   read-execute in the kernel's page tables (the AP runs it through the identity map);
//! - [`PARAMETERS`] (0x9000): the [`Parameters`] of the core being started, written by
//!   [`prepare`], read-write and no-execute.
//!
//! The trampoline goes real mode → 32-bit protected mode (its own GDT, in the code page) → long
//! mode with the boot core's own CR4, EFER, CR3 and CR0 values (so the two cores cannot disagree
//! on PAE, NXE, WP, SSE or anything the kernel turns on later; PCIDE, which cannot be set outside
//! long mode, is set once there), then jumps to `rivet_x86_ap_entry` in the kernel text at its
//! high address, on the stack the starter chose. That Rust function points GS at the core's
//! [`crate::percpu`] block, loads the core's own GDT and TSS ([`CoreTables`]) and the boot core's
//! IDT, runs the platform's per-core set-up (the local
//! APIC), reports arrival and calls the entry function with the core's index.
//!
//! Weak spots: CR3 is loaded in 32-bit mode, so the page-table root must lie below 4 GiB
//! ([`prepare`] refuses otherwise: [`StartError::RootAbove4GiB`]; the PVH platform allocates it
//! from the first GiB). One core starts at a time (one parameter page); a core that does not
//! arrive in time might still wake later and read the next core's parameters, so after a
//! time-out the starter must not start any other core ([`prepare`] cannot tell). The AP trusts
//! the boot core's IDT to be static (it is: `trap::init` builds it once).

use super::gdt::CoreTables;
use core::sync::atomic::{AtomicU32, Ordering};

/// Physical address of the trampoline's code page (below 1 MiB, 4 KiB aligned).
pub const TRAMPOLINE: u64 = 0x8000;
/// Physical address of the parameter page, just above the code page.
pub const PARAMETERS: u64 = TRAMPOLINE + 0x1000;
/// The STARTUP IPI's vector: the AP starts at `vector << 12` = [`TRAMPOLINE`].
pub const STARTUP_VECTOR: u8 = (TRAMPOLINE >> 12) as u8;

/// CR4.PCIDE: only settable in long mode.
const CR4_PCIDE: u64 = 1 << 17;
/// EFER.LMA: set by the CPU, not by software.
const EFER_LMA: u64 = 1 << 10;
const MSR_EFER: u32 = 0xc000_0080;

/// What the trampoline and the AP's entry read, at [`PARAMETERS`]. The offsets are part of the
/// trampoline's code (the `PARAM_*` constants below, checked at compile time).
#[repr(C)]
#[derive(Debug)]
pub struct Parameters {
    /// Set to 1 by the trampoline's first instructions: the STARTUP IPI was taken.
    pub alive: AtomicU32,
    /// Set to 1 by the AP's entry once it is done with these parameters, just before `entry`.
    pub arrived: AtomicU32,
    /// CR0, CR3, CR4 and EFER to load (the boot core's).
    pub cr0: u64,
    /// The page-table root (below 4 GiB).
    pub cr3: u64,
    /// CR4 (PCIDE is set only once in long mode).
    pub cr4: u64,
    /// EFER (LMA cleared: the CPU sets it).
    pub efer: u64,
    /// The stack the AP's entry runs on (16-aligned top).
    pub stack_top: u64,
    /// The boot core's IDT: limit (the upper 6 bytes of the field unused) and base.
    pub idt_limit: u64,
    /// The IDT's base address.
    pub idt_base: u64,
    /// The core's index, handed to `prepare` and `entry`.
    pub index: u64,
    /// The core's GDT, TSS and IST stacks (a `&'static CoreTables`).
    pub tables: u64,
    /// The platform's per-core set-up (a `fn(usize)`), run before arrival.
    pub prepare: u64,
    /// Where the core goes (an `extern "C" fn(usize) -> !`).
    pub entry: u64,
}

const PARAM_ALIVE: usize = 0;
const PARAM_CR0: usize = 8;
const PARAM_CR3: usize = 16;
const PARAM_CR4: usize = 24;
const PARAM_EFER: usize = 32;
const PARAM_STACK_TOP: usize = 40;
const _: () = {
    assert!(core::mem::offset_of!(Parameters, alive) == PARAM_ALIVE);
    assert!(core::mem::offset_of!(Parameters, cr0) == PARAM_CR0);
    assert!(core::mem::offset_of!(Parameters, cr3) == PARAM_CR3);
    assert!(core::mem::offset_of!(Parameters, cr4) == PARAM_CR4);
    assert!(core::mem::offset_of!(Parameters, efer) == PARAM_EFER);
    assert!(core::mem::offset_of!(Parameters, stack_top) == PARAM_STACK_TOP);
    assert!(core::mem::size_of::<Parameters>() <= 4096);
};

core::arch::global_asm!(
    r#"
/*
 * The AP trampoline, assembled here and copied to TRAMPOLINE at run time: every address in it is
 * TRAMPOLINE + (label - rivet_ap_trampoline), never its link address. Runs on each AP from the
 * STARTUP IPI: real mode, CS = TRAMPOLINE >> 4, IP = 0, interrupts off, every other register
 * undefined. Uses eax, ecx, edx; ends on the AP's stack in rivet_x86_ap_entry(PARAMETERS).
 */
    .set AP_BASE, {trampoline}
    .set AP_PARAMS, {parameters}
    .set AP_CS32, 0x18
    .set AP_CS64, 0x08
    .set AP_DS, 0x10
    .set AP_MSR_EFER, 0xc0000080

    .section .rodata.rivet.ap_trampoline, "a"
    .balign 16
    .globl rivet_ap_trampoline
rivet_ap_trampoline:
    .code16
    cli
    cld
    movw    %cs, %ax
    movw    %ax, %ds                       /* ds = the trampoline page: offsets below are in it */
    movl    $1, (AP_PARAMS - AP_BASE + {alive})   /* "I am here", for the starter's SIPI retry */
    lgdtl   (.Lap_gdt_pointer - rivet_ap_trampoline)
    movl    %cr0, %eax
    orl     $1, %eax                       /* PE */
    movl    %eax, %cr0
    ljmpl   $AP_CS32, $(AP_BASE + .Lap_protected - rivet_ap_trampoline)

    .code32
.Lap_protected:
    movl    $AP_DS, %eax
    movw    %ax, %ds
    movw    %ax, %es
    movw    %ax, %ss
    /* The boot core's CR4 (PAE, OSFXSR, ...) but PCIDE, then EFER (LME, NXE), CR3, CR0 (PG). */
    movl    (AP_PARAMS + {cr4}), %eax
    andl    $~{pcide}, %eax
    movl    %eax, %cr4
    movl    $AP_MSR_EFER, %ecx
    movl    (AP_PARAMS + {efer}), %eax
    movl    (AP_PARAMS + {efer} + 4), %edx
    wrmsr
    movl    (AP_PARAMS + {cr3}), %eax
    movl    %eax, %cr3
    movl    (AP_PARAMS + {cr0}), %eax
    movl    %eax, %cr0                     /* paging on: long mode (compatibility, until the jump) */
    ljmpl   $AP_CS64, $(AP_BASE + .Lap_long - rivet_ap_trampoline)

    .code64
.Lap_long:
    movl    $AP_DS, %eax
    movw    %ax, %ds
    movw    %ax, %es
    movw    %ax, %ss
    movw    %ax, %fs
    movw    %ax, %gs
    movq    (AP_PARAMS + {cr4}), %rax
    movq    %rax, %cr4                     /* PCIDE too, if the boot core has it */
    movq    (AP_PARAMS + {stack_top}), %rsp
    xorl    %ebp, %ebp                     /* the frame-pointer chain ends here */
    movl    $AP_PARAMS, %edi
    movabsq $rivet_x86_ap_entry, %rax
    call    *%rax                          /* never returns */
    ud2

/* The trampoline's GDT: the boot GDT's selectors (head.rs) plus a 32-bit code segment at 0x18.
   Accessed bits preset: the page is read-only once paging is on. */
    .balign 16
.Lap_gdt:
    .quad 0
    .quad 0x00af9b000000ffff               /* 0x08: 64-bit code */
    .quad 0x00cf93000000ffff               /* 0x10: data */
    .quad 0x00cf9b000000ffff               /* 0x18: 32-bit code */
.Lap_gdt_end:
.Lap_gdt_pointer:
    .word .Lap_gdt_end - .Lap_gdt - 1
    .long AP_BASE + .Lap_gdt - rivet_ap_trampoline
    .globl rivet_ap_trampoline_end
rivet_ap_trampoline_end:
"#,
    trampoline = const TRAMPOLINE,
    parameters = const PARAMETERS,
    alive = const PARAM_ALIVE,
    cr0 = const PARAM_CR0,
    cr3 = const PARAM_CR3,
    cr4 = const PARAM_CR4,
    efer = const PARAM_EFER,
    stack_top = const PARAM_STACK_TOP,
    pcide = const CR4_PCIDE,
    options(att_syntax)
);

extern "C" {
    static rivet_ap_trampoline: u8;
    static rivet_ap_trampoline_end: u8;
}

/// The trampoline's bytes, as assembled (to be copied to [`TRAMPOLINE`]).
fn trampoline_code() -> &'static [u8] {
    let start = &raw const rivet_ap_trampoline;
    let end = &raw const rivet_ap_trampoline_end;
    // SAFETY: both symbols are in the same .rodata section, start before end (the global_asm
    // above), and the image's .rodata is mapped and never written.
    unsafe { core::slice::from_raw_parts(start, end as usize - start as usize) }
}

/// Copies the trampoline to [`TRAMPOLINE`].
///
/// # Safety
/// 1. The page at [`TRAMPOLINE`] is RAM reserved for the trampoline (used by nothing else) and
///    mapped writable at its physical address now (the boot page tables do).
pub unsafe fn install_trampoline() {
    let code = trampoline_code();
    assert!(code.len() <= 4096, "the AP trampoline outgrew its page");
    // SAFETY: obligation 1; the source is the image's rodata, which cannot overlap low RAM.
    unsafe { core::ptr::copy_nonoverlapping(code.as_ptr(), TRAMPOLINE as *mut u8, code.len()) };
}

/// Why a core's parameters could not be set up.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum StartError {
    /// CR3 holds a root at or above 4 GiB, which the trampoline's 32-bit `mov cr3` cannot load.
    RootAbove4GiB(u64),
    /// The stack top is 0 or not 16-aligned.
    BadStack(u64),
}

impl core::fmt::Display for StartError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            StartError::RootAbove4GiB(root) => write!(
                f,
                "the page-table root {root:#x} is above 4 GiB, out of the AP trampoline's reach"
            ),
            StartError::BadStack(top) => write!(f, "stack top {top:#x} is not 16-byte aligned"),
        }
    }
}

/// What a core is started with.
pub struct Start {
    /// The core's index (1..), handed to `prepare` and `entry`.
    pub index: usize,
    /// Its stack's top: 16-aligned, mapped read-write, the core's from now on.
    pub stack_top: u64,
    /// Its own GDT, TSS and IST stacks.
    pub tables: &'static CoreTables,
    /// Per-core set-up the platform runs on the new core, with interrupts masked, after the
    /// tables and the IDT are loaded and before arrival is reported (the local APIC).
    pub prepare: fn(usize),
    /// Where the core goes once it has arrived.
    pub entry: extern "C" fn(usize) -> !,
}

/// The parameter page, once the platform has mapped it.
fn parameters() -> &'static Parameters {
    // SAFETY: `prepare`'s obligation 1 (called before anyone reads them): the page is reserved RAM
    // mapped read-write at its physical address, and Parameters is all integers (any bytes valid).
    unsafe { &*(PARAMETERS as *const Parameters) }
}

/// Writes the parameters for starting `start.index`, from the calling (boot) core's control
/// registers and IDT. Then the caller sends INIT and STARTUP with [`STARTUP_VECTOR`] and watches
/// [`alive`] and [`arrived`].
///
/// # Safety
/// 1. [`install_trampoline`] ran, the code page is mapped executable and the parameter page
///    read-write at their physical addresses in the tables CR3 holds, and both stay reserved.
/// 2. No other core is being started (nothing else reads the parameter page): the previous start
///    ended with [`arrived`], or never sent a STARTUP.
/// 3. `start.tables` are loaded by no other core; the stack is mapped and nobody else's.
pub unsafe fn prepare(start: &Start) -> Result<(), StartError> {
    use x86_64::registers::control::{Cr0, Cr3, Cr4};
    let (frame, flags) = Cr3::read_raw();
    let cr3 = frame.start_address().as_u64() | u64::from(flags);
    if cr3 >= 1 << 32 {
        return Err(StartError::RootAbove4GiB(cr3));
    }
    if start.stack_top == 0 || !start.stack_top.is_multiple_of(16) {
        return Err(StartError::BadStack(start.stack_top));
    }
    // SAFETY: EFER exists on every x86_64 CPU (long mode is running).
    let efer = unsafe { super::cpu::read_msr(MSR_EFER) } & !EFER_LMA;
    let idt = x86_64::instructions::tables::sidt();
    let page = PARAMETERS as *mut Parameters;
    let parameters = Parameters {
        alive: AtomicU32::new(0),
        arrived: AtomicU32::new(0),
        cr0: Cr0::read_raw(),
        cr3,
        cr4: Cr4::read_raw(),
        efer,
        stack_top: start.stack_top,
        idt_limit: u64::from(idt.limit),
        idt_base: idt.base.as_u64(),
        index: start.index as u64,
        tables: start.tables as *const CoreTables as u64,
        prepare: start.prepare as usize as u64,
        entry: start.entry as usize as u64,
    };
    // SAFETY: obligations 1 and 2: the page is mapped read-write and nobody else reads it now.
    // Volatile, since the AP reads it without the compiler knowing.
    unsafe { page.write_volatile(parameters) };
    // The IPI that follows is an MMIO or MSR write; order the parameters before it.
    core::sync::atomic::fence(Ordering::SeqCst);
    Ok(())
}

/// Whether the core being started has run the trampoline's first instructions.
pub fn alive() -> bool {
    parameters().alive.load(Ordering::Acquire) != 0
}

/// Whether the core being started has reached its entry function (and is done with the
/// parameters: the next core may be prepared).
pub fn arrived() -> bool {
    parameters().arrived.load(Ordering::Acquire) != 0
}

/// The AP's first Rust code, called by the trampoline on the new core's stack, in long mode at
/// the high address, interrupts off, with the trampoline's GDT. Never returns.
#[no_mangle]
extern "C" fn rivet_x86_ap_entry(parameters: &'static Parameters) -> ! {
    let index = parameters.index as usize;
    // GS first: everything per-core (the interrupt entry, backtraces) reads it.
    crate::percpu::init(index);
    // SAFETY: `prepare` stored a `&'static CoreTables`, a `fn(usize)` and an
    // `extern "C" fn(usize) -> !` in these fields, from the `Start` it was given.
    let (tables, prepare, entry) = unsafe {
        (
            &*(parameters.tables as *const CoreTables),
            core::mem::transmute::<usize, fn(usize)>(parameters.prepare as usize),
            core::mem::transmute::<usize, extern "C" fn(usize) -> !>(parameters.entry as usize),
        )
    };
    // SAFETY: `prepare`'s obligation 3: these tables are this core's alone.
    unsafe { tables.load() };
    let idt = x86_64::structures::DescriptorTablePointer {
        limit: parameters.idt_limit as u16,
        base: x86_64::VirtAddr::new(parameters.idt_base),
    };
    // SAFETY: the boot core's IDT (trap::init), a static that lives for ever, whose IST slots
    // name the stacks of the TSS just loaded (every core's TSS has the same slot layout).
    unsafe { x86_64::instructions::tables::lidt(&idt) };
    prepare(index);
    parameters.arrived.store(1, Ordering::Release);
    entry(index)
}
