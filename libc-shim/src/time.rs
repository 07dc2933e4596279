//! time.h's pure half: calendar arithmetic (UTC only), strftime and asctime.
//!
//! Rivet keeps time in UTC and has no time-zone database, so `localtime` is `gmtime`, `mktime`
//! is `timegm`, and `%Z` prints the `tm_zone` the structure carries ("GMT" from these
//! functions). Days ↔ civil dates use the proleptic Gregorian calendar over 64-bit days. Clocks
//! (`time`, `clock_gettime`) read the kernel and live in the os layer.

use crate::cstr;
use crate::errno;
use crate::locale::{LocaleObject, ABBREVIATED_DAYS, ABBREVIATED_MONTHS, DAYS, MONTHS};
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

fn is_leap(year: i64) -> bool {
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

/// A bounded output buffer for strftime: remembers overflow instead of writing past the end.
struct Output<'a> {
    bytes: &'a mut [u8],
    len: usize,
    overflow: bool,
}

impl Output<'_> {
    fn push(&mut self, byte: u8) {
        if self.len < self.bytes.len() {
            self.bytes[self.len] = byte;
            self.len += 1;
        } else {
            self.overflow = true;
        }
    }

    fn text(&mut self, text: &[u8], case: Case, width: usize, pad: u8) {
        for _ in text.len()..width {
            self.push(pad);
        }
        for &b in text {
            self.push(match case {
                Case::Upper => b.to_ascii_uppercase(),
                Case::Lower => b.to_ascii_lowercase(),
                Case::Keep | Case::Hash => b,
            });
        }
    }

    /// A number with at least `digits` digits padded by `pad` (glibc's flags adjust both).
    fn number(&mut self, value: i64, digits: usize, pad: u8, flags: &Flags) {
        let mut text = [0u8; 24];
        let mut at = text.len();
        let mut magnitude = value.unsigned_abs();
        loop {
            at -= 1;
            text[at] = b'0' + (magnitude % 10) as u8;
            magnitude /= 10;
            if magnitude == 0 {
                break;
            }
        }
        // '-' drops the minimum digits but still pads to a width, with spaces (glibc 2.36).
        let (pad, digits) = match flags.pad {
            Some(0) => (b' ', flags.width),
            Some(chosen) => (chosen, digits.max(flags.width)),
            None => (pad, digits.max(flags.width)),
        };
        let body_len = text.len() - at + usize::from(value < 0);
        if pad == b'0' && value < 0 {
            self.push(b'-');
        }
        for _ in body_len..digits {
            self.push(pad);
        }
        if pad != b'0' && value < 0 {
            self.push(b'-');
        }
        for &b in &text[at..] {
            self.push(b);
        }
    }
}

/// Case changes: `^` asks upper case; `#` (`Hash`) means upper case for names and lower case
/// for `%p` and `%Z`, as glibc does; `Lower` is `%P` and that resolution.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Case {
    Keep,
    Upper,
    Lower,
    Hash,
}

impl Case {
    /// What `#` means for a name conversion (upper case).
    fn for_name(self) -> Case {
        if self == Case::Hash {
            Case::Upper
        } else {
            self
        }
    }

    /// What `#` means for `%p` and `%Z` (lower case).
    fn for_marker(self) -> Case {
        if self == Case::Hash {
            Case::Lower
        } else {
            self
        }
    }
}

/// A conversion's glibc flags: `_` (space pad), `-` (no pad), `0` (zero pad), `^` (upper case),
/// `#` (swap case), and a width.
struct Flags {
    /// Some(0) for '-', Some(b' ') for '_', Some(b'0') for '0'.
    pad: Option<u8>,
    case: Case,
    width: usize,
}

/// ISO 8601 week-based year and week number of a broken-down time.
fn iso_week(tm: &Tm) -> (i64, i64) {
    let year = i64::from(tm.tm_year) + 1900;
    let yday = i64::from(tm.tm_yday);
    let wday = i64::from(tm.tm_wday);
    // Monday-based weekday 0..=6.
    let monday_based = (wday + 6) % 7;
    let week = (yday - monday_based + 10) / 7;
    if week < 1 {
        let previous = year - 1;
        let days_in_previous = if is_leap(previous) { 366 } else { 365 };
        let week = (yday + days_in_previous - monday_based + 10) / 7;
        return (previous, week);
    }
    let days_in_year = if is_leap(year) { 366 } else { 365 };
    if week == 53 && yday - monday_based + 3 >= days_in_year {
        return (year + 1, 1);
    }
    (year, week)
}

/// Formats `format` with `tm` into `out`, glibc's conversions for the "C" locale.
fn format_time(out: &mut Output, format: &[u8], tm: &Tm) {
    let mut at = 0;
    while at < format.len() {
        let byte = format[at];
        at += 1;
        if byte != b'%' {
            out.push(byte);
            continue;
        }
        let start = at - 1;
        let mut flags = Flags { pad: None, case: Case::Keep, width: 0 };
        while at < format.len() {
            match format[at] {
                b'_' => flags.pad = Some(b' '),
                b'-' => flags.pad = Some(0),
                b'0' => flags.pad = Some(b'0'),
                b'^' => flags.case = Case::Upper,
                b'#' => flags.case = Case::Hash,
                _ => break,
            }
            at += 1;
        }
        while at < format.len() && format[at].is_ascii_digit() {
            flags.width =
                flags.width.saturating_mul(10).saturating_add(usize::from(format[at] - b'0'));
            at += 1;
        }
        while at < format.len() && (format[at] == b'E' || format[at] == b'O') {
            at += 1;
        }
        let Some(&conversion) = format.get(at) else {
            // A lone '%' at the end is copied.
            for &b in &format[start..] {
                out.push(b);
            }
            break;
        };
        at += 1;
        let text_pad = if flags.pad == Some(b'0') { b'0' } else { b' ' };
        let year = i64::from(tm.tm_year) + 1900;
        let hour12 = match tm.tm_hour % 12 {
            0 => 12,
            h => h,
        };
        fn name(names: &[&'static core::ffi::CStr], index: c_int) -> &'static [u8] {
            usize::try_from(index).ok().and_then(|i| names.get(i)).map_or(b"?", |n| n.to_bytes())
        }
        match conversion {
            b'a' => out.text(
                name(&ABBREVIATED_DAYS, tm.tm_wday),
                flags.case.for_name(),
                flags.width,
                text_pad,
            ),
            b'A' => out.text(name(&DAYS, tm.tm_wday), flags.case.for_name(), flags.width, text_pad),
            b'b' | b'h' => out.text(
                name(&ABBREVIATED_MONTHS, tm.tm_mon),
                flags.case.for_name(),
                flags.width,
                text_pad,
            ),
            b'B' => {
                out.text(name(&MONTHS, tm.tm_mon), flags.case.for_name(), flags.width, text_pad)
            }
            b'p' | b'P' => {
                let text: &[u8] = if tm.tm_hour >= 12 { b"PM" } else { b"AM" };
                let case = if conversion == b'P' { Case::Lower } else { flags.case.for_marker() };
                out.text(text, case, flags.width, text_pad);
            }
            b'C' => out.number(year.div_euclid(100), 1, b'0', &flags),
            b'd' => out.number(tm.tm_mday.into(), 2, b'0', &flags),
            b'e' => out.number(tm.tm_mday.into(), 2, b' ', &flags),
            b'H' => out.number(tm.tm_hour.into(), 2, b'0', &flags),
            b'k' => out.number(tm.tm_hour.into(), 2, b' ', &flags),
            b'I' => out.number(hour12.into(), 2, b'0', &flags),
            b'l' => out.number(hour12.into(), 2, b' ', &flags),
            b'j' => out.number(i64::from(tm.tm_yday) + 1, 3, b'0', &flags),
            b'm' => out.number(i64::from(tm.tm_mon) + 1, 2, b'0', &flags),
            b'M' => out.number(tm.tm_min.into(), 2, b'0', &flags),
            b'S' => out.number(tm.tm_sec.into(), 2, b'0', &flags),
            b'u' => {
                out.number(if tm.tm_wday == 0 { 7 } else { tm.tm_wday.into() }, 1, b'0', &flags)
            }
            b'w' => out.number(tm.tm_wday.into(), 1, b'0', &flags),
            b'y' => out.number(year.rem_euclid(100), 2, b'0', &flags),
            b'Y' => out.number(year, 1, b'0', &flags),
            b'U' => {
                out.number((i64::from(tm.tm_yday) - i64::from(tm.tm_wday) + 7) / 7, 2, b'0', &flags)
            }
            b'W' => out.number(
                (i64::from(tm.tm_yday) - (i64::from(tm.tm_wday) + 6) % 7 + 7) / 7,
                2,
                b'0',
                &flags,
            ),
            b'V' => out.number(iso_week(tm).1, 2, b'0', &flags),
            b'G' => out.number(iso_week(tm).0, 1, b'0', &flags),
            b'g' => out.number(iso_week(tm).0.rem_euclid(100), 2, b'0', &flags),
            b's' => {
                // glibc pads %s as text: the sign stays with the digits, zeros go before it.
                let mut scratch = [0u8; 24];
                let mut inner = Output { bytes: &mut scratch, len: 0, overflow: false };
                inner.number(
                    seconds_of(tm),
                    1,
                    b'0',
                    &Flags { pad: None, case: Case::Keep, width: 0 },
                );
                let len = inner.len;
                out.text(&scratch[..len], Case::Keep, flags.width, text_pad);
            }
            b'n' => out.text(b"\n", Case::Keep, flags.width, text_pad),
            b't' => out.text(b"\t", Case::Keep, flags.width, text_pad),
            b'%' => out.text(b"%", Case::Keep, flags.width, text_pad),
            b'z' => {
                // glibc 2.36 pads the sign and the digits to the width separately (matched).
                let offset = tm.tm_gmtoff;
                let sign: &[u8] = if offset < 0 { b"-" } else { b"+" };
                out.text(sign, Case::Keep, flags.width, text_pad);
                let minutes = offset.unsigned_abs() / 60;
                let value = (minutes / 60 * 100 + minutes % 60) as i64;
                out.number(value, 4, b'0', &flags);
            }
            b'Z' => {
                let zone: &[u8] = if tm.tm_zone.is_null() {
                    b""
                } else {
                    // SAFETY: a non-NULL tm_zone is a string (struct tm's contract).
                    unsafe { cstr::bytes(tm.tm_zone, "strftime") }
                };
                out.text(zone, flags.case.for_marker(), flags.width, text_pad);
            }
            b'c' | b'D' | b'x' | b'F' | b'r' | b'R' | b'T' | b'X' => {
                let expansion: &[u8] = match conversion {
                    b'c' => b"%a %b %e %H:%M:%S %Y",
                    b'D' | b'x' => b"%m/%d/%y",
                    b'F' => b"%Y-%m-%d",
                    b'r' => b"%I:%M:%S %p",
                    b'R' => b"%H:%M",
                    _ => b"%H:%M:%S",
                };
                // A composite is formatted whole, then padded to the width like a name.
                let mut scratch = [0u8; 128];
                let mut inner = Output { bytes: &mut scratch, len: 0, overflow: false };
                format_time(&mut inner, expansion, tm);
                let len = inner.len;
                let case = if flags.case == Case::Hash { Case::Keep } else { flags.case };
                out.text(&scratch[..len], case, flags.width, text_pad);
            }
            _ => {
                // Unknown conversion: copied as written.
                for &b in &format[start..at] {
                    out.push(b);
                }
            }
        }
    }
}

/// The shared body of strftime: formats and NUL-terminates; 0 if it did not fit.
///
/// # Safety
/// 1. `buffer` writable for `size` bytes; `format` a string; `tm` readable.
unsafe fn strftime_into(
    buffer: *mut c_char,
    size: usize,
    format: *const c_char,
    tm: *const Tm,
) -> usize {
    assert!(!tm.is_null(), "strftime: NULL tm");
    // SAFETY: obligation 1.
    let (bytes, format, tm) = unsafe {
        (cstr::memory_mut(buffer.cast(), size, "strftime"), cstr::bytes(format, "strftime"), &*tm)
    };
    if bytes.is_empty() {
        return 0;
    }
    let room = bytes.len() - 1;
    let mut out = Output { bytes: &mut bytes[..room], len: 0, overflow: false };
    format_time(&mut out, format, tm);
    if out.overflow {
        return 0;
    }
    let len = out.len;
    bytes[len] = 0;
    len
}

/// C `strftime` ("C" locale).
///
/// # Safety
/// 1. `buffer` writable for `size` bytes; `format` a string; `tm` readable.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub unsafe extern "C" fn strftime(
    buffer: *mut c_char,
    size: usize,
    format: *const c_char,
    tm: *const Tm,
) -> usize {
    // SAFETY: obligation 1.
    unsafe { strftime_into(buffer, size, format, tm) }
}

/// POSIX `strftime_l`.
///
/// # Safety
/// 1. As `strftime`.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub unsafe extern "C" fn strftime_l(
    buffer: *mut c_char,
    size: usize,
    format: *const c_char,
    tm: *const Tm,
    _locale: *mut LocaleObject,
) -> usize {
    // SAFETY: obligation 1.
    unsafe { strftime_into(buffer, size, format, tm) }
}

/// glibc's `__strftime_l` (libstdc++'s time_put).
///
/// # Safety
/// 1. As `strftime`.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub unsafe extern "C" fn __strftime_l(
    buffer: *mut c_char,
    size: usize,
    format: *const c_char,
    tm: *const Tm,
    _locale: *mut LocaleObject,
) -> usize {
    // SAFETY: obligation 1.
    unsafe { strftime_into(buffer, size, format, tm) }
}

/// C `wcsftime`: strftime over a wide format (ASCII in "C"); 0 if a character is not ASCII or
/// the result does not fit.
///
/// # Safety
/// 1. `buffer` writable for `size` units; `format` a wide string; `tm` readable.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub unsafe extern "C" fn wcsftime(
    buffer: *mut u32,
    size: usize,
    format: *const u32,
    tm: *const Tm,
) -> usize {
    // SAFETY: obligation 1.
    let wide = unsafe { cstr::wide(format, "wcsftime") };
    let mut narrow_format = [0u8; 512];
    if wide.len() >= narrow_format.len() || wide.iter().any(|&u| u >= 0x80) {
        return 0;
    }
    for (to, &from) in narrow_format.iter_mut().zip(wide) {
        *to = from as u8;
    }
    let mut narrow = [0u8; 1024];
    // SAFETY: obligation 1 for `tm`; both buffers are local.
    let len = unsafe {
        strftime_into(
            narrow.as_mut_ptr().cast(),
            narrow.len().min(size),
            narrow_format.as_ptr().cast(),
            tm,
        )
    };
    if size == 0 || buffer.is_null() {
        return 0;
    }
    if len == 0 {
        // Empty or did not fit: either way 0, with an empty string.
        // SAFETY: obligation 1: `size` > 0.
        unsafe { *buffer = 0 };
        return 0;
    }
    for (i, &b) in narrow[..=len].iter().enumerate() {
        // SAFETY: obligation 1: `len + 1 <= size`.
        unsafe { *buffer.add(i) = u32::from(b) };
    }
    len
}

/// glibc's `__wcsftime_l`.
///
/// # Safety
/// 1. As `wcsftime`.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub unsafe extern "C" fn __wcsftime_l(
    buffer: *mut u32,
    size: usize,
    format: *const u32,
    tm: *const Tm,
    _locale: *mut LocaleObject,
) -> usize {
    // SAFETY: obligation 1.
    unsafe { wcsftime(buffer, size, format, tm) }
}

/// POSIX `wcsftime_l`.
///
/// # Safety
/// 1. As `wcsftime`.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub unsafe extern "C" fn wcsftime_l(
    buffer: *mut u32,
    size: usize,
    format: *const u32,
    tm: *const Tm,
    _locale: *mut LocaleObject,
) -> usize {
    // SAFETY: obligation 1.
    unsafe { wcsftime(buffer, size, format, tm) }
}

/// POSIX `asctime_r`: "Www Mmm dd hh:mm:ss yyyy\n" (at least 26 bytes of buffer).
///
/// # Safety
/// 1. `tm` readable; `buffer` writable for 26 bytes.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub unsafe extern "C" fn asctime_r(tm: *const Tm, buffer: *mut c_char) -> *mut c_char {
    assert!(!tm.is_null(), "asctime_r: NULL tm");
    // SAFETY: obligation 1.
    let (tm, bytes) = unsafe { (&*tm, cstr::memory_mut(buffer.cast(), 26, "asctime_r")) };
    if !(0..7).contains(&tm.tm_wday) || !(0..12).contains(&tm.tm_mon) || tm.tm_year > 9999 - 1900 {
        errno::set(errno::EOVERFLOW);
        return core::ptr::null_mut();
    }
    let mut out = Output { bytes: &mut bytes[..25], len: 0, overflow: false };
    format_time(&mut out, b"%a %b %e %H:%M:%S %Y\n", tm);
    let len = out.len;
    bytes[len] = 0;
    buffer
}

/// The static buffer of `asctime`/`ctime`.
struct StaticText(core::cell::UnsafeCell<[u8; 32]>);

// SAFETY: asctime/ctime are documented as not thread-safe.
unsafe impl Sync for StaticText {}

static ASCTIME_BUFFER: StaticText = StaticText(core::cell::UnsafeCell::new([0; 32]));

/// C `asctime`.
///
/// # Safety
/// 1. `tm` readable; not called concurrently.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub unsafe extern "C" fn asctime(tm: *const Tm) -> *mut c_char {
    // SAFETY: obligation 1.
    unsafe { asctime_r(tm, ASCTIME_BUFFER.0.get().cast()) }
}

/// POSIX `ctime_r`: `asctime_r(localtime_r(time))`.
///
/// # Safety
/// 1. `time` readable; `buffer` writable for 26 bytes.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub unsafe extern "C" fn ctime_r(time: *const Time, buffer: *mut c_char) -> *mut c_char {
    assert!(!time.is_null(), "ctime_r: NULL time");
    // SAFETY: obligation 1.
    match broken_down(unsafe { *time }) {
        // SAFETY: obligation 1.
        Some(tm) => unsafe { asctime_r(&tm, buffer) },
        None => {
            errno::set(errno::EOVERFLOW);
            core::ptr::null_mut()
        }
    }
}

/// C `ctime`.
///
/// # Safety
/// 1. `time` readable; not called concurrently.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub unsafe extern "C" fn ctime(time: *const Time) -> *mut c_char {
    // SAFETY: obligation 1.
    unsafe { ctime_r(time, ASCTIME_BUFFER.0.get().cast()) }
}
