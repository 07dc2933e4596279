//! The CPU itself: its name, whether its MMU is on, its affinity, idling and stopping it.

use aarch64_cpu::registers::{Readable, SCTLR_EL1};

/// The architecture's name, as `rivet::env::arch()` reports it.
pub const NAME: &str = "aarch64";

/// Stops this core for good: interrupts masked, waiting for an interrupt that never comes.
pub fn halt_forever() -> ! {
    // SAFETY: masking interrupts on a core that will never run kernel code again cannot break
    // any invariant; `daifset` touches no memory.
    unsafe { core::arch::asm!("msr daifset, #0xf", options(nomem, nostack)) };
    loop {
        aarch64_cpu::asm::wfi();
    }
}

/// Whether the MMU (stage-1 translation at EL1) is on: off from entry until `paging::activate`.
pub fn mmu_enabled() -> bool {
    SCTLR_EL1.is_set(SCTLR_EL1::M)
}

/// Idles this core until an interrupt has been taken: `wfi` with IRQs still masked, then
/// unmasks them for a moment to take what woke it, and masks them again.
///
/// `wfi` comes first, masked, because it wakes on a pending interrupt whatever PSTATE.I says:
/// an interrupt that became pending before it (say the alarm's deadline passed while it was
/// being armed) makes it return at once, and nothing can be taken *before* the `wfi`. The
/// other order (`daifclr; wfi`) loses wake-ups: an interrupt taken between the two
/// instructions runs its handler (which may make a thread ready; the idle thread does not
/// switch inside a handler) and then `wfi` sleeps, the ready thread waiting for some later
/// interrupt that may never come. The caller looks at its run queue again after this returns.
pub fn wait_for_interrupt() {
    // SAFETY: the IRQ vector is installed (`trap::init`) and saves everything it clobbers, so
    // taking an interrupt between the unmask and the mask is transparent to the caller. The
    // asm may run handlers that touch memory: no `nomem`.
    unsafe {
        core::arch::asm!(
            "wfi",
            "msr daifclr, #2",
            "isb", // the unmask takes effect here: a pending IRQ is taken now
            "msr daifset, #2",
            options(nostack)
        )
    };
}

/// This core's affinity (MPIDR_EL1 Aff3.Aff2.Aff1.Aff0) packed into 32 bits as GICv3's
/// GICR_TYPER reports it.
pub fn affinity() -> u32 {
    let mpidr: u64;
    // SAFETY: reading MPIDR_EL1 has no side effects.
    unsafe { core::arch::asm!("mrs {}, mpidr_el1", out(reg) mpidr, options(nomem, nostack)) };
    ((mpidr >> 32 & 0xff) << 24 | (mpidr & 0x00ff_ffff)) as u32
}

/// Masks IRQs on this core (`msr daifset, #2`); returns whether they were unmasked.
pub fn disable_interrupts() -> bool {
    let daif: u64;
    // SAFETY: reading DAIF and masking IRQs touch no memory; the kernel may run with IRQs masked.
    unsafe {
        core::arch::asm!("mrs {}, daif", "msr daifset, #2", out(reg) daif, options(nomem, nostack))
    };
    daif & (1 << 7) == 0
}

/// Unmasks IRQs again if `enabled` (what [`disable_interrupts`] returned).
pub fn restore_interrupts(enabled: bool) {
    if enabled {
        enable_interrupts();
    }
}

/// Unmasks IRQs on this core (`msr daifclr, #2`).
pub fn enable_interrupts() {
    // SAFETY: the IRQ vector is installed (`trap::init`) and saves everything it clobbers. Not
    // `nomem`: a pending interrupt is taken at once and its handler writes memory.
    unsafe { core::arch::asm!("msr daifclr, #2", options(nostack)) };
}

/// Puts the address of this core's [`crate::percpu`] block in TPIDR_EL1.
pub(crate) fn set_local_base(address: u64) {
    // SAFETY: TPIDR_EL1 is a scratch register for the OS; nothing else uses it.
    unsafe { core::arch::asm!("msr tpidr_el1, {}", in(reg) address, options(nomem, nostack)) };
}

/// This core's [`crate::percpu`] block address (TPIDR_EL1; 0 before `set_local_base`, which
/// `trap::init` runs first thing on the boot core).
pub(crate) fn local_base() -> u64 {
    let address: u64;
    // SAFETY: reading TPIDR_EL1 has no side effects.
    unsafe { core::arch::asm!("mrs {}, tpidr_el1", out(reg) address, options(nomem, nostack)) };
    address
}
