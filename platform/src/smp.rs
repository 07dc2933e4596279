//! The other cores: how the thread runtime asks the boot environment to start them and poke them.
//!
//! Each boot environment that can start cores (the devicetree boot on arm64: PSCI or spin
//! tables) registers a [`Cores`] with [`set_cores`] during boot, before `runtime::start`; the
//! runtime then starts each core with its own stack and entry. Boot environments that cannot
//! register nothing, and [`cores`] is `None`: the machine runs on the boot core alone.
//!
//! The reschedule inter-processor interrupt ([`Cores::kick`]) has [`reschedule_interrupt`] as
//! its handler, which does nothing: the scheduler runs after every interrupt anyway, so arriving
//! is the whole point. On arm64 it is SGI 1 (see `boot::devicetree::interrupts`).
//!
//! Weak spots: a core that fails to start is not retried, and one that times out may still
//! start later (it then runs its entry on the stack it was given); nothing stops a core again.

use core::sync::atomic::{AtomicU64, Ordering};
use spin::Once;

/// Cores are numbered 0 (the boot core) to count-1 in the order the firmware lists them.
pub(crate) const MAX_CPUS: usize = 16;

/// Why a core could not be started.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum SmpError {
    /// No core has this index (0 is the boot core, which is running already).
    NoSuchCore(usize),
    /// The core was started before.
    AlreadyStarted(usize),
    /// The firmware gives no way to start this core (no `enable-method` Rivet supports, no
    /// PSCI).
    NoEnableMethod(usize),
    /// The firmware refused to start it (what it said).
    Refused(usize, &'static str),
    /// No memory for the core's own stacks and tables.
    OutOfMemory(usize),
    /// The core did not reach its entry in time.
    Timeout(usize),
    /// The core started but its interrupt controller could not be set up (it halted). Only
    /// the arm64 boots report it: an x86 core's local APIC comes up in the trampoline.
    #[allow(dead_code)]
    InterruptController(usize),
}

impl core::fmt::Display for SmpError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            SmpError::NoSuchCore(index) => write!(f, "core {index}: no such core to start"),
            SmpError::AlreadyStarted(index) => write!(f, "core {index}: already started"),
            SmpError::NoEnableMethod(index) => {
                write!(f, "core {index}: the firmware gives no supported way to start it")
            }
            SmpError::Refused(index, why) => write!(f, "core {index}: the firmware refused: {why}"),
            SmpError::OutOfMemory(index) => {
                write!(f, "core {index}: no memory for its exception stack")
            }
            SmpError::Timeout(index) => write!(f, "core {index}: did not come up in time"),
            SmpError::InterruptController(index) => {
                write!(f, "core {index}: its interrupt controller could not be set up")
            }
        }
    }
}

/// How a boot environment starts the other cores and pokes them.
pub(crate) trait Cores: Sync {
    /// Cores the machine has, the boot core included (>= 1, at most [`MAX_CPUS`]: extra ones
    /// ignored with a logged warning).
    fn count(&self) -> usize;

    /// Starts core `index` (1..count). It runs `entry(index)` on the stack whose top is
    /// `stack_top` (16-aligned, mapped, owned by that core from now on), with the boot core's
    /// page tables, the exception vectors and its own per-core tables in place (aarch64: VBAR,
    /// SP_EL1 exception stack), its local interrupt controller set up with the timer interrupt
    /// enabled and routed to the same handler as on the boot core, and interrupts masked.
    /// Returns once the core has reached `entry` (or failed / timed out: an error).
    fn start(
        &self,
        index: usize,
        stack_top: u64,
        entry: extern "C" fn(usize) -> !,
    ) -> Result<(), SmpError>;

    /// Sends core `index` the reschedule inter-processor interrupt (its handler is
    /// [`reschedule_interrupt`]). Does nothing for a core not started, or where the machine
    /// has no way to send one (a Raspberry Pi 3, whose interrupt controller has no driver yet).
    fn kick(&self, index: usize);
}

static CORES: Once<&'static dyn Cores> = Once::new();

/// The boot environment's cores, once it has found them (set during boot, before
/// `runtime::start`).
pub(crate) fn cores() -> Option<&'static dyn Cores> {
    CORES.get().copied()
}

/// Registers the boot environment's cores. Only the first call takes effect.
pub(crate) fn set_cores(cores: &'static dyn Cores) {
    CORES.call_once(|| cores);
}

/// Reschedule interrupts taken so far, on any core (for tests and debugging).
pub(crate) static RESCHEDULE_INTERRUPTS: AtomicU64 = AtomicU64::new(0);

/// The reschedule interrupt's handler: nothing to do, the scheduler runs after every interrupt.
/// It only counts ([`RESCHEDULE_INTERRUPTS`]).
pub(crate) fn reschedule_interrupt(_: rivet_core::interrupt::Irq) {
    RESCHEDULE_INTERRUPTS.fetch_add(1, Ordering::Relaxed);
}
