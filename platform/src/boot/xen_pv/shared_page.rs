//! Pages shared with Xen or another domain, as a PV guest maps them.
//!
//! A PV guest sees a shared page (the shared info, the console ring, the xenstore ring, the
//! grant table) as a machine frame number. [`map_frame`] maps such a frame over a page-aligned
//! slot of the image's `.bss` with `update_va_mapping` (the slot's own frame is given up, as
//! Linux's `set_fixmap` does): the address is then fixed at link time, whatever the domain's size.

use rivet_arch::xen_pv::hypercall;
use rivet_xen_abi::hypercall as hc;

pub(super) use crate::boot::xen::PageSlot;

/// Page-table entry bits: present, writable, accessed, dirty.
const PTE_DATA: u64 = 0x63;

/// Maps machine frame `mfn` at `slot` (read-write, not executable where the CPU has NX).
/// Returns Xen's error when it refuses (a frame the domain does not own).
///
/// # Safety
/// `slot` must be a [`PageSlot`] in the image that nothing accesses through the old mapping
/// from now on (only through the pointer, after this call).
pub(super) unsafe fn map_frame(slot: *mut PageSlot, mfn: u64) -> Result<(), i64> {
    let no_execute =
        if rivet_arch::cpu::cpuid(0x8000_0001).edx & (1 << 20) != 0 { 1 << 63 } else { 0 };
    // SAFETY: `slot` is a page of the image nobody uses through its old frame (the caller's
    // promise); Xen validates that the domain owns `mfn` (hypercall obligation 2).
    let result = unsafe {
        hypercall(
            hc::UPDATE_VA_MAPPING,
            slot as u64,
            (mfn << 12) | PTE_DATA | no_execute,
            hc::UVMF_INVLPG,
            0,
            0,
        )
    };
    if result == 0 {
        Ok(())
    } else {
        Err(result)
    }
}
