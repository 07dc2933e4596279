//! Synchronisation, shaped like `std::sync`: [`Mutex`], [`Condvar`], [`RwLock`], [`Once`],
//! [`OnceLock`], [`LazyLock`], [`Barrier`], [`mpsc`] channels, and `Arc` / atomics re-exported.
//!
//! Everything blocks through one kernel primitive, the futex of `thread::sched` (wait while a
//! word holds a value; wake the threads waiting on a word), as Linux's `std` does: a blocked
//! thread costs no CPU, and the uncontended paths are a single atomic instruction. A panic ends
//! the run, so nothing is ever poisoned: `lock()` returns `Ok` always, kept as a `Result` so code
//! written for `std` compiles unchanged.

mod barrier;
mod condvar;
pub mod mpsc;
mod mutex;
mod once;
mod rwlock;

pub use alloc::sync::{Arc, Weak};
pub use barrier::{Barrier, BarrierWaitResult};
pub use condvar::{Condvar, WaitTimeoutResult};
pub use core::sync::atomic;
pub use mutex::{Mutex, MutexGuard};
pub use once::{LazyLock, Once, OnceLock};
pub use rwlock::{RwLock, RwLockReadGuard, RwLockWriteGuard};

/// `std`'s lock result: never an error in Rivet (a panic ends the run, so nothing is poisoned).
pub type LockResult<T> = Result<T, PoisonError<T>>;

/// A poisoned lock, as in `std`; Rivet never returns one.
pub struct PoisonError<T> {
    guard: T,
}

impl<T> PoisonError<T> {
    /// The guard, as `std`'s `into_inner`.
    pub fn into_inner(self) -> T {
        self.guard
    }
}

impl<T> core::fmt::Debug for PoisonError<T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("PoisonError { .. }")
    }
}

impl<T> core::fmt::Display for PoisonError<T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("poisoned lock")
    }
}

use crate::thread::sched::{futex_wait, futex_wake};
