//! Booting an image in QEMU: start it, stream and keep the console, enforce a timeout, and map
//! QEMU's exit status to the application's exit code.
//!
//! The console is QEMU's stdout (`-serial stdio`). Two reader threads copy stdout and stderr as
//! they arrive (echoing them if asked) and note when a marker string first appears, which is how
//! `bench` times a boot. Known weak spot: a QEMU failure that exits with status 1 looks like exit
//! code 0 (isa-debug-exit) or 1 (direct); it is told apart by QEMU's error line on stderr.

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::cmdline;
use crate::machine::{ExitMeaning, LaunchSettings, Machine};
use crate::workspace::Workspace;
use crate::Error;

/// What `cargo xtask run` exits with when the guest gave no exit code.
pub mod status {
    /// The tool itself failed (build error, bad machine file, QEMU missing).
    pub const TOOL_ERROR: u8 = 250;
    /// The guest reset (or triple-faulted) without reporting an exit code.
    pub const GUEST_RESET: u8 = 251;
    /// The boot did not finish within `--timeout`.
    pub const TIMEOUT: u8 = 252;
    /// QEMU failed or exited with a status the guest cannot produce.
    pub const QEMU_FAILED: u8 = 253;
}

/// How a boot ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The application's exit code.
    Exited(u8),
    /// The guest stopped without reporting an exit code (reset or triple fault).
    GuestReset,
    /// QEMU reported an error or exited with a status the guest cannot produce.
    QemuFailed(String),
    /// QEMU was ended by a signal we did not send (killed, or caught and reported on stderr).
    Signalled(i32),
    /// The boot was stopped after this long.
    TimedOut(Duration),
    /// QEMU was stopped on purpose once the marker appeared.
    StoppedAtMarker,
}

impl Outcome {
    /// The exit status `cargo xtask run` reports for this outcome.
    pub fn exit_status(&self) -> u8 {
        match self {
            Outcome::Exited(code) => *code,
            Outcome::StoppedAtMarker => 0,
            Outcome::GuestReset => status::GUEST_RESET,
            Outcome::TimedOut(_) => status::TIMEOUT,
            Outcome::QemuFailed(_) => status::QEMU_FAILED,
            Outcome::Signalled(signal) => 128u8.saturating_add(*signal as u8),
        }
    }

    /// A sentence for the user.
    pub fn describe(&self) -> String {
        match self {
            Outcome::Exited(code) => format!("exit code {code}{}", meaning(*code)),
            Outcome::GuestReset => "guest reset without an exit code (a triple fault or a reset before the kernel could report)".into(),
            Outcome::QemuFailed(why) => format!("QEMU failed: {why}"),
            Outcome::Signalled(signal) => format!("QEMU was killed by signal {signal}"),
            Outcome::TimedOut(after) => format!("timed out after {:.1} s", after.as_secs_f64()),
            Outcome::StoppedAtMarker => "stopped once the marker appeared".into(),
        }
    }
}

/// The reserved exit codes' meanings, for messages.
pub fn meaning(code: u8) -> &'static str {
    match code {
        101 => " (Rust panic)",
        102 => " (CPU exception)",
        103 => " (bad boot input)",
        104 => " (reboot asked for, but the platform has no way to reset)",
        _ => "",
    }
}

/// One boot to perform.
#[derive(Debug, Clone)]
pub struct Boot<'a> {
    /// The machine to boot on.
    pub machine: &'a Machine,
    /// Image, command line and overrides.
    pub settings: LaunchSettings,
    /// Copy the console (and QEMU's stderr) to this process's stdout (stderr) as it arrives.
    pub echo: bool,
    /// Give QEMU this process's stdin (interactive runs); otherwise stdin is empty.
    pub interactive: bool,
    /// Kill QEMU after this long.
    pub timeout: Option<Duration>,
    /// Note when this text first appears on the console.
    pub marker: Option<String>,
    /// Kill QEMU as soon as the marker appears (benchmarks).
    pub stop_at_marker: bool,
    /// Run this on the host once the marker appears (a network client), then stop QEMU; its
    /// result is [`Report::live_check`].
    pub live_check: Option<LiveCheck>,
}

/// A check run on the host against the running guest (see [`Boot::live_check`]): `Ok` with a
/// summary, or what went wrong.
#[derive(Clone)]
pub struct LiveCheck(pub std::sync::Arc<dyn Fn() -> Result<String, String> + Send + Sync>);

impl std::fmt::Debug for LiveCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LiveCheck")
    }
}

/// What a boot produced.
#[derive(Debug, Clone)]
pub struct Report {
    /// How it ended.
    pub outcome: Outcome,
    /// Everything the guest printed on the serial console.
    pub console: String,
    /// Everything QEMU printed on stderr.
    pub stderr: String,
    /// Time from starting QEMU to its exit.
    pub elapsed: Duration,
    /// Time from starting QEMU to the marker's first appearance.
    pub marker_at: Option<Duration>,
    /// The command that was run, quoted for a shell.
    pub command: String,
    /// What [`Boot::live_check`] returned, if it ran to the end.
    pub live_check: Option<Result<String, String>>,
}

impl Report {
    /// The console followed by QEMU's stderr, for failure messages.
    pub fn transcript(&self) -> String {
        let mut text = format!("$ {}\n--- console ---\n{}", self.command, self.console);
        if !self.console.ends_with('\n') {
            text.push('\n');
        }
        if !self.stderr.is_empty() {
            text.push_str("--- qemu stderr ---\n");
            text.push_str(&self.stderr);
        }
        text.push_str(&format!("--- {} ---\n", self.outcome.describe()));
        text
    }
}

/// A stream being collected by a reader thread.
struct Collector {
    text: Arc<Mutex<Vec<u8>>>,
    marker_at: Arc<Mutex<Option<Instant>>>,
    thread: JoinHandle<()>,
}

fn collect(
    mut from: impl Read + Send + 'static,
    echo: Option<Box<dyn Write + Send>>,
    marker: Option<String>,
) -> Collector {
    let text = Arc::new(Mutex::new(Vec::new()));
    let marker_at = Arc::new(Mutex::new(None));
    let (text_in, marker_in) = (Arc::clone(&text), Arc::clone(&marker_at));
    let thread = std::thread::spawn(move || {
        let mut echo = echo;
        let mut buffer = [0u8; 4096];
        loop {
            let n = match from.read(&mut buffer) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            let now = Instant::now();
            if let Some(out) = echo.as_mut() {
                // Echo failures (a closed pipe downstream) must not stop the collection.
                let _ = out.write_all(&buffer[..n]).and_then(|_| out.flush());
            }
            let mut text = text_in.lock().expect("collector lock");
            let start = text.len();
            text.extend_from_slice(&buffer[..n]);
            if let Some(marker) = marker.as_deref() {
                let mut seen = marker_in.lock().expect("marker lock");
                if seen.is_none() {
                    let from = start.saturating_sub(marker.len());
                    if text[from..].windows(marker.len()).any(|w| w == marker.as_bytes()) {
                        *seen = Some(now);
                    }
                }
            }
        }
    });
    Collector { text, marker_at, thread }
}

/// QEMU's error lines on stderr (`qemu-system-x86_64: …`, `qemu: …`), warnings excluded.
fn qemu_errors(qemu: &str, stderr: &str) -> Option<String> {
    let prefix =
        format!("{}:", Path::new(qemu).file_name().and_then(|n| n.to_str()).unwrap_or(qemu));
    let errors: Vec<&str> = stderr
        .lines()
        // Most messages name the binary; some loaders (`-kernel`) just say `qemu:`.
        .filter(|l| (l.starts_with(&prefix) || l.starts_with("qemu:")) && !l.contains("warning:"))
        .collect();
    (!errors.is_empty()).then(|| errors.join("; "))
}

/// Maps QEMU's exit to an outcome.
pub fn outcome_of(machine: &Machine, status: std::process::ExitStatus, stderr: &str) -> Outcome {
    use std::os::unix::process::ExitStatusExt;
    // QEMU catches SIGINT/SIGTERM/SIGHUP, says so on stderr and exits with status 0.
    if let Some(signal) = stderr.lines().find_map(|l| {
        let rest = &l[l.find("terminating on signal ")? + "terminating on signal ".len()..];
        rest.split_whitespace().next()?.parse::<i32>().ok()
    }) {
        return Outcome::Signalled(signal);
    }
    match status.code() {
        Some(code) => {
            if code == 1 {
                if let Some(errors) = qemu_errors(&machine.qemu, stderr) {
                    return Outcome::QemuFailed(errors);
                }
            }
            match machine.exit.interpret(code) {
                ExitMeaning::Code(c) => Outcome::Exited(c),
                ExitMeaning::GuestReset => Outcome::GuestReset,
                ExitMeaning::Unexpected(s) => {
                    Outcome::QemuFailed(match qemu_errors(&machine.qemu, stderr) {
                        Some(errors) => format!("exit status {s}: {errors}"),
                        None => format!(
                            "exit status {s}, which the guest cannot produce under {:?}",
                            machine.exit
                        ),
                    })
                }
            }
        }
        None => Outcome::Signalled(status.signal().unwrap_or(0)),
    }
}

/// Quotes a command for display.
pub fn show_command(program: &str, args: &[String]) -> String {
    std::iter::once(cmdline::quote(program))
        .chain(args.iter().map(|a| cmdline::quote(a)))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Boots once and waits for the end. An error means QEMU could not be started at all.
pub fn boot(ws: &Workspace, boot: &Boot<'_>) -> Result<Report, Error> {
    let machine = boot.machine;
    if !boot.settings.image.is_file() {
        return Err(Error::Usage(format!(
            "image {} does not exist",
            boot.settings.image.display()
        )));
    }
    // Kept alive until QEMU has exited: it owns the per-run files (removed on drop).
    let prepared = crate::assets::prepare(ws, machine, &boot.settings)?;
    let args = machine
        .qemu_args(&boot.settings, &ws.root, &ws.target_dir, &prepared.values)
        .map_err(Error::Usage)?;
    let command = show_command(&machine.qemu, &args);
    let mut qemu = Command::new(&machine.qemu);
    qemu.args(&args)
        .stdin(if boot.interactive { Stdio::inherit() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let started = Instant::now();
    let mut child: Child = qemu.spawn().map_err(|e| {
        Error::Qemu(format!(
            "cannot start `{}` for machine `{}`: {e} (ci/setup.sh installs QEMU)",
            machine.qemu, machine.name
        ))
    })?;
    let stdout_echo: Option<Box<dyn Write + Send>> =
        boot.echo.then(|| Box::new(std::io::stdout()) as _);
    let stderr_echo: Option<Box<dyn Write + Send>> =
        boot.echo.then(|| Box::new(std::io::stderr()) as _);
    let console =
        collect(child.stdout.take().expect("piped stdout"), stdout_echo, boot.marker.clone());
    let errors = collect(child.stderr.take().expect("piped stderr"), stderr_echo, None);

    let mut killed = None;
    let mut check: Option<std::thread::JoinHandle<Result<String, String>>> = None;
    let mut live_check = None;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) => {}
            Err(e) => return Err(Error::Qemu(format!("waiting for QEMU: {e}"))),
        }
        let now = Instant::now();
        let marked = console.marker_at.lock().expect("marker lock").is_some();
        if let (Some(run), None, true) = (&boot.live_check, &check, marked) {
            let run = run.0.clone();
            check = Some(std::thread::spawn(move || run()));
        }
        if check.as_ref().is_some_and(|c| c.is_finished()) {
            let result = check.take().expect("checked").join();
            live_check = Some(result.unwrap_or_else(|_| Err("the check panicked".into())));
            let _ = child.kill();
            killed = Some(Outcome::StoppedAtMarker);
        } else if boot.stop_at_marker && console.marker_at.lock().expect("marker lock").is_some() {
            let _ = child.kill();
            killed = Some(Outcome::StoppedAtMarker);
        } else if boot.timeout.is_some_and(|t| now - started >= t) {
            let _ = child.kill();
            killed = Some(Outcome::TimedOut(now - started));
        }
        if killed.is_some() {
            break child.wait().map_err(|e| Error::Qemu(format!("waiting for QEMU: {e}")))?;
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    let elapsed = started.elapsed();
    let _ = console.thread.join();
    let _ = errors.thread.join();
    let stderr = String::from_utf8_lossy(&errors.text.lock().expect("collector lock")).into_owned();
    let outcome = killed.unwrap_or_else(|| outcome_of(machine, status, &stderr));
    let marker_at = console.marker_at.lock().expect("marker lock").map(|at| at - started);
    let console = String::from_utf8_lossy(&console.text.lock().expect("collector lock"))
        .replace("\r\n", "\n");
    Ok(Report { outcome, console, stderr, elapsed, marker_at, command, live_check })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::process::ExitStatusExt;
    use std::process::ExitStatus;

    fn machine(exit: &str) -> Machine {
        let text = format!(
            "triple = \"t\"\ndefault = true\nqemu = \"/usr/bin/qemu-system-x86_64\"\nimage = \"elf\"\nexit = \"{exit}\"\nmemory = \"1M\"\nargs = [\"{{image}}\"]\n[accel.tcg]\n[test]\nplatform = \"p\"\n"
        );
        Machine::parse("m", &text).unwrap()
    }

    fn exited(code: i32) -> ExitStatus {
        ExitStatus::from_raw(code << 8)
    }

    #[test]
    fn outcomes_from_status() {
        let isa = machine("isa-debug-exit");
        assert_eq!(outcome_of(&isa, exited(85), ""), Outcome::Exited(42));
        assert_eq!(
            outcome_of(&isa, exited(1), "qemu-system-x86_64: warning: x\n"),
            Outcome::Exited(0)
        );
        assert_eq!(outcome_of(&isa, exited(0), ""), Outcome::GuestReset);
        assert_eq!(
            outcome_of(&isa, exited(1), "qemu-system-x86_64: -kernel x: No such file\n"),
            Outcome::QemuFailed("qemu-system-x86_64: -kernel x: No such file".into())
        );
        assert!(matches!(outcome_of(&isa, exited(2), ""), Outcome::QemuFailed(_)));
        assert_eq!(outcome_of(&isa, ExitStatus::from_raw(9), ""), Outcome::Signalled(9));
        let term = "qemu-system-x86_64: terminating on signal 15 from pid 1 (bash)\n";
        assert_eq!(outcome_of(&isa, exited(0), term), Outcome::Signalled(15));
        let direct = machine("direct");
        assert_eq!(outcome_of(&direct, exited(102), ""), Outcome::Exited(102));
        assert_eq!(outcome_of(&direct, exited(0), ""), Outcome::Exited(0));
    }

    #[test]
    fn exit_statuses_for_the_shell() {
        assert_eq!(Outcome::Exited(42).exit_status(), 42);
        assert_eq!(Outcome::GuestReset.exit_status(), status::GUEST_RESET);
        assert_eq!(Outcome::TimedOut(Duration::ZERO).exit_status(), status::TIMEOUT);
        assert_eq!(Outcome::Signalled(15).exit_status(), 143);
        assert!(Outcome::Exited(101).describe().contains("panic"));
    }

    #[test]
    fn boots_a_fake_qemu_and_sees_the_marker() {
        // `sh` stands in for QEMU: prints two lines, then exits like isa-debug-exit with code 3.
        let text = "triple = \"t\"\ndefault = true\nqemu = \"sh\"\nimage = \"elf\"\nexit = \"isa-debug-exit\"\nmemory = \"1M\"\nargs = [\"-c\", \"printf 'one\\\\r\\\\ntwo {cmdline}\\\\n'; sleep 0.05; echo err >&2; exit 7\", \"{image}\"]\n[accel.tcg]\n[test]\nplatform = \"p\"\n";
        let m = Machine::parse("fake", text).unwrap();
        let ws = Workspace::locate();
        let settings = LaunchSettings {
            image: concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml").into(),
            cmdline: "x".into(),
            memory: None,
            smp: None,
            accel: None,
            net: None,
            dom0_check: None,
        };
        let report = boot(
            &ws,
            &Boot {
                machine: &m,
                settings: settings.clone(),
                echo: false,
                interactive: false,
                timeout: Some(Duration::from_secs(20)),
                marker: Some("two".into()),
                stop_at_marker: false,
                live_check: None,
            },
        )
        .unwrap();
        assert_eq!(report.outcome, Outcome::Exited(3), "{}", report.transcript());
        assert_eq!(report.console, "one\ntwo x\n");
        assert_eq!(report.stderr, "err\n");
        assert!(report.marker_at.unwrap() <= report.elapsed);

        let slow = Machine::parse("slow", &text.replace("sleep 0.05", "exec sleep 30")).unwrap();
        let report = boot(
            &ws,
            &Boot {
                machine: &slow,
                settings: settings.clone(),
                echo: false,
                interactive: false,
                timeout: Some(Duration::from_millis(300)),
                marker: None,
                stop_at_marker: false,
                live_check: None,
            },
        )
        .unwrap();
        assert!(matches!(report.outcome, Outcome::TimedOut(_)));
        let report = boot(
            &ws,
            &Boot {
                machine: &slow,
                settings,
                echo: false,
                interactive: false,
                timeout: Some(Duration::from_secs(20)),
                marker: Some("one".into()),
                stop_at_marker: true,
                live_check: None,
            },
        )
        .unwrap();
        assert_eq!(report.outcome, Outcome::StoppedAtMarker);
        assert!(report.elapsed < Duration::from_secs(10));
    }

    #[test]
    fn missing_qemu_is_an_error() {
        let text = "triple = \"t\"\ndefault = true\nqemu = \"qemu-system-does-not-exist\"\nimage = \"elf\"\nexit = \"direct\"\nmemory = \"1M\"\nargs = [\"{image}\"]\n[accel.tcg]\n[test]\nplatform = \"p\"\n";
        let m = Machine::parse("missing", text).unwrap();
        let settings = LaunchSettings {
            image: concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml").into(),
            cmdline: String::new(),
            memory: None,
            smp: None,
            accel: None,
            net: None,
            dom0_check: None,
        };
        let err = boot(
            &Workspace::locate(),
            &Boot {
                machine: &m,
                settings,
                echo: false,
                interactive: false,
                timeout: None,
                marker: None,
                stop_at_marker: false,
                live_check: None,
            },
        )
        .unwrap_err();
        assert!(err.to_string().contains("qemu-system-does-not-exist"), "{err}");
    }
}
