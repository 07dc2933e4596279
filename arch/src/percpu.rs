//! Each core's own block of arch state, found through a register: GS base on x86_64,
//! TPIDR_EL1 on aarch64 (each architecture's `cpu::set_local_base` / `cpu::local_base`).
//!
//! The block holds the core's index, one word for the platform (its per-core scheduler data),
//! the range of the stack the running thread uses (for backtraces and stack-overflow reports),
//! and on x86_64 the vector of the interrupt being handled. Reads take no lock: only the core
//! itself writes its block, with interrupts masked.
//!
//! [`init`] must run on every core before anything else here is used; `trap::init` does it for
//! the boot core, before interrupts can arrive.

use core::ops::Range;
use core::sync::atomic::{AtomicU32, AtomicU64, AtomicUsize, Ordering};

/// The most cores Rivet runs on.
pub const MAX_CPUS: usize = 16;

/// One core's block. `self_address` comes first: x86_64 reads it with `mov %gs:0`.
#[repr(C)]
struct Local {
    self_address: AtomicU64,
    index: AtomicUsize,
    value: AtomicU64,
    entered_vector: AtomicU32,
    stack_bottom: AtomicU64,
    stack_top: AtomicU64,
}

static LOCALS: [Local; MAX_CPUS] = [const {
    Local {
        self_address: AtomicU64::new(0),
        index: AtomicUsize::new(0),
        value: AtomicU64::new(0),
        entered_vector: AtomicU32::new(NO_VECTOR),
        stack_bottom: AtomicU64::new(0),
        stack_top: AtomicU64::new(0),
    }
}; MAX_CPUS];

/// No interrupt is being handled.
const NO_VECTOR: u32 = u32::MAX;

/// Makes block `index` this core's. Panics if `index` is not below [`MAX_CPUS`].
pub fn init(index: usize) {
    let local = &LOCALS[index];
    let address = local as *const Local as u64;
    local.self_address.store(address, Ordering::Relaxed);
    local.index.store(index, Ordering::Relaxed);
    crate::cpu::set_local_base(address);
}

fn this() -> &'static Local {
    let address = crate::cpu::local_base();
    if address == 0 {
        return &LOCALS[0];
    }
    // SAFETY: the base register is written only by `init`, with the address of an element of
    // `LOCALS`, a static that lives for ever and is only accessed through atomics.
    unsafe { &*(address as *const Local) }
}

/// This core's index (0 for the boot core).
pub fn index() -> usize {
    this().index.load(Ordering::Relaxed)
}

/// The platform's word for this core (0 until [`set_value`]).
pub fn value() -> u64 {
    this().value.load(Ordering::Relaxed)
}

/// Sets the platform's word for this core.
pub fn set_value(value: u64) {
    this().value.store(value, Ordering::Relaxed);
}

/// Records the stack the running thread uses (empty: the boot or idle stack the arch knows).
pub fn set_thread_stack(stack: Range<u64>) {
    let local = this();
    local.stack_bottom.store(stack.start, Ordering::Relaxed);
    local.stack_top.store(stack.end, Ordering::Relaxed);
}

/// The stack the running thread uses, as last recorded.
pub fn thread_stack() -> Range<u64> {
    let local = this();
    local.stack_bottom.load(Ordering::Relaxed)..local.stack_top.load(Ordering::Relaxed)
}

/// Records the vector an interrupt entered with (x86_64's entry does, for the APIC's `claim`).
pub fn set_entered_vector(vector: Option<u8>) {
    this().entered_vector.store(vector.map_or(NO_VECTOR, u32::from), Ordering::Relaxed);
}

/// The vector of the interrupt being handled on this core, if any.
pub fn entered_vector() -> Option<u8> {
    u8::try_from(this().entered_vector.load(Ordering::Relaxed)).ok()
}
