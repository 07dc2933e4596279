//! Thread-local storage through keys: [`thread_local!`](crate::thread_local) and [`LocalKey`].
//!
//! Stable Rust has no `#[thread_local]`, so a `thread_local!` static is a key: a number handed
//! out on first use, indexing a per-thread table of boxed values (created lazily by the key's
//! initialiser, dropped when the thread finishes). The same shape as `std`'s `LocalKey::with`.
//! ELF TLS (`.tdata`/`.tbss` and a thread pointer per thread) is what C and C++ code needs; it
//! comes with the libc shim.

use alloc::boxed::Box;
use core::sync::atomic::{AtomicUsize, Ordering};

/// Keys handed out so far.
static KEYS: AtomicUsize = AtomicUsize::new(0);

/// A thread-local value's key, made by [`thread_local!`](crate::thread_local).
pub struct LocalKey<T: 'static> {
    init: fn() -> T,
    /// Key index + 1; 0 until first use.
    key: AtomicUsize,
}

/// [`LocalKey::try_with`] was called where thread-locals are unavailable (before the scheduler
/// runs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AccessError;

impl core::fmt::Display for AccessError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("thread-local values are not available here")
    }
}

impl<T: 'static> LocalKey<T> {
    #[doc(hidden)]
    pub const fn new(init: fn() -> T) -> Self {
        Self { init, key: AtomicUsize::new(0) }
    }

    fn index(&'static self) -> usize {
        let key = self.key.load(Ordering::Acquire);
        if key != 0 {
            return key - 1;
        }
        let fresh = KEYS.fetch_add(1, Ordering::Relaxed) + 1;
        match self.key.compare_exchange(0, fresh, Ordering::AcqRel, Ordering::Acquire) {
            Ok(_) => fresh - 1,
            // Another thread assigned the key first; the fresh number is simply not used.
            Err(key) => key - 1,
        }
    }

    /// Runs `f` with this thread's value, creating it with the initialiser on first use.
    pub fn with<R>(&'static self, f: impl FnOnce(&T) -> R) -> R {
        self.try_with(f).expect("thread-local used before the scheduler runs")
    }

    /// Like [`with`](Self::with), failing instead of panicking where there are no threads.
    pub fn try_with<R>(&'static self, f: impl FnOnce(&T) -> R) -> Result<R, AccessError> {
        if !super::sched::running() {
            return Err(AccessError);
        }
        let index = self.index();
        let existing = super::sched::with_locals(|locals| {
            locals.get(index).and_then(Option::as_ref).map(|value| value.as_ref() as *const _)
        });
        let value = match existing {
            Some(value) => value,
            None => {
                // The initialiser may use other thread-locals: run it with the table released.
                let boxed: Box<dyn core::any::Any> = Box::new((self.init)());
                super::sched::with_locals(|locals| {
                    if locals.len() <= index {
                        locals.resize_with(index + 1, || None);
                    }
                    let slot = &mut locals[index];
                    if slot.is_none() {
                        *slot = Some(boxed);
                    }
                    slot.as_ref().map(|value| value.as_ref() as *const _).expect("just set")
                })
            }
        };
        // SAFETY: the value is boxed in this thread's table: the box is not moved when the table
        // grows, and is dropped only when the thread finishes (never during `f`, which runs on
        // this thread). The key is used only with `T`, so the downcast cannot fail.
        let value: &dyn core::any::Any = unsafe { &*value };
        Ok(f(value.downcast_ref::<T>().expect("a key holds values of one type")))
    }
}

/// Declares thread-local statics, like `std::thread_local!`:
///
/// ```ignore
/// rivet::thread_local! {
///     static COUNTER: core::cell::Cell<u32> = core::cell::Cell::new(0);
/// }
/// COUNTER.with(|c| c.set(c.get() + 1));
/// ```
#[macro_export]
macro_rules! thread_local {
    () => {};
    ($(#[$attr:meta])* $vis:vis static $name:ident: $t:ty = $init:expr; $($rest:tt)*) => {
        $(#[$attr])* $vis static $name: $crate::thread::LocalKey<$t> = {
            fn __init() -> $t {
                $init
            }
            $crate::thread::LocalKey::new(__init)
        };
        $crate::thread_local!($($rest)*);
    };
    ($(#[$attr:meta])* $vis:vis static $name:ident: $t:ty = $init:expr) => {
        $crate::thread_local!($(#[$attr])* $vis static $name: $t = $init;);
    };
}
