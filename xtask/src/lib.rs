//! xtask: Rivet's host tool, as a library so the boot tests (`tests/`) share its code.
//!
//! `cargo xtask build | run | runner | test | bench | machines | xl-config | sdcard | disk` — see
//! `main.rs` for the command line. The library holds the parts: machine descriptions
//! (`targets/machines/*.toml`) and the files they fetch (Debian packages, generated DTBs), kernel
//! command lines, image building, booting in QEMU, the test suite driver, the benchmarks and the
//! Linux baseline they compare against, and the deployable artefacts (SD card, GPT disk, xl
//! config). Non-goal: anything that runs inside the guest.

pub mod assets;
pub mod baseline;
pub mod bench;
pub mod bench_http;
pub mod cc;
pub mod cmdline;
pub mod debian;
pub mod disk;
pub mod dom0;
pub mod image;
pub mod libc_bench;
pub mod machine;
pub mod net;
pub mod qemu;
pub mod suite;
pub mod symbolize;
pub mod workspace;
pub mod xl;

mod error;

pub use error::Error;
pub use workspace::Workspace;
