//! Time: monotonic instants, `sleep`, and `Duration`.

pub use core::time::Duration;
pub use rivet_core::time::Instant;

/// Blocks the calling thread for at least `duration` (other threads run meanwhile); the same as
/// [`crate::thread::sleep`].
pub fn sleep(duration: Duration) {
    crate::thread::sleep(duration);
}

/// The clock reading (in ticks) `timeout` from now, saturating.
pub(crate) fn deadline_ticks(timeout: Duration) -> u64 {
    let clock = rivet_core::time::clock();
    let nanos = u64::try_from(timeout.as_nanos()).unwrap_or(u64::MAX);
    clock.ticks().saturating_add(rivet_core::time::nanos_to_ticks(nanos, clock.frequency()))
}

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
