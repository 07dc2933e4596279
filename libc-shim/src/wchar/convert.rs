//! Conversions between the multibyte ("C": ASCII) and wide encodings.

use super::types::{WChar, WInt, WEOF};
use crate::cstr;
use crate::errno;
use core::ffi::{c_char, c_int, c_void};
use core::ptr;

/// The "C" locale's byte → character mapping: ASCII or nothing.
fn decode(byte: u8) -> Option<WChar> {
    (byte < 0x80).then_some(WChar::from(byte))
}

/// The "C" locale's character → byte mapping.
fn encode(c: WChar) -> Option<u8> {
    (c < 0x80).then_some(c as u8)
}

/// C `btowc`.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub extern "C" fn btowc(c: c_int) -> WInt {
    u8::try_from(c).ok().and_then(decode).unwrap_or(WEOF)
}

/// C `wctob`.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub extern "C" fn wctob(c: WInt) -> c_int {
    encode(c).map_or(-1, c_int::from)
}

/// C `mbsinit`: the state never holds a partial character.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub extern "C" fn mbsinit(_state: *const c_void) -> c_int {
    1
}

/// C `mbrtowc`.
///
/// # Safety
/// 1. `s` is NULL or readable for `n` bytes (or up to the first); `pwc` NULL or writable.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub unsafe extern "C" fn mbrtowc(
    pwc: *mut WChar,
    s: *const c_char,
    n: usize,
    _state: *mut c_void,
) -> usize {
    if s.is_null() {
        return 0;
    }
    if n == 0 {
        return usize::MAX - 1; // (size_t)-2: incomplete
    }
    // SAFETY: obligation 1: one byte is readable.
    let byte = unsafe { *s.cast::<u8>() };
    match decode(byte) {
        Some(c) => {
            if !pwc.is_null() {
                // SAFETY: obligation 1.
                unsafe { *pwc = c };
            }
            usize::from(c != 0)
        }
        None => {
            errno::set(errno::EILSEQ);
            usize::MAX
        }
    }
}

/// C `mbrlen`.
///
/// # Safety
/// 1. As `mbrtowc`.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub unsafe extern "C" fn mbrlen(s: *const c_char, n: usize, state: *mut c_void) -> usize {
    // SAFETY: obligation 1.
    unsafe { mbrtowc(ptr::null_mut(), s, n, state) }
}

/// C `mbtowc`.
///
/// # Safety
/// 1. As `mbrtowc`.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub unsafe extern "C" fn mbtowc(pwc: *mut WChar, s: *const c_char, n: usize) -> c_int {
    // SAFETY: obligation 1.
    match unsafe { mbrtowc(pwc, s, n, ptr::null_mut()) } {
        usize::MAX | 0xffff_ffff_ffff_fffe => -1,
        count => count as c_int,
    }
}

/// C `wcrtomb`.
///
/// # Safety
/// 1. `s` is NULL or writable for one byte.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub unsafe extern "C" fn wcrtomb(s: *mut c_char, c: WChar, _state: *mut c_void) -> usize {
    if s.is_null() {
        return 1;
    }
    match encode(c) {
        Some(byte) => {
            // SAFETY: obligation 1.
            unsafe { *s = byte as c_char };
            1
        }
        None => {
            errno::set(errno::EILSEQ);
            usize::MAX
        }
    }
}

/// C `wctomb`.
///
/// # Safety
/// 1. As `wcrtomb`.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub unsafe extern "C" fn wctomb(s: *mut c_char, c: WChar) -> c_int {
    if s.is_null() {
        return 0; // stateless encoding
    }
    // SAFETY: obligation 1.
    match unsafe { wcrtomb(s, c, ptr::null_mut()) } {
        usize::MAX => -1,
        count => count as c_int,
    }
}

/// The shared walk of `mbsnrtowcs`: converts bytes from `*src` (at most `limit` of them) into
/// up to `capacity` characters at `dst` (counting only when `dst` is NULL).
///
/// # Safety
/// 1. `src` writable and `*src` readable up to its NUL or `limit` bytes; `dst` NULL or
///    writable for `capacity` units.
unsafe fn multibyte_to_wide(
    dst: *mut WChar,
    src: *mut *const c_char,
    limit: usize,
    capacity: usize,
) -> usize {
    assert!(!src.is_null(), "mbsrtowcs: NULL source pointer");
    // SAFETY: obligation 1.
    let start = unsafe { *src };
    // SAFETY: obligation 1.
    let bytes = unsafe { cstr::bytes_bounded(start, limit, "mbsrtowcs") };
    let reached_nul = bytes.len() < limit;
    let capacity = if dst.is_null() { usize::MAX } else { capacity };
    let mut count = 0;
    for (at, &byte) in bytes.iter().enumerate() {
        if count == capacity {
            // SAFETY: obligation 1.
            unsafe { *src = start.add(at) };
            return count;
        }
        let Some(c) = decode(byte) else {
            errno::set(errno::EILSEQ);
            if !dst.is_null() {
                // SAFETY: obligation 1.
                unsafe { *src = start.add(at) };
            }
            return usize::MAX;
        };
        if !dst.is_null() {
            // SAFETY: obligation 1: `count` < `capacity`.
            unsafe { *dst.add(count) = c };
        }
        count += 1;
    }
    if reached_nul {
        if count < capacity {
            if !dst.is_null() {
                // SAFETY: obligation 1.
                unsafe {
                    *dst.add(count) = 0;
                    *src = ptr::null();
                }
            }
        } else if !dst.is_null() {
            // SAFETY: obligation 1.
            unsafe { *src = start.add(bytes.len()) };
        }
    } else if !dst.is_null() {
        // SAFETY: obligation 1.
        unsafe { *src = start.add(bytes.len()) };
    }
    count
}

/// C `mbsrtowcs`.
///
/// # Safety
/// 1. `src` writable, `*src` a string; `dst` NULL or writable for `len` units.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub unsafe extern "C" fn mbsrtowcs(
    dst: *mut WChar,
    src: *mut *const c_char,
    len: usize,
    _state: *mut c_void,
) -> usize {
    // SAFETY: obligation 1.
    unsafe { multibyte_to_wide(dst, src, usize::MAX, len) }
}

/// POSIX `mbsnrtowcs`: as `mbsrtowcs`, reading at most `nms` bytes.
///
/// # Safety
/// 1. `src` writable, `*src` readable up to its NUL or `nms` bytes; `dst` NULL or writable for
///    `len` units.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub unsafe extern "C" fn mbsnrtowcs(
    dst: *mut WChar,
    src: *mut *const c_char,
    nms: usize,
    len: usize,
    _state: *mut c_void,
) -> usize {
    // SAFETY: obligation 1.
    unsafe { multibyte_to_wide(dst, src, nms, len) }
}

/// C `mbstowcs`.
///
/// # Safety
/// 1. `src` is a string; `dst` NULL or writable for `len` units.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub unsafe extern "C" fn mbstowcs(dst: *mut WChar, src: *const c_char, len: usize) -> usize {
    let mut cursor = src;
    // SAFETY: obligation 1.
    unsafe { multibyte_to_wide(dst, &mut cursor, usize::MAX, len) }
}

/// The walk of `wcsnrtombs`, the mirror of `multibyte_to_wide`.
///
/// # Safety
/// 1. `src` writable and `*src` readable up to its terminator or `limit` units; `dst` NULL or
///    writable for `capacity` bytes.
unsafe fn wide_to_multibyte(
    dst: *mut c_char,
    src: *mut *const WChar,
    limit: usize,
    capacity: usize,
) -> usize {
    assert!(!src.is_null(), "wcsrtombs: NULL source pointer");
    // SAFETY: obligation 1.
    let start = unsafe { *src };
    // SAFETY: obligation 1.
    let units = unsafe { cstr::wide_bounded(start, limit, "wcsrtombs") };
    let reached_nul = units.len() < limit;
    let capacity = if dst.is_null() { usize::MAX } else { capacity };
    let mut count = 0;
    for (at, &unit) in units.iter().enumerate() {
        if count == capacity {
            // SAFETY: obligation 1.
            unsafe { *src = start.add(at) };
            return count;
        }
        let Some(byte) = encode(unit) else {
            errno::set(errno::EILSEQ);
            if !dst.is_null() {
                // SAFETY: obligation 1.
                unsafe { *src = start.add(at) };
            }
            return usize::MAX;
        };
        if !dst.is_null() {
            // SAFETY: obligation 1.
            unsafe { *dst.add(count) = byte as c_char };
        }
        count += 1;
    }
    if !dst.is_null() {
        if reached_nul && count < capacity {
            // SAFETY: obligation 1.
            unsafe {
                *dst.add(count) = 0;
                *src = ptr::null();
            }
        } else {
            // SAFETY: obligation 1.
            unsafe { *src = start.add(units.len()) };
        }
    }
    count
}

/// C `wcsrtombs`.
///
/// # Safety
/// 1. `src` writable, `*src` a wide string; `dst` NULL or writable for `len` bytes.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub unsafe extern "C" fn wcsrtombs(
    dst: *mut c_char,
    src: *mut *const WChar,
    len: usize,
    _state: *mut c_void,
) -> usize {
    // SAFETY: obligation 1.
    unsafe { wide_to_multibyte(dst, src, usize::MAX, len) }
}

/// POSIX `wcsnrtombs`.
///
/// # Safety
/// 1. As `wcsrtombs`, reading at most `nwc` units.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub unsafe extern "C" fn wcsnrtombs(
    dst: *mut c_char,
    src: *mut *const WChar,
    nwc: usize,
    len: usize,
    _state: *mut c_void,
) -> usize {
    // SAFETY: obligation 1.
    unsafe { wide_to_multibyte(dst, src, nwc, len) }
}

/// C `wcstombs`.
///
/// # Safety
/// 1. `src` is a wide string; `dst` NULL or writable for `len` bytes.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub unsafe extern "C" fn wcstombs(dst: *mut c_char, src: *const WChar, len: usize) -> usize {
    let mut cursor = src;
    // SAFETY: obligation 1.
    unsafe { wide_to_multibyte(dst, &mut cursor, usize::MAX, len) }
}
