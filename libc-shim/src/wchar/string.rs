//! Wide strings: length, copy, compare, search and tokenise (wchar.h's `wcs*`/`wmem*`).

use super::class::towlower;
use super::types::{order, ordering_to_int, WChar};
use crate::cstr;
use crate::errno;
use crate::locale::LocaleObject;
use core::cmp::Ordering;
use core::ffi::{c_int, c_void};
use core::ptr;

/// C `wcslen`.
///
/// # Safety
/// 1. `s` is a wide string.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub unsafe extern "C" fn wcslen(s: *const WChar) -> usize {
    // SAFETY: obligation 1.
    unsafe { cstr::wide(s, "wcslen") }.len()
}

/// POSIX `wcsnlen`.
///
/// # Safety
/// 1. `s` is readable up to its terminator or `n` units.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub unsafe extern "C" fn wcsnlen(s: *const WChar, n: usize) -> usize {
    // SAFETY: obligation 1.
    unsafe { cstr::wide_bounded(s, n, "wcsnlen") }.len()
}

/// C `wmemcpy`.
///
/// # Safety
/// 1. `src` readable and `dst` writable for `n` units.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub unsafe extern "C" fn wmemcpy(dst: *mut WChar, src: *const WChar, n: usize) -> *mut WChar {
    if n > 0 {
        // SAFETY: obligation 1 (`copy` also tolerates an overlap).
        unsafe { ptr::copy(src, dst, n) };
    }
    dst
}

/// C `wmemmove`.
///
/// # Safety
/// 1. `src` readable and `dst` writable for `n` units.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub unsafe extern "C" fn wmemmove(dst: *mut WChar, src: *const WChar, n: usize) -> *mut WChar {
    if n > 0 {
        // SAFETY: obligation 1.
        unsafe { ptr::copy(src, dst, n) };
    }
    dst
}

/// C `wmemset`.
///
/// # Safety
/// 1. `dst` writable for `n` units.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub unsafe extern "C" fn wmemset(dst: *mut WChar, c: WChar, n: usize) -> *mut WChar {
    if n > 0 {
        assert!(!dst.is_null(), "wmemset: NULL buffer");
        // SAFETY: obligation 1.
        unsafe { core::slice::from_raw_parts_mut(dst, n) }.fill(c);
    }
    dst
}

/// C `wmemcmp`.
///
/// # Safety
/// 1. Both readable for `n` units.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub unsafe extern "C" fn wmemcmp(a: *const WChar, b: *const WChar, n: usize) -> c_int {
    // SAFETY: obligation 1.
    let (a, b) = unsafe { (cstr::units(a, n, "wmemcmp"), cstr::units(b, n, "wmemcmp")) };
    let first = a.iter().zip(b).map(|(x, y)| order(*x, *y)).find(|o| o.is_ne());
    ordering_to_int(first.unwrap_or(Ordering::Equal))
}

/// C `wmemchr`.
///
/// # Safety
/// 1. `s` readable for `n` units.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub unsafe extern "C" fn wmemchr(s: *const WChar, c: WChar, n: usize) -> *mut WChar {
    // SAFETY: obligation 1.
    let units = unsafe { cstr::units(s, n, "wmemchr") };
    units.iter().position(|&u| u == c).map_or(ptr::null_mut(), |at| s.wrapping_add(at).cast_mut())
}

/// Compares two wide strings including their terminators.
fn compare_wide(a: &[WChar], b: &[WChar]) -> c_int {
    let first = a
        .iter()
        .chain(&[0])
        .zip(b.iter().chain(&[0]))
        .map(|(x, y)| order(*x, *y))
        .find(|o| o.is_ne());
    ordering_to_int(first.unwrap_or(Ordering::Equal))
}

/// C `wcscmp`.
///
/// # Safety
/// 1. Both are wide strings.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub unsafe extern "C" fn wcscmp(a: *const WChar, b: *const WChar) -> c_int {
    // SAFETY: obligation 1.
    unsafe { compare_wide(cstr::wide(a, "wcscmp"), cstr::wide(b, "wcscmp")) }
}

/// C `wcsncmp`.
///
/// # Safety
/// 1. Both readable up to their terminators or `n` units.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub unsafe extern "C" fn wcsncmp(a: *const WChar, b: *const WChar, n: usize) -> c_int {
    // SAFETY: obligation 1.
    unsafe {
        compare_wide(cstr::wide_bounded(a, n, "wcsncmp"), cstr::wide_bounded(b, n, "wcsncmp"))
    }
}

/// C `wcscoll`: `wcscmp` in "C".
///
/// # Safety
/// 1. Both are wide strings.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub unsafe extern "C" fn wcscoll(a: *const WChar, b: *const WChar) -> c_int {
    // SAFETY: obligation 1.
    unsafe { wcscmp(a, b) }
}

/// glibc's `__wcscoll_l`.
///
/// # Safety
/// 1. Both are wide strings.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub unsafe extern "C" fn __wcscoll_l(
    a: *const WChar,
    b: *const WChar,
    _locale: *mut LocaleObject,
) -> c_int {
    // SAFETY: obligation 1.
    unsafe { wcscmp(a, b) }
}

/// POSIX `wcscoll_l`.
///
/// # Safety
/// 1. Both are wide strings.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub unsafe extern "C" fn wcscoll_l(
    a: *const WChar,
    b: *const WChar,
    _locale: *mut LocaleObject,
) -> c_int {
    // SAFETY: obligation 1.
    unsafe { wcscmp(a, b) }
}

/// C `wcsxfrm`: a copy in "C"; returns the length of `src`.
///
/// # Safety
/// 1. `src` is a wide string; `dst` writable for `n` units.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub unsafe extern "C" fn wcsxfrm(dst: *mut WChar, src: *const WChar, n: usize) -> usize {
    // SAFETY: obligation 1.
    let text = unsafe { cstr::wide(src, "wcsxfrm") };
    if text.len() < n {
        // SAFETY: obligation 1: `len + 1 <= n`.
        unsafe {
            ptr::copy(text.as_ptr(), dst, text.len());
            *dst.add(text.len()) = 0;
        }
    }
    text.len()
}

/// glibc's `__wcsxfrm_l`.
///
/// # Safety
/// 1. As `wcsxfrm`.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub unsafe extern "C" fn __wcsxfrm_l(
    dst: *mut WChar,
    src: *const WChar,
    n: usize,
    _locale: *mut LocaleObject,
) -> usize {
    // SAFETY: obligation 1.
    unsafe { wcsxfrm(dst, src, n) }
}

/// POSIX `wcsxfrm_l`.
///
/// # Safety
/// 1. As `wcsxfrm`.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub unsafe extern "C" fn wcsxfrm_l(
    dst: *mut WChar,
    src: *const WChar,
    n: usize,
    _locale: *mut LocaleObject,
) -> usize {
    // SAFETY: obligation 1.
    unsafe { wcsxfrm(dst, src, n) }
}

/// C `wcschr`.
///
/// # Safety
/// 1. `s` is a wide string.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub unsafe extern "C" fn wcschr(s: *const WChar, c: WChar) -> *mut WChar {
    // SAFETY: obligation 1.
    let text = unsafe { cstr::wide(s, "wcschr") };
    let at = if c == 0 { Some(text.len()) } else { text.iter().position(|&u| u == c) };
    at.map_or(ptr::null_mut(), |at| s.wrapping_add(at).cast_mut())
}

/// C `wcsrchr`.
///
/// # Safety
/// 1. `s` is a wide string.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub unsafe extern "C" fn wcsrchr(s: *const WChar, c: WChar) -> *mut WChar {
    // SAFETY: obligation 1.
    let text = unsafe { cstr::wide(s, "wcsrchr") };
    let at = if c == 0 { Some(text.len()) } else { text.iter().rposition(|&u| u == c) };
    at.map_or(ptr::null_mut(), |at| s.wrapping_add(at).cast_mut())
}

/// C `wcscpy`.
///
/// # Safety
/// 1. `src` is a wide string; `dst` has room for it and its terminator.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub unsafe extern "C" fn wcscpy(dst: *mut WChar, src: *const WChar) -> *mut WChar {
    // SAFETY: obligation 1.
    unsafe {
        let len = cstr::wide(src, "wcscpy").len();
        ptr::copy(src, dst, len + 1);
    }
    dst
}

/// C `wcsncpy`.
///
/// # Safety
/// 1. `src` readable up to its terminator or `n` units; `dst` writable for `n` units.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub unsafe extern "C" fn wcsncpy(dst: *mut WChar, src: *const WChar, n: usize) -> *mut WChar {
    // SAFETY: obligation 1.
    unsafe {
        let len = cstr::wide_bounded(src, n, "wcsncpy").len();
        ptr::copy(src, dst, len);
        for i in len..n {
            *dst.add(i) = 0;
        }
    }
    dst
}

/// C `wcscat`.
///
/// # Safety
/// 1. Both are wide strings; `dst` has room for both.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub unsafe extern "C" fn wcscat(dst: *mut WChar, src: *const WChar) -> *mut WChar {
    // SAFETY: obligation 1.
    unsafe {
        let end = dst.add(cstr::wide(dst, "wcscat").len());
        wcscpy(end, src);
    }
    dst
}

/// The prefix length of `s` whose units are (`inside`) or are not in `set`.
fn wide_span(s: &[WChar], set: &[WChar], inside: bool) -> usize {
    s.iter().position(|u| set.contains(u) != inside).unwrap_or(s.len())
}

/// C `wcsspn`.
///
/// # Safety
/// 1. Both are wide strings.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub unsafe extern "C" fn wcsspn(s: *const WChar, accept: *const WChar) -> usize {
    // SAFETY: obligation 1.
    unsafe { wide_span(cstr::wide(s, "wcsspn"), cstr::wide(accept, "wcsspn"), true) }
}

/// C `wcscspn`.
///
/// # Safety
/// 1. Both are wide strings.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub unsafe extern "C" fn wcscspn(s: *const WChar, reject: *const WChar) -> usize {
    // SAFETY: obligation 1.
    unsafe { wide_span(cstr::wide(s, "wcscspn"), cstr::wide(reject, "wcscspn"), false) }
}

/// C `wcspbrk`.
///
/// # Safety
/// 1. Both are wide strings.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub unsafe extern "C" fn wcspbrk(s: *const WChar, accept: *const WChar) -> *mut WChar {
    // SAFETY: obligation 1.
    let (text, set) = unsafe { (cstr::wide(s, "wcspbrk"), cstr::wide(accept, "wcspbrk")) };
    let at = wide_span(text, set, false);
    if at == text.len() {
        ptr::null_mut()
    } else {
        s.wrapping_add(at).cast_mut()
    }
}

/// C `wcsstr`.
///
/// # Safety
/// 1. Both are wide strings.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub unsafe extern "C" fn wcsstr(haystack: *const WChar, needle: *const WChar) -> *mut WChar {
    // SAFETY: obligation 1.
    let (hay, pin) = unsafe { (cstr::wide(haystack, "wcsstr"), cstr::wide(needle, "wcsstr")) };
    if pin.is_empty() {
        return haystack.cast_mut();
    }
    hay.windows(pin.len())
        .position(|window| window == pin)
        .map_or(ptr::null_mut(), |at| haystack.wrapping_add(at).cast_mut())
}

/// C `wcsncat`.
///
/// # Safety
/// 1. `dst` is a wide string with room for the result; `src` readable up to its terminator or
///    `n` units.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub unsafe extern "C" fn wcsncat(dst: *mut WChar, src: *const WChar, n: usize) -> *mut WChar {
    // SAFETY: obligation 1.
    unsafe {
        let end = dst.add(cstr::wide(dst, "wcsncat").len());
        let len = cstr::wide_bounded(src, n, "wcsncat").len();
        ptr::copy(src, end, len);
        *end.add(len) = 0;
    }
    dst
}

/// C `wcstok`: the next token of `s` (or of `*save` when `s` is NULL).
///
/// # Safety
/// 1. `s` (or `*save`) is a writable wide string, `delim` a wide string, `save` writable.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub unsafe extern "C" fn wcstok(
    s: *mut WChar,
    delim: *const WChar,
    save: *mut *mut WChar,
) -> *mut WChar {
    assert!(!save.is_null(), "wcstok: NULL save pointer");
    // SAFETY: obligation 1.
    let start = if s.is_null() { unsafe { *save } } else { s };
    if start.is_null() {
        return ptr::null_mut();
    }
    // SAFETY: obligation 1.
    let (text, set) = unsafe { (cstr::wide(start, "wcstok"), cstr::wide(delim, "wcstok")) };
    let skip = wide_span(text, set, true);
    if skip == text.len() {
        // SAFETY: obligation 1.
        unsafe { *save = start.add(skip) };
        return ptr::null_mut();
    }
    let len = wide_span(&text[skip..], set, false);
    // SAFETY: obligation 1: the token's end is within the writable string.
    unsafe {
        let token = start.add(skip);
        let end = token.add(len);
        if *end != 0 {
            *end = 0;
            *save = end.add(1);
        } else {
            *save = end;
        }
        token
    }
}

extern "C" {
    fn malloc(size: usize) -> *mut c_void;
}

/// POSIX `wcsdup`.
///
/// # Safety
/// 1. `s` is a wide string.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub unsafe extern "C" fn wcsdup(s: *const WChar) -> *mut WChar {
    // SAFETY: obligation 1.
    let len = unsafe { cstr::wide(s, "wcsdup") }.len();
    // SAFETY: malloc has no preconditions.
    let copy = unsafe { malloc((len + 1) * core::mem::size_of::<WChar>()) }.cast::<WChar>();
    if copy.is_null() {
        errno::set(errno::ENOMEM);
        return copy;
    }
    // SAFETY: obligation 1; `copy` holds `len + 1` units.
    unsafe { ptr::copy_nonoverlapping(s, copy, len + 1) };
    copy
}

/// GNU `wcscasecmp` (ASCII case, the "C" locale).
///
/// # Safety
/// 1. Both are wide strings.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub unsafe extern "C" fn wcscasecmp(a: *const WChar, b: *const WChar) -> c_int {
    // SAFETY: obligation 1.
    let (a, b) = unsafe { (cstr::wide(a, "wcscasecmp"), cstr::wide(b, "wcscasecmp")) };
    for (x, y) in a.iter().chain(&[0]).zip(b.iter().chain(&[0])) {
        let (x, y) = (towlower(*x), towlower(*y));
        if x != y {
            return ordering_to_int(order(x, y));
        }
    }
    0
}
