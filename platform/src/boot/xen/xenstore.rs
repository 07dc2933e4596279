//! The xenstore client of a domU: requests over the xenstore ring, one at a time.
//!
//! The ring's page and event channel come in the start info (`store_mfn`, `store_evtchn`),
//! already connected to the daemon in dom0 by the toolstack. A request is encoded
//! (`rivet_xen_abi::xenstore`), copied into the `req` half as room allows, the channel
//! signalled; then the `rsp` half is read until the reply with the request's id is complete.
//! Watch events that arrive meanwhile are queued for [`XenStore::wait_watch`] (at most
//! [`MAX_QUEUED_EVENTS`]; older ones are dropped with a log line). A reply that breaks the
//! protocol (indexes out of range, a length over 4096, an unknown id) is an error returned to the
//! caller, never a read outside the page.
//!
//! Weak spots: waiting polls the ring and yields the vCPU between looks (`SCHEDOP_yield`) rather
//! than sleeping on the event channel — fine for the few requests a boot makes and for the exit
//! path (which must work with events masked), wasteful for long watches; one request at a time
//! (a spin lock), as xenstore requests are rare and short.

extern crate alloc;

use super::ring::{self, RingHalf};
use super::Deadline;
use alloc::collections::VecDeque;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::time::Duration;
use rivet_xen_abi::xenstore::{self, Kind, Reader, Reply, StoreError, HEADER_LEN, PAYLOAD_MAX};
use rivet_xen_abi::{byte_ring, XenstoreInterface};
use spin::{Mutex, Once};

/// Watch events kept for [`XenStore::wait_watch`] before the oldest are dropped.
pub(crate) const MAX_QUEUED_EVENTS: usize = 64;

/// How long a request waits for its reply.
const REPLY_TIMEOUT: Duration = Duration::from_secs(10);

/// The connection's state, under the client's lock.
struct Connection {
    reader: Reader,
    next_id: u32,
    /// Watch events (path, token) not yet asked for.
    events: VecDeque<(String, String)>,
    /// The request being encoded (kept here: 4 KiB is too much for a thread's stack to spare).
    buffer: [u8; HEADER_LEN + PAYLOAD_MAX],
}

/// The domain's xenstore connection.
pub(crate) struct XenStore {
    request: RingHalf,
    response: RingHalf,
    port: u32,
    connection: Mutex<Connection>,
}

static STORE: Once<XenStore> = Once::new();

/// Connects to xenstore through the page at `page` (the first call only; later ones return
/// the same client).
///
/// # Safety
/// `page` is the domain's xenstore page, mapped read-write for the rest of the run.
pub(crate) unsafe fn connect(page: *mut XenstoreInterface, port: u32) -> &'static XenStore {
    // SAFETY: the page is mapped for the rest of the run (the caller's promise); the fields are
    // the two 1024-byte arrays and their aligned indexes, per `XenstoreInterface`'s layout.
    let (request, response) = unsafe {
        (
            RingHalf::new(
                (&raw mut (*page).req).cast::<u8>(),
                xenstore::RING_SIZE,
                &raw mut (*page).req_prod,
                &raw mut (*page).req_cons,
            ),
            RingHalf::new(
                (&raw mut (*page).rsp).cast::<u8>(),
                xenstore::RING_SIZE,
                &raw mut (*page).rsp_prod,
                &raw mut (*page).rsp_cons,
            ),
        )
    };
    STORE.call_once(|| XenStore {
        request,
        response,
        port,
        connection: Mutex::new(Connection {
            reader: Reader::new(),
            next_id: 1,
            events: VecDeque::new(),
            buffer: [0; HEADER_LEN + PAYLOAD_MAX],
        }),
    })
}

/// The client, once [`connect`] has run.
pub(crate) fn get() -> Option<&'static XenStore> {
    STORE.get()
}

impl XenStore {
    /// Sends one request and returns its reply's payload (see the module's text).
    pub(crate) fn request(
        &self,
        kind: Kind,
        transaction: u32,
        parts: &[&[u8]],
        last_terminated: bool,
    ) -> Result<Vec<u8>, StoreError> {
        let mut connection = self.connection.lock();
        self.exchange(&mut connection, kind, transaction, parts, last_terminated)?;
        Ok(connection.reader.payload().to_vec())
    }

    /// Sends one request and waits for its reply, which is not kept; only if nobody holds the
    /// lock. For the exit path: it may run inside a request that panicked, or before the heap
    /// exists (nothing here allocates).
    pub(crate) fn try_request(
        &self,
        kind: Kind,
        parts: &[&[u8]],
        last_terminated: bool,
    ) -> Result<(), StoreError> {
        let mut connection = self.connection.try_lock().ok_or(StoreError::Unavailable)?;
        self.exchange(&mut connection, kind, 0, parts, last_terminated)
    }

    /// Waits until a watch event with `token` arrives (or `timeout` passes) and returns its
    /// path.
    pub(crate) fn wait_watch(&self, token: &str, timeout: Duration) -> Result<String, StoreError> {
        let deadline = Deadline::after(timeout);
        let mut connection = self.connection.lock();
        loop {
            if let Some(at) = connection.events.iter().position(|(_, t)| t == token) {
                let (path, _) = connection.events.remove(at).expect("position is in range");
                return Ok(path);
            }
            self.receive(&mut connection, None, &deadline)?;
        }
    }

    /// Sends a request and reads until its reply is complete (then in `connection.reader`).
    fn exchange(
        &self,
        connection: &mut Connection,
        kind: Kind,
        transaction: u32,
        parts: &[&[u8]],
        last_terminated: bool,
    ) -> Result<(), StoreError> {
        let id = connection.next_id;
        connection.next_id = id.wrapping_add(1).max(1);
        let len = xenstore::encode(
            kind,
            id,
            transaction,
            parts,
            last_terminated,
            &mut connection.buffer,
        )?;
        let deadline = Deadline::after(REPLY_TIMEOUT);
        let mut sent = 0;
        while sent < len {
            let n = byte_ring::send(&self.request, &connection.buffer[sent..len])?;
            sent += n;
            ring::notify(self.port);
            if n == 0 {
                wait(&deadline)?;
            }
        }
        self.receive(connection, Some((kind, id)), &deadline)
    }

    /// Reads messages until the reply to `awaited` is complete (left in `connection.reader`),
    /// or — with `None` — until one watch event has been queued. Replies to no outstanding
    /// request are dropped with a log line.
    fn receive(
        &self,
        connection: &mut Connection,
        awaited: Option<(Kind, u32)>,
        deadline: &Deadline,
    ) -> Result<(), StoreError> {
        loop {
            let Some(header) = connection.reader.poll(&self.response)? else {
                ring::notify(self.port); // room was made: the daemon may have more
                wait(deadline)?;
                continue;
            };
            ring::notify(self.port);
            if header.kind == Kind::WatchEvent as u32 {
                let event = xenstore::watch_event(connection.reader.payload())
                    .map(|(path, token)| (path.to_string(), token.to_string()));
                match event {
                    Ok(event) => {
                        if connection.events.len() == MAX_QUEUED_EVENTS {
                            log::warn!("xenstore: watch events queue full; dropping the oldest");
                            connection.events.pop_front();
                        }
                        connection.events.push_back(event);
                    }
                    Err(e) => log::warn!("xenstore: bad watch event: {e}"),
                }
                if awaited.is_none() {
                    return Ok(());
                }
                continue;
            }
            match awaited {
                Some((kind, id)) if header.request_id == id => {
                    return Reply::check(kind, id, &header, connection.reader.payload());
                }
                _ => {
                    log::warn!("xenstore: reply for unknown request {}; dropped", header.request_id)
                }
            }
        }
    }
}

/// Yields once for `deadline`, or says the time is up.
fn wait(deadline: &Deadline) -> Result<(), StoreError> {
    deadline.wait().then_some(()).ok_or(StoreError::TimedOut)
}
