//! Machine run descriptions: the data files in `targets/machines/`, one TOML file per machine.
//!
//! A machine says which triple it runs, which QEMU binary to start with which arguments, what image
//! format it boots and how QEMU's exit status carries the application's exit code. The tool has no
//! per-machine code: adding a machine is adding a file. Arguments hold placeholders:
//!
//! | placeholder | value |
//! |---|---|
//! | `{image}` | path of the image to boot |
//! | `{cmdline}` | the kernel command line (one argument, already quoted for the kernel) |
//! | `{memory}` | RAM size (`--memory`, else the file's `memory`) |
//! | `{smp}` | number of CPUs (`--smp`, else the file's `smp`) |
//! | `{accel}` | accelerator (`tcg`, `kvm`, …) |
//! | `{root}`, `{target_dir}` | the repository root and cargo's target directory |
//! | `{NAME}` | `vars.NAME`, overridden by `accel.<accel>.vars.NAME` |
//! | `{asset:NAME}` | the file `[assets.NAME]` names, fetched from Debian on first use (`assets.rs`) |
//! | `{dtb}` | the device tree `[dtb]` generates for this run (`assets.rs`) |
//! | `{dom0:kernel}`, `{dom0:initrd}` | `[dom0]`: the Linux dom0 and its initramfs carrying the image (`dom0.rs`) |
//!
//! `{{` and `}}` stand for literal braces (QEMU's JSON option syntax). A placeholder may end in a
//! filter: `{image|commas}` doubles every comma, as QEMU's option syntax (e.g. the multiboot
//! module list of `-initrd`) wants a literal comma written.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// What file QEMU's `-kernel` is given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ImageFormat {
    /// The example's ELF with its symbols stripped (x86_64: booted through the PVH note).
    Elf,
    /// A flat binary of the loadable segments (aarch64: a Linux arm64 `Image`).
    Binary,
}

impl ImageFormat {
    /// File name extension of images in this format.
    pub fn extension(self) -> &'static str {
        match self {
            ImageFormat::Elf => "elf",
            ImageFormat::Binary => "img",
        }
    }
}

/// How QEMU's exit status carries the application's exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ExitConvention {
    /// x86 `isa-debug-exit`: the guest writes `c`, QEMU exits with `(c << 1) | 1`. Status 0 means
    /// QEMU stopped without the guest writing (a reset or triple fault under `-no-reboot`).
    IsaDebugExit,
    /// The status is the code itself (aarch64 semihosting `SYS_EXIT`).
    Direct,
}

/// What a QEMU exit status means for the application.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitMeaning {
    /// The application (or the kernel on its behalf) reported this exit code.
    Code(u8),
    /// The guest reset or triple-faulted without reporting an exit code.
    GuestReset,
    /// The status cannot come from the guest under this convention (QEMU's own failure).
    Unexpected(i32),
}

impl ExitConvention {
    /// Maps QEMU's exit status to what the guest meant by it.
    pub fn interpret(self, status: i32) -> ExitMeaning {
        match self {
            ExitConvention::IsaDebugExit => match status {
                0 => ExitMeaning::GuestReset,
                s if s > 0 && s <= 255 && s % 2 == 1 => ExitMeaning::Code(((s - 1) / 2) as u8),
                s => ExitMeaning::Unexpected(s),
            },
            ExitConvention::Direct => match u8::try_from(status) {
                Ok(code) => ExitMeaning::Code(code),
                Err(_) => ExitMeaning::Unexpected(status),
            },
        }
    }
}

/// Settings that apply under one accelerator.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccelSettings {
    /// Placeholder values that replace the machine's `vars` under this accelerator.
    #[serde(default)]
    pub vars: BTreeMap<String, String>,
    /// Extra QEMU arguments appended under this accelerator (placeholders allowed).
    #[serde(default)]
    pub args: Vec<String>,
}

/// How the Linux baseline (`cargo xtask bench`) boots on this machine.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinuxBaseline {
    /// Debian architecture whose kernel and busybox to use (`amd64`, `arm64`).
    pub deb_arch: String,
    /// Which kernel file to boot: `vmlinux` (uncompressed ELF, PVH note) or `vmlinuz` (as shipped).
    pub kernel: String,
    /// The serial console device name for `console=`.
    pub console: String,
}

/// What the boot tests (`tests/`) expect on this machine.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestSettings {
    /// What `hello` prints after `Hello from Rivet on ` here (`x86_64/pvh`); fills `{platform}`.
    pub platform: String,
    /// Scenarios that cannot pass on this machine, each with the reason (reported as ignored);
    /// the key `*` stands for every scenario (a machine whose kernel support has not landed).
    #[serde(default)]
    pub skip: BTreeMap<String, String>,
    /// A prefix the machine puts before the guest's console lines (Xen on arm64 prints a dom0less
    /// domain's vpl011 output as `DOM1: …`); removed from lines before they are matched.
    #[serde(default)]
    pub line_prefix: String,
    /// Run only these scenarios here (a machine whose boots are too slow for the whole suite);
    /// every other one is ignored with [`TestSettings::only_reason`]. Names are not checked
    /// against the scenario table, so a scenario may be listed before it exists.
    pub only: Option<Vec<String>>,
    /// Why scenarios outside [`TestSettings::only`] are not run (required with `only`).
    #[serde(default)]
    pub only_reason: String,
    /// The per-boot timeout in seconds when `RIVET_TEST_TIMEOUT` does not set one (default 60).
    pub timeout: Option<f64>,
}

impl TestSettings {
    /// Why `scenario` is skipped here, if it is: its `skip` entry, else `*`'s, else
    /// `only_reason` when `only` does not list it.
    pub fn skip_reason(&self, scenario: &str) -> Option<&str> {
        self.skip.get(scenario).or_else(|| self.skip.get("*")).map(String::as_str).or_else(|| {
            let only = self.only.as_ref()?;
            (!only.iter().any(|name| name == scenario)).then_some(self.only_reason.as_str())
        })
    }

    /// The console as the tests match it: terminal escape sequences (UEFI firmware clears the
    /// screen without a newline) removed, and [`TestSettings::line_prefix`] removed from the
    /// lines that carry it.
    pub fn strip_prefix(&self, console: &str) -> String {
        let console = strip_escapes(console);
        if self.line_prefix.is_empty() {
            return console;
        }
        console
            .split_inclusive('\n')
            .map(|line| line.strip_prefix(self.line_prefix.as_str()).unwrap_or(line))
            .collect()
    }
}

/// A file a machine needs besides the image: `[assets.NAME]`, used as `{asset:NAME}`.
///
/// Either from a Debian package (`package`, `arch`, `path` a glob inside the package) or a host
/// file (`path` absolute, no `package`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssetSpec {
    /// The Debian package holding the file (a metapackage when `depends` is given).
    pub package: Option<String>,
    /// Debian architecture of the package (`amd64`, `arm64`, `all`); default `all`.
    #[serde(default = "all_arch")]
    pub arch: String,
    /// Follow `package` to the package it depends on whose name matches this glob
    /// (`linux-image-*`): for metapackages whose target's name carries a version.
    pub depends: Option<String>,
    /// The file: a path inside the package, `*` matching within one component; or an absolute
    /// host path when there is no package.
    pub path: String,
    /// The file is gzip-compressed: use the decompressed copy.
    #[serde(default)]
    pub gunzip: bool,
    /// Each run gets its own writable copy (firmware variable stores).
    #[serde(default)]
    pub copy: bool,
}

fn all_arch() -> String {
    "all".into()
}

/// A device tree generated per run: `[dtb]`, used as `{dtb}`.
///
/// QEMU dumps its own tree for `args` (plus `-machine dumpdtb=FILE`); the `overlay` file from
/// `targets/machines/` is appended to its source (dtc merges nodes of the same path) after its
/// `${NAME}` placeholders are filled, and dtc compiles the result.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DtbSpec {
    /// QEMU arguments whose machine's tree to dump (placeholders as in `args`, but no `{dtb}`).
    pub args: Vec<String>,
    /// DTS fragment in `targets/machines/`; placeholders `${image_size}` (hex), `${smp}`,
    /// `${cmdline}` (escaped for a DTS string) and `${NAME}` for `vars`.
    pub overlay: String,
}

/// `text` without ANSI CSI sequences (`ESC [ params final`).
pub fn strip_escapes(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\x1b' && chars.peek() == Some(&'[') {
            chars.next();
            // Parameter and intermediate bytes, then one final byte in 0x40..=0x7e.
            for c in chars.by_ref() {
                if ('\x40'..='\x7e').contains(&c) {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// A Linux dom0 that boots the image as a Xen PV domU: `[dom0]`, used as `{dom0:kernel}` and
/// `{dom0:initrd}` (built and cached by `dom0.rs`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Dom0Spec {
    /// Debian architecture of dom0's kernel, Xen tools and busybox (`amd64`).
    pub deb_arch: String,
    /// The domU's memory in MiB (`memory =` of its xl configuration).
    pub memory: u32,
    /// How Xen runs the image (`domu_type = "pv"`, the default, or `"pvh"`).
    #[serde(default)]
    pub domu_type: crate::xl::GuestType,
}

/// One machine description, as read from `targets/machines/FILE.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Machine {
    /// The machine's name, as `--machine` takes it: the `name` field, or else the file name
    /// without `.toml`. Two triples may share a name (`xen` for x86_64 and for aarch64); the pair
    /// (triple, name) is unique.
    #[serde(default)]
    pub name: String,
    /// The file name without `.toml`: unique, so it names the machine in test names.
    #[serde(skip)]
    pub id: String,
    /// A one-line description, shown by `cargo xtask machines`.
    #[serde(default)]
    pub description: String,
    /// The Rust target triple whose images this machine boots.
    pub triple: String,
    /// Whether this is the triple's default machine (exactly one per triple).
    #[serde(default)]
    pub default: bool,
    /// The QEMU binary, looked up on `PATH`.
    pub qemu: String,
    /// The image format `-kernel` takes.
    pub image: ImageFormat,
    /// How the exit status maps to the application's exit code.
    pub exit: ExitConvention,
    /// Default RAM size, QEMU syntax (`128M`).
    pub memory: String,
    /// Default number of CPUs.
    #[serde(default = "one")]
    pub smp: u32,
    /// Placeholder values for `{NAME}`.
    #[serde(default)]
    pub vars: BTreeMap<String, String>,
    /// QEMU arguments, with placeholders.
    pub args: Vec<String>,
    /// Accelerators this machine supports, with their settings; `tcg` is the default.
    pub accel: BTreeMap<String, AccelSettings>,
    /// What the boot tests expect here.
    pub test: TestSettings,
    /// How to boot the Linux baseline here; machines without it are benchmarked without one.
    pub linux: Option<LinuxBaseline>,
    /// Files fetched for this machine, by placeholder name.
    #[serde(default)]
    pub assets: BTreeMap<String, AssetSpec>,
    /// A device tree generated per run, if the machine needs one.
    pub dtb: Option<DtbSpec>,
    /// A Linux dom0 that runs the image as a Xen domU, if the machine boots it that way.
    pub dom0: Option<Dom0Spec>,
    /// The QEMU device model of the network card `--net` adds (`virtio-net-device`); `None`:
    /// the kernel drives no network card here yet.
    pub net: Option<String>,
}

fn one() -> u32 {
    1
}

/// Why the machine descriptions could not be used.
#[derive(Debug)]
pub enum MachineError {
    /// A file could not be read.
    Io(PathBuf, std::io::Error),
    /// A file is not a valid description.
    Parse(PathBuf, String),
    /// A description is inconsistent (unknown placeholder, no `tcg`, two defaults …).
    Invalid(String),
    /// No machine of that name exists.
    Unknown {
        /// The name asked for.
        name: String,
        /// The machines that exist.
        known: Vec<String>,
    },
}

impl fmt::Display for MachineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MachineError::Io(path, e) => write!(f, "{}: {e}", path.display()),
            MachineError::Parse(path, e) => write!(f, "{}: {e}", path.display()),
            MachineError::Invalid(why) => f.write_str(why),
            MachineError::Unknown { name, known } => {
                write!(f, "no machine named `{name}` (known: {})", known.join(", "))
            }
        }
    }
}

impl std::error::Error for MachineError {}

/// The values a launch fills into the placeholders.
#[derive(Debug, Clone)]
pub struct LaunchSettings {
    /// The image to boot.
    pub image: PathBuf,
    /// The full kernel command line.
    pub cmdline: String,
    /// RAM size override (QEMU syntax); `None` keeps the machine's default.
    pub memory: Option<String>,
    /// CPU count override.
    pub smp: Option<u32>,
    /// Accelerator; `None` means `tcg`.
    pub accel: Option<String>,
    /// A network card and what it is plugged into (`--net`). On a machine with a `[dom0]` the
    /// domU gets a Xen vif to dom0 instead of QEMU a card (`dom0.rs`).
    pub net: Option<crate::net::NetSpec>,
    /// A shell check dom0 runs once the guest prints a marker (machines with a `[dom0]` only).
    pub dom0_check: Option<crate::dom0::Dom0Check>,
}

/// Built-in placeholder names (the rest come from `vars`).
const BUILTIN: &[&str] = &["image", "cmdline", "memory", "smp", "accel", "root", "target_dir"];

/// Replaces `{name}` placeholders in `text` using `lookup`; `{{`/`}}` are literal braces.
fn expand(text: &str, lookup: &dyn Fn(&str) -> Option<String>) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(['{', '}']) {
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        if tail.starts_with("{{") || tail.starts_with("}}") {
            out.push_str(&tail[..1]);
            rest = &tail[2..];
        } else if tail.starts_with('}') {
            return Err(format!("lone `}}` in `{text}` (write `}}}}`)"));
        } else {
            let end = tail.find('}').ok_or_else(|| format!("unclosed `{{` in `{text}`"))?;
            let (name, filter) = match tail[1..end].split_once('|') {
                Some((name, filter)) => (name, Some(filter)),
                None => (&tail[1..end], None),
            };
            let value = lookup(name)
                .ok_or_else(|| format!("unknown placeholder `{{{name}}}` in `{text}`"))?;
            match filter {
                None => out.push_str(&value),
                Some("commas") => out.push_str(&value.replace(',', ",,")),
                Some(other) => {
                    return Err(format!("unknown filter `|{other}` in `{text}` (known: commas)"))
                }
            }
            rest = &tail[end + 1..];
        }
    }
    out.push_str(rest);
    Ok(out)
}

impl Machine {
    /// Parses one description; `id` is the file's stem (and the name, unless the file gives one).
    pub fn parse(id: &str, text: &str) -> Result<Machine, String> {
        let mut machine: Machine = toml::from_str(text).map_err(|e| e.to_string())?;
        machine.id = id.to_owned();
        if machine.name.is_empty() {
            machine.name = id.to_owned();
        }
        machine.validate()?;
        Ok(machine)
    }

    fn validate(&self) -> Result<(), String> {
        if !self.accel.contains_key("tcg") {
            return Err("no `[accel.tcg]` table: every machine must run under TCG".into());
        }
        let known = |name: &str| {
            let asset = name.strip_prefix("asset:").is_some_and(|a| self.assets.contains_key(a));
            let dtb = name == "dtb" && self.dtb.is_some();
            let dom0 = matches!(name, "dom0:kernel" | "dom0:initrd") && self.dom0.is_some();
            (BUILTIN.contains(&name) || self.vars.contains_key(name) || asset || dtb || dom0)
                .then(String::new)
        };
        for arg in &self.args {
            expand(arg, &known)?;
        }
        if let Some(dtb) = &self.dtb {
            for arg in &dtb.args {
                if arg.contains("{dtb}") {
                    return Err("[dtb] args cannot use `{dtb}`".into());
                }
                expand(arg, &known)?;
            }
        }
        for (name, asset) in &self.assets {
            if asset.package.is_none() && !asset.path.starts_with('/') {
                return Err(format!(
                    "assets.{name}: without `package`, `path` must be an absolute host path"
                ));
            }
        }
        for (accel, settings) in &self.accel {
            for name in settings.vars.keys() {
                if !self.vars.contains_key(name) {
                    return Err(format!("accel.{accel}.vars.{name} overrides no `vars.{name}`"));
                }
            }
            for arg in &settings.args {
                expand(arg, &known)?;
            }
        }
        // With a dom0 the image travels inside `{dom0:initrd}`.
        let uses_image = |a: &String| a.contains("{image}") || a.contains("{image|");
        if self.dom0.is_none() && !self.args.iter().any(uses_image) {
            return Err("`args` never uses `{image}`".into());
        }
        if self.dom0.is_some() && !self.args.iter().any(|a| a.contains("{dom0:initrd")) {
            return Err("`[dom0]` given but `args` never uses `{dom0:initrd}`".into());
        }
        if self.test.only.is_some() && self.test.only_reason.trim().is_empty() {
            return Err("[test] `only` needs an `only_reason`".into());
        }
        Ok(())
    }

    /// The accelerators this machine supports, `tcg` first.
    pub fn accels(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.accel.keys().map(String::as_str).collect();
        names.sort_by_key(|n| (*n != "tcg", *n));
        names
    }

    /// The full QEMU argument list for a launch. `files` holds the values of `{asset:NAME}` and
    /// `{dtb}` (see `assets::prepare`).
    pub fn qemu_args(
        &self,
        launch: &LaunchSettings,
        root: &Path,
        target_dir: &Path,
        files: &BTreeMap<String, String>,
    ) -> Result<Vec<String>, String> {
        let mut args = self.expand_args(&self.args, launch, root, target_dir, files, true)?;
        // A dom0 machine's network is the domU's vif (`dom0.rs`), not a QEMU card.
        if let Some(net) = launch.net.as_ref().filter(|_| self.dom0.is_none()) {
            let device = self.net.as_deref().ok_or_else(|| {
                format!(
                    "machine `{}` has no network card Rivet drives (no `net` in its file)",
                    self.name
                )
            })?;
            args.extend(net.qemu_args(device));
        }
        Ok(args)
    }

    /// Expands `args` (and, with `with_accel`, the accelerator's extra arguments) for a launch.
    pub fn expand_args(
        &self,
        args: &[String],
        launch: &LaunchSettings,
        root: &Path,
        target_dir: &Path,
        files: &BTreeMap<String, String>,
        with_accel: bool,
    ) -> Result<Vec<String>, String> {
        let accel = launch.accel.as_deref().unwrap_or("tcg");
        let settings = self.accel.get(accel).ok_or_else(|| {
            format!(
                "machine `{}` does not support accelerator `{accel}` (supported: {})",
                self.name,
                self.accels().join(", ")
            )
        })?;
        let memory = launch.memory.clone().unwrap_or_else(|| self.memory.clone());
        let smp = launch.smp.unwrap_or(self.smp).to_string();
        let lookup = |name: &str| -> Option<String> {
            Some(match name {
                "image" => launch.image.display().to_string(),
                "cmdline" => launch.cmdline.clone(),
                "memory" => memory.clone(),
                "smp" => smp.clone(),
                "accel" => accel.to_owned(),
                "root" => root.display().to_string(),
                "target_dir" => target_dir.display().to_string(),
                other
                    if other == "dtb"
                        || other.starts_with("asset:")
                        || other.starts_with("dom0:") =>
                {
                    files.get(other)?.clone()
                }
                other => settings.vars.get(other).or_else(|| self.vars.get(other))?.clone(),
            })
        };
        let extra: &[String] = if with_accel { &settings.args } else { &[] };
        args.iter().chain(extra).map(|arg| expand(arg, &lookup)).collect()
    }

    /// The value of `vars.NAME` under an accelerator.
    pub fn var(&self, name: &str, accel: Option<&str>) -> Option<&str> {
        let accel = accel.unwrap_or("tcg");
        self.accel
            .get(accel)
            .and_then(|s| s.vars.get(name))
            .or_else(|| self.vars.get(name))
            .map(String::as_str)
    }
}

/// All machine descriptions, sorted by name.
#[derive(Debug, Clone)]
pub struct Machines {
    machines: Vec<Machine>,
}

impl Machines {
    /// Reads every `*.toml` in `dir` and checks them as a set (one default per triple).
    pub fn load(dir: &Path) -> Result<Machines, MachineError> {
        let entries = std::fs::read_dir(dir).map_err(|e| MachineError::Io(dir.to_owned(), e))?;
        let mut files = Vec::new();
        for entry in entries {
            let path = entry.map_err(|e| MachineError::Io(dir.to_owned(), e))?.path();
            if path.extension().is_some_and(|e| e == "toml") {
                files.push(path);
            }
        }
        let mut machines = Vec::new();
        for path in files {
            let text =
                std::fs::read_to_string(&path).map_err(|e| MachineError::Io(path.clone(), e))?;
            let name = path.file_stem().and_then(|s| s.to_str()).unwrap_or_default().to_owned();
            machines.push(
                Machine::parse(&name, &text).map_err(|e| MachineError::Parse(path.clone(), e))?,
            );
        }
        Machines::from_list(machines)
    }

    /// Checks a list of machines as a set.
    pub fn from_list(mut machines: Vec<Machine>) -> Result<Machines, MachineError> {
        machines.sort_by(|a, b| (&a.name, &a.triple).cmp(&(&b.name, &b.triple)));
        if let Some(pair) =
            machines.windows(2).find(|w| w[0].name == w[1].name && w[0].triple == w[1].triple)
        {
            return Err(MachineError::Invalid(format!(
                "machines `{}` and `{}` are both named `{}` for {}",
                pair[0].id, pair[1].id, pair[0].name, pair[0].triple
            )));
        }
        let set = Machines { machines };
        for triple in set.triples() {
            let defaults: Vec<&str> =
                set.for_triple(&triple).filter(|m| m.default).map(|m| m.name.as_str()).collect();
            if defaults.len() != 1 {
                return Err(MachineError::Invalid(format!(
                    "triple {triple} needs exactly one default machine, has {} ({})",
                    defaults.len(),
                    defaults.join(", ")
                )));
            }
        }
        Ok(set)
    }

    /// Every machine, sorted by name.
    pub fn all(&self) -> &[Machine] {
        &self.machines
    }

    /// The triples any machine runs, sorted.
    pub fn triples(&self) -> Vec<String> {
        let mut triples: Vec<String> = self.machines.iter().map(|m| m.triple.clone()).collect();
        triples.sort();
        triples.dedup();
        triples
    }

    /// The machines of one triple, the default first.
    pub fn for_triple<'a>(&'a self, triple: &'a str) -> impl Iterator<Item = &'a Machine> + 'a {
        let default = self.machines.iter().filter(move |m| m.triple == triple && m.default);
        default.chain(self.machines.iter().filter(move |m| m.triple == triple && !m.default))
    }

    /// The machine with this name, for `triple` when given. Without a triple, a name two
    /// triples share is ambiguous and an error.
    pub fn get(&self, name: &str, triple: Option<&str>) -> Result<&Machine, MachineError> {
        let mut named = self.machines.iter().filter(|m| m.name == name);
        let unknown = || MachineError::Unknown {
            name: name.to_owned(),
            known: self.machines.iter().map(|m| format!("{} ({})", m.name, m.triple)).collect(),
        };
        match triple {
            Some(triple) => named.find(|m| m.triple == triple).ok_or_else(unknown),
            None => match (named.next(), named.next()) {
                (Some(only), None) => Ok(only),
                (None, _) => Err(unknown()),
                (Some(a), Some(b)) => Err(MachineError::Invalid(format!(
                    "machine `{name}` exists for {} and {}: pass --target",
                    a.triple, b.triple
                ))),
            },
        }
    }

    /// The default machine of a triple.
    pub fn default_for(&self, triple: &str) -> Result<&Machine, MachineError> {
        let found = self.machines.iter().find(|m| m.triple == triple && m.default);
        found.ok_or_else(|| {
            MachineError::Invalid(format!(
                "no machine runs {triple} (triples with machines: {})",
                self.triples().join(", ")
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"
        triple = "x86_64-unknown-none"
        default = true
        qemu = "qemu-system-x86_64"
        image = "elf"
        exit = "isa-debug-exit"
        memory = "128M"
        vars = { cpu = "max" }
        args = ["-M", "microvm", "-cpu", "{cpu}", "-m", "{memory}", "-smp", "{smp}", "-accel", "{accel}",
                "-kernel", "{image}", "-append", "{cmdline}", "-object", "{{\"x\":1}}"]
        [accel.tcg]
        [accel.kvm]
        vars = { cpu = "host" }
        args = ["-extra", "{root}"]
        [test]
        platform = "x86_64/pvh"
        skip = { null-deref = "CR2 reads 0 under nested virtualisation" }
    "#;

    fn launch(accel: Option<&str>) -> LaunchSettings {
        LaunchSettings {
            image: "/img".into(),
            cmdline: "a 'b c'".into(),
            memory: None,
            smp: Some(2),
            accel: accel.map(str::to_owned),
            net: None,
            dom0_check: None,
        }
    }

    #[test]
    fn expands_placeholders() {
        let m = Machine::parse("microvm", SAMPLE).unwrap();
        let args =
            m.qemu_args(&launch(None), Path::new("/r"), Path::new("/t"), &BTreeMap::new()).unwrap();
        assert_eq!(
            args,
            [
                "-M",
                "microvm",
                "-cpu",
                "max",
                "-m",
                "128M",
                "-smp",
                "2",
                "-accel",
                "tcg",
                "-kernel",
                "/img",
                "-append",
                "a 'b c'",
                "-object",
                "{\"x\":1}"
            ]
        );
        let kvm = m
            .qemu_args(&launch(Some("kvm")), Path::new("/r"), Path::new("/t"), &BTreeMap::new())
            .unwrap();
        assert_eq!(kvm[3], "host");
        assert_eq!(kvm[9], "kvm");
        assert_eq!(&kvm[kvm.len() - 2..], ["-extra", "/r"]);
        assert!(m
            .qemu_args(&launch(Some("hvf")), Path::new("/r"), Path::new("/t"), &BTreeMap::new())
            .is_err());
        assert_eq!(m.accels(), ["tcg", "kvm"]);
    }

    #[test]
    fn rejects_bad_descriptions() {
        let unknown = SAMPLE.replace("{cpu}", "{cpux}");
        assert!(Machine::parse("m", &unknown)
            .unwrap_err()
            .contains("unknown placeholder `{cpux}`"));
        let no_tcg = SAMPLE.replace("[accel.tcg]", "");
        assert!(Machine::parse("m", &no_tcg).unwrap_err().contains("TCG"));
        let typo = SAMPLE.replace("memory =", "memroy =");
        assert!(Machine::parse("m", &typo).is_err());
        let bad_exit = SAMPLE.replace("isa-debug-exit", "psci");
        assert!(Machine::parse("m", &bad_exit).is_err());
        assert!(expand("{unclosed", &|_| Some(String::new())).is_err());
        assert!(expand("lone }", &|_| Some(String::new())).is_err());
    }

    #[test]
    fn assets_dtb_and_filters() {
        let text = SAMPLE.replace(
            "\"-kernel\", \"{image}\"",
            "\"-kernel\", \"{asset:xen}\", \"-dtb\", \"{dtb}\", \"-initrd\", \"{image|commas} {cmdline|commas}\"",
        ) + r#"
        [assets.xen]
        package = "xen-hypervisor-4.17-amd64"
        arch = "amd64"
        path = "boot/xen-4.17-amd64.gz"
        gunzip = true
        [assets.vars]
        path = "/usr/share/AAVMF/AAVMF_VARS.fd"
        copy = true
        [dtb]
        args = ["-M", "virt,virtualization=on", "-m", "{memory}"]
        overlay = "x.dts"
        "#;
        let m = Machine::parse("m", &text).unwrap();
        assert_eq!(m.assets["xen"].arch, "amd64");
        assert!(m.assets["xen"].gunzip && !m.assets["xen"].copy);
        assert_eq!(m.assets["vars"].arch, "all");
        let mut files = BTreeMap::new();
        files.insert("asset:xen".to_owned(), "/c/xen".to_owned());
        files.insert("dtb".to_owned(), "/run/virt.dtb".to_owned());
        let mut settings = launch(None);
        settings.image = "/i,mg".into();
        settings.cmdline = "a,b c".into();
        let args = m.qemu_args(&settings, Path::new("/r"), Path::new("/t"), &files).unwrap();
        let at = args.iter().position(|a| a == "-kernel").unwrap();
        assert_eq!(
            &args[at..at + 6],
            ["-kernel", "/c/xen", "-dtb", "/run/virt.dtb", "-initrd", "/i,,mg a,,b c"]
        );
        // A placeholder whose file was not prepared is an error, not an empty string.
        assert!(m
            .qemu_args(&settings, Path::new("/r"), Path::new("/t"), &BTreeMap::new())
            .is_err());
        let unknown_asset = text.replace("{asset:xen}", "{asset:nope}");
        assert!(Machine::parse("m", &unknown_asset).unwrap_err().contains("{asset:nope}"));
        let bad_filter = text.replace("{image|commas}", "{image|upper}");
        assert!(Machine::parse("m", &bad_filter).unwrap_err().contains("|upper"));
        let relative = text.replace("\"/usr/share/AAVMF/AAVMF_VARS.fd\"", "\"AAVMF_VARS.fd\"");
        assert!(Machine::parse("m", &relative).unwrap_err().contains("absolute"));
        let no_dtb = text.replace("[dtb]", "[dtbx]");
        assert!(Machine::parse("m", &no_dtb).is_err());
    }

    #[test]
    fn skips_and_prefixes() {
        let text = SAMPLE.replace(
            "skip = { null-deref = \"CR2 reads 0 under nested virtualisation\" }",
            "skip = { \"*\" = \"not yet\", panic = \"no\" }\nline_prefix = \"DOM1: \"",
        );
        let m = Machine::parse("m", &text).unwrap();
        assert_eq!(m.test.skip_reason("panic"), Some("no"));
        assert_eq!(m.test.skip_reason("hello"), Some("not yet"));
        assert_eq!(m.test.strip_prefix("(XEN) x\nDOM1: Hello\nDOM1: a\n"), "(XEN) x\nHello\na\n");
        let efi = "\x1b[2J\x1b[01;01H\x1b[=3h\x1b[2J\x1b[01;01HHello from Rivet\n";
        assert_eq!(m.test.strip_prefix(efi), "Hello from Rivet\n");
        assert_eq!(strip_escapes("a\x1b[0mb\x1b"), "ab\x1b");
        let plain = Machine::parse("p", SAMPLE).unwrap();
        assert_eq!(plain.test.skip_reason("hello"), None);
        // `only`: every scenario it does not list is skipped with `only_reason`; `skip` wins.
        let subset = SAMPLE.replace(
            "skip = { null-deref = \"CR2 reads 0 under nested virtualisation\" }",
            "skip = { panic = \"no\" }\nonly = [\"hello\", \"panic\", \"not-yet-written\"]\nonly_reason = \"slow\"\ntimeout = 120",
        );
        let m = Machine::parse("m", &subset).unwrap();
        assert_eq!(m.test.skip_reason("hello"), None);
        assert_eq!(m.test.skip_reason("panic"), Some("no"));
        assert_eq!(m.test.skip_reason("threads"), Some("slow"));
        assert_eq!(m.test.timeout, Some(120.0));
        let no_reason = subset.replace("only_reason = \"slow\"", "");
        assert!(Machine::parse("m", &no_reason).unwrap_err().contains("only_reason"));
        assert_eq!(plain.test.strip_prefix("DOM1: x"), "DOM1: x");
    }

    #[test]
    fn dom0_placeholders() {
        let text = SAMPLE.replace(
            "\"-kernel\", \"{image}\"",
            "\"-kernel\", \"/xen\", \"-initrd\", \"{dom0:kernel} quiet,{dom0:initrd|commas}\"",
        );
        // Without `[dom0]` the placeholders are unknown, and the image is never used.
        assert!(Machine::parse("m", &text).is_err());
        let text = text + "[dom0]\ndeb_arch = \"amd64\"\nmemory = 64\n";
        let m = Machine::parse("m", &text).unwrap();
        assert_eq!(m.dom0.as_ref().unwrap().memory, 64);
        let mut files = BTreeMap::new();
        files.insert("dom0:kernel".to_owned(), "/c/vmlinux".to_owned());
        files.insert("dom0:initrd".to_owned(), "/run/a,b.cpio".to_owned());
        let args = m.qemu_args(&launch(None), Path::new("/r"), Path::new("/t"), &files).unwrap();
        let at = args.iter().position(|a| a == "-initrd").unwrap();
        assert_eq!(args[at + 1], "/c/vmlinux quiet,/run/a,,b.cpio");
        let unused = text.replace(",{dom0:initrd|commas}", "");
        assert!(Machine::parse("m", &unused).unwrap_err().contains("{dom0:initrd}"));
    }

    #[test]
    fn exactly_one_default_per_triple() {
        let a = Machine::parse("a", SAMPLE).unwrap();
        let mut b = Machine::parse("b", SAMPLE).unwrap();
        assert!(Machines::from_list(vec![a.clone(), b.clone()]).is_err());
        b.default = false;
        let set = Machines::from_list(vec![b, a]).unwrap();
        assert_eq!(set.default_for("x86_64-unknown-none").unwrap().name, "a");
        assert_eq!(
            set.for_triple("x86_64-unknown-none").map(|m| m.name.as_str()).collect::<Vec<_>>(),
            ["a", "b"]
        );
        assert!(set.get("c", None).is_err());
    }

    #[test]
    fn a_name_may_serve_two_triples() {
        let x86 = Machine::parse("xen-x86_64", &format!("name = \"xen\"\n{SAMPLE}")).unwrap();
        assert_eq!((x86.id.as_str(), x86.name.as_str()), ("xen-x86_64", "xen"));
        let mut arm = Machine::parse("xen-aarch64", &format!("name = \"xen\"\n{SAMPLE}")).unwrap();
        arm.triple = "aarch64-unknown-none".into();
        let set = Machines::from_list(vec![x86.clone(), arm]).unwrap();
        assert_eq!(set.get("xen", Some("aarch64-unknown-none")).unwrap().id, "xen-aarch64");
        assert_eq!(set.get("xen", Some("x86_64-unknown-none")).unwrap().id, "xen-x86_64");
        assert!(set.get("xen", None).is_err(), "ambiguous without a triple");
        assert!(set.get("xen", Some("riscv64gc-unknown-none-elf")).is_err());
        let mut twin = x86.clone();
        twin.id = "other".into();
        twin.default = false;
        assert!(Machines::from_list(vec![x86, twin]).is_err(), "same name and triple twice");
    }

    #[test]
    fn exit_status_mapping() {
        let isa = ExitConvention::IsaDebugExit;
        assert_eq!(isa.interpret(1), ExitMeaning::Code(0));
        assert_eq!(isa.interpret(85), ExitMeaning::Code(42));
        assert_eq!(isa.interpret(203), ExitMeaning::Code(101));
        assert_eq!(isa.interpret(205), ExitMeaning::Code(102));
        assert_eq!(isa.interpret(255), ExitMeaning::Code(127));
        assert_eq!(isa.interpret(0), ExitMeaning::GuestReset);
        assert_eq!(isa.interpret(2), ExitMeaning::Unexpected(2));
        let direct = ExitConvention::Direct;
        assert_eq!(direct.interpret(0), ExitMeaning::Code(0));
        assert_eq!(direct.interpret(101), ExitMeaning::Code(101));
        assert_eq!(direct.interpret(-1), ExitMeaning::Unexpected(-1));
    }

    #[test]
    fn repository_machines_are_valid() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../targets/machines");
        let set = Machines::load(&dir).unwrap();
        for triple in ["x86_64-unknown-none", "aarch64-unknown-none"] {
            set.default_for(triple).unwrap();
        }
        assert_eq!(set.default_for("x86_64-unknown-none").unwrap().name, "microvm");
        assert_eq!(set.default_for("aarch64-unknown-none").unwrap().name, "virt");
        set.get("q35", None).unwrap();
        assert!(set.get("xen-domu", None).unwrap().dom0.is_some());
    }
}
