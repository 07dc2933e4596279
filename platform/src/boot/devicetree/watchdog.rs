//! Powering a Raspberry Pi off, or resetting it, through the BCM2835 power-management watchdog.
//!
//! A Pi has no PSCI (its secondary cores wait on spin tables), so where no debugger answers
//! semihosting the only way to end a run is the watchdog in the power-management block
//! (`brcm,bcm2835-pm-wdt`, CPU 0xfe10_0000 on a Pi 4, 0x3f10_0000 on a Pi 3). This does what
//! Linux's `drivers/watchdog/bcm2835_wdt.c` does for power-off: mark partition 63 in PM_RSTS
//! ("halt" to the Pi firmware, which then does not boot again), start the watchdog with a short
//! timeout and request a full reset. Every write carries the PM password in its top byte.
//!
//! A reboot ([`restart`]) is the same sequence with partition 0, the normal boot, as Linux's
//! `bcm2835_restart`.
//!
//! QEMU's `raspi4b` / `raspi3b` (10.0) end the run on it with status 0, with or without
//! `-no-reboot` (they take the "halt" partition for a shutdown): the application's code is lost,
//! which is why semihosting, which carries it, is tried first.
//!
//! Weak spots: a few MMIO writes in the platform rather than a driver crate of their own; the
//! power-off cannot carry an exit code on real hardware either.

/// Reset control: the watchdog's reset configuration.
const PM_RSTC: usize = 0x1c;
/// Reset status: the firmware reads the boot partition from it.
const PM_RSTS: usize = 0x20;
/// Watchdog timer, in 16 µs ticks.
const PM_WDOG: usize = 0x24;
/// Must be in bits 31:24 of every write, or the block ignores it.
const PM_PASSWORD: u32 = 0x5a00_0000;
/// PM_RSTC.WRCFG (bits 5:4) cleared …
const PM_RSTC_WRCFG_CLR: u32 = 0xffff_ffcf;
/// … and set to "full reset".
const PM_RSTC_WRCFG_FULL_RESET: u32 = 0x20;
/// PM_RSTS with its partition bits (the even bits 0 to 10) cleared.
const PM_RSTS_PARTITION_CLR: u32 = 0xffff_faaa;
/// Partition 63 in PM_RSTS's scattered partition bits: the firmware's "halt, do not boot".
const PM_RSTS_RASPBERRYPI_HALT: u32 = 0x555;
/// Partition 0: the firmware boots normally.
const PM_RSTS_NORMAL_BOOT: u32 = 0;
/// Watchdog ticks before the reset: 10 × 16 µs.
const TIMEOUT_TICKS: u32 = 10;

/// Asks the power-management block at `base` to power the board off, and waits for it.
/// Returns if the reset has not come after a bounded wait (a block that ignores us).
///
/// # Safety
/// 1. `base` is the CPU physical address of a BCM2835-family power-management block (from the
///    DTB), reachable as Device memory (MMU off, or identity-mapped), nothing else driving it.
pub unsafe fn power_off(base: u64) {
    // SAFETY: the caller's obligation 1 is `reset`'s.
    unsafe { reset(base, PM_RSTS_RASPBERRYPI_HALT) }
}

/// Asks the power-management block at `base` to reset the board into a normal boot, and waits
/// for it. Returns if the reset has not come after a bounded wait (a block that ignores us).
///
/// # Safety
/// 1. As for [`power_off`].
pub unsafe fn restart(base: u64) {
    // SAFETY: the caller's obligation 1 is `reset`'s.
    unsafe { reset(base, PM_RSTS_NORMAL_BOOT) }
}

/// Marks `partition` (already scattered into PM_RSTS's bits) for the firmware, starts the
/// watchdog with a short timeout and requests a full reset; waits a bounded time for it.
///
/// # Safety
/// 1. As for [`power_off`].
unsafe fn reset(base: u64, partition: u32) {
    let register = |offset: usize| (base as usize + offset) as *mut u32;
    // SAFETY: the three registers are 32-bit, aligned, inside the block (obligation 1); volatile
    // accesses, as for any device register.
    unsafe {
        let status = register(PM_RSTS).read_volatile() & PM_RSTS_PARTITION_CLR;
        register(PM_RSTS).write_volatile(PM_PASSWORD | status | partition);
        register(PM_WDOG).write_volatile(PM_PASSWORD | TIMEOUT_TICKS);
        let control = register(PM_RSTC).read_volatile() & PM_RSTC_WRCFG_CLR;
        register(PM_RSTC).write_volatile(PM_PASSWORD | control | PM_RSTC_WRCFG_FULL_RESET);
    }
    // 160 µs until the reset; a generous bound in spins.
    for _ in 0..10_000_000 {
        core::hint::spin_loop();
    }
}
