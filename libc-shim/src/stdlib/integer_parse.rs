//! strtol and its family: C integer syntax (C11 7.22.1.4) with glibc's errno behaviour.

use crate::cstr;
use crate::errno;
use core::ffi::{c_char, c_int, c_long, c_longlong, c_ulong, c_ulonglong};

/// The outcome of parsing an integer prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Parsed {
    /// The value, two's complement in 64 bits (already clamped on overflow).
    pub value: u64,
    /// Bytes consumed; 0 when no number was found.
    pub end: usize,
    /// The errno to report: `ERANGE` on overflow, `EINVAL` for a bad base.
    pub error: Option<c_int>,
}

/// True for the "C" locale's white space.
pub fn is_space(byte: u8) -> bool {
    matches!(byte, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// The value of an alphanumeric digit in bases up to 36.
pub fn digit_value(byte: u8) -> Option<u32> {
    match byte {
        b'0'..=b'9' => Some(u32::from(byte - b'0')),
        b'a'..=b'z' => Some(u32::from(byte - b'a') + 10),
        b'A'..=b'Z' => Some(u32::from(byte - b'A') + 10),
        _ => None,
    }
}

/// Parses the longest prefix of `text` that is an integer in `base` (0: from the prefix).
/// `signed` selects strtol's clamping (to `i64::MIN..=i64::MAX`) over strtoul's (negation
/// modulo 2^64, `u64::MAX` on overflow).
pub fn parse(text: &[u8], base: c_int, signed: bool) -> Parsed {
    if base < 0 || base == 1 || base > 36 {
        return Parsed { value: 0, end: 0, error: Some(errno::EINVAL) };
    }
    let mut at = 0;
    while at < text.len() && is_space(text[at]) {
        at += 1;
    }
    let mut negative = false;
    if at < text.len() && (text[at] == b'+' || text[at] == b'-') {
        negative = text[at] == b'-';
        at += 1;
    }
    let mut base = base as u32;
    let hex_prefix = at + 1 < text.len()
        && text[at] == b'0'
        && (text[at + 1] | 0x20) == b'x'
        && text.get(at + 2).and_then(|&b| digit_value(b)).is_some_and(|d| d < 16);
    if (base == 0 || base == 16) && hex_prefix {
        at += 2;
        base = 16;
    } else if base == 0 {
        base = if text.get(at) == Some(&b'0') { 8 } else { 10 };
    }
    let start = at;
    let mut magnitude: u64 = 0;
    let mut overflow = false;
    while let Some(digit) = text.get(at).and_then(|&b| digit_value(b)).filter(|&d| d < base) {
        match magnitude.checked_mul(u64::from(base)).and_then(|m| m.checked_add(u64::from(digit))) {
            Some(m) => magnitude = m,
            None => overflow = true,
        }
        at += 1;
    }
    if at == start {
        return Parsed { value: 0, end: 0, error: None };
    }
    if signed {
        let limit = if negative { 1u64 << 63 } else { i64::MAX as u64 };
        if overflow || magnitude > limit {
            let value = if negative { i64::MIN as u64 } else { i64::MAX as u64 };
            return Parsed { value, end: at, error: Some(errno::ERANGE) };
        }
    } else if overflow {
        return Parsed { value: u64::MAX, end: at, error: Some(errno::ERANGE) };
    }
    let value = if negative { magnitude.wrapping_neg() } else { magnitude };
    Parsed { value, end: at, error: None }
}

/// The C entry: parses `text` and stores the end pointer.
///
/// # Safety
/// 1. `text` is a string; `end` is NULL or writable.
unsafe fn parse_c(
    text: *const c_char,
    end: *mut *mut c_char,
    base: c_int,
    signed: bool,
    function: &str,
) -> u64 {
    // SAFETY: obligation 1.
    let bytes = unsafe { cstr::bytes(text, function) };
    let parsed = parse(bytes, base, signed);
    if let Some(error) = parsed.error {
        errno::set(error);
    }
    // glibc leaves `end` alone for an invalid base.
    if !end.is_null() && parsed.error != Some(errno::EINVAL) {
        // SAFETY: obligation 1.
        unsafe { *end = text.wrapping_add(parsed.end).cast_mut() };
    }
    parsed.value
}

macro_rules! strto {
    ($($name:ident -> $ty:ty, $signed:expr;)*) => {$(
        /// The stdlib.h function of the same name.
        ///
        /// # Safety
        /// 1. `text` is a string; `end` is NULL or writable.
        #[cfg_attr(rivet_libc_export, no_mangle)]
        pub unsafe extern "C" fn $name(text: *const c_char, end: *mut *mut c_char, base: c_int) -> $ty {
            // SAFETY: obligation 1.
            unsafe { parse_c(text, end, base, $signed, stringify!($name)) as $ty }
        }
    )*};
}

strto! {
    strtol -> c_long, true;
    strtoll -> c_longlong, true;
    strtoq -> c_longlong, true;
    strtoimax -> i64, true;
    strtoul -> c_ulong, false;
    strtoull -> c_ulonglong, false;
    strtouq -> c_ulonglong, false;
    strtoumax -> u64, false;
}

macro_rules! strto_l {
    ($($name:ident -> $ty:ty, $signed:expr;)*) => {$(
        /// The locale variant of the function without `_l`: every locale is "C".
        ///
        /// # Safety
        /// 1. `text` is a string; `end` is NULL or writable.
        #[cfg_attr(rivet_libc_export, no_mangle)]
        pub unsafe extern "C" fn $name(text: *const c_char, end: *mut *mut c_char, base: c_int, _locale: *mut core::ffi::c_void) -> $ty {
            // SAFETY: obligation 1.
            unsafe { parse_c(text, end, base, $signed, stringify!($name)) as $ty }
        }
    )*};
}

strto_l! {
    strtol_l -> c_long, true;
    strtoll_l -> c_longlong, true;
    strtoul_l -> c_ulong, false;
    strtoull_l -> c_ulonglong, false;
    __strtol_l -> c_long, true;
    __strtoll_l -> c_longlong, true;
    __strtoul_l -> c_ulong, false;
    __strtoull_l -> c_ulonglong, false;
}

/// C `atoi`: `(int)strtol(text, NULL, 10)`.
///
/// # Safety
/// 1. `text` is a string.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub unsafe extern "C" fn atoi(text: *const c_char) -> c_int {
    // SAFETY: obligation 1.
    unsafe { parse_c(text, core::ptr::null_mut(), 10, true, "atoi") as c_int }
}

/// C `atol`.
///
/// # Safety
/// 1. `text` is a string.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub unsafe extern "C" fn atol(text: *const c_char) -> c_long {
    // SAFETY: obligation 1.
    unsafe { parse_c(text, core::ptr::null_mut(), 10, true, "atol") as c_long }
}

/// C `atoll`.
///
/// # Safety
/// 1. `text` is a string.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub unsafe extern "C" fn atoll(text: *const c_char) -> c_longlong {
    // SAFETY: obligation 1.
    unsafe { parse_c(text, core::ptr::null_mut(), 10, true, "atoll") as c_longlong }
}
