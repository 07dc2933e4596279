//! Threads, shaped like `std::thread`: [`spawn`], [`Builder`] (name, stack size),
//! [`JoinHandle::join`], [`current`], [`yield_now`], [`sleep`], [`park`] / [`Thread::unpark`],
//! [`available_parallelism`], and thread-local storage through [`thread_local!`](crate::thread_local).
//!
//! Threads are preempted by the timer where the platform has one (every native platform; Xen PV
//! schedules cooperatively for now) and run on every core the machine has. Each stack has an
//! unmapped guard page below it; an overflow is reported with the thread's name and ends the run
//! with [`CPU_EXCEPTION`](crate::CPU_EXCEPTION). A panic in any thread ends the whole run with
//! [`PANIC`](crate::PANIC) (Rivet builds with `panic = "abort"`), so [`JoinHandle::join`] always
//! returns `Ok`; it keeps `std`'s `Result` so ported code reads the same.
//!
//! The default stack size is 128 KiB, or `rivet.stack=<KiB>` on the kernel command line; the time
//! slice is 10 ms, or `rivet.timeslice=<ms>`.

mod local;
pub(crate) mod sched;
pub(crate) mod stack;
mod tls;

pub use local::{AccessError, LocalKey};

use alloc::boxed::Box;
use alloc::string::String;
use alloc::sync::Arc;
use core::num::NonZeroUsize;
use core::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use core::time::Duration;
use rivet_core::sync::IrqMutex;
use sched::ThreadInner;

/// Stack bytes for threads whose [`Builder`] names no size (`rivet.stack=` changes it).
pub(crate) static DEFAULT_STACK_SIZE: AtomicUsize = AtomicUsize::new(128 * 1024);

/// What [`JoinHandle::join`] returns: always `Ok` (a panic ends the whole run).
pub type Result<T> = core::result::Result<T, Box<dyn core::any::Any + Send + 'static>>;

/// A handle to a thread: its name and id, and a way to unpark it.
#[derive(Clone)]
pub struct Thread {
    inner: Arc<ThreadInner>,
}

/// A thread's identity, unique for the run.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct ThreadId(u64);

impl ThreadId {
    /// The id as a number (the main thread is 1).
    pub fn as_u64(&self) -> u64 {
        self.0
    }
}

impl Thread {
    /// The thread's id.
    pub fn id(&self) -> ThreadId {
        ThreadId(self.inner.id.0)
    }

    /// The thread's name, if it was given one (the main thread is `main`).
    pub fn name(&self) -> Option<&str> {
        self.inner.name.as_deref()
    }

    /// Makes the thread's next (or current) [`park`] return.
    pub fn unpark(&self) {
        if self.inner.park.swap(1, Ordering::Release) == 0 {
            sched::futex_wake(&self.inner.park, 1);
        }
    }
}

impl core::fmt::Debug for Thread {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Thread").field("id", &self.id()).field("name", &self.name()).finish()
    }
}

/// The calling thread.
pub fn current() -> Thread {
    Thread { inner: sched::current_arc().expect("the scheduler runs before main") }
}

/// Lets another ready thread run first.
pub fn yield_now() {
    sched::yield_now();
}

/// Blocks the calling thread for at least `duration` (other threads run meanwhile).
pub fn sleep(duration: Duration) {
    let clock = rivet_core::time::clock();
    let nanos = u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX);
    let ticks = rivet_core::time::nanos_to_ticks(nanos, clock.frequency());
    sched::sleep_until(clock.ticks().saturating_add(ticks));
}

/// Blocks until [`Thread::unpark`] is called on this thread (or returns at once if it was
/// called since the last park). May also return spuriously, as `std`'s does.
pub fn park() {
    let me = sched::current().expect("the scheduler runs before main");
    while me.park.swap(0, Ordering::Acquire) == 0 {
        sched::futex_wait(&me.park, 0, None);
    }
}

/// Like [`park`], giving up after `timeout`.
pub fn park_timeout(timeout: Duration) {
    let me = sched::current().expect("the scheduler runs before main");
    let deadline = crate::time::deadline_ticks(timeout);
    while me.park.swap(0, Ordering::Acquire) == 0 {
        if !sched::futex_wait(&me.park, 0, Some(deadline)) {
            return;
        }
    }
}

/// Blocks the calling thread while `word` holds `expected`, until [`futex_wake`] on the same word
/// or `timeout` passes (`None`: no limit), like Linux's `FUTEX_WAIT`. Returns `false` if it timed
/// out. May return spuriously: callers re-check their condition. The building block of C's
/// pthreads and of libstdc++'s futex calls (libc-shim).
pub fn futex_wait(word: &AtomicU32, expected: u32, timeout: Option<Duration>) -> bool {
    let deadline = timeout.map(crate::time::deadline_ticks);
    sched::futex_wait(word, expected, deadline)
}

/// Wakes up to `count` threads blocked in [`futex_wait`] on `word`; returns how many.
pub fn futex_wake(word: &AtomicU32, count: usize) -> usize {
    sched::futex_wake(word, count)
}

/// Ends the calling thread now, as if its closure had returned without a value: its
/// `thread_local!` values are dropped and joiners wake up (a [`JoinHandle::join`] on it then
/// panics: there is no result; use it for threads whose handle was dropped, as C's
/// `pthread_exit` in libc-shim does). Locals of the closure still on its stack are not dropped.
/// Panics on the `main` thread, which ends with `process::exit` instead.
pub fn exit_current() -> ! {
    sched::exit_current()
}

/// Cores threads run on.
pub fn available_parallelism() -> core::result::Result<NonZeroUsize, crate::io::Error> {
    Ok(NonZeroUsize::new(sched::online_cores()).unwrap_or(NonZeroUsize::MIN))
}

/// Threads alive now (running, ready or blocked), `main` included: for tests and diagnostics.
pub fn count() -> usize {
    sched::thread_count()
}

/// Spawns a thread with the default name (none) and stack size. Panics if no stack can be
/// made (use [`Builder::spawn`] to get the error instead).
pub fn spawn<F, T>(f: F) -> JoinHandle<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    Builder::new().spawn(f).expect("failed to spawn thread")
}

/// Thread settings: name and stack size.
#[derive(Debug, Default)]
pub struct Builder {
    name: Option<String>,
    stack_size: Option<usize>,
}

impl Builder {
    /// Default settings.
    pub fn new() -> Self {
        Self::default()
    }

    /// Names the thread (fault reports and [`Thread::name`] show it).
    pub fn name(mut self, name: String) -> Self {
        self.name = Some(name);
        self
    }

    /// Sets the stack size in bytes (rounded up to pages).
    pub fn stack_size(mut self, size: usize) -> Self {
        self.stack_size = Some(size);
        self
    }

    /// Spawns the thread.
    pub fn spawn<F, T>(self, f: F) -> core::result::Result<JoinHandle<T>, crate::io::Error>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let size = self.stack_size.unwrap_or_else(|| DEFAULT_STACK_SIZE.load(Ordering::Relaxed));
        let stack = stack::allocate(size).map_err(crate::io::Error::out_of_memory)?;
        let packet: Arc<IrqMutex<Option<T>>> = Arc::new(IrqMutex::new(None));
        let result = packet.clone();
        let entry = Box::new(move || {
            let value = f();
            *result.lock() = Some(value);
        });
        let inner = sched::spawn(self.name, stack, entry);
        Ok(JoinHandle { thread: Thread { inner }, packet })
    }
}

/// Owns a spawned thread: [`join`](JoinHandle::join) waits for it and takes its result.
/// Dropping the handle detaches the thread.
pub struct JoinHandle<T> {
    thread: Thread,
    packet: Arc<IrqMutex<Option<T>>>,
}

impl<T> JoinHandle<T> {
    /// The thread.
    pub fn thread(&self) -> &Thread {
        &self.thread
    }

    /// Whether the thread has finished.
    pub fn is_finished(&self) -> bool {
        self.thread.inner.finished.load(Ordering::Acquire) != 0
    }

    /// Waits for the thread to finish and returns what its closure returned.
    pub fn join(self) -> Result<T> {
        let finished = &self.thread.inner.finished;
        while finished.load(Ordering::Acquire) == 0 {
            sched::futex_wait(finished, 0, None);
        }
        let value = self.packet.lock().take();
        Ok(value.expect("a finished thread left its result"))
    }
}
