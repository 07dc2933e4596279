//! The receive side: a ring of writable grants, each frame lent in place.
//!
//! Buffer `i` is posted as request `id = i` with a fresh writable grant. When its response comes
//! the grant is ended *first*: only a page the back end can no longer write is read or lent. A
//! good frame is lent to smoltcp until the next receive; a bad one is dropped at once. Either
//! way the buffer is then idle and is granted and posted again by [`Receive::refill`].
//!
//! A response that names an id out of range or not posted (unknown, duplicate) is logged and
//! frees nothing. A grant the back end still holds (`GTF_writing`) leaves its buffer stuck; the
//! end is retried at every refill.

use alloc::vec::Vec;
use core::ops::Range;

use log::{debug, error, warn};
use rivet_xen_abi::netif::{NetifRxRequest, NetifRxResponse, NETRXF_EXTRA_INFO, NETRXF_MORE_DATA};

use crate::platform::{GrantAccess, GrantError, GrantRef, SharedPage, PAGE_SIZE};
use crate::ring_page::{release_page, RingPage};

/// Passes over the ring one `take` makes at most (see `transmit`).
const MAX_PASSES: u32 = 4;

/// Where a receive buffer is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RxState {
    /// Ours, not granted: to be posted.
    Idle,
    /// With the back end under this grant.
    Posted(GrantRef),
    /// Its frame is lent to the stack.
    Lent,
    /// Answered, but the back end still holds the grant: ending it is retried.
    Stuck(GrantRef),
    /// The grant could not be ended nor explained: the page is never reused.
    Lost(GrantRef),
}

/// The receive ring and its buffers.
pub(crate) struct Receive<P: SharedPage> {
    pub(crate) ring: RingPage<P>,
    pub(crate) ring_grant: Option<GrantRef>,
    pub(crate) pages: Vec<P>,
    pub(crate) states: Vec<RxState>,
    /// Buffers to post, as ids.
    idle: Vec<u16>,
    /// Buffers whose grant is to be ended again, as ids.
    stuck: Vec<u16>,
    /// The buffer lent to the stack.
    lent: Option<u16>,
    /// Inside a multi-slot frame we did not negotiate: its remaining slots are dropped.
    skipping: bool,
    /// The back end broke the ring protocol: nothing more is received.
    broken: bool,
}

impl<P: SharedPage> Receive<P> {
    /// The receive side over `ring` with `pages`, all idle.
    pub(crate) fn new(ring: RingPage<P>, pages: Vec<P>) -> Self {
        let count = pages.len();
        Self {
            ring,
            ring_grant: None,
            pages,
            states: alloc::vec![RxState::Idle; count],
            idle: (0..count as u16).rev().collect(),
            stuck: Vec::with_capacity(count),
            lent: None,
            skipping: false,
            broken: false,
        }
    }

    /// Buffers with the back end.
    pub(crate) fn posted(&self) -> usize {
        self.states.iter().filter(|state| matches!(state, RxState::Posted(_))).count()
    }

    /// Takes the lent buffer back, retries stuck grants and posts every idle buffer to
    /// `backend`. Returns whether the back end wants an event.
    pub(crate) fn refill(&mut self, grants: &mut impl GrantAccess, backend: u16) -> bool {
        if let Some(id) = self.lent.take() {
            self.states[usize::from(id)] = RxState::Idle;
            self.idle.push(id);
        }
        self.retry_stuck(grants);
        if self.broken {
            return false;
        }
        let mut posted = false;
        while let Some(&id) = self.idle.last() {
            let frame = self.pages[usize::from(id)].frame();
            let grant = match grants.grant(backend, frame, false) {
                Ok(grant) => grant,
                Err(grant_error) => {
                    warn!("xen-netfront: cannot grant receive buffer {id}: {grant_error}");
                    break;
                }
            };
            let Some(slot) = self.ring.ring.produce_request() else {
                // More buffers than free slots: only if responses were lost to a bad back end.
                // That back end may even have guessed the new reference and mapped it.
                if grants.end(grant).is_err() {
                    self.idle.pop();
                    self.states[usize::from(id)] = RxState::Stuck(grant);
                    self.stuck.push(id);
                }
                break;
            };
            self.idle.pop();
            self.ring.write_rx_request(slot, NetifRxRequest { id, pad: 0, gref: grant.0 });
            self.states[usize::from(id)] = RxState::Posted(grant);
            posted = true;
        }
        posted && self.ring.push()
    }

    fn retry_stuck(&mut self, grants: &mut impl GrantAccess) {
        let mut index = 0;
        while index < self.stuck.len() {
            let id = self.stuck[index];
            let RxState::Stuck(grant) = self.states[usize::from(id)] else {
                self.stuck.swap_remove(index);
                continue;
            };
            match self.end_grant(grants, id, grant) {
                RxState::Stuck(_) => index += 1,
                _ => {
                    self.stuck.swap_remove(index);
                }
            }
        }
    }

    /// Ends buffer `id`'s grant and records where the buffer is now: idle (queued to post),
    /// stuck (queued to retry, by the caller) or lost.
    fn end_grant(&mut self, grants: &mut impl GrantAccess, id: u16, grant: GrantRef) -> RxState {
        let state = match grants.end(grant) {
            Ok(()) => {
                self.idle.push(id);
                RxState::Idle
            }
            Err(GrantError::InUse(flags)) => {
                debug!("xen-netfront: receive buffer {id} still in use (flags {flags:#x})");
                RxState::Stuck(grant)
            }
            Err(grant_error) => {
                error!("xen-netfront: receive buffer {id}: {grant_error}; buffer retired");
                RxState::Lost(grant)
            }
        };
        self.states[usize::from(id)] = state;
        state
    }

    /// The next good frame: its buffer, lent until the next [`refill`](Self::refill), and its
    /// bounds in the page. Bad responses on the way are logged and dropped.
    pub(crate) fn take(&mut self, grants: &mut impl GrantAccess) -> Option<(u16, Range<usize>)> {
        for _ in 0..MAX_PASSES {
            if self.broken {
                return None;
            }
            let ready = match self.ring.ready() {
                Ok(ready) => ready,
                Err(ring_error) => return self.break_ring(ring_error),
            };
            for _ in 0..ready {
                let slot = self.ring.ring.consume_response()?;
                let response = self.ring.read_rx_response(slot);
                if let Some(frame) = self.accept(grants, response) {
                    return Some(frame);
                }
            }
            match self.ring.final_check() {
                Ok(true) => continue,
                Ok(false) => return None,
                Err(ring_error) => return self.break_ring(ring_error),
            }
        }
        None
    }

    fn break_ring<T>(&mut self, ring_error: rivet_xen_abi::ring::RingError) -> Option<T> {
        error!("xen-netfront: receive ring: {ring_error}; no more frames will be received");
        self.broken = true;
        None
    }

    /// One response: the buffer back from the back end, and its frame if the response is good.
    fn accept(
        &mut self,
        grants: &mut impl GrantAccess,
        response: NetifRxResponse,
    ) -> Option<(u16, Range<usize>)> {
        let id = response.id;
        let Some(&RxState::Posted(grant)) = self.states.get(usize::from(id)) else {
            error!("xen-netfront: receive response for id {id}, which is not posted");
            return None;
        };
        match self.end_grant(grants, id, grant) {
            RxState::Idle => {}
            RxState::Stuck(_) => {
                self.stuck.push(id);
                warn!("xen-netfront: back end still holds receive buffer {id}; frame dropped");
                return None;
            }
            _ => return None,
        }
        // The buffer is ours and queued to post again; lend it instead if the frame is good.
        let continuation = self.skipping;
        self.skipping = response.flags & (NETRXF_MORE_DATA | NETRXF_EXTRA_INFO) != 0;
        if continuation {
            debug!("xen-netfront: dropped a slot of a multi-slot frame");
            return None;
        }
        if self.skipping {
            error!(
                "xen-netfront: receive flags {:#x} were not negotiated; frame dropped",
                response.flags
            );
            return None;
        }
        let frame = match frame_bounds(response) {
            Ok(frame) => frame,
            Err(why) => {
                warn!("xen-netfront: receive buffer {id}: {why}; frame dropped");
                return None;
            }
        };
        // `end_grant` queued it last.
        let queued = self.idle.pop();
        debug_assert_eq!(queued, Some(id));
        self.states[usize::from(id)] = RxState::Lent;
        self.lent = Some(id);
        Some((id, frame))
    }
}

impl<P: SharedPage> Receive<P> {
    /// Ends every grant and frees the pages (keeping those still held); how many were kept.
    pub(crate) fn release(self, grants: &mut impl GrantAccess) -> usize {
        let mut kept = usize::from(release_page(grants, self.ring.page, self.ring_grant));
        for (page, state) in self.pages.into_iter().zip(self.states) {
            let grant = match state {
                RxState::Posted(grant) | RxState::Stuck(grant) | RxState::Lost(grant) => {
                    Some(grant)
                }
                RxState::Idle | RxState::Lent => None,
            };
            kept += usize::from(release_page(grants, page, grant));
        }
        kept
    }
}

/// The bytes of the page a response says hold the frame, checked against the page.
fn frame_bounds(response: NetifRxResponse) -> Result<Range<usize>, &'static str> {
    let length = usize::try_from(response.status).map_err(|_| "the back end reports an error")?;
    if length == 0 {
        return Err("empty frame");
    }
    let start = usize::from(response.offset);
    let end = start + length;
    if end > PAGE_SIZE {
        return Err("offset and length run past the page");
    }
    Ok(start..end)
}
