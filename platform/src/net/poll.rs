//! Waiting on several sockets at once: [`poll`], what C's `poll` and `select` are built on.

use super::interface::{net, State};
use super::{TcpListener, TcpStream, UdpSocket};
use crate::io;
use core::task::Waker;
use core::time::Duration;
use rivet_core::net::smoltcp::socket::{tcp, udp};

/// A socket to watch.
#[derive(Clone, Copy)]
pub enum Source<'a> {
    /// Readable when `accept` would not wait.
    Listener(&'a TcpListener),
    /// Readable when `read` would not wait (data, the end of the stream, or an error);
    /// writable when `write` would not wait.
    Stream(&'a TcpStream),
    /// Readable when a datagram waits; writable when the send queue has room.
    Udp(&'a UdpSocket),
}

/// What a socket is ready for.
#[derive(Clone, Copy, Default, PartialEq, Eq, Debug)]
pub struct Readiness {
    /// A read (or `accept`) would not wait.
    pub readable: bool,
    /// A write would not wait.
    pub writable: bool,
    /// The connection is over: the peer closed it, or it was reset.
    pub hangup: bool,
}

impl Readiness {
    /// Anything at all.
    pub fn any(&self) -> bool {
        self.readable || self.writable || self.hangup
    }
}

/// Fills `ready[i]` with what `sources[i]` is ready for, waiting until at least one is ready
/// or `timeout` passes (`None`: no limit; zero: just look). Returns how many are ready.
pub fn poll(
    sources: &[Source<'_>],
    ready: &mut [Readiness],
    timeout: Option<Duration>,
) -> io::Result<usize> {
    assert_eq!(sources.len(), ready.len(), "poll: one readiness slot per source");
    let net = net()?;
    let deadline = timeout.map(crate::time::deadline_ticks);
    let result = net.block_on(deadline, |state, waker| {
        let mut count = 0;
        for (source, slot) in sources.iter().zip(ready.iter_mut()) {
            *slot = readiness(state, *source, waker);
            count += usize::from(slot.any());
        }
        (count > 0 || timeout.is_some_and(|t| t.is_zero())).then_some(Ok(count))
    });
    match result {
        Err(e) if e.kind() == io::ErrorKind::TimedOut => Ok(0),
        other => other,
    }
}

/// One source's readiness; registers `waker` for its changes.
fn readiness(state: &mut State, source: Source<'_>, waker: &Waker) -> Readiness {
    match source {
        Source::Listener(listener) => {
            let readable = state.listener_ready(listener.index());
            if !readable {
                state.watch_listener(listener.index());
            }
            Readiness { readable, ..Readiness::default() }
        }
        Source::Stream(stream) => {
            let socket = state.stack.sockets().get_mut::<tcp::Socket>(stream.handle());
            socket.register_recv_waker(waker);
            socket.register_send_waker(waker);
            let over = matches!(socket.state(), tcp::State::Closed | tcp::State::TimeWait);
            let hangup = over || !socket.may_recv();
            Readiness {
                readable: socket.can_recv() || hangup,
                writable: socket.can_send() || over,
                hangup,
            }
        }
        Source::Udp(udp_socket) => {
            let socket = state.stack.sockets().get_mut::<udp::Socket>(udp_socket.handle());
            socket.register_recv_waker(waker);
            socket.register_send_waker(waker);
            Readiness { readable: socket.can_recv(), writable: socket.can_send(), hangup: false }
        }
    }
}
