//! Debian packages as a source of host-side files: kernels, DTBs, firmware, Xen.
//!
//! A package is fetched with `apt-get download PACKAGE:ARCH` (no root needed) into a cache
//! directory and unpacked there with `dpkg -x` into `root/`; a later call finds the `.deb` and does
//! nothing. A metapackage such as `linux-image-arm64` is followed to the versioned package it
//! depends on (`linux-image-6.1.0-NN-arm64`) at run time, because the number changes with
//! security updates. A foreign architecture must be known to dpkg (`dpkg --add-architecture`,
//! root): `ci/setup.sh` does that for arm64; [`ensure_architecture`] tries it when missing.
//! Weak spot: a package whose name apt does not know fails with apt's own message.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::Error;

/// Runs a command to completion; its stdout, or an error naming the command and its stderr.
pub fn run(command: &mut Command) -> Result<String, Error> {
    let shown = crate::suite::describe(command);
    let out = command
        .stdin(Stdio::null())
        .output()
        .map_err(|e| Error::Tool(format!("cannot run {shown}: {e}")))?;
    if !out.status.success() {
        return Err(Error::Tool(format!(
            "{shown} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The first `Depends:` entry of `apt-cache depends` output whose name matches `pattern`
/// (a [`glob`] such as `linux-image-*`), without its `:ARCH` suffix.
pub fn depends_on(depends: &str, pattern: &str) -> Option<String> {
    depends.lines().find_map(|line| {
        let name = line.trim().strip_prefix("Depends:")?.trim();
        let name = name.split(':').next()?.trim();
        glob(pattern, name).then(|| name.to_owned())
    })
}

/// Whether `name` matches `pattern`, where `*` matches any run of characters (`/` included).
pub fn glob(pattern: &str, name: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    let (first, rest) = parts.split_first().expect("split yields one part");
    let Some(mut tail) = name.strip_prefix(first) else {
        return false;
    };
    let Some((last, middle)) = rest.split_last() else {
        return tail.is_empty();
    };
    for part in middle {
        match tail.find(part) {
            Some(at) => tail = &tail[at + part.len()..],
            None => return false,
        }
    }
    tail.ends_with(last)
}

/// The files under `root` whose path relative to it matches `pattern` ([`glob`] per path
/// component, so `usr/lib/linux-image-*/broadcom/x.dtb` works), sorted.
pub fn find(root: &Path, pattern: &str) -> Vec<PathBuf> {
    let mut found = vec![root.to_owned()];
    for component in pattern.split('/').filter(|c| !c.is_empty()) {
        let mut next = Vec::new();
        for dir in &found {
            if !component.contains('*') {
                let path = dir.join(component);
                if path.exists() {
                    next.push(path);
                }
                continue;
            }
            let Ok(entries) = std::fs::read_dir(dir) else {
                continue;
            };
            for entry in entries.filter_map(Result::ok) {
                if entry.file_name().to_str().is_some_and(|n| glob(component, n)) {
                    next.push(entry.path());
                }
            }
        }
        found = next;
    }
    found.retain(|p| p.is_file());
    found.sort();
    found
}

/// Makes sure dpkg/apt know `deb_arch` (adds a foreign architecture and updates the lists).
/// `all` and the native architecture need nothing.
pub fn ensure_architecture(deb_arch: &str) -> Result<(), Error> {
    if deb_arch == "all" {
        return Ok(());
    }
    let native = run(Command::new("dpkg").arg("--print-architecture"))?;
    if native.trim() == deb_arch {
        return Ok(());
    }
    let foreign = run(Command::new("dpkg").arg("--print-foreign-architectures"))?;
    if !foreign.lines().any(|a| a.trim() == deb_arch) {
        eprintln!("[xtask] dpkg --add-architecture {deb_arch} && apt-get update");
        run(Command::new("dpkg").args(["--add-architecture", deb_arch]))
            .map_err(|e| Error::Tool(format!("{e} (run ci/setup.sh as root once)")))?;
        run(Command::new("apt-get").args(["update", "-qq"]))?;
    }
    Ok(())
}

/// `package:arch` as apt names it (`all` packages are named bare).
fn qualified(package: &str, deb_arch: &str) -> String {
    if deb_arch == "all" {
        package.to_owned()
    } else {
        format!("{package}:{deb_arch}")
    }
}

/// The package `meta` (for `deb_arch`) depends on whose name matches `pattern`.
pub fn resolve_dependency(meta: &str, deb_arch: &str, pattern: &str) -> Result<String, Error> {
    let meta = qualified(meta, deb_arch);
    let ask = || {
        run(Command::new("apt-cache").args(["depends", &meta]))
            .ok()
            .and_then(|out| depends_on(&out, pattern))
    };
    if let Some(package) = ask() {
        return Ok(package);
    }
    eprintln!("[xtask] apt-cache knows no {meta}: apt-get update");
    run(Command::new("apt-get").args(["update", "-qq"]))?;
    ask().ok_or_else(|| {
        Error::Tool(format!("apt-cache depends {meta} names no package matching `{pattern}`"))
    })
}

/// Downloads `package` for `deb_arch` into `dir` (once) and unpacks it into `dir/root`.
pub fn fetch(dir: &Path, package: &str, deb_arch: &str) -> Result<(), Error> {
    std::fs::create_dir_all(dir).map_err(|e| Error::Tool(format!("{}: {e}", dir.display())))?;
    let prefix = format!("{package}_");
    let suffix = format!("_{deb_arch}.deb");
    let existing = |dir: &Path| {
        std::fs::read_dir(dir).ok()?.filter_map(Result::ok).map(|e| e.path()).find(|p| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            name.starts_with(&prefix) && name.ends_with(&suffix)
        })
    };
    let deb = match existing(dir) {
        Some(deb) => deb,
        None => {
            ensure_architecture(deb_arch)?;
            let name = qualified(package, deb_arch);
            eprintln!("[xtask] apt-get download {name}");
            run(Command::new("apt-get").args(["download", "-qq", &name]).current_dir(dir))?;
            existing(dir).ok_or_else(|| {
                Error::Tool(format!("apt-get download {name} left no .deb in {}", dir.display()))
            })?
        }
    };
    run(Command::new("dpkg").arg("-x").arg(&deb).arg(dir.join("root")))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn follows_metapackages() {
        let out = "linux-image-amd64\n  Depends: linux-image-6.1.0-56-amd64\n";
        assert_eq!(depends_on(out, "linux-image-*").as_deref(), Some("linux-image-6.1.0-56-amd64"));
        let foreign = "linux-image-arm64:arm64\n  Depends: linux-image-6.1.0-56-arm64:arm64\n  Depends: foo\n";
        assert_eq!(
            depends_on(foreign, "linux-image-*").as_deref(),
            Some("linux-image-6.1.0-56-arm64")
        );
        assert_eq!(depends_on(foreign, "foo").as_deref(), Some("foo"));
        assert_eq!(depends_on("linux-image-amd64\n", "linux-image-*"), None);
    }

    #[test]
    fn globs() {
        assert!(glob("linux-image-*", "linux-image-6.1.0-56-arm64"));
        assert!(glob("*.dtb", "bcm2711-rpi-4-b.dtb"));
        assert!(glob("a*b*c", "aXbYc"));
        assert!(!glob("a*b*c", "aXbY"));
        assert!(!glob("ab", "abc"));
        assert!(glob("*", ""));
    }

    #[test]
    fn finds_files_by_pattern() {
        let root = std::env::temp_dir().join(format!("rivet-find-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        for file in [
            "usr/lib/linux-image-6.1.0-56-arm64/broadcom/bcm2711-rpi-4-b.dtb",
            "usr/lib/linux-image-6.1.0-56-arm64/broadcom/bcm2837-rpi-3-b.dtb",
            "boot/xen-4.17-amd64.gz",
        ] {
            let path = root.join(file);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, b"x").unwrap();
        }
        let pi4 = find(&root, "usr/lib/linux-image-*/broadcom/bcm2711-rpi-4-b.dtb");
        assert_eq!(pi4.len(), 1);
        assert!(pi4[0].ends_with("broadcom/bcm2711-rpi-4-b.dtb"));
        assert_eq!(find(&root, "usr/lib/*/broadcom/*.dtb").len(), 2);
        assert_eq!(find(&root, "boot/xen-4.17-amd64.gz").len(), 1);
        assert!(find(&root, "boot/none").is_empty());
        assert!(find(&root, "usr/lib").is_empty(), "directories are not files");
        std::fs::remove_dir_all(&root).unwrap();
    }
}
