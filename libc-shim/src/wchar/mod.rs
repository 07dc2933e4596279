//! wchar.h and wctype.h for the "C" locale: wide strings, conversions, classification.
//!
//! In glibc's "C" locale the multibyte encoding is ASCII: bytes 0..=0x7f are the characters of
//! the same value, everything else is an encoding error (EILSEQ), and the wide classification
//! and case mapping know ASCII only. `mbstate_t` therefore never holds state. `wchar_t` is 32
//! bits on both targets; its signedness follows `char`'s on these Linux ABIs (signed on x86_64,
//! unsigned on aarch64), which is how comparisons pick it without naming an architecture.

mod class;
mod convert;
mod string;
mod types;

pub use class::*;
pub use convert::*;
pub use string::*;
pub use types::{WChar, WInt, WEOF};
