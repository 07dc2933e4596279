//! The wall clock of a Xen PV guest: the shared info page's `wc_sec`/`wc_nsec` (Unix time at
//! system time 0, kept by Xen from the host's clock) plus the vCPU's pvclock system time, read
//! once at boot when the shared info page is mapped.
//!
//! Unix time at TSC value `t` is `wc + system_time(t)`, where `system_time` scales the TSC by
//! vCPU 0's pvclock record (`rivet_xen_abi::pvclock`); the reading is pinned to the TSC value it
//! was computed for, and from there the wall clock follows the kernel's clock (the same TSC at
//! the pvclock frequency).
//!
//! Weak spot: Xen updates `wc` when dom0 sets the time (`settimeofday`); only the boot reading
//! is used, so a later correction is not seen.

use rivet_core::time::{set_wall_clock, WallClock};
use rivet_xen_abi::{pvclock, SharedInfo, VcpuTimeInfo};

/// Reads the wall clock from the mapped shared info page `shared`, `time` being vCPU 0's time
/// record just copied from it, and records it.
pub(super) fn read(shared: *const SharedInfo, time: &VcpuTimeInfo) {
    let (seconds, nanoseconds) = loop {
        // SAFETY: `shared` maps the shared info page (mapped by `init_clock`); volatile, as Xen
        // writes it concurrently; plain integers, any value is valid.
        let before = unsafe { core::ptr::read_volatile(&raw const (*shared).wc_version) };
        core::sync::atomic::fence(core::sync::atomic::Ordering::Acquire);
        // SAFETY: as above.
        let (low, high, nanoseconds) = unsafe {
            (
                core::ptr::read_volatile(&raw const (*shared).wc_sec),
                core::ptr::read_volatile(&raw const (*shared).wc_sec_hi),
                core::ptr::read_volatile(&raw const (*shared).wc_nsec),
            )
        };
        core::sync::atomic::fence(core::sync::atomic::Ordering::Acquire);
        // SAFETY: as above.
        let after = unsafe { core::ptr::read_volatile(&raw const (*shared).wc_version) };
        if before % 2 == 0 && before == after {
            break (u64::from(high) << 32 | u64::from(low), nanoseconds);
        }
        core::hint::spin_loop();
    };
    if seconds == 0 || nanoseconds >= 1_000_000_000 {
        return; // Xen has not set a wall clock.
    }
    let ticks = rivet_arch::time::read_tsc();
    let since_boot = pvclock::system_time_ns(ticks, time);
    set_wall_clock(WallClock {
        source: "xen",
        unix_nanos: i128::from(seconds) * 1_000_000_000
            + i128::from(nanoseconds)
            + i128::from(since_boot),
        ticks,
    });
}
