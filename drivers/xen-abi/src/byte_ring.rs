//! Byte rings in a shared page: the PV console (`io/console.h`) and xenstore (`io/xs_wire.h`).
//!
//! Each direction of such a ring is a power-of-two array of bytes and two free-running `u32`
//! indices: the producer writes at `prod`, then publishes `prod += n`; the consumer reads at
//! `cons`, then publishes `cons += n`. A byte's slot is `index & (size - 1)`. Both indices live
//! in memory the other domain writes at any time, so this module treats them as untrusted: a
//! producer that runs more than `size` bytes ahead of its consumer (or behind it) is a
//! [`RingIndexError`], never a slot outside the array.
//!
//! The accesses to the shared page are the platform's ([`SharedBytes`], volatile reads and
//! writes with the fences the protocol needs); the arithmetic here is pure and host-tested.

/// The indices of a ring are further apart than the ring is long: the other side is broken or
/// hostile. Carries what was read, for the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RingIndexError {
    /// The producer index read.
    pub producer: u32,
    /// The consumer index read.
    pub consumer: u32,
    /// The ring's size in bytes.
    pub size: u32,
}

impl core::fmt::Display for RingIndexError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "ring indexes out of range: producer {} consumer {} on a {}-byte ring",
            self.producer, self.consumer, self.size
        )
    }
}

/// Bytes written but not yet consumed: `prod - cons` (wrapping), checked to be at most `size`.
pub fn unconsumed(producer: u32, consumer: u32, size: u32) -> Result<u32, RingIndexError> {
    let used = producer.wrapping_sub(consumer);
    if used > size {
        return Err(RingIndexError { producer, consumer, size });
    }
    Ok(used)
}

/// The contiguous run of at most `len` bytes from ring index `index`: `(offset, run)`, the run
/// ending at the array's end at the latest. `size` is a power of two.
pub fn contiguous(index: u32, len: u32, size: u32) -> (usize, usize) {
    debug_assert!(size.is_power_of_two());
    let offset = index & (size - 1);
    (offset as usize, len.min(size - offset) as usize)
}

/// One direction of a byte ring in shared memory, as the platform accesses it.
///
/// `producer`/`consumer` read an index once (volatile); the `set_*` calls publish one, with a
/// release fence before (the bytes first, then the index). `write_at`/`read_at` copy within
/// the array (`offset + len <= size()`, which callers here guarantee).
pub trait SharedBytes {
    /// The array's length in bytes (a power of two).
    fn size(&self) -> u32;
    /// The producer index, as the shared page holds it now.
    fn producer(&self) -> u32;
    /// The consumer index, as the shared page holds it now.
    fn consumer(&self) -> u32;
    /// Publishes a new producer index (after the bytes it covers are written).
    fn set_producer(&self, index: u32);
    /// Publishes a new consumer index (after the bytes it frees are read).
    fn set_consumer(&self, index: u32);
    /// Copies `bytes` into the array at `offset`.
    fn write_at(&self, offset: usize, bytes: &[u8]);
    /// Copies `out.len()` bytes of the array at `offset` into `out`.
    fn read_at(&self, offset: usize, out: &mut [u8]);
}

/// Writes as much of `data` as fits and publishes it; returns the bytes written (0 when full).
/// For the ring this side produces.
pub fn send(ring: &impl SharedBytes, data: &[u8]) -> Result<usize, RingIndexError> {
    let size = ring.size();
    let producer = ring.producer();
    let free = size - unconsumed(producer, ring.consumer(), size)?;
    let total = (data.len() as u64).min(u64::from(free)) as u32;
    let mut done = 0u32;
    while done < total {
        let (offset, run) = contiguous(producer.wrapping_add(done), total - done, size);
        ring.write_at(offset, &data[done as usize..done as usize + run]);
        done += run as u32;
    }
    if total > 0 {
        ring.set_producer(producer.wrapping_add(total));
    }
    Ok(total as usize)
}

/// Reads as many waiting bytes as fit in `out` and frees them; returns the bytes read (0 when
/// empty). For the ring the other side produces.
pub fn receive(ring: &impl SharedBytes, out: &mut [u8]) -> Result<usize, RingIndexError> {
    let size = ring.size();
    let consumer = ring.consumer();
    let waiting = unconsumed(ring.producer(), consumer, size)?;
    let total = (out.len() as u64).min(u64::from(waiting)) as u32;
    let mut done = 0u32;
    while done < total {
        let (offset, run) = contiguous(consumer.wrapping_add(done), total - done, size);
        ring.read_at(offset, &mut out[done as usize..done as usize + run]);
        done += run as u32;
    }
    if total > 0 {
        ring.set_consumer(consumer.wrapping_add(total));
    }
    Ok(total as usize)
}

/// Bytes the other side has not consumed yet (0: everything sent has been taken).
pub fn pending(ring: &impl SharedBytes) -> Result<u32, RingIndexError> {
    unconsumed(ring.producer(), ring.consumer(), ring.size())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::cell::{Cell, RefCell};

    /// A ring in ordinary memory.
    pub(crate) struct FakeRing {
        pub bytes: RefCell<Vec<u8>>,
        pub prod: Cell<u32>,
        pub cons: Cell<u32>,
    }

    impl FakeRing {
        pub(crate) fn new(size: usize, start: u32) -> Self {
            Self {
                bytes: RefCell::new(vec![0; size]),
                prod: Cell::new(start),
                cons: Cell::new(start),
            }
        }
    }

    impl SharedBytes for FakeRing {
        fn size(&self) -> u32 {
            self.bytes.borrow().len() as u32
        }
        fn producer(&self) -> u32 {
            self.prod.get()
        }
        fn consumer(&self) -> u32 {
            self.cons.get()
        }
        fn set_producer(&self, index: u32) {
            self.prod.set(index)
        }
        fn set_consumer(&self, index: u32) {
            self.cons.set(index)
        }
        fn write_at(&self, offset: usize, bytes: &[u8]) {
            self.bytes.borrow_mut()[offset..offset + bytes.len()].copy_from_slice(bytes);
        }
        fn read_at(&self, offset: usize, out: &mut [u8]) {
            out.copy_from_slice(&self.bytes.borrow()[offset..offset + out.len()]);
        }
    }

    #[test]
    fn bytes_round_trip_across_the_wrap_of_the_array_and_of_u32() {
        for start in [0, 1000, u32::MAX - 700] {
            let ring = FakeRing::new(1024, start);
            let mut sent = Vec::new();
            let mut received = Vec::new();
            let mut next = 0u8;
            for round in 0..300 {
                let chunk: Vec<u8> = (0..(round * 7 % 900 + 1))
                    .map(|_| {
                        next = next.wrapping_add(13);
                        next
                    })
                    .collect();
                let n = send(&ring, &chunk).unwrap();
                sent.extend_from_slice(&chunk[..n]);
                let mut out = vec![0; round * 5 % 1100 + 1];
                let got = receive(&ring, &mut out).unwrap();
                received.extend_from_slice(&out[..got]);
            }
            let mut out = vec![0; 2048];
            let got = receive(&ring, &mut out).unwrap();
            received.extend_from_slice(&out[..got]);
            assert_eq!(sent, received);
            assert_eq!(pending(&ring).unwrap(), 0);
        }
    }

    #[test]
    fn a_full_ring_takes_nothing_and_an_empty_one_gives_nothing() {
        let ring = FakeRing::new(16, u32::MAX - 3);
        assert_eq!(send(&ring, &[1; 40]).unwrap(), 16);
        assert_eq!(send(&ring, &[1; 4]).unwrap(), 0);
        assert_eq!(pending(&ring).unwrap(), 16);
        let mut out = [0; 40];
        assert_eq!(receive(&ring, &mut out).unwrap(), 16);
        assert_eq!(receive(&ring, &mut out).unwrap(), 0);
    }

    #[test]
    fn hostile_indexes_are_errors_not_slots() {
        let ring = FakeRing::new(1024, 0);
        ring.prod.set(1025);
        assert_eq!(
            receive(&ring, &mut [0; 8]),
            Err(RingIndexError { producer: 1025, consumer: 0, size: 1024 })
        );
        // A consumer ahead of the producer reads as a huge backlog: refused too.
        ring.prod.set(10);
        ring.cons.set(11);
        assert!(send(&ring, b"x").is_err());
        assert!(pending(&ring).is_err());
        // Nothing was published by the failed calls.
        assert_eq!((ring.prod.get(), ring.cons.get()), (10, 11));
    }

    #[test]
    fn contiguous_runs_stop_at_the_array_end() {
        assert_eq!(contiguous(1020, 10, 1024), (1020, 4));
        assert_eq!(contiguous(1024, 10, 1024), (0, 10));
        assert_eq!(contiguous(u32::MAX, 10, 1024), (1023, 1));
    }
}
