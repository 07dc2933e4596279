//! BSD sockets over `rivet::net`: `socket`, `bind`, `listen`, `accept`, `connect`, the
//! send/recv family, `shutdown`, `setsockopt`/`getsockopt`, `getsockname`/`getpeername`,
//! `poll`, `select`, and `O_NONBLOCK` through `fcntl` (the C half calls [`__rivet_socket_fcntl`]).
//!
//! Descriptors 3 and up name sockets, in a table of [`MAX_SOCKETS`]; 0–2 are the console.
//! A socket starts unbound and becomes what its calls make it: a listener (`listen`), a stream
//! (`connect`, or `accept` on a listener), or a UDP socket (`bind`, `sendto` or `connect` on a
//! `SOCK_DGRAM`). IPv4 only (`AF_INET6` is `EAFNOSUPPORT`), as `rivet::net`.
//!
//! Weak spots: a non-blocking `connect` blocks (no `EINPROGRESS`); `SO_REUSEADDR`,
//! `SO_KEEPALIVE`, buffer sizes and `SO_LINGER` are accepted and ignored; `select` takes
//! descriptors below 1024 (`FD_SETSIZE`), as glibc's `fd_set` does.

use crate::os::alloc::sync::Arc;
use crate::os::alloc::vec::Vec;
use crate::os::errno::{self, code};
use core::ffi::{c_int, c_long, c_short, c_void};
use core::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use core::sync::atomic::{AtomicBool, AtomicU16, AtomicU64, Ordering};
use core::time::Duration;
use rivet::io::ErrorKind;
use rivet::net::{Readiness, Shutdown, Source, TcpListener, TcpStream, UdpSocket};
use rivet::sync::{Mutex, OnceLock};

/// Sockets open at once at most (descriptors 3 to 1026).
pub(crate) const MAX_SOCKETS: usize = 1024;
const FIRST_FD: c_int = 3;

// Linux's values, as glibc's headers define them.
const AF_INET: c_int = 2;
const AF_INET6: c_int = 10;
const SOCK_STREAM: c_int = 1;
const SOCK_DGRAM: c_int = 2;
const SOCK_NONBLOCK: c_int = 0o4000;
const SOCK_CLOEXEC: c_int = 0o2000000;
const O_NONBLOCK: c_long = 0o4000;
const SOL_SOCKET: c_int = 1;
const SO_TYPE: c_int = 3;
const SO_ERROR: c_int = 4;
const SO_RCVTIMEO: c_int = 20;
const SO_SNDTIMEO: c_int = 21;
const IPPROTO_TCP: c_int = 6;
const TCP_NODELAY: c_int = 1;
const MSG_PEEK: c_int = 2;
const MSG_DONTWAIT: c_int = 0x40;
const F_GETFD: c_int = 1;
const F_SETFD: c_int = 2;
const F_GETFL: c_int = 3;
const F_SETFL: c_int = 4;
const O_RDWR: c_long = 2;
const POLLIN: c_short = 0x1;
const POLLOUT: c_short = 0x4;
const POLLERR: c_short = 0x8;
const POLLHUP: c_short = 0x10;
const POLLNVAL: c_short = 0x20;
const EFAULT: c_int = 14;
const EMFILE: c_int = 24;
const EPIPE: c_int = 32;
const ENOTSOCK: c_int = 88;
const EDESTADDRREQ: c_int = 89;
const ENOPROTOOPT: c_int = 92;
const EPROTONOSUPPORT: c_int = 93;
const EOPNOTSUPP: c_int = 95;
const EAFNOSUPPORT: c_int = 97;
const EADDRINUSE: c_int = 98;
const EADDRNOTAVAIL: c_int = 99;
const ECONNRESET: c_int = 104;
const EISCONN: c_int = 106;
const ENOTCONN: c_int = 107;
const ECONNREFUSED: c_int = 111;

/// What a socket has become.
enum Open {
    Listener(TcpListener),
    Stream(TcpStream),
    Udp(UdpSocket),
}

/// One socket descriptor.
struct Socket {
    datagram: bool,
    nonblocking: AtomicBool,
    /// The port `bind` chose (0: none yet).
    port: AtomicU16,
    /// A UDP socket's default peer (`connect`).
    peer: Mutex<Option<SocketAddr>>,
    /// Receive and send timeouts in nanoseconds (0: none).
    receive_timeout: AtomicU64,
    send_timeout: AtomicU64,
    nodelay: AtomicBool,
    open: OnceLock<Open>,
}

impl Socket {
    /// A socket that is nothing yet (or, with `open`, already a connection).
    fn new(datagram: bool, nonblocking: bool, port: u16, open: Option<Open>) -> Self {
        let socket = Socket {
            datagram,
            nonblocking: AtomicBool::new(nonblocking),
            port: AtomicU16::new(port),
            peer: Mutex::new(None),
            receive_timeout: AtomicU64::new(0),
            send_timeout: AtomicU64::new(0),
            nodelay: AtomicBool::new(false),
            open: OnceLock::new(),
        };
        if let Some(open) = open {
            let _ = socket.open.set(open);
        }
        socket
    }
}

static TABLE: Mutex<Vec<Option<Arc<Socket>>>> = Mutex::new(Vec::new());

fn table() -> rivet::sync::MutexGuard<'static, Vec<Option<Arc<Socket>>>> {
    TABLE.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The socket behind `fd`, if it is one.
fn lookup(fd: c_int) -> Option<Arc<Socket>> {
    let index = usize::try_from(fd.checked_sub(FIRST_FD)?).ok()?;
    table().get(index)?.clone()
}

/// Fails with `error`: errno set, -1 returned.
fn fail<T: From<i8>>(error: c_int) -> T {
    errno::set(error);
    T::from(-1)
}

/// The errno for a `rivet::io::Error`.
fn errno_of(e: &rivet::io::Error) -> c_int {
    match e.kind() {
        ErrorKind::WouldBlock => code::EAGAIN,
        ErrorKind::TimedOut => code::EAGAIN,
        ErrorKind::ConnectionRefused => ECONNREFUSED,
        ErrorKind::ConnectionReset => ECONNRESET,
        ErrorKind::NotConnected => ENOTCONN,
        ErrorKind::AddrInUse => EADDRINUSE,
        ErrorKind::AddrNotAvailable => EADDRNOTAVAIL,
        ErrorKind::BrokenPipe => EPIPE,
        ErrorKind::InvalidInput => code::EINVAL,
        ErrorKind::OutOfMemory => code::ENOMEM,
        ErrorKind::Unsupported => EOPNOTSUPP,
        _ => code::EINVAL,
    }
}

fn result_of<T: From<i8>>(r: rivet::io::Result<T>) -> T {
    r.unwrap_or_else(|e| fail(errno_of(&e)))
}

/// Reads a `struct sockaddr_in` (family, port, address: network byte order).
///
/// # Safety
/// `address` is valid for reads of `length` bytes.
unsafe fn read_address(address: *const c_void, length: u32) -> Result<SocketAddr, c_int> {
    if address.is_null() {
        return Err(EFAULT);
    }
    if length < 2 {
        return Err(code::EINVAL);
    }
    // SAFETY: the caller's contract; at least the family's 2 bytes are readable.
    let family = unsafe { address.cast::<u16>().read_unaligned() };
    match c_int::from(family) {
        AF_INET if length >= 16 => {
            // SAFETY: 16 bytes are readable (checked above).
            let bytes = unsafe { core::slice::from_raw_parts(address.cast::<u8>(), 8) };
            let port = u16::from_be_bytes([bytes[2], bytes[3]]);
            let ip = Ipv4Addr::new(bytes[4], bytes[5], bytes[6], bytes[7]);
            Ok(SocketAddr::V4(SocketAddrV4::new(ip, port)))
        }
        AF_INET => Err(code::EINVAL),
        _ => Err(EAFNOSUPPORT),
    }
}

/// Writes `addr` as a `struct sockaddr_in` into `address` (truncated to `*length`), and sets
/// `*length` to its full size, as the socket calls do. Null pointers are skipped.
///
/// # Safety
/// `address` (if not null) is valid for writes of `*length` bytes; `length` (if not null) is
/// valid for reads and writes.
pub(crate) unsafe fn write_address(addr: SocketAddr, address: *mut c_void, length: *mut u32) {
    if address.is_null() || length.is_null() {
        return;
    }
    let mut raw = [0u8; 16];
    raw[..2].copy_from_slice(&(AF_INET as u16).to_ne_bytes());
    raw[2..4].copy_from_slice(&addr.port().to_be_bytes());
    if let SocketAddr::V4(v4) = addr {
        raw[4..8].copy_from_slice(&v4.ip().octets());
    }
    // SAFETY: the caller's contract.
    unsafe {
        let room = (*length as usize).min(raw.len());
        core::ptr::copy_nonoverlapping(raw.as_ptr(), address.cast::<u8>(), room);
        *length = raw.len() as u32;
    }
}

/// Creates a socket.
#[no_mangle]
pub extern "C" fn socket(domain: c_int, kind: c_int, protocol: c_int) -> c_int {
    if domain == AF_INET6 {
        return fail(EAFNOSUPPORT);
    }
    if domain != AF_INET {
        return fail(EAFNOSUPPORT);
    }
    let datagram = match kind & !(SOCK_NONBLOCK | SOCK_CLOEXEC) {
        SOCK_STREAM if protocol == 0 || protocol == IPPROTO_TCP => false,
        SOCK_DGRAM if protocol == 0 || protocol == 17 => true,
        SOCK_STREAM | SOCK_DGRAM => return fail(EPROTONOSUPPORT),
        _ => return fail(EPROTONOSUPPORT),
    };
    install(Socket::new(datagram, kind & SOCK_NONBLOCK != 0, 0, None))
}

/// Puts a socket in the first free slot; its descriptor, or EMFILE.
fn install(socket: Socket) -> c_int {
    let mut table = table();
    let slot = match table.iter().position(Option::is_none) {
        Some(free) => free,
        None if table.len() < MAX_SOCKETS => {
            table.push(None);
            table.len() - 1
        }
        None => return fail(EMFILE),
    };
    table[slot] = Some(Arc::new(socket));
    slot as c_int + FIRST_FD
}

/// Closes a socket descriptor; `None` if `fd` is not one.
pub(crate) fn close(fd: c_int) -> Option<c_int> {
    let index = usize::try_from(fd.checked_sub(FIRST_FD)?).ok()?;
    let socket = table().get_mut(index)?.take()?;
    // The last reference closes the connection (its Drop); another thread still inside a call
    // on it keeps it until that call returns, as with a kernel's file references.
    drop(socket);
    Some(0)
}

/// Binds a socket to a local port (the address must be the unspecified one or the
/// interface's: there is one interface).
///
/// # Safety
/// `address` is valid for reads of `length` bytes.
#[no_mangle]
pub unsafe extern "C" fn bind(fd: c_int, address: *const c_void, length: u32) -> c_int {
    let Some(socket) = lookup(fd) else { return fail(bad_descriptor(fd)) };
    // SAFETY: the caller's contract.
    let addr = match unsafe { read_address(address, length) } {
        Ok(addr) => addr,
        Err(e) => return fail(e),
    };
    if socket.open.get().is_some() || socket.port.load(Ordering::Relaxed) != 0 {
        return fail(code::EINVAL);
    }
    if socket.datagram {
        return match UdpSocket::bind(addr) {
            Ok(udp) => {
                let port = udp.local_addr().map(|a| a.port()).unwrap_or(addr.port());
                socket.port.store(port, Ordering::Relaxed);
                let _ = socket.open.set(Open::Udp(udp));
                0
            }
            Err(e) => fail(errno_of(&e)),
        };
    }
    if addr.port() == 0 {
        // Rivet's listeners need a port of their own choosing; an ephemeral one comes with
        // connect.
        return 0;
    }
    socket.port.store(addr.port(), Ordering::Relaxed);
    0
}

/// Starts listening on the bound port.
#[no_mangle]
pub extern "C" fn listen(fd: c_int, _backlog: c_int) -> c_int {
    let Some(socket) = lookup(fd) else { return fail(bad_descriptor(fd)) };
    if socket.datagram {
        return fail(EOPNOTSUPP);
    }
    if matches!(socket.open.get(), Some(Open::Listener(_))) {
        return 0;
    }
    if socket.open.get().is_some() {
        return fail(EISCONN);
    }
    let port = socket.port.load(Ordering::Relaxed);
    if port == 0 {
        return fail(EDESTADDRREQ);
    }
    match TcpListener::bind((Ipv4Addr::UNSPECIFIED, port)) {
        Ok(listener) => {
            let _ = socket.open.set(Open::Listener(listener));
            0
        }
        Err(e) => fail(errno_of(&e)),
    }
}

/// Accepts a connection.
///
/// # Safety
/// `address`/`length` as for [`write_address`].
#[no_mangle]
pub unsafe extern "C" fn accept(fd: c_int, address: *mut c_void, length: *mut u32) -> c_int {
    // SAFETY: the caller's contract.
    unsafe { accept4(fd, address, length, 0) }
}

/// Accepts a connection, with `SOCK_NONBLOCK` for the new socket.
///
/// # Safety
/// `address`/`length` as for [`write_address`].
#[no_mangle]
pub unsafe extern "C" fn accept4(
    fd: c_int,
    address: *mut c_void,
    length: *mut u32,
    flags: c_int,
) -> c_int {
    let Some(socket) = lookup(fd) else { return fail(bad_descriptor(fd)) };
    let Some(Open::Listener(listener)) = socket.open.get() else { return fail(code::EINVAL) };
    let _ = listener.set_nonblocking(socket.nonblocking.load(Ordering::Relaxed));
    let (stream, peer) = match listener.accept() {
        Ok(accepted) => accepted,
        Err(e) => return fail(errno_of(&e)),
    };
    let port = socket.port.load(Ordering::Relaxed);
    let accepted = Socket::new(false, flags & SOCK_NONBLOCK != 0, port, Some(Open::Stream(stream)));
    let new_fd = install(accepted);
    if new_fd >= 0 {
        // SAFETY: the caller's contract.
        unsafe { write_address(peer, address, length) };
    }
    new_fd
}

/// Connects a stream socket (blocking, even when non-blocking), or sets a UDP socket's peer.
///
/// # Safety
/// `address` is valid for reads of `length` bytes.
#[no_mangle]
pub unsafe extern "C" fn connect(fd: c_int, address: *const c_void, length: u32) -> c_int {
    let Some(socket) = lookup(fd) else { return fail(bad_descriptor(fd)) };
    // SAFETY: the caller's contract.
    let addr = match unsafe { read_address(address, length) } {
        Ok(addr) => addr,
        Err(e) => return fail(e),
    };
    if socket.datagram {
        *socket.peer.lock().unwrap_or_else(|p| p.into_inner()) = Some(addr);
        return 0;
    }
    if socket.open.get().is_some() {
        return fail(EISCONN);
    }
    match TcpStream::connect(addr) {
        Ok(stream) => {
            let _ = stream.set_nodelay(socket.nodelay.load(Ordering::Relaxed));
            let _ = socket.open.set(Open::Stream(stream));
            0
        }
        Err(e) => fail(errno_of(&e)),
    }
}

fn timeout(slot: &AtomicU64) -> Option<Duration> {
    match slot.load(Ordering::Relaxed) {
        0 => None,
        nanos => Some(Duration::from_nanos(nanos)),
    }
}

/// Whether a call on `socket` must not wait: its non-blocking flag or `MSG_DONTWAIT`.
fn dont_wait(socket: &Socket, flags: c_int) -> bool {
    flags & MSG_DONTWAIT != 0 || socket.nonblocking.load(Ordering::Relaxed)
}

/// Receives into `buffer`; `None` when `fd` is not a socket.
pub(crate) fn receive(fd: c_int, buffer: &mut [u8], flags: c_int) -> Option<isize> {
    let socket = lookup(fd)?;
    if flags & MSG_PEEK != 0 {
        return Some(fail(EOPNOTSUPP));
    }
    Some(match socket.open.get() {
        Some(Open::Stream(stream)) => {
            let _ = stream.set_nonblocking(dont_wait(&socket, flags));
            let _ = stream.set_read_timeout(timeout(&socket.receive_timeout));
            result_of(stream.read(buffer).map(|n| n as isize))
        }
        Some(Open::Udp(udp)) => {
            let _ = udp.set_nonblocking(dont_wait(&socket, flags));
            let _ = udp.set_read_timeout(timeout(&socket.receive_timeout));
            result_of(udp.recv_from(buffer).map(|(n, _)| n as isize))
        }
        _ => fail(ENOTCONN),
    })
}

/// Sends `data`; `None` when `fd` is not a socket.
pub(crate) fn send_bytes(fd: c_int, data: &[u8], flags: c_int) -> Option<isize> {
    let socket = lookup(fd)?;
    Some(match socket.open.get() {
        Some(Open::Stream(stream)) => {
            let _ = stream.set_nonblocking(dont_wait(&socket, flags));
            let _ = stream.set_write_timeout(timeout(&socket.send_timeout));
            result_of(stream.write(data).map(|n| n as isize))
        }
        Some(Open::Udp(udp)) => {
            let peer = *socket.peer.lock().unwrap_or_else(|p| p.into_inner());
            match peer {
                Some(peer) => result_of(udp.send_to(data, peer).map(|n| n as isize)),
                None => fail(EDESTADDRREQ),
            }
        }
        _ => fail(ENOTCONN),
    })
}

/// Sends on a connected socket.
///
/// # Safety
/// `data` is valid for reads of `length` bytes.
#[no_mangle]
pub unsafe extern "C" fn send(
    fd: c_int,
    data: *const c_void,
    length: usize,
    flags: c_int,
) -> isize {
    if data.is_null() && length > 0 {
        return fail(EFAULT);
    }
    // SAFETY: the caller's contract (a null pointer only with length 0, read as empty).
    let data = unsafe { slice(data.cast(), length) };
    send_bytes(fd, data, flags).unwrap_or_else(|| fail(bad_descriptor(fd)))
}

/// Receives on a connected socket.
///
/// # Safety
/// `data` is valid for writes of `length` bytes.
#[no_mangle]
pub unsafe extern "C" fn recv(fd: c_int, data: *mut c_void, length: usize, flags: c_int) -> isize {
    if data.is_null() && length > 0 {
        return fail(EFAULT);
    }
    // SAFETY: the caller's contract.
    let data = unsafe { slice_mut(data.cast(), length) };
    receive(fd, data, flags).unwrap_or_else(|| fail(bad_descriptor(fd)))
}

/// Sends a datagram to `address` (or, with a null address, like `send`).
///
/// # Safety
/// `data` is valid for reads of `length` bytes, `address` for reads of `address_length`.
#[no_mangle]
pub unsafe extern "C" fn sendto(
    fd: c_int,
    data: *const c_void,
    length: usize,
    flags: c_int,
    address: *const c_void,
    address_length: u32,
) -> isize {
    if data.is_null() && length > 0 {
        return fail(EFAULT);
    }
    // SAFETY: the caller's contract.
    let bytes = unsafe { slice(data.cast(), length) };
    if address.is_null() {
        return send_bytes(fd, bytes, flags).unwrap_or_else(|| fail(bad_descriptor(fd)));
    }
    let Some(socket) = lookup(fd) else { return fail(bad_descriptor(fd)) };
    // SAFETY: the caller's contract.
    let to = match unsafe { read_address(address, address_length) } {
        Ok(to) => to,
        Err(e) => return fail(e),
    };
    if !socket.datagram {
        return send_bytes(fd, bytes, flags).unwrap_or_else(|| fail(bad_descriptor(fd)));
    }
    let udp = match socket.open.get() {
        Some(Open::Udp(udp)) => udp,
        Some(_) => return fail(code::EINVAL),
        None => match UdpSocket::bind((Ipv4Addr::UNSPECIFIED, 0)) {
            Ok(udp) => {
                let _ = socket.open.set(Open::Udp(udp));
                match socket.open.get() {
                    Some(Open::Udp(udp)) => udp,
                    _ => return fail(code::EINVAL),
                }
            }
            Err(e) => return fail(errno_of(&e)),
        },
    };
    let _ = udp.set_nonblocking(dont_wait(&socket, flags));
    result_of(udp.send_to(bytes, to).map(|n| n as isize))
}

/// Receives a datagram and its sender.
///
/// # Safety
/// `data` is valid for writes of `length` bytes; `address`/`address_length` as for
/// [`write_address`].
#[no_mangle]
pub unsafe extern "C" fn recvfrom(
    fd: c_int,
    data: *mut c_void,
    length: usize,
    flags: c_int,
    address: *mut c_void,
    address_length: *mut u32,
) -> isize {
    if data.is_null() && length > 0 {
        return fail(EFAULT);
    }
    let Some(socket) = lookup(fd) else { return fail(bad_descriptor(fd)) };
    // SAFETY: the caller's contract.
    let buffer = unsafe { slice_mut(data.cast(), length) };
    match socket.open.get() {
        Some(Open::Udp(udp)) => {
            let _ = udp.set_nonblocking(dont_wait(&socket, flags));
            let _ = udp.set_read_timeout(timeout(&socket.receive_timeout));
            match udp.recv_from(buffer) {
                Ok((n, from)) => {
                    // SAFETY: the caller's contract.
                    unsafe { write_address(from, address, address_length) };
                    n as isize
                }
                Err(e) => fail(errno_of(&e)),
            }
        }
        Some(Open::Stream(stream)) => {
            let peer = stream.peer_addr().ok();
            let n = receive(fd, buffer, flags).unwrap_or_else(|| fail(bad_descriptor(fd)));
            if let (true, Some(peer)) = (n >= 0, peer) {
                // SAFETY: the caller's contract.
                unsafe { write_address(peer, address, address_length) };
            }
            n
        }
        _ => fail(ENOTCONN),
    }
}

/// Shuts a stream down for reading, writing or both.
#[no_mangle]
pub extern "C" fn shutdown(fd: c_int, how: c_int) -> c_int {
    let Some(socket) = lookup(fd) else { return fail(bad_descriptor(fd)) };
    let how = match how {
        0 => Shutdown::Read,
        1 => Shutdown::Write,
        2 => Shutdown::Both,
        _ => return fail(code::EINVAL),
    };
    match socket.open.get() {
        Some(Open::Stream(stream)) => result_of(stream.shutdown(how).map(|()| 0)),
        _ => fail(ENOTCONN),
    }
}

/// Reads a `struct timeval` option value as a duration (zero: no timeout).
///
/// # Safety
/// `value` is valid for reads of `length` bytes.
unsafe fn read_timeval(value: *const c_void, length: u32) -> Result<u64, c_int> {
    if value.is_null() || (length as usize) < 16 {
        return Err(code::EINVAL);
    }
    // SAFETY: the caller's contract: 16 readable bytes (tv_sec, tv_usec as 64-bit words).
    let (sec, usec) = unsafe {
        (value.cast::<i64>().read_unaligned(), value.cast::<i64>().add(1).read_unaligned())
    };
    if sec < 0 || !(0..1_000_000).contains(&usec) {
        return Err(code::EINVAL);
    }
    Ok((sec as u64).saturating_mul(1_000_000_000).saturating_add(usec as u64 * 1000))
}

/// Sets a socket option: `TCP_NODELAY`, `SO_RCVTIMEO`, `SO_SNDTIMEO` take effect; the common
/// others (`SO_REUSEADDR`, `SO_REUSEPORT`, `SO_KEEPALIVE`, buffer sizes, `SO_LINGER`) are
/// accepted and ignored.
///
/// # Safety
/// `value` is valid for reads of `length` bytes.
#[no_mangle]
pub unsafe extern "C" fn setsockopt(
    fd: c_int,
    level: c_int,
    name: c_int,
    value: *const c_void,
    length: u32,
) -> c_int {
    let Some(socket) = lookup(fd) else { return fail(bad_descriptor(fd)) };
    let int_value = || {
        // SAFETY: the caller's contract, checked to hold an int.
        (!value.is_null() && length >= 4).then(|| unsafe { value.cast::<c_int>().read_unaligned() })
    };
    match (level, name) {
        (IPPROTO_TCP, TCP_NODELAY) => {
            let Some(on) = int_value() else { return fail(code::EINVAL) };
            socket.nodelay.store(on != 0, Ordering::Relaxed);
            if let Some(Open::Stream(stream)) = socket.open.get() {
                let _ = stream.set_nodelay(on != 0);
            }
            0
        }
        (SOL_SOCKET, SO_RCVTIMEO | SO_SNDTIMEO) => {
            // SAFETY: the caller's contract.
            match unsafe { read_timeval(value, length) } {
                Ok(nanos) if name == SO_RCVTIMEO => {
                    socket.receive_timeout.store(nanos, Ordering::Relaxed);
                    0
                }
                Ok(nanos) => {
                    socket.send_timeout.store(nanos, Ordering::Relaxed);
                    0
                }
                Err(e) => fail(e),
            }
        }
        // SO_REUSEADDR 2, SO_SNDBUF 7, SO_RCVBUF 8, SO_KEEPALIVE 9, SO_LINGER 13,
        // SO_REUSEPORT 15: accepted, nothing to do.
        (SOL_SOCKET, 2 | 7 | 8 | 9 | 13 | 15) => 0,
        _ => fail(ENOPROTOOPT),
    }
}

/// Reads a socket option: `SO_TYPE`, `SO_ERROR` (always 0: errors come back from the calls),
/// `TCP_NODELAY`, and the ignored ones as 0.
///
/// # Safety
/// `value` is valid for writes of `*length` bytes; `length` for reads and writes.
#[no_mangle]
pub unsafe extern "C" fn getsockopt(
    fd: c_int,
    level: c_int,
    name: c_int,
    value: *mut c_void,
    length: *mut u32,
) -> c_int {
    let Some(socket) = lookup(fd) else { return fail(bad_descriptor(fd)) };
    let answer: c_int = match (level, name) {
        (SOL_SOCKET, SO_TYPE) => {
            if socket.datagram {
                SOCK_DGRAM
            } else {
                SOCK_STREAM
            }
        }
        (SOL_SOCKET, SO_ERROR) => 0,
        (IPPROTO_TCP, TCP_NODELAY) => c_int::from(socket.nodelay.load(Ordering::Relaxed)),
        (SOL_SOCKET, 2 | 7 | 8 | 9 | 13 | 15) => 0,
        _ => return fail(ENOPROTOOPT),
    };
    if value.is_null() || length.is_null() {
        return fail(EFAULT);
    }
    // SAFETY: the caller's contract; at most `*length` bytes are written.
    unsafe {
        let room = (*length as usize).min(4);
        core::ptr::copy_nonoverlapping(answer.to_ne_bytes().as_ptr(), value.cast::<u8>(), room);
        *length = 4;
    }
    0
}

/// The socket's local address.
///
/// # Safety
/// As for [`write_address`].
#[no_mangle]
pub unsafe extern "C" fn getsockname(fd: c_int, address: *mut c_void, length: *mut u32) -> c_int {
    let Some(socket) = lookup(fd) else { return fail(bad_descriptor(fd)) };
    let addr = match socket.open.get() {
        Some(Open::Listener(l)) => l.local_addr(),
        Some(Open::Stream(s)) => s.local_addr(),
        Some(Open::Udp(u)) => u.local_addr(),
        None => {
            Ok(SocketAddr::new(Ipv4Addr::UNSPECIFIED.into(), socket.port.load(Ordering::Relaxed)))
        }
    };
    match addr {
        Ok(addr) => {
            // SAFETY: the caller's contract.
            unsafe { write_address(addr, address, length) };
            0
        }
        Err(e) => fail(errno_of(&e)),
    }
}

/// The connected peer's address.
///
/// # Safety
/// As for [`write_address`].
#[no_mangle]
pub unsafe extern "C" fn getpeername(fd: c_int, address: *mut c_void, length: *mut u32) -> c_int {
    let Some(socket) = lookup(fd) else { return fail(bad_descriptor(fd)) };
    let peer = match socket.open.get() {
        Some(Open::Stream(s)) => s.peer_addr().ok(),
        Some(Open::Udp(_)) => *socket.peer.lock().unwrap_or_else(|p| p.into_inner()),
        _ => None,
    };
    match peer {
        Some(peer) => {
            // SAFETY: the caller's contract.
            unsafe { write_address(peer, address, length) };
            0
        }
        None => fail(ENOTCONN),
    }
}

/// `fcntl` on a socket (called by the C `fcntl` first): `F_GETFL`/`F_SETFL` with
/// `O_NONBLOCK`, `F_GETFD`/`F_SETFD` (close-on-exec means nothing here). Returns 1 and stores
/// the result when `fd` is a socket, 0 when it is not.
///
/// # Safety
/// `result` is valid for writes.
#[no_mangle]
pub unsafe extern "C" fn __rivet_socket_fcntl(
    fd: c_int,
    command: c_int,
    argument: c_long,
    result: *mut c_long,
) -> c_int {
    let Some(socket) = lookup(fd) else { return 0 };
    let answer = match command {
        F_GETFL => O_RDWR | if socket.nonblocking.load(Ordering::Relaxed) { O_NONBLOCK } else { 0 },
        F_SETFL => {
            socket.nonblocking.store(argument & O_NONBLOCK != 0, Ordering::Relaxed);
            0
        }
        F_GETFD | F_SETFD => 0,
        _ => fail(code::EINVAL),
    };
    // SAFETY: the caller's contract.
    unsafe { *result = answer };
    1
}

/// glibc's `struct pollfd`.
#[repr(C)]
pub struct PollFd {
    fd: c_int,
    events: c_short,
    revents: c_short,
}

/// What `poll` sees for one descriptor.
enum Watched {
    /// A socket: look with `rivet::net::poll`.
    Socket(Arc<Socket>),
    /// The console or a negative descriptor: its answer is known now.
    Fixed(c_short),
}

fn watch(fd: c_int, events: c_short) -> Watched {
    match fd {
        fd if fd < 0 => Watched::Fixed(0),
        0 => Watched::Fixed(0),
        1 | 2 => Watched::Fixed(events & POLLOUT),
        fd => match lookup(fd) {
            Some(socket) => Watched::Socket(socket),
            None => Watched::Fixed(POLLNVAL),
        },
    }
}

/// The readiness of `watched` sockets (in order), waiting up to `timeout` for any of them if
/// `wait` (nothing else is ready already).
fn poll_sockets(
    watched: &[&Arc<Socket>],
    timeout: Option<Duration>,
) -> Result<Vec<Readiness>, c_int> {
    let mut sources = Vec::with_capacity(watched.len());
    let mut unopened = Vec::new();
    for (i, socket) in watched.iter().enumerate() {
        match socket.open.get() {
            Some(Open::Listener(l)) => sources.push(Source::Listener(l)),
            Some(Open::Stream(s)) => sources.push(Source::Stream(s)),
            Some(Open::Udp(u)) => sources.push(Source::Udp(u)),
            None => unopened.push(i),
        }
    }
    let mut ready = alloc_readiness(sources.len());
    // A socket that is not open yet: an unconnected stream hangs up at once, as on Linux.
    let timeout = if unopened.is_empty() { timeout } else { Some(Duration::ZERO) };
    if !sources.is_empty() {
        rivet::net::poll(&sources, &mut ready, timeout).map_err(|e| errno_of(&e))?;
    } else if let Some(t) = timeout {
        rivet::thread::sleep(t);
    } else if unopened.is_empty() {
        // Nothing to wait for, forever: as Linux, sleep until a signal, which never comes.
        loop {
            rivet::thread::park();
        }
    }
    let mut all = Vec::with_capacity(watched.len());
    let mut next = ready.into_iter();
    for i in 0..watched.len() {
        if unopened.contains(&i) {
            all.push(Readiness { readable: false, writable: true, hangup: true });
        } else {
            all.push(next.next().unwrap_or_default());
        }
    }
    Ok(all)
}

fn alloc_readiness(n: usize) -> Vec<Readiness> {
    let mut v = Vec::with_capacity(n);
    v.resize(n, Readiness::default());
    v
}

fn poll_timeout(milliseconds: c_int) -> Option<Duration> {
    (milliseconds >= 0).then(|| Duration::from_millis(milliseconds as u64))
}

/// Waits for events on descriptors.
///
/// # Safety
/// `fds` is valid for reads and writes of `count` entries.
#[no_mangle]
pub unsafe extern "C" fn poll(fds: *mut PollFd, count: u64, timeout: c_int) -> c_int {
    if fds.is_null() && count > 0 {
        return fail(EFAULT);
    }
    let Ok(count) = usize::try_from(count) else { return fail(code::EINVAL) };
    // SAFETY: the caller's contract.
    let fds = unsafe { slice_mut(fds, count) };
    let watched: Vec<Watched> = fds.iter().map(|p| watch(p.fd, p.events)).collect();
    let already = watched.iter().any(|w| matches!(w, Watched::Fixed(r) if *r != 0));
    let sockets: Vec<&Arc<Socket>> = watched
        .iter()
        .filter_map(|w| match w {
            Watched::Socket(s) => Some(s),
            Watched::Fixed(_) => None,
        })
        .collect();
    let wait = if already { Some(Duration::ZERO) } else { poll_timeout(timeout) };
    let readiness = match poll_sockets(&sockets, wait) {
        Ok(r) => r,
        Err(e) => return fail(e),
    };
    let mut next = readiness.into_iter();
    let mut ready = 0;
    for (entry, watched) in fds.iter_mut().zip(&watched) {
        entry.revents = match watched {
            Watched::Fixed(r) => *r,
            Watched::Socket(_) => {
                let r = next.next().unwrap_or_default();
                let mut revents = 0;
                if r.readable {
                    revents |= POLLIN & entry.events;
                }
                if r.writable {
                    revents |= POLLOUT & entry.events;
                }
                if r.hangup {
                    revents |= POLLHUP;
                }
                revents
            }
        };
        ready += c_int::from(entry.revents != 0);
    }
    ready
}

/// `fd_set`: 1024 bits in 64-bit words, as glibc's.
const FD_SETSIZE: usize = 1024;
const FD_WORDS: usize = FD_SETSIZE / 64;

/// Waits for descriptors to become readable or writable (the exception set is never
/// reported).
///
/// # Safety
/// Each non-null set points at a glibc `fd_set` (128 bytes), readable and writable; `timeout`,
/// if not null, at a `struct timeval`.
#[no_mangle]
pub unsafe extern "C" fn select(
    count: c_int,
    read: *mut u64,
    write: *mut u64,
    except: *mut u64,
    timeout: *mut i64,
) -> c_int {
    let Ok(count) = usize::try_from(count) else { return fail(code::EINVAL) };
    if count > FD_SETSIZE {
        return fail(code::EINVAL);
    }
    let set = |p: *mut u64| -> Option<&mut [u64]> {
        // SAFETY: the caller's contract: an fd_set of FD_WORDS words.
        (!p.is_null()).then(|| unsafe { slice_mut(p, FD_WORDS) })
    };
    let (mut read, mut write, except) = (set(read), set(write), set(except));
    let has = |s: &Option<&mut [u64]>, fd: usize| {
        s.as_ref().is_some_and(|s| s[fd / 64] >> (fd % 64) & 1 != 0)
    };
    let mut fds = Vec::new();
    for fd in 0..count {
        let events =
            if has(&read, fd) { POLLIN } else { 0 } | if has(&write, fd) { POLLOUT } else { 0 };
        if events != 0 {
            fds.push(PollFd { fd: fd as c_int, events, revents: 0 });
        }
    }
    let wait = if timeout.is_null() {
        -1
    } else {
        // SAFETY: the caller's contract: a struct timeval (two 64-bit words).
        let (sec, usec) = unsafe { (timeout.read_unaligned(), timeout.add(1).read_unaligned()) };
        if sec < 0 || usec < 0 {
            return fail(code::EINVAL);
        }
        sec.saturating_mul(1000).saturating_add(usec / 1000).min(i64::from(c_int::MAX)) as c_int
    };
    // SAFETY: `fds` is a live vector of its length.
    let n = unsafe { poll(fds.as_mut_ptr(), fds.len() as u64, wait) };
    if n < 0 {
        return n;
    }
    for s in [&mut read, &mut write].into_iter().flatten() {
        s.fill(0);
    }
    if let Some(except) = except {
        except.fill(0);
    }
    let mut ready = 0;
    for p in &fds {
        if p.revents & POLLNVAL != 0 {
            return fail(code::EBADF);
        }
        let fd = p.fd as usize;
        let (word, bit) = (fd / 64, 1u64 << (fd % 64));
        if p.revents & (POLLIN | POLLHUP | POLLERR) != 0 && p.events & POLLIN != 0 {
            if let Some(read) = read.as_deref_mut() {
                read[word] |= bit;
                ready += 1;
            }
        }
        if p.revents & (POLLOUT | POLLERR) != 0 && p.events & POLLOUT != 0 {
            if let Some(write) = write.as_deref_mut() {
                write[word] |= bit;
                ready += 1;
            }
        }
    }
    ready
}

/// The errno for a descriptor that is not a socket: `ENOTSOCK` for the console, else `EBADF`.
fn bad_descriptor(fd: c_int) -> c_int {
    if (0..FIRST_FD).contains(&fd) {
        ENOTSOCK
    } else {
        code::EBADF
    }
}

/// `length` bytes at `data` as a slice (empty for a null pointer).
///
/// # Safety
/// A non-null `data` is valid for reads of `length` bytes for `'a`.
unsafe fn slice<'a>(data: *const u8, length: usize) -> &'a [u8] {
    if data.is_null() {
        &[]
    } else {
        // SAFETY: the caller's contract.
        unsafe { core::slice::from_raw_parts(data, length) }
    }
}

/// `length` items at `data` as a mutable slice (empty for a null pointer).
///
/// # Safety
/// A non-null `data` is valid for reads and writes of `length` items for `'a`, unaliased.
unsafe fn slice_mut<'a, T>(data: *mut T, length: usize) -> &'a mut [T] {
    if data.is_null() {
        &mut []
    } else {
        // SAFETY: the caller's contract.
        unsafe { core::slice::from_raw_parts_mut(data, length) }
    }
}
