//! Why a devicetree boot could not go on: every variant is bad boot input (exit code 103).

use core::fmt;
use rivet_core::memory::map::MapError;
use rivet_core::memory::paging::PagingError;
use rivet_core::memory::PhysRange;
use rivet_pl011::Pl011Error;

/// What was wrong with what the loader handed over, with the evidence.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum BootError {
    /// x0 was 0: the loader passed no DTB.
    NoDtb,
    /// The DTB address is not 8-byte aligned, as the arm64 boot protocol requires.
    MisalignedDtb(u64),
    /// The first word is not the FDT magic.
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
        /// The node's name.
        node: &'static str,
        /// The property's name.
        property: &'static str,
        /// What is wrong with it.
        problem: &'static str,
    },
    /// No `/memory` node, or none with usable RAM.
    NoMemory,
    /// No PL011 to use as the console (neither `/chosen/stdout-path` nor an `arm,pl011` node).
    NoConsole,
    /// The DTB does not lie in mapped RAM, so it (and the command line in it) would be lost.
    DtbOutsideRam(PhysRange),
    /// The loader put the image at an address that is not 4 KiB aligned.
    MisalignedImage(u64),
    /// The memory map could not hold the RAM and reservations.
    MemoryMap(MapError),
    /// The page tables could not be built.
    Paging(PagingError),
    /// The console UART could not be set up.
    Console(Pl011Error),
}

impl fmt::Display for BootError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BootError::NoDtb => f.write_str("no devicetree: the loader passed x0 = 0"),
            BootError::MisalignedDtb(at) => {
                write!(f, "devicetree at {at:#x} is not 8-byte aligned")
            }
            BootError::BadMagic(magic) => {
                write!(f, "devicetree: bad magic {magic:#010x} (expected 0xd00dfeed)")
            }
            BootError::BadHeader(problem) => write!(f, "devicetree header: {problem}"),
            BootError::BadStructure { offset, problem } => {
                write!(f, "devicetree structure block, offset {offset:#x}: {problem}")
            }
            BootError::BadReservations(problem) => {
                write!(f, "devicetree memory reservation block: {problem}")
            }
            BootError::BadProperty { node, property, problem } => {
                write!(f, "devicetree node {node:?}, property {property:?}: {problem}")
            }
            BootError::NoMemory => f.write_str("devicetree: no /memory node with usable RAM"),
            BootError::NoConsole => f.write_str(
                "devicetree: no console (no arm,pl011 UART in /chosen/stdout-path or elsewhere)",
            ),
            BootError::DtbOutsideRam(range) => {
                write!(f, "devicetree {range} does not lie in usable RAM")
            }
            BootError::MisalignedImage(at) => {
                write!(f, "the image was loaded at {at:#x}, which is not 4 KiB aligned")
            }
            BootError::MemoryMap(e) => write!(f, "memory map: {e}"),
            BootError::Paging(e) => write!(f, "page tables: {e}"),
            BootError::Console(e) => write!(f, "console: {e}"),
        }
    }
}

impl core::error::Error for BootError {}

impl From<MapError> for BootError {
    fn from(e: MapError) -> Self {
        BootError::MemoryMap(e)
    }
}

impl From<PagingError> for BootError {
    fn from(e: PagingError) -> Self {
        BootError::Paging(e)
    }
}
