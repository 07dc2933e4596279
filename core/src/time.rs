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
//!
//! The wall clock is one reading: the platform reads a real-time clock (CMOS, PL031, UEFI
//! `GetTime`, Xen's shared info) once and records it with [`set_wall_clock`] together with the
//! counter value at that moment — or, where reading is slow (the CMOS RTC may make it wait out
//! an update, milliseconds the boot should not spend), installs the reading function with
//! [`set_wall_clock_reader`] and it runs on first use; [`unix_nanos_now`] adds the counter's
//! progress since. Until
//! (or unless) a platform records one, Unix time is the monotonic time: 1970-01-01 plus the time
//! since the counter started. Nothing corrects the wall clock later (no NTP): it drifts with the
//! counter, and an RTC that counts whole seconds makes it up to a second early.

pub mod calendar;

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

/// Idles the core until an interrupt has been handled, with the function the platform installed
/// with [`set_alarm`] (`sti; hlt`, `wfi`, Xen's `SCHEDOP_block`); called and returns with
/// interrupts masked. Without an alarm, one spin-loop hint.
pub fn wait_for_interrupt() {
    match ALARM.get() {
        Some((_, wait)) => wait(),
        None => core::hint::spin_loop(),
    }
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

/// A wall-clock reading: Unix time at a known counter value, recorded once at boot.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct WallClock {
    /// Where the time came from, short and lower-case (`"cmos"`, `"pl031"`, `"uefi"`, `"xen"`).
    pub source: &'static str,
    /// Nanoseconds since 1970-01-01 00:00:00 UTC at the reading.
    pub unix_nanos: i128,
    /// The system clock's counter at the reading.
    pub ticks: u64,
}

impl WallClock {
    /// Unix time in nanoseconds at counter value `ticks` of a `frequency` Hz counter: the reading
    /// plus the counter's progress since (or minus, for a value before the reading, as another
    /// core's counter may be a little behind). 0 Hz adds nothing.
    pub fn unix_nanos_at(&self, ticks: u64, frequency: u64) -> i128 {
        if frequency == 0 {
            return self.unix_nanos;
        }
        let elapsed = i128::from(ticks) - i128::from(self.ticks);
        // |elapsed| < 2^64 and 10^9 < 2^30: the product fits in an i128.
        self.unix_nanos + elapsed * 1_000_000_000 / i128::from(frequency)
    }
}

static WALL_CLOCK: Once<Option<WallClock>> = Once::new();
static WALL_CLOCK_READER: Once<fn() -> Option<WallClock>> = Once::new();

/// Records the wall clock the platform read at boot. Only the first call takes effect. Needs no
/// installed clock and asks no frequency (the TSC's calibration waits for the first use).
pub fn set_wall_clock(reading: WallClock) {
    WALL_CLOCK.call_once(|| Some(reading));
}

/// Installs the function that reads the real-time clock, run once when the wall clock is first
/// asked for (if no reading was recorded with [`set_wall_clock`] by then). Install it at boot.
pub fn set_wall_clock_reader(read: fn() -> Option<WallClock>) {
    WALL_CLOCK_READER.call_once(|| read);
}

/// The wall-clock reading, if the platform has a real-time clock (read now, the first time, if
/// the platform installed a reader).
pub fn wall_clock() -> Option<WallClock> {
    *WALL_CLOCK.call_once(|| WALL_CLOCK_READER.get().and_then(|read| read()))
}

/// Unix time now, in nanoseconds since 1970-01-01 00:00:00 UTC, from the wall-clock reading and
/// the system clock; without a reading, the monotonic time ([`Instant::now`]) since the epoch.
pub fn unix_nanos_now() -> i128 {
    let clock = clock();
    let frequency = clock.frequency();
    let ticks = clock.ticks();
    unix_nanos_from(wall_clock(), ticks, frequency)
}

fn unix_nanos_from(reading: Option<WallClock>, ticks: u64, frequency: u64) -> i128 {
    match reading {
        Some(reading) => reading.unix_nanos_at(ticks, frequency),
        None => i128::from(ticks_to_nanos(ticks, frequency)),
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
    fn wall_clock_follows_the_counter() {
        // 2026-11-27 00:00:00 UTC read when a 1 MHz counter showed 5 s.
        let midnight = calendar::days_from_civil(2026, 11, 27) as i128 * 86_400 * 1_000_000_000;
        let reading = WallClock { source: "test", unix_nanos: midnight, ticks: 5_000_000 };
        assert_eq!(reading.unix_nanos_at(5_000_000, 1_000_000), midnight);
        assert_eq!(reading.unix_nanos_at(7_500_000, 1_000_000), midnight + 2_500_000_000);
        assert_eq!(reading.unix_nanos_at(4_999_999, 1_000_000), midnight - 1_000, "counter behind");
        assert_eq!(
            reading.unix_nanos_at(u64::MAX, 1),
            midnight + (i128::from(u64::MAX) - 5_000_000) * 1_000_000_000
        );
        assert_eq!(reading.unix_nanos_at(9, 0), midnight);
        assert_eq!(
            calendar::DateTime::from_unix_nanos(
                reading.unix_nanos_at(5_000_000 + 3_723_000_000, 1_000_000)
            )
            .to_string(),
            "2026-11-27 01:02:03"
        );
        // No reading: the epoch plus the monotonic time.
        assert_eq!(unix_nanos_from(None, 3_000_000, 1_000_000), 3_000_000_000);
        assert_eq!(unix_nanos_from(Some(reading), 6_000_000, 1_000_000), midnight + 1_000_000_000);
    }

    #[test]
    fn the_first_wall_clock_wins() {
        let first = WallClock { source: "first", unix_nanos: 1, ticks: 0 };
        set_wall_clock(first);
        set_wall_clock(WallClock { source: "second", unix_nanos: 2, ticks: 0 });
        assert_eq!(wall_clock(), Some(first));
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
