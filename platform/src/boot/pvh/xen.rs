//! The same PVH boot as a Xen PVH domU (`xl create` with `type = "pvh"`).
//!
//! Xen starts a PVH guest at the PVH note's entry like any PVH loader, but gives it no UART and
//! no isa-debug-exit: its console is the PV console ring, its exit a `SCHEDOP_shutdown`. Xen is
//! recognised by its CPUID leaves ([`detect`], first thing at entry); the image's hypercall page
//! is then registered through Xen's MSR, and `HVMOP_get_param` gives the guest frames and event
//! channels of the console and xenstore pages ([`SpecialPages`]), which the page tables map
//! ([`pages_to_map`]) and [`connect`] hands to the shared `boot::xen` code once they are on.
//! The shared info page is put at a page of the image (`XENMEM_add_to_physmap`) for Xen's clock.
//!
//! Weak spots: no event channels (the rings are polled, the timer is the local APIC's), no grant
//! table, so no netfront under PVH yet.

use crate::boot::xen::{self, console_ring, xenstore};
use core::sync::atomic::{AtomicBool, Ordering};
use rivet_arch::xen_pv::{hypercall, register_hypercall_page, xen_cpuid_base};
use rivet_core::console::Console;
use rivet_xen_abi::hypercall as hc;
use rivet_xen_abi::{pvclock, AddToPhysmap, HvmParam, SharedInfo};
use spin::Once;

/// The console and xenstore pages Xen set up for this domain.
#[derive(Clone, Copy, Debug)]
pub(super) struct SpecialPages {
    console: (u64, u32),
    store: (u64, u32),
}

static PAGES: Once<SpecialPages> = Once::new();

/// Whether this boot runs under Xen (a PVH domU).
static ON_XEN: AtomicBool = AtomicBool::new(false);

/// Recognises Xen and registers the hypercall page; true on Xen. Call first: the exit path
/// depends on the answer.
pub(super) fn detect() -> bool {
    let Some(base) = xen_cpuid_base() else { return false };
    // SAFETY: PVH runs in ring 0, the image at its link-time physical address; `base` is Xen's.
    unsafe { register_hypercall_page(base) };
    ON_XEN.store(true, Ordering::Relaxed);
    let param = |index| hvm_param(index).ok();
    if let (Some(console), Some(console_port), Some(store), Some(store_port)) = (
        param(hc::HVM_PARAM_CONSOLE_PFN),
        param(hc::HVM_PARAM_CONSOLE_EVTCHN),
        param(hc::HVM_PARAM_STORE_PFN),
        param(hc::HVM_PARAM_STORE_EVTCHN),
    ) {
        PAGES.call_once(|| SpecialPages {
            console: (console, console_port as u32),
            store: (store, store_port as u32),
        });
    }
    true
}

/// Whether [`detect`] found Xen.
pub(super) fn on_xen() -> bool {
    ON_XEN.load(Ordering::Relaxed)
}

/// `HVMOP_get_param(index)` for this domain.
fn hvm_param(index: u32) -> Result<u64, i64> {
    let mut param = HvmParam { domid: hc::DOMID_SELF as u16, index, value: 0 };
    // SAFETY: `param` is a readable and writable `xen_hvm_param` for the call (obligation 2).
    let result =
        unsafe { hypercall(hc::HVM_OP, hc::HVMOP_GET_PARAM, &raw mut param as u64, 0, 0, 0) };
    if result == 0 {
        Ok(param.value)
    } else {
        Err(result)
    }
}

/// The physical pages the kernel's page tables must map (read-write, at their own address)
/// for [`connect`]: the console and xenstore pages, outside RAM.
pub(super) fn pages_to_map() -> impl Iterator<Item = u64> {
    PAGES.get().into_iter().flat_map(|p| [p.console.0 << 12, p.store.0 << 12])
}

/// Connects the console ring and xenstore (once the page tables map them) and offers Xen's
/// services to applications; the console ring becomes the console if no UART answered.
pub(super) fn connect() {
    if let Some(pages) = PAGES.get() {
        // SAFETY: the console page is mapped read-write at its physical address by the kernel's
        // page tables (`pages_to_map`), for the rest of the run.
        unsafe { console_ring::connect((pages.console.0 << 12) as *mut _, pages.console.1) };
        rivet_core::console::set_console(&RING_CONSOLE);
        // SAFETY: as above, for the xenstore page.
        unsafe { xenstore::connect((pages.store.0 << 12) as *mut _, pages.store.1) };
    }
    map_shared_info();
    crate::xen::register(&SERVICES);
}

/// The console ring as core's console.
struct RingConsole;

static RING_CONSOLE: RingConsole = RingConsole;

impl Console for RingConsole {
    fn write_bytes(&self, bytes: &[u8]) {
        console_ring::write(bytes);
    }
}

/// The exit handler on Xen: `boot::xen::exit_domu`.
pub(super) fn exit(code: i32) -> ! {
    xen::exit_domu(code)
}

/// The reboot handler on Xen.
pub(super) fn reboot() -> ! {
    xen::reboot_domu()
}

/// The page of the image the shared info page is put at.
static mut SHARED_INFO_PAGE: xen::PageSlot = xen::PageSlot::new();
static SHARED_INFO_MAPPED: AtomicBool = AtomicBool::new(false);

/// Puts the shared info page at [`SHARED_INFO_PAGE`]'s frame (the page's old content is gone).
fn map_shared_info() {
    let page = &raw mut SHARED_INFO_PAGE;
    let physical = page as u64 - rivet_arch::paging::kernel_image().virt_minus_phys;
    let mut add = AddToPhysmap {
        domid: hc::DOMID_SELF as u16,
        size: 0,
        space: hc::XENMAPSPACE_SHARED_INFO,
        idx: 0,
        gpfn: physical >> 12,
    };
    // SAFETY: `add` is a readable `xen_add_to_physmap`; the frame it names is a page of the image
    // used for nothing else, read from now on only as the shared info (obligation 2).
    let result = unsafe {
        hypercall(hc::MEMORY_OP, hc::XENMEM_ADD_TO_PHYSMAP, &raw mut add as u64, 0, 0, 0)
    };
    if result == 0 {
        SHARED_INFO_MAPPED.store(true, Ordering::Release);
    } else {
        log::warn!("xen: cannot map the shared info page ({result}): no Xen clock");
    }
}

/// What `rivet::xen` offers under PVH: no front ends yet.
static SERVICES: xen::GuestServices = xen::GuestServices { system_time_ns, split_drivers: || None };

/// Xen's system time, once the shared info page is in place.
fn system_time_ns() -> Option<u64> {
    SHARED_INFO_MAPPED.load(Ordering::Acquire).then(|| {
        let shared = (&raw const SHARED_INFO_PAGE).cast::<SharedInfo>();
        // SAFETY: the page holds the shared info once mapped (checked above); slot 0 exists.
        let time = unsafe { xen::read_time_info(shared, 0) };
        pvclock::system_time_ns(rivet_arch::time::read_tsc(), &time)
    })
}
