//! Prints the wall clock (`SystemTime`) as a UTC date and where it came from, and checks it
//! follows a 100 ms sleep (at least 100 ms later, and not absurdly more) and that the
//! `std`-shaped arithmetic agrees with itself. Exits 1 on any failure.
#![no_std]
#![no_main]

use rivet::time::{Duration, SystemTime, UNIX_EPOCH};

rivet::main!(main);

fn main() -> i32 {
    let before = SystemTime::now();
    let source = rivet::time::wall_clock_source();
    rivet::println!("wall clock: {} UTC (source: {source})", before.to_utc());
    let Ok(since_epoch) = before.duration_since(UNIX_EPOCH) else {
        rivet::println!("the wall clock is before 1970");
        return 1;
    };
    rivet::println!("unix time: {}.{:09}", since_epoch.as_secs(), since_epoch.subsec_nanos());

    let asked = Duration::from_millis(100);
    rivet::thread::sleep(asked);
    let after = SystemTime::now();
    let advanced = match after.duration_since(before) {
        Ok(advanced) => advanced,
        Err(e) => {
            rivet::println!("the wall clock went back {} us: {e}", e.duration().as_micros());
            return 1;
        }
    };
    rivet::println!(
        "wall clock advanced {} us over a {} us sleep",
        advanced.as_micros(),
        asked.as_micros()
    );
    // TCG is slow, but not 50 times slower than asked.
    if advanced < asked || advanced > asked * 50 {
        rivet::println!("the wall clock did not follow the sleep");
        return 1;
    }

    let checks = [
        ("add/sub", (before + asked) - asked == before),
        ("checked_add", before.checked_add(advanced) == Some(after)),
        ("checked_sub", after.checked_sub(advanced) == Some(before)),
        ("backwards", before.duration_since(after).map_err(|e| e.duration()) == Err(advanced)),
        ("elapsed", before.elapsed().is_ok_and(|elapsed| elapsed >= advanced)),
        ("overflow", UNIX_EPOCH.checked_add(Duration::MAX).is_none()),
        ("epoch", {
            let epoch = UNIX_EPOCH.to_utc();
            (epoch.year(), epoch.month(), epoch.day(), epoch.hour(), epoch.second())
                == (1970, 1, 1, 0, 0)
        }),
    ];
    let mut ok = true;
    for (name, passed) in checks {
        if !passed {
            rivet::println!("{name}: wrong");
            ok = false;
        }
    }
    if !ok {
        return 1;
    }
    rivet::println!("wall clock ok");
    0
}
