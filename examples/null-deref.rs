//! Reads through a null pointer, so tests can check the page fault is reported (exit code 102).
#![no_std]
#![no_main]

rivet::main!(main);

fn main() {
    let null = core::hint::black_box(core::ptr::null::<u64>());
    // SAFETY: not safe at all — reading address 0 is the point of this example. Page 0 is never
    // mapped, so the CPU faults and the kernel reports it.
    let value = unsafe { core::ptr::read_volatile(null) };
    rivet::println!("read {value:#x} from address 0: page 0 is mapped, which it must not be");
}
