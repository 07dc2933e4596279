//! What the driver needs from the platform: pages, grants, events, xenstore.
//!
//! Four small traits, split by use (Tock's HIL rules): [`PageAllocator`] and [`SharedPage`]
//! (memory the back end may see), [`GrantAccess`] (the grant table), [`EventChannel`] (one port
//! to the back end) and [`Store`] (xenstore, blocking). The platform implements them over the
//! real hypercalls and rings; the tests implement them over plain memory with a fake back end.
//!
//! The one unsafe door is [`PageAllocator`]: the driver grants the frames it hands out, so a
//! frame number that is not the page's would let the back end write over memory the driver does
//! not own. Everything else is memory-safe whatever its implementation does.

use alloc::string::String;
use core::fmt;

pub use rivet_xen_abi::grant_table::{GrantError, GrantRef};

/// Bytes of a shared page (and of a grant).
pub const PAGE_SIZE: usize = 4096;

/// One zeroed, page-aligned page of memory, owned by this handle, that the back end may be
/// granted. Word accessors are for ring pages, byte access for frame buffers.
///
/// Offsets are in bytes from the start of the page; the driver passes only offsets inside the
/// page, aligned to the access size. An implementation may panic on others (a driver bug).
pub trait SharedPage {
    /// The frame number Xen knows this page by (machine frame on x86 PV, guest frame on HVM,
    /// PVH and arm).
    fn frame(&self) -> u64;
    /// Reads the `u16` at `offset` once (a volatile read: the back end may change it).
    fn load_u16(&self, offset: usize) -> u16;
    /// Reads the `u32` at `offset` once, with acquire ordering (what `ring.h`'s `xen_rmb` after
    /// reading a producer index gives).
    fn load_u32(&self, offset: usize) -> u32;
    /// Writes the `u16` at `offset` (a volatile write).
    fn store_u16(&mut self, offset: usize, value: u16);
    /// Writes the `u32` at `offset` with release ordering (`xen_wmb` before a producer index).
    fn store_u32(&mut self, offset: usize, value: u32);
    /// A full memory barrier (`xen_mb`): earlier stores are visible before later loads.
    fn full_fence(&self);
    /// Lends the page's bytes to `f`. The driver calls it only while no grant of the page is
    /// active or the grant is read-only, so no other party writes the page meanwhile.
    fn with_bytes<R>(&self, f: impl FnOnce(&[u8]) -> R) -> R;
    /// Lends the page's bytes to `f` for writing; the same condition holds.
    fn with_bytes_mut<R>(&mut self, f: impl FnOnce(&mut [u8]) -> R) -> R;
}

/// The platform is out of pages for the driver.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OutOfPages;

impl fmt::Display for OutOfPages {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("no page left for the network card")
    }
}

impl core::error::Error for OutOfPages {}

/// Hands out shared pages.
///
/// # Safety
///
/// Implementation safety: every page [`allocate_page`](Self::allocate_page) returns
/// 1. is [`PAGE_SIZE`] bytes, page-aligned, zeroed, and used by nothing but its handle until the
///    handle is dropped (the driver leaks a handle, never drops it, while a grant of it may
///    still be in use);
/// 2. reports in [`SharedPage::frame`] the frame of exactly that memory, for as long as the
///    handle lives (the page is not moved or remapped meanwhile).
///
/// The driver grants those frames to the back end; either broken, the back end could read or
/// write memory nobody meant to share.
#[allow(unsafe_code)] // The crate's one unsafe door, documented above.
pub unsafe trait PageAllocator {
    /// The page handle.
    type Page: SharedPage;
    /// A new page.
    fn allocate_page(&mut self) -> Result<Self::Page, OutOfPages>;
}

/// The grant table: lets the back end at one frame, and takes the frame back.
pub trait GrantAccess {
    /// Grants `frame` to `domain`, read-only or writable: a free reference, its entry written
    /// (`frame` and `domid`, a write barrier, then `flags`). `Err(Exhausted)` when the
    /// table is full; `Err(FrameTooLarge)` for a frame a v1 entry cannot hold.
    fn grant(&mut self, domain: u16, frame: u64, readonly: bool) -> Result<GrantRef, GrantError>;
    /// Ends the access and frees the reference (compare-exchange of the flags to 0).
    /// `Err(InUse)` while the grantee maps or copies the frame: the reference stays granted, the
    /// frame must not be reused, retry later. Other errors mean a reference that was not granted.
    fn end(&mut self, reference: GrantRef) -> Result<(), GrantError>;
}

/// The event channel could not be set up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EventChannelError(pub i64);

impl fmt::Display for EventChannelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "event channel operation failed ({})", self.0)
    }
}

impl core::error::Error for EventChannelError {}

/// Event channels to the back end.
pub trait EventChannel {
    /// A new port that `remote` may bind (`EVTCHNOP_alloc_unbound`). The platform routes its
    /// events to whoever polls this device (the network interrupt's thread) and unmasks it.
    fn allocate_unbound(&mut self, remote: u16) -> Result<u32, EventChannelError>;
    /// Raises `port` at the other end (`EVTCHNOP_send`).
    fn notify(&mut self, port: u32);
}

/// A xenstore operation failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StoreError {
    /// The node does not exist (`ENOENT`).
    NoEntry,
    /// `wait_for_change` saw no change before its timeout.
    TimedOut,
    /// The store refused or the transport failed (an `E*` name from the reply, or the
    /// platform's own words).
    Failed(&'static str),
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoEntry => f.write_str("no such xenstore node"),
            Self::TimedOut => f.write_str("timed out waiting for a xenstore node"),
            Self::Failed(why) => write!(f, "xenstore failed: {why}"),
        }
    }
}

impl core::error::Error for StoreError {}

/// Xenstore, blocking. Paths are relative to the domain's home (`device/vif/0/state`) or
/// absolute (`/local/domain/0/backend/vif/5/0/state`).
pub trait Store {
    /// The value of `path` (untrusted text).
    fn read(&mut self, path: &str) -> Result<String, StoreError>;
    /// Sets `path` to `value`.
    fn write(&mut self, path: &str, value: &str) -> Result<(), StoreError>;
    /// Blocks until `path` changes after the call began or `timeout_ms` passes
    /// (`Err(TimedOut)`). Over xenstore: set a watch, swallow the event xenstore sends at once
    /// for a new watch, wait for the next one, remove the watch. An occasional spurious return
    /// is tolerated (the driver re-reads and waits again, a bounded number of times); returning
    /// at once every time is not: the handshake would give up before the back end is ready.
    fn wait_for_change(&mut self, path: &str, timeout_ms: u64) -> Result<(), StoreError>;
}
