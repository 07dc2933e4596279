//! fnmatch.h: shell wildcard matching (`*`, `?`, `[...]`, `\`) for the "C" locale.
//!
//! Written from POSIX (XCU 2.13) and glibc's manual: flags FNM_PATHNAME (`/` only matches `/`),
//! FNM_NOESCAPE, FNM_PERIOD (a leading `.` only matches `.`), FNM_LEADING_DIR (a match may stop
//! at a `/`) and FNM_CASEFOLD; bracket expressions with `!`/`^`, ranges and `[:class:]`. A `[`
//! without its `]` is an ordinary character. Not supported: FNM_EXTMATCH's `+(...)` patterns
//! (treated as ordinary characters).

use crate::cstr;
use core::ffi::{c_char, c_int};

/// `FNM_PATHNAME`.
pub const FNM_PATHNAME: c_int = 1;
/// `FNM_NOESCAPE`.
pub const FNM_NOESCAPE: c_int = 2;
/// `FNM_PERIOD`.
pub const FNM_PERIOD: c_int = 4;
/// `FNM_LEADING_DIR`.
pub const FNM_LEADING_DIR: c_int = 8;
/// `FNM_CASEFOLD`.
pub const FNM_CASEFOLD: c_int = 16;
/// `FNM_NOMATCH`: the return value for no match.
pub const FNM_NOMATCH: c_int = 1;

#[derive(Clone, Copy)]
struct Flags {
    pathname: bool,
    noescape: bool,
    period: bool,
    leading_dir: bool,
    casefold: bool,
}

fn fold(flags: Flags, b: u8) -> u8 {
    if flags.casefold {
        b.to_ascii_lowercase()
    } else {
        b
    }
}

/// Whether a `.` at `at` in `text` is "leading" (start, or after `/` with FNM_PATHNAME).
fn leading_period(text: &[u8], at: usize, flags: Flags) -> bool {
    flags.period
        && text.get(at) == Some(&b'.')
        && (at == 0 || (flags.pathname && text[at - 1] == b'/'))
}

fn in_class(name: &[u8], b: u8) -> Option<bool> {
    Some(match name {
        b"alnum" => b.is_ascii_alphanumeric(),
        b"alpha" => b.is_ascii_alphabetic(),
        b"blank" => b == b' ' || b == b'\t',
        b"cntrl" => b.is_ascii_control(),
        b"digit" => b.is_ascii_digit(),
        b"graph" => b.is_ascii_graphic(),
        b"lower" => b.is_ascii_lowercase(),
        b"print" => b.is_ascii_graphic() || b == b' ',
        b"punct" => b.is_ascii_punctuation(),
        b"space" => matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r'),
        b"upper" => b.is_ascii_uppercase(),
        b"xdigit" => b.is_ascii_hexdigit(),
        _ => return None,
    })
}

/// Matches the bracket expression starting after `[` at `pattern[start..]` against `b`.
/// Returns (matched, index after `]`), or None if the bracket is not closed (then `[` is
/// literal).
fn bracket(pattern: &[u8], start: usize, b: u8, flags: Flags) -> Option<(bool, usize)> {
    let mut at = start;
    let negate = matches!(pattern.get(at), Some(b'!') | Some(b'^'));
    if negate {
        at += 1;
    }
    let folded = fold(flags, b);
    let mut matched = false;
    let mut first = true;
    loop {
        let mut c = *pattern.get(at)?;
        if c == b']' && !first {
            at += 1;
            break;
        }
        first = false;
        if c == b'[' && pattern.get(at + 1) == Some(&b':') {
            // [:class:]
            let name_start = at + 2;
            let mut end = name_start;
            while end + 1 < pattern.len() && !(pattern[end] == b':' && pattern[end + 1] == b']') {
                end += 1;
            }
            if end + 1 >= pattern.len() {
                return None;
            }
            match in_class(&pattern[name_start..end], b) {
                Some(hit) => matched |= hit,
                None => return Some((false, pattern.len())), // unknown class: no match (glibc)
            }
            at = end + 2;
            continue;
        }
        if c == b'\\' && !flags.noescape {
            at += 1;
            c = *pattern.get(at)?;
        }
        at += 1;
        // A range "c-d" (not when '-' is last before ']').
        if pattern.get(at) == Some(&b'-') && pattern.get(at + 1).is_some_and(|&d| d != b']') {
            let mut high = pattern[at + 1];
            let mut next = at + 2;
            if high == b'\\' && !flags.noescape {
                high = *pattern.get(at + 2)?;
                next = at + 3;
            }
            if (c..=high).contains(&b)
                || (flags.casefold && (fold(flags, c)..=fold(flags, high)).contains(&folded))
            {
                matched = true;
            }
            at = next;
            continue;
        }
        if fold(flags, c) == folded {
            matched = true;
        }
    }
    Some((matched != negate, at))
}

/// Whether `pattern[p..]` matches `text[t..]`.
fn matches(pattern: &[u8], mut p: usize, text: &[u8], mut t: usize, flags: Flags) -> bool {
    while p < pattern.len() {
        let c = pattern[p];
        match c {
            b'?' => {
                let Some(&b) = text.get(t) else { return false };
                if (flags.pathname && b == b'/') || leading_period(text, t, flags) {
                    return false;
                }
                p += 1;
                t += 1;
            }
            b'*' => {
                if leading_period(text, t, flags) {
                    return false;
                }
                while pattern.get(p) == Some(&b'*') {
                    p += 1;
                }
                if p == pattern.len() {
                    // A trailing star: the rest, unless it crosses a '/' with FNM_PATHNAME.
                    return !flags.pathname || flags.leading_dir || !text[t..].contains(&b'/');
                }
                let mut end = t;
                loop {
                    if matches(pattern, p, text, end, flags) {
                        return true;
                    }
                    if end >= text.len() || (flags.pathname && text[end] == b'/') {
                        return false;
                    }
                    end += 1;
                }
            }
            b'[' => {
                let Some(&b) = text.get(t) else { return false };
                if (flags.pathname && b == b'/') || leading_period(text, t, flags) {
                    return false;
                }
                match bracket(pattern, p + 1, b, flags) {
                    Some((true, next)) => {
                        p = next;
                        t += 1;
                    }
                    Some((false, _)) => return false,
                    None => {
                        // No closing ']': an ordinary '['.
                        if b != b'[' {
                            return false;
                        }
                        p += 1;
                        t += 1;
                    }
                }
            }
            _ => {
                let literal = if c == b'\\' && !flags.noescape && p + 1 < pattern.len() {
                    p += 1;
                    pattern[p]
                } else {
                    c
                };
                let Some(&b) = text.get(t) else { return false };
                if fold(flags, literal) != fold(flags, b) {
                    return false;
                }
                p += 1;
                t += 1;
            }
        }
    }
    t == text.len() || (flags.leading_dir && text[t] == b'/')
}

/// Matches `text` against `pattern` under the C flags.
pub fn fnmatch_bytes(pattern: &[u8], text: &[u8], flags: c_int) -> bool {
    let flags = Flags {
        pathname: flags & FNM_PATHNAME != 0,
        noescape: flags & FNM_NOESCAPE != 0,
        period: flags & FNM_PERIOD != 0,
        leading_dir: flags & FNM_LEADING_DIR != 0,
        casefold: flags & FNM_CASEFOLD != 0,
    };
    matches(pattern, 0, text, 0, flags)
}

/// POSIX `fnmatch`: 0 on a match, `FNM_NOMATCH` otherwise.
///
/// # Safety
/// 1. Both are strings.
#[cfg_attr(rivet_libc_export, no_mangle)]
pub unsafe extern "C" fn fnmatch(
    pattern: *const c_char,
    text: *const c_char,
    flags: c_int,
) -> c_int {
    // SAFETY: obligation 1.
    let (pattern, text) =
        unsafe { (cstr::bytes(pattern, "fnmatch"), cstr::bytes(text, "fnmatch")) };
    if fnmatch_bytes(pattern, text, flags) {
        0
    } else {
        FNM_NOMATCH
    }
}
