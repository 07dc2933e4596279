//! Time: monotonic instants, `sleep`, and `Duration`.

pub use core::time::Duration;
pub use rivet_core::time::{sleep, Instant};

use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// Alarm interrupts taken so far; the platform's timer handler counts them.
pub(crate) static ALARM_INTERRUPTS: AtomicU64 = AtomicU64::new(0);
/// Set by a platform that installed an alarm, so `sleep` halts rather than spins.
pub(crate) static HAS_ALARM: AtomicBool = AtomicBool::new(false);

/// How many timer (alarm) interrupts this core has taken: more than zero after a `sleep` on a
/// platform where [`has_alarm`] is true.
pub fn alarm_interrupts() -> u64 {
    ALARM_INTERRUPTS.load(Ordering::Relaxed)
}

/// Whether the platform installed a timer interrupt, so `sleep` halts the core until it fires.
pub fn has_alarm() -> bool {
    HAS_ALARM.load(Ordering::Relaxed)
}
