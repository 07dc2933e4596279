//! Recurses without end, so tests can check the guard page catches it (exit code 102).
#![no_std]
#![no_main]

rivet::main!(main);

// The recursion has no base case on purpose.
#[allow(unconditional_recursion)]
#[inline(never)]
fn recurse(depth: u64) -> u64 {
    let frame = core::hint::black_box([depth; 64]);
    recurse(depth + 1) + frame[depth as usize % 64]
}

fn main() {
    let total = recurse(0);
    rivet::println!("recursion returned {total}: no guard page stopped it");
}
