//! abs, div and rand: stdlib.h's integer arithmetic and glibc's random sequence.
//!
//! `rand` reproduces glibc's default generator (the additive feedback generator of the BSD
//! `random(3)` family, degree 31, seeded by a 16807 multiplicative congruential sequence) so a
//! program prints the same numbers as on Linux. It is locked by a small spin flag: C permits
//! `rand` to be used from several threads.

use core::ffi::{c_int, c_long, c_longlong, c_uint};
use core::sync::atomic::{AtomicBool, Ordering};

/// C `abs` (wrapping for `INT_MIN`, whose absolute value C leaves undefined).
#[cfg_attr(rivet_libc_export, no_mangle)]
pub extern "C" fn abs(value: c_int) -> c_int {
    value.wrapping_abs()
}

/// C `labs`.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub extern "C" fn labs(value: c_long) -> c_long {
    value.wrapping_abs()
}

/// C `llabs`.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub extern "C" fn llabs(value: c_longlong) -> c_longlong {
    value.wrapping_abs()
}

/// C `imaxabs`.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub extern "C" fn imaxabs(value: i64) -> i64 {
    value.wrapping_abs()
}

/// C `div_t` / `ldiv_t` / `lldiv_t` / `imaxdiv_t`: quotient then remainder.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Division<T> {
    /// Quotient, truncated toward zero.
    pub quot: T,
    /// Remainder, with the dividend's sign.
    pub rem: T,
}

macro_rules! division {
    ($($name:ident: $ty:ty;)*) => {$(
        /// The stdlib.h division of the same name. Division by zero panics (C leaves it
        /// undefined); the one overflowing case (MIN / -1) wraps.
        #[cfg_attr(rivet_libc_export, no_mangle)]
        pub extern "C" fn $name(numerator: $ty, denominator: $ty) -> Division<$ty> {
            assert!(denominator != 0, concat!(stringify!($name), ": division by zero"));
            Division { quot: numerator.wrapping_div(denominator), rem: numerator.wrapping_rem(denominator) }
        }
    )*};
}

division! {
    div: c_int;
    ldiv: c_long;
    lldiv: c_longlong;
    imaxdiv: i64;
}

/// The state of glibc's additive feedback generator: 34 words back is enough (r[i-31], r[i-3]).
struct Generator {
    table: [u32; 34],
    /// Next slot to write (ring buffer over `table`).
    next: usize,
}

impl Generator {
    const fn unseeded() -> Generator {
        Generator { table: [0; 34], next: 0 }
    }

    fn seed(&mut self, seed: c_uint) {
        let mut words = [0i32; 34];
        words[0] = if seed == 0 { 1 } else { seed as i32 };
        for i in 1..31 {
            // 16807 × previous mod (2^31 - 1), computed in 64 bits; the seed may be negative.
            let value = (16807 * i64::from(words[i - 1])) % 2_147_483_647;
            words[i] = if value < 0 { (value + 2_147_483_647) as i32 } else { value as i32 };
        }
        for i in 31..34 {
            words[i] = words[i - 31];
        }
        for (slot, word) in self.table.iter_mut().zip(words) {
            *slot = word as u32;
        }
        self.next = 0;
        // glibc discards the first 310 outputs.
        for _ in 0..310 {
            self.step();
        }
    }

    fn step(&mut self) -> u32 {
        let len = self.table.len();
        let value = self.table[(self.next + len - 31) % len]
            .wrapping_add(self.table[(self.next + len - 3) % len]);
        self.table[self.next] = value;
        self.next = (self.next + 1) % len;
        value >> 1
    }
}

/// The generator and its lock.
struct Shared {
    busy: AtomicBool,
    generator: core::cell::UnsafeCell<Generator>,
    seeded: core::cell::UnsafeCell<bool>,
}

// SAFETY: `generator` and `seeded` are only touched while `busy` is held (see `with`).
unsafe impl Sync for Shared {}

static SHARED: Shared = Shared {
    busy: AtomicBool::new(false),
    generator: core::cell::UnsafeCell::new(Generator::unseeded()),
    seeded: core::cell::UnsafeCell::new(false),
};

/// Runs `f` on the generator with the lock held, seeding it with 1 first if nobody has.
fn with<T>(f: impl FnOnce(&mut Generator) -> T) -> T {
    while SHARED
        .busy
        .compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed)
        .is_err()
    {
        core::hint::spin_loop();
    }
    // SAFETY: the lock is held; nothing else references the cells until it is released below.
    let result = unsafe {
        let generator = &mut *SHARED.generator.get();
        let seeded = &mut *SHARED.seeded.get();
        if !*seeded {
            generator.seed(1);
            *seeded = true;
        }
        f(generator)
    };
    SHARED.busy.store(false, Ordering::Release);
    result
}

/// C `srand`.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub extern "C" fn srand(seed: c_uint) {
    with(|generator| generator.seed(seed));
}

/// C `rand`: glibc's sequence, 0..=RAND_MAX (2^31 - 1).
#[cfg_attr(rivet_libc_export, no_mangle)]
pub extern "C" fn rand() -> c_int {
    with(|generator| generator.step() as c_int)
}

/// BSD `random`: the same generator as `rand`, as in glibc.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub extern "C" fn random() -> c_long {
    c_long::from(rand())
}

/// BSD `srandom`.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub extern "C" fn srandom(seed: c_uint) {
    srand(seed);
}

/// POSIX `rand_r`: a small generator over the caller's state (not glibc's sequence).
///
/// # Safety
/// 1. `state` is writable.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub unsafe extern "C" fn rand_r(state: *mut c_uint) -> c_int {
    assert!(!state.is_null(), "rand_r: NULL state");
    // SAFETY: obligation 1.
    let seed = unsafe { &mut *state };
    *seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
    ((*seed >> 1) & 0x7fff_ffff) as c_int
}
