//! Physical memory: the memory map, the frame allocator and the page-table builder.

pub mod frame;
pub mod map;
pub mod paging;

/// The size of a page and of a physical frame: 4 KiB on every Rivet target.
pub const PAGE_SIZE: u64 = 4096;

/// Rounds `value` down to a multiple of `align` (a power of two).
pub const fn align_down(value: u64, align: u64) -> u64 {
    value & !(align - 1)
}

/// Rounds `value` up to a multiple of `align` (a power of two), or `None` on overflow.
pub const fn align_up(value: u64, align: u64) -> Option<u64> {
    match value.checked_add(align - 1) {
        Some(v) => Some(v & !(align - 1)),
        None => None,
    }
}

/// A half-open range of physical addresses `[start, end)`.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct PhysRange {
    /// First byte of the range.
    pub start: u64,
    /// One past the last byte of the range.
    pub end: u64,
}

impl PhysRange {
    /// The range `[start, end)`.
    pub const fn new(start: u64, end: u64) -> Self {
        Self { start, end }
    }

    /// The range of `len` bytes starting at `start`, saturating at the top of the address space.
    pub const fn from_start_len(start: u64, len: u64) -> Self {
        Self { start, end: start.saturating_add(len) }
    }

    /// Number of bytes in the range (0 for an empty or inverted range).
    pub const fn len(&self) -> u64 {
        self.end.saturating_sub(self.start)
    }

    /// Whether the range holds no byte.
    pub const fn is_empty(&self) -> bool {
        self.end <= self.start
    }

    /// Whether `addr` lies inside the range.
    pub const fn contains(&self, addr: u64) -> bool {
        self.start <= addr && addr < self.end
    }

    /// The largest page-aligned range inside this one.
    pub const fn shrink_to_pages(&self) -> Self {
        let start = match align_up(self.start, PAGE_SIZE) {
            Some(s) => s,
            None => u64::MAX,
        };
        Self { start, end: align_down(self.end, PAGE_SIZE) }
    }

    /// The smallest page-aligned range covering this one.
    pub const fn grow_to_pages(&self) -> Self {
        let end = match align_up(self.end, PAGE_SIZE) {
            Some(e) => e,
            None => align_down(u64::MAX, PAGE_SIZE),
        };
        Self { start: align_down(self.start, PAGE_SIZE), end }
    }
}

impl core::fmt::Display for PhysRange {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "[{:#x}, {:#x})", self.start, self.end)
    }
}
