//! Exit codes the kernel itself reports, beside the application's own.
//!
//! An application's `main` returns its code (0 to 127 reach the host unchanged on every
//! platform). The kernel reserves four codes for ends the application did not choose; the host
//! tool (`cargo xtask run`) and the boot tests rely on them.

/// The application returned normally with success.
pub const SUCCESS: i32 = 0;
/// A Rust panic (as `std` uses for a panicking `main`).
pub const PANIC: i32 = 101;
/// A CPU exception: page fault, undefined instruction, stack guard page hit.
pub const CPU_EXCEPTION: i32 = 102;
/// The boot handed over something unusable: a broken DTB or start info, a bad command line, no
/// usable memory.
pub const BAD_BOOT_INPUT: i32 = 103;
/// [`reboot`] was asked for, but the platform has no way to reset the machine (no reboot
/// handler installed): the run ends with this code instead.
pub const NO_REBOOT: i32 = 104;

static EXIT_HANDLER: spin::Once<fn(i32) -> !> = spin::Once::new();

/// Installs the platform's way of ending the run with a code (isa-debug-exit, semihosting, a
/// hypervisor shutdown). Only the first call takes effect.
pub fn set_exit_handler(handler: fn(i32) -> !) {
    EXIT_HANDLER.call_once(|| handler);
}

/// Ends the run with `code` through the platform's exit handler.
///
/// Before a platform has installed one there is no way to stop the machine, so this says so on
/// the console and spins: the only hang Rivet allows, and only before the platform is up.
pub fn exit(code: i32) -> ! {
    if let Some(handler) = EXIT_HANDLER.get() {
        handler(code)
    }
    crate::console::print_emergency(format_args!(
        "rivet: exit({code}) before the platform installed an exit handler; halting\n"
    ));
    loop {
        core::hint::spin_loop();
    }
}

static REBOOT_HANDLER: spin::Once<fn() -> !> = spin::Once::new();

/// Installs the platform's way of resetting the machine (PSCI SYSTEM_RESET, a reset port, a
/// hypervisor reboot). Only the first call takes effect.
pub fn set_reboot_handler(handler: fn() -> !) {
    REBOOT_HANDLER.call_once(|| handler);
}

/// Resets the machine through the platform's reboot handler.
///
/// Without one (a platform that cannot reset, or before it is up) this says so on the console
/// and ends the run through [`exit`] with [`NO_REBOOT`]: a reboot request never hangs.
pub fn reboot() -> ! {
    if let Some(handler) = REBOOT_HANDLER.get() {
        handler()
    }
    crate::console::print_emergency(format_args!(
        "rivet: reboot asked for, but the platform installed no reboot handler; ending the run \
         with code {NO_REBOOT}\n"
    ));
    exit(NO_REBOOT)
}

static RUNNING_CONTEXT: spin::Once<fn(&mut core::fmt::Formatter<'_>) -> core::fmt::Result> =
    spin::Once::new();

/// Installs the function that describes what is running on this core (the thread's name and id)
/// for fault and panic reports. It must take no lock a fault could leave held. Only the first
/// call takes effect.
pub fn set_running_context(describe: fn(&mut core::fmt::Formatter<'_>) -> core::fmt::Result) {
    RUNNING_CONTEXT.call_once(|| describe);
}

/// What is running on this core, as one report line ending in a newline (nothing before the
/// platform installs a describer).
pub fn running_context() -> impl core::fmt::Display {
    struct Running;
    impl core::fmt::Display for Running {
        fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
            match RUNNING_CONTEXT.get() {
                Some(describe) => describe(f),
                None => Ok(()),
            }
        }
    }
    Running
}

/// Highest code every platform can carry (x86 isa-debug-exit keeps 7 bits).
pub const MAX_PORTABLE: i32 = 127;

/// The code the host will see for `code`: 0..=127 unchanged, anything else (negative or too
/// large) becomes 127, so an odd code never turns into success. Warning about it is the
/// caller's job.
pub fn portable(code: i32) -> u8 {
    if (0..=MAX_PORTABLE).contains(&code) {
        code as u8
    } else {
        MAX_PORTABLE as u8
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clamps_to_portable_range() {
        assert_eq!(portable(0), 0);
        assert_eq!(portable(42), 42);
        assert_eq!(portable(127), 127);
        assert_eq!(portable(300), 127);
        assert_eq!(portable(-1), 127);
        assert_eq!(portable(i32::MIN), 127);
    }

    /// An exit handler for the host: unwinds with the code, so the test can catch it.
    fn exit_by_panicking(code: i32) -> ! {
        std::panic::panic_any(code)
    }

    #[test]
    fn reboot_without_a_handler_exits_with_no_reboot() {
        // The only test in this crate that installs handlers (they are process-wide `Once`s).
        set_exit_handler(exit_by_panicking);
        let ended = std::panic::catch_unwind(|| reboot()).unwrap_err();
        assert_eq!(ended.downcast_ref::<i32>(), Some(&NO_REBOOT));
        assert!((0..=MAX_PORTABLE).contains(&NO_REBOOT));
    }
}
