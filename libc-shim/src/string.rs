//! string.h: searching, comparing, copying and tokenising bytes and C strings.
//!
//! Not here: `memcpy`, `memmove`, `memset`, `memcmp`, `bcmp` and `strlen`, which the Rust
//! toolchain's `compiler_builtins` already exports on the bare targets (weak symbols; defining
//! them in Rust again invites the compiler to turn their loops into calls to themselves).
//! Each function converts its pointers to slices at the boundary (`cstr`) and works on slices.

use crate::cstr;
use crate::ctype::to_lower;
use core::ffi::{c_char, c_int, c_void};
use core::ptr;

extern "C" {
    fn malloc(size: usize) -> *mut c_void;
}

/// Offset of `byte` in `haystack`, a plain loop the compiler can vectorise.
fn find_byte(haystack: &[u8], byte: u8) -> Option<usize> {
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

/// Copies `len` bytes then a NUL; returns the NUL's address.
///
/// # Safety
/// 1. `src` readable for `len` bytes, `dst` writable for `len + 1`.
unsafe fn copy_terminated(
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
