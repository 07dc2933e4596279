//! aarch64's TLS variant I (AAELF64 "Thread-local storage"; Drepper's "ELF Handling For
//! Thread-Local Storage" §3.4.1): the thread pointer (TPIDR_EL0) points at a 16-byte TCB, and the
//! block follows at the TCB's size rounded up to the block's alignment, which is where the linker
//! puts offset 0 of the template.
//!
//! TPIDR_EL0, not TPIDR_EL1: compilers address TLS through TPIDR_EL0 even at EL1, and EL1 holds
//! the kernel's per-core block (`percpu`).

use crate::tls::TLS_ALIGN;

/// The TCB: two words (glibc's `dtv` pointer and a private word), unused by Rivet.
const TCB_SIZE: usize = 16;

pub(crate) fn area_size(memory_size: usize) -> usize {
    block_offset(memory_size) + memory_size
}

pub(crate) fn block_offset(_memory_size: usize) -> usize {
    TCB_SIZE.next_multiple_of(TLS_ALIGN)
}

/// The thread pointer is the area's first byte (the TCB).
pub(crate) fn thread_pointer_offset(_memory_size: usize) -> usize {
    0
}

pub(crate) fn init_tcb(_tcb: &mut [u8], _thread_pointer: u64) {}

/// Makes `thread_pointer` (from [`crate::tls::init_area`], or 0 for a thread that runs no C) this
/// core's TPIDR_EL0.
pub fn set_thread_pointer(thread_pointer: u64) {
    // SAFETY: TPIDR_EL0 is the software thread ID register; Rivet's Rust never reads it, so only
    // C code that expects exactly this (its thread's TLS) sees the change.
    unsafe {
        core::arch::asm!("msr tpidr_el0, {}", in(reg) thread_pointer, options(nomem, nostack))
    };
}
