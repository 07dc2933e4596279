//! Arm PL011 UART driver (MMIO), transmit only, implementing Rivet's console trait.
//!
//! Register names and bits follow the *PrimeCell UART (PL011) Technical Reference Manual*
//! (Arm DDI 0183G, §3.2 "Summary of registers"), so grep matches the datasheet. The driver is
//! handed its base address by the platform (from the DTB); one unsafe constructor is the only
//! door, everything after it is safe.
//!
//! Non-goals for now: receiving, interrupts, and programming the baud rate. The firmware (or the
//! emulator, which ignores it) has set the line up; [`Pl011::init`] only makes sure the UART and
//! its transmitter are enabled, without touching the divisors.
//!
//! Weak spots: a UART whose firmware left the baud divisors at 0 is not fixed up (that needs the
//! reference clock from the DTB's `clocks`); Arm's SBSA generic UART (a PL011 subset, e.g. Xen's
//! `vpl011`, which emulates no other register) lacks UARTCR/UARTLCR_H, so a platform
//! must not call `init` on one — the devicetree boot tells them apart by `arm,sbsa-uart`.
#![cfg_attr(not(test), no_std)]
#![deny(unsafe_op_in_unsafe_fn)]
#![deny(clippy::undocumented_unsafe_blocks)]

use core::fmt;
use rivet_core::console::Console;
use tock_registers::interfaces::{ReadWriteable, Readable, Writeable};

/// The register block and its bit fields, named as in the TRM.
// The macros generate helper items (`Register`, value enums) that cannot carry docs, and the
// names are the TRM's upper-case ones so grep finds them in the datasheet.
#[allow(missing_docs, non_snake_case, non_camel_case_types)]
pub mod registers {
    use tock_registers::registers::{ReadOnly, ReadWrite, WriteOnly};
    use tock_registers::{register_bitfields, register_structs};

    register_bitfields! {u32,
        /// Data register (TRM §3.3.1).
        pub UARTDR [
            /// Transmit (write) or received (read) character.
            DATA OFFSET(0) NUMBITS(8) []
        ],
        /// Flag register (TRM §3.3.3).
        pub UARTFR [
            /// UART busy transmitting data (including the shift register).
            BUSY OFFSET(3) NUMBITS(1) [],
            /// Receive FIFO empty.
            RXFE OFFSET(4) NUMBITS(1) [],
            /// Transmit FIFO full.
            TXFF OFFSET(5) NUMBITS(1) [],
            /// Transmit FIFO empty.
            TXFE OFFSET(7) NUMBITS(1) []
        ],
        /// Line control register (TRM §3.3.7).
        pub UARTLCR_H [
            /// Enable FIFOs.
            FEN OFFSET(4) NUMBITS(1) [],
            /// Word length.
            WLEN OFFSET(5) NUMBITS(2) [
                FiveBits = 0b00,
                SixBits = 0b01,
                SevenBits = 0b10,
                EightBits = 0b11
            ]
        ],
        /// Control register (TRM §3.3.8).
        pub UARTCR [
            /// UART enable.
            UARTEN OFFSET(0) NUMBITS(1) [],
            /// Transmit enable.
            TXE OFFSET(8) NUMBITS(1) [],
            /// Receive enable.
            RXE OFFSET(9) NUMBITS(1) []
        ]
    }

    register_structs! {
        /// The PL011 register block (TRM Table 3-1), 4 KiB.
        pub Registers {
            (0x000 => pub UARTDR: ReadWrite<u32, UARTDR::Register>),
            (0x004 => pub UARTRSR_UARTECR: ReadWrite<u32>),
            (0x008 => _reserved0),
            (0x018 => pub UARTFR: ReadOnly<u32, UARTFR::Register>),
            (0x01c => _reserved1),
            (0x020 => pub UARTILPR: ReadWrite<u32>),
            (0x024 => pub UARTIBRD: ReadWrite<u32>),
            (0x028 => pub UARTFBRD: ReadWrite<u32>),
            (0x02c => pub UARTLCR_H: ReadWrite<u32, UARTLCR_H::Register>),
            (0x030 => pub UARTCR: ReadWrite<u32, UARTCR::Register>),
            (0x034 => pub UARTIFLS: ReadWrite<u32>),
            (0x038 => pub UARTIMSC: ReadWrite<u32>),
            (0x03c => pub UARTRIS: ReadOnly<u32>),
            (0x040 => pub UARTMIS: ReadOnly<u32>),
            (0x044 => pub UARTICR: WriteOnly<u32>),
            (0x048 => pub UARTDMACR: ReadWrite<u32>),
            (0x04c => _reserved2),
            (0xfe0 => pub UARTPeriphID: [ReadOnly<u32>; 4]),
            (0xff0 => pub UARTPCellID: [ReadOnly<u32>; 4]),
            (0x1000 => @END),
        }
    }
}

pub use registers::{Registers, UARTCR, UARTDR, UARTFR, UARTLCR_H};

/// Polls of UARTFR allowed while waiting for room in the transmit FIFO (or for the UART to go
/// idle) before giving up: far longer than one character takes at 9600 baud, short enough that a
/// wedged UART (flow control stuck, clock gated) does not hang the kernel.
const MAX_POLLS: u32 = 1_000_000;

/// Why a PL011 could not be used.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Pl011Error {
    /// The base address is null or not 4-byte aligned (the registers are 32-bit).
    BadBase(usize),
}

impl fmt::Display for Pl011Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Pl011Error::BadBase(base) => write!(f, "PL011 base address {base:#x} is not usable"),
        }
    }
}

impl core::error::Error for Pl011Error {}

/// A PL011 UART.
pub struct Pl011 {
    registers: &'static Registers,
}

// SAFETY: the registers are only accessed with single volatile 32-bit loads and stores, which
// the device serialises; concurrent writers can interleave characters (the console's lock
// prevents that in normal use) but cannot break memory safety.
unsafe impl Sync for Pl011 {}
// SAFETY: as for Sync; the device is not tied to a core.
unsafe impl Send for Pl011 {}

impl Pl011 {
    /// The PL011 whose register block starts at `base`.
    ///
    /// # Safety
    /// 1. `base` is the address of a PL011's 4 KiB register block, reachable (identity-mapped as
    ///    Device memory, or the MMU is off) for as long as the returned value is used.
    /// 2. Nothing else drives this UART in a way that conflicts (another driver, another core
    ///    reprogramming it).
    pub unsafe fn new(base: usize) -> Result<Self, Pl011Error> {
        if base == 0 || !base.is_multiple_of(4) {
            return Err(Pl011Error::BadBase(base));
        }
        // SAFETY: obligation 1 makes `base` a live, suitably aligned register block for the
        // value's lifetime, which the 'static reference stands for; checked non-null and aligned.
        let registers = unsafe { &*(base as *const Registers) };
        Ok(Self { registers })
    }

    /// Makes sure the UART and its transmitter are on, with FIFOs enabled and 8-bit words, as
    /// the firmware usually leaves it. The baud rate divisors are left alone. Does nothing if
    /// UARTEN and TXE are already set.
    pub fn init(&self) {
        let r = self.registers;
        if r.UARTCR.is_set(UARTCR::UARTEN) && r.UARTCR.is_set(UARTCR::TXE) {
            return;
        }
        // TRM §3.3.8: disable, let the transmitter drain, then change the line settings.
        r.UARTCR.modify(UARTCR::UARTEN::CLEAR);
        self.wait_idle();
        r.UARTLCR_H.write(UARTLCR_H::WLEN::EightBits + UARTLCR_H::FEN::SET);
        r.UARTCR.write(UARTCR::UARTEN::SET + UARTCR::TXE::SET + UARTCR::RXE::SET);
    }

    /// Sends one byte, waiting (bounded) for room in the transmit FIFO. `false` if the UART
    /// never made room.
    fn send(&self, byte: u8) -> bool {
        let r = self.registers;
        for _ in 0..MAX_POLLS {
            if !r.UARTFR.is_set(UARTFR::TXFF) {
                r.UARTDR.write(UARTDR::DATA.val(u32::from(byte)));
                return true;
            }
            core::hint::spin_loop();
        }
        false
    }

    /// Waits (bounded) until everything written has left the UART, e.g. before powering off.
    pub fn flush(&self) {
        self.wait_idle();
    }

    fn wait_idle(&self) {
        for _ in 0..MAX_POLLS {
            if !self.registers.UARTFR.is_set(UARTFR::BUSY) {
                return;
            }
            core::hint::spin_loop();
        }
    }
}

impl Console for Pl011 {
    fn write_bytes(&self, bytes: &[u8]) {
        for &byte in bytes {
            if !self.send(byte) {
                // The UART is wedged: drop the rest rather than wait MAX_POLLS for every byte.
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tock_registers::registers::ReadOnly;

    /// A register block in ordinary memory standing in for the device.
    fn fake() -> (&'static Registers, Pl011) {
        let memory: &'static mut [u32; 1024] = Box::leak(Box::new([0u32; 1024]));
        let base = memory.as_mut_ptr() as usize;
        // SAFETY: `memory` is a leaked, 4 KiB, 4-aligned block nothing else uses.
        let uart = unsafe { Pl011::new(base) }.unwrap();
        // SAFETY: as above; the test only reads through this second view.
        let registers = unsafe { &*(base as *const Registers) };
        (registers, uart)
    }

    #[test]
    fn rejects_bad_bases() {
        // SAFETY: both bases are rejected before anything is dereferenced.
        assert_eq!(unsafe { Pl011::new(0) }.err(), Some(Pl011Error::BadBase(0)));
        // SAFETY: as above.
        assert_eq!(unsafe { Pl011::new(0x900_0002) }.err(), Some(Pl011Error::BadBase(0x900_0002)));
    }

    #[test]
    fn init_enables_a_disabled_uart_and_keeps_the_divisors() {
        let (registers, uart) = fake();
        registers.UARTIBRD.set(13);
        uart.init();
        assert!(registers.UARTCR.is_set(UARTCR::UARTEN));
        assert!(registers.UARTCR.is_set(UARTCR::TXE));
        assert_eq!(registers.UARTLCR_H.read(UARTLCR_H::WLEN), 0b11);
        assert_eq!(registers.UARTIBRD.get(), 13);
    }

    #[test]
    fn writes_bytes_to_the_data_register() {
        let (registers, uart) = fake();
        uart.write_bytes(b"ok");
        assert_eq!(registers.UARTDR.get(), u32::from(b'k'));
    }

    #[test]
    fn gives_up_on_a_full_fifo() {
        let (registers, uart) = fake();
        // UARTFR is read-only to the driver; the fake sets TXFF behind its back.
        let flags = &registers.UARTFR as *const ReadOnly<u32, UARTFR::Register> as *mut u32;
        // SAFETY: the fake register block is ordinary memory we own.
        unsafe { flags.write_volatile(1 << 5) };
        uart.write_bytes(b"x");
        assert_eq!(registers.UARTDR.get(), 0);
    }
}
