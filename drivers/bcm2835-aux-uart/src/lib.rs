//! BCM2835 auxiliary mini-UART driver (MMIO), transmit only, implementing Rivet's console trait.
//!
//! The BCM2835 family (BCM2835/6/7 and the Pi 4's BCM2711) has, besides its PL011s, an
//! "auxiliary" block (DTB `brcm,bcm2835-aux`, bus address 0x7e21_5000) holding a cut-down 16550
//! called the mini-UART (`brcm,bcm2835-aux-uart`, 0x40 bytes into the block) and two SPI
//! masters. On a Pi 3 or 4 with Bluetooth the PL011 drives the Bluetooth chip, so the mini-UART is
//! the serial console on GPIO 14/15: the DTB's `/chosen/stdout-path` names it (`serial1`).
//! Register names and bits follow Broadcom's *BCM2835 ARM Peripherals* (§2.1-2.2, with the
//! well-known errata: LCR needs both low bits set for 8-bit words), so grep finds them there.
//!
//! The driver is handed the mini-UART's base (the DTB node's `reg`, translated); the block's
//! AUX_ENABLES register sits at a fixed place before it (base − 0x3c), in the same 4 KiB page.
//! [`MiniUart::init`] turns the UART on in AUX_ENABLES (the register Linux's clock driver for
//! the `aux` node sets) and, unless the firmware already did, sets 8-bit words and enables the
//! transmitter and receiver.
//!
//! The baud rate is the weak spot of this UART: it is the VideoCore's core clock divided by
//! `8 × (AUX_MU_BAUD + 1)`, so it changes when the core clock does. On real hardware the
//! firmware, told `enable_uart=1` in `config.txt` (which `cargo xtask sdcard` writes), pins the
//! core clock (250 MHz on a Pi 3; a Pi 4's is fixed too) and programs 115200 baud before starting
//! the kernel — so `init` leaves AUX_MU_BAUD alone unless the platform passes the core clock
//! (a Pi booted without `enable_uart=1`, where the divisor is still 0). QEMU ignores the
//! divisor. Routing the UART to GPIO 14/15 (their ALT5 function) is the firmware's part of
//! `enable_uart=1` too; this driver does not touch the GPIO block. Non-goals: receiving,
//! interrupts, flow control.
#![cfg_attr(not(test), no_std)]
#![deny(unsafe_op_in_unsafe_fn)]
#![deny(clippy::undocumented_unsafe_blocks)]

use core::fmt;
use rivet_core::console::Console;
use tock_registers::interfaces::{ReadWriteable, Readable, Writeable};

/// The register block and its bit fields, named as in the datasheet.
// The macros generate helper items that cannot carry docs; the upper-case names are the
// datasheet's.
#[allow(missing_docs, non_snake_case, non_camel_case_types)]
pub mod registers {
    use tock_registers::registers::{ReadOnly, ReadWrite};
    use tock_registers::{register_bitfields, register_structs};

    register_bitfields! {u32,
        /// Auxiliary enables (§2.1, at the aux block's 0x04).
        pub AUX_ENABLES [
            /// Mini-UART enable; while clear its registers are not accessible.
            MINI_UART OFFSET(0) NUMBITS(1) [],
            /// SPI 1 enable (left alone).
            SPI1 OFFSET(1) NUMBITS(1) [],
            /// SPI 2 enable (left alone).
            SPI2 OFFSET(2) NUMBITS(1) []
        ],
        /// I/O data (§2.2.2, AUX_MU_IO_REG).
        pub AUX_MU_IO [
            /// Transmit (write) or received (read) byte, while LCR.DLAB is clear.
            DATA OFFSET(0) NUMBITS(8) []
        ],
        /// Interrupt identify; writing it clears the FIFOs (AUX_MU_IIR_REG).
        pub AUX_MU_IIR [
            /// Write 1: clear the receive FIFO.
            CLEAR_RX OFFSET(1) NUMBITS(1) [],
            /// Write 1: clear the transmit FIFO.
            CLEAR_TX OFFSET(2) NUMBITS(1) []
        ],
        /// Line control (AUX_MU_LCR_REG).
        pub AUX_MU_LCR [
            /// Data size: 0b00 seven bits, 0b11 eight (the datasheet's one bit is an erratum).
            DATA_SIZE OFFSET(0) NUMBITS(2) [
                SevenBits = 0b00,
                EightBits = 0b11
            ],
            /// Divisor latch access: the first two registers become the baud latch.
            DLAB OFFSET(7) NUMBITS(1) []
        ],
        /// Line status (AUX_MU_LSR_REG).
        pub AUX_MU_LSR [
            /// A received byte is waiting.
            DATA_READY OFFSET(0) NUMBITS(1) [],
            /// The transmit FIFO can take at least one byte.
            TX_EMPTY OFFSET(5) NUMBITS(1) [],
            /// The transmit FIFO is empty and the transmitter idle.
            TX_IDLE OFFSET(6) NUMBITS(1) []
        ],
        /// Extra control (AUX_MU_CNTL_REG).
        pub AUX_MU_CNTL [
            /// Receiver enable.
            RX_ENABLE OFFSET(0) NUMBITS(1) [],
            /// Transmitter enable.
            TX_ENABLE OFFSET(1) NUMBITS(1) []
        ]
    }

    register_structs! {
        /// The mini-UART's registers (§2.2.2), from the aux block's 0x40.
        pub Registers {
            (0x00 => pub AUX_MU_IO: ReadWrite<u32, AUX_MU_IO::Register>),
            (0x04 => pub AUX_MU_IER: ReadWrite<u32>),
            (0x08 => pub AUX_MU_IIR: ReadWrite<u32, AUX_MU_IIR::Register>),
            (0x0c => pub AUX_MU_LCR: ReadWrite<u32, AUX_MU_LCR::Register>),
            (0x10 => pub AUX_MU_MCR: ReadWrite<u32>),
            (0x14 => pub AUX_MU_LSR: ReadOnly<u32, AUX_MU_LSR::Register>),
            (0x18 => pub AUX_MU_MSR: ReadOnly<u32>),
            (0x1c => pub AUX_MU_SCRATCH: ReadWrite<u32>),
            (0x20 => pub AUX_MU_CNTL: ReadWrite<u32, AUX_MU_CNTL::Register>),
            (0x24 => pub AUX_MU_STAT: ReadOnly<u32>),
            (0x28 => pub AUX_MU_BAUD: ReadWrite<u32>),
            (0x2c => @END),
        }
    }
}

pub use registers::{
    Registers, AUX_ENABLES, AUX_MU_CNTL, AUX_MU_IIR, AUX_MU_IO, AUX_MU_LCR, AUX_MU_LSR,
};
use tock_registers::registers::ReadWrite;

/// Where the mini-UART's registers start in the aux block; AUX_ENABLES is at 0x04.
pub const UART_OFFSET: usize = 0x40;
/// AUX_ENABLES' offset in the aux block.
const ENABLES_OFFSET: usize = 0x04;
/// The baud rate `init` programs when it is given the core clock.
pub const BAUD: u32 = 115_200;

/// Polls of AUX_MU_LSR allowed while waiting for room in the transmit FIFO (or for the
/// transmitter to go idle) before giving up: far longer than a character at 9600 baud, short
/// enough that a UART whose clock is off does not hang the kernel.
const MAX_POLLS: u32 = 1_000_000;

/// Why a mini-UART could not be used.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum MiniUartError {
    /// The base address is null, not 4-byte aligned, or not 0x40 past a 256-byte boundary
    /// (every BCM283x/BCM2711 puts the aux block on a page, the UART at its 0x40).
    BadBase(usize),
}

impl fmt::Display for MiniUartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MiniUartError::BadBase(base) => write!(
                f,
                "mini-UART base address {base:#x} is not usable (expected the aux block's 0x40)"
            ),
        }
    }
}

impl core::error::Error for MiniUartError {}

/// AUX_MU_BAUD for `baud` from a `clock_hz` core clock (rounded to the nearest rate), or `None`
/// if the divisor does not fit the register's 16 bits.
pub fn baud_divisor(clock_hz: u32, baud: u32) -> Option<u16> {
    let per = u64::from(baud).checked_mul(8).filter(|&per| per > 0)?;
    let ratio = (u64::from(clock_hz) + per / 2) / per;
    u16::try_from(ratio.checked_sub(1)?).ok()
}

/// A BCM2835 auxiliary mini-UART.
pub struct MiniUart {
    registers: &'static Registers,
    enables: &'static ReadWrite<u32, AUX_ENABLES::Register>,
}

// SAFETY: the registers are only accessed with single volatile 32-bit loads and stores, which
// the device serialises; concurrent writers can interleave characters (the console's lock
// prevents that in normal use) but cannot break memory safety.
unsafe impl Sync for MiniUart {}
// SAFETY: as for Sync; the device is not tied to a core.
unsafe impl Send for MiniUart {}

impl MiniUart {
    /// The mini-UART whose registers start at `base` (the DTB node's `reg`, translated).
    ///
    /// # Safety
    /// 1. `base` is the address of a BCM2835-family mini-UART, 0x40 into its aux block, and the
    ///    block from `base - 0x40` to `base + 0x2c` is reachable (identity-mapped as Device
    ///    memory, or the MMU is off) for as long as the returned value is used.
    /// 2. Nothing else drives this UART or the block's AUX_ENABLES in a conflicting way (the
    ///    SPI bits are preserved, but a concurrent read-modify-write could lose one).
    pub unsafe fn new(base: usize) -> Result<Self, MiniUartError> {
        if base < UART_OFFSET || base % 0x100 != UART_OFFSET {
            return Err(MiniUartError::BadBase(base));
        }
        let enables = base - UART_OFFSET + ENABLES_OFFSET;
        // SAFETY: obligation 1 makes both addresses live, 4-byte aligned registers (checked
        // above) for the value's lifetime, which the 'static references stand for.
        let (registers, enables) = unsafe {
            (
                &*(base as *const Registers),
                &*(enables as *const ReadWrite<u32, AUX_ENABLES::Register>),
            )
        };
        Ok(Self { registers, enables })
    }

    /// Turns the mini-UART on (AUX_ENABLES) and, unless its transmitter is already enabled (the
    /// firmware set the line up), programs 8-bit words with FIFOs cleared and interrupts off,
    /// then enables the transmitter and receiver. With `core_clock_hz` (the VideoCore core
    /// clock) the baud rate is set to [`BAUD`] too; without, AUX_MU_BAUD is left as it is.
    pub fn init(&self, core_clock_hz: Option<u32>) {
        let was_on = self.enables.is_set(AUX_ENABLES::MINI_UART);
        self.enables.modify(AUX_ENABLES::MINI_UART::SET);
        let r = self.registers;
        if was_on && r.AUX_MU_CNTL.is_set(AUX_MU_CNTL::TX_ENABLE) {
            return;
        }
        r.AUX_MU_CNTL.set(0);
        r.AUX_MU_IER.set(0);
        r.AUX_MU_LCR.write(AUX_MU_LCR::DATA_SIZE::EightBits);
        r.AUX_MU_MCR.set(0);
        r.AUX_MU_IIR.write(AUX_MU_IIR::CLEAR_RX::SET + AUX_MU_IIR::CLEAR_TX::SET);
        if let Some(divisor) = core_clock_hz.and_then(|clock| baud_divisor(clock, BAUD)) {
            r.AUX_MU_BAUD.set(u32::from(divisor));
        }
        r.AUX_MU_CNTL.write(AUX_MU_CNTL::TX_ENABLE::SET + AUX_MU_CNTL::RX_ENABLE::SET);
    }

    /// Sends one byte, waiting (bounded) for room in the transmit FIFO. `false` if the UART
    /// never made room.
    fn send(&self, byte: u8) -> bool {
        let r = self.registers;
        for _ in 0..MAX_POLLS {
            if r.AUX_MU_LSR.is_set(AUX_MU_LSR::TX_EMPTY) {
                r.AUX_MU_IO.write(AUX_MU_IO::DATA.val(u32::from(byte)));
                return true;
            }
            core::hint::spin_loop();
        }
        false
    }

    /// Waits (bounded) until everything written has left the UART, e.g. before powering off.
    pub fn flush(&self) {
        for _ in 0..MAX_POLLS {
            if self.registers.AUX_MU_LSR.is_set(AUX_MU_LSR::TX_IDLE) {
                return;
            }
            core::hint::spin_loop();
        }
    }
}

impl Console for MiniUart {
    fn write_bytes(&self, bytes: &[u8]) {
        for &byte in bytes {
            if !self.send(byte) {
                // The UART is wedged (its clock off?): drop the rest rather than wait MAX_POLLS
                // for every byte.
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An aux block in ordinary memory standing in for the device: 256-byte aligned, so the
    /// mini-UART sits at its 0x40 as on the SoC.
    #[repr(C, align(256))]
    struct Block([u32; 64]);

    /// Word indices in the fake block.
    const ENABLES: usize = 1;
    const IO: usize = 16;
    const LCR: usize = 16 + 3;
    const LSR: usize = 16 + 5;
    const CNTL: usize = 16 + 8;
    const BAUD_REG: usize = 16 + 10;

    fn fake() -> (&'static mut Block, MiniUart) {
        let block: &'static mut Block = Box::leak(Box::new(Block([0; 64])));
        let base = block.0.as_mut_ptr() as usize + UART_OFFSET;
        // SAFETY: `block` is a leaked, 256-byte aligned block nothing else uses; the test reads
        // it back through `block` only between driver calls (volatile, single-threaded).
        let uart = unsafe { MiniUart::new(base) }.unwrap();
        (block, uart)
    }

    fn get(block: &Block, index: usize) -> u32 {
        // SAFETY: in bounds of the block, which the test owns.
        unsafe { core::ptr::read_volatile(&block.0[index]) }
    }

    fn set(block: &mut Block, index: usize, value: u32) {
        // SAFETY: as in `get`.
        unsafe { core::ptr::write_volatile(&mut block.0[index], value) }
    }

    #[test]
    fn rejects_bad_bases() {
        for base in [0, 0x3f21_5000, 0x3f21_5044, 0x3f21_5042, 0x20] {
            // SAFETY: every base is rejected before anything is dereferenced.
            assert_eq!(unsafe { MiniUart::new(base) }.err(), Some(MiniUartError::BadBase(base)));
        }
    }

    #[test]
    fn divisors() {
        // 250 MHz (a Pi 3 with enable_uart=1): the well-known 270.
        assert_eq!(baud_divisor(250_000_000, 115_200), Some(270));
        assert_eq!(baud_divisor(500_000_000, 115_200), Some(542));
        assert_eq!(baud_divisor(250_000_000, 0), None);
        assert_eq!(baud_divisor(0, 115_200), None, "below one step");
        assert_eq!(baud_divisor(u32::MAX, 300), None, "does not fit 16 bits");
    }

    #[test]
    fn init_enables_a_cold_uart_with_eight_bit_words() {
        let (block, uart) = fake();
        set(block, ENABLES, 0b100); // SPI 2 on: kept
        set(block, BAUD_REG, 0x1234);
        uart.init(None);
        assert_eq!(get(block, ENABLES), 0b101);
        assert_eq!(get(block, LCR), 0b11);
        assert_eq!(get(block, CNTL), 0b11);
        assert_eq!(get(block, BAUD_REG), 0x1234, "no clock: divisor untouched");
        uart.init(Some(250_000_000));
        assert_eq!(get(block, BAUD_REG), 0x1234, "already on: untouched");
        set(block, CNTL, 0);
        uart.init(Some(250_000_000));
        assert_eq!(get(block, BAUD_REG), 270);
    }

    #[test]
    fn init_leaves_a_firmware_configured_uart_alone() {
        let (block, uart) = fake();
        set(block, ENABLES, 1);
        set(block, CNTL, 0b10);
        set(block, LCR, 0x80);
        uart.init(Some(250_000_000));
        assert_eq!(get(block, LCR), 0x80);
        assert_eq!(get(block, BAUD_REG), 0);
    }

    #[test]
    fn writes_bytes_when_the_fifo_has_room() {
        let (block, uart) = fake();
        set(block, LSR, 0x60);
        uart.write_bytes(b"ok");
        assert_eq!(get(block, IO), u32::from(b'k'));
        uart.flush();
    }

    #[test]
    fn gives_up_on_a_full_fifo() {
        let (block, uart) = fake();
        uart.write_bytes(b"x");
        assert_eq!(get(block, IO), 0);
    }
}
