//! Searching bytes and strings: mem*chr, memmem, strchr family, strstr, spans, tokens.

use crate::cstr;
use crate::ctype::to_lower;
use core::ffi::{c_char, c_int, c_void};
use core::ptr;

/// Offset of `byte` in `haystack`, a plain loop the compiler can vectorise.
pub(super) fn find_byte(haystack: &[u8], byte: u8) -> Option<usize> {
    haystack.iter().position(|&b| b == byte)
}

/// C `memchr`: the first `c` (as unsigned char) in `n` bytes at `s`.
///
/// # Safety
/// 1. `s` is readable for `n` bytes (the search may stop early, but C allows the whole range).
#[cfg_attr(rivet_libc_export, no_mangle)]
pub unsafe extern "C" fn memchr(s: *const c_void, c: c_int, n: usize) -> *mut c_void {
    // SAFETY: obligation 1.
    let bytes = unsafe { cstr::memory(s, n, "memchr") };
    match find_byte(bytes, c as u8) {
        Some(at) => s.cast::<u8>().wrapping_add(at).cast_mut().cast(),
        None => ptr::null_mut(),
    }
}

/// GNU `memrchr`: the last `c` in `n` bytes at `s`.
///
/// # Safety
/// 1. `s` is readable for `n` bytes.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub unsafe extern "C" fn memrchr(s: *const c_void, c: c_int, n: usize) -> *mut c_void {
    // SAFETY: obligation 1.
    let bytes = unsafe { cstr::memory(s, n, "memrchr") };
    match bytes.iter().rposition(|&b| b == c as u8) {
        Some(at) => s.cast::<u8>().wrapping_add(at).cast_mut().cast(),
        None => ptr::null_mut(),
    }
}

/// GNU `rawmemchr`: `c` at or after `s`, which must be there.
///
/// # Safety
/// 1. `s` is readable up to and including a byte equal to `c`.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub unsafe extern "C" fn rawmemchr(s: *const c_void, c: c_int) -> *mut c_void {
    assert!(!s.is_null(), "rawmemchr: NULL buffer");
    let mut at = s.cast::<u8>();
    // SAFETY: obligation 1: every byte until the match is readable.
    while unsafe { *at } != c as u8 {
        at = at.wrapping_add(1);
    }
    at.cast_mut().cast()
}

/// Where `needle` first occurs in `haystack` (an empty needle matches at 0).
fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() {
        return Some(0);
    }
    if needle.len() > haystack.len() {
        return None;
    }
    let first = needle[0];
    let last_start = haystack.len() - needle.len();
    let mut at = 0;
    while at <= last_start {
        match find_byte(&haystack[at..=last_start], first) {
            None => return None,
            Some(offset) => {
                at += offset;
                if &haystack[at..at + needle.len()] == needle {
                    return Some(at);
                }
                at += 1;
            }
        }
    }
    None
}

/// GNU `memmem`: the first occurrence of `needle` in `haystack`.
///
/// # Safety
/// 1. The two buffers are readable for their lengths.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub unsafe extern "C" fn memmem(
    haystack: *const c_void,
    haystack_len: usize,
    needle: *const c_void,
    needle_len: usize,
) -> *mut c_void {
    // SAFETY: obligation 1.
    let (hay, pin) = unsafe {
        (cstr::memory(haystack, haystack_len, "memmem"), cstr::memory(needle, needle_len, "memmem"))
    };
    match find(hay, pin) {
        Some(at) => haystack.cast::<u8>().wrapping_add(at).cast_mut().cast(),
        None => ptr::null_mut(),
    }
}

/// POSIX `strnlen`: the length of `s`, at most `limit`.
///
/// # Safety
/// 1. `s` is readable up to its NUL or `limit` bytes.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub unsafe extern "C" fn strnlen(s: *const c_char, limit: usize) -> usize {
    // SAFETY: obligation 1.
    unsafe { cstr::bytes_bounded(s, limit, "strnlen") }.len()
}

/// C `strchr`: the first `c` in `s` (the terminator when `c` is 0).
///
/// # Safety
/// 1. `s` is a string.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub unsafe extern "C" fn strchr(s: *const c_char, c: c_int) -> *mut c_char {
    // SAFETY: obligation 1.
    let bytes = unsafe { cstr::bytes(s, "strchr") };
    let byte = c as u8;
    let at = if byte == 0 { Some(bytes.len()) } else { find_byte(bytes, byte) };
    at.map_or(ptr::null_mut(), |at| s.wrapping_add(at).cast_mut())
}

/// C `strrchr`: the last `c` in `s`.
///
/// # Safety
/// 1. `s` is a string.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub unsafe extern "C" fn strrchr(s: *const c_char, c: c_int) -> *mut c_char {
    // SAFETY: obligation 1.
    let bytes = unsafe { cstr::bytes(s, "strrchr") };
    let byte = c as u8;
    let at = if byte == 0 { Some(bytes.len()) } else { bytes.iter().rposition(|&b| b == byte) };
    at.map_or(ptr::null_mut(), |at| s.wrapping_add(at).cast_mut())
}

/// GNU `strchrnul`: `strchr`, or the terminator instead of NULL.
///
/// # Safety
/// 1. `s` is a string.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub unsafe extern "C" fn strchrnul(s: *const c_char, c: c_int) -> *mut c_char {
    // SAFETY: obligation 1.
    let bytes = unsafe { cstr::bytes(s, "strchrnul") };
    let at = find_byte(bytes, c as u8).unwrap_or(bytes.len());
    s.wrapping_add(at).cast_mut()
}

/// BSD `index`: `strchr`.
///
/// # Safety
/// 1. `s` is a string.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub unsafe extern "C" fn index(s: *const c_char, c: c_int) -> *mut c_char {
    // SAFETY: obligation 1.
    unsafe { strchr(s, c) }
}

/// BSD `rindex`: `strrchr`.
///
/// # Safety
/// 1. `s` is a string.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub unsafe extern "C" fn rindex(s: *const c_char, c: c_int) -> *mut c_char {
    // SAFETY: obligation 1.
    unsafe { strrchr(s, c) }
}

/// C `strstr`.
///
/// # Safety
/// 1. Both are strings.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub unsafe extern "C" fn strstr(haystack: *const c_char, needle: *const c_char) -> *mut c_char {
    // SAFETY: obligation 1.
    let (hay, pin) = unsafe { (cstr::bytes(haystack, "strstr"), cstr::bytes(needle, "strstr")) };
    find(hay, pin).map_or(ptr::null_mut(), |at| haystack.wrapping_add(at).cast_mut())
}

/// GNU `strcasestr`: `strstr` ignoring ASCII case.
///
/// # Safety
/// 1. Both are strings.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub unsafe extern "C" fn strcasestr(haystack: *const c_char, needle: *const c_char) -> *mut c_char {
    // SAFETY: obligation 1.
    let (hay, pin) =
        unsafe { (cstr::bytes(haystack, "strcasestr"), cstr::bytes(needle, "strcasestr")) };
    let at = (0..=hay.len().saturating_sub(pin.len()))
        .filter(|&at| at + pin.len() <= hay.len())
        .find(|&at| {
            hay[at..at + pin.len()].iter().zip(pin).all(|(x, y)| to_lower(*x) == to_lower(*y))
        });
    at.map_or(ptr::null_mut(), |at| haystack.wrapping_add(at).cast_mut())
}

/// A 256-bit set of bytes.
struct ByteSet([u64; 4]);

impl ByteSet {
    fn of(bytes: &[u8]) -> ByteSet {
        let mut set = ByteSet([0; 4]);
        for &b in bytes {
            set.0[usize::from(b >> 6)] |= 1 << (b & 63);
        }
        set
    }

    fn contains(&self, b: u8) -> bool {
        self.0[usize::from(b >> 6)] & (1 << (b & 63)) != 0
    }
}

/// The length of the prefix of `s` whose bytes are (`inside`) or are not in `set`.
fn span(s: &[u8], set: &[u8], inside: bool) -> usize {
    let set = ByteSet::of(set);
    s.iter().position(|&b| set.contains(b) != inside).unwrap_or(s.len())
}

/// C `strspn`.
///
/// # Safety
/// 1. Both are strings.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub unsafe extern "C" fn strspn(s: *const c_char, accept: *const c_char) -> usize {
    // SAFETY: obligation 1.
    unsafe { span(cstr::bytes(s, "strspn"), cstr::bytes(accept, "strspn"), true) }
}

/// C `strcspn`.
///
/// # Safety
/// 1. Both are strings.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub unsafe extern "C" fn strcspn(s: *const c_char, reject: *const c_char) -> usize {
    // SAFETY: obligation 1.
    unsafe { span(cstr::bytes(s, "strcspn"), cstr::bytes(reject, "strcspn"), false) }
}

/// C `strpbrk`.
///
/// # Safety
/// 1. Both are strings.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub unsafe extern "C" fn strpbrk(s: *const c_char, accept: *const c_char) -> *mut c_char {
    // SAFETY: obligation 1.
    let (bytes, set) = unsafe { (cstr::bytes(s, "strpbrk"), cstr::bytes(accept, "strpbrk")) };
    let at = span(bytes, set, false);
    if at == bytes.len() {
        ptr::null_mut()
    } else {
        s.wrapping_add(at).cast_mut()
    }
}

/// POSIX `strtok_r`: the next token of `s` (or of `*save` when `s` is NULL).
///
/// # Safety
/// 1. `s` (or `*save`) is a writable string, `delim` a string, `save` writable.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub unsafe extern "C" fn strtok_r(
    s: *mut c_char,
    delim: *const c_char,
    save: *mut *mut c_char,
) -> *mut c_char {
    assert!(!save.is_null(), "strtok_r: NULL save pointer");
    // SAFETY: obligation 1.
    let start = if s.is_null() { unsafe { *save } } else { s };
    if start.is_null() {
        return ptr::null_mut();
    }
    // SAFETY: obligation 1.
    let (text, set) = unsafe { (cstr::bytes(start, "strtok_r"), cstr::bytes(delim, "strtok_r")) };
    let skip = span(text, set, true);
    if skip == text.len() {
        // SAFETY: obligation 1.
        unsafe { *save = start.add(skip) };
        return ptr::null_mut();
    }
    let token = start.wrapping_add(skip);
    let len = span(&text[skip..], set, false);
    // SAFETY: obligation 1: the token's end is within the writable string.
    unsafe {
        let end = token.add(len);
        if *end != 0 {
            *end = 0;
            *save = end.add(1);
        } else {
            *save = end;
        }
    }
    token
}

/// `strtok`'s position between calls (C's strtok is not thread-safe either).
static STRTOK_SAVE: core::sync::atomic::AtomicPtr<c_char> =
    core::sync::atomic::AtomicPtr::new(ptr::null_mut());

/// C `strtok`.
///
/// # Safety
/// 1. As `strtok_r`; not called concurrently.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub unsafe extern "C" fn strtok(s: *mut c_char, delim: *const c_char) -> *mut c_char {
    use core::sync::atomic::Ordering::Relaxed;
    let mut save = STRTOK_SAVE.load(Relaxed);
    // SAFETY: obligation 1.
    let token = unsafe { strtok_r(s, delim, &mut save) };
    STRTOK_SAVE.store(save, Relaxed);
    token
}

/// BSD `strsep`: splits `*stringp` at the first delimiter.
///
/// # Safety
/// 1. `stringp` is writable and `*stringp` NULL or a writable string; `delim` a string.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub unsafe extern "C" fn strsep(stringp: *mut *mut c_char, delim: *const c_char) -> *mut c_char {
    assert!(!stringp.is_null(), "strsep: NULL string pointer");
    // SAFETY: obligation 1.
    let start = unsafe { *stringp };
    if start.is_null() {
        return start;
    }
    // SAFETY: obligation 1.
    let (text, set) = unsafe { (cstr::bytes(start, "strsep"), cstr::bytes(delim, "strsep")) };
    let len = span(text, set, false);
    // SAFETY: obligation 1: the delimiter found lies within the string.
    unsafe {
        if len == text.len() {
            *stringp = ptr::null_mut();
        } else {
            *start.add(len) = 0;
            *stringp = start.add(len + 1);
        }
    }
    start
}

/// POSIX `ffs`: the 1-based index of the lowest set bit, 0 for 0.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub extern "C" fn ffs(value: c_int) -> c_int {
    if value == 0 {
        0
    } else {
        value.trailing_zeros() as c_int + 1
    }
}

/// GNU `ffsl`.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub extern "C" fn ffsl(value: core::ffi::c_long) -> c_int {
    if value == 0 {
        0
    } else {
        value.trailing_zeros() as c_int + 1
    }
}

/// GNU `ffsll`.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub extern "C" fn ffsll(value: core::ffi::c_longlong) -> c_int {
    if value == 0 {
        0
    } else {
        value.trailing_zeros() as c_int + 1
    }
}
