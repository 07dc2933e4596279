//! x86_64 4-level paging: the entry format, table access through the identity map, the image.
//!
//! Core's [`PageTable`](rivet_core::memory::paging::PageTable) does the walking; this file only says
//! what the bits mean (Intel SDM vol. 3A §4.5, "4-Level Paging", tables 4-15 to 4-20):
//!
//! | bit | name | use here |
//! |---|---|---|
//! | 0 | P | present |
//! | 1 | R/W | writable (data, stacks, devices) |
//! | 3, 4 | PWT, PCD | both set for device memory: uncached (PAT entry 3 at reset) |
//! | 5, 6 | A, D | preset on leaves, so the CPU never has to write them back |
//! | 7 | PS | a 2 MiB (PD) or 1 GiB (PDPT) leaf |
//! | 63 | XD | no-execute, on everything but code (EFER.NXE is set by the entry code) |
//!
//! Upper-level entries are present + writable with no XD: permissions are decided by the leaf.
//! The `x86_64` crate's `PageTableFlags` describe the same bits; they are not used because core's
//! builder, not the crate's mapper, walks the tables.

use rivet_core::memory::paging::{
    Attributes, KernelImage, MemoryKind, PageTableFormat, Permissions, TableMemory, ENTRIES,
};
use x86_64::registers::control::{Cr3, Cr3Flags};
use x86_64::structures::paging::PhysFrame;
use x86_64::PhysAddr;

const PRESENT: u64 = 1 << 0;
const WRITABLE: u64 = 1 << 1;
const WRITE_THROUGH: u64 = 1 << 3;
const CACHE_DISABLE: u64 = 1 << 4;
const ACCESSED: u64 = 1 << 5;
const DIRTY: u64 = 1 << 6;
const LARGE: u64 = 1 << 7;
const NO_EXECUTE: u64 = 1 << 63;
/// Bits 51:12: the physical address of the next table or of the page (MAXPHYADDR ≤ 52).
const ADDRESS: u64 = 0x000f_ffff_ffff_f000;

/// The x86_64 page-table entry format.
pub struct Format;

impl PageTableFormat for Format {
    fn block_supported(level: u8) -> bool {
        match level {
            2 => true,
            3 => super::cpu::has_1gib_pages(),
            _ => false,
        }
    }

    fn table_entry(table: u64) -> u64 {
        (table & ADDRESS) | PRESENT | WRITABLE
    }

    fn leaf_entry(phys: u64, level: u8, attributes: Attributes) -> u64 {
        let mut entry = (phys & ADDRESS) | PRESENT | ACCESSED;
        match attributes.permissions {
            Permissions::ReadExecute => {}
            Permissions::ReadOnly => entry |= NO_EXECUTE,
            Permissions::ReadWrite => entry |= WRITABLE | DIRTY | NO_EXECUTE,
        }
        if attributes.kind == MemoryKind::Device {
            entry |= CACHE_DISABLE | WRITE_THROUGH;
        }
        if level > 1 {
            entry |= LARGE;
        }
        entry
    }

    fn is_valid(entry: u64) -> bool {
        entry & PRESENT != 0
    }

    fn is_table(entry: u64, level: u8) -> bool {
        // PML4 entries always point at a table; PS marks a leaf in a PDPT or PD.
        level == 4 || entry & LARGE == 0
    }

    fn address(entry: u64) -> u64 {
        entry & ADDRESS
    }
}

/// Page tables reached at their physical address: the identity map the boot code sets up (for
/// the first [`BOOT_MAP_LIMIT`](super::head::BOOT_MAP_LIMIT)) and the platform keeps for all RAM.
pub struct DirectMap {
    _private: (),
}

impl DirectMap {
    /// Access to page tables through the identity map.
    ///
    /// # Safety
    /// For as long as the returned value is used:
    /// 1. every table address handed to it (the root and every frame the builder allocates) is
    ///    mapped read-write at virtual address == physical address, 4 KiB aligned, and
    /// 2. that memory belongs to the page tables being built: nothing else reads or writes it.
    pub unsafe fn new() -> Self {
        Self { _private: () }
    }

    fn entry(table: u64, index: usize) -> *mut u64 {
        assert!(index < ENTRIES, "page-table index {index} out of range");
        (table as *mut u64).wrapping_add(index)
    }
}

impl TableMemory for DirectMap {
    fn read(&self, table: u64, index: usize) -> u64 {
        // SAFETY: `DirectMap::new`'s obligation 1 makes `table` an identity-mapped, aligned
        // table of ENTRIES u64s, and `entry` checked the index; obligation 2 rules out races.
        unsafe { Self::entry(table, index).read_volatile() }
    }

    fn write(&mut self, table: u64, index: usize, entry: u64) {
        // SAFETY: as in `read`. Volatile, because the MMU reads this memory behind the
        // compiler's back.
        unsafe { Self::entry(table, index).write_volatile(entry) }
    }

    fn zero(&mut self, table: u64) {
        // SAFETY: as in `read`: the whole table is ours and identity-mapped. A fresh table is not
        // yet linked into any tree the MMU walks, so a plain (non-volatile) fill is enough; the
        // volatile write that links it in comes after.
        unsafe { core::ptr::write_bytes(Self::entry(table, 0), 0, ENTRIES) }
    }
}

/// The running image's sections from the linker script, with their virtual-minus-physical offset.
pub fn kernel_image() -> KernelImage {
    KernelImage {
        text: super::layout::text(),
        rodata: super::layout::rodata(),
        data: super::layout::data(),
        stack: super::layout::boot_stack(),
        virt_minus_phys: super::layout::virt_minus_phys(),
    }
}

/// The physical range the image occupies, guard page and boot stack included.
pub fn kernel_image_physical() -> core::ops::Range<u64> {
    let image = super::layout::image();
    let offset = super::layout::virt_minus_phys();
    image.start - offset..image.end - offset
}

/// Switches to the page tables rooted at physical address `root` (writes CR3, which also flushes
/// the TLB of every non-global entry).
///
/// # Safety
/// 1. `root` is a 4 KiB-aligned PML4 built with [`Format`].
/// 2. It maps the running code, the current stack, every static in use and everything the caller
///    goes on to touch (the kernel image with `map_kernel_image`, and the memory the caller
///    reaches through the identity map), with the attributes that access needs.
pub unsafe fn activate(root: u64) {
    let frame = PhysFrame::from_start_address(PhysAddr::new(root))
        .expect("page-table root must be 4 KiB aligned");
    // SAFETY: obligations 1 and 2 of this function: the new tree maps everything that runs next.
    unsafe { Cr3::write(frame, Cr3Flags::empty()) };
}

/// The virtual range thread stacks are mapped in (each with an unmapped guard page below it):
/// PML4 slot 384, far from the identity direct map (low half) and the kernel image (top 2 GiB).
pub const STACK_REGION: core::ops::Range<u64> = 0xffff_c000_0000_0000..0xffff_c010_0000_0000;
