//! Comparing strings: strcmp family, case-insensitive compares, collation ("C": bytes).

use super::copy::copy_terminated;
use crate::cstr;
use crate::ctype::to_lower;
use core::ffi::{c_char, c_int};

/// Compares the unsigned bytes of two strings (including the terminator: a prefix sorts first).
fn compare_bytes(a: &[u8], b: &[u8]) -> c_int {
    for (x, y) in a.iter().chain(&[0]).zip(b.iter().chain(&[0])) {
        if x != y {
            return c_int::from(*x) - c_int::from(*y);
        }
    }
    0
}

/// C `strcmp`.
///
/// # Safety
/// 1. Both are strings.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub unsafe extern "C" fn strcmp(a: *const c_char, b: *const c_char) -> c_int {
    // SAFETY: obligation 1.
    unsafe { compare_bytes(cstr::bytes(a, "strcmp"), cstr::bytes(b, "strcmp")) }
}

/// C `strncmp`.
///
/// # Safety
/// 1. Both readable up to their NUL or `n` bytes.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub unsafe extern "C" fn strncmp(a: *const c_char, b: *const c_char, n: usize) -> c_int {
    // SAFETY: obligation 1.
    unsafe {
        compare_bytes(cstr::bytes_bounded(a, n, "strncmp"), cstr::bytes_bounded(b, n, "strncmp"))
    }
}

/// Compares ignoring ASCII case, as the "C" locale's `tolower` does.
fn compare_caseless(a: &[u8], b: &[u8]) -> c_int {
    for (x, y) in a.iter().chain(&[0]).zip(b.iter().chain(&[0])) {
        let (x, y) = (to_lower(*x), to_lower(*y));
        if x != y {
            return c_int::from(x) - c_int::from(y);
        }
    }
    0
}

/// POSIX `strcasecmp`.
///
/// # Safety
/// 1. Both are strings.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub unsafe extern "C" fn strcasecmp(a: *const c_char, b: *const c_char) -> c_int {
    // SAFETY: obligation 1.
    unsafe { compare_caseless(cstr::bytes(a, "strcasecmp"), cstr::bytes(b, "strcasecmp")) }
}

/// POSIX `strncasecmp`.
///
/// # Safety
/// 1. Both readable up to their NUL or `n` bytes.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub unsafe extern "C" fn strncasecmp(a: *const c_char, b: *const c_char, n: usize) -> c_int {
    // SAFETY: obligation 1.
    unsafe {
        compare_caseless(
            cstr::bytes_bounded(a, n, "strncasecmp"),
            cstr::bytes_bounded(b, n, "strncasecmp"),
        )
    }
}

/// C `strcoll`: in the "C" locale, `strcmp`.
///
/// # Safety
/// 1. Both are strings.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub unsafe extern "C" fn strcoll(a: *const c_char, b: *const c_char) -> c_int {
    // SAFETY: obligation 1.
    unsafe { strcmp(a, b) }
}

/// C `strxfrm`: in the "C" locale, a copy; returns the length of `src`.
///
/// # Safety
/// 1. `src` is a string; `dst` writable for `n` bytes.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub unsafe extern "C" fn strxfrm(dst: *mut c_char, src: *const c_char, n: usize) -> usize {
    // SAFETY: obligation 1.
    let len = unsafe { cstr::bytes(src, "strxfrm") }.len();
    if len < n {
        // SAFETY: obligation 1: `len + 1 <= n`.
        unsafe { copy_terminated(dst, src, len, "strxfrm") };
    }
    len
}
