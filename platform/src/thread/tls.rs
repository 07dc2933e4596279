//! Each thread's ELF TLS area (for C and C++ code: `errno`, `thread_local`), allocated from the
//! heap and laid out by `rivet_arch::tls`.
//!
//! `main` and every spawned thread get one; the idle threads run no application code and get
//! none (their thread pointer is 0). The scheduler loads the thread pointer on every switch.

use alloc::alloc::{alloc, dealloc};
use core::alloc::Layout;
use core::ptr::NonNull;

/// One thread's TLS area, freed when the thread record is dropped.
pub(crate) struct TlsArea {
    base: NonNull<u8>,
    layout: Layout,
    /// The value the thread pointer register holds while the thread runs.
    pub(crate) thread_pointer: u64,
}

// SAFETY: the area is plain memory owned by this value; it is only written through the thread
// pointer by the thread it belongs to.
unsafe impl Send for TlsArea {}
// SAFETY: as above: shared references to a `TlsArea` only read `thread_pointer`.
unsafe impl Sync for TlsArea {}

impl TlsArea {
    /// A fresh area (the template copied in), or `None` when the heap is out of memory.
    pub(crate) fn new() -> Option<Self> {
        let layout = rivet_arch::tls::area_layout();
        // SAFETY: the layout has a non-zero size (it includes the TCB).
        let base = NonNull::new(unsafe { alloc(layout) })?;
        // SAFETY: `base` was just allocated with `area_layout()` (size and TLS_ALIGN alignment)
        // and no thread uses it yet.
        let thread_pointer = unsafe { rivet_arch::tls::init_area(base.as_ptr()) };
        Some(Self { base, layout, thread_pointer })
    }
}

impl Drop for TlsArea {
    fn drop(&mut self) {
        // SAFETY: allocated in `new` with this layout; the thread that used it has finished (a
        // thread record is dropped only after it was reaped).
        unsafe { dealloc(self.base.as_ptr(), self.layout) };
    }
}
