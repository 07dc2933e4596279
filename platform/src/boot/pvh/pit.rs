//! The PC's 8254 interval timer (PIT) as a periodic source of ISA IRQ 0, to test device interrupts.
//!
//! Channel 0 in mode 2 (rate generator) pulses its output, wired to ISA IRQ 0, every `divisor`
//! ticks of its 1.193182 MHz clock; [`stop`] writes a mode-0 command without a count, which
//! leaves the output low: no further edge. The TSC calibration in `rivet_arch::time` also drives
//! channel 0 (once, on the first frequency query), so [`start`] asks for the frequency first: the
//! two never interleave, and the calibration cannot stop the timer behind a test's back.
//!
//! Weak spot: on a machine without a PIT (Firecracker, `microvm,pit=off`) the writes go nowhere
//! and no interrupt comes; nothing here can tell.

use rivet_arch::io::IoPorts;
use rivet_core::time::Clock;

/// The PIT's input clock (the 14.31818 MHz NTSC crystal / 12).
const PIT_HZ: u64 = 1_193_182;
/// The PIT's ports: channel 0 data (0x40) to the mode/command register (0x43).
const PIT_PORTS: u16 = 0x40;
/// Offsets from [`PIT_PORTS`].
const CHANNEL0: u16 = 0;
const COMMAND: u16 = 3;
/// Command: channel 0, low byte then high byte, mode 2 (rate generator), binary.
const CHANNEL0_RATE: u8 = 0x34;
/// Command: channel 0, low byte then high byte, mode 0, binary: without a count, output low.
const CHANNEL0_STOP: u8 = 0x30;

fn ports() -> IoPorts {
    // SAFETY: ports 0x40–0x43 are the 8254 on every PC-compatible machine, or unused; programming
    // it raises at most an interrupt line, no memory access. The only other user is the TSC
    // calibration, which `start` runs to completion first (module doc).
    unsafe { IoPorts::new(PIT_PORTS, 4) }
}

/// The divisor for one pulse every `period_ns` (1 to 65536; 65536 is written as 0).
fn divisor(period_ns: u64) -> u32 {
    let ticks = u128::from(period_ns) * u128::from(PIT_HZ) / 1_000_000_000;
    ticks.clamp(1, 65536) as u32
}

/// Starts channel 0 pulsing every `period_ns` (rounded; 1 µs to ~54.9 ms). Returns the period
/// actually programmed, in nanoseconds.
pub(super) fn start(period_ns: u64) -> u64 {
    // Calibrate the TSC now (if it was not), while the PIT is still ours alone.
    let _ = rivet_arch::time::COUNTER.frequency();
    let divisor = divisor(period_ns);
    let pit = ports();
    pit.write_u8(COMMAND, CHANNEL0_RATE);
    pit.write_u8(CHANNEL0, divisor as u8);
    pit.write_u8(CHANNEL0, (divisor >> 8) as u8);
    u64::from(divisor) * 1_000_000_000 / PIT_HZ
}

/// Stops channel 0 with its output low.
pub(super) fn stop() {
    ports().write_u8(COMMAND, CHANNEL0_STOP);
}
