//! errno from Rust: the per-thread variable itself is C (`csrc/os/errno.c`: `__thread`).

use core::ffi::c_int;

extern "C" {
    fn __errno_location() -> *mut c_int;
}

/// Sets the calling thread's errno.
pub(crate) fn set(value: c_int) {
    // SAFETY: `__errno_location` returns the address of the calling thread's errno in its TLS
    // block, valid and only used by this thread while it runs.
    unsafe { *__errno_location() = value };
}

/// The calling thread's errno.
pub(crate) fn get() -> c_int {
    // SAFETY: as in `set`: the calling thread's errno, read by that thread.
    unsafe { *__errno_location() }
}

/// errno values (Linux's, as glibc's headers define them).
pub(crate) mod code {
    pub(crate) const EPERM: i32 = 1;
    pub(crate) const ENOENT: i32 = 2;
    pub(crate) const EBADF: i32 = 9;
    pub(crate) const EAGAIN: i32 = 11;
    pub(crate) const ENOMEM: i32 = 12;
    pub(crate) const EBUSY: i32 = 16;
    pub(crate) const EINVAL: i32 = 22;
    pub(crate) const ESPIPE: i32 = 29;
    pub(crate) const EDEADLK: i32 = 35;
    pub(crate) const ENOSYS: i32 = 38;
    pub(crate) const ETIMEDOUT: i32 = 110;
}
