//! [`Condvar`]: a sequence counter futex; waiters sleep while it stays what they read.

use super::{futex_wait, futex_wake, LockResult, MutexGuard};
use core::sync::atomic::{AtomicU32, Ordering};
use core::time::Duration;

/// A condition variable, like `std::sync::Condvar`.
#[derive(Default)]
pub struct Condvar {
    sequence: AtomicU32,
}

/// Whether [`Condvar::wait_timeout`] gave up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WaitTimeoutResult(bool);

impl WaitTimeoutResult {
    /// Whether the wait ended because time ran out.
    pub fn timed_out(&self) -> bool {
        self.0
    }
}

impl Condvar {
    /// A condition variable nobody waits on.
    pub const fn new() -> Self {
        Self { sequence: AtomicU32::new(0) }
    }

    /// Unlocks the guard's mutex, waits for a notification, locks again. May wake spuriously:
    /// check the condition in a loop, or use [`wait_while`](Self::wait_while).
    pub fn wait<'a, T>(&self, guard: MutexGuard<'a, T>) -> LockResult<MutexGuard<'a, T>> {
        Ok(self.wait_until(guard, None).0)
    }

    /// Waits while `condition` holds.
    pub fn wait_while<'a, T>(
        &self,
        mut guard: MutexGuard<'a, T>,
        mut condition: impl FnMut(&mut T) -> bool,
    ) -> LockResult<MutexGuard<'a, T>> {
        while condition(&mut guard) {
            guard = self.wait_until(guard, None).0;
        }
        Ok(guard)
    }

    /// Like [`wait`](Self::wait), giving up after `timeout`.
    pub fn wait_timeout<'a, T>(
        &self,
        guard: MutexGuard<'a, T>,
        timeout: Duration,
    ) -> LockResult<(MutexGuard<'a, T>, WaitTimeoutResult)> {
        let deadline = crate::time::deadline_ticks(timeout);
        let (guard, woken) = self.wait_until(guard, Some(deadline));
        Ok((guard, WaitTimeoutResult(!woken)))
    }

    /// Waits while `condition` holds, for at most `timeout`.
    pub fn wait_timeout_while<'a, T>(
        &self,
        mut guard: MutexGuard<'a, T>,
        timeout: Duration,
        mut condition: impl FnMut(&mut T) -> bool,
    ) -> LockResult<(MutexGuard<'a, T>, WaitTimeoutResult)> {
        let deadline = crate::time::deadline_ticks(timeout);
        while condition(&mut guard) {
            let (again, woken) = self.wait_until(guard, Some(deadline));
            guard = again;
            if !woken && condition(&mut guard) {
                return Ok((guard, WaitTimeoutResult(true)));
            }
        }
        Ok((guard, WaitTimeoutResult(false)))
    }

    /// Returns the guard and whether the wait ended before the deadline.
    fn wait_until<'a, T>(
        &self,
        guard: MutexGuard<'a, T>,
        deadline: Option<u64>,
    ) -> (MutexGuard<'a, T>, bool) {
        // Read the sequence before unlocking: a notification after the unlock changes it, and
        // the futex wait then returns at once instead of missing it.
        let sequence = self.sequence.load(Ordering::Acquire);
        let mutex = guard.mutex;
        drop(guard);
        let woken = futex_wait(&self.sequence, sequence, deadline);
        let guard = mutex.lock().unwrap_or_else(super::PoisonError::into_inner);
        (guard, woken)
    }

    /// Wakes one waiter.
    pub fn notify_one(&self) {
        self.sequence.fetch_add(1, Ordering::Release);
        futex_wake(&self.sequence, 1);
    }

    /// Wakes every waiter.
    pub fn notify_all(&self) {
        self.sequence.fetch_add(1, Ordering::Release);
        futex_wake(&self.sequence, usize::MAX);
    }
}
