//! Compiles the C half of the shim (`csrc/*.c`, and `csrc/os/*.c` with the `kernel` feature).
//!
//! Stable Rust cannot define variadic functions, so the printf/scanf families (and the os layer's
//! `open`, `fcntl`, `ioctl`, `syscall`) are C. The C is compiled against the target's Debian
//! glibc 2.36 headers (see README.md) by the cross compiler matching Debian's prebuilt libstdc++:
//! `gcc` for `x86_64-unknown-none`, `aarch64-linux-gnu-gcc` for `aarch64-unknown-none`, with the
//! kernel's code model (`.cargo/config.toml`: static non-PIC on x86_64, PIE on aarch64).
//!
//! Symbol names: the C library's public names (`snprintf`, `strlen` …) are defined only when the
//! target is a bare one (`target_os = "none"`, i.e. the kernel); there this script sets the cfg
//! `rivet_libc_export` for the Rust half and the macro `RIVET_LIBC_EXPORT` for the C half. On the
//! host the same code builds under internal names only (`__rivet_*` in C, Rust paths in Rust), so
//! the differential tests can call the host glibc under the real names beside the shim's.
use std::env;
use std::path::Path;

fn main() {
    println!("cargo::rustc-check-cfg=cfg(rivet_libc_export)");
    println!("cargo::rerun-if-changed=csrc");
    println!("cargo::rerun-if-changed=build.rs");
    let target = env::var("TARGET").expect("cargo sets TARGET");
    let bare = env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("none");
    let kernel = env::var_os("CARGO_FEATURE_KERNEL").is_some();

    let mut build = cc::Build::new();
    build.warnings(true).extra_warnings(true).include("csrc");
    // The printf engine relies on exact IEEE double arithmetic and integer overflow rules; keep
    // the compiler from being clever (and from turning loops into calls to memcpy/memset).
    build
        .flag("-std=gnu11")
        .flag("-fno-strict-aliasing")
        .flag("-fno-tree-loop-distribute-patterns");
    // sqrt in csrc/floats.c is __builtin_sqrt: without this GCC would call sqrt itself on NaN.
    build.flag("-fno-math-errno");
    if bare {
        println!("cargo::rustc-cfg=rivet_libc_export");
        build.define("RIVET_LIBC_EXPORT", None);
        build.flag("-ffreestanding").flag("-fno-stack-protector").flag("-fno-builtin");
        match target.as_str() {
            "x86_64-unknown-none" => {
                build.compiler("gcc");
                build
                    .flag("-mcmodel=kernel")
                    .flag("-mno-red-zone")
                    .flag("-fno-pic")
                    .flag("-fno-pie");
            }
            "aarch64-unknown-none" => {
                build.compiler("aarch64-linux-gnu-gcc");
                build.flag("-fPIE");
            }
            other => panic!("rivet-libc: no C compiler known for the bare target {other}"),
        }
        // cc's own defaults for an unknown OS may add -fPIC; the flags above decide.
        build.pic(false);
    }

    let mut sources = c_files(Path::new("csrc"));
    if kernel {
        sources.extend(c_files(Path::new("csrc/os")));
    }
    if sources.is_empty() {
        return;
    }
    build.files(&sources);
    build.compile("rivet_libc_c");
}

/// The `.c` files directly in `dir`, sorted so builds are reproducible.
fn c_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files: Vec<_> = match std::fs::read_dir(dir) {
        Ok(entries) => entries
            .filter_map(|entry| entry.ok().map(|entry| entry.path()))
            .filter(|path| path.extension().is_some_and(|ext| ext == "c"))
            .collect(),
        Err(_) => Vec::new(),
    };
    files.sort();
    files
}
