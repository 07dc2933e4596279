//! A Linux dom0 that runs the image as a real Xen PV domU (`[dom0]`, the `xen-domu` machine).
//!
//! Xen 4.17 boots Debian's amd64 kernel (the uncompressed `vmlinux` the Linux baseline already
//! cuts out of `vmlinuz`) as PV dom0 with a busybox initramfs carrying the Xen tools —
//! `xenstored` (the C one: fewer libraries than oxenstored), `xenconsoled`, `xen-init-dom0`, `xl`,
//! the `xenstore-*` commands — their shared libraries and the Xen kernel modules. Its `/init`
//! starts the daemons, `xl create`s the domU from `/rivet/domu.cfg`, copies the domU's PV console
//! to dom0's (hvc0, which Xen prints on COM1), waits for the domain to stop, reads the exit code
//! the guest left in xenstore (`data/rivet-exit-code`) and writes it to QEMU's isa-debug-exit
//! port through `/dev/port`; a reboot becomes dom0's own `reboot -f`, which ends a `-no-reboot`
//! QEMU as a reset does.
//!
//! The initramfs is built once from Debian packages into `target/dom0/ARCH/` and rebuilt only
//! when its inputs change (the package versions, the kernel, [`PACKAGES`], [`FILES`],
//! [`MODULES`], the init script). Shared libraries are found through each ELF's `DT_NEEDED`
//! entries, in the unpacked packages first and on the host second (the host is Debian of the
//! same architecture; another architecture gets no host fallback). Per boot only a small second
//! cpio archive (the image and its xl configuration) is appended to a copy of it: Linux unpacks
//! concatenated `newc` archives in order.
//!
//! Non-goals: a general-purpose dom0 (no udev, no networking but the `vif-rivet` hotplug path).
//! Weak spots: the harness's own failures (a daemon that does not start, `xl create` refusing the
//! image) end the run with [`HARNESS_FAILURE`] and a `RIVET-DOM0:` line saying why; module
//! dependencies come from each module's `.modinfo` `depends=`, as the Debian package ships no
//! `modules.dep`.

use std::collections::hash_map::DefaultHasher;
use std::collections::{BTreeMap, BTreeSet};
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use crate::baseline::{self, Cpio};
use crate::debian;
use crate::machine::{Dom0Spec, LaunchSettings, LinuxBaseline, Machine};
use crate::workspace::Workspace;
use crate::xl::XlConfig;
use crate::Error;

/// Debian packages unpacked for the initramfs's files (libraries they do not hold come from
/// the host).
pub const PACKAGES: &[&str] = &[
    "busybox-static",
    "xen-utils-4.17",
    "xenstore-utils",
    "libxenmisc4.17",
    "libxencall1",
    "libxendevicemodel1",
    "libxenevtchn1",
    "libxenforeignmemory1",
    "libxengnttab1",
    "libxenhypfs1",
    "libxenstore4",
    "libxentoolcore1",
    "libxentoollog1",
    "libyajl2",
    // Not in every Debian base system (xl and libxenmisc need them); the rest of the closure
    // (libc6, libgcc-s1, libtinfo6, zlib1g, liblzma5, libzstd1, libuuid1) always is.
    "libncurses6",
    "libext2fs2",
];

/// Files shipped from the unpacked packages, at the same path; ELF files bring their shared
/// libraries (and the dynamic loader) along.
pub const FILES: &[&str] = &[
    "bin/busybox",
    "usr/lib/xen-4.17/bin/xl",
    "usr/lib/xen-4.17/bin/xenstored",
    "usr/lib/xen-4.17/bin/xenconsoled",
    "usr/lib/xen-4.17/bin/xenconsole",
    "usr/lib/xen-4.17/bin/xen-init-dom0",
    "usr/bin/xenstore-read",
    "usr/bin/xenstore-write",
    "usr/bin/xenstore-ls",
    "usr/bin/xenstore-list",
    "usr/bin/xenstore-watch",
];

/// Libraries loaded with `dlopen` (no `DT_NEEDED` names them), shipped with their own
/// dependencies: glibc's `pthread_cancel` (used by `xl`) needs `libgcc_s`.
pub const DLOPENED: &[&str] = &["libgcc_s.so.1"];

/// `/etc/xen/xl.conf`: dom0's memory is fixed by Xen's `dom0_mem`, and Xen has the rest free,
/// so `xl` need not balloon dom0 down for a domU.
pub const XL_CONF: &str =
    "# xl's global configuration in the xen-domu machine's dom0.\nautoballoon = \"off\"\n";

/// Kernel modules dom0 loads at boot (after what they depend on), by module name.
pub const MODULES: &[&str] = &["xen-evtchn", "xen-gntdev", "xen-gntalloc", "xen-privcmd", "xenfs"];

/// Kernel modules shipped but loaded only when the domU has a network interface.
pub const NET_MODULES: &[&str] = &["xen-netback"];

/// The exit code dom0 reports when the harness itself fails (not one Rivet produces).
pub const HARNESS_FAILURE: u8 = 125;

/// The domU's name: a scenario reads it from xenstore and expects it.
pub const DOMU_NAME: &str = "rivet";

/// Where the per-run archive puts the image and its configuration inside dom0.
const RUN_DIR: &str = "rivet";

/// dom0's address on the domU's vif (`vif-rivet`); the guest is expected at `.2` of the same
/// /24 (`ip=192.168.100.2/24`).
pub const DOM0_ADDRESS: &str = "192.168.100.1/24";

/// The domU's vif: a fixed MAC in Xen's range and the hotplug script this initramfs carries.
pub const VIF: &str = "mac=00:16:3e:00:00:02,script=/etc/xen/scripts/vif-rivet";

/// xl's hotplug script for the domU's vif (no bridge): brings `vif$ID.0` up with
/// [`DOM0_ADDRESS`] and tells libxl it is connected. xl's convention: the interface in `$vif`,
/// the backend's xenstore path in `$XENBUS_PATH`, the action as the argument.
pub fn vif_script() -> String {
    format!(
        r#"#!/bin/sh
# xl's hotplug script for the Rivet domU's vif in the xen-domu machine (xtask/src/dom0.rs).
case "$1" in
    online|add)
        ip link set "$vif" up &&
            ip addr add {DOM0_ADDRESS} dev "$vif" &&
            xenstore-write "$XENBUS_PATH/hotplug-status" connected ;;
    offline|remove)
        ip link set "$vif" down 2>/dev/null
        exit 0 ;;
esac
"#
    )
}

/// A shell check dom0 runs against the running guest: once a console line contains `marker`,
/// `command` runs in dom0 (busybox `sh -c`, e.g. `wget -q -O - http://192.168.100.2:8080/`)
/// and dom0 prints `RIVET-DOM0-CHECK: ok OUTPUT` or `RIVET-DOM0-CHECK: fail (status N)
/// OUTPUT` (output lines joined by spaces), destroys the domain and ends QEMU with exit code 0.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dom0Check {
    /// Text a console line must contain before the check runs (empty: the first line).
    pub marker: String,
    /// The shell command.
    pub command: String,
}

/// The prefix of the line reporting a [`Dom0Check`].
pub const CHECK_PREFIX: &str = "RIVET-DOM0-CHECK:";

/// The Debian multiarch triplet of a Debian architecture (library directories).
fn multiarch(deb_arch: &str) -> Result<&'static str, Error> {
    match deb_arch {
        "amd64" => Ok("x86_64-linux-gnu"),
        "arm64" => Ok("aarch64-linux-gnu"),
        other => {
            Err(Error::Usage(format!("[dom0] deb_arch = \"{other}\": expected amd64 or arm64")))
        }
    }
}

/// What an ELF file needs from the dynamic loader.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ElfDeps {
    /// `PT_INTERP`: the dynamic loader's absolute path, for executables.
    pub interp: Option<String>,
    /// `DT_NEEDED` entries: library names (sonames), in file order.
    pub needed: Vec<String>,
}

/// The dependencies of a 64-bit little-endian ELF file; `Ok(None)` when `data` is not ELF (a
/// script), an error when it is ELF but malformed or of another class.
pub fn elf_deps(data: &[u8]) -> Result<Option<ElfDeps>, String> {
    if !data.starts_with(b"\x7fELF") {
        return Ok(None);
    }
    if data.get(4) != Some(&2) || data.get(5) != Some(&1) {
        return Err("not a 64-bit little-endian ELF file".into());
    }
    let u16_at = |at: usize| -> Result<u64, String> {
        let bytes = data.get(at..at + 2).ok_or("truncated ELF file")?;
        Ok(u16::from_le_bytes([bytes[0], bytes[1]]) as u64)
    };
    let u64_at = |at: usize| -> Result<u64, String> {
        let bytes = data.get(at..at + 8).ok_or("truncated ELF file")?;
        Ok(u64::from_le_bytes(bytes.try_into().expect("8 bytes")))
    };
    let u32_at = |at: usize| -> Result<u64, String> {
        let bytes = data.get(at..at + 4).ok_or("truncated ELF file")?;
        Ok(u32::from_le_bytes(bytes.try_into().expect("4 bytes")) as u64)
    };
    let (phoff, phentsize, phnum) = (u64_at(0x20)?, u16_at(0x36)?, u16_at(0x38)?);
    // (type, offset, vaddr, filesz) of each program header.
    let mut headers = Vec::new();
    for i in 0..phnum {
        let at = (phoff + i * phentsize) as usize;
        headers.push((u32_at(at)?, u64_at(at + 8)?, u64_at(at + 16)?, u64_at(at + 32)?));
    }
    const PT_LOAD: u64 = 1;
    const PT_DYNAMIC: u64 = 2;
    const PT_INTERP: u64 = 3;
    let text_at = |offset: u64| -> Result<String, String> {
        let tail = data.get(offset as usize..).ok_or("string outside the file")?;
        let end = tail.iter().position(|&b| b == 0).ok_or("unterminated string")?;
        Ok(String::from_utf8_lossy(&tail[..end]).into_owned())
    };
    let mut deps = ElfDeps::default();
    if let Some(&(_, offset, _, _)) = headers.iter().find(|h| h.0 == PT_INTERP) {
        deps.interp = Some(text_at(offset)?);
    }
    let Some(&(_, dynamic, _, size)) = headers.iter().find(|h| h.0 == PT_DYNAMIC) else {
        return Ok(Some(deps));
    };
    let mut strtab = None;
    let mut needed = Vec::new();
    for at in (dynamic..dynamic + size).step_by(16) {
        match u64_at(at as usize)? {
            0 => break,
            1 => needed.push(u64_at(at as usize + 8)?),
            5 => strtab = Some(u64_at(at as usize + 8)?),
            _ => {}
        }
    }
    if needed.is_empty() {
        return Ok(Some(deps));
    }
    // DT_STRTAB is an address: the PT_LOAD segment holding it maps it to a file offset.
    let strtab = strtab.ok_or("DT_NEEDED without DT_STRTAB")?;
    let (_, offset, vaddr, _) = *headers
        .iter()
        .find(|h| h.0 == PT_LOAD && h.2 <= strtab && strtab < h.2 + h.3)
        .ok_or("DT_STRTAB outside every PT_LOAD segment")?;
    let strtab = strtab - vaddr + offset;
    for name in needed {
        deps.needed.push(text_at(strtab + name)?);
    }
    Ok(Some(deps))
}

/// Files to ship: destination in the archive (relative) → source on the host.
pub type FileSet = BTreeMap<String, PathBuf>;

/// Adds every shared library (and dynamic loader) the ELF files among `files` need, transitively.
/// A library `NAME` is looked for as `DIR/NAME` in `lib_dirs` in order and shipped as
/// `lib/MULTIARCH/NAME`; the loader's absolute path is looked for under each of `roots` in
/// order and shipped at that path. `read` gives a file's contents (the host's file system).
pub fn add_libraries(
    files: &mut FileSet,
    roots: &[PathBuf],
    lib_dirs: &[PathBuf],
    lib_dest: &str,
    read: &dyn Fn(&Path) -> Result<Vec<u8>, String>,
) -> Result<(), String> {
    let mut queue: Vec<(String, PathBuf)> =
        files.iter().map(|(dest, src)| (dest.clone(), src.clone())).collect();
    while let Some((dest, source)) = queue.pop() {
        let data = read(&source)?;
        let Some(deps) = elf_deps(&data).map_err(|e| format!("{}: {e}", source.display()))? else {
            continue;
        };
        if let Some(interp) = deps.interp {
            let relative = interp.trim_start_matches('/').to_owned();
            if !files.contains_key(&relative) {
                let found = roots.iter().map(|r| r.join(&relative)).find(|p| p.is_file());
                let found = found.ok_or_else(|| {
                    format!("{dest} needs the loader {interp}, which no package nor the host has")
                })?;
                files.insert(relative.clone(), found.clone());
                queue.push((relative, found));
            }
        }
        for name in deps.needed {
            let target = format!("{lib_dest}/{name}");
            if files.contains_key(&target) {
                continue;
            }
            let found = lib_dirs.iter().map(|d| d.join(&name)).find(|p| p.is_file());
            let found = found.ok_or_else(|| {
                format!(
                    "{dest} needs {name}, found in no package nor on the host (searched {})",
                    lib_dirs.iter().map(|d| d.display().to_string()).collect::<Vec<_>>().join(", ")
                )
            })?;
            files.insert(target.clone(), found.clone());
            queue.push((target, found));
        }
    }
    Ok(())
}

/// The module names a kernel module's `.modinfo` section says it depends on (`depends=a,b`).
pub fn modinfo_depends(data: &[u8]) -> Vec<String> {
    const KEY: &[u8] = b"\0depends=";
    let Some(at) = data.windows(KEY.len()).position(|w| w == KEY) else {
        return Vec::new();
    };
    let value = &data[at + KEY.len()..];
    let end = value.iter().position(|&b| b == 0).unwrap_or(value.len());
    String::from_utf8_lossy(&value[..end])
        .split(',')
        .filter(|name| !name.is_empty())
        .map(str::to_owned)
        .collect()
}

/// A module name as the kernel compares them (`-` and `_` are the same).
fn module_key(name: &str) -> String {
    name.replace('-', "_")
}

/// `wanted` and everything they depend on, each after its dependencies, each once.
pub fn load_order(
    wanted: &[&str],
    depends: &dyn Fn(&str) -> Result<Vec<String>, String>,
) -> Result<Vec<String>, String> {
    fn visit(
        name: &str,
        depends: &dyn Fn(&str) -> Result<Vec<String>, String>,
        order: &mut Vec<String>,
        path: &mut Vec<String>,
    ) -> Result<(), String> {
        let key = module_key(name);
        if order.iter().any(|m| module_key(m) == key) {
            return Ok(());
        }
        if path.contains(&key) {
            return Err(format!("module dependency cycle through {name}"));
        }
        path.push(key);
        for dependency in depends(name)? {
            visit(&dependency, depends, order, path)?;
        }
        path.pop();
        order.push(name.to_owned());
        Ok(())
    }
    let mut order = Vec::new();
    for name in wanted {
        visit(name, depends, &mut order, &mut Vec::new())?;
    }
    Ok(order)
}

/// Every `.ko` file under `dir`, by [`module_key`] of its name.
fn index_modules(dir: &Path, index: &mut BTreeMap<String, PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for path in entries.filter_map(Result::ok).map(|e| e.path()) {
        if path.is_dir() {
            index_modules(&path, index);
        } else if let Some(stem) = path.file_name().and_then(|n| n.to_str()) {
            if let Some(name) = stem.strip_suffix(".ko") {
                index.insert(module_key(name), path.clone());
            }
        }
    }
}

/// dom0's `/init`: mounts, loads `modules` (shipped as `lib/modules/NAME.ko`, `net_modules`
/// only when the run's configuration has a `vif`), starts the Xen daemons, creates the domU,
/// shows its console, waits for it to stop and ends QEMU with its exit code.
pub fn init_script(modules: &[String], net_modules: &[String]) -> String {
    let insmod = |names: &[String], indent: &str| -> String {
        names
            .iter()
            .map(|m| format!("{indent}insmod /lib/modules/{m}.ko || fail \"insmod {m}\"\n"))
            .collect()
    };
    format!(
        r#"#!/bin/busybox sh
# dom0's init for the xen-domu machine (written by xtask/src/dom0.rs): run /{RUN_DIR}/domu.cfg as a
# PV domU, show its console, and end QEMU with the exit code it left in xenstore.
/bin/busybox mkdir -p /usr/bin /sbin /usr/sbin
/bin/busybox --install -s /bin
export PATH=/bin:/sbin:/usr/bin:/usr/sbin:/usr/lib/xen-4.17/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm /tmp /proc/xen /var/run/xenstored /var/run/xen /var/lib/xen \
    /var/lib/xenstored /var/log/xen /var/lock
mount -t devpts devpts /dev/pts
# `rivet.dom0.debug` on dom0's command line: each stage is announced with dom0's uptime, and
# xenconsoled also logs the guest's console to a file, shown with Xen's message buffer and the
# domain's xenstore entries when the domain has stopped.
debug=
case " $(cat /proc/cmdline) " in *" rivet.dom0.debug "*) debug=1 ;; esac
stage() {{ [ -z "$debug" ] || echo "RIVET-DOM0: $(cut -d' ' -f1 /proc/uptime) s: $*"; }}
stage "init started"

# QEMU's isa-debug-exit (port 0xf4) makes QEMU exit with (code << 1) | 1.
exit_qemu() {{
    printf "\\$(printf %o "$1")" | dd of=/dev/port bs=1 seek=244 count=1 2>/dev/null
    sleep 2
    echo "RIVET-DOM0: writing the exit code to port 0xf4 did not end QEMU"
    poweroff -f
}}
fail() {{
    echo "RIVET-DOM0: $* (exit code {HARNESS_FAILURE})"
    exit_qemu {HARNESS_FAILURE}
}}

{modules}if grep -q '^vif' /{RUN_DIR}/domu.cfg; then
{net_modules}fi
stage "modules loaded"
mount -t xenfs xenfs /proc/xen || fail "mount xenfs"
xenstored --pid-file=/var/run/xenstored.pid || fail "xenstored did not start"
xen-init-dom0 >/tmp/init-dom0.log 2>&1 || {{ cat /tmp/init-dom0.log; fail "xen-init-dom0"; }}
xenconsoled --pid-file=/var/run/xenconsoled.pid ${{debug:+--log=guest --log-dir=/var/log/xen}} ||
    fail "xenconsoled did not start"
# Created paused, and unpaused once xenconsoled and the console client are attached: a guest
# that prints and stops at once loses no line.
stage "daemons started"
xl create -q -p /{RUN_DIR}/domu.cfg >/tmp/xl.log 2>&1 || {{ cat /tmp/xl.log; fail "xl create"; }}
id=$(xl domid {DOMU_NAME}) || fail "no domain {DOMU_NAME} after xl create"
# xenconsoled announces the domain's console pty in xenstore once it has connected to the ring.
tries=0
until xenstore-read /local/domain/$id/console/tty >/dev/null 2>&1; do
    tries=$((tries + 1))
    [ $tries -lt 200 ] || fail "xenconsoled never connected to the domain's console"
    sleep 0.05
done
stage "domain $id created"
# With /{RUN_DIR}/check, the console also goes through grep: at the marker, dom0 runs the check.
run_check() {{
    out=$(sh /{RUN_DIR}/check 2>&1)
    status=$?
    out=$(echo "$out" | tr '\n' ' ')
    if [ $status -eq 0 ]; then
        echo "{CHECK_PREFIX} ok $out" >/dev/console
    else
        echo "{CHECK_PREFIX} fail (status $status) $out" >/dev/console
    fi
    touch /tmp/check-done
}}
if [ -f /{RUN_DIR}/check ]; then
    marker=$(cat /{RUN_DIR}/check-marker)
    {{ xl console {DOMU_NAME} | tee /dev/console |
        {{ grep -q -F -e "$marker" && run_check; cat >/dev/null; }}; }} &
else
    xl console {DOMU_NAME} &
fi
console=$!
xl unpause {DOMU_NAME} || fail "xl unpause"

# The state column of `xl list` has s (shut down) and c (crashed). Once the domain has stopped,
# the last column of `xl list -v` is the SHUTDOWN_* reason (0 poweroff, 1 reboot, 3 crash); `xl
# list -v` is not asked earlier: it crashes on a running domain (xl 4.17 in this dom0).
misses=0
while :; do
    line=$(xl list {DOMU_NAME} 2>/dev/null | tail -n 1)
    set -- $line
    case "$5" in *s*|*c*) break ;; esac
    if [ -f /tmp/check-done ]; then
        xl destroy {DOMU_NAME}
        exit_qemu 0
    fi
    # `xl list` has been seen to crash now and then: only many misses in a row are an error.
    if [ -z "$line" ]; then
        misses=$((misses + 1))
        [ $misses -lt 20 ] || fail "xl list does not show domain {DOMU_NAME} any more"
        sleep 0.2
        continue
    fi
    misses=0
    timeout 1 xenstore-watch -n 2 @releaseDomain >/dev/null 2>&1
done
stage "domain $id stopped"
state=$5
reason=
for try in 1 2 3 4 5; do
    set -- $(xl list -v {DOMU_NAME} 2>/dev/null | tail -n 1)
    reason=$8
    [ -z "$reason" ] || break
done
case "$state" in *c*) reason=3 ;; esac
# Let the console client copy what is left in the ring.
sleep 0.5
code=$(xenstore-read /local/domain/$id/data/rivet-exit-code 2>/dev/null)
kill $console 2>/dev/null
if [ -n "$debug" ]; then
    echo "RIVET-DOM0: state $state, reason $reason, exit code key '$code'; xl dmesg and the logged console:"
    xl dmesg -c >/dev/null
    xl debug-keys e
    xl dmesg | grep -A 12 "Event channel information for domain $id"
    cat /var/log/xen/guest-*.log
    xenstore-ls -f /local/domain/$id
fi
case "$reason" in
    1)
        echo "RIVET-DOM0: domain {DOMU_NAME} rebooted: resetting the machine"
        xl destroy {DOMU_NAME}
        reboot -f ;;
    3)
        [ -n "$code" ] || {{ echo "RIVET-DOM0: domain {DOMU_NAME} crashed without data/rivet-exit-code: exit code 101"; code=101; }} ;;
    *)
        [ -n "$code" ] || code=0 ;;
esac
xl destroy {DOMU_NAME}
exit_qemu "$code"
"#,
        modules = insmod(modules, ""),
        net_modules = insmod(net_modules, "    "),
    )
}

/// The base initramfs of a dom0 (cached), and the kernel that unpacks it.
#[derive(Debug, Clone)]
pub struct Dom0 {
    /// The dom0 kernel (uncompressed `vmlinux`).
    pub kernel: PathBuf,
    /// The initramfs without the per-run files.
    pub initrd: PathBuf,
}

fn io(path: &Path, e: std::io::Error) -> Error {
    Error::Tool(format!("{}: {e}", path.display()))
}

/// Makes the dom0 kernel and base initramfs ready, building the initramfs when its inputs
/// changed.
pub fn prepare_base(ws: &Workspace, spec: &Dom0Spec) -> Result<Dom0, Error> {
    let triplet = multiarch(&spec.deb_arch)?;
    let linux = LinuxBaseline {
        deb_arch: spec.deb_arch.clone(),
        kernel: "vmlinux".into(),
        console: "hvc0".into(),
    };
    let kernel = baseline::prepare(ws, &linux)?;
    let dir = ws.target_dir.join("dom0").join(&spec.deb_arch);
    let mut debs = Vec::new();
    let mut roots = Vec::new();
    for package in PACKAGES {
        let pkg_dir = dir.join("packages").join(package);
        let stamp = pkg_dir.join("unpacked");
        if !stamp.is_file() {
            debian::fetch(&pkg_dir, package, &spec.deb_arch).map_err(|e| {
                Error::Tool(format!("dom0 package {package}:{}: {e}", spec.deb_arch))
            })?;
            std::fs::write(&stamp, b"").map_err(|e| io(&stamp, e))?;
        }
        let entries = std::fs::read_dir(&pkg_dir).map_err(|e| io(&pkg_dir, e))?;
        for entry in entries.filter_map(Result::ok) {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.ends_with(".deb") {
                debs.push(name);
            }
        }
        roots.push(pkg_dir.join("root"));
    }
    debs.sort();
    let modules_root = std::fs::read_dir(
        ws.target_dir.join("baseline").join(&spec.deb_arch).join("root/lib/modules"),
    )
    .ok()
    .and_then(|mut entries| entries.next())
    .and_then(Result::ok)
    .map(|entry| entry.path())
    .ok_or_else(|| Error::Tool(format!("{} has no lib/modules", kernel.package)))?;
    let mut index = BTreeMap::new();
    index_modules(&modules_root, &mut index);
    let module_file = |name: &str| {
        index.get(&module_key(name)).cloned().ok_or_else(|| {
            format!(
                "kernel module {name} is not in {} ({})",
                kernel.package,
                modules_root.display()
            )
        })
    };
    let depends = |name: &str| -> Result<Vec<String>, String> {
        let path = module_file(name)?;
        let data = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(modinfo_depends(&data))
    };
    let modules = load_order(MODULES, &depends).map_err(Error::Tool)?;
    let net_modules: Vec<String> = load_order(NET_MODULES, &depends)
        .map_err(Error::Tool)?
        .into_iter()
        .filter(|m| !modules.iter().any(|n| module_key(n) == module_key(m)))
        .collect();
    let init = init_script(&modules, &net_modules);

    let initrd = dir.join("initrd-base.cpio");
    let inputs_file = dir.join("inputs");
    let mut hasher = DefaultHasher::new();
    (PACKAGES, FILES, DLOPENED, XL_CONF, vif_script(), &init).hash(&mut hasher);
    let inputs = format!(
        "kernel {}\n{}\nscript {:016x}\n",
        kernel.package,
        debs.join("\n"),
        hasher.finish()
    );
    let fresh = std::fs::read_to_string(&inputs_file).is_ok_and(|old| old == inputs);
    if fresh && initrd.is_file() {
        return Ok(Dom0 { kernel: kernel.kernel, initrd });
    }
    eprintln!("[xtask] building dom0's initramfs in {}", dir.display());
    let mut files = FileSet::new();
    for file in FILES {
        let found = roots.iter().map(|r| r.join(file)).find(|p| p.is_file()).ok_or_else(|| {
            Error::Tool(format!("no dom0 package ({}) has {file}", PACKAGES.join(", ")))
        })?;
        files.insert((*file).to_owned(), found);
    }
    let mut lib_dirs = Vec::new();
    let mut loader_roots = roots.clone();
    for root in &roots {
        lib_dirs.push(root.join("lib").join(triplet));
        lib_dirs.push(root.join("usr/lib").join(triplet));
    }
    let native = debian::run(std::process::Command::new("dpkg").arg("--print-architecture"))
        .map(|a| a.trim() == spec.deb_arch)
        .unwrap_or(false);
    if native {
        lib_dirs.push(Path::new("/lib").join(triplet));
        lib_dirs.push(Path::new("/usr/lib").join(triplet));
        loader_roots.push(PathBuf::from("/"));
    }
    let lib_dest = format!("lib/{triplet}");
    for name in DLOPENED {
        let found = lib_dirs.iter().map(|d| d.join(name)).find(|p| p.is_file());
        let found = found.ok_or_else(|| {
            Error::Tool(format!("dom0 initramfs: {name} is in no package nor on the host"))
        })?;
        files.insert(format!("{lib_dest}/{name}"), found);
    }
    add_libraries(&mut files, &loader_roots, &lib_dirs, &lib_dest, &|path: &Path| {
        std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))
    })
    .map_err(|e| Error::Tool(format!("dom0 initramfs: {e}")))?;
    for module in modules.iter().chain(&net_modules) {
        files.insert(format!("lib/modules/{module}.ko"), module_file(module).map_err(Error::Tool)?);
    }
    let mut cpio = Cpio::default();
    let mut dirs = BTreeSet::new();
    for dest in files.keys() {
        let mut parent = Path::new(dest).parent();
        while let Some(p) = parent.filter(|p| !p.as_os_str().is_empty()) {
            dirs.insert(p.to_string_lossy().into_owned());
            parent = p.parent();
        }
    }
    for d in ["bin", "dev", "proc", "sys", "etc", "etc/xen", "etc/xen/scripts", "tmp", "var", "run"]
    {
        dirs.insert(d.to_owned());
    }
    for d in &dirs {
        cpio.dir(d);
    }
    cpio.char_device("dev/console", 0o600, 5, 1);
    for (dest, source) in &files {
        let data = std::fs::read(source).map_err(|e| io(source, e))?;
        let executable = dest.contains("/bin/") || dest.starts_with("bin/");
        cpio.file(dest, if executable || dest.contains("ld-linux") { 0o755 } else { 0o644 }, &data);
    }
    cpio.file("etc/xen/xl.conf", 0o644, XL_CONF.as_bytes());
    cpio.file("etc/xen/scripts/vif-rivet", 0o755, vif_script().as_bytes());
    cpio.file("init", 0o755, init.as_bytes());
    std::fs::create_dir_all(&dir).map_err(|e| io(&dir, e))?;
    let partial = dir.join("initrd-base.partial");
    std::fs::write(&partial, cpio.finish()).map_err(|e| io(&partial, e))?;
    std::fs::rename(&partial, &initrd).map_err(|e| io(&initrd, e))?;
    std::fs::write(&inputs_file, inputs).map_err(|e| io(&inputs_file, e))?;
    Ok(Dom0 { kernel: kernel.kernel, initrd })
}

/// The domU's xl configuration for a launch: the image at its place inside dom0, the kernel
/// command line as every machine passes it, and the stopped domain preserved so that dom0 can
/// still read its xenstore entries.
pub fn domu_config(machine: &Machine, spec: &Dom0Spec, launch: &LaunchSettings) -> XlConfig {
    let kernel = format!("/{RUN_DIR}/kernel");
    let mut config = XlConfig::new(DOMU_NAME, &machine.triple, &kernel, &launch.cmdline);
    config.memory_mib = spec.memory;
    config.guest_type = spec.domu_type;
    config.vcpus = launch.smp.unwrap_or(machine.smp);
    config.on_poweroff = "preserve".into();
    config.on_reboot = "preserve".into();
    config.on_crash = "preserve".into();
    if launch.net.is_some() {
        config.vif = vec![VIF.to_owned()];
    }
    config
}

/// The per-run archive: the image as `/rivet/kernel`, its configuration as `/rivet/domu.cfg`,
/// and a [`Dom0Check`] as `/rivet/check` (the command) and `/rivet/check-marker`.
pub fn run_archive(image: &[u8], config: &XlConfig, check: Option<&Dom0Check>) -> Vec<u8> {
    let mut cpio = Cpio::default();
    cpio.dir(RUN_DIR);
    cpio.file(&format!("{RUN_DIR}/kernel"), 0o644, image);
    cpio.file(&format!("{RUN_DIR}/domu.cfg"), 0o644, config.render().as_bytes());
    if let Some(check) = check {
        cpio.file(&format!("{RUN_DIR}/check"), 0o644, format!("{}\n", check.command).as_bytes());
        cpio.file(&format!("{RUN_DIR}/check-marker"), 0o644, check.marker.as_bytes());
    }
    cpio.finish()
}

/// The values of `{dom0:kernel}` and `{dom0:initrd}` for a launch; the per-run initramfs (the
/// base one followed by [`run_archive`]) is written into `scratch`.
pub fn prepare(
    ws: &Workspace,
    machine: &Machine,
    spec: &Dom0Spec,
    launch: &LaunchSettings,
    scratch: &Path,
) -> Result<BTreeMap<String, String>, Error> {
    let base = prepare_base(ws, spec)?;
    let image = std::fs::read(&launch.image).map_err(|e| io(&launch.image, e))?;
    let mut initrd = std::fs::read(&base.initrd).map_err(|e| io(&base.initrd, e))?;
    if let Some(crate::net::NetSpec::User(forwards)) = &launch.net {
        if !forwards.is_empty() {
            return Err(Error::Usage(format!(
                "machine `{}`: --net gives the domU a vif to dom0 ({DOM0_ADDRESS}); host port \
                 forwards cannot reach it (use a dom0 check instead)",
                machine.name
            )));
        }
    }
    let config = domu_config(machine, spec, launch);
    initrd.extend_from_slice(&run_archive(&image, &config, launch.dom0_check.as_ref()));
    let path = scratch.join("dom0-initrd.cpio");
    std::fs::write(&path, initrd).map_err(|e| io(&path, e))?;
    let mut values = BTreeMap::new();
    values.insert("dom0:kernel".to_owned(), base.kernel.display().to_string());
    values.insert("dom0:initrd".to_owned(), path.display().to_string());
    Ok(values)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_needed_libraries_like_readelf() {
        let Ok(data) = std::fs::read("/bin/sh") else {
            return;
        };
        let deps = elf_deps(&data).unwrap().expect("an ELF file");
        assert!(deps.interp.as_deref().is_some_and(|i| i.contains("ld-linux")), "{deps:?}");
        assert!(deps.needed.iter().any(|n| n == "libc.so.6"), "{deps:?}");
        // When binutils is installed, the same list as `readelf -d`.
        if let Ok(out) = std::process::Command::new("readelf").args(["-d", "/bin/sh"]).output() {
            let text = String::from_utf8_lossy(&out.stdout);
            let listed: Vec<&str> = text
                .lines()
                .filter(|l| l.contains("(NEEDED)"))
                .filter_map(|l| l.split('[').nth(1)?.split(']').next())
                .collect();
            assert_eq!(deps.needed, listed);
        }
        assert_eq!(elf_deps(b"#!/bin/sh\n").unwrap(), None);
        assert!(elf_deps(b"\x7fELF\x01\x01").is_err(), "32-bit");
        assert!(elf_deps(b"\x7fELF\x02\x01\x01").is_err(), "truncated");
    }

    #[test]
    fn libraries_come_from_packages_before_the_host() {
        let Ok(sh) = std::fs::read("/bin/sh") else {
            return;
        };
        let deps = elf_deps(&sh).unwrap().unwrap();
        let dir = std::env::temp_dir().join(format!("rivet-dom0-libs-{}", std::process::id()));
        let (package, host) = (dir.join("package"), dir.join("host"));
        std::fs::create_dir_all(&package).unwrap();
        std::fs::create_dir_all(&host).unwrap();
        // Every library /bin/sh needs is a script on the "host"; libc is also in the "package".
        for name in &deps.needed {
            std::fs::write(host.join(name), b"host").unwrap();
        }
        std::fs::write(package.join("libc.so.6"), b"package").unwrap();
        let loader = dir.join("root").join(deps.interp.as_deref().unwrap().trim_start_matches('/'));
        std::fs::create_dir_all(loader.parent().unwrap()).unwrap();
        std::fs::write(&loader, b"loader").unwrap();
        let mut files = FileSet::new();
        files.insert("bin/sh".into(), PathBuf::from("/bin/sh"));
        let read = |p: &Path| std::fs::read(p).map_err(|e| e.to_string());
        let dirs = [package.clone(), host.clone()];
        add_libraries(&mut files, &[dir.join("root")], &dirs, "lib/x", &read).unwrap();
        assert_eq!(files["lib/x/libc.so.6"], package.join("libc.so.6"));
        for name in &deps.needed {
            assert!(files.contains_key(&format!("lib/x/{name}")), "{name}: {files:?}");
        }
        assert_eq!(files[deps.interp.as_deref().unwrap().trim_start_matches('/')], loader);
        // A library found nowhere is an error naming it.
        std::fs::remove_file(host.join("libc.so.6")).unwrap();
        std::fs::remove_file(package.join("libc.so.6")).unwrap();
        let mut files = FileSet::new();
        files.insert("bin/sh".into(), PathBuf::from("/bin/sh"));
        let err = add_libraries(&mut files, &[dir.join("root")], &dirs, "lib/x", &read);
        assert!(err.unwrap_err().contains("needs libc.so.6"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn module_dependencies_come_first() {
        let modinfo = b"\x7fELF...\0license=GPL\0depends=xen-privcmd,other\0name=xenfs\0";
        assert_eq!(modinfo_depends(modinfo), ["xen-privcmd", "other"]);
        assert!(modinfo_depends(b"\0depends=\0name=x\0").is_empty());
        assert!(modinfo_depends(b"nothing").is_empty());
        let deps = |name: &str| -> Result<Vec<String>, String> {
            Ok(match name {
                "xenfs" => vec!["xen-privcmd".into()],
                "a" => vec!["b".into()],
                "b" => vec!["a".into()],
                _ => vec![],
            })
        };
        assert_eq!(
            load_order(&["xen-evtchn", "xenfs", "xen_privcmd"], &deps).unwrap(),
            ["xen-evtchn", "xen-privcmd", "xenfs"]
        );
        assert!(load_order(&["a"], &deps).unwrap_err().contains("cycle"));
    }

    #[test]
    fn init_script_runs_the_domain_and_reports_its_code() {
        let script = init_script(&["xen-evtchn".into(), "xenfs".into()], &["xen-netback".into()]);
        assert!(script.starts_with("#!/bin/busybox sh\n"));
        assert!(script.contains("\ninsmod /lib/modules/xen-evtchn.ko || fail"));
        assert!(script.contains("\n    insmod /lib/modules/xen-netback.ko || fail"));
        let order = [
            "\nxenstored ",
            "\nxen-init-dom0 ",
            "\nxenconsoled ",
            "\nxl create ",
            "xl console rivet &",
            "\nxl unpause ",
        ];
        let at: Vec<usize> = order.iter().map(|s| script.find(s).unwrap()).collect();
        assert!(at.windows(2).all(|w| w[0] < w[1]), "{order:?} in order");
        assert!(script.contains("xenstore-read /local/domain/$id/data/rivet-exit-code"));
        assert!(script.contains("seek=244"));
        assert!(script.contains("reboot -f"));
        assert!(script.contains(&format!("exit_qemu {HARNESS_FAILURE}")));
        // A dom0 check watches the console for its marker and reports on one line.
        assert!(script.contains("grep -q -F -e \"$marker\" && run_check"));
        assert!(script.contains(&format!("echo \"{CHECK_PREFIX} ok $out\"")));
    }

    #[test]
    fn the_vif_script_follows_xl_hotplug() {
        let script = vif_script();
        assert!(script.starts_with("#!/bin/sh\n"));
        assert!(script.contains(&format!("ip addr add {DOM0_ADDRESS} dev \"$vif\"")));
        assert!(script.contains("xenstore-write \"$XENBUS_PATH/hotplug-status\" connected"));
        assert!(VIF.contains("script=/etc/xen/scripts/vif-rivet"));
    }

    #[test]
    fn the_run_archive_carries_image_and_config() {
        let text = "name = \"xen-domu\"\ntriple = \"x86_64-unknown-none\"\nqemu = \"q\"\nimage = \"elf\"\nexit = \"isa-debug-exit\"\nmemory = \"1G\"\nsmp = 1\nargs = [\"-initrd\", \"{dom0:initrd}\"]\n[dom0]\ndeb_arch = \"amd64\"\nmemory = 64\n[accel.tcg]\n[test]\nplatform = \"p\"\n";
        let machine = Machine::parse("xen-domu", text).unwrap();
        let launch = LaunchSettings {
            image: "/i.elf".into(),
            cmdline: "-- a 'b c'".into(),
            memory: None,
            smp: Some(2),
            accel: None,
            net: None,
            dom0_check: None,
        };
        let config = domu_config(&machine, machine.dom0.as_ref().unwrap(), &launch);
        let rendered = config.render();
        for line in [
            "name = \"rivet\"",
            "type = \"pv\"",
            "kernel = \"/rivet/kernel\"",
            "cmdline = \"-- a 'b c'\"",
            "memory = 64",
            "vcpus = 2",
            "on_poweroff = \"preserve\"",
            "on_reboot = \"preserve\"",
            "on_crash = \"preserve\"",
        ] {
            assert!(rendered.lines().any(|l| l == line), "{line} in\n{rendered}");
        }
        assert!(!rendered.contains("vif"));
        let with_net = LaunchSettings { net: Some(crate::net::NetSpec::User(vec![])), ..launch };
        let config_net = domu_config(&machine, machine.dom0.as_ref().unwrap(), &with_net);
        assert_eq!(config_net.vif, [VIF]);
        let check = Dom0Check { marker: "listening".into(), command: "wget -q -O - x".into() };
        let archive = run_archive(b"", &config_net, Some(&check));
        let text = String::from_utf8_lossy(&archive);
        assert!(text.contains("rivet/check\0") && text.contains("wget -q -O - x\n"));
        assert!(text.contains("rivet/check-marker\0") && text.contains("listening"));
        let archive = run_archive(b"\x7fELFimage", &config, None);
        let text = String::from_utf8_lossy(&archive);
        assert!(text.starts_with("070701") && archive.len().is_multiple_of(512));
        assert!(text.contains("rivet/kernel\0") && text.contains("\x7fELFimage"));
        assert!(text.contains("rivet/domu.cfg\0") && text.contains("vcpus = 2"));
    }
}
