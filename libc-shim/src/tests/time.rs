//! time.h's calendar functions and strftime against glibc (the test process runs in UTC/"C").

use super::prng::Rng;
use crate::time::{self, Tm};
use core::ffi::{c_char, CStr};
use std::ffi::CString;

mod host {
    use crate::time::Tm;
    use core::ffi::c_char;
    extern "C" {
        pub fn gmtime_r(t: *const i64, tm: *mut Tm) -> *mut Tm;
        pub fn timegm(tm: *mut Tm) -> i64;
        pub fn strftime(b: *mut c_char, n: usize, f: *const c_char, tm: *const Tm) -> usize;
        pub fn asctime_r(tm: *const Tm, b: *mut c_char) -> *mut c_char;
    }
}

fn empty_tm() -> Tm {
    Tm {
        tm_sec: 0,
        tm_min: 0,
        tm_hour: 0,
        tm_mday: 0,
        tm_mon: 0,
        tm_year: 0,
        tm_wday: 0,
        tm_yday: 0,
        tm_isdst: 0,
        tm_gmtoff: 0,
        tm_zone: core::ptr::null(),
    }
}

/// Compares the fields both fill (tm_zone pointers differ; compare the text).
fn same(a: &Tm, b: &Tm) -> bool {
    // SAFETY: both zones are glibc's or ours, NUL-terminated strings.
    let zones = unsafe { CStr::from_ptr(a.tm_zone) == CStr::from_ptr(b.tm_zone) };
    Tm { tm_zone: core::ptr::null(), ..*a } == Tm { tm_zone: core::ptr::null(), ..*b } && zones
}

fn random_time(rng: &mut Rng) -> i64 {
    match rng.below(4) {
        0 => rng.below(4_000_000_000) as i64 - 1_000_000_000,
        1 => (rng.next_u64() as i64) >> (rng.below(30) + 20),
        2 => rng.below(200_000) as i64 * 86_400 - 5_000_000_000,
        _ => rng.below(100) as i64 * 31_556_952 + 946_684_800 + rng.below(10) as i64 - 5,
    }
}

#[test]
fn gmtime_and_timegm_match_glibc() {
    let mut rng = Rng::new(40);
    for _ in 0..200_000 {
        let t = random_time(&mut rng);
        let (mut ours, mut theirs) = (empty_tm(), empty_tm());
        // SAFETY: valid pointers.
        unsafe {
            let a = time::gmtime_r(&t, &mut ours);
            let b = host::gmtime_r(&t, &mut theirs);
            assert_eq!(a.is_null(), b.is_null(), "{t}");
            if !a.is_null() {
                assert!(same(&ours, &theirs), "{t}: {ours:?} {theirs:?}");
            }
        }
        // Denormalised fields.
        let mut tm = empty_tm();
        tm.tm_year = rng.below(400) as i32 - 100;
        tm.tm_mon = rng.below(40) as i32 - 14;
        tm.tm_mday = rng.below(100) as i32 - 30;
        tm.tm_hour = rng.below(60) as i32 - 10;
        tm.tm_min = rng.below(200) as i32 - 50;
        tm.tm_sec = rng.below(200) as i32 - 50;
        let (mut ours, mut theirs) = (tm, tm);
        // SAFETY: valid pointers.
        unsafe {
            assert_eq!(time::timegm(&mut ours), host::timegm(&mut theirs), "{tm:?}");
        }
        assert!(same(&ours, &theirs), "{tm:?}");
    }
}

#[test]
fn strftime_matches_glibc() {
    let mut rng = Rng::new(41);
    let conversions = b"aAbBcCdDeFgGhHIjklmMnpPrRsStTuUVwWxXyYzZ%";
    for _ in 0..100_000 {
        let t = random_time(&mut rng) % 400_000_000_000;
        let mut tm = empty_tm();
        // SAFETY: valid pointers.
        unsafe { host::gmtime_r(&t, &mut tm) };
        let mut format = String::new();
        for _ in 0..rng.below(4) + 1 {
            if rng.one_in(3) {
                format.push_str("x ");
            }
            format.push('%');
            if rng.one_in(4) {
                format.push(*rng.pick(&['_', '-', '0', '^', '#']));
            }
            if rng.one_in(5) {
                format.push_str(&rng.below(12).to_string());
            }
            format.push(char::from(*rng.pick(conversions)));
        }
        let cformat = CString::new(format.clone()).unwrap();
        let size = if rng.one_in(10) { rng.below(20) as usize } else { 200 };
        let (mut a, mut b) = ([1u8; 256], [1u8; 256]);
        // SAFETY: 256-byte buffers, `size` <= 200.
        let (ra, rb) = unsafe {
            (
                time::strftime(a.as_mut_ptr().cast(), size, cformat.as_ptr(), &tm),
                host::strftime(b.as_mut_ptr().cast(), size, cformat.as_ptr(), &tm),
            )
        };
        assert_eq!(ra, rb, "{format:?} {tm:?}");
        if ra > 0 {
            assert_eq!(
                a[..=ra],
                b[..=rb],
                "{format:?} {tm:?}: {:?} vs {:?}",
                String::from_utf8_lossy(&a[..ra]),
                String::from_utf8_lossy(&b[..rb])
            );
        }
        let (mut a, mut b) = ([0 as c_char; 64], [0 as c_char; 64]);
        // SAFETY: 64-byte buffers.
        unsafe {
            let (x, y) =
                (time::asctime_r(&tm, a.as_mut_ptr()), host::asctime_r(&tm, b.as_mut_ptr()));
            if !x.is_null() && !y.is_null() {
                assert_eq!(CStr::from_ptr(x), CStr::from_ptr(y));
            }
        }
    }
}

extern "C" {
    #[link_name = "wcsftime"]
    fn host_wcsftime(b: *mut u32, n: usize, f: *const u32, tm: *const Tm) -> usize;
}

#[test]
fn wcsftime_matches_glibc() {
    let mut rng = Rng::new(42);
    for _ in 0..5_000 {
        let t = random_time(&mut rng) % 400_000_000_000;
        let mut tm = empty_tm();
        // SAFETY: valid pointers.
        unsafe { host::gmtime_r(&t, &mut tm) };
        let format = *rng.pick(&["%c", "%A %d %B %Y", "%H:%M:%S %p", "", "%x|%X|%Z", "%j%U%W%V"]);
        let wide: Vec<u32> = format.chars().map(|c| c as u32).chain([0]).collect();
        let size = rng.below(40) as usize;
        let (mut a, mut b) = ([7u32; 48], [7u32; 48]);
        // SAFETY: 48-unit buffers, `size` < 40.
        let (ra, rb) = unsafe {
            (
                time::wcsftime(a.as_mut_ptr(), size, wide.as_ptr(), &tm),
                host_wcsftime(b.as_mut_ptr(), size, wide.as_ptr(), &tm),
            )
        };
        assert_eq!(ra, rb, "{format:?} size {size}");
        if ra > 0 {
            assert_eq!(a[..=ra], b[..=rb], "{format:?}");
        }
    }
}

extern "C" {
    #[link_name = "strptime"]
    fn host_strptime(s: *const c_char, f: *const c_char, tm: *mut Tm) -> *mut c_char;
}

#[test]
fn strptime_matches_glibc() {
    let mut rng = Rng::new(43);
    let formats = [
        "%Y-%m-%d %H:%M:%S",
        "%d/%b/%Y:%T %z",
        "%a, %d %b %Y %T",
        "%c",
        "%D %r",
        "%F",
        "%j %Y",
        "%B %e, %Y %I:%M %p",
        "%y%m%d",
        "%C%y-%m",
        "%s",
        "%A %H",
        "%u %w",
        "%Y %j",
        "%H:%M %Z",
        "%%%Y",
    ];
    for _ in 0..30_000 {
        let t = random_time(&mut rng) % 100_000_000_000;
        let mut tm = empty_tm();
        // SAFETY: valid pointers.
        unsafe { host::gmtime_r(&t, &mut tm) };
        let format = *rng.pick(&formats);
        let cformat = CString::new(format).unwrap();
        let mut text = [0u8; 128];
        // SAFETY: 128-byte buffer.
        let len = unsafe { host::strftime(text.as_mut_ptr().cast(), 128, cformat.as_ptr(), &tm) };
        let mut input = text[..len].to_vec();
        // Sometimes damage it: drop, change or add a byte, or change case.
        match rng.below(6) {
            0 if !input.is_empty() => {
                let at = rng.below(input.len() as u64) as usize;
                input.remove(at);
            }
            1 if !input.is_empty() => {
                let at = rng.below(input.len() as u64) as usize;
                input[at] = *rng.pick(b"0 9x-:aA");
            }
            2 => input.extend_from_slice(b" tail"),
            3 => input.make_ascii_lowercase(),
            _ => {}
        }
        let input = CString::new(input).unwrap();
        let start = if rng.one_in(2) {
            empty_tm()
        } else {
            Tm { tm_mday: 5, tm_mon: 3, tm_year: 80, ..empty_tm() }
        };
        let (mut ours, mut theirs) = (start, start);
        // SAFETY: terminated strings, valid tm.
        let (a, b) = unsafe {
            (
                time::strptime(input.as_ptr(), cformat.as_ptr(), &mut ours),
                host_strptime(input.as_ptr(), cformat.as_ptr(), &mut theirs),
            )
        };
        let offset = |p: *mut c_char| (!p.is_null()).then(|| p as usize - input.as_ptr() as usize);
        assert_eq!(offset(a), offset(b), "{input:?} {format:?}");
        if !a.is_null() && theirs.tm_mon > 11 {
            continue; // day 366 of a common year: glibc reads past its month table
        }
        if !a.is_null() && theirs.tm_year < -1899 {
            continue; // years before 1 AD: glibc's weekday formula truncates negative years
        }
        if !a.is_null() {
            ours.tm_zone = core::ptr::null();
            theirs.tm_zone = core::ptr::null();
            assert_eq!(ours, theirs, "{input:?} {format:?}");
        }
    }
}
