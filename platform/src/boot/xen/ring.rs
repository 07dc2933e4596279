//! One direction of a byte ring in a page shared with another domain, and its event channel.
//!
//! [`RingHalf`] is the memory side of `rivet_xen_abi::byte_ring`'s protocol over a mapped page
//! (however the boot environment mapped it); [`notify`] signals the other end.

use core::sync::atomic::{fence, AtomicU32, Ordering};
use rivet_arch::xen_pv::hypercall;
use rivet_xen_abi::byte_ring::SharedBytes;
use rivet_xen_abi::hypercall as hc;
use rivet_xen_abi::EvtchnSend;

/// Signals event channel `port` (`EVTCHNOP_send`); a refused send is ignored (the other end
/// then only sees the data when it looks next).
pub(crate) fn notify(port: u32) {
    let send = EvtchnSend { port };
    // SAFETY: `send` is a readable `evtchn_send` for the duration of the call (obligation 2).
    unsafe { hypercall(hc::EVENT_CHANNEL_OP, hc::EVTCHNOP_SEND, &raw const send as u64, 0, 0, 0) };
}

/// One direction of a byte ring in a mapped shared page.
pub(crate) struct RingHalf {
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
    pub(crate) unsafe fn new(
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
