//! Copying and duplicating: mempcpy, memccpy, strcpy family, strl*, strdup, bzero.

use super::search::find_byte;
use crate::cstr;
use core::ffi::{c_char, c_int, c_void};
use core::ptr;

extern "C" {
    fn malloc(size: usize) -> *mut c_void;
}

/// GNU `mempcpy`: `memcpy` returning the end of the copy.
///
/// # Safety
/// 1. `src` is readable and `dst` writable for `n` bytes; they do not overlap.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub unsafe extern "C" fn mempcpy(dst: *mut c_void, src: *const c_void, n: usize) -> *mut c_void {
    if n > 0 {
        assert!(!dst.is_null() && !src.is_null(), "mempcpy: NULL buffer");
        // SAFETY: obligation 1 (`copy` also tolerates an overlap).
        unsafe { ptr::copy(src.cast::<u8>(), dst.cast::<u8>(), n) };
    }
    dst.cast::<u8>().wrapping_add(n).cast()
}

/// C `memccpy`: copies up to and including the first `c`, at most `n` bytes; returns the byte
/// after the copied `c` in `dst`, or NULL if `c` was not found.
///
/// # Safety
/// 1. `src` is readable and `dst` writable for `n` bytes (or up to `c`); they do not overlap.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub unsafe extern "C" fn memccpy(
    dst: *mut c_void,
    src: *const c_void,
    c: c_int,
    n: usize,
) -> *mut c_void {
    // SAFETY: obligation 1 for the search; the copy below stays within the same count.
    let bytes = unsafe { cstr::memory(src, n, "memccpy") };
    let (count, found) = match find_byte(bytes, c as u8) {
        Some(at) => (at + 1, true),
        None => (n, false),
    };
    if count > 0 {
        // SAFETY: obligation 1: `count` <= `n`.
        unsafe { ptr::copy(src.cast::<u8>(), dst.cast::<u8>(), count) };
    }
    if found {
        dst.cast::<u8>().wrapping_add(count).cast()
    } else {
        ptr::null_mut()
    }
}

/// Copies `len` bytes then a NUL; returns the NUL's address.
///
/// # Safety
/// 1. `src` readable for `len` bytes, `dst` writable for `len + 1`.
pub(super) unsafe fn copy_terminated(
    dst: *mut c_char,
    src: *const c_char,
    len: usize,
    function: &str,
) -> *mut c_char {
    assert!(!dst.is_null(), "{function}: NULL destination");
    // SAFETY: obligation 1 (`copy` tolerates the overlap C leaves undefined).
    unsafe {
        ptr::copy(src, dst, len);
        *dst.add(len) = 0;
        dst.add(len)
    }
}

/// C `strcpy`.
///
/// # Safety
/// 1. `src` is a string; `dst` has room for it and its NUL.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub unsafe extern "C" fn strcpy(dst: *mut c_char, src: *const c_char) -> *mut c_char {
    // SAFETY: obligation 1.
    unsafe {
        let len = cstr::bytes(src, "strcpy").len();
        copy_terminated(dst, src, len, "strcpy");
    }
    dst
}

/// POSIX `stpcpy`: `strcpy` returning the address of the copied NUL.
///
/// # Safety
/// 1. As `strcpy`.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub unsafe extern "C" fn stpcpy(dst: *mut c_char, src: *const c_char) -> *mut c_char {
    // SAFETY: obligation 1.
    unsafe {
        let len = cstr::bytes(src, "stpcpy").len();
        copy_terminated(dst, src, len, "stpcpy")
    }
}

/// Copies at most `n` bytes of `src` and pads with NULs to `n`; returns the offset of the first
/// padding NUL (or `n`).
///
/// # Safety
/// 1. `src` readable up to its NUL or `n` bytes; `dst` writable for `n` bytes.
unsafe fn copy_padded(dst: *mut c_char, src: *const c_char, n: usize, function: &str) -> usize {
    // SAFETY: obligation 1.
    let len = unsafe { cstr::bytes_bounded(src, n, function) }.len();
    if n == 0 {
        return 0;
    }
    assert!(!dst.is_null(), "{function}: NULL destination");
    // SAFETY: obligation 1: `len` <= `n` bytes readable, `n` writable.
    unsafe {
        ptr::copy(src, dst, len);
        ptr::write_bytes(dst.add(len), 0, n - len);
    }
    len
}

/// C `strncpy`.
///
/// # Safety
/// 1. `src` readable up to its NUL or `n` bytes; `dst` writable for `n` bytes.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub unsafe extern "C" fn strncpy(dst: *mut c_char, src: *const c_char, n: usize) -> *mut c_char {
    // SAFETY: obligation 1.
    unsafe { copy_padded(dst, src, n, "strncpy") };
    dst
}

/// POSIX `stpncpy`: `strncpy` returning the end of the copied text.
///
/// # Safety
/// 1. As `strncpy`.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub unsafe extern "C" fn stpncpy(dst: *mut c_char, src: *const c_char, n: usize) -> *mut c_char {
    // SAFETY: obligation 1.
    let len = unsafe { copy_padded(dst, src, n, "stpncpy") };
    dst.wrapping_add(len)
}

/// C `strcat`.
///
/// # Safety
/// 1. Both are strings; `dst` has room for both and the NUL.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub unsafe extern "C" fn strcat(dst: *mut c_char, src: *const c_char) -> *mut c_char {
    // SAFETY: obligation 1.
    unsafe {
        let end = dst.add(cstr::bytes(dst, "strcat").len());
        let len = cstr::bytes(src, "strcat").len();
        copy_terminated(end, src, len, "strcat");
    }
    dst
}

/// C `strncat`: appends at most `n` bytes of `src` and a NUL.
///
/// # Safety
/// 1. `dst` is a string with room for the result; `src` readable up to its NUL or `n` bytes.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub unsafe extern "C" fn strncat(dst: *mut c_char, src: *const c_char, n: usize) -> *mut c_char {
    // SAFETY: obligation 1.
    unsafe {
        let end = dst.add(cstr::bytes(dst, "strncat").len());
        let len = cstr::bytes_bounded(src, n, "strncat").len();
        copy_terminated(end, src, len, "strncat");
    }
    dst
}

/// BSD `strlcpy`: copies what fits with a NUL; returns the length of `src`.
///
/// # Safety
/// 1. `src` is a string; `dst` writable for `size` bytes.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub unsafe extern "C" fn strlcpy(dst: *mut c_char, src: *const c_char, size: usize) -> usize {
    // SAFETY: obligation 1.
    let len = unsafe { cstr::bytes(src, "strlcpy") }.len();
    if size > 0 {
        // SAFETY: obligation 1: the copy is at most `size - 1` bytes plus the NUL.
        unsafe { copy_terminated(dst, src, len.min(size - 1), "strlcpy") };
    }
    len
}

/// BSD `strlcat`: appends what fits; returns the length it tried to create.
///
/// # Safety
/// 1. `dst` readable up to its NUL within `size` bytes and writable for `size`; `src` a string.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub unsafe extern "C" fn strlcat(dst: *mut c_char, src: *const c_char, size: usize) -> usize {
    // SAFETY: obligation 1.
    let (used, len) = unsafe {
        (cstr::bytes_bounded(dst, size, "strlcat").len(), cstr::bytes(src, "strlcat").len())
    };
    if used == size {
        return size + len;
    }
    // SAFETY: obligation 1: `used + copy + 1 <= size`.
    unsafe { copy_terminated(dst.add(used), src, len.min(size - used - 1), "strlcat") };
    used + len
}

/// Copies `len` bytes of `src` into fresh `malloc` memory with a NUL; NULL if out of memory.
///
/// # Safety
/// 1. `src` readable for `len` bytes.
unsafe fn duplicate(src: *const c_char, len: usize) -> *mut c_char {
    // SAFETY: malloc has no preconditions.
    let copy = unsafe { malloc(len + 1) }.cast::<c_char>();
    if copy.is_null() {
        crate::errno::set(crate::errno::ENOMEM);
        return copy;
    }
    // SAFETY: obligation 1; `copy` holds `len + 1` bytes.
    unsafe { copy_terminated(copy, src, len, "strdup") };
    copy
}

/// POSIX `strdup`.
///
/// # Safety
/// 1. `s` is a string.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub unsafe extern "C" fn strdup(s: *const c_char) -> *mut c_char {
    // SAFETY: obligation 1.
    unsafe { duplicate(s, cstr::bytes(s, "strdup").len()) }
}

/// POSIX `strndup`.
///
/// # Safety
/// 1. `s` readable up to its NUL or `n` bytes.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub unsafe extern "C" fn strndup(s: *const c_char, n: usize) -> *mut c_char {
    // SAFETY: obligation 1.
    unsafe { duplicate(s, cstr::bytes_bounded(s, n, "strndup").len()) }
}

/// glibc's internal alias of `strdup` (some headers' inline paths use it).
///
/// # Safety
/// 1. `s` is a string.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub unsafe extern "C" fn __strdup(s: *const c_char) -> *mut c_char {
    // SAFETY: obligation 1.
    unsafe { strdup(s) }
}

/// BSD `bzero`.
///
/// # Safety
/// 1. `s` writable for `n` bytes.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub unsafe extern "C" fn bzero(s: *mut c_void, n: usize) {
    // SAFETY: obligation 1.
    unsafe { cstr::memory_mut(s, n, "bzero") }.fill(0);
}

/// `explicit_bzero`: `bzero` the optimiser may not remove.
///
/// # Safety
/// 1. `s` writable for `n` bytes.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub unsafe extern "C" fn explicit_bzero(s: *mut c_void, n: usize) {
    for i in 0..n {
        // SAFETY: obligation 1; volatile so the stores stay.
        unsafe { ptr::write_volatile(s.cast::<u8>().add(i), 0) };
    }
}
