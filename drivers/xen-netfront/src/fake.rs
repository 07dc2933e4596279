//! A fake Xen for the tests: memory, grants, events, xenstore, a netback.
//!
//! Everything lives in one [`Machine`] shared through `Rc`. Pages are `Vec`-backed and their
//! "frame" is an index into the machine's page list. The grant table is real logic from
//! `rivet-xen-abi` (the reference allocator, the entry and end-access decisions), and the back
//! end reaches pages only through grants it checks like Xen would: a test in which the driver
//! forgets a grant, grants the wrong domain or writes a read-only page fails loudly.
//! [`FakeNetback`] plays the back end's side of both rings, honestly or not.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::rc::Rc;

use rivet_xen_abi::grant_table::{
    end_access_decision, permit_access_entry, GrantEntryV1, GrantRefAllocator, GTF_PERMIT_ACCESS,
    GTF_READONLY, GTF_TYPE_MASK,
};
use rivet_xen_abi::netif::{NetifRxResponse, NetifTxResponse, NETIF_RSP_OKAY};
use rivet_xen_abi::ring::{entry_offset, notify_needed};

use crate::platform::{
    EventChannel, EventChannelError, GrantAccess, GrantError, GrantRef, OutOfPages, PageAllocator,
    SharedPage, Store, StoreError, PAGE_SIZE,
};

/// The back end's domain in the tests.
pub(crate) const BACKEND: u16 = 0;
/// Entries in the fake grant table (two frames).
const GRANT_ENTRIES: usize = 1024;
/// The frame number of the first page.
const FIRST_FRAME: u64 = 0x8000;
/// The event channel port the fake hands out.
pub(crate) const PORT: u32 = 17;
/// The front end's directory.
pub(crate) const DEVICE: &str = "device/vif/0";
/// The back end's directory.
pub(crate) const BACKEND_PATH: &str = "/local/domain/0/backend/vif/5/0";

type Bytes = Rc<RefCell<Box<[u8; PAGE_SIZE]>>>;

/// How the fake back end moves through the xenbus states.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum BackendScript {
    /// InitWait, then Connected once the front end is; Closing and Closed after it.
    Honest,
    /// Never leaves Initialising.
    Silent,
    /// Closes when the front end connects.
    ClosesOnConnect,
    /// Wakes the front end at every wait without ever changing.
    Restless,
}

/// The whole fake machine.
pub(crate) struct Machine {
    pages: RefCell<Vec<Bytes>>,
    pages_left: Cell<usize>,
    live_pages: Rc<Cell<usize>>,
    pub(crate) grants: RefCell<GrantTable>,
    pub(crate) store: RefCell<BTreeMap<String, String>>,
    pub(crate) notifications: Cell<u32>,
    pub(crate) script: Cell<BackendScript>,
}

/// The grant table: entries and the reference allocator.
pub(crate) struct GrantTable {
    pub(crate) entries: Vec<GrantEntryV1>,
    allocator: GrantRefAllocator<GRANT_ENTRIES>,
}

impl GrantTable {
    /// Grants in force.
    pub(crate) fn active(&self) -> usize {
        self.entries.iter().filter(|entry| entry.flags & GTF_TYPE_MASK != 0).count()
    }
}

impl Machine {
    /// A machine with `pages` pages of memory and a device whose back end follows `script`.
    pub(crate) fn new(pages: usize, script: BackendScript) -> Rc<Self> {
        let mut store = BTreeMap::new();
        let mut set = |path: &str, value: &str| store.insert(path.into(), value.into());
        set(&format!("{DEVICE}/backend-id"), "0");
        set(&format!("{DEVICE}/backend"), BACKEND_PATH);
        set(&format!("{DEVICE}/mac"), "00:16:3e:0a:bc:de");
        set(&format!("{DEVICE}/state"), "1");
        set(&format!("{BACKEND_PATH}/state"), "1");
        set(&format!("{BACKEND_PATH}/feature-rx-copy"), "1");
        Rc::new(Self {
            pages: RefCell::new(Vec::new()),
            pages_left: Cell::new(pages),
            live_pages: Rc::new(Cell::new(0)),
            grants: RefCell::new(GrantTable {
                entries: vec![GrantEntryV1::default(); GRANT_ENTRIES],
                allocator: GrantRefAllocator::new(GRANT_ENTRIES as u32),
            }),
            store: RefCell::new(store),
            notifications: Cell::new(0),
            script: Cell::new(script),
        })
    }

    /// Pages allocated and not dropped.
    pub(crate) fn live_pages(&self) -> usize {
        self.live_pages.get()
    }

    /// What the back end does when the front end waits for it; whether anything changed.
    fn backend_step(&self) -> bool {
        let mut store = self.store.borrow_mut();
        let front = store.get(&format!("{DEVICE}/state")).cloned().unwrap_or_default();
        let back_path = format!("{BACKEND_PATH}/state");
        let back = store.get(&back_path).cloned().unwrap_or_default();
        let next = match (self.script.get(), back.as_str(), front.as_str()) {
            (BackendScript::Silent, _, _) => return false,
            (BackendScript::Restless, _, _) => return true,
            (_, "1", _) => "2",
            (BackendScript::Honest, "2", "4") => "4",
            (BackendScript::Honest, "4", "5") => "5",
            (BackendScript::Honest, "5", "6") => "6",
            (BackendScript::ClosesOnConnect, "2", "4") => "5",
            _ => return false,
        };
        store.insert(back_path, next.into());
        true
    }

    /// The page a grant lets `BACKEND` at, checked like Xen: in force, for this domain, and
    /// writable if `write`. `None` when the grant does not allow it.
    pub(crate) fn map(&self, grant: u32, write: bool) -> Option<Bytes> {
        let entry = *self.grants.borrow().entries.get(grant as usize)?;
        if entry.flags & GTF_TYPE_MASK != GTF_PERMIT_ACCESS || entry.domid != BACKEND {
            return None;
        }
        if write && entry.flags & GTF_READONLY != 0 {
            return None;
        }
        let index = u64::from(entry.frame).checked_sub(FIRST_FRAME)?;
        self.pages.borrow().get(index as usize).cloned()
    }
}

/// A fake page: bytes in the machine's memory.
pub(crate) struct FakePage {
    frame: u64,
    bytes: Bytes,
    live_pages: Rc<Cell<usize>>,
}

impl Drop for FakePage {
    fn drop(&mut self) {
        self.live_pages.set(self.live_pages.get() - 1);
    }
}

impl SharedPage for FakePage {
    fn frame(&self) -> u64 {
        self.frame
    }
    fn load_u16(&self, offset: usize) -> u16 {
        let bytes = self.bytes.borrow();
        u16::from_le_bytes([bytes[offset], bytes[offset + 1]])
    }
    fn load_u32(&self, offset: usize) -> u32 {
        u32::from_le_bytes(self.bytes.borrow()[offset..offset + 4].try_into().unwrap())
    }
    fn store_u16(&mut self, offset: usize, value: u16) {
        self.bytes.borrow_mut()[offset..offset + 2].copy_from_slice(&value.to_le_bytes());
    }
    fn store_u32(&mut self, offset: usize, value: u32) {
        self.bytes.borrow_mut()[offset..offset + 4].copy_from_slice(&value.to_le_bytes());
    }
    fn full_fence(&self) {}
    fn with_bytes<R>(&self, f: impl FnOnce(&[u8]) -> R) -> R {
        f(&self.bytes.borrow()[..])
    }
    fn with_bytes_mut<R>(&mut self, f: impl FnOnce(&mut [u8]) -> R) -> R {
        f(&mut self.bytes.borrow_mut()[..])
    }
}

/// Hands out the machine's pages.
pub(crate) struct FakePages(pub(crate) Rc<Machine>);

// SAFETY: the fake's pages are separate heap boxes of PAGE_SIZE bytes, zeroed, each owned by
// one handle (the machine keeps a second `Rc` only for the fake back end, which reaches it
// through a checked grant); `frame` names exactly that box in the machine's list, for the
// handle's life (obligations 1 and 2). Nothing here is real memory shared with anyone.
#[allow(unsafe_code)]
unsafe impl PageAllocator for FakePages {
    type Page = FakePage;
    fn allocate_page(&mut self) -> Result<FakePage, OutOfPages> {
        let left = self.0.pages_left.get();
        if left == 0 {
            return Err(OutOfPages);
        }
        self.0.pages_left.set(left - 1);
        let bytes: Bytes = Rc::new(RefCell::new(Box::new([0; PAGE_SIZE])));
        let mut pages = self.0.pages.borrow_mut();
        let frame = FIRST_FRAME + pages.len() as u64;
        pages.push(bytes.clone());
        self.0.live_pages.set(self.0.live_pages.get() + 1);
        Ok(FakePage { frame, bytes, live_pages: self.0.live_pages.clone() })
    }
}

/// The grant table, as the platform would drive it.
pub(crate) struct FakeGrants(pub(crate) Rc<Machine>);

impl GrantAccess for FakeGrants {
    fn grant(&mut self, domain: u16, frame: u64, readonly: bool) -> Result<GrantRef, GrantError> {
        let entry = permit_access_entry(domain, frame, readonly)?;
        let mut table = self.0.grants.borrow_mut();
        let reference = table.allocator.allocate().ok_or(GrantError::Exhausted)?;
        table.entries[reference.0 as usize] = entry;
        Ok(reference)
    }

    fn end(&mut self, reference: GrantRef) -> Result<(), GrantError> {
        let mut table = self.0.grants.borrow_mut();
        if !table.allocator.is_allocated(reference) {
            return Err(GrantError::NotAllocated(reference));
        }
        let entry = &mut table.entries[reference.0 as usize];
        end_access_decision(entry.flags)?;
        entry.flags = 0;
        table.allocator.free(reference)
    }
}

/// The event channel: counts notifications.
pub(crate) struct FakeEvents(pub(crate) Rc<Machine>);

impl EventChannel for FakeEvents {
    fn allocate_unbound(&mut self, remote: u16) -> Result<u32, EventChannelError> {
        if remote == BACKEND {
            Ok(PORT)
        } else {
            Err(EventChannelError(-3))
        }
    }
    fn notify(&mut self, port: u32) {
        assert_eq!(port, PORT);
        self.0.notifications.set(self.0.notifications.get() + 1);
    }
}

/// Xenstore over the machine's map; waiting lets the back end take a step.
pub(crate) struct FakeStore(pub(crate) Rc<Machine>);

impl Store for FakeStore {
    fn read(&mut self, path: &str) -> Result<String, StoreError> {
        self.0.store.borrow().get(path).cloned().ok_or(StoreError::NoEntry)
    }
    fn write(&mut self, path: &str, value: &str) -> Result<(), StoreError> {
        self.0.store.borrow_mut().insert(path.into(), value.into());
        Ok(())
    }
    fn wait_for_change(&mut self, _: &str, _: u64) -> Result<(), StoreError> {
        if self.0.backend_step() {
            Ok(())
        } else {
            Err(StoreError::TimedOut)
        }
    }
}

/// Offsets in a ring page (`io/ring.h`).
const REQ_PROD: usize = 0;
const RSP_PROD: usize = 8;
const RSP_EVENT: usize = 12;

fn load_u16(page: &Bytes, offset: usize) -> u16 {
    let bytes = page.borrow();
    u16::from_le_bytes([bytes[offset], bytes[offset + 1]])
}
fn load_u32(page: &Bytes, offset: usize) -> u32 {
    u32::from_le_bytes(page.borrow()[offset..offset + 4].try_into().unwrap())
}
fn store_u16(page: &Bytes, offset: usize, value: u16) {
    page.borrow_mut()[offset..offset + 2].copy_from_slice(&value.to_le_bytes());
}
fn store_u32(page: &Bytes, offset: usize, value: u32) {
    page.borrow_mut()[offset..offset + 4].copy_from_slice(&value.to_le_bytes());
}

/// The back end's side of one ring: its request consumer and response producer.
struct BackRing {
    page: Bytes,
    req_cons: u32,
    rsp_prod_pvt: u32,
}

impl BackRing {
    const MASK: u32 = 255;

    /// The next request's slot, if the front end posted one.
    fn next_request(&mut self) -> Option<u32> {
        if self.req_cons == load_u32(&self.page, REQ_PROD) {
            return None;
        }
        let slot = self.req_cons & Self::MASK;
        self.req_cons = self.req_cons.wrapping_add(1);
        Some(slot)
    }

    /// The slot for the next response.
    fn next_response(&mut self) -> u32 {
        // Otherwise the response would overwrite a request not taken yet: a test's mistake.
        assert_ne!(self.rsp_prod_pvt, self.req_cons, "the fake answers only requests it took");
        let slot = self.rsp_prod_pvt & Self::MASK;
        self.rsp_prod_pvt = self.rsp_prod_pvt.wrapping_add(1);
        slot
    }

    /// `RING_PUSH_RESPONSES_AND_CHECK_NOTIFY`.
    fn push(&mut self) -> bool {
        let old = load_u32(&self.page, RSP_PROD);
        store_u32(&self.page, RSP_PROD, self.rsp_prod_pvt);
        notify_needed(old, self.rsp_prod_pvt, load_u32(&self.page, RSP_EVENT))
    }
}

/// The fake netback: maps the rings the front end published and serves them.
pub(crate) struct FakeNetback {
    machine: Rc<Machine>,
    tx: BackRing,
    rx: BackRing,
    /// Events the back end sent the front end.
    pub(crate) events: u32,
    /// Where in a receive page frames are put.
    pub(crate) rx_offset: u16,
}

impl FakeNetback {
    /// Attaches to the rings `DEVICE` published.
    pub(crate) fn attach(machine: &Rc<Machine>) -> Self {
        let reference = |key: &str| -> u32 {
            machine.store.borrow()[&format!("{DEVICE}/{key}")].parse().unwrap()
        };
        let ring = |key: &str| BackRing {
            page: machine.map(reference(key), true).expect("ring granted writable to the back end"),
            req_cons: 0,
            rsp_prod_pvt: 0,
        };
        Self {
            machine: machine.clone(),
            tx: ring("tx-ring-ref"),
            rx: ring("rx-ring-ref"),
            events: 0,
            rx_offset: 0,
        }
    }

    /// Receive requests posted and not yet used.
    pub(crate) fn rx_posted(&self) -> u32 {
        load_u32(&self.rx.page, REQ_PROD).wrapping_sub(self.rx.req_cons)
    }

    /// Copies `frame` into the next posted receive page and answers; false if none is posted.
    pub(crate) fn deliver(&mut self, frame: &[u8]) -> bool {
        let Some(slot) = self.rx.next_request() else { return false };
        let base = entry_offset(slot, 8);
        let id = load_u16(&self.rx.page, base);
        let grant = load_u32(&self.rx.page, base + 4);
        let page = self.machine.map(grant, true).expect("receive page granted writable");
        let offset = usize::from(self.rx_offset);
        page.borrow_mut()[offset..offset + frame.len()].copy_from_slice(frame);
        let status = frame.len() as i16;
        self.respond_rx(NetifRxResponse { id, offset: self.rx_offset, flags: 0, status });
        true
    }

    /// Uses up one posted receive request (returning its id and grant) without answering.
    pub(crate) fn take_rx_request(&mut self) -> Option<(u16, u32)> {
        let slot = self.rx.next_request()?;
        let base = entry_offset(slot, 8);
        Some((load_u16(&self.rx.page, base), load_u32(&self.rx.page, base + 4)))
    }

    /// Writes `response` as the next receive response and pushes it.
    pub(crate) fn respond_rx(&mut self, response: NetifRxResponse) {
        let base = entry_offset(self.rx.next_response(), 8);
        store_u16(&self.rx.page, base, response.id);
        store_u16(&self.rx.page, base + 2, response.offset);
        store_u16(&self.rx.page, base + 4, response.flags);
        store_u16(&self.rx.page, base + 6, response.status as u16);
        if self.rx.push() {
            self.events += 1;
        }
    }

    /// Takes every posted frame off the transmit ring and answers each.
    pub(crate) fn collect(&mut self) -> Vec<Vec<u8>> {
        let mut frames = Vec::new();
        while let Some((id, frame)) = self.take_tx_request() {
            frames.push(frame);
            self.respond_tx(NetifTxResponse { id, status: NETIF_RSP_OKAY });
        }
        frames
    }

    /// Takes one posted frame without answering: its id and bytes.
    pub(crate) fn take_tx_request(&mut self) -> Option<(u16, Vec<u8>)> {
        let slot = self.tx.next_request()?;
        let base = entry_offset(slot, 12);
        let grant = load_u32(&self.tx.page, base);
        let offset = usize::from(load_u16(&self.tx.page, base + 4));
        let id = load_u16(&self.tx.page, base + 8);
        let size = usize::from(load_u16(&self.tx.page, base + 10));
        let page = self.machine.map(grant, false).expect("transmit page granted to the back end");
        assert!(self.machine.map(grant, true).is_none(), "transmit pages are read-only");
        let frame = page.borrow()[offset..offset + size].to_vec();
        Some((id, frame))
    }

    /// Writes `response` as the next transmit response and pushes it.
    pub(crate) fn respond_tx(&mut self, response: NetifTxResponse) {
        let base = entry_offset(self.tx.next_response(), 12);
        store_u16(&self.tx.page, base, response.id);
        store_u16(&self.tx.page, base + 2, response.status as u16);
        if self.tx.push() {
            self.events += 1;
        }
    }

    /// Overwrites the receive ring's `rsp_prod` (a hostile back end).
    pub(crate) fn set_rx_rsp_prod(&mut self, value: u32) {
        store_u32(&self.rx.page, RSP_PROD, value);
    }

    /// Overwrites the transmit ring's `rsp_prod`.
    pub(crate) fn set_tx_rsp_prod(&mut self, value: u32) {
        store_u32(&self.tx.page, RSP_PROD, value);
    }
}
