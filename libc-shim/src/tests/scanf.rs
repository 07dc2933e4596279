//! sscanf: the shim's (`__rivet_sscanf`) against glibc's on random inputs and directives.

use super::prng::Rng;
use core::ffi::{c_char, c_int};
use std::ffi::CString;

extern "C" {
    fn sscanf(input: *const c_char, fmt: *const c_char, ...) -> c_int;
    fn __rivet_sscanf(input: *const c_char, fmt: *const c_char, ...) -> c_int;
}

type Sscanf = unsafe extern "C" fn(*const c_char, *const c_char, ...) -> c_int;

/// Runs `f` with three 64-byte output slots and a trailing %n slot.
fn run(f: Sscanf, input: &CString, fmt: &CString) -> (c_int, [[u8; 64]; 4]) {
    let mut slots = [[0xa5u8; 64]; 4];
    let [a, b, c, d] = &mut slots;
    // SAFETY: every conversion in the generated formats stores at most 64 bytes (widths are
    // bounded below 60) into its slot; unused trailing arguments are ignored by both.
    let result = unsafe {
        f(
            input.as_ptr(),
            fmt.as_ptr(),
            a.as_mut_ptr(),
            b.as_mut_ptr(),
            c.as_mut_ptr(),
            d.as_mut_ptr(),
        )
    };
    (result, slots)
}

fn directive(rng: &mut Rng) -> String {
    let mut d = String::from("%");
    if rng.one_in(8) {
        d.push('*');
    }
    let conversion = *rng.pick(&[
        "d", "i", "u", "x", "o", "hhd", "hd", "ld", "lld", "lx", "s", "c", "[a-c0-9]", "[^,]", "f",
        "lf", "e", "lg", "n", "zu", "jd",
    ]);
    if rng.one_in(3) && conversion != "n" {
        d.push_str(&(rng.below(8) + 1).to_string());
    }
    d.push_str(conversion);
    d
}

#[test]
fn random_directives_match_glibc() {
    let mut rng = Rng::new(50);
    let pieces = [
        "1",
        "23",
        "-4",
        "+5",
        "0x1f",
        "0X",
        "077",
        "9",
        " ",
        "  ",
        "\t",
        "a",
        "b",
        "c",
        "e",
        "x",
        ".",
        "5e3",
        "1e",
        "1e+",
        "-.5",
        "inf",
        "nan",
        ",",
        "abc",
        "99999999999999999999",
        "0",
        "z",
    ];
    for _ in 0..100_000 {
        let input: String = (0..rng.below(6)).map(|_| *rng.pick(&pieces)).collect();
        let mut fmt = String::new();
        let count = rng.below(3) + 1;
        for i in 0..count {
            if i > 0 || rng.one_in(3) {
                fmt.push_str(rng.pick::<&str>(&["", " ", ",", " , "]));
            }
            fmt.push_str(&directive(&mut rng));
        }
        fmt.push_str("%n");
        // Suppressed conversions take no argument: the %n slot moves up; both see the same list.
        let (input, fmt) = (CString::new(input).unwrap(), CString::new(fmt).unwrap());
        let host = run(sscanf, &input, &fmt);
        let shim = run(__rivet_sscanf, &input, &fmt);
        assert_eq!(shim.0, host.0, "input {input:?} format {fmt:?}");
        for (slot, (ours, theirs)) in shim.1.iter().zip(&host.1).enumerate() {
            assert_eq!(ours[..], theirs[..], "slot {slot}: input {input:?} format {fmt:?}");
        }
    }
}
