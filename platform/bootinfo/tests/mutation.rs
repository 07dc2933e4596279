//! 20,000 deterministic mutations of QEMU's `virt` blob: whatever the bytes, parsing and
//! discovery return `Ok` or `Err` — never panic, never loop — and an `Ok` is a usable machine.

mod common;

use common::{
    set_header, OFF_DT_STRINGS, OFF_DT_STRUCT, SIZE_DT_STRINGS, SIZE_DT_STRUCT, TOTALSIZE,
};
use rivet_bootinfo::devicetree::{claimed_size, read, Blob, Machine, Token, HEADER_SIZE};
use std::panic::{catch_unwind, AssertUnwindSafe};

const QEMU_VIRT: &[u8] = include_bytes!("fixtures/qemu-virt.dtb");
const MUTATIONS: usize = 20_000;
const SEED: u64 = 0x5eed_d00d_feed_0001;

/// Marsaglia's xorshift64: deterministic, so a failure names a reproducible iteration.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// Uniform enough in `0..n` for picking offsets.
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Words worth planting: every token, lengths and offsets at the edges.
const INTERESTING: [u32; 14] =
    [0, 1, 2, 3, 4, 5, 9, 0x10, 0x7fff_ffff, 0x8000_0000, 0xffff_fffc, 0xffff_ffff, 0x1ce, 0x1b88];

/// Applies one random mutation to `bytes`.
fn mutate(rng: &mut XorShift, bytes: &mut Vec<u8>) {
    let len = bytes.len();
    match rng.below(8) {
        // One bit flipped.
        0 => {
            let at = rng.below(len);
            bytes[at] ^= 1 << rng.below(8);
        }
        // One byte replaced.
        1 => {
            let at = rng.below(len);
            bytes[at] = rng.next() as u8;
        }
        // 2 to 16 bytes replaced, scattered.
        2 => {
            for _ in 0..2 + rng.below(15) {
                let at = rng.below(len);
                bytes[at] = rng.next() as u8;
            }
        }
        // A run of up to 64 random bytes.
        3 => {
            let at = rng.below(len);
            let end = (at + 1 + rng.below(64)).min(len);
            for byte in &mut bytes[at..end] {
                *byte = rng.next() as u8;
            }
        }
        // An interesting word on a word boundary (a token, a length, a name offset …).
        4 | 5 => {
            let at = rng.below(len / 4) * 4;
            let word = INTERESTING[rng.below(INTERESTING.len())];
            bytes[at..at + 4].copy_from_slice(&word.to_be_bytes());
        }
        // An interesting value in a header field.
        6 => {
            let index = rng.below(HEADER_SIZE / 4);
            let word = INTERESTING[rng.below(INTERESTING.len())];
            set_header(bytes, index, word);
        }
        // Cut short, with the header patched to agree, so the cut reaches the walk.
        _ => {
            let word = |bytes: &[u8], index: usize| {
                u32::from_be_bytes(bytes[index * 4..index * 4 + 4].try_into().unwrap())
            };
            let cut = HEADER_SIZE + rng.below(len - HEADER_SIZE);
            let (structure, strings) = (word(bytes, OFF_DT_STRUCT), word(bytes, OFF_DT_STRINGS));
            let structure_size = word(bytes, SIZE_DT_STRUCT);
            bytes.truncate(cut);
            let cut = cut as u32;
            set_header(bytes, TOTALSIZE, cut);
            set_header(bytes, SIZE_DT_STRUCT, structure_size.min(cut.saturating_sub(structure)));
            set_header(bytes, OFF_DT_STRINGS, strings.min(cut));
            set_header(bytes, SIZE_DT_STRINGS, cut.saturating_sub(strings));
        }
    }
}

/// How one mutated blob fared.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Outcome {
    HeaderRefused,
    ReadRefused,
    Read,
}

/// Runs everything the boot runs on `bytes` (and a full token walk), checking what must hold.
fn exercise(bytes: &[u8]) -> Outcome {
    let _ = claimed_size(bytes);
    let blob = match Blob::parse(bytes) {
        Ok(blob) => blob,
        Err(e) => {
            assert!(!e.to_string().is_empty());
            return Outcome::HeaderRefused;
        }
    };
    let _ = blob.reservations(|_| Ok(()));
    // Every token takes at least a word, so the walk is bounded by the block's size.
    let mut tokens = 0;
    for token in blob.tokens() {
        tokens += 1;
        if let Ok(Token::Property { name, .. }) = token {
            let _ = blob.property_name(name);
        }
    }
    assert!(tokens <= bytes.len() / 4 + 1, "{tokens} tokens from {} bytes", bytes.len());
    let mut machine = Machine::new();
    match read(&blob, &mut machine) {
        Ok(()) => {
            assert!(!machine.ram.is_empty(), "read succeeded without RAM");
            assert!(machine.ram.iter().all(|(r, _)| r.start <= r.end));
            assert!(machine.reserved.iter().all(|(r, _)| r.start <= r.end));
            Outcome::Read
        }
        Err(failure) => {
            assert!(!failure.error.to_string().is_empty());
            Outcome::ReadRefused
        }
    }
}

#[test]
fn mutated_blobs_never_panic() {
    assert_eq!(exercise(QEMU_VIRT), Outcome::Read, "the unmutated fixture reads");
    let mut rng = XorShift(SEED);
    let mut counts = [0usize; 3];
    for iteration in 0..MUTATIONS {
        let mut bytes = QEMU_VIRT.to_vec();
        for _ in 0..1 + rng.below(3) {
            mutate(&mut rng, &mut bytes);
        }
        let outcome = catch_unwind(AssertUnwindSafe(|| exercise(&bytes)))
            .unwrap_or_else(|_| panic!("mutation {iteration} (seed {SEED:#x}) panicked"));
        counts[outcome as usize] += 1;
    }
    let [header, refused, read] = counts;
    eprintln!("{MUTATIONS} mutations: {header} refused by the header checks, {refused} by the walk, {read} read");
    // The mutations reach every stage: not all stop at the header, not all break the tree.
    assert!(header > MUTATIONS / 50, "{counts:?}");
    assert!(refused > MUTATIONS / 10, "{counts:?}");
    assert!(read > MUTATIONS / 10, "{counts:?}");
}
