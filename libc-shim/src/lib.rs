//! Rivet's libc shim: the C ABI over the Rivet API (placeholder until the libc issue).
//!
//! See `README.md` beside this crate for the plan.
#![no_std]
