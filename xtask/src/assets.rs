//! Files a machine needs besides the image: `[assets.NAME]` (Debian packages or host files), the
//! per-run device tree of `[dtb]` and the dom0 of `[dom0]` (`dom0.rs`), made ready before QEMU
//! starts.
//!
//! Package assets are fetched on first use into `target/assets/ARCH/PACKAGE/` (the `.deb`, its
//! unpacked `root/`, a `package` file naming what a metapackage resolved to, and decompressed
//! copies) and found there afterwards without asking apt. Per-run files (writable copies, the
//! generated DTB) live in a scratch directory under `target/tmp/` that is removed when the
//! [`Prepared`] value is dropped. The dumped QEMU tree is cached per argument list. Preparation
//! is serialised within the process (the boot tests' threads); two processes fetching the same
//! package for the first time at once are not guarded against. Weak spots:
//! a cached asset is not refreshed when Debian updates the package (delete `target/assets/`);
//! the DTS overlay is merged textually, so it must be a valid continuation of a DTS file.

use std::collections::hash_map::DefaultHasher;
use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Mutex;

use crate::debian;
use crate::machine::{AssetSpec, LaunchSettings, Machine};
use crate::workspace::Workspace;
use crate::Error;

/// The files of one launch: placeholder values and the scratch directory holding per-run files.
#[derive(Debug, Default)]
pub struct Prepared {
    /// Values of `asset:NAME` and `dtb`.
    pub values: BTreeMap<String, String>,
    scratch: Option<PathBuf>,
}

impl Drop for Prepared {
    fn drop(&mut self) {
        if let Some(dir) = &self.scratch {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

impl Prepared {
    /// The per-run scratch directory, created on first use.
    fn scratch(&mut self, ws: &Workspace) -> Result<PathBuf, Error> {
        if let Some(dir) = &self.scratch {
            return Ok(dir.clone());
        }
        static RUNS: AtomicU32 = AtomicU32::new(0);
        remove_stale(&ws.target_dir.join("tmp"));
        let dir = ws.target_dir.join("tmp").join(format!(
            "run-{}-{}",
            std::process::id(),
            RUNS.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).map_err(|e| io(&dir, e))?;
        self.scratch = Some(dir.clone());
        Ok(dir)
    }
}

/// Removes `run-PID-N` scratch directories of processes that no longer exist (a run killed by a
/// signal never drops its [`Prepared`]). Linux only: the check is `/proc/PID`.
fn remove_stale(tmp: &Path) {
    let Ok(entries) = std::fs::read_dir(tmp) else {
        return;
    };
    for entry in entries.filter_map(Result::ok) {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix("run-"))
            .and_then(|n| n.split('-').next())
            .and_then(|p| p.parse::<u32>().ok())
        else {
            continue;
        };
        if pid != std::process::id() && !Path::new(&format!("/proc/{pid}")).exists() {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

fn io(path: &Path, e: std::io::Error) -> Error {
    Error::Tool(format!("{}: {e}", path.display()))
}

/// Makes every asset and the DTB of `machine` ready for a launch.
pub fn prepare(
    ws: &Workspace,
    machine: &Machine,
    launch: &LaunchSettings,
) -> Result<Prepared, Error> {
    // Boot tests run two at a time in one process: one fetch or dump of the same files at once.
    static FETCHING: Mutex<()> = Mutex::new(());
    let _fetching = FETCHING.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let mut prepared = Prepared::default();
    for (name, spec) in &machine.assets {
        let mut file = asset(ws, name, spec)?;
        if spec.copy {
            let copy = prepared.scratch(ws)?.join(name);
            std::fs::copy(&file, &copy).map_err(|e| io(&copy, e))?;
            file = copy;
        }
        prepared.values.insert(format!("asset:{name}"), file.display().to_string());
    }
    if let Some(spec) = &machine.dom0 {
        let scratch = prepared.scratch(ws)?;
        prepared.values.extend(crate::dom0::prepare(ws, machine, spec, launch, &scratch)?);
    }
    if let Some(spec) = &machine.dtb {
        let args = machine
            .expand_args(&spec.args, launch, &ws.root, &ws.target_dir, &prepared.values, false)
            .map_err(Error::Usage)?;
        let base = dumped_dts(ws, machine, &args)?;
        let overlay_path = ws.machines_dir().join(&spec.overlay);
        let overlay = std::fs::read_to_string(&overlay_path).map_err(|e| io(&overlay_path, e))?;
        let image_size = std::fs::metadata(&launch.image).map_err(|e| io(&launch.image, e))?.len();
        let accel = launch.accel.as_deref();
        let merged = merge_overlay(&base, &overlay, &|name| match name {
            "image_size" => Some(format!("{image_size:#x}")),
            "cmdline" => Some(dts_string(&launch.cmdline)),
            "smp" => Some(launch.smp.unwrap_or(machine.smp).to_string()),
            other => machine.var(other, accel).map(str::to_owned),
        })
        .map_err(|e| Error::Usage(format!("{}: {e}", overlay_path.display())))?;
        let dir = prepared.scratch(ws)?;
        let (dts, dtb) = (dir.join("machine.dts"), dir.join("machine.dtb"));
        std::fs::write(&dts, merged).map_err(|e| io(&dts, e))?;
        debian::run(
            Command::new("dtc").args(["-q", "-I", "dts", "-O", "dtb", "-o"]).arg(&dtb).arg(&dts),
        )
        .map_err(|e| Error::Tool(format!("{e} (ci/setup.sh installs device-tree-compiler)")))?;
        prepared.values.insert("dtb".into(), dtb.display().to_string());
    }
    Ok(prepared)
}

/// The cached source form of QEMU's own device tree for `args`.
fn dumped_dts(ws: &Workspace, machine: &Machine, args: &[String]) -> Result<String, Error> {
    let mut hasher = DefaultHasher::new();
    (&machine.qemu, args).hash(&mut hasher);
    let dir = ws.target_dir.join("assets").join("dtb");
    std::fs::create_dir_all(&dir).map_err(|e| io(&dir, e))?;
    let stem = format!("{}-{:016x}", machine.id, hasher.finish());
    let dts = dir.join(format!("{stem}.dts"));
    if let Ok(text) = std::fs::read_to_string(&dts) {
        return Ok(text);
    }
    let dtb = dir.join(format!("{stem}.dtb"));
    debian::run(
        Command::new(&machine.qemu)
            .args(args)
            .args(["-display", "none", "-machine"])
            .arg(format!("dumpdtb={}", dtb.display())),
    )?;
    let text = debian::run(Command::new("dtc").args(["-q", "-I", "dtb", "-O", "dts"]).arg(&dtb))
        .map_err(|e| Error::Tool(format!("{e} (ci/setup.sh installs device-tree-compiler)")))?;
    std::fs::write(&dts, &text).map_err(|e| io(&dts, e))?;
    Ok(text)
}

/// Text of a DTS string literal's contents: backslashes and quotes escaped.
pub fn dts_string(text: &str) -> String {
    text.replace('\\', "\\\\").replace('"', "\\\"")
}

/// `base` followed by `overlay` (its `/dts-v1/;` line dropped) with `${NAME}` filled by `lookup`.
pub fn merge_overlay(
    base: &str,
    overlay: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<String, String> {
    let mut out = String::from(base);
    if !out.ends_with('\n') {
        out.push('\n');
    }
    out.push_str("\n// ---- overlay ----\n");
    let mut rest = overlay.trim_start();
    if let Some(tail) = rest.strip_prefix("/dts-v1/;") {
        rest = tail;
    }
    while let Some(at) = rest.find("${") {
        out.push_str(&rest[..at]);
        let end = rest[at..]
            .find('}')
            .ok_or_else(|| format!("unclosed `${{` in the overlay at `{}`", &rest[at..]))?;
        let name = &rest[at + 2..at + end];
        out.push_str(
            &lookup(name).ok_or_else(|| format!("unknown overlay placeholder `${{{name}}}`"))?,
        );
        rest = &rest[at + end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// The ready file of one asset, fetching and unpacking its package on first use.
pub fn asset(ws: &Workspace, name: &str, spec: &AssetSpec) -> Result<PathBuf, Error> {
    let Some(package) = &spec.package else {
        let path = PathBuf::from(&spec.path);
        if !path.is_file() {
            return Err(Error::Tool(format!(
                "asset `{name}`: {} does not exist (ci/setup.sh installs the host packages)",
                path.display()
            )));
        }
        return if spec.gunzip {
            let dir = ws.target_dir.join("assets").join("host");
            gunzip_cached(&path, &dir.join(name))
        } else {
            Ok(path)
        };
    };
    let dir = ws.target_dir.join("assets").join(&spec.arch).join(package);
    let stamp = dir.join("package");
    if !stamp.is_file() {
        let real = match &spec.depends {
            Some(pattern) => debian::resolve_dependency(package, &spec.arch, pattern)?,
            None => package.clone(),
        };
        debian::fetch(&dir, &real, &spec.arch)?;
        std::fs::write(&stamp, &real).map_err(|e| io(&stamp, e))?;
    }
    let found = debian::find(&dir.join("root"), &spec.path);
    let file = match found.as_slice() {
        [one] => one.clone(),
        [] => {
            return Err(Error::Tool(format!(
                "asset `{name}`: package {package} has no file matching {} (in {})",
                spec.path,
                dir.join("root").display()
            )))
        }
        many => {
            return Err(Error::Tool(format!(
                "asset `{name}`: {} files match {}: {}",
                many.len(),
                spec.path,
                many.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
            )))
        }
    };
    if spec.gunzip {
        let stem = file
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or(name)
            .trim_end_matches(".gz")
            .to_owned();
        gunzip_cached(&file, &dir.join(stem))
    } else {
        Ok(file)
    }
}

/// `out` as the decompression of `gz`, made unless it exists and is newer.
fn gunzip_cached(gz: &Path, out: &Path) -> Result<PathBuf, Error> {
    let fresh = match (std::fs::metadata(gz), std::fs::metadata(out)) {
        (Ok(src), Ok(dst)) => dst.len() > 0 && dst.modified().ok() >= src.modified().ok(),
        _ => false,
    };
    if !fresh {
        if let Some(parent) = out.parent() {
            std::fs::create_dir_all(parent).map_err(|e| io(parent, e))?;
        }
        let mut file = std::fs::File::open(gz).map_err(|e| io(gz, e))?;
        let mut magic = [0u8; 2];
        file.read_exact(&mut magic).map_err(|e| io(gz, e))?;
        if magic != [0x1f, 0x8b] {
            return Err(Error::Tool(format!("{}: not gzip data", gz.display())));
        }
        let partial = out.with_extension("partial");
        let target = std::fs::File::create(&partial).map_err(|e| io(&partial, e))?;
        let status = Command::new("gzip")
            .arg("-dc")
            .arg(gz)
            .stdout(target)
            .status()
            .map_err(|e| Error::Tool(format!("cannot run gzip: {e}")))?;
        if !status.success() {
            return Err(Error::Tool(format!("gzip -dc {} failed ({status})", gz.display())));
        }
        std::fs::rename(&partial, out).map_err(|e| io(out, e))?;
    }
    Ok(out.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlay_is_appended_with_values() {
        let base = "/dts-v1/;\n\n/ {\n\tchosen {\n\t};\n};";
        let overlay = "/dts-v1/;\n/ { chosen { m { reg = <0x0 0x60000000 0x0 ${image_size}>; bootargs = \"${cmdline}\"; cpus = <${cpus}>; }; }; };\n";
        let lookup = |name: &str| match name {
            "image_size" => Some("0x1234".to_owned()),
            "cmdline" => Some(dts_string("a \"b\" c\\d")),
            "cpus" => Some("1".to_owned()),
            _ => None,
        };
        let merged = merge_overlay(base, overlay, &lookup).unwrap();
        assert!(merged.starts_with(base));
        assert_eq!(merged.matches("/dts-v1/;").count(), 1);
        assert!(merged.contains("reg = <0x0 0x60000000 0x0 0x1234>;"));
        assert!(merged.contains(r#"bootargs = "a \"b\" c\\d";"#));
        assert!(merged.contains("cpus = <1>;"));
        assert!(merge_overlay(base, "${nope}", &lookup).unwrap_err().contains("${nope}"));
        assert!(merge_overlay(base, "${image_size", &lookup).is_err());
    }

    #[test]
    fn overlay_compiles_with_dtc() {
        // When dtc is installed, the merged text must be a valid DTS with the nodes merged.
        if Command::new("dtc").arg("--version").output().is_err() {
            return;
        }
        let base =
            "/dts-v1/;\n/ {\n\t#address-cells = <2>;\n\t#size-cells = <2>;\n\tchosen { };\n};\n";
        let overlay = "/ { chosen { domU1 { compatible = \"xen,domain\"; memory = <0x0 0x10000>; m { bootargs = \"${cmdline}\"; reg = <0x0 0x60000000 0x0 ${image_size}>; }; }; }; };";
        let merged = merge_overlay(base, overlay, &|n| match n {
            "image_size" => Some("0x10".into()),
            "cmdline" => Some(dts_string("x=\"1\"")),
            _ => None,
        })
        .unwrap();
        let dir = std::env::temp_dir().join(format!("rivet-dtc-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("m.dts"), merged).unwrap();
        let dtb = dir.join("m.dtb");
        debian::run(
            Command::new("dtc")
                .args(["-q", "-I", "dts", "-O", "dtb", "-o"])
                .arg(&dtb)
                .arg(dir.join("m.dts")),
        )
        .unwrap();
        let back =
            debian::run(Command::new("dtc").args(["-q", "-I", "dtb", "-O", "dts"]).arg(&dtb))
                .unwrap();
        assert!(back.contains("compatible = \"xen,domain\";"), "{back}");
        assert!(back.contains("bootargs = \"x=\\\"1\\\"\";"), "{back}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn host_assets_and_copies() {
        let ws = Workspace::locate();
        let here = concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml");
        let spec = AssetSpec {
            package: None,
            arch: "all".into(),
            depends: None,
            path: here.into(),
            gunzip: false,
            copy: false,
        };
        assert_eq!(asset(&ws, "m", &spec).unwrap(), Path::new(here));
        let missing = AssetSpec { path: "/nonexistent/file".into(), ..spec.clone() };
        assert!(asset(&ws, "m", &missing).unwrap_err().to_string().contains("/nonexistent/file"));
        let mut prepared = Prepared::default();
        let dir = prepared.scratch(&ws).unwrap();
        assert!(dir.is_dir());
        assert_eq!(prepared.scratch(&ws).unwrap(), dir);
        drop(prepared);
        assert!(!dir.exists(), "scratch directory removed on drop");
        // A directory left by a process that is gone is removed by the next run.
        let tmp = std::env::temp_dir().join(format!("rivet-stale-{}", std::process::id()));
        let (stale, live) =
            (tmp.join("run-4294967295-0"), tmp.join(format!("run-{}-9", std::process::id())));
        std::fs::create_dir_all(&stale).unwrap();
        std::fs::create_dir_all(&live).unwrap();
        remove_stale(&tmp);
        assert!(!stale.exists() && live.exists());
        std::fs::remove_dir_all(&tmp).unwrap();
    }

    #[test]
    fn gunzips_once() {
        let dir = std::env::temp_dir().join(format!("rivet-gz-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let plain = dir.join("xen");
        std::fs::write(&plain, b"multiboot kernel").unwrap();
        let status = Command::new("gzip").arg("-kf").arg(&plain).status().unwrap();
        assert!(status.success());
        std::fs::remove_file(&plain).unwrap();
        let out = gunzip_cached(&dir.join("xen.gz"), &dir.join("out/xen")).unwrap();
        assert_eq!(std::fs::read(&out).unwrap(), b"multiboot kernel");
        assert!(gunzip_cached(&out, &dir.join("again")).is_err(), "not gzip");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
