//! getopt/getopt_long/getopt_long_only (csrc/getopt.c) against glibc's on random command lines.

use super::prng::Rng;
use core::ffi::{c_char, c_int, CStr};
use std::ffi::CString;

/// glibc's struct option.
#[repr(C)]
struct LongOption {
    name: *const c_char,
    has_arg: c_int,
    flag: *mut c_int,
    val: c_int,
}

extern "C" {
    static mut optind: c_int;
    static mut opterr: c_int;
    static mut optopt: c_int;
    static mut optarg: *mut c_char;
    fn getopt_long(
        argc: c_int,
        argv: *const *mut c_char,
        s: *const c_char,
        o: *const LongOption,
        i: *mut c_int,
    ) -> c_int;
    fn getopt_long_only(
        argc: c_int,
        argv: *const *mut c_char,
        s: *const c_char,
        o: *const LongOption,
        i: *mut c_int,
    ) -> c_int;
    static mut __rivet_optind: c_int;
    static mut __rivet_opterr: c_int;
    static mut __rivet_optopt: c_int;
    static mut __rivet_optarg: *mut c_char;
    fn __rivet_getopt_long(
        argc: c_int,
        argv: *const *mut c_char,
        s: *const c_char,
        o: *const LongOption,
        i: *mut c_int,
    ) -> c_int;
    fn __rivet_getopt_long_only(
        argc: c_int,
        argv: *const *mut c_char,
        s: *const c_char,
        o: *const LongOption,
        i: *mut c_int,
    ) -> c_int;
}

type GetoptLong = unsafe extern "C" fn(
    c_int,
    *const *mut c_char,
    *const c_char,
    *const LongOption,
    *mut c_int,
) -> c_int;

/// One call's observable result: return value, optarg text, optind, optopt, longindex.
type Step = (c_int, Option<Vec<u8>>, c_int, c_int, c_int);

/// Runs a whole parse; returns the steps and the final argv order (as indexes of `args`).
fn run(
    ours: bool,
    long_only: bool,
    args: &[CString],
    optstring: &CStr,
    options: &[LongOption],
) -> (Vec<Step>, Vec<usize>) {
    let mut argv: Vec<*mut c_char> = args.iter().map(|a| a.as_ptr().cast_mut()).collect();
    let original = argv.clone();
    argv.push(core::ptr::null_mut());
    let f: GetoptLong = match (ours, long_only) {
        (true, false) => __rivet_getopt_long,
        (true, true) => __rivet_getopt_long_only,
        (false, false) => getopt_long,
        (false, true) => getopt_long_only,
    };
    let mut steps = Vec::new();
    // SAFETY: the globals are only touched by this test thread's sequential calls (the test
    // holds a lock, see `LOCK`), argv is NULL-terminated, options end with a zero entry.
    unsafe {
        if ours {
            __rivet_optind = 0;
            __rivet_opterr = 0;
        } else {
            optind = 0;
            opterr = 0;
        }
        for _ in 0..64 {
            let mut index: c_int = -1;
            let c = f(
                args.len() as c_int,
                argv.as_ptr(),
                optstring.as_ptr(),
                options.as_ptr(),
                &mut index,
            );
            let (arg, ind, opt) = if ours {
                (__rivet_optarg, __rivet_optind, __rivet_optopt)
            } else {
                (optarg, optind, optopt)
            };
            let arg = (!arg.is_null()).then(|| CStr::from_ptr(arg).to_bytes().to_vec());
            steps.push((c, arg, ind, opt, index));
            if c == -1 {
                break;
            }
        }
    }
    let order =
        argv[..args.len()].iter().map(|p| original.iter().position(|q| q == p).unwrap()).collect();
    (steps, order)
}

/// glibc's getopt state is global: the two tests must not interleave.
static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());

#[test]
fn getopt_long_matches_glibc() {
    let _guard = LOCK.lock().unwrap();
    let mut rng = Rng::new(70);
    let mut flag: c_int = 0;
    let names = [c"verbose", c"verify", c"output", c"level", c"x", c"help"];
    let options = [
        LongOption {
            name: names[0].as_ptr(),
            has_arg: 0,
            flag: core::ptr::null_mut(),
            val: 'v' as c_int,
        },
        LongOption { name: names[1].as_ptr(), has_arg: 2, flag: core::ptr::null_mut(), val: 300 },
        LongOption {
            name: names[2].as_ptr(),
            has_arg: 1,
            flag: core::ptr::null_mut(),
            val: 'o' as c_int,
        },
        LongOption { name: names[3].as_ptr(), has_arg: 2, flag: &mut flag, val: 7 },
        LongOption { name: names[4].as_ptr(), has_arg: 1, flag: core::ptr::null_mut(), val: 301 },
        LongOption {
            name: names[5].as_ptr(),
            has_arg: 0,
            flag: core::ptr::null_mut(),
            val: 'h' as c_int,
        },
        LongOption { name: core::ptr::null(), has_arg: 0, flag: core::ptr::null_mut(), val: 0 },
    ];
    let words = [
        "-a",
        "-b",
        "-bvalue",
        "-c",
        "-cx",
        "-ab",
        "-abc",
        "-z",
        "-",
        "--",
        "file",
        "other",
        "--verbose",
        "--ver",
        "--verify",
        "--verify=1",
        "--output",
        "--output=f",
        "--out",
        "--level",
        "--level=3",
        "--x",
        "--x=2",
        "--help=no",
        "--nope",
        "-verbose",
        "-output",
        "-x",
        "-o",
        "-h",
        "-:",
        "-W",
    ];
    let optstrings = [c"ab:c::vho:", c"+ab:c::", c"-ab:c::", c":ab:c::", c"abc", c"+:ab:"];
    for _ in 0..20_000 {
        let mut args = vec![CString::new("prog").unwrap()];
        for _ in 0..rng.below(7) {
            args.push(CString::new(*rng.pick(&words)).unwrap());
        }
        let optstring = *rng.pick(&optstrings);
        let long_only = rng.one_in(3);
        let theirs = run(false, long_only, &args, optstring, &options);
        let ours = run(true, long_only, &args, optstring, &options);
        assert_eq!(ours, theirs, "{args:?} {optstring:?} long_only {long_only}");
    }
}

#[test]
fn getopt_sample_is_not_trivial() {
    let _guard = LOCK.lock().unwrap();
    let options =
        [LongOption { name: core::ptr::null(), has_arg: 0, flag: core::ptr::null_mut(), val: 0 }];
    let args: Vec<CString> = ["prog", "file", "-ab", "x", "-c3", "--", "-a"]
        .iter()
        .map(|s| CString::new(*s).unwrap())
        .collect();
    let ours = run(true, false, &args, c"ab:c::", &options);
    let theirs = run(false, false, &args, c"ab:c::", &options);
    assert_eq!(ours, theirs);
    // -a, -b x, -c 3, then -1 at the permuted operands: "file" and "-a" after "--".
    assert_eq!(
        ours.0.iter().map(|s| s.0).collect::<Vec<_>>(),
        vec!['a' as c_int, 'b' as c_int, 'c' as c_int, -1]
    );
    assert_eq!(ours.1, vec![0, 2, 3, 4, 5, 1, 6]);
}
