//! The unsafe door for C strings and buffers: raw pointers from C become slices here.
//!
//! Every C function of the shim that takes a string or a buffer turns it into a slice with these
//! helpers at its boundary and works on slices after that. NULL where C forbids it is a clean
//! panic naming the function, not undefined behaviour.

use core::ffi::c_char;

/// The bytes of the NUL-terminated string at `string`, without the NUL.
///
/// # Safety
/// 1. `string` is NULL or points to a NUL-terminated string that stays unchanged and valid for
///    `'a`.
pub unsafe fn bytes<'a>(string: *const c_char, function: &str) -> &'a [u8] {
    assert!(!string.is_null(), "{function}: NULL string");
    // SAFETY: obligation 1, and not NULL (checked above).
    unsafe { core::ffi::CStr::from_ptr(string) }.to_bytes()
}

/// The bytes of the string at `string`, at most `limit` of them (stops at a NUL).
///
/// # Safety
/// 1. `string` is NULL or points to memory readable up to its first NUL or `limit` bytes,
///    whichever comes first, unchanged for `'a`.
pub unsafe fn bytes_bounded<'a>(string: *const c_char, limit: usize, function: &str) -> &'a [u8] {
    if limit == 0 {
        return &[];
    }
    assert!(!string.is_null(), "{function}: NULL string");
    let mut len = 0;
    // SAFETY: obligation 1: every byte up to the first NUL or `limit` is readable.
    while len < limit && unsafe { *string.add(len) } != 0 {
        len += 1;
    }
    // SAFETY: the `len` bytes were just read (obligation 1).
    unsafe { core::slice::from_raw_parts(string.cast::<u8>(), len) }
}

/// `len` bytes at `memory` as a slice (empty when `len` is 0, whatever the pointer).
///
/// # Safety
/// 1. If `len` > 0, `memory` is readable for `len` bytes, unchanged for `'a`.
pub unsafe fn memory<'a>(memory: *const core::ffi::c_void, len: usize, function: &str) -> &'a [u8] {
    if len == 0 {
        return &[];
    }
    assert!(!memory.is_null(), "{function}: NULL buffer");
    // SAFETY: obligation 1, not NULL.
    unsafe { core::slice::from_raw_parts(memory.cast::<u8>(), len) }
}

/// `len` writable bytes at `memory` (empty when `len` is 0).
///
/// # Safety
/// 1. If `len` > 0, `memory` is writable for `len` bytes and not otherwise referenced for `'a`.
pub unsafe fn memory_mut<'a>(
    memory: *mut core::ffi::c_void,
    len: usize,
    function: &str,
) -> &'a mut [u8] {
    if len == 0 {
        return &mut [];
    }
    assert!(!memory.is_null(), "{function}: NULL buffer");
    // SAFETY: obligation 1, not NULL.
    unsafe { core::slice::from_raw_parts_mut(memory.cast::<u8>(), len) }
}

/// The units of the NUL-terminated wide string at `string`, without the NUL.
///
/// # Safety
/// 1. `string` is NULL or points to a 0-terminated array of 32-bit units, unchanged for `'a`.
pub unsafe fn wide<'a>(string: *const u32, function: &str) -> &'a [u32] {
    assert!(!string.is_null(), "{function}: NULL wide string");
    let mut len = 0;
    // SAFETY: obligation 1: every unit up to the terminator is readable.
    while unsafe { *string.add(len) } != 0 {
        len += 1;
    }
    // SAFETY: the `len` units were just read.
    unsafe { core::slice::from_raw_parts(string, len) }
}

/// The units of the wide string at `string`, at most `limit`.
///
/// # Safety
/// 1. `string` is readable up to its terminator or `limit` units.
pub unsafe fn wide_bounded<'a>(string: *const u32, limit: usize, function: &str) -> &'a [u32] {
    if limit == 0 {
        return &[];
    }
    assert!(!string.is_null(), "{function}: NULL wide string");
    let mut len = 0;
    // SAFETY: obligation 1.
    while len < limit && unsafe { *string.add(len) } != 0 {
        len += 1;
    }
    // SAFETY: the `len` units were just read.
    unsafe { core::slice::from_raw_parts(string, len) }
}

/// `len` units at `memory` (empty when `len` is 0).
///
/// # Safety
/// 1. If `len` > 0, `memory` is readable for `len` units, unchanged for `'a`.
pub unsafe fn units<'a>(memory: *const u32, len: usize, function: &str) -> &'a [u32] {
    if len == 0 {
        return &[];
    }
    assert!(!memory.is_null(), "{function}: NULL buffer");
    // SAFETY: obligation 1.
    unsafe { core::slice::from_raw_parts(memory, len) }
}
