//! The wall clock on a PC: the CMOS RTC (`rivet-cmos-rtc`) at ports 0x70/0x71, read once, when
//! the application first asks for the time (not at boot: the read may wait out an update).
//!
//! QEMU's `q35` and `pc` always have the RTC; `microvm` has it under TCG but not under KVM
//! unless asked for (`-M microvm,rtc=on`); Firecracker has none, cloud-hypervisor has one. With
//! none, register A reads 0xff and the boot goes on without a wall clock (`SystemTime` counts
//! from 1970), at the cost of one port read.
//!
//! Weak spots: the RTC is taken to run in UTC (QEMU's default); the reading has whole seconds, so
//! the wall clock starts up to a second early; reading waits out an update in progress (at most
//! ~2 ms, once, ~1 ms under TCG), which is why it is left to the first `SystemTime::now`.

use rivet_arch::io::IoPorts;
use rivet_cmos_rtc::{CmosRtc, RegisterAccess};
use rivet_core::time::{set_wall_clock_reader, WallClock};

/// The RTC's index port; the data port follows it.
const RTC_PORTS: u16 = 0x70;

/// The index (0x70) and data (0x71) ports.
struct RtcPorts(IoPorts);

impl RegisterAccess for RtcPorts {
    fn read(&self, index: u8) -> u8 {
        // Bit 7 of the index is the NMI mask on a PC: kept clear, NMIs stay enabled.
        self.0.write_u8(0, index & 0x7f);
        self.0.read_u8(1)
    }
}

/// Makes the RTC the wall clock's source, read on first use.
pub(super) fn install() {
    set_wall_clock_reader(read_wall_clock);
}

/// Reads the RTC: the wall clock, if the machine has a valid one. Run once (core's `Once`).
fn read_wall_clock() -> Option<WallClock> {
    // SAFETY: ports 0x70/0x71 are the CMOS RTC's index and data ports on every PC-compatible
    // machine, or unused (obligation 1); nothing else in the kernel uses them, and core runs this
    // reader once, on one core (obligation 2).
    let ports = unsafe { IoPorts::new(RTC_PORTS, 2) };
    match CmosRtc::new(RtcPorts(ports)).read_time() {
        Ok(time) => Some(WallClock {
            source: "cmos",
            unix_nanos: time.unix_nanos(),
            ticks: rivet_arch::time::read_tsc(),
        }),
        Err(e) => {
            log::debug!("time: no wall clock: {e}");
            None
        }
    }
}
