//! Xen's shared I/O rings (`io/ring.h`), the front end's side, checked.
//!
//! A shared ring is one page: a 64-byte [`SharedRingHeader`] (`req_prod`, `req_event`,
//! `rsp_prod`, `rsp_event`, padding) and then a power-of-two number of entries, each the union
//! of a request and a response. The front end produces requests and consumes responses; indexes
//! are free-running `u32`s (they wrap), the slot of index `i` is `i & (size - 1)`.
//!
//! [`FrontRing`] is `ring.h`'s `struct *_front_ring` without the pointer: the private request
//! producer and the response consumer. The two notification protocols, which interleave reads
//! and writes of the shared header with full barriers, are written once over [`SharedIndexes`]
//! (the platform's or driver's view of the header): [`push_requests_and_check_notify`] and
//! [`final_check_for_responses`].
//!
//! The back end is not trusted: a `rsp_prod` that claims more responses than requests are
//! outstanding (ahead of `rsp_cons` by more than that, or behind it, which wraps to a huge
//! distance) is a [`RingError`] the caller logs and never turns into a slot index. The slot of a
//! response is always masked, so even a logic slip cannot index out of the ring.
//!
//! Weak spots: the back end's side (`back_ring`) is not here: Rivet has no back ends.

use core::fmt;

/// `struct *_sring`'s header: what precedes the entries in the shared page.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct SharedRingHeader {
    /// Requests produced (written by the front end).
    pub req_prod: u32,
    /// The back end wants an event when `req_prod` passes this.
    pub req_event: u32,
    /// Responses produced (written by the back end).
    pub rsp_prod: u32,
    /// The front end wants an event when `rsp_prod` passes this.
    pub rsp_event: u32,
    /// `pvt`: a per-protocol byte area (netif's `smartpoll_active`), zero.
    pub pvt: [u8; 4],
    /// `__pad`.
    pub pad: [u8; 44],
}

/// Byte offset of `req_prod` in the shared page.
pub const REQ_PROD_OFFSET: usize = core::mem::offset_of!(SharedRingHeader, req_prod);
/// Byte offset of `req_event`.
pub const REQ_EVENT_OFFSET: usize = core::mem::offset_of!(SharedRingHeader, req_event);
/// Byte offset of `rsp_prod`.
pub const RSP_PROD_OFFSET: usize = core::mem::offset_of!(SharedRingHeader, rsp_prod);
/// Byte offset of `rsp_event`.
pub const RSP_EVENT_OFFSET: usize = core::mem::offset_of!(SharedRingHeader, rsp_event);
/// Byte offset of entry 0 (`offsetof(struct *_sring, ring)`).
pub const ENTRIES_OFFSET: usize = core::mem::size_of::<SharedRingHeader>();

/// `__CONST_RING_SIZE`: entries of `entry_size` bytes in a ring page of `page_size` bytes,
/// rounded down to a power of two (0 if none fits).
pub const fn entries_in(page_size: usize, entry_size: usize) -> u32 {
    if page_size <= ENTRIES_OFFSET || entry_size == 0 {
        return 0;
    }
    let fit = (page_size - ENTRIES_OFFSET) / entry_size;
    if fit == 0 {
        0
    } else {
        1 << (usize::BITS - 1 - fit.leading_zeros())
    }
}

/// Byte offset in the shared page of the entry in `slot` (a masked index).
pub const fn entry_offset(slot: u32, entry_size: usize) -> usize {
    ENTRIES_OFFSET + slot as usize * entry_size
}

/// The back end broke the ring protocol.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RingError {
    /// `rsp_prod` claims responses to requests that were never made (ahead of `rsp_cons` by more
    /// than the outstanding requests), or runs behind `rsp_cons`. The back end's fault; the
    /// values are the evidence. The caller should log it and treat the ring as broken.
    ImplausibleResponseProducer {
        /// The shared `rsp_prod` as read.
        rsp_prod: u32,
        /// The front end's consumer.
        rsp_cons: u32,
        /// The front end's private producer.
        req_prod_pvt: u32,
    },
}

impl fmt::Display for RingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ImplausibleResponseProducer { rsp_prod, rsp_cons, req_prod_pvt } => write!(
                f,
                "back end's rsp_prod {rsp_prod} is implausible (rsp_cons {rsp_cons}, \
                 req_prod_pvt {req_prod_pvt})"
            ),
        }
    }
}

impl core::error::Error for RingError {}

/// The front end's private ring state (`struct *_front_ring`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrontRing {
    /// Requests produced, pushed or not.
    req_prod_pvt: u32,
    /// Responses consumed.
    rsp_cons: u32,
    /// Entries, a power of two.
    size: u32,
}

impl FrontRing {
    /// A ring of `size` entries starting at index 0 (`FRONT_RING_INIT`).
    ///
    /// # Panics
    /// If `size` is not a power of two (a constant of the protocol, not input).
    pub const fn new(size: u32) -> Self {
        Self::attach(size, 0)
    }

    /// A ring of `size` entries whose indexes both start at `start` (`FRONT_RING_ATTACH`).
    ///
    /// # Panics
    /// If `size` is not a power of two.
    pub const fn attach(size: u32, start: u32) -> Self {
        assert!(size.is_power_of_two(), "a shared ring's size is a power of two");
        Self { req_prod_pvt: start, rsp_cons: start, size }
    }

    /// Entries (`RING_SIZE`).
    pub const fn size(&self) -> u32 {
        self.size
    }

    /// The private request producer (`req_prod_pvt`).
    pub const fn req_prod_pvt(&self) -> u32 {
        self.req_prod_pvt
    }

    /// The response consumer (`rsp_cons`).
    pub const fn rsp_cons(&self) -> u32 {
        self.rsp_cons
    }

    /// Requests made and not yet answered (consumed).
    pub const fn outstanding(&self) -> u32 {
        self.req_prod_pvt.wrapping_sub(self.rsp_cons)
    }

    /// Slots free for new requests (`RING_FREE_REQUESTS`).
    pub const fn free_requests(&self) -> u32 {
        self.size - self.outstanding()
    }

    /// Whether no request may be produced (`RING_FULL`).
    pub const fn is_full(&self) -> bool {
        self.free_requests() == 0
    }

    /// The slot for one new request, advancing `req_prod_pvt`; `None` if the ring is full.
    /// Write the request into the slot, then push with [`push_requests_and_check_notify`].
    pub fn produce_request(&mut self) -> Option<u32> {
        if self.is_full() {
            return None;
        }
        let slot = self.req_prod_pvt & (self.size - 1);
        self.req_prod_pvt = self.req_prod_pvt.wrapping_add(1);
        Some(slot)
    }

    /// Responses the back end has produced and the front end not consumed, given the shared
    /// `rsp_prod` (`RING_HAS_UNCONSUMED_RESPONSES`, checked).
    pub fn unconsumed_responses(&self, rsp_prod: u32) -> Result<u32, RingError> {
        let ready = rsp_prod.wrapping_sub(self.rsp_cons);
        if ready > self.outstanding() {
            return Err(RingError::ImplausibleResponseProducer {
                rsp_prod,
                rsp_cons: self.rsp_cons,
                req_prod_pvt: self.req_prod_pvt,
            });
        }
        Ok(ready)
    }

    /// The slot of the next response, advancing `rsp_cons`; `None` if no request is outstanding.
    /// Call only as many times as [`unconsumed_responses`](Self::unconsumed_responses) allows;
    /// copy the response out of the slot once and validate the copy (the back end may rewrite
    /// the shared one).
    pub fn consume_response(&mut self) -> Option<u32> {
        if self.outstanding() == 0 {
            return None;
        }
        let slot = self.rsp_cons & (self.size - 1);
        self.rsp_cons = self.rsp_cons.wrapping_add(1);
        Some(slot)
    }
}

/// The shared header as the front end touches it. Loads are acquire and stores release (or
/// volatile accesses with the barriers `ring.h` puts around them); [`full_fence`] is `xen_mb`.
///
/// [`full_fence`]: SharedIndexes::full_fence
pub trait SharedIndexes {
    /// Reads `req_prod`.
    fn req_prod(&self) -> u32;
    /// Writes `req_prod` after every request before it is visible (`xen_wmb` then store).
    fn set_req_prod(&mut self, value: u32);
    /// Reads `req_event`.
    fn req_event(&self) -> u32;
    /// Reads `rsp_prod`; responses up to it are visible after this read (`xen_rmb`).
    fn rsp_prod(&self) -> u32;
    /// Writes `rsp_event`.
    fn set_rsp_event(&mut self, value: u32);
    /// A full memory barrier (`xen_mb`): stores before it are visible before loads after it.
    fn full_fence(&self);
}

/// `RING_PUSH_REQUESTS_AND_CHECK_NOTIFY`: publishes the requests produced so far and says
/// whether the back end asked to be notified of them (`req_event` within the new batch).
pub fn push_requests_and_check_notify(ring: &FrontRing, shared: &mut impl SharedIndexes) -> bool {
    let old = shared.req_prod();
    let new = ring.req_prod_pvt;
    shared.set_req_prod(new);
    shared.full_fence();
    notify_needed(old, new, shared.req_event())
}

/// The notification test of `RING_PUSH_*_AND_CHECK_NOTIFY`: did the producer move from `old` to
/// `new` across `event` (`new - event < new - old`, in wrapping arithmetic)?
pub const fn notify_needed(old: u32, new: u32, event: u32) -> bool {
    new.wrapping_sub(event) < new.wrapping_sub(old)
}

/// `RING_FINAL_CHECK_FOR_RESPONSES`: `Ok(true)` if responses are waiting; otherwise asks for an
/// event at the next response (`rsp_event = rsp_cons + 1`) and checks again, closing the race
/// with a back end that produced in between. `Ok(false)` means "sleep until the event".
pub fn final_check_for_responses(
    ring: &FrontRing,
    shared: &mut impl SharedIndexes,
) -> Result<bool, RingError> {
    if ring.unconsumed_responses(shared.rsp_prod())? > 0 {
        return Ok(true);
    }
    shared.set_rsp_event(ring.rsp_cons.wrapping_add(1));
    shared.full_fence();
    Ok(ring.unconsumed_responses(shared.rsp_prod())? > 0)
}

// gcc (x86_64) against the Xen 4.17 headers: `netif_tx_sring` and `netif_rx_sring` both put
// `req_event` at 4, `rsp_prod` at 8, `rsp_event` at 12, `pvt` at 16, `__pad` at 20, `ring` at 64.
const _: () = assert!(core::mem::size_of::<SharedRingHeader>() == 64);
const _: () = assert!(REQ_EVENT_OFFSET == 4 && RSP_PROD_OFFSET == 8 && RSP_EVENT_OFFSET == 12);
const _: () = assert!(core::mem::offset_of!(SharedRingHeader, pvt) == 16);
const _: () = assert!(core::mem::offset_of!(SharedRingHeader, pad) == 20);
const _: () = assert!(REQ_PROD_OFFSET == 0 && ENTRIES_OFFSET == 64);

#[cfg(test)]
mod tests {
    use super::*;

    /// A header in plain fields; counts the fences.
    #[derive(Default)]
    struct Header {
        req_prod: u32,
        req_event: u32,
        rsp_prod: u32,
        rsp_event: u32,
        fences: std::cell::Cell<u32>,
    }

    impl SharedIndexes for Header {
        fn req_prod(&self) -> u32 {
            self.req_prod
        }
        fn set_req_prod(&mut self, value: u32) {
            self.req_prod = value;
        }
        fn req_event(&self) -> u32 {
            self.req_event
        }
        fn rsp_prod(&self) -> u32 {
            self.rsp_prod
        }
        fn set_rsp_event(&mut self, value: u32) {
            self.rsp_event = value;
        }
        fn full_fence(&self) {
            self.fences.set(self.fences.get() + 1);
        }
    }

    #[test]
    fn sizes_match_the_headers() {
        // __CONST_RING_SIZE(netif_tx, 4096) and (netif_rx, 4096) as gcc printed them.
        assert_eq!(entries_in(4096, 12), 256);
        assert_eq!(entries_in(4096, 8), 256);
        assert_eq!(entries_in(4096, 64), 32);
        assert_eq!(entries_in(4096, 4096), 0);
        assert_eq!(entries_in(64, 8), 0);
        assert_eq!(entry_offset(255, 12), 64 + 255 * 12);
    }

    #[test]
    fn produce_until_full_then_consume() {
        let mut ring = FrontRing::new(4);
        let slots: Vec<u32> = std::iter::from_fn(|| ring.produce_request()).collect();
        assert_eq!(slots, [0, 1, 2, 3]);
        assert!(ring.is_full());
        assert_eq!(ring.unconsumed_responses(2), Ok(2));
        assert_eq!(ring.consume_response(), Some(0));
        assert_eq!(ring.free_requests(), 1);
        assert_eq!(ring.produce_request(), Some(0));
        assert_eq!(ring.produce_request(), None);
    }

    #[test]
    fn indexes_wrap_around_u32_max() {
        let start = u32::MAX - 5;
        let mut ring = FrontRing::attach(8, start);
        for round in 0..40u32 {
            let slot = ring.produce_request().unwrap();
            assert_eq!(slot, start.wrapping_add(round) & 7);
            let rsp_prod = ring.req_prod_pvt();
            assert_eq!(ring.unconsumed_responses(rsp_prod), Ok(1));
            assert_eq!(ring.consume_response(), Some(slot));
            assert_eq!(ring.unconsumed_responses(rsp_prod), Ok(0));
        }
        assert_eq!(ring.rsp_cons(), start.wrapping_add(40));
        assert_eq!(ring.free_requests(), 8);
    }

    #[test]
    fn implausible_rsp_prod_is_an_error_not_a_slot() {
        let mut ring = FrontRing::attach(8, u32::MAX - 1);
        for _ in 0..3 {
            ring.produce_request();
        }
        let cons = ring.rsp_cons();
        assert_eq!(ring.unconsumed_responses(cons.wrapping_add(3)), Ok(3));
        // Ahead of the outstanding requests, though within the ring's size.
        assert!(ring.unconsumed_responses(cons.wrapping_add(4)).is_err());
        // Far ahead, and behind (which wraps to a huge distance).
        assert!(ring.unconsumed_responses(cons.wrapping_add(1000)).is_err());
        assert!(ring.unconsumed_responses(cons.wrapping_sub(1)).is_err());
        // Nothing outstanding: nothing to consume, whatever is claimed.
        let mut idle = FrontRing::new(8);
        assert_eq!(idle.consume_response(), None);
        assert!(idle.unconsumed_responses(1).is_err());
    }

    #[test]
    fn push_notifies_only_when_the_back_end_asked() {
        let mut header = Header { req_event: 1, rsp_event: 1, ..Header::default() };
        let mut ring = FrontRing::new(8);
        ring.produce_request();
        // req_event 1: the back end waits for the first request.
        assert!(push_requests_and_check_notify(&ring, &mut header));
        assert_eq!(header.req_prod, 1);
        assert_eq!(header.fences.get(), 1);
        // The back end is busy and did not move req_event: no notification.
        ring.produce_request();
        assert!(!push_requests_and_check_notify(&ring, &mut header));
        // It asks for the next one (req_event = req_cons + 1 = 3) and we push two.
        header.req_event = 3;
        ring.produce_request();
        ring.produce_request();
        assert!(push_requests_and_check_notify(&ring, &mut header));
    }

    #[test]
    fn notify_test_wraps() {
        assert!(notify_needed(u32::MAX - 1, 2, u32::MAX));
        assert!(notify_needed(u32::MAX - 1, 2, 0));
        assert!(!notify_needed(u32::MAX - 1, 2, 3));
        assert!(!notify_needed(5, 5, 5));
    }

    #[test]
    fn final_check_asks_for_an_event_then_rechecks() {
        let mut header = Header::default();
        let mut ring = FrontRing::attach(8, u32::MAX);
        ring.produce_request();
        header.rsp_prod = u32::MAX;
        assert_eq!(final_check_for_responses(&ring, &mut header), Ok(false));
        assert_eq!(header.rsp_event, 0);
        assert_eq!(header.fences.get(), 1);
        header.rsp_prod = 0;
        assert_eq!(final_check_for_responses(&ring, &mut header), Ok(true));
        header.rsp_prod = 7;
        assert!(final_check_for_responses(&ring, &mut header).is_err());
    }
}
