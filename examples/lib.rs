//! Example Rivet applications. Each example is one file beside this one; build and boot one with
//! `cargo xtask run --target TRIPLE --example NAME -- ARGS`.
#![no_std]

/// The port the network examples serve on: their first argument, or `default`. A bad one ends
/// the run with exit code 2 and a message naming `example`.
pub fn port_argument(example: &str, default: u16) -> u16 {
    match rivet::env::args().nth(1) {
        None => default,
        Some(port) => port.parse().unwrap_or_else(|_| {
            rivet::eprintln!("{example}: {port}: not a port number");
            rivet::process::exit(2)
        }),
    }
}
