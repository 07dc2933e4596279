//! Clocks and sleeping: `clock_gettime`, `gettimeofday`, `time`, `clock`, `nanosleep`,
//! `clock_nanosleep`, `sleep`, `usleep`.
//!
//! `CLOCK_REALTIME` is Rivet's wall clock (`rivet::time::SystemTime`: the RTC read at boot, then
//! the counter); the monotonic clocks are the counter since boot. The CPU-time clocks answer with
//! the monotonic time (a unikernel's one process owns the CPU). Sleeps block the thread (other
//! threads run) and are never interrupted, so `rem` is always zero.

use core::ffi::{c_int, c_long, c_uint};
use core::time::Duration;
use rivet::time::{Instant, SystemTime, UNIX_EPOCH};

use crate::os::errno::{self, code};

/// glibc's `struct timespec` on both 64-bit targets.
#[repr(C)]
pub struct Timespec {
    seconds: i64,
    nanoseconds: c_long,
}

impl Timespec {
    /// Nanoseconds since the clock's zero, or EINVAL for a malformed value.
    pub(crate) fn nanos(&self) -> Result<i128, c_int> {
        if !(0..1_000_000_000).contains(&self.nanoseconds) {
            return Err(code::EINVAL);
        }
        Ok(i128::from(self.seconds) * 1_000_000_000 + i128::from(self.nanoseconds))
    }

    /// Seconds and nanoseconds.
    pub(crate) fn parts(&self) -> (i64, i64) {
        (self.seconds, self.nanoseconds)
    }
}

/// glibc's `struct timeval` on both 64-bit targets.
#[repr(C)]
pub struct Timeval {
    seconds: i64,
    microseconds: c_long,
}

const CLOCK_REALTIME: c_int = 0;
const CLOCK_MONOTONIC: c_int = 1;
const CLOCK_PROCESS_CPUTIME_ID: c_int = 2;
const CLOCK_THREAD_CPUTIME_ID: c_int = 3;
const CLOCK_MONOTONIC_RAW: c_int = 4;
const CLOCK_REALTIME_COARSE: c_int = 5;
const CLOCK_MONOTONIC_COARSE: c_int = 6;
const CLOCK_BOOTTIME: c_int = 7;
/// `clock_nanosleep`'s flag: the request is an absolute time.
const TIMER_ABSTIME: c_int = 1;

/// Nanoseconds on `clock`, or `None` for a clock that does not exist.
pub(crate) fn now_nanos(clock: c_int) -> Option<i128> {
    match clock {
        CLOCK_REALTIME | CLOCK_REALTIME_COARSE => Some(realtime_nanos()),
        CLOCK_MONOTONIC
        | CLOCK_MONOTONIC_RAW
        | CLOCK_MONOTONIC_COARSE
        | CLOCK_BOOTTIME
        | CLOCK_PROCESS_CPUTIME_ID
        | CLOCK_THREAD_CPUTIME_ID => Some(i128::from(Instant::now().as_nanos())),
        _ => None,
    }
}

fn realtime_nanos() -> i128 {
    let now = SystemTime::now();
    match now.duration_since(UNIX_EPOCH) {
        Ok(after) => after.as_nanos() as i128,
        Err(before) => -(before.duration().as_nanos() as i128),
    }
}

fn split(nanos: i128) -> (i64, i64) {
    (nanos.div_euclid(1_000_000_000) as i64, nanos.rem_euclid(1_000_000_000) as i64)
}

/// Reads a clock.
///
/// # Safety
/// 1. `out` is valid for a write of a `struct timespec`.
#[no_mangle]
pub unsafe extern "C" fn clock_gettime(clock: c_int, out: *mut Timespec) -> c_int {
    let Some(nanos) = now_nanos(clock) else {
        errno::set(code::EINVAL);
        return -1;
    };
    if out.is_null() {
        errno::set(code::EINVAL);
        return -1;
    }
    let (seconds, nanoseconds) = split(nanos);
    // SAFETY: obligation 1.
    unsafe { out.write(Timespec { seconds, nanoseconds }) };
    0
}

/// A clock's resolution: 1 ns (the counters are finer or close).
///
/// # Safety
/// 1. `out` is NULL or valid for a write of a `struct timespec`.
#[no_mangle]
pub unsafe extern "C" fn clock_getres(clock: c_int, out: *mut Timespec) -> c_int {
    if now_nanos(clock).is_none() {
        errno::set(code::EINVAL);
        return -1;
    }
    if !out.is_null() {
        // SAFETY: obligation 1.
        unsafe { out.write(Timespec { seconds: 0, nanoseconds: 1 }) };
    }
    0
}

/// The wall clock in seconds and microseconds (`zone` is ignored).
///
/// # Safety
/// 1. `out` is NULL or valid for a write of a `struct timeval`.
#[no_mangle]
pub unsafe extern "C" fn gettimeofday(out: *mut Timeval, _zone: *mut core::ffi::c_void) -> c_int {
    if !out.is_null() {
        let (seconds, nanoseconds) = split(realtime_nanos());
        // SAFETY: obligation 1.
        unsafe { out.write(Timeval { seconds, microseconds: nanoseconds / 1000 }) };
    }
    0
}

/// Seconds since the epoch, also stored at `out` unless NULL.
///
/// # Safety
/// 1. `out` is NULL or valid for a write of a `time_t`.
#[no_mangle]
pub unsafe extern "C" fn time(out: *mut i64) -> i64 {
    let (seconds, _) = split(realtime_nanos());
    if !out.is_null() {
        // SAFETY: obligation 1.
        unsafe { out.write(seconds) };
    }
    seconds
}

/// Processor time used, in `CLOCKS_PER_SEC` (10^6) units: the time since boot.
#[no_mangle]
pub extern "C" fn clock() -> c_long {
    (Instant::now().as_nanos() / 1000) as c_long
}

/// A `timespec` from C as a duration, or EINVAL.
fn duration(request: &Timespec) -> Result<Duration, c_int> {
    if request.seconds < 0 || !(0..1_000_000_000).contains(&request.nanoseconds) {
        return Err(code::EINVAL);
    }
    Ok(Duration::new(request.seconds as u64, request.nanoseconds as u32))
}

/// Sleeps on `clock` for the request, or until it when `flags` has `TIMER_ABSTIME`; returns 0 or
/// an error number (not -1: POSIX has it so).
///
/// # Safety
/// 1. `request` is valid for a read of a `struct timespec`.
/// 2. `remaining` is NULL or valid for a write of one.
#[no_mangle]
pub unsafe extern "C" fn clock_nanosleep(
    clock: c_int,
    flags: c_int,
    request: *const Timespec,
    remaining: *mut Timespec,
) -> c_int {
    if request.is_null() {
        return code::EINVAL;
    }
    // SAFETY: obligation 1.
    let wanted = match duration(unsafe { &*request }) {
        Ok(d) => d,
        Err(e) => return e,
    };
    let Some(now) = now_nanos(clock) else { return code::EINVAL };
    let wait = if flags & TIMER_ABSTIME != 0 {
        let target = wanted.as_nanos() as i128;
        Duration::from_nanos((target - now).max(0) as u64)
    } else {
        wanted
    };
    rivet::thread::sleep(wait);
    if !remaining.is_null() {
        // SAFETY: obligation 2.
        unsafe { remaining.write(Timespec { seconds: 0, nanoseconds: 0 }) };
    }
    0
}

/// Sleeps for the request (monotonic).
///
/// # Safety
/// As for [`clock_nanosleep`].
#[no_mangle]
pub unsafe extern "C" fn nanosleep(request: *const Timespec, remaining: *mut Timespec) -> c_int {
    // SAFETY: the caller's obligations are clock_nanosleep's.
    match unsafe { clock_nanosleep(CLOCK_MONOTONIC, 0, request, remaining) } {
        0 => 0,
        e => {
            errno::set(e);
            -1
        }
    }
}

/// Sleeps for whole seconds; returns 0 (never interrupted).
#[no_mangle]
pub extern "C" fn sleep(seconds: c_uint) -> c_uint {
    rivet::thread::sleep(Duration::from_secs(u64::from(seconds)));
    0
}

/// Sleeps for microseconds.
#[no_mangle]
pub extern "C" fn usleep(microseconds: c_uint) -> c_int {
    rivet::thread::sleep(Duration::from_micros(u64::from(microseconds)));
    0
}
