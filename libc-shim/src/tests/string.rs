//! string.h, ctype.h and strerror against glibc on generated strings.

use super::prng::Rng;
use crate::{ctype, strerror, string};
use core::ffi::{c_char, c_int, c_void};
use std::ffi::CStr;

mod host {
    use core::ffi::{c_char, c_int, c_void};
    extern "C" {
        pub fn memchr(s: *const c_void, c: c_int, n: usize) -> *mut c_void;
        pub fn memrchr(s: *const c_void, c: c_int, n: usize) -> *mut c_void;
        pub fn memmem(h: *const c_void, hl: usize, n: *const c_void, nl: usize) -> *mut c_void;
        pub fn strnlen(s: *const c_char, n: usize) -> usize;
        pub fn strcmp(a: *const c_char, b: *const c_char) -> c_int;
        pub fn strncmp(a: *const c_char, b: *const c_char, n: usize) -> c_int;
        pub fn strcasecmp(a: *const c_char, b: *const c_char) -> c_int;
        pub fn strncasecmp(a: *const c_char, b: *const c_char, n: usize) -> c_int;
        pub fn strchr(s: *const c_char, c: c_int) -> *mut c_char;
        pub fn strrchr(s: *const c_char, c: c_int) -> *mut c_char;
        pub fn strchrnul(s: *const c_char, c: c_int) -> *mut c_char;
        pub fn strstr(h: *const c_char, n: *const c_char) -> *mut c_char;
        pub fn strcasestr(h: *const c_char, n: *const c_char) -> *mut c_char;
        pub fn strspn(s: *const c_char, a: *const c_char) -> usize;
        pub fn strcspn(s: *const c_char, a: *const c_char) -> usize;
        pub fn strpbrk(s: *const c_char, a: *const c_char) -> *mut c_char;
        pub fn strtok_r(s: *mut c_char, d: *const c_char, save: *mut *mut c_char) -> *mut c_char;
        pub fn strsep(s: *mut *mut c_char, d: *const c_char) -> *mut c_char;
        pub fn strncpy(d: *mut c_char, s: *const c_char, n: usize) -> *mut c_char;
        pub fn stpncpy(d: *mut c_char, s: *const c_char, n: usize) -> *mut c_char;
        pub fn strncat(d: *mut c_char, s: *const c_char, n: usize) -> *mut c_char;
        pub fn memccpy(d: *mut c_void, s: *const c_void, c: c_int, n: usize) -> *mut c_void;
        pub fn strerror(n: c_int) -> *mut c_char;
        pub fn strsignal(n: c_int) -> *mut c_char;
        pub fn __xpg_strerror_r(n: c_int, b: *mut c_char, l: usize) -> c_int;
        pub fn __ctype_b_loc() -> *const *const u16;
        pub fn __ctype_tolower_loc() -> *const *const i32;
        pub fn __ctype_toupper_loc() -> *const *const i32;
        pub fn isalnum(c: c_int) -> c_int;
        pub fn isalpha(c: c_int) -> c_int;
        pub fn isblank(c: c_int) -> c_int;
        pub fn iscntrl(c: c_int) -> c_int;
        pub fn isdigit(c: c_int) -> c_int;
        pub fn isgraph(c: c_int) -> c_int;
        pub fn islower(c: c_int) -> c_int;
        pub fn isprint(c: c_int) -> c_int;
        pub fn ispunct(c: c_int) -> c_int;
        pub fn isspace(c: c_int) -> c_int;
        pub fn isupper(c: c_int) -> c_int;
        pub fn isxdigit(c: c_int) -> c_int;
        pub fn tolower(c: c_int) -> c_int;
        pub fn toupper(c: c_int) -> c_int;
    }
}

/// A NUL-terminated random string over a small alphabet (so searches hit), with its bytes.
fn random_string(rng: &mut Rng, max: u64) -> Vec<u8> {
    let alphabet = b"abcABC \t,;x\x80\xff";
    let len = rng.below(max + 1) as usize;
    let mut s: Vec<u8> = (0..len).map(|_| *rng.pick(alphabet)).collect();
    s.push(0);
    s
}

fn offset<T>(base: *const T, found: *const T) -> Option<isize> {
    // SAFETY: both point into the same allocation when not NULL (the functions' contract).
    (!found.is_null()).then(|| unsafe { found.cast::<u8>().offset_from(base.cast::<u8>()) })
}

#[test]
fn searches_and_comparisons_match_glibc() {
    let mut rng = Rng::new(10);
    for _ in 0..100_000 {
        let a = random_string(&mut rng, 20);
        let b = random_string(&mut rng, 4);
        let c = c_int::from(*rng.pick(b"abcABC \0\x80\xff")) - if rng.one_in(4) { 256 } else { 0 };
        let n = rng.below(24) as usize;
        let (pa, pb) = (a.as_ptr().cast::<c_char>(), b.as_ptr().cast::<c_char>());
        let len = a.len() - 1;
        let vn = n.min(len);
        // SAFETY: NUL-terminated strings; lengths bounded by the strings.
        unsafe {
            assert_eq!(
                offset(pa, string::memchr(pa.cast(), c, vn).cast()),
                offset(pa, host::memchr(pa.cast(), c, vn).cast())
            );
            assert_eq!(
                offset(pa, string::memrchr(pa.cast(), c, vn).cast()),
                offset(pa, host::memrchr(pa.cast(), c, vn).cast())
            );
            let bl = b.len() - 1;
            assert_eq!(
                offset(pa, string::memmem(pa.cast(), len, pb.cast(), bl).cast()),
                offset(pa, host::memmem(pa.cast(), len, pb.cast(), bl).cast())
            );
            assert_eq!(string::strnlen(pa, n), host::strnlen(pa, n));
            assert_eq!(string::strcmp(pa, pb).signum(), host::strcmp(pa, pb).signum());
            assert_eq!(string::strncmp(pa, pb, n).signum(), host::strncmp(pa, pb, n).signum());
            assert_eq!(string::strcasecmp(pa, pb).signum(), host::strcasecmp(pa, pb).signum());
            assert_eq!(
                string::strncasecmp(pa, pb, n).signum(),
                host::strncasecmp(pa, pb, n).signum()
            );
            assert_eq!(offset(pa, string::strchr(pa, c)), offset(pa, host::strchr(pa, c)));
            assert_eq!(offset(pa, string::strrchr(pa, c)), offset(pa, host::strrchr(pa, c)));
            assert_eq!(offset(pa, string::strchrnul(pa, c)), offset(pa, host::strchrnul(pa, c)));
            assert_eq!(
                offset(pa, string::strstr(pa, pb)),
                offset(pa, host::strstr(pa, pb)),
                "{a:?} {b:?}"
            );
            assert_eq!(
                offset(pa, string::strcasestr(pa, pb)),
                offset(pa, host::strcasestr(pa, pb)),
                "{a:?} {b:?}"
            );
            assert_eq!(string::strspn(pa, pb), host::strspn(pa, pb));
            assert_eq!(string::strcspn(pa, pb), host::strcspn(pa, pb));
            assert_eq!(offset(pa, string::strpbrk(pa, pb)), offset(pa, host::strpbrk(pa, pb)));
        }
    }
}

#[test]
fn copies_and_tokens_match_glibc() {
    let mut rng = Rng::new(11);
    for _ in 0..30_000 {
        let a = random_string(&mut rng, 20);
        let delim = random_string(&mut rng, 3);
        let n = rng.below(30) as usize;
        let c = c_int::from(*rng.pick(b"abc,"));
        // SAFETY: 64-byte destinations hold every result; sources are NUL-terminated.
        unsafe {
            let (mut x, mut y) = ([7u8; 64], [7u8; 64]);
            let rx = string::strncpy(x.as_mut_ptr().cast(), a.as_ptr().cast(), n);
            let ry = host::strncpy(y.as_mut_ptr().cast(), a.as_ptr().cast(), n);
            assert_eq!((x, offset(x.as_ptr().cast(), rx)), (y, offset(y.as_ptr().cast(), ry)));
            let (mut x, mut y) = ([7u8; 64], [7u8; 64]);
            let rx = string::stpncpy(x.as_mut_ptr().cast(), a.as_ptr().cast(), n);
            let ry = host::stpncpy(y.as_mut_ptr().cast(), a.as_ptr().cast(), n);
            assert_eq!((x, offset(x.as_ptr().cast(), rx)), (y, offset(y.as_ptr().cast(), ry)));
            let (mut x, mut y) = ([0u8; 64], [0u8; 64]);
            x[..3].copy_from_slice(b"ab\0");
            y[..3].copy_from_slice(b"ab\0");
            string::strncat(x.as_mut_ptr().cast(), a.as_ptr().cast(), n);
            host::strncat(y.as_mut_ptr().cast(), a.as_ptr().cast(), n);
            assert_eq!(x, y);
            let (mut x, mut y) = ([7u8; 64], [7u8; 64]);
            let m = n.min(a.len());
            let rx = string::memccpy(x.as_mut_ptr().cast(), a.as_ptr().cast(), c, m);
            let ry = host::memccpy(y.as_mut_ptr().cast(), a.as_ptr().cast(), c, m);
            assert_eq!(
                (x, offset(x.as_ptr().cast::<c_void>(), rx)),
                (y, offset(y.as_ptr().cast::<c_void>(), ry))
            );

            // Tokenise the same string with both; compare token offsets.
            let (mut x, mut y) = (a.clone(), a.clone());
            let (mut sx, mut sy): (*mut c_char, *mut c_char) =
                (core::ptr::null_mut(), core::ptr::null_mut());
            let mut tx = string::strtok_r(x.as_mut_ptr().cast(), delim.as_ptr().cast(), &mut sx);
            let mut ty = host::strtok_r(y.as_mut_ptr().cast(), delim.as_ptr().cast(), &mut sy);
            loop {
                assert_eq!(
                    offset(x.as_ptr().cast(), tx),
                    offset(y.as_ptr().cast(), ty),
                    "{a:?} {delim:?}"
                );
                if tx.is_null() {
                    break;
                }
                tx = string::strtok_r(core::ptr::null_mut(), delim.as_ptr().cast(), &mut sx);
                ty = host::strtok_r(core::ptr::null_mut(), delim.as_ptr().cast(), &mut sy);
            }
            assert_eq!(x, y);
            let (mut x, mut y) = (a.clone(), a.clone());
            let (mut px, mut py): (*mut c_char, *mut c_char) =
                (x.as_mut_ptr().cast(), y.as_mut_ptr().cast());
            loop {
                let tx = string::strsep(&mut px, delim.as_ptr().cast());
                let ty = host::strsep(&mut py, delim.as_ptr().cast());
                assert_eq!(offset(x.as_ptr().cast(), tx), offset(y.as_ptr().cast(), ty));
                if tx.is_null() {
                    break;
                }
            }
            assert_eq!(x, y);
        }
    }
}

#[test]
fn duplicates_copy() {
    // SAFETY: NUL-terminated literals; the copies come from glibc's malloc and are freed there.
    unsafe {
        let copy = string::strdup(c"hello".as_ptr());
        assert_eq!(CStr::from_ptr(copy), c"hello");
        libc_free(copy.cast());
        let copy = string::strndup(c"hello".as_ptr(), 3);
        assert_eq!(CStr::from_ptr(copy), c"hel");
        libc_free(copy.cast());
    }
}

extern "C" {
    #[link_name = "free"]
    fn libc_free(p: *mut c_void);
}

#[test]
fn ctype_tables_and_functions_match_glibc() {
    // SAFETY: glibc's and the shim's tables both cover -128..=255.
    unsafe {
        let (ours, theirs) = (*ctype::__ctype_b_loc(), *host::__ctype_b_loc());
        let (lower, host_lower) = (*ctype::__ctype_tolower_loc(), *host::__ctype_tolower_loc());
        let (upper, host_upper) = (*ctype::__ctype_toupper_loc(), *host::__ctype_toupper_loc());
        for c in -128isize..256 {
            assert_eq!(*ours.offset(c), *theirs.offset(c), "class of {c}");
            assert_eq!(*lower.offset(c), *host_lower.offset(c), "tolower of {c}");
            assert_eq!(*upper.offset(c), *host_upper.offset(c), "toupper of {c}");
        }
        for c in -128..256 {
            let pairs: [(extern "C" fn(c_int) -> c_int, unsafe extern "C" fn(c_int) -> c_int); 14] = [
                (ctype::isalnum, host::isalnum),
                (ctype::isalpha, host::isalpha),
                (ctype::isblank, host::isblank),
                (ctype::iscntrl, host::iscntrl),
                (ctype::isdigit, host::isdigit),
                (ctype::isgraph, host::isgraph),
                (ctype::islower, host::islower),
                (ctype::isprint, host::isprint),
                (ctype::ispunct, host::ispunct),
                (ctype::isspace, host::isspace),
                (ctype::isupper, host::isupper),
                (ctype::isxdigit, host::isxdigit),
                (ctype::tolower, host::tolower),
                (ctype::toupper, host::toupper),
            ];
            for (index, (ours, theirs)) in pairs.iter().enumerate() {
                let (a, b) = (ours(c), theirs(c));
                if index < 12 {
                    assert_eq!(a != 0, b != 0, "function {index} of {c}");
                } else {
                    assert_eq!(a, b, "function {index} of {c}");
                }
            }
        }
    }
}

#[test]
fn messages_match_glibc() {
    // SAFETY: both return NUL-terminated strings; the buffers are 64 bytes.
    unsafe {
        for n in -3..140 {
            assert_eq!(
                CStr::from_ptr(strerror::strerror(n)),
                CStr::from_ptr(host::strerror(n)),
                "strerror {n}"
            );
            for len in [0usize, 5, 64] {
                let (mut x, mut y) = ([1u8; 64], [1u8; 64]);
                let a = strerror::__xpg_strerror_r(n, x.as_mut_ptr().cast(), len);
                let b = host::__xpg_strerror_r(n, y.as_mut_ptr().cast(), len);
                assert_eq!((a, x), (b, y), "strerror_r {n} {len}");
            }
        }
        for n in -1..70 {
            assert_eq!(
                CStr::from_ptr(strerror::strsignal(n)),
                CStr::from_ptr(host::strsignal(n)),
                "strsignal {n}"
            );
        }
    }
}
