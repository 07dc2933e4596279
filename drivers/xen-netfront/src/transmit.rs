//! The transmit side: a pool of read-only granted pages, one frame each.
//!
//! Buffer `i` travels as request `id = i`; it is free, or in flight until the response with its
//! id comes back. A response whose id is out of range or not in flight (unknown, duplicate) is
//! logged and ignored: it frees nothing. The pages stay granted read-only for the device's life,
//! so sending costs a copy and a ring slot, no grant operation.

use alloc::vec;
use alloc::vec::Vec;

use log::{error, warn};
use rivet_xen_abi::netif::{NetifTxRequest, NetifTxResponse, NETIF_RSP_OKAY};

use crate::platform::{GrantAccess, GrantRef, SharedPage, PAGE_SIZE};
use crate::ring_page::{release_page, RingPage};

/// Passes over the ring one reclaim makes at most (each ends with the final check for
/// responses, which a hostile back end could keep answering "more").
const MAX_PASSES: u32 = 4;

/// A transmit buffer: its page and the read-only grant the back end reads it through.
pub(crate) struct TxBuffer<P> {
    pub(crate) page: P,
    pub(crate) grant: Option<GrantRef>,
}

/// The transmit ring and its buffers.
pub(crate) struct Transmit<P: SharedPage> {
    pub(crate) ring: RingPage<P>,
    pub(crate) ring_grant: Option<GrantRef>,
    pub(crate) buffers: Vec<TxBuffer<P>>,
    /// Whether buffer `i` is with the back end.
    in_flight: Vec<bool>,
    /// Buffers free to fill, as ids.
    free: Vec<u16>,
    /// The back end broke the ring protocol: nothing more is sent.
    broken: bool,
}

impl<P: SharedPage> Transmit<P> {
    /// The transmit side over `ring` with `buffers` (granted by the caller before use).
    pub(crate) fn new(ring: RingPage<P>, buffers: Vec<TxBuffer<P>>) -> Self {
        let count = buffers.len();
        Self {
            ring,
            ring_grant: None,
            buffers,
            in_flight: vec![false; count],
            free: (0..count as u16).rev().collect(),
            broken: false,
        }
    }

    /// Whether a frame can be sent now.
    pub(crate) fn can_send(&self) -> bool {
        !self.broken && !self.free.is_empty()
    }

    /// Frames with the back end.
    #[cfg(test)]
    pub(crate) fn in_flight(&self) -> usize {
        self.in_flight.iter().filter(|&&busy| busy).count()
    }

    /// Takes back the buffers whose frames the back end has sent.
    pub(crate) fn reclaim(&mut self) {
        for _ in 0..MAX_PASSES {
            if self.broken {
                return;
            }
            let ready = match self.ring.ready() {
                Ok(ready) => ready,
                Err(ring_error) => return self.break_ring(ring_error),
            };
            for _ in 0..ready {
                let Some(slot) = self.ring.ring.consume_response() else { break };
                let response = self.ring.read_tx_response(slot);
                self.complete(response);
            }
            match self.ring.final_check() {
                Ok(true) => continue,
                Ok(false) => return,
                Err(ring_error) => return self.break_ring(ring_error),
            }
        }
    }

    fn break_ring(&mut self, ring_error: rivet_xen_abi::ring::RingError) {
        error!("xen-netfront: transmit ring: {ring_error}; no more frames will be sent");
        self.broken = true;
    }

    /// One response: its buffer is free again.
    fn complete(&mut self, response: NetifTxResponse) {
        let id = response.id;
        match self.in_flight.get_mut(usize::from(id)) {
            Some(busy @ true) => {
                *busy = false;
                self.free.push(id);
            }
            _ => {
                error!("xen-netfront: transmit response for id {id}, which is not in flight");
                return;
            }
        }
        if response.status != NETIF_RSP_OKAY {
            warn!(
                "xen-netfront: the back end did not send frame {id} (status {})",
                response.status
            );
        }
    }

    /// Fills a free buffer with `len` bytes from `fill` and posts it; returns `fill`'s result and
    /// whether the back end wants an event. Without a free buffer or room (callers check
    /// [`can_send`](Self::can_send) first) or for a frame larger than a page, the frame is built
    /// in a scratch buffer and dropped.
    pub(crate) fn send<R>(&mut self, len: usize, fill: impl FnOnce(&mut [u8]) -> R) -> (R, bool) {
        let id = match self.free.pop() {
            Some(id) if len <= PAGE_SIZE && !self.broken => id,
            other => {
                if let Some(id) = other {
                    self.free.push(id);
                }
                error!("xen-netfront: frame of {len} bytes dropped (no buffer, or too long)");
                return (fill(&mut vec![0; len]), false);
            }
        };
        let buffer = &mut self.buffers[usize::from(id)];
        let result = buffer.page.with_bytes_mut(|bytes| fill(&mut bytes[..len]));
        // Every buffer is granted before the device is used, and the ring has a slot for every
        // buffer: neither branch below is taken unless the driver itself is wrong.
        let Some(grant) = buffer.grant else {
            error!("xen-netfront: transmit buffer {id} is not granted; frame dropped");
            self.free.push(id);
            return (result, false);
        };
        let Some(slot) = self.ring.ring.produce_request() else {
            error!("xen-netfront: no transmit slot for buffer {id}; frame dropped");
            self.free.push(id);
            return (result, false);
        };
        // `len <= PAGE_SIZE` was checked above, so it fits the u16.
        let request = NetifTxRequest { gref: grant.0, offset: 0, flags: 0, id, size: len as u16 };
        self.ring.write_tx_request(slot, request);
        self.in_flight[usize::from(id)] = true;
        (result, self.ring.push())
    }

    /// Ends every grant and frees the pages (keeping those still held); how many were kept.
    pub(crate) fn release(self, grants: &mut impl GrantAccess) -> usize {
        let mut kept = usize::from(release_page(grants, self.ring.page, self.ring_grant));
        for buffer in self.buffers {
            kept += usize::from(release_page(grants, buffer.page, buffer.grant));
        }
        kept
    }
}
