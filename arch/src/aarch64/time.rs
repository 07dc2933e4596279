//! The generic timer's virtual counter (CNTVCT_EL0) as the system clock, and its virtual timer
//! (CNTV_CVAL_EL0 / CNTV_CTL_EL0) as the alarm `sleep` waits on.
//!
//! The virtual counter is what a guest may always read (a hypervisor offsets it with CNTVOFF_EL2;
//! the entry code sets that offset to 0 when it owns EL2). Its frequency is CNTFRQ_EL0, which the
//! firmware programs (62.5 MHz or 1 GHz on QEMU, 54 MHz on a Pi 4).
//!
//! Weak spot: firmware that leaves CNTFRQ_EL0 at 0 gives a frequency of 0 (time conversions then
//! yield 0); the DTB's `/timer` `clock-frequency` could be used instead.

use aarch64_cpu::registers::{Readable, CNTFRQ_EL0};
use rivet_core::time::{Alarm, Clock};

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

/// CNTV_CTL_EL0 bits: ENABLE (0), IMASK (1, the interrupt is masked at the timer).
const CTL_ENABLE: u64 = 1 << 0;
const CTL_IMASK: u64 = 1 << 1;

/// The generic timer's EL1 virtual timer, whose interrupt is a PPI (INTID 27 on most boards;
/// the DTB's `/timer` or the GTDT names it). A compare value against the virtual counter, so
/// deadlines are [`COUNTER`] ticks.
pub struct VirtualTimer;

impl Alarm for VirtualTimer {
    fn arm(&self, deadline: u64) {
        // SAFETY: programming this core's virtual timer touches no memory. The compare value is
        // written before the timer is enabled and unmasked; `isb` makes the new state apply
        // before the caller idles (a deadline already past raises the interrupt at once).
        unsafe {
            core::arch::asm!(
                "msr cntv_cval_el0, {deadline}",
                "msr cntv_ctl_el0, {ctl}",
                "isb",
                deadline = in(reg) deadline,
                ctl = in(reg) CTL_ENABLE,
                options(nomem, nostack),
            )
        };
    }

    fn disarm(&self) {
        // SAFETY: as for `arm`: ENABLE clear and IMASK set drop the timer's interrupt line, so
        // the (level-triggered) PPI is no longer pending once the handler returns.
        unsafe {
            core::arch::asm!(
                "msr cntv_ctl_el0, {ctl}",
                "isb",
                ctl = in(reg) CTL_IMASK,
                options(nomem, nostack),
            )
        };
    }
}

/// The alarm the platform installs with `rivet_core::time::set_alarm`, once the timer's
/// interrupt has a handler that calls [`Alarm::disarm`].
pub static ALARM: VirtualTimer = VirtualTimer;
