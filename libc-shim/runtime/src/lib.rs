//! The image's entry for C and C++ programs: the kernel boots, then calls the program's `main`.
//!
//! `rivet-cc`/`rivet-c++` link a program's objects with this crate built as a static library
//! (`libapp.a`, made by `cargo xtask` for the triple): it holds the kernel (`rivet`), the libc
//! shim with its C half (`rivet-libc`, feature `kernel`) and the bridge below, which hands the C
//! `main` to the shim's start code (arguments, constructors, `main`, `exit`).
//!
//! A Rust crate that wants to share an image with C (see `examples/c/mixed/`) does the same as
//! this one with its own Rust functions beside the bridge, and is passed to the wrapper with
//! `--rivet-runtime`.
#![no_std]

// Linked for its `#[no_mangle]` C functions, which nothing in Rust names.
extern crate rivet_libc;

use core::ffi::{c_char, c_int};

extern "C" {
    /// The C program's `main`.
    fn main(argc: c_int, argv: *mut *mut c_char, envp: *mut *mut c_char) -> c_int;
    /// The shim's start code (`libc-shim/src/os/start.rs`).
    fn __rivet_libc_start(
        main: unsafe extern "C" fn(c_int, *mut *mut c_char, *mut *mut c_char) -> c_int,
    ) -> c_int;
}

rivet::main!(start);

fn start() -> i32 {
    // SAFETY: `main` is the C program's entry point (the link fails without one) and this is the
    // only call, from the image's main thread before any C code has run.
    unsafe { __rivet_libc_start(main) }
}
