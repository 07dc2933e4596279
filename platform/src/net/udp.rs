//! UDP: [`UdpSocket`], shaped like `std::net::UdpSocket`.

use super::interface::{net, Net};
use super::{to_endpoint, to_socket_addr, ToSocketAddrs};
use crate::io::{self, ErrorKind};
use alloc::vec;
use core::net::SocketAddr;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use core::time::Duration;
use rivet_core::net::smoltcp::iface::SocketHandle;
use rivet_core::net::smoltcp::socket::udp;

/// Datagrams queued in each direction at most.
const QUEUED_DATAGRAMS: usize = 32;
/// Payload bytes queued in each direction at most.
const QUEUED_BYTES: usize = 64 * 1024;
/// The largest datagram payload an Ethernet frame carries unfragmented.
const MAX_PAYLOAD: usize = 1472;

/// A UDP socket.
pub struct UdpSocket {
    net: &'static Net,
    handle: SocketHandle,
    read_timeout: AtomicU64,
    nonblocking: AtomicBool,
}

impl UdpSocket {
    /// Binds a socket to the port of the first address of `addr` (port 0: an ephemeral one).
    pub fn bind(addr: impl ToSocketAddrs) -> io::Result<UdpSocket> {
        let addr = addr
            .to_socket_addrs()?
            .next()
            .ok_or_else(|| io::Error::new(ErrorKind::InvalidInput, "no address given"))?;
        let net = net()?;
        let mut state = net.lock();
        let port = match addr.port() {
            0 => state.ephemeral_port()?,
            port if state.port_in_use(port) => {
                return Err(io::Error::new(ErrorKind::AddrInUse, "the port is in use"));
            }
            port => port,
        };
        let buffer = || {
            udp::PacketBuffer::new(
                vec![udp::PacketMetadata::EMPTY; QUEUED_DATAGRAMS],
                vec![0; QUEUED_BYTES],
            )
        };
        let mut socket = udp::Socket::new(buffer(), buffer());
        socket
            .bind(port)
            .map_err(|e| io::Error::new(ErrorKind::InvalidInput, alloc::format!("{e}")))?;
        let handle = state.stack.sockets().add(socket);
        Ok(UdpSocket {
            net,
            handle,
            read_timeout: AtomicU64::new(0),
            nonblocking: AtomicBool::new(false),
        })
    }

    pub(super) fn handle(&self) -> SocketHandle {
        self.handle
    }

    /// Sends `buf` as one datagram to `addr`; waits for room in the send queue.
    pub fn send_to(&self, buf: &[u8], addr: impl ToSocketAddrs) -> io::Result<usize> {
        if buf.len() > MAX_PAYLOAD {
            return Err(io::Error::new(ErrorKind::InvalidInput, "datagram larger than 1472 bytes"));
        }
        let addr = addr
            .to_socket_addrs()?
            .next()
            .ok_or_else(|| io::Error::new(ErrorKind::InvalidInput, "no address given"))?;
        let remote = to_endpoint(&addr)?;
        self.net.wait_for_address(Some(crate::time::deadline_ticks(Duration::from_secs(20))))?;
        let nonblocking = self.nonblocking.load(Ordering::Relaxed);
        let handle = self.handle;
        self.net.block_on(None, |state, waker| {
            let socket = state.stack.sockets().get_mut::<udp::Socket>(handle);
            match socket.send_slice(buf, remote) {
                Ok(()) => Some(Ok(buf.len())),
                Err(udp::SendError::BufferFull) if nonblocking => {
                    Some(Err(io::Error::new(ErrorKind::WouldBlock, "the send queue is full")))
                }
                Err(udp::SendError::BufferFull) => {
                    socket.register_send_waker(waker);
                    None
                }
                Err(e) => Some(Err(io::Error::new(ErrorKind::InvalidInput, alloc::format!("{e}")))),
            }
        })
    }

    /// Receives one datagram into `buf` (the excess of a longer one is dropped) and says who
    /// sent it; waits for one.
    pub fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        let nonblocking = self.nonblocking.load(Ordering::Relaxed);
        let deadline = match self.read_timeout.load(Ordering::Relaxed) {
            0 => None,
            nanos => Some(crate::time::deadline_ticks(Duration::from_nanos(nanos))),
        };
        let handle = self.handle;
        self.net.block_on(deadline, |state, waker| {
            let socket = state.stack.sockets().get_mut::<udp::Socket>(handle);
            match socket.recv_slice(buf) {
                Ok((n, meta)) => Some(Ok((n, to_socket_addr(meta.endpoint)))),
                Err(udp::RecvError::Exhausted) if nonblocking => {
                    Some(Err(io::Error::new(ErrorKind::WouldBlock, "no datagram waiting")))
                }
                Err(udp::RecvError::Exhausted) => {
                    socket.register_recv_waker(waker);
                    None
                }
                // The datagram did not fit: smoltcp keeps it; take it truncated.
                Err(udp::RecvError::Truncated) => {
                    let (data, meta) = socket.recv().ok()?;
                    let n = data.len().min(buf.len());
                    buf[..n].copy_from_slice(&data[..n]);
                    Some(Ok((n, to_socket_addr(meta.endpoint))))
                }
            }
        })
    }

    /// Limits how long `recv_from` waits (`None`: forever).
    pub fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        let nanos = match timeout {
            None => 0,
            Some(t) if t.is_zero() => {
                return Err(io::Error::new(ErrorKind::InvalidInput, "a zero timeout"));
            }
            Some(t) => u64::try_from(t.as_nanos()).unwrap_or(u64::MAX),
        };
        self.read_timeout.store(nanos, Ordering::Relaxed);
        Ok(())
    }

    /// Makes `send_to` and `recv_from` return `WouldBlock` instead of waiting.
    pub fn set_nonblocking(&self, nonblocking: bool) -> io::Result<()> {
        self.nonblocking.store(nonblocking, Ordering::Relaxed);
        Ok(())
    }

    /// The local address (the interface's, or `0.0.0.0` before it has one) and port.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        let mut state = self.net.lock();
        let port = state.stack.sockets().get::<udp::Socket>(self.handle).endpoint().port;
        let ip = state.stack.address().map(|a| a.address());
        Ok(SocketAddr::new(ip.unwrap_or(core::net::Ipv4Addr::UNSPECIFIED).into(), port))
    }
}

impl Drop for UdpSocket {
    fn drop(&mut self) {
        self.net.lock().stack.sockets().remove(self.handle);
    }
}
