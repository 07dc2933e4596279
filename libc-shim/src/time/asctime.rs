//! asctime and ctime: the fixed "Www Mmm dd hh:mm:ss yyyy" form.

use super::calendar::{broken_down, Time, Tm};
use super::strftime::{format_time, Output};
use crate::cstr;
use crate::errno;
use core::ffi::c_char;

/// POSIX `asctime_r`: "Www Mmm dd hh:mm:ss yyyy\n" (at least 26 bytes of buffer).
///
/// # Safety
/// 1. `tm` readable; `buffer` writable for 26 bytes.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub unsafe extern "C" fn asctime_r(tm: *const Tm, buffer: *mut c_char) -> *mut c_char {
    assert!(!tm.is_null(), "asctime_r: NULL tm");
    // SAFETY: obligation 1.
    let (tm, bytes) = unsafe { (&*tm, cstr::memory_mut(buffer.cast(), 26, "asctime_r")) };
    if !(0..7).contains(&tm.tm_wday) || !(0..12).contains(&tm.tm_mon) || tm.tm_year > 9999 - 1900 {
        errno::set(errno::EOVERFLOW);
        return core::ptr::null_mut();
    }
    let mut out = Output { bytes: &mut bytes[..25], len: 0, overflow: false };
    format_time(&mut out, b"%a %b %e %H:%M:%S %Y\n", tm);
    let len = out.len;
    bytes[len] = 0;
    buffer
}

/// The static buffer of `asctime`/`ctime`.
struct StaticText(core::cell::UnsafeCell<[u8; 32]>);

// SAFETY: asctime/ctime are documented as not thread-safe.
unsafe impl Sync for StaticText {}

static ASCTIME_BUFFER: StaticText = StaticText(core::cell::UnsafeCell::new([0; 32]));

/// C `asctime`.
///
/// # Safety
/// 1. `tm` readable; not called concurrently.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub unsafe extern "C" fn asctime(tm: *const Tm) -> *mut c_char {
    // SAFETY: obligation 1.
    unsafe { asctime_r(tm, ASCTIME_BUFFER.0.get().cast()) }
}

/// POSIX `ctime_r`: `asctime_r(localtime_r(time))`.
///
/// # Safety
/// 1. `time` readable; `buffer` writable for 26 bytes.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub unsafe extern "C" fn ctime_r(time: *const Time, buffer: *mut c_char) -> *mut c_char {
    assert!(!time.is_null(), "ctime_r: NULL time");
    // SAFETY: obligation 1.
    match broken_down(unsafe { *time }) {
        // SAFETY: obligation 1.
        Some(tm) => unsafe { asctime_r(&tm, buffer) },
        None => {
            errno::set(errno::EOVERFLOW);
            core::ptr::null_mut()
        }
    }
}

/// C `ctime`.
///
/// # Safety
/// 1. `time` readable; not called concurrently.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub unsafe extern "C" fn ctime(time: *const Time) -> *mut c_char {
    // SAFETY: obligation 1.
    unsafe { ctime_r(time, ASCTIME_BUFFER.0.get().cast()) }
}
