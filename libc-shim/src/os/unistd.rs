//! `unistd.h` and friends: `write`/`read` on the standard descriptors, process identity,
//! `sysconf`, `getenv`, `sched_yield`, `getauxval`, the stack protector and the identity
//! `gettext`.
//!
//! The environment is the `KEY=VALUE` words before `--` on the boot command line (kernel
//! parameters with a dot in the key, such as `rivet.log=debug`, are left out).

use core::ffi::{c_char, c_int, c_long, c_void, CStr};
use core::ptr::null_mut;

use crate::os::errno::{self, code};

/// The environment's words, from the boot command line (see the module comment).
pub(crate) fn environment_words() -> impl Iterator<Item = &'static str> {
    rivet::env::kernel_words().filter(|word| {
        word.split_once('=').is_some_and(|(key, _)| !key.is_empty() && !key.contains('.'))
    })
}

/// Writes to a file descriptor: 1 and 2 are the console; others are EBADF (no files yet).
///
/// # Safety
/// 1. `bytes` is valid for reads of `len` bytes.
#[no_mangle]
pub unsafe extern "C" fn write(fd: c_int, bytes: *const c_void, len: usize) -> isize {
    if len == 0 {
        return 0;
    }
    if bytes.is_null() {
        errno::set(crate::os::errno::code::EINVAL);
        return -1;
    }
    // SAFETY: obligation 1.
    let bytes = unsafe { core::slice::from_raw_parts(bytes.cast::<u8>(), len) };
    if let Some(sent) = crate::os::socket::send_bytes(fd, bytes, 0) {
        return sent;
    }
    match crate::os::stdio::write_fd(fd, bytes) {
        Ok(n) => n as isize,
        Err(e) => {
            errno::set(e);
            -1
        }
    }
}

/// Reads from a file descriptor: 0 is at end of file, sockets receive; others are EBADF.
///
/// # Safety
/// 1. `bytes` is valid for writes of `len` bytes.
#[no_mangle]
pub unsafe extern "C" fn read(fd: c_int, bytes: *mut c_void, len: usize) -> isize {
    if fd == 0 {
        return 0;
    }
    if len > 0 && !bytes.is_null() {
        // SAFETY: obligation 1.
        let buffer = unsafe { core::slice::from_raw_parts_mut(bytes.cast::<u8>(), len) };
        if let Some(received) = crate::os::socket::receive(fd, buffer, 0) {
            return received;
        }
    }
    errno::set(code::EBADF);
    -1
}

/// The process id: the image is process 1.
#[no_mangle]
pub extern "C" fn getpid() -> c_int {
    1
}

/// The parent's process id: none (0).
#[no_mangle]
pub extern "C" fn getppid() -> c_int {
    0
}

/// User and group ids: everything runs as root (0).
#[no_mangle]
pub extern "C" fn getuid() -> u32 {
    0
}

/// See [`getuid`].
#[no_mangle]
pub extern "C" fn geteuid() -> u32 {
    0
}

/// See [`getuid`].
#[no_mangle]
pub extern "C" fn getgid() -> u32 {
    0
}

/// See [`getuid`].
#[no_mangle]
pub extern "C" fn getegid() -> u32 {
    0
}

/// Whether a descriptor is a terminal: 0, 1 and 2 are the console.
#[no_mangle]
pub extern "C" fn isatty(fd: c_int) -> c_int {
    if (0..=2).contains(&fd) {
        1
    } else {
        errno::set(code::EBADF);
        0
    }
}

/// `sysconf` names glibc's headers give (the ones answered here).
const SC_CLK_TCK: c_int = 2;
const SC_OPEN_MAX: c_int = 4;
const SC_PAGESIZE: c_int = 30;
const SC_NPROCESSORS_CONF: c_int = 83;
const SC_NPROCESSORS_ONLN: c_int = 84;
const SC_PHYS_PAGES: c_int = 85;

/// System limits: processors, page size, clock ticks; EINVAL for the rest.
#[no_mangle]
pub extern "C" fn sysconf(name: c_int) -> c_long {
    let cores = || rivet::thread::available_parallelism().map_or(1, |n| n.get()) as c_long;
    match name {
        SC_CLK_TCK => 100,
        SC_OPEN_MAX => 1024,
        SC_PAGESIZE => 4096,
        SC_NPROCESSORS_CONF | SC_NPROCESSORS_ONLN => cores(),
        SC_PHYS_PAGES => rivet::env::heap_bytes().map_or(-1, |bytes| (bytes / 4096) as c_long),
        _ => {
            errno::set(code::EINVAL);
            -1
        }
    }
}

/// The page size (4096).
#[no_mangle]
pub extern "C" fn getpagesize() -> c_int {
    4096
}

/// Processors online (`get_nprocs`).
#[no_mangle]
pub extern "C" fn get_nprocs() -> c_int {
    sysconf(SC_NPROCESSORS_ONLN) as c_int
}

/// An environment variable's value, or NULL (see the module comment for what the environment
/// is).
///
/// # Safety
/// 1. `name` is a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn getenv(name: *const c_char) -> *mut c_char {
    if name.is_null() {
        return null_mut();
    }
    // SAFETY: obligation 1.
    let name = unsafe { CStr::from_ptr(name) }.to_bytes();
    // SAFETY: `environ` is set once before `main` and then only read.
    let mut entry = unsafe { crate::os::start::environ };
    if entry.is_null() || name.is_empty() || name.contains(&b'=') {
        return null_mut();
    }
    // SAFETY: `environ` is a NULL-terminated array of NUL-terminated strings (start.rs).
    unsafe {
        while !(*entry).is_null() {
            let word = CStr::from_ptr(*entry).to_bytes();
            if word.len() > name.len() && word.starts_with(name) && word[name.len()] == b'=' {
                return (*entry).add(name.len() + 1);
            }
            entry = entry.add(1);
        }
    }
    null_mut()
}

/// `secure_getenv`: the same as `getenv` (nothing runs set-uid).
///
/// # Safety
/// As for [`getenv`].
#[no_mangle]
pub unsafe extern "C" fn secure_getenv(name: *const c_char) -> *mut c_char {
    // SAFETY: the caller's obligations are getenv's.
    unsafe { getenv(name) }
}

/// Lets another thread run.
#[no_mangle]
pub extern "C" fn sched_yield() -> c_int {
    rivet::thread::yield_now();
    0
}

/// Auxiliary vector entries: there is no auxv (0, ENOENT).
#[no_mangle]
pub extern "C" fn getauxval(_kind: u64) -> u64 {
    errno::set(code::ENOENT);
    0
}

/// glibc's internal name for [`getauxval`] (libgcc on aarch64 asks it for CPU features).
#[no_mangle]
pub extern "C" fn __getauxval(kind: u64) -> u64 {
    getauxval(kind)
}

/// glibc's flag for "no thread was ever created" (libstdc++ skips atomic reference counts while
/// it is 1); cleared by the first `pthread_create`.
#[no_mangle]
pub static mut __libc_single_threaded: c_char = 1;

/// The stack protector's canary on targets that read it from a global (aarch64; x86_64 reads
/// `%fs:0x28`, see `rivet_arch::tls`).
#[no_mangle]
pub static __stack_chk_guard: usize = 0x5249_5645_54f0_0d00;

/// Called by code built with `-fstack-protector` when a canary was overwritten.
#[no_mangle]
pub extern "C" fn __stack_chk_fail() -> ! {
    panic!("*** stack smashing detected ***: terminated")
}

/// `gettext`: messages are not translated.
#[no_mangle]
pub extern "C" fn gettext(message: *const c_char) -> *mut c_char {
    message.cast_mut()
}

/// `dgettext`: messages are not translated.
#[no_mangle]
pub extern "C" fn dgettext(_domain: *const c_char, message: *const c_char) -> *mut c_char {
    message.cast_mut()
}

/// `dcgettext`: messages are not translated.
#[no_mangle]
pub extern "C" fn dcgettext(
    _domain: *const c_char,
    message: *const c_char,
    _category: c_int,
) -> *mut c_char {
    message.cast_mut()
}

/// `ngettext`: English plural rule, untranslated.
#[no_mangle]
pub extern "C" fn ngettext(
    singular: *const c_char,
    plural: *const c_char,
    count: u64,
) -> *mut c_char {
    if count == 1 {
        singular.cast_mut()
    } else {
        plural.cast_mut()
    }
}

/// `textdomain`: accepted and ignored.
#[no_mangle]
pub extern "C" fn textdomain(domain: *const c_char) -> *mut c_char {
    domain.cast_mut()
}

/// `bindtextdomain`: accepted and ignored.
#[no_mangle]
pub extern "C" fn bindtextdomain(_domain: *const c_char, directory: *const c_char) -> *mut c_char {
    directory.cast_mut()
}

/// `bind_textdomain_codeset`: accepted and ignored.
#[no_mangle]
pub extern "C" fn bind_textdomain_codeset(
    _domain: *const c_char,
    codeset: *const c_char,
) -> *mut c_char {
    codeset.cast_mut()
}
