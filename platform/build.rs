//! Puts the target's linker script on the linker's search path as `rivet.ld`.
//!
//! Every image links with `-Trivet.ld` (see `.cargo/config.toml`). A `rustc-link-arg` from a
//! library does not reach the final binary, but a `rustc-link-search` does, so the script for the
//! target being built is copied into OUT_DIR and that folder is added to the search path (the
//! `cortex-m-rt` approach). Applications outside this repository get the same layout for free.
use std::{env, fs, path::PathBuf};

fn main() {
    let target = env::var("TARGET").expect("cargo sets TARGET");
    let manifest =
        PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let script = manifest.join("..").join("targets").join(&target).join("kernel.ld");
    let out = PathBuf::from(env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    if script.exists() {
        fs::copy(&script, out.join("rivet.ld")).expect("copy the linker script to OUT_DIR");
        println!("cargo:rustc-link-search={}", out.display());
    }
    println!("cargo:rerun-if-changed={}", script.display());
}
