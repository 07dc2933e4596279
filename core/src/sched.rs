//! The scheduler's bookkeeping: who runs where, who is ready, who waits for what and until when.
//!
//! [`Scheduler`] is plain data with no lock and no CPU in it: the platform keeps one behind its
//! scheduler lock, asks it what to run next, and does the context switch itself. Keeping the
//! decisions here means the policy is tested on the host, thread by thread and tick by tick.
//!
//! - **Run queues**: one FIFO per core. A new or woken thread goes to an idle core if there is
//!   one, else to the core with the shortest queue (a woken thread prefers the core it last ran
//!   on when that core is no busier); a core whose queue is empty steals the oldest thread of the
//!   longest queue. Balancing is thus done at the two moments it is cheap, without a periodic pass.
//! - **Preemption**: a running thread gets a time slice; [`Scheduler::should_preempt`] says when
//!   it has used it up *and* someone else is waiting, so a lone thread is never interrupted.
//! - **Timers**: blocked threads with a deadline sit in a binary heap keyed by deadline. A heap
//!   rather than a timer wheel: a unikernel has tens of sleepers, not millions, and a heap gives
//!   exact deadlines (in clock ticks) with no tick granularity and no periodic interrupt.
//! - **Futex queues**: a thread waiting on a word (the address of an atomic, as Linux's futex)
//!   is queued under that address; mutexes, condition variables, joins and parking are all built
//!   on [`Scheduler::wait`] and [`Scheduler::wake_address`] in the platform.
//!
//! Every operation that makes a thread ready returns a [`Kicks`] set: the cores that should be
//! told (by an inter-processor interrupt) to look at their queue again.
//!
//! Time is in clock ticks (`u64`), as the platform's alarm takes it. Non-goals: priorities,
//! affinity masks, fairness beyond round-robin.

use alloc::collections::{BTreeMap, BinaryHeap, VecDeque};
use alloc::vec::Vec;
use core::cmp::Reverse;

/// A thread's identity, never reused during a run.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug, Hash)]
pub struct ThreadId(pub u64);

/// The most cores the scheduler tracks (the width of [`Kicks`]).
pub const MAX_CORES: usize = 64;

/// A set of cores to send a reschedule interrupt to.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct Kicks(u64);

impl Kicks {
    /// No core.
    pub const NONE: Kicks = Kicks(0);

    fn add(&mut self, core: usize) {
        self.0 |= 1 << core;
    }

    /// Joins two sets.
    pub fn union(self, other: Kicks) -> Kicks {
        Kicks(self.0 | other.0)
    }

    /// The set without `core` (the caller, which needs no interrupt to notice).
    pub fn without(self, core: usize) -> Kicks {
        Kicks(self.0 & !(1 << core))
    }

    /// The cores in the set, lowest first.
    pub fn cores(self) -> impl Iterator<Item = usize> {
        (0..MAX_CORES).filter(move |core| self.0 & (1 << core) != 0)
    }

    /// Whether the set is empty.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
}

/// Where a thread is.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum State {
    /// In a run queue.
    Ready,
    /// Running on a core.
    Running(usize),
    /// Waiting for a wake-up or its deadline.
    Blocked,
    /// Done; its entry stays until [`Scheduler::remove`].
    Finished,
}

/// Why a blocked thread was woken.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Wakeup {
    /// Someone woke it (a futex wake, an unpark).
    Woken,
    /// Its deadline passed first.
    TimedOut,
}

/// Why the running thread is giving up its core.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Switch {
    /// It still wants to run: back to the end of the queue (yield, preemption).
    Yield,
    /// It has blocked (after [`Scheduler::wait`]) or finished (after [`Scheduler::finish`]).
    Leave,
}

#[derive(Debug)]
struct Thread {
    state: State,
    /// The core it last ran on, for cache-friendly wake-ups.
    last_core: usize,
    /// The deadline of its current wait, if any.
    deadline: Option<u64>,
    /// The address it waits on, if any.
    address: Option<usize>,
    /// How its last wait ended.
    wakeup: Wakeup,
}

#[derive(Debug, Default)]
struct Core {
    queue: VecDeque<ThreadId>,
    /// The thread running here; `None` while the core idles.
    current: Option<ThreadId>,
    /// When the current thread's time slice ends, in ticks.
    slice_end: u64,
    online: bool,
}

/// Why a scheduler operation was refused: a broken invariant of the caller.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum SchedError {
    /// The thread id is not known (never added, or removed).
    UnknownThread(ThreadId),
    /// The core number is beyond the cores the scheduler was made with.
    UnknownCore(usize),
    /// The core is not running the thread the call names.
    NotRunning(ThreadId),
}

impl core::fmt::Display for SchedError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            SchedError::UnknownThread(id) => write!(f, "unknown thread {}", id.0),
            SchedError::UnknownCore(core) => write!(f, "unknown core {core}"),
            SchedError::NotRunning(id) => write!(f, "thread {} is not running here", id.0),
        }
    }
}

/// The run queues, timers and wait queues of every core.
#[derive(Debug)]
pub struct Scheduler {
    cores: Vec<Core>,
    threads: BTreeMap<ThreadId, Thread>,
    timers: BinaryHeap<Reverse<(u64, ThreadId)>>,
    waiters: BTreeMap<usize, VecDeque<ThreadId>>,
    slice: u64,
}

impl Scheduler {
    /// A scheduler for `cores` cores (core 0 online, the others once [`Self::online`] says so),
    /// giving each thread `slice` ticks before another ready thread may preempt it.
    pub fn new(cores: usize, slice: u64) -> Self {
        let cores = cores.clamp(1, MAX_CORES);
        let mut all: Vec<Core> = (0..cores).map(|_| Core::default()).collect();
        all[0].online = true;
        Self {
            cores: all,
            threads: BTreeMap::new(),
            timers: BinaryHeap::new(),
            waiters: BTreeMap::new(),
            slice,
        }
    }

    /// Marks `core` as running the scheduler: it may be given threads from now on.
    pub fn online(&mut self, core: usize) -> Result<(), SchedError> {
        self.core_mut(core)?.online = true;
        Ok(())
    }

    /// Cores online.
    pub fn online_cores(&self) -> usize {
        self.cores.iter().filter(|c| c.online).count()
    }

    fn core_mut(&mut self, core: usize) -> Result<&mut Core, SchedError> {
        self.cores.get_mut(core).ok_or(SchedError::UnknownCore(core))
    }

    fn thread_mut(&mut self, id: ThreadId) -> Result<&mut Thread, SchedError> {
        self.threads.get_mut(&id).ok_or(SchedError::UnknownThread(id))
    }

    /// Records `id` as already running on `core` (the thread that called `main`).
    pub fn adopt(&mut self, id: ThreadId, core: usize, now: u64) -> Result<(), SchedError> {
        let slice = self.slice;
        let c = self.core_mut(core)?;
        c.current = Some(id);
        c.slice_end = now.saturating_add(slice);
        self.threads.insert(
            id,
            Thread {
                state: State::Running(core),
                last_core: core,
                deadline: None,
                address: None,
                wakeup: Wakeup::Woken,
            },
        );
        Ok(())
    }

    /// Adds a new thread, ready to run. Returns the core to kick.
    pub fn add(&mut self, id: ThreadId, preferred: usize) -> Kicks {
        let thread = Thread {
            state: State::Blocked,
            last_core: preferred,
            deadline: None,
            address: None,
            wakeup: Wakeup::Woken,
        };
        self.threads.insert(id, thread);
        self.make_ready(id)
    }

    /// The thread's state, if it is known.
    pub fn state(&self, id: ThreadId) -> Option<State> {
        self.threads.get(&id).map(|t| t.state)
    }

    /// The thread running on `core` (`None`: the core idles).
    pub fn current(&self, core: usize) -> Option<ThreadId> {
        self.cores.get(core).and_then(|c| c.current)
    }

    /// Threads waiting in `core`'s run queue.
    pub fn queued(&self, core: usize) -> usize {
        self.cores.get(core).map_or(0, |c| c.queue.len())
    }

    /// Picks the core for a thread becoming ready, queues it there, and says whom to kick.
    fn make_ready(&mut self, id: ThreadId) -> Kicks {
        let Some(thread) = self.threads.get_mut(&id) else { return Kicks::NONE };
        thread.state = State::Ready;
        let last = thread.last_core;
        let load = |c: &Core| c.queue.len() + usize::from(c.current.is_some());
        let online = self.cores.iter().enumerate().filter(|(_, c)| c.online);
        // An idle core first (the last one this thread used if it idles), else the least loaded,
        // preferring the last core on a tie.
        let best = online
            .min_by_key(|&(i, c)| (load(c), usize::from(i != last)))
            .map(|(i, _)| i)
            .unwrap_or(0);
        self.cores[best].queue.push_back(id);
        let mut kicks = Kicks::NONE;
        kicks.add(best);
        kicks
    }

    /// Puts the thread running on `core` to sleep until [`Self::wake`] or, if given, `deadline`
    /// (in ticks); with an `address`, it joins that address's wait queue. The caller then
    /// switches away with [`Switch::Leave`].
    pub fn wait(
        &mut self,
        core: usize,
        address: Option<usize>,
        deadline: Option<u64>,
    ) -> Result<ThreadId, SchedError> {
        let id = self.core_mut(core)?.current.ok_or(SchedError::UnknownCore(core))?;
        let thread = self.thread_mut(id)?;
        thread.state = State::Blocked;
        thread.deadline = deadline;
        thread.address = address;
        thread.wakeup = Wakeup::Woken;
        if let Some(deadline) = deadline {
            self.timers.push(Reverse((deadline, id)));
        }
        if let Some(address) = address {
            self.waiters.entry(address).or_default().push_back(id);
        }
        Ok(id)
    }

    /// Wakes `id` if it is blocked (from any wait); returns whom to kick. Waking a thread that
    /// is not blocked does nothing: wake-ups are not counted.
    pub fn wake(&mut self, id: ThreadId) -> Kicks {
        self.wake_as(id, Wakeup::Woken)
    }

    fn wake_as(&mut self, id: ThreadId, why: Wakeup) -> Kicks {
        let Some(thread) = self.threads.get_mut(&id) else { return Kicks::NONE };
        if thread.state != State::Blocked {
            return Kicks::NONE;
        }
        thread.wakeup = why;
        let deadline = thread.deadline.take();
        let address = thread.address.take();
        if deadline.is_some() {
            self.timers.retain(|Reverse((_, waiting))| *waiting != id);
        }
        if let Some(address) = address {
            if let Some(queue) = self.waiters.get_mut(&address) {
                queue.retain(|waiting| *waiting != id);
                if queue.is_empty() {
                    self.waiters.remove(&address);
                }
            }
        }
        self.make_ready(id)
    }

    /// Wakes up to `count` threads waiting on `address`, oldest first. Returns how many were
    /// woken and whom to kick.
    pub fn wake_address(&mut self, address: usize, count: usize) -> (usize, Kicks) {
        let mut woken = 0;
        let mut kicks = Kicks::NONE;
        while woken < count {
            let Some(id) = self.waiters.get(&address).and_then(|q| q.front().copied()) else {
                break;
            };
            kicks = kicks.union(self.wake_as(id, Wakeup::Woken));
            woken += 1;
        }
        (woken, kicks)
    }

    /// How the last wait of `id` ended.
    pub fn wakeup(&self, id: ThreadId) -> Option<Wakeup> {
        self.threads.get(&id).map(|t| t.wakeup)
    }

    /// Wakes every thread whose deadline is at or before `now`; returns whom to kick.
    pub fn expire(&mut self, now: u64) -> Kicks {
        let mut kicks = Kicks::NONE;
        while let Some(&Reverse((deadline, id))) = self.timers.peek() {
            if deadline > now {
                break;
            }
            self.timers.pop();
            kicks = kicks.union(self.wake_as(id, Wakeup::TimedOut));
        }
        kicks
    }

    /// The earliest deadline `core` must be interrupted at: the first timer, or the end of the
    /// running thread's slice if another thread waits for this core.
    pub fn next_deadline(&self, core: usize) -> Option<u64> {
        let timer = self.timers.peek().map(|Reverse((deadline, _))| *deadline);
        let slice = self
            .cores
            .get(core)
            .filter(|c| c.current.is_some() && !c.queue.is_empty())
            .map(|c| c.slice_end);
        match (timer, slice) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Whether `core` should switch now: it idles and has work, or its thread's slice is over
    /// and another thread is waiting.
    pub fn should_preempt(&self, core: usize, now: u64) -> bool {
        let Some(c) = self.cores.get(core) else { return false };
        match c.current {
            None => !c.queue.is_empty() || self.stealable(core).is_some(),
            Some(_) => now >= c.slice_end && !c.queue.is_empty(),
        }
    }

    /// The core with the longest queue other than `core`, if it has a thread to spare.
    fn stealable(&self, core: usize) -> Option<usize> {
        self.cores
            .iter()
            .enumerate()
            .filter(|&(i, c)| i != core && !c.queue.is_empty())
            .max_by_key(|(_, c)| c.queue.len())
            .map(|(i, _)| i)
    }

    /// The running thread of `core` gives up the core (`why`); returns the thread to run next
    /// (`None`: idle). The caller switches to it, or stays if it is the same thread.
    pub fn switch(
        &mut self,
        core: usize,
        why: Switch,
        now: u64,
    ) -> Result<Option<ThreadId>, SchedError> {
        let slice = self.slice;
        let previous = self.core_mut(core)?.current.take();
        if let (Some(id), Switch::Yield) = (previous, why) {
            let thread = self.thread_mut(id)?;
            thread.state = State::Ready;
            self.cores[core].queue.push_back(id);
        }
        let next = match self.cores[core].queue.pop_front() {
            Some(id) => Some(id),
            None => self.stealable(core).and_then(|victim| self.cores[victim].queue.pop_front()),
        };
        if let Some(id) = next {
            let thread = self.thread_mut(id)?;
            thread.state = State::Running(core);
            thread.last_core = core;
            let c = &mut self.cores[core];
            c.current = Some(id);
            c.slice_end = now.saturating_add(slice);
        }
        Ok(next)
    }

    /// Marks the thread running on `core` as finished; the caller then switches away with
    /// [`Switch::Leave`].
    pub fn finish(&mut self, core: usize) -> Result<ThreadId, SchedError> {
        let id = self.core_mut(core)?.current.ok_or(SchedError::UnknownCore(core))?;
        self.thread_mut(id)?.state = State::Finished;
        Ok(id)
    }

    /// Forgets a finished thread.
    pub fn remove(&mut self, id: ThreadId) -> Result<(), SchedError> {
        match self.threads.get(&id).map(|t| t.state) {
            Some(State::Finished) => {
                self.threads.remove(&id);
                Ok(())
            }
            Some(_) => Err(SchedError::NotRunning(id)),
            None => Err(SchedError::UnknownThread(id)),
        }
    }

    /// Threads waiting in any run queue.
    pub fn ready(&self) -> usize {
        self.cores.iter().map(|c| c.queue.len()).sum()
    }

    /// The earliest timer deadline, if any thread waits with one.
    pub fn first_deadline(&self) -> Option<u64> {
        self.timers.peek().map(|Reverse((deadline, _))| *deadline)
    }

    /// Threads known (running, ready, blocked or finished but not removed).
    pub fn threads(&self) -> usize {
        self.threads.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: [ThreadId; 6] =
        [ThreadId(0), ThreadId(1), ThreadId(2), ThreadId(3), ThreadId(4), ThreadId(5)];

    fn one_core() -> Scheduler {
        let mut s = Scheduler::new(1, 100);
        s.adopt(T[0], 0, 0).unwrap();
        s
    }

    #[test]
    fn round_robin_on_one_core() {
        let mut s = one_core();
        assert_eq!(s.add(T[1], 0), Kicks(1));
        s.add(T[2], 0);
        assert_eq!(s.switch(0, Switch::Yield, 10), Ok(Some(T[1])));
        assert_eq!(s.switch(0, Switch::Yield, 20), Ok(Some(T[2])));
        assert_eq!(s.switch(0, Switch::Yield, 30), Ok(Some(T[0])));
        assert_eq!(s.state(T[1]), Some(State::Ready));
        assert_eq!(s.state(T[0]), Some(State::Running(0)));
    }

    #[test]
    fn a_lone_thread_is_not_preempted() {
        let mut s = one_core();
        assert!(!s.should_preempt(0, 1_000_000));
        assert_eq!(s.next_deadline(0), None, "no timer, nobody waiting: tickless");
        s.add(T[1], 0);
        assert!(!s.should_preempt(0, 99));
        assert!(s.should_preempt(0, 100));
        assert_eq!(s.next_deadline(0), Some(100), "the slice end, now that someone waits");
    }

    #[test]
    fn timers_wake_in_deadline_order_and_report_timeouts() {
        let mut s = one_core();
        s.add(T[1], 0);
        s.add(T[2], 0);
        assert_eq!(s.wait(0, None, Some(500)), Ok(T[0]));
        assert_eq!(s.switch(0, Switch::Leave, 0), Ok(Some(T[1])));
        s.wait(0, None, Some(300)).unwrap();
        assert_eq!(s.switch(0, Switch::Leave, 0), Ok(Some(T[2])));
        assert_eq!(s.next_deadline(0), Some(300));
        assert_eq!(s.expire(299), Kicks::NONE);
        assert_eq!(s.expire(300), Kicks(1));
        assert_eq!(s.state(T[1]), Some(State::Ready));
        assert_eq!(s.state(T[0]), Some(State::Blocked));
        assert_eq!(s.wakeup(T[1]), Some(Wakeup::TimedOut));
        assert_eq!(s.next_deadline(0), Some(100), "T1 waits: T2's slice end");
        s.expire(1000);
        assert_eq!(s.state(T[0]), Some(State::Ready));
    }

    #[test]
    fn futex_wake_is_fifo_and_cancels_the_timer() {
        let mut s = one_core();
        s.add(T[1], 0);
        s.add(T[2], 0);
        s.wait(0, Some(0x1000), Some(50)).unwrap();
        assert_eq!(s.switch(0, Switch::Leave, 0), Ok(Some(T[1])));
        s.wait(0, Some(0x1000), None).unwrap();
        assert_eq!(s.switch(0, Switch::Leave, 0), Ok(Some(T[2])));
        assert_eq!(s.wake_address(0x1000, 1), (1, Kicks(1)));
        assert_eq!(s.state(T[0]), Some(State::Ready));
        assert_eq!(s.wakeup(T[0]), Some(Wakeup::Woken));
        assert_eq!(s.next_deadline(0), Some(100), "T0's timer is gone; only T2's slice");
        assert_eq!(s.expire(1000), Kicks::NONE);
        assert_eq!(s.wake_address(0x1000, 5), (1, Kicks(1)));
        assert_eq!(s.wake_address(0x1000, 5), (0, Kicks::NONE));
        assert!(s.waiters.is_empty());
    }

    #[test]
    fn a_timeout_leaves_the_wait_queue() {
        let mut s = one_core();
        s.add(T[1], 0);
        s.wait(0, Some(0x2000), Some(10)).unwrap();
        s.switch(0, Switch::Leave, 0).unwrap();
        s.expire(10);
        assert_eq!(s.wakeup(T[0]), Some(Wakeup::TimedOut));
        assert_eq!(s.wake_address(0x2000, 1), (0, Kicks::NONE));
    }

    #[test]
    fn waking_a_running_thread_does_nothing() {
        let mut s = one_core();
        assert_eq!(s.wake(T[0]), Kicks::NONE);
        assert_eq!(s.wake(T[5]), Kicks::NONE);
        assert_eq!(s.state(T[0]), Some(State::Running(0)));
    }

    #[test]
    fn idle_core_gets_new_threads_and_steals() {
        let mut s = Scheduler::new(2, 100);
        s.adopt(T[0], 0, 0).unwrap();
        assert_eq!(s.add(T[1], 0), Kicks(1), "core 1 is offline");
        s.online(1).unwrap();
        assert_eq!(s.add(T[2], 0), Kicks(2), "core 1 idles: it gets the thread");
        assert_eq!(s.switch(1, Switch::Leave, 0), Ok(Some(T[2])));
        // Core 1 finishes its thread; T1 still waits on core 0's queue: core 1 steals it.
        assert_eq!(s.finish(1), Ok(T[2]));
        assert_eq!(s.switch(1, Switch::Leave, 0), Ok(Some(T[1])));
        assert_eq!(s.state(T[1]), Some(State::Running(1)));
        assert_eq!(s.remove(T[2]), Ok(()));
        assert_eq!(s.remove(T[1]), Err(SchedError::NotRunning(T[1])));
        assert_eq!(s.switch(7, Switch::Leave, 0), Err(SchedError::UnknownCore(7)));
    }

    #[test]
    fn woken_threads_spread_over_cores() {
        let mut s = Scheduler::new(4, 100);
        for core in 1..4 {
            s.online(core).unwrap();
        }
        s.adopt(T[0], 0, 0).unwrap();
        let kicks: Vec<Kicks> = (1..5).map(|i| s.add(T[i], 0)).collect();
        assert_eq!(kicks, [Kicks(2), Kicks(4), Kicks(8), Kicks(1)]);
        assert_eq!(Kicks(0b1011).without(0).cores().collect::<Vec<_>>(), [1, 3]);
    }
}
