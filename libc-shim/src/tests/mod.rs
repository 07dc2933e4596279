//! Differential tests: the shim's functions against the host glibc on generated inputs.
//!
//! Host only. Each file compares one area; `Rng` makes the inputs deterministic so a failure
//! reproduces. glibc is called under its real names through `extern "C"` blocks.

mod fnmatch;
mod getopt;
mod locale;
mod printf;
mod prng;
mod scanf;
mod stdlib;
mod string;
mod time;
mod wide;
