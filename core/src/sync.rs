//! A spin lock that masks interrupts on this core while it is held.
//!
//! Once threads are preempted by a timer interrupt, a plain spin lock can deadlock a core: a
//! thread holding it is interrupted, the interrupt (or the thread the scheduler switches to) asks
//! for the same lock, and spins for ever on the core that would release it. Every lock the kernel
//! takes from both thread and interrupt context — the console, the heap, the scheduler — is an
//! [`IrqMutex`]: taking it masks interrupts first, releasing it restores what was there before.
//!
//! Core knows no CPU, so the masking is two functions the platform installs with
//! [`set_interrupt_mask`] once it can take interrupts; until then (early boot, or a platform with
//! interrupts always masked) the lock is a plain spin lock.

use core::ops::{Deref, DerefMut};
use spin::{Mutex, MutexGuard, Once};

/// How to mask this core's interrupts (returning whether they were unmasked) and restore them.
#[derive(Clone, Copy)]
struct Mask {
    disable: fn() -> bool,
    restore: fn(bool),
}

static MASK: Once<Mask> = Once::new();

/// Installs the functions that mask interrupts (returning whether they were enabled before) and
/// restore them. Only the first call takes effect.
pub fn set_interrupt_mask(disable: fn() -> bool, restore: fn(bool)) {
    MASK.call_once(|| Mask { disable, restore });
}

/// Masks interrupts on this core; returns the state [`restore_interrupts`] takes back.
pub fn disable_interrupts() -> bool {
    MASK.get().is_some_and(|mask| (mask.disable)())
}

/// Puts back the interrupt state [`disable_interrupts`] returned.
pub fn restore_interrupts(were_enabled: bool) {
    if let Some(mask) = MASK.get() {
        (mask.restore)(were_enabled);
    }
}

/// A spin lock held with this core's interrupts masked.
pub struct IrqMutex<T> {
    inner: Mutex<T>,
}

/// Access to the value of a locked [`IrqMutex`]; dropping it unlocks, then restores interrupts.
pub struct IrqMutexGuard<'a, T> {
    guard: Option<MutexGuard<'a, T>>,
    were_enabled: bool,
}

impl<T> IrqMutex<T> {
    /// A new, unlocked lock around `value`.
    pub const fn new(value: T) -> Self {
        Self { inner: Mutex::new(value) }
    }

    /// Masks interrupts, then spins until the lock is free.
    pub fn lock(&self) -> IrqMutexGuard<'_, T> {
        let were_enabled = disable_interrupts();
        IrqMutexGuard { guard: Some(self.inner.lock()), were_enabled }
    }

    /// Takes the lock if it is free; interrupts are left as they were if it is not.
    pub fn try_lock(&self) -> Option<IrqMutexGuard<'_, T>> {
        let were_enabled = disable_interrupts();
        match self.inner.try_lock() {
            Some(guard) => Some(IrqMutexGuard { guard: Some(guard), were_enabled }),
            None => {
                restore_interrupts(were_enabled);
                None
            }
        }
    }
}

impl<T> Deref for IrqMutexGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        self.guard.as_ref().expect("guard present until drop")
    }
}

impl<T> DerefMut for IrqMutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        self.guard.as_mut().expect("guard present until drop")
    }
}

impl<T> Drop for IrqMutexGuard<'_, T> {
    fn drop(&mut self) {
        // Unlock first: restoring interrupts may take one at once, and its handler may want the
        // lock.
        drop(self.guard.take());
        restore_interrupts(self.were_enabled);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locks_and_unlocks() {
        let lock = IrqMutex::new(5);
        {
            let mut guard = lock.lock();
            *guard += 1;
            assert!(lock.try_lock().is_none());
        }
        assert_eq!(*lock.lock(), 6);
    }
}
