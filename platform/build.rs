//! Puts the target's linker script on the linker's search path as `rivet.ld`.
//!
//! Every image links with `-Trivet.ld` (see `.cargo/config.toml`). A `rustc-link-arg` from a
//! library does not reach the final binary, but a `rustc-link-search` does, so the script for the
//! target being built is copied into OUT_DIR and that folder is added to the search path (the
//! `cortex-m-rt` approach). Applications outside this repository get the same layout for free.
//!
//! The copy drops the unwind tables (`.eh_frame`, `.eh_frame_hdr`, `.gcc_except_table`): a cargo
//! build is Rust only, built with `panic = "abort"` and backtraced through frame pointers, so they
//! would be dead weight (≈10 % of an aarch64 image). The scripts themselves keep them for C++
//! exceptions: `rivet-cc`/`rivet-c++` (libc-shim/bin) link with `targets/TRIPLE/kernel.ld`
//! directly. A first `/DISCARD/` statement wins over the later placements of the same sections.
use std::{env, fs, path::PathBuf};

/// Put first in SECTIONS of the copy: unwind tables are not kept in Rust-only images.
const DROP_UNWIND_TABLES: &str = "    /* Added by platform/build.rs: a Rust-only image needs no \
     unwind tables. */\n    /DISCARD/ : { *(.eh_frame .eh_frame_hdr .gcc_except_table \
     .gcc_except_table.*) }\n";

fn main() {
    let target = env::var("TARGET").expect("cargo sets TARGET");
    let manifest =
        PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let script = manifest.join("..").join("targets").join(&target).join("kernel.ld");
    let out = PathBuf::from(env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    if script.exists() {
        let text = fs::read_to_string(&script).expect("read the linker script");
        let (head, tail) =
            text.split_once("SECTIONS\n{\n").expect("the linker script has a SECTIONS block");
        let rust_only = format!("{head}SECTIONS\n{{\n{DROP_UNWIND_TABLES}{tail}");
        fs::write(out.join("rivet.ld"), rust_only).expect("write the linker script to OUT_DIR");
        println!("cargo:rustc-link-search={}", out.display());
    }
    println!("cargo:rerun-if-changed={}", script.display());
}
