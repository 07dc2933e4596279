//! The wide-character types and the order of `wchar_t` values.

use core::cmp::Ordering;
use core::ffi::{c_char, c_int};

/// C `wchar_t` as stored (see the module note for its sign).
pub type WChar = u32;
/// C `wint_t`.
pub type WInt = u32;
/// `WEOF`.
pub const WEOF: WInt = 0xffff_ffff;
/// Whether `wchar_t` is signed (it matches `char` on both targets' ABIs).
const WCHAR_SIGNED: bool = c_char::MIN != 0;

/// Orders two `wchar_t` values with the platform's signedness.
pub(super) fn order(a: WChar, b: WChar) -> Ordering {
    if WCHAR_SIGNED {
        (a as i32).cmp(&(b as i32))
    } else {
        a.cmp(&b)
    }
}

pub(super) fn ordering_to_int(ordering: Ordering) -> c_int {
    ordering as c_int
}
