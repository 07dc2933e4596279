//! Monotonic time: the clock trait, instants and a busy-wait `sleep`.
//!
//! The arch layer provides a [`Clock`] (the TSC or the ARM generic timer's virtual counter) and
//! the platform installs it with [`set_clock`]. Conversions are done in 128-bit arithmetic so a
//! 10 GHz counter does not overflow for centuries.
//!
//! [`sleep`] halts the core until a timer interrupt once the platform has installed an [`Alarm`]
//! and an idle function with [`set_alarm`]; before that (early boot, or a platform without
//! interrupts yet) it spins on the clock. Once threads run, `rivet::thread::sleep` blocks the
//! thread in the scheduler instead, which arms the same alarm.

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

/// A one-shot timer interrupt at a deadline of the system clock (the ARM generic timer's
/// compare value, the APIC's TSC deadline).
pub trait Alarm: Sync {
    /// Raises the alarm's interrupt once the clock reaches `deadline` ticks (at once if it has).
    fn arm(&self, deadline: u64);
    /// Cancels the alarm and quiets its interrupt; the interrupt handler calls this.
    fn disarm(&self);
}

static CLOCK: Once<&'static dyn Clock> = Once::new();

/// The alarm, and how to wait for the next interrupt with interrupts enabled (`wfi`, `sti; hlt`).
static ALARM: Once<(&'static dyn Alarm, fn())> = Once::new();

/// Installs the alarm `sleep` uses and the function that idles the core until an interrupt.
/// Only the first call takes effect.
pub fn set_alarm(alarm: &'static dyn Alarm, wait_for_interrupt: fn()) {
    ALARM.call_once(|| (alarm, wait_for_interrupt));
}

/// The installed alarm, if the platform has one.
pub fn alarm() -> Option<&'static dyn Alarm> {
    ALARM.get().map(|(alarm, _)| *alarm)
}

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

/// Waits at least `duration`: halted until the alarm fires where one is installed, else spinning.
pub fn sleep(duration: Duration) {
    let clock = clock();
    sleep_on(clock, ALARM.get().copied(), duration);
}

fn sleep_on(clock: &dyn Clock, alarm: Option<(&'static dyn Alarm, fn())>, duration: Duration) {
    let nanos = u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX);
    let wait = nanos_to_ticks(nanos, clock.frequency());
    let start = clock.ticks();
    let deadline = start.saturating_add(wait);
    while clock.ticks().wrapping_sub(start) < wait {
        match alarm {
            // Armed before idling: if the deadline passes in between, the interrupt is already
            // pending and the wait returns at once.
            Some((alarm, wait_for_interrupt)) => {
                alarm.arm(deadline);
                wait_for_interrupt();
            }
            None => core::hint::spin_loop(),
        }
    }
    if let Some((alarm, _)) = alarm {
        alarm.disarm();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::Mutex;

    /// A 1 MHz clock that only moves when the fake idle function says so.
    struct FakeClock(AtomicU64);
    impl Clock for FakeClock {
        fn ticks(&self) -> u64 {
            self.0.load(Ordering::SeqCst)
        }
        fn frequency(&self) -> u64 {
            1_000_000
        }
    }

    struct FakeAlarm(Mutex<Vec<String>>);
    impl Alarm for FakeAlarm {
        fn arm(&self, deadline: u64) {
            self.0.lock().unwrap().push(format!("arm {deadline}"));
        }
        fn disarm(&self) {
            self.0.lock().unwrap().push("disarm".into());
        }
    }

    static SLEEP_CLOCK: FakeClock = FakeClock(AtomicU64::new(1000));
    static SLEEP_ALARM: FakeAlarm = FakeAlarm(Mutex::new(Vec::new()));

    /// An interrupt arrives: a stray one after 300 us, then the alarm at its deadline.
    fn idle() {
        let now = SLEEP_CLOCK.0.load(Ordering::SeqCst);
        let next = if now < 1300 { 1300 } else { 1500 };
        SLEEP_CLOCK.0.store(next, Ordering::SeqCst);
    }

    #[test]
    fn sleep_idles_until_the_alarm_and_rearms_after_stray_interrupts() {
        sleep_on(&SLEEP_CLOCK, Some((&SLEEP_ALARM, idle)), Duration::from_micros(500));
        assert_eq!(SLEEP_CLOCK.ticks(), 1500);
        assert_eq!(*SLEEP_ALARM.0.lock().unwrap(), ["arm 1500", "arm 1500", "disarm"]);
    }

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
