//! The network interface at run time: the stack behind a lock, the thread that polls it, and
//! how socket calls sleep until the stack has news for them.
//!
//! Who polls: the thread `net` (woken by the card's interrupt through a futex word, or when
//! smoltcp's next timer is due) and every socket call, right after it changed a socket (so a
//! `write` goes on the wire at once, not at the next interrupt). A blocked socket call parks
//! its thread after registering a waker with smoltcp (which unparks it when the socket's state
//! changes) or, for `accept` and the wait for an address, with this module; a blocked thread
//! costs no CPU. Where the card has no interrupt line the thread polls every
//! [`POLL_WITHOUT_INTERRUPT`].

use super::card::Card;
use crate::io::{self, ErrorKind};
use crate::sync::{Mutex, MutexGuard};
use crate::thread::{self, sched, Thread};
use alloc::collections::VecDeque;
use alloc::sync::Arc;
use alloc::task::Wake;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use core::task::Waker;
use core::time::Duration;
use rivet_core::net::config::Ipv4Config;
use rivet_core::net::smoltcp::iface::{SocketHandle, SocketSet};
use rivet_core::net::smoltcp::socket::tcp;
use rivet_core::net::smoltcp::time::{Duration as NetDuration, Instant as NetInstant};
use rivet_core::net::{Event, Stack};
use spin::Once;

/// How often the thread `net` polls a card that has no interrupt line.
pub(crate) const POLL_WITHOUT_INTERRUPT: Duration = Duration::from_millis(2);
/// Listening sockets kept ready per listener, replenished after every frame that takes one.
const SPARE_LISTENERS: usize = 4;
/// Connections a listener holds for `accept` (handshaking or established) at most: beyond
/// that, SYNs meet a reset, and memory stays bounded under a SYN flood.
pub(crate) const BACKLOG: usize = 128;
/// How long an unacknowledged segment (or SYN-ACK) is retried before the connection is dropped.
const TCP_TIMEOUT: NetDuration = NetDuration::from_secs(20);

/// The one interface.
pub(crate) struct Net {
    state: Mutex<State>,
    /// Bumped to wake the thread `net` (by the interrupt, or a call that needs an earlier poll).
    events: AtomicU32,
    /// When the thread `net` polls next unless woken, in clock ticks (`u64::MAX`: never).
    wake_at: AtomicU64,
    /// Bumped when the address changes; threads waiting for one sleep on it.
    configured: AtomicU32,
    has_address: AtomicBool,
    /// The card has no interrupt line: the thread polls on a timer.
    polled: AtomicBool,
    /// How the card's interrupt is acknowledged.
    ack: Acknowledge,
    /// The interrupt the handler masked ([`Acknowledge::MaskLine`]; `u32::MAX`: none): the
    /// thread `net` acknowledges the card and unmasks it.
    masked: AtomicU32,
}

/// How the card's level-triggered interrupt is quieted.
pub(crate) enum Acknowledge {
    /// virtio-mmio: the handler writes the card's InterruptACK register itself, lock-free.
    Mmio(rivet_virtio_net::InterruptAck),
    /// PCI: the card's ISR is in a BAR the driver owns, so the handler masks the line and the
    /// thread `net` reads the ISR (which clears it) under the lock, then unmasks the line.
    MaskLine,
    /// A Xen event channel: nothing to quiet (its pending bit was cleared when it was claimed).
    Event,
}

/// What the lock protects: the stack and the bookkeeping of Rivet's socket types.
pub(crate) struct State {
    pub(crate) stack: Stack<Card>,
    listeners: Vec<Option<Listener>>,
    /// Streams dropped while still connected: kept until their close handshake ends.
    closing: Vec<SocketHandle>,
    next_port: u16,
    /// Per-socket buffer sizes for new TCP sockets.
    pub(crate) tcp_buffer: usize,
}

/// A listening port: sockets waiting for a SYN and connections waiting for `accept`.
struct Listener {
    port: u16,
    listening: Vec<SocketHandle>,
    pending: VecDeque<SocketHandle>,
    /// Threads blocked in `accept`.
    waiters: Vec<Thread>,
}

static NET: Once<Net> = Once::new();

/// The interface, or the error socket calls report when there is none.
pub(crate) fn net() -> io::Result<&'static Net> {
    NET.get().ok_or_else(|| io::Error::new(ErrorKind::AddrNotAvailable, "no network interface"))
}

/// Installs the interface over `card` with the command line's set-up; [`Net::start`] starts its
/// thread. A set-up the stack refuses ends the boot (bad boot input).
pub(crate) fn install(
    card: Card,
    config: &Ipv4Config,
    ack: Acknowledge,
    tcp_buffer: usize,
) -> &'static Net {
    let mac = rivet_core::net::NetDevice::mac_address(&card);
    let seed = rivet_core::time::clock().ticks()
        ^ u64::from_le_bytes([mac[0], mac[1], mac[2], mac[3], mac[4], mac[5], 0x5a, 0xa5]);
    let stack = Stack::new(card, config, now(), seed)
        .unwrap_or_else(|e| crate::runtime::bad_boot_input(format_args!("{e}")));
    let net = NET.call_once(|| Net {
        state: Mutex::new(State {
            stack,
            listeners: Vec::new(),
            closing: Vec::new(),
            next_port: 49152,
            tcp_buffer,
        }),
        events: AtomicU32::new(0),
        wake_at: AtomicU64::new(u64::MAX),
        configured: AtomicU32::new(0),
        has_address: AtomicBool::new(false),
        polled: AtomicBool::new(false),
        ack,
        masked: AtomicU32::new(u32::MAX),
    });
    net
}

/// smoltcp's clock: time since boot.
pub(crate) fn now() -> NetInstant {
    let clock = rivet_core::time::clock();
    let nanos = rivet_core::time::ticks_to_nanos(clock.ticks(), clock.frequency());
    NetInstant::from_micros((nanos / 1000) as i64)
}

fn ticks_after(delay: NetDuration) -> u64 {
    crate::time::deadline_ticks(Duration::from_micros(delay.total_micros()))
}

/// Unparks a thread when smoltcp wakes it.
struct Unparker(Thread);

impl Wake for Unparker {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.unpark();
    }
}

/// A waker for the calling thread.
pub(crate) fn waker() -> Waker {
    Waker::from(Arc::new(Unparker(thread::current())))
}

impl Net {
    /// Called by the card's interrupt handler: wake the thread `net`.
    pub(super) fn interrupt(&self, irq: crate::interrupt::Irq) {
        match &self.ack {
            Acknowledge::Mmio(ack) => {
                ack.acknowledge();
            }
            Acknowledge::MaskLine => {
                crate::interrupt::mask(irq);
                self.masked.store(irq.0, Ordering::Release);
            }
            Acknowledge::Event => {}
        }
        self.kick();
    }

    /// Logs the card (`card`, its MAC, how its interrupt comes) and starts the thread `net`
    /// (once the interrupt is routed: its first poll sends the first frames, and the answers
    /// must not meet a masked line).
    pub(super) fn start(&'static self, card: core::fmt::Arguments<'_>, interrupt: &str) {
        let mac = rivet_core::net::NetDevice::mac_address(self.lock().stack.device());
        log::info!(
            "net: {card}, MAC {:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x} ({interrupt})",
            mac[0],
            mac[1],
            mac[2],
            mac[3],
            mac[4],
            mac[5]
        );
        let spawned = thread::Builder::new()
            .name("net".into())
            .stack_size(32 * 1024)
            .spawn(move || self.run());
        if let Err(e) = spawned {
            panic!("net: cannot start the network thread: {e}");
        }
    }

    /// The card's interrupt could not be routed: poll every [`POLL_WITHOUT_INTERRUPT`].
    pub(super) fn poll_on_timer(&self) {
        self.polled.store(true, Ordering::Release);
        self.kick();
    }

    fn kick(&self) {
        self.events.fetch_add(1, Ordering::Release);
        sched::futex_wake(&self.events, 1);
    }

    /// Locks the state (no one panics while holding it, but a poisoned lock is still usable:
    /// the stack's invariants are smoltcp's, kept by every call).
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The thread `net`: poll, sleep until the interrupt or the next timer, repeat.
    fn run(&'static self) -> ! {
        loop {
            let seen = self.events.load(Ordering::Acquire);
            let delay = {
                let mut state = self.lock();
                let masked = self.masked.swap(u32::MAX, Ordering::AcqRel);
                if masked != u32::MAX {
                    // Quiet the card first: what arrives after this raises the line again.
                    state.stack.device().ack_interrupt();
                    crate::interrupt::unmask(crate::interrupt::Irq(masked));
                }
                state.poll(self)
            };
            let delay = match (delay, self.polled.load(Ordering::Acquire)) {
                (Some(d), true) => {
                    Some(d.min(NetDuration::from_micros(POLL_WITHOUT_INTERRUPT.as_micros() as u64)))
                }
                (None, true) => {
                    Some(NetDuration::from_micros(POLL_WITHOUT_INTERRUPT.as_micros() as u64))
                }
                (d, false) => d,
            };
            let deadline = delay.map(ticks_after);
            self.wake_at.store(deadline.unwrap_or(u64::MAX), Ordering::Release);
            sched::futex_wait(&self.events, seen, deadline);
        }
    }

    /// Blocks until the interface has an address, or `deadline` (clock ticks) passes.
    pub(crate) fn wait_for_address(&self, deadline: Option<u64>) -> io::Result<()> {
        loop {
            let seen = self.configured.load(Ordering::Acquire);
            if self.has_address.load(Ordering::Acquire) {
                return Ok(());
            }
            if deadline.is_some_and(|d| rivet_core::time::clock().ticks() >= d) {
                return Err(io::Error::new(ErrorKind::AddrNotAvailable, "no address yet (DHCP)"));
            }
            sched::futex_wait(&self.configured, seen, deadline);
        }
    }

    /// Runs `attempt` under the lock until it returns a result, parking in between: `attempt`
    /// registers `waker` with whatever it waits for before returning `None`. Gives up with
    /// `TimedOut` at `deadline` (clock ticks).
    pub(crate) fn block_on<T>(
        &'static self,
        deadline: Option<u64>,
        mut attempt: impl FnMut(&mut State, &Waker) -> Option<io::Result<T>>,
    ) -> io::Result<T> {
        let waker = waker();
        loop {
            {
                let mut state = self.lock();
                let result = attempt(&mut state, &waker);
                self.after_call(&mut state);
                if let Some(result) = result {
                    return result;
                }
            }
            match deadline {
                None => thread::park(),
                Some(deadline) => {
                    let now = rivet_core::time::clock().ticks();
                    if now >= deadline {
                        return Err(io::Error::new(ErrorKind::TimedOut, "timed out"));
                    }
                    let clock = rivet_core::time::clock();
                    let nanos = rivet_core::time::ticks_to_nanos(deadline - now, clock.frequency());
                    thread::park_timeout(Duration::from_nanos(nanos));
                }
            }
        }
    }

    /// After a socket call: poll (so what it queued goes out now) and make sure the thread
    /// `net` wakes in time for the next timer.
    pub(crate) fn after_call(&self, state: &mut State) {
        if let Some(delay) = state.poll(self) {
            if ticks_after(delay) < self.wake_at.load(Ordering::Acquire) {
                self.kick();
            }
        }
    }
}

impl State {
    /// Polls the stack; returns how long until it needs polling again.
    fn poll(&mut self, net: &Net) -> Option<NetDuration> {
        let now = now();
        let listeners = &mut self.listeners;
        let tcp_buffer = self.tcp_buffer;
        let (_, event) =
            self.stack.poll(now, |sockets| refill_listeners(listeners, sockets, tcp_buffer));
        refill_listeners(&mut self.listeners, self.stack.sockets(), tcp_buffer);
        self.reap_closed();
        if let Some(event) = event {
            let had_address = net.has_address.load(Ordering::Acquire);
            if had_address || matches!(event, Event::Configured { .. }) {
                announce(&event);
            }
            net.has_address.store(matches!(event, Event::Configured { .. }), Ordering::Release);
            net.configured.fetch_add(1, Ordering::Release);
            sched::futex_wake(&net.configured, usize::MAX);
        }
        self.stack.poll_delay(now)
    }

    /// A new TCP socket with the configured buffers.
    pub(crate) fn new_tcp_socket(&mut self) -> SocketHandle {
        let socket = tcp_socket(self.tcp_buffer);
        self.stack.sockets().add(socket)
    }

    /// An unused local port for an outgoing connection or an unbound UDP socket.
    pub(crate) fn ephemeral_port(&mut self) -> io::Result<u16> {
        for _ in 0..(65535 - 49152) {
            let port = self.next_port;
            self.next_port = if port == 65535 { 49152 } else { port + 1 };
            if !self.port_in_use(port) {
                return Ok(port);
            }
        }
        Err(io::Error::new(ErrorKind::AddrInUse, "every ephemeral port is in use"))
    }

    /// Whether a TCP listener or socket uses local `port`.
    pub(crate) fn port_in_use(&mut self, port: u16) -> bool {
        self.listeners.iter().flatten().any(|l| l.port == port)
            || self.stack.sockets().iter().any(|(_, socket)| match socket {
                rivet_core::net::smoltcp::socket::Socket::Tcp(tcp) => {
                    tcp.local_endpoint().is_some_and(|e| e.port == port)
                        || tcp.listen_endpoint().port == port
                }
                rivet_core::net::smoltcp::socket::Socket::Udp(udp) => udp.endpoint().port == port,
                _ => false,
            })
    }

    /// Opens a listener on `port`; returns its index.
    pub(crate) fn listen(&mut self, port: u16) -> io::Result<usize> {
        if self.port_in_use(port) {
            return Err(io::Error::new(ErrorKind::AddrInUse, "the port is in use"));
        }
        let listener =
            Listener { port, listening: Vec::new(), pending: VecDeque::new(), waiters: Vec::new() };
        let index = match self.listeners.iter().position(Option::is_none) {
            Some(free) => {
                self.listeners[free] = Some(listener);
                free
            }
            None => {
                self.listeners.push(Some(listener));
                self.listeners.len() - 1
            }
        };
        refill_listeners(&mut self.listeners, self.stack.sockets(), self.tcp_buffer);
        Ok(index)
    }

    /// Takes an established connection from listener `index`, or registers the caller to be
    /// unparked when one comes.
    pub(crate) fn accept(&mut self, index: usize) -> Option<SocketHandle> {
        let listener = self.listeners[index].as_mut().expect("a listener's index stays valid");
        let sockets = self.stack.sockets();
        let ready = listener.pending.iter().position(|&h| {
            let socket = sockets.get::<tcp::Socket>(h);
            socket.may_send() || socket.may_recv() || socket.state() == tcp::State::CloseWait
        });
        match ready {
            Some(position) => listener.pending.remove(position),
            None => {
                let me = thread::current();
                if !listener.waiters.iter().any(|t| t.id() == me.id()) {
                    listener.waiters.push(me);
                }
                None
            }
        }
    }

    /// Closes listener `index`: its listening sockets and unaccepted connections go.
    pub(crate) fn unlisten(&mut self, index: usize) {
        if let Some(listener) = self.listeners[index].take() {
            for handle in listener.listening.into_iter().chain(listener.pending) {
                self.stack.sockets().get_mut::<tcp::Socket>(handle).abort();
                self.closing.push(handle);
            }
        }
    }

    /// Starts closing a stream's socket; it is removed once the close handshake is over.
    pub(crate) fn close_stream(&mut self, handle: SocketHandle) {
        self.stack.sockets().get_mut::<tcp::Socket>(handle).close();
        self.closing.push(handle);
    }

    fn reap_closed(&mut self) {
        let sockets = self.stack.sockets();
        self.closing.retain(|&handle| {
            let state = sockets.get::<tcp::Socket>(handle).state();
            let done = matches!(state, tcp::State::Closed | tcp::State::TimeWait);
            if done {
                sockets.remove(handle);
            }
            !done
        });
    }
}

fn tcp_socket(buffer: usize) -> tcp::Socket<'static> {
    let mut socket = tcp::Socket::new(
        tcp::SocketBuffer::new(alloc::vec![0; buffer]),
        tcp::SocketBuffer::new(alloc::vec![0; buffer]),
    );
    socket.set_timeout(Some(TCP_TIMEOUT));
    socket
}

/// Moves sockets a SYN took to their listener's pending queue, drops pending ones that died
/// (a reset, a handshake that timed out), tops each listener up to [`SPARE_LISTENERS`] within
/// [`BACKLOG`], and unparks `accept`ers when a connection waits.
fn refill_listeners(
    listeners: &mut [Option<Listener>],
    sockets: &mut SocketSet<'static>,
    buffer: usize,
) {
    for listener in listeners.iter_mut().flatten() {
        let mut index = 0;
        while index < listener.listening.len() {
            let handle = listener.listening[index];
            if sockets.get::<tcp::Socket>(handle).state() == tcp::State::Listen {
                index += 1;
            } else {
                listener.listening.swap_remove(index);
                listener.pending.push_back(handle);
            }
        }
        listener.pending.retain(|&handle| {
            let alive = sockets.get::<tcp::Socket>(handle).state() != tcp::State::Closed;
            if !alive {
                sockets.remove(handle);
            }
            alive
        });
        while listener.listening.len() < SPARE_LISTENERS
            && listener.listening.len() + listener.pending.len() < BACKLOG
        {
            let mut socket = tcp_socket(buffer);
            if socket.listen(listener.port).is_err() {
                break;
            }
            listener.listening.push(sockets.add(socket));
        }
        let established = listener.pending.iter().any(|&h| {
            let state = sockets.get::<tcp::Socket>(h).state();
            !matches!(state, tcp::State::SynReceived | tcp::State::Listen)
        });
        if established {
            for waiter in listener.waiters.drain(..) {
                waiter.unpark();
            }
        }
    }
}

fn announce(event: &Event) {
    match event {
        Event::Configured { address, gateway, dns } => {
            let mut line = alloc::format!("net: address {address}");
            if let Some(gateway) = gateway {
                line += &alloc::format!(", gateway {gateway}");
            }
            for (i, server) in dns.iter().enumerate() {
                line += &alloc::format!("{}{server}", if i == 0 { ", dns " } else { " " });
            }
            log::info!("{line}");
        }
        Event::Deconfigured => log::warn!("net: the DHCP lease ended: no address"),
    }
}

impl State {
    /// Whether listener `index` has a connection `accept` would return at once.
    pub(crate) fn listener_ready(&mut self, index: usize) -> bool {
        let Some(listener) = self.listeners[index].as_ref() else { return false };
        let sockets = self.stack.sockets();
        listener.pending.iter().any(|&h| {
            let state = sockets.get::<tcp::Socket>(h).state();
            !matches!(state, tcp::State::SynReceived | tcp::State::Listen)
        })
    }

    /// Asks to be unparked when listener `index` has a connection.
    pub(crate) fn watch_listener(&mut self, index: usize) {
        if let Some(listener) = self.listeners[index].as_mut() {
            let me = thread::current();
            if !listener.waiters.iter().any(|t| t.id() == me.id()) {
                listener.waiters.push(me);
            }
        }
    }
}
