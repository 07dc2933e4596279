//! The console UART the SPCR names: a PL011 (QEMU, most arm64 boards) or a 16550 over MMIO
//! (AWS Graviton).
//!
//! Neither is reprogrammed beyond what its driver's `init` needs: the firmware set the line up
//! (baud rate, word format) and printed through it, so the 16550's `init` — which sets 115200
//! baud for a 1.8432 MHz clock — is not called (its clock on a server is not that).
//!
//! Weak spot: the 16550 path is tested only on the host (the drivers' fakes, the SPCR parsing);
//! QEMU's arm64 machines describe a PL011.

use super::error::BootError;
use rivet_bootinfo::acpi::{self, UartKind};
use rivet_core::console::Console;
use rivet_ns16550::{Ns16550, RegisterAccess};
use rivet_pl011::Pl011;

/// A 16550's eight registers in memory, `1 << shift` bytes apart; 32-bit accesses when the
/// shift is 2, byte accesses otherwise.
pub struct Mmio {
    base: usize,
    shift: u8,
}

impl Mmio {
    /// The registers at `base`.
    ///
    /// # Safety
    /// 1. `base` .. `base + (8 << shift)` are a 16550's registers, reachable (the MMU is off,
    ///    or they are mapped as Device memory) for as long as the value is used, and nothing
    ///    else drives that UART.
    unsafe fn new(base: usize, shift: u8) -> Self {
        Self { base, shift }
    }

    fn address(&self, index: u8) -> usize {
        self.base + ((index as usize & 7) << self.shift)
    }
}

// The trait's implementation safety: `address` keeps every access inside the eight registers of
// the UART this was created for (the index is masked to 0..8).
impl RegisterAccess for Mmio {
    fn read(&self, index: u8) -> u8 {
        let address = self.address(index);
        if self.shift == 2 {
            // SAFETY: a register of the UART (obligation 1 of `new`), 4-byte aligned (the base
            // was checked to be, and the stride is 4).
            unsafe { core::ptr::read_volatile(address as *const u32) as u8 }
        } else {
            // SAFETY: a register of the UART (obligation 1 of `new`).
            unsafe { core::ptr::read_volatile(address as *const u8) }
        }
    }

    fn write(&self, index: u8, value: u8) {
        let address = self.address(index);
        if self.shift == 2 {
            // SAFETY: as in `read`.
            unsafe { core::ptr::write_volatile(address as *mut u32, u32::from(value)) }
        } else {
            // SAFETY: as in `read`.
            unsafe { core::ptr::write_volatile(address as *mut u8, value) }
        }
    }
}

/// The console, whichever driver it needs.
pub enum Uart {
    /// A PL011 or SBSA generic UART.
    Pl011(Pl011),
    /// A 16550-compatible UART.
    Ns16550(Ns16550<Mmio>),
}

impl Uart {
    /// The SPCR's console, set up.
    ///
    /// # Safety
    /// 1. The MMU is off, or the console's registers are mapped as Device memory, for as long as
    ///    the value is used; nothing else in the kernel drives this UART.
    pub unsafe fn new(console: &acpi::Console) -> Result<Self, BootError> {
        let base = console.base as usize;
        match console.kind() {
            UartKind::Pl011 => {
                // SAFETY: the base is the SPCR's PL011 (or SBSA UART, whose registers are a
                // subset) and is reachable (obligation 1).
                let uart = unsafe { Pl011::new(base) }.map_err(BootError::Console)?;
                uart.init();
                Ok(Uart::Pl011(uart))
            }
            UartKind::Ns16550 { register_shift } => {
                if base == 0 || !base.is_multiple_of(1 << register_shift) {
                    return Err(BootError::Console16550(None));
                }
                // SAFETY: the SPCR's 16550 registers with the SPCR's stride, reachable and ours
                // alone (obligation 1); the base is aligned to the access size (checked above).
                let registers = unsafe { Mmio::new(base, register_shift) };
                let uart = Ns16550::new(registers).map_err(|e| BootError::Console16550(Some(e)))?;
                Ok(Uart::Ns16550(uart))
            }
        }
    }

    /// Waits until everything written has left the UART (the PL011; a 16550 is not waited for).
    pub fn flush(&self) {
        if let Uart::Pl011(uart) = self {
            uart.flush();
        }
    }
}

impl Console for Uart {
    fn write_bytes(&self, bytes: &[u8]) {
        match self {
            Uart::Pl011(uart) => uart.write_bytes(bytes),
            Uart::Ns16550(uart) => uart.write_bytes(bytes),
        }
    }
}
