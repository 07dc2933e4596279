//! NS16550A UART driver: the PC serial port, as Rivet's console.
//!
//! Transmit only, polled: [`Ns16550::init`] sets 115200 baud, 8N1 and the FIFOs, and every byte
//! waits for the transmit holding register to empty (LSR.THRE) before it is written. Register
//! names are the datasheet's (TI PC16550D, "Register Summary"), so grep finds them there.
//!
//! Why not the `uart_16550` crate: its port-I/O `SerialPort::send` waits for THRE with no bound,
//! so a UART that never drains (a broken device model, a missing one reading as a stuck register)
//! would hang the kernel; and its register access is fixed per constructor. Here the wait is
//! bounded ([`THRE_POLLS`]) and the register access is a small trait ([`RegisterAccess`]), so
//! the same driver runs over port I/O now and can run over MMIO (with a register stride) for the
//! boards and ACPI SPCR consoles that have one, and over a fake in the host tests below.
//!
//! Non-goals for now: receive, interrupts, modem control, baud rates other than 115200.
//! Weak spot: after one timed-out wait the device is considered stuck and later output is dropped
//! without waiting (so a dead UART costs one timeout, not one per byte).
#![cfg_attr(not(test), no_std)]
#![deny(unsafe_op_in_unsafe_fn)]
#![deny(clippy::undocumented_unsafe_blocks)]

use core::sync::atomic::{AtomicBool, Ordering};

/// Reading and writing the UART's registers by index (0 to 7). The platform implements it over
/// x86 I/O ports or MMIO; the driver itself knows no CPU.
///
/// # Implementation safety
/// Implementors access only the eight registers of the one UART they were created for.
pub trait RegisterAccess {
    /// Reads register `index`.
    fn read(&self, index: u8) -> u8;
    /// Writes `value` to register `index`.
    fn write(&self, index: u8, value: u8);
}

// Register indexes (PC16550D "Register Summary"). With LCR.DLAB set, 0 and 1 are the divisor.
/// Receiver buffer (read) / transmitter holding register (write).
const THR: u8 = 0;
/// Interrupt enable.
const IER: u8 = 1;
/// Divisor latch, low byte (DLAB = 1).
const DLL: u8 = 0;
/// Divisor latch, high byte (DLAB = 1).
const DLM: u8 = 1;
/// FIFO control (write).
const FCR: u8 = 2;
/// Line control.
const LCR: u8 = 3;
/// Modem control.
const MCR: u8 = 4;
/// Line status.
const LSR: u8 = 5;
/// Scratch.
const SCR: u8 = 7;

/// LCR: divisor latch access.
const LCR_DLAB: u8 = 0x80;
/// LCR: 8 data bits, no parity, 1 stop bit.
const LCR_8N1: u8 = 0x03;
/// FCR: enable the FIFOs, clear both, receive trigger at 14 bytes.
const FCR_ENABLE_CLEAR_14: u8 = 0xc7;
/// MCR: DTR and RTS asserted (some hosts wait for them), OUT2 left clear (no interrupts).
const MCR_DTR_RTS: u8 = 0x03;
/// LSR: transmitter holding register empty.
const LSR_THRE: u8 = 0x20;

/// The UART's input clock divided by 16: the baud rate at divisor 1.
const BASE_BAUD: u32 = 115_200;

/// Polls of LSR before a transmit gives up on the device. Each poll is an I/O access (hundreds of
/// nanoseconds at least), and one byte at 115200 baud takes ~87 µs, so this is ~10⁴ byte times.
pub const THRE_POLLS: u32 = 100_000;

/// Why a UART cannot be used.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Error {
    /// Nothing answered: the scratch register did not keep what was written (no UART there; the
    /// caller's choice of address is wrong, or the machine has none).
    NotPresent,
}

impl core::fmt::Display for Error {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Error::NotPresent => f.write_str("no 16550 UART answers at this address"),
        }
    }
}

impl core::error::Error for Error {}

/// `Result` with this driver's [`Error`].
pub type Result<T = ()> = core::result::Result<T, Error>;

/// An NS16550A (or compatible: 8250 with FIFO, 16550, 16750 …) UART.
#[derive(Debug)]
pub struct Ns16550<R> {
    registers: R,
    /// Set after a transmit timed out: the device is not draining, later output is dropped.
    stuck: AtomicBool,
}

impl<R: RegisterAccess> Ns16550<R> {
    /// Checks that a UART answers behind `registers` (its scratch register keeps a value) and
    /// returns the driver. Safe: whoever made `registers` vouched for the address. Does not change the line settings: call [`init`](Self::init).
    pub fn new(registers: R) -> Result<Self> {
        for pattern in [0x5a, 0xa5] {
            registers.write(SCR, pattern);
            if registers.read(SCR) != pattern {
                return Err(Error::NotPresent);
            }
        }
        Ok(Self { registers, stuck: AtomicBool::new(false) })
    }

    /// Sets 115200 baud, 8 data bits, no parity, 1 stop bit, FIFOs on; interrupts off.
    pub fn init(&self) {
        let divisor = (BASE_BAUD / 115_200) as u16;
        let r = &self.registers;
        r.write(IER, 0x00);
        r.write(LCR, LCR_DLAB);
        r.write(DLL, divisor as u8);
        r.write(DLM, (divisor >> 8) as u8);
        r.write(LCR, LCR_8N1);
        r.write(FCR, FCR_ENABLE_CLEAR_14);
        r.write(MCR, MCR_DTR_RTS);
    }

    /// Sends one byte, waiting (boundedly) for room. Returns `false` if the UART is stuck and
    /// the byte was dropped.
    pub fn send(&self, byte: u8) -> bool {
        if self.stuck.load(Ordering::Relaxed) {
            return false;
        }
        let ready = (0..THRE_POLLS).any(|_| self.registers.read(LSR) & LSR_THRE != 0);
        if !ready {
            self.stuck.store(true, Ordering::Relaxed);
            return false;
        }
        self.registers.write(THR, byte);
        true
    }

    /// Whether a transmit timed out, after which output is dropped.
    pub fn is_stuck(&self) -> bool {
        self.stuck.load(Ordering::Relaxed)
    }
}

impl<R: RegisterAccess + Sync> rivet_core::console::Console for Ns16550<R> {
    fn write_bytes(&self, bytes: &[u8]) {
        for &byte in bytes {
            if !self.send(byte) {
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;

    /// A register file: DLAB switching, a scratch register, and a transmitter that is either
    /// always ready or never.
    struct Fake {
        registers: RefCell<[u8; 8]>,
        divisor: RefCell<[u8; 2]>,
        sent: RefCell<Vec<u8>>,
        lsr_reads: RefCell<u32>,
        ready: bool,
        present: bool,
    }

    // SAFETY: each test uses its fake from one thread only; the Console bound asks for Sync.
    unsafe impl Sync for Fake {}

    impl Fake {
        fn new(ready: bool, present: bool) -> Self {
            Self {
                registers: RefCell::new([0; 8]),
                divisor: RefCell::new([0; 2]),
                sent: RefCell::new(Vec::new()),
                lsr_reads: RefCell::new(0),
                ready,
                present,
            }
        }
        fn dlab(&self) -> bool {
            self.registers.borrow()[LCR as usize] & LCR_DLAB != 0
        }
    }

    impl RegisterAccess for &Fake {
        fn read(&self, index: u8) -> u8 {
            if !self.present {
                return 0xff;
            }
            match index {
                LSR => {
                    *self.lsr_reads.borrow_mut() += 1;
                    if self.ready {
                        LSR_THRE
                    } else {
                        0
                    }
                }
                _ => self.registers.borrow()[index as usize],
            }
        }
        fn write(&self, index: u8, value: u8) {
            if !self.present {
                return;
            }
            match index {
                DLL | DLM if self.dlab() => self.divisor.borrow_mut()[index as usize] = value,
                THR => self.sent.borrow_mut().push(value),
                _ => self.registers.borrow_mut()[index as usize] = value,
            }
        }
    }

    #[test]
    fn init_sets_115200_8n1_and_fifo() {
        let fake = Fake::new(true, true);
        let uart = Ns16550::new(&fake).unwrap();
        uart.init();
        assert_eq!(*fake.divisor.borrow(), [1, 0]);
        let registers = fake.registers.borrow();
        assert_eq!(registers[LCR as usize], LCR_8N1, "DLAB must end clear");
        assert_eq!(registers[FCR as usize], FCR_ENABLE_CLEAR_14);
        assert_eq!(registers[IER as usize], 0);
    }

    #[test]
    fn sends_bytes() {
        let fake = Fake::new(true, true);
        let uart = Ns16550::new(&fake).unwrap();
        rivet_core::console::Console::write_bytes(&uart, b"hi\r\n");
        assert_eq!(fake.sent.borrow().as_slice(), b"hi\r\n");
    }

    #[test]
    fn missing_uart_is_reported() {
        let fake = Fake::new(true, false);
        assert_eq!(Ns16550::new(&fake).err(), Some(Error::NotPresent));
    }

    #[test]
    fn stuck_uart_times_out_once() {
        let fake = Fake::new(false, true);
        let uart = Ns16550::new(&fake).unwrap();
        rivet_core::console::Console::write_bytes(&uart, b"abc");
        assert!(uart.is_stuck());
        assert!(fake.sent.borrow().is_empty());
        assert_eq!(*fake.lsr_reads.borrow(), THRE_POLLS, "one bounded wait, then no more polling");
        assert!(!uart.send(b'x'));
        assert_eq!(*fake.lsr_reads.borrow(), THRE_POLLS);
    }
}
