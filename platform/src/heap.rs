//! The global allocator: a buddy allocator fed with free RAM from the memory map.
//!
//! `buddy_system_allocator` was chosen (see the brief) for its small code; the heap gets every
//! free region the frame allocator does not keep back, so its size follows the memory the
//! machine was given rather than a fixed array. Its lock is core's [`IrqMutex`], not the crate's
//! own `LockedHeap` spin lock: an allocation may be preempted by the timer, and the thread
//! switched to may allocate too, so interrupts stay masked while the heap is locked.

use buddy_system_allocator::Heap;
use core::alloc::{GlobalAlloc, Layout};
use core::ptr::NonNull;
use rivet_core::memory::PhysRange;
use rivet_core::sync::IrqMutex;

/// Order 40: blocks up to 2^39 bytes, far beyond any guest we boot.
struct KernelHeap(IrqMutex<Heap<40>>);

#[global_allocator]
static HEAP: KernelHeap = KernelHeap(IrqMutex::new(Heap::empty()));

// SAFETY: the buddy allocator hands out disjoint blocks of at least `layout.size()` bytes aligned
// to `layout.align()`, under a lock; `dealloc` gets back only what `alloc` gave (the caller's
// obligation under `GlobalAlloc`).
unsafe impl GlobalAlloc for KernelHeap {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        self.0.lock().alloc(layout).map_or(core::ptr::null_mut(), NonNull::as_ptr)
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if let Some(ptr) = NonNull::new(ptr) {
            self.0.lock().dealloc(ptr, layout);
        }
    }
}

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
    unsafe { HEAP.0.lock().add_to_heap(range.start as usize, range.end as usize) };
}

/// Bytes the heap manages in all.
pub(crate) fn total_bytes() -> usize {
    HEAP.0.lock().stats_total_bytes()
}

/// Bytes handed out (rounded up to the allocator's block sizes) and bytes managed.
pub(crate) fn usage() -> (usize, usize) {
    let heap = HEAP.0.lock();
    (heap.stats_alloc_actual(), heap.stats_total_bytes())
}
