//! Random bytes: `getentropy`, `getrandom`, `arc4random` and friends (libstdc++'s
//! `std::random_device` calls `arc4random` and `getentropy`).
//!
//! **Known weak spot: not cryptographically secure.** Rivet has no entropy source yet (no
//! virtio-rng, RDRAND or RNDR driver), so the bytes come from a SplitMix64 generator seeded from
//! the clock counter at first use and stirred with the counter on every call: fine for seeding
//! simulations and hash tables, unfit for keys. A later entropy driver replaces `next_word`.

use core::ffi::{c_int, c_uint, c_void};
use core::sync::atomic::{AtomicU64, Ordering};

use crate::os::errno::{self, code};

/// The generator's state (0: not seeded yet).
static STATE: AtomicU64 = AtomicU64::new(0);

/// The next 64 pseudo-random bits (SplitMix64 over a state advanced atomically, stirred with the
/// counter's current value).
fn next_word() -> u64 {
    const GOLDEN: u64 = 0x9e37_79b9_7f4a_7c15;
    let stir = rivet::time::Instant::now().as_nanos();
    let mut z = STATE.fetch_add(GOLDEN ^ (stir & 0xff), Ordering::Relaxed);
    if z == 0 {
        z = stir | 1;
        STATE.store(z, Ordering::Relaxed);
    }
    z = z.wrapping_add(GOLDEN);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

fn fill(bytes: &mut [u8]) {
    for chunk in bytes.chunks_mut(8) {
        let word = next_word().to_le_bytes();
        chunk.copy_from_slice(&word[..chunk.len()]);
    }
}

/// Fills `buffer` with `length` random bytes (at most 256, else EIO). See the module comment:
/// not cryptographically secure.
///
/// # Safety
/// 1. `buffer` is valid for writes of `length` bytes.
#[no_mangle]
pub unsafe extern "C" fn getentropy(buffer: *mut c_void, length: usize) -> c_int {
    if length > 256 {
        errno::set(5 /* EIO */);
        return -1;
    }
    if length == 0 {
        return 0;
    }
    if buffer.is_null() {
        errno::set(code::EINVAL);
        return -1;
    }
    // SAFETY: obligation 1.
    fill(unsafe { core::slice::from_raw_parts_mut(buffer.cast::<u8>(), length) });
    0
}

/// Fills `buffer` with `length` random bytes and returns the count (`flags` ignored). Not
/// cryptographically secure (module comment).
///
/// # Safety
/// 1. `buffer` is valid for writes of `length` bytes.
#[no_mangle]
pub unsafe extern "C" fn getrandom(buffer: *mut c_void, length: usize, _flags: c_uint) -> isize {
    if length == 0 {
        return 0;
    }
    if buffer.is_null() {
        errno::set(code::EINVAL);
        return -1;
    }
    // SAFETY: obligation 1.
    fill(unsafe { core::slice::from_raw_parts_mut(buffer.cast::<u8>(), length) });
    length.min(isize::MAX as usize) as isize
}

/// 32 random bits. Not cryptographically secure (module comment).
#[no_mangle]
pub extern "C" fn arc4random() -> u32 {
    next_word() as u32
}

/// Fills `buffer` with `length` random bytes. Not cryptographically secure (module comment).
///
/// # Safety
/// 1. `buffer` is valid for writes of `length` bytes.
#[no_mangle]
pub unsafe extern "C" fn arc4random_buf(buffer: *mut c_void, length: usize) {
    if length == 0 || buffer.is_null() {
        return;
    }
    // SAFETY: obligation 1.
    fill(unsafe { core::slice::from_raw_parts_mut(buffer.cast::<u8>(), length) });
}

/// A random number below `bound` without modulo bias (0 when `bound` < 2).
#[no_mangle]
pub extern "C" fn arc4random_uniform(bound: u32) -> u32 {
    if bound < 2 {
        return 0;
    }
    // Reject the values that would make the low end more likely.
    let limit = u32::MAX - u32::MAX % bound;
    loop {
        let value = arc4random();
        if value < limit {
            return value % bound;
        }
    }
}
