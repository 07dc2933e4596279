//! x86 port I/O: a range of I/O ports behind one unsafe constructor.
//!
//! Drivers stay CPU-neutral: a driver such as `rivet-ns16550` reads and writes registers through a
//! trait, and the platform implements that trait over an [`IoPorts`] range. Only this module
//! executes `in` / `out`, through the `x86_64` crate.

use x86_64::instructions::port::Port;

/// A contiguous range of 8-bit I/O ports owned by one device.
#[derive(Debug)]
pub struct IoPorts {
    base: u16,
    count: u16,
}

impl IoPorts {
    /// The `count` ports starting at `base`.
    ///
    /// # Safety
    /// 1. Ports `base..base + count` belong to one device the caller is entitled to drive, or to
    ///    nothing (unused ISA ports read 0xff and ignore writes), and no access to them can break
    ///    memory safety (no DMA is programmed through them).
    /// 2. Nothing else drives those ports while this value exists.
    pub unsafe fn new(base: u16, count: u16) -> Self {
        Self { base, count }
    }

    /// Reads the byte at port `base + offset`; offsets past the range read as 0xff, like an
    /// unused port.
    pub fn read_u8(&self, offset: u16) -> u8 {
        if offset >= self.count {
            return 0xff;
        }
        let mut port = Port::<u8>::new(self.base.wrapping_add(offset));
        // SAFETY: the port is inside the range `new`'s caller vouched for (obligations 1 and 2).
        unsafe { port.read() }
    }

    /// Writes the byte at port `base + offset`; offsets past the range are ignored.
    pub fn write_u8(&self, offset: u16, value: u8) {
        if offset >= self.count {
            return;
        }
        let mut port = Port::<u8>::new(self.base.wrapping_add(offset));
        // SAFETY: as in `read_u8`.
        unsafe { port.write(value) }
    }

    /// Reads the 32-bit word at ports `base + offset ..+ 4`; past the range it reads as all ones.
    pub fn read_u32(&self, offset: u16) -> u32 {
        if u32::from(offset) + 4 > u32::from(self.count) {
            return u32::MAX;
        }
        let mut port = Port::<u32>::new(self.base.wrapping_add(offset));
        // SAFETY: the ports are inside the range `new`'s caller vouched for (obligations 1, 2).
        unsafe { port.read() }
    }

    /// Writes the 32-bit word at ports `base + offset ..+ 4`; past the range it is ignored.
    pub fn write_u32(&self, offset: u16, value: u32) {
        if u32::from(offset) + 4 > u32::from(self.count) {
            return;
        }
        let mut port = Port::<u32>::new(self.base.wrapping_add(offset));
        // SAFETY: as in `read_u32`.
        unsafe { port.write(value) }
    }
}
