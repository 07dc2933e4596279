//! Arm PL031 real-time clock driver (MMIO): the wall-clock time of QEMU `virt` (and of many Arm
//! boards and Arm's FVP), read once at boot.
//!
//! The PL031 is a 32-bit counter of seconds (RTCDR) the firmware or emulator loads and the 1 Hz
//! clock advances; by convention (Linux's, QEMU's: the host's time at start, in UTC) it counts
//! Unix seconds. Register names follow the *PrimeCell Real Time Clock (PL031) Technical Reference
//! Manual* (Arm DDI 0224C, §3.2 "Summary of RTC registers"). The platform hands the driver its
//! base address (from the DTB `arm,pl031` node); one unsafe constructor is the only door, and it
//! checks the PrimeCell and peripheral IDs so a wrong address is refused, not trusted.
//!
//! Non-goals: setting the time (RTCLR), the match interrupt. Weak spots: whole seconds only; the
//! counter wraps in 2106 (a u32), which this driver does not try to guess past; a counter whose
//! RTCCR start bit is clear (never started by firmware) is reported, not started.
#![cfg_attr(not(test), no_std)]
#![deny(unsafe_op_in_unsafe_fn)]
#![deny(clippy::undocumented_unsafe_blocks)]

use core::fmt;
use tock_registers::interfaces::Readable;

/// The register block, named as in the TRM.
// Names are the TRM's upper-case ones so grep finds them in the datasheet.
#[allow(missing_docs, non_snake_case)]
pub mod registers {
    use tock_registers::register_structs;
    use tock_registers::registers::{ReadOnly, ReadWrite, WriteOnly};

    register_structs! {
        /// The PL031 register block (TRM §3.2), 4 KiB.
        pub Registers {
            (0x000 => pub RTCDR: ReadOnly<u32>),
            (0x004 => pub RTCMR: ReadWrite<u32>),
            (0x008 => pub RTCLR: ReadWrite<u32>),
            (0x00c => pub RTCCR: ReadWrite<u32>),
            (0x010 => pub RTCIMSC: ReadWrite<u32>),
            (0x014 => pub RTCRIS: ReadOnly<u32>),
            (0x018 => pub RTCMIS: ReadOnly<u32>),
            (0x01c => pub RTCICR: WriteOnly<u32>),
            (0x020 => _reserved0),
            (0xfe0 => pub RTCPeriphID: [ReadOnly<u32>; 4]),
            (0xff0 => pub RTCPCellID: [ReadOnly<u32>; 4]),
            (0x1000 => @END),
        }
    }
}

pub use registers::Registers;

/// RTCCR: the counter runs.
const RTCCR_START: u32 = 1;
/// The PrimeCell ID bytes every PrimeCell peripheral shows (TRM §3.3.9).
const PCELL_ID: [u32; 4] = [0x0d, 0xf0, 0x05, 0xb1];
/// RTCPeriphID0 and the low nibble of RTCPeriphID1: the part number, 0x031 (TRM §3.3.8).
const PART_NUMBER: u32 = 0x031;

/// Why a PL031 could not be used.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Pl031Error {
    /// The base address is null or not 4-byte aligned.
    BadBase(usize),
    /// The ID registers do not name a PL031 (the PrimeCell ID, then the part number read).
    NotPl031 {
        /// RTCPCellID0–3's low bytes, packed little-endian.
        cell_id: u32,
        /// The part number from RTCPeriphID0/1.
        part: u32,
    },
    /// RTCCR's start bit is clear: the counter does not run, so it holds no time.
    Stopped,
}

impl fmt::Display for Pl031Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Pl031Error::BadBase(base) => write!(f, "PL031 base address {base:#x} is not usable"),
            Pl031Error::NotPl031 { cell_id, part } => {
                write!(f, "not a PL031 (PrimeCell ID {cell_id:#010x}, part {part:#05x})")
            }
            Pl031Error::Stopped => f.write_str("the PL031 counter is stopped (RTCCR start clear)"),
        }
    }
}

impl core::error::Error for Pl031Error {}

/// A PL031 real-time clock.
pub struct Pl031 {
    registers: &'static Registers,
}

// SAFETY: the driver only performs single volatile 32-bit loads, which the device serialises.
unsafe impl Sync for Pl031 {}
// SAFETY: as for Sync; the device is not tied to a core.
unsafe impl Send for Pl031 {}

impl Pl031 {
    /// The PL031 whose register block starts at `base`, once its ID registers say it is one.
    ///
    /// # Safety
    /// 1. `base` is the address of a 4 KiB MMIO region (identity-mapped as Device memory, or the
    ///    MMU is off) whose reads have no side effects, reachable for as long as the returned
    ///    value is used — a PL031's register block, as the DTB says.
    pub unsafe fn new(base: usize) -> Result<Self, Pl031Error> {
        if base == 0 || !base.is_multiple_of(4) {
            return Err(Pl031Error::BadBase(base));
        }
        // SAFETY: obligation 1 makes `base` a live, aligned register block for the value's
        // lifetime, which the 'static reference stands for; checked non-null and aligned.
        let registers = unsafe { &*(base as *const Registers) };
        let byte = |register: &tock_registers::registers::ReadOnly<u32>| register.get() & 0xff;
        let cell: [u32; 4] = core::array::from_fn(|i| byte(&registers.RTCPCellID[i]));
        let part = byte(&registers.RTCPeriphID[0]) | (byte(&registers.RTCPeriphID[1]) & 0xf) << 8;
        if cell != PCELL_ID || part != PART_NUMBER {
            let cell_id = cell.iter().rev().fold(0, |id, &b| id << 8 | b);
            return Err(Pl031Error::NotPl031 { cell_id, part });
        }
        Ok(Self { registers })
    }

    /// The counter: seconds since 1970-01-01 00:00:00 UTC, by convention.
    pub fn seconds(&self) -> Result<u32, Pl031Error> {
        if self.registers.RTCCR.get() & RTCCR_START == 0 {
            return Err(Pl031Error::Stopped);
        }
        Ok(self.registers.RTCDR.get())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A register block in ordinary memory standing in for the device, IDs set like QEMU's.
    fn fake(start: bool, seconds: u32) -> &'static mut [u32; 1024] {
        let memory: &'static mut [u32; 1024] = Box::leak(Box::new([0u32; 1024]));
        memory[0] = seconds;
        memory[0x00c / 4] = u32::from(start);
        memory[0xfe0 / 4..0xff0 / 4].copy_from_slice(&[0x31, 0x10, 0x14, 0x00]);
        memory[0xff0 / 4..].copy_from_slice(&PCELL_ID);
        memory
    }

    #[test]
    fn reads_the_counter() {
        let memory = fake(true, 1_795_805_282);
        // SAFETY: `memory` is a leaked, 4 KiB, 4-aligned block nothing else uses.
        let rtc = unsafe { Pl031::new(memory.as_ptr() as usize) }.unwrap();
        assert_eq!(rtc.seconds(), Ok(1_795_805_282));
    }

    #[test]
    fn a_stopped_counter_is_reported() {
        let memory = fake(false, 5);
        // SAFETY: as above.
        let rtc = unsafe { Pl031::new(memory.as_ptr() as usize) }.unwrap();
        assert_eq!(rtc.seconds(), Err(Pl031Error::Stopped));
    }

    #[test]
    fn other_devices_are_refused() {
        let memory = fake(true, 5);
        memory[0xfe0 / 4] = 0x11; // a PL011's part number
                                  // SAFETY: as above.
        let result = unsafe { Pl031::new(memory.as_ptr() as usize) };
        assert_eq!(result.err(), Some(Pl031Error::NotPl031 { cell_id: 0xb105_f00d, part: 0x011 }));
        let empty: &'static mut [u32; 1024] = Box::leak(Box::new([0u32; 1024]));
        // SAFETY: as above.
        let result = unsafe { Pl031::new(empty.as_ptr() as usize) };
        assert_eq!(result.err(), Some(Pl031Error::NotPl031 { cell_id: 0, part: 0 }));
        // SAFETY: rejected before anything is dereferenced.
        assert_eq!(unsafe { Pl031::new(0x901_0002) }.err(), Some(Pl031Error::BadBase(0x901_0002)));
    }
}
