//! strptime for the "C" locale: the inverse of strftime, as glibc reads it.
//!
//! Conversions: %a %A %b %B %h %c %C %d %e %D %F %H %k %I %l %j %m %M %n %t %p %r %R %S %T %u
//! %w %y %Y %z %Z %s %U %W %V %G %g %% with the E and O modifiers ignored. White space in the
//! format matches any amount (also none) in the input; numbers skip leading spaces and take at
//! most their width in digits; names match case-insensitively, full name first. Like glibc,
//! fields not in the input keep the caller's values, and once a date field was read the day of
//! the week and of the year are derived. Known gap: week numbers (%U %W %V) are read and range
//! checked but never used to derive a date (glibc does when %a/%w is also given). Deliberate
//! differences: day 366 of a common year gives December 31st (glibc reads past its month table)
//! and weekdays before 1 AD are proleptic Gregorian (glibc's formula truncates negative years).

use super::calendar::{broken_down, days_from_civil, Time, Tm};
use crate::cstr;
use crate::locale::{LocaleObject, ABBREVIATED_DAYS, ABBREVIATED_MONTHS, DAYS, MONTHS};
use core::ffi::{c_char, c_int, CStr};

/// What was read, for the derivations at the end.
#[derive(Default)]
struct Seen {
    have_wday: bool,
    have_yday: bool,
    have_mon: bool,
    have_mday: bool,
    want_xday: bool,
    have_i: bool,
    is_pm: bool,
    century: Option<i64>,
    want_century: bool,
}

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// Reads a number of at most `digits` digits in `low..=high`, after spaces.
fn number(input: &[u8], at: &mut usize, low: i64, high: i64, digits: usize) -> Option<i64> {
    while *at < input.len() && is_space(input[*at]) {
        *at += 1;
    }
    if !input.get(*at).is_some_and(u8::is_ascii_digit) {
        return None;
    }
    // Like glibc: stop early once another digit would pass `high` ("50829" with %y%m%d reads
    // 50, 8, 29).
    let mut value: i64 = 0;
    let mut taken = 0;
    loop {
        value = value * 10 + i64::from(input[*at] - b'0');
        *at += 1;
        taken += 1;
        let more =
            taken < digits && value * 10 <= high && input.get(*at).is_some_and(u8::is_ascii_digit);
        if !more {
            break;
        }
    }
    (low..=high).contains(&value).then_some(value)
}

/// Matches one of `names` (full or abbreviated) case-insensitively; returns its index.
fn name(input: &[u8], at: &mut usize, full: &[&CStr], short: &[&CStr]) -> Option<usize> {
    for list in [full, short] {
        for (index, candidate) in list.iter().enumerate() {
            let text = candidate.to_bytes();
            let end = *at + text.len();
            if end <= input.len() && input[*at..end].eq_ignore_ascii_case(text) {
                *at = end;
                return Some(index);
            }
        }
    }
    None
}

/// Parses `format` against `input` from `*at`, filling `tm`; false on a mismatch.
fn parse(input: &[u8], at: &mut usize, format: &[u8], tm: &mut Tm, seen: &mut Seen) -> bool {
    let mut f = 0;
    while f < format.len() {
        let byte = format[f];
        if is_space(byte) {
            while *at < input.len() && is_space(input[*at]) {
                *at += 1;
            }
            f += 1;
            continue;
        }
        if byte != b'%' {
            if input.get(*at) != Some(&byte) {
                return false;
            }
            *at += 1;
            f += 1;
            continue;
        }
        f += 1;
        while f < format.len() && (format[f] == b'E' || format[f] == b'O') {
            f += 1;
        }
        let Some(&conversion) = format.get(f) else { return false };
        f += 1;
        let ok = match conversion {
            b'%' => {
                let matched = input.get(*at) == Some(&b'%');
                *at += usize::from(matched);
                matched
            }
            b'a' | b'A' => name(input, at, &DAYS, &ABBREVIATED_DAYS)
                .map(|d| {
                    tm.tm_wday = d as c_int;
                    seen.have_wday = true;
                })
                .is_some(),
            b'b' | b'B' | b'h' => name(input, at, &MONTHS, &ABBREVIATED_MONTHS)
                .map(|m| {
                    tm.tm_mon = m as c_int;
                    seen.have_mon = true;
                    seen.want_xday = true;
                })
                .is_some(),
            b'c' => parse(input, at, b"%a %b %e %H:%M:%S %Y", tm, seen),
            b'D' => parse(input, at, b"%m/%d/%y", tm, seen),
            b'F' => parse(input, at, b"%Y-%m-%d", tm, seen),
            b'r' => parse(input, at, b"%I:%M:%S %p", tm, seen),
            b'R' => parse(input, at, b"%H:%M", tm, seen),
            b'T' => parse(input, at, b"%H:%M:%S", tm, seen),
            b'x' => parse(input, at, b"%m/%d/%y", tm, seen),
            b'X' => parse(input, at, b"%H:%M:%S", tm, seen),
            b'C' => number(input, at, 0, 99, 2)
                .map(|c| {
                    seen.century = Some(c);
                    seen.want_xday = true;
                })
                .is_some(),
            b'd' | b'e' => number(input, at, 1, 31, 2)
                .map(|d| {
                    tm.tm_mday = d as c_int;
                    seen.have_mday = true;
                    seen.want_xday = true;
                })
                .is_some(),
            b'H' | b'k' => number(input, at, 0, 23, 2)
                .map(|h| {
                    tm.tm_hour = h as c_int;
                    seen.have_i = false;
                })
                .is_some(),
            b'I' | b'l' => number(input, at, 1, 12, 2)
                .map(|h| {
                    tm.tm_hour = (h % 12) as c_int;
                    seen.have_i = true;
                })
                .is_some(),
            b'j' => number(input, at, 1, 366, 3)
                .map(|d| {
                    tm.tm_yday = (d - 1) as c_int;
                    seen.have_yday = true;
                })
                .is_some(),
            b'm' => number(input, at, 1, 12, 2)
                .map(|m| {
                    tm.tm_mon = (m - 1) as c_int;
                    seen.have_mon = true;
                    seen.want_xday = true;
                })
                .is_some(),
            b'M' => number(input, at, 0, 59, 2).map(|m| tm.tm_min = m as c_int).is_some(),
            b'S' => number(input, at, 0, 61, 2).map(|s| tm.tm_sec = s as c_int).is_some(),
            b'n' | b't' => {
                while *at < input.len() && is_space(input[*at]) {
                    *at += 1;
                }
                true
            }
            b'p' => {
                let rest = &input[*at..];
                if rest.len() >= 2 && rest[..2].eq_ignore_ascii_case(b"AM") {
                    seen.is_pm = false;
                    *at += 2;
                    true
                } else if rest.len() >= 2 && rest[..2].eq_ignore_ascii_case(b"PM") {
                    seen.is_pm = true;
                    *at += 2;
                    true
                } else {
                    false
                }
            }
            b'u' => number(input, at, 1, 7, 1)
                .map(|d| {
                    tm.tm_wday = (d % 7) as c_int;
                    seen.have_wday = true;
                })
                .is_some(),
            b'w' => number(input, at, 0, 6, 1)
                .map(|d| {
                    tm.tm_wday = d as c_int;
                    seen.have_wday = true;
                })
                .is_some(),
            b'U' | b'W' | b'V' => number(input, at, 0, 53, 2).is_some(),
            b'y' => number(input, at, 0, 99, 2)
                .map(|y| {
                    // 69..99 are 1969..1999, 0..68 are 2000..2068 (POSIX).
                    tm.tm_year = (if y >= 69 { y } else { y + 100 }) as c_int;
                    seen.want_century = true;
                    seen.want_xday = true;
                })
                .is_some(),
            b'Y' => number(input, at, 0, 9999, 4)
                .map(|y| {
                    tm.tm_year = (y - 1900) as c_int;
                    seen.want_century = false;
                    seen.want_xday = true;
                })
                .is_some(),
            b'G' => number(input, at, 0, 9999, 4).is_some(),
            b'g' => number(input, at, 0, 99, 2).is_some(),
            b's' => {
                // Seconds since the epoch: digits only (glibc takes no sign).
                let start = *at;
                let mut end = start;
                let mut value: Time = 0;
                while end < input.len() && input[end].is_ascii_digit() {
                    value = value.saturating_mul(10).saturating_add(Time::from(input[end] - b'0'));
                    end += 1;
                }
                match (end > start).then(|| broken_down(value)).flatten() {
                    Some(fields) => {
                        *tm = fields;
                        *at = end;
                        true
                    }
                    None => false,
                }
            }
            b'z' => zone_offset(input, at, tm),
            b'Z' => {
                // glibc reads the name and ignores it.
                while *at < input.len() && !is_space(input[*at]) {
                    *at += 1;
                }
                true
            }
            _ => false,
        };
        if !ok {
            return false;
        }
    }
    true
}

/// %z: "Z", or ±hh, ±hhmm, ±hh:mm (glibc accepts these; the offset goes to tm_gmtoff).
fn zone_offset(input: &[u8], at: &mut usize, tm: &mut Tm) -> bool {
    while *at < input.len() && input[*at] == b' ' {
        *at += 1;
    }
    if input.get(*at) == Some(&b'Z') {
        *at += 1;
        tm.tm_gmtoff = 0;
        return true;
    }
    let negative = match input.get(*at) {
        Some(b'+') => false,
        Some(b'-') => true,
        _ => return false,
    };
    let mut i = *at + 1;
    let mut digits = [0i64; 4];
    let mut count = 0;
    while count < 4 && i < input.len() {
        if input[i].is_ascii_digit() {
            digits[count] = i64::from(input[i] - b'0');
            count += 1;
            i += 1;
        } else if input[i] == b':' && count == 2 {
            i += 1;
        } else {
            break;
        }
    }
    let (hours, minutes) = match count {
        2 => (digits[0] * 10 + digits[1], 0),
        4 => (digits[0] * 10 + digits[1], digits[2] * 10 + digits[3]),
        _ => return false,
    };
    if minutes > 59 {
        return false;
    }
    let seconds = (hours * 60 + minutes) * 60;
    tm.tm_gmtoff = if negative { -seconds } else { seconds };
    *at = i;
    true
}

/// The derivations glibc applies after a successful parse.
fn finish(tm: &mut Tm, seen: &Seen) {
    if seen.have_i && seen.is_pm {
        tm.tm_hour += 12;
    }
    if let Some(century) = seen.century {
        let year = if seen.want_century { i64::from(tm.tm_year) % 100 } else { 0 };
        tm.tm_year = ((century - 19) * 100 + year) as c_int;
    }
    let year = i64::from(tm.tm_year) + 1900;
    if seen.want_xday && !seen.have_wday {
        if !(seen.have_mon && seen.have_mday) && seen.have_yday {
            // Month and day from the day of the year.
            let day = days_from_civil(year, 1, 1) + i64::from(tm.tm_yday);
            if let Some(fields) = broken_down(day * 86_400) {
                tm.tm_mon = fields.tm_mon;
                tm.tm_mday = fields.tm_mday;
            }
        }
        if tm.tm_year >= -1900 {
            let day = days_from_civil(year, i64::from(tm.tm_mon) + 1, i64::from(tm.tm_mday));
            tm.tm_wday = (day + 4).rem_euclid(7) as c_int;
        }
    }
    if seen.want_xday && !seen.have_yday && (seen.have_mon || (0..12).contains(&tm.tm_mon)) {
        let day = days_from_civil(year, i64::from(tm.tm_mon) + 1, i64::from(tm.tm_mday));
        tm.tm_yday = (day - days_from_civil(year, 1, 1)) as c_int;
    }
}

/// POSIX `strptime`: parses `input` per `format` into `*tm`; returns the first byte not read,
/// or NULL when the input does not match.
///
/// # Safety
/// 1. `input` and `format` are strings; `tm` is readable and writable.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub unsafe extern "C" fn strptime(
    input: *const c_char,
    format: *const c_char,
    tm: *mut Tm,
) -> *mut c_char {
    assert!(!tm.is_null(), "strptime: NULL tm");
    // SAFETY: obligation 1.
    let (text, format, tm) =
        unsafe { (cstr::bytes(input, "strptime"), cstr::bytes(format, "strptime"), &mut *tm) };
    let mut at = 0;
    let mut seen = Seen::default();
    if !parse(text, &mut at, format, tm, &mut seen) {
        return core::ptr::null_mut();
    }
    finish(tm, &seen);
    input.wrapping_add(at).cast_mut()
}

/// glibc's `strptime_l`.
///
/// # Safety
/// 1. As `strptime`.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub unsafe extern "C" fn strptime_l(
    input: *const c_char,
    format: *const c_char,
    tm: *mut Tm,
    _locale: *mut LocaleObject,
) -> *mut c_char {
    // SAFETY: obligation 1.
    unsafe { strptime(input, format, tm) }
}
