//! One shared ring page with the front end's indexes and typed entries.
//!
//! [`RingPage`] joins a [`SharedPage`] and a [`FrontRing`]: requests are written field by field at
//! the offsets `netif.h` defines, responses are copied out field by field exactly once (the back
//! end may rewrite the slot; only the copy is validated). Slots come from `FrontRing` already
//! masked, so no value the back end writes can become an out-of-page offset.

use core::mem::offset_of;

use rivet_xen_abi::netif::{
    NetifRxRequest, NetifRxResponse, NetifTxRequest, NetifTxResponse, RX_ENTRY_SIZE, TX_ENTRY_SIZE,
};
use rivet_xen_abi::ring::{
    self, entry_offset, FrontRing, RingError, SharedIndexes, REQ_EVENT_OFFSET, REQ_PROD_OFFSET,
    RSP_EVENT_OFFSET, RSP_PROD_OFFSET,
};

use crate::platform::{GrantAccess, GrantRef, SharedPage};

/// A ring page and the front end's private indexes.
pub(crate) struct RingPage<P: SharedPage> {
    pub(crate) page: P,
    pub(crate) ring: FrontRing,
}

/// The shared header of a ring page, as `ring`'s protocols see it.
struct Header<'a, P: SharedPage>(&'a mut P);

impl<P: SharedPage> SharedIndexes for Header<'_, P> {
    fn req_prod(&self) -> u32 {
        self.0.load_u32(REQ_PROD_OFFSET)
    }
    fn set_req_prod(&mut self, value: u32) {
        self.0.store_u32(REQ_PROD_OFFSET, value);
    }
    fn req_event(&self) -> u32 {
        self.0.load_u32(REQ_EVENT_OFFSET)
    }
    fn rsp_prod(&self) -> u32 {
        self.0.load_u32(RSP_PROD_OFFSET)
    }
    fn set_rsp_event(&mut self, value: u32) {
        self.0.store_u32(RSP_EVENT_OFFSET, value);
    }
    fn full_fence(&self) {
        self.0.full_fence();
    }
}

impl<P: SharedPage> RingPage<P> {
    /// `SHARED_RING_INIT` on a zeroed page and `FRONT_RING_INIT` with `entries` slots.
    pub(crate) fn new(mut page: P, entries: u32) -> Self {
        page.store_u32(REQ_PROD_OFFSET, 0);
        page.store_u32(RSP_PROD_OFFSET, 0);
        page.store_u32(REQ_EVENT_OFFSET, 1);
        page.store_u32(RSP_EVENT_OFFSET, 1);
        Self { page, ring: FrontRing::new(entries) }
    }

    /// Publishes the produced requests; whether the back end wants an event.
    pub(crate) fn push(&mut self) -> bool {
        ring::push_requests_and_check_notify(&self.ring, &mut Header(&mut self.page))
    }

    /// Responses ready to consume, checked against the outstanding requests.
    pub(crate) fn ready(&self) -> Result<u32, RingError> {
        self.ring.unconsumed_responses(self.page.load_u32(RSP_PROD_OFFSET))
    }

    /// Asks for an event at the next response; whether one arrived meanwhile.
    pub(crate) fn final_check(&mut self) -> Result<bool, RingError> {
        ring::final_check_for_responses(&self.ring, &mut Header(&mut self.page))
    }

    /// Writes a transmit request into `slot`.
    pub(crate) fn write_tx_request(&mut self, slot: u32, request: NetifTxRequest) {
        let base = entry_offset(slot, TX_ENTRY_SIZE);
        self.page.store_u32(base + offset_of!(NetifTxRequest, gref), request.gref);
        self.page.store_u16(base + offset_of!(NetifTxRequest, offset), request.offset);
        self.page.store_u16(base + offset_of!(NetifTxRequest, flags), request.flags);
        self.page.store_u16(base + offset_of!(NetifTxRequest, id), request.id);
        self.page.store_u16(base + offset_of!(NetifTxRequest, size), request.size);
    }

    /// Copies the transmit response out of `slot`.
    pub(crate) fn read_tx_response(&self, slot: u32) -> NetifTxResponse {
        let base = entry_offset(slot, TX_ENTRY_SIZE);
        NetifTxResponse {
            id: self.page.load_u16(base + offset_of!(NetifTxResponse, id)),
            status: self.page.load_u16(base + offset_of!(NetifTxResponse, status)) as i16,
        }
    }

    /// Writes a receive request into `slot`.
    pub(crate) fn write_rx_request(&mut self, slot: u32, request: NetifRxRequest) {
        let base = entry_offset(slot, RX_ENTRY_SIZE);
        self.page.store_u16(base + offset_of!(NetifRxRequest, id), request.id);
        self.page.store_u16(base + offset_of!(NetifRxRequest, pad), 0);
        self.page.store_u32(base + offset_of!(NetifRxRequest, gref), request.gref);
    }

    /// Copies the receive response out of `slot`.
    pub(crate) fn read_rx_response(&self, slot: u32) -> NetifRxResponse {
        let base = entry_offset(slot, RX_ENTRY_SIZE);
        NetifRxResponse {
            id: self.page.load_u16(base + offset_of!(NetifRxResponse, id)),
            offset: self.page.load_u16(base + offset_of!(NetifRxResponse, offset)),
            flags: self.page.load_u16(base + offset_of!(NetifRxResponse, flags)),
            status: self.page.load_u16(base + offset_of!(NetifRxResponse, status)) as i16,
        }
    }
}

/// Ends `grant` (if any) and drops `page`; a page whose grant cannot be ended (the back end still
/// maps it) is leaked instead, never returned to the allocator. Returns whether it was kept.
pub(crate) fn release_page<P>(
    grants: &mut impl GrantAccess,
    page: P,
    grant: Option<GrantRef>,
) -> bool {
    match grant.map(|grant| grants.end(grant)) {
        None | Some(Ok(())) => {
            drop(page);
            false
        }
        Some(Err(_)) => {
            core::mem::forget(page);
            true
        }
    }
}
