//! Pages shared with Xen or another domain, and the byte rings inside them.
//!
//! A PV guest sees a shared page (the shared info, the console ring, the xenstore ring) as a
//! machine frame number. [`map_frame`] maps such a frame over a page-aligned slot of the image's
//! `.bss` with `update_va_mapping` (the slot's own frame is given up, as Linux's `set_fixmap`
//! does): the address is then fixed at link time, whatever the domain's size. [`RingHalf`] is one
//! direction of a byte ring in such a page, the memory side of `rivet_xen_abi::byte_ring`'s
//! protocol; [`notify`] signals the other end through the ring's event channel.

use core::sync::atomic::{fence, AtomicU32, Ordering};
use rivet_arch::xen_pv::hypercall;
use rivet_xen_abi::byte_ring::SharedBytes;
use rivet_xen_abi::hypercall as hc;
use rivet_xen_abi::EvtchnSend;

/// A page of the image that a shared frame is mapped over.
#[repr(C, align(4096))]
pub(super) struct PageSlot(pub(super) [u8; 4096]);

impl PageSlot {
    /// A slot of zeros (for `static mut`).
    pub(super) const fn new() -> Self {
        Self([0; 4096])
    }
}

/// Page-table entry bits: present, writable, accessed, dirty.
const PTE_DATA: u64 = 0x63;

/// Maps machine frame `mfn` at `slot` (read-write, not executable where the CPU has NX).
/// Returns Xen's error when it refuses (a frame the domain does not own).
///
/// # Safety
/// `slot` must be a [`PageSlot`] in the image that nothing accesses through the old mapping
/// from now on (only through the pointer, after this call).
pub(super) unsafe fn map_frame(slot: *mut PageSlot, mfn: u64) -> Result<(), i64> {
    let no_execute =
        if rivet_arch::cpu::cpuid(0x8000_0001).edx & (1 << 20) != 0 { 1 << 63 } else { 0 };
    // SAFETY: `slot` is a page of the image nobody uses through its old frame (the caller's
    // promise); Xen validates that the domain owns `mfn` (hypercall obligation 2).
    let result = unsafe {
        hypercall(
            hc::UPDATE_VA_MAPPING,
            slot as u64,
            (mfn << 12) | PTE_DATA | no_execute,
            hc::UVMF_INVLPG,
            0,
            0,
        )
    };
    if result == 0 {
        Ok(())
    } else {
        Err(result)
    }
}

/// Signals event channel `port` (`EVTCHNOP_send`); a refused send is ignored (the other end
/// then only sees the data when it looks next).
pub(super) fn notify(port: u32) {
    let send = EvtchnSend { port };
    // SAFETY: `send` is a readable `evtchn_send` for the duration of the call (obligation 2).
    unsafe { hypercall(hc::EVENT_CHANNEL_OP, hc::EVTCHNOP_SEND, &raw const send as u64, 0, 0, 0) };
}

/// One direction of a byte ring in a mapped shared page.
pub(super) struct RingHalf {
    data: *mut u8,
    size: u32,
    producer: *mut u32,
    consumer: *mut u32,
}

// SAFETY: the pointers are into a shared page mapped for the rest of the run; every access goes
// through atomics or raw copies of the ring's bytes, whose ownership the protocol's indexes
// decide (callers serialise each side: one lock per ring).
unsafe impl Send for RingHalf {}
// SAFETY: as above.
unsafe impl Sync for RingHalf {}

impl RingHalf {
    /// The ring of `size` bytes at `data` with its indexes at `producer` and `consumer`.
    ///
    /// # Safety
    /// All three must point into a shared page mapped for the rest of the run, `data` to `size`
    /// bytes (a power of two), the indexes to aligned `u32`s outside the data.
    pub(super) unsafe fn new(
        data: *mut u8,
        size: u32,
        producer: *mut u32,
        consumer: *mut u32,
    ) -> Self {
        Self { data, size, producer, consumer }
    }

    fn index(pointer: *mut u32) -> &'static AtomicU32 {
        // SAFETY: `new`'s contract: an aligned u32 in a page mapped for the rest of the run; the
        // other domain only accesses it with aligned 32-bit reads and writes.
        unsafe { AtomicU32::from_ptr(pointer) }
    }
}

impl SharedBytes for RingHalf {
    fn size(&self) -> u32 {
        self.size
    }

    fn producer(&self) -> u32 {
        // Acquire: the bytes up to this index are read after it (the consumer's `rmb`).
        Self::index(self.producer).load(Ordering::Acquire)
    }

    fn consumer(&self) -> u32 {
        // Acquire: the other side's reads of the freed bytes happen before we overwrite them.
        Self::index(self.consumer).load(Ordering::Acquire)
    }

    fn set_producer(&self, index: u32) {
        fence(Ordering::Release);
        Self::index(self.producer).store(index, Ordering::Release);
    }

    fn set_consumer(&self, index: u32) {
        fence(Ordering::Release);
        Self::index(self.consumer).store(index, Ordering::Release);
    }

    fn write_at(&self, offset: usize, bytes: &[u8]) {
        debug_assert!(offset + bytes.len() <= self.size as usize);
        // SAFETY: `byte_ring` only writes within the array (`offset + len <= size`), in the part
        // the consumer index says is free: the other side does not read it until we publish.
        unsafe {
            core::ptr::copy_nonoverlapping(bytes.as_ptr(), self.data.add(offset), bytes.len())
        };
    }

    fn read_at(&self, offset: usize, out: &mut [u8]) {
        debug_assert!(offset + out.len() <= self.size as usize);
        // SAFETY: within the array (as above), in the part the producer index says is written
        // and not yet consumed: the other side does not change it until we publish.
        unsafe {
            core::ptr::copy_nonoverlapping(self.data.add(offset), out.as_mut_ptr(), out.len())
        };
    }
}
