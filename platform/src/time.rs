//! Time: monotonic instants, `sleep`, `Duration`, and the wall clock ([`SystemTime`]).
//!
//! The wall clock is read once at boot from the machine's real-time clock — the CMOS RTC on a PC
//! (`microvm`, `q35`), the PL031 on QEMU `virt`, UEFI's `GetTime` under `efi`, the shared info
//! page under Xen PV x86_64 — and then follows the monotonic counter ([`wall_clock_source`] says
//! which one). A machine without one (a Raspberry Pi has no RTC on the board; a Xen arm64 guest;
//! a PC whose RTC reads as nonsense) has no wall clock: [`SystemTime::now`] is then
//! [`UNIX_EPOCH`] plus the monotonic time since the counter started, so it starts in 1970.
//! Nothing adjusts it afterwards (no NTP): it drifts with the counter, and RTCs that count whole
//! seconds make it up to one second early.

pub use core::time::Duration;
pub use rivet_core::time::calendar::DateTime;
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

/// A moment in wall-clock time, shaped like `std::time::SystemTime`: Unix time with nanoseconds,
/// before 1970 as well as after (seconds within the `i64` range). Not monotonic in general; here
/// it only moves forward, as nothing sets the clock after boot, but do not rely on that.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct SystemTime {
    /// Nanoseconds since [`UNIX_EPOCH`], negative before it.
    nanos: i128,
}

/// 1970-01-01 00:00:00 UTC.
pub const UNIX_EPOCH: SystemTime = SystemTime { nanos: 0 };

/// Most nanoseconds from the epoch a [`SystemTime`] may be, either way: `i64::MAX` seconds (as a
/// Unix `timespec`), so the distance between any two fits in a [`Duration`].
const LIMIT_NANOS: i128 = i64::MAX as i128 * 1_000_000_000 + 999_999_999;

impl SystemTime {
    /// 1970-01-01 00:00:00 UTC, as `std::time::SystemTime::UNIX_EPOCH`.
    pub const UNIX_EPOCH: SystemTime = UNIX_EPOCH;

    /// The wall-clock time now: the boot-time RTC reading plus the monotonic time since; on a
    /// machine without a wall clock ([`wall_clock_source`] is `"none"`), `UNIX_EPOCH` plus the
    /// monotonic time since the counter started.
    pub fn now() -> SystemTime {
        SystemTime::from_unix_nanos(rivet_core::time::unix_nanos_now())
    }

    fn from_unix_nanos(nanos: i128) -> SystemTime {
        SystemTime { nanos: nanos.clamp(-LIMIT_NANOS, LIMIT_NANOS) }
    }

    /// How long after `earlier` this is, or, if `earlier` is later, an error holding how much.
    pub fn duration_since(&self, earlier: SystemTime) -> Result<Duration, SystemTimeError> {
        let difference = self.nanos - earlier.nanos;
        let duration = nanos_to_duration(difference.unsigned_abs());
        if difference >= 0 {
            Ok(duration)
        } else {
            Err(SystemTimeError(duration))
        }
    }

    /// How much wall-clock time has passed since this moment (an error if it is in the future).
    pub fn elapsed(&self) -> Result<Duration, SystemTimeError> {
        SystemTime::now().duration_since(*self)
    }

    /// `duration` later, or `None` past the representable range.
    pub fn checked_add(&self, duration: Duration) -> Option<SystemTime> {
        let nanos = self.nanos.checked_add(i128::try_from(duration.as_nanos()).ok()?)?;
        (nanos <= LIMIT_NANOS).then_some(SystemTime { nanos })
    }

    /// `duration` earlier, or `None` past the representable range.
    pub fn checked_sub(&self, duration: Duration) -> Option<SystemTime> {
        let nanos = self.nanos.checked_sub(i128::try_from(duration.as_nanos()).ok()?)?;
        (nanos >= -LIMIT_NANOS).then_some(SystemTime { nanos })
    }

    /// This moment as a UTC calendar date and time (a Rivet addition; `std` has none).
    pub fn to_utc(&self) -> DateTime {
        DateTime::from_unix_nanos(self.nanos)
    }
}

/// A `Duration` of `nanos` nanoseconds, at most `LIMIT_NANOS * 2`, which fits.
fn nanos_to_duration(nanos: u128) -> Duration {
    let seconds = u64::try_from(nanos / 1_000_000_000).unwrap_or(u64::MAX);
    Duration::new(seconds, (nanos % 1_000_000_000) as u32)
}

impl core::ops::Add<Duration> for SystemTime {
    type Output = SystemTime;

    /// Panics past the representable range, as `std` does.
    fn add(self, duration: Duration) -> SystemTime {
        self.checked_add(duration).expect("overflow when adding duration to instant")
    }
}

impl core::ops::AddAssign<Duration> for SystemTime {
    fn add_assign(&mut self, duration: Duration) {
        *self = *self + duration;
    }
}

impl core::ops::Sub<Duration> for SystemTime {
    type Output = SystemTime;

    /// Panics past the representable range, as `std` does.
    fn sub(self, duration: Duration) -> SystemTime {
        self.checked_sub(duration).expect("overflow when subtracting duration from instant")
    }
}

impl core::ops::SubAssign<Duration> for SystemTime {
    fn sub_assign(&mut self, duration: Duration) {
        *self = *self - duration;
    }
}

/// [`SystemTime::duration_since`] was given a later time; [`duration`](Self::duration) is how
/// much later.
#[derive(Clone, Debug)]
pub struct SystemTimeError(Duration);

impl SystemTimeError {
    /// How far the second time was after the first.
    pub fn duration(&self) -> Duration {
        self.0
    }
}

impl core::fmt::Display for SystemTimeError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("second time provided was later than self")
    }
}

impl core::error::Error for SystemTimeError {}

/// Where the wall clock came from: `"cmos"`, `"pl031"`, `"uefi"`, `"xen"`, or `"none"` when the
/// machine has no real-time clock Rivet reads (then [`SystemTime::now`] counts from 1970).
pub fn wall_clock_source() -> &'static str {
    rivet_core::time::wall_clock().map_or("none", |reading| reading.source)
}
