//! Networking, shaped like `std::net`: [`TcpListener`], [`TcpStream`], [`UdpSocket`],
//! [`lookup_host`].
//!
//! The kernel brings the first network card up at boot when the machine has one (virtio-net,
//! or a Xen PV domU's netfront `device/vif/0`), with the
//! set-up the command line gives (`ip=dhcp`, the default, or `ip=ADDRESS/PREFIX gw=ADDRESS
//! dns=ADDRESS,…`; see `rivet_core::net::config`) and logs the address it gets:
//!
//! ```text
//! net: virtio-net at 0xfeb00e00, MAC 52:54:00:12:34:56 (interrupt-driven)
//! net: address 10.0.2.15/24, gateway 10.0.2.2, dns 10.0.2.3
//! ```
//!
//! `rivet.net.buffer=KIB` sets each TCP socket's receive and send buffers (default 32 KiB);
//! `rivet.net.poll` makes the network thread poll the card every 2 ms instead of waiting for
//! its interrupt (the devicetree boot always polls for now: see its virtio windows).
//! Calls block the calling thread only (others run); blocked threads cost no CPU. Several
//! threads may use one socket; a listener holds up to 128 connections for `accept`.
//!
//! One interface with one IPv4 address; no IPv6 yet.

mod card;
mod interface;
mod poll;
mod tcp;
mod udp;
pub(crate) mod virtio;
mod xen;

pub use core::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4};
pub use poll::{poll, Readiness, Source};
pub use tcp::{TcpListener, TcpStream};
pub use udp::UdpSocket;

use crate::io::{self, ErrorKind};
use crate::runtime::{bad_boot_input, number_param};
use alloc::string::String;
use alloc::vec::Vec;
use core::time::Duration;
use rivet_core::cmdline::CommandLine;
use rivet_core::net::config::Ipv4Config;
use rivet_core::net::smoltcp::socket::dns;
use rivet_core::net::smoltcp::wire::{DnsQueryType, IpAddress, IpEndpoint};

/// KiB of TCP receive and transmit buffer per socket, when `rivet.net.buffer=` does not say.
const DEFAULT_TCP_BUFFER_KIB: u64 = 32;

/// Brings up the first network card (virtio-net, else a Xen netfront) with the command line's
/// set-up; called by the runtime once threads run. Nothing happens without a card, but a bad
/// `ip=`/`gw=`/`dns=`/`rivet.net.buffer=` ends the boot either way.
pub(crate) fn bring_up(command_line: &CommandLine) {
    // Checked with or without a card: a typo should not wait for the day a card is plugged in.
    let config = Ipv4Config::from_params(
        command_line.param("ip"),
        command_line.param("gw"),
        command_line.param("dns"),
    )
    .unwrap_or_else(|e| bad_boot_input(format_args!("{e}")));
    let kib = number_param(command_line, "rivet.net.buffer", DEFAULT_TCP_BUFFER_KIB, 1..=4096);
    let tcp_buffer = kib as usize * 1024;
    if !virtio::attach(command_line, &config, tcp_buffer) {
        xen::attach(&config, tcp_buffer);
    }
}

/// Which halves of a [`TcpStream`] to shut down.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Shutdown {
    /// The reading half.
    Read,
    /// The writing half: the peer reads the end of the stream.
    Write,
    /// Both.
    Both,
}

/// Values that name socket addresses, like `std::net::ToSocketAddrs`: a [`SocketAddr`],
/// `(IpAddr, u16)`, `(&str, u16)` and `"host:port"` (names resolved through DNS).
pub trait ToSocketAddrs {
    /// The addresses, in the order to try them.
    fn to_socket_addrs(&self) -> io::Result<alloc::vec::IntoIter<SocketAddr>>;
}

impl ToSocketAddrs for SocketAddr {
    fn to_socket_addrs(&self) -> io::Result<alloc::vec::IntoIter<SocketAddr>> {
        Ok(alloc::vec![*self].into_iter())
    }
}

impl ToSocketAddrs for SocketAddrV4 {
    fn to_socket_addrs(&self) -> io::Result<alloc::vec::IntoIter<SocketAddr>> {
        SocketAddr::V4(*self).to_socket_addrs()
    }
}

impl ToSocketAddrs for (IpAddr, u16) {
    fn to_socket_addrs(&self) -> io::Result<alloc::vec::IntoIter<SocketAddr>> {
        SocketAddr::new(self.0, self.1).to_socket_addrs()
    }
}

impl ToSocketAddrs for (Ipv4Addr, u16) {
    fn to_socket_addrs(&self) -> io::Result<alloc::vec::IntoIter<SocketAddr>> {
        SocketAddr::new(IpAddr::V4(self.0), self.1).to_socket_addrs()
    }
}

impl ToSocketAddrs for (&str, u16) {
    fn to_socket_addrs(&self) -> io::Result<alloc::vec::IntoIter<SocketAddr>> {
        if let Ok(ip) = self.0.parse::<IpAddr>() {
            return (ip, self.1).to_socket_addrs();
        }
        let ips = resolve(self.0)?;
        Ok(ips.into_iter().map(|ip| SocketAddr::new(ip, self.1)).collect::<Vec<_>>().into_iter())
    }
}

impl ToSocketAddrs for str {
    fn to_socket_addrs(&self) -> io::Result<alloc::vec::IntoIter<SocketAddr>> {
        if let Ok(addr) = self.parse::<SocketAddr>() {
            return addr.to_socket_addrs();
        }
        let (host, port) = self
            .rsplit_once(':')
            .ok_or_else(|| io::Error::new(ErrorKind::InvalidInput, "not HOST:PORT"))?;
        let port = port
            .parse::<u16>()
            .map_err(|_| io::Error::new(ErrorKind::InvalidInput, "not a port number"))?;
        (host, port).to_socket_addrs()
    }
}

impl ToSocketAddrs for String {
    fn to_socket_addrs(&self) -> io::Result<alloc::vec::IntoIter<SocketAddr>> {
        self.as_str().to_socket_addrs()
    }
}

impl<T: ToSocketAddrs + ?Sized> ToSocketAddrs for &T {
    fn to_socket_addrs(&self) -> io::Result<alloc::vec::IntoIter<SocketAddr>> {
        (**self).to_socket_addrs()
    }
}

/// Waits until the interface has an IPv4 address (from DHCP or `ip=`), for up to `timeout`.
pub fn wait_for_address(timeout: Duration) -> io::Result<Ipv4Addr> {
    let net = interface::net()?;
    net.wait_for_address(Some(crate::time::deadline_ticks(timeout)))?;
    let address = net.lock().stack.address();
    address
        .map(|cidr| cidr.address())
        .ok_or_else(|| io::Error::new(ErrorKind::AddrNotAvailable, "the address was lost"))
}

/// Resolves `"host:port"` to its addresses, like `std::net::ToSocketAddrs` on a string.
pub fn lookup_host(host: &str) -> io::Result<alloc::vec::IntoIter<SocketAddr>> {
    host.to_socket_addrs()
}

/// How long a name lookup waits for the servers.
const DNS_TIMEOUT: Duration = Duration::from_secs(10);

/// Asks the name servers for `name`'s IPv4 addresses.
fn resolve(name: &str) -> io::Result<Vec<IpAddr>> {
    let net = interface::net()?;
    let deadline = Some(crate::time::deadline_ticks(DNS_TIMEOUT));
    net.wait_for_address(deadline)?;
    let query = {
        let mut state = net.lock();
        let handle = state.stack.dns_socket();
        let (cx, sockets) = state.stack.context_and_sockets();
        sockets
            .get_mut::<dns::Socket>(handle)
            .start_query(cx, name, DnsQueryType::A)
            .map_err(|e| io::Error::new(ErrorKind::InvalidInput, alloc::format!("{name}: {e}")))?
    };
    let result = net.block_on(deadline, |state, waker| {
        let handle = state.stack.dns_socket();
        let socket = state.stack.sockets().get_mut::<dns::Socket>(handle);
        match socket.get_query_result(query) {
            Ok(addresses) => Some(Ok(addresses.iter().map(|&a| to_ip(a)).collect())),
            Err(dns::GetQueryResultError::Pending) => {
                socket.register_query_waker(query, waker);
                None
            }
            Err(dns::GetQueryResultError::Failed) => {
                Some(Err(io::Error::new(ErrorKind::NotFound, alloc::format!("{name}: not found"))))
            }
        }
    });
    if result.is_err() {
        // A timed-out query still holds its slot: free it.
        let mut state = net.lock();
        let handle = state.stack.dns_socket();
        let socket = state.stack.sockets().get_mut::<dns::Socket>(handle);
        if matches!(socket.get_query_result(query), Err(dns::GetQueryResultError::Pending)) {
            socket.cancel_query(query);
        }
    }
    result
}

fn to_ip(address: IpAddress) -> IpAddr {
    match address {
        IpAddress::Ipv4(v4) => IpAddr::V4(v4),
    }
}

fn to_socket_addr(endpoint: IpEndpoint) -> SocketAddr {
    SocketAddr::new(to_ip(endpoint.addr), endpoint.port)
}

fn to_endpoint(addr: &SocketAddr) -> io::Result<IpEndpoint> {
    match addr {
        SocketAddr::V4(v4) => Ok(IpEndpoint::new(IpAddress::Ipv4(*v4.ip()), v4.port())),
        SocketAddr::V6(_) => Err(io::Error::new(ErrorKind::Unsupported, "IPv6 is not supported")),
    }
}
