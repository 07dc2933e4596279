//! A small deterministic generator for test inputs (xorshift64*).

/// xorshift64* — good enough to spread test inputs, reproducible from its seed.
pub struct Rng(u64);

impl Rng {
    /// A generator seeded with `seed` (0 is replaced: xorshift needs a non-zero state).
    pub fn new(seed: u64) -> Rng {
        Rng(if seed == 0 { 0x9e37_79b9_7f4a_7c15 } else { seed })
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A number in `0..bound` (`bound` > 0).
    pub fn below(&mut self, bound: u64) -> u64 {
        self.next_u64() % bound
    }

    /// True with probability 1/`n`.
    pub fn one_in(&mut self, n: u64) -> bool {
        self.below(n) == 0
    }

    /// One element of `items`.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }

    /// A double that exercises formatting: random bits, small integers, halves, powers of ten,
    /// values near rounding ties, subnormals, zeros, infinities and NaNs.
    pub fn double(&mut self) -> f64 {
        match self.below(10) {
            0 => f64::from_bits(self.next_u64()),
            1 => (self.below(2000) as f64 - 1000.0) / 8.0,
            2 => 10f64.powi(self.below(40) as i32 - 20) * if self.one_in(2) { -1.0 } else { 1.0 },
            3 => (self.below(100_000) as f64 + 0.5) / 10f64.powi(self.below(6) as i32),
            4 => f64::from_bits(self.below(1 << 52)),
            5 => *self.pick(&[0.0, -0.0, f64::INFINITY, f64::NEG_INFINITY, f64::NAN, -f64::NAN]),
            6 => self.next_u64() as f64 / (1u64 << self.below(64)) as f64,
            7 => f64::from_bits((self.below(0x7fe) + 1) << 52 | self.below(1 << 52)),
            8 => self.below(1 << 20) as f64 * 0.125 + 0.0625,
            _ => (self.next_u64() >> self.below(64)) as f64,
        }
    }
}
