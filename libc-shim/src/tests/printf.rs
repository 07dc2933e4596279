//! printf: the shim's engine (`__rivet_snprintf`) against glibc's `snprintf` on random formats.

use super::prng::Rng;
use core::ffi::{c_char, c_int};
use std::ffi::CString;

extern "C" {
    fn snprintf(buf: *mut c_char, cap: usize, fmt: *const c_char, ...) -> c_int;
    fn __rivet_snprintf(buf: *mut c_char, cap: usize, fmt: *const c_char, ...) -> c_int;
}

type Snprintf = unsafe extern "C" fn(*mut c_char, usize, *const c_char, ...) -> c_int;

/// One conversion's argument.
#[derive(Debug, Clone)]
enum Arg {
    /// For conversions without length modifier or with hh/h (promoted to int).
    Int(c_int),
    /// For l, ll, z, j, t.
    Long(i64),
    Double(f64),
    Str(CString),
    Pointer(usize),
    None,
}

macro_rules! call_with {
    ($f:expr, $buf:expr, $cap:expr, $fmt:expr, [$($star:expr),*], $arg:expr) => {
        match $arg {
            Arg::Int(v) => $f($buf, $cap, $fmt, $($star,)* *v),
            Arg::Long(v) => $f($buf, $cap, $fmt, $($star,)* *v),
            Arg::Double(v) => $f($buf, $cap, $fmt, $($star,)* *v),
            Arg::Str(v) => $f($buf, $cap, $fmt, $($star,)* v.as_ptr()),
            Arg::Pointer(v) => $f($buf, $cap, $fmt, $($star,)* *v as *const u8),
            Arg::None => $f($buf, $cap, $fmt, $($star,)*),
        }
    };
}

/// Formats with `f` into a buffer of `cap` bytes; returns the result and the buffer's text.
fn run(f: Snprintf, cap: usize, fmt: &CString, stars: &[c_int], arg: &Arg) -> (c_int, Vec<u8>) {
    let mut buf = vec![0x55u8; cap.max(1) + 16];
    let ptr = buf.as_mut_ptr().cast::<c_char>();
    // SAFETY: the buffer has `cap` (+16) writable bytes; the format's conversions match the
    // arguments by construction (see `generate`).
    let result = unsafe {
        match stars {
            [] => call_with!(f, ptr, cap, fmt.as_ptr(), [], arg),
            [a] => call_with!(f, ptr, cap, fmt.as_ptr(), [*a], arg),
            [a, b] => call_with!(f, ptr, cap, fmt.as_ptr(), [*a, *b], arg),
            _ => unreachable!(),
        }
    };
    let text = if cap == 0 {
        Vec::new()
    } else {
        let end = buf.iter().position(|&b| b == 0).expect("NUL-terminated");
        buf.truncate(end);
        buf
    };
    (result, text)
}

/// A random conversion with its arguments.
fn generate(rng: &mut Rng) -> (String, Vec<c_int>, Arg) {
    let mut fmt = String::from("[%");
    let mut stars = Vec::new();
    for flag in ['-', '+', ' ', '#', '0'] {
        if rng.one_in(4) {
            fmt.push(flag);
        }
    }
    match rng.below(4) {
        0 => {}
        1 => {
            fmt.push('*');
            stars.push(rng.below(40) as c_int - 15);
        }
        _ => fmt.push_str(&rng.below(30).to_string()),
    }
    match rng.below(5) {
        0 | 1 => {}
        2 => {
            fmt.push_str(".*");
            stars.push(rng.below(30) as c_int - 5);
        }
        3 => fmt
            .push_str(&format!(".{}", if rng.one_in(10) { rng.below(400) } else { rng.below(25) })),
        _ => fmt.push('.'),
    }
    let arg = match rng.below(10) {
        0..=3 => {
            let conv = *rng.pick(&['d', 'i', 'u', 'o', 'x', 'X']);
            let value = match rng.below(3) {
                0 => rng.below(200) as i64 - 100,
                1 => rng.next_u64() as i64 >> rng.below(64),
                _ => *rng.pick(&[0, 1, -1, i64::MIN, i64::MAX, i32::MIN as i64, u32::MAX as i64]),
            };
            let length = *rng.pick(&["", "hh", "h", "l", "ll", "z", "j", "t"]);
            fmt.push_str(length);
            fmt.push(conv);
            if length.is_empty() || length.starts_with('h') {
                Arg::Int(value as c_int)
            } else {
                Arg::Long(value)
            }
        }
        4..=7 => {
            fmt.push(*rng.pick(&['f', 'F', 'e', 'E', 'g', 'G', 'a', 'A']));
            Arg::Double(rng.double())
        }
        8 => {
            if rng.one_in(2) {
                fmt.push('s');
                let len = rng.below(12) as usize;
                let text: String = (0..len).map(|_| (b'a' + rng.below(26) as u8) as char).collect();
                Arg::Str(CString::new(text).unwrap())
            } else {
                fmt.push('c');
                Arg::Int(rng.below(95) as c_int + 32)
            }
        }
        _ => {
            if rng.one_in(3) {
                fmt.push('%');
                // `%%` takes no argument; flags and width are ignored by both.
                return ("[%%]".to_string(), Vec::new(), Arg::None);
            }
            fmt.push('p');
            Arg::Pointer(if rng.one_in(4) { 0 } else { rng.next_u64() as usize >> 16 })
        }
    };
    fmt.push(']');
    (fmt, stars, arg)
}

fn compare(fmt: &str, stars: &[c_int], arg: &Arg, cap: usize) {
    let cfmt = CString::new(fmt).unwrap();
    let host = run(snprintf, cap, &cfmt, stars, arg);
    let shim = run(__rivet_snprintf, cap, &cfmt, stars, arg);
    assert_eq!(
        (shim.0, String::from_utf8_lossy(&shim.1)),
        (host.0, String::from_utf8_lossy(&host.1)),
        "format {fmt:?} stars {stars:?} arg {arg:?} cap {cap}"
    );
}

#[test]
fn random_conversions_match_glibc() {
    let mut rng = Rng::new(1);
    for _ in 0..200_000 {
        let (fmt, stars, arg) = generate(&mut rng);
        compare(&fmt, &stars, &arg, 2000);
    }
}

#[test]
fn doubles_in_every_precision_match_glibc() {
    let mut rng = Rng::new(2);
    for _ in 0..50_000 {
        let value = rng.double();
        for conv in [
            "%.17g", "%.0f", "%.3f", "%.20e", "%f", "%e", "%g", "%a", "%.800f", "%.760e", "%.40g",
            "%#.3g", "%.3a",
        ] {
            compare(conv, &[], &Arg::Double(value), 2000);
        }
    }
}

#[test]
fn truncation_and_return_value_match_glibc() {
    let mut rng = Rng::new(3);
    for _ in 0..20_000 {
        let (fmt, stars, arg) = generate(&mut rng);
        let cap = rng.below(12) as usize;
        compare(&fmt, &stars, &arg, cap);
    }
}

#[test]
fn fixed_cases_match_glibc() {
    for (fmt, arg) in [
        ("%s|%5s|%.3s", Arg::None),
        ("%.0f", Arg::Double(0.5)),
        ("%.0f", Arg::Double(1.5)),
        ("%.0f", Arg::Double(2.5)),
        ("%.1f", Arg::Double(0.25)),
        ("%.2f", Arg::Double(1.005)),
        ("%5.1e", Arg::Double(f64::NAN)),
        ("%05f", Arg::Double(f64::INFINITY)),
        ("%.1a", Arg::Double(1.97)),
        ("%.0a", Arg::Double(1.5)),
        ("%.0a", Arg::Double(2.5)),
        ("%a", Arg::Double(5e-324)),
        ("%.500f", Arg::Double(5e-324)),
        ("%f", Arg::Double(1.7976931348623157e308)),
        ("%.1000f", Arg::Double(1.0 / 3.0)),
        ("%.2000e", Arg::Double(0.1)),
        ("%#.0e|%#.0f|%#g|%#x|%#o|%#.0o", Arg::None),
        ("%hhd|%hd", Arg::Int(0x1_2381)),
        ("%-#20.10x|%+.0d|% 05d", Arg::None),
        ("[%y]|%5.2y|%d", Arg::None),
        ("abc%", Arg::None),
    ] {
        match (fmt, &arg) {
            (_, Arg::None) if fmt.starts_with("%s") => {
                let cfmt = CString::new(fmt).unwrap();
                let mut a = [0u8; 64];
                let mut b = [0u8; 64];
                // SAFETY: three strings for three %s; 64-byte buffers.
                let (ra, rb) = unsafe {
                    (
                        snprintf(
                            a.as_mut_ptr().cast(),
                            64,
                            cfmt.as_ptr(),
                            c"x".as_ptr(),
                            core::ptr::null::<c_char>(),
                            core::ptr::null::<c_char>(),
                        ),
                        __rivet_snprintf(
                            b.as_mut_ptr().cast(),
                            64,
                            cfmt.as_ptr(),
                            c"x".as_ptr(),
                            core::ptr::null::<c_char>(),
                            core::ptr::null::<c_char>(),
                        ),
                    )
                };
                assert_eq!((rb, b), (ra, a), "{fmt}");
            }
            (_, Arg::None) if fmt.starts_with("%#") => {
                let cfmt = CString::new(fmt).unwrap();
                let mut a = [0u8; 128];
                let mut b = [0u8; 128];
                // SAFETY: arguments match the six conversions; 128-byte buffers.
                let (ra, rb) = unsafe {
                    (
                        snprintf(
                            a.as_mut_ptr().cast(),
                            128,
                            cfmt.as_ptr(),
                            3.0f64,
                            3.0f64,
                            3.0f64,
                            0 as c_int,
                            0 as c_int,
                            0 as c_int,
                        ),
                        __rivet_snprintf(
                            b.as_mut_ptr().cast(),
                            128,
                            cfmt.as_ptr(),
                            3.0f64,
                            3.0f64,
                            3.0f64,
                            0 as c_int,
                            0 as c_int,
                            0 as c_int,
                        ),
                    )
                };
                assert_eq!((rb, b), (ra, a), "{fmt}");
            }
            (_, Arg::None) => {
                let cfmt = CString::new(fmt).unwrap();
                let mut a = [0u8; 128];
                let mut b = [0u8; 128];
                // SAFETY: three ints for three conversions; 128-byte buffers.
                let (ra, rb) = unsafe {
                    (
                        snprintf(
                            a.as_mut_ptr().cast(),
                            128,
                            cfmt.as_ptr(),
                            255 as c_int,
                            0 as c_int,
                            42 as c_int,
                        ),
                        __rivet_snprintf(
                            b.as_mut_ptr().cast(),
                            128,
                            cfmt.as_ptr(),
                            255 as c_int,
                            0 as c_int,
                            42 as c_int,
                        ),
                    )
                };
                assert_eq!((rb, b), (ra, a), "{fmt}");
            }
            (_, Arg::Int(v)) => {
                let cfmt = CString::new(fmt).unwrap();
                let mut a = [0u8; 64];
                let mut b = [0u8; 64];
                // SAFETY: two ints for two conversions.
                let (ra, rb) = unsafe {
                    (
                        snprintf(a.as_mut_ptr().cast(), 64, cfmt.as_ptr(), *v, *v),
                        __rivet_snprintf(b.as_mut_ptr().cast(), 64, cfmt.as_ptr(), *v, *v),
                    )
                };
                assert_eq!((rb, b), (ra, a), "{fmt}");
            }
            _ => compare(fmt, &[], &arg, 30_000),
        }
    }
}

#[test]
fn count_conversion_matches_glibc() {
    let mut a: c_int = -1;
    let mut b: c_int = -1;
    let mut buf = [0u8; 32];
    // SAFETY: one string, then an int pointer for %n.
    unsafe {
        snprintf(
            buf.as_mut_ptr().cast(),
            32,
            c"%s%n".as_ptr(),
            c"hello".as_ptr(),
            &mut a as *mut c_int,
        );
        __rivet_snprintf(
            buf.as_mut_ptr().cast(),
            32,
            c"%s%n".as_ptr(),
            c"hello".as_ptr(),
            &mut b as *mut c_int,
        );
    }
    assert_eq!(a, b);
}

#[test]
fn positional_arguments_match_glibc() {
    let mut rng = Rng::new(4);
    for _ in 0..20_000 {
        let value = rng.double();
        let number = rng.next_u64() as i64;
        let small = rng.below(100) as c_int;
        let width = rng.below(30) as c_int - 10;
        let precision = rng.below(20) as c_int;
        let formats = [
            "%2$s|%1$d|%2$s",
            "%1$*3$.*4$f|%2$lld",
            "%3$d %2$lld %1$.17g",
            "%4$d %3$d %2$lld %1$e",
            "%1$-10.3e|%1$a|%2$llx",
        ];
        let fmt = CString::new(*rng.pick(&formats)).unwrap();
        let text = c"text";
        let (mut a, mut b) = ([0u8; 512], [0u8; 512]);
        // SAFETY: each format's positions match these argument types: for "%2$s|%1$d" the first
        // two are (int, char*); for the others (double, long long, int, int) in some order below.
        let (ra, rb) = unsafe {
            if fmt.as_bytes().starts_with(b"%2$s") {
                (
                    snprintf(a.as_mut_ptr().cast(), 512, fmt.as_ptr(), small, text.as_ptr()),
                    __rivet_snprintf(
                        b.as_mut_ptr().cast(),
                        512,
                        fmt.as_ptr(),
                        small,
                        text.as_ptr(),
                    ),
                )
            } else if fmt.as_bytes().starts_with(b"%3$d") {
                (
                    snprintf(a.as_mut_ptr().cast(), 512, fmt.as_ptr(), value, number, small),
                    __rivet_snprintf(
                        b.as_mut_ptr().cast(),
                        512,
                        fmt.as_ptr(),
                        value,
                        number,
                        small,
                    ),
                )
            } else {
                (
                    snprintf(
                        a.as_mut_ptr().cast(),
                        512,
                        fmt.as_ptr(),
                        value,
                        number,
                        width,
                        precision,
                    ),
                    __rivet_snprintf(
                        b.as_mut_ptr().cast(),
                        512,
                        fmt.as_ptr(),
                        value,
                        number,
                        width,
                        precision,
                    ),
                )
            }
        };
        assert_eq!(
            (rb, String::from_utf8_lossy(&b)),
            (ra, String::from_utf8_lossy(&a)),
            "{fmt:?} {value} {number}"
        );
    }
}

#[test]
fn wide_conversions_match_glibc() {
    let wide: [u32; 4] = [b'a' as u32, b'b' as u32, b'c' as u32, 0];
    let accented: [u32; 2] = [0xe9, 0];
    for fmt in [c"[%-5ls|%.2ls|%ls]", c"[%5ls|%.0ls|%S]", c"[%ls|%ls|%ls]"] {
        let (mut a, mut b) = ([0u8; 64], [0u8; 64]);
        let third = if fmt.to_bytes().ends_with(b"%ls]") && fmt.to_bytes().starts_with(b"[%ls") {
            accented.as_ptr()
        } else {
            wide.as_ptr()
        };
        // SAFETY: three wide strings for three conversions; 64-byte buffers.
        let (ra, rb) = unsafe {
            (
                snprintf(
                    a.as_mut_ptr().cast(),
                    64,
                    fmt.as_ptr(),
                    wide.as_ptr(),
                    wide.as_ptr(),
                    third,
                ),
                __rivet_snprintf(
                    b.as_mut_ptr().cast(),
                    64,
                    fmt.as_ptr(),
                    wide.as_ptr(),
                    wide.as_ptr(),
                    third,
                ),
            )
        };
        assert_eq!(rb, ra, "{fmt:?}");
        if ra >= 0 {
            assert_eq!(b, a, "{fmt:?}");
        }
    }
    for c in [b'q' as u32, 0xe9, 0] {
        let (mut a, mut b) = ([0u8; 16], [0u8; 16]);
        // SAFETY: one wint_t for %lc.
        let (ra, rb) = unsafe {
            (
                snprintf(a.as_mut_ptr().cast(), 16, c"[%3lc]".as_ptr(), c),
                __rivet_snprintf(b.as_mut_ptr().cast(), 16, c"[%3lc]".as_ptr(), c),
            )
        };
        assert_eq!(rb, ra, "{c}");
        if ra >= 0 {
            assert_eq!(b, a, "{c}");
        }
    }
}

extern "C" {
    fn __rivet_test_format_long_double(
        buf: *mut c_char,
        cap: usize,
        fmt: *const c_char,
        bytes: *const u8,
        ours: c_int,
    ) -> c_int;
}

/// An x87 extended value's 16 bytes: 64-bit mantissa (explicit integer bit), sign and exponent.
fn extended(rng: &mut Rng) -> [u8; 16] {
    let mut bytes = [0u8; 16];
    let mantissa = rng.next_u64() | if rng.one_in(8) { 0 } else { 1 << 63 };
    let exponent: u16 = match rng.below(4) {
        0 => 16383 + rng.below(64) as u16 - 32,
        1 => 16383 + rng.below(2000) as u16 - 1000,
        2 => rng.below(40) as u16, // denormal and tiny: outside the exact range
        _ => 16383 + rng.below(200) as u16 - 100,
    };
    bytes[..8].copy_from_slice(&mantissa.to_le_bytes());
    let sign = if rng.one_in(2) { 0x8000 } else { 0 };
    bytes[8..10].copy_from_slice(&(exponent | sign).to_le_bytes());
    bytes
}

#[test]
fn long_doubles_match_glibc_in_the_exact_range() {
    let mut rng = Rng::new(5);
    for _ in 0..30_000 {
        let bytes = extended(&mut rng);
        let biased = i32::from(u16::from_le_bytes([bytes[8], bytes[9]]) & 0x7fff);
        if biased == 0 || biased - 16383 - 63 < -1300 || biased - 16383 - 63 > 1100 {
            continue; // outside the exact range (documented)
        }
        if bytes[7] & 0x80 == 0 {
            continue; // unnormal encodings: not produced by arithmetic
        }
        for fmt in [
            c"%Lf",
            c"%.30Le",
            c"%Lg",
            c"%.25Lg",
            c"%#.0Lf",
            c"%.60Lf",
            c"%-30.10LE|",
            c"%La",
            c"%.3La",
            c"%.0LA",
        ] {
            let (mut a, mut b) = ([0u8; 1600], [0u8; 1600]);
            // SAFETY: 1600-byte buffers; the helper reads 16 bytes.
            let (ra, rb) = unsafe {
                (
                    __rivet_test_format_long_double(
                        a.as_mut_ptr().cast(),
                        1600,
                        fmt.as_ptr(),
                        bytes.as_ptr(),
                        0,
                    ),
                    __rivet_test_format_long_double(
                        b.as_mut_ptr().cast(),
                        1600,
                        fmt.as_ptr(),
                        bytes.as_ptr(),
                        1,
                    ),
                )
            };
            assert_eq!(
                (rb, String::from_utf8_lossy(&b)),
                (ra, String::from_utf8_lossy(&a)),
                "{fmt:?} {bytes:?}"
            );
        }
    }
}

#[test]
fn long_double_hex_matches_glibc_everywhere() {
    let mut rng = Rng::new(6);
    for _ in 0..30_000 {
        let mut bytes = extended(&mut rng);
        if rng.one_in(3) {
            let exponent = rng.below(0x7ffe) as u16 + 1;
            let sign = (u16::from(bytes[9]) & 0x80) << 8;
            bytes[8..10].copy_from_slice(&(exponent | sign).to_le_bytes());
        }
        let biased = u16::from_le_bytes([bytes[8], bytes[9]]) & 0x7fff;
        if bytes[7] & 0x80 == 0 && biased != 0 {
            continue; // unnormals
        }
        for fmt in [c"%La", c"%.3La", c"%.0La", c"%#.1LA", c"%20.14La|", c"%.20La"] {
            let (mut a, mut b) = ([0u8; 128], [0u8; 128]);
            // SAFETY: 128-byte buffers; the helper reads 16 bytes.
            let (ra, rb) = unsafe {
                (
                    __rivet_test_format_long_double(
                        a.as_mut_ptr().cast(),
                        128,
                        fmt.as_ptr(),
                        bytes.as_ptr(),
                        0,
                    ),
                    __rivet_test_format_long_double(
                        b.as_mut_ptr().cast(),
                        128,
                        fmt.as_ptr(),
                        bytes.as_ptr(),
                        1,
                    ),
                )
            };
            assert_eq!(
                (rb, String::from_utf8_lossy(&b)),
                (ra, String::from_utf8_lossy(&a)),
                "{fmt:?} {bytes:?}"
            );
        }
    }
}

#[test]
fn long_doubles_match_glibc_at_every_exponent() {
    let mut rng = Rng::new(7);
    for _ in 0..3_000 {
        let mut bytes = extended(&mut rng);
        let exponent = rng.below(0x7ffe) as u16; // 0: denormals
        let sign = (u16::from(bytes[9]) & 0x80) << 8;
        bytes[8..10].copy_from_slice(&(exponent | sign).to_le_bytes());
        if exponent != 0 {
            bytes[7] |= 0x80; // normal encodings
        } else {
            bytes[7] &= 0x7f;
        }
        for fmt in [c"%Le", c"%.40Lg", c"%Lf", c"%.1100Le", c"%#.0LE"] {
            let (mut a, mut b) = ([0u8; 1600], [0u8; 1600]);
            // SAFETY: 1600-byte buffers; the helper reads 16 bytes.
            let (ra, rb) = unsafe {
                (
                    __rivet_test_format_long_double(
                        a.as_mut_ptr().cast(),
                        1600,
                        fmt.as_ptr(),
                        bytes.as_ptr(),
                        0,
                    ),
                    __rivet_test_format_long_double(
                        b.as_mut_ptr().cast(),
                        1600,
                        fmt.as_ptr(),
                        bytes.as_ptr(),
                        1,
                    ),
                )
            };
            assert_eq!(
                (rb, String::from_utf8_lossy(&b)),
                (ra, String::from_utf8_lossy(&a)),
                "{fmt:?} {bytes:?}"
            );
        }
    }
}
