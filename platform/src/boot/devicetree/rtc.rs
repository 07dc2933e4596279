//! The wall clock on a devicetree machine: the PL031 real-time clock (`rivet-pl031`) the DTB
//! names (`arm,pl031`: QEMU `virt`), read once at boot after the MMU is on.
//!
//! A Raspberry Pi has no RTC on the board (the Pi 5 adds one, not described here) and Xen gives a
//! dom0less domU none in its tree: there the boot goes on without a wall clock and `SystemTime`
//! counts from 1970 (its source is `"none"`). Xen's wall clock in the shared info page would be
//! the domU's source; the devicetree boot does not map that page yet.
//!
//! Weak spot: the PL031 counts whole seconds, so the wall clock starts up to a second early.

use rivet_core::time::{set_wall_clock, Clock, WallClock};
use rivet_pl031::Pl031;

/// Reads the PL031 at `base` (the DTB's, already mapped as Device memory by `memory::build`), if
/// there is one, and records the wall clock.
pub(super) fn read_wall_clock(base: Option<u64>) {
    let Some(base) = base else {
        log::debug!("time: no RTC in the devicetree; the wall clock starts at 1970");
        return;
    };
    // SAFETY: `base` is the translated `reg` of the DTB's `arm,pl031` node, and `memory::build`
    // mapped its 4 KiB page as Device memory (obligation 1); reads of a PL031 have no side
    // effects, and nothing else drives it.
    let seconds = unsafe { Pl031::new(base as usize) }.and_then(|rtc| rtc.seconds());
    let ticks = rivet_arch::time::COUNTER.ticks();
    match seconds {
        Ok(seconds) => set_wall_clock(WallClock {
            source: "pl031",
            unix_nanos: i128::from(seconds) * 1_000_000_000,
            ticks,
        }),
        Err(e) => log::warn!("time: PL031 at {base:#x}: {e}; no wall clock"),
    }
}
