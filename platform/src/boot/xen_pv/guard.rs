//! Guard pages for thread stacks under Xen PV: the page below each heap-allocated stack is
//! unmapped with `update_va_mapping` (every vCPU's TLB flushed) and mapped back, from the p2m
//! map, when the stack is released. See `thread::stack::GuardHooks`.
//!
//! Weak spot: a PV guest cannot report the overflow itself — Xen delivers the page fault on the
//! overflowing stack and crashes the domain — but nothing is silently overwritten.

use super::memory::mfn_of;
use rivet_arch::head::VIRT_BASE;
use rivet_arch::xen_pv::hypercall;
use rivet_core::memory::PAGE_SIZE;
use rivet_xen_abi::hypercall as hc;

/// `UVMF_ALL`: flush the TLBs of every vCPU of the domain, not only this one.
const UVMF_ALL: u64 = 1 << 2;
/// Present, writable, accessed, dirty: a heap page exactly as `memory.rs` maps it.
const PTE_HEAP: u64 = 0x63;

/// Installs the hooks (the start info must be validated by then).
pub(super) fn install() {
    crate::thread::stack::set_guard_hooks(crate::thread::stack::GuardHooks { unmap, remap });
}

/// The pseudo-physical page of heap address `va`, if it is one of the domain's pages.
fn pfn(va: u64) -> Option<u64> {
    let info = super::START_INFO.get()?;
    let pfn = va.checked_sub(VIRT_BASE)? / PAGE_SIZE;
    (va.is_multiple_of(PAGE_SIZE) && pfn < info.nr_pages).then_some(pfn)
}

fn unmap(va: u64) -> bool {
    if pfn(va).is_none() {
        return false;
    }
    // SAFETY: `va` is a page of a heap block the stack allocator owns and nobody uses (the
    // guard); taking its mapping away only makes accesses there fault.
    let result =
        unsafe { hypercall(hc::UPDATE_VA_MAPPING, va, 0, hc::UVMF_INVLPG | UVMF_ALL, 0, 0) };
    result == 0
}

fn remap(va: u64) -> bool {
    let (Some(pfn), Some(info)) = (pfn(va), super::START_INFO.get()) else { return false };
    let entry = (mfn_of(info, pfn) << 12) & 0x000f_ffff_ffff_f000 | PTE_HEAP;
    // SAFETY: the entry maps the domain's own frame for this pseudo-physical page back at its
    // usual address, read-write as the rest of the heap; the page returns to the heap after.
    let result = unsafe { hypercall(hc::UPDATE_VA_MAPPING, va, entry, hc::UVMF_INVLPG, 0, 0) };
    if result != 0 {
        log::warn!("xen: could not map a stack guard page back ({result}); the stack is leaked");
    }
    result == 0
}
