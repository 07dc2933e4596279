//! ctype.h for the "C" locale: the classification functions and glibc's lookup tables.
//!
//! C and C++ code compiled against glibc's headers often classifies inline, through
//! `(*__ctype_b_loc())[c] & _ISalpha` and `(*__ctype_tolower_loc())[c]`, so the tables must have
//! glibc's shape: 384 entries covering -128..=255 (signed `char` values and EOF), the pointer
//! aimed at entry 0, and the class bits where glibc's `<ctype.h>` puts them on a little-endian
//! machine (both Rivet targets are: its `_ISbit` macro swaps the two bytes of the mask).

use core::ffi::c_int;

/// The class bits, as glibc's `<ctype.h>` defines them for little-endian machines.
pub mod class {
    /// `_ISupper`.
    pub const UPPER: u16 = 1 << 8;
    /// `_ISlower`.
    pub const LOWER: u16 = 1 << 9;
    /// `_ISalpha`.
    pub const ALPHA: u16 = 1 << 10;
    /// `_ISdigit`.
    pub const DIGIT: u16 = 1 << 11;
    /// `_ISxdigit`.
    pub const XDIGIT: u16 = 1 << 12;
    /// `_ISspace`.
    pub const SPACE: u16 = 1 << 13;
    /// `_ISprint`.
    pub const PRINT: u16 = 1 << 14;
    /// `_ISgraph`.
    pub const GRAPH: u16 = 1 << 15;
    /// `_ISblank`.
    pub const BLANK: u16 = 1 << 0;
    /// `_IScntrl`.
    pub const CNTRL: u16 = 1 << 1;
    /// `_ISpunct`.
    pub const PUNCT: u16 = 1 << 2;
    /// `_ISalnum`.
    pub const ALNUM: u16 = 1 << 3;
}

/// The classes of one ASCII byte (0 outside ASCII: the "C" locale knows nothing there).
pub const fn classes_of(byte: u8) -> u16 {
    use class::*;
    let mut bits = 0;
    if byte.is_ascii_uppercase() {
        bits |= UPPER | ALPHA | ALNUM | PRINT | GRAPH;
    }
    if byte.is_ascii_lowercase() {
        bits |= LOWER | ALPHA | ALNUM | PRINT | GRAPH;
    }
    if byte.is_ascii_digit() {
        bits |= DIGIT | ALNUM | PRINT | GRAPH;
    }
    if byte.is_ascii_hexdigit() {
        bits |= XDIGIT;
    }
    if byte.is_ascii_punctuation() {
        bits |= PUNCT | PRINT | GRAPH;
    }
    if byte == b' ' {
        bits |= PRINT | SPACE | BLANK;
    }
    if byte == b'\t' {
        bits |= BLANK;
    }
    if matches!(byte, b'\t' | b'\n' | 0x0b | 0x0c | b'\r') {
        bits |= SPACE;
    }
    if byte < 0x20 || byte == 0x7f {
        bits |= CNTRL;
    }
    bits
}

/// Entries in each table: -128..=255.
const TABLE_LEN: usize = 384;
/// Index of the entry for value 0.
const ZERO: usize = 128;

const fn build_classes() -> [u16; TABLE_LEN] {
    let mut table = [0u16; TABLE_LEN];
    let mut value = 0;
    while value < 128 {
        table[ZERO + value] = classes_of(value as u8);
        value += 1;
    }
    table
}

/// Builds a case table: ASCII letters mapped, EOF (-1) and 128..=255 to themselves, and the
/// other negative (signed `char`) values to their unsigned byte, as glibc's tables do.
const fn build_case(to_upper: bool) -> [i32; TABLE_LEN] {
    let mut table = [0i32; TABLE_LEN];
    let mut index = 0;
    while index < TABLE_LEN {
        let value = index as i32 - ZERO as i32;
        table[index] = if value >= 0 && value < 128 {
            let byte = value as u8;
            (if to_upper { byte.to_ascii_uppercase() } else { byte.to_ascii_lowercase() }) as i32
        } else if value < -1 {
            value + 256
        } else {
            value
        };
        index += 1;
    }
    table
}

static CLASSES: [u16; TABLE_LEN] = build_classes();
static TO_LOWER: [i32; TABLE_LEN] = build_case(false);
static TO_UPPER: [i32; TABLE_LEN] = build_case(true);

/// A pointer C reads through, shareable between threads because the tables never change.
#[repr(transparent)]
pub struct TablePointer<T>(pub *const T);

// SAFETY: it points into an immutable static.
unsafe impl<T> Sync for TablePointer<T> {}

/// `*__ctype_b_loc()`: the class table, aimed at value 0.
pub static CLASS_TABLE: TablePointer<u16> = TablePointer(CLASSES.as_ptr().wrapping_add(ZERO));
/// `*__ctype_tolower_loc()`.
pub static LOWER_TABLE: TablePointer<i32> = TablePointer(TO_LOWER.as_ptr().wrapping_add(ZERO));
/// `*__ctype_toupper_loc()`.
pub static UPPER_TABLE: TablePointer<i32> = TablePointer(TO_UPPER.as_ptr().wrapping_add(ZERO));

/// glibc `__ctype_b_loc`: where the calling thread's class table pointer is (one for all
/// threads: only the "C" locale exists).
#[cfg_attr(rivet_libc_export, no_mangle)]
pub extern "C" fn __ctype_b_loc() -> *const *const u16 {
    &CLASS_TABLE.0
}

/// glibc `__ctype_tolower_loc`.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub extern "C" fn __ctype_tolower_loc() -> *const *const i32 {
    &LOWER_TABLE.0
}

/// glibc `__ctype_toupper_loc`.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub extern "C" fn __ctype_toupper_loc() -> *const *const i32 {
    &UPPER_TABLE.0
}

/// The classes of a C `int` argument: EOF and values outside -128..=255 have none.
fn classes(c: c_int) -> u16 {
    usize::try_from(c + ZERO as c_int)
        .ok()
        .and_then(|index| CLASSES.get(index).copied())
        .unwrap_or(0)
}

/// ASCII lower case of a byte (the "C" locale's `tolower`).
pub fn to_lower(byte: u8) -> u8 {
    byte.to_ascii_lowercase()
}

macro_rules! class_functions {
    ($($name:ident, $name_l:ident, $mask:expr;)*) => {$(
        /// The ctype.h classification of the same name, "C" locale.
        #[cfg_attr(rivet_libc_export, no_mangle)]
        pub extern "C" fn $name(c: c_int) -> c_int {
            c_int::from(classes(c) & $mask != 0)
        }

        /// The `_l` variant: every locale is the "C" locale.
        #[cfg_attr(rivet_libc_export, no_mangle)]
        pub extern "C" fn $name_l(c: c_int, _locale: *mut core::ffi::c_void) -> c_int {
            $name(c)
        }
    )*};
}

class_functions! {
    isalnum, isalnum_l, class::ALNUM;
    isalpha, isalpha_l, class::ALPHA;
    isblank, isblank_l, class::BLANK;
    iscntrl, iscntrl_l, class::CNTRL;
    isdigit, isdigit_l, class::DIGIT;
    isgraph, isgraph_l, class::GRAPH;
    islower, islower_l, class::LOWER;
    isprint, isprint_l, class::PRINT;
    ispunct, ispunct_l, class::PUNCT;
    isspace, isspace_l, class::SPACE;
    isupper, isupper_l, class::UPPER;
    isxdigit, isxdigit_l, class::XDIGIT;
}

/// Looks `c` up in a case table; values outside it are returned unchanged.
fn case_map(table: &[i32; TABLE_LEN], c: c_int) -> c_int {
    usize::try_from(c + ZERO as c_int).ok().and_then(|index| table.get(index).copied()).unwrap_or(c)
}

/// C `tolower`.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub extern "C" fn tolower(c: c_int) -> c_int {
    case_map(&TO_LOWER, c)
}

/// C `toupper`.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub extern "C" fn toupper(c: c_int) -> c_int {
    case_map(&TO_UPPER, c)
}

/// POSIX `tolower_l`.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub extern "C" fn tolower_l(c: c_int, _locale: *mut core::ffi::c_void) -> c_int {
    tolower(c)
}

/// POSIX `toupper_l`.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub extern "C" fn toupper_l(c: c_int, _locale: *mut core::ffi::c_void) -> c_int {
    toupper(c)
}

/// glibc `__tolower_l`.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub extern "C" fn __tolower_l(c: c_int, _locale: *mut core::ffi::c_void) -> c_int {
    tolower(c)
}

/// glibc `__toupper_l`.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub extern "C" fn __toupper_l(c: c_int, _locale: *mut core::ffi::c_void) -> c_int {
    toupper(c)
}

/// X/Open `isascii`.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub extern "C" fn isascii(c: c_int) -> c_int {
    c_int::from(c & !0x7f == 0)
}

/// X/Open `toascii`.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub extern "C" fn toascii(c: c_int) -> c_int {
    c & 0x7f
}
