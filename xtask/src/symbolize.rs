//! Turning the kernel's backtrace lines (`  #N 0xADDR`) into function names and source lines.
//!
//! After a run, the addresses printed under `backtrace:` are looked up with `llvm-addr2line`
//! (rustup's llvm-tools, else the system's) in the unstripped ELF. Return addresses are looked up
//! one byte earlier to land inside the call; a CPU exception's faulting pc is looked up as is.
//! A nicety: any failure only skips the step.

use std::path::Path;
use std::process::Command;

use crate::workspace::Workspace;

/// The frames of the first backtrace on the console: `(index, address)`.
pub fn frames(console: &str) -> Vec<(u32, u64)> {
    let mut frames = Vec::new();
    for line in console.lines() {
        let Some(rest) = line.trim_start().strip_prefix('#') else {
            continue;
        };
        let mut words = rest.split_whitespace();
        let (Some(index), Some(address)) = (words.next(), words.next()) else {
            continue;
        };
        let Ok(index) = index.parse::<u32>() else {
            continue;
        };
        let Some(hex) = address.strip_prefix("0x") else {
            continue;
        };
        let Ok(address) = u64::from_str_radix(hex, 16) else {
            continue;
        };
        if index == 0 && !frames.is_empty() {
            break; // a second backtrace starts: keep the first
        }
        frames.push((index, address));
    }
    frames
}

/// One symbolised frame: the address and its (possibly inlined) locations, innermost first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// Frame number as the kernel printed it.
    pub index: u32,
    /// The address as printed.
    pub address: u64,
    /// `(function, file:line)` pairs.
    pub locations: Vec<(String, String)>,
}

/// The address to look up for a frame: return addresses point after the call, so one byte back
/// lands inside it; a faulting pc (frame #0 after a CPU exception) is exact.
pub fn lookup_address(index: u32, address: u64, first_is_pc: bool) -> u64 {
    if index == 0 && first_is_pc {
        address
    } else {
        address.saturating_sub(1)
    }
}

/// Drops the legacy mangling hash (`::h0123456789abcdef`) from a demangled name.
pub fn strip_hash(function: &str) -> &str {
    match function.rsplit_once("::h") {
        Some((name, hash)) if hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_hexdigit()) => {
            name
        }
        _ => function,
    }
}

/// Parses `llvm-addr2line -a -f -C -i` output for the given frames.
pub fn parse_addr2line(frames: &[(u32, u64)], output: &str) -> Vec<Frame> {
    let mut result: Vec<Frame> = Vec::new();
    let mut lines = output.lines().peekable();
    let mut next = frames.iter();
    while let Some(line) = lines.next() {
        if line.starts_with("0x") {
            let Some(&(index, address)) = next.next() else {
                break;
            };
            result.push(Frame { index, address, locations: Vec::new() });
        } else if let Some(frame) = result.last_mut() {
            let location = lines.next().unwrap_or("??:0").to_owned();
            frame.locations.push((strip_hash(line).to_owned(), location));
        }
    }
    result
}

/// Symbolises the console's backtrace against `elf`; `None` if there is none or the tool fails.
pub fn symbolize(ws: &Workspace, elf: &Path, console: &str) -> Option<Vec<Frame>> {
    let frames = frames(console);
    if frames.is_empty() {
        return None;
    }
    // After a CPU exception, frame #0 is the faulting instruction itself, not a return address.
    let first_is_pc = console.contains("CPU exception");
    // rustup's llvm-tools lacks llvm-addr2line in some releases: fall back to the system's.
    let tool = ws.llvm_tool("llvm-addr2line").unwrap_or_else(|_| "llvm-addr2line".into());
    let out = Command::new(tool)
        .args(["-a", "-f", "-C", "-i", "-e"])
        .arg(elf)
        .args(
            frames
                .iter()
                .map(|&(index, a)| format!("{:#x}", lookup_address(index, a, first_is_pc))),
        )
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let symbolised = parse_addr2line(&frames, &String::from_utf8_lossy(&out.stdout));
    // Addresses that resolve to nothing (an image loaded elsewhere than linked) get no block.
    let resolved =
        symbolised.iter().any(|f| f.locations.iter().any(|(function, _)| function != "??"));
    resolved.then_some(symbolised)
}

/// Formats symbolised frames for printing.
pub fn render(frames: &[Frame]) -> String {
    let mut text = String::from("backtrace (symbolised):\n");
    for frame in frames {
        for (n, (function, location)) in frame.locations.iter().enumerate() {
            if n == 0 {
                text.push_str(&format!(
                    "  #{:<2} {:#018x} {function}\n",
                    frame.index, frame.address
                ));
            } else {
                text.push_str(&format!("      {:18} (inlined) {function}\n", ""));
            }
            text.push_str(&format!("      {:18} at {location}\n", ""));
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_frames() {
        let console = "panicked at x\nbacktrace:\n  #0 0xffffffff80001234\n  #1 0x0000000040081000 extra\nnot #a 0x1\n  #0 0x5\n";
        assert_eq!(frames(console), [(0, 0xffffffff80001234), (1, 0x40081000)]);
        assert!(frames("no backtrace").is_empty());
    }

    #[test]
    fn parses_addr2line() {
        assert_eq!(strip_hash("panic::deeper::h5ebb21f044a08b14"), "panic::deeper");
        assert_eq!(strip_hash("core::hint::black_box"), "core::hint::black_box");
        let out = "0x1233\ninner::h0123456789abcdef\nsrc/a.rs:3:5\nouter\nsrc/b.rs:9:1\n0x40080fff\nmain\nexamples/panic.rs:7:5\n";
        let frames = parse_addr2line(&[(0, 0x1234), (1, 0x40081000)], out);
        assert_eq!(frames.len(), 2);
        assert_eq!(frames[0].locations.len(), 2);
        assert_eq!(frames[1].locations[0], ("main".into(), "examples/panic.rs:7:5".into()));
        let text = render(&frames);
        assert!(text.contains("(inlined) outer"));
        assert!(text.contains("#1  0x0000000040081000 main"));
    }
}
