//! The scheduler's mechanism: the lock, the per-core state, the switch, the idle loop, the
//! preemption point and the futex calls every blocking primitive is built on.
//!
//! The policy lives in `rivet_core::sched::Scheduler` (host-tested); this module holds one
//! behind [`KERNEL`], a spin lock taken with interrupts masked, together with the threads
//! themselves (stacks and saved stack pointers).
//!
//! **The lock is handed over across a switch.** A thread takes the lock, decides, and switches
//! with it held; the thread that resumes releases it — a thread is never picked by another core
//! before its registers are saved. A resumed thread releases the lock with the interrupt state
//! *it* had when it took the lock (kept in its own guard, on its own stack); a new thread
//! starts with interrupts enabled (where the platform has them). The code after a switch also
//! reaps the thread that finished on this core just before (its stack could not be freed while
//! it was still running on it).
//!
//! **Preemption** is core's after-interrupt hook ([`after_interrupt`]): it expires timers, and
//! switches when the running thread's slice is over and another thread waits. Each core's alarm
//! is armed for the next deadline that concerns it (the first timer, or the slice end when
//! someone waits): no periodic tick. The idle loop waits with the platform's wait-for-interrupt
//! (`rivet_core::time::wait_for_interrupt`: `sti; hlt`, `wfi`, Xen PV's `SCHEDOP_block`).
//! A platform without interrupts (every current one has them; a Xen PV guest whose event set-up
//! failed would not) schedules cooperatively: threads switch when they block, yield or sleep,
//! and the idle loop polls the timers.

use super::stack::Stack;
use super::tls::TlsArea;
use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::any::Any;
use core::cell::UnsafeCell;
use core::ops::Range;
use core::ptr::null_mut;
use core::sync::atomic::{AtomicBool, AtomicPtr, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use rivet_arch::percpu::MAX_CPUS;
use rivet_core::sched::{Kicks, Scheduler, Switch, ThreadId, Wakeup};
use rivet_core::sync::IrqMutex;

/// One thread: its identity, saved stack pointer, stack, and the words others wait on.
pub(crate) struct ThreadInner {
    pub(crate) id: ThreadId,
    pub(crate) name: Option<String>,
    /// The saved stack pointer while it is not running (written by `context::switch`).
    sp: UnsafeCell<u64>,
    /// Its stack (`None` for threads on a stack the boot gave: `main`, the idle loops).
    stack: IrqMutex<Option<Stack>>,
    /// The usable stack range, for fault reports and backtraces (empty: the boot stack).
    stack_range: Range<u64>,
    /// Becomes 1 when the thread has finished: the futex word `join` waits on.
    pub(crate) finished: AtomicU32,
    /// The park token: 1 when an unpark is pending (see `thread::park`).
    pub(crate) park: AtomicU32,
    /// What the thread runs, taken when it starts.
    entry: IrqMutex<Option<Box<dyn FnOnce() + Send>>>,
    /// Its `thread_local!` values, by key index: touched only by the thread itself.
    locals: UnsafeCell<Vec<Option<Box<dyn Any>>>>,
    /// Its ELF TLS area, for C and C++ code (`None`: the idle threads).
    tls: Option<TlsArea>,
}

// SAFETY: `sp` is written only by the switch away from the thread and read only by the switch
// back to it, both under the scheduler lock; `locals` is touched only by the thread itself (see
// `with_locals`); everything else is immutable, atomic or behind a lock. The boxed values in
// `locals` never leave the thread that made them.
unsafe impl Sync for ThreadInner {}
// SAFETY: as above: a `ThreadInner` may be dropped on another core (after a join), which only
// drops the (empty, for a finished thread) `locals` and the stack handle.
unsafe impl Send for ThreadInner {}

impl ThreadInner {
    fn new(id: ThreadId, name: Option<String>, stack: Option<Stack>, tls: Option<TlsArea>) -> Self {
        let stack_range = stack.as_ref().map_or(0..0, Stack::range);
        Self {
            id,
            name,
            sp: UnsafeCell::new(0),
            stack: IrqMutex::new(stack),
            stack_range,
            finished: AtomicU32::new(0),
            park: AtomicU32::new(0),
            entry: IrqMutex::new(None),
            locals: UnsafeCell::new(Vec::new()),
            tls,
        }
    }

    /// The thread pointer this thread runs with (0: no TLS area).
    fn thread_pointer(&self) -> u64 {
        self.tls.as_ref().map_or(0, |tls| tls.thread_pointer)
    }
}

/// A TLS area for a thread that runs application code; running out of heap here is fatal.
fn tls_area() -> Option<TlsArea> {
    Some(TlsArea::new().expect("out of memory for a thread's TLS area"))
}

/// What a core needs without taking the lock: who runs here, its idle thread, and the thread
/// that just finished here and waits to be reaped.
struct Core {
    current: AtomicPtr<ThreadInner>,
    idle: AtomicPtr<ThreadInner>,
    dead: AtomicPtr<ThreadInner>,
}

static CORES: [Core; MAX_CPUS] = [const {
    Core {
        current: AtomicPtr::new(null_mut()),
        idle: AtomicPtr::new(null_mut()),
        dead: AtomicPtr::new(null_mut()),
    }
}; MAX_CPUS];

/// The scheduler's data, behind [`KERNEL`].
pub(crate) struct Kernel {
    sched: Scheduler,
    threads: BTreeMap<ThreadId, Arc<ThreadInner>>,
}

/// The scheduler lock and what it guards (see the module comment for the hand-over).
struct SchedLock {
    locked: AtomicBool,
    kernel: UnsafeCell<Option<Kernel>>,
}

// SAFETY: `kernel` is only reached through a `Guard`, which exists only while `locked` is held
// by this core (taken in `lock`, or handed over across a switch).
unsafe impl Sync for SchedLock {}

static KERNEL: SchedLock =
    SchedLock { locked: AtomicBool::new(false), kernel: UnsafeCell::new(None) };

/// Set once the scheduler runs: before that, blocking calls spin and the hook does nothing.
static RUNNING: AtomicBool = AtomicBool::new(false);
/// Whether threads run with interrupts enabled (the platform has an interrupt-driven alarm).
static PREEMPTIVE: AtomicBool = AtomicBool::new(false);
/// Threads in the run queues, as of the last unlock (see `idle_loop`).
static READY_HINT: AtomicUsize = AtomicUsize::new(0);
/// The first timer deadline, as of the last unlock (`u64::MAX`: none).
static TIMER_HINT: AtomicU64 = AtomicU64::new(u64::MAX);
/// Thread ids handed out so far.
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// The scheduler lock, held; released (and this thread's interrupt state restored) on drop.
pub(crate) struct Guard {
    were_enabled: bool,
}

impl SchedLock {
    fn lock(&self) -> Guard {
        let were_enabled = rivet_core::sync::disable_interrupts();
        while self
            .locked
            .compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            core::hint::spin_loop();
        }
        Guard { were_enabled }
    }
}

impl core::ops::Deref for Guard {
    type Target = Kernel;
    fn deref(&self) -> &Kernel {
        // SAFETY: a guard exists only while this core holds the lock (see `SchedLock`); the
        // kernel is set before any guard is made (`init`).
        unsafe { (*KERNEL.kernel.get()).as_ref().expect("scheduler initialised") }
    }
}

impl core::ops::DerefMut for Guard {
    fn deref_mut(&mut self) -> &mut Kernel {
        // SAFETY: as in `deref`; the guard is borrowed mutably, so this is the only access.
        unsafe { (*KERNEL.kernel.get()).as_mut().expect("scheduler initialised") }
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        // What an idle core without interrupts polls, so it need not take the lock to find out.
        // SAFETY: this guard holds the lock (see `deref`).
        if let Some(k) = unsafe { (*KERNEL.kernel.get()).as_ref() } {
            READY_HINT.store(k.sched.ready(), Ordering::Relaxed);
            TIMER_HINT.store(k.sched.first_deadline().unwrap_or(u64::MAX), Ordering::Relaxed);
        }
        KERNEL.locked.store(false, Ordering::Release);
        rivet_core::sync::restore_interrupts(self.were_enabled);
    }
}

fn lock() -> Guard {
    KERNEL.lock()
}

fn ticks() -> u64 {
    rivet_core::time::clock().ticks()
}

fn core_index() -> usize {
    rivet_arch::percpu::index()
}

/// Whether the scheduler has started (threads can block).
pub(crate) fn running() -> bool {
    RUNNING.load(Ordering::Acquire)
}

/// Starts the scheduler on the boot core: the caller (about to run `main` on the boot stack)
/// becomes the thread `main`, and this core gets an idle thread. `slice` is the time slice in
/// ticks; `preemptive` says whether the platform has an interrupt-driven alarm.
pub(crate) fn init(slice: u64, preemptive: bool, idle_stack: Stack) {
    let main = Arc::new(ThreadInner::new(
        ThreadId(next_id()),
        Some(String::from("main")),
        None,
        tls_area(),
    ));
    rivet_arch::tls::set_thread_pointer(main.thread_pointer());
    let mut sched = Scheduler::new(MAX_CPUS, slice);
    sched.adopt(main.id, 0, ticks()).expect("core 0 exists");
    let mut threads = BTreeMap::new();
    threads.insert(main.id, main.clone());
    // SAFETY: nothing holds the lock or has read the kernel yet: this is the first write, on the
    // boot core, before RUNNING is set.
    unsafe { *KERNEL.kernel.get() = Some(Kernel { sched, threads }) };
    let core = &CORES[0];
    core.current.store(Arc::as_ptr(&main).cast_mut(), Ordering::Relaxed);
    core.idle.store(make_idle(idle_stack, 0), Ordering::Relaxed);
    rivet_core::exit::set_running_context(describe_running);
    PREEMPTIVE.store(preemptive, Ordering::Relaxed);
    RUNNING.store(true, Ordering::Release);
    if preemptive {
        rivet_core::interrupt::set_after_interrupt(after_interrupt);
    }
}

fn next_id() -> u64 {
    NEXT_ID.fetch_add(1, Ordering::Relaxed)
}

/// An idle thread on `stack` that will run the idle loop of core `core` once switched to.
fn make_idle(stack: Stack, core: usize) -> *mut ThreadInner {
    let range = stack.range();
    let idle =
        Arc::new(ThreadInner::new(ThreadId(u64::MAX - core as u64), None, Some(stack), None));
    let sp = rivet_arch::context::prepare(range, idle_entry, core as u64);
    // SAFETY: nothing else knows this thread yet.
    unsafe { *idle.sp.get() = sp };
    // The idle thread lives for the rest of the run.
    Arc::into_raw(idle).cast_mut()
}

/// Makes the calling secondary core schedulable: its current context (on the stack its
/// bring-up gave it) becomes its idle thread. Never returns.
pub(crate) fn run_secondary(core: usize) -> ! {
    let idle = Arc::new(ThreadInner::new(ThreadId(u64::MAX - core as u64), None, None, None));
    let idle = Arc::into_raw(idle).cast_mut();
    let this = &CORES[core];
    this.idle.store(idle, Ordering::Relaxed);
    this.current.store(idle, Ordering::Relaxed);
    {
        let mut k = lock();
        k.sched.online(core).expect("core index below MAX_CPUS");
    }
    idle_loop(core)
}

/// The first code of core `core`'s idle thread (entered by the first switch to it).
extern "C" fn idle_entry(core: u64) -> ! {
    let mut k = Guard { were_enabled: false };
    after_switch(&mut k);
    drop(k);
    idle_loop(core as usize)
}

/// Runs whatever is ready; halts the core until an interrupt when nothing is.
fn idle_loop(core: usize) -> ! {
    loop {
        let mut k = lock();
        let now = ticks();
        let kicks = k.sched.expire(now);
        kick(kicks.without(core));
        if k.sched.should_preempt(core, now) {
            drop(reschedule(k, Switch::Leave));
            continue;
        }
        arm_alarm(&k, core);
        drop(k);
        if PREEMPTIVE.load(Ordering::Relaxed) {
            // The platform's wait (not `rivet_arch::cpu::wait_for_interrupt`): under Xen PV it
            // is SCHEDOP_block, `hlt` would fault in ring 3.
            rivet_core::time::wait_for_interrupt();
        } else {
            // No interrupt will come: poll, but without the lock, which the cores doing work
            // need (several idle cores spinning on it would slow them down by orders of
            // magnitude under emulation).
            while READY_HINT.load(Ordering::Relaxed) == 0
                && ticks() < TIMER_HINT.load(Ordering::Relaxed)
            {
                core::hint::spin_loop();
            }
        }
    }
}

/// Arms this core's alarm for the next deadline that concerns it, or disarms it.
fn arm_alarm(k: &Guard, core: usize) {
    if !PREEMPTIVE.load(Ordering::Relaxed) {
        return;
    }
    if let Some(alarm) = rivet_core::time::alarm() {
        match k.sched.next_deadline(core) {
            Some(deadline) => alarm.arm(deadline),
            None => alarm.disarm(),
        }
    }
}

/// Sends the reschedule interrupt to every core in `kicks`.
fn kick(kicks: Kicks) {
    if kicks.is_empty() {
        return;
    }
    if let Some(cores) = crate::smp::cores() {
        for core in kicks.cores() {
            cores.kick(core);
        }
    }
}

/// The running thread leaves the core (`why`); runs the next one. Returns (with the lock held
/// again) when this thread is resumed, maybe on another core.
fn reschedule(mut k: Guard, why: Switch) -> Guard {
    let core = core_index();
    let next = match k.sched.switch(core, why, ticks()) {
        Ok(next) => next,
        Err(e) => panic!("scheduler: {e}"),
    };
    let this = &CORES[core];
    let current = this.current.load(Ordering::Relaxed);
    let target = match next {
        Some(id) => Arc::as_ptr(&k.threads[&id]).cast_mut(),
        None => this.idle.load(Ordering::Relaxed),
    };
    arm_alarm(&k, core);
    if target == current {
        return k;
    }
    this.current.store(target, Ordering::Relaxed);
    // SAFETY: `target` and `current` are threads the kernel keeps alive (in `threads`, or the
    // idle threads, which are never freed); a finished thread stays in `threads` until reaped
    // by `after_switch`, after this switch has completed. Interrupts are masked (the lock), the
    // target is not running anywhere (the scheduler gave it to this core only), and its saved
    // stack pointer was written by its own switch away or by `context::prepare`.
    unsafe {
        rivet_arch::percpu::set_thread_stack((*target).stack_range.clone());
        rivet_arch::tls::set_thread_pointer((*target).thread_pointer());
        rivet_arch::context::switch((*current).sp.get(), *(*target).sp.get());
    }
    after_switch(&mut k);
    k
}

/// Runs right after every switch, on the thread switched to: reaps the thread that finished on
/// this core just before.
fn after_switch(k: &mut Guard) {
    let dead = CORES[core_index()].dead.swap(null_mut(), Ordering::Relaxed);
    if dead.is_null() {
        return;
    }
    // SAFETY: `dead` was stored by `exit` from the `Arc` in `threads`, which still owns it.
    let id = unsafe { (*dead).id };
    let _ = k.sched.remove(id);
    if let Some(thread) = k.threads.remove(&id) {
        if let Some(stack) = thread.stack.lock().take() {
            super::stack::release(stack);
        }
    }
}

/// Core's after-interrupt hook: expire timers, kick cores, preempt the running thread if its
/// slice is over and someone waits.
fn after_interrupt() {
    let core = core_index();
    let mut k = lock();
    let now = ticks();
    let kicks = k.sched.expire(now);
    kick(kicks.without(core));
    let this = &CORES[core];
    let idle = this.current.load(Ordering::Relaxed) == this.idle.load(Ordering::Relaxed);
    if !idle && k.sched.should_preempt(core, now) {
        drop(reschedule(k, Switch::Yield));
    } else {
        arm_alarm(&k, core);
    }
}

/// The thread running on this core.
pub(crate) fn current() -> Option<&'static ThreadInner> {
    let current = CORES[core_index()].current.load(Ordering::Relaxed);
    // SAFETY: the running thread is alive while it runs (it is reaped only after it has left the
    // core for good), and the caller is that thread; the reference must not outlive it, which
    // the callers in this crate respect (they use it within the call).
    (!current.is_null()).then(|| unsafe { &*current })
}

/// The running thread's `Arc` (for `thread::current`), if the scheduler runs.
pub(crate) fn current_arc() -> Option<Arc<ThreadInner>> {
    let id = current()?.id;
    lock().threads.get(&id).cloned()
}

/// For fault and panic reports: the running thread, without taking a lock.
fn describe_running(f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
    let Some(thread) = current() else { return Ok(()) };
    match (&thread.name, thread.id.0) {
        (_, id) if id > u64::MAX - MAX_CPUS as u64 => {
            writeln!(f, "in the idle loop of core {}", core_index())
        }
        (Some(name), id) => writeln!(f, "in thread '{name}' (id {id}) on core {}", core_index()),
        (None, id) => writeln!(f, "in thread {id} (unnamed) on core {}", core_index()),
    }
}

/// Makes a thread that runs `entry` on `stack`, ready to run. Returns it.
pub(crate) fn spawn(
    name: Option<String>,
    stack: Stack,
    entry: Box<dyn FnOnce() + Send>,
) -> Arc<ThreadInner> {
    let range = stack.range();
    let thread = Arc::new(ThreadInner::new(ThreadId(next_id()), name, Some(stack), tls_area()));
    *thread.entry.lock() = Some(entry);
    let sp = rivet_arch::context::prepare(range, thread_entry, 0);
    // SAFETY: nobody else knows the thread yet.
    unsafe { *thread.sp.get() = sp };
    let core = core_index();
    let mut k = lock();
    k.threads.insert(thread.id, thread.clone());
    let kicks = k.sched.add(thread.id, core);
    kick(kicks.without(core));
    arm_alarm(&k, core);
    thread
}

/// The first code of every spawned thread (entered by the first switch to it, lock held).
extern "C" fn thread_entry(_: u64) -> ! {
    let mut k = Guard { were_enabled: PREEMPTIVE.load(Ordering::Relaxed) };
    after_switch(&mut k);
    drop(k);
    let thread = current().expect("a spawned thread runs under the scheduler");
    let entry = thread.entry.lock().take();
    if let Some(entry) = entry {
        entry();
    }
    exit()
}

/// Ends the running spawned thread early (`thread::exit_current`).
pub(crate) fn exit_current() -> ! {
    let thread = current().expect("a thread runs under the scheduler");
    assert!(
        thread.stack_range.start != thread.stack_range.end,
        "the main thread cannot exit this way"
    );
    exit()
}

/// Ends the running thread: drops its thread-locals, wakes its joiners, leaves for good.
fn exit() -> ! {
    let thread = current().expect("a spawned thread runs under the scheduler");
    // SAFETY: the thread's own locals, touched only by itself (this is it, finishing).
    drop(core::mem::take(unsafe { &mut *thread.locals.get() }));
    let core = core_index();
    let mut k = lock();
    thread.finished.store(1, Ordering::Release);
    let (_, kicks) = k.sched.wake_address(address(&thread.finished), usize::MAX);
    kick(kicks.without(core));
    if let Err(e) = k.sched.finish(core) {
        panic!("scheduler: {e}");
    }
    CORES[core].dead.store((thread as *const ThreadInner).cast_mut(), Ordering::Relaxed);
    drop(reschedule(k, Switch::Leave));
    unreachable!("a finished thread was resumed");
}

fn address(word: &AtomicU32) -> usize {
    word as *const AtomicU32 as usize
}

/// Gives up the core to the next ready thread, if any.
pub(crate) fn yield_now() {
    if running() {
        drop(reschedule(lock(), Switch::Yield));
    } else {
        core::hint::spin_loop();
    }
}

/// Blocks the running thread until the clock reaches `deadline` (ticks).
pub(crate) fn sleep_until(deadline: u64) {
    if !running() {
        let now = ticks();
        let nanos = rivet_core::time::ticks_to_nanos(
            deadline.saturating_sub(now),
            rivet_core::time::clock().frequency(),
        );
        rivet_core::time::sleep(core::time::Duration::from_nanos(nanos));
        return;
    }
    while ticks() < deadline {
        let mut k = lock();
        if let Err(e) = k.sched.wait(core_index(), None, Some(deadline)) {
            panic!("scheduler: {e}");
        }
        drop(reschedule(k, Switch::Leave));
    }
}

/// Blocks the running thread while `word` holds `expected`, until [`futex_wake`] on the same
/// word or the clock reaches `deadline` (ticks). Returns `false` if it timed out. May return
/// spuriously (callers re-check their condition), and at once before the scheduler runs.
pub(crate) fn futex_wait(word: &AtomicU32, expected: u32, deadline: Option<u64>) -> bool {
    if !running() {
        core::hint::spin_loop();
        return deadline.is_none_or(|deadline| ticks() < deadline);
    }
    let mut k = lock();
    if word.load(Ordering::SeqCst) != expected {
        return true;
    }
    let id = match k.sched.wait(core_index(), Some(address(word)), deadline) {
        Ok(id) => id,
        Err(e) => panic!("scheduler: {e}"),
    };
    let k = reschedule(k, Switch::Leave);
    k.sched.wakeup(id) != Some(Wakeup::TimedOut)
}

/// Wakes up to `count` threads blocked in [`futex_wait`] on `word`; returns how many.
pub(crate) fn futex_wake(word: &AtomicU32, count: usize) -> usize {
    if !running() {
        return 0;
    }
    let core = core_index();
    let mut k = lock();
    let (woken, kicks) = k.sched.wake_address(address(word), count);
    kick(kicks.without(core));
    arm_alarm(&k, core);
    woken
}

/// Runs `f` on the running thread's `thread_local!` values.
pub(crate) fn with_locals<R>(f: impl FnOnce(&mut Vec<Option<Box<dyn Any>>>) -> R) -> R {
    let thread = current().expect("thread-locals used before the scheduler runs");
    // SAFETY: `locals` belongs to the running thread and only it touches it; `f` gets it for the
    // duration of the call, and callers (`LocalKey::with`) do not call back into this function
    // while `f` runs.
    f(unsafe { &mut *thread.locals.get() })
}

/// Threads alive (for tests and diagnostics): running, ready, blocked, or finished but not
/// reaped.
pub(crate) fn thread_count() -> usize {
    if !running() {
        return 1;
    }
    lock().sched.threads()
}

/// Cores the scheduler runs on.
pub(crate) fn online_cores() -> usize {
    if !running() {
        return 1;
    }
    lock().sched.online_cores()
}
