//! The CPU itself: its name, whether its MMU is on, stopping it.

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
