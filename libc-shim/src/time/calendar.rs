//! Calendar arithmetic: broken-down UTC time and back (gmtime, timegm and their aliases).

use crate::errno;
use core::ffi::{c_char, c_int, c_long};

/// C `time_t`.
pub type Time = i64;

/// glibc's `struct tm` (with the BSD `tm_gmtoff` and `tm_zone` fields).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tm {
    /// Seconds, 0..=60.
    pub tm_sec: c_int,
    /// Minutes, 0..=59.
    pub tm_min: c_int,
    /// Hours, 0..=23.
    pub tm_hour: c_int,
    /// Day of the month, 1..=31.
    pub tm_mday: c_int,
    /// Month, 0..=11.
    pub tm_mon: c_int,
    /// Years since 1900.
    pub tm_year: c_int,
    /// Day of the week, 0 = Sunday.
    pub tm_wday: c_int,
    /// Day of the year, 0..=365.
    pub tm_yday: c_int,
    /// Daylight saving flag (0: UTC has none).
    pub tm_isdst: c_int,
    /// Seconds east of UTC.
    pub tm_gmtoff: c_long,
    /// Zone abbreviation.
    pub tm_zone: *const c_char,
}

const SECONDS_PER_DAY: i64 = 86_400;

/// Days since 1970-01-01 of a proleptic Gregorian date (`month` 1..=12).
pub fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_index = (month + 9) % 12; // March = 0
    let day_of_year = (153 * month_index + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The civil date (year, month 1..=12, day) of a day count since 1970-01-01.
pub fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let days = days + 719_468;
    let era = days.div_euclid(146_097);
    let day_of_era = days - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 { month_index + 3 } else { month_index - 9 };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Whether `year` is a Gregorian leap year.
pub(super) fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

/// The broken-down UTC time of `time`, or None when the year does not fit an `int`.
pub fn broken_down(time: Time) -> Option<Tm> {
    let days = time.div_euclid(SECONDS_PER_DAY);
    let seconds = time.rem_euclid(SECONDS_PER_DAY);
    let (year, month, day) = civil_from_days(days);
    let tm_year = c_int::try_from(year - 1900).ok()?;
    Some(Tm {
        tm_sec: (seconds % 60) as c_int,
        tm_min: (seconds / 60 % 60) as c_int,
        tm_hour: (seconds / 3600) as c_int,
        tm_mday: day as c_int,
        tm_mon: (month - 1) as c_int,
        tm_year,
        tm_wday: (days + 4).rem_euclid(7) as c_int, // 1970-01-01 was a Thursday
        tm_yday: (days - days_from_civil(year, 1, 1)) as c_int,
        tm_isdst: 0,
        tm_gmtoff: 0,
        tm_zone: c"GMT".as_ptr(),
    })
}

/// The `time_t` of a (possibly denormalised) broken-down UTC time.
pub fn seconds_of(tm: &Tm) -> i64 {
    let month = i64::from(tm.tm_mon);
    let year = i64::from(tm.tm_year) + 1900 + month.div_euclid(12);
    let month = month.rem_euclid(12) + 1;
    let days = days_from_civil(year, month, 1) + i64::from(tm.tm_mday) - 1;
    days * SECONDS_PER_DAY
        + i64::from(tm.tm_hour) * 3600
        + i64::from(tm.tm_min) * 60
        + i64::from(tm.tm_sec)
}

/// C `gmtime_r`.
///
/// # Safety
/// 1. `time` is readable; `result` writable.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub unsafe extern "C" fn gmtime_r(time: *const Time, result: *mut Tm) -> *mut Tm {
    assert!(!time.is_null() && !result.is_null(), "gmtime_r: NULL pointer");
    // SAFETY: obligation 1.
    match broken_down(unsafe { *time }) {
        Some(tm) => {
            // SAFETY: obligation 1.
            unsafe { *result = tm };
            result
        }
        None => {
            errno::set(errno::EOVERFLOW);
            core::ptr::null_mut()
        }
    }
}

/// The static result of `gmtime`/`localtime` (not thread-safe, as in C).
struct StaticTm(core::cell::UnsafeCell<Tm>);

// SAFETY: C documents gmtime/localtime as not thread-safe; callers needing that use the _r forms.
unsafe impl Sync for StaticTm {}

static STATIC_TM: StaticTm = StaticTm(core::cell::UnsafeCell::new(Tm {
    tm_sec: 0,
    tm_min: 0,
    tm_hour: 0,
    tm_mday: 0,
    tm_mon: 0,
    tm_year: 0,
    tm_wday: 0,
    tm_yday: 0,
    tm_isdst: 0,
    tm_gmtoff: 0,
    tm_zone: core::ptr::null(),
}));

/// C `gmtime`.
///
/// # Safety
/// 1. `time` is readable; not called concurrently with itself or `localtime`.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub unsafe extern "C" fn gmtime(time: *const Time) -> *mut Tm {
    // SAFETY: obligation 1.
    unsafe { gmtime_r(time, STATIC_TM.0.get()) }
}

/// C `localtime_r`: UTC (Rivet has no time zones).
///
/// # Safety
/// 1. As `gmtime_r`.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub unsafe extern "C" fn localtime_r(time: *const Time, result: *mut Tm) -> *mut Tm {
    // SAFETY: obligation 1.
    unsafe { gmtime_r(time, result) }
}

/// C `localtime`: UTC.
///
/// # Safety
/// 1. As `gmtime`.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub unsafe extern "C" fn localtime(time: *const Time) -> *mut Tm {
    // SAFETY: obligation 1.
    unsafe { gmtime_r(time, STATIC_TM.0.get()) }
}

/// GNU `timegm`: normalises `*tm` and returns its `time_t`.
///
/// # Safety
/// 1. `tm` is readable and writable.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub unsafe extern "C" fn timegm(tm: *mut Tm) -> Time {
    assert!(!tm.is_null(), "timegm: NULL tm");
    // SAFETY: obligation 1.
    let fields = unsafe { &mut *tm };
    let seconds = seconds_of(fields);
    match broken_down(seconds) {
        Some(normalised) => {
            *fields = normalised;
            seconds
        }
        None => {
            errno::set(errno::EOVERFLOW);
            -1
        }
    }
}

/// C `mktime`: `timegm` (local time is UTC).
///
/// # Safety
/// 1. As `timegm`.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub unsafe extern "C" fn mktime(tm: *mut Tm) -> Time {
    // SAFETY: obligation 1.
    unsafe { timegm(tm) }
}
