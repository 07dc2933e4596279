//! The console UART the devicetree names: a PL011 (QEMU `virt`, a Pi's UART0), an SBSA generic
//! UART (Xen's vpl011) or a Raspberry Pi's mini-UART (a Pi 3's or 4's GPIO 14/15 console, which
//! their DTBs' `stdout-path` names).
//!
//! Neither baud rate is programmed: the firmware (or the emulator, which ignores it) set the
//! line up. For the mini-UART that is the Pi firmware's `enable_uart=1` (`config.txt`, written by
//! `cargo xtask sdcard`), which pins the VideoCore core clock the mini-UART's baud rate derives
//! from and programs 115200 baud.
//!
//! Weak spot: a Pi booted without `enable_uart=1` leaves the mini-UART's divisor at 0 and GPIO
//! 14/15 not switched to it (ALT5); neither is fixed up here (the core clock is not asked from
//! the mailbox, the GPIO block is not driven).

use super::error::BootError;
use rivet_bcm2835_aux_uart::MiniUart;
use rivet_bootinfo::devicetree::UartKind;
use rivet_core::console::Console;
use rivet_pl011::Pl011;

/// The console, whichever driver it needs.
pub enum Uart {
    /// A PL011 or SBSA generic UART.
    Pl011(Pl011),
    /// A BCM2835 auxiliary mini-UART.
    MiniUart(MiniUart),
}

impl Uart {
    /// The UART of `kind` at `base`, set up for transmitting.
    ///
    /// # Safety
    /// 1. `base` is the DTB's UART of that kind, its registers (for a mini-UART also its aux
    ///    block's AUX_ENABLES, in the same page) reachable — the MMU is off, or they are mapped
    ///    as Device memory — for as long as the value is used; nothing else drives the UART.
    pub unsafe fn new(base: u64, kind: UartKind) -> Result<Self, BootError> {
        let base = base as usize;
        match kind {
            UartKind::Pl011 | UartKind::Sbsa => {
                // SAFETY: the DTB's PL011 or SBSA UART, reachable and ours (obligation 1).
                let uart = unsafe { Pl011::new(base) }.map_err(BootError::Console)?;
                // An SBSA UART (Xen's vpl011) has no control registers to set up.
                if kind == UartKind::Pl011 {
                    uart.init();
                }
                Ok(Uart::Pl011(uart))
            }
            UartKind::MiniUart => {
                // SAFETY: the DTB's mini-UART, its aux block reachable and ours (obligation 1).
                let uart = unsafe { MiniUart::new(base) }.map_err(BootError::MiniUart)?;
                uart.init(None);
                Ok(Uart::MiniUart(uart))
            }
        }
    }

    /// Waits until everything written has left the UART.
    pub fn flush(&self) {
        match self {
            Uart::Pl011(uart) => uart.flush(),
            Uart::MiniUart(uart) => uart.flush(),
        }
    }
}

impl Console for Uart {
    fn write_bytes(&self, bytes: &[u8]) {
        match self {
            Uart::Pl011(uart) => uart.write_bytes(bytes),
            Uart::MiniUart(uart) => uart.write_bytes(bytes),
        }
    }
}
