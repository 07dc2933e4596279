//! TCP: [`TcpListener`] and [`TcpStream`], shaped like `std::net`'s.

use super::interface::{net, Net};
use super::{to_endpoint, to_socket_addr, Shutdown, ToSocketAddrs};
use crate::io::{self, ErrorKind};
use core::net::SocketAddr;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use core::time::Duration;
use rivet_core::net::smoltcp::iface::SocketHandle;
use rivet_core::net::smoltcp::socket::tcp;

/// How long `connect` waits for the interface's address (DHCP) and the handshake by default.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(20);

/// A TCP socket listening for connections.
pub struct TcpListener {
    net: &'static Net,
    index: usize,
    port: u16,
    nonblocking: AtomicBool,
}

impl TcpListener {
    /// Listens on the port of the first address of `addr` (the interface has one address, so
    /// the IP part does not choose). Waits until the interface has its address (DHCP), so
    /// that [`local_addr`](Self::local_addr) can say where clients reach it, for up to
    /// 20 seconds.
    pub fn bind(addr: impl ToSocketAddrs) -> io::Result<TcpListener> {
        let addr = first(addr)?;
        if addr.port() == 0 {
            return Err(io::Error::new(ErrorKind::InvalidInput, "listening on port 0"));
        }
        let net = net()?;
        net.wait_for_address(Some(crate::time::deadline_ticks(CONNECT_TIMEOUT)))?;
        let index = net.lock().listen(addr.port())?;
        Ok(TcpListener { net, index, port: addr.port(), nonblocking: AtomicBool::new(false) })
    }

    /// Waits for a connection and returns it with the peer's address.
    pub fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        let nonblocking = self.nonblocking.load(Ordering::Relaxed);
        let handle = self.net.block_on(None, |state, _| match state.accept(self.index) {
            Some(handle) => Some(Ok(handle)),
            None if nonblocking => Some(Err(would_block())),
            None => None,
        })?;
        let stream = TcpStream::new(self.net, handle);
        let peer = stream.peer_addr()?;
        Ok((stream, peer))
    }

    /// The address the listener is bound to (the interface's address, or `0.0.0.0` before it
    /// has one).
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        let address = self.net.lock().stack.address().map(|a| a.address());
        let ip = address.unwrap_or(core::net::Ipv4Addr::UNSPECIFIED);
        Ok(SocketAddr::new(ip.into(), self.port))
    }

    /// Makes `accept` return `WouldBlock` instead of waiting.
    pub fn set_nonblocking(&self, nonblocking: bool) -> io::Result<()> {
        self.nonblocking.store(nonblocking, Ordering::Relaxed);
        Ok(())
    }

    pub(super) fn index(&self) -> usize {
        self.index
    }

    /// Accepted connections, one by one, forever.
    pub fn incoming(&self) -> impl Iterator<Item = io::Result<TcpStream>> + '_ {
        core::iter::from_fn(move || Some(self.accept().map(|(stream, _)| stream)))
    }
}

impl Drop for TcpListener {
    fn drop(&mut self) {
        self.net.lock().unlisten(self.index);
    }
}

/// A TCP connection.
pub struct TcpStream {
    net: &'static Net,
    handle: SocketHandle,
    /// Read and write timeouts in nanoseconds (0: none).
    read_timeout: AtomicU64,
    write_timeout: AtomicU64,
    nonblocking: AtomicBool,
}

impl TcpStream {
    fn new(net: &'static Net, handle: SocketHandle) -> Self {
        Self {
            net,
            handle,
            read_timeout: AtomicU64::new(0),
            write_timeout: AtomicU64::new(0),
            nonblocking: AtomicBool::new(false),
        }
    }

    pub(super) fn handle(&self) -> SocketHandle {
        self.handle
    }

    /// Connects to the first address of `addr` that answers.
    pub fn connect(addr: impl ToSocketAddrs) -> io::Result<TcpStream> {
        let mut last = io::Error::new(ErrorKind::InvalidInput, "no address to connect to");
        for addr in addr.to_socket_addrs()? {
            match Self::connect_timeout(&addr, CONNECT_TIMEOUT) {
                Ok(stream) => return Ok(stream),
                Err(e) => last = e,
            }
        }
        Err(last)
    }

    /// Connects to `addr`, giving up after `timeout`.
    pub fn connect_timeout(addr: &SocketAddr, timeout: Duration) -> io::Result<TcpStream> {
        if timeout.is_zero() {
            return Err(io::Error::new(ErrorKind::InvalidInput, "a zero timeout"));
        }
        let remote = to_endpoint(addr)?;
        let net = net()?;
        let deadline = Some(crate::time::deadline_ticks(timeout));
        net.wait_for_address(deadline)?;
        let handle = {
            let mut state = net.lock();
            let port = state.ephemeral_port()?;
            let handle = state.new_tcp_socket();
            let (cx, sockets) = state.stack.context_and_sockets();
            if let Err(e) = sockets.get_mut::<tcp::Socket>(handle).connect(cx, remote, port) {
                sockets.remove(handle);
                return Err(io::Error::new(ErrorKind::InvalidInput, alloc::format!("{e}")));
            }
            handle
        };
        let stream = TcpStream::new(net, handle);
        net.block_on(deadline, |state, waker| {
            let socket = state.stack.sockets().get_mut::<tcp::Socket>(handle);
            match socket.state() {
                tcp::State::SynSent | tcp::State::SynReceived => {
                    socket.register_send_waker(waker);
                    socket.register_recv_waker(waker);
                    None
                }
                tcp::State::Closed => {
                    Some(Err(io::Error::new(ErrorKind::ConnectionRefused, "connection refused")))
                }
                _ => Some(Ok(())),
            }
        })?;
        Ok(stream)
    }

    /// Reads what has arrived into `buf`, waiting for at least one byte; `Ok(0)` at the end of
    /// the stream (the peer closed its side).
    pub fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        let nonblocking = self.nonblocking.load(Ordering::Relaxed);
        let deadline = deadline(&self.read_timeout);
        let handle = self.handle;
        self.net.block_on(deadline, |state, waker| {
            let socket = state.stack.sockets().get_mut::<tcp::Socket>(handle);
            match socket.recv_slice(buf) {
                Ok(0) if socket.may_recv() => {
                    if nonblocking {
                        return Some(Err(would_block()));
                    }
                    socket.register_recv_waker(waker);
                    None
                }
                Ok(n) => Some(Ok(n)),
                Err(tcp::RecvError::Finished) => Some(Ok(0)),
                Err(tcp::RecvError::InvalidState) => Some(Err(reset_or_closed(socket))),
            }
        })
    }

    /// Reads exactly `buf.len()` bytes.
    pub fn read_exact(&self, mut buf: &mut [u8]) -> io::Result<()> {
        while !buf.is_empty() {
            match self.read(buf)? {
                0 => return Err(io::Error::new(ErrorKind::ConnectionReset, "early end of stream")),
                n => buf = &mut buf[n..],
            }
        }
        Ok(())
    }

    /// Queues as much of `buf` as the send buffer takes, waiting for room for at least one
    /// byte; returns how much was queued.
    pub fn write(&self, buf: &[u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        let nonblocking = self.nonblocking.load(Ordering::Relaxed);
        let deadline = deadline(&self.write_timeout);
        let handle = self.handle;
        self.net.block_on(deadline, |state, waker| {
            let socket = state.stack.sockets().get_mut::<tcp::Socket>(handle);
            if !socket.may_send() {
                return Some(Err(match socket.state() {
                    tcp::State::Closed => reset_or_closed(socket),
                    _ => io::Error::new(
                        ErrorKind::BrokenPipe,
                        "the connection is closed for writing",
                    ),
                }));
            }
            match socket.send_slice(buf) {
                Ok(0) if nonblocking => Some(Err(would_block())),
                Ok(0) => {
                    socket.register_send_waker(waker);
                    None
                }
                Ok(n) => Some(Ok(n)),
                Err(_) => Some(Err(io::Error::new(ErrorKind::BrokenPipe, "not connected"))),
            }
        })
    }

    /// Writes all of `buf`.
    pub fn write_all(&self, mut buf: &[u8]) -> io::Result<()> {
        while !buf.is_empty() {
            let n = self.write(buf)?;
            buf = &buf[n..];
        }
        Ok(())
    }

    /// Everything written is handed to the stack at once: nothing to flush.
    pub fn flush(&self) -> io::Result<()> {
        Ok(())
    }

    /// Closes the writing half (sends FIN: the peer reads the end of the stream), or both.
    /// Reading after `Shutdown::Read` returns the end of the stream at once.
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        let mut state = self.net.lock();
        let socket = state.stack.sockets().get_mut::<tcp::Socket>(self.handle);
        match how {
            Shutdown::Write | Shutdown::Both => socket.close(),
            Shutdown::Read => {}
        }
        if how != Shutdown::Write {
            // Drain what arrived: smoltcp has no half-close for reading.
            while socket.recv(|b| (b.len(), ())).is_ok_and(|()| socket.can_recv()) {}
        }
        self.net.after_call(&mut state);
        Ok(())
    }

    /// Turns Nagle's algorithm off (`true`: small writes go out at once).
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        let mut state = self.net.lock();
        state.stack.sockets().get_mut::<tcp::Socket>(self.handle).set_nagle_enabled(!nodelay);
        Ok(())
    }

    /// Whether Nagle's algorithm is off.
    pub fn nodelay(&self) -> io::Result<bool> {
        let mut state = self.net.lock();
        Ok(!state.stack.sockets().get::<tcp::Socket>(self.handle).nagle_enabled())
    }

    /// Limits how long `read` waits (`None`: forever). A zero duration is refused, as in std.
    pub fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        set_timeout(&self.read_timeout, timeout)
    }

    /// Limits how long `write` waits (`None`: forever).
    pub fn set_write_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        set_timeout(&self.write_timeout, timeout)
    }

    /// The read timeout.
    pub fn read_timeout(&self) -> io::Result<Option<Duration>> {
        Ok(get_timeout(&self.read_timeout))
    }

    /// The write timeout.
    pub fn write_timeout(&self) -> io::Result<Option<Duration>> {
        Ok(get_timeout(&self.write_timeout))
    }

    /// Makes `read` and `write` return `WouldBlock` instead of waiting.
    pub fn set_nonblocking(&self, nonblocking: bool) -> io::Result<()> {
        self.nonblocking.store(nonblocking, Ordering::Relaxed);
        Ok(())
    }

    /// The peer's address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        let mut state = self.net.lock();
        let endpoint = state.stack.sockets().get::<tcp::Socket>(self.handle).remote_endpoint();
        endpoint.map(to_socket_addr).ok_or_else(not_connected)
    }

    /// The local address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        let mut state = self.net.lock();
        let endpoint = state.stack.sockets().get::<tcp::Socket>(self.handle).local_endpoint();
        endpoint.map(to_socket_addr).ok_or_else(not_connected)
    }
}

impl Drop for TcpStream {
    fn drop(&mut self) {
        let mut state = self.net.lock();
        state.close_stream(self.handle);
        self.net.after_call(&mut state);
    }
}

impl core::fmt::Debug for TcpStream {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("TcpStream").field("peer", &self.peer_addr().ok()).finish()
    }
}

fn first(addr: impl ToSocketAddrs) -> io::Result<SocketAddr> {
    addr.to_socket_addrs()?
        .next()
        .ok_or_else(|| io::Error::new(ErrorKind::InvalidInput, "no address given"))
}

fn deadline(timeout: &AtomicU64) -> Option<u64> {
    get_timeout(timeout).map(crate::time::deadline_ticks)
}

fn set_timeout(slot: &AtomicU64, timeout: Option<Duration>) -> io::Result<()> {
    let nanos = match timeout {
        None => 0,
        Some(t) if t.is_zero() => {
            return Err(io::Error::new(ErrorKind::InvalidInput, "a zero timeout"));
        }
        Some(t) => u64::try_from(t.as_nanos()).unwrap_or(u64::MAX),
    };
    slot.store(nanos, Ordering::Relaxed);
    Ok(())
}

fn get_timeout(slot: &AtomicU64) -> Option<Duration> {
    match slot.load(Ordering::Relaxed) {
        0 => None,
        nanos => Some(Duration::from_nanos(nanos)),
    }
}

fn would_block() -> io::Error {
    io::Error::new(ErrorKind::WouldBlock, "the operation would block")
}

fn not_connected() -> io::Error {
    io::Error::new(ErrorKind::NotConnected, "not connected")
}

fn reset_or_closed(socket: &tcp::Socket<'_>) -> io::Error {
    match socket.state() {
        tcp::State::Closed => io::Error::new(ErrorKind::ConnectionReset, "connection reset"),
        _ => not_connected(),
    }
}
