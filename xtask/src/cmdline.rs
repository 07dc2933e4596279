//! The kernel command line: shell-style quoting of kernel parameters and application arguments.
//!
//! Rivet's convention: `[kernel-params --] arg1 arg2 …`. When a standalone `--` is present, the
//! words before it are kernel parameters (`rivet.log=debug`) and the words after it are the
//! application's arguments; without `--`, every word is an application argument. Words are split
//! like a POSIX shell would split them: single quotes, double quotes and backslash escapes.
//!
//! The tests check with the kernel's own splitter (`rivet_core::cmdline`) that what [`build`]
//! produces comes back as the words it was given. Known weak spot: nothing here knows the kernel's maximum command
//! line length; QEMU and the boot protocol truncate or refuse long ones.

/// Characters that never need quoting on the command line.
fn is_plain(c: char) -> bool {
    c.is_ascii_alphanumeric() || "_@%+=:,./-".contains(c)
}

/// Quotes one word so that a shell-style splitter reads it back unchanged.
///
/// Plain words stay as they are; anything else is wrapped in single quotes, with each embedded
/// single quote written as `'\''` (close, escaped quote, reopen). The empty word becomes `''`.
pub fn quote(word: &str) -> String {
    if !word.is_empty() && word.chars().all(is_plain) {
        return word.to_owned();
    }
    let mut quoted = String::with_capacity(word.len() + 2);
    quoted.push('\'');
    for c in word.chars() {
        if c == '\'' {
            quoted.push_str("'\\''");
        } else {
            quoted.push(c);
        }
    }
    quoted.push('\'');
    quoted
}

/// Builds the `-append` string from kernel parameters and application arguments.
///
/// The `params -- args` form is used whenever there are kernel parameters, and also when an
/// argument is itself `--` (the kernel would otherwise take the words before it for parameters).
pub fn build(params: &[String], args: &[String]) -> String {
    let mut words: Vec<String> = params.iter().map(|p| quote(p)).collect();
    if !params.is_empty() || args.iter().any(|a| a == "--") {
        words.push("--".to_owned());
    }
    words.extend(args.iter().map(|a| quote(a)));
    words.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(words: &[&str]) -> Vec<String> {
        words.iter().map(|w| (*w).to_owned()).collect()
    }

    #[test]
    fn plain_words_stay_unquoted() {
        assert_eq!(quote("hello"), "hello");
        assert_eq!(quote("rivet.log=debug"), "rivet.log=debug");
        assert_eq!(quote("/a/b-c_d,e:f"), "/a/b-c_d,e:f");
    }

    #[test]
    fn special_words_are_single_quoted() {
        assert_eq!(quote(""), "''");
        assert_eq!(quote("b c"), "'b c'");
        assert_eq!(quote("it's"), "'it'\\''s'");
        assert_eq!(quote("$HOME"), "'$HOME'");
        assert_eq!(quote("\"x\""), "'\"x\"'");
    }

    #[test]
    fn build_uses_separator_only_when_needed() {
        assert_eq!(build(&[], &strings(&["a", "b c"])), "a 'b c'");
        assert_eq!(build(&strings(&["rivet.log=debug"]), &strings(&["a"])), "rivet.log=debug -- a");
        assert_eq!(build(&strings(&["rivet.log=debug"]), &[]), "rivet.log=debug --");
        assert_eq!(build(&[], &strings(&["--", "x"])), "-- -- x");
        assert_eq!(build(&[], &[]), "");
    }

    #[test]
    fn build_then_parse_round_trips() {
        let cases: &[(&[&str], &[&str])] = &[
            (&[], &["a", "b c"]),
            (&["rivet.log=debug", "x=1"], &["", "it's", "tab\there", "--", "back\\slash", "\"q\""]),
            (&[], &["--"]),
            (&["p"], &[]),
            (&[], &["ünïcode ✓", "new\nline"]),
        ];
        for (params, args) in cases {
            let (params, args) = (strings(params), strings(args));
            let line = build(&params, &args);
            let parsed = rivet_core::cmdline::CommandLine::parse(&line).unwrap();
            assert_eq!((parsed.kernel, parsed.args), (params, args), "line {line:?}");
        }
    }
}
