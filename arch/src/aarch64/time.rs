//! The generic timer's virtual counter (CNTVCT_EL0) as the system clock.
//!
//! The virtual counter is what a guest may always read (a hypervisor offsets it with CNTVOFF_EL2;
//! the entry code sets that offset to 0 when it owns EL2). Its frequency is CNTFRQ_EL0, which the
//! firmware programs (62.5 MHz or 1 GHz on QEMU, 54 MHz on a Pi 4).
//!
//! Weak spot: firmware that leaves CNTFRQ_EL0 at 0 gives a frequency of 0 (time conversions then
//! yield 0); the DTB's `/timer` `clock-frequency` could be used instead.

use aarch64_cpu::registers::{Readable, CNTFRQ_EL0};
use rivet_core::time::Clock;

/// The ARM generic timer's virtual counter.
pub struct GenericTimer;

impl Clock for GenericTimer {
    fn ticks(&self) -> u64 {
        let ticks: u64;
        // SAFETY: reading CNTVCT_EL0 has no side effects. The `isb` keeps the read from being
        // performed early, ahead of the instructions before it (ARM ARM D12.1.2, "the counter
        // may be read speculatively"), so measurements bracket what they measure.
        unsafe {
            core::arch::asm!("isb", "mrs {}, cntvct_el0", out(reg) ticks, options(nomem, nostack))
        };
        ticks
    }

    fn frequency(&self) -> u64 {
        CNTFRQ_EL0.get()
    }
}

/// The system clock the platform installs with `rivet_core::time::set_clock`.
pub static COUNTER: GenericTimer = GenericTimer;
