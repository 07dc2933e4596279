//! Why the ACPI tables could not be used: the firmware's fault, and fatal to the boot.

use core::fmt;

/// A table signature (`*b"APIC"`), printed as text where it is printable.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Signature(pub [u8; 4]);

impl fmt::Display for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for &byte in &self.0 {
            if byte.is_ascii_graphic() || byte == b' ' {
                write!(f, "{}", byte as char)?;
            } else {
                write!(f, "\\x{byte:02x}")?;
            }
        }
        Ok(())
    }
}

/// What was wrong with the tables, with the evidence.
///
/// Every variant is bad input from the firmware, not a kernel bug, and none is worth retrying.
/// The `Display` text is what the boot prints after `rivet: bad boot input: `.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Error {
    /// The firmware named no ACPI 2.0 RSDP (the configuration table has no ACPI 2.0 entry).
    NoRsdp,
    /// The RSDP at this address is malformed.
    BadRsdp {
        /// Its physical address.
        address: u64,
        /// What is wrong with it.
        problem: &'static str,
    },
    /// The platform could not read `len` bytes at `address` (not RAM, or out of bounds).
    Unreadable {
        /// First byte.
        address: u64,
        /// How many bytes were asked for.
        len: u64,
    },
    /// A table's bytes do not add up to 0 modulo 256.
    BadChecksum {
        /// The table's signature.
        signature: Signature,
        /// Its physical address.
        address: u64,
    },
    /// A table is malformed.
    BadTable {
        /// The table's signature.
        signature: Signature,
        /// Its physical address.
        address: u64,
        /// What is wrong with it.
        problem: &'static str,
    },
    /// A table the boot needs is missing from the XSDT.
    Missing(Signature),
    /// The MADT describes no GIC distributor.
    NoGic,
    /// The SPCR names a console the kernel has no driver for.
    UnsupportedConsole {
        /// SPCR "Interface Type".
        interface_type: u8,
        /// GAS "Address Space ID" of the base address (0 = memory).
        address_space: u8,
    },
}

/// A result whose error is an [`Error`].
pub type Result<T = ()> = core::result::Result<T, Error>;

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::NoRsdp => f.write_str("acpi: the firmware names no ACPI 2.0 RSDP"),
            Error::BadRsdp { address, problem } => {
                write!(f, "acpi: RSDP at {address:#x}: {problem}")
            }
            Error::Unreadable { address, len } => {
                write!(f, "acpi: cannot read {len} bytes at {address:#x}")
            }
            Error::BadChecksum { signature, address } => {
                write!(f, "acpi: table {signature} at {address:#x}: bad checksum")
            }
            Error::BadTable { signature, address, problem } => {
                write!(f, "acpi: table {signature} at {address:#x}: {problem}")
            }
            Error::Missing(signature) => write!(f, "acpi: no {signature} table"),
            Error::NoGic => f.write_str("acpi: the MADT describes no GIC distributor"),
            Error::UnsupportedConsole { interface_type, address_space } => write!(
                f,
                "acpi: SPCR console type {interface_type:#04x} in address space {address_space} \
                 is not supported (PL011, SBSA UART or 16550, in memory space only)"
            ),
        }
    }
}

impl core::error::Error for Error {}
