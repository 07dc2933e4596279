//! Why a devicetree boot could not go on: every variant is bad boot input (exit code 103).

use super::interrupts::InterruptSetupError;
use core::fmt;
use rivet_bcm2835_aux_uart::MiniUartError;
use rivet_bcm2835_mailbox::MailboxError;
use rivet_bootinfo::devicetree;
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
    /// The DTB is malformed, or lacks what the boot needs (its own message says which).
    DeviceTree(devicetree::Error<'static>),
    /// No usable RAM is left once the image, page 0 and `no-map` reservations are taken out.
    NoMemory,
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
    /// The console mini-UART could not be set up.
    MiniUart(MiniUartError),
    /// The devicetree has no usable `/memory` (or `rivet.memory=firmware` was given) and the
    /// firmware's mailbox did not say either.
    Mailbox(MailboxError),
    /// `rivet.memory=firmware` was given, but the devicetree has no VideoCore mailbox.
    NoMailbox,
    /// The GIC or the timer interrupt the devicetree describes could not be set up.
    Interrupts(InterruptSetupError),
}

impl fmt::Display for BootError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BootError::NoDtb => f.write_str("no devicetree: the loader passed x0 = 0"),
            BootError::MisalignedDtb(at) => {
                write!(f, "devicetree at {at:#x} is not 8-byte aligned")
            }
            // The device tree's messages already say "devicetree …".
            BootError::DeviceTree(e) => write!(f, "{e}"),
            BootError::NoMemory => f.write_str("devicetree: no /memory node with usable RAM"),
            BootError::DtbOutsideRam(range) => {
                write!(f, "devicetree {range} does not lie in usable RAM")
            }
            BootError::MisalignedImage(at) => {
                write!(f, "the image was loaded at {at:#x}, which is not 4 KiB aligned")
            }
            BootError::MemoryMap(e) => write!(f, "memory map: {e}"),
            BootError::Paging(e) => write!(f, "page tables: {e}"),
            BootError::Console(e) => write!(f, "console: {e}"),
            BootError::MiniUart(e) => write!(f, "console: {e}"),
            BootError::Mailbox(e) => write!(f, "RAM from the firmware: {e}"),
            BootError::NoMailbox => f.write_str(
                "rivet.memory=firmware, but the devicetree has no brcm,bcm2835-mbox to ask",
            ),
            BootError::Interrupts(e) => write!(f, "interrupt controller: {e}"),
        }
    }
}

impl core::error::Error for BootError {}

impl From<devicetree::Error<'static>> for BootError {
    fn from(e: devicetree::Error<'static>) -> Self {
        BootError::DeviceTree(e)
    }
}

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
