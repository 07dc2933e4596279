//! What every x86_64 Xen guest shares, however it was booted (classic PV or PVH): the PV
//! console ring, the xenstore client, and the way a domU ends its run.
//!
//! The boot environments find the two shared pages (a PV start info names machine frames, which
//! `xen_pv` maps over slots of the image; a PVH guest asks Xen for their guest frames with
//! `HVMOP_get_param`) and hand them to [`console_ring::connect`] and [`xenstore::connect`].
//! Hypercalls go through the image's hypercall page (`rivet_arch::xen_pv::hypercall`), which Xen
//! fills for a PV guest while building it and for a PVH guest when asked through an MSR.

pub(crate) mod console_ring;
pub(crate) mod ring;
pub(crate) mod xenstore;

use rivet_arch::xen_pv::hypercall;
use rivet_core::console::print_emergency;
use rivet_xen_abi::hypercall as hc;
use rivet_xen_abi::xenstore::{Kind, StoreError};
use rivet_xen_abi::{SchedShutdown, SharedInfo, VcpuTimeInfo};

/// A page of the image that a page shared with Xen takes the place of (a PV guest maps the
/// shared frame over it; a PVH guest has Xen put the shared info at its frame).
#[repr(C, align(4096))]
pub(crate) struct PageSlot([u8; 4096]);

impl PageSlot {
    /// A slot of zeros (for `static mut`).
    pub(crate) const fn new() -> Self {
        Self([0; 4096])
    }
}

/// The xenstore key a domU leaves its exit code in for the toolstack (relative to its home
/// `/local/domain/<id>`), before it shuts down.
pub(crate) const EXIT_CODE_KEY: &str = "data/rivet-exit-code";

/// Ends a domU's run: the exit code in xenstore, the console drained, then a shutdown whose
/// reason says success or failure.
pub(crate) fn exit_domu(code: i32) -> ! {
    if let Some(store) = xenstore::get() {
        let mut text = [0u8; 12];
        let value = decimal(code, &mut text);
        let parts: [&[u8]; 2] = [EXIT_CODE_KEY.as_bytes(), value];
        if let Err(e) = store.try_request(Kind::Write, &parts, false) {
            print_emergency(format_args!(
                "rivet: exit code {code}: not written to xenstore: {e}\n"
            ));
        }
    }
    console_ring::drain();
    let reason = if code == 0 { hc::SHUTDOWN_POWEROFF } else { hc::SHUTDOWN_CRASH };
    shut_down(reason)
}

/// A domU's reboot: the console drained, then `SHUTDOWN_reboot` (the toolstack decides).
pub(crate) fn reboot_domu() -> ! {
    print_emergency(format_args!("rivet: asking Xen to reboot the domain\n"));
    console_ring::drain();
    shut_down(hc::SHUTDOWN_REBOOT)
}

/// `code` in decimal, in `buffer`.
fn decimal(code: i32, buffer: &mut [u8; 12]) -> &[u8] {
    let mut at = buffer.len();
    let mut rest = i64::from(code).unsigned_abs();
    loop {
        at -= 1;
        buffer[at] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    if code < 0 {
        at -= 1;
        buffer[at] = b'-';
    }
    &buffer[at..]
}

/// Lets other vCPUs run (`SCHEDOP_yield`): dom0's daemons may need this very CPU to answer.
pub(crate) fn yield_vcpu() {
    // SAFETY: SCHEDOP_yield takes no argument and only lets other vCPUs run (obligation 2).
    unsafe { hypercall(hc::SCHED_OP, hc::SCHEDOP_YIELD, 0, 0, 0, 0) };
}

/// A bounded wait by the TSC, yielding the vCPU between looks (the rings are polled).
pub(crate) struct Deadline {
    start: u64,
    ticks: u64,
}

impl Deadline {
    /// `timeout` from now, by the system clock's frequency.
    pub(crate) fn after(timeout: core::time::Duration) -> Self {
        let hz = rivet_core::time::clock().frequency();
        Self::after_ticks((timeout.as_millis() as u64).saturating_mul(hz / 1000))
    }

    /// `ticks` TSC ticks from now (where the clock's frequency may not be asked for).
    pub(crate) fn after_ticks(ticks: u64) -> Self {
        Self { start: rivet_arch::time::read_tsc(), ticks }
    }

    /// Yields the vCPU once; false, without yielding, once the time is up.
    pub(crate) fn wait(&self) -> bool {
        if rivet_arch::time::read_tsc().wrapping_sub(self.start) > self.ticks {
            return false;
        }
        yield_vcpu();
        true
    }
}

/// `SCHEDOP_shutdown` with `reason`, for good.
pub(crate) fn shut_down(reason: u32) -> ! {
    let shutdown = SchedShutdown { reason };
    loop {
        // SAFETY: `shutdown` is a readable `sched_shutdown`; shutting down ends the domain, after
        // which nothing of this program runs (obligation 2).
        unsafe {
            hypercall(hc::SCHED_OP, hc::SCHEDOP_SHUTDOWN, &raw const shutdown as u64, 0, 0, 0)
        };
        yield_vcpu();
    }
}

/// `rivet::xen`'s services on an x86_64 Xen guest: the version and xenstore are the same for PV
/// and PVH; Xen's clock and the split-driver support are each boot's own.
pub(crate) struct GuestServices {
    /// Xen's system time in ns, if the boot can read the pvclock.
    pub(crate) system_time_ns: fn() -> Option<u64>,
    /// Grants, frames and event channels for front ends, if the boot has them.
    pub(crate) split_drivers: fn() -> Option<&'static dyn crate::xen::SplitDrivers>,
}

impl crate::xen::Services for GuestServices {
    fn version(&self) -> u32 {
        // SAFETY: `xen_version(XENVER_version, NULL)` touches no memory (obligation 2).
        unsafe { hypercall(hc::XEN_VERSION, hc::XENVER_VERSION, 0, 0, 0, 0) as u32 }
    }

    fn store_request(
        &self,
        kind: Kind,
        transaction: u32,
        parts: &[&[u8]],
        last_terminated: bool,
    ) -> Result<alloc::vec::Vec<u8>, StoreError> {
        let store = xenstore::get().ok_or(StoreError::Unavailable)?;
        store.request(kind, transaction, parts, last_terminated)
    }

    fn wait_watch(
        &self,
        token: &str,
        timeout: core::time::Duration,
    ) -> Result<alloc::string::String, StoreError> {
        xenstore::get().ok_or(StoreError::Unavailable)?.wait_watch(token, timeout)
    }

    fn system_time_ns(&self) -> Option<u64> {
        (self.system_time_ns)()
    }

    fn split_drivers(&self) -> Option<&'static dyn crate::xen::SplitDrivers> {
        (self.split_drivers)()
    }
}

/// A consistent copy of vCPU `vcpu`'s time record in the shared info page at `shared`:
/// retried while Xen is updating it (odd version, or a version change across the copy).
///
/// # Safety
/// `shared` maps the domain's shared info page, and `vcpu` < 32 (its `vcpu_info` slots).
pub(crate) unsafe fn read_time_info(shared: *const SharedInfo, vcpu: usize) -> VcpuTimeInfo {
    // SAFETY: in the mapped page, slot `vcpu` exists (the caller's promise); only an address.
    let time = unsafe { &raw const (*shared).vcpu_info[vcpu].time };
    loop {
        // SAFETY: inside the mapped page; volatile, as Xen writes it concurrently; plain
        // integers, any value is valid.
        let before = unsafe { core::ptr::read_volatile(&raw const (*time).version) };
        core::sync::atomic::fence(core::sync::atomic::Ordering::Acquire);
        // SAFETY: as above.
        let copy = unsafe { core::ptr::read_volatile(time) };
        core::sync::atomic::fence(core::sync::atomic::Ordering::Acquire);
        // SAFETY: as above.
        let after = unsafe { core::ptr::read_volatile(&raw const (*time).version) };
        if before % 2 == 0 && before == after {
            return copy;
        }
        core::hint::spin_loop();
    }
}
