//! `cargo xtask bench`: image size, boot time and minimum memory of `hello`, per machine, beside
//! the same figures for a minimal Linux VM (see `baseline`) measured in the same run.
//!
//! Boot time is wall time from starting QEMU to the first console line (`Hello from Rivet`, or the
//! baseline's marker): the two systems alternate (A B A B …) after one warm-up each, and medians
//! are reported. The guest's own first-instruction→main time comes from `rivet.log=debug`. The
//! minimum memory is a binary search over whole MiB, assuming a size that boots means every larger
//! size boots. The thread figures come from the `thread-bench` example and, on Linux, from the same
//! measurements in C (`xtask/baseline/thread-bench.c`, built static and run by the baseline's
//! `/init`), one core each. Figures are printed, never asserted: the machine is shared and noisy
//! (≈ 15 %).

use std::path::Path;
use std::time::Duration;

use crate::baseline::{self, Baseline};
use crate::image::{self, Output, Profile};
use crate::machine::{LaunchSettings, Machine};
use crate::qemu::{self, Boot, Outcome};
use crate::workspace::Workspace;
use crate::Error;

/// The example benchmarked and the line that marks its start.
pub const EXAMPLE: &str = "hello";
/// The first line `hello` prints.
pub const HELLO_MARKER: &str = "Hello from Rivet";
/// The debug log line with the guest-measured boot time.
pub const BOOT_LINE: &str = "boot: first instruction to main took ";

/// Options of `cargo xtask bench`.
#[derive(Debug, Clone)]
pub struct Options {
    /// Runs per timing (median reported).
    pub runs: usize,
    /// Measure the Linux baseline too.
    pub baseline: bool,
    /// Search for the minimum memory.
    pub min_memory: bool,
    /// Measure the thread figures (`thread-bench`, and its C twin on Linux).
    pub threads: bool,
    /// Only these triples (empty: all).
    pub triples: Vec<String>,
    /// Only these machines (empty: all).
    pub machines: Vec<String>,
    /// Accelerator for every boot.
    pub accel: Option<String>,
    /// Measure HTTP serving (`cargo xtask bench http`, see `bench_http`) instead of the
    /// boot, size, memory and thread figures.
    pub http: bool,
    /// With `http`: a soak run of this many requests instead, the guest's heap use printed
    /// before and after.
    pub soak: Option<u64>,
}

/// Parses the guest-reported first-instruction→main time, in microseconds.
pub fn parse_boot_line(console: &str) -> Option<f64> {
    let line = console.lines().find(|l| l.contains(BOOT_LINE))?;
    let rest = &line[line.find(BOOT_LINE)? + BOOT_LINE.len()..];
    let number: String =
        rest.trim_start().chars().take_while(|c| c.is_ascii_digit() || *c == '.').collect();
    let after = rest.trim_start()[number.len()..].trim_start();
    if !after.starts_with("us") && !after.starts_with("µs") {
        return None;
    }
    number.parse().ok()
}

/// The median of some figures (`None` if there are none).
pub fn median(values: &[f64]) -> Option<f64> {
    let mut sorted: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    if sorted.is_empty() {
        return None;
    }
    sorted.sort_by(|a, b| a.partial_cmp(b).expect("finite"));
    let mid = sorted.len() / 2;
    Some(if sorted.len() % 2 == 1 { sorted[mid] } else { (sorted[mid - 1] + sorted[mid]) / 2.0 })
}

/// QEMU's `-m` size in MiB for a size string (`128M`, `1G`, `64`).
pub fn mebibytes(size: &str) -> Option<u32> {
    let size = size.trim();
    let (digits, unit) =
        size.split_at(size.find(|c: char| !c.is_ascii_digit()).unwrap_or(size.len()));
    let n: u32 = digits.parse().ok()?;
    match unit.to_ascii_uppercase().as_str() {
        "" | "M" | "MB" | "MIB" => Some(n),
        "G" | "GB" | "GIB" => n.checked_mul(1024),
        _ => None,
    }
}

/// Smallest `n` in `lo..=hi` with `boots(n)`, given that `boots(hi)` holds and `boots` is
/// monotonic. Returns the answer and the failure seen just below it, if any.
pub fn search_smallest<E>(
    mut lo: u32,
    mut hi: u32,
    mut boots: impl FnMut(u32) -> Result<(), E>,
) -> (u32, Option<(u32, E)>) {
    let mut below = None;
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        match boots(mid) {
            Ok(()) => hi = mid,
            Err(e) => {
                lo = mid + 1;
                below = Some((mid, e));
            }
        }
    }
    let below = below.filter(|(n, _)| *n + 1 == hi);
    (hi, below)
}

/// One system to boot (Rivet's hello or the Linux baseline) on one machine.
#[derive(Clone)]
struct Subject<'a> {
    machine: &'a Machine,
    image: &'a Path,
    cmdline: String,
    extra_args: Vec<String>,
    marker: &'static str,
    accel: Option<String>,
}

impl Subject<'_> {
    fn boot(
        &self,
        ws: &Workspace,
        memory: Option<String>,
        timeout: Duration,
        stop_at_marker: bool,
    ) -> Result<qemu::Report, Error> {
        let mut machine = self.machine.clone();
        machine.args.extend(self.extra_args.iter().cloned());
        let settings = LaunchSettings {
            image: self.image.to_owned(),
            cmdline: self.cmdline.clone(),
            memory,
            smp: None,
            accel: self.accel.clone(),
            net: None,
            dom0_check: None,
        };
        qemu::boot(
            ws,
            &Boot {
                machine: &machine,
                settings,
                echo: false,
                interactive: false,
                timeout: Some(timeout),
                marker: Some(self.marker.to_owned()),
                stop_at_marker,
                live_check: None,
            },
        )
    }

    /// Wall time to the marker, in milliseconds.
    fn time(&self, ws: &Workspace, timeout: Duration) -> Result<f64, String> {
        let report = self.boot(ws, None, timeout, true).map_err(|e| e.to_string())?;
        report.marker_at.map(|at| at.as_secs_f64() * 1e3).ok_or_else(|| {
            format!("no `{}` on the console: {}", self.marker, report.outcome.describe())
        })
    }

    /// Whether it boots to the marker with `mib` of RAM (`Err` says why not).
    fn boots_with(&self, ws: &Workspace, mib: u32, timeout: Duration) -> Result<(), String> {
        let report =
            self.boot(ws, Some(format!("{mib}M")), timeout, true).map_err(|e| e.to_string())?;
        match (&report.marker_at, &report.outcome) {
            (Some(_), _) => Ok(()),
            (None, Outcome::QemuFailed(why)) => Err(format!("QEMU refused: {why}")),
            (None, outcome) => {
                Err(format!("no `{}` on the console ({})", self.marker, outcome.describe()))
            }
        }
    }

    /// The smallest RAM size in MiB that boots, and why the size below it did not.
    fn min_memory(
        &self,
        ws: &Workspace,
        typical_ms: Option<f64>,
    ) -> Result<(u32, Option<String>), String> {
        let hi = mebibytes(&self.machine.memory).unwrap_or(128);
        let timeout = Duration::from_secs_f64((typical_ms.unwrap_or(5000.0) * 4.0 / 1e3).max(5.0));
        if let Err(e) = self.boots_with(ws, hi, timeout) {
            return Err(format!("does not boot in {hi} MiB: {}", first_line(&e)));
        }
        let (smallest, below) = search_smallest(1, hi, |mib| {
            let result = self.boots_with(ws, mib, timeout);
            eprintln!(
                "[bench]   -m {mib}M: {}",
                match &result {
                    Ok(()) => "boots".to_owned(),
                    Err(e) => first_line(e),
                }
            );
            result
        });
        Ok((smallest, below.map(|(n, why)| format!("at {n} MiB: {}", first_line(&why)))))
    }
}

pub(crate) fn first_line(text: &str) -> String {
    let line = text.lines().next().unwrap_or_default();
    if line.len() > 160 {
        format!("{}…", &line[..line.char_indices().nth(160).map_or(line.len(), |(i, _)| i)])
    } else {
        line.to_owned()
    }
}

fn ms(value: Option<f64>) -> String {
    value.map_or("—".to_owned(), |v| format!("{v:.1} ms"))
}

fn ratio(linux: Option<f64>, rivet: Option<f64>) -> String {
    match (linux, rivet) {
        (Some(l), Some(r)) if r > 0.0 => format!("{:.1}×", l / r),
        _ => "—".to_owned(),
    }
}

fn bench_machine(ws: &Workspace, machine: &Machine, options: &Options) -> Result<String, Error> {
    eprintln!("[bench] == {} on {}", machine.triple, machine.name);
    let built = image::build(
        ws,
        &machine.triple,
        EXAMPLE,
        Profile::Release,
        machine.image,
        Output::Capture,
    )?;
    let size = std::fs::metadata(&built.image)
        .map_err(|e| Error::Tool(format!("{}: {e}", built.image.display())))?
        .len();
    let rivet = Subject {
        machine,
        image: &built.image,
        cmdline: String::new(),
        extra_args: Vec::new(),
        marker: HELLO_MARKER,
        accel: options.accel.clone(),
    };

    let linux: Option<Result<Baseline, Error>> = match (&machine.linux, options.baseline) {
        (Some(settings), true) => Some(baseline::prepare(ws, settings)),
        _ => None,
    };
    let linux_subject = match (&linux, &machine.linux) {
        (Some(Ok(b)), Some(settings)) => Some(Subject {
            machine,
            image: &b.kernel,
            cmdline: Baseline::cmdline(settings),
            extra_args: vec!["-initrd".into(), b.initrd.display().to_string()],
            marker: baseline::MARKER,
            accel: options.accel.clone(),
        }),
        _ => None,
    };

    let rivet_timeout = Duration::from_secs(30);
    let linux_timeout = Duration::from_secs(120);
    // Warm-up: page cache, QEMU's first start.
    let _ = rivet.time(ws, rivet_timeout);
    if let Some(l) = &linux_subject {
        let _ = l.time(ws, linux_timeout);
    }
    let (mut rivet_ms, mut linux_ms) = (Vec::new(), Vec::new());
    let mut errors = Vec::new();
    for run in 1..=options.runs {
        match rivet.time(ws, rivet_timeout) {
            Ok(t) => rivet_ms.push(t),
            Err(e) => errors.push(format!("rivet run {run}: {e}")),
        }
        if let Some(l) = &linux_subject {
            match l.time(ws, linux_timeout) {
                Ok(t) => linux_ms.push(t),
                Err(e) => errors.push(format!("linux run {run}: {e}")),
            }
        }
        eprintln!(
            "[bench]   run {run}: rivet {} / linux {}",
            ms(rivet_ms.last().copied()),
            ms(linux_ms.last().copied())
        );
    }
    let (rivet_boot, linux_boot) = (median(&rivet_ms), median(&linux_ms));

    let debug = Subject { cmdline: "rivet.log=debug --".into(), ..rivet.clone() };
    let mut guest_us = Vec::new();
    for _ in 0..options.runs {
        match debug.boot(ws, None, rivet_timeout, false) {
            Ok(report) => match parse_boot_line(&report.console) {
                Some(us) => guest_us.push(us),
                None => {
                    errors.push(format!(
                        "no `{BOOT_LINE}…us` line with rivet.log=debug ({})",
                        report.outcome.describe()
                    ));
                    break;
                }
            },
            Err(e) => errors.push(e.to_string()),
        }
    }
    let guest = median(&guest_us);

    // The same line under `-icount shift=0`: QEMU's virtual clock advances 1 ns per guest
    // instruction, so the figure counts the kernel's work and not TCG's translation of code it
    // has not seen yet (which dominates the plain TCG figure above). One run: it is exact.
    let icount = Subject { extra_args: vec!["-icount".into(), "shift=0".into()], ..debug.clone() };
    let guest_icount = match icount.boot(ws, None, rivet_timeout, false) {
        Ok(report) => parse_boot_line(&report.console),
        Err(e) => {
            errors.push(format!("-icount run: {e}"));
            None
        }
    };

    let (mut rivet_mem, mut linux_mem) = (None, None);
    if options.min_memory {
        eprintln!("[bench]   minimum memory, rivet:");
        rivet_mem = Some(rivet.min_memory(ws, rivet_boot));
        if let Some(l) = &linux_subject {
            eprintln!("[bench]   minimum memory, linux:");
            linux_mem = Some(l.min_memory(ws, linux_boot));
        }
    }
    let mut notes = errors;
    let mib = |found: &Option<Result<(u32, Option<String>), String>>,
               who: &str,
               notes: &mut Vec<String>|
     -> Option<f64> {
        match found {
            Some(Ok((n, below))) => {
                if let Some(below) = below {
                    notes.push(format!("{who} minimum memory: {below}"));
                }
                Some(f64::from(*n))
            }
            Some(Err(e)) => {
                notes.push(format!("{who} minimum memory: {e}"));
                None
            }
            None => None,
        }
    };
    let rivet_mib = mib(&rivet_mem, "Rivet", &mut notes);
    let linux_mib = mib(&linux_mem, "Linux", &mut notes);

    let mut text = format!(
        "\n{} on {} (accel {}, median of {} runs)\n",
        machine.triple,
        machine.name,
        options.accel.as_deref().unwrap_or("tcg"),
        options.runs
    );
    // Linux's image: the kernel as shipped (compressed vmlinuz) plus the initramfs.
    let linux_size = match &linux {
        Some(Ok(b)) => {
            let k = std::fs::metadata(&b.shipped_kernel).map(|m| m.len()).unwrap_or(0);
            let i = std::fs::metadata(&b.initrd).map(|m| m.len()).unwrap_or(0);
            Some((k, i))
        }
        _ => None,
    };
    text.push_str(&format!("  {:<34} {:>16} {:>16} {:>12}\n", "", "Rivet", "Linux", "Linux/Rivet"));
    text.push_str(&format!(
        "  {:<34} {:>16} {:>16} {:>12}\n",
        "image size (bytes)",
        size,
        linux_size.map_or("—".into(), |(k, i)| (k + i).to_string()),
        ratio(linux_size.map(|(k, i)| (k + i) as f64), Some(size as f64))
    ));
    text.push_str(&format!(
        "  {:<34} {:>16} {:>16} {:>12}\n",
        "QEMU start → first line",
        ms(rivet_boot),
        ms(linux_boot),
        ratio(linux_boot, rivet_boot)
    ));
    text.push_str(&format!(
        "  {:<34} {:>16}\n",
        "guest: first instruction → main",
        guest.map_or("—".to_owned(), |us| format!("{us:.1} us"))
    ));
    text.push_str(&format!(
        "  {:<34} {:>16}\n",
        "  the same, -icount (1 ns/insn)",
        guest_icount.map_or("—".to_owned(), |us| format!("{us:.1} us"))
    ));
    let mem = |v: Option<f64>, searched: bool| match v {
        Some(n) => format!("{n} MiB"),
        None if searched => "—".to_owned(),
        None => "(skipped)".to_owned(),
    };
    text.push_str(&format!(
        "  {:<34} {:>16} {:>16} {:>12}\n",
        "minimum memory (-m)",
        mem(rivet_mib, options.min_memory),
        if linux_subject.is_some() { mem(linux_mib, options.min_memory) } else { "—".to_owned() },
        ratio(linux_mib, rivet_mib)
    ));
    match &linux {
        Some(Ok(b)) => text.push_str(&format!(
            "  Linux: {} booted as {}; size = {} B vmlinuz + {} B initramfs; `{}`\n",
            b.package,
            machine.linux.as_ref().map_or("", |l| l.kernel.as_str()),
            linux_size.map_or(0, |s| s.0),
            linux_size.map_or(0, |s| s.1),
            machine.linux.as_ref().map(Baseline::cmdline).unwrap_or_default()
        )),
        Some(Err(e)) => text.push_str(&format!("  Linux baseline unavailable: {e}\n")),
        None if options.baseline => {
            text.push_str("  Linux baseline: none for this machine (no [linux] in its file)\n")
        }
        None => {}
    }
    if options.threads {
        text.push_str(&thread_figures(
            ws,
            machine,
            options,
            linux.as_ref().and_then(|l| l.as_ref().ok()),
            &mut notes,
        ));
    }
    if options.threads {
        // The cost of a libc call through libc-shim vs Linux (issue #5): libc_bench.rs.
        let linux = linux.as_ref().and_then(|l| l.as_ref().ok());
        text.push_str(&crate::libc_bench::figures(
            ws,
            machine,
            options.accel.clone(),
            linux,
            &mut notes,
        ));
    }
    for note in notes {
        text.push_str(&format!("  note: {}\n", first_line(&note)));
    }
    Ok(text)
}

/// The prefix of every figure line `thread-bench` (and its C twin) prints.
const THREAD_LINE: &str = "bench: ";

/// The `bench:` lines of a console, as (label, value) pairs: "spawn+join" → "70.7 us".
pub fn thread_lines(console: &str) -> Vec<(String, String)> {
    console
        .lines()
        .filter_map(|line| line.trim_end().split_once(THREAD_LINE).map(|(_, rest)| rest))
        .filter_map(|rest| {
            // The label is everything before the first number.
            let split = rest.find(|c: char| c.is_ascii_digit())?;
            Some((rest[..split].trim().to_owned(), rest[split..].trim().to_owned()))
        })
        .collect()
}

/// Boots `thread-bench` (and, with a baseline, the C twin under Linux) and tabulates the lines.
fn thread_figures(
    ws: &Workspace,
    machine: &Machine,
    options: &Options,
    linux: Option<&Baseline>,
    notes: &mut Vec<String>,
) -> String {
    eprintln!("[bench]   thread figures");
    let rivet = image::build(
        ws,
        &machine.triple,
        "thread-bench",
        Profile::Release,
        machine.image,
        Output::Capture,
    )
    .map_err(|e| e.to_string())
    .and_then(|built| {
        let subject = Subject {
            machine,
            image: &built.image,
            cmdline: String::new(),
            extra_args: Vec::new(),
            marker: "bench: sleep lateness",
            accel: options.accel.clone(),
        };
        subject
            .boot(ws, None, Duration::from_secs(120), false)
            .map(|report| thread_lines(&report.console))
            .map_err(|e| e.to_string())
    });
    let linux_lines = linux.zip(machine.linux.as_ref()).map(|(baseline, settings)| {
        baseline::thread_bench_initrd(settings, baseline).and_then(|initrd| {
            let subject = Subject {
                machine,
                image: &baseline.kernel,
                cmdline: Baseline::cmdline(settings),
                extra_args: vec!["-initrd".into(), initrd.display().to_string()],
                marker: baseline::MARKER,
                accel: options.accel.clone(),
            };
            subject
                .boot(ws, None, Duration::from_secs(240), false)
                .map(|report| thread_lines(&report.console))
                .map_err(|e| Error::Tool(e.to_string()))
        })
    });
    let rivet = rivet.unwrap_or_else(|e| {
        notes.push(format!("thread-bench: {e}"));
        Vec::new()
    });
    let linux_lines = match linux_lines {
        Some(Ok(lines)) => lines,
        Some(Err(e)) => {
            notes.push(format!("Linux thread-bench: {e}"));
            Vec::new()
        }
        None => Vec::new(),
    };
    let mut text = String::new();
    for (label, value) in &rivet {
        let theirs = linux_lines.iter().find(|(l, _)| l == label).map(|(_, v)| v.as_str());
        let number = |v: &str| v.split_whitespace().next().and_then(|n| n.parse::<f64>().ok());
        text.push_str(&format!(
            "  {:<34} {:>16} {:>16} {:>12}\n",
            format!("thread: {label}"),
            value,
            theirs.unwrap_or("—"),
            ratio(theirs.and_then(number), number(value))
        ));
    }
    if rivet.is_empty() {
        text.push_str("  thread figures: none (see the notes)\n");
    }
    text
}

/// Runs the benchmarks and prints the figures.
pub fn run(ws: &Workspace, options: &Options) -> Result<(), Error> {
    let machines = ws.machines()?;
    for name in &options.machines {
        if !machines.all().iter().any(|m| &m.name == name) {
            machines.get(name, None)?;
        }
    }
    let mut report = String::new();
    for triple in machines.triples() {
        if !options.triples.is_empty() && !options.triples.contains(&triple) {
            continue;
        }
        for machine in machines.for_triple(&triple) {
            if !options.machines.is_empty() && !options.machines.contains(&machine.name) {
                continue;
            }
            // A machine whose boot tests skip hello cannot boot Rivet yet: only when named.
            if options.machines.is_empty() {
                if let Some(why) = machine.test.skip_reason("hello") {
                    report.push_str(&format!(
                        "\n{} on {}: not measured: {why}\n",
                        machine.triple, machine.name
                    ));
                    continue;
                }
            }
            let measured = if options.http {
                crate::bench_http::bench_machine(ws, machine, options)
            } else {
                bench_machine(ws, machine, options)
            };
            match measured {
                Ok(text) => {
                    eprint!("{text}");
                    report.push_str(&text);
                }
                Err(e) => report.push_str(&format!(
                    "\n{} on {}: failed: {}\n",
                    machine.triple,
                    machine.name,
                    first_line(&e.to_string())
                )),
            }
        }
    }
    println!("\n== cargo xtask bench: results (figures only; differences under ≈15 % are noise)");
    print!("{report}");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_thread_lines() {
        let console = "threads\r\nbench: spawn+join 70.684 us\nnoise\n[    1.0] bench: mutex lock+unlock 13 ns\n";
        assert_eq!(
            thread_lines(console),
            [
                ("spawn+join".to_owned(), "70.684 us".to_owned()),
                ("mutex lock+unlock".to_owned(), "13 ns".to_owned())
            ]
        );
    }

    #[test]
    fn parses_boot_line() {
        assert_eq!(
            parse_boot_line("x\n[debug] boot: first instruction to main took 123.45us\n"),
            Some(123.45)
        );
        assert_eq!(parse_boot_line("boot: first instruction to main took 87 us (tsc)"), Some(87.0));
        assert_eq!(parse_boot_line("boot: first instruction to main took 3ms"), None);
        assert_eq!(parse_boot_line("hello"), None);
    }

    #[test]
    fn medians() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), Some(2.5));
        assert_eq!(median(&[]), None);
    }

    #[test]
    fn sizes_in_mebibytes() {
        assert_eq!(mebibytes("128M"), Some(128));
        assert_eq!(mebibytes("1G"), Some(1024));
        assert_eq!(mebibytes("64"), Some(64));
        assert_eq!(mebibytes("12K"), None);
    }

    #[test]
    fn binary_search_finds_the_edge() {
        for edge in 1..=128 {
            let mut probes = 0;
            let (found, below) = search_smallest(1, 128, |n| {
                probes += 1;
                if n >= edge {
                    Ok(())
                } else {
                    Err(n)
                }
            });
            assert_eq!(found, edge);
            assert!(probes <= 7);
            if edge > 1 {
                assert_eq!(below.map(|b| b.0), Some(edge - 1), "edge {edge}");
            }
        }
    }
}
