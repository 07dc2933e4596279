//! `hvm_start_info`: what a PVH loader hands over, checked before anything relies on it.
//!
//! The loader's word is a claim, not a fact ([`Claimed`]): every address it gives is checked to
//! lie inside the memory the boot page tables map, outside the kernel image, without wrapping,
//! and every count against a bound, before a byte is read; the command line must end in a NUL
//! within [`MAX_COMMAND_LINE`] bytes and be UTF-8. Only [`Claimed::validate`] turns the claim into
//! a [`StartInfo`], and all parsing after the one unsafe read is safe slice work.
//!
//! Layout: Xen's `xen/include/public/arch-x86/hvm/start_info.h` (version 1):
//!
//! ```text
//! hvm_start_info         hvm_memmap_table_entry    hvm_modlist_entry
//!  0 u32 magic            0 u64 addr                0 u64 paddr
//!  4 u32 version          8 u64 size                8 u64 size
//!  8 u32 flags           16 u32 type (1 = RAM)     16 u64 cmdline_paddr
//! 12 u32 nr_modules      20 u32 reserved           24 u64 reserved
//! 16 u64 modlist_paddr   (24 bytes)                (32 bytes)
//! 24 u64 cmdline_paddr
//! 32 u64 rsdp_paddr
//! 40 u64 memmap_paddr    (version 1)
//! 48 u32 memmap_entries  (version 1)
//! 52 u32 reserved        (56 bytes)
//! ```
//!
//! Weak spot: a claimed address inside the boot map but on a device (MMIO) would be read; the
//! reads are plain loads, so a device with read side effects could be poked.

use core::ops::Range;
use rivet_arch::head::{BOOT_MAP_LIMIT, XEN_HVM_START_MAGIC};
use rivet_core::memory::PhysRange;

/// Bytes of `hvm_start_info`, version 1.
const START_INFO_SIZE: u64 = 56;
/// Bytes of one `hvm_memmap_table_entry`.
const MEMMAP_ENTRY_SIZE: u64 = 24;
/// Bytes of one `hvm_modlist_entry`.
const MODULE_ENTRY_SIZE: u64 = 32;

/// Memory-map entries accepted at most (a PC's E820 table rarely has more than 20).
pub(super) const MAX_MEMMAP_ENTRIES: u32 = 1024;
/// Modules accepted at most.
pub(super) const MAX_MODULES: u32 = 64;
/// Bytes of command line accepted at most, without its NUL (Linux's x86 limit is 2048).
pub(super) const MAX_COMMAND_LINE: u64 = 4096;

/// The memory-map type of usable RAM (E820 type 1).
pub(super) const MEMMAP_RAM: u32 = 1;

/// Why the start info cannot be used. Every variant is the loader's fault and fatal.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum StartInfoError {
    /// A structure lies (partly) outside the memory the boot page tables map, at address 0, or
    /// wraps around the address space.
    Unreachable {
        /// Which structure.
        what: &'static str,
        /// Its claimed address.
        address: u64,
        /// Its claimed length.
        length: u64,
    },
    /// A structure overlaps the kernel image.
    OverlapsKernel {
        /// Which structure.
        what: &'static str,
        /// Its claimed address.
        address: u64,
    },
    /// The magic number is wrong: this is not a start info.
    BadMagic(u32),
    /// Version 0 has no memory map, and Rivet has no other way to find RAM.
    NoMemoryMap {
        /// The version the loader gave.
        version: u32,
    },
    /// A count beyond what Rivet accepts.
    TooMany {
        /// What was counted.
        what: &'static str,
        /// The claimed count.
        count: u32,
        /// The most accepted.
        max: u32,
    },
    /// No NUL within [`MAX_COMMAND_LINE`] bytes of the command line's start.
    CommandLineUnterminated,
    /// The command line is not UTF-8; the first bad byte is at this offset.
    CommandLineNotUtf8 {
        /// Byte offset of the first invalid sequence.
        at: usize,
    },
}

impl core::fmt::Display for StartInfoError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match *self {
            StartInfoError::Unreachable { what, address, length } => write!(
                f,
                "{what} claimed at {address:#x} ({length} bytes) lies outside the first \
                 {} MiB that early boot can read",
                BOOT_MAP_LIMIT >> 20
            ),
            StartInfoError::OverlapsKernel { what, address } => {
                write!(f, "{what} claimed at {address:#x} overlaps the kernel image")
            }
            StartInfoError::BadMagic(magic) => {
                write!(
                    f,
                    "magic is {magic:#x}, not {XEN_HVM_START_MAGIC:#x}: not an hvm_start_info"
                )
            }
            StartInfoError::NoMemoryMap { version } => write!(
                f,
                "version {version} carries no memory map (version 1 or later is needed to find RAM)"
            ),
            StartInfoError::TooMany { what, count, max } => {
                write!(f, "{count} {what} claimed; at most {max} are accepted")
            }
            StartInfoError::CommandLineUnterminated => {
                write!(f, "command line has no NUL within {MAX_COMMAND_LINE} bytes")
            }
            StartInfoError::CommandLineNotUtf8 { at } => {
                write!(f, "command line is not valid UTF-8 (byte {at})")
            }
        }
    }
}

impl core::error::Error for StartInfoError {}

/// The address the loader passed in `ebx`, believed only after [`validate`](Self::validate).
pub(super) struct Claimed(u64);

impl Claimed {
    /// The start info the loader says is at physical address `address`.
    pub(super) fn at(address: u64) -> Self {
        Self(address)
    }

    /// Checks the start info and everything it points at. `kernel` is the image's physical range,
    /// which nothing the loader hands over may overlap.
    pub(super) fn validate(self, kernel: &Range<u64>) -> Result<StartInfo, StartInfoError> {
        let reader = Reader { kernel };
        let header = reader.bytes("start info", self.0, START_INFO_SIZE)?;
        let magic = u32_at(header, 0);
        if magic != XEN_HVM_START_MAGIC {
            return Err(StartInfoError::BadMagic(magic));
        }
        let version = u32_at(header, 4);
        if version < 1 {
            return Err(StartInfoError::NoMemoryMap { version });
        }
        let module_count = u32_at(header, 12);
        let modlist_address = u64_at(header, 16);
        let command_line_address = u64_at(header, 24);
        // Offset 32, the ACPI RSDP, waits for the interrupt-controller work.
        let memmap_address = u64_at(header, 40);
        let memmap_entries = u32_at(header, 48);

        if memmap_entries == 0 || memmap_address == 0 {
            return Err(StartInfoError::NoMemoryMap { version });
        }
        if memmap_entries > MAX_MEMMAP_ENTRIES {
            return Err(StartInfoError::TooMany {
                what: "memory-map entries",
                count: memmap_entries,
                max: MAX_MEMMAP_ENTRIES,
            });
        }
        let memmap = reader.bytes(
            "memory map",
            memmap_address,
            u64::from(memmap_entries) * MEMMAP_ENTRY_SIZE,
        )?;

        if module_count > MAX_MODULES {
            return Err(StartInfoError::TooMany {
                what: "modules",
                count: module_count,
                max: MAX_MODULES,
            });
        }
        let modules = if module_count == 0 {
            &[][..]
        } else {
            reader.bytes(
                "module list",
                modlist_address,
                u64::from(module_count) * MODULE_ENTRY_SIZE,
            )?
        };
        for module in modules.chunks_exact(MODULE_ENTRY_SIZE as usize) {
            let (address, size) = (u64_at(module, 0), u64_at(module, 8));
            if address.checked_add(size).is_none() {
                return Err(StartInfoError::Unreachable { what: "module", address, length: size });
            }
        }

        let command_line = if command_line_address == 0 {
            ""
        } else {
            reader.command_line(command_line_address)?
        };

        Ok(StartInfo { address: self.0, memmap, modules, command_line, command_line_address })
    }
}

/// Reads claimed structures through the boot identity map, after checking where they are.
struct Reader<'a> {
    kernel: &'a Range<u64>,
}

impl Reader<'_> {
    /// The `length` bytes at physical address `address`, if they are safe to read for good.
    fn bytes(
        &self,
        what: &'static str,
        address: u64,
        length: u64,
    ) -> Result<&'static [u8], StartInfoError> {
        let unreachable = StartInfoError::Unreachable { what, address, length };
        let end = address.checked_add(length).ok_or(unreachable)?;
        if address == 0 || end > BOOT_MAP_LIMIT {
            return Err(unreachable);
        }
        if address < self.kernel.end && self.kernel.start < end {
            return Err(StartInfoError::OverlapsKernel { what, address });
        }
        // SAFETY: [address, end) is non-null, does not wrap and lies below BOOT_MAP_LIMIT, which
        // the boot page tables map readable at virtual == physical (head.rs), and the platform
        // keeps the pages holding the command line mapped after it switches tables (the only
        // slice used after that). It lies outside the kernel image, so no Rust object aliases it,
        // and the platform reserves it, so nothing Rivet allocates writes it while the slice lives.
        // A u8 slice has no alignment or validity requirement beyond that.
        Ok(unsafe { core::slice::from_raw_parts(address as *const u8, length as usize) })
    }

    /// The NUL-terminated, UTF-8 command line at `address`, without its NUL.
    fn command_line(&self, address: u64) -> Result<&'static str, StartInfoError> {
        // Look for the NUL within MAX_COMMAND_LINE + 1 bytes, not past the readable memory.
        let readable = BOOT_MAP_LIMIT.saturating_sub(address).min(MAX_COMMAND_LINE + 1);
        let window = self.bytes("command line", address, readable)?;
        let length =
            window.iter().position(|&b| b == 0).ok_or(StartInfoError::CommandLineUnterminated)?;
        core::str::from_utf8(&window[..length])
            .map_err(|e| StartInfoError::CommandLineNotUtf8 { at: e.valid_up_to() })
    }
}

/// One entry of the memory map.
#[derive(Clone, Copy, Debug)]
pub(super) struct MemmapEntry {
    /// First byte.
    pub(super) address: u64,
    /// Length in bytes.
    pub(super) size: u64,
    /// E820 type: 1 RAM, 2 reserved, 3 ACPI reclaimable, 4 ACPI NVS, 5 unusable, …
    pub(super) kind: u32,
}

/// A validated start info.
pub(super) struct StartInfo {
    address: u64,
    memmap: &'static [u8],
    modules: &'static [u8],
    /// The command line, without its NUL ("" if the loader gave none).
    pub(super) command_line: &'static str,
    command_line_address: u64,
}

impl StartInfo {
    /// The memory map's entries, in the loader's order.
    pub(super) fn memory_map(&self) -> impl Iterator<Item = MemmapEntry> + '_ {
        self.memmap.chunks_exact(MEMMAP_ENTRY_SIZE as usize).map(|entry| MemmapEntry {
            address: u64_at(entry, 0),
            size: u64_at(entry, 8),
            kind: u32_at(entry, 16),
        })
    }

    /// Where the command line sits in physical memory, NUL included (empty if there is none).
    pub(super) fn command_line_range(&self) -> PhysRange {
        if self.command_line_address == 0 {
            return PhysRange::default();
        }
        PhysRange::from_start_len(self.command_line_address, self.command_line.len() as u64 + 1)
    }

    /// Every physical range the loader handed over that must not become free memory: the start
    /// info, the memory map, the command line, the module list and each module.
    pub(super) fn footprint(&self) -> impl Iterator<Item = PhysRange> + '_ {
        let of =
            |slice: &[u8]| PhysRange::from_start_len(slice.as_ptr() as u64, slice.len() as u64);
        let modules = self
            .modules
            .chunks_exact(MODULE_ENTRY_SIZE as usize)
            .map(|module| PhysRange::from_start_len(u64_at(module, 0), u64_at(module, 8)));
        [
            PhysRange::from_start_len(self.address, START_INFO_SIZE),
            of(self.memmap),
            of(self.modules),
            self.command_line_range(),
        ]
        .into_iter()
        .chain(modules)
        .filter(|range| !range.is_empty())
    }
}

fn u32_at(bytes: &[u8], offset: usize) -> u32 {
    let mut raw = [0; 4];
    raw.copy_from_slice(&bytes[offset..offset + 4]);
    u32::from_le_bytes(raw)
}

fn u64_at(bytes: &[u8], offset: usize) -> u64 {
    let mut raw = [0; 8];
    raw.copy_from_slice(&bytes[offset..offset + 8]);
    u64::from_le_bytes(raw)
}
