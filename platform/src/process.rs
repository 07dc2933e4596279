//! Ending the run.

/// Ends the run with `code`, which the host sees as the exit status of QEMU or of the domain.
///
/// Codes 0 to 127 reach the host on every platform; others become 127. 101 to 104 are what
/// the kernel itself uses for a panic, a CPU exception, bad boot input and a [`reboot`] that
/// cannot be done.
pub fn exit(code: i32) -> ! {
    let portable = rivet_core::exit::portable(code);
    if i32::from(portable) != code {
        log::warn!("exit code {code} is outside 0..=127; reporting {portable}");
    }
    rivet_core::exit::exit(i32::from(portable))
}

/// Resets the machine: the run ends, and what follows is up to the firmware or the host.
///
/// What each platform does (the console is flushed first):
/// - aarch64 with a device tree or UEFI: PSCI `SYSTEM_RESET` where the DTB (`/psci`) or the FADT
///   gives PSCI; else a Raspberry Pi's power-management watchdog with boot partition 0 (a normal
///   boot, as Linux's `bcm2835_restart`); else a message and a halted core.
/// - x86_64 PVH: the PCI reset control register at port 0xCF9 where there is one (q35, PCs),
///   then the keyboard controller's reset line (port 0x64 ← 0xFE), then a deliberate triple
///   fault (an empty IDT and `int3`).
/// - x86_64 Xen PV: `SCHEDOP_shutdown` with `SHUTDOWN_reboot`; for dom0 Xen resets the machine.
///
/// Under QEMU with `-no-reboot` (as `cargo xtask run` starts it) a reset ends QEMU with status
/// 0: on x86 machines (isa-debug-exit) the host tool reports a guest reset, told apart from any
/// exit code; on aarch64 (semihosting exit codes) it reads like `exit(0)`. A platform with no
/// way to reset says so and ends the run with code [`rivet_core::exit::NO_REBOOT`] (104).
pub fn reboot() -> ! {
    rivet_core::exit::reboot()
}

/// What `main` may return, like `std::process::Termination`.
pub trait Termination {
    /// The exit code this value stands for.
    fn report(self) -> i32;
}

impl Termination for () {
    fn report(self) -> i32 {
        0
    }
}

impl Termination for i32 {
    fn report(self) -> i32 {
        self
    }
}

impl<E: core::fmt::Debug> Termination for Result<(), E> {
    fn report(self) -> i32 {
        match self {
            Ok(()) => 0,
            Err(e) => {
                crate::eprintln!("Error: {e:?}");
                1
            }
        }
    }
}

/// Names the application's entry point: `rivet::main!(main);` with `fn main()` returning `()`,
/// an `i32` exit code or a `Result<(), E: Debug>`.
#[macro_export]
macro_rules! main {
    ($main:path) => {
        #[doc(hidden)]
        #[no_mangle]
        pub extern "Rust" fn __rivet_main() -> i32 {
            $crate::env::set_program_name(env!("CARGO_CRATE_NAME"));
            $crate::process::Termination::report($main())
        }
    };
}

/// How much of the heap is in use.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct HeapUsage {
    /// Bytes allocated, counted in the allocator's block sizes (what is really taken).
    pub allocated: usize,
    /// Bytes the heap manages in all.
    pub total: usize,
}

/// The heap's use now: for leak hunting and soak tests (`http-hello` answers it at `/heap`).
pub fn heap_usage() -> HeapUsage {
    let (allocated, total) = crate::heap::usage();
    HeapUsage { allocated, total }
}
