//! The "C" locale and wide characters against glibc.

use super::prng::Rng;
use crate::{locale, wchar};
use core::ffi::{c_char, c_int, c_void, CStr};

mod host {
    use core::ffi::{c_char, c_int, c_void};
    extern "C" {
        pub fn nl_langinfo(item: c_int) -> *const c_char;
        pub fn newlocale(mask: c_int, name: *const c_char, base: *mut c_void) -> *mut c_void;
        pub fn localeconv() -> *const c_void;
        pub fn btowc(c: c_int) -> u32;
        pub fn wctob(c: u32) -> c_int;
        pub fn mbrtowc(pwc: *mut u32, s: *const c_char, n: usize, st: *mut c_void) -> usize;
        pub fn wcrtomb(s: *mut c_char, c: u32, st: *mut c_void) -> usize;
        pub fn mbsnrtowcs(
            d: *mut u32,
            s: *mut *const c_char,
            nms: usize,
            len: usize,
            st: *mut c_void,
        ) -> usize;
        pub fn wcsnrtombs(
            d: *mut c_char,
            s: *mut *const u32,
            nwc: usize,
            len: usize,
            st: *mut c_void,
        ) -> usize;
        pub fn wctype(name: *const c_char) -> usize;
        pub fn iswctype(c: u32, t: usize) -> c_int;
        pub fn towupper(c: u32) -> u32;
        pub fn towlower(c: u32) -> u32;
        pub fn wcscmp(a: *const u32, b: *const u32) -> c_int;
        pub fn wmemcmp(a: *const u32, b: *const u32, n: usize) -> c_int;
        pub fn __errno_location() -> *mut c_int;
    }
}

/// The item kinds of glibc's "C" locale, from `answer`'s table: (category, first, last, kind).
/// Kinds: 0 narrow string, 1 wide string, 2 word.
const ITEMS: &[(c_int, c_int, c_int, u8)] = &[
    (0, 13, 13, 2),
    (0, 14, 14, 0),
    (1, 0, 2, 0),
    (1, 3, 4, 2),
    (1, 5, 5, 0),
    (2, 0, 49, 0),
    (2, 50, 50, 2),
    (2, 51, 51, 0),
    (2, 52, 100, 1),
    (2, 101, 101, 0),
    (2, 102, 102, 2),
    (2, 103, 108, 0),
    (2, 109, 109, 1),
    (2, 110, 122, 0),
    (2, 123, 134, 1),
    (2, 135, 146, 0),
    (2, 147, 158, 1),
    (4, 0, 37, 0),
    (4, 38, 41, 2),
    (4, 43, 44, 2),
    (4, 45, 45, 0),
    (5, 0, 4, 0),
];

#[test]
fn langinfo_matches_glibc() {
    for &(category, first, last, kind) in ITEMS {
        for index in first..=last {
            let item = category << 16 | index;
            // SAFETY: glibc's answers are strings, wide strings or words per the table above.
            unsafe {
                let (ours, theirs) = (locale::nl_langinfo(item), host::nl_langinfo(item));
                match kind {
                    0 => assert_eq!(
                        CStr::from_ptr(ours),
                        CStr::from_ptr(theirs),
                        "item {category}/{index}"
                    ),
                    1 => assert_eq!(
                        host::wcscmp(ours.cast(), theirs.cast()),
                        0,
                        "item {category}/{index}"
                    ),
                    _ => assert_eq!(ours as usize, theirs as usize, "item {category}/{index}"),
                }
            }
        }
    }
}

#[test]
fn locale_objects_have_glibcs_tables() {
    // SAFETY: both return locale objects with glibc's layout; the fields compared are pointers
    // to tables of 384 entries from index -128.
    unsafe {
        let ours = locale::__newlocale(1 << 6 | 0x1fbf, c"C".as_ptr(), core::ptr::null_mut())
            .cast::<*const c_void>();
        let theirs =
            host::newlocale(0x1fbf, c"C".as_ptr(), core::ptr::null_mut()).cast::<*const c_void>();
        for field in 13..16 {
            let (a, b) = (*ours.add(field), *theirs.add(field));
            if field == 13 {
                for c in -128..256 {
                    assert_eq!(*a.cast::<u16>().offset(c), *b.cast::<u16>().offset(c));
                }
            } else {
                for c in -128..256 {
                    assert_eq!(*a.cast::<i32>().offset(c), *b.cast::<i32>().offset(c));
                }
            }
        }
        for name in 16..29 {
            assert_eq!(CStr::from_ptr(*ours.add(name) as *const c_char), c"C");
        }
        assert!(locale::__newlocale(0x1fbf, c"de_DE".as_ptr(), core::ptr::null_mut()).is_null());
        // localeconv: the ten strings then the fourteen chars.
        let (ours, theirs) = (
            locale::localeconv().cast::<*const c_char>(),
            host::localeconv().cast::<*const c_char>(),
        );
        for field in 0..10 {
            assert_eq!(CStr::from_ptr(*ours.add(field)), CStr::from_ptr(*theirs.add(field)));
        }
        let (ours, theirs) = (ours.add(10).cast::<[u8; 14]>(), theirs.add(10).cast::<[u8; 14]>());
        assert_eq!(*ours, *theirs);
    }
}

#[test]
fn wide_characters_match_glibc() {
    // SAFETY: glibc's functions over valid buffers.
    unsafe {
        for c in -2..300 {
            assert_eq!(wchar::btowc(c), host::btowc(c), "btowc {c}");
        }
        for c in (0u32..300).chain([0xffff_ffff, 0x10ffff, 0x8000_0000]) {
            assert_eq!(wchar::wctob(c), host::wctob(c), "wctob {c}");
            assert_eq!(wchar::towupper(c), host::towupper(c), "towupper {c}");
            assert_eq!(wchar::towlower(c), host::towlower(c), "towlower {c}");
            for name in [
                c"alnum", c"alpha", c"blank", c"cntrl", c"digit", c"graph", c"lower", c"print",
                c"punct", c"space", c"upper", c"xdigit",
            ] {
                let (a, b) = (
                    wchar::iswctype(c, wchar::wctype(name.as_ptr())),
                    host::iswctype(c, host::wctype(name.as_ptr())),
                );
                assert_eq!(a != 0, b != 0, "{name:?} {c}");
            }
            let (mut x, mut y) = ([0 as c_char; 4], [0 as c_char; 4]);
            *host::__errno_location() = 0;
            let a = wchar::wcrtomb(x.as_mut_ptr(), c, core::ptr::null_mut());
            let ea = *host::__errno_location();
            *host::__errno_location() = 0;
            let b = host::wcrtomb(y.as_mut_ptr(), c, core::ptr::null_mut());
            assert_eq!((a, x, ea), (b, y, *host::__errno_location()), "wcrtomb {c}");
        }
        assert_eq!(wchar::wctype(c"bogus".as_ptr()), 0);
        for byte in 0u8..=255 {
            for n in [0usize, 1, 4] {
                let s = [byte as c_char, 0];
                let (mut x, mut y) = (7u32, 7u32);
                let a = wchar::mbrtowc(&mut x, s.as_ptr(), n, core::ptr::null_mut());
                let b = host::mbrtowc(&mut y, s.as_ptr(), n, core::ptr::null_mut());
                assert_eq!((a, x), (b, y), "mbrtowc {byte} {n}");
            }
        }
    }
}

#[test]
fn string_conversions_match_glibc() {
    let mut rng = Rng::new(30);
    for _ in 0..20_000 {
        let len = rng.below(10) as usize;
        let mut bytes: Vec<u8> = (0..len)
            .map(|_| if rng.one_in(15) { 0xc3 } else { b'a' + rng.below(26) as u8 })
            .collect();
        bytes.extend([0]);
        let nms = rng.below(14) as usize;
        let cap = rng.below(14) as usize;
        let null_dst = rng.one_in(4);
        // SAFETY: buffers of 16 units/bytes hold `cap` <= 13 results; sources are terminated.
        unsafe {
            let (mut x, mut y) = ([9u32; 16], [9u32; 16]);
            let (mut sx, mut sy) =
                (bytes.as_ptr().cast::<c_char>(), bytes.as_ptr().cast::<c_char>());
            let (dx, dy) = if null_dst {
                (core::ptr::null_mut(), core::ptr::null_mut())
            } else {
                (x.as_mut_ptr(), y.as_mut_ptr())
            };
            let a = wchar::mbsnrtowcs(dx, &mut sx, nms, cap, core::ptr::null_mut());
            let b = host::mbsnrtowcs(dy, &mut sy, nms, cap, core::ptr::null_mut());
            let base = bytes.as_ptr() as usize;
            let rel = |p: *const c_char| if p.is_null() { None } else { Some(p as usize - base) };
            assert_eq!(
                (a, x, rel(sx)),
                (b, y, rel(sy)),
                "mbsnrtowcs {bytes:?} {nms} {cap} {null_dst}"
            );

            let wide: Vec<u32> =
                bytes.iter().map(|&b| if b == 0xc3 { 0xe9 } else { u32::from(b) }).collect();
            let (mut x, mut y) = ([9 as c_char; 16], [9 as c_char; 16]);
            let (mut sx, mut sy) = (wide.as_ptr(), wide.as_ptr());
            let (dx, dy) = if null_dst {
                (core::ptr::null_mut(), core::ptr::null_mut())
            } else {
                (x.as_mut_ptr(), y.as_mut_ptr())
            };
            let a = wchar::wcsnrtombs(dx, &mut sx, nms, cap, core::ptr::null_mut());
            let b = host::wcsnrtombs(dy, &mut sy, nms, cap, core::ptr::null_mut());
            let base = wide.as_ptr() as usize;
            let rel =
                |p: *const u32| if p.is_null() { None } else { Some((p as usize - base) / 4) };
            assert_eq!(
                (a, x, rel(sx)),
                (b, y, rel(sy)),
                "wcsnrtombs {wide:?} {nms} {cap} {null_dst}"
            );

            let other: Vec<u32> =
                wide.iter().map(|&u| if rng.one_in(8) { u ^ 0x8000_0001 } else { u }).collect();
            let n = rng.below(wide.len() as u64 + 1) as usize;
            assert_eq!(
                wchar::wcscmp(wide.as_ptr(), other.as_ptr()).signum(),
                host::wcscmp(wide.as_ptr(), other.as_ptr()).signum()
            );
            assert_eq!(
                wchar::wmemcmp(wide.as_ptr(), other.as_ptr(), n).signum(),
                host::wmemcmp(wide.as_ptr(), other.as_ptr(), n).signum()
            );
        }
    }
}

mod host_wide {
    extern "C" {
        pub fn wcsspn(s: *const u32, a: *const u32) -> usize;
        pub fn wcscspn(s: *const u32, a: *const u32) -> usize;
        pub fn wcspbrk(s: *const u32, a: *const u32) -> *mut u32;
        pub fn wcsstr(h: *const u32, n: *const u32) -> *mut u32;
        pub fn wcstok(s: *mut u32, d: *const u32, save: *mut *mut u32) -> *mut u32;
        pub fn wcscasecmp(a: *const u32, b: *const u32) -> core::ffi::c_int;
    }
}

#[test]
fn wide_searches_match_glibc() {
    let mut rng = Rng::new(31);
    let alphabet = [b'a' as u32, b'b' as u32, b'A' as u32, b',' as u32, b' ' as u32, 0xe9];
    let make = |rng: &mut Rng, max: u64| -> Vec<u32> {
        (0..rng.below(max + 1)).map(|_| *rng.pick(&alphabet)).chain([0]).collect()
    };
    let offset =
        |base: *const u32, p: *mut u32| (!p.is_null()).then(|| (p as usize - base as usize) / 4);
    for _ in 0..30_000 {
        let (a, b) = (make(&mut rng, 12), make(&mut rng, 3));
        // SAFETY: terminated wide strings.
        unsafe {
            assert_eq!(
                wchar::wcsspn(a.as_ptr(), b.as_ptr()),
                host_wide::wcsspn(a.as_ptr(), b.as_ptr())
            );
            assert_eq!(
                wchar::wcscspn(a.as_ptr(), b.as_ptr()),
                host_wide::wcscspn(a.as_ptr(), b.as_ptr())
            );
            assert_eq!(
                offset(a.as_ptr(), wchar::wcspbrk(a.as_ptr(), b.as_ptr())),
                offset(a.as_ptr(), host_wide::wcspbrk(a.as_ptr(), b.as_ptr()))
            );
            assert_eq!(
                offset(a.as_ptr(), wchar::wcsstr(a.as_ptr(), b.as_ptr())),
                offset(a.as_ptr(), host_wide::wcsstr(a.as_ptr(), b.as_ptr()))
            );
            assert_eq!(
                wchar::wcscasecmp(a.as_ptr(), b.as_ptr()).signum(),
                host_wide::wcscasecmp(a.as_ptr(), b.as_ptr()).signum()
            );
            let (mut x, mut y) = (a.clone(), a.clone());
            let (mut sx, mut sy): (*mut u32, *mut u32) =
                (core::ptr::null_mut(), core::ptr::null_mut());
            let mut tx = wchar::wcstok(x.as_mut_ptr(), b.as_ptr(), &mut sx);
            let mut ty = host_wide::wcstok(y.as_mut_ptr(), b.as_ptr(), &mut sy);
            loop {
                assert_eq!(offset(x.as_ptr(), tx), offset(y.as_ptr(), ty));
                if tx.is_null() {
                    break;
                }
                tx = wchar::wcstok(core::ptr::null_mut(), b.as_ptr(), &mut sx);
                ty = host_wide::wcstok(core::ptr::null_mut(), b.as_ptr(), &mut sy);
            }
            assert_eq!(x, y);
        }
    }
}
