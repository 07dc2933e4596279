//! Wide classification and case mapping (wctype.h), ASCII only as in glibc's "C" locale.

use super::types::WInt;
use crate::cstr;
use crate::ctype::{class, classes_of};
use crate::locale::LocaleObject;
use core::ffi::{c_char, c_int};

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
