//! The boot command line: shell-like splitting, kernel parameters and application arguments.
//!
//! The line comes from the boot loader (QEMU `-append`, Xen `extra=`, a Pi's `cmdline.txt`) and is
//! untrusted text. It is split into words the way a POSIX shell would, without expansions:
//! whitespace separates words; `'…'` keeps everything literally; `"…"` keeps everything but lets
//! `\"` and `\\` escape; outside quotes a backslash escapes the next character. An unterminated
//! quote or a trailing backslash is an error naming the byte offset.
//!
//! If a word is exactly `--`, the words before it are kernel parameters (`rivet.log=debug`) and
//! those after it are the application's arguments; without `--`, every word is an argument.
//! Virtual machine monitors append device announcements to the line (QEMU's `microvm` and
//! Firecracker add `virtio_mmio.device=…`, after whatever the user wrote): such words at the end
//! of the line are kernel parameters wherever they stand, and [`virtio_mmio_devices`] reads them.

use alloc::string::String;
use alloc::vec::Vec;

/// Why a command line could not be split.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum CmdlineError {
    /// A quote opened at this byte offset is never closed.
    UnterminatedQuote(usize),
    /// The line ends in a backslash with nothing to escape.
    TrailingBackslash,
}

impl core::fmt::Display for CmdlineError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            CmdlineError::UnterminatedQuote(at) => {
                write!(f, "command line: quote at byte {at} is never closed")
            }
            CmdlineError::TrailingBackslash => write!(f, "command line ends in a lone backslash"),
        }
    }
}

impl core::error::Error for CmdlineError {}

/// Splits `line` into words like a shell, without expansions.
pub fn split(line: &str) -> Result<Vec<String>, CmdlineError> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = line.char_indices();
    while let Some((at, c)) = chars.next() {
        match c {
            c if c.is_whitespace() => {
                if in_word {
                    words.push(core::mem::take(&mut word));
                    in_word = false;
                }
            }
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some((_, '\'')) => break,
                        Some((_, c)) => word.push(c),
                        None => return Err(CmdlineError::UnterminatedQuote(at)),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some((_, '"')) => break,
                        Some((_, '\\')) => match chars.next() {
                            Some((_, c @ ('"' | '\\'))) => word.push(c),
                            Some((_, c)) => {
                                word.push('\\');
                                word.push(c);
                            }
                            None => return Err(CmdlineError::UnterminatedQuote(at)),
                        },
                        Some((_, c)) => word.push(c),
                        None => return Err(CmdlineError::UnterminatedQuote(at)),
                    }
                }
            }
            '\\' => match chars.next() {
                Some((_, c)) => {
                    in_word = true;
                    word.push(c);
                }
                None => return Err(CmdlineError::TrailingBackslash),
            },
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    Ok(words)
}

/// A command line split into kernel parameters and application arguments.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct CommandLine {
    /// Words before `--`: `name=value` or bare `name` kernel parameters.
    pub kernel: Vec<String>,
    /// Words after `--` (or all words when there is no `--`).
    pub args: Vec<String>,
}

impl CommandLine {
    /// Splits and divides `line`.
    pub fn parse(line: &str) -> Result<Self, CmdlineError> {
        let mut words = split(line)?;
        let appended = words.iter().rev().take_while(|w| w.starts_with(VIRTIO_MMIO_PARAM)).count();
        let devices = words.split_off(words.len() - appended);
        let mut line = match words.iter().position(|w| w == "--") {
            Some(dash) => {
                let args = words.split_off(dash + 1);
                words.pop();
                Self { kernel: words, args }
            }
            None => Self { kernel: Vec::new(), args: words },
        };
        line.kernel.extend(devices);
        Ok(line)
    }

    /// The value of kernel parameter `name` (`name=value`; a bare `name` gives `""`). The last
    /// occurrence wins, as on Linux.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.kernel.iter().rev().find_map(|w| match w.split_once('=') {
            Some((key, value)) if key == name => Some(value),
            None if w == name => Some(""),
            _ => None,
        })
    }
}

/// The kernel parameter announcing a virtio-mmio device, with its `=`.
const VIRTIO_MMIO_PARAM: &str = "virtio_mmio.device=";

/// A virtio-mmio device announced on the command line (Linux's
/// `virtio_mmio.device=SIZE@BASE:IRQ`, SIZE with an optional `K`/`M`/`G` suffix, BASE and SIZE
/// decimal or `0x` hexadecimal).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct VirtioMmioDevice {
    /// The register window's physical address.
    pub base: u64,
    /// The register window's size in bytes.
    pub size: u64,
    /// Its interrupt line (on x86: the GSI).
    pub irq: u32,
}

/// A `virtio_mmio.device=` value that could not be read.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct VirtioMmioError<'a> {
    /// The value as written.
    pub value: &'a str,
}

impl core::fmt::Display for VirtioMmioError<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "virtio_mmio.device={}: not SIZE@BASE:IRQ", self.value)
    }
}

/// The virtio-mmio devices the command line announces, in order. Needs no heap (the boot reads
/// them before it has one); the words are whitespace-separated, as monitors write them.
pub fn virtio_mmio_devices(
    line: &str,
) -> impl Iterator<Item = Result<VirtioMmioDevice, VirtioMmioError<'_>>> {
    line.split_ascii_whitespace()
        .filter_map(|word| word.strip_prefix(VIRTIO_MMIO_PARAM))
        .map(|value| parse_virtio_mmio(value).ok_or(VirtioMmioError { value }))
}

fn parse_virtio_mmio(value: &str) -> Option<VirtioMmioDevice> {
    let (size, rest) = value.split_once('@')?;
    let (base, irq) = rest.split_once(':')?;
    let (digits, shift) = match size.as_bytes().last()? {
        b'k' | b'K' => (&size[..size.len() - 1], 10),
        b'm' | b'M' => (&size[..size.len() - 1], 20),
        b'g' | b'G' => (&size[..size.len() - 1], 30),
        _ => (size, 0),
    };
    let size = number(digits)?.checked_mul(1 << shift)?;
    let base = number(base)?;
    let device = VirtioMmioDevice { base, size, irq: irq.parse().ok()? };
    (size > 0 && base.checked_add(size).is_some()).then_some(device)
}

fn number(text: &str) -> Option<u64> {
    match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => text.parse().ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_appended_virtio_mmio_devices() {
        let line = "rivet.log=info -- a b virtio_mmio.device=512@0xfeb00e00:12 \
                    virtio_mmio.device=4K@3489660928:5";
        let c = CommandLine::parse(line).unwrap();
        assert_eq!(c.args, ["a", "b"]);
        assert_eq!(c.kernel.len(), 3);
        let devices: Vec<_> = virtio_mmio_devices(line).collect();
        assert_eq!(
            devices,
            [
                Ok(VirtioMmioDevice { base: 0xfeb0_0e00, size: 512, irq: 12 }),
                Ok(VirtioMmioDevice { base: 0xd000_0000, size: 4096, irq: 5 }),
            ]
        );
        // Only a trailing run counts: one in the middle is an argument like any other.
        let middle = CommandLine::parse("-- virtio_mmio.device=1@1:1 x").unwrap();
        assert_eq!(middle.args, ["virtio_mmio.device=1@1:1", "x"]);
        let alone = CommandLine::parse("virtio_mmio.device=512@0x1000:5").unwrap();
        assert!(alone.args.is_empty());
    }

    #[test]
    fn refuses_malformed_virtio_mmio_devices() {
        for bad in [
            "512",
            "512@0x1000",
            "@0x1000:5",
            "0@0x1000:5",
            "512@0xzz:5",
            "1G@0x1000:x",
            "16G@0xffffffffffffffff:1",
            "99999999999999999999@0:1",
        ] {
            let line = alloc::format!("virtio_mmio.device={bad}");
            let result: Vec<_> = virtio_mmio_devices(&line).collect();
            assert_eq!(result, [Err(VirtioMmioError { value: bad })], "{bad}");
        }
    }

    fn words(line: &str) -> Vec<String> {
        split(line).unwrap()
    }

    #[test]
    fn splits_like_a_shell() {
        assert_eq!(words(""), Vec::<String>::new());
        assert_eq!(words("  a  b\tc\n"), ["a", "b", "c"]);
        assert_eq!(words("'a b' \"c d\" e\\ f"), ["a b", "c d", "e f"]);
        assert_eq!(words("x'y'\"z\""), ["xyz"]);
        assert_eq!(words("''"), [""]);
        assert_eq!(words("\"\""), [""]);
        assert_eq!(words(r#""a \"q\" \\ \n""#), [r#"a "q" \ \n"#]);
        assert_eq!(words(r"'a\b'"), [r"a\b"]);
        assert_eq!(words("héllo wörld"), ["héllo", "wörld"]);
    }

    #[test]
    fn reports_broken_quoting() {
        assert_eq!(split("a 'b"), Err(CmdlineError::UnterminatedQuote(2)));
        assert_eq!(split("a \"b\\\""), Err(CmdlineError::UnterminatedQuote(2)));
        assert_eq!(split("a\\"), Err(CmdlineError::TrailingBackslash));
    }

    #[test]
    fn divides_kernel_parameters_from_arguments() {
        let c = CommandLine::parse("rivet.log=debug quiet -- a '--' b").unwrap();
        assert_eq!(c.kernel, ["rivet.log=debug", "quiet"]);
        assert_eq!(c.args, ["a", "--", "b"]);
        assert_eq!(c.param("rivet.log"), Some("debug"));
        assert_eq!(c.param("quiet"), Some(""));
        assert_eq!(c.param("rivet"), None);
        let plain = CommandLine::parse("a b").unwrap();
        assert!(plain.kernel.is_empty());
        assert_eq!(plain.args, ["a", "b"]);
        let last = CommandLine::parse("x=1 x=2 --").unwrap();
        assert_eq!(last.param("x"), Some("2"));
        assert!(last.args.is_empty());
    }

    /// Round trip against a simple quoting scheme, as the host tool produces.
    #[test]
    fn round_trips_single_quoted_words() {
        let inputs =
            ["plain", "with space", "it's", "\"dq\"", "back\\slash", "", "--", "tab\there"];
        let quoted: Vec<String> =
            inputs.iter().map(|w| format!("'{}'", w.replace('\'', r"'\''"))).collect();
        assert_eq!(words(&quoted.join(" ")), inputs);
    }
}
