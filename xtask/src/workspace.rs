//! Where things are: the repository root, cargo's target directory, cargo itself and LLVM tools.
//!
//! The root is `RIVET_ROOT` if set, else the parent of this crate's manifest directory (xtask
//! always lives at `ROOT/xtask`). The target directory honours `CARGO_TARGET_DIR`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use crate::machine::{MachineError, Machines};
use crate::Error;

/// The default triple when none is named.
pub const DEFAULT_TRIPLE: &str = "x86_64-unknown-none";

/// Paths and tools of one checkout.
#[derive(Debug, Clone)]
pub struct Workspace {
    /// The repository root (holds the workspace `Cargo.toml`).
    pub root: PathBuf,
    /// Cargo's target directory.
    pub target_dir: PathBuf,
}

impl Workspace {
    /// Finds the checkout this tool was built from (or `RIVET_ROOT`).
    pub fn locate() -> Workspace {
        let root = match std::env::var_os("RIVET_ROOT") {
            Some(root) => PathBuf::from(root),
            None => Path::new(env!("CARGO_MANIFEST_DIR"))
                .parent()
                .expect("xtask lives in a subfolder")
                .to_owned(),
        };
        let target_dir = match std::env::var_os("CARGO_TARGET_DIR") {
            Some(dir) => {
                let dir = PathBuf::from(dir);
                if dir.is_absolute() {
                    dir
                } else {
                    root.join(dir)
                }
            }
            None => root.join("target"),
        };
        Workspace { root, target_dir }
    }

    /// `targets/machines/`.
    pub fn machines_dir(&self) -> PathBuf {
        self.root.join("targets").join("machines")
    }

    /// Reads the machine descriptions.
    pub fn machines(&self) -> Result<Machines, MachineError> {
        Machines::load(&self.machines_dir())
    }

    /// Where xtask keeps images: `target/rivet/TRIPLE/`.
    pub fn image_dir(&self, triple: &str) -> PathBuf {
        self.target_dir.join("rivet").join(triple)
    }

    /// A `cargo` command run at the repository root (the same cargo that started xtask, if any).
    pub fn cargo(&self) -> Command {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let mut command = Command::new(cargo);
        command.current_dir(&self.root);
        command
    }

    /// The path of an LLVM tool from rustup's `llvm-tools` component (`llvm-objcopy`, …).
    pub fn llvm_tool(&self, name: &str) -> Result<PathBuf, Error> {
        static BIN_DIR: OnceLock<Result<PathBuf, String>> = OnceLock::new();
        let dir = BIN_DIR.get_or_init(|| {
            let run = |args: &[&str]| -> Result<String, String> {
                let out = Command::new("rustc")
                    .args(args)
                    .current_dir(&self.root)
                    .output()
                    .map_err(|e| format!("cannot run rustc: {e}"))?;
                if !out.status.success() {
                    return Err(format!(
                        "rustc {}: {}",
                        args.join(" "),
                        String::from_utf8_lossy(&out.stderr)
                    ));
                }
                Ok(String::from_utf8_lossy(&out.stdout).into_owned())
            };
            let sysroot = run(&["--print", "sysroot"])?;
            let version = run(&["-vV"])?;
            let host = version
                .lines()
                .find_map(|l| l.strip_prefix("host: "))
                .ok_or("rustc -vV printed no host line")?;
            Ok(Path::new(sysroot.trim()).join("lib/rustlib").join(host.trim()).join("bin"))
        });
        let dir = dir.clone().map_err(Error::Tool)?;
        let tool = dir.join(name);
        if tool.is_file() {
            Ok(tool)
        } else {
            Err(Error::Tool(format!(
                "{} not found: run `rustup component add llvm-tools` (ci/setup.sh does)",
                tool.display()
            )))
        }
    }
}
