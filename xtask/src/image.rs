//! Building examples and turning their ELF files into bootable images.
//!
//! `cargo build --target T -p rivet-examples --example NAME` makes the ELF; `llvm-objcopy` makes
//! the image in `target/rivet/T/`: `NAME.elf` (stripped ELF, x86_64 PVH) or `NAME.img` (flat
//! arm64 `Image`). The unstripped ELF stays where cargo put it, for symbolising backtraces.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::machine::ImageFormat;
use crate::workspace::Workspace;
use crate::Error;

/// The package that holds the examples.
pub const EXAMPLES_PACKAGE: &str = "rivet-examples";

/// Cargo profile of a build.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Profile {
    /// `--release` (the default): what tests and benchmarks use.
    Release,
    /// The `dev` profile.
    Debug,
}

impl Profile {
    /// The folder cargo puts this profile's output in.
    pub fn dir(self) -> &'static str {
        match self {
            Profile::Release => "release",
            Profile::Debug => "debug",
        }
    }
}

/// A built example: its ELF and the image made from it.
#[derive(Debug, Clone)]
pub struct Built {
    /// The unstripped ELF cargo produced.
    pub elf: PathBuf,
    /// The bootable image.
    pub image: PathBuf,
}

/// How cargo's output is handled while building.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    /// Cargo's messages go to this process's stderr.
    Inherit,
    /// Cargo's messages are kept and returned in the error on failure.
    Capture,
}

/// Builds `example` for `triple` with cargo and returns the ELF path.
pub fn build_example(
    ws: &Workspace,
    triple: &str,
    example: &str,
    profile: Profile,
    output: Output,
) -> Result<PathBuf, Error> {
    let mut cargo = ws.cargo();
    cargo.args([
        "build",
        "--quiet",
        "--target",
        triple,
        "-p",
        EXAMPLES_PACKAGE,
        "--example",
        example,
    ]);
    if profile == Profile::Release {
        cargo.arg("--release");
    }
    let described = format!(
        "cargo build --target {triple} -p {EXAMPLES_PACKAGE} --example {example}{}",
        if profile == Profile::Release { " --release" } else { "" }
    );
    match output {
        Output::Inherit => {
            let status = cargo
                .status()
                .map_err(|e| Error::Build(format!("{described}: cannot start cargo: {e}")))?;
            if !status.success() {
                return Err(Error::Build(format!("{described} failed ({status})")));
            }
        }
        Output::Capture => {
            let out = cargo
                .stdin(Stdio::null())
                .output()
                .map_err(|e| Error::Build(format!("{described}: cannot start cargo: {e}")))?;
            if !out.status.success() {
                return Err(Error::Build(format!(
                    "{described} failed ({}):\n{}{}",
                    out.status,
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                )));
            }
        }
    }
    let elf = ws.target_dir.join(triple).join(profile.dir()).join("examples").join(example);
    if !elf.is_file() {
        return Err(Error::Build(format!(
            "{described} succeeded but {} does not exist",
            elf.display()
        )));
    }
    Ok(elf)
}

/// Makes the image for `format` from `elf` as `dir/STEM.EXT`.
pub fn make_image(
    ws: &Workspace,
    elf: &Path,
    format: ImageFormat,
    dir: &Path,
) -> Result<PathBuf, Error> {
    let stem = elf.file_stem().and_then(|s| s.to_str()).unwrap_or("image");
    std::fs::create_dir_all(dir)
        .map_err(|e| Error::Build(format!("cannot create {}: {e}", dir.display())))?;
    let image = dir.join(format!("{stem}.{}", format.extension()));
    let objcopy = ws.llvm_tool("llvm-objcopy")?;
    let mut command = Command::new(&objcopy);
    match format {
        ImageFormat::Elf => command.arg("--strip-all"),
        ImageFormat::Binary => command.args(["-O", "binary"]),
    };
    command.arg(elf).arg(&image);
    let out = command
        .output()
        .map_err(|e| Error::Tool(format!("cannot run {}: {e}", objcopy.display())))?;
    if !out.status.success() {
        return Err(Error::Build(format!(
            "llvm-objcopy {} failed: {}",
            elf.display(),
            String::from_utf8_lossy(&out.stderr)
        )));
    }
    Ok(image)
}

/// Builds an example and makes its image: `target/rivet/TRIPLE/NAME.EXT` for release builds,
/// `target/rivet/TRIPLE/debug/NAME.EXT` for debug ones.
pub fn build(
    ws: &Workspace,
    triple: &str,
    example: &str,
    profile: Profile,
    format: ImageFormat,
    output: Output,
) -> Result<Built, Error> {
    // `c/NAME` and `cpp/NAME` are C and C++ examples, built with rivet-cc / rivet-c++ (cc.rs).
    if let Some(c_example) = crate::cc::c_example(ws, example)? {
        return crate::cc::build_c_example(ws, triple, example, &c_example, format);
    }
    let elf = build_example(ws, triple, example, profile, output)?;
    let mut dir = ws.image_dir(triple);
    if profile == Profile::Debug {
        dir.push("debug");
    }
    let image = make_image(ws, &elf, format, &dir)?;
    Ok(Built { elf, image })
}
