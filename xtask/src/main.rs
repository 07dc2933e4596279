//! `cargo xtask`: build Rivet images, boot them in QEMU, run the tests and the benchmarks.
//!
//! The command line is declared with clap; each flag's doc comment is its `--help` text. The work
//! is done by the `xtask` library (shared with the boot tests in `tests/`).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use xtask::image::{self, Output, Profile};
use xtask::machine::{LaunchSettings, Machine, Machines};
use xtask::qemu::{self, status, Boot};
use xtask::{bench, cmdline, suite, symbolize, Error, Workspace};

const EXIT_CODES: &str = "\
Exit codes of `run` and `runner`:
  0..=127  the application's exit code (main's return value), reported by the guest:
           x86_64 through isa-debug-exit (QEMU exits with (c<<1)|1, mapped back to c),
           aarch64 through semihosting SYS_EXIT (QEMU exits with c).
  101      the application panicked (Rust panic)
  102      CPU exception: page fault, undefined instruction, stack guard hit
  103      bad boot input: broken DTB, start info or command line
  250      xtask failed (build error, unknown machine, QEMU missing)
  251      the guest reset without an exit code (triple fault, or a reset before reporting)
  252      timed out (--timeout)
  253      QEMU failed, or exited with a status the guest cannot produce
  128+N    QEMU was killed by signal N

Kernel command line (QEMU -append): `[kernel-params --] arg1 arg2 …`, split like a shell.
Machines are data: targets/machines/NAME.toml (list them with `cargo xtask machines`).";

/// Rivet's host tool: build images, boot them in QEMU, test and benchmark.
#[derive(Parser, Debug)]
#[command(name = "cargo xtask", bin_name = "cargo xtask", after_help = EXIT_CODES)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Build an example and make its bootable image; the image path is the last line printed.
    Build(BuildArgs),
    /// Build an example, boot it in QEMU with the console on stdout, exit with its exit code.
    #[command(after_help = EXIT_CODES)]
    Run(RunArgs),
    /// What cargo's `runner` calls: make an image from an ELF and boot it on the default machine.
    ///
    /// Environment: RIVET_MACHINE (machine), RIVET_ACCEL, RIVET_LOG (kernel log level),
    /// RIVET_TIMEOUT (seconds).
    #[command(after_help = EXIT_CODES)]
    Runner(RunnerArgs),
    /// Run the host unit tests, then the boot tests on every machine, and print a summary.
    Test(TestArgs),
    /// Measure image size, boot time and minimum memory, beside a minimal Linux VM.
    Bench(BenchArgs),
    /// List the machines in targets/machines/.
    Machines,
    /// Build an example and write an `xl` domain config for it, for `xl create` on a Xen host.
    XlConfig(XlConfigArgs),
    /// Build an example and write a Raspberry Pi SD-card image (FAT boot partition) for it.
    Sdcard(SdcardArgs),
    /// Build an example and write a raw GPT disk with an EFI system partition (AWS Graviton).
    Disk(DiskArgs),
}

#[derive(Args, Debug)]
struct SdcardArgs {
    /// Rust target triple (only aarch64-unknown-none boots on a Pi).
    #[arg(long, value_name = "TRIPLE", default_value = "aarch64-unknown-none")]
    target: String,
    /// The board: rpi4 or rpi3.
    #[arg(long, value_name = "BOARD")]
    board: String,
    #[command(flatten)]
    example: ExampleArgs,
    /// Take the Pi firmware files from this folder instead of Debian's raspi-firmware package.
    #[arg(long, value_name = "DIR")]
    firmware: Option<PathBuf>,
    /// Extra kernel parameter (before `--` in cmdline.txt); repeatable.
    #[arg(long = "param", short = 'p', value_name = "WORD")]
    params: Vec<String>,
    /// Put this image file on it instead of building the example.
    #[arg(long, value_name = "FILE")]
    image: Option<PathBuf>,
    /// Write the image here (default: target/rivet/TRIPLE/EXAMPLE-BOARD-sdcard.img).
    #[arg(long, short = 'o', value_name = "FILE")]
    out: Option<PathBuf>,
    /// Arguments for the application (after `--`), written to cmdline.txt.
    #[arg(last = true, value_name = "ARGS")]
    args: Vec<String>,
}

#[derive(Args, Debug)]
struct DiskArgs {
    /// Rust target triple (aarch64-unknown-none: the file is \EFI\BOOT\BOOTAA64.EFI).
    #[arg(long, value_name = "TRIPLE", default_value = "aarch64-unknown-none")]
    target: String,
    #[command(flatten)]
    example: ExampleArgs,
    /// Put this image file on it instead of building the example.
    #[arg(long, value_name = "FILE")]
    image: Option<PathBuf>,
    /// Write the image here (default: target/rivet/TRIPLE/EXAMPLE-disk.img).
    #[arg(long, short = 'o', value_name = "FILE")]
    out: Option<PathBuf>,
}

#[derive(Args, Debug)]
struct XlConfigArgs {
    /// Rust target triple (default x86_64-unknown-none: a PV guest).
    #[arg(long, value_name = "TRIPLE", default_value = xtask::workspace::DEFAULT_TRIPLE)]
    target: String,
    #[command(flatten)]
    example: ExampleArgs,
    /// The domain's name (default: rivet-EXAMPLE).
    #[arg(long, value_name = "NAME")]
    name: Option<String>,
    /// Memory in MiB.
    #[arg(long, default_value_t = 32, value_name = "MIB")]
    memory: u32,
    /// Virtual CPUs.
    #[arg(long, default_value_t = 1, value_name = "N")]
    vcpus: u32,
    /// Extra kernel parameter (before `--` on the command line); repeatable.
    #[arg(long = "param", short = 'p', value_name = "WORD")]
    params: Vec<String>,
    /// Write the config here (default: target/rivet/TRIPLE/EXAMPLE.xl).
    #[arg(long, short = 'o', value_name = "FILE")]
    out: Option<PathBuf>,
    /// Boot the x86_64 image as a PVH guest (`type = "pvh"`) instead of classic PV.
    #[arg(long)]
    pvh: bool,
    /// Arguments for the application (after `--`).
    #[arg(last = true, value_name = "ARGS")]
    args: Vec<String>,
}

#[derive(Args, Debug)]
struct Selection {
    /// Rust target triple (default: the machine's, else x86_64-unknown-none).
    #[arg(long, value_name = "TRIPLE")]
    target: Option<String>,
    /// Machine from targets/machines/ (default: the triple's default machine).
    #[arg(long, short = 'M', value_name = "MACHINE")]
    machine: Option<String>,
}

#[derive(Args, Debug)]
struct ExampleArgs {
    /// The example to build (a `[[example]]` of rivet-examples).
    #[arg(long, short = 'e', default_value = "hello", value_name = "NAME")]
    example: String,
    /// Build with the release profile (the default).
    #[arg(long, conflicts_with = "debug")]
    release: bool,
    /// Build with the dev profile.
    #[arg(long)]
    debug: bool,
}

impl ExampleArgs {
    fn profile(&self) -> Profile {
        if self.debug {
            Profile::Debug
        } else {
            Profile::Release
        }
    }
}

#[derive(Args, Debug, Default)]
struct BootArgs {
    /// Accelerator: tcg (default) or kvm (if the machine file lists it).
    #[arg(long, value_name = "ACCEL")]
    accel: Option<String>,
    /// Number of CPUs (QEMU -smp).
    #[arg(long, value_name = "N")]
    smp: Option<u32>,
    /// RAM size in QEMU syntax, e.g. 64M (QEMU -m).
    #[arg(long, short = 'm', value_name = "SIZE")]
    memory: Option<String>,
    /// Kernel log level: adds the kernel parameter rivet.log=LEVEL (error, warn, info, debug, trace).
    #[arg(long, value_name = "LEVEL")]
    log: Option<String>,
    /// Extra kernel parameter (before `--` on the command line); repeatable.
    #[arg(long = "param", short = 'p', value_name = "WORD")]
    params: Vec<String>,
    /// Stop QEMU after this many seconds (exit code 252).
    #[arg(long, value_name = "SECS")]
    timeout: Option<f64>,
    /// Give the guest a network card: `user[,hostfwd=HOSTPORT[-GUESTPORT]…]` (QEMU user
    /// networking; `hostfwd=8080` makes the guest's port 80 reachable at 127.0.0.1:8080) or
    /// `tap[,ifname=NAME]`.
    #[arg(long, value_name = "SPEC", value_parser = xtask::net::NetSpec::parse)]
    net: Option<xtask::net::NetSpec>,
    /// On a machine with a Linux dom0 (`xen-domu`): a shell command dom0 runs once the guest
    /// prints the --dom0-check-marker text (e.g. `wget -q -O - http://192.168.100.2:8080/`);
    /// dom0 prints `RIVET-DOM0-CHECK: ok|fail …` and ends the run.
    #[arg(long, value_name = "COMMAND")]
    dom0_check: Option<String>,
    /// The console text the --dom0-check command waits for (default: the guest's first line).
    #[arg(long, value_name = "TEXT", requires = "dom0_check")]
    dom0_check_marker: Option<String>,
}

#[derive(Args, Debug)]
struct BuildArgs {
    #[command(flatten)]
    selection: Selection,
    #[command(flatten)]
    example: ExampleArgs,
}

#[derive(Args, Debug)]
struct RunArgs {
    #[command(flatten)]
    selection: Selection,
    #[command(flatten)]
    example: ExampleArgs,
    #[command(flatten)]
    boot: BootArgs,
    /// Boot this image file instead of building the example.
    #[arg(long, value_name = "FILE")]
    image: Option<PathBuf>,
    /// Do not symbolise a backtrace printed by the guest.
    #[arg(long)]
    no_symbolize: bool,
    /// Arguments for the application (after `--`).
    #[arg(last = true, value_name = "ARGS")]
    args: Vec<String>,
}

#[derive(Args, Debug)]
struct RunnerArgs {
    /// The triple cargo built for.
    #[arg(long, value_name = "TRIPLE")]
    target: String,
    /// The ELF cargo built, then the application's arguments.
    #[arg(last = true, required = true, value_name = "ELF [ARGS]")]
    rest: Vec<String>,
}

#[derive(Args, Debug)]
struct TestArgs {
    /// Only the host unit tests.
    #[arg(long, conflicts_with = "boot_only")]
    host_only: bool,
    /// Only the boot tests.
    #[arg(long)]
    boot_only: bool,
    /// Boot tests running at once (1 or 2; each QEMU takes a core).
    #[arg(long, default_value_t = 2, value_name = "N")]
    test_threads: u32,
    /// Arguments for the boot-test harness, e.g. a name filter such as `microvm`.
    #[arg(last = true, value_name = "HARNESS ARGS")]
    harness: Vec<String>,
}

#[derive(Args, Debug)]
struct BenchArgs {
    /// What to measure: `boot` (boot time, image size, minimum memory, threads; the default)
    /// or `http` (requests per second with wrk, against busybox httpd in the Linux VM).
    #[arg(value_name = "WHAT", default_value = "boot", value_parser = ["boot", "http"])]
    what: String,
    /// With `http`: a soak run of N requests against http-hello (no baseline), printing the
    /// guest's heap use before and after.
    #[arg(long, value_name = "N")]
    soak: Option<u64>,
    /// Runs per figure (the median is reported).
    #[arg(long, default_value_t = 5, value_name = "N")]
    runs: usize,
    /// Skip the Linux baseline.
    #[arg(long)]
    no_baseline: bool,
    /// Skip the minimum-memory search.
    #[arg(long)]
    no_memory: bool,
    /// Skip the thread figures (spawn, switch, mutex, sleep accuracy).
    #[arg(long)]
    no_threads: bool,
    /// Only these triples (repeatable; default: every triple with a machine).
    #[arg(long = "target", value_name = "TRIPLE")]
    targets: Vec<String>,
    /// Only these machines (repeatable; default: all of the selected triples).
    #[arg(long = "machine", short = 'M', value_name = "MACHINE")]
    machines: Vec<String>,
    /// Accelerator for every boot.
    #[arg(long, value_name = "ACCEL")]
    accel: Option<String>,
}

/// Picks the machine for `--target` / `--machine`.
fn select<'a>(
    machines: &'a Machines,
    target: Option<&str>,
    machine: Option<&str>,
) -> Result<&'a Machine, Error> {
    match (target, machine) {
        (target, Some(name)) => Ok(machines.get(name, target)?),
        (target, None) => {
            Ok(machines.default_for(target.unwrap_or(xtask::workspace::DEFAULT_TRIPLE))?)
        }
    }
}

fn kernel_params(boot: &BootArgs) -> Vec<String> {
    boot.log
        .iter()
        .map(|level| format!("rivet.log={level}"))
        .chain(boot.params.iter().cloned())
        .collect()
}

/// Boots `image` with the console on stdout and returns the exit status to report.
fn boot_and_report(
    ws: &Workspace,
    machine: &Machine,
    image: PathBuf,
    elf: Option<PathBuf>,
    boot: &BootArgs,
    args: &[String],
    symbolise: bool,
) -> Result<u8, Error> {
    if boot.dom0_check.is_some() && machine.dom0.is_none() {
        return Err(Error::Usage(format!(
            "--dom0-check: machine `{}` has no Linux dom0 (xen-domu has)",
            machine.name
        )));
    }
    let settings = LaunchSettings {
        image,
        cmdline: cmdline::build(&kernel_params(boot), args),
        memory: boot.memory.clone(),
        smp: boot.smp,
        accel: boot.accel.clone(),
        net: boot.net.clone(),
        dom0_check: boot.dom0_check.as_ref().map(|command| xtask::dom0::Dom0Check {
            marker: boot.dom0_check_marker.clone().unwrap_or_default(),
            command: command.clone(),
        }),
    };
    let boot = Boot {
        machine,
        settings,
        echo: true,
        interactive: true,
        timeout: boot.timeout.map(Duration::from_secs_f64),
        marker: None,
        stop_at_marker: false,
        live_check: None,
    };
    let report = qemu::boot(ws, &boot)?;
    if symbolise {
        if let Some(frames) = elf.and_then(|elf| symbolize::symbolize(ws, &elf, &report.console)) {
            eprint!("{}", symbolize::render(&frames));
        }
    }
    let code = report.outcome.exit_status();
    eprintln!("[xtask] {} on {}: {}", machine.triple, machine.name, report.outcome.describe());
    Ok(code)
}

fn run(ws: &Workspace, args: RunArgs) -> Result<u8, Error> {
    let machines = ws.machines()?;
    let machine =
        select(&machines, args.selection.target.as_deref(), args.selection.machine.as_deref())?;
    let (image, elf) = match args.image {
        // An ELF from rivet-cc / rivet-c++ becomes the machine's image format first.
        Some(image) => xtask::cc::prepare_image(ws, &image, machine.image, &machine.triple)?,
        None => {
            let built = image::build(
                ws,
                &machine.triple,
                &args.example.example,
                args.example.profile(),
                machine.image,
                Output::Inherit,
            )?;
            (built.image, Some(built.elf))
        }
    };
    boot_and_report(ws, machine, image, elf, &args.boot, &args.args, !args.no_symbolize)
}

fn runner(ws: &Workspace, args: RunnerArgs) -> Result<u8, Error> {
    let machines = ws.machines()?;
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let machine = select(&machines, Some(&args.target), env("RIVET_MACHINE").as_deref())?;
    let elf = PathBuf::from(&args.rest[0]);
    let image =
        image::make_image(ws, &elf, machine.image, &ws.image_dir(&machine.triple).join("runner"))?;
    let timeout =
        match env("RIVET_TIMEOUT") {
            Some(t) => Some(t.parse().map_err(|_| {
                Error::Usage(format!("RIVET_TIMEOUT={t} is not a number of seconds"))
            })?),
            None => None,
        };
    let boot = BootArgs {
        accel: env("RIVET_ACCEL"),
        log: env("RIVET_LOG"),
        timeout,
        ..BootArgs::default()
    };
    boot_and_report(ws, machine, image, Some(elf), &boot, &args.rest[1..], true)
}

fn build(ws: &Workspace, args: BuildArgs) -> Result<u8, Error> {
    let machines = ws.machines()?;
    let machine =
        select(&machines, args.selection.target.as_deref(), args.selection.machine.as_deref())?;
    let built = image::build(
        ws,
        &machine.triple,
        &args.example.example,
        args.example.profile(),
        machine.image,
        Output::Inherit,
    )?;
    eprintln!("[xtask] elf:   {}", built.elf.display());
    println!("{}", built.image.display());
    Ok(0)
}

fn xl_config(ws: &Workspace, args: XlConfigArgs) -> Result<u8, Error> {
    // The image format of the triple's Xen machine (x86_64: ELF, arm64: Image), else its default.
    let machines = ws.machines()?;
    let format = match machines.get("xen", Some(&args.target)) {
        Ok(m) => m.image,
        Err(_) => machines.default_for(&args.target)?.image,
    };
    let built = image::build(
        ws,
        &args.target,
        &args.example.example,
        args.example.profile(),
        format,
        Output::Inherit,
    )?;
    let kernel = std::fs::canonicalize(&built.image).unwrap_or(built.image);
    let name = args.name.unwrap_or_else(|| format!("rivet-{}", args.example.example));
    let mut config = xtask::xl::XlConfig::new(
        &name,
        &args.target,
        &kernel.display().to_string(),
        &cmdline::build(&args.params, &args.args),
    );
    config.memory_mib = args.memory;
    config.vcpus = args.vcpus;
    if args.pvh {
        config.guest_type = xtask::xl::GuestType::Pvh;
    }
    let out = args
        .out
        .unwrap_or_else(|| ws.image_dir(&args.target).join(format!("{}.xl", args.example.example)));
    std::fs::write(&out, config.render())
        .map_err(|e| Error::Tool(format!("{}: {e}", out.display())))?;
    eprintln!("[xtask] xl create -c {}", out.display());
    println!("{}", out.display());
    Ok(0)
}

/// The Pi firmware files a board's boot ROM and GPU need, and its QEMU machine (for the DTB).
fn pi_board(board: &str) -> Result<(&'static [&'static str], &'static str), Error> {
    match board {
        "rpi4" => Ok((&["start4.elf", "fixup4.dat"], "raspi4b")),
        "rpi3" => Ok((&["bootcode.bin", "start.elf", "fixup.dat"], "raspi3b")),
        other => Err(Error::Usage(format!("--board {other}: expected rpi4 or rpi3"))),
    }
}

fn sdcard(ws: &Workspace, args: SdcardArgs) -> Result<u8, Error> {
    use xtask::disk::{self, Content};
    let (firmware_files, machine_name) = pi_board(&args.board)?;
    let machines = ws.machines()?;
    let machine = machines.get(machine_name, Some(&args.target))?;
    // The board's device tree: the same file its QEMU machine boots with.
    let dtb_spec = machine
        .assets
        .get("dtb")
        .ok_or_else(|| Error::Usage(format!("machine {} has no [assets.dtb]", machine.id)))?;
    let dtb = xtask::assets::asset(ws, "dtb", dtb_spec)?;
    let firmware_dir = match args.firmware {
        Some(dir) => dir,
        None => {
            let dir = ws.target_dir.join("assets/all/raspi-firmware");
            xtask::debian::fetch(&dir, "raspi-firmware", "all").map_err(|e| {
                Error::Tool(format!(
                    "{e}\n(raspi-firmware is in Debian's non-free-firmware component: run \
                     ci/setup.sh, or pass --firmware DIR)"
                ))
            })?;
            dir.join("root/usr/lib/raspi-firmware")
        }
    };
    let kernel = match args.image {
        Some(image) => image,
        None => {
            image::build(
                ws,
                &args.target,
                &args.example.example,
                args.example.profile(),
                machine.image,
                Output::Inherit,
            )?
            .image
        }
    };
    let mut files = vec![
        ("kernel8.img".to_owned(), Content::File(kernel)),
        ("config.txt".to_owned(), Content::Bytes(disk::pi_config(&args.board).into_bytes())),
        (
            "cmdline.txt".to_owned(),
            Content::Bytes(format!("{}\n", cmdline::build(&args.params, &args.args)).into_bytes()),
        ),
    ];
    let dtb_name = dtb.file_name().and_then(|n| n.to_str()).unwrap_or("board.dtb").to_owned();
    files.push((dtb_name, Content::File(dtb)));
    for name in firmware_files {
        let path = firmware_dir.join(name);
        if !path.is_file() {
            return Err(Error::Tool(format!("Pi firmware file {} is missing", path.display())));
        }
        files.push(((*name).to_owned(), Content::File(path)));
    }
    let out = args.out.unwrap_or_else(|| {
        ws.image_dir(&args.target)
            .join(format!("{}-{}-sdcard.img", args.example.example, args.board))
    });
    disk::sdcard(&out, &files)?;
    eprintln!(
        "[xtask] SD card for {}: write it with `dd if={} of=/dev/sdX bs=4M conv=fsync`",
        args.board,
        out.display()
    );
    println!("{}", out.display());
    Ok(0)
}

fn disk_image(ws: &Workspace, args: DiskArgs) -> Result<u8, Error> {
    use xtask::disk::{self, Content};
    let boot_file = match args.target.as_str() {
        "aarch64-unknown-none" => "EFI/BOOT/BOOTAA64.EFI",
        other => {
            return Err(Error::Usage(format!(
                "--target {other}: only aarch64-unknown-none images are UEFI applications"
            )))
        }
    };
    let machines = ws.machines()?;
    let format = match machines.get("efi", Some(&args.target)) {
        Ok(m) => m.image,
        Err(_) => machines.default_for(&args.target)?.image,
    };
    let app = match args.image {
        Some(image) => image,
        None => {
            image::build(
                ws,
                &args.target,
                &args.example.example,
                args.example.profile(),
                format,
                Output::Inherit,
            )?
            .image
        }
    };
    let out = args.out.unwrap_or_else(|| {
        ws.image_dir(&args.target).join(format!("{}-disk.img", args.example.example))
    });
    let files = [(boot_file.to_owned(), Content::File(app))];
    disk::esp_disk(&out, &args.example.example, &files)?;
    eprintln!("[xtask] GPT disk with \\{}: see docs/aws-graviton.md", boot_file.replace('/', "\\"));
    println!("{}", out.display());
    Ok(0)
}

fn list_machines(ws: &Workspace) -> Result<u8, Error> {
    let machines = ws.machines()?;
    for m in machines.all() {
        println!(
            "{:<10} {:<22} {}{}  [accel: {}]",
            m.name,
            m.triple,
            m.description,
            if m.default { " (default)" } else { "" },
            m.accels().join(", ")
        );
    }
    Ok(0)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let ws = Workspace::locate();
    let result = match cli.command {
        Command::Build(args) => build(&ws, args),
        Command::Run(args) => run(&ws, args),
        Command::Runner(args) => runner(&ws, args),
        Command::Machines => list_machines(&ws),
        Command::XlConfig(args) => xl_config(&ws, args),
        Command::Sdcard(args) => sdcard(&ws, args),
        Command::Disk(args) => disk_image(&ws, args),
        Command::Test(args) => {
            let options = suite::Options {
                no_host: args.boot_only,
                no_boot: args.host_only,
                test_threads: args.test_threads,
                boot_args: args.harness,
            };
            Ok(if suite::run(&ws, &options) { 0 } else { 1 })
        }
        Command::Bench(args) => {
            let options = bench::Options {
                runs: args.runs.max(1),
                baseline: !args.no_baseline,
                min_memory: !args.no_memory,
                threads: !args.no_threads,
                triples: args.targets,
                machines: args.machines,
                accel: args.accel,
                http: args.what == "http",
                soak: args.soak,
            };
            bench::run(&ws, &options).map(|()| 0)
        }
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("[xtask] error: {e}");
            ExitCode::from(status::TOOL_ERROR)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn run_takes_arguments_after_dashes() {
        let cli = Cli::try_parse_from([
            "xtask", "run", "--log", "debug", "-M", "q35", "--", "a", "b c", "--x",
        ])
        .unwrap();
        let Command::Run(run) = cli.command else { panic!("not run") };
        assert_eq!(run.args, ["a", "b c", "--x"]);
        assert_eq!(run.example.example, "hello");
        assert_eq!(kernel_params(&run.boot), ["rivet.log=debug"]);
        assert_eq!(run.selection.machine.as_deref(), Some("q35"));
    }

    #[test]
    fn runner_takes_elf_and_arguments() {
        let cli = Cli::try_parse_from([
            "xtask",
            "runner",
            "--target",
            "x86_64-unknown-none",
            "--",
            "/t/hello",
            "x",
        ])
        .unwrap();
        let Command::Runner(runner) = cli.command else { panic!("not runner") };
        assert_eq!(runner.rest, ["/t/hello", "x"]);
        assert!(Cli::try_parse_from(["xtask", "runner", "--target", "x"]).is_err());
    }

    #[test]
    fn release_and_debug_conflict() {
        assert!(Cli::try_parse_from(["xtask", "build", "--release", "--debug"]).is_err());
    }

    #[test]
    fn selection_follows_machine_and_target() {
        let ws = Workspace::locate();
        let machines = ws.machines().unwrap();
        assert_eq!(select(&machines, None, None).unwrap().name, "microvm");
        assert_eq!(select(&machines, Some("aarch64-unknown-none"), None).unwrap().name, "virt");
        assert_eq!(select(&machines, None, Some("virt")).unwrap().triple, "aarch64-unknown-none");
        assert!(select(&machines, Some("x86_64-unknown-none"), Some("virt")).is_err());
        assert!(select(&machines, None, Some("nosuch")).is_err());
    }
}
