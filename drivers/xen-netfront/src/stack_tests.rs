//! The driver under core's network stack: TCP to a peer behind the fake netback.
//!
//! The peer is a second [`Stack`] whose device is the back end's side of the rings: what the
//! netfront sends, the peer receives, and the other way round. A bulk transfer both ways checks
//! that smoltcp and the driver agree on tokens, lengths and lending.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::net::Ipv4Addr;
use std::rc::Rc;

use rivet_core::net::config::{Addressing, Ipv4Config};
use rivet_core::net::smoltcp::iface::SocketHandle;
use rivet_core::net::smoltcp::phy::{self, DeviceCapabilities, Medium};
use rivet_core::net::smoltcp::socket::tcp;
use rivet_core::net::smoltcp::time::Instant;
use rivet_core::net::smoltcp::wire::{IpAddress, IpEndpoint};
use rivet_core::net::{NetDevice, Stack};

use crate::fake::{
    BackendScript, FakeEvents, FakeGrants, FakeNetback, FakePages, FakeStore, Machine,
};
use crate::{NetfrontConfig, XenNetfront};

/// The back end's side as a network card of the peer.
struct Peer {
    netback: Rc<RefCell<FakeNetback>>,
    pending: VecDeque<Vec<u8>>,
}

struct PeerRx(Vec<u8>);
struct PeerTx(Rc<RefCell<FakeNetback>>);

impl phy::RxToken for PeerRx {
    fn consume<R, F: FnOnce(&[u8]) -> R>(self, f: F) -> R {
        f(&self.0)
    }
}

impl phy::TxToken for PeerTx {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
        let mut frame = vec![0; len];
        let result = f(&mut frame);
        // No posted receive page: dropped, as a full card would (TCP retransmits).
        self.0.borrow_mut().deliver(&frame);
        result
    }
}

impl phy::Device for Peer {
    type RxToken<'a> = PeerRx;
    type TxToken<'a> = PeerTx;

    fn receive(&mut self, _: Instant) -> Option<(PeerRx, PeerTx)> {
        if self.pending.is_empty() {
            self.pending.extend(self.netback.borrow_mut().collect());
        }
        let frame = self.pending.pop_front()?;
        Some((PeerRx(frame), PeerTx(self.netback.clone())))
    }

    fn transmit(&mut self, _: Instant) -> Option<PeerTx> {
        Some(PeerTx(self.netback.clone()))
    }

    fn capabilities(&self) -> DeviceCapabilities {
        let mut caps = DeviceCapabilities::default();
        caps.medium = Medium::Ethernet;
        caps.max_transmission_unit = 1514;
        caps
    }
}

impl NetDevice for Peer {
    fn mac_address(&self) -> [u8; 6] {
        [2, 0, 0, 0, 0, 2]
    }
}

fn addressing(last: u8) -> Ipv4Config {
    Ipv4Config {
        addressing: Addressing::Static {
            address: Ipv4Addr::new(10, 0, 0, last),
            prefix: 24,
            gateway: None,
        },
        dns: Vec::new(),
    }
}

fn tcp_socket<D: NetDevice>(stack: &mut Stack<D>) -> SocketHandle {
    stack.sockets().add(tcp::Socket::new(
        tcp::SocketBuffer::new(vec![0; 16 * 1024]),
        tcp::SocketBuffer::new(vec![0; 16 * 1024]),
    ))
}

#[test]
fn tcp_bulk_transfer_through_the_rings() {
    let machine = Machine::new(1024, BackendScript::Honest);
    let config =
        NetfrontConfig { transmit_buffers: 32, timeout_ms: 100, ..NetfrontConfig::default() };
    let device = XenNetfront::connect(
        &config,
        &mut FakeStore(machine.clone()),
        &mut FakePages(machine.clone()),
        FakeGrants(machine.clone()),
        FakeEvents(machine.clone()),
    )
    .unwrap();
    let netback = Rc::new(RefCell::new(FakeNetback::attach(&machine)));
    let peer = Peer { netback, pending: VecDeque::new() };
    let start = Instant::from_millis(0);
    let mut guest = Stack::new(device, &addressing(1), start, 1).unwrap();
    let mut host = Stack::new(peer, &addressing(2), start, 2).unwrap();

    let server = tcp_socket(&mut host);
    host.sockets().get_mut::<tcp::Socket>(server).listen(80).unwrap();
    let client = tcp_socket(&mut guest);
    let (context, sockets) = guest.context_and_sockets();
    let remote = IpEndpoint::new(IpAddress::v4(10, 0, 0, 2), 80);
    sockets.get_mut::<tcp::Socket>(client).connect(context, remote, 49152).unwrap();

    // 300 KiB each way: over a thousand full frames, the rings wrap several times.
    let upload: Vec<u8> = (0..300 * 1024).map(|i: usize| (i * 7 % 251) as u8).collect();
    let download: Vec<u8> = (0..300 * 1024).map(|i: usize| (i * 13 % 241) as u8).collect();
    let (mut sent_up, mut sent_down) = (0, 0);
    let (mut got_up, mut got_down) = (Vec::new(), Vec::new());
    let mut clock = 0;
    while (got_up.len() < upload.len() || got_down.len() < download.len()) && clock < 200_000 {
        clock += 1;
        let now = Instant::from_millis(clock);
        guest.poll(now, |_| {});
        host.poll(now, |_| {});
        let socket = guest.sockets().get_mut::<tcp::Socket>(client);
        if socket.can_send() {
            sent_up += socket.send_slice(&upload[sent_up..]).unwrap();
        }
        socket
            .recv(|data| {
                got_down.extend_from_slice(data);
                (data.len(), ())
            })
            .ok();
        let socket = host.sockets().get_mut::<tcp::Socket>(server);
        if socket.can_send() {
            sent_down += socket.send_slice(&download[sent_down..]).unwrap();
        }
        socket
            .recv(|data| {
                got_up.extend_from_slice(data);
                (data.len(), ())
            })
            .ok();
    }
    assert_eq!(got_up.len(), upload.len(), "after {clock} ms");
    assert!(got_up == upload, "the upload arrived intact");
    assert_eq!(got_down.len(), download.len(), "after {clock} ms");
    assert!(got_down == download, "the download arrived intact");
}
