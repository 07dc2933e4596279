//! The libc figures of `cargo xtask bench`: the cost of `getpid()` and `clock_gettime()` through
//! Rivet's libc shim beside the same calls on the Linux baseline, where they are a system call
//! and a vDSO call.
//!
//! One C source, `examples/c/libc-bench.c`, runs on both sides: built with `rivet-cc` into an
//! image (`c/libc-bench`), and built static with the host's (cross) gcc into an initramfs like
//! the baseline's (its busybox reused), whose `/init` runs it. Both print `bench:` lines
//! ([`crate::bench::thread_lines`] reads them). Under TCG the numbers measure the emulator as
//! much as the code: compare them with `--accel kvm` where the host has KVM.

use std::path::PathBuf;
use std::time::Duration;

use crate::baseline::{self, Baseline, Cpio};
use crate::bench::thread_lines;
use crate::image::{self, Output, Profile};
use crate::machine::{LaunchSettings, LinuxBaseline, Machine};
use crate::qemu::{self, Boot};
use crate::workspace::Workspace;
use crate::Error;

/// The C example both sides run.
const EXAMPLE: &str = "c/libc-bench";
const SOURCE: &str = include_str!("../../examples/c/libc-bench.c");
/// The line after the figures.
const DONE: &str = "bench: libc done";

/// An initramfs whose `/init` runs libc-bench, then prints the baseline's marker.
fn linux_initrd(settings: &LinuxBaseline, linux: &Baseline) -> Result<PathBuf, Error> {
    let dir = linux.initrd.parent().map(PathBuf::from).unwrap_or_default();
    let source = dir.join("libc-bench.c");
    let binary = dir.join("libc-bench");
    let initrd = dir.join("initrd-libc.cpio");
    let fresh = std::fs::read_to_string(&source).is_ok_and(|s| s == SOURCE);
    if fresh && initrd.is_file() {
        return Ok(initrd);
    }
    std::fs::write(&source, SOURCE)
        .map_err(|e| Error::Tool(format!("{}: {e}", source.display())))?;
    crate::baseline::compile_static(settings, &source, &binary)?;
    let read = |path: &PathBuf| {
        std::fs::read(path).map_err(|e| Error::Tool(format!("{}: {e}", path.display())))
    };
    let busybox = read(&dir.join("root/bin/busybox"))?;
    let bench = read(&binary)?;
    let init = format!(
        "#!/bin/busybox sh\n/bin/libc-bench\n/bin/busybox echo '{}'\n/bin/busybox poweroff -f\n",
        baseline::MARKER
    );
    let mut cpio = Cpio::default();
    for dir in ["bin", "dev", "proc", "sys"] {
        cpio.dir(dir);
    }
    cpio.char_device("dev/console", 0o600, 5, 1);
    cpio.file("bin/busybox", 0o755, &busybox);
    cpio.file("bin/libc-bench", 0o755, &bench);
    cpio.file("init", 0o755, init.as_bytes());
    std::fs::write(&initrd, cpio.finish())
        .map_err(|e| Error::Tool(format!("{}: {e}", initrd.display())))?;
    Ok(initrd)
}

fn boot_lines(
    ws: &Workspace,
    machine: &Machine,
    image: PathBuf,
    cmdline: String,
    extra_args: Vec<String>,
    marker: &str,
    accel: Option<String>,
) -> Result<Vec<(String, String)>, Error> {
    let mut machine = machine.clone();
    machine.args.extend(extra_args);
    let settings = LaunchSettings {
        image,
        cmdline,
        memory: None,
        smp: None,
        accel,
        net: None,
        dom0_check: None,
    };
    let report = qemu::boot(
        ws,
        &Boot {
            machine: &machine,
            settings,
            echo: false,
            interactive: false,
            timeout: Some(Duration::from_secs(240)),
            marker: Some(marker.to_owned()),
            stop_at_marker: false,
            live_check: None,
        },
    )?;
    Ok(thread_lines(&report.console))
}

/// Boots libc-bench on Rivet (and with `linux`, on the baseline) and tabulates the figures as
/// rows of the bench report; problems go to `notes`.
pub fn figures(
    ws: &Workspace,
    machine: &Machine,
    accel: Option<String>,
    linux: Option<&Baseline>,
    notes: &mut Vec<String>,
) -> String {
    eprintln!("[bench]   libc figures");
    let rivet = image::build(
        ws,
        &machine.triple,
        EXAMPLE,
        Profile::Release,
        machine.image,
        Output::Capture,
    )
    .and_then(|built| {
        boot_lines(ws, machine, built.image, String::new(), Vec::new(), DONE, accel.clone())
    })
    .unwrap_or_else(|e| {
        notes.push(format!("libc-bench: {e}"));
        Vec::new()
    });
    let theirs = match linux.zip(machine.linux.as_ref()) {
        Some((baseline, settings)) => linux_initrd(settings, baseline)
            .and_then(|initrd| {
                boot_lines(
                    ws,
                    machine,
                    baseline.kernel.clone(),
                    Baseline::cmdline(settings),
                    vec!["-initrd".into(), initrd.display().to_string()],
                    baseline::MARKER,
                    accel.clone(),
                )
            })
            .unwrap_or_else(|e| {
                notes.push(format!("Linux libc-bench: {e}"));
                Vec::new()
            }),
        None => Vec::new(),
    };
    let mut text = String::new();
    for (label, value) in &rivet {
        let linux_value = theirs.iter().find(|(l, _)| l == label).map(|(_, v)| v.as_str());
        let number = |v: &str| v.split_whitespace().next().and_then(|n| n.parse::<f64>().ok());
        let ratio = match (linux_value.and_then(number), number(value)) {
            (Some(linux), Some(rivet)) if rivet > 0.0 => format!("{:.1}×", linux / rivet),
            _ => "—".to_owned(),
        };
        text.push_str(&format!(
            "  {:<34} {:>16} {:>16} {:>12}\n",
            format!("libc: {}", label.trim_start_matches("libc ")),
            value,
            linux_value.unwrap_or("—"),
            ratio
        ));
    }
    if rivet.is_empty() {
        text.push_str("  libc figures: none (see the notes)\n");
    }
    text
}
