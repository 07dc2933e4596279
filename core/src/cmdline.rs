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
        match words.iter().position(|w| w == "--") {
            Some(dash) => {
                let args = words.split_off(dash + 1);
                words.pop();
                Ok(Self { kernel: words, args })
            }
            None => Ok(Self { kernel: Vec::new(), args: words }),
        }
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

#[cfg(test)]
mod tests {
    use super::*;

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
