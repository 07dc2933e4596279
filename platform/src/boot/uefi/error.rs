//! Why a UEFI boot could not go on: every variant is bad boot input (exit code 103).

use core::fmt;
use rivet_bootinfo::{acpi, uefi};
use rivet_core::memory::map::MapError;
use rivet_core::memory::paging::PagingError;
use rivet_pl011::Pl011Error;

/// What was wrong with what the firmware handed over, with the evidence.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum BootError {
    /// The system table pointer or the boot services table is not what UEFI describes.
    BadSystemTable(&'static str),
    /// A boot service failed (status 0: the firmware does not provide it).
    Firmware {
        /// The service.
        call: &'static str,
        /// Its EFI_STATUS.
        status: u64,
    },
    /// The load options are larger than the kernel accepts.
    LoadOptionsTooLarge(u64),
    /// The memory map or the load options are malformed.
    Uefi(uefi::Error),
    /// The ACPI tables are malformed or lack what the boot needs.
    Acpi(acpi::Error),
    /// The memory map grew past the kernel's buffer.
    MemoryMapTooLarge(usize),
    /// ExitBootServices kept refusing the map key.
    ExitBootServices(u64),
    /// No usable RAM is left once the image and page 0 are taken out.
    NoMemory,
    /// The firmware loaded the image at an address that is not 4 KiB aligned.
    MisalignedImage(u64),
    /// The memory map could not hold the RAM and reservations.
    MemoryMap(MapError),
    /// The page tables could not be built.
    Paging(PagingError),
    /// The console PL011 could not be set up.
    Console(Pl011Error),
    /// The console 16550 could not be used: its base is misaligned (`None`), or no UART
    /// answers there.
    Console16550(Option<rivet_ns16550::Error>),
    /// The GIC or the timer interrupt the MADT and GTDT describe could not be set up.
    Interrupts(crate::boot::devicetree::interrupts::InterruptSetupError),
}

impl fmt::Display for BootError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BootError::BadSystemTable(problem) => write!(f, "uefi: system table: {problem}"),
            BootError::Firmware { call, status } => {
                write!(f, "uefi: {call} failed with status {status:#x}")
            }
            BootError::LoadOptionsTooLarge(n) => write!(f, "uefi: load options of {n} bytes"),
            BootError::Uefi(e) => write!(f, "{e}"),
            BootError::Acpi(e) => write!(f, "{e}"),
            BootError::MemoryMapTooLarge(n) => {
                write!(f, "uefi: the memory map is larger than {n} bytes")
            }
            BootError::ExitBootServices(status) => {
                write!(f, "uefi: ExitBootServices kept failing (status {status:#x})")
            }
            BootError::NoMemory => f.write_str("uefi: the memory map holds no usable RAM"),
            BootError::MisalignedImage(at) => {
                write!(f, "the image was loaded at {at:#x}, which is not 4 KiB aligned")
            }
            BootError::MemoryMap(e) => write!(f, "memory map: {e}"),
            BootError::Paging(e) => write!(f, "page tables: {e}"),
            BootError::Console(e) => write!(f, "console: {e}"),
            BootError::Console16550(None) => {
                f.write_str("console: the 16550's base is not aligned to its access size")
            }
            BootError::Console16550(Some(e)) => write!(f, "console: {e}"),
            BootError::Interrupts(e) => write!(f, "interrupt controller: {e}"),
        }
    }
}

impl core::error::Error for BootError {}

impl From<uefi::Error> for BootError {
    fn from(e: uefi::Error) -> Self {
        BootError::Uefi(e)
    }
}

impl From<acpi::Error> for BootError {
    fn from(e: acpi::Error) -> Self {
        BootError::Acpi(e)
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
