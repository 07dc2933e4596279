//! The grant table (v1): how this domain lets another one (a backend in dom0) use its pages.
//!
//! [`init`] asks Xen for [`FRAMES`] frames of table (`GNTTABOP_setup_table`, which for a PV
//! guest returns their machine frame numbers) and maps them over slots of the image. An entry
//! grants one of our frames to one domain: [`GrantTable::grant`] takes a free reference from the
//! checked allocator (`rivet_xen_abi::grant_table`), writes frame and domain, then — after a
//! release fence — the flags, so Xen never sees the flags with a stale frame. Ending an access
//! ([`GrantTable::end`]) clears the flags with a compare-exchange only while Xen does not say
//! the grantee is reading or writing the frame; otherwise the caller is told to retry later and
//! must not reuse the frame meanwhile.
//!
//! Weak spot: the table does not grow past [`FRAMES`] frames (2,048 references, 8 reserved).

use super::shared_page::{self, PageSlot};
use core::sync::atomic::{fence, AtomicU16, AtomicU32, Ordering};
use rivet_arch::xen_pv::hypercall;
use rivet_xen_abi::grant_table::{
    end_access_decision, permit_access_entry, GnttabSetupTable, GrantEntryV1, GrantError, GrantRef,
    GrantRefAllocator, ENTRIES_PER_FRAME_V1, GNTST_OKAY, GNTTABOP_SETUP_TABLE, GRANT_TABLE_OP,
};
use rivet_xen_abi::hypercall::DOMID_SELF;
use spin::{Mutex, Once};

/// Frames of grant table this domain sets up.
pub(super) const FRAMES: usize = 4;
/// References the table holds.
const ENTRIES: usize = FRAMES * ENTRIES_PER_FRAME_V1 as usize;

/// Where the table's frames are mapped, one after the other.
static mut TABLE_PAGES: [PageSlot; FRAMES] = [const { PageSlot::new() }; FRAMES];

/// Why the grant table cannot be used.
#[derive(Debug)]
pub(super) enum SetupError {
    /// The hypercall failed (`-errno`).
    Hypercall(i64),
    /// Xen answered with a `GNTST_*` status.
    Status(i16),
    /// A table frame could not be mapped.
    Map(i64),
}

impl core::fmt::Display for SetupError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            SetupError::Hypercall(e) => write!(f, "GNTTABOP_setup_table failed ({e})"),
            SetupError::Status(s) => write!(f, "GNTTABOP_setup_table: status {s}"),
            SetupError::Map(e) => write!(f, "cannot map a grant-table frame ({e})"),
        }
    }
}

/// The domain's grant table.
pub(super) struct GrantTable {
    entries: *mut GrantEntryV1,
    free: Mutex<GrantRefAllocator<ENTRIES>>,
}

// SAFETY: `entries` points at the mapped table for the rest of the run; entries are only
// written by the holder of their reference (from the allocator, under its lock) with atomics
// for the flags Xen also writes.
unsafe impl Sync for GrantTable {}
// SAFETY: as above.
unsafe impl Send for GrantTable {}

static TABLE: Once<GrantTable> = Once::new();

/// Sets up and maps the table; the table from then on.
pub(super) fn init() -> Result<&'static GrantTable, SetupError> {
    if let Some(table) = TABLE.get() {
        return Ok(table);
    }
    let mut frames = [0u64; FRAMES];
    let mut setup = GnttabSetupTable {
        dom: DOMID_SELF as u16,
        nr_frames: FRAMES as u32,
        status: 0,
        frame_list: frames.as_mut_ptr() as u64,
    };
    // SAFETY: `setup` is a readable and writable `gnttab_setup_table` whose `frame_list` has room
    // for `nr_frames` 64-bit entries, both alive for the call (obligation 2).
    let result =
        unsafe { hypercall(GRANT_TABLE_OP, GNTTABOP_SETUP_TABLE, &raw mut setup as u64, 1, 0, 0) };
    if result != 0 {
        return Err(SetupError::Hypercall(result));
    }
    if setup.status != GNTST_OKAY {
        return Err(SetupError::Status(setup.status));
    }
    let pages = (&raw mut TABLE_PAGES).cast::<PageSlot>();
    for (i, &mfn) in frames.iter().enumerate() {
        // SAFETY: the slots are used only through `entries` below, after this mapping; `i` <
        // FRAMES slots.
        unsafe { shared_page::map_frame(pages.add(i), mfn) }.map_err(SetupError::Map)?;
    }
    Ok(TABLE.call_once(|| GrantTable {
        entries: pages.cast::<GrantEntryV1>(),
        free: Mutex::new(GrantRefAllocator::new(ENTRIES as u32)),
    }))
}

impl GrantTable {
    /// Lets domain `domid` map or copy machine frame `frame` (read-only if `readonly`).
    pub(super) fn grant(
        &self,
        domid: u16,
        frame: u64,
        readonly: bool,
    ) -> Result<GrantRef, GrantError> {
        let entry = permit_access_entry(domid, frame, readonly)?;
        let reference = self.free.lock().allocate().ok_or(GrantError::Exhausted)?;
        let slot = self.slot(reference);
        // SAFETY: `slot` is this reference's entry in the mapped table, ours alone while the
        // reference is allocated; Xen reads it only once the flags say so (written last).
        unsafe {
            AtomicU16::from_ptr(&raw mut (*slot).domid).store(entry.domid, Ordering::Relaxed);
            AtomicU32::from_ptr(&raw mut (*slot).frame).store(entry.frame, Ordering::Relaxed);
            fence(Ordering::Release);
            AtomicU16::from_ptr(&raw mut (*slot).flags).store(entry.flags, Ordering::Release);
        }
        Ok(reference)
    }

    /// Ends the access `reference` gave and frees it; `GrantError::InUse` while the grantee is
    /// still mapping or copying (retry later; the frame must not be reused until this succeeds).
    pub(super) fn end(&self, reference: GrantRef) -> Result<(), GrantError> {
        if !self.free.lock().is_allocated(reference) {
            return Err(GrantError::NotAllocated(reference));
        }
        // SAFETY: an allocated reference's entry in the mapped table; Xen updates its flags
        // with atomic operations, so they are only accessed atomically here.
        let flags = unsafe { AtomicU16::from_ptr(&raw mut (*self.slot(reference)).flags) };
        let mut current = flags.load(Ordering::Acquire);
        loop {
            let expected = end_access_decision(current)?;
            match flags.compare_exchange(expected, 0, Ordering::AcqRel, Ordering::Acquire) {
                Ok(_) => break,
                Err(now) => current = now,
            }
        }
        self.free.lock().free(reference)
    }

    fn slot(&self, reference: GrantRef) -> *mut GrantEntryV1 {
        let index = (reference.0 as usize).min(ENTRIES - 1);
        // SAFETY: `index` < ENTRIES, within the FRAMES mapped pages of entries.
        unsafe { self.entries.add(index) }
    }
}
