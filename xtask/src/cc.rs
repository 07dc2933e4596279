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
    let described =
        format!("{} --target {triple} … -o {}", wrapper(ws, language).display(), output.display());
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

/// A C or C++ example of the repository, named like a Rust one: `c/NAME` is
/// `examples/c/NAME.c` or the folder `examples/c/NAME/`, `cpp/NAME` is `examples/cpp/NAME.cpp`
/// or `examples/cpp/NAME/`. A folder's `.c`/`.cpp` files are the program; a `Cargo.toml` in it
/// makes that Rust crate (a `staticlib` depending on `rivet-libc`) the image's runtime instead of
/// `libc-shim/runtime`, so C and Rust share the image.
#[derive(Debug, Clone)]
pub struct CExample {
    /// The wrapper that builds it.
    pub language: Language,
    /// Its source files.
    pub sources: Vec<PathBuf>,
    /// The Rust runtime crate's package and library names, for a mixed example.
    pub runtime_crate: Option<(String, String)>,
}

/// The C/C++ example `name` (see [`CExample`]), or `None` if `name` is not one.
pub fn c_example(ws: &Workspace, name: &str) -> Result<Option<CExample>, Error> {
    let (language, folder, extension, rest) = if let Some(rest) = name.strip_prefix("c/") {
        (Language::C, "c", "c", rest)
    } else if let Some(rest) = name.strip_prefix("cpp/") {
        (Language::Cxx, "cpp", "cpp", rest)
    } else {
        return Ok(None);
    };
    let base = ws.root.join("examples").join(folder);
    let single = base.join(format!("{rest}.{extension}"));
    if single.is_file() {
        return Ok(Some(CExample { language, sources: vec![single], runtime_crate: None }));
    }
    let dir = base.join(rest);
    let entries = std::fs::read_dir(&dir).map_err(|e| {
        Error::Build(format!("C example {name}: cannot read {}: {e}", dir.display()))
    })?;
    let mut sources: Vec<PathBuf> = entries
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "c" || ext == "cpp"))
        .collect();
    sources.sort();
    let manifest = dir.join("Cargo.toml");
    let runtime_crate = if manifest.is_file() {
        let text = std::fs::read_to_string(&manifest)
            .map_err(|e| Error::Build(format!("{}: {e}", manifest.display())))?;
        let value: toml::Table =
            text.parse().map_err(|e| Error::Build(format!("{}: {e}", manifest.display())))?;
        let package = value
            .get("package")
            .and_then(|p| p.get("name"))
            .and_then(|n| n.as_str())
            .ok_or_else(|| Error::Build(format!("{}: no package name", manifest.display())))?
            .to_owned();
        let library = value
            .get("lib")
            .and_then(|l| l.get("name"))
            .and_then(|n| n.as_str())
            .map_or_else(|| package.replace('-', "_"), str::to_owned);
        Some((package, library))
    } else {
        None
    };
    Ok(Some(CExample { language, sources, runtime_crate }))
}

/// Builds C/C++ example `name` for `triple` with the wrapper (release flags, `-O2`) and makes its
/// image: the ELF is `target/rivet/TRIPLE/c-elf/NAME`, the image `target/rivet/TRIPLE/NAME.EXT`
/// with `/` in the name turned into `-`.
pub fn build_c_example(
    ws: &Workspace,
    triple: &str,
    name: &str,
    example: &CExample,
    format: ImageFormat,
) -> Result<crate::image::Built, Error> {
    let flat = name.replace('/', "-");
    let elf = ws.image_dir(triple).join("c-elf").join(&flat);
    let mut extra = Vec::new();
    if let Some((package, library)) = &example.runtime_crate {
        let status = ws
            .cargo()
            .args(["build", "--quiet", "--release", "--target", triple, "-p", package])
            .stdin(Stdio::null())
            .output()
            .map_err(|e| Error::Build(format!("cargo build -p {package}: {e}")))?;
        if !status.status.success() {
            return Err(Error::Build(format!(
                "cargo build -p {package} --target {triple} failed:\n{}",
                String::from_utf8_lossy(&status.stderr)
            )));
        }
        let archive = ws.target_dir.join(triple).join("release").join(format!("lib{library}.a"));
        extra.push(format!("--rivet-runtime={}", archive.display()));
    }
    let sources: Vec<&Path> = example.sources.iter().map(PathBuf::as_path).collect();
    build_program(ws, triple, example.language, &sources, &extra, &elf)?;
    let image = make_image(ws, &elf, format, &ws.image_dir(triple))?;
    Ok(crate::image::Built { elf, image })
}
