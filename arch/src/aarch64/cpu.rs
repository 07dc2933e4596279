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

/// Idles this core until an interrupt has been taken: unmasks IRQs, `wfi`, masks them again.
///
/// Race-free in that order: an interrupt that became pending before `wfi` (even before the
/// unmask — say the alarm's deadline passed while it was being armed) makes `wfi` return at
/// once, as `wfi` wakes on a pending interrupt whatever PSTATE.I says; and it is taken as soon
/// as IRQs are unmasked, either right after `daifclr` or right after `wfi`. Masking again
/// before returning keeps the kernel's invariant that interrupts only arrive here.
pub fn wait_for_interrupt() {
    // SAFETY: the IRQ vector is installed (`trap::init`) and saves everything it clobbers, so
    // taking an interrupt between these instructions is transparent to the caller. The asm
    // may run handlers that touch memory: no `nomem`.
    unsafe { core::arch::asm!("msr daifclr, #2", "wfi", "msr daifset, #2", options(nostack)) };
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
