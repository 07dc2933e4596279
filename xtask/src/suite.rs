//! `cargo xtask test`: the host unit tests, then the boot tests, then a summary.
//!
//! Each step is one cargo command; a failing step does not stop the others. The boot tests live
//! in the `rivet-tests` crate (`tests/`) and boot every example on every machine; they run with at
//! most two test threads (the machines here have two cores and each QEMU takes one).

use std::process::Command;
use std::time::{Duration, Instant};

use crate::workspace::Workspace;

/// Crates whose unit tests run on the host. Add a crate here when it becomes host-testable
/// (`#![cfg_attr(not(test), no_std)]` and no target-only dependencies).
pub const HOST_CRATES: &[&str] = &[
    "rivet-core",
    "rivet-bootinfo",
    "rivet-ns16550",
    "rivet-pl011",
    "rivet-pl031",
    "rivet-xen-abi",
    "rivet-xen-netfront",
    "rivet-lapic",
    "rivet-ioapic",
    "rivet-cmos-rtc",
    "rivet-gic",
    "rivet-bcm2836-local",
    "rivet-bcm2835-aux-uart",
    "rivet-bcm2835-mailbox",
    // The C library's pure half, differentially against the host glibc.
    "rivet-libc",
    "xtask",
];

/// The crate holding the boot tests.
pub const BOOT_TEST_CRATE: &str = "rivet-tests";

/// Options of `cargo xtask test`.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Skip the host unit tests.
    pub no_host: bool,
    /// Skip the boot tests.
    pub no_boot: bool,
    /// Test threads for the boot tests (1 or 2).
    pub test_threads: u32,
    /// Extra arguments for the boot-test harness (a name filter, `--nocapture` …).
    pub boot_args: Vec<String>,
}

/// One cargo invocation of the suite.
#[derive(Debug, Clone)]
pub struct Step {
    /// What the summary calls it.
    pub name: String,
    /// Arguments to cargo.
    pub args: Vec<String>,
}

/// The steps `options` asks for, in order.
pub fn steps(options: &Options) -> Vec<Step> {
    let mut steps = Vec::new();
    let owned = |args: &[&str]| args.iter().map(|a| (*a).to_owned()).collect::<Vec<_>>();
    if !options.no_host {
        for krate in HOST_CRATES {
            steps.push(Step {
                name: format!("host unit tests: {krate}"),
                args: owned(&["test", "--quiet", "-p", krate]),
            });
        }
        steps.push(Step {
            name: format!("host unit tests: {BOOT_TEST_CRATE} (lib)"),
            args: owned(&["test", "--quiet", "-p", BOOT_TEST_CRATE, "--lib"]),
        });
    }
    if !options.no_boot {
        let threads = options.test_threads.clamp(1, 2);
        let mut args = owned(&[
            "test",
            "--quiet",
            "-p",
            BOOT_TEST_CRATE,
            "--test",
            "boot",
            "--",
            &format!("--test-threads={threads}"),
        ]);
        args.extend(options.boot_args.iter().cloned());
        steps.push(Step { name: "boot tests (QEMU)".into(), args });
    }
    steps
}

/// The result of one step.
#[derive(Debug, Clone)]
pub struct StepResult {
    /// The step's name.
    pub name: String,
    /// Whether cargo succeeded.
    pub passed: bool,
    /// How long it took.
    pub took: Duration,
    /// Why it failed, when cargo could not even start.
    pub note: Option<String>,
}

/// Runs the steps, printing a summary; returns whether every step passed.
pub fn run(ws: &Workspace, options: &Options) -> bool {
    let started = Instant::now();
    let mut results = Vec::new();
    for step in steps(options) {
        eprintln!("\n[xtask test] ==> {} (cargo {})", step.name, step.args.join(" "));
        let begun = Instant::now();
        let status = ws.cargo().args(&step.args).status();
        let (passed, note) = match status {
            Ok(status) => (
                status.success(),
                (!status.success()).then(|| format!("cargo exited with {status}")),
            ),
            Err(e) => (false, Some(format!("cannot start cargo: {e}"))),
        };
        results.push(StepResult { name: step.name, passed, took: begun.elapsed(), note });
    }
    print!("{}", summary(&results, started.elapsed()));
    results.iter().all(|r| r.passed)
}

/// The summary block, ending in the plain `N passed, N failed` line CI reads.
pub fn summary(results: &[StepResult], total: Duration) -> String {
    let mut text = String::from("\n[xtask test] summary\n");
    for r in results {
        text.push_str(&format!(
            "  {:<7} {:<40} {:>7.1} s{}\n",
            if r.passed { "ok" } else { "FAILED" },
            r.name,
            r.took.as_secs_f64(),
            r.note.as_deref().map(|n| format!("  ({n})")).unwrap_or_default()
        ));
    }
    let passed = results.iter().filter(|r| r.passed).count();
    text.push_str(&format!("  total {:.1} s\n", total.as_secs_f64()));
    text.push_str(&format!("steps: {passed} passed, {} failed\n", results.len() - passed));
    text
}

/// A command line for display (used in messages).
pub fn describe(command: &Command) -> String {
    std::iter::once(command.get_program())
        .chain(command.get_args())
        .map(|a| a.to_string_lossy())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_follow_options() {
        let all = steps(&Options { test_threads: 7, ..Options::default() });
        assert_eq!(all.len(), HOST_CRATES.len() + 2);
        let boot = all.last().unwrap();
        assert!(boot.args.contains(&"--test-threads=2".to_owned()));
        let boot_only = steps(&Options {
            no_host: true,
            test_threads: 1,
            boot_args: vec!["hello".into()],
            ..Options::default()
        });
        assert_eq!(boot_only.len(), 1);
        assert_eq!(boot_only[0].args.last().unwrap(), "hello");
        assert!(steps(&Options { no_host: true, no_boot: true, ..Options::default() }).is_empty());
    }

    #[test]
    fn summary_ends_with_counts() {
        let results = [
            StepResult { name: "a".into(), passed: true, took: Duration::from_secs(1), note: None },
            StepResult {
                name: "b".into(),
                passed: false,
                took: Duration::from_secs(2),
                note: Some("x".into()),
            },
        ];
        let text = summary(&results, Duration::from_secs(3));
        assert!(text.ends_with("steps: 1 passed, 1 failed\n"), "{text}");
        assert!(text.contains("FAILED"));
    }
}
