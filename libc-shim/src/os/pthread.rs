//! POSIX threads over Rivet's threads and futexes, with glibc 2.36's type sizes.
//!
//! The objects C declares (`pthread_mutex_t` 40 bytes on x86_64 and 48 on aarch64,
//! `pthread_cond_t` 48, `pthread_rwlock_t` 56, `pthread_once_t` 4 …) are used through their first
//! words as atomics; the only glibc layout honoured is what static initialisers fix: all zero is
//! an unlocked normal mutex, an unsignalled condition variable, a free rwlock, and a mutex's
//! `__kind` is the int at byte 16 (`PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP` sets it to 1).
//!
//! Mutex words: `[0]` state (0 free, 1 locked, 2 locked with waiters), `[4]` recursion count,
//! `[8..16]` owner (the owner's errno address: unique per live thread and cheap to get),
//! `[16]` kind. Condition variable: `[0]` a sequence number waiters sleep on, `[8]` its clock.
//!
//! A `pthread_t` is the address of a record that lives for the rest of the run (a few dozen
//! bytes per thread ever created: threads are few in a unikernel). Known gaps: cancellation,
//! `pthread_kill`, priority scheduling (accepted, ignored), process-shared objects (there is one
//! process).

use crate::os::alloc::boxed::Box;
use crate::os::alloc::collections::BTreeMap;
use crate::os::alloc::vec::Vec;
use core::ffi::{c_char, c_int, c_void};
use core::sync::atomic::{AtomicU32, AtomicU64, AtomicUsize, Ordering};
use core::time::Duration;
use rivet::sync::Mutex;

use crate::os::errno::code::{EAGAIN, EBUSY, EDEADLK, EINVAL, ENOSYS, EPERM, ETIMEDOUT};
use crate::os::time::{now_nanos, Timespec};

extern "C" {
    fn __errno_location() -> *mut c_int;
}

/// A number unique to the calling thread among live threads: its errno's address.
fn me() -> u64 {
    // SAFETY: returns the address of the caller's errno; nothing is dereferenced.
    unsafe { __errno_location() as u64 }
}

/// The 32-bit atomic at byte `offset` of a C object.
///
/// # Safety
/// 1. `object + offset` is valid, 4-aligned and live for `'a`, and only accessed atomically
///    meanwhile (the pthread functions are the only code that touches these objects).
unsafe fn word<'a>(object: *mut c_void, offset: usize) -> &'a AtomicU32 {
    // SAFETY: obligation 1.
    unsafe { &*object.cast::<u8>().add(offset).cast::<AtomicU32>() }
}

/// The 64-bit atomic at byte `offset` of a C object (same obligations as [`word`], 8-aligned).
unsafe fn word64<'a>(object: *mut c_void, offset: usize) -> &'a AtomicU64 {
    // SAFETY: the caller's obligation, as for `word`.
    unsafe { &*object.cast::<u8>().add(offset).cast::<AtomicU64>() }
}

fn null_check(object: *mut c_void, function: &str) {
    if object.is_null() {
        panic!("{function}(): NULL object");
    }
}

/// How long until the absolute `deadline` on `clock` (or EINVAL for a bad one).
///
/// # Safety
/// 1. `deadline` is NULL or valid for a read of a `struct timespec`.
unsafe fn time_left(clock: c_int, deadline: *const Timespec) -> Result<Option<Duration>, c_int> {
    if deadline.is_null() {
        return Ok(None);
    }
    // SAFETY: obligation 1.
    let target = unsafe { &*deadline }.nanos()?;
    let now = now_nanos(clock).ok_or(EINVAL)?;
    Ok(Some(Duration::from_nanos((target - now).clamp(0, i128::from(u64::MAX)) as u64)))
}

// ---- threads ------------------------------------------------------------------------------

/// One thread as C sees it.
struct Record {
    /// 1 once the thread has finished (the futex word `pthread_join` waits on).
    finished: AtomicU32,
    /// What its start function returned (or `pthread_exit` was given).
    result: AtomicUsize,
}

type StartFunction = unsafe extern "C" fn(*mut c_void) -> *mut c_void;

/// Records by the threads' `me()` value, for `pthread_self`.
static RECORDS: Mutex<BTreeMap<u64, usize>> = Mutex::new(BTreeMap::new());

fn new_record() -> &'static Record {
    Box::leak(Box::new(Record { finished: AtomicU32::new(0), result: AtomicUsize::new(0) }))
}

/// The calling thread's record (made on first use for threads C did not create, e.g. `main`).
fn current_record() -> &'static Record {
    let mut records = RECORDS.lock().unwrap_or_else(|e| e.into_inner());
    let address = *records.entry(me()).or_insert_with(|| new_record() as *const Record as usize);
    // SAFETY: every address in RECORDS comes from a leaked Box, valid for ever.
    unsafe { &*(address as *const Record) }
}

/// Work at the end of a C thread: key destructors, `thread_local` destructors, the result.
fn finish(record: &Record, result: usize) {
    run_key_destructors();
    crate::os::exit::run_thread_destructors();
    RECORDS.lock().unwrap_or_else(|e| e.into_inner()).remove(&me());
    record.result.store(result, Ordering::Relaxed);
    record.finished.store(1, Ordering::Release);
    rivet::thread::futex_wake(&record.finished, usize::MAX);
}

/// glibc's `pthread_attr_t` as used here: `[0]` stack size (0: default), `[8]` detach state.
const ATTR_STACK: usize = 0;
const ATTR_DETACH: usize = 8;
const PTHREAD_CREATE_DETACHED: u32 = 1;

/// Starts a thread running `start(argument)`; stores its id at `*thread`.
///
/// # Safety
/// 1. `thread` is valid for a write of a `pthread_t`; `attr` is NULL or an initialised attribute
///    object; `start` is a C function that may be called with `argument` on another thread.
#[no_mangle]
pub unsafe extern "C" fn pthread_create(
    thread: *mut usize,
    attr: *const c_void,
    start: Option<StartFunction>,
    argument: *mut c_void,
) -> c_int {
    let Some(start) = start else { return EINVAL };
    let mut stack = 0u64;
    if !attr.is_null() {
        // SAFETY: obligation 1: an attribute object at least 16 bytes long (56/64 in glibc).
        stack = unsafe { word64(attr.cast_mut(), ATTR_STACK) }.load(Ordering::Relaxed);
    }
    let record = new_record();
    let argument = argument as usize;
    let mut builder = rivet::thread::Builder::new();
    if stack != 0 {
        builder = builder.stack_size(stack as usize);
    }
    // SAFETY: plain byte store; C reads it without synchronisation as glibc's does.
    unsafe { crate::os::unistd::__libc_single_threaded = 0 };
    let spawned = builder.spawn(move || {
        RECORDS
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(me(), record as *const Record as usize);
        // SAFETY: obligation 1 of pthread_create: a C start function and its argument.
        let result = unsafe { start(argument as *mut c_void) } as usize;
        finish(record, result);
    });
    match spawned {
        Ok(handle) => {
            // Joining goes through the record; the Rust handle is not needed.
            drop(handle);
            // SAFETY: obligation 1.
            unsafe { thread.write(record as *const Record as usize) };
            0
        }
        Err(_) => EAGAIN,
    }
}

/// Waits for a thread to finish and takes its result.
///
/// # Safety
/// 1. `thread` came from `pthread_create` or `pthread_self`; `result` is NULL or valid for a
///    pointer-sized write.
#[no_mangle]
pub unsafe extern "C" fn pthread_join(thread: usize, result: *mut *mut c_void) -> c_int {
    if thread == 0 {
        return EINVAL;
    }
    // SAFETY: obligation 1: a record address, valid for ever.
    let record = unsafe { &*(thread as *const Record) };
    if core::ptr::eq(record, current_record()) {
        return EDEADLK;
    }
    while record.finished.load(Ordering::Acquire) == 0 {
        rivet::thread::futex_wait(&record.finished, 0, None);
    }
    if !result.is_null() {
        // SAFETY: obligation 1.
        unsafe { result.write(record.result.load(Ordering::Relaxed) as *mut c_void) };
    }
    0
}

/// Detaches a thread: nothing to do (records are never freed).
#[no_mangle]
pub extern "C" fn pthread_detach(_thread: usize) -> c_int {
    0
}

/// The calling thread's id.
#[no_mangle]
pub extern "C" fn pthread_self() -> usize {
    current_record() as *const Record as usize
}

/// Whether two thread ids are the same thread.
#[no_mangle]
pub extern "C" fn pthread_equal(a: usize, b: usize) -> c_int {
    c_int::from(a == b)
}

/// Ends the calling thread with `result`. On `main`, waits for the other threads and ends the
/// program with status 0, as glibc does when the last thread exits.
#[no_mangle]
pub extern "C" fn pthread_exit(result: *mut c_void) -> ! {
    let record = current_record();
    if rivet::thread::current().name() == Some("main") {
        finish(record, result as usize);
        while rivet::thread::count() > 1 {
            rivet::thread::sleep(Duration::from_millis(1));
        }
        crate::os::exit::exit(0);
    }
    finish(record, result as usize);
    rivet::thread::exit_current()
}

/// Names a thread: accepted, not recorded.
#[no_mangle]
pub extern "C" fn pthread_setname_np(_thread: usize, _name: *const c_char) -> c_int {
    0
}

/// A thread's name: always empty.
///
/// # Safety
/// 1. `buffer` is valid for a write of `length` bytes.
#[no_mangle]
pub unsafe extern "C" fn pthread_getname_np(
    _thread: usize,
    buffer: *mut c_char,
    length: usize,
) -> c_int {
    if length > 0 && !buffer.is_null() {
        // SAFETY: obligation 1.
        unsafe { buffer.write(0) };
    }
    0
}

/// Initialises an attribute object: default stack, joinable.
///
/// # Safety
/// 1. `attr` is valid for writes of 16 bytes and 8-aligned (glibc's is 56/64).
#[no_mangle]
pub unsafe extern "C" fn pthread_attr_init(attr: *mut c_void) -> c_int {
    null_check(attr, "pthread_attr_init");
    // SAFETY: obligation 1.
    unsafe { core::ptr::write_bytes(attr.cast::<u8>(), 0, 16) };
    0
}

/// Destroys an attribute object (nothing to free).
#[no_mangle]
pub extern "C" fn pthread_attr_destroy(_attr: *mut c_void) -> c_int {
    0
}

/// Sets the stack size of threads made with `attr`.
///
/// # Safety
/// As for [`pthread_attr_init`].
#[no_mangle]
pub unsafe extern "C" fn pthread_attr_setstacksize(attr: *mut c_void, size: usize) -> c_int {
    null_check(attr, "pthread_attr_setstacksize");
    if size < 16384 {
        return EINVAL;
    }
    // SAFETY: obligation 1 of pthread_attr_init.
    unsafe { word64(attr, ATTR_STACK) }.store(size as u64, Ordering::Relaxed);
    0
}

/// The stack size of threads made with `attr`.
///
/// # Safety
/// As for [`pthread_attr_init`]; `size` is valid for a write.
#[no_mangle]
pub unsafe extern "C" fn pthread_attr_getstacksize(attr: *const c_void, size: *mut usize) -> c_int {
    null_check(attr.cast_mut(), "pthread_attr_getstacksize");
    // SAFETY: obligation 1 of pthread_attr_init.
    let stored = unsafe { word64(attr.cast_mut(), ATTR_STACK) }.load(Ordering::Relaxed);
    // SAFETY: as documented.
    unsafe { size.write(if stored == 0 { 128 * 1024 } else { stored as usize }) };
    0
}

/// Sets joinable (0) or detached (1).
///
/// # Safety
/// As for [`pthread_attr_init`].
#[no_mangle]
pub unsafe extern "C" fn pthread_attr_setdetachstate(attr: *mut c_void, state: c_int) -> c_int {
    null_check(attr, "pthread_attr_setdetachstate");
    if !(0..=1).contains(&state) {
        return EINVAL;
    }
    // SAFETY: obligation 1 of pthread_attr_init.
    unsafe { word(attr, ATTR_DETACH) }.store(state as u32, Ordering::Relaxed);
    0
}

/// Joinable (0) or detached (1).
///
/// # Safety
/// As for [`pthread_attr_init`]; `state` is valid for a write.
#[no_mangle]
pub unsafe extern "C" fn pthread_attr_getdetachstate(
    attr: *const c_void,
    state: *mut c_int,
) -> c_int {
    null_check(attr.cast_mut(), "pthread_attr_getdetachstate");
    // SAFETY: obligation 1 of pthread_attr_init.
    let stored = unsafe { word(attr.cast_mut(), ATTR_DETACH) }.load(Ordering::Relaxed);
    // SAFETY: as documented.
    unsafe { state.write(c_int::from(stored == PTHREAD_CREATE_DETACHED)) };
    0
}

/// Scheduling settings: accepted and ignored (Rivet's scheduler has no priorities).
#[no_mangle]
pub extern "C" fn pthread_attr_setschedpolicy(_attr: *mut c_void, _policy: c_int) -> c_int {
    0
}

/// See [`pthread_attr_setschedpolicy`].
#[no_mangle]
pub extern "C" fn pthread_setschedparam(
    _thread: usize,
    _policy: c_int,
    _param: *const c_void,
) -> c_int {
    0
}

/// The lowest priority of a policy: 0 (there are none).
#[no_mangle]
pub extern "C" fn sched_get_priority_min(_policy: c_int) -> c_int {
    0
}

/// The highest priority of a policy: 0 (there are none).
#[no_mangle]
pub extern "C" fn sched_get_priority_max(_policy: c_int) -> c_int {
    0
}

/// Cancellation is not supported.
#[no_mangle]
pub extern "C" fn pthread_cancel(_thread: usize) -> c_int {
    ENOSYS
}

/// Signals are not supported.
#[no_mangle]
pub extern "C" fn pthread_kill(_thread: usize, signal: c_int) -> c_int {
    if signal == 0 {
        0
    } else {
        ENOSYS
    }
}

// ---- mutexes ------------------------------------------------------------------------------

const MUTEX_STATE: usize = 0;
const MUTEX_COUNT: usize = 4;
const MUTEX_OWNER: usize = 8;
const MUTEX_KIND: usize = 16;
const KIND_RECURSIVE: u32 = 1;
const KIND_ERRORCHECK: u32 = 2;
/// The kind bits (glibc keeps flags above them).
const KIND_MASK: u32 = 3;

/// Takes the lock word (0 → 1, or → 2 when waiting), blocking until `deadline`.
fn lock_word(state: &AtomicU32, timeout: Option<Duration>) -> Result<(), c_int> {
    if state.compare_exchange(0, 1, Ordering::Acquire, Ordering::Relaxed).is_ok() {
        return Ok(());
    }
    let deadline = timeout.map(|t| rivet::time::Instant::now().saturating_add(t));
    while state.swap(2, Ordering::Acquire) != 0 {
        let left = match deadline {
            None => None,
            Some(deadline) => {
                let now = rivet::time::Instant::now();
                if now >= deadline {
                    return Err(ETIMEDOUT);
                }
                Some(deadline.duration_since(now))
            }
        };
        rivet::thread::futex_wait(state, 2, left);
    }
    Ok(())
}

/// Locks a mutex, waiting at most `timeout`.
///
/// # Safety
/// 1. `mutex` is a live `pthread_mutex_t` (zeroed, statically or `pthread_mutex_init`ed).
unsafe fn mutex_lock(mutex: *mut c_void, timeout: Option<Duration>, try_only: bool) -> c_int {
    null_check(mutex, "pthread_mutex_lock");
    // SAFETY: obligation 1: a pthread_mutex_t is at least 40 bytes, 8-aligned.
    let (state, count, owner, kind) = unsafe {
        (
            word(mutex, MUTEX_STATE),
            word(mutex, MUTEX_COUNT),
            word64(mutex, MUTEX_OWNER),
            word(mutex, MUTEX_KIND),
        )
    };
    let kind = kind.load(Ordering::Relaxed) & KIND_MASK;
    let me = me();
    if kind != 0 && owner.load(Ordering::Relaxed) == me {
        if kind == KIND_RECURSIVE {
            count.fetch_add(1, Ordering::Relaxed);
            return 0;
        }
        if kind == KIND_ERRORCHECK {
            return if try_only { EBUSY } else { EDEADLK };
        }
    }
    if try_only {
        if state.compare_exchange(0, 1, Ordering::Acquire, Ordering::Relaxed).is_err() {
            return EBUSY;
        }
    } else if let Err(e) = lock_word(state, timeout) {
        return e;
    }
    owner.store(me, Ordering::Relaxed);
    count.store(1, Ordering::Relaxed);
    0
}

/// Initialises a mutex with the kind in `attr` (NULL: normal).
///
/// # Safety
/// 1. `mutex` is valid for writes of 40 bytes, 8-aligned; `attr` is NULL or an initialised
///    mutex attribute.
#[no_mangle]
pub unsafe extern "C" fn pthread_mutex_init(mutex: *mut c_void, attr: *const c_void) -> c_int {
    null_check(mutex, "pthread_mutex_init");
    // SAFETY: obligation 1.
    unsafe { core::ptr::write_bytes(mutex.cast::<u8>(), 0, 40) };
    if !attr.is_null() {
        // SAFETY: obligation 1: an attribute holds the kind in its first int.
        let kind = unsafe { word(attr.cast_mut(), 0) }.load(Ordering::Relaxed);
        // SAFETY: obligation 1.
        unsafe { word(mutex, MUTEX_KIND) }.store(kind & KIND_MASK, Ordering::Relaxed);
    }
    0
}

/// Destroys a mutex (nothing to free).
#[no_mangle]
pub extern "C" fn pthread_mutex_destroy(_mutex: *mut c_void) -> c_int {
    0
}

/// Locks a mutex.
///
/// # Safety
/// 1. `mutex` is a live, initialised `pthread_mutex_t`.
#[no_mangle]
pub unsafe extern "C" fn pthread_mutex_lock(mutex: *mut c_void) -> c_int {
    // SAFETY: obligation 1.
    unsafe { mutex_lock(mutex, None, false) }
}

/// Locks a mutex if it is free, else EBUSY.
///
/// # Safety
/// As for [`pthread_mutex_lock`].
#[no_mangle]
pub unsafe extern "C" fn pthread_mutex_trylock(mutex: *mut c_void) -> c_int {
    // SAFETY: obligation 1 of pthread_mutex_lock.
    unsafe { mutex_lock(mutex, None, true) }
}

/// Locks a mutex, giving up at `deadline` (CLOCK_REALTIME) with ETIMEDOUT.
///
/// # Safety
/// As for [`pthread_mutex_lock`]; `deadline` is a valid `struct timespec`.
#[no_mangle]
pub unsafe extern "C" fn pthread_mutex_timedlock(
    mutex: *mut c_void,
    deadline: *const Timespec,
) -> c_int {
    // SAFETY: the caller's obligations.
    unsafe { pthread_mutex_clocklock(mutex, 0, deadline) }
}

/// Locks a mutex, giving up at `deadline` on `clock` with ETIMEDOUT.
///
/// # Safety
/// As for [`pthread_mutex_lock`]; `deadline` is a valid `struct timespec`.
#[no_mangle]
pub unsafe extern "C" fn pthread_mutex_clocklock(
    mutex: *mut c_void,
    clock: c_int,
    deadline: *const Timespec,
) -> c_int {
    // SAFETY: the caller's obligations.
    match unsafe { time_left(clock, deadline) } {
        // SAFETY: obligation 1 of pthread_mutex_lock.
        Ok(left) => unsafe { mutex_lock(mutex, left.or(Some(Duration::ZERO)), false) },
        Err(e) => e,
    }
}

/// Unlocks a mutex.
///
/// # Safety
/// 1. `mutex` is a live, initialised `pthread_mutex_t`.
#[no_mangle]
pub unsafe extern "C" fn pthread_mutex_unlock(mutex: *mut c_void) -> c_int {
    null_check(mutex, "pthread_mutex_unlock");
    // SAFETY: obligation 1.
    let (state, count, owner, kind) = unsafe {
        (
            word(mutex, MUTEX_STATE),
            word(mutex, MUTEX_COUNT),
            word64(mutex, MUTEX_OWNER),
            word(mutex, MUTEX_KIND),
        )
    };
    let kind = kind.load(Ordering::Relaxed) & KIND_MASK;
    if kind != 0 {
        if owner.load(Ordering::Relaxed) != me() {
            return EPERM;
        }
        if kind == KIND_RECURSIVE && count.fetch_sub(1, Ordering::Relaxed) > 1 {
            return 0;
        }
    }
    owner.store(0, Ordering::Relaxed);
    count.store(0, Ordering::Relaxed);
    if state.swap(0, Ordering::Release) == 2 {
        rivet::thread::futex_wake(state, 1);
    }
    0
}

/// Initialises a mutex attribute: normal kind.
///
/// # Safety
/// 1. `attr` is valid for a write of 4 bytes, 4-aligned.
#[no_mangle]
pub unsafe extern "C" fn pthread_mutexattr_init(attr: *mut c_void) -> c_int {
    null_check(attr, "pthread_mutexattr_init");
    // SAFETY: obligation 1.
    unsafe { word(attr, 0) }.store(0, Ordering::Relaxed);
    0
}

/// Destroys a mutex attribute.
#[no_mangle]
pub extern "C" fn pthread_mutexattr_destroy(_attr: *mut c_void) -> c_int {
    0
}

/// Sets the kind: normal (0), recursive (1), errorcheck (2), default (0).
///
/// # Safety
/// As for [`pthread_mutexattr_init`].
#[no_mangle]
pub unsafe extern "C" fn pthread_mutexattr_settype(attr: *mut c_void, kind: c_int) -> c_int {
    null_check(attr, "pthread_mutexattr_settype");
    if !(0..=3).contains(&kind) {
        return EINVAL;
    }
    // Adaptive (3) behaves as normal.
    let kind = if kind == 3 { 0 } else { kind as u32 };
    // SAFETY: obligation 1 of pthread_mutexattr_init.
    unsafe { word(attr, 0) }.store(kind, Ordering::Relaxed);
    0
}

/// The kind set in a mutex attribute.
///
/// # Safety
/// As for [`pthread_mutexattr_init`]; `kind` is valid for a write.
#[no_mangle]
pub unsafe extern "C" fn pthread_mutexattr_gettype(attr: *const c_void, kind: *mut c_int) -> c_int {
    null_check(attr.cast_mut(), "pthread_mutexattr_gettype");
    // SAFETY: as documented.
    unsafe { kind.write(word(attr.cast_mut(), 0).load(Ordering::Relaxed) as c_int) };
    0
}

// ---- condition variables ------------------------------------------------------------------

const COND_SEQUENCE: usize = 0;
const COND_CLOCK: usize = 8;

/// Initialises a condition variable with the clock in `attr` (NULL: CLOCK_REALTIME).
///
/// # Safety
/// 1. `cond` is valid for writes of 48 bytes, 8-aligned; `attr` is NULL or initialised.
#[no_mangle]
pub unsafe extern "C" fn pthread_cond_init(cond: *mut c_void, attr: *const c_void) -> c_int {
    null_check(cond, "pthread_cond_init");
    // SAFETY: obligation 1.
    unsafe { core::ptr::write_bytes(cond.cast::<u8>(), 0, 48) };
    if !attr.is_null() {
        // SAFETY: obligation 1: a condition attribute holds the clock in its first int.
        let clock = unsafe { word(attr.cast_mut(), 0) }.load(Ordering::Relaxed);
        // SAFETY: obligation 1.
        unsafe { word(cond, COND_CLOCK) }.store(clock, Ordering::Relaxed);
    }
    0
}

/// Destroys a condition variable.
#[no_mangle]
pub extern "C" fn pthread_cond_destroy(_cond: *mut c_void) -> c_int {
    0
}

/// Waits on `cond` with `mutex` released, until signalled or `timeout`.
///
/// # Safety
/// 1. `cond` and `mutex` are live and initialised, and the caller holds `mutex`.
unsafe fn cond_wait(cond: *mut c_void, mutex: *mut c_void, timeout: Option<Duration>) -> c_int {
    null_check(cond, "pthread_cond_wait");
    // SAFETY: obligation 1.
    let sequence = unsafe { word(cond, COND_SEQUENCE) };
    let seen = sequence.load(Ordering::Acquire);
    // SAFETY: obligation 1.
    let unlocked = unsafe { pthread_mutex_unlock(mutex) };
    if unlocked != 0 {
        return unlocked;
    }
    let woken = rivet::thread::futex_wait(sequence, seen, timeout);
    // SAFETY: obligation 1.
    let relocked = unsafe { mutex_lock(mutex, None, false) };
    if relocked != 0 {
        return relocked;
    }
    if woken {
        0
    } else {
        ETIMEDOUT
    }
}

/// Waits until signalled.
///
/// # Safety
/// 1. `cond` and `mutex` are live and initialised, and the caller holds `mutex`.
#[no_mangle]
pub unsafe extern "C" fn pthread_cond_wait(cond: *mut c_void, mutex: *mut c_void) -> c_int {
    // SAFETY: obligation 1.
    unsafe { cond_wait(cond, mutex, None) }
}

/// Waits until signalled or `deadline` on the condition variable's clock.
///
/// # Safety
/// As for [`pthread_cond_wait`]; `deadline` is a valid `struct timespec`.
#[no_mangle]
pub unsafe extern "C" fn pthread_cond_timedwait(
    cond: *mut c_void,
    mutex: *mut c_void,
    deadline: *const Timespec,
) -> c_int {
    null_check(cond, "pthread_cond_timedwait");
    // SAFETY: obligation 1 of pthread_cond_wait.
    let clock = unsafe { word(cond, COND_CLOCK) }.load(Ordering::Relaxed) as c_int;
    // SAFETY: the caller's obligations.
    unsafe { pthread_cond_clockwait(cond, mutex, clock, deadline) }
}

/// Waits until signalled or `deadline` on `clock` (libstdc++'s `wait_until`/`wait_for`).
///
/// # Safety
/// As for [`pthread_cond_wait`]; `deadline` is a valid `struct timespec`.
#[no_mangle]
pub unsafe extern "C" fn pthread_cond_clockwait(
    cond: *mut c_void,
    mutex: *mut c_void,
    clock: c_int,
    deadline: *const Timespec,
) -> c_int {
    if deadline.is_null() {
        return EINVAL;
    }
    // SAFETY: the caller's obligations.
    match unsafe { time_left(clock, deadline) } {
        // SAFETY: obligation 1 of pthread_cond_wait.
        Ok(left) => unsafe { cond_wait(cond, mutex, left) },
        Err(e) => e,
    }
}

/// Wakes one waiter.
///
/// # Safety
/// 1. `cond` is live and initialised.
#[no_mangle]
pub unsafe extern "C" fn pthread_cond_signal(cond: *mut c_void) -> c_int {
    null_check(cond, "pthread_cond_signal");
    // SAFETY: obligation 1.
    let sequence = unsafe { word(cond, COND_SEQUENCE) };
    sequence.fetch_add(1, Ordering::Release);
    rivet::thread::futex_wake(sequence, 1);
    0
}

/// Wakes every waiter.
///
/// # Safety
/// 1. `cond` is live and initialised.
#[no_mangle]
pub unsafe extern "C" fn pthread_cond_broadcast(cond: *mut c_void) -> c_int {
    null_check(cond, "pthread_cond_broadcast");
    // SAFETY: obligation 1.
    let sequence = unsafe { word(cond, COND_SEQUENCE) };
    sequence.fetch_add(1, Ordering::Release);
    rivet::thread::futex_wake(sequence, usize::MAX);
    0
}

/// Initialises a condition attribute: CLOCK_REALTIME.
///
/// # Safety
/// 1. `attr` is valid for a write of 4 bytes, 4-aligned.
#[no_mangle]
pub unsafe extern "C" fn pthread_condattr_init(attr: *mut c_void) -> c_int {
    null_check(attr, "pthread_condattr_init");
    // SAFETY: obligation 1.
    unsafe { word(attr, 0) }.store(0, Ordering::Relaxed);
    0
}

/// Destroys a condition attribute.
#[no_mangle]
pub extern "C" fn pthread_condattr_destroy(_attr: *mut c_void) -> c_int {
    0
}

/// Sets the clock timed waits measure against (REALTIME or MONOTONIC).
///
/// # Safety
/// As for [`pthread_condattr_init`].
#[no_mangle]
pub unsafe extern "C" fn pthread_condattr_setclock(attr: *mut c_void, clock: c_int) -> c_int {
    null_check(attr, "pthread_condattr_setclock");
    if clock != 0 && clock != 1 {
        return EINVAL;
    }
    // SAFETY: obligation 1 of pthread_condattr_init.
    unsafe { word(attr, 0) }.store(clock as u32, Ordering::Relaxed);
    0
}

/// The clock set in a condition attribute.
///
/// # Safety
/// As for [`pthread_condattr_init`]; `clock` is valid for a write.
#[no_mangle]
pub unsafe extern "C" fn pthread_condattr_getclock(
    attr: *const c_void,
    clock: *mut c_int,
) -> c_int {
    null_check(attr.cast_mut(), "pthread_condattr_getclock");
    // SAFETY: as documented.
    unsafe { clock.write(word(attr.cast_mut(), 0).load(Ordering::Relaxed) as c_int) };
    0
}

// ---- read-write locks ---------------------------------------------------------------------

/// The rwlock's state word: the number of readers, or WRITER.
const WRITER: u32 = u32::MAX;

/// Initialises a rwlock (free).
///
/// # Safety
/// 1. `lock` is valid for writes of 56 bytes.
#[no_mangle]
pub unsafe extern "C" fn pthread_rwlock_init(lock: *mut c_void, _attr: *const c_void) -> c_int {
    null_check(lock, "pthread_rwlock_init");
    // SAFETY: obligation 1.
    unsafe { core::ptr::write_bytes(lock.cast::<u8>(), 0, 56) };
    0
}

/// Destroys a rwlock.
#[no_mangle]
pub extern "C" fn pthread_rwlock_destroy(_lock: *mut c_void) -> c_int {
    0
}

fn rwlock_acquire(state: &AtomicU32, write: bool, try_only: bool) -> c_int {
    loop {
        let current = state.load(Ordering::Relaxed);
        let next = if write {
            (current == 0).then_some(WRITER)
        } else {
            (current != WRITER && current < WRITER - 1).then_some(current + 1)
        };
        match next {
            Some(next) => {
                if state
                    .compare_exchange(current, next, Ordering::Acquire, Ordering::Relaxed)
                    .is_ok()
                {
                    return 0;
                }
            }
            None if try_only => return EBUSY,
            None => {
                rivet::thread::futex_wait(state, current, None);
            }
        }
    }
}

/// Takes a rwlock for reading.
///
/// # Safety
/// 1. `lock` is a live, initialised (or zeroed) `pthread_rwlock_t`.
#[no_mangle]
pub unsafe extern "C" fn pthread_rwlock_rdlock(lock: *mut c_void) -> c_int {
    null_check(lock, "pthread_rwlock_rdlock");
    // SAFETY: obligation 1.
    rwlock_acquire(unsafe { word(lock, 0) }, false, false)
}

/// Takes a rwlock for reading if no writer holds it, else EBUSY.
///
/// # Safety
/// As for [`pthread_rwlock_rdlock`].
#[no_mangle]
pub unsafe extern "C" fn pthread_rwlock_tryrdlock(lock: *mut c_void) -> c_int {
    null_check(lock, "pthread_rwlock_tryrdlock");
    // SAFETY: obligation 1 of pthread_rwlock_rdlock.
    rwlock_acquire(unsafe { word(lock, 0) }, false, true)
}

/// Takes a rwlock for writing.
///
/// # Safety
/// As for [`pthread_rwlock_rdlock`].
#[no_mangle]
pub unsafe extern "C" fn pthread_rwlock_wrlock(lock: *mut c_void) -> c_int {
    null_check(lock, "pthread_rwlock_wrlock");
    // SAFETY: obligation 1 of pthread_rwlock_rdlock.
    rwlock_acquire(unsafe { word(lock, 0) }, true, false)
}

/// Takes a rwlock for writing if it is free, else EBUSY.
///
/// # Safety
/// As for [`pthread_rwlock_rdlock`].
#[no_mangle]
pub unsafe extern "C" fn pthread_rwlock_trywrlock(lock: *mut c_void) -> c_int {
    null_check(lock, "pthread_rwlock_trywrlock");
    // SAFETY: obligation 1 of pthread_rwlock_rdlock.
    rwlock_acquire(unsafe { word(lock, 0) }, true, true)
}

/// Releases a rwlock held for reading or writing.
///
/// # Safety
/// As for [`pthread_rwlock_rdlock`]; the caller holds it.
#[no_mangle]
pub unsafe extern "C" fn pthread_rwlock_unlock(lock: *mut c_void) -> c_int {
    null_check(lock, "pthread_rwlock_unlock");
    // SAFETY: obligation 1 of pthread_rwlock_rdlock.
    let state = unsafe { word(lock, 0) };
    let current = state.load(Ordering::Relaxed);
    if current == 0 {
        return EPERM;
    }
    if current == WRITER {
        state.store(0, Ordering::Release);
    } else {
        state.fetch_sub(1, Ordering::Release);
    }
    rivet::thread::futex_wake(state, usize::MAX);
    0
}

// ---- once, spin locks ---------------------------------------------------------------------

/// Runs `init` exactly once for `once` (0: not yet, 1: running, 2: done).
///
/// # Safety
/// 1. `once` is a live `pthread_once_t` (`PTHREAD_ONCE_INIT` is 0); `init` is a C function.
#[no_mangle]
pub unsafe extern "C" fn pthread_once(once: *mut c_void, init: Option<extern "C" fn()>) -> c_int {
    null_check(once, "pthread_once");
    // SAFETY: obligation 1.
    let state = unsafe { word(once, 0) };
    loop {
        match state.compare_exchange(0, 1, Ordering::Acquire, Ordering::Acquire) {
            Ok(_) => {
                if let Some(init) = init {
                    init();
                }
                state.store(2, Ordering::Release);
                rivet::thread::futex_wake(state, usize::MAX);
                return 0;
            }
            Err(2) => return 0,
            Err(_) => {
                rivet::thread::futex_wait(state, 1, None);
            }
        }
    }
}

/// Initialises a spin lock (free).
///
/// # Safety
/// 1. `lock` is a live 4-byte, 4-aligned `pthread_spinlock_t`.
#[no_mangle]
pub unsafe extern "C" fn pthread_spin_init(lock: *mut c_void, _shared: c_int) -> c_int {
    null_check(lock, "pthread_spin_init");
    // SAFETY: obligation 1.
    unsafe { word(lock, 0) }.store(0, Ordering::Relaxed);
    0
}

/// Destroys a spin lock.
#[no_mangle]
pub extern "C" fn pthread_spin_destroy(_lock: *mut c_void) -> c_int {
    0
}

/// Takes a spin lock (yielding while it spins, as threads share cores).
///
/// # Safety
/// As for [`pthread_spin_init`].
#[no_mangle]
pub unsafe extern "C" fn pthread_spin_lock(lock: *mut c_void) -> c_int {
    null_check(lock, "pthread_spin_lock");
    // SAFETY: obligation 1 of pthread_spin_init.
    let state = unsafe { word(lock, 0) };
    while state.compare_exchange_weak(0, 1, Ordering::Acquire, Ordering::Relaxed).is_err() {
        rivet::thread::yield_now();
    }
    0
}

/// Takes a spin lock if free, else EBUSY.
///
/// # Safety
/// As for [`pthread_spin_init`].
#[no_mangle]
pub unsafe extern "C" fn pthread_spin_trylock(lock: *mut c_void) -> c_int {
    null_check(lock, "pthread_spin_trylock");
    // SAFETY: obligation 1 of pthread_spin_init.
    let state = unsafe { word(lock, 0) };
    if state.compare_exchange(0, 1, Ordering::Acquire, Ordering::Relaxed).is_ok() {
        0
    } else {
        EBUSY
    }
}

/// Releases a spin lock.
///
/// # Safety
/// As for [`pthread_spin_init`].
#[no_mangle]
pub unsafe extern "C" fn pthread_spin_unlock(lock: *mut c_void) -> c_int {
    null_check(lock, "pthread_spin_unlock");
    // SAFETY: obligation 1 of pthread_spin_init.
    unsafe { word(lock, 0) }.store(0, Ordering::Release);
    0
}

// ---- thread-specific data -----------------------------------------------------------------

/// glibc's `PTHREAD_KEYS_MAX`.
const KEYS_MAX: usize = 1024;
/// glibc's `PTHREAD_DESTRUCTOR_ITERATIONS`.
const DESTRUCTOR_ROUNDS: usize = 4;

type Destructor = unsafe extern "C" fn(*mut c_void);

struct Keys {
    /// Per key: in use, and its destructor's address (0: none).
    slots: Vec<Option<usize>>,
    /// Per thread (`me()`), its values by key.
    values: BTreeMap<u64, BTreeMap<u32, usize>>,
}

static KEYS: Mutex<Keys> = Mutex::new(Keys { slots: Vec::new(), values: BTreeMap::new() });

fn keys() -> rivet::sync::MutexGuard<'static, Keys> {
    KEYS.lock().unwrap_or_else(|e| e.into_inner())
}

/// Makes a key, with an optional destructor run at thread exit on non-NULL values.
///
/// # Safety
/// 1. `key` is valid for a write of a `pthread_key_t`.
#[no_mangle]
pub unsafe extern "C" fn pthread_key_create(
    key: *mut u32,
    destructor: Option<Destructor>,
) -> c_int {
    let mut keys = keys();
    let destructor = destructor.map_or(0, |d| d as usize);
    let index = match keys.slots.iter().position(Option::is_none) {
        Some(index) => index,
        None if keys.slots.len() < KEYS_MAX => {
            keys.slots.push(None);
            keys.slots.len() - 1
        }
        None => return EAGAIN,
    };
    keys.slots[index] = Some(destructor);
    for values in keys.values.values_mut() {
        values.remove(&(index as u32));
    }
    // SAFETY: obligation 1.
    unsafe { key.write(index as u32) };
    0
}

/// Deletes a key (destructors are not run, as POSIX says).
#[no_mangle]
pub extern "C" fn pthread_key_delete(key: u32) -> c_int {
    let mut keys = keys();
    match keys.slots.get_mut(key as usize) {
        Some(slot @ Some(_)) => {
            *slot = None;
            0
        }
        _ => EINVAL,
    }
}

/// The calling thread's value for `key` (NULL if unset).
#[no_mangle]
pub extern "C" fn pthread_getspecific(key: u32) -> *mut c_void {
    let keys = keys();
    keys.values
        .get(&me())
        .and_then(|v| v.get(&key))
        .map_or(core::ptr::null_mut(), |&v| v as *mut c_void)
}

/// Sets the calling thread's value for `key`.
#[no_mangle]
pub extern "C" fn pthread_setspecific(key: u32, value: *const c_void) -> c_int {
    let mut keys = keys();
    if !matches!(keys.slots.get(key as usize), Some(Some(_))) {
        return EINVAL;
    }
    let values = keys.values.entry(me()).or_default();
    if value.is_null() {
        values.remove(&key);
    } else {
        values.insert(key, value as usize);
    }
    0
}

/// Runs the calling thread's key destructors (up to four rounds, as glibc) and forgets its
/// values.
fn run_key_destructors() {
    for _ in 0..DESTRUCTOR_ROUNDS {
        let pending: Vec<(usize, usize)> = {
            let mut keys = keys();
            let Some(values) = keys.values.remove(&me()) else { return };
            values
                .into_iter()
                .filter_map(|(key, value)| match keys.slots.get(key as usize) {
                    Some(Some(destructor)) if *destructor != 0 => Some((*destructor, value)),
                    _ => None,
                })
                .collect()
        };
        if pending.is_empty() {
            return;
        }
        for (destructor, value) in pending {
            // SAFETY: registered by pthread_key_create from a non-NULL C function pointer.
            let destructor = unsafe { core::mem::transmute::<usize, Destructor>(destructor) };
            // SAFETY: the value the thread stored for this key, handed to its destructor.
            unsafe { destructor(value as *mut c_void) };
        }
    }
}
