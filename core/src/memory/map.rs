//! The physical memory map: which RAM is free to use.
//!
//! A platform builds a [`MemoryMap`] from what the boot hands over (the PVH memory map, the DTB's
//! `/memory` nodes …), then carves out what is taken (the kernel image, the DTB, firmware
//! reservations). What remains is free RAM for the frame allocator and the heap.
//!
//! The map works before any heap exists, so it keeps its regions in a fixed array; a boot that
//! describes more regions than that gets [`MapError::TooManyRegions`], not silent truncation.
//! Everything given to it is *claimed* by firmware, so inverted or overflowing ranges are
//! rejected with an error naming the range.

use super::{PhysRange, PAGE_SIZE};

/// How many disjoint free regions a map can hold.
pub const MAX_REGIONS: usize = 64;

/// Why a memory map could not be built.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum MapError {
    /// More disjoint regions than [`MAX_REGIONS`].
    TooManyRegions,
    /// A range whose end lies before its start, or that runs past the address space.
    InvalidRange(PhysRange),
}

impl core::fmt::Display for MapError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            MapError::TooManyRegions => {
                write!(f, "memory map has more than {MAX_REGIONS} disjoint regions")
            }
            MapError::InvalidRange(r) => write!(f, "invalid memory range {r}"),
        }
    }
}

impl core::error::Error for MapError {}

/// A set of free, page-aligned, disjoint physical ranges, kept sorted by address.
#[derive(Clone, Debug)]
pub struct MemoryMap {
    regions: [PhysRange; MAX_REGIONS],
    count: usize,
}

impl Default for MemoryMap {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryMap {
    /// An empty map.
    pub const fn new() -> Self {
        Self { regions: [PhysRange::new(0, 0); MAX_REGIONS], count: 0 }
    }

    /// The free regions, sorted by address, disjoint and page-aligned.
    pub fn regions(&self) -> &[PhysRange] {
        &self.regions[..self.count]
    }

    /// Total free bytes.
    pub fn total(&self) -> u64 {
        self.regions().iter().map(PhysRange::len).sum()
    }

    /// Adds usable RAM. The range is shrunk to whole pages; overlapping or adjacent regions merge.
    pub fn add(&mut self, range: PhysRange) -> Result<(), MapError> {
        if range.end < range.start {
            return Err(MapError::InvalidRange(range));
        }
        let range = range.shrink_to_pages();
        if range.is_empty() {
            return Ok(());
        }
        // Merge every region that overlaps or touches `range` into it, then insert it.
        let mut merged = range;
        let mut i = 0;
        while i < self.count {
            let r = self.regions[i];
            if r.end >= merged.start && r.start <= merged.end {
                merged.start = merged.start.min(r.start);
                merged.end = merged.end.max(r.end);
                self.remove_at(i);
            } else {
                i += 1;
            }
        }
        self.insert_sorted(merged)
    }

    /// Takes `range` out of the free memory (grown to whole pages): for the kernel image, a DTB,
    /// firmware reservations. Reserving memory that is not in the map is not an error.
    pub fn reserve(&mut self, range: PhysRange) -> Result<(), MapError> {
        if range.end < range.start {
            return Err(MapError::InvalidRange(range));
        }
        let hole = range.grow_to_pages();
        if hole.is_empty() {
            return Ok(());
        }
        let mut i = 0;
        while i < self.count {
            let r = self.regions[i];
            if r.end <= hole.start || r.start >= hole.end {
                i += 1;
                continue;
            }
            self.remove_at(i);
            let below = PhysRange::new(r.start, hole.start);
            let above = PhysRange::new(hole.end, r.end);
            if !above.is_empty() && above.start >= r.start {
                self.insert_sorted(above)?;
            }
            if !below.is_empty() && below.end <= r.end {
                self.insert_sorted(below)?;
            }
            // The pieces sort before or after index i; restart the scan from the start of the
            // pieces, which cannot overlap the hole.
            i = 0;
        }
        Ok(())
    }

    /// Removes and returns a page-aligned block of `len` bytes aligned to `align` (a power of two,
    /// at least a page), taken from the top of the highest region that can hold it.
    ///
    /// Taking from the top keeps low memory (which some devices and trampolines need) free.
    pub fn take(&mut self, len: u64, align: u64) -> Option<PhysRange> {
        self.take_below(len, align, u64::MAX)
    }

    /// Like [`take`](Self::take), but the block must end at or below `limit` (for memory that
    /// must be reachable through an early, partial mapping).
    pub fn take_below(&mut self, len: u64, align: u64, limit: u64) -> Option<PhysRange> {
        let align = align.max(PAGE_SIZE);
        let len = super::align_up(len, PAGE_SIZE)?;
        for i in (0..self.count).rev() {
            let r = self.regions[i];
            let top = r.end.min(super::align_down(limit, PAGE_SIZE));
            let Some(start) = top.checked_sub(len) else { continue };
            let start = super::align_down(start, align);
            if start >= r.start {
                let block = PhysRange::from_start_len(start, len);
                // Alignment may leave a gap above the block, splitting the region in two: in a
                // full map that fails, and the block is then not taken.
                if self.reserve(block).is_err() {
                    return None;
                }
                return Some(block);
            }
        }
        None
    }

    fn remove_at(&mut self, index: usize) {
        self.regions.copy_within(index + 1..self.count, index);
        self.count -= 1;
    }

    fn insert_sorted(&mut self, range: PhysRange) -> Result<(), MapError> {
        if self.count == MAX_REGIONS {
            return Err(MapError::TooManyRegions);
        }
        let at = self.regions[..self.count].partition_point(|r| r.start < range.start);
        self.regions.copy_within(at..self.count, at + 1);
        self.regions[at] = range;
        self.count += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ranges(map: &MemoryMap) -> Vec<(u64, u64)> {
        map.regions().iter().map(|r| (r.start, r.end)).collect()
    }

    #[test]
    fn add_aligns_and_merges() {
        let mut map = MemoryMap::new();
        map.add(PhysRange::new(0x1001, 0x5fff)).unwrap();
        assert_eq!(ranges(&map), [(0x2000, 0x5000)]);
        map.add(PhysRange::new(0x5000, 0x8000)).unwrap();
        map.add(PhysRange::new(0x10000, 0x20000)).unwrap();
        map.add(PhysRange::new(0x0, 0x1000)).unwrap();
        assert_eq!(ranges(&map), [(0x0, 0x1000), (0x2000, 0x8000), (0x10000, 0x20000)]);
        // Overlapping two regions at once.
        map.add(PhysRange::new(0x7000, 0x11000)).unwrap();
        assert_eq!(ranges(&map), [(0x0, 0x1000), (0x2000, 0x20000)]);
        assert_eq!(map.total(), 0x1000 + 0x1e000);
    }

    #[test]
    fn tiny_and_inverted_ranges() {
        let mut map = MemoryMap::new();
        map.add(PhysRange::new(0x1001, 0x1fff)).unwrap();
        assert!(map.regions().is_empty());
        assert_eq!(
            map.add(PhysRange::new(0x2000, 0x1000)),
            Err(MapError::InvalidRange(PhysRange::new(0x2000, 0x1000)))
        );
        assert!(map.reserve(PhysRange::new(5, 4)).is_err());
        // A range running to the very top of the address space is fine.
        map.add(PhysRange::new(u64::MAX - 0x3000, u64::MAX)).unwrap();
        assert_eq!(map.total(), 0x2000);
    }

    #[test]
    fn reserve_splits_and_trims() {
        let mut map = MemoryMap::new();
        map.add(PhysRange::new(0x0, 0x10000)).unwrap();
        map.add(PhysRange::new(0x20000, 0x30000)).unwrap();
        map.reserve(PhysRange::new(0x4800, 0x5001)).unwrap(); // grows to [0x4000, 0x6000)
        assert_eq!(ranges(&map), [(0x0, 0x4000), (0x6000, 0x10000), (0x20000, 0x30000)]);
        map.reserve(PhysRange::new(0x0, 0x1000)).unwrap();
        map.reserve(PhysRange::new(0xf000, 0x21000)).unwrap(); // spans a gap
        assert_eq!(ranges(&map), [(0x1000, 0x4000), (0x6000, 0xf000), (0x21000, 0x30000)]);
        map.reserve(PhysRange::new(0x40000, 0x50000)).unwrap(); // outside: no effect
        map.reserve(PhysRange::new(0x0, 0x100000)).unwrap();
        assert!(map.regions().is_empty());
    }

    #[test]
    fn too_many_regions_is_an_error() {
        let mut map = MemoryMap::new();
        for i in 0..MAX_REGIONS as u64 {
            map.add(PhysRange::from_start_len(i * 0x10000, 0x1000)).unwrap();
        }
        assert_eq!(
            map.add(PhysRange::from_start_len(0x1000_0000, 0x1000)),
            Err(MapError::TooManyRegions)
        );
        // Splitting a full map fails the same way rather than losing memory.
        let mut full = MemoryMap::new();
        full.add(PhysRange::new(0, 0x1000_0000)).unwrap();
        for i in 1..MAX_REGIONS as u64 {
            full.reserve(PhysRange::from_start_len(i * 0x10000, 0x1000)).unwrap();
        }
        assert_eq!(
            full.reserve(PhysRange::from_start_len(0x800_0000, 0x1000)),
            Err(MapError::TooManyRegions)
        );
    }

    #[test]
    fn take_from_the_top_with_alignment() {
        let mut map = MemoryMap::new();
        map.add(PhysRange::new(0x1000, 0x600000)).unwrap();
        let block = map.take(0x1000, 0x1000).unwrap();
        assert_eq!(block, PhysRange::new(0x5ff000, 0x600000));
        let big = map.take(0x200000, 0x200000).unwrap();
        assert_eq!(big, PhysRange::new(0x200000, 0x400000));
        assert_eq!(ranges(&map), [(0x1000, 0x200000), (0x400000, 0x5ff000)]);
        assert!(map.take(0x400000, 0x1000).is_none());
        assert_eq!(map.total(), 0x5ff000 - 0x1000 - 0x200000);
        let low = map.take_below(0x1000, 0x1000, 0x3000).unwrap();
        assert_eq!(low, PhysRange::new(0x2000, 0x3000));
        assert!(map.take_below(0x1000, 0x1000, 0x1800).is_none());
    }
}
