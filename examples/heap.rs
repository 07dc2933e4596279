//! A heap workout: many sizes, interleaved frees, contents verified, one large allocation that
//! must succeed and one beyond memory that must fail cleanly.
#![no_std]
#![no_main]

extern crate alloc;

use alloc::vec::Vec;

rivet::main!(main);

/// A small deterministic generator (xorshift64*), so a failure can be replayed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

fn fill(buffer: &mut [u8], seed: u64) {
    for (i, byte) in buffer.iter_mut().enumerate() {
        *byte = (seed as usize).wrapping_add(i.wrapping_mul(31)) as u8;
    }
}

fn check(buffer: &[u8], seed: u64) -> bool {
    buffer
        .iter()
        .enumerate()
        .all(|(i, &b)| b == (seed as usize).wrapping_add(i.wrapping_mul(31)) as u8)
}

fn main() -> i32 {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut live: Vec<(Vec<u8>, u64)> = Vec::new();
    let mut allocations = 0u64;
    for round in 0..4000u64 {
        let size = match rng.next() % 4 {
            0 => (rng.next() % 16) as usize + 1,
            1 => (rng.next() % 512) as usize + 1,
            2 => (rng.next() % 8192) as usize + 1,
            _ => (rng.next() % 65536) as usize + 1,
        };
        let mut buffer = alloc::vec![0u8; size];
        fill(&mut buffer, round);
        live.push((buffer, round));
        allocations += 1;
        // Free about half of what is live, from the middle, to interleave.
        if rng.next().is_multiple_of(2) && !live.is_empty() {
            let victim = (rng.next() as usize) % live.len();
            let (buffer, seed) = live.swap_remove(victim);
            if !check(&buffer, seed) {
                rivet::println!(
                    "heap: buffer of {} bytes from round {seed} was corrupted",
                    buffer.len()
                );
                return 1;
            }
        }
    }
    if let Some((buffer, seed)) = live.iter().find(|(b, s)| !check(b, *s)) {
        rivet::println!("heap: buffer of {} bytes from round {seed} was corrupted", buffer.len());
        return 1;
    }
    rivet::println!("heap: {allocations} allocations of 1 B to 64 KiB verified");
    drop(live);

    let large = 16 << 20;
    let mut big: Vec<u8> = Vec::new();
    if big.try_reserve_exact(large).is_err() {
        rivet::println!("heap: large allocation of 16 MiB failed");
        return 1;
    }
    big.resize(large, 0);
    fill(&mut big, 7);
    if !check(&big, 7) {
        rivet::println!("heap: large allocation corrupted");
        return 1;
    }
    rivet::println!("heap: large allocation of 16 MiB verified");
    drop(big);

    let mut huge: Vec<u8> = Vec::new();
    match huge.try_reserve_exact(64 << 30) {
        Ok(()) => {
            rivet::println!("heap: 64 GiB allocation succeeded, which it cannot");
            return 1;
        }
        Err(_) => rivet::println!("heap: allocation beyond memory failed cleanly"),
    }
    rivet::println!("heap workout passed");
    0
}
