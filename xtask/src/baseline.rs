//! The Linux baseline `cargo xtask bench` measures Rivet against: Debian's kernel and a busybox
//! initramfs whose `/init` prints a marker line and powers off.
//!
//! Fetched once into `target/baseline/DEB_ARCH/` and reused. The kernel package is resolved at run
//! time (`apt-cache depends linux-image-ARCH` names `linux-image-6.1.0-NN-ARCH`) and fetched by
//! the shared Debian code (`debian.rs`, also used by machine assets). For `kernel = "vmlinux"`
//! the uncompressed ELF is cut out of `vmlinuz`'s xz stream, so QEMU boots it through its PVH
//! note without decompressing in the guest (≈ 3.6 s saved under TCG). The initramfs is written here (cpio `newc`), uncompressed, so that building
//! it needs neither root (for `/dev/console`) nor `cpio`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::debian;
use crate::machine::LinuxBaseline;
use crate::workspace::Workspace;
use crate::Error;

/// The line the baseline's `/init` prints.
pub const MARKER: &str = "RIVET-BASELINE: init reached";

/// A ready-to-boot baseline.
#[derive(Debug, Clone)]
pub struct Baseline {
    /// The kernel QEMU boots.
    pub kernel: PathBuf,
    /// The initramfs (uncompressed cpio).
    pub initrd: PathBuf,
    /// The kernel as Debian ships it (`vmlinuz`): what a Linux VM's image size is.
    pub shipped_kernel: PathBuf,
    /// The Debian kernel package it came from.
    pub package: String,
}

impl Baseline {
    /// The kernel command line for a console device.
    pub fn cmdline(linux: &LinuxBaseline) -> String {
        format!("console={} quiet panic=-1", linux.console)
    }
}

/// The `linux-image-6.1.0-NN-ARCH` package `apt-cache depends` output names.
pub fn kernel_package(depends: &str) -> Option<String> {
    debian::depends_on(depends, "linux-image-*")
}

/// Finds the first xz stream (`FD 37 7A 58 5A 00`) in a compressed kernel.
pub fn xz_offset(data: &[u8]) -> Option<usize> {
    const MAGIC: &[u8] = b"\xfd7zXZ\x00";
    data.windows(MAGIC.len()).position(|w| w == MAGIC)
}

/// Decompresses the xz stream inside `vmlinuz` into `out`.
fn extract_vmlinux(vmlinuz: &Path, out: &Path) -> Result<(), Error> {
    let data =
        std::fs::read(vmlinuz).map_err(|e| Error::Tool(format!("{}: {e}", vmlinuz.display())))?;
    let at = xz_offset(&data)
        .ok_or_else(|| Error::Tool(format!("{}: no xz stream inside", vmlinuz.display())))?;
    let file =
        std::fs::File::create(out).map_err(|e| Error::Tool(format!("{}: {e}", out.display())))?;
    let mut xz = Command::new("xz")
        .args(["-dc", "--single-stream"])
        .stdin(Stdio::piped())
        .stdout(file)
        .spawn()
        .map_err(|e| Error::Tool(format!("cannot run xz: {e} (ci/setup.sh installs xz-utils)")))?;
    let mut stdin = xz.stdin.take().expect("piped stdin");
    let payload = data[at..].to_vec();
    let writer = std::thread::spawn(move || stdin.write_all(&payload));
    let status = xz.wait().map_err(|e| Error::Tool(format!("xz: {e}")))?;
    // xz stops reading after the stream: a broken pipe on the trailing bytes is expected.
    let _ = writer.join();
    if !status.success() {
        return Err(Error::Tool(format!("xz -d of {} failed ({status})", vmlinuz.display())));
    }
    Ok(())
}

/// A cpio `newc` archive being written in memory.
#[derive(Debug, Default)]
pub struct Cpio {
    data: Vec<u8>,
    inode: u32,
}

impl Cpio {
    fn entry(&mut self, name: &str, mode: u32, rdev: (u32, u32), body: &[u8]) {
        self.inode += 1;
        let header = format!(
            "070701{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}",
            self.inode,
            mode,
            0,
            0,
            1,
            0,
            body.len(),
            0,
            0,
            rdev.0,
            rdev.1,
            name.len() + 1,
            0
        );
        self.data.extend_from_slice(header.as_bytes());
        self.data.extend_from_slice(name.as_bytes());
        self.data.push(0);
        self.pad();
        self.data.extend_from_slice(body);
        self.pad();
    }

    fn pad(&mut self) {
        while !self.data.len().is_multiple_of(4) {
            self.data.push(0);
        }
    }

    /// Adds a directory.
    pub fn dir(&mut self, name: &str) {
        self.entry(name, 0o040755, (0, 0), &[]);
    }

    /// Adds a regular file with permission bits `perm`.
    pub fn file(&mut self, name: &str, perm: u32, body: &[u8]) {
        self.entry(name, 0o100000 | perm, (0, 0), body);
    }

    /// Adds a character device node.
    pub fn char_device(&mut self, name: &str, perm: u32, major: u32, minor: u32) {
        self.entry(name, 0o020000 | perm, (major, minor), &[]);
    }

    /// Ends the archive and returns its bytes.
    pub fn finish(mut self) -> Vec<u8> {
        self.entry("TRAILER!!!", 0, (0, 0), &[]);
        while !self.data.len().is_multiple_of(512) {
            self.data.push(0);
        }
        self.data
    }
}

/// The initramfs: busybox, `/dev/console`, and an `/init` that prints [`MARKER`] and powers off.
pub fn initramfs(busybox: &[u8]) -> Vec<u8> {
    let init =
        format!("#!/bin/busybox sh\n/bin/busybox echo '{MARKER}'\n/bin/busybox poweroff -f\n");
    let mut cpio = Cpio::default();
    for dir in ["bin", "dev", "proc", "sys"] {
        cpio.dir(dir);
    }
    cpio.char_device("dev/console", 0o600, 5, 1);
    cpio.file("bin/busybox", 0o755, busybox);
    cpio.file("init", 0o755, init.as_bytes());
    cpio.finish()
}

/// The C twin of the `thread-bench` example, run by the thread figures' initramfs.
const THREAD_BENCH_SOURCE: &str = include_str!("../baseline/thread-bench.c");

/// The C compiler that builds static Linux binaries for a Debian architecture.
fn c_compiler(deb_arch: &str) -> Option<&'static str> {
    match (deb_arch, std::env::consts::ARCH) {
        ("amd64", "x86_64") | ("arm64", "aarch64") => Some("gcc"),
        ("arm64", _) => Some("aarch64-linux-gnu-gcc"),
        ("amd64", _) => Some("x86_64-linux-gnu-gcc"),
        _ => None,
    }
}

/// Builds the C program `source` as a static Linux binary `binary` for the baseline's
/// architecture (`-O2 -static -pthread`).
pub fn compile_static(linux: &LinuxBaseline, source: &Path, binary: &Path) -> Result<(), Error> {
    let compiler = c_compiler(&linux.deb_arch)
        .ok_or_else(|| Error::Tool(format!("no C compiler known for {}", linux.deb_arch)))?;
    let status = std::process::Command::new(compiler)
        .args(["-O2", "-static", "-pthread", "-o"])
        .arg(binary)
        .arg(source)
        .status()
        .map_err(|e| Error::Tool(format!("{compiler}: {e} (ci/setup.sh installs it)")))?;
    if !status.success() {
        return Err(Error::Tool(format!("{compiler} failed on {}", source.display())));
    }
    Ok(())
}

/// An initramfs like `baseline`'s (whose busybox it reuses) whose `/init` runs the thread
/// benchmark before the marker. Built once per source change, next to the baseline's own.
pub fn thread_bench_initrd(linux: &LinuxBaseline, baseline: &Baseline) -> Result<PathBuf, Error> {
    let dir = baseline.initrd.parent().map(Path::to_path_buf).unwrap_or_default();
    let source = dir.join("thread-bench.c");
    let binary = dir.join("thread-bench");
    let initrd = dir.join("initrd-threads.cpio");
    let fresh = std::fs::read_to_string(&source).is_ok_and(|s| s == THREAD_BENCH_SOURCE);
    if fresh && initrd.is_file() {
        return Ok(initrd);
    }
    std::fs::write(&source, THREAD_BENCH_SOURCE)
        .map_err(|e| Error::Tool(format!("{}: {e}", source.display())))?;
    compile_static(linux, &source, &binary)?;
    let busybox_path = dir.join("root/bin/busybox");
    let busybox = std::fs::read(&busybox_path)
        .map_err(|e| Error::Tool(format!("{}: {e}", busybox_path.display())))?;
    let bench =
        std::fs::read(&binary).map_err(|e| Error::Tool(format!("{}: {e}", binary.display())))?;
    let init = format!(
        "#!/bin/busybox sh\n/bin/thread-bench\n/bin/busybox echo '{MARKER}'\n\
         /bin/busybox poweroff -f\n"
    );
    let mut cpio = Cpio::default();
    for dir in ["bin", "dev", "proc", "sys"] {
        cpio.dir(dir);
    }
    cpio.char_device("dev/console", 0o600, 5, 1);
    cpio.file("bin/busybox", 0o755, &busybox);
    cpio.file("bin/thread-bench", 0o755, &bench);
    cpio.file("init", 0o755, init.as_bytes());
    std::fs::write(&initrd, cpio.finish())
        .map_err(|e| Error::Tool(format!("{}: {e}", initrd.display())))?;
    Ok(initrd)
}

/// The line the HTTP baseline's server prints once it listens (`examples/c/http-server.c`).
pub const HTTPD_MARKER: &str = "http-server: listening on port";

/// Modules (in load order) the Debian kernel needs for a virtio-net card, where they are not
/// built in; a missing file means built in.
const NET_MODULES: &[&str] = &[
    "kernel/drivers/virtio/virtio_ring.ko",
    "kernel/drivers/virtio/virtio.ko",
    "kernel/drivers/virtio/virtio_mmio.ko",
    "kernel/drivers/virtio/virtio_pci_legacy_dev.ko",
    "kernel/drivers/virtio/virtio_pci_modern_dev.ko",
    "kernel/drivers/virtio/virtio_pci.ko",
    "kernel/net/core/failover.ko",
    "kernel/drivers/net/net_failover.ko",
    "kernel/drivers/net/virtio_net.ko",
];

/// An initramfs like `baseline`'s whose `/init` loads the virtio-net driver (found through PCI
/// or the device tree: Debian's kernel is built without `virtio_mmio.device=`, so on
/// `microvm`, whose cards only the command line announces, Linux finds none), configures eth0
/// as QEMU's user network expects (10.0.2.15/24 via 10.0.2.2), and runs `server` — the C
/// source of `examples/c/http-server.c`, built static here — on port 80 (it prints
/// [`HTTPD_MARKER`] when it listens). Rebuilt on every call: the source may have changed.
pub fn httpd_initrd(
    linux: &LinuxBaseline,
    baseline: &Baseline,
    server: &Path,
) -> Result<PathBuf, Error> {
    let dir = baseline.initrd.parent().map(Path::to_path_buf).unwrap_or_default();
    let read = |path: &Path| {
        std::fs::read(path).map_err(|e| Error::Tool(format!("{}: {e}", path.display())))
    };
    let binary = dir.join("http-server");
    compile_static(linux, server, &binary)?;
    let busybox = read(&dir.join("root/bin/busybox"))?;
    let modules_root = std::fs::read_dir(dir.join("root/lib/modules"))
        .ok()
        .and_then(|mut entries| entries.next())
        .and_then(Result::ok)
        .map(|entry| entry.path())
        .ok_or_else(|| Error::Tool(format!("no lib/modules in {}", dir.display())))?;
    let mut cpio = Cpio::default();
    for d in ["bin", "dev", "proc", "sys", "lib"] {
        cpio.dir(d);
    }
    cpio.char_device("dev/console", 0o600, 5, 1);
    cpio.file("bin/busybox", 0o755, &busybox);
    cpio.file("bin/http-server", 0o755, &read(&binary)?);
    let mut init = String::from(
        "#!/bin/busybox sh\n/bin/busybox --install -s /bin\nmount -t proc proc /proc\n\
         mount -t sysfs sys /sys\n",
    );
    for module in NET_MODULES {
        let path = modules_root.join(module);
        if path.is_file() {
            let name = module.rsplit('/').next().unwrap_or(module);
            cpio.file(&format!("lib/{name}"), 0o644, &read(&path)?);
            init += &format!("insmod /lib/{name}\n");
        }
    }
    init += "ip link set eth0 up\nip addr add 10.0.2.15/24 dev eth0\n\
             ip route add default via 10.0.2.2\nexec /bin/http-server 80\n";
    cpio.file("init", 0o755, init.as_bytes());
    let initrd = dir.join("initrd-httpd.cpio");
    std::fs::write(&initrd, cpio.finish())
        .map_err(|e| Error::Tool(format!("{}: {e}", initrd.display())))?;
    Ok(initrd)
}

/// Fetches (once) and returns the baseline for a machine's `[linux]` settings.
pub fn prepare(ws: &Workspace, linux: &LinuxBaseline) -> Result<Baseline, Error> {
    let dir = ws.target_dir.join("baseline").join(&linux.deb_arch);
    let kernel = dir.join(&linux.kernel);
    let initrd = dir.join("initrd.cpio");
    let package_file = dir.join("package");
    if kernel.is_file() && initrd.is_file() {
        if let (Ok(package), Some(shipped_kernel)) =
            (std::fs::read_to_string(&package_file), find_vmlinuz(&dir))
        {
            return Ok(Baseline {
                kernel,
                initrd,
                shipped_kernel,
                package: package.trim().to_owned(),
            });
        }
    }
    std::fs::create_dir_all(&dir).map_err(|e| Error::Tool(format!("{}: {e}", dir.display())))?;
    let meta = format!("linux-image-{}", linux.deb_arch);
    let package = debian::resolve_dependency(&meta, &linux.deb_arch, "linux-image-*")?;
    debian::fetch(&dir, &package, &linux.deb_arch)?;
    debian::fetch(&dir, "busybox-static", &linux.deb_arch)?;
    let vmlinuz = find_vmlinuz(&dir)
        .ok_or_else(|| Error::Tool(format!("{package} has no boot/vmlinuz-*")))?;
    match linux.kernel.as_str() {
        "vmlinux" => extract_vmlinux(&vmlinuz, &kernel)?,
        "vmlinuz" => {
            std::fs::copy(&vmlinuz, &kernel)
                .map_err(|e| Error::Tool(format!("{}: {e}", kernel.display())))?;
        }
        other => {
            return Err(Error::Usage(format!(
                "[linux] kernel = \"{other}\": expected \"vmlinux\" or \"vmlinuz\""
            )))
        }
    }
    let busybox_path = dir.join("root/bin/busybox");
    let busybox = std::fs::read(&busybox_path)
        .map_err(|e| Error::Tool(format!("{}: {e}", busybox_path.display())))?;
    std::fs::write(&initrd, initramfs(&busybox))
        .map_err(|e| Error::Tool(format!("{}: {e}", initrd.display())))?;
    std::fs::write(&package_file, &package)
        .map_err(|e| Error::Tool(format!("{}: {e}", package_file.display())))?;
    Ok(Baseline { kernel, initrd, shipped_kernel: vmlinuz, package })
}

/// The unpacked `boot/vmlinuz-*` in a cache directory.
fn find_vmlinuz(dir: &Path) -> Option<PathBuf> {
    std::fs::read_dir(dir.join("root/boot"))
        .ok()?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with("vmlinuz-")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_kernel_package() {
        let out = "linux-image-amd64\n  Depends: linux-image-6.1.0-56-amd64\n";
        assert_eq!(kernel_package(out).as_deref(), Some("linux-image-6.1.0-56-amd64"));
        let foreign = "linux-image-arm64:arm64\n  Depends: linux-image-6.1.0-56-arm64:arm64\n  Depends: foo\n";
        assert_eq!(kernel_package(foreign).as_deref(), Some("linux-image-6.1.0-56-arm64"));
        assert_eq!(kernel_package("linux-image-amd64\n"), None);
    }

    #[test]
    fn finds_xz_stream() {
        assert_eq!(xz_offset(b"MZ....\xfd7zXZ\x00rest"), Some(6));
        assert_eq!(xz_offset(b"nothing"), None);
    }

    #[test]
    fn cpio_archive_is_newc() {
        let archive = initramfs(b"\x7fELF");
        assert_eq!(archive.len() % 512, 0);
        assert!(archive.starts_with(b"070701"));
        let text = String::from_utf8_lossy(&archive);
        assert!(text.contains("dev/console"));
        assert!(text.contains(MARKER));
        assert!(text.contains("TRAILER!!!"));
        // dev/console: mode 020600, rdev 5:1.
        let at = text.find("dev/console").unwrap() - 110;
        assert_eq!(&text[at + 14..at + 22], "00002180");
        assert_eq!(&text[at + 78..at + 94], "0000000500000001");
    }

    #[test]
    fn cpio_matches_gnu_cpio() {
        // When GNU cpio is installed, it must list what we wrote.
        let Ok(mut cpio) = Command::new("cpio")
            .args(["-t", "--quiet"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
        else {
            return;
        };
        cpio.stdin.take().unwrap().write_all(&initramfs(b"bb")).unwrap();
        let out = cpio.wait_with_output().unwrap();
        let listed = String::from_utf8_lossy(&out.stdout);
        assert_eq!(
            listed.lines().collect::<Vec<_>>(),
            ["bin", "dev", "proc", "sys", "dev/console", "bin/busybox", "init"]
        );
    }
}
