//! strftime and wcsftime for the "C" locale, with glibc's flags, widths and quirks.

use super::calendar::{is_leap, seconds_of, Tm};
use crate::cstr;
use crate::locale::{LocaleObject, ABBREVIATED_DAYS, ABBREVIATED_MONTHS, DAYS, MONTHS};
use core::ffi::{c_char, c_int};

/// A bounded output buffer for strftime: remembers overflow instead of writing past the end.
pub(super) struct Output<'a> {
    pub(super) bytes: &'a mut [u8],
    pub(super) len: usize,
    pub(super) overflow: bool,
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
pub(super) fn format_time(out: &mut Output, format: &[u8], tm: &Tm) {
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
