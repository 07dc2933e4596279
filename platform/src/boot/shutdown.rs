//! Ending the run on aarch64, for the devicetree and UEFI platforms alike.
//!
//! The order is what carries the most information first: semihosting (QEMU or a debugger: the
//! exit code reaches the host), then PSCI `SYSTEM_OFF` (firmware or hypervisor: no code), then a
//! Raspberry Pi's power-management watchdog (no PSCI on a Pi; no code either), then halting the
//! core. A reboot ([`reboot`]) skips semihosting (it cannot reset) and otherwise goes the same
//! way: PSCI `SYSTEM_RESET`, the watchdog with the normal boot partition, a halt with a message.
//! The conduit and the watchdog are kept in atomics set by plain stores, so they can be
//! recorded while the MMU is still off (exclusive accesses are not guaranteed on Device memory).

use core::fmt::{Display, Write};
use core::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use rivet_arch::psci::Conduit;
use rivet_arch::semihosting::SemihostingConsole;
use rivet_core::console::{Console, LineWriter};

/// The PSCI conduit: 0 none, 1 `hvc`, 2 `smc`.
static PSCI: AtomicU8 = AtomicU8::new(0);

/// A Raspberry Pi's power-management block (0: none).
static WATCHDOG: AtomicU64 = AtomicU64::new(0);

/// Records how PSCI is reached (from the DTB's `/psci` or the FADT), or that it is not.
pub(crate) fn set_psci(conduit: Option<Conduit>) {
    let value = match conduit {
        None => 0,
        Some(Conduit::Hvc) => 1,
        Some(Conduit::Smc) => 2,
    };
    PSCI.store(value, Ordering::Relaxed);
}

/// Records the physical address of a BCM2835-family power-management block, which the caller
/// maps as Device memory before the MMU comes on and which nothing else drives.
pub(crate) fn set_watchdog(base: Option<u64>) {
    WATCHDOG.store(base.unwrap_or(0), Ordering::Relaxed);
}

/// Ends the run with `code`, by the first way that works; the caller flushes its console first.
pub(crate) fn power_off(code: i32) -> ! {
    rivet_arch::semihosting::exit(code);
    let conduit = match PSCI.load(Ordering::Relaxed) {
        1 => Some(Conduit::Hvc),
        2 => Some(Conduit::Smc),
        _ => None,
    };
    if let Some(conduit) = conduit {
        // Returns only if the firmware refuses; what follows is all that is left then.
        let _ = rivet_arch::psci::system_off(conduit);
    }
    let watchdog = WATCHDOG.load(Ordering::Relaxed);
    if watchdog != 0 {
        // SAFETY: `set_watchdog`'s caller vouched for the address: the DTB's
        // `brcm,bcm2835-pm-wdt` block, translated to the CPU's view, mapped as Device memory (or
        // reachable as it is with the MMU off), and driven by nothing else (obligation 1).
        unsafe { super::devicetree::watchdog::power_off(watchdog) };
    }
    rivet_arch::cpu::halt_forever()
}

/// Resets the machine by the first way that works: PSCI SYSTEM_RESET, then a Raspberry Pi's
/// watchdog with boot partition 0, then a message and a halted core. Each way is announced on
/// the console first (`rivet: reboot: …`), then `flush` (the caller's UART) runs: under QEMU with
/// `-no-reboot` that line is what tells a reset from `exit(0)`, as both end QEMU with status 0.
pub(crate) fn reboot(flush: impl Fn()) -> ! {
    let conduit = match PSCI.load(Ordering::Relaxed) {
        1 => Some(Conduit::Hvc),
        2 => Some(Conduit::Smc),
        _ => None,
    };
    if let Some(conduit) = conduit {
        rivet_core::console::print_emergency(format_args!("rivet: reboot: PSCI SYSTEM_RESET\n"));
        flush();
        let status = rivet_arch::psci::system_reset(conduit);
        rivet_core::console::print_emergency(format_args!(
            "rivet: reboot: PSCI SYSTEM_RESET refused (status {status})\n"
        ));
    }
    let watchdog = WATCHDOG.load(Ordering::Relaxed);
    if watchdog != 0 {
        rivet_core::console::print_emergency(format_args!(
            "rivet: reboot: BCM2835 watchdog, boot partition 0\n"
        ));
        flush();
        // SAFETY: as in `power_off`: the DTB's `brcm,bcm2835-pm-wdt` block, mapped as Device
        // memory, driven by nothing else (obligation 1).
        unsafe { super::devicetree::watchdog::restart(watchdog) };
    }
    rivet_core::console::print_emergency(format_args!(
        "rivet: reboot: no PSCI and no watchdog reset this machine; halting\n"
    ));
    flush();
    rivet_arch::cpu::halt_forever()
}

/// Writes `rivet: bad boot input: {error}` on `console`, or on the semihosting console when no
/// UART is known yet. The caller flushes its UART and ends the run with code 103.
pub(crate) fn report_bad_boot_input(console: Option<&dyn Console>, error: &dyn Display) {
    let console = console.unwrap_or(&SemihostingConsole);
    let _ = writeln!(LineWriter(console), "rivet: bad boot input: {error}");
}
