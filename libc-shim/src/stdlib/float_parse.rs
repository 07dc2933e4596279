//! strtod and strtof: C's floating-point syntax (C11 7.22.1.3), correctly rounded.
//!
//! The scanner finds the longest valid prefix (decimal, hexadecimal, `inf`/`infinity`, `nan`,
//! `nan(chars)`); decimal text is converted by `core`'s correctly rounded parser, hexadecimal by
//! an exact binary composition here. Results travel to C as IEEE bits (see README: no floats
//! cross the Rust↔C boundary), wrapped by `csrc/floats.c`.

use super::integer_parse::{digit_value, is_space};
use crate::cstr;
use crate::errno;
use core::ffi::c_char;

/// An IEEE binary format's parameters.
#[derive(Clone, Copy)]
pub struct Format {
    /// Significand bits including the implicit one (53 or 24).
    pub precision: u32,
    /// The smallest normal exponent (-1022 or -126).
    pub min_exponent: i64,
    /// The largest exponent (1023 or 127).
    pub max_exponent: i64,
}

/// binary64.
pub const DOUBLE: Format = Format { precision: 53, min_exponent: -1022, max_exponent: 1023 };
/// binary32.
pub const SINGLE: Format = Format { precision: 24, min_exponent: -126, max_exponent: 127 };

/// A parse's outcome: the value's bits (in the low bits for binary32), bytes consumed (0 when
/// no number was found) and whether it over- or underflowed (ERANGE).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Parsed {
    /// IEEE bits of the result.
    pub bits: u64,
    /// Bytes consumed.
    pub end: usize,
    /// The result over- or underflowed.
    pub range_error: bool,
}

impl Format {
    fn sign_bit(self) -> u64 {
        1 << (self.precision - 1 + self.exponent_bits())
    }

    fn exponent_bits(self) -> u32 {
        if self.precision == 53 {
            11
        } else {
            8
        }
    }

    fn infinity(self) -> u64 {
        ((1u64 << self.exponent_bits()) - 1) << (self.precision - 1)
    }

    fn quiet_nan(self) -> u64 {
        self.infinity() | 1 << (self.precision - 2)
    }

    fn min_positive_normal(self) -> u64 {
        1 << (self.precision - 1)
    }
}

/// Rounds `mantissa` × 2^`exponent` (plus a sticky "something nonzero below") to `format`,
/// half to even. Returns the bits and whether the result over- or underflowed inexactly.
pub fn compose(format: Format, mantissa: u64, exponent: i64, sticky: bool) -> (u64, bool) {
    if mantissa == 0 {
        return (0, false);
    }
    let top = 63 - i64::from(mantissa.leading_zeros());
    let magnitude = top + exponent; // value in [2^magnitude, 2^(magnitude+1))
    if magnitude > format.max_exponent {
        return (format.infinity(), true);
    }
    let precision = i64::from(format.precision);
    // Bits kept: all of them for normal numbers, fewer below the normal range.
    let kept = if magnitude >= format.min_exponent {
        precision
    } else {
        precision - (format.min_exponent - magnitude)
    };
    let drop = top + 1 - kept;
    let (rounded, inexact) = if drop <= 0 {
        (u128::from(mantissa) << (-drop) as u32, sticky)
    } else if drop > 64 {
        (0, true)
    } else {
        let drop = drop as u32;
        let wide = u128::from(mantissa);
        let kept_bits = wide >> drop;
        let rest = wide & ((1u128 << drop) - 1);
        let half = 1u128 << (drop - 1);
        let up = rest > half || (rest == half && (sticky || kept_bits & 1 == 1));
        (kept_bits + u128::from(up), rest != 0 || sticky)
    };
    let tiny = magnitude < format.min_exponent;
    let bits = if tiny {
        // Subnormal: exponent field 0; a carry to 2^(p-1) makes it the smallest normal.
        rounded as u64
    } else {
        // `rounded` is in [2^(p-1), 2^p]; adding lets a carry bump the exponent field.
        let field = (magnitude - format.min_exponent) as u64; // biased exponent - 1
        (field << (format.precision - 1)) + rounded as u64
    };
    if bits >= format.infinity() {
        return (format.infinity(), true);
    }
    (bits, tiny && inexact)
}

/// Matches `word` case-insensitively at the start of `text`.
fn starts_with_caseless(text: &[u8], word: &[u8]) -> bool {
    text.len() >= word.len() && text.iter().zip(word).all(|(a, b)| a.to_ascii_lowercase() == *b)
}

/// Parses the longest floating-point prefix of `text` into `format`.
pub fn parse(text: &[u8], format: Format) -> Parsed {
    let mut at = 0;
    while at < text.len() && is_space(text[at]) {
        at += 1;
    }
    let mut sign = 0;
    if at < text.len() && (text[at] == b'+' || text[at] == b'-') {
        if text[at] == b'-' {
            sign = format.sign_bit();
        }
        at += 1;
    }
    let rest = &text[at..];
    let none = Parsed { bits: 0, end: 0, range_error: false };
    if starts_with_caseless(rest, b"inf") {
        let len = if starts_with_caseless(rest, b"infinity") { 8 } else { 3 };
        return Parsed { bits: sign | format.infinity(), end: at + len, range_error: false };
    }
    if starts_with_caseless(rest, b"nan") {
        let mut end = at + 3;
        let mut bits = format.quiet_nan();
        if text.get(end) == Some(&b'(') {
            let chars = text[end + 1..]
                .iter()
                .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_')
                .count();
            if text.get(end + 1 + chars) == Some(&b')') {
                let inner = &text[end + 1..end + 1 + chars];
                let payload = super::integer_parse::parse(inner, 0, false);
                if payload.end == inner.len() && payload.error.is_none() {
                    bits |= payload.value & ((1 << (format.precision - 2)) - 1);
                }
                end += chars + 2;
            }
        }
        return Parsed { bits: sign | bits, end, range_error: false };
    }
    if rest.len() >= 2 && rest[0] == b'0' && (rest[1] | 0x20) == b'x' {
        if let Some(parsed) = parse_hex(&rest[2..], format) {
            return Parsed {
                bits: sign | parsed.bits,
                end: at + 2 + parsed.end,
                range_error: parsed.range_error,
            };
        }
        // "0x" without digits: the "0".
        return Parsed { bits: sign, end: at + 1, range_error: false };
    }
    match parse_decimal(rest, format) {
        Some(parsed) => Parsed {
            bits: sign | parsed.bits,
            end: at + parsed.end,
            range_error: parsed.range_error,
        },
        None => none,
    }
}

/// Decimal digits with an optional point and exponent, converted by `core`.
fn parse_decimal(text: &[u8], format: Format) -> Option<Parsed> {
    let mut at = 0;
    let mut digits = 0;
    let mut nonzero = false;
    while at < text.len() && text[at].is_ascii_digit() {
        nonzero |= text[at] != b'0';
        at += 1;
        digits += 1;
    }
    if at < text.len() && text[at] == b'.' {
        at += 1;
        while at < text.len() && text[at].is_ascii_digit() {
            nonzero |= text[at] != b'0';
            at += 1;
            digits += 1;
        }
    }
    if digits == 0 {
        return None;
    }
    if at < text.len() && (text[at] | 0x20) == b'e' {
        let mut exp = at + 1;
        if exp < text.len() && (text[exp] == b'+' || text[exp] == b'-') {
            exp += 1;
        }
        if exp < text.len() && text[exp].is_ascii_digit() {
            while exp < text.len() && text[exp].is_ascii_digit() {
                exp += 1;
            }
            at = exp;
        }
    }
    // The text is digits, an optional point and an optional exponent with at least one digit
    // somewhere: all within Rust's grammar, which is correctly rounded for any length.
    let number = core::str::from_utf8(&text[..at]).ok()?;
    let bits = if format.precision == 53 {
        number.parse::<f64>().ok()?.to_bits()
    } else {
        u64::from(number.parse::<f32>().ok()?.to_bits())
    };
    let magnitude = bits;
    let range_error =
        magnitude == format.infinity() || (nonzero && magnitude < format.min_positive_normal());
    Some(Parsed { bits, end: at, range_error })
}

/// Hex digits (after "0x") with an optional point and binary exponent; None without digits.
fn parse_hex(text: &[u8], format: Format) -> Option<Parsed> {
    let mut at = 0;
    let mut mantissa: u64 = 0;
    let mut exponent: i64 = 0;
    let mut sticky = false;
    let mut digits = 0;
    let mut seen_point = false;
    while let Some(&byte) = text.get(at) {
        if byte == b'.' && !seen_point {
            seen_point = true;
            at += 1;
            continue;
        }
        let Some(digit) = digit_value(byte).filter(|&d| d < 16) else { break };
        digits += 1;
        if mantissa >> 60 == 0 {
            mantissa = mantissa << 4 | u64::from(digit);
            if seen_point {
                exponent -= 4;
            }
        } else {
            sticky |= digit != 0;
            if !seen_point {
                exponent += 4;
            }
        }
        at += 1;
    }
    if digits == 0 {
        return None;
    }
    if at < text.len() && (text[at] | 0x20) == b'p' {
        let mut exp = at + 1;
        let mut negative = false;
        if exp < text.len() && (text[exp] == b'+' || text[exp] == b'-') {
            negative = text[exp] == b'-';
            exp += 1;
        }
        if exp < text.len() && text[exp].is_ascii_digit() {
            let mut value: i64 = 0;
            while exp < text.len() && text[exp].is_ascii_digit() {
                value = (value * 10 + i64::from(text[exp] - b'0')).min(1 << 40);
                exp += 1;
            }
            exponent += if negative { -value } else { value };
            at = exp;
        }
    }
    let (bits, range_error) = compose(format, mantissa, exponent, sticky);
    let range_error = if bits == format.infinity() {
        range_error
    } else {
        glibc_hex_underflow(format, mantissa, exponent, sticky)
    };
    Some(Parsed { bits, end: at, range_error })
}

/// Whether glibc reports ERANGE for a hexadecimal value below the normal range. The rounding
/// is exact either way; glibc's flag (matched here, measured on glibc 2.36) looks at every bit
/// the shift into the subnormal range discards and at the bits beyond the normal precision's
/// rounding bit — but not at that rounding bit itself: so "0x1.000001p-130" rounds inexactly to
/// 0x1p-130 without ERANGE.
fn glibc_hex_underflow(format: Format, mantissa: u64, exponent: i64, sticky: bool) -> bool {
    if mantissa == 0 {
        return false;
    }
    let top = 63 - i64::from(mantissa.leading_zeros());
    let magnitude = top + exponent;
    if magnitude >= format.min_exponent {
        return false;
    }
    let precision = i64::from(format.precision);
    // The normal-precision significand, its rounding bit and whether anything is below that.
    let (normal, beyond) = if top + 1 > precision + 1 {
        let below_round = (top - precision) as u32; // bits under the rounding bit
        (mantissa >> (below_round + 1), sticky || mantissa & ((1u64 << below_round) - 1) != 0)
    } else if top + 1 > precision {
        (mantissa >> 1, sticky)
    } else {
        (mantissa << (precision - top - 1) as u32, sticky)
    };
    let shift = format.min_exponent - magnitude;
    if shift > precision {
        return true;
    }
    let round = (normal >> (shift - 1) as u32) & 1 == 1;
    let under_round = normal & ((1u64 << (shift - 1) as u32) - 1) != 0;
    round || under_round || beyond
}

/// The C entry behind strtod/strtof: parses, stores the end, sets errno; returns the bits.
///
/// # Safety
/// 1. `text` is a string; `end` is NULL or writable.
unsafe fn parse_c(text: *const c_char, end: *mut *mut c_char, format: Format) -> u64 {
    // SAFETY: obligation 1.
    let bytes = unsafe { cstr::bytes(text, "strtod") };
    let parsed = parse(bytes, format);
    if parsed.range_error {
        errno::set(errno::ERANGE);
    }
    if !end.is_null() {
        // SAFETY: obligation 1.
        unsafe { *end = text.wrapping_add(parsed.end).cast_mut() };
    }
    parsed.bits
}

/// `strtod` as IEEE bits, for the C wrapper in `csrc/floats.c`.
///
/// # Safety
/// 1. `text` is a string; `end` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn __rivet_strtod_bits(text: *const c_char, end: *mut *mut c_char) -> u64 {
    // SAFETY: obligation 1.
    unsafe { parse_c(text, end, DOUBLE) }
}

/// `strtof` as IEEE bits, for the C wrapper in `csrc/floats.c`.
///
/// # Safety
/// 1. `text` is a string; `end` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn __rivet_strtof_bits(text: *const c_char, end: *mut *mut c_char) -> u32 {
    // SAFETY: obligation 1.
    unsafe { parse_c(text, end, SINGLE) as u32 }
}
