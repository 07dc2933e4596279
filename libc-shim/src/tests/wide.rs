//! wcstol/wcstod and swprintf (csrc/wide.c) against glibc's.

use super::prng::Rng;
use core::ffi::{c_char, c_int, c_long};

type WChar = u32;

extern "C" {
    fn wcstol(text: *const WChar, end: *mut *mut WChar, base: c_int) -> c_long;
    fn wcstod(text: *const WChar, end: *mut *mut WChar) -> f64;
    fn swprintf(buf: *mut WChar, cap: usize, fmt: *const WChar, ...) -> c_int;
    fn __rivet_wcstol(text: *const WChar, end: *mut *mut WChar, base: c_int) -> c_long;
    fn __rivet_wcstod_bits(text: *const WChar, end: *mut *mut WChar) -> u64;
    fn __rivet_swprintf(buf: *mut WChar, cap: usize, fmt: *const WChar, ...) -> c_int;
}

fn widen(text: &str) -> Vec<WChar> {
    text.chars().map(|c| c as WChar).chain([0]).collect()
}

#[test]
fn wide_parsing_matches_glibc() {
    let mut rng = Rng::new(60);
    let pieces = [
        "1",
        "23",
        "-",
        "+",
        "0x",
        "ff",
        " ",
        "e5",
        ".",
        "7",
        "é",
        "inf",
        "z",
        "99999999999999999999",
    ];
    for _ in 0..50_000 {
        let text: String = (0..rng.below(5)).map(|_| *rng.pick(&pieces)).collect();
        let wide = widen(&text);
        let base = *rng.pick(&[0, 10, 16, 8, 1]);
        let (mut a, mut b): (*mut WChar, *mut WChar) =
            (core::ptr::null_mut(), core::ptr::null_mut());
        // SAFETY: terminated wide strings, writable end pointers.
        unsafe {
            let x = __rivet_wcstol(wide.as_ptr(), &mut a, base);
            let y = wcstol(wide.as_ptr(), &mut b, base);
            assert_eq!((x, a), (y, b), "wcstol {text:?} {base}");
            let x = __rivet_wcstod_bits(wide.as_ptr(), &mut a);
            let y = wcstod(wide.as_ptr(), &mut b).to_bits();
            assert_eq!((x, a), (y, b), "wcstod {text:?}");
        }
    }
}

#[test]
fn swprintf_matches_glibc() {
    let mut rng = Rng::new(61);
    let text = c"narrow";
    let wide_text = widen("wide");
    for _ in 0..20_000 {
        let fmt = *rng.pick(&["[%d|%5.2f|%s|%ls]", "%g %x %c", "%-8d|%+.3e", "%%%s", "%ls%ls"]);
        let wide_fmt = widen(fmt);
        let cap = if rng.one_in(4) { rng.below(12) as usize } else { 64 };
        let value = rng.double();
        let number = rng.next_u64() as c_int;
        let (mut x, mut y) = ([7 as WChar; 80], [7 as WChar; 80]);
        // SAFETY: each format's conversions match the argument lists below; 80-unit buffers.
        let (rx, ry) = unsafe {
            match fmt {
                "[%d|%5.2f|%s|%ls]" => (
                    __rivet_swprintf(
                        x.as_mut_ptr(),
                        cap,
                        wide_fmt.as_ptr(),
                        number,
                        value,
                        text.as_ptr(),
                        wide_text.as_ptr(),
                    ),
                    swprintf(
                        y.as_mut_ptr(),
                        cap,
                        wide_fmt.as_ptr(),
                        number,
                        value,
                        text.as_ptr(),
                        wide_text.as_ptr(),
                    ),
                ),
                "%g %x %c" => (
                    __rivet_swprintf(
                        x.as_mut_ptr(),
                        cap,
                        wide_fmt.as_ptr(),
                        value,
                        number,
                        65 as c_int,
                    ),
                    swprintf(y.as_mut_ptr(), cap, wide_fmt.as_ptr(), value, number, 65 as c_int),
                ),
                "%-8d|%+.3e" => (
                    __rivet_swprintf(x.as_mut_ptr(), cap, wide_fmt.as_ptr(), number, value),
                    swprintf(y.as_mut_ptr(), cap, wide_fmt.as_ptr(), number, value),
                ),
                "%%%s" => (
                    __rivet_swprintf(
                        x.as_mut_ptr(),
                        cap,
                        wide_fmt.as_ptr(),
                        text.as_ptr() as *const c_char,
                    ),
                    swprintf(
                        y.as_mut_ptr(),
                        cap,
                        wide_fmt.as_ptr(),
                        text.as_ptr() as *const c_char,
                    ),
                ),
                _ => (
                    __rivet_swprintf(
                        x.as_mut_ptr(),
                        cap,
                        wide_fmt.as_ptr(),
                        wide_text.as_ptr(),
                        wide_text.as_ptr(),
                    ),
                    swprintf(
                        y.as_mut_ptr(),
                        cap,
                        wide_fmt.as_ptr(),
                        wide_text.as_ptr(),
                        wide_text.as_ptr(),
                    ),
                ),
            }
        };
        assert_eq!(rx, ry, "{fmt:?} cap {cap} {value} {number}");
        if ry >= 0 {
            assert_eq!(x[..=ry as usize], y[..=ry as usize], "{fmt:?} cap {cap}");
        }
    }
}
