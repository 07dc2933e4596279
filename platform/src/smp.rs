//! The other cores: how the thread runtime asks the boot environment to start them and poke them.
//!
//! A boot environment that can start cores registers a [`Cores`] with `set_cores` during boot;
//! none does yet, so [`cores`] is `None` and the machine runs on the boot core alone.

use spin::Once;

/// Why a core could not be started. (No boot environment starts cores yet.)
#[allow(dead_code)]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum SmpError {
    /// The core did not reach its entry in time.
    Timeout(usize),
}

impl core::fmt::Display for SmpError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            SmpError::Timeout(index) => write!(f, "core {index}: did not come up in time"),
        }
    }
}

/// How a boot environment starts the other cores and pokes them.
pub(crate) trait Cores: Sync {
    /// Cores the machine has, the boot core included.
    fn count(&self) -> usize;
    /// Starts core `index`, which runs `entry(index)` on the stack whose top is `stack_top`.
    fn start(&self, index: usize, stack_top: u64, entry: extern "C" fn(usize) -> !)
        -> Result<(), SmpError>;
    /// Sends core `index` the reschedule inter-processor interrupt.
    fn kick(&self, index: usize);
}

static CORES: Once<&'static dyn Cores> = Once::new();

/// The boot environment's cores, if it registered any.
pub(crate) fn cores() -> Option<&'static dyn Cores> {
    CORES.get().copied()
}
