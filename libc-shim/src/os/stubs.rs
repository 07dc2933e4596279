//! Calls glibc's headers declare that Rivet cannot do yet — files, sockets, processes, signals
//! — failing with the errno a Linux program expects (ENOENT for paths, EBADF for descriptors,
//! ENOSYS for the rest), so programs link and handle the failure. The variadic ones (`open`,
//! `fcntl`, `ioctl`, `syscall`) are C in `csrc/os/variadic.c` and call [`__rivet_fail`] and
//! [`__rivet_syscall`].

use core::ffi::{c_char, c_int, c_long, c_void};
use core::sync::atomic::{AtomicU32, Ordering};
use core::time::Duration;

use crate::os::errno::{self, code};

/// Sets errno to `error` and returns -1: the C half's way to fail.
#[no_mangle]
pub extern "C" fn __rivet_fail(error: c_int) -> c_long {
    errno::set(error);
    -1
}

macro_rules! failing {
    ($($(#[$doc:meta])* fn $name:ident($($arg:ident: $ty:ty),*) -> $ret:ty = $error:ident;)*) => {$(
        $(#[$doc])*
        #[no_mangle]
        pub extern "C" fn $name($(_: $ty),*) -> $ret {
            errno::set(code::$error);
            -1
        }
    )*};
}

failing! {
    /// Seeks: no descriptor can.
    fn lseek(fd: c_int, offset: i64, whence: c_int) -> i64 = ESPIPE;
    /// `lseek` under its large-file name.
    fn lseek64(fd: c_int, offset: i64, whence: c_int) -> i64 = ESPIPE;
    /// File status by path: no files yet.
    fn stat(path: *const c_char, out: *mut c_void) -> c_int = ENOENT;
    /// File status by path, not following links: no files yet.
    fn lstat(path: *const c_char, out: *mut c_void) -> c_int = ENOENT;
    /// File status by descriptor: not yet.
    fn fstat(fd: c_int, out: *mut c_void) -> c_int = EBADF;
    /// `stat` under its large-file name.
    fn stat64(path: *const c_char, out: *mut c_void) -> c_int = ENOENT;
    /// `fstat` under its large-file name.
    fn fstat64(fd: c_int, out: *mut c_void) -> c_int = EBADF;
    /// `lstat` under its large-file name.
    fn lstat64(path: *const c_char, out: *mut c_void) -> c_int = ENOENT;
    /// File status relative to a directory: no files yet.
    fn fstatat(dir: c_int, path: *const c_char, out: *mut c_void, flags: c_int) -> c_int = ENOENT;
    /// Access check: no files yet.
    fn access(path: *const c_char, mode: c_int) -> c_int = ENOENT;
    /// Removes a file: no files yet.
    fn unlink(path: *const c_char) -> c_int = ENOENT;
    /// Makes a directory: no file system yet.
    fn mkdir(path: *const c_char, mode: u32) -> c_int = ENOSYS;
    /// Removes a directory: no files yet.
    fn rmdir(path: *const c_char) -> c_int = ENOENT;
    /// Changes directory: no files yet.
    fn chdir(path: *const c_char) -> c_int = ENOENT;
    /// Duplicates a descriptor: not yet.
    fn dup(fd: c_int) -> c_int = ENOSYS;
    /// Duplicates a descriptor onto another: not yet.
    fn dup2(fd: c_int, to: c_int) -> c_int = ENOSYS;
    /// A pipe: not yet.
    fn pipe(fds: *mut c_int) -> c_int = ENOSYS;
    /// Synchronises a file: no files.
    fn fsync(fd: c_int) -> c_int = EBADF;
    /// Truncates a file: no files.
    fn ftruncate(fd: c_int, length: i64) -> c_int = EBADF;
    /// A new process: a unikernel has one.
    fn fork() -> c_int = ENOSYS;
    /// Runs a program: a unikernel has one.
    fn execve(path: *const c_char, argv: *const *const c_char, envp: *const *const c_char) -> c_int = ENOSYS;
    /// Waits for a child: there are none.
    fn waitpid(pid: c_int, status: *mut c_int, options: c_int) -> c_int = ENOSYS;
    /// Sends a signal: no signals.
    fn kill(pid: c_int, signal: c_int) -> c_int = ENOSYS;
    /// Signal handlers: no signals.
    fn sigaction(signal: c_int, action: *const c_void, old: *mut c_void) -> c_int = ENOSYS;
    /// Maps memory: use malloc.
    fn munmap(address: *mut c_void, length: usize) -> c_int = ENOSYS;
}

/// Closes a descriptor: 0–2 "close" (they stay usable), sockets close, others are EBADF.
#[no_mangle]
pub extern "C" fn close(fd: c_int) -> c_int {
    if (0..=2).contains(&fd) {
        0
    } else {
        crate::os::socket::close(fd).unwrap_or_else(|| __rivet_fail(code::EBADF) as c_int)
    }
}

/// The working directory: always `/`.
///
/// # Safety
/// 1. `buffer` is valid for writes of `size` bytes.
#[no_mangle]
pub unsafe extern "C" fn getcwd(buffer: *mut c_char, size: usize) -> *mut c_char {
    if buffer.is_null() || size < 2 {
        errno::set(if buffer.is_null() {
            code::EINVAL
        } else {
            34 /* ERANGE */
        });
        return core::ptr::null_mut();
    }
    // SAFETY: obligation 1, size >= 2.
    unsafe {
        buffer.write(b'/' as c_char);
        buffer.add(1).write(0);
    }
    buffer
}

/// `signal`: no signals are ever delivered; returns `SIG_DFL` (0) as the old handler.
#[no_mangle]
pub extern "C" fn signal(_signal: c_int, _handler: usize) -> usize {
    0
}

/// `raise`: SIGABRT (6) aborts; other signals are ignored (no handlers run).
#[no_mangle]
pub extern "C" fn raise(signal: c_int) -> c_int {
    if signal == 6 {
        crate::os::exit::abort();
    }
    0
}

/// Signal masks: nothing to block (success).
#[no_mangle]
pub extern "C" fn sigprocmask(_how: c_int, _set: *const c_void, _old: *mut c_void) -> c_int {
    0
}

/// Signal masks of a thread: nothing to block (success).
#[no_mangle]
pub extern "C" fn pthread_sigmask(_how: c_int, _set: *const c_void, _old: *mut c_void) -> c_int {
    0
}

/// Empties a signal set (glibc's 128-byte `sigset_t`).
///
/// # Safety
/// 1. `set` is valid for writes of 128 bytes.
#[no_mangle]
pub unsafe extern "C" fn sigemptyset(set: *mut c_void) -> c_int {
    // SAFETY: obligation 1.
    unsafe { core::ptr::write_bytes(set.cast::<u8>(), 0, 128) };
    0
}

/// Fills a signal set.
///
/// # Safety
/// 1. `set` is valid for writes of 128 bytes.
#[no_mangle]
pub unsafe extern "C" fn sigfillset(set: *mut c_void) -> c_int {
    // SAFETY: obligation 1.
    unsafe { core::ptr::write_bytes(set.cast::<u8>(), 0xff, 128) };
    0
}

use crate::os::arch::syscall_number as number;

const FUTEX_WAIT: i64 = 0;
const FUTEX_WAKE: i64 = 1;
const FUTEX_WAIT_BITSET: i64 = 9;
const FUTEX_WAKE_BITSET: i64 = 10;
/// The flag bits of a futex operation (`FUTEX_PRIVATE_FLAG`, `FUTEX_CLOCK_REALTIME`).
const FUTEX_COMMAND_MASK: i64 = 0x7f;

/// `syscall(number, a, b, c, d, e, f)` for the calls libstdc++ makes (futex for its atomic waits
/// and `call_once`, gettid) and a few trivial ones; ENOSYS for the rest. The variadic C
/// `syscall` in `csrc/os/variadic.c` passes its six argument words here.
///
/// # Safety
/// 1. For `SYS_futex`, the first argument is the address of an aligned, live 32-bit word, and
///    the timeout (FUTEX_WAIT) is NULL or a valid `struct timespec` (relative; absolute for the
///    bitset variant, on CLOCK_MONOTONIC).
#[no_mangle]
pub unsafe extern "C" fn __rivet_syscall(number: c_long, args: *const c_long) -> c_long {
    // SAFETY: the C side always passes six words.
    let a = unsafe { core::slice::from_raw_parts(args, 6) };
    match number {
        number::GETPID | number::GETTID => 1,
        number::SCHED_YIELD => {
            rivet::thread::yield_now();
            0
        }
        number::FUTEX => {
            if a[0] == 0 || a[0] % 4 != 0 {
                return __rivet_fail(code::EINVAL);
            }
            // SAFETY: obligation 1: an aligned, live 32-bit word that other threads access
            // atomically (futex words are atomics by contract).
            let word = unsafe { &*(a[0] as *const AtomicU32) };
            match a[1] & FUTEX_COMMAND_MASK {
                FUTEX_WAIT | FUTEX_WAIT_BITSET => {
                    let timeout = a[3] as *const crate::os::time::Timespec;
                    let limit = if timeout.is_null() {
                        None
                    } else {
                        // SAFETY: obligation 1.
                        let t = unsafe { &*timeout };
                        let (seconds, nanoseconds) = t.parts();
                        let nanos = (seconds as i128) * 1_000_000_000 + nanoseconds as i128;
                        let nanos = if a[1] & FUTEX_COMMAND_MASK == FUTEX_WAIT_BITSET {
                            nanos - rivet::time::Instant::now().as_nanos() as i128
                        } else {
                            nanos
                        };
                        Some(Duration::from_nanos(nanos.max(0) as u64))
                    };
                    if word.load(Ordering::SeqCst) != a[2] as u32 {
                        return __rivet_fail(code::EAGAIN);
                    }
                    if rivet::thread::futex_wait(word, a[2] as u32, limit) {
                        0
                    } else {
                        __rivet_fail(code::ETIMEDOUT)
                    }
                }
                FUTEX_WAKE | FUTEX_WAKE_BITSET => {
                    let count = usize::try_from(a[2]).unwrap_or(0);
                    rivet::thread::futex_wake(word, count) as c_long
                }
                _ => __rivet_fail(code::ENOSYS),
            }
        }
        _ => __rivet_fail(code::ENOSYS),
    }
}

/// `iconv_open`: no character-set conversions are available (EINVAL, `(iconv_t)-1`).
#[no_mangle]
pub extern "C" fn iconv_open(_to: *const c_char, _from: *const c_char) -> isize {
    errno::set(code::EINVAL);
    -1
}

/// `iconv`: see [`iconv_open`] (EBADF: no descriptor can exist).
#[no_mangle]
pub extern "C" fn iconv(
    _descriptor: isize,
    _input: *mut *mut c_char,
    _input_left: *mut usize,
    _output: *mut *mut c_char,
    _output_left: *mut usize,
) -> usize {
    errno::set(code::EBADF);
    usize::MAX
}

/// `iconv_close`: see [`iconv_open`].
#[no_mangle]
pub extern "C" fn iconv_close(_descriptor: isize) -> c_int {
    errno::set(code::EBADF);
    -1
}
