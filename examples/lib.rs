//! Example Rivet applications. Each example is one file beside this one; build and boot one with
//! `cargo xtask run --target TRIPLE --example NAME -- ARGS`.
#![no_std]
