//! C and C++ images: building them with the `rivet-cc` / `rivet-c++` wrappers
//! (`libc-shim/bin/`), and turning an ELF the wrapper made into a bootable image for `run
//! --image FILE`.
//!
//! The wrapper does the real work (flags, runtime archive, linker script, libstdc++); this module
//! calls it the way a Makefile would, so the boot tests and `cargo xtask` use the same path as a
//! user's `CC=rivet-cc make`.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::image::make_image;
use crate::machine::ImageFormat;
use crate::workspace::Workspace;
use crate::Error;

/// The language of a C-family program: which wrapper compiles it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Language {
    /// `rivet-cc`.
    C,
    /// `rivet-c++`.
    Cxx,
}

/// The wrapper for `language` in this checkout.
pub fn wrapper(ws: &Workspace, language: Language) -> PathBuf {
    let name = match language {
        Language::C => "rivet-cc",
        Language::Cxx => "rivet-c++",
    };
    ws.root.join("libc-shim").join("bin").join(name)
}

/// Compiles and links `sources` (paths relative to the repository root) for `triple` into the
/// ELF `output` with the wrapper, adding `extra` arguments (e.g. `--rivet-runtime=…`). Returns
/// the wrapper's complaint on failure.
pub fn build_program(
    ws: &Workspace,
    triple: &str,
    language: Language,
    sources: &[&Path],
    extra: &[String],
    output: &Path,
) -> Result<PathBuf, Error> {
    if let Some(dir) = output.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| Error::Build(format!("cannot create {}: {e}", dir.display())))?;
    }
    let mut command = Command::new(wrapper(ws, language));
    command
        .current_dir(&ws.root)
        .env("RIVET_ROOT", &ws.root)
        .env("CARGO_TARGET_DIR", &ws.target_dir)
        .args(["--target", triple, "-O2", "-Wall", "-o"])
        .arg(output)
        .args(sources)
        .args(extra)
        .stdin(Stdio::null());
    let described = format!("{} --target {triple} … -o {}", wrapper(ws, language).display(), output.display());
    let out = command.output().map_err(|e| Error::Build(format!("{described}: {e}")))?;
    if !out.status.success() {
        return Err(Error::Build(format!(
            "{described} failed ({}):\n{}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )));
    }
    Ok(output.to_owned())
}

/// Whether `path` is an ELF file (the wrapper's output) rather than a finished image.
pub fn is_elf(path: &Path) -> bool {
    let mut magic = [0u8; 4];
    std::fs::File::open(path)
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut magic))
        .is_ok_and(|()| magic == *b"\x7fELF")
}

/// For `run --image FILE`: an ELF is made into the machine's image format (stripped ELF or flat
/// arm64 `Image`, in `target/rivet/TRIPLE/images/`) and returned with itself, for symbolising
/// backtraces; anything else is booted as it is.
pub fn prepare_image(
    ws: &Workspace,
    file: &Path,
    format: ImageFormat,
    triple: &str,
) -> Result<(PathBuf, Option<PathBuf>), Error> {
    if !is_elf(file) {
        return Ok((file.to_owned(), None));
    }
    let image = make_image(ws, file, format, &ws.image_dir(triple).join("images"))?;
    Ok((image, Some(file.to_owned())))
}
