//! strerror and strsignal: the messages glibc prints for each errno and signal number.
//!
//! The texts are glibc's (so a C program's output matches its host build); errno numbers are
//! Linux's generic ones, the same on x86_64 and aarch64. Unknown numbers get glibc's
//! "Unknown error N" / "Unknown signal N", formatted into a static buffer (like glibc's, not
//! thread-safe: use `strerror_r`).

use core::ffi::{c_char, c_int};

/// The message for each errno value, indexed by number.
const ERRNO_MESSAGES: [&core::ffi::CStr; 134] = [
    c"Success",
    c"Operation not permitted",
    c"No such file or directory",
    c"No such process",
    c"Interrupted system call",
    c"Input/output error",
    c"No such device or address",
    c"Argument list too long",
    c"Exec format error",
    c"Bad file descriptor",
    c"No child processes",
    c"Resource temporarily unavailable",
    c"Cannot allocate memory",
    c"Permission denied",
    c"Bad address",
    c"Block device required",
    c"Device or resource busy",
    c"File exists",
    c"Invalid cross-device link",
    c"No such device",
    c"Not a directory",
    c"Is a directory",
    c"Invalid argument",
    c"Too many open files in system",
    c"Too many open files",
    c"Inappropriate ioctl for device",
    c"Text file busy",
    c"File too large",
    c"No space left on device",
    c"Illegal seek",
    c"Read-only file system",
    c"Too many links",
    c"Broken pipe",
    c"Numerical argument out of domain",
    c"Numerical result out of range",
    c"Resource deadlock avoided",
    c"File name too long",
    c"No locks available",
    c"Function not implemented",
    c"Directory not empty",
    c"Too many levels of symbolic links",
    c"Unknown error 41",
    c"No message of desired type",
    c"Identifier removed",
    c"Channel number out of range",
    c"Level 2 not synchronized",
    c"Level 3 halted",
    c"Level 3 reset",
    c"Link number out of range",
    c"Protocol driver not attached",
    c"No CSI structure available",
    c"Level 2 halted",
    c"Invalid exchange",
    c"Invalid request descriptor",
    c"Exchange full",
    c"No anode",
    c"Invalid request code",
    c"Invalid slot",
    c"Unknown error 58",
    c"Bad font file format",
    c"Device not a stream",
    c"No data available",
    c"Timer expired",
    c"Out of streams resources",
    c"Machine is not on the network",
    c"Package not installed",
    c"Object is remote",
    c"Link has been severed",
    c"Advertise error",
    c"Srmount error",
    c"Communication error on send",
    c"Protocol error",
    c"Multihop attempted",
    c"RFS specific error",
    c"Bad message",
    c"Value too large for defined data type",
    c"Name not unique on network",
    c"File descriptor in bad state",
    c"Remote address changed",
    c"Can not access a needed shared library",
    c"Accessing a corrupted shared library",
    c".lib section in a.out corrupted",
    c"Attempting to link in too many shared libraries",
    c"Cannot exec a shared library directly",
    c"Invalid or incomplete multibyte or wide character",
    c"Interrupted system call should be restarted",
    c"Streams pipe error",
    c"Too many users",
    c"Socket operation on non-socket",
    c"Destination address required",
    c"Message too long",
    c"Protocol wrong type for socket",
    c"Protocol not available",
    c"Protocol not supported",
    c"Socket type not supported",
    c"Operation not supported",
    c"Protocol family not supported",
    c"Address family not supported by protocol",
    c"Address already in use",
    c"Cannot assign requested address",
    c"Network is down",
    c"Network is unreachable",
    c"Network dropped connection on reset",
    c"Software caused connection abort",
    c"Connection reset by peer",
    c"No buffer space available",
    c"Transport endpoint is already connected",
    c"Transport endpoint is not connected",
    c"Cannot send after transport endpoint shutdown",
    c"Too many references: cannot splice",
    c"Connection timed out",
    c"Connection refused",
    c"Host is down",
    c"No route to host",
    c"Operation already in progress",
    c"Operation now in progress",
    c"Stale file handle",
    c"Structure needs cleaning",
    c"Not a XENIX named type file",
    c"No XENIX semaphores available",
    c"Is a named type file",
    c"Remote I/O error",
    c"Disk quota exceeded",
    c"No medium found",
    c"Wrong medium type",
    c"Operation canceled",
    c"Required key not available",
    c"Key has expired",
    c"Key has been revoked",
    c"Key was rejected by service",
    c"Owner died",
    c"State not recoverable",
    c"Operation not possible due to RF-kill",
    c"Memory page has hardware error",
];

/// The description of each signal 1..=31 (index 0 unused).
const SIGNAL_NAMES: [&core::ffi::CStr; 32] = [
    c"Unknown signal 0",
    c"Hangup",
    c"Interrupt",
    c"Quit",
    c"Illegal instruction",
    c"Trace/breakpoint trap",
    c"Aborted",
    c"Bus error",
    c"Floating point exception",
    c"Killed",
    c"User defined signal 1",
    c"Segmentation fault",
    c"User defined signal 2",
    c"Broken pipe",
    c"Alarm clock",
    c"Terminated",
    c"Stack fault",
    c"Child exited",
    c"Continued",
    c"Stopped (signal)",
    c"Stopped",
    c"Stopped (tty input)",
    c"Stopped (tty output)",
    c"Urgent I/O condition",
    c"CPU time limit exceeded",
    c"File size limit exceeded",
    c"Virtual timer expired",
    c"Profiling timer expired",
    c"Window changed",
    c"I/O possible",
    c"Power failure",
    c"Bad system call",
];

/// A buffer for the "Unknown … N" texts. Like glibc's, it is shared: `strerror` and `strsignal`
/// are not thread-safe for unknown numbers (`strerror_r` is).
struct UnknownBuffer(core::cell::UnsafeCell<[u8; 40]>);

// SAFETY: the C functions that write it are documented as not thread-safe (C11 7.24.6.2,
// POSIX strsignal); the known-number paths never touch it.
unsafe impl Sync for UnknownBuffer {}

static UNKNOWN_ERROR: UnknownBuffer = UnknownBuffer(core::cell::UnsafeCell::new([0; 40]));
static UNKNOWN_SIGNAL: UnknownBuffer = UnknownBuffer(core::cell::UnsafeCell::new([0; 40]));

/// Writes `prefix` then `number` in decimal and a NUL into `to` (truncated to fit); returns the
/// length without the NUL.
pub(crate) fn write_numbered(to: &mut [u8], prefix: &[u8], number: i64) -> usize {
    let mut text = [0u8; 64];
    let mut len = prefix.len().min(40);
    text[..len].copy_from_slice(&prefix[..len]);
    if number < 0 {
        text[len] = b'-';
        len += 1;
    }
    let mut digits = [0u8; 20];
    let mut count = 0;
    let mut magnitude = number.unsigned_abs();
    loop {
        digits[count] = b'0' + (magnitude % 10) as u8;
        count += 1;
        magnitude /= 10;
        if magnitude == 0 {
            break;
        }
    }
    while count > 0 {
        count -= 1;
        text[len] = digits[count];
        len += 1;
    }
    if to.is_empty() {
        return 0;
    }
    let kept = len.min(to.len() - 1);
    to[..kept].copy_from_slice(&text[..kept]);
    to[kept] = 0;
    kept
}

/// The static message for a known errno value (41 and 58 are unassigned: unknown to glibc too).
fn known_error(number: c_int) -> Option<&'static core::ffi::CStr> {
    usize::try_from(number)
        .ok()
        .and_then(|index| ERRNO_MESSAGES.get(index).copied())
        .filter(|message| !message.to_bytes().starts_with(b"Unknown error"))
}

/// C `strerror`: the message for `number`.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub extern "C" fn strerror(number: c_int) -> *mut c_char {
    if let Some(message) = known_error(number) {
        return message.as_ptr().cast_mut();
    }
    // SAFETY: not thread-safe by the C contract (see UnknownBuffer); no reference outlives this
    // call's write.
    let buffer = unsafe { &mut *UNKNOWN_ERROR.0.get() };
    write_numbered(buffer, b"Unknown error ", number.into());
    buffer.as_mut_ptr().cast()
}

/// glibc `__xpg_strerror_r` (POSIX `strerror_r`): copies the message into `buffer`. Returns 0,
/// `EINVAL` for an unknown number (the text is still written) or `ERANGE` when truncated.
///
/// # Safety
/// 1. `buffer` is valid for `len` bytes of writes (or `len` is 0).
#[cfg_attr(rivet_libc_export, no_mangle)]
pub unsafe extern "C" fn __xpg_strerror_r(number: c_int, buffer: *mut c_char, len: usize) -> c_int {
    let to: &mut [u8] = if buffer.is_null() || len == 0 {
        &mut []
    } else {
        // SAFETY: obligation 1.
        unsafe { core::slice::from_raw_parts_mut(buffer.cast::<u8>(), len) }
    };
    match known_error(number) {
        Some(_) if to.is_empty() => crate::errno::ERANGE,
        Some(message) => {
            let text = message.to_bytes();
            let kept = text.len().min(len - 1);
            to[..kept].copy_from_slice(&text[..kept]);
            to[kept] = 0;
            if kept < text.len() {
                crate::errno::ERANGE
            } else {
                0
            }
        }
        None => {
            write_numbered(to, b"Unknown error ", number.into());
            crate::errno::EINVAL
        }
    }
}

/// GNU `strerror_r` (what glibc's header declares with `_GNU_SOURCE`, as C++ gets): returns the
/// static message for a known number, else writes "Unknown error N" into `buffer` and returns it.
///
/// # Safety
/// 1. `buffer` is valid for `len` bytes of writes (or `len` is 0).
#[cfg_attr(rivet_libc_export, no_mangle)]
pub unsafe extern "C" fn strerror_r(number: c_int, buffer: *mut c_char, len: usize) -> *mut c_char {
    if let Some(message) = known_error(number) {
        return message.as_ptr().cast_mut();
    }
    if buffer.is_null() || len == 0 {
        return buffer;
    }
    // SAFETY: obligation 1.
    let to = unsafe { core::slice::from_raw_parts_mut(buffer.cast::<u8>(), len) };
    write_numbered(to, b"Unknown error ", number.into());
    buffer
}

/// The first real-time signal number glibc reports (Linux's 32 and 33 are the threading
/// library's own).
const SIGRTMIN: c_int = 34;
/// The last signal number.
const SIGRTMAX: c_int = 64;

/// C `strsignal`: a description of signal `number`.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub extern "C" fn strsignal(number: c_int) -> *mut c_char {
    if (1..32).contains(&number) {
        return SIGNAL_NAMES[number as usize].as_ptr().cast_mut();
    }
    // SAFETY: not thread-safe by the POSIX contract (see UnknownBuffer).
    let buffer = unsafe { &mut *UNKNOWN_SIGNAL.0.get() };
    if (SIGRTMIN..=SIGRTMAX).contains(&number) {
        write_numbered(buffer, b"Real-time signal ", (number - SIGRTMIN).into());
    } else {
        write_numbered(buffer, b"Unknown signal ", number.into());
    }
    buffer.as_mut_ptr().cast()
}
