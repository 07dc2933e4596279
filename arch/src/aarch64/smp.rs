//! Starting a secondary core: the entry code it runs with the MMU off, and what it is handed.
//!
//! A secondary core starts at [`entry_point`] with the MMU and caches off, at EL2 or EL1, and
//! x0 the physical address of a [`StartBlock`] (a PSCI CPU_ON context id). The spin-table boot
//! (`enable-method = "spin-table"`, a Raspberry Pi) passes nothing in x0, so its cores are sent
//! to [`pen_entry_point`] instead, a holding pen in the image: each spins (`wfe`) until the boot
//! core names it in the pen's release word ([`release_from_pen`]), then takes the one block the
//! pen holds (one core at a time, as Linux's holding pen did). Both paths then
//!
//! 1. leave EL2 for EL1 through the boot core's own `rivet_el2_setup` (boot.rs);
//! 2. enable FP/SIMD, load MAIR/TCR/TTBR0 with the boot core's values and turn the MMU on with
//!    its SCTLR_EL1 (the same tables, so the same identity map);
//! 3. set VBAR_EL1, SP_EL1 (the core's own exception stack) and SP_EL0 (the stack given),
//!    unmask SError, and call the block's Rust entry with its argument, IRQs still masked.
//!
//! Everything a core reads before its MMU is on must be in memory, not only in the boot core's
//! cache: [`StartBlock::publish`] and [`release_from_pen`] clean it to the point of coherency.
//!
//! Weak spots: a core's exception stack has no guard page (an overflow there corrupts the
//! heap); a core that never reaches its entry (a firmware that does not start it) is only
//! noticed by the caller's timeout, and keeps its slot in the pen; a secondary's caches are
//! assumed to hold nothing stale for the block and its stack when its MMU comes on (they are
//! invalidated at reset or power-up on the cores this runs on).

use core::sync::atomic::{AtomicU64, Ordering};

/// What a secondary core needs to join the boot core: its translation registers, vectors,
/// stacks and where to go. Byte offsets are fixed by the entry code below.
#[repr(C)]
#[derive(Debug)]
pub struct StartBlock {
    /// MAIR_EL1 (offset 0).
    pub mair: u64,
    /// TCR_EL1 (offset 8).
    pub tcr: u64,
    /// TTBR0_EL1 (offset 16): the root of the boot core's tables.
    pub ttbr0: u64,
    /// SCTLR_EL1 (offset 24), MMU and caches on.
    pub sctlr: u64,
    /// VBAR_EL1 (offset 32).
    pub vbar: u64,
    /// SP_EL1, the top of the core's exception stack (offset 40, 16-aligned).
    pub exception_stack_top: u64,
    /// SP_EL0, the top of the stack the entry runs on (offset 48, 16-aligned).
    pub stack_top: u64,
    /// The Rust entry, an `extern "C" fn(u64) -> !` (offset 56).
    pub entry: u64,
    /// Its argument, in x0 (offset 64).
    pub argument: u64,
}

// The entry code reads the fields at these offsets.
const _: () = {
    assert!(core::mem::offset_of!(StartBlock, mair) == 0);
    assert!(core::mem::offset_of!(StartBlock, sctlr) == 24);
    assert!(core::mem::offset_of!(StartBlock, vbar) == 32);
    assert!(core::mem::offset_of!(StartBlock, stack_top) == 48);
    assert!(core::mem::offset_of!(StartBlock, argument) == 64);
};

impl StartBlock {
    /// A block that starts a core like the calling one (its MAIR, TCR, TTBR0, SCTLR, VBAR),
    /// with its own stacks, running `entry(argument)`. Call it on the boot core with the MMU on.
    pub fn like_this_core(
        exception_stack_top: u64,
        stack_top: u64,
        entry: extern "C" fn(u64) -> !,
        argument: u64,
    ) -> Self {
        let (mair, tcr, ttbr0, sctlr, vbar): (u64, u64, u64, u64, u64);
        // SAFETY: reading EL1 system registers has no side effects.
        unsafe {
            core::arch::asm!(
                "mrs {mair}, mair_el1",
                "mrs {tcr}, tcr_el1",
                "mrs {ttbr0}, ttbr0_el1",
                "mrs {sctlr}, sctlr_el1",
                "mrs {vbar}, vbar_el1",
                mair = out(reg) mair,
                tcr = out(reg) tcr,
                ttbr0 = out(reg) ttbr0,
                sctlr = out(reg) sctlr,
                vbar = out(reg) vbar,
                options(nomem, nostack, preserves_flags),
            )
        };
        Self {
            mair,
            tcr,
            ttbr0,
            sctlr,
            vbar,
            exception_stack_top,
            stack_top,
            entry: entry as usize as u64,
            argument,
        }
    }

    /// Cleans the block to the point of coherency, so a core with its MMU off (whose loads
    /// bypass the caches) reads what was written. Call it after the last write to the block.
    pub fn publish(&self) {
        let start = self as *const Self as u64;
        clean_to_coherency(start..start + core::mem::size_of::<Self>() as u64);
    }
}

/// The release word: the MPIDR (affinity bits only) of the core the pen lets go next, or
/// `u64::MAX` (no core). Read by pen cores with their MMU off: written, then cleaned.
#[no_mangle]
static RIVET_PEN_RELEASE: AtomicU64 = AtomicU64::new(u64::MAX);

/// The physical address of the [`StartBlock`] the released core takes.
#[no_mangle]
static RIVET_PEN_BLOCK: AtomicU64 = AtomicU64::new(0);

/// MPIDR_EL1's affinity fields (Aff3 at 39:32, Aff2..Aff0 at 23:0): what a devicetree CPU's `reg`
/// and a MADT GICC entry's MPIDR hold.
pub const MPIDR_AFFINITY: u64 = 0xff_00ff_ffff;

core::arch::global_asm!(
    r#"
    .section .text.rivet_secondary, "ax"

/*
 * rivet_secondary_pen: where spin-table cores are sent (their release address holds this
 * address). Entered with the MMU off at EL2 or EL1, x0 = 0 (nothing passed). Waits (wfe) until
 * RIVET_PEN_RELEASE holds this core's affinity, then enters with x0 = RIVET_PEN_BLOCK. Loads
 * bypass the caches (MMU off): the boot core cleans both words to the point of coherency before
 * its `sev`. Uses x0, x1, x2, x9.
 */
    .global rivet_secondary_pen
    .type rivet_secondary_pen, %function
rivet_secondary_pen:
    msr     daifset, #0xf
    mrs     x1, mpidr_el1
    and     x1, x1, #{affinity_low}
    mrs     x9, mpidr_el1
    and     x9, x9, #{affinity_high}
    orr     x1, x1, x9
    adrp    x2, {release}
    add     x2, x2, :lo12:{release}
1:  ldr     x9, [x2]
    cmp     x9, x1
    b.eq    2f
    wfe
    b       1b
2:  adrp    x2, {block}
    add     x2, x2, :lo12:{block}
    ldr     x0, [x2]
    b       rivet_secondary_entry
    .size rivet_secondary_pen, . - rivet_secondary_pen

/*
 * rivet_secondary_entry: a secondary core's first instruction (PSCI CPU_ON's entry point).
 * Entry contract (PSCI, DEN 0022 §6.4): MMU and data cache off, EL2 or EL1 (AArch64),
 * x0 = the context id, here the physical address of a StartBlock (smp.rs).
 * Register use: x19 the block; x9 .. x13 scratch; x30 for rivet_el2_setup.
 */
    .global rivet_secondary_entry
    .type rivet_secondary_entry, %function
rivet_secondary_entry:
    msr     daifset, #0xf
    mov     x19, x0
    mrs     x9, CurrentEL
    ubfx    x9, x9, #2, #2
    cmp     x9, #2
    b.ne    3f
    /* EL2: the boot core's EL2 set-up (boot.rs), then down to EL1h with DAIF masked. */
    bl      rivet_el2_setup
    mov     x9, #0x3c5
    msr     spsr_el2, x9
    adr     x9, 3f
    msr     elr_el2, x9
    eret
3:  mrs     x9, CurrentEL
    ubfx    x9, x9, #2, #2
    cmp     x9, #1
    b.ne    9f
    /* EL1: FP/SIMD on (CPACR_EL1.FPEN = 0b11), Rust code uses it. */
    mov     x9, #(3 << 20)
    msr     cpacr_el1, x9
    /* The boot core's translation regime, as paging::activate set it. Loads from the block
     * bypass the caches (MMU off): the boot core cleaned it. */
    ldp     x10, x11, [x19, #0]     /* MAIR, TCR */
    ldp     x12, x13, [x19, #16]    /* TTBR0, SCTLR */
    msr     mair_el1, x10
    msr     tcr_el1, x11
    msr     ttbr0_el1, x12
    /* isb: the writes above are visible to the SCTLR write; the TLB may hold leftovers from
     * firmware: drop them (dsb: done) before the MMU comes on. */
    isb
    tlbi    vmalle1
    dsb     nsh
    isb
    msr     sctlr_el1, x13
    isb
    /* Instructions fetched before the MMU came on are discarded (as paging::activate does). */
    ic      iallu
    dsb     nsh
    isb
    /* MMU on: the rest of the block is read through the (coherent) caches. */
    ldp     x10, x11, [x19, #32]    /* VBAR, exception stack top */
    msr     vbar_el1, x10
    msr     spsel, #1
    mov     sp, x11
    msr     spsel, #0
    ldp     x12, x13, [x19, #48]    /* stack top, entry */
    mov     sp, x12
    ldr     x0, [x19, #64]          /* argument */
    /* isb: VBAR applies before SError is unmasked (as trap::init does). */
    isb
    msr     daifclr, #4
    /* A zero frame pointer ends every backtrace here. */
    mov     x29, #0
    mov     x30, #0
    blr     x13
9:  wfe
    b       9b
    .size rivet_secondary_entry, . - rivet_secondary_entry
"#,
    release = sym RIVET_PEN_RELEASE,
    block = sym RIVET_PEN_BLOCK,
    affinity_low = const 0x00ff_ffffu64,
    affinity_high = const 0xff_0000_0000u64,
);

extern "C" {
    fn rivet_secondary_entry();
    fn rivet_secondary_pen();
}

/// The physical (= run-time, identity-mapped) address of the secondary entry, which takes a
/// [`StartBlock`]'s address in x0: PSCI CPU_ON's entry point.
pub fn entry_point() -> u64 {
    rivet_secondary_entry as *const () as u64
}

/// The physical address of the holding pen: what a spin-table core's release address gets.
pub fn pen_entry_point() -> u64 {
    rivet_secondary_pen as *const () as u64
}

/// Sends a spin-table core into the pen: stores [`pen_entry_point`] at its `cpu-release-addr`
/// and wakes it (`sev`).
///
/// # Safety
///
/// 1. `release_address` is the core's `cpu-release-addr`: 8-byte aligned RAM the firmware's
///    spin loop reads, writable at that address (MMU off, or identity-mapped).
/// 2. If the MMU is on, the store must reach memory: cleaned below, which needs it mapped as
///    Normal memory or Device memory.
pub unsafe fn send_to_pen(release_address: u64) {
    // SAFETY: obligation 1: the address is aligned and writable.
    unsafe { core::ptr::write_volatile(release_address as *mut u64, pen_entry_point()) };
    clean_to_coherency(release_address..release_address + 8);
    // SAFETY: `sev` only wakes cores waiting in `wfe`.
    unsafe { core::arch::asm!("sev", options(nomem, nostack, preserves_flags)) };
}

/// Lets the pen core whose affinity is `mpidr` (MPIDR_EL1 & [`MPIDR_AFFINITY`]) go, into
/// `block` (already [published](StartBlock::publish)). The pen holds one block: wait until the
/// core has left (reached its entry) before releasing another, then [`close_pen`].
pub fn release_from_pen(mpidr: u64, block: &StartBlock) {
    RIVET_PEN_BLOCK.store(block as *const StartBlock as u64, Ordering::Relaxed);
    RIVET_PEN_RELEASE.store(mpidr & MPIDR_AFFINITY, Ordering::Relaxed);
    clean_word(&RIVET_PEN_BLOCK);
    clean_word(&RIVET_PEN_RELEASE);
    // SAFETY: `sev` only wakes cores waiting in `wfe`; the cleaning above ended with a `dsb`.
    unsafe { core::arch::asm!("sev", options(nomem, nostack, preserves_flags)) };
}

/// Empties the pen's release word again, once the released core has left it.
pub fn close_pen() {
    RIVET_PEN_RELEASE.store(u64::MAX, Ordering::Relaxed);
    clean_word(&RIVET_PEN_RELEASE);
}

/// Cleans the cache line of one of the pen's words to the point of coherency.
fn clean_word(word: &AtomicU64) {
    let address = word as *const AtomicU64 as u64;
    clean_to_coherency(address..address + 8);
}

/// Cleans every data cache line of `range` to the point of coherency (`dc cvac`), then `dsb sy`:
/// memory then holds what this core wrote, for a core reading with its caches off.
fn clean_to_coherency(range: core::ops::Range<u64>) {
    let ctr: u64;
    // SAFETY: reading CTR_EL0 has no side effects.
    unsafe { core::arch::asm!("mrs {}, ctr_el0", out(reg) ctr, options(nomem, nostack)) };
    let line = 4u64 << ((ctr >> 16) & 0xf);
    let mut address = range.start & !(line - 1);
    while address < range.end {
        // SAFETY: cleaning writes dirty lines back; it changes no memory contents.
        unsafe { core::arch::asm!("dc cvac, {}", in(reg) address, options(nostack)) };
        address += line;
    }
    // SAFETY: a barrier only.
    unsafe { core::arch::asm!("dsb sy", options(nostack, preserves_flags)) };
}

/// This core's MPIDR_EL1 affinity fields (see [`MPIDR_AFFINITY`]).
pub fn mpidr() -> u64 {
    let mpidr: u64;
    // SAFETY: reading MPIDR_EL1 has no side effects.
    unsafe { core::arch::asm!("mrs {}, mpidr_el1", out(reg) mpidr, options(nomem, nostack)) };
    mpidr & MPIDR_AFFINITY
}
