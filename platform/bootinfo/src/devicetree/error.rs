//! Why a device tree blob could not be read: the loader's fault, and fatal to the boot.

use core::fmt;

/// What was wrong with the blob, with the evidence.
///
/// Every variant is bad input from the boot loader, not a kernel bug, and none is worth retrying:
/// the same blob fails the same way. Node names borrow from the blob (`'a`). The `Display` text
/// is what the boot prints after `rivet: bad boot input: `; keep it stable, boot tests match it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Error<'a> {
    /// The first word is not the FDT magic `0xd00dfeed`.
    BadMagic(u32),
    /// The FDT header contradicts itself or the blob.
    BadHeader(&'static str),
    /// The structure block is malformed at this byte offset (from the block's start).
    BadStructure {
        /// Byte offset into the structure block.
        offset: usize,
        /// What is wrong there.
        problem: &'static str,
    },
    /// The memory reservation block is malformed.
    BadReservations(&'static str),
    /// A node's property cannot be used.
    BadProperty {
        /// The node's name (`name@unit-address`; `"?"` if it is not UTF-8).
        node: &'a str,
        /// The property's name.
        property: &'static str,
        /// What is wrong with it.
        problem: &'static str,
    },
    /// No enabled `/memory` node with a non-empty `reg` entry, and no VideoCore mailbox to ask.
    NoMemory,
    /// No UART with a driver to use as the console (neither `/chosen/stdout-path` nor any
    /// `arm,pl011`, `arm,sbsa-uart` or `brcm,bcm2835-aux-uart` node).
    NoConsole,
}

/// A result whose error is an [`Error`].
pub type Result<'a, T = ()> = core::result::Result<T, Error<'a>>;

impl fmt::Display for Error<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::BadMagic(magic) => {
                write!(f, "devicetree: bad magic {magic:#010x} (expected 0xd00dfeed)")
            }
            Error::BadHeader(problem) => write!(f, "devicetree header: {problem}"),
            Error::BadStructure { offset, problem } => {
                write!(f, "devicetree structure block, offset {offset:#x}: {problem}")
            }
            Error::BadReservations(problem) => {
                write!(f, "devicetree memory reservation block: {problem}")
            }
            Error::BadProperty { node, property, problem } => {
                write!(f, "devicetree node {node:?}, property {property:?}: {problem}")
            }
            Error::NoMemory => f.write_str("devicetree: no /memory node with usable RAM"),
            Error::NoConsole => f.write_str(
                "devicetree: no console (no PL011, SBSA or BCM2835 mini-UART in /chosen/stdout-path or elsewhere)",
            ),
        }
    }
}

impl core::error::Error for Error<'_> {}

#[cfg(test)]
mod tests {
    use super::*;

    /// The boot prints these texts and the boot tests match them: they must not drift.
    #[test]
    fn display_texts_are_stable() {
        let cases: [(Error<'_>, &str); 7] = [
            (Error::BadMagic(0x1234), "devicetree: bad magic 0x00001234 (expected 0xd00dfeed)"),
            (Error::BadHeader("a block is misaligned"), "devicetree header: a block is misaligned"),
            (
                Error::BadStructure { offset: 0x1ce0, problem: "nodes nested too deep" },
                "devicetree structure block, offset 0x1ce0: nodes nested too deep",
            ),
            (
                Error::BadReservations("more than 64 entries"),
                "devicetree memory reservation block: more than 64 entries",
            ),
            (
                Error::BadProperty { node: "pl011@9000000", property: "reg", problem: "empty" },
                "devicetree node \"pl011@9000000\", property \"reg\": empty",
            ),
            (Error::NoMemory, "devicetree: no /memory node with usable RAM"),
            (
                Error::NoConsole,
                "devicetree: no console (no PL011, SBSA or BCM2835 mini-UART in /chosen/stdout-path or elsewhere)",
            ),
        ];
        for (error, text) in cases {
            assert_eq!(error.to_string(), text);
        }
    }
}
