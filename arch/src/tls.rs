//! ELF thread-local storage: the image's TLS template and each thread's block.
//!
//! C's `__thread` and C++'s `thread_local` (errno, libstdc++'s exception globals) are compiled to
//! offsets from the *thread pointer* (the local-exec and initial-exec models; the linker relaxes
//! the dynamic ones, as the image is one static executable). Each thread therefore owns an *area*
//! holding a copy of the template — `.tdata` followed by zeroed `.tbss`, both from the linker
//! script — and a thread control block (TCB) the ABI places beside it; the scheduler loads the
//! thread pointer on every switch ([`set_thread_pointer`]). Where block and TCB go is the
//! architecture's TLS variant (`tls_abi` in each architecture's folder): variant II on x86_64
//! (the block just below the thread pointer, which points at the TCB whose first word is its own
//! address), variant I on aarch64 (the thread pointer at a 16-byte TCB, the block after it).
//!
//! Rivet's own Rust code uses no ELF TLS (its `thread_local!` lives in the scheduler's thread
//! record). Non-goal: dynamic TLS (`dlopen`): there is one module, the image.

use core::alloc::Layout;

pub use crate::imp::tls_abi::set_thread_pointer;

/// The alignment every thread's TLS block gets, and the `ALIGN` the linker scripts give
/// `.tdata`, so that PT_TLS's `p_align` — from which the linker computes every offset — is known
/// here (the scripts assert no input section wants more).
pub const TLS_ALIGN: usize = 64;

extern "C" {
    static __tdata_start: u8;
    static __tdata_end: u8;
    static __tbss_end: u8;
}

/// The TLS template: the initialised bytes (`.tdata`) and the size of the whole block
/// (`.tdata`, padding, `.tbss`), from the linker script's symbols.
fn template() -> (&'static [u8], usize) {
    let start = (&raw const __tdata_start) as usize;
    let data_end = (&raw const __tdata_end) as usize;
    let end = (&raw const __tbss_end) as usize;
    // SAFETY: the linker script puts .tdata between __tdata_start and __tdata_end inside a loaded,
    // read-only segment of the image; nothing writes it after boot (the aarch64 entry code's
    // relocation pass runs before any Rust).
    let init = unsafe { core::slice::from_raw_parts(start as *const u8, data_end - start) };
    (init, end.max(data_end) - start)
}

/// Size and alignment of one thread's TLS area (block and TCB together).
pub fn area_layout() -> Layout {
    let (_, memory_size) = template();
    let size = crate::imp::tls_abi::area_size(memory_size);
    Layout::from_size_align(size, TLS_ALIGN).expect("the TLS area size fits a Layout")
}

/// Fills a thread's area (the template copied, `.tbss` zeroed, the TCB set up) and returns the
/// thread pointer for it.
///
/// # Safety
/// 1. `area` is valid for writes of [`area_layout`]`().size()` bytes and aligned to
///    [`TLS_ALIGN`].
/// 2. The area is not in use by a running thread.
pub unsafe fn init_area(area: *mut u8) -> u64 {
    let (init, memory_size) = template();
    let layout = area_layout();
    // SAFETY: obligation 1: the whole area is ours to write.
    let area = unsafe { core::slice::from_raw_parts_mut(area, layout.size()) };
    area.fill(0);
    let block = crate::imp::tls_abi::block_offset(memory_size);
    area[block..block + init.len()].copy_from_slice(init);
    let pointer_offset = crate::imp::tls_abi::thread_pointer_offset(memory_size);
    let thread_pointer = area.as_ptr() as u64 + pointer_offset as u64;
    crate::imp::tls_abi::init_tcb(&mut area[pointer_offset..], thread_pointer);
    thread_pointer
}
