//! Prints `rebooting` and resets the machine with `rivet::process::reboot()`; the boot tests
//! check the run ends in a guest reset rather than an exit code.
#![no_std]
#![no_main]

rivet::main!(main);

fn main() {
    rivet::println!("rebooting");
    rivet::process::reboot()
}
