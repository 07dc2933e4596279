//! Threads and synchronisation, checked: each part computes something whose exact result is
//! known, prints it, and the run fails (exit code 1) on any wrong answer.
//!
//! `threads [part ...]` runs the named parts (default: all but `overflow`):
//! `mutex` (many threads incrementing under a Mutex), `condvar` (producer/consumer),
//! `channel` (mpsc, unbounded and bounded), `rwlock`, `barrier`, `once`, `local`
//! (thread_local!), `sleep` (accuracy, several sleepers at once), `preempt` (a thread that never
//! yields does not stop the others), `parallel` (a computation split over every core, its
//! speed-up printed), `overflow` (a named thread overflows its stack: the run ends with 102).
#![no_std]
#![no_main]

extern crate alloc;

use alloc::string::String;
use alloc::vec::Vec;
use core::cell::Cell;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use rivet::sync::mpsc;
use rivet::sync::{Arc, Barrier, Condvar, LazyLock, Mutex, Once, OnceLock, RwLock};
use rivet::thread;
use rivet::time::{Duration, Instant};

rivet::main!(main);

/// One check: its result, or what was wrong.
type Part = fn() -> Result<(), String>;

const PARTS: &[(&str, Part)] = &[
    ("mutex", mutex),
    ("condvar", condvar),
    ("channel", channel),
    ("rwlock", rwlock),
    ("barrier", barrier),
    ("once", once),
    ("local", local),
    ("sleep", sleep),
    ("preempt", preempt),
    ("parallel", parallel),
];

fn main() -> i32 {
    let args: Vec<String> = rivet::env::args().skip(1).collect();
    rivet::println!("threads: {} cores", thread::available_parallelism().map_or(1, |n| n.get()));
    if args.iter().any(|a| a == "overflow") {
        overflow();
    }
    let mut failed = 0;
    for (name, part) in PARTS {
        if !args.is_empty() && !args.iter().any(|a| a == name) {
            continue;
        }
        match part() {
            Ok(()) => rivet::println!("{name}: ok"),
            Err(e) => {
                rivet::println!("{name}: FAILED: {e}");
                failed += 1;
            }
        }
    }
    if failed == 0 {
        rivet::println!("threads: all ok");
        0
    } else {
        1
    }
}

fn check(what: &str, got: u64, want: u64) -> Result<(), String> {
    if got == want {
        Ok(())
    } else {
        Err(alloc::format!("{what}: got {got}, want {want}"))
    }
}

/// 8 threads × 5000 increments of a counter under one Mutex (with a yield now and then, so the
/// threads interleave even without preemption).
fn mutex() -> Result<(), String> {
    const THREADS: u64 = 8;
    const ROUNDS: u64 = 5000;
    let counter = Arc::new(Mutex::new(0u64));
    let handles: Vec<_> = (0..THREADS)
        .map(|_| {
            let counter = counter.clone();
            thread::spawn(move || {
                for round in 0..ROUNDS {
                    let mut value = counter.lock().unwrap();
                    // A read-modify-write with a window: lost updates would show.
                    let seen = *value;
                    core::hint::spin_loop();
                    *value = seen + 1;
                    drop(value);
                    if round % 500 == 0 {
                        thread::yield_now();
                    }
                }
            })
        })
        .collect();
    for handle in handles {
        handle.join().unwrap();
    }
    let total = *counter.lock().unwrap();
    rivet::println!("mutex: total {total}");
    check("mutex total", total, THREADS * ROUNDS)
}

/// One producer, two consumers over a Mutex<Vec> + Condvar; every item consumed exactly once.
fn condvar() -> Result<(), String> {
    const ITEMS: u64 = 2000;
    struct Queue {
        items: Vec<u64>,
        done: bool,
    }
    let shared = Arc::new((Mutex::new(Queue { items: Vec::new(), done: false }), Condvar::new()));
    let consumers: Vec<_> = (0..2)
        .map(|_| {
            let shared = shared.clone();
            thread::spawn(move || {
                let (lock, ready) = &*shared;
                let (mut sum, mut count) = (0u64, 0u64);
                loop {
                    let mut queue = ready
                        .wait_while(lock.lock().unwrap(), |q| q.items.is_empty() && !q.done)
                        .unwrap();
                    match queue.items.pop() {
                        Some(item) => {
                            sum += item;
                            count += 1;
                        }
                        None => return (sum, count),
                    }
                }
            })
        })
        .collect();
    let (lock, ready) = &*shared;
    for item in 1..=ITEMS {
        lock.lock().unwrap().items.push(item);
        ready.notify_one();
    }
    lock.lock().unwrap().done = true;
    ready.notify_all();
    let (mut sum, mut count) = (0, 0);
    for consumer in consumers {
        let (s, c) = consumer.join().unwrap();
        sum += s;
        count += c;
    }
    // Timed wait with nobody notifying: must time out, after at least the time asked.
    let start = Instant::now();
    let (_, result) = ready.wait_timeout(lock.lock().unwrap(), Duration::from_millis(20)).unwrap();
    if !result.timed_out() || start.elapsed() < Duration::from_millis(20) {
        return Err("wait_timeout did not time out properly".into());
    }
    rivet::println!("condvar: {count} items, sum {sum}");
    check("condvar count", count, ITEMS)?;
    check("condvar sum", sum, ITEMS * (ITEMS + 1) / 2)
}

/// Four senders into one receiver, then a bounded channel of 4 slots carrying 1000 values.
fn channel() -> Result<(), String> {
    let (tx, rx) = mpsc::channel();
    for sender in 0..4u64 {
        let tx = tx.clone();
        thread::spawn(move || {
            for i in 0..1000u64 {
                tx.send(sender * 1000 + i).unwrap();
            }
        });
    }
    drop(tx);
    let values: Vec<u64> = rx.iter().collect();
    let sum: u64 = values.iter().sum();
    check("channel count", values.len() as u64, 4000)?;
    check("channel sum", sum, (0..4000).sum())?;
    let (tx, rx) = mpsc::sync_channel(4);
    let producer = thread::spawn(move || {
        for i in 0..1000u64 {
            tx.send(i).unwrap();
        }
    });
    let mut expected = 0;
    while let Ok(value) = rx.recv() {
        check("bounded channel order", value, expected)?;
        expected += 1;
    }
    producer.join().unwrap();
    check("bounded channel count", expected, 1000)?;
    let (_tx, rx) = mpsc::channel::<u64>();
    if rx.recv_timeout(Duration::from_millis(5)) != Err(mpsc::RecvTimeoutError::Timeout) {
        return Err("recv_timeout on an empty channel did not time out".into());
    }
    rivet::println!("channel: 4000 + 1000 values in order");
    Ok(())
}

/// Readers check an invariant (a == b) the writers keep under the write lock.
fn rwlock() -> Result<(), String> {
    let lock = Arc::new(RwLock::new((0u64, 0u64)));
    let torn = Arc::new(AtomicBool::new(false));
    let mut handles = Vec::new();
    for _ in 0..2 {
        let lock = lock.clone();
        handles.push(thread::spawn(move || {
            for _ in 0..1000 {
                let mut pair = lock.write().unwrap();
                pair.0 += 1;
                thread::yield_now();
                pair.1 += 1;
            }
        }));
    }
    for _ in 0..3 {
        let (lock, torn) = (lock.clone(), torn.clone());
        handles.push(thread::spawn(move || {
            for _ in 0..1000 {
                let pair = lock.read().unwrap();
                if pair.0 != pair.1 {
                    torn.store(true, Ordering::Relaxed);
                }
            }
        }));
    }
    for handle in handles {
        handle.join().unwrap();
    }
    if torn.load(Ordering::Relaxed) {
        return Err("a reader saw a half-done write".into());
    }
    let pair = *lock.read().unwrap();
    check("rwlock writes", pair.0, 2000)
}

/// Three rounds of 6 threads: nobody passes a round before all arrived; one leader per round.
fn barrier() -> Result<(), String> {
    const THREADS: usize = 6;
    let barrier = Arc::new(Barrier::new(THREADS));
    let arrived = Arc::new(AtomicU64::new(0));
    let leaders = Arc::new(AtomicU64::new(0));
    let early = Arc::new(AtomicBool::new(false));
    let handles: Vec<_> = (0..THREADS)
        .map(|_| {
            let (barrier, arrived, leaders, early) =
                (barrier.clone(), arrived.clone(), leaders.clone(), early.clone());
            thread::spawn(move || {
                for round in 1..=3u64 {
                    arrived.fetch_add(1, Ordering::SeqCst);
                    if barrier.wait().is_leader() {
                        leaders.fetch_add(1, Ordering::SeqCst);
                    }
                    if arrived.load(Ordering::SeqCst) < round * THREADS as u64 {
                        early.store(true, Ordering::SeqCst);
                    }
                    barrier.wait();
                }
            })
        })
        .collect();
    for handle in handles {
        handle.join().unwrap();
    }
    if early.load(Ordering::SeqCst) {
        return Err("a thread passed the barrier before everyone arrived".into());
    }
    check("barrier leaders", leaders.load(Ordering::SeqCst), 3)
}

static ONCE: Once = Once::new();
static ONCE_RUNS: AtomicU64 = AtomicU64::new(0);
static CELL: OnceLock<u64> = OnceLock::new();
static LAZY: LazyLock<u64> = LazyLock::new(|| {
    ONCE_RUNS.fetch_add(100, Ordering::SeqCst);
    42
});

/// Eight threads race to initialise a Once, a OnceLock and a LazyLock: each runs once.
fn once() -> Result<(), String> {
    let handles: Vec<_> = (0..8u64)
        .map(|i| {
            thread::spawn(move || {
                ONCE.call_once(|| {
                    ONCE_RUNS.fetch_add(1, Ordering::SeqCst);
                    thread::sleep(Duration::from_millis(2));
                });
                let cell = *CELL.get_or_init(|| i + 1000);
                (cell, *LAZY)
            })
        })
        .collect();
    let results: Vec<(u64, u64)> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    if results.iter().any(|r| *r != results[0]) || results[0].1 != 42 {
        return Err(alloc::format!("threads saw different values: {results:?}"));
    }
    check("initialisers run", ONCE_RUNS.load(Ordering::SeqCst), 101)
}

rivet::thread_local! {
    static COUNTER: Cell<u64> = Cell::new(0);
    static NAME: String = String::from(thread::current().name().unwrap_or("unnamed"));
}

/// Each thread counts in its own thread-local; the main thread's stays untouched.
fn local() -> Result<(), String> {
    COUNTER.with(|c| c.set(7));
    let handles: Vec<_> = (0..4u64)
        .map(|i| {
            thread::Builder::new()
                .name(alloc::format!("local-{i}"))
                .spawn(move || {
                    for _ in 0..=i {
                        COUNTER.with(|c| c.set(c.get() + 1));
                        thread::yield_now();
                    }
                    let name = NAME.with(|n| n.clone());
                    (COUNTER.with(Cell::get), name)
                })
                .unwrap()
        })
        .collect();
    for (i, handle) in handles.into_iter().enumerate() {
        let (count, name) = handle.join().unwrap();
        check("thread-local count", count, i as u64 + 1)?;
        if name != alloc::format!("local-{i}") {
            return Err(alloc::format!("thread-local name {name}"));
        }
    }
    check("main's thread-local", COUNTER.with(Cell::get), 7)
}

/// Four threads sleep 100 ms at once: each wakes after at least 100 ms, and they slept together
/// (every one had started its sleep before the first one woke, whatever the host's load). The
/// worst lateness and the total time are printed.
fn sleep() -> Result<(), String> {
    let asked = Duration::from_millis(100);
    let start = Instant::now();
    let handles: Vec<_> = (0..4)
        .map(|_| {
            thread::spawn(move || {
                let start = Instant::now();
                thread::sleep(asked);
                (start, Instant::now())
            })
        })
        .collect();
    let spans: Vec<(Instant, Instant)> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let total = start.elapsed();
    let slept: Vec<Duration> = spans.iter().map(|(from, to)| to.duration_since(*from)).collect();
    let worst = slept.iter().max().copied().unwrap_or_default();
    rivet::println!(
        "sleep: 4 x {} ms, shortest {} us, latest wake-up {} us late, {} ms in all",
        asked.as_millis(),
        slept.iter().min().copied().unwrap_or_default().as_micros(),
        worst.saturating_sub(asked).as_micros(),
        total.as_millis()
    );
    if slept.iter().any(|s| *s < asked) {
        return Err("a sleep returned early".into());
    }
    let last_start = spans.iter().map(|(from, _)| *from).max();
    let first_wake = spans.iter().map(|(_, to)| *to).min();
    if last_start > first_wake {
        return Err("the sleeps ran one after another, not at once".into());
    }
    Ok(())
}

/// A thread spins for ever without yielding; others must still finish (preemption).
fn preempt() -> Result<(), String> {
    let spinner = thread::Builder::new()
        .name("spinner".into())
        .spawn(|| loop {
            core::hint::spin_loop();
        })
        .unwrap();
    core::mem::forget(spinner);
    let start = Instant::now();
    let handles: Vec<_> = (0..3u64)
        .map(|i| thread::spawn(move || (0..10_000u64).map(|n| n * i).sum::<u64>()))
        .collect();
    let sums: Vec<u64> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    rivet::println!(
        "preempt: 3 threads finished beside a spinning one in {} ms",
        start.elapsed().as_millis()
    );
    check("preempt sums", sums.iter().sum(), 3 * (0..10_000u64).sum::<u64>())
}

/// Counts primes below a bound by trial division, split over `threads` threads; returns the
/// count and the time it took.
fn count_primes(threads: u64, limit: u64) -> (u64, Duration) {
    let start = Instant::now();
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            thread::spawn(move || {
                (2..limit)
                    .filter(|n| n % threads == t)
                    .filter(|&n| (2..).take_while(|d| d * d <= n).all(|d| n % d != 0))
                    .count() as u64
            })
        })
        .collect();
    let count = handles.into_iter().map(|h| h.join().unwrap()).sum();
    (count, start.elapsed())
}

/// The primes below 60 000 (6 057 of them), on one thread and on one per core; speed-up printed.
fn parallel() -> Result<(), String> {
    const LIMIT: u64 = 60_000;
    let cores = thread::available_parallelism().map_or(1, |n| n.get()) as u64;
    let (one, single) = count_primes(1, LIMIT);
    let (many, split) = count_primes(cores, LIMIT);
    let speedup = single.as_micros() * 100 / split.as_micros().max(1);
    rivet::println!(
        "parallel: {many} primes below {LIMIT}; 1 thread {} ms, {cores} threads {} ms, speed-up {}.{:02}x",
        single.as_millis(),
        split.as_millis(),
        speedup / 100,
        speedup % 100
    );
    check("primes (1 thread)", one, 6057)?;
    check("primes (all cores)", many, 6057)
}

#[allow(unconditional_recursion)]
#[inline(never)]
fn recurse(depth: u64) -> u64 {
    let frame = core::hint::black_box([depth; 64]);
    recurse(depth + 1) + frame[depth as usize % 64]
}

/// A thread named `deep-recursion` overflows its stack: the guard page stops it, the report
/// names the thread, and the run ends with 102. Never returns.
fn overflow() -> ! {
    let handle = thread::Builder::new().name("deep-recursion".into()).spawn(|| recurse(0)).unwrap();
    let value = handle.join().unwrap();
    rivet::println!("recursion returned {value}: no guard page stopped it");
    rivet::process::exit(1)
}
