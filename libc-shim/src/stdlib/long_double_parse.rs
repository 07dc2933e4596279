//! strtold: C's floating-point syntax into x86_64's 80-bit extended or IEEE binary128 format.
//!
//! `core` parses only `f32` and `f64`, so decimal text is converted here exactly with a small
//! binary big integer: D × 10^P is either multiplied out (P ≥ 0) or divided by 10^-P to 128
//! quotient bits with the remainder as a sticky bit, then rounded once, half to even. Hex text
//! is composed directly. The result travels to C as the format's bytes in a `u128` (see README:
//! no floats cross Rust↔C); `csrc/floats.c` turns it into a `long double`.
//!
//! Known limit: decimal digits past the first 800 significant ones only count as "something
//! non-zero below" (a sticky bit), which decides every case except a halfway point that itself
//! needs more than 800 digits (possible only deep in the subnormal range).

use super::integer_parse::{digit_value, is_space};
use crate::cstr;
use crate::errno;
use core::ffi::c_char;

/// A `long double` format.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum LongFormat {
    /// x87 extended precision: 64-bit significand with an explicit integer bit.
    Extended,
    /// IEEE binary128: 113-bit significand, implicit integer bit.
    Quad,
}

impl LongFormat {
    fn precision(self) -> i64 {
        match self {
            LongFormat::Extended => 64,
            LongFormat::Quad => 113,
        }
    }

    /// Encodes sign, biased exponent (0 for subnormals, 0x7fff for inf/NaN) and significand
    /// (including the integer bit, which Quad drops and Extended keeps).
    fn encode(self, negative: bool, biased: u128, significand: u128) -> u128 {
        match self {
            LongFormat::Extended => {
                (u128::from(negative) << 79) | (biased << 64) | (significand & u128::from(u64::MAX))
            }
            LongFormat::Quad => {
                (u128::from(negative) << 127) | (biased << 112) | (significand & ((1 << 112) - 1))
            }
        }
    }

    fn infinity(self, negative: bool) -> u128 {
        match self {
            LongFormat::Extended => self.encode(negative, 0x7fff, 1 << 63),
            LongFormat::Quad => self.encode(negative, 0x7fff, 0),
        }
    }

    fn nan(self, negative: bool) -> u128 {
        match self {
            LongFormat::Extended => self.encode(negative, 0x7fff, 3 << 62),
            LongFormat::Quad => self.encode(negative, 0x7fff, 1 << 111),
        }
    }
}

/// The smallest normal exponent and the largest exponent, shared by both formats.
const MIN_EXPONENT: i64 = -16382;
const MAX_EXPONENT: i64 = 16383;

/// A parse's outcome: the format's bytes as a little-endian `u128`, bytes consumed and ERANGE.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParsedLong {
    /// The value's encoding.
    pub bits: u128,
    /// Bytes consumed (0: no number).
    pub end: usize,
    /// Over- or underflow.
    pub range_error: bool,
}

/// Rounds `mantissa` × 2^`exponent` (+ sticky) to the format; returns the encoding and whether
/// it over- or underflowed (a tiny inexact result, or infinity).
fn compose(
    format: LongFormat,
    negative: bool,
    mantissa: u128,
    exponent: i64,
    sticky: bool,
) -> (u128, bool) {
    if mantissa == 0 {
        return (format.encode(negative, 0, 0), false);
    }
    let top = 127 - i64::from(mantissa.leading_zeros());
    let magnitude = top + exponent;
    if magnitude > MAX_EXPONENT {
        return (format.infinity(negative), true);
    }
    let precision = format.precision();
    let kept =
        if magnitude >= MIN_EXPONENT { precision } else { precision - (MIN_EXPONENT - magnitude) };
    let drop = top + 1 - kept;
    let (rounded, inexact) = if drop <= 0 {
        (mantissa << (-drop) as u32, sticky)
    } else if drop > 128 {
        (0, true)
    } else if drop == 128 {
        let half = 1u128 << 127;
        let up = mantissa > half || (mantissa == half && sticky);
        (u128::from(up), true)
    } else {
        let drop = drop as u32;
        let kept_bits = mantissa >> drop;
        let rest = mantissa & ((1u128 << drop) - 1);
        let half = 1u128 << (drop - 1);
        let up = rest > half || (rest == half && (sticky || kept_bits & 1 == 1));
        (kept_bits + u128::from(up), rest != 0 || sticky)
    };
    let tiny = magnitude < MIN_EXPONENT;
    // `rounded` has `kept` bits, or one more after a carry.
    let (biased, significand) = if tiny {
        // Subnormal: exponent field 0 unless the carry reached the normal range.
        if rounded >> (precision - 1) != 0 {
            (1u128, rounded)
        } else {
            (0u128, rounded)
        }
    } else if rounded >> precision != 0 {
        ((magnitude - MIN_EXPONENT + 2) as u128, rounded >> 1)
    } else {
        ((magnitude - MIN_EXPONENT + 1) as u128, rounded)
    };
    if biased >= 0x7fff {
        return (format.infinity(negative), true);
    }
    (format.encode(negative, biased, significand), tiny && inexact)
}

/// Limbs of the big integers: enough for 800 digits times 10^5000 or divided by 10^5900.
const LIMBS: usize = 720;

/// A non-negative integer in base 2^32, least significant limb first.
struct Big {
    limbs: [u32; LIMBS],
    len: usize,
}

impl Big {
    fn zero() -> Big {
        Big { limbs: [0; LIMBS], len: 0 }
    }

    fn trim(&mut self) {
        while self.len > 0 && self.limbs[self.len - 1] == 0 {
            self.len -= 1;
        }
    }

    fn mul_add(&mut self, factor: u32, add: u32) {
        let mut carry = u64::from(add);
        for limb in &mut self.limbs[..self.len] {
            let product = u64::from(*limb) * u64::from(factor) + carry;
            *limb = product as u32;
            carry = product >> 32;
        }
        if carry != 0 {
            self.limbs[self.len] = carry as u32;
            self.len += 1;
        }
    }

    fn bits(&self) -> i64 {
        if self.len == 0 {
            0
        } else {
            (self.len as i64 - 1) * 32 + 32 - i64::from(self.limbs[self.len - 1].leading_zeros())
        }
    }

    fn shl(&mut self, shift: u32) {
        let words = (shift / 32) as usize;
        let bits = shift % 32;
        if self.len == 0 {
            return;
        }
        let mut result = [0u32; LIMBS];
        for i in 0..self.len {
            let value = u64::from(self.limbs[i]) << bits;
            result[i + words] |= value as u32;
            if value >> 32 != 0 {
                result[i + words + 1] |= (value >> 32) as u32;
            }
        }
        self.limbs = result;
        self.len += words + 1;
        self.trim();
    }

    fn shr1(&mut self) {
        for i in 0..self.len {
            let high = if i + 1 < self.len { self.limbs[i + 1] & 1 } else { 0 };
            self.limbs[i] = (self.limbs[i] >> 1) | (high << 31);
        }
        self.trim();
    }

    fn at_least(&self, other: &Big) -> bool {
        if self.len != other.len {
            return self.len > other.len;
        }
        for i in (0..self.len).rev() {
            if self.limbs[i] != other.limbs[i] {
                return self.limbs[i] > other.limbs[i];
            }
        }
        true
    }

    fn sub(&mut self, other: &Big) {
        let mut borrow = 0i64;
        for i in 0..self.len {
            let mut value = i64::from(self.limbs[i])
                - borrow
                - i64::from(if i < other.len { other.limbs[i] } else { 0 });
            borrow = 0;
            if value < 0 {
                value += 1 << 32;
                borrow = 1;
            }
            self.limbs[i] = value as u32;
        }
        self.trim();
    }

    /// The top 128 bits and whether anything below them is non-zero.
    fn top128(&self) -> (u128, i64, bool) {
        let bits = self.bits();
        let shift = (bits - 128).max(0);
        let mut value = 0u128;
        let mut sticky = false;
        for i in (0..self.len).rev() {
            for b in (0..32).rev() {
                let position = i as i64 * 32 + b;
                let bit = (self.limbs[i] >> b) & 1 == 1;
                if position >= shift {
                    value = value << 1 | u128::from(bit);
                } else if bit {
                    sticky = true;
                }
            }
        }
        (value, shift, sticky)
    }
}

/// The most significant digits kept exactly; later non-zero digits become a sticky bit.
const MAX_DIGITS: usize = 800;

/// Decimal text (after the sign) to (mantissa, exponent, sticky): value ≈ mantissa × 2^exponent.
fn decimal_value(
    digits: &[u8],
    decimal_exponent: i64,
    sticky_digits: bool,
) -> Option<(u128, i64, bool)> {
    let mut number = Big::zero();
    for chunk in digits.chunks(9) {
        let mut value = 0u32;
        let mut scale = 1u32;
        for &d in chunk {
            value = value * 10 + u32::from(d - b'0');
            scale *= 10;
        }
        number.mul_add(scale, value);
    }
    if number.len == 0 {
        return Some((0, 0, false));
    }
    if decimal_exponent >= 0 {
        if decimal_exponent > 5000 {
            return None; // certainly beyond the largest long double
        }
        let mut left = decimal_exponent;
        while left >= 9 {
            number.mul_add(1_000_000_000, 0);
            left -= 9;
        }
        number.mul_add(10u32.pow(left as u32), 0);
        let (mantissa, shift, sticky) = number.top128();
        return Some((mantissa, shift, sticky || sticky_digits));
    }
    let q = -decimal_exponent;
    if q - digits.len() as i64 > 4960 {
        return Some((0, 0, true)); // below half the smallest subnormal
    }
    let mut divisor = Big::zero();
    divisor.limbs[0] = 1;
    divisor.len = 1;
    let mut left = q;
    while left >= 9 {
        divisor.mul_add(1_000_000_000, 0);
        left -= 9;
    }
    divisor.mul_add(10u32.pow(left as u32), 0);
    // Scale so the quotient has 127 or 128 bits.
    let s = 127 + divisor.bits() - number.bits();
    if s >= 0 {
        number.shl(s as u32);
    } else {
        divisor.shl((-s) as u32);
    }
    let quotient_bits = number.bits() - divisor.bits() + 1;
    let mut quotient = 0u128;
    if quotient_bits > 0 {
        divisor.shl((quotient_bits - 1) as u32);
        for _ in 0..quotient_bits {
            quotient <<= 1;
            if number.at_least(&divisor) {
                number.sub(&divisor);
                quotient |= 1;
            }
            divisor.shr1();
        }
    }
    Some((quotient, -s, number.len != 0 || sticky_digits))
}

fn starts_with_caseless(text: &[u8], word: &[u8]) -> bool {
    text.len() >= word.len() && text.iter().zip(word).all(|(a, b)| a.to_ascii_lowercase() == *b)
}

/// Parses the longest floating-point prefix of `text` into `format`.
pub fn parse(text: &[u8], format: LongFormat) -> ParsedLong {
    let mut at = 0;
    while at < text.len() && is_space(text[at]) {
        at += 1;
    }
    let mut negative = false;
    if at < text.len() && (text[at] == b'+' || text[at] == b'-') {
        negative = text[at] == b'-';
        at += 1;
    }
    let rest = &text[at..];
    if starts_with_caseless(rest, b"inf") {
        let len = if starts_with_caseless(rest, b"infinity") { 8 } else { 3 };
        return ParsedLong { bits: format.infinity(negative), end: at + len, range_error: false };
    }
    if starts_with_caseless(rest, b"nan") {
        let mut end = at + 3;
        if text.get(end) == Some(&b'(') {
            let chars = text[end + 1..]
                .iter()
                .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_')
                .count();
            if text.get(end + 1 + chars) == Some(&b')') {
                end += chars + 2;
            }
        }
        return ParsedLong { bits: format.nan(negative), end, range_error: false };
    }
    if rest.len() >= 2 && rest[0] == b'0' && (rest[1] | 0x20) == b'x' {
        if let Some((mantissa, exponent, sticky, used)) = scan_hex(&rest[2..]) {
            let (bits, range_error) = compose(format, negative, mantissa, exponent, sticky);
            return ParsedLong { bits, end: at + 2 + used, range_error };
        }
        return ParsedLong { bits: format.encode(negative, 0, 0), end: at + 1, range_error: false };
    }
    // Decimal: collect significant digits, the point's position and the exponent.
    let mut digits = [0u8; MAX_DIGITS];
    let mut count = 0;
    let mut sticky = false;
    let mut seen = 0;
    let mut exponent_adjust: i64 = 0;
    let mut i = 0;
    let mut point = false;
    while i < rest.len() {
        let b = rest[i];
        if b == b'.' && !point {
            point = true;
        } else if b.is_ascii_digit() {
            seen += 1;
            if count == 0 && b == b'0' {
                if point {
                    exponent_adjust -= 1;
                }
            } else if count < MAX_DIGITS {
                digits[count] = b;
                count += 1;
                if point {
                    exponent_adjust -= 1;
                }
            } else {
                sticky |= b != b'0';
                if !point {
                    exponent_adjust += 1;
                }
            }
        } else {
            break;
        }
        i += 1;
    }
    if seen == 0 {
        return ParsedLong { bits: 0, end: 0, range_error: false };
    }
    let mut end = i;
    let mut exponent: i64 = 0;
    if end < rest.len() && (rest[end] | 0x20) == b'e' {
        let mut e = end + 1;
        let mut exponent_negative = false;
        if e < rest.len() && (rest[e] == b'+' || rest[e] == b'-') {
            exponent_negative = rest[e] == b'-';
            e += 1;
        }
        if e < rest.len() && rest[e].is_ascii_digit() {
            while e < rest.len() && rest[e].is_ascii_digit() {
                exponent = (exponent * 10 + i64::from(rest[e] - b'0')).min(1 << 40);
                e += 1;
            }
            if exponent_negative {
                exponent = -exponent;
            }
            end = e;
        }
    }
    let nonzero = count > 0;
    let (bits, range_error) =
        match decimal_value(&digits[..count], exponent + exponent_adjust, sticky) {
            None => (format.infinity(negative), true),
            Some((mantissa, binary_exponent, sticky)) => {
                if mantissa == 0 {
                    (format.encode(negative, 0, 0), nonzero)
                } else {
                    let (bits, range) =
                        compose(format, negative, mantissa, binary_exponent, sticky);
                    // glibc reports ERANGE for every tiny decimal result (none is exact in practice).
                    let magnitude = 127 - i64::from(mantissa.leading_zeros()) + binary_exponent;
                    (bits, range || magnitude < MIN_EXPONENT)
                }
            }
        };
    ParsedLong { bits, end: at + end, range_error }
}

/// Hex digits after "0x": (mantissa, binary exponent, sticky, bytes used), None without digits.
fn scan_hex(text: &[u8]) -> Option<(u128, i64, bool, usize)> {
    let mut at = 0;
    let mut mantissa: u128 = 0;
    let mut exponent: i64 = 0;
    let mut sticky = false;
    let mut digits = 0;
    let mut point = false;
    while let Some(&byte) = text.get(at) {
        if byte == b'.' && !point {
            point = true;
            at += 1;
            continue;
        }
        let Some(digit) = digit_value(byte).filter(|&d| d < 16) else { break };
        digits += 1;
        if mantissa >> 124 == 0 {
            mantissa = mantissa << 4 | u128::from(digit);
            if point {
                exponent -= 4;
            }
        } else {
            sticky |= digit != 0;
            if !point {
                exponent += 4;
            }
        }
        at += 1;
    }
    if digits == 0 {
        return None;
    }
    if at < text.len() && (text[at] | 0x20) == b'p' {
        let mut e = at + 1;
        let mut negative = false;
        if e < text.len() && (text[e] == b'+' || text[e] == b'-') {
            negative = text[e] == b'-';
            e += 1;
        }
        if e < text.len() && text[e].is_ascii_digit() {
            let mut value: i64 = 0;
            while e < text.len() && text[e].is_ascii_digit() {
                value = (value * 10 + i64::from(text[e] - b'0')).min(1 << 40);
                e += 1;
            }
            exponent += if negative { -value } else { value };
            at = e;
        }
    }
    Some((mantissa, exponent, sticky, at))
}

/// `strtold` for the C wrapper: stores the encoding's 16 bytes at `result`.
///
/// # Safety
/// 1. `text` is a string; `end` is NULL or writable; `result` is writable for 16 bytes.
#[no_mangle]
pub unsafe extern "C" fn __rivet_strtold_bytes(
    text: *const c_char,
    end: *mut *mut c_char,
    quad: core::ffi::c_int,
    result: *mut u8,
) {
    // SAFETY: obligation 1.
    let bytes = unsafe { cstr::bytes(text, "strtold") };
    let format = if quad != 0 { LongFormat::Quad } else { LongFormat::Extended };
    let parsed = parse(bytes, format);
    if parsed.range_error {
        errno::set(errno::ERANGE);
    }
    if !end.is_null() {
        // SAFETY: obligation 1.
        unsafe { *end = text.wrapping_add(parsed.end).cast_mut() };
    }
    // SAFETY: obligation 1.
    unsafe { core::ptr::copy_nonoverlapping(parsed.bits.to_le_bytes().as_ptr(), result, 16) };
}
