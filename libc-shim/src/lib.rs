//! Rivet's libc shim: the C ABI (glibc 2.36-shaped) over the Rivet API.
//!
//! Two halves. Everything outside `os/` is the pure C library — string, ctype, stdlib number
//! parsing, printf (C, in `csrc/`), time arithmetic, the "C" locale, math — built and tested on the
//! host against the host glibc, and the same code the kernel links. `os/` (feature `kernel`) is
//! what needs the kernel: malloc, stdio's `FILE`s, errno, threads, clocks and the main bridge.
//!
//! The C names (`strchr`, `snprintf` …) are exported only on the bare targets (cfg
//! `rivet_libc_export`, set by `build.rs`), so host tests can compare with glibc's. See README.md.
#![cfg_attr(not(test), no_std)]

pub mod cstr;
pub mod ctype;
pub mod errno;
pub mod fnmatch;
pub mod locale;
pub mod math;
pub mod stdlib;
pub mod strerror;
pub mod string;
pub mod time;
pub mod wchar;

#[cfg(feature = "kernel")]
mod os;

#[cfg(test)]
mod tests;
