//! Channels, like `std::sync::mpsc`: [`channel`] (unbounded) and [`sync_channel`] (bounded;
//! `send` blocks while full). Many senders, one receiver; a queue under a [`Mutex`] with two
//! condition variables.

use super::{Arc, Condvar, Mutex};
use alloc::collections::VecDeque;
use core::time::Duration;

struct State<T> {
    queue: VecDeque<T>,
    senders: usize,
    receiver: bool,
}

struct Shared<T> {
    state: Mutex<State<T>>,
    /// Signalled when a value arrives or the last sender leaves.
    readable: Condvar,
    /// Signalled when room appears (bounded channels) or the receiver leaves.
    writable: Condvar,
    bound: Option<usize>,
}

impl<T> Shared<T> {
    fn lock(&self) -> super::MutexGuard<'_, State<T>> {
        self.state.lock().unwrap_or_else(super::PoisonError::into_inner)
    }
}

/// The sending half; clone it for more senders.
pub struct Sender<T> {
    shared: Arc<Shared<T>>,
}

/// The sending half of a bounded channel.
pub struct SyncSender<T> {
    inner: Sender<T>,
}

/// The receiving half.
pub struct Receiver<T> {
    shared: Arc<Shared<T>>,
}

/// The receiver is gone: the value comes back.
#[derive(Debug, PartialEq, Eq)]
pub struct SendError<T>(pub T);

/// Every sender is gone and the queue is empty.
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub struct RecvError;

/// Why [`Receiver::try_recv`] got nothing.
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub enum TryRecvError {
    /// Nothing queued right now.
    Empty,
    /// Nothing queued, and every sender is gone.
    Disconnected,
}

/// Why [`Receiver::recv_timeout`] got nothing.
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub enum RecvTimeoutError {
    /// Time ran out.
    Timeout,
    /// Nothing queued, and every sender is gone.
    Disconnected,
}

/// An unbounded channel.
pub fn channel<T>() -> (Sender<T>, Receiver<T>) {
    make(None)
}

/// A channel holding at most `bound` values (at least 1: rendezvous channels are not
/// supported, a bound of 0 acts as 1).
pub fn sync_channel<T>(bound: usize) -> (SyncSender<T>, Receiver<T>) {
    let (inner, receiver) = make(Some(bound.max(1)));
    (SyncSender { inner }, receiver)
}

fn make<T>(bound: Option<usize>) -> (Sender<T>, Receiver<T>) {
    let shared = Arc::new(Shared {
        state: Mutex::new(State { queue: VecDeque::new(), senders: 1, receiver: true }),
        readable: Condvar::new(),
        writable: Condvar::new(),
        bound,
    });
    (Sender { shared: shared.clone() }, Receiver { shared })
}

impl<T> Sender<T> {
    /// Queues `value` (waiting for room on a bounded channel); fails if the receiver is gone.
    pub fn send(&self, value: T) -> Result<(), SendError<T>> {
        let shared = &*self.shared;
        let mut state = shared.lock();
        loop {
            if !state.receiver {
                return Err(SendError(value));
            }
            if shared.bound.is_none_or(|bound| state.queue.len() < bound) {
                break;
            }
            state = shared.writable.wait(state).unwrap_or_else(super::PoisonError::into_inner);
        }
        state.queue.push_back(value);
        drop(state);
        shared.readable.notify_one();
        Ok(())
    }
}

impl<T> SyncSender<T> {
    /// Queues `value`, waiting while the channel is full; fails if the receiver is gone.
    pub fn send(&self, value: T) -> Result<(), SendError<T>> {
        self.inner.send(value)
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        self.shared.lock().senders += 1;
        Self { shared: self.shared.clone() }
    }
}

impl<T> Clone for SyncSender<T> {
    fn clone(&self) -> Self {
        Self { inner: self.inner.clone() }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let mut state = self.shared.lock();
        state.senders -= 1;
        let last = state.senders == 0;
        drop(state);
        if last {
            self.shared.readable.notify_all();
        }
    }
}

impl<T> Receiver<T> {
    /// Waits for a value; fails once every sender is gone and the queue is empty.
    pub fn recv(&self) -> Result<T, RecvError> {
        self.recv_until(None).map_err(|_| RecvError)
    }

    /// Takes a value if one is queued.
    pub fn try_recv(&self) -> Result<T, TryRecvError> {
        let mut state = self.shared.lock();
        match state.queue.pop_front() {
            Some(value) => {
                drop(state);
                self.shared.writable.notify_one();
                Ok(value)
            }
            None if state.senders == 0 => Err(TryRecvError::Disconnected),
            None => Err(TryRecvError::Empty),
        }
    }

    /// Waits at most `timeout` for a value.
    pub fn recv_timeout(&self, timeout: Duration) -> Result<T, RecvTimeoutError> {
        self.recv_until(Some(timeout))
    }

    fn recv_until(&self, timeout: Option<Duration>) -> Result<T, RecvTimeoutError> {
        let shared = &*self.shared;
        let deadline = timeout.map(|t| crate::time::Instant::now() + t);
        let mut state = shared.lock();
        loop {
            if let Some(value) = state.queue.pop_front() {
                drop(state);
                shared.writable.notify_one();
                return Ok(value);
            }
            if state.senders == 0 {
                return Err(RecvTimeoutError::Disconnected);
            }
            state = match deadline {
                None => shared.readable.wait(state).unwrap_or_else(super::PoisonError::into_inner),
                Some(deadline) => {
                    let now = crate::time::Instant::now();
                    if now >= deadline {
                        return Err(RecvTimeoutError::Timeout);
                    }
                    let left = deadline.duration_since(now);
                    let (state, _) = shared
                        .readable
                        .wait_timeout(state, left)
                        .unwrap_or_else(super::PoisonError::into_inner);
                    state
                }
            };
        }
    }

    /// Values as they arrive, until every sender is gone.
    pub fn iter(&self) -> impl Iterator<Item = T> + '_ {
        core::iter::from_fn(move || self.recv().ok())
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        self.shared.lock().receiver = false;
        self.shared.writable.notify_all();
    }
}
