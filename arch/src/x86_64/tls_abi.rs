//! x86_64's TLS variant II (System V x86_64 psABI, "Thread-Local Storage"; Drepper's "ELF
//! Handling For Thread-Local Storage" §3.4.6): the block sits just below the thread pointer (FS
//! base), whose first word (`%fs:0`) holds the thread pointer itself.
//!
//! glibc's TCB (`tcbhead_t`) also holds the stack-protector canary at `%fs:0x28`, which code
//! built with `-fstack-protector` on Linux reads: the TCB here is [`TCB_SIZE`] zeroed bytes with
//! the self pointer at 0 and a fixed canary at 0x28, so such code runs (it protects nothing a
//! unikernel's attacker could not read anyway).
//!
//! FS, not GS: GS base is the kernel's per-core block (`percpu`), FS is free for the thread.

use crate::tls::TLS_ALIGN;

/// Bytes of the TCB above the thread pointer (glibc's `tcbhead_t` is 704 with its padding;
/// code outside glibc reads only the first 0x30).
const TCB_SIZE: usize = 256;
/// Offset of the stack-protector canary in glibc's `tcbhead_t` (`stack_guard`).
const STACK_GUARD_OFFSET: usize = 0x28;
/// The canary value: ends with a zero byte, as glibc's does, so string overflows cannot copy it.
const STACK_GUARD: u64 = 0x5249_5645_54f0_0d00;

/// `IA32_FS_BASE`: where `%fs:` addresses point.
const IA32_FS_BASE: u32 = 0xc000_0100;

fn rounded_block(memory_size: usize) -> usize {
    memory_size.next_multiple_of(TLS_ALIGN)
}

pub(crate) fn area_size(memory_size: usize) -> usize {
    rounded_block(memory_size) + TCB_SIZE
}

/// The block starts the area: the thread pointer is the rounded-up end of the block, which is
/// what the linker subtracts from (`-round_up(p_memsz, p_align)` is the block's first byte).
pub(crate) fn block_offset(_memory_size: usize) -> usize {
    0
}

pub(crate) fn thread_pointer_offset(memory_size: usize) -> usize {
    rounded_block(memory_size)
}

pub(crate) fn init_tcb(tcb: &mut [u8], thread_pointer: u64) {
    tcb[..8].copy_from_slice(&thread_pointer.to_ne_bytes());
    tcb[STACK_GUARD_OFFSET..STACK_GUARD_OFFSET + 8].copy_from_slice(&STACK_GUARD.to_ne_bytes());
}

/// Makes `thread_pointer` (from [`crate::tls::init_area`], or 0 for a thread that runs no C) this
/// core's FS base. Under Xen PV the `wrmsr` is emulated by Xen, as for GS base (`cpu.rs`).
pub fn set_thread_pointer(thread_pointer: u64) {
    // SAFETY: IA32_FS_BASE exists on every x86_64 CPU; Rivet's Rust never addresses through FS,
    // so only C code that expects exactly this (its thread's TLS) sees the change.
    unsafe { crate::cpu::write_msr(IA32_FS_BASE, thread_pointer) }
}
