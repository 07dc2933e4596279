//! wchar.h and wctype.h for the "C" locale: wide strings, conversions, classification.
//!
//! In glibc's "C" locale the multibyte encoding is ASCII: bytes 0..=0x7f are the characters of
//! the same value, everything else is an encoding error (EILSEQ), and the wide classification
//! and case mapping know ASCII only. `mbstate_t` therefore never holds state. `wchar_t` is 32
//! bits on both targets; its signedness follows `char`'s on these Linux ABIs (signed on x86_64,
//! unsigned on aarch64), which is how comparisons pick it without naming an architecture.

use crate::cstr;
use crate::ctype::{class, classes_of};
use crate::errno;
use crate::locale::LocaleObject;
use core::cmp::Ordering;
use core::ffi::{c_char, c_int, c_void};
use core::ptr;

/// C `wchar_t` as stored (see the module note for its sign).
pub type WChar = u32;
/// C `wint_t`.
pub type WInt = u32;
/// `WEOF`.
pub const WEOF: WInt = 0xffff_ffff;
/// Whether `wchar_t` is signed (it matches `char` on both targets' ABIs).
const WCHAR_SIGNED: bool = c_char::MIN != 0;

/// Orders two `wchar_t` values with the platform's signedness.
fn order(a: WChar, b: WChar) -> Ordering {
    if WCHAR_SIGNED {
        (a as i32).cmp(&(b as i32))
    } else {
        a.cmp(&b)
    }
}

fn ordering_to_int(ordering: Ordering) -> c_int {
    ordering as c_int
}

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

/// The class names `wctype` knows, in the order of the handles it returns (1-based).
const CLASS_NAMES: [(&[u8], u16); 12] = [
    (b"alnum", class::ALNUM),
    (b"alpha", class::ALPHA),
    (b"blank", class::BLANK),
    (b"cntrl", class::CNTRL),
    (b"digit", class::DIGIT),
    (b"graph", class::GRAPH),
    (b"lower", class::LOWER),
    (b"print", class::PRINT),
    (b"punct", class::PUNCT),
    (b"space", class::SPACE),
    (b"upper", class::UPPER),
    (b"xdigit", class::XDIGIT),
];

/// C `wctype`: an opaque handle for a class name (index + 1), 0 if unknown.
///
/// # Safety
/// 1. `name` is a string.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub unsafe extern "C" fn wctype(name: *const c_char) -> usize {
    // SAFETY: obligation 1.
    let name = unsafe { cstr::bytes(name, "wctype") };
    CLASS_NAMES.iter().position(|(n, _)| *n == name).map_or(0, |index| index + 1)
}

/// glibc's `__wctype_l`.
///
/// # Safety
/// 1. `name` is a string.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub unsafe extern "C" fn __wctype_l(name: *const c_char, _locale: *mut LocaleObject) -> usize {
    // SAFETY: obligation 1.
    unsafe { wctype(name) }
}

/// POSIX `wctype_l`.
///
/// # Safety
/// 1. `name` is a string.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub unsafe extern "C" fn wctype_l(name: *const c_char, _locale: *mut LocaleObject) -> usize {
    // SAFETY: obligation 1.
    unsafe { wctype(name) }
}

/// The classes of a wide character: ASCII's, none beyond.
fn wide_classes(c: WInt) -> u16 {
    if c < 0x80 {
        classes_of(c as u8)
    } else {
        0
    }
}

/// C `iswctype`.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub extern "C" fn iswctype(c: WInt, handle: usize) -> c_int {
    let Some(&(_, mask)) = handle.checked_sub(1).and_then(|index| CLASS_NAMES.get(index)) else {
        return 0;
    };
    c_int::from(wide_classes(c) & mask != 0)
}

/// glibc's `__iswctype_l`.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub extern "C" fn __iswctype_l(c: WInt, handle: usize, _locale: *mut LocaleObject) -> c_int {
    iswctype(c, handle)
}

/// POSIX `iswctype_l`.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub extern "C" fn iswctype_l(c: WInt, handle: usize, _locale: *mut LocaleObject) -> c_int {
    iswctype(c, handle)
}

macro_rules! wide_class_functions {
    ($($name:ident, $mask:expr;)*) => {$(
        /// The wctype.h classification of the same name, "C" locale (ASCII only).
        #[cfg_attr(rivet_libc_export, no_mangle)]
        pub extern "C" fn $name(c: WInt) -> c_int {
            c_int::from(wide_classes(c) & $mask != 0)
        }
    )*};
}

wide_class_functions! {
    iswalnum, class::ALNUM;
    iswalpha, class::ALPHA;
    iswblank, class::BLANK;
    iswcntrl, class::CNTRL;
    iswdigit, class::DIGIT;
    iswgraph, class::GRAPH;
    iswlower, class::LOWER;
    iswprint, class::PRINT;
    iswpunct, class::PUNCT;
    iswspace, class::SPACE;
    iswupper, class::UPPER;
    iswxdigit, class::XDIGIT;
}

/// C `towlower` (ASCII letters only, as glibc's "C" locale).
#[cfg_attr(rivet_libc_export, no_mangle)]
pub extern "C" fn towlower(c: WInt) -> WInt {
    if (u32::from(b'A')..=u32::from(b'Z')).contains(&c) {
        c + 32
    } else {
        c
    }
}

/// C `towupper`.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub extern "C" fn towupper(c: WInt) -> WInt {
    if (u32::from(b'a')..=u32::from(b'z')).contains(&c) {
        c - 32
    } else {
        c
    }
}

/// glibc's `__towlower_l`.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub extern "C" fn __towlower_l(c: WInt, _locale: *mut LocaleObject) -> WInt {
    towlower(c)
}

/// glibc's `__towupper_l`.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub extern "C" fn __towupper_l(c: WInt, _locale: *mut LocaleObject) -> WInt {
    towupper(c)
}

/// POSIX `towlower_l`.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub extern "C" fn towlower_l(c: WInt, _locale: *mut LocaleObject) -> WInt {
    towlower(c)
}

/// POSIX `towupper_l`.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub extern "C" fn towupper_l(c: WInt, _locale: *mut LocaleObject) -> WInt {
    towupper(c)
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
