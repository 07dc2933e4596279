//! Prints a greeting naming the architecture and platform, then its arguments one per line.
#![no_std]
#![no_main]

rivet::main!(main);

fn main() {
    rivet::println!("Hello from Rivet on {}/{}", rivet::env::arch(), rivet::env::platform());
    for arg in rivet::env::args().skip(1) {
        rivet::println!("{arg}");
    }
}
