//! stdlib.h against glibc: strtol/strtoul, strtod/strtof (bits, end and errno), qsort, bsearch,
//! rand, and a few math functions.

use super::prng::Rng;
use crate::stdlib::{arithmetic, float_parse, integer_parse, sort};
use core::ffi::{c_char, c_int, c_long, c_ulong, c_void};
use std::ffi::CString;

mod host {
    use core::ffi::{c_char, c_int, c_long, c_uint, c_ulong, c_void};
    extern "C" {
        pub fn strtol(s: *const c_char, end: *mut *mut c_char, base: c_int) -> c_long;
        pub fn strtoul(s: *const c_char, end: *mut *mut c_char, base: c_int) -> c_ulong;
        pub fn strtod(s: *const c_char, end: *mut *mut c_char) -> f64;
        pub fn strtof(s: *const c_char, end: *mut *mut c_char) -> f32;
        pub fn qsort(
            base: *mut c_void,
            n: usize,
            size: usize,
            cmp: unsafe extern "C" fn(*const c_void, *const c_void) -> c_int,
        );
        pub fn srand(seed: c_uint);
        pub fn rand() -> c_int;
        pub fn __errno_location() -> *mut c_int;
        pub fn sqrt(x: f64) -> f64;
        pub fn floor(x: f64) -> f64;
        pub fn fmod(x: f64, y: f64) -> f64;
        pub fn sin(x: f64) -> f64;
        pub fn exp(x: f64) -> f64;
        pub fn log(x: f64) -> f64;
        pub fn pow(x: f64, y: f64) -> f64;
    }
}

fn errno() -> c_int {
    // SAFETY: glibc's errno slot for this thread.
    unsafe { *host::__errno_location() }
}

fn clear_errno() {
    // SAFETY: as above.
    unsafe { *host::__errno_location() = 0 };
}

/// A random integer-ish string: spaces, signs, prefixes, digits of several bases, junk.
fn integer_text(rng: &mut Rng) -> String {
    let mut s = String::new();
    for _ in 0..rng.below(3) {
        s.push(*rng.pick(&[' ', '\t', '\n']));
    }
    if rng.one_in(2) {
        s.push(*rng.pick(&['+', '-']));
    }
    if rng.one_in(3) {
        s.push_str(rng.pick::<&str>(&["0x", "0X", "0", "0x", "00"]));
    }
    let len = if rng.one_in(5) { rng.below(40) } else { rng.below(12) };
    for _ in 0..len {
        s.push(*rng.pick(&['0', '1', '7', '8', '9', 'a', 'f', 'g', 'z', 'Z', 'F', 'x']));
    }
    if rng.one_in(4) {
        s.push_str(rng.pick::<&str>(&[" ", "-", ".", "9999999999999999999999"]));
    }
    s
}

#[test]
fn strtol_and_strtoul_match_glibc() {
    let mut rng = Rng::new(20);
    for _ in 0..200_000 {
        let text = CString::new(integer_text(&mut rng)).unwrap();
        let base = *rng.pick(&[0, 0, 10, 16, 8, 2, 36, 1, 37, -1, 7]);
        let (mut a, mut b): (*mut c_char, *mut c_char) =
            (core::ptr::null_mut(), core::ptr::null_mut());
        // SAFETY: NUL-terminated text, writable end pointers.
        unsafe {
            clear_errno();
            let ours: c_long = integer_parse::strtol(text.as_ptr(), &mut a, base);
            let our_errno = errno();
            clear_errno();
            let theirs = host::strtol(text.as_ptr(), &mut b, base);
            assert_eq!((ours, a, our_errno), (theirs, b, errno()), "strtol {text:?} base {base}");
            clear_errno();
            let ours: c_ulong = integer_parse::strtoul(text.as_ptr(), &mut a, base);
            let our_errno = errno();
            clear_errno();
            let theirs = host::strtoul(text.as_ptr(), &mut b, base);
            assert_eq!((ours, a, our_errno), (theirs, b, errno()), "strtoul {text:?} base {base}");
        }
    }
}

/// A random floating-point-ish string.
fn float_text(rng: &mut Rng) -> String {
    let mut s = String::new();
    if rng.one_in(4) {
        s.push(' ');
    }
    if rng.one_in(2) {
        s.push(*rng.pick(&['+', '-']));
    }
    match rng.below(12) {
        0 => s.push_str(rng.pick::<&str>(&[
            "inf", "INFINITY", "infin", "nan", "NaN(123)", "nan(", "nan()", "nan(0x7)", "in", "na",
        ])),
        1..=3 => {
            s.push_str(rng.pick::<&str>(&["0x", "0X"]));
            for _ in 0..rng.below(20) {
                s.push(*rng.pick(&['0', '1', '8', 'f', 'A', '.', 'c']));
            }
            if rng.one_in(2) {
                s.push_str(&format!("p{}", rng.below(2400) as i64 - 1200));
            }
        }
        4 => {
            // Exactly representable or halfway cases, many digits.
            let value = rng.double();
            s.push_str(&format!("{:.*e}", rng.below(40) as usize, value.abs()));
        }
        5 => s.push_str(&format!("{}", rng.double().abs())),
        _ => {
            let digits = if rng.one_in(8) { rng.below(800) } else { rng.below(25) };
            for i in 0..digits {
                if i == rng.below(digits + 3) {
                    s.push('.');
                }
                s.push(char::from(b'0' + rng.below(10) as u8));
            }
            if rng.one_in(2) {
                s.push(*rng.pick(&['e', 'E']));
                if rng.one_in(2) {
                    s.push(*rng.pick(&['+', '-']));
                }
                if !rng.one_in(10) {
                    let bound = if rng.one_in(10) { 100_000 } else { 340 };
                    s.push_str(&rng.below(bound).to_string());
                }
            }
        }
    }
    if rng.one_in(4) {
        s.push_str(rng.pick::<&str>(&["x", "e", ".", "e+", "p"]));
    }
    s
}

#[test]
fn strtod_and_strtof_match_glibc() {
    let mut rng = Rng::new(21);
    for _ in 0..200_000 {
        let text = CString::new(float_text(&mut rng)).unwrap();
        let (mut a, mut b): (*mut c_char, *mut c_char) =
            (core::ptr::null_mut(), core::ptr::null_mut());
        // SAFETY: NUL-terminated text, writable end pointers.
        unsafe {
            clear_errno();
            let ours = float_parse::__rivet_strtod_bits(text.as_ptr(), &mut a);
            let our_errno = errno();
            clear_errno();
            let theirs = host::strtod(text.as_ptr(), &mut b).to_bits();
            assert_eq!((ours, a, our_errno), (theirs, b, errno()), "strtod {text:?}");
            clear_errno();
            let ours = float_parse::__rivet_strtof_bits(text.as_ptr(), &mut a);
            let our_errno = errno();
            clear_errno();
            let theirs = host::strtof(text.as_ptr(), &mut b).to_bits();
            assert_eq!((ours, a, our_errno), (theirs, b, errno()), "strtof {text:?}");
        }
    }
}

unsafe extern "C" fn compare_u32(a: *const c_void, b: *const c_void) -> c_int {
    // SAFETY: qsort passes pointers to elements of a u32 array.
    let (a, b) = unsafe { (*a.cast::<u32>(), *b.cast::<u32>()) };
    a.cmp(&b) as c_int
}

unsafe extern "C" fn compare_first_byte(a: *const c_void, b: *const c_void) -> c_int {
    // SAFETY: qsort passes pointers to records of at least one byte.
    let (a, b) = unsafe { (*a.cast::<u8>(), *b.cast::<u8>()) };
    c_int::from(a) - c_int::from(b)
}

unsafe extern "C" fn compare_records(a: *const c_void, b: *const c_void) -> c_int {
    // SAFETY: qsort passes pointers to 7-byte records.
    let (a, b) = unsafe {
        (
            core::slice::from_raw_parts(a.cast::<u8>(), 7),
            core::slice::from_raw_parts(b.cast::<u8>(), 7),
        )
    };
    a.cmp(b) as c_int
}

#[test]
fn qsort_matches_glibc_and_bsearch_finds() {
    let mut rng = Rng::new(22);
    for _ in 0..3_000 {
        let len = rng.below(300) as usize;
        let range = if rng.one_in(2) { 10 } else { u64::MAX };
        let values: Vec<u32> =
            (0..len).map(|_| rng.below(range.min(u32::MAX as u64)) as u32).collect();
        let (mut ours, mut theirs) = (values.clone(), values.clone());
        // SAFETY: arrays of `len` u32s with a matching comparator.
        unsafe {
            sort::qsort(ours.as_mut_ptr().cast(), len, 4, Some(compare_u32));
            host::qsort(theirs.as_mut_ptr().cast(), len, 4, compare_u32);
        }
        assert_eq!(ours, theirs);
        for probe in values.iter().take(10).chain(&[u32::MAX, 5]) {
            // SAFETY: sorted array, comparator over u32.
            let found = unsafe {
                sort::bsearch(
                    (probe as *const u32).cast(),
                    ours.as_ptr().cast(),
                    len,
                    4,
                    Some(compare_u32),
                )
            };
            if values.contains(probe) {
                // SAFETY: bsearch returned an element of `ours`.
                assert_eq!(unsafe { *found.cast::<u32>() }, *probe);
            } else {
                assert!(found.is_null());
            }
        }
        // Odd-sized records.
        let bytes: Vec<u8> = (0..len * 7).map(|_| rng.below(3) as u8).collect();
        let (mut ours, mut theirs) = (bytes.clone(), bytes);
        // SAFETY: `len` records of 7 bytes.
        unsafe {
            sort::qsort(ours.as_mut_ptr().cast(), len, 7, Some(compare_records));
            host::qsort(theirs.as_mut_ptr().cast(), len, 7, compare_records);
        }
        assert_eq!(ours, theirs);
        // Ties: records compared by their first byte only keep glibc's (stable) order.
        let bytes: Vec<u8> =
            (0..len * 5).map(|_| rng.below(4) as u8 * 60 + rng.below(3) as u8).collect();
        let (mut ours, mut theirs) = (bytes.clone(), bytes);
        // SAFETY: `len` records of 5 bytes.
        unsafe {
            sort::qsort(ours.as_mut_ptr().cast(), len, 5, Some(compare_first_byte));
            host::qsort(theirs.as_mut_ptr().cast(), len, 5, compare_first_byte);
        }
        assert_eq!(ours, theirs, "ties in {len} records");
    }
}

#[test]
fn rand_matches_glibc() {
    // rand before any srand is seeded with 1 in both.
    let first: Vec<c_int> = (0..5).map(|_| arithmetic::rand()).collect();
    // SAFETY: glibc's rand has no preconditions.
    let host_first: Vec<c_int> = (0..5).map(|_| unsafe { host::rand() }).collect();
    assert_eq!(first, host_first);
    for seed in [0u32, 1, 2, 42, 12345, u32::MAX, 0x8000_0000] {
        arithmetic::srand(seed);
        // SAFETY: as above.
        unsafe { host::srand(seed) };
        for _ in 0..1000 {
            // SAFETY: as above.
            assert_eq!(arithmetic::rand(), unsafe { host::rand() }, "seed {seed}");
        }
    }
}

#[test]
fn division_and_abs() {
    assert_eq!(arithmetic::div(-7, 2), arithmetic::Division { quot: -3, rem: -1 });
    assert_eq!(arithmetic::ldiv(7, -2), arithmetic::Division { quot: -3, rem: 1 });
    assert_eq!(arithmetic::abs(-5), 5);
    assert_eq!(arithmetic::llabs(i64::MIN + 1), i64::MAX);
}

fn ulps(a: f64, b: f64) -> u64 {
    if a.is_nan() && b.is_nan() {
        return 0;
    }
    (a.to_bits() as i64).wrapping_sub(b.to_bits() as i64).unsigned_abs()
}

#[test]
fn math_is_close_to_glibc() {
    use crate::math;
    let mut rng = Rng::new(23);
    for _ in 0..100_000 {
        let x =
            if rng.one_in(2) { rng.double() } else { (rng.below(2_000_000) as f64 - 1e6) / 1000.0 };
        let y = (rng.below(2000) as f64 - 1000.0) / 64.0;
        let m = |bits: u64| f64::from_bits(bits);
        // SAFETY: glibc's math functions have no preconditions.
        unsafe {
            assert_eq!(ulps(m(math::__rivet_m_sqrt(x.to_bits())), host::sqrt(x)), 0, "sqrt {x}");
            assert_eq!(ulps(m(math::__rivet_m_floor(x.to_bits())), host::floor(x)), 0, "floor {x}");
            assert_eq!(
                ulps(m(math::__rivet_m_fmod(x.to_bits(), y.to_bits())), host::fmod(x, y)),
                0,
                "fmod {x} {y}"
            );
            assert!(ulps(m(math::__rivet_m_sin(x.to_bits())), host::sin(x)) <= 1, "sin {x}");
            assert!(ulps(m(math::__rivet_m_exp(x.to_bits())), host::exp(x)) <= 1, "exp {x}");
            assert!(ulps(m(math::__rivet_m_log(x.to_bits())), host::log(x)) <= 1, "log {x}");
            assert!(
                ulps(m(math::__rivet_m_pow(x.to_bits(), y.to_bits())), host::pow(x, y)) <= 2,
                "pow {x} {y}"
            );
        }
    }
}

extern "C" {
    fn __rivet_test_host_strtold(text: *const c_char, end: *mut *mut c_char, bytes: *mut u8);
}

#[test]
fn strtold_matches_glibc_on_x87() {
    use crate::stdlib::long_double_parse::__rivet_strtold_bytes;
    let mut rng = Rng::new(24);
    for i in 0..100_000 {
        let text = if i % 7 == 0 {
            // Long and tiny/huge decimal strings.
            let digits: String =
                (0..rng.below(60) + 1).map(|_| char::from(b'0' + rng.below(10) as u8)).collect();
            format!("{}.{}e{}", &digits[..1], &digits[1..], rng.below(10_000) as i64 - 5_000)
        } else {
            float_text(&mut rng)
        };
        let text = CString::new(text).unwrap();
        let (mut a, mut b): (*mut c_char, *mut c_char) =
            (core::ptr::null_mut(), core::ptr::null_mut());
        let (mut x, mut y) = ([0u8; 16], [0u8; 16]);
        // SAFETY: terminated text, writable ends, 16-byte results.
        unsafe {
            clear_errno();
            __rivet_strtold_bytes(text.as_ptr(), &mut a, 0, x.as_mut_ptr());
            let our_errno = errno();
            clear_errno();
            __rivet_test_host_strtold(text.as_ptr(), &mut b, y.as_mut_ptr());
            let nan = y[9] & 0x7f == 0x7f && y[8] == 0xff && y[..8] != [0, 0, 0, 0, 0, 0, 0, 0x80];
            if nan {
                // NaN payloads: glibc keeps the "(chars)" payload, the shim does not.
                assert_eq!((x[9], x[8], a), (y[9], y[8], b), "strtold {text:?}");
                continue;
            }
            assert_eq!((&x[..10], a, our_errno), (&y[..10], b, errno()), "strtold {text:?}");
        }
    }
}

/// A Vec behind the sorting traits, to test the heapsort fallback directly.
struct Values(Vec<u32>);

impl sort::Items for Values {
    fn len(&self) -> usize {
        self.0.len()
    }

    fn compare(&mut self, a: usize, b: usize) -> core::cmp::Ordering {
        self.0[a].cmp(&self.0[b])
    }

    fn swap(&mut self, a: usize, b: usize) {
        self.0.swap(a, b);
    }
}

#[test]
fn heapsort_fallback_sorts() {
    let mut rng = Rng::new(25);
    for _ in 0..2_000 {
        let len = rng.below(200) as usize;
        let mut values = Values((0..len).map(|_| rng.below(50) as u32).collect());
        let mut expected = values.0.clone();
        expected.sort_unstable();
        sort::sort(&mut values);
        assert_eq!(values.0, expected);
    }
}

mod host48 {
    use core::ffi::{c_long, c_ushort};
    extern "C" {
        pub fn drand48() -> f64;
        pub fn erand48(x: *mut c_ushort) -> f64;
        pub fn lrand48() -> c_long;
        pub fn mrand48() -> c_long;
        pub fn nrand48(x: *mut c_ushort) -> c_long;
        pub fn jrand48(x: *mut c_ushort) -> c_long;
        pub fn srand48(seed: c_long);
        pub fn seed48(seed: *mut c_ushort) -> *mut c_ushort;
        pub fn lcong48(param: *mut c_ushort);
    }
}

#[test]
fn rand48_matches_glibc() {
    use crate::stdlib::rand48;
    // SAFETY: glibc's and the shim's generators over valid state arrays (this test is the only
    // user of either's shared state).
    unsafe {
        for _ in 0..100 {
            assert_eq!(rand48::lrand48(), host48::lrand48());
        }
        for seed in [0, 1, 42, -7, 0x1_2345_6789] {
            rand48::srand48(seed);
            host48::srand48(seed);
            for _ in 0..500 {
                assert_eq!(rand48::__rivet_drand48_bits(), host48::drand48().to_bits());
                assert_eq!(rand48::lrand48(), host48::lrand48());
                assert_eq!(rand48::mrand48(), host48::mrand48());
            }
        }
        let state = [0x1234u16, 0xabcd, 0x9876];
        let (mut a, mut b) = (state, state);
        for _ in 0..500 {
            assert_eq!(
                rand48::__rivet_erand48_bits(&mut a),
                host48::erand48(b.as_mut_ptr()).to_bits()
            );
            assert_eq!(rand48::nrand48(&mut a), host48::nrand48(b.as_mut_ptr()));
            assert_eq!(rand48::jrand48(&mut a), host48::jrand48(b.as_mut_ptr()));
            assert_eq!(a, b);
        }
        let ours = *rand48::seed48(&state).cast::<[u16; 3]>();
        let theirs = *host48::seed48(state.as_ptr().cast_mut()).cast::<[u16; 3]>();
        assert_eq!(ours, theirs);
        let mut param = [1u16, 2, 3, 0xe66d, 0xdeec, 5, 11];
        rand48::lcong48(&param);
        host48::lcong48(param.as_mut_ptr());
        for _ in 0..100 {
            assert_eq!(rand48::lrand48(), host48::lrand48());
        }
    }
}

mod host_misc {
    use core::ffi::{c_int, c_long, c_void};
    extern "C" {
        pub fn ffs(v: c_int) -> c_int;
        pub fn ffsl(v: c_long) -> c_int;
        pub fn lsearch(
            key: *const c_void,
            base: *mut c_void,
            count: *mut usize,
            size: usize,
            cmp: unsafe extern "C" fn(*const c_void, *const c_void) -> c_int,
        ) -> *mut c_void;
    }
}

#[test]
fn ffs_and_lsearch_match_glibc() {
    let mut rng = Rng::new(26);
    for _ in 0..10_000 {
        let v = rng.next_u64() >> rng.below(64);
        // SAFETY: glibc's ffs has no preconditions.
        unsafe {
            assert_eq!(crate::string::ffs(v as c_int), host_misc::ffs(v as c_int));
            assert_eq!(crate::string::ffsl(v as c_long), host_misc::ffsl(v as c_long));
        }
    }
    let (mut ours, mut theirs) = ([0u32; 64], [0u32; 64]);
    let (mut n, mut m) = (0usize, 0usize);
    for _ in 0..200 {
        let key = rng.below(40) as u32;
        // SAFETY: 64-element arrays; at most 40 distinct keys are added.
        unsafe {
            let a = sort::lsearch(
                (&key as *const u32).cast(),
                ours.as_mut_ptr().cast(),
                &mut n,
                4,
                Some(compare_u32),
            );
            let b = host_misc::lsearch(
                (&key as *const u32).cast(),
                theirs.as_mut_ptr().cast(),
                &mut m,
                4,
                compare_u32,
            );
            assert_eq!(
                (a as usize - ours.as_ptr() as usize, n),
                (b as usize - theirs.as_ptr() as usize, m)
            );
        }
    }
    assert_eq!(ours, theirs);
}
