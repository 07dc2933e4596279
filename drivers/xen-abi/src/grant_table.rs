//! Grant tables (v1): sharing a guest's pages, and the pure logic over them.
//!
//! Xen's `grant_table.h`: a guest shares one of its frames with another domain by writing a
//! [`GrantEntryV1`] into its grant table (frames Xen hands over with `GNTTABOP_setup_table`) and
//! passing the entry's index, the *grant reference*, to the other side (through xenstore or a
//! ring). The other domain maps or copies the frame through Xen, which sets `GTF_reading` /
//! `GTF_writing` in the entry while it does. To take the frame back, the guest clears `flags` with
//! a compare-exchange that fails while either bit is set.
//!
//! What lives here: the numbers ([`GRANT_TABLE_OP`], the `GNTTABOP_*` sub-operations, `GTF_*`
//! flags, `GNTST_*` statuses), the hypercall arguments [`GnttabSetupTable`] and
//! [`GnttabQuerySize`], the reference allocator [`GrantRefAllocator`], and the two decisions a
//! platform takes on a real entry: what to write to grant a frame ([`permit_access_entry`]) and
//! whether an access may end ([`end_access_decision`]). What does not: the writes themselves
//! (ordered, to shared memory: `frame` and `domid` first, a write barrier, `flags` last) and the
//! atomic compare-exchange on `flags`, which are the platform's.
//!
//! Weak spots: v1 entries only (a 32-bit `frame`: frames at or above 16 TiB cannot be granted),
//! no transitive or sub-page grants, no foreign-frame mapping (`GNTTABOP_map_grant_ref`), which a
//! frontend does not need.

use core::fmt;

/// `__HYPERVISOR_grant_table_op` (`xen.h`): `grant_table_op(cmd, args, count)`.
pub const GRANT_TABLE_OP: u64 = 20;

/// `GNTTABOP_setup_table`: argument a [`GnttabSetupTable`]; Xen fills `frame_list` with the
/// frames of the caller's grant table (to map; on x86 PV with `mmu_update`).
pub const GNTTABOP_SETUP_TABLE: u64 = 2;
/// `GNTTABOP_query_size`: argument a [`GnttabQuerySize`]; the current and largest table size.
pub const GNTTABOP_QUERY_SIZE: u64 = 6;
/// `GNTTABOP_set_version`: a guest that never calls it uses v1 entries, as this module assumes.
pub const GNTTABOP_SET_VERSION: u64 = 8;

/// `GNTST_okay`: the operation's `status` on success.
pub const GNTST_OKAY: i16 = 0;
/// `GNTST_general_error`.
pub const GNTST_GENERAL_ERROR: i16 = -1;
/// `GNTST_bad_domain`: the `dom` field names no domain (or not the caller, where it must).
pub const GNTST_BAD_DOMAIN: i16 = -2;
/// `GNTST_permission_denied`.
pub const GNTST_PERMISSION_DENIED: i16 = -8;

/// `GNTTAB_NR_RESERVED_ENTRIES`: references 0..8 belong to the toolstack (console and xenstore
/// rings are granted through them); a guest never hands them out.
pub const GNTTAB_NR_RESERVED_ENTRIES: u32 = 8;
/// v1 entries in one 4096-byte grant-table frame.
pub const ENTRIES_PER_FRAME_V1: u32 = 4096 / core::mem::size_of::<GrantEntryV1>() as u32;

/// `GTF_invalid`: the entry grants nothing.
pub const GTF_INVALID: u16 = 0;
/// `GTF_permit_access`: `domid` may map or copy `frame`.
pub const GTF_PERMIT_ACCESS: u16 = 1;
/// `GTF_type_mask`: the two type bits of `flags`.
pub const GTF_TYPE_MASK: u16 = 3;
/// `GTF_readonly`: the access is read-only.
pub const GTF_READONLY: u16 = 1 << 2;
/// `GTF_reading`: set by Xen while the grantee has the frame mapped or is copying from it.
pub const GTF_READING: u16 = 1 << 3;
/// `GTF_writing`: set by Xen while the grantee has the frame mapped writable or copies into it.
pub const GTF_WRITING: u16 = 1 << 4;

/// `grant_ref_t`: an index into the grant table, passed to the other domain.
#[repr(transparent)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct GrantRef(pub u32);

/// `struct grant_entry_v1`: one grant, as the granting guest writes it.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GrantEntryV1 {
    /// `GTF_*`: type and access bits; `GTF_reading`/`GTF_writing` are Xen's.
    pub flags: u16,
    /// The domain allowed the access.
    pub domid: u16,
    /// The frame granted (a machine frame on x86 PV, a guest frame elsewhere).
    pub frame: u32,
}

/// `struct gnttab_setup_table` (x86_64; `XEN_GUEST_HANDLE` is a 64-bit pointer).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct GnttabSetupTable {
    /// IN: `DOMID_SELF`.
    pub dom: u16,
    /// IN: how many frames the table should have (and `frame_list` can hold).
    pub nr_frames: u32,
    /// OUT: a `GNTST_*` status.
    pub status: i16,
    /// IN: the address of an array of `nr_frames` 64-bit frame numbers, filled by Xen.
    pub frame_list: u64,
}

/// `struct gnttab_query_size`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct GnttabQuerySize {
    /// IN: `DOMID_SELF`.
    pub dom: u16,
    /// OUT: frames the table has now.
    pub nr_frames: u32,
    /// OUT: frames it may grow to.
    pub max_nr_frames: u32,
    /// OUT: a `GNTST_*` status.
    pub status: i16,
}

/// What went wrong with a grant reference or entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GrantError {
    /// The reference is one of the toolstack's (below [`GNTTAB_NR_RESERVED_ENTRIES`]): the
    /// caller's bug.
    Reserved(GrantRef),
    /// The reference is beyond the allocator's entries: the caller's bug (or a corrupted value).
    OutOfRange(GrantRef),
    /// The reference is not allocated (a double free): the caller's bug; nothing was changed.
    NotAllocated(GrantRef),
    /// The frame does not fit a v1 entry's 32 bits: this memory cannot be granted with v1.
    FrameTooLarge(u64),
    /// Every reference is in use.
    Exhausted,
    /// The grantee still uses the frame (`GTF_reading` or `GTF_writing`, the flags carried):
    /// retry later; the frame must not be reused until then.
    InUse(u16),
}

impl fmt::Display for GrantError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Reserved(r) => write!(f, "grant reference {} is reserved", r.0),
            Self::OutOfRange(r) => write!(f, "grant reference {} is out of range", r.0),
            Self::NotAllocated(r) => write!(f, "grant reference {} is not allocated", r.0),
            Self::FrameTooLarge(frame) => write!(f, "frame {frame:#x} does not fit a v1 grant"),
            Self::InUse(flags) => write!(f, "grant still in use (flags {flags:#x})"),
            Self::Exhausted => write!(f, "every grant reference is in use"),
        }
    }
}

impl core::error::Error for GrantError {}

/// Marks an allocated reference in [`GrantRefAllocator`]'s links.
const ALLOCATED: u32 = u32::MAX;
/// Ends the free list.
const END: u32 = u32::MAX - 1;

/// A fixed-capacity free list of grant references `8..entries`, `entries <= N`.
///
/// `N` is the most entries the table can have (`ENTRIES_PER_FRAME_V1 * max frames`); each costs
/// four bytes here. Allocation and free are O(1); a free is checked (range, reserved, double free)
/// and leaves the list untouched when it fails. Most recently freed references come back first.
pub struct GrantRefAllocator<const N: usize> {
    /// For a free reference, the next free one (or `END`); for an allocated one, `ALLOCATED`.
    links: [u32; N],
    /// The first free reference, or `END`.
    head: u32,
    /// Entries managed: references `GNTTAB_NR_RESERVED_ENTRIES..entries`.
    entries: u32,
    /// Free references.
    free: u32,
}

impl<const N: usize> GrantRefAllocator<N> {
    /// An allocator over references `8..entries` (at most `N`; more is clamped to `N`), all free.
    pub const fn new(entries: u32) -> Self {
        let entries = if (entries as usize) > N { N as u32 } else { entries };
        let mut links = [ALLOCATED; N];
        let mut head = END;
        let mut free = 0;
        // Built from the top so that the lowest reference is handed out first.
        let mut index = entries;
        while index > GNTTAB_NR_RESERVED_ENTRIES {
            index -= 1;
            links[index as usize] = head;
            head = index;
            free += 1;
        }
        Self { links, head, entries, free }
    }

    /// A free reference, now allocated; `None` when every one is in use.
    pub fn allocate(&mut self) -> Option<GrantRef> {
        if self.head == END {
            return None;
        }
        let reference = self.head;
        self.head = self.links[reference as usize];
        self.links[reference as usize] = ALLOCATED;
        self.free -= 1;
        Some(GrantRef(reference))
    }

    /// Returns `reference` to the free list. Errors (and changes nothing) for a reserved, an
    /// out-of-range or a reference that is not allocated.
    pub fn free(&mut self, reference: GrantRef) -> Result<(), GrantError> {
        if reference.0 < GNTTAB_NR_RESERVED_ENTRIES {
            return Err(GrantError::Reserved(reference));
        }
        if reference.0 >= self.entries {
            return Err(GrantError::OutOfRange(reference));
        }
        let link = &mut self.links[reference.0 as usize];
        if *link != ALLOCATED {
            return Err(GrantError::NotAllocated(reference));
        }
        *link = self.head;
        self.head = reference.0;
        self.free += 1;
        Ok(())
    }

    /// Whether `reference` is currently allocated.
    pub fn is_allocated(&self, reference: GrantRef) -> bool {
        (GNTTAB_NR_RESERVED_ENTRIES..self.entries).contains(&reference.0)
            && self.links[reference.0 as usize] == ALLOCATED
    }

    /// References free now.
    pub fn free_count(&self) -> u32 {
        self.free
    }

    /// References this allocator hands out at most (`entries - 8`, or 0).
    pub fn capacity(&self) -> u32 {
        self.entries.saturating_sub(GNTTAB_NR_RESERVED_ENTRIES)
    }
}

/// The entry that grants `frame` to domain `domid`, read-only or writable. The platform writes
/// `frame` and `domid`, then a write barrier, then `flags`: Xen must never see the flags with a
/// stale frame.
pub fn permit_access_entry(
    domid: u16,
    frame: u64,
    readonly: bool,
) -> Result<GrantEntryV1, GrantError> {
    let frame32 = u32::try_from(frame).map_err(|_| GrantError::FrameTooLarge(frame))?;
    let flags = GTF_PERMIT_ACCESS | if readonly { GTF_READONLY } else { 0 };
    Ok(GrantEntryV1 { flags, domid, frame: frame32 })
}

/// Whether an access whose entry currently has `flags` may end: `Ok(expected)` means "clear the
/// flags with a compare-exchange from `expected` to 0; if it fails, read the flags again and ask
/// again"; `Err(InUse)` means the grantee is mapping or copying: retry later and do not reuse the
/// frame meanwhile.
pub fn end_access_decision(flags: u16) -> Result<u16, GrantError> {
    if flags & (GTF_READING | GTF_WRITING) != 0 {
        Err(GrantError::InUse(flags))
    } else {
        Ok(flags)
    }
}

macro_rules! offset {
    ($t:ty, $f:ident, $n:expr) => {
        const _: () = assert!(core::mem::offset_of!($t, $f) == $n);
    };
}
// Numbers printed by gcc (x86_64) with `offsetof`/`sizeof` against the Xen 4.17 headers.
const _: () = assert!(core::mem::size_of::<GrantEntryV1>() == 8);
offset!(GrantEntryV1, flags, 0);
offset!(GrantEntryV1, domid, 2);
offset!(GrantEntryV1, frame, 4);
const _: () = assert!(core::mem::size_of::<GnttabSetupTable>() == 24);
offset!(GnttabSetupTable, dom, 0);
offset!(GnttabSetupTable, nr_frames, 4);
offset!(GnttabSetupTable, status, 8);
offset!(GnttabSetupTable, frame_list, 16);
const _: () = assert!(core::mem::size_of::<GnttabQuerySize>() == 16);
offset!(GnttabQuerySize, dom, 0);
offset!(GnttabQuerySize, nr_frames, 4);
offset!(GnttabQuerySize, max_nr_frames, 8);
offset!(GnttabQuerySize, status, 12);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_match_the_xen_4_17_headers() {
        // As a C program printed them.
        assert_eq!(GRANT_TABLE_OP, 20);
        assert_eq!((GNTTABOP_SETUP_TABLE, GNTTABOP_QUERY_SIZE), (2, 6));
        assert_eq!(GNTTAB_NR_RESERVED_ENTRIES, 8);
        assert_eq!((GTF_PERMIT_ACCESS, GTF_READONLY, GTF_READING, GTF_WRITING), (1, 4, 8, 16));
        assert_eq!(GTF_TYPE_MASK, 3);
        assert_eq!(ENTRIES_PER_FRAME_V1, 512);
        assert_eq!(core::mem::size_of::<GnttabSetupTable>(), 24);
        assert_eq!(core::mem::offset_of!(GnttabSetupTable, frame_list), 16);
        assert_eq!(core::mem::size_of::<GnttabQuerySize>(), 16);
    }

    #[test]
    fn allocator_never_hands_out_reserved_refs_and_runs_dry() {
        let mut refs = GrantRefAllocator::<64>::new(64);
        assert_eq!(refs.capacity(), 56);
        let all: Vec<GrantRef> = std::iter::from_fn(|| refs.allocate()).collect();
        assert_eq!(all.len(), 56);
        assert_eq!(all[0], GrantRef(8));
        assert!(all.iter().all(|r| (8..64).contains(&r.0)));
        assert_eq!(refs.allocate(), None);
        assert_eq!(refs.free_count(), 0);
        refs.free(GrantRef(30)).unwrap();
        assert_eq!(refs.allocate(), Some(GrantRef(30)));
        assert_eq!(refs.allocate(), None);
    }

    #[test]
    fn allocator_rejects_bad_frees_without_corrupting_the_list() {
        let mut refs = GrantRefAllocator::<32>::new(16);
        let a = refs.allocate().unwrap();
        let b = refs.allocate().unwrap();
        assert_eq!(refs.free(GrantRef(3)), Err(GrantError::Reserved(GrantRef(3))));
        assert_eq!(refs.free(GrantRef(16)), Err(GrantError::OutOfRange(GrantRef(16))));
        assert_eq!(refs.free(GrantRef(u32::MAX)), Err(GrantError::OutOfRange(GrantRef(u32::MAX))));
        // Never allocated.
        assert_eq!(refs.free(GrantRef(15)), Err(GrantError::NotAllocated(GrantRef(15))));
        refs.free(a).unwrap();
        assert_eq!(refs.free(a), Err(GrantError::NotAllocated(a)));
        assert_eq!(refs.free_count(), 7);
        assert!(refs.is_allocated(b));
        assert!(!refs.is_allocated(a));
        // Every reference comes out exactly once.
        let mut seen: Vec<u32> = std::iter::from_fn(|| refs.allocate()).map(|r| r.0).collect();
        seen.sort_unstable();
        let expected: Vec<u32> = (8..16).filter(|&r| r != b.0).collect();
        assert_eq!(seen, expected);
    }

    #[test]
    fn allocator_clamps_and_handles_tiny_tables() {
        let mut tiny = GrantRefAllocator::<16>::new(4);
        assert_eq!(tiny.capacity(), 0);
        assert_eq!(tiny.allocate(), None);
        let clamped = GrantRefAllocator::<16>::new(1000);
        assert_eq!(clamped.capacity(), 8);
    }

    #[test]
    fn allocator_survives_long_churn() {
        let mut refs = GrantRefAllocator::<512>::new(512);
        let mut held = Vec::new();
        for round in 0..10_000u32 {
            if round % 3 == 2 || refs.free_count() == 0 {
                let r = held.swap_remove((round as usize * 7) % held.len());
                refs.free(r).unwrap();
            } else {
                held.push(refs.allocate().unwrap());
            }
            assert_eq!(refs.free_count() as usize + held.len(), 504);
        }
    }

    #[test]
    fn entries_for_permit_access() {
        let entry = permit_access_entry(0, 0x1234, true).unwrap();
        assert_eq!(
            entry,
            GrantEntryV1 { flags: GTF_PERMIT_ACCESS | GTF_READONLY, domid: 0, frame: 0x1234 }
        );
        let entry = permit_access_entry(7, 0xffff_ffff, false).unwrap();
        assert_eq!(entry.flags, GTF_PERMIT_ACCESS);
        assert_eq!(entry.domid, 7);
        assert_eq!(permit_access_entry(0, 1 << 32, false), Err(GrantError::FrameTooLarge(1 << 32)));
    }

    #[test]
    fn end_access_waits_for_the_grantee() {
        assert_eq!(end_access_decision(GTF_PERMIT_ACCESS), Ok(GTF_PERMIT_ACCESS));
        assert_eq!(end_access_decision(GTF_PERMIT_ACCESS | GTF_READONLY), Ok(5));
        assert_eq!(end_access_decision(GTF_INVALID), Ok(0));
        let reading = GTF_PERMIT_ACCESS | GTF_READING;
        assert_eq!(end_access_decision(reading), Err(GrantError::InUse(reading)));
        let writing = GTF_PERMIT_ACCESS | GTF_WRITING;
        assert_eq!(end_access_decision(writing), Err(GrantError::InUse(writing)));
    }
}
