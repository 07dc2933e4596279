//! The physical frame allocator.
//!
//! Frames come from the free regions of a [`MemoryMap`]: allocating takes from the top of the
//! highest region that fits, freeing gives the range back and merges it with its neighbours. This
//! is the allocator of last resort for page tables and, later, stacks and DMA buffers; the heap
//! ([`buddy_system_allocator`](https://docs.rs/buddy_system_allocator)) is fed from it at boot.
//! It is first-fit over at most [`MAX_REGIONS`](super::map::MAX_REGIONS) regions, so an
//! allocation costs O(regions): fine for boot-time use, not for a hot path.

use super::map::{MapError, MemoryMap};
use super::{PhysRange, PAGE_SIZE};

/// Hands out zero or more physically contiguous 4 KiB frames.
pub trait FrameSource {
    /// Allocates `count` contiguous frames aligned to `align` bytes (at least a page), or `None`
    /// when no free range is large enough.
    fn allocate_frames(&mut self, count: u64, align: u64) -> Option<PhysRange>;

    /// Allocates one frame.
    fn allocate_frame(&mut self) -> Option<u64> {
        self.allocate_frames(1, PAGE_SIZE).map(|r| r.start)
    }
}

/// A [`FrameSource`] limited to frames that end at or below an address, e.g. page tables that
/// must be reachable through the boot code's partial identity map.
pub struct FramesBelow<'a> {
    /// Where the frames come from.
    pub frames: &'a mut FrameAllocator,
    /// Highest address (exclusive) a frame may reach.
    pub limit: u64,
}

impl FrameSource for FramesBelow<'_> {
    fn allocate_frames(&mut self, count: u64, align: u64) -> Option<PhysRange> {
        let len = count.checked_mul(PAGE_SIZE)?;
        if len == 0 {
            return None;
        }
        self.frames.free.take_below(len, align, self.limit)
    }
}

/// A frame allocator over the free regions of a memory map.
#[derive(Clone, Debug)]
pub struct FrameAllocator {
    free: MemoryMap,
}

impl FrameAllocator {
    /// An allocator owning the free memory in `free`.
    pub fn new(free: MemoryMap) -> Self {
        Self { free }
    }

    /// Returns frames to the allocator. The caller must own them (they came from this allocator,
    /// or are RAM no one else uses); giving back memory twice would hand it out twice.
    pub fn free(&mut self, frames: PhysRange) -> Result<(), MapError> {
        self.free.add(frames)
    }

    /// Free bytes left.
    pub fn free_bytes(&self) -> u64 {
        self.free.total()
    }

    /// The free regions left.
    pub fn free_regions(&self) -> &[PhysRange] {
        self.free.regions()
    }

    /// Removes and returns the largest free region, e.g. to hand it to the heap.
    pub fn take_largest(&mut self) -> Option<PhysRange> {
        let largest = *self.free.regions().iter().max_by_key(|r| r.len())?;
        self.free.reserve(largest).ok()?;
        Some(largest)
    }
}

impl FrameSource for FrameAllocator {
    fn allocate_frames(&mut self, count: u64, align: u64) -> Option<PhysRange> {
        let len = count.checked_mul(PAGE_SIZE)?;
        if len == 0 {
            return None;
        }
        self.free.take(len, align)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allocate_free_and_exhaust() {
        let mut map = MemoryMap::new();
        map.add(PhysRange::new(0x10_0000, 0x10_4000)).unwrap();
        let mut frames = FrameAllocator::new(map);
        let a = frames.allocate_frame().unwrap();
        let b = frames.allocate_frame().unwrap();
        assert_ne!(a, b);
        assert_eq!(a % PAGE_SIZE, 0);
        assert_eq!(frames.free_bytes(), 0x2000);
        assert!(frames.allocate_frames(3, PAGE_SIZE).is_none());
        assert!(frames.allocate_frames(0, PAGE_SIZE).is_none());
        assert!(frames.allocate_frames(u64::MAX, PAGE_SIZE).is_none());
        frames.free(PhysRange::from_start_len(a, PAGE_SIZE)).unwrap();
        frames.free(PhysRange::from_start_len(b, PAGE_SIZE)).unwrap();
        assert_eq!(frames.free_regions(), [PhysRange::new(0x10_0000, 0x10_4000)]);
        let all = frames.allocate_frames(4, PAGE_SIZE).unwrap();
        assert_eq!(all, PhysRange::new(0x10_0000, 0x10_4000));
        assert!(frames.allocate_frame().is_none());
    }

    #[test]
    fn take_largest_region() {
        let mut map = MemoryMap::new();
        map.add(PhysRange::new(0x1000, 0x3000)).unwrap();
        map.add(PhysRange::new(0x10000, 0x80000)).unwrap();
        let mut frames = FrameAllocator::new(map);
        assert_eq!(frames.take_largest(), Some(PhysRange::new(0x10000, 0x80000)));
        assert_eq!(frames.take_largest(), Some(PhysRange::new(0x1000, 0x3000)));
        assert_eq!(frames.take_largest(), None);
    }
}
