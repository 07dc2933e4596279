//! Xen netfront: the `rivet-xen-netfront` driver over this kernel's pages, grants, event
//! channels and xenstore.
//!
//! [`attach`] runs where the Xen port offers split-driver support (`crate::xen::split_drivers`:
//! a PV domU with xenstore and a grant table) and the domain has a `device/vif/0` in xenstore;
//! it connects the card (the xenstore handshake with the back end in dom0), installs it as the
//! interface, and routes its event channel to the network thread. The driver's platform traits
//! are implemented here over the kernel's heap ([`HeapPages`]), the port's grant table and
//! event channels ([`Grants`], [`Events`]) and `rivet::xen::store` ([`Xenstore`]).

use super::card::Card;
use super::interface::{self, Acknowledge};
use crate::xen::{store, SplitDrivers};
use alloc::alloc::{alloc_zeroed, dealloc, Layout};
use alloc::format;
use alloc::string::String;
use core::ptr::NonNull;
use core::sync::atomic::{fence, AtomicU16, AtomicU32, Ordering};
use core::time::Duration;
use rivet_core::interrupt::Irq;
use rivet_core::net::config::Ipv4Config;
use rivet_xen_netfront::platform::{
    EventChannel, EventChannelError, GrantAccess, GrantError, GrantRef, OutOfPages, PageAllocator,
    SharedPage, Store, StoreError, PAGE_SIZE,
};
use rivet_xen_netfront::{NetfrontConfig, XenNetfront};

/// A netfront as the interface drives it.
pub(crate) type XenCard = XenNetfront<HeapPage, Grants, Events>;

/// Connects the domain's first virtual network card, if it has one, and makes it the
/// interface. Returns whether a card was attached.
pub(crate) fn attach(config: &Ipv4Config, tcp_buffer: usize) -> bool {
    let Some(split) = crate::xen::split_drivers() else { return false };
    let netfront = NetfrontConfig::default();
    if store::read(&format!("{}/backend-id", netfront.device)).is_err() {
        return false; // no vif for this domain
    }
    let card = match XenNetfront::connect(
        &netfront,
        &mut Xenstore,
        &mut HeapPages { split },
        Grants { split },
        Events { split },
    ) {
        Ok(card) => card,
        Err(e) => {
            log::error!("net: the Xen network card {} failed to connect: {e}", netfront.device);
            return false;
        }
    };
    let port = card.port();
    let backend = card.backend_domain();
    let net = interface::install(Card::Xen(card), config, Acknowledge::Event, tcp_buffer);
    let interrupt = match rivet_core::interrupt::set_handler(Irq(port), on_event) {
        Ok(()) => format!("event channel {port}"),
        Err(e) => {
            net.poll_on_timer();
            format!("polled: event channel {port}: {e:?}")
        }
    };
    net.start(
        format_args!("Xen netfront {} (back end in domain {backend})", netfront.device),
        &interrupt,
    );
    true
}

/// The card's event: wake the network thread.
fn on_event(irq: Irq) {
    if let Ok(net) = interface::net() {
        net.interrupt(irq);
    }
}

/// A page of the heap, zeroed and page-aligned, shared with the back end.
pub(crate) struct HeapPage {
    memory: NonNull<u8>,
    frame: u64,
}

// SAFETY: the page is owned by this handle alone; the back end's concurrent accesses go
// through the atomics below.
unsafe impl Send for HeapPage {}

const PAGE_LAYOUT: Layout = match Layout::from_size_align(PAGE_SIZE, PAGE_SIZE) {
    Ok(layout) => layout,
    Err(_) => panic!("a page layout"),
};

impl HeapPage {
    fn word<T>(&self, offset: usize) -> *mut T {
        assert!(offset + size_of::<T>() <= PAGE_SIZE && offset.is_multiple_of(align_of::<T>()));
        // SAFETY: in bounds of the page (checked above).
        unsafe { self.memory.as_ptr().add(offset).cast::<T>() }
    }
}

impl SharedPage for HeapPage {
    fn frame(&self) -> u64 {
        self.frame
    }

    fn load_u16(&self, offset: usize) -> u16 {
        // SAFETY: an aligned u16 inside the page this handle owns; the back end writes it with
        // plain stores, which an atomic load observes whole.
        unsafe { AtomicU16::from_ptr(self.word(offset)) }.load(Ordering::Acquire)
    }

    fn load_u32(&self, offset: usize) -> u32 {
        // SAFETY: as in `load_u16`.
        unsafe { AtomicU32::from_ptr(self.word(offset)) }.load(Ordering::Acquire)
    }

    fn store_u16(&mut self, offset: usize, value: u16) {
        // SAFETY: as in `load_u16`.
        unsafe { AtomicU16::from_ptr(self.word(offset)) }.store(value, Ordering::Release)
    }

    fn store_u32(&mut self, offset: usize, value: u32) {
        // SAFETY: as in `load_u16`.
        unsafe { AtomicU32::from_ptr(self.word(offset)) }.store(value, Ordering::Release)
    }

    fn full_fence(&self) {
        fence(Ordering::SeqCst);
    }

    fn with_bytes<R>(&self, f: impl FnOnce(&[u8]) -> R) -> R {
        // SAFETY: the page is PAGE_SIZE bytes owned by this handle; the driver lends it only
        // while no writable grant is active (the trait's contract), so nobody writes it meanwhile.
        f(unsafe { core::slice::from_raw_parts(self.memory.as_ptr(), PAGE_SIZE) })
    }

    fn with_bytes_mut<R>(&mut self, f: impl FnOnce(&mut [u8]) -> R) -> R {
        // SAFETY: as in `with_bytes`, and `&mut self` makes this the only borrow.
        f(unsafe { core::slice::from_raw_parts_mut(self.memory.as_ptr(), PAGE_SIZE) })
    }
}

impl Drop for HeapPage {
    fn drop(&mut self) {
        // SAFETY: allocated in `allocate_page` with PAGE_LAYOUT; the driver drops a page only
        // once no grant of it is active (it leaks those).
        unsafe { dealloc(self.memory.as_ptr(), PAGE_LAYOUT) };
    }
}

/// Hands out heap pages with their frame numbers.
struct HeapPages {
    split: &'static dyn SplitDrivers,
}

// SAFETY: each page is a fresh zeroed PAGE_SIZE allocation, aligned to PAGE_SIZE, owned by its
// handle until dropped; its frame is the port's translation of its address (the heap does not
// move pages: it lives in the domain's linear map for good).
unsafe impl PageAllocator for HeapPages {
    type Page = HeapPage;

    fn allocate_page(&mut self) -> Result<HeapPage, OutOfPages> {
        // SAFETY: the layout's size is not zero.
        let memory = NonNull::new(unsafe { alloc_zeroed(PAGE_LAYOUT) }).ok_or(OutOfPages)?;
        match self.split.frame_of(memory.as_ptr() as usize) {
            Some(frame) => Ok(HeapPage { memory, frame }),
            None => {
                // SAFETY: just allocated with this layout, never shared.
                unsafe { dealloc(memory.as_ptr(), PAGE_LAYOUT) };
                Err(OutOfPages)
            }
        }
    }
}

/// The port's grant table.
pub(crate) struct Grants {
    split: &'static dyn SplitDrivers,
}

impl GrantAccess for Grants {
    fn grant(&mut self, domain: u16, frame: u64, readonly: bool) -> Result<GrantRef, GrantError> {
        self.split.grant(domain, frame, readonly)
    }

    fn end(&mut self, reference: GrantRef) -> Result<(), GrantError> {
        self.split.end_grant(reference)
    }
}

/// The port's event channels.
pub(crate) struct Events {
    split: &'static dyn SplitDrivers,
}

impl EventChannel for Events {
    fn allocate_unbound(&mut self, remote: u16) -> Result<u32, EventChannelError> {
        self.split.alloc_unbound(remote).map_err(EventChannelError)
    }

    fn notify(&mut self, port: u32) {
        self.split.notify(port);
    }
}

/// `rivet::xen::store` for the driver's handshake.
struct Xenstore;

/// The driver's error for a xenstore failure.
fn store_error(error: crate::xen::Error) -> StoreError {
    match error {
        crate::xen::Error::Daemon(crate::xen::ErrorName::ENOENT) => StoreError::NoEntry,
        crate::xen::Error::TimedOut => StoreError::TimedOut,
        crate::xen::Error::Daemon(name) => StoreError::Failed(name.as_str()),
        _ => StoreError::Failed("the xenstore connection failed"),
    }
}

impl Store for Xenstore {
    fn read(&mut self, path: &str) -> Result<String, StoreError> {
        store::read(path).map_err(store_error)
    }

    fn write(&mut self, path: &str, value: &str) -> Result<(), StoreError> {
        store::write(path, value).map_err(store_error)
    }

    fn wait_for_change(&mut self, path: &str, timeout_ms: u64) -> Result<(), StoreError> {
        const TOKEN: &str = "rivet-netfront";
        let timeout = Duration::from_millis(timeout_ms);
        let before = store::read(path).ok();
        store::watch(path, TOKEN).map_err(store_error)?;
        // A new watch fires once at once: that event says nothing, but a change between the
        // read above and the watch would be lost with it, so compare first.
        let changed = store::wait_watch(TOKEN, timeout).and_then(|_| {
            if store::read(path).ok() != before {
                return Ok(String::new());
            }
            store::wait_watch(TOKEN, timeout)
        });
        let _ = store::unwatch(path, TOKEN);
        changed.map(|_| ()).map_err(store_error)
    }
}
