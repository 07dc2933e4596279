//! Sleeps and checks the monotonic clock agrees: 100 ms asked, at least 100 ms measured; and,
//! where the platform has a timer interrupt, that the sleep was woken by it (halted, not spun).
#![no_std]
#![no_main]

use rivet::time::{sleep, Duration, Instant};

rivet::main!(main);

fn main() -> i32 {
    let asked = Duration::from_millis(100);
    let start = Instant::now();
    sleep(asked);
    let slept = start.elapsed();
    rivet::println!("slept {} us for {} us asked", slept.as_micros(), asked.as_micros());
    if slept < asked {
        rivet::println!("sleep returned early");
        return 1;
    }
    let later = Instant::now();
    if later < start + slept {
        rivet::println!("the clock went backwards");
        return 1;
    }
    let interrupts = rivet::time::alarm_interrupts();
    rivet::println!("timer interrupts: {interrupts}");
    if rivet::time::has_alarm() && interrupts == 0 {
        rivet::println!("the platform has an alarm, but no timer interrupt woke the sleep");
        return 1;
    }
    rivet::println!("sleep ok");
    0
}
