//! stdlib.h's pure functions: number parsing, sorting and searching, integer arithmetic, rand.
//!
//! malloc, getenv, exit and friends need the kernel and live in the os layer.

pub mod arithmetic;
pub mod float_parse;
pub mod integer_parse;
pub mod long_double_parse;
pub mod rand48;
pub mod sort;
