//! [`Barrier`]: `n` threads wait until all have arrived; an arrival counter and a generation
//! word to sleep on, no lock.

use super::{futex_wait, futex_wake};
use core::sync::atomic::{AtomicU32, Ordering};

/// A rendezvous for `n` threads, like `std::sync::Barrier`.
pub struct Barrier {
    parties: u32,
    arrived: AtomicU32,
    generation: AtomicU32,
}

/// What [`Barrier::wait`] tells each thread.
#[derive(Debug)]
pub struct BarrierWaitResult(bool);

impl BarrierWaitResult {
    /// True for exactly one thread of each round (the last to arrive).
    pub fn is_leader(&self) -> bool {
        self.0
    }
}

impl Barrier {
    /// A barrier for `parties` threads (0 behaves as 1).
    pub fn new(parties: usize) -> Self {
        let parties = u32::try_from(parties).unwrap_or(u32::MAX).max(1);
        Self { parties, arrived: AtomicU32::new(0), generation: AtomicU32::new(0) }
    }

    /// Waits until `parties` threads have called `wait` in this round.
    pub fn wait(&self) -> BarrierWaitResult {
        let generation = self.generation.load(Ordering::Acquire);
        if self.arrived.fetch_add(1, Ordering::AcqRel) + 1 == self.parties {
            // The last one: reset for the next round before releasing anybody into it.
            self.arrived.store(0, Ordering::Relaxed);
            self.generation.fetch_add(1, Ordering::Release);
            futex_wake(&self.generation, usize::MAX);
            return BarrierWaitResult(true);
        }
        while self.generation.load(Ordering::Acquire) == generation {
            futex_wait(&self.generation, generation, None);
        }
        BarrierWaitResult(false)
    }
}
