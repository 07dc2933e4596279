//! The Rust half of the mixed C + Rust example: the image's entry (as `libc-shim/runtime`),
//! and Rust functions C calls, one of which calls back into C.
//!
//! Built as a static library and handed to `rivet-cc --rivet-runtime=…` with `main.c`
//! (`cargo xtask run --example c/mixed` does both).
#![no_std]

extern crate alloc;
extern crate rivet_libc;

use alloc::vec::Vec;
use core::ffi::{c_char, c_int, CStr};

extern "C" {
    fn main(argc: c_int, argv: *mut *mut c_char, envp: *mut *mut c_char) -> c_int;
    fn __rivet_libc_start(
        main: unsafe extern "C" fn(c_int, *mut *mut c_char, *mut *mut c_char) -> c_int,
    ) -> c_int;
    /// Defined in main.c.
    fn c_square(value: c_int) -> c_int;
}

rivet::main!(start);

fn start() -> i32 {
    rivet::println!("mixed: Rust starts the C program");
    // SAFETY: `main` is main.c's; this is the only call, before any C code runs.
    unsafe { __rivet_libc_start(main) }
}

/// Sums the squares of `count` numbers from C, squaring each in C: Rust calling C.
///
/// # Safety
/// 1. `values` is valid for reads of `count` ints.
#[no_mangle]
pub unsafe extern "C" fn rust_sum_of_squares(values: *const c_int, count: usize) -> c_int {
    // SAFETY: obligation 1.
    let values = unsafe { core::slice::from_raw_parts(values, count) };
    // SAFETY: `c_square` is a plain C function of this signature (main.c).
    values.iter().map(|&v| unsafe { c_square(v) }).sum()
}

/// Reverses the words of a C string into a Rust-owned string, printed from Rust.
///
/// # Safety
/// 1. `text` is a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn rust_print_reversed(text: *const c_char) {
    // SAFETY: obligation 1.
    let text = unsafe { CStr::from_ptr(text) }.to_str().unwrap_or("(not UTF-8)");
    let words: Vec<&str> = text.split(' ').rev().collect();
    rivet::println!("mixed: Rust reversed: {}", words.join(" "));
}
