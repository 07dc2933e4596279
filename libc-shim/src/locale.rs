//! The "C" locale: glibc's `struct __locale_struct`, the locale functions libstdc++'s "gnu"
//! locale model calls, `setlocale`, `localeconv` and `nl_langinfo`.
//!
//! Rivet has one locale, "C" (also reached as "POSIX" and ""). Every `locale_t` handed out is the
//! same static object with glibc 2.36's layout, because libstdc++ reads its `__ctype_b`,
//! `__ctype_tolower` and `__ctype_toupper` fields inline. `nl_langinfo` answers with glibc's
//! C-locale values, including the `_NL_W*` wide strings and the word-valued items that libstdc++
//! reads through a union (e.g. the decimal point as a `wchar_t`). Non-goal: any other locale.

use crate::ctype::{CLASS_TABLE, LOWER_TABLE, UPPER_TABLE};
use crate::errno;
use core::ffi::{c_char, c_int, c_void, CStr};
use core::sync::atomic::{AtomicPtr, Ordering};

/// Number of locale categories in glibc (`__LC_LAST`).
const CATEGORIES: usize = 13;
/// `LC_ALL`.
const LC_ALL: c_int = 6;

/// glibc's `struct __locale_struct` (`<bits/types/__locale_t.h>`), field for field.
#[repr(C)]
pub struct LocaleObject {
    /// Per-category data (glibc's `struct __locale_data *`): unused by inline code; NULL here.
    locales: [*const c_void; CATEGORIES],
    /// The class table, as `*__ctype_b_loc()`.
    ctype_b: *const u16,
    /// The lower-case table, as `*__ctype_tolower_loc()`.
    ctype_tolower: *const i32,
    /// The upper-case table, as `*__ctype_toupper_loc()`.
    ctype_toupper: *const i32,
    /// Each category's locale name.
    names: [*const c_char; CATEGORIES],
}

/// The one locale object, shareable: nothing ever writes it.
#[repr(transparent)]
struct SharedLocale(LocaleObject);

// SAFETY: immutable after construction; its pointers lead to immutable statics.
unsafe impl Sync for SharedLocale {}

static C_NAME: &CStr = c"C";

static C_LOCALE: SharedLocale = SharedLocale(LocaleObject {
    locales: [core::ptr::null(); CATEGORIES],
    ctype_b: CLASS_TABLE.0,
    ctype_tolower: LOWER_TABLE.0,
    ctype_toupper: UPPER_TABLE.0,
    names: [c"C".as_ptr(); CATEGORIES],
});

/// The "C" locale as a `locale_t`.
pub fn c_locale() -> *mut LocaleObject {
    (&C_LOCALE.0 as *const LocaleObject).cast_mut()
}

/// glibc's `LC_GLOBAL_LOCALE`: `(locale_t) -1`.
const GLOBAL_LOCALE: *mut LocaleObject = usize::MAX as *mut LocaleObject;

/// What `uselocale` last installed (the same for every thread: there is only one locale).
static CURRENT: AtomicPtr<LocaleObject> = AtomicPtr::new(GLOBAL_LOCALE);

/// Whether `name` names the "C" locale.
fn is_c_locale(name: &[u8]) -> bool {
    matches!(name, b"" | b"C" | b"POSIX" | b"C.UTF-8" | b"C.utf8")
}

/// POSIX `newlocale`: the "C" locale for "C", "POSIX", "" (and "C.UTF-8", narrowed to "C");
/// NULL with ENOENT for any other name, EINVAL for a bad mask.
///
/// # Safety
/// 1. `name` is a string.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub unsafe extern "C" fn newlocale(
    mask: c_int,
    name: *const c_char,
    _base: *mut LocaleObject,
) -> *mut LocaleObject {
    if mask & !(((1 << CATEGORIES) - 1) | (1 << LC_ALL)) != 0 {
        errno::set(errno::EINVAL);
        return core::ptr::null_mut();
    }
    // SAFETY: obligation 1.
    let name = unsafe { crate::cstr::bytes(name, "newlocale") };
    if is_c_locale(name) {
        c_locale()
    } else {
        errno::set(errno::ENOENT);
        core::ptr::null_mut()
    }
}

/// glibc's alias of `newlocale`.
///
/// # Safety
/// 1. `name` is a string.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub unsafe extern "C" fn __newlocale(
    mask: c_int,
    name: *const c_char,
    base: *mut LocaleObject,
) -> *mut LocaleObject {
    // SAFETY: obligation 1.
    unsafe { newlocale(mask, name, base) }
}

/// POSIX `duplocale`: the same object (it is immutable).
#[cfg_attr(rivet_libc_export, no_mangle)]
pub extern "C" fn duplocale(_locale: *mut LocaleObject) -> *mut LocaleObject {
    c_locale()
}

/// glibc's alias of `duplocale`.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub extern "C" fn __duplocale(locale: *mut LocaleObject) -> *mut LocaleObject {
    duplocale(locale)
}

/// POSIX `freelocale`: nothing to free.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub extern "C" fn freelocale(_locale: *mut LocaleObject) {}

/// glibc's alias of `freelocale`.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub extern "C" fn __freelocale(_locale: *mut LocaleObject) {}

/// POSIX `uselocale`: installs `locale` unless NULL; returns the previous one
/// (`LC_GLOBAL_LOCALE` at first).
#[cfg_attr(rivet_libc_export, no_mangle)]
pub extern "C" fn uselocale(locale: *mut LocaleObject) -> *mut LocaleObject {
    if locale.is_null() {
        CURRENT.load(Ordering::Relaxed)
    } else {
        CURRENT.swap(locale, Ordering::Relaxed)
    }
}

/// glibc's alias of `uselocale`.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub extern "C" fn __uselocale(locale: *mut LocaleObject) -> *mut LocaleObject {
    uselocale(locale)
}

/// C `setlocale`: "C", "POSIX" and "" select (and stay) "C"; NULL queries; anything else fails.
///
/// # Safety
/// 1. `name` is NULL or a string.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub unsafe extern "C" fn setlocale(category: c_int, name: *const c_char) -> *mut c_char {
    if !(0..CATEGORIES as c_int).contains(&category) {
        errno::set(errno::EINVAL);
        return core::ptr::null_mut();
    }
    if name.is_null() {
        return C_NAME.as_ptr().cast_mut();
    }
    // SAFETY: obligation 1.
    let name = unsafe { crate::cstr::bytes(name, "setlocale") };
    if is_c_locale(name) {
        C_NAME.as_ptr().cast_mut()
    } else {
        core::ptr::null_mut()
    }
}

/// C `struct lconv`, glibc's field order.
#[repr(C)]
pub struct Lconv {
    decimal_point: *const c_char,
    thousands_sep: *const c_char,
    grouping: *const c_char,
    int_curr_symbol: *const c_char,
    currency_symbol: *const c_char,
    mon_decimal_point: *const c_char,
    mon_thousands_sep: *const c_char,
    mon_grouping: *const c_char,
    positive_sign: *const c_char,
    negative_sign: *const c_char,
    numbers: [c_char; 14],
}

/// The "C" locale's conventions, shareable: nothing writes it.
struct SharedLconv(Lconv);

// SAFETY: immutable; its pointers lead to string literals.
unsafe impl Sync for SharedLconv {}

/// `CHAR_MAX` for the platform's `char`: "not available" in `struct lconv`.
const CHAR_MAX: c_char = c_char::MAX;

static C_LCONV: SharedLconv = SharedLconv(Lconv {
    decimal_point: c".".as_ptr(),
    thousands_sep: c"".as_ptr(),
    grouping: c"".as_ptr(),
    int_curr_symbol: c"".as_ptr(),
    currency_symbol: c"".as_ptr(),
    mon_decimal_point: c"".as_ptr(),
    mon_thousands_sep: c"".as_ptr(),
    mon_grouping: c"".as_ptr(),
    positive_sign: c"".as_ptr(),
    negative_sign: c"".as_ptr(),
    numbers: [CHAR_MAX; 14],
});

/// C `localeconv`: the "C" locale's numeric and monetary conventions (callers must not write).
#[cfg_attr(rivet_libc_export, no_mangle)]
pub extern "C" fn localeconv() -> *mut Lconv {
    (&C_LCONV.0 as *const Lconv).cast_mut()
}

/// `MB_CUR_MAX` (glibc's `__ctype_get_mb_cur_max`): one byte per character in "C".
#[cfg_attr(rivet_libc_export, no_mangle)]
pub extern "C" fn __ctype_get_mb_cur_max() -> usize {
    1
}

/// A wide string as a static array (`wchar_t` is 32 bits on both targets).
const fn widen<const N: usize>(text: &[u8]) -> [u32; N] {
    let mut wide = [0u32; N];
    let mut i = 0;
    while i < text.len() {
        wide[i] = text[i] as u32;
        i += 1;
    }
    wide
}

macro_rules! wide {
    ($text:literal) => {{
        const TEXT: &[u8] = $text;
        static WIDE: [u32; TEXT.len() + 1] = widen(TEXT);
        WIDE.as_ptr()
    }};
}

macro_rules! wide_list {
    ($($text:literal),* $(,)?) => {
        [$(wide!($text)),*]
    };
}

/// The answer to one `nl_langinfo` item.
enum Answer {
    Text(&'static CStr),
    Wide(*const u32),
    Word(usize),
}

/// The "C" locale's days (strftime uses them too).
pub const DAYS: [&CStr; 7] =
    [c"Sunday", c"Monday", c"Tuesday", c"Wednesday", c"Thursday", c"Friday", c"Saturday"];
/// The "C" locale's abbreviated days (strftime uses them too).
pub const ABBREVIATED_DAYS: [&CStr; 7] = [c"Sun", c"Mon", c"Tue", c"Wed", c"Thu", c"Fri", c"Sat"];
/// The "C" locale's months (strftime uses them too).
pub const MONTHS: [&CStr; 12] = [
    c"January",
    c"February",
    c"March",
    c"April",
    c"May",
    c"June",
    c"July",
    c"August",
    c"September",
    c"October",
    c"November",
    c"December",
];
/// The "C" locale's abbreviated months (strftime uses them too).
pub const ABBREVIATED_MONTHS: [&CStr; 12] = [
    c"Jan", c"Feb", c"Mar", c"Apr", c"May", c"Jun", c"Jul", c"Aug", c"Sep", c"Oct", c"Nov", c"Dec",
];

/// The codeset glibc names for "C".
const CODESET: &CStr = c"ANSI_X3.4-1968";

/// The answer for `item` (`category << 16 | index`, glibc's `_NL_ITEM`), or None if unknown.
fn answer(item: c_int) -> Option<Answer> {
    let category = item >> 16;
    let index = (item & 0xffff) as usize;
    let wide_days: [*const u32; 7] = wide_list![
        b"Sunday",
        b"Monday",
        b"Tuesday",
        b"Wednesday",
        b"Thursday",
        b"Friday",
        b"Saturday"
    ];
    let wide_abbreviated_days: [*const u32; 7] =
        wide_list![b"Sun", b"Mon", b"Tue", b"Wed", b"Thu", b"Fri", b"Sat"];
    let wide_months: [*const u32; 12] = wide_list![
        b"January",
        b"February",
        b"March",
        b"April",
        b"May",
        b"June",
        b"July",
        b"August",
        b"September",
        b"October",
        b"November",
        b"December",
    ];
    let wide_abbreviated_months: [*const u32; 12] = wide_list![
        b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov",
        b"Dec"
    ];
    let empty_wide = wide!(b"");
    use Answer::{Text, Wide, Word};
    Some(match (category, index) {
        // LC_CTYPE: _NL_CTYPE_MB_CUR_MAX, CODESET.
        (0, 13) => Word(1),
        (0, 14) => Text(CODESET),
        (0, _) if index < 86 => Text(c""),
        // LC_NUMERIC: RADIXCHAR, THOUSEP, GROUPING, the two as wchar_t words, the codeset.
        (1, 0) => Text(c"."),
        (1, 1 | 2) => Text(c""),
        (1, 3) => Word(usize::from(b'.')),
        (1, 4) => Word(0),
        (1, 5) => Text(CODESET),
        // LC_TIME.
        (2, 0..=6) => Text(ABBREVIATED_DAYS[index]),
        (2, 7..=13) => Text(DAYS[index - 7]),
        (2, 14..=25) => Text(ABBREVIATED_MONTHS[index - 14]),
        (2, 26..=37) => Text(MONTHS[index - 26]),
        (2, 38) => Text(c"AM"),
        (2, 39) => Text(c"PM"),
        (2, 40) => Text(c"%a %b %e %H:%M:%S %Y"),
        (2, 41) => Text(c"%m/%d/%y"),
        (2, 42) => Text(c"%H:%M:%S"),
        (2, 43) => Text(c"%I:%M:%S %p"),
        (2, 44..=49 | 51) => Text(c""),
        (2, 50) => Word(0),
        (2, 52..=58) => Wide(wide_abbreviated_days[index - 52]),
        (2, 59..=65) => Wide(wide_days[index - 59]),
        (2, 66..=77) => Wide(wide_abbreviated_months[index - 66]),
        (2, 78..=89) => Wide(wide_months[index - 78]),
        (2, 90) => Wide(wide!(b"AM")),
        (2, 91) => Wide(wide!(b"PM")),
        (2, 92) => Wide(wide!(b"%a %b %e %H:%M:%S %Y")),
        (2, 93) => Wide(wide!(b"%m/%d/%y")),
        (2, 94) => Wide(wide!(b"%H:%M:%S")),
        (2, 95) => Wide(wide!(b"%I:%M:%S %p")),
        (2, 96..=100) => Wide(empty_wide),
        (2, 101) => Text(c"\x07"),
        (2, 102) => Word(19_971_130),
        (2, 103) => Text(c"\x04"),
        (2, 104) => Text(c"\x01"),
        (2, 105) => Text(c"\x02"),
        (2, 106) => Text(c"\x01"),
        (2, 107) => Text(c""),
        (2, 108) => Text(c"%a %b %e %H:%M:%S %Z %Y"),
        (2, 109) => Wide(wide!(b"%a %b %e %H:%M:%S %Z %Y")),
        (2, 110) => Text(CODESET),
        (2, 111..=122) => Text(MONTHS[index - 111]),
        (2, 123..=134) => Wide(wide_months[index - 123]),
        (2, 135..=146) => Text(ABBREVIATED_MONTHS[index - 135]),
        (2, 147..=158) => Wide(wide_abbreviated_months[index - 147]),
        // LC_COLLATE: nothing to report.
        (3, _) if index < 19 => Text(c""),
        // LC_MONETARY.
        (4, 0..=6 | 22 | 23) => Text(c""),
        (4, 7..=14 | 16..=21 | 24..=37) => Text(c"\xff"),
        (4, 15) => Text(c"-"),
        (4, 38 | 40) => Word(10_101),
        (4, 39 | 41) => Word(99_991_231),
        (4, 43 | 44) => Word(0),
        (4, 45) => Text(CODESET),
        // LC_MESSAGES: YESEXPR, NOEXPR, YESSTR, NOSTR, codeset.
        (5, 0) => Text(c"^[yY]"),
        (5, 1) => Text(c"^[nN]"),
        (5, 2 | 3) => Text(c""),
        (5, 4) => Text(CODESET),
        _ => return None,
    })
}

/// POSIX `nl_langinfo` for the "C" locale ("" for an unknown item, as glibc).
#[cfg_attr(rivet_libc_export, no_mangle)]
pub extern "C" fn nl_langinfo(item: c_int) -> *mut c_char {
    match answer(item) {
        Some(Answer::Text(text)) => text.as_ptr().cast_mut(),
        Some(Answer::Wide(wide)) => wide.cast::<c_char>().cast_mut(),
        Some(Answer::Word(word)) => word as *mut c_char,
        None => c"".as_ptr().cast_mut(),
    }
}

/// POSIX `nl_langinfo_l`.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub extern "C" fn nl_langinfo_l(item: c_int, _locale: *mut LocaleObject) -> *mut c_char {
    nl_langinfo(item)
}

/// glibc's `__nl_langinfo_l` (what libstdc++ calls).
#[cfg_attr(rivet_libc_export, no_mangle)]
pub extern "C" fn __nl_langinfo_l(item: c_int, _locale: *mut LocaleObject) -> *mut c_char {
    nl_langinfo(item)
}

/// glibc's `__strcoll_l`: `strcmp` in "C".
///
/// # Safety
/// 1. Both are strings.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub unsafe extern "C" fn __strcoll_l(
    a: *const c_char,
    b: *const c_char,
    _locale: *mut LocaleObject,
) -> c_int {
    // SAFETY: obligation 1.
    unsafe { crate::string::strcmp(a, b) }
}

/// POSIX `strcoll_l`.
///
/// # Safety
/// 1. Both are strings.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub unsafe extern "C" fn strcoll_l(
    a: *const c_char,
    b: *const c_char,
    _locale: *mut LocaleObject,
) -> c_int {
    // SAFETY: obligation 1.
    unsafe { crate::string::strcmp(a, b) }
}

/// glibc's `__strxfrm_l`: a copy in "C".
///
/// # Safety
/// 1. `src` is a string; `dst` writable for `n` bytes.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub unsafe extern "C" fn __strxfrm_l(
    dst: *mut c_char,
    src: *const c_char,
    n: usize,
    _locale: *mut LocaleObject,
) -> usize {
    // SAFETY: obligation 1.
    unsafe { crate::string::strxfrm(dst, src, n) }
}

/// POSIX `strxfrm_l`.
///
/// # Safety
/// 1. `src` is a string; `dst` writable for `n` bytes.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub unsafe extern "C" fn strxfrm_l(
    dst: *mut c_char,
    src: *const c_char,
    n: usize,
    _locale: *mut LocaleObject,
) -> usize {
    // SAFETY: obligation 1.
    unsafe { crate::string::strxfrm(dst, src, n) }
}
