//! Thread figures for `cargo xtask bench`: spawn + join, a context switch (ping-pong over a
//! Mutex and Condvar), an uncontended lock + unlock, and how late a 1 ms sleep wakes. The Linux
//! baseline runs the same measurements from `xtask/baseline/thread-bench.c`; both print the same
//! `bench:` lines.
#![no_std]
#![no_main]

extern crate alloc;

use alloc::vec::Vec;
use rivet::sync::{Arc, Condvar, Mutex};
use rivet::thread;
use rivet::time::{Duration, Instant};

rivet::main!(main);

fn main() {
    const SPAWNS: u32 = 200;
    let start = Instant::now();
    for _ in 0..SPAWNS {
        thread::spawn(|| core::hint::black_box(1)).join().unwrap();
    }
    let spawn = start.elapsed() / SPAWNS;

    const ROUND_TRIPS: u32 = 2000;
    let turn = Arc::new((Mutex::new(false), Condvar::new()));
    let partner = {
        let turn = turn.clone();
        thread::spawn(move || {
            let (lock, cv) = &*turn;
            for _ in 0..ROUND_TRIPS {
                let mut ball = cv.wait_while(lock.lock().unwrap(), |ball| !*ball).unwrap();
                *ball = false;
                cv.notify_one();
            }
        })
    };
    let start = Instant::now();
    let (lock, cv) = &*turn;
    for _ in 0..ROUND_TRIPS {
        let mut ball = lock.lock().unwrap();
        *ball = true;
        cv.notify_one();
        drop(cv.wait_while(ball, |ball| *ball).unwrap());
    }
    let switch = start.elapsed() / (2 * ROUND_TRIPS);
    partner.join().unwrap();

    const LOCKS: u32 = 100_000;
    let mutex = Mutex::new(0u64);
    let start = Instant::now();
    for _ in 0..LOCKS {
        *mutex.lock().unwrap() += 1;
    }
    let lock_time = start.elapsed().as_nanos() / u128::from(LOCKS);

    let late: Vec<Duration> = (0..20)
        .map(|_| {
            let start = Instant::now();
            thread::sleep(Duration::from_millis(1));
            start.elapsed().saturating_sub(Duration::from_millis(1))
        })
        .collect();
    let mean_late = late.iter().sum::<Duration>() / late.len() as u32;
    let max_late = late.iter().max().copied().unwrap_or_default();

    rivet::println!("bench: spawn+join {} us", spawn.as_nanos() as f64 / 1000.0);
    rivet::println!("bench: context switch {} us", switch.as_nanos() as f64 / 1000.0);
    rivet::println!("bench: mutex lock+unlock {lock_time} ns");
    rivet::println!(
        "bench: sleep lateness {} us mean, {} us max (1 ms sleeps)",
        mean_late.as_micros(),
        max_late.as_micros()
    );
}
