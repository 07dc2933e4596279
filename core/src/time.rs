//! Monotonic time: the clock trait, instants and a busy-wait `sleep`.
//!
//! The arch layer provides a [`Clock`] (the TSC or the ARM generic timer's virtual counter) and
//! the platform installs it with [`set_clock`]. Conversions are done in 128-bit arithmetic so a
//! 10 GHz counter does not overflow for centuries.
//!
//! Weak spot: [`sleep`] busy-waits. With no scheduler there is nothing else to run; the threads
//! work replaces it with a timer interrupt and a halted core.

use core::time::Duration;
use spin::Once;

/// A monotonic counter that never goes backwards on one core.
pub trait Clock: Sync {
    /// The counter's current value.
    fn ticks(&self) -> u64;
    /// Ticks per second. May calibrate on the first call (the TSC does), so boot code that only
    /// records ticks stays fast.
    fn frequency(&self) -> u64;
}

static CLOCK: Once<&'static dyn Clock> = Once::new();

/// Installs the system clock. Only the first call takes effect.
pub fn set_clock(clock: &'static dyn Clock) {
    CLOCK.call_once(|| clock);
}

/// The installed clock. Panics if the platform has not installed one yet (a broken invariant of
/// the boot sequence).
pub fn clock() -> &'static dyn Clock {
    *CLOCK.get().expect("time used before the platform installed a clock")
}

/// Converts counter ticks at `frequency` Hz to nanoseconds (saturating; 0 Hz gives 0).
pub fn ticks_to_nanos(ticks: u64, frequency: u64) -> u64 {
    if frequency == 0 {
        return 0;
    }
    let nanos = ticks as u128 * 1_000_000_000 / frequency as u128;
    nanos.min(u64::MAX as u128) as u64
}

/// Converts nanoseconds to counter ticks at `frequency` Hz, rounding up (saturating).
pub fn nanos_to_ticks(nanos: u64, frequency: u64) -> u64 {
    let ticks = (nanos as u128 * frequency as u128).div_ceil(1_000_000_000);
    ticks.min(u64::MAX as u128) as u64
}

/// A point in monotonic time, in nanoseconds since the counter started.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
pub struct Instant(u64);

impl Instant {
    /// Now, by the system clock.
    pub fn now() -> Self {
        let clock = clock();
        // Frequency first: it may calibrate, which must not fall inside the measured time.
        let frequency = clock.frequency();
        Self(ticks_to_nanos(clock.ticks(), frequency))
    }

    /// The instant `ticks` counter ticks after the counter started.
    pub fn from_ticks(ticks: u64) -> Self {
        Self(ticks_to_nanos(ticks, clock().frequency()))
    }

    /// Nanoseconds since the counter started.
    pub fn as_nanos(&self) -> u64 {
        self.0
    }

    /// Time since `earlier` (zero if `earlier` is later).
    pub fn duration_since(&self, earlier: Instant) -> Duration {
        Duration::from_nanos(self.0.saturating_sub(earlier.0))
    }

    /// The instant `duration` after this one (saturating).
    pub fn saturating_add(&self, duration: Duration) -> Instant {
        let nanos = u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX);
        Instant(self.0.saturating_add(nanos))
    }

    /// Time since this instant.
    pub fn elapsed(&self) -> Duration {
        Instant::now().duration_since(*self)
    }
}

impl core::ops::Add<Duration> for Instant {
    type Output = Instant;

    /// Saturates at the end of time rather than wrapping.
    fn add(self, duration: Duration) -> Instant {
        self.saturating_add(duration)
    }
}

/// Waits at least `duration`, spinning.
pub fn sleep(duration: Duration) {
    let clock = clock();
    let nanos = u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX);
    let wait = nanos_to_ticks(nanos, clock.frequency());
    let start = clock.ticks();
    while clock.ticks().wrapping_sub(start) < wait {
        core::hint::spin_loop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversions() {
        assert_eq!(ticks_to_nanos(62_500_000, 62_500_000), 1_000_000_000);
        assert_eq!(ticks_to_nanos(1, 3_000_000_000), 0);
        assert_eq!(ticks_to_nanos(3, 3_000_000_000), 1);
        assert_eq!(ticks_to_nanos(u64::MAX, 1), u64::MAX);
        assert_eq!(ticks_to_nanos(5, 0), 0);
        assert_eq!(nanos_to_ticks(1, 62_500_000), 1, "rounds up");
        assert_eq!(nanos_to_ticks(100_000_000, 62_500_000), 6_250_000);
        assert_eq!(nanos_to_ticks(u64::MAX, 10_000_000_000), u64::MAX);
    }
}
