//! The global allocator: a buddy allocator fed with free RAM from the memory map.
//!
//! `buddy_system_allocator` was chosen (see the brief) for its small code and `no_std` lock; the
//! heap gets every free region the frame allocator does not keep back, so its size follows the
//! memory the machine was given rather than a fixed array.

use buddy_system_allocator::LockedHeap;
use rivet_core::memory::PhysRange;

/// Order 40: blocks up to 2^39 bytes, far beyond any guest we boot.
#[global_allocator]
static HEAP: LockedHeap<40> = LockedHeap::empty();

/// Gives `range` of RAM to the heap.
///
/// # Safety
/// 1. `range` is RAM that nothing else uses or will use (taken out of the frame allocator).
/// 2. It is mapped read-write at the addresses `range` names (the direct map's, or on Xen PV
///    the virtual addresses of the pages: see `runtime::Handoff::frames`).
pub(crate) unsafe fn add_region(range: PhysRange) {
    if range.is_empty() {
        return;
    }
    // SAFETY: obligations 1 and 2 of this function make the range exclusively ours and
    // addressable at its physical address.
    unsafe { HEAP.lock().add_to_heap(range.start as usize, range.end as usize) };
}

/// Bytes the heap manages in all.
pub(crate) fn total_bytes() -> usize {
    HEAP.lock().stats_total_bytes()
}
