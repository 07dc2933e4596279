//! `cargo xtask bench http`: requests per second and latency of `http-hello` in Rivet against
//! busybox httpd in the Linux baseline VM, both serving a 612-byte page over QEMU user
//! networking on the same machine settings, measured by `wrk` (Debian package) from the host in
//! the same run.
//!
//! Each system boots once per run; `wrk` first warms the server up (2 s, discarded), then
//! measures for [`MEASURE`] with [`CONNECTIONS`] keep-alive connections on 2 threads. The
//! runs alternate (Rivet, Linux, Rivet, …) and medians are reported with the ratio. Under TCG
//! the guest CPU is the bottleneck for both; the host's own figure is not the point.

use crate::bench::{first_line, median, Options};
use crate::error::Error;
use crate::image::{self, Output, Profile};
use crate::machine::{LaunchSettings, Machine};
use crate::net::{Forward, NetSpec};
use crate::qemu::{self, Boot, LiveCheck};
use crate::{baseline, Workspace};
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

/// How long each measurement runs.
const MEASURE: Duration = Duration::from_secs(10);
/// Concurrent keep-alive connections.
const CONNECTIONS: u32 = 32;

/// What one `wrk` run reported.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct WrkFigures {
    /// Requests per second.
    pub requests_per_sec: f64,
    /// Median latency, milliseconds.
    pub p50_ms: f64,
    /// 99th percentile latency, milliseconds.
    pub p99_ms: f64,
}

/// Reads `wrk --latency` output.
pub fn parse_wrk(output: &str) -> Option<WrkFigures> {
    let mut figures = WrkFigures { requests_per_sec: 0.0, p50_ms: 0.0, p99_ms: 0.0 };
    let mut found = (false, false, false);
    for line in output.lines().map(str::trim) {
        if let Some(rate) = line.strip_prefix("Requests/sec:") {
            figures.requests_per_sec = rate.trim().parse().ok()?;
            found.0 = true;
        } else if let Some(value) = line.strip_prefix("50%") {
            figures.p50_ms = duration_ms(value.trim())?;
            found.1 = true;
        } else if let Some(value) = line.strip_prefix("99%") {
            figures.p99_ms = duration_ms(value.trim())?;
            found.2 = true;
        }
    }
    (found == (true, true, true)).then_some(figures)
}

/// `wrk`'s durations: `850.00us`, `1.23ms`, `2.00s`, `1.50m`.
fn duration_ms(text: &str) -> Option<f64> {
    let split = text.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
    let (number, unit) = text.split_at(split);
    let number: f64 = number.parse().ok()?;
    Some(match unit {
        "us" => number / 1000.0,
        "ms" => number,
        "s" => number * 1000.0,
        "m" => number * 60_000.0,
        _ => return None,
    })
}

/// Runs `wrk` against 127.0.0.1:`port`: a 2-second warm-up, then the measurement.
fn wrk(port: u16) -> Result<WrkFigures, String> {
    let url = format!("http://127.0.0.1:{port}/");
    let run = |secs: u64, latency: bool| {
        let mut command = Command::new("wrk");
        command.args(["-t2", &format!("-c{CONNECTIONS}"), &format!("-d{secs}s")]);
        if latency {
            command.arg("--latency");
        }
        command
            .arg(&url)
            .output()
            .map_err(|e| format!("wrk: {e} (`apt-get install wrk`; ci/setup.sh --bench does)"))
    };
    run(2, false)?;
    let output = run(MEASURE.as_secs(), true)?;
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    let figures = parse_wrk(&text)
        .ok_or_else(|| format!("unreadable wrk output: {}", first_line_of(&text)))?;
    if figures.requests_per_sec == 0.0 {
        return Err("wrk got no answer (is the guest's network up?)".into());
    }
    Ok(figures)
}

fn first_line_of(text: &str) -> String {
    text.lines().find(|l| !l.trim().is_empty()).unwrap_or("").to_owned()
}

/// Boots `image` with a card forwarding a free host port to the guest's port 80, waits for
/// `marker`, and measures with `wrk`.
fn serve_and_measure(
    ws: &Workspace,
    machine: &Machine,
    image: &Path,
    cmdline: &str,
    extra_args: &[String],
    marker: &str,
    accel: Option<String>,
) -> Result<WrkFigures, String> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| format!("no free port: {e}"))?
        .port();
    let mut machine = machine.clone();
    machine.args.extend(extra_args.iter().cloned());
    let settings = LaunchSettings {
        image: image.to_owned(),
        cmdline: cmdline.to_owned(),
        memory: None,
        smp: None,
        accel,
        net: Some(NetSpec::User(vec![Forward { udp: false, host: port, guest: 80 }])),
        dom0_check: None,
    };
    let measured = Arc::new(std::sync::Mutex::new(None));
    let slot = measured.clone();
    let check = LiveCheck(Arc::new(move || {
        let result = wrk(port);
        *slot.lock().expect("wrk result") = Some(result.clone());
        result.map(|f| format!("{:.0} requests/s", f.requests_per_sec))
    }));
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
            live_check: Some(check),
        },
    )
    .map_err(|e| e.to_string())?;
    let result = measured.lock().expect("wrk result").take();
    result.unwrap_or_else(|| {
        Err(format!("the server never said `{marker}`: {}", report.outcome.describe()))
    })
}

/// `GET /heap` from http-hello: its answer's body line.
fn heap_line(port: u16) -> Result<String, String> {
    use std::io::{Read, Write};
    let mut stream =
        std::net::TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
    stream.set_read_timeout(Some(Duration::from_secs(30))).map_err(|e| e.to_string())?;
    stream
        .write_all(b"GET /heap HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n")
        .map_err(|e| e.to_string())?;
    let mut text = String::new();
    stream.read_to_string(&mut text).map_err(|e| e.to_string())?;
    text.lines()
        .find(|l| l.starts_with("heap: "))
        .map(str::to_owned)
        .ok_or_else(|| format!("no heap line in {text:?}"))
}

/// Requests `wrk` made, from its `N requests in …` line.
fn wrk_requests(output: &str) -> Option<u64> {
    output.lines().find_map(|l| l.trim().split_once(" requests in ")?.0.parse().ok())
}

/// A soak run: `total` requests in 30-second `wrk` rounds, the heap use before and after.
fn soak(port: u16, total: u64) -> Result<String, String> {
    let before = heap_line(port)?;
    let mut done = 0;
    let started = std::time::Instant::now();
    while done < total {
        let output = Command::new("wrk")
            .args([
                "-t2",
                &format!("-c{CONNECTIONS}"),
                "-d30s",
                &format!("http://127.0.0.1:{port}/"),
            ])
            .output()
            .map_err(|e| format!("wrk: {e}"))?;
        let text = String::from_utf8_lossy(&output.stdout);
        let round = wrk_requests(&text).filter(|&n| n > 0).ok_or("wrk got no answer")?;
        done += round;
        eprintln!("[bench]   soak: {done} of {total} requests");
    }
    let after = heap_line(port)?;
    Ok(format!(
        "  soak: {done} requests in {:.0} s\n    before: {before}\n    after:  {after}\n",
        started.elapsed().as_secs_f64()
    ))
}

/// The HTTP figures of one machine, as text.
pub fn bench_machine(
    ws: &Workspace,
    machine: &Machine,
    options: &Options,
) -> Result<String, Error> {
    if machine.net.is_none() {
        return Ok(format!(
            "\n{} on {}: not measured: no network card Rivet drives here\n",
            machine.triple, machine.name
        ));
    }
    eprintln!("[bench] http: {} on {}", machine.triple, machine.name);
    let build = |example: &str| {
        image::build(ws, &machine.triple, example, Profile::Release, machine.image, Output::Capture)
    };
    let rust = build("http-hello")?;
    let size = std::fs::metadata(&rust.image).map(|m| m.len()).unwrap_or(0);
    if let Some(total) = options.soak {
        return soak_machine(ws, machine, &rust.image, total, options.accel.clone());
    }
    let mut notes = Vec::new();
    let c = build("c/http-server")
        .map_err(|e| notes.push(format!("C server: {}", first_line(&e.to_string()))))
        .ok();
    let server_source = ws.root.join("examples/c/http-server.c");
    let linux = match (&machine.linux, options.baseline) {
        (Some(settings), true) => {
            let prepared = baseline::prepare(ws, settings)
                .and_then(|b| baseline::httpd_initrd(settings, &b, &server_source).map(|i| (b, i)));
            Some(prepared.map(|(b, initrd)| (b, initrd, settings.clone())))
        }
        _ => None,
    };
    // Rivet's Rust server, Rivet's C server, Linux's C server (the same source).
    let mut figures: [Vec<WrkFigures>; 3] = Default::default();
    let accel = || options.accel.clone();
    for run in 0..options.runs.min(3) {
        eprintln!("[bench]   run {}", run + 1);
        match serve_and_measure(
            ws,
            machine,
            &rust.image,
            "",
            &[],
            "http-hello: listening on",
            accel(),
        ) {
            Ok(f) => figures[0].push(f),
            Err(e) => notes.push(format!("Rivet (Rust): {}", first_line(&e))),
        }
        if let Some(c) = &c {
            match serve_and_measure(ws, machine, &c.image, "", &[], baseline::HTTPD_MARKER, accel())
            {
                Ok(f) => figures[1].push(f),
                Err(e) => notes.push(format!("Rivet (C): {}", first_line(&e))),
            }
        }
        if let Some(Ok((baseline, initrd, settings))) = &linux {
            let extra = vec!["-initrd".to_owned(), initrd.display().to_string()];
            let cmdline = baseline::Baseline::cmdline(settings);
            match serve_and_measure(
                ws,
                machine,
                &baseline.kernel,
                &cmdline,
                &extra,
                baseline::HTTPD_MARKER,
                accel(),
            ) {
                Ok(f) => figures[2].push(f),
                Err(e) => notes.push(format!("Linux (C): {}", first_line(&e))),
            }
        }
    }
    if let Some(Err(e)) = &linux {
        notes.push(format!("Linux baseline: {}", first_line(&e.to_string())));
    }
    let pick = |set: &[WrkFigures], f: fn(&WrkFigures) -> f64| {
        median(&set.iter().map(f).collect::<Vec<_>>())
    };
    let row = |label: &str, f: fn(&WrkFigures) -> f64, unit: &str| {
        let [rust, c, linux] = [0, 1, 2].map(|i| pick(&figures[i], f));
        let show = |v: Option<f64>| v.map_or("—".to_owned(), |v| format!("{v:.2} {unit}"));
        let ratio = |a: Option<f64>| match (a, linux) {
            (Some(a), Some(l)) if l > 0.0 => format!("{:.2}×", a / l),
            _ => "—".to_owned(),
        };
        format!(
            "  {label:<22} {:>15} {:>15} {:>15} {:>9} {:>9}\n",
            show(rust),
            show(c),
            show(linux),
            ratio(rust),
            ratio(c)
        )
    };
    let mut text = format!(
        "\n{} on {} (wrk: {CONNECTIONS} connections, {} s, medians of {} runs)\n",
        machine.triple,
        machine.name,
        MEASURE.as_secs(),
        figures[0].len()
    );
    text += &format!(
        "  {:<22} {:>15} {:>15} {:>15} {:>9} {:>9}\n",
        "", "Rivet (Rust)", "Rivet (C)", "Linux (C)", "Rust/Lx", "C/Lx"
    );
    text += &row("requests per second", |f| f.requests_per_sec, "req/s");
    text += &row("latency p50", |f| f.p50_ms, "ms");
    text += &row("latency p99", |f| f.p99_ms, "ms");
    text += &format!("  {:<22} {:>15}\n", "http-hello image", format!("{} KiB", size / 1024));
    if let Some(c) = &c {
        let c_size = std::fs::metadata(&c.image).map(|m| m.len()).unwrap_or(0);
        text += &format!("  {:<22} {:>15}\n", "C server image", format!("{} KiB", c_size / 1024));
    }
    for note in notes {
        text += &format!("  note: {note}\n");
    }
    Ok(text)
}

/// Boots http-hello and soaks it.
fn soak_machine(
    ws: &Workspace,
    machine: &Machine,
    image: &Path,
    total: u64,
    accel: Option<String>,
) -> Result<String, Error> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| Error::Tool(format!("no free port: {e}")))?
        .port();
    let settings = LaunchSettings {
        image: image.to_owned(),
        cmdline: String::new(),
        memory: None,
        smp: None,
        accel,
        net: Some(NetSpec::User(vec![Forward { udp: false, host: port, guest: 80 }])),
        dom0_check: None,
    };
    // A generous limit: 10^6 requests at a few thousand per second under TCG.
    let limit = Duration::from_secs(3 * 3600);
    let report = qemu::boot(
        ws,
        &Boot {
            machine,
            settings,
            echo: false,
            interactive: false,
            timeout: Some(limit),
            marker: Some("http-hello: listening on".to_owned()),
            stop_at_marker: false,
            live_check: Some(LiveCheck(Arc::new(move || soak(port, total)))),
        },
    )?;
    let text = match report.live_check {
        Some(Ok(text)) => text,
        Some(Err(e)) => format!("  soak failed: {e}\n"),
        None => format!("  soak: the server never came up: {}\n", report.outcome.describe()),
    };
    Ok(format!(
        "\n{} on {} (soak, wrk: {CONNECTIONS} connections)\n{text}",
        machine.triple, machine.name
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_wrk_output() {
        let output = "Running 10s test @ http://127.0.0.1:8080/\n  2 threads and 32 connections\n\
            \x20 Thread Stats   Avg      Stdev     Max   +/- Stdev\n\
            \x20   Latency     5.10ms    1.20ms  30.00ms   90.00%\n\
            \x20 Latency Distribution\n     50%    4.90ms\n     75%    5.50ms\n     90%    6.10ms\n\
            \x20    99%  850.00us\n  12345 requests in 10.00s, 9.00MB read\n\
            Requests/sec:   1234.50\nTransfer/sec:    921.00KB\n";
        assert_eq!(
            parse_wrk(output),
            Some(WrkFigures { requests_per_sec: 1234.5, p50_ms: 4.9, p99_ms: 0.85 })
        );
        assert_eq!(parse_wrk("Requests/sec: 1\n"), None);
        assert_eq!(duration_ms("2.00s"), Some(2000.0));
        assert_eq!(duration_ms("1.50m"), Some(90_000.0));
        assert_eq!(duration_ms("3.0h"), None);
        assert_eq!(wrk_requests(output), Some(12345));
    }
}
