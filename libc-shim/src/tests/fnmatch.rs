//! fnmatch against glibc on random patterns and names.

use super::prng::Rng;
use crate::fnmatch;
use core::ffi::{c_char, c_int};
use std::ffi::CString;

extern "C" {
    #[link_name = "fnmatch"]
    fn host_fnmatch(pattern: *const c_char, text: *const c_char, flags: c_int) -> c_int;
}

#[test]
fn fnmatch_matches_glibc() {
    let mut rng = Rng::new(80);
    let pattern_pieces = [
        "a",
        "b",
        ".",
        "/",
        "*",
        "?",
        "[ab]",
        "[!a]",
        "[^.]",
        "[a-c]",
        "[]a]",
        "[",
        "]",
        "\\*",
        "\\",
        "[[:alpha:]]",
        "[[:digit:]x]",
        "A",
        "[!/]",
        "-",
        "[a-]",
    ];
    let text_pieces = ["a", "b", ".", "/", "A", "c", "[", "]", "*", "-", "1", "x"];
    let mut matched = 0;
    for _ in 0..200_000 {
        let pattern: String = (0..rng.below(5)).map(|_| *rng.pick(&pattern_pieces)).collect();
        let text: String = (0..rng.below(6)).map(|_| *rng.pick(&text_pieces)).collect();
        let flags = rng.below(32) as c_int;
        let (cp, ct) =
            (CString::new(pattern.clone()).unwrap(), CString::new(text.clone()).unwrap());
        // SAFETY: terminated strings.
        let (ours, theirs) = unsafe {
            (
                fnmatch::fnmatch(cp.as_ptr(), ct.as_ptr(), flags),
                host_fnmatch(cp.as_ptr(), ct.as_ptr(), flags),
            )
        };
        assert_eq!(ours, theirs, "pattern {pattern:?} text {text:?} flags {flags}");
        matched += usize::from(theirs == 0);
    }
    assert!(matched > 10_000, "only {matched} matches: the inputs are too random");
}
