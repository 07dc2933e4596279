//! The start of a C program: its arguments and environment, the constructors, `main`, then
//! `exit` with what `main` returned.
//!
//! `__rivet_libc_start` is what the image's Rust entry (`rivet::main!` in the runtime crate,
//! `libc-shim/runtime/`) calls with the C `main`: the work of glibc's `__libc_start_main` and
//! crt1.o, minus what a unikernel has no use for (auxv, security set-up).

use crate::os::alloc::ffi::CString;
use crate::os::alloc::vec::Vec;
use core::ffi::{c_char, c_int};
use core::ptr::null_mut;

/// A C `main`; it is given `envp` too, as glibc's is.
pub type CMain = unsafe extern "C" fn(c_int, *mut *mut c_char, *mut *mut c_char) -> c_int;

/// A constructor or destructor as `.init_array`/`.fini_array` hold them (glibc passes
/// `argc, argv, envp` to constructors; destructors ignore arguments).
type ArrayFunction = unsafe extern "C" fn(c_int, *mut *mut c_char, *mut *mut c_char);

extern "C" {
    static __init_array_start: u8;
    static __init_array_end: u8;
    static __fini_array_start: u8;
    static __fini_array_end: u8;
}

/// The environment, `KEY=VALUE` strings with a NULL after the last (glibc's `environ`).
#[no_mangle]
pub static mut environ: *mut *mut c_char = null_mut();
/// The same pointer under glibc's internal name (some code reads `__environ`).
#[no_mangle]
pub static mut __environ: *mut *mut c_char = null_mut();

/// A NULL-terminated array of C strings, leaked: argv and environ live for the whole run.
fn leak_strings<'a>(words: impl Iterator<Item = &'a str>) -> *mut *mut c_char {
    let mut pointers: Vec<*mut c_char> = words
        .map(|word| {
            // A word from the command line cannot hold a NUL (it came from a C string).
            CString::new(word).map_or(null_mut(), CString::into_raw)
        })
        .filter(|p| !p.is_null())
        .collect();
    pointers.push(null_mut());
    pointers.leak().as_mut_ptr()
}

/// The functions between two linker-script symbols (entries 0 and -1 skipped: old `.ctors`
/// sentinels).
fn function_array(start: *const u8, end: *const u8) -> Vec<ArrayFunction> {
    let count = (end as usize - start as usize) / core::mem::size_of::<usize>();
    // SAFETY: the linker scripts put `.init_array`/`.fini_array` (8-aligned arrays of function
    // addresses) between these symbols, in the image's read-only data.
    let words = unsafe { core::slice::from_raw_parts(start.cast::<usize>(), count) };
    words
        .iter()
        .filter(|&&word| word != 0 && word != usize::MAX)
        // SAFETY: each entry is the address of a function the compiler registered as a
        // constructor or destructor, with the C calling convention.
        .map(|&word| unsafe { core::mem::transmute::<usize, ArrayFunction>(word) })
        .collect()
}

/// Runs the image's `.fini_array` destructors, last first (part of `exit`).
pub(crate) fn run_fini_array() {
    let functions = function_array(&raw const __fini_array_start, &raw const __fini_array_end);
    for function in functions.into_iter().rev() {
        // SAFETY: a destructor registered by the compiler; it ignores its arguments.
        unsafe { function(0, null_mut(), null_mut()) };
    }
}

/// Runs a C program: sets up argv and environ, runs the constructors, calls `main` and ends
/// the run through `exit` with its result. Never returns.
///
/// # Safety
/// 1. `main` is the program's C `main`.
/// 2. Called once, from the image's entry (the `main` thread), before any other C code runs.
#[no_mangle]
pub unsafe extern "C" fn __rivet_libc_start(main: CMain) -> c_int {
    let args: Vec<_> = rivet::env::args().collect();
    let argc = c_int::try_from(args.len()).unwrap_or(c_int::MAX);
    let argv = leak_strings(args.iter().map(|s| s.as_str()));
    let envp = leak_strings(crate::os::unistd::environment_words());
    // SAFETY: obligation 2: no other thread runs C code yet, so nothing reads these meanwhile.
    unsafe {
        environ = envp;
        __environ = envp;
    }
    let constructors = function_array(&raw const __init_array_start, &raw const __init_array_end);
    for constructor in constructors {
        // SAFETY: a constructor registered by the compiler, given what glibc gives.
        unsafe { constructor(argc, argv, envp) };
    }
    // SAFETY: obligation 1; argv and envp are NULL-terminated arrays of C strings that live for
    // ever.
    let code = unsafe { main(argc, argv, envp) };
    crate::os::exit::exit(code)
}
