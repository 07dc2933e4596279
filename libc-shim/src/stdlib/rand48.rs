//! The drand48 family: POSIX's 48-bit linear congruential generator, X' = (aX + c) mod 2^48.
//!
//! Constants and seeding are POSIX's (a = 0x5DEECE66D, c = 0xB, `srand48` puts the seed's low 32
//! bits above 0x330E), so the sequences equal glibc's. The shared state is locked by a spin flag.
//! `drand48`/`erand48` return a double: `csrc/floats.c` wraps `__rivet_drand48_bits` (no floats
//! cross Rust↔C, see README).

use core::ffi::{c_long, c_ushort};
use core::sync::atomic::{AtomicBool, Ordering};

const DEFAULT_MULTIPLIER: u64 = 0x5_DEEC_E66D;
const DEFAULT_ADDEND: u64 = 0xB;
const MASK: u64 = (1 << 48) - 1;

/// The generator's parameters and the shared state.
struct Generator {
    x: u64,
    a: u64,
    c: u64,
    /// What `seed48` returns: the state before the new seed.
    previous: [c_ushort; 3],
}

impl Generator {
    fn step(&self, x: u64) -> u64 {
        (self.a.wrapping_mul(x).wrapping_add(self.c)) & MASK
    }
}

struct Shared {
    busy: AtomicBool,
    generator: core::cell::UnsafeCell<Generator>,
}

// SAFETY: `generator` is only touched while `busy` is held (see `with`).
unsafe impl Sync for Shared {}

static SHARED: Shared = Shared {
    busy: AtomicBool::new(false),
    generator: core::cell::UnsafeCell::new(Generator {
        // glibc starts unseeded from 0 (not POSIX's suggested 0x1234ABCD330E): matched.
        x: 0,
        a: DEFAULT_MULTIPLIER,
        c: DEFAULT_ADDEND,
        previous: [0; 3],
    }),
};

fn with<T>(f: impl FnOnce(&mut Generator) -> T) -> T {
    while SHARED
        .busy
        .compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed)
        .is_err()
    {
        core::hint::spin_loop();
    }
    // SAFETY: the lock is held until the store below.
    let result = f(unsafe { &mut *SHARED.generator.get() });
    SHARED.busy.store(false, Ordering::Release);
    result
}

fn words(x: u64) -> [c_ushort; 3] {
    [x as c_ushort, (x >> 16) as c_ushort, (x >> 32) as c_ushort]
}

fn from_words(w: &[c_ushort; 3]) -> u64 {
    u64::from(w[0]) | u64::from(w[1]) << 16 | u64::from(w[2]) << 32
}

/// The next shared state.
fn next_shared() -> u64 {
    with(|g| {
        g.x = g.step(g.x);
        g.x
    })
}

/// The next state from a caller's `xsubi[3]` (with the shared a and c), stored back.
///
/// # Safety
/// 1. `xsubi` is readable and writable for three `unsigned short`s.
unsafe fn next_caller(xsubi: *mut [c_ushort; 3]) -> u64 {
    assert!(!xsubi.is_null(), "erand48: NULL state");
    // SAFETY: obligation 1.
    let state = unsafe { &mut *xsubi };
    let x = with(|g| g.step(from_words(state)));
    *state = words(x);
    x
}

/// [0, 1) from a 48-bit state: X / 2^48, exact in a double.
fn unit_bits(x: u64) -> u64 {
    (x as f64 / (1u64 << 48) as f64).to_bits()
}

/// `drand48` as IEEE bits.
#[no_mangle]
pub extern "C" fn __rivet_drand48_bits() -> u64 {
    unit_bits(next_shared())
}

/// `erand48` as IEEE bits.
///
/// # Safety
/// 1. `xsubi` is readable and writable for three `unsigned short`s.
#[no_mangle]
pub unsafe extern "C" fn __rivet_erand48_bits(xsubi: *mut [c_ushort; 3]) -> u64 {
    // SAFETY: obligation 1.
    unit_bits(unsafe { next_caller(xsubi) })
}

/// POSIX `lrand48`: 0..2^31.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub extern "C" fn lrand48() -> c_long {
    (next_shared() >> 17) as c_long
}

/// POSIX `nrand48`.
///
/// # Safety
/// 1. `xsubi` is readable and writable for three `unsigned short`s.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub unsafe extern "C" fn nrand48(xsubi: *mut [c_ushort; 3]) -> c_long {
    // SAFETY: obligation 1.
    (unsafe { next_caller(xsubi) } >> 17) as c_long
}

/// POSIX `mrand48`: -2^31..2^31.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub extern "C" fn mrand48() -> c_long {
    c_long::from((next_shared() >> 16) as u32 as i32)
}

/// POSIX `jrand48`.
///
/// # Safety
/// 1. `xsubi` is readable and writable for three `unsigned short`s.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub unsafe extern "C" fn jrand48(xsubi: *mut [c_ushort; 3]) -> c_long {
    // SAFETY: obligation 1.
    c_long::from((unsafe { next_caller(xsubi) } >> 16) as u32 as i32)
}

/// POSIX `srand48`: the seed's low 32 bits above 0x330E; default a and c.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub extern "C" fn srand48(seed: c_long) {
    with(|g| {
        g.x = (seed as u64 & 0xffff_ffff) << 16 | 0x330E;
        g.a = DEFAULT_MULTIPLIER;
        g.c = DEFAULT_ADDEND;
    });
}

/// POSIX `seed48`: sets the state; returns the previous one (in a static array).
///
/// # Safety
/// 1. `seed` is readable for three `unsigned short`s.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub unsafe extern "C" fn seed48(seed: *const [c_ushort; 3]) -> *mut c_ushort {
    assert!(!seed.is_null(), "seed48: NULL seed");
    // SAFETY: obligation 1.
    let new = from_words(unsafe { &*seed });
    with(|g| {
        g.previous = words(g.x);
        g.x = new;
        g.a = DEFAULT_MULTIPLIER;
        g.c = DEFAULT_ADDEND;
        g.previous.as_mut_ptr()
    })
}

/// POSIX `lcong48`: sets state, multiplier and addend.
///
/// # Safety
/// 1. `param` is readable for seven `unsigned short`s.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub unsafe extern "C" fn lcong48(param: *const [c_ushort; 7]) {
    assert!(!param.is_null(), "lcong48: NULL parameters");
    // SAFETY: obligation 1.
    let p = unsafe { &*param };
    with(|g| {
        g.x = from_words(&[p[0], p[1], p[2]]);
        g.a = from_words(&[p[3], p[4], p[5]]);
        g.c = u64::from(p[6]);
    });
}
