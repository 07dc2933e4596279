//! errno: the values the pure functions report, and setting the calling thread's errno.
//!
//! The variable itself is the os layer's (`__errno_location`, per thread); on the host tests
//! glibc's answers, which is the same contract.

use core::ffi::c_int;

/// Numerical argument out of domain.
pub const EDOM: c_int = 33;
/// Numerical result out of range.
pub const ERANGE: c_int = 34;
/// Invalid argument.
pub const EINVAL: c_int = 22;
/// Invalid or incomplete multibyte or wide character.
pub const EILSEQ: c_int = 84;
/// Cannot allocate memory.
pub const ENOMEM: c_int = 12;
/// Value too large for defined data type.
pub const EOVERFLOW: c_int = 75;
/// No such file or directory.
pub const ENOENT: c_int = 2;

extern "C" {
    fn __errno_location() -> *mut c_int;
}

/// Sets the calling thread's errno.
pub fn set(value: c_int) {
    // SAFETY: `__errno_location` returns the calling thread's errno slot, valid for the thread's
    // life (glibc's contract, which the os layer implements).
    unsafe { *__errno_location() = value };
}

/// The calling thread's errno.
pub fn get() -> c_int {
    // SAFETY: as in `set`.
    unsafe { *__errno_location() }
}
