//! string.h: searching, comparing, copying and tokenising bytes and C strings.
//!
//! Not here: `memcpy`, `memmove`, `memset`, `memcmp`, `bcmp` and `strlen`, which the Rust
//! toolchain's `compiler_builtins` already exports on the bare targets (weak symbols; defining
//! them in Rust again invites the compiler to turn their loops into calls to themselves).
//! Each function converts its pointers to slices at the boundary (`cstr`) and works on slices.

mod compare;
mod copy;
mod search;

pub use compare::*;
pub use copy::*;
pub use search::*;
