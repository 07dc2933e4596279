//! One network interface and its sockets, over smoltcp.

use super::config::{Addressing, Ipv4Config, MAX_DNS_SERVERS};
use super::NetDevice;
use alloc::vec::Vec;
use core::fmt;
use core::net::Ipv4Addr;
use smoltcp::iface::{
    Config, Context, Interface, PollIngressSingleResult, PollResult, SocketHandle, SocketSet,
};
use smoltcp::socket::{dhcpv4, dns};
use smoltcp::time::{Duration, Instant};
use smoltcp::wire::{EthernetAddress, HardwareAddress, IpAddress, IpCidr, Ipv4Cidr};

/// What changed in the interface's set-up during a [`Stack::poll`].
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Event {
    /// An address is in use (from DHCP or the static set-up).
    Configured {
        /// The address and prefix.
        address: Ipv4Cidr,
        /// The default route, if any.
        gateway: Option<Ipv4Addr>,
        /// The name servers in use.
        dns: Vec<Ipv4Addr>,
    },
    /// The DHCP lease was lost: no address until a new one comes.
    Deconfigured,
}

/// Why the stack could not be set up.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum StackError {
    /// The static address's gateway lies outside its network.
    GatewayUnreachable,
}

impl fmt::Display for StackError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StackError::GatewayUnreachable => f.write_str("gw=: not inside the ip= network"),
        }
    }
}

impl core::error::Error for StackError {}

/// An interface (one device, one IPv4 address) and the sockets bound to it.
pub struct Stack<D: NetDevice> {
    device: D,
    iface: Interface,
    sockets: SocketSet<'static>,
    dhcp: Option<SocketHandle>,
    dns: SocketHandle,
    /// Name servers from the command line: they win over DHCP's.
    fixed_dns: Vec<Ipv4Addr>,
    /// A static set-up not yet announced through [`Stack::poll`].
    pending: Option<Event>,
    /// The last poll stopped at [`MAX_FRAMES_PER_POLL`] with frames still waiting.
    backlogged: bool,
}

/// Received frames one [`Stack::poll`] handles at most, so that a flood cannot keep the poller
/// (and the lock its caller holds) forever; the rest wait for the next poll, which
/// [`Stack::poll_delay`] then asks for at once.
pub const MAX_FRAMES_PER_POLL: usize = 128;

impl<D: NetDevice> Stack<D> {
    /// Brings `device` up as `config` says; `seed` randomises TCP sequence numbers and ports
    /// (pass something unpredictable: a clock's low bits, a hardware random number).
    pub fn new(
        mut device: D,
        config: &Ipv4Config,
        now: Instant,
        seed: u64,
    ) -> Result<Self, StackError> {
        let mac = EthernetAddress(device.mac_address());
        let mut iface_config = Config::new(HardwareAddress::Ethernet(mac));
        iface_config.random_seed = seed;
        let mut iface = Interface::new(iface_config, &mut device, now);
        let mut sockets = SocketSet::new(Vec::new());
        let servers: Vec<IpAddress> = config.dns.iter().map(|&a| IpAddress::Ipv4(a)).collect();
        let dns = sockets.add(dns::Socket::new(&servers, Vec::new()));
        let mut pending = None;
        let dhcp = match config.addressing {
            Addressing::Dhcp => Some(sockets.add(dhcpv4::Socket::new())),
            Addressing::Static { address, prefix, gateway } => {
                let cidr = Ipv4Cidr::new(address, prefix);
                if let Some(gateway) = gateway {
                    if !cidr.contains_addr(&gateway) {
                        return Err(StackError::GatewayUnreachable);
                    }
                }
                set_address(&mut iface, cidr, gateway);
                pending =
                    Some(Event::Configured { address: cidr, gateway, dns: config.dns.clone() });
                None
            }
        };
        let fixed_dns = config.dns.clone();
        Ok(Self { device, iface, sockets, dhcp, dns, fixed_dns, pending, backlogged: false })
    }

    /// Moves frames between the device and the sockets and runs the timers due by `now`.
    /// `after_change` runs after each received frame that changed a socket's state, before the
    /// next frame is looked at: a listener uses it to put a fresh listening socket in place of
    /// one a SYN just took, so a burst of connections does not meet a reset.
    /// Returns whether any socket's state may have changed, and a change of set-up if there
    /// was one (a DHCP lease, or the static address on the first poll).
    pub fn poll(
        &mut self,
        now: Instant,
        mut after_change: impl FnMut(&mut SocketSet<'static>),
    ) -> (bool, Option<Event>) {
        let mut changed = false;
        self.backlogged = true;
        for _ in 0..MAX_FRAMES_PER_POLL {
            match self.iface.poll_ingress_single(now, &mut self.device, &mut self.sockets) {
                PollIngressSingleResult::None => {
                    self.backlogged = false;
                    break;
                }
                PollIngressSingleResult::PacketProcessed => {}
                PollIngressSingleResult::SocketStateChanged => {
                    changed = true;
                    after_change(&mut self.sockets);
                }
            }
        }
        if self.iface.poll_egress(now, &mut self.device, &mut self.sockets)
            == PollResult::SocketStateChanged
        {
            changed = true;
        }
        let event = self.pending.take().or_else(|| self.poll_dhcp());
        (changed || event.is_some(), event)
    }

    /// How long from `now` until the stack needs polling again even if no frame arrives (a
    /// retransmission, a DHCP renewal, frames left by a busy poll); `None`: only when a frame
    /// arrives or a socket is used.
    pub fn poll_delay(&mut self, now: Instant) -> Option<Duration> {
        if self.backlogged {
            return Some(Duration::ZERO);
        }
        self.iface.poll_delay(now, &self.sockets)
    }

    /// The sockets, for reading and writing them.
    pub fn sockets(&mut self) -> &mut SocketSet<'static> {
        &mut self.sockets
    }

    /// The interface context and the sockets, for calls that need both (TCP `connect`, DNS
    /// queries).
    pub fn context_and_sockets(&mut self) -> (&mut Context, &mut SocketSet<'static>) {
        (self.iface.context(), &mut self.sockets)
    }

    /// The DNS socket (resolving names through the servers in use).
    pub fn dns_socket(&self) -> SocketHandle {
        self.dns
    }

    /// The interface's IPv4 address, once it has one.
    pub fn address(&self) -> Option<Ipv4Cidr> {
        self.iface.ip_addrs().iter().map(|IpCidr::Ipv4(v4)| *v4).next()
    }

    /// The device, for its driver's own bookkeeping (interrupt acknowledgement).
    pub fn device(&mut self) -> &mut D {
        &mut self.device
    }

    fn poll_dhcp(&mut self) -> Option<Event> {
        let handle = self.dhcp?;
        let event = match self.sockets.get_mut::<dhcpv4::Socket>(handle).poll()? {
            dhcpv4::Event::Configured(lease) => {
                let dns: Vec<Ipv4Addr> = if self.fixed_dns.is_empty() {
                    lease.dns_servers.iter().copied().take(MAX_DNS_SERVERS).collect()
                } else {
                    self.fixed_dns.clone()
                };
                Event::Configured { address: lease.address, gateway: lease.router, dns }
            }
            dhcpv4::Event::Deconfigured => Event::Deconfigured,
        };
        match &event {
            Event::Configured { address, gateway, dns } => {
                set_address(&mut self.iface, *address, *gateway);
                let servers: Vec<IpAddress> = dns.iter().map(|&a| IpAddress::Ipv4(a)).collect();
                self.sockets.get_mut::<dns::Socket>(self.dns).update_servers(&servers);
            }
            Event::Deconfigured => {
                self.iface.update_ip_addrs(|addrs| addrs.clear());
                self.iface.routes_mut().remove_default_ipv4_route();
            }
        }
        Some(event)
    }
}

fn set_address(iface: &mut Interface, cidr: Ipv4Cidr, gateway: Option<Ipv4Addr>) {
    iface.update_ip_addrs(|addrs| {
        addrs.clear();
        // One address: the list's capacity is at least one.
        let _ = addrs.push(IpCidr::Ipv4(cidr));
    });
    match gateway {
        // The route table has room for the one default route.
        Some(gateway) => drop(iface.routes_mut().add_default_ipv4_route(gateway)),
        None => drop(iface.routes_mut().remove_default_ipv4_route()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::collections::VecDeque;
    use alloc::rc::Rc;
    use alloc::vec;
    use core::cell::RefCell;
    use smoltcp::phy::{self, DeviceCapabilities, Medium};
    use smoltcp::socket::{tcp, udp};
    use smoltcp::wire::IpEndpoint;

    fn buffer(bytes: usize) -> Vec<u8> {
        vec![0; bytes]
    }

    /// A TCP socket with `bytes` of buffer each way, added to `stack`.
    fn tcp_socket(stack: &mut Stack<Wire>, bytes: usize) -> SocketHandle {
        stack.sockets().add(tcp::Socket::new(
            tcp::SocketBuffer::new(buffer(bytes)),
            tcp::SocketBuffer::new(buffer(bytes)),
        ))
    }

    type Queue = Rc<RefCell<VecDeque<Vec<u8>>>>;

    /// One end of an in-memory Ethernet cable.
    struct Wire {
        mac: [u8; 6],
        incoming: Queue,
        outgoing: Queue,
    }

    fn cable() -> (Wire, Wire) {
        let (a, b) = (Queue::default(), Queue::default());
        (
            Wire { mac: [2, 0, 0, 0, 0, 1], incoming: a.clone(), outgoing: b.clone() },
            Wire { mac: [2, 0, 0, 0, 0, 2], incoming: b, outgoing: a },
        )
    }

    struct Rx(Vec<u8>);
    struct Tx(Queue);

    impl phy::RxToken for Rx {
        fn consume<R, F: FnOnce(&[u8]) -> R>(self, f: F) -> R {
            f(&self.0)
        }
    }

    impl phy::TxToken for Tx {
        fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
            let mut frame = vec![0; len];
            let r = f(&mut frame);
            self.0.borrow_mut().push_back(frame);
            r
        }
    }

    impl phy::Device for Wire {
        type RxToken<'a> = Rx;
        type TxToken<'a> = Tx;

        fn receive(&mut self, _: Instant) -> Option<(Rx, Tx)> {
            let frame = self.incoming.borrow_mut().pop_front()?;
            Some((Rx(frame), Tx(self.outgoing.clone())))
        }

        fn transmit(&mut self, _: Instant) -> Option<Tx> {
            Some(Tx(self.outgoing.clone()))
        }

        fn capabilities(&self) -> DeviceCapabilities {
            let mut caps = DeviceCapabilities::default();
            caps.medium = Medium::Ethernet;
            caps.max_transmission_unit = 1514;
            caps
        }
    }

    impl NetDevice for Wire {
        fn mac_address(&self) -> [u8; 6] {
            self.mac
        }
    }

    fn static_config(last: u8) -> Ipv4Config {
        Ipv4Config {
            addressing: Addressing::Static {
                address: Ipv4Addr::new(10, 0, 0, last),
                prefix: 24,
                gateway: Some(Ipv4Addr::new(10, 0, 0, 254)),
            },
            dns: vec![Ipv4Addr::new(10, 0, 0, 53)],
        }
    }

    fn pair() -> (Stack<Wire>, Stack<Wire>) {
        let (a, b) = cable();
        let now = Instant::from_millis(0);
        (
            Stack::new(a, &static_config(1), now, 1).unwrap(),
            Stack::new(b, &static_config(2), now, 2).unwrap(),
        )
    }

    /// Polls both ends until neither has anything to do, advancing time by 1 ms a round.
    fn settle(a: &mut Stack<Wire>, b: &mut Stack<Wire>, clock: &mut i64) {
        for _ in 0..200 {
            *clock += 1;
            let now = Instant::from_millis(*clock);
            let (ca, _) = a.poll(now, |_| {});
            let (cb, _) = b.poll(now, |_| {});
            if !ca
                && !cb
                && a.device.incoming.borrow().is_empty()
                && b.device.incoming.borrow().is_empty()
            {
                return;
            }
        }
    }

    #[test]
    fn a_static_set_up_is_announced_once() {
        let (mut a, _) = pair();
        let (_, event) = a.poll(Instant::from_millis(1), |_| {});
        assert_eq!(
            event,
            Some(Event::Configured {
                address: Ipv4Cidr::new(Ipv4Addr::new(10, 0, 0, 1), 24),
                gateway: Some(Ipv4Addr::new(10, 0, 0, 254)),
                dns: vec![Ipv4Addr::new(10, 0, 0, 53)],
            })
        );
        assert_eq!(a.poll(Instant::from_millis(2), |_| {}).1, None);
        assert_eq!(a.address(), Some(Ipv4Cidr::new(Ipv4Addr::new(10, 0, 0, 1), 24)));
    }

    #[test]
    fn refuses_a_gateway_outside_the_network() {
        let (a, _) = cable();
        let mut config = static_config(1);
        config.addressing = Addressing::Static {
            address: Ipv4Addr::new(10, 0, 0, 1),
            prefix: 24,
            gateway: Some(Ipv4Addr::new(10, 0, 1, 1)),
        };
        let err = Stack::new(a, &config, Instant::from_millis(0), 1).err();
        assert_eq!(err, Some(StackError::GatewayUnreachable));
    }

    #[test]
    fn tcp_connects_and_carries_data_both_ways() {
        let (mut a, mut b) = pair();
        let mut clock = 0;
        let server = tcp_socket(&mut b, 4096);
        b.sockets().get_mut::<tcp::Socket>(server).listen(80).unwrap();
        let client = tcp_socket(&mut a, 4096);
        let (cx, sockets) = a.context_and_sockets();
        let remote = IpEndpoint::new(IpAddress::v4(10, 0, 0, 2), 80);
        sockets.get_mut::<tcp::Socket>(client).connect(cx, remote, 49152).unwrap();
        settle(&mut a, &mut b, &mut clock);
        assert!(a.sockets().get::<tcp::Socket>(client).may_send());

        let request = b"GET / HTTP/1.1\r\n\r\n";
        a.sockets().get_mut::<tcp::Socket>(client).send_slice(request).unwrap();
        settle(&mut a, &mut b, &mut clock);
        let mut got = [0; 64];
        let n = b.sockets().get_mut::<tcp::Socket>(server).recv_slice(&mut got).unwrap();
        assert_eq!(&got[..n], request);

        let reply = vec![0x5a; 3000];
        b.sockets().get_mut::<tcp::Socket>(server).send_slice(&reply).unwrap();
        b.sockets().get_mut::<tcp::Socket>(server).close();
        settle(&mut a, &mut b, &mut clock);
        let mut received = Vec::new();
        let socket = a.sockets().get_mut::<tcp::Socket>(client);
        while let Ok(n) = socket.recv_slice(&mut got) {
            if n == 0 {
                break;
            }
            received.extend_from_slice(&got[..n]);
        }
        assert_eq!(received, reply);
        assert!(!socket.may_recv(), "the server's FIN arrived");
    }

    #[test]
    fn udp_datagrams_arrive_with_their_sender() {
        let (mut a, mut b) = pair();
        let mut clock = 0;
        let udp_socket = || {
            udp::Socket::new(
                udp::PacketBuffer::new(vec![udp::PacketMetadata::EMPTY; 4], buffer(2048)),
                udp::PacketBuffer::new(vec![udp::PacketMetadata::EMPTY; 4], buffer(2048)),
            )
        };
        let sender = a.sockets().add(udp_socket());
        let receiver = b.sockets().add(udp_socket());
        a.sockets().get_mut::<udp::Socket>(sender).bind(5000).unwrap();
        b.sockets().get_mut::<udp::Socket>(receiver).bind(7).unwrap();
        // The first datagram waits for ARP; both must arrive.
        for payload in [&b"one"[..], b"two"] {
            let to = IpEndpoint::new(IpAddress::v4(10, 0, 0, 2), 7);
            a.sockets().get_mut::<udp::Socket>(sender).send_slice(payload, to).unwrap();
            settle(&mut a, &mut b, &mut clock);
        }
        let socket = b.sockets().get_mut::<udp::Socket>(receiver);
        for expected in [&b"one"[..], b"two"] {
            let (data, meta) = socket.recv().unwrap();
            assert_eq!(data, expected);
            assert_eq!(meta.endpoint, IpEndpoint::new(IpAddress::v4(10, 0, 0, 1), 5000));
        }
    }

    #[test]
    fn garbage_frames_are_dropped_and_the_stack_goes_on() {
        let (mut a, mut b) = pair();
        let mut clock = 0;
        // Truncated, oversized and random frames, including one claiming IPv4 with a bad header.
        let mut junk: Vec<Vec<u8>> = vec![vec![], vec![0xff; 3], vec![0xab; 9000]];
        let mut ipv4 = vec![0u8; 60];
        ipv4[..6].copy_from_slice(&[2, 0, 0, 0, 0, 2]);
        ipv4[12..14].copy_from_slice(&[0x08, 0x00]);
        ipv4[14] = 0x4f; // IHL 15 words: longer than the frame
        junk.push(ipv4);
        let mut seed = 0x1234_5678u32;
        for len in [14, 42, 60, 100, 1514] {
            junk.push(
                (0..len)
                    .map(|_| {
                        seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
                        (seed >> 16) as u8
                    })
                    .collect(),
            );
        }
        b.device.incoming.borrow_mut().extend(junk);
        settle(&mut a, &mut b, &mut clock);
        assert!(b.device.incoming.borrow().is_empty());
        // Still answers: a TCP handshake completes afterwards.
        let server = tcp_socket(&mut b, 1024);
        b.sockets().get_mut::<tcp::Socket>(server).listen(80).unwrap();
        let client = tcp_socket(&mut a, 1024);
        let (cx, sockets) = a.context_and_sockets();
        let remote = IpEndpoint::new(IpAddress::v4(10, 0, 0, 2), 80);
        sockets.get_mut::<tcp::Socket>(client).connect(cx, remote, 49153).unwrap();
        settle(&mut a, &mut b, &mut clock);
        assert_eq!(b.sockets().get::<tcp::Socket>(server).state(), tcp::State::Established);
    }
}
