//! [`Once`], [`OnceLock`] and [`LazyLock`]: run an initialiser exactly once; late comers sleep
//! on the state word until it is done.

use super::{futex_wait, futex_wake};
use core::cell::UnsafeCell;
use core::mem::MaybeUninit;
use core::ops::Deref;
use core::sync::atomic::{AtomicU32, Ordering};

const INCOMPLETE: u32 = 0;
const RUNNING: u32 = 1;
const COMPLETE: u32 = 2;

/// Runs a piece of code once, like `std::sync::Once`.
pub struct Once {
    state: AtomicU32,
}

impl Once {
    /// A `Once` that has not run.
    pub const fn new() -> Self {
        Self { state: AtomicU32::new(INCOMPLETE) }
    }

    /// Runs `f` if no call has yet; otherwise waits until the call that does has finished.
    pub fn call_once(&self, f: impl FnOnce()) {
        if self.is_completed() {
            return;
        }
        match self.state.compare_exchange(INCOMPLETE, RUNNING, Ordering::Acquire, Ordering::Acquire)
        {
            Ok(_) => {
                f();
                self.state.store(COMPLETE, Ordering::Release);
                futex_wake(&self.state, usize::MAX);
            }
            Err(_) => {
                while self.state.load(Ordering::Acquire) != COMPLETE {
                    futex_wait(&self.state, RUNNING, None);
                }
            }
        }
    }

    /// Whether a call has finished.
    pub fn is_completed(&self) -> bool {
        self.state.load(Ordering::Acquire) == COMPLETE
    }
}

impl Default for Once {
    fn default() -> Self {
        Self::new()
    }
}

/// A cell written once, like `std::sync::OnceLock`.
pub struct OnceLock<T> {
    once: Once,
    value: UnsafeCell<MaybeUninit<T>>,
}

// SAFETY: the value is written once, by the one thread that wins `call_once`, before the state
// says COMPLETE; after that it is only read. Sharing needs `T: Sync` (shared reads) and `Send`
// (the value may be written by one thread and dropped by another), as in `std`.
unsafe impl<T: Send + Sync> Sync for OnceLock<T> {}
// SAFETY: moving the cell moves the value.
unsafe impl<T: Send> Send for OnceLock<T> {}

impl<T> OnceLock<T> {
    /// An empty cell.
    pub const fn new() -> Self {
        Self { once: Once::new(), value: UnsafeCell::new(MaybeUninit::uninit()) }
    }

    /// The value, if set.
    pub fn get(&self) -> Option<&T> {
        // SAFETY: COMPLETE means the value was written, and it is never written again.
        self.once.is_completed().then(|| unsafe { (*self.value.get()).assume_init_ref() })
    }

    /// The value, set by `f` if it was not set yet.
    pub fn get_or_init(&self, f: impl FnOnce() -> T) -> &T {
        self.once.call_once(|| {
            // SAFETY: only the thread running the `Once` writes, and nobody reads before COMPLETE.
            unsafe { (*self.value.get()).write(f()) };
        });
        self.get().expect("set by call_once")
    }

    /// Sets the value if it was not set; gives `value` back otherwise.
    pub fn set(&self, value: T) -> Result<(), T> {
        let mut value = Some(value);
        self.get_or_init(|| value.take().expect("taken once"));
        match value {
            None => Ok(()),
            Some(value) => Err(value),
        }
    }
}

impl<T> Default for OnceLock<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> Drop for OnceLock<T> {
    fn drop(&mut self) {
        if self.once.is_completed() {
            // SAFETY: COMPLETE means the value was written; `drop` has exclusive access.
            unsafe { self.value.get_mut().assume_init_drop() };
        }
    }
}

/// A value computed on first use, like `std::sync::LazyLock`.
pub struct LazyLock<T, F = fn() -> T> {
    cell: OnceLock<T>,
    init: UnsafeCell<Option<F>>,
}

// SAFETY: `init` is taken only inside the `OnceLock`'s single initialisation; otherwise as
// `OnceLock` (F: Send, as it may run on any thread).
unsafe impl<T: Send + Sync, F: Send> Sync for LazyLock<T, F> {}

impl<T, F: FnOnce() -> T> LazyLock<T, F> {
    /// A lazy value computed by `init` on first use.
    pub const fn new(init: F) -> Self {
        Self { cell: OnceLock::new(), init: UnsafeCell::new(Some(init)) }
    }

    /// The value, computing it if needed.
    pub fn force(this: &Self) -> &T {
        this.cell.get_or_init(|| {
            // SAFETY: this closure runs at most once (the `OnceLock`), on one thread.
            let init = unsafe { (*this.init.get()).take() };
            init.expect("LazyLock initialised once")()
        })
    }
}

impl<T, F: FnOnce() -> T> Deref for LazyLock<T, F> {
    type Target = T;
    fn deref(&self) -> &T {
        Self::force(self)
    }
}
