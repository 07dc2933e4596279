//! Panics, so tests can check the message, the location, the backtrace and exit code 101.
#![no_std]
#![no_main]

rivet::main!(main);

#[inline(never)]
fn deeper(answer: u32) {
    panic!("deliberate panic: the answer is {answer}");
}

fn main() {
    deeper(core::hint::black_box(42));
}
