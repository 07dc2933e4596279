//! What UEFI firmware hands an application: its load options and the memory map, checked.
//!
//! Both come from firmware as raw bytes the platform copies out while boot services run:
//!
//! - [`load_options`]: the command line, as the firmware's `EFI_LOADED_IMAGE_PROTOCOL`
//!   `LoadOptions` holds it — UCS-2 (UTF-16LE), usually NUL-terminated — turned into UTF-8.
//! - [`Descriptors`]: `GetMemoryMap`'s array of `EFI_MEMORY_DESCRIPTOR`s (UEFI 2.10 §7.2), whose
//!   stride is the firmware's `DescriptorSize`, not the struct's size; [`usage`] says what the
//!   kernel may do with each type once boot services are gone.
//!
//! Everything is bounds-checked; malformed input is an [`Error`], never a panic.

use core::fmt;
use rivet_core::memory::{PhysRange, PAGE_SIZE};

/// What was wrong with what the firmware handed over.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Error {
    /// `LoadOptionsSize` is odd: not UCS-2.
    OddLoadOptions(usize),
    /// The load options hold an unpaired UTF-16 surrogate at this code-unit index.
    BadLoadOptions(usize),
    /// The command line does not fit the kernel's buffer of this many bytes.
    LoadOptionsTooLong(usize),
    /// `DescriptorSize` is smaller than a descriptor or not a multiple of 8.
    BadDescriptorSize(usize),
    /// A descriptor's range runs past the top of the address space or is misaligned.
    BadDescriptor {
        /// Its index in the map.
        index: usize,
        /// Its `PhysicalStart`.
        start: u64,
        /// Its `NumberOfPages`.
        pages: u64,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::OddLoadOptions(n) => {
                write!(f, "uefi: load options are {n} bytes, not whole UCS-2 characters")
            }
            Error::BadLoadOptions(i) => {
                write!(f, "uefi: load options hold an unpaired surrogate at character {i}")
            }
            Error::LoadOptionsTooLong(n) => {
                write!(f, "uefi: the command line is longer than {n} bytes")
            }
            Error::BadDescriptorSize(n) => write!(f, "uefi: memory descriptor size {n} is invalid"),
            Error::BadDescriptor { index, start, pages } => write!(
                f,
                "uefi: memory descriptor {index} ({pages} pages at {start:#x}) is invalid"
            ),
        }
    }
}

impl core::error::Error for Error {}

/// Converts UEFI load options (UTF-16LE, up to the first NUL) to UTF-8 in `buffer`.
///
/// Characters that would break the command line apart from what the firmware meant — control
/// characters other than tab — are kept: the command-line parser treats them as it does any
/// other. Unpaired surrogates are refused.
pub fn load_options<'b>(options: &[u8], buffer: &'b mut [u8]) -> Result<&'b str, Error> {
    if !options.len().is_multiple_of(2) {
        return Err(Error::OddLoadOptions(options.len()));
    }
    let units = options
        .chunks_exact(2)
        .map(|pair| u16::from_le_bytes([pair[0], pair[1]]))
        .take_while(|&unit| unit != 0);
    let capacity = buffer.len();
    let mut len = 0;
    for (index, decoded) in char::decode_utf16(units).enumerate() {
        let c = decoded.map_err(|_| Error::BadLoadOptions(index))?;
        let mut bytes = [0; 4];
        let encoded = c.encode_utf8(&mut bytes).as_bytes();
        let end = len + encoded.len();
        buffer
            .get_mut(len..end)
            .ok_or(Error::LoadOptionsTooLong(capacity))?
            .copy_from_slice(encoded);
        len = end;
    }
    // Built from whole `char`s only, so always valid; the fallback never happens.
    Ok(core::str::from_utf8(&buffer[..len]).unwrap_or(""))
}

/// Bytes of the `EFI_MEMORY_DESCRIPTOR` fields read here (type, start, pages, attribute).
pub const DESCRIPTOR_MIN_SIZE: usize = 40;

/// UEFI memory types (UEFI 2.10 §7.2, `EFI_MEMORY_TYPE`) this module names.
pub mod memory_type {
    /// EfiLoaderCode: the image itself, among others.
    pub const LOADER_CODE: u32 = 1;
    /// EfiLoaderData.
    pub const LOADER_DATA: u32 = 2;
    /// EfiBootServicesCode.
    pub const BOOT_SERVICES_CODE: u32 = 3;
    /// EfiBootServicesData.
    pub const BOOT_SERVICES_DATA: u32 = 4;
    /// EfiRuntimeServicesCode.
    pub const RUNTIME_SERVICES_CODE: u32 = 5;
    /// EfiRuntimeServicesData.
    pub const RUNTIME_SERVICES_DATA: u32 = 6;
    /// EfiConventionalMemory.
    pub const CONVENTIONAL: u32 = 7;
    /// EfiACPIReclaimMemory: the ACPI tables.
    pub const ACPI_RECLAIM: u32 = 9;
    /// EfiACPIMemoryNVS.
    pub const ACPI_NVS: u32 = 10;
}

/// What the kernel may do with a memory type after `ExitBootServices`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Usage {
    /// Free RAM: conventional memory and everything the firmware's boot phase or the loader
    /// used (the kernel reserves its own image separately).
    Free,
    /// RAM to keep and map, never to allocate: ACPI tables and NVS, runtime services.
    Reserved,
    /// Not for the kernel: MMIO, unusable, persistent memory, reserved types, unknown types.
    Ignored,
}

/// What the kernel may do with memory of UEFI type `kind`.
pub fn usage(kind: u32) -> Usage {
    use memory_type::*;
    match kind {
        LOADER_CODE | LOADER_DATA | BOOT_SERVICES_CODE | BOOT_SERVICES_DATA | CONVENTIONAL => {
            Usage::Free
        }
        RUNTIME_SERVICES_CODE | RUNTIME_SERVICES_DATA | ACPI_RECLAIM | ACPI_NVS => Usage::Reserved,
        _ => Usage::Ignored,
    }
}

/// One memory descriptor: its type and range.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Descriptor {
    /// `Type` (an `EFI_MEMORY_TYPE`).
    pub kind: u32,
    /// `[PhysicalStart, PhysicalStart + NumberOfPages * 4 KiB)`.
    pub range: PhysRange,
    /// `Attribute` (EFI_MEMORY_WB is bit 3).
    pub attribute: u64,
}

/// The descriptors of a memory map `GetMemoryMap` returned, checked as they are read.
#[derive(Clone, Debug)]
pub struct Descriptors<'a> {
    map: &'a [u8],
    size: usize,
    index: usize,
}

impl<'a> Descriptors<'a> {
    /// The descriptors in `map` (`MemoryMapSize` bytes) with the firmware's `DescriptorSize`. A
    /// partial descriptor at the end is ignored.
    pub fn new(map: &'a [u8], descriptor_size: usize) -> Result<Self, Error> {
        if descriptor_size < DESCRIPTOR_MIN_SIZE || !descriptor_size.is_multiple_of(8) {
            return Err(Error::BadDescriptorSize(descriptor_size));
        }
        Ok(Self { map, size: descriptor_size, index: 0 })
    }
}

impl Iterator for Descriptors<'_> {
    type Item = Result<Descriptor, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        let at = self.index.checked_mul(self.size)?;
        let bytes = self.map.get(at..at.checked_add(self.size)?)?;
        let index = self.index;
        self.index += 1;
        let field = |offset: usize| {
            u64::from_le_bytes(*bytes[offset..].first_chunk::<8>().unwrap_or(&[0; 8]))
        };
        let kind = u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
        let (start, pages) = (field(8), field(24));
        let end = pages.checked_mul(PAGE_SIZE).and_then(|len| start.checked_add(len));
        match end {
            Some(end) if start.is_multiple_of(PAGE_SIZE) => Some(Ok(Descriptor {
                kind,
                range: PhysRange::new(start, end),
                attribute: field(32),
            })),
            _ => Some(Err(Error::BadDescriptor { index, start, pages })),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ucs2(text: &str) -> Vec<u8> {
        text.encode_utf16().chain([0]).flat_map(u16::to_le_bytes).collect()
    }

    #[test]
    fn load_options_become_utf8() {
        let mut buffer = [0; 64];
        assert_eq!(load_options(&ucs2("a b -- é 😀"), &mut buffer), Ok("a b -- é 😀"));
        assert_eq!(load_options(&[], &mut buffer), Ok(""));
        // Stops at the NUL; what follows (firmware padding) is ignored.
        let mut padded = ucs2("x");
        padded.extend([0x41, 0, 0x42, 0]);
        assert_eq!(load_options(&padded, &mut buffer), Ok("x"));
    }

    #[test]
    fn bad_load_options_are_refused() {
        let mut buffer = [0; 8];
        assert_eq!(load_options(&[0x41], &mut buffer), Err(Error::OddLoadOptions(1)));
        let lone = [0x41, 0, 0x00, 0xd8, 0x41, 0];
        assert_eq!(load_options(&lone, &mut buffer), Err(Error::BadLoadOptions(1)));
        assert_eq!(
            load_options(&ucs2("123456789"), &mut buffer),
            Err(Error::LoadOptionsTooLong(8))
        );
    }

    fn descriptor(kind: u32, start: u64, pages: u64, size: usize) -> Vec<u8> {
        let mut d = vec![0; size];
        d[..4].copy_from_slice(&kind.to_le_bytes());
        d[8..16].copy_from_slice(&start.to_le_bytes());
        d[24..32].copy_from_slice(&pages.to_le_bytes());
        d[32..40].copy_from_slice(&8u64.to_le_bytes());
        d
    }

    #[test]
    fn descriptors_use_the_firmware_stride() {
        let mut map = descriptor(7, 0x4000_0000, 16, 48);
        map.extend(descriptor(9, 0x5000_0000, 1, 48));
        map.extend([0; 20]); // a partial descriptor: ignored
        let all: Vec<_> = Descriptors::new(&map, 48).unwrap().collect();
        assert_eq!(
            all,
            [
                Ok(Descriptor {
                    kind: 7,
                    range: PhysRange::new(0x4000_0000, 0x4001_0000),
                    attribute: 8
                }),
                Ok(Descriptor {
                    kind: 9,
                    range: PhysRange::new(0x5000_0000, 0x5000_1000),
                    attribute: 8
                }),
            ]
        );
        assert_eq!(usage(all[0].unwrap().kind), Usage::Free);
        assert_eq!(usage(all[1].unwrap().kind), Usage::Reserved);
        assert_eq!(usage(11), Usage::Ignored);
    }

    #[test]
    fn bad_descriptors_are_refused() {
        assert_eq!(Descriptors::new(&[], 36).unwrap_err(), Error::BadDescriptorSize(36));
        assert_eq!(Descriptors::new(&[], 44).unwrap_err(), Error::BadDescriptorSize(44));
        let huge = descriptor(7, 0xffff_ffff_ffff_0000, 1 << 40, 40);
        assert_eq!(
            Descriptors::new(&huge, 40).unwrap().next(),
            Some(Err(Error::BadDescriptor {
                index: 0,
                start: 0xffff_ffff_ffff_0000,
                pages: 1 << 40
            }))
        );
        let odd = descriptor(7, 0x123, 1, 40);
        assert!(matches!(Descriptors::new(&odd, 40).unwrap().next(), Some(Err(_))));
    }
}
