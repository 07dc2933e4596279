//! The two-level event-channel scan: which port a vCPU's upcall should handle next.
//!
//! Xen's 2-level ABI (`event_channel.h`, `xen.h` "Event channel endpoints"): a port `p` is bit
//! `p % 64` of word `p / 64` of the shared info's `evtchn_pending` and `evtchn_mask` bitmaps.
//! When a port that is not masked becomes pending, Xen sets bit `p / 64` of the notified vCPU's
//! `evtchn_pending_sel` and its `evtchn_upcall_pending`, then enters the event callback unless
//! `evtchn_upcall_mask` is set. The guest clears `evtchn_upcall_pending` *before* it takes the
//! selector (atomic exchange with 0), so a port raised during the scan re-raises the upcall, and
//! clears each port's pending bit before running its handler (an edge: the event that arrives
//! during the handler is kept, not lost).
//!
//! [`next_pending`] is that scan as a pure function over [`EventWords`], the four accesses to
//! the shared memory the platform implements with atomics; the words of the selector already
//! taken but not yet scanned are carried between calls (the caller keeps them per vCPU), so one
//! call yields one port, as `InterruptController::claim` wants. Ports come lowest first within a
//! word and word by word; a port that stays busy cannot starve the others for long, since each
//! port's pending bit is cleared once per event.
//!
//! Weak spots: no fairness beyond that (Linux resumes the scan after the last port handled); only
//! the 2-level ABI (4096 ports), not FIFO event channels.

/// The shared memory a scan touches, for one vCPU.
pub trait EventWords {
    /// Clears the vCPU's `evtchn_upcall_pending`.
    fn clear_upcall_pending(&self);
    /// Atomically takes the vCPU's `evtchn_pending_sel`, leaving 0.
    fn take_selector(&self) -> u64;
    /// `evtchn_pending[word] & !evtchn_mask[word]`.
    fn deliverable(&self, word: u32) -> u64;
    /// Atomically clears bit `bit` of `evtchn_pending[word]`.
    fn clear_pending(&self, word: u32, bit: u32);
}

/// The next port to handle, its pending bit cleared; `None` when nothing is left. `carried` is
/// the selector bits taken from the shared memory but not yet scanned to the end (start at 0,
/// keep it per vCPU between calls).
pub fn next_pending(carried: &mut u64, words: &impl EventWords) -> Option<u32> {
    loop {
        if *carried == 0 {
            // Order matters: clearing the flag first means an event raised from here on sets it
            // again, so the upcall comes back for it rather than being lost.
            words.clear_upcall_pending();
            *carried = words.take_selector();
            if *carried == 0 {
                return None;
            }
        }
        let word = carried.trailing_zeros();
        let live = words.deliverable(word);
        if live == 0 {
            *carried &= !(1 << word);
            continue;
        }
        let bit = live.trailing_zeros();
        words.clear_pending(word, bit);
        // The word stays in `carried`: it may hold more ports, re-read on the next call.
        return Some(word * 64 + bit);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::{Cell, RefCell};

    /// Shared memory as plain cells.
    struct Fake {
        upcall_pending: Cell<bool>,
        selector: Cell<u64>,
        pending: RefCell<[u64; 64]>,
        mask: RefCell<[u64; 64]>,
    }

    impl Fake {
        fn new() -> Self {
            Self {
                upcall_pending: Cell::new(false),
                selector: Cell::new(0),
                pending: RefCell::new([0; 64]),
                mask: RefCell::new([0; 64]),
            }
        }

        /// What Xen does when `port` is raised.
        fn raise(&self, port: u32) {
            let (word, bit) = (port / 64, port % 64);
            self.pending.borrow_mut()[word as usize] |= 1 << bit;
            if self.mask.borrow()[word as usize] & (1 << bit) == 0 {
                self.selector.set(self.selector.get() | 1 << word);
                self.upcall_pending.set(true);
            }
        }
    }

    impl EventWords for Fake {
        fn clear_upcall_pending(&self) {
            self.upcall_pending.set(false);
        }
        fn take_selector(&self) -> u64 {
            self.selector.replace(0)
        }
        fn deliverable(&self, word: u32) -> u64 {
            self.pending.borrow()[word as usize] & !self.mask.borrow()[word as usize]
        }
        fn clear_pending(&self, word: u32, bit: u32) {
            self.pending.borrow_mut()[word as usize] &= !(1 << bit);
        }
    }

    #[test]
    fn ports_come_out_once_each_lowest_first() {
        let fake = Fake::new();
        for port in [130, 3, 64, 5, 4095] {
            fake.raise(port);
        }
        let mut carried = 0;
        let ports: Vec<u32> = std::iter::from_fn(|| next_pending(&mut carried, &fake)).collect();
        assert_eq!(ports, [3, 5, 64, 130, 4095]);
        assert_eq!(carried, 0);
        assert!(!fake.upcall_pending.get());
        assert_eq!(*fake.pending.borrow(), [0; 64]);
    }

    #[test]
    fn masked_ports_stay_pending_and_are_not_handled() {
        let fake = Fake::new();
        fake.mask.borrow_mut()[0] = 1 << 7;
        fake.raise(7);
        fake.raise(8);
        // Masked after being raised: Xen set the selector, the guest must still skip it.
        fake.raise(9);
        fake.mask.borrow_mut()[0] |= 1 << 9;
        let mut carried = 0;
        assert_eq!(next_pending(&mut carried, &fake), Some(8));
        assert_eq!(next_pending(&mut carried, &fake), None);
        assert_eq!(fake.pending.borrow()[0], 1 << 7 | 1 << 9);
    }

    #[test]
    fn a_port_raised_during_the_scan_is_found() {
        let fake = Fake::new();
        fake.raise(1);
        let mut carried = 0;
        assert_eq!(next_pending(&mut carried, &fake), Some(1));
        // The handler of port 1 runs; meanwhile port 1 fires again and port 200 for the first
        // time: both set the selector and the upcall flag again.
        fake.raise(1);
        fake.raise(200);
        assert!(fake.upcall_pending.get());
        assert_eq!(next_pending(&mut carried, &fake), Some(1));
        assert_eq!(next_pending(&mut carried, &fake), Some(200));
        assert_eq!(next_pending(&mut carried, &fake), None);
        assert!(!fake.upcall_pending.get());
    }

    #[test]
    fn an_empty_selector_is_spurious() {
        let fake = Fake::new();
        fake.upcall_pending.set(true);
        let mut carried = 0;
        assert_eq!(next_pending(&mut carried, &fake), None);
        assert!(!fake.upcall_pending.get());
        // A selector bit whose word has nothing deliverable is dropped, not looped on.
        fake.selector.set(1 << 5);
        assert_eq!(next_pending(&mut carried, &fake), None);
        assert_eq!(carried, 0);
    }
}
