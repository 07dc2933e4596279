//! Ending a C program: `exit` (atexit handlers, destructors, flushed streams), `_exit`, `abort`,
//! and the C++ runtime's `__cxa_atexit`/`__cxa_finalize`/`__cxa_thread_atexit_impl`.
//!
//! The exit code reaches the host through `rivet::process::exit` (0 to 127 unchanged). `abort`
//! ends the run with [`ABORT_EXIT_CODE`].

use crate::os::alloc::collections::BTreeMap;
use crate::os::alloc::vec::Vec;
use core::ffi::{c_int, c_void};
use rivet::sync::Mutex;

/// The exit code of `abort()` (a unikernel has no SIGABRT; 105 sits beside the kernel's own
/// 101–104).
pub const ABORT_EXIT_CODE: i32 = 105;

/// One registered exit handler.
#[derive(Clone, Copy)]
enum Handler {
    /// `atexit(f)`.
    Plain(extern "C" fn()),
    /// `__cxa_atexit(f, argument, dso)`.
    WithArgument(unsafe extern "C" fn(*mut c_void), usize, usize),
}

// SAFETY: the handlers' arguments are addresses C gave us to hand back, not dereferenced here.
unsafe impl Send for Handler {}

static HANDLERS: Mutex<Vec<Handler>> = Mutex::new(Vec::new());
/// Per-thread C++ `thread_local` destructors, by Rivet thread id, last registered last.
static THREAD_DESTRUCTORS: Mutex<BTreeMap<u64, Vec<(usize, usize)>>> = Mutex::new(BTreeMap::new());

fn register(handler: Handler) -> c_int {
    HANDLERS.lock().unwrap_or_else(|e| e.into_inner()).push(handler);
    0
}

fn run(handler: Handler) {
    match handler {
        Handler::Plain(f) => f(),
        // SAFETY: the function and argument were registered together by C code for exactly
        // this call.
        Handler::WithArgument(f, argument, _) => unsafe { f(argument as *mut c_void) },
    }
}

/// Runs (and forgets) the handlers `select` picks, last registered first; handlers may register
/// more, which run too.
fn run_handlers(select: impl Fn(&Handler) -> bool) {
    loop {
        let next = {
            let mut handlers = HANDLERS.lock().unwrap_or_else(|e| e.into_inner());
            let Some(index) = handlers.iter().rposition(&select) else { break };
            handlers.remove(index)
        };
        run(next);
    }
}

/// Registers `function` to run at `exit`.
#[no_mangle]
pub extern "C" fn atexit(function: Option<extern "C" fn()>) -> c_int {
    match function {
        Some(function) => register(Handler::Plain(function)),
        None => -1,
    }
}

/// Registers a C++ static object's destructor (`function(argument)`) to run at `exit` or when
/// `__cxa_finalize(dso)` runs.
#[no_mangle]
pub extern "C" fn __cxa_atexit(
    function: Option<unsafe extern "C" fn(*mut c_void)>,
    argument: *mut c_void,
    dso: *mut c_void,
) -> c_int {
    match function {
        Some(function) => {
            register(Handler::WithArgument(function, argument as usize, dso as usize))
        }
        None => -1,
    }
}

/// Runs the handlers registered for `dso` (all of them when NULL).
#[no_mangle]
pub extern "C" fn __cxa_finalize(dso: *mut c_void) {
    let dso = dso as usize;
    run_handlers(|handler| match handler {
        Handler::WithArgument(_, _, owner) => dso == 0 || *owner == dso,
        Handler::Plain(_) => dso == 0,
    });
}

/// Registers a `thread_local` object's destructor for the calling thread (run when it exits
/// through `pthread_exit`/returning from its start function, or at `exit` for `main`).
#[no_mangle]
pub extern "C" fn __cxa_thread_atexit_impl(
    function: Option<unsafe extern "C" fn(*mut c_void)>,
    object: *mut c_void,
    _dso: *mut c_void,
) -> c_int {
    let Some(function) = function else { return -1 };
    let id = rivet::thread::current().id().as_u64();
    THREAD_DESTRUCTORS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .entry(id)
        .or_default()
        .push((function as usize, object as usize));
    0
}

/// Runs the calling thread's `thread_local` destructors, last first.
pub(crate) fn run_thread_destructors() {
    let id = rivet::thread::current().id().as_u64();
    loop {
        let next = {
            let mut all = THREAD_DESTRUCTORS.lock().unwrap_or_else(|e| e.into_inner());
            let Some(list) = all.get_mut(&id) else { return };
            let next = list.pop();
            if list.is_empty() {
                all.remove(&id);
            }
            next
        };
        let Some((function, object)) = next else { return };
        // SAFETY: registered by `__cxa_thread_atexit_impl` from a non-NULL function pointer
        // with the C calling convention, for exactly this call.
        let function =
            unsafe { core::mem::transmute::<usize, unsafe extern "C" fn(*mut c_void)>(function) };
        // SAFETY: the object was registered with its destructor by the C++ runtime.
        unsafe { function(object as *mut c_void) };
    }
}

/// `exit`: thread_local destructors of the caller, atexit/`__cxa_atexit` handlers (last
/// first), `.fini_array`, flushed streams, then the end of the run with `code`.
pub(crate) fn exit(code: c_int) -> ! {
    run_thread_destructors();
    run_handlers(|_| true);
    crate::os::start::run_fini_array();
    crate::os::stdio::flush_all();
    rivet::process::exit(code)
}

/// Ends the program with `code` after running exit handlers and flushing streams.
#[no_mangle]
pub extern "C" fn __rivet_exit(code: c_int) -> ! {
    exit(code)
}

/// C's `exit`.
#[export_name = "exit"]
pub extern "C" fn c_exit(code: c_int) -> ! {
    exit(code)
}

/// Ends the program at once: no handlers, no flushing.
#[no_mangle]
pub extern "C" fn _exit(code: c_int) -> ! {
    rivet::process::exit(code)
}

/// Ends the program at once (C99's name for `_exit`).
#[no_mangle]
pub extern "C" fn _Exit(code: c_int) -> ! {
    rivet::process::exit(code)
}

/// Abnormal termination: says so and ends the run with [`ABORT_EXIT_CODE`]; streams are not
/// flushed (as glibc's).
#[no_mangle]
pub extern "C" fn abort() -> ! {
    rivet::io::write_bytes(b"Aborted\n");
    rivet::process::exit(ABORT_EXIT_CODE)
}
