//! [`RwLock`]: many readers or one writer, on a state word and a wake-up sequence futex.
//!
//! The state counts readers, or is [`WRITER`]. Waiters of either kind sleep on the sequence,
//! which every release that may unblock someone bumps. Simple rather than fair: a steady stream
//! of readers can hold a writer off.

use super::{futex_wait, futex_wake, LockResult};
use core::cell::UnsafeCell;
use core::ops::{Deref, DerefMut};
use core::sync::atomic::{AtomicU32, Ordering};

const WRITER: u32 = u32::MAX;

/// A reader-writer lock around a `T`, like `std::sync::RwLock`.
pub struct RwLock<T: ?Sized> {
    state: AtomicU32,
    sequence: AtomicU32,
    value: UnsafeCell<T>,
}

// SAFETY: readers share `&T` across threads (needs `Sync`), a writer gets `&mut T` on any thread
// (needs `Send`): the bounds `std` uses.
unsafe impl<T: ?Sized + Send + Sync> Sync for RwLock<T> {}
// SAFETY: moving the lock moves the value.
unsafe impl<T: ?Sized + Send> Send for RwLock<T> {}

/// Shared access, held; dropping it releases the read lock.
pub struct RwLockReadGuard<'a, T: ?Sized> {
    lock: &'a RwLock<T>,
}

/// Exclusive access, held; dropping it releases the write lock.
pub struct RwLockWriteGuard<'a, T: ?Sized> {
    lock: &'a RwLock<T>,
}

impl<T> RwLock<T> {
    /// An unlocked lock around `value`.
    pub const fn new(value: T) -> Self {
        Self {
            state: AtomicU32::new(0),
            sequence: AtomicU32::new(0),
            value: UnsafeCell::new(value),
        }
    }

    /// The value, taking the lock apart.
    pub fn into_inner(self) -> LockResult<T> {
        Ok(self.value.into_inner())
    }
}

impl<T: ?Sized> RwLock<T> {
    /// Waits until no writer holds the lock, then shares it.
    pub fn read(&self) -> LockResult<RwLockReadGuard<'_, T>> {
        loop {
            let sequence = self.sequence.load(Ordering::Acquire);
            let state = self.state.load(Ordering::Relaxed);
            if state < WRITER - 1 {
                if self
                    .state
                    .compare_exchange_weak(state, state + 1, Ordering::Acquire, Ordering::Relaxed)
                    .is_ok()
                {
                    return Ok(RwLockReadGuard { lock: self });
                }
                continue;
            }
            futex_wait(&self.sequence, sequence, None);
        }
    }

    /// Waits until nobody holds the lock, then takes it alone.
    pub fn write(&self) -> LockResult<RwLockWriteGuard<'_, T>> {
        loop {
            let sequence = self.sequence.load(Ordering::Acquire);
            if self.state.compare_exchange(0, WRITER, Ordering::Acquire, Ordering::Relaxed).is_ok()
            {
                return Ok(RwLockWriteGuard { lock: self });
            }
            futex_wait(&self.sequence, sequence, None);
        }
    }

    fn wake_all(&self) {
        self.sequence.fetch_add(1, Ordering::Release);
        futex_wake(&self.sequence, usize::MAX);
    }
}

impl<T: ?Sized> Deref for RwLockReadGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: a read guard exists only while the state counts it: no writer has access.
        unsafe { &*self.lock.value.get() }
    }
}

impl<T: ?Sized> Drop for RwLockReadGuard<'_, T> {
    fn drop(&mut self) {
        if self.lock.state.fetch_sub(1, Ordering::Release) == 1 {
            self.lock.wake_all();
        }
    }
}

impl<T: ?Sized> Deref for RwLockWriteGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: a write guard exists only while the state is WRITER: nobody else has access.
        unsafe { &*self.lock.value.get() }
    }
}

impl<T: ?Sized> DerefMut for RwLockWriteGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in `deref`, and the guard is borrowed mutably.
        unsafe { &mut *self.lock.value.get() }
    }
}

impl<T: ?Sized> Drop for RwLockWriteGuard<'_, T> {
    fn drop(&mut self) {
        self.lock.state.store(0, Ordering::Release);
        self.lock.wake_all();
    }
}
