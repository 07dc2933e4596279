//! Building page tables, for any CPU with 4-level, 512-entry, 4 KiB-granule tables.
//!
//! x86_64 (4-level paging) and aarch64 (4 KiB granule, 48-bit VA) share the same tree shape: four
//! levels of 512 eight-byte entries, where level 3 may hold 1 GiB blocks, level 2 holds 2 MiB
//! blocks and level 1 holds 4 KiB pages. Only the bits inside an entry differ, so the arch layer
//! supplies a [`PageTableFormat`] and a [`TableMemory`] (how to reach a table given its physical
//! address — a direct map, or hypercalls under Xen PV) and this module does the walking,
//! block-size choice and validation. That keeps the logic in safe, host-tested code; the `x86_64`
//! and `aarch64-cpu` crates' paging types were not used because each covers one CPU only.
//!
//! W^X is enforced by construction: [`Permissions`] has no writable-and-executable variant.
//!
//! Level numbering: 4 is the root (PML4 / L0), 1 holds 4 KiB pages (PT / L3).

use super::frame::FrameSource;
use super::PAGE_SIZE;

/// Entries per table.
pub const ENTRIES: usize = 512;

/// What code may do with a mapping. There is deliberately no read-write-execute.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Permissions {
    /// Readable and executable, not writable: code.
    ReadExecute,
    /// Readable only: constants.
    ReadOnly,
    /// Readable and writable, never executable: data, stacks, heap.
    ReadWrite,
}

/// The memory type behind a mapping.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum MemoryKind {
    /// Cacheable RAM.
    Normal,
    /// Device registers: uncached, no speculation, no merging.
    Device,
}

/// Permissions plus memory type of a mapping.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Attributes {
    /// Access rights.
    pub permissions: Permissions,
    /// Memory type.
    pub kind: MemoryKind,
}

impl Attributes {
    /// Kernel code.
    pub const CODE: Self = Self { permissions: Permissions::ReadExecute, kind: MemoryKind::Normal };
    /// Read-only data.
    pub const READ_ONLY: Self =
        Self { permissions: Permissions::ReadOnly, kind: MemoryKind::Normal };
    /// Writable data.
    pub const DATA: Self = Self { permissions: Permissions::ReadWrite, kind: MemoryKind::Normal };
    /// Device registers.
    pub const DEVICE: Self = Self { permissions: Permissions::ReadWrite, kind: MemoryKind::Device };
}

/// The bit layout of one CPU's page-table entries. Implemented in `arch/`.
pub trait PageTableFormat {
    /// Whether `level` (2 or 3) may hold a block (2 MiB or 1 GiB) leaf.
    fn block_supported(level: u8) -> bool;
    /// An entry pointing at the next-level table at physical address `table`.
    fn table_entry(table: u64) -> u64;
    /// A leaf entry mapping `phys` at `level` (1: 4 KiB page, 2: 2 MiB block, 3: 1 GiB block).
    fn leaf_entry(phys: u64, level: u8, attributes: Attributes) -> u64;
    /// Whether the entry is valid (present).
    fn is_valid(entry: u64) -> bool;
    /// Whether a valid entry at `level` (2 to 4) points at a table rather than being a block.
    fn is_table(entry: u64, level: u8) -> bool;
    /// The physical address an entry holds (next table, block or page).
    fn address(entry: u64) -> u64;
}

/// Access to page-table memory by physical address. Implemented in `arch/` (through the direct
/// map, or through hypercalls where the hypervisor owns the tables).
pub trait TableMemory {
    /// Reads entry `index` of the table at physical address `table`.
    fn read(&self, table: u64, index: usize) -> u64;
    /// Writes entry `index` of the table at physical address `table`.
    fn write(&mut self, table: u64, index: usize, entry: u64);
    /// Clears a freshly allocated table.
    fn zero(&mut self, table: u64);
}

/// Why a mapping could not be made.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum PagingError {
    /// An address or length that is not a multiple of 4 KiB.
    Misaligned {
        /// The virtual address asked for.
        virt: u64,
        /// The physical address asked for.
        phys: u64,
        /// The length asked for.
        len: u64,
    },
    /// The range wraps around the address space.
    Overflow,
    /// Part of the range is mapped already (at this virtual address).
    AlreadyMapped(u64),
    /// No frame left for a page table.
    OutOfFrames,
}

impl core::fmt::Display for PagingError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            PagingError::Misaligned { virt, phys, len } => {
                write!(f, "mapping {len:#x} bytes {virt:#x} -> {phys:#x} is not page-aligned")
            }
            PagingError::Overflow => write!(f, "mapping wraps around the address space"),
            PagingError::AlreadyMapped(v) => write!(f, "virtual address {v:#x} is already mapped"),
            PagingError::OutOfFrames => write!(f, "no memory left for page tables"),
        }
    }
}

impl core::error::Error for PagingError {}

/// Bytes covered by one entry at `level`.
pub const fn level_size(level: u8) -> u64 {
    PAGE_SIZE << (9 * (level as u32 - 1))
}

/// The index into a level-`level` table for virtual address `virt`.
pub const fn level_index(virt: u64, level: u8) -> usize {
    ((virt >> (12 + 9 * (level as u32 - 1))) & (ENTRIES as u64 - 1)) as usize
}

/// A page-table tree being built or changed.
pub struct PageTable<F, M> {
    root: u64,
    memory: M,
    _format: core::marker::PhantomData<F>,
}

impl<F: PageTableFormat, M: TableMemory> PageTable<F, M> {
    /// A new, empty tree whose root comes from `frames`.
    pub fn new(mut memory: M, frames: &mut impl FrameSource) -> Result<Self, PagingError> {
        let root = frames.allocate_frame().ok_or(PagingError::OutOfFrames)?;
        memory.zero(root);
        Ok(Self { root, memory, _format: core::marker::PhantomData })
    }

    /// The tree whose root table is at `root`, to change a live tree (map new ranges into it).
    pub fn from_root(memory: M, root: u64) -> Self {
        Self { root, memory, _format: core::marker::PhantomData }
    }

    /// Physical address of the root table (for CR3 / TTBR).
    pub fn root(&self) -> u64 {
        self.root
    }

    /// Maps `len` bytes at `virt` to `phys` with `attributes`, using 1 GiB and 2 MiB blocks where
    /// both addresses are aligned for them and the format allows, 4 KiB pages elsewhere.
    ///
    /// Nothing already mapped is replaced: overlapping an existing mapping is an error (which
    /// may leave the part before it mapped).
    pub fn map(
        &mut self,
        virt: u64,
        phys: u64,
        len: u64,
        attributes: Attributes,
        frames: &mut impl FrameSource,
    ) -> Result<(), PagingError> {
        if !virt.is_multiple_of(PAGE_SIZE)
            || !phys.is_multiple_of(PAGE_SIZE)
            || !len.is_multiple_of(PAGE_SIZE)
        {
            return Err(PagingError::Misaligned { virt, phys, len });
        }
        // The last byte must not wrap; a mapping up to the very top of the space is fine.
        if len > 0 && (virt.checked_add(len - 1).is_none() || phys.checked_add(len - 1).is_none()) {
            return Err(PagingError::Overflow);
        }
        let mut offset = 0;
        while offset < len {
            let (v, p, left) = (virt + offset, phys + offset, len - offset);
            let level = (2..=3)
                .rev()
                .find(|&l| {
                    let size = level_size(l);
                    F::block_supported(l) && v % size == 0 && p % size == 0 && left >= size
                })
                .unwrap_or(1);
            // Walk from the root once, then fill consecutive entries of that table: a run ends
            // at the table's end (where a larger block may become possible) or the range's end.
            let table = self.walk_creating(v, level, frames)?;
            let size = level_size(level);
            for index in level_index(v, level)..ENTRIES {
                if len - offset < size {
                    break;
                }
                if F::is_valid(self.memory.read(table, index)) {
                    return Err(PagingError::AlreadyMapped(virt + offset));
                }
                let entry = F::leaf_entry(phys + offset, level, attributes);
                self.memory.write(table, index, entry);
                offset += size;
            }
        }
        Ok(())
    }

    /// Returns the level-`leaf_level` table covering `virt`, creating tables above it as needed.
    fn walk_creating(
        &mut self,
        virt: u64,
        leaf_level: u8,
        frames: &mut impl FrameSource,
    ) -> Result<u64, PagingError> {
        let mut table = self.root;
        for level in (leaf_level + 1..=4).rev() {
            let index = level_index(virt, level);
            let entry = self.memory.read(table, index);
            table = if !F::is_valid(entry) {
                let next = frames.allocate_frame().ok_or(PagingError::OutOfFrames)?;
                self.memory.zero(next);
                self.memory.write(table, index, F::table_entry(next));
                next
            } else if F::is_table(entry, level) {
                F::address(entry)
            } else {
                return Err(PagingError::AlreadyMapped(virt));
            };
        }
        Ok(table)
    }

    /// Where `virt` is mapped: the physical address and the level of the leaf entry.
    pub fn translate(&self, virt: u64) -> Option<(u64, u8)> {
        let (entry, level) = self.leaf(virt)?;
        let size = level_size(level);
        Some((F::address(entry) + (virt & (size - 1)), level))
    }

    /// The raw leaf entry mapping `virt`, if any (for checks and debugging).
    pub fn leaf_entry(&self, virt: u64) -> Option<u64> {
        self.leaf(virt).map(|(entry, _)| entry)
    }

    /// The valid leaf entry mapping `virt` and its level, found by walking from the root.
    fn leaf(&self, virt: u64) -> Option<(u64, u8)> {
        let mut table = self.root;
        for level in (1..=4).rev() {
            let entry = self.memory.read(table, level_index(virt, level));
            if !F::is_valid(entry) {
                return None;
            }
            if level > 1 && F::is_table(entry, level) {
                table = F::address(entry);
            } else {
                return Some((entry, level));
            }
        }
        None
    }

    /// Gives back the table memory accessor.
    pub fn into_memory(self) -> M {
        self.memory
    }
}

/// The kernel image's sections, as virtual ranges, and where the image sits in physical memory.
///
/// The linker scripts lay the image out as text, rodata, data+bss, one unmapped guard page, then
/// the boot stack; [`map_kernel_image`] maps each part with its own permissions and leaves the
/// guard page out so that a boot-stack overflow faults instead of corrupting data.
#[derive(Clone, Debug)]
pub struct KernelImage {
    /// Code: mapped read + execute.
    pub text: core::ops::Range<u64>,
    /// Constants: mapped read-only.
    pub rodata: core::ops::Range<u64>,
    /// Initialised and zeroed data: read + write, no execute.
    pub data: core::ops::Range<u64>,
    /// The boot stack: read + write, no execute. The page below it must lie outside `data`.
    pub stack: core::ops::Range<u64>,
    /// Virtual address minus physical address of the image.
    pub virt_minus_phys: u64,
}

/// Maps the kernel image with W^X permissions, leaving the guard page under the stack unmapped.
pub fn map_kernel_image<F: PageTableFormat, M: TableMemory>(
    table: &mut PageTable<F, M>,
    image: &KernelImage,
    frames: &mut impl FrameSource,
) -> Result<(), PagingError> {
    let parts = [
        (&image.text, Attributes::CODE),
        (&image.rodata, Attributes::READ_ONLY),
        (&image.data, Attributes::DATA),
        (&image.stack, Attributes::DATA),
    ];
    for (range, attributes) in parts {
        if range.is_empty() {
            continue;
        }
        let phys = range.start.wrapping_sub(image.virt_minus_phys);
        table.map(range.start, phys, range.end - range.start, attributes, frames)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::frame::FrameAllocator;
    use crate::memory::map::MemoryMap;
    use crate::memory::PhysRange;
    use std::collections::HashMap;

    /// A made-up format: bit 0 valid, bit 1 table, bits 2-3 permissions, bit 4 device.
    struct TestFormat;
    impl PageTableFormat for TestFormat {
        fn block_supported(level: u8) -> bool {
            level == 2 || level == 3
        }
        fn table_entry(table: u64) -> u64 {
            table | 0b11
        }
        fn leaf_entry(phys: u64, _level: u8, a: Attributes) -> u64 {
            let perm = match a.permissions {
                Permissions::ReadExecute => 1,
                Permissions::ReadOnly => 2,
                Permissions::ReadWrite => 3,
            };
            phys | 1 | (perm << 2) | ((a.kind == MemoryKind::Device) as u64) << 4
        }
        fn is_valid(entry: u64) -> bool {
            entry & 1 != 0
        }
        fn is_table(entry: u64, _level: u8) -> bool {
            entry & 2 != 0
        }
        fn address(entry: u64) -> u64 {
            entry & !0xfff
        }
    }

    #[derive(Default)]
    struct FakeMemory(HashMap<u64, [u64; ENTRIES]>);
    impl TableMemory for FakeMemory {
        fn read(&self, table: u64, index: usize) -> u64 {
            self.0.get(&table).expect("read of a table never zeroed")[index]
        }
        fn write(&mut self, table: u64, index: usize, entry: u64) {
            self.0.get_mut(&table).expect("write to a table never zeroed")[index] = entry;
        }
        fn zero(&mut self, table: u64) {
            self.0.insert(table, [0; ENTRIES]);
        }
    }

    fn frames() -> FrameAllocator {
        let mut map = MemoryMap::new();
        map.add(PhysRange::new(0x100_0000, 0x110_0000)).unwrap();
        FrameAllocator::new(map)
    }

    type Table = PageTable<TestFormat, FakeMemory>;

    #[test]
    fn indexes_and_sizes() {
        assert_eq!(level_size(1), 4096);
        assert_eq!(level_size(2), 2 << 20);
        assert_eq!(level_size(3), 1 << 30);
        let high = 0xffff_ffff_8020_3000u64;
        assert_eq!(level_index(high, 4), 511);
        assert_eq!(level_index(high, 3), 510);
        assert_eq!(level_index(high, 2), 1);
        assert_eq!(level_index(high, 1), 3);
    }

    #[test]
    fn chooses_block_sizes_by_alignment() {
        let mut f = frames();
        let mut t = Table::new(FakeMemory::default(), &mut f).unwrap();
        // 4 KiB head, then a 2 MiB block, then 1 GiB blocks, then 4 KiB tail.
        let start = 0x4000_0000 - 0x20_1000;
        let len = 0x20_1000 + 0x8000_0000 + 0x3000;
        t.map(start, start, len, Attributes::DATA, &mut f).unwrap();
        assert_eq!(t.translate(start), Some((start, 1)));
        assert_eq!(t.translate(start + 0x1000), Some((start + 0x1000, 2)));
        assert_eq!(t.translate(0x4000_0000 + 0x1234), Some((0x4000_1234, 3)));
        assert_eq!(t.translate(0xc000_2fff), Some((0xc000_2fff, 1)));
        assert_eq!(t.translate(0xc000_3000), None);
        assert_eq!(t.translate(start - 1), None);
    }

    #[test]
    fn page_runs_cross_leaf_tables() {
        let mut f = frames();
        let mut t = Table::new(FakeMemory::default(), &mut f).unwrap();
        // Physical address not 2 MiB-aligned: every page is a 4 KiB page, across three tables.
        let virt = 0x1f_f000;
        let phys = 0x8000_1000;
        let len = 0x40_2000;
        t.map(virt, phys, len, Attributes::DATA, &mut f).unwrap();
        for offset in (0..len).step_by(0x1000) {
            assert_eq!(t.translate(virt + offset), Some((phys + offset, 1)));
        }
        assert_eq!(t.translate(virt + len), None);
        assert_eq!(t.translate(virt - 0x1000), None);
        // Overlap in the middle of a run reports the first mapped address.
        assert_eq!(
            t.map(virt - 0x2000, 0x1000, 0x4000, Attributes::DATA, &mut f),
            Err(PagingError::AlreadyMapped(virt))
        );
    }

    #[test]
    fn high_half_offset_mapping() {
        let mut f = frames();
        let mut t = Table::new(FakeMemory::default(), &mut f).unwrap();
        let virt = 0xffff_ffff_8010_0000;
        t.map(virt, 0x10_0000, 0x5000, Attributes::CODE, &mut f).unwrap();
        assert_eq!(t.translate(virt + 0x4abc), Some((0x10_4abc, 1)));
        assert_eq!(t.translate(0x10_0000), None);
    }

    #[test]
    fn rejects_bad_requests() {
        let mut f = frames();
        let mut t = Table::new(FakeMemory::default(), &mut f).unwrap();
        assert!(matches!(
            t.map(0x1001, 0x1000, 0x1000, Attributes::DATA, &mut f),
            Err(PagingError::Misaligned { .. })
        ));
        assert!(matches!(
            t.map(0x1000, 0x1000, 0x800, Attributes::DATA, &mut f),
            Err(PagingError::Misaligned { .. })
        ));
        assert_eq!(
            t.map(u64::MAX - 0xfff, 0, 0x2000, Attributes::DATA, &mut f),
            Err(PagingError::Overflow)
        );
        t.map(0x20_0000, 0x20_0000, 0x20_0000, Attributes::DATA, &mut f).unwrap();
        // Overlap with a block, from a page inside it.
        assert_eq!(
            t.map(0x20_1000, 0x1000, 0x1000, Attributes::DATA, &mut f),
            Err(PagingError::AlreadyMapped(0x20_1000))
        );
        t.map(0x1000, 0x1000, 0x1000, Attributes::DATA, &mut f).unwrap();
        assert_eq!(
            t.map(0x1000, 0x5000, 0x1000, Attributes::DATA, &mut f),
            Err(PagingError::AlreadyMapped(0x1000))
        );
        // A block over a range that already holds a page table below it.
        assert_eq!(
            t.map(0, 0, 0x20_0000, Attributes::DATA, &mut f),
            Err(PagingError::AlreadyMapped(0))
        );
    }

    #[test]
    fn runs_out_of_frames_cleanly() {
        let mut map = MemoryMap::new();
        map.add(PhysRange::new(0x1000, 0x3000)).unwrap(); // root + one table
        let mut f = FrameAllocator::new(map);
        let mut t = Table::new(FakeMemory::default(), &mut f).unwrap();
        assert_eq!(
            t.map(0x1000, 0x1000, 0x1000, Attributes::DATA, &mut f),
            Err(PagingError::OutOfFrames)
        );
    }

    #[test]
    fn kernel_image_is_w_xor_x_with_guard_page() {
        let mut f = frames();
        let mut t = Table::new(FakeMemory::default(), &mut f).unwrap();
        let base = 0xffff_ffff_8000_0000u64;
        let image = KernelImage {
            text: base + 0x10_0000..base + 0x10_3000,
            rodata: base + 0x10_3000..base + 0x10_5000,
            data: base + 0x10_5000..base + 0x10_7000,
            stack: base + 0x10_8000..base + 0x11_0000,
            virt_minus_phys: base,
        };
        map_kernel_image(&mut t, &image, &mut f).unwrap();
        let perm = |v: u64| t.leaf_entry(v).map(|e| (e >> 2) & 3);
        assert_eq!(perm(image.text.start), Some(1));
        assert_eq!(perm(image.rodata.start), Some(2));
        assert_eq!(perm(image.data.start + 0x1000), Some(3));
        assert_eq!(perm(image.stack.end - 8), Some(3));
        assert_eq!(t.translate(base + 0x10_7000), None, "guard page must stay unmapped");
        assert_eq!(t.translate(image.text.start), Some((0x10_0000, 1)));
    }
}
