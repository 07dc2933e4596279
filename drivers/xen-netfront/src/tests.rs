//! The driver against the fake machine and netback.
//!
//! Handshake, traffic, wrap-around of both rings, and each hostile back-end case.

use std::cell::RefCell;
use std::rc::Rc;

use rivet_core::net::smoltcp::phy::{Device, RxToken as _, TxToken as _};
use rivet_core::net::smoltcp::time::Instant;
use rivet_core::net::NetDevice;
use rivet_xen_abi::grant_table::GTF_WRITING;
use rivet_xen_abi::netif::{
    NetifRxResponse, NetifTxResponse, XenbusState, NETIF_RSP_ERROR, NETIF_RSP_OKAY,
    NETRXF_EXTRA_INFO, NETRXF_MORE_DATA,
};

use crate::fake::{
    BackendScript, FakeEvents, FakeGrants, FakeNetback, FakePage, FakePages, FakeStore, Machine,
    BACKEND_PATH, DEVICE, PORT,
};
use crate::handshake::parse_mac;
use crate::platform::{GrantAccess, GrantError};
use crate::{NetfrontConfig, NetfrontError, StoreError, XenNetfront};

type Netfront = XenNetfront<FakePage, FakeGrants, FakeEvents>;

// Log capture: each test thread sees its own records.
thread_local! {
    static RECORDS: RefCell<Vec<(log::Level, String)>> = const { RefCell::new(Vec::new()) };
}

struct Capture;

impl log::Log for Capture {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }
    fn log(&self, record: &log::Record<'_>) {
        RECORDS
            .with(|records| records.borrow_mut().push((record.level(), record.args().to_string())));
    }
    fn flush(&self) {}
}

static CAPTURE: Capture = Capture;

/// Installs the capturing logger (once per process) and forgets this thread's records.
fn capture_logs() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        log::set_logger(&CAPTURE).unwrap();
        log::set_max_level(log::LevelFilter::Trace);
    });
    RECORDS.with(|records| records.borrow_mut().clear());
}

/// This thread's messages at `level`, taken.
fn take_logs(level: log::Level) -> Vec<String> {
    RECORDS.with(|records| {
        let mut records = records.borrow_mut();
        let (wanted, rest) = records.drain(..).partition(|(l, _)| *l == level);
        *records = rest;
        wanted.into_iter().map(|(_, message)| message).collect()
    })
}

fn config(transmit_buffers: u16, receive_buffers: u16) -> NetfrontConfig<'static> {
    NetfrontConfig { device: DEVICE, transmit_buffers, receive_buffers, timeout_ms: 100 }
}

fn connect(machine: &Rc<Machine>, config: &NetfrontConfig<'_>) -> Result<Netfront, NetfrontError> {
    XenNetfront::connect(
        config,
        &mut FakeStore(machine.clone()),
        &mut FakePages(machine.clone()),
        FakeGrants(machine.clone()),
        FakeEvents(machine.clone()),
    )
}

/// A connected device with `tx` transmit and `rx` receive buffers, and its back end.
fn up(tx: u16, rx: u16) -> (Rc<Machine>, Netfront, FakeNetback) {
    capture_logs();
    let machine = Machine::new(1024, BackendScript::Honest);
    let device = connect(&machine, &config(tx, rx)).unwrap();
    let netback = FakeNetback::attach(&machine);
    (machine, device, netback)
}

fn now() -> Instant {
    Instant::from_millis(0)
}

/// The next frame the device hands the stack.
fn receive(device: &mut Netfront) -> Option<Vec<u8>> {
    device.receive(now()).map(|(rx, _)| rx.consume(|bytes| bytes.to_vec()))
}

/// Sends `frame` through a transmit token; false if the device gave none.
fn send(device: &mut Netfront, frame: &[u8]) -> bool {
    match device.transmit(now()) {
        Some(token) => {
            token.consume(frame.len(), |buffer| buffer.copy_from_slice(frame));
            true
        }
        None => false,
    }
}

/// A frame of 60 to 1514 bytes that encodes `n`.
fn frame(n: u32) -> Vec<u8> {
    let len = 60 + (n as usize * 37) % 1455;
    (0..len).map(|i| (n as usize).wrapping_mul(31).wrapping_add(i) as u8).collect()
}

fn store(machine: &Machine, path: &str) -> String {
    machine.store.borrow()[path].clone()
}

#[test]
fn handshake_publishes_the_rings_and_connects() {
    let (machine, device, netback) = up(8, 256);
    assert_eq!(store(&machine, &format!("{DEVICE}/state")), "4");
    assert_eq!(store(&machine, &format!("{BACKEND_PATH}/state")), "4");
    assert_eq!(store(&machine, &format!("{DEVICE}/event-channel")), PORT.to_string());
    assert_eq!(store(&machine, &format!("{DEVICE}/request-rx-copy")), "1");
    assert_eq!(store(&machine, &format!("{DEVICE}/feature-rx-notify")), "1");
    assert_eq!(store(&machine, &format!("{DEVICE}/feature-no-csum-offload")), "1");
    assert_eq!(device.mac_address(), [0x00, 0x16, 0x3e, 0x0a, 0xbc, 0xde]);
    assert_eq!(device.port(), PORT);
    assert_eq!(device.backend_domain(), 0);
    // The whole receive ring is posted, and the back end was told once.
    assert_eq!(netback.rx_posted(), 256);
    assert_eq!(device.rings().rx.posted(), 256);
    assert_eq!(machine.notifications.get(), 1);
    // Two rings, 8 transmit pages, 256 receive pages: all granted.
    assert_eq!(machine.grants.borrow().active(), 2 + 8 + 256);
    assert!(take_logs(log::Level::Error).is_empty());
}

#[test]
fn handshake_failures_are_reported_and_leave_nothing_granted() {
    capture_logs();
    let silent = Machine::new(1024, BackendScript::Silent);
    let error = connect(&silent, &config(4, 4)).unwrap_err();
    assert!(matches!(error, NetfrontError::Timeout { last: XenbusState::Initialising, .. }));

    let restless = Machine::new(1024, BackendScript::Restless);
    let error = connect(&restless, &config(4, 4)).unwrap_err();
    assert!(matches!(error, NetfrontError::Timeout { last: XenbusState::Initialising, .. }));

    let closing = Machine::new(1024, BackendScript::ClosesOnConnect);
    let error = connect(&closing, &config(4, 4)).unwrap_err();
    assert_eq!(error, NetfrontError::BackendState(XenbusState::Closing));
    // The rings were shared before the back end closed; everything is taken back and freed.
    assert_eq!(closing.grants.borrow().active(), 0);
    assert_eq!(closing.live_pages(), 0);

    let starved = Machine::new(10, BackendScript::Honest);
    assert_eq!(
        connect(&starved, &config(4, 8)).unwrap_err(),
        NetfrontError::Pages(crate::OutOfPages)
    );
    assert_eq!(starved.live_pages(), 0);

    let no_device = Machine::new(1024, BackendScript::Honest);
    no_device.store.borrow_mut().remove(&format!("{DEVICE}/backend-id"));
    let error = connect(&no_device, &config(4, 4)).unwrap_err();
    assert!(matches!(error, NetfrontError::Store { error: StoreError::NoEntry, .. }));

    let bad_mac = Machine::new(1024, BackendScript::Honest);
    bad_mac.store.borrow_mut().insert(format!("{DEVICE}/mac"), "00:16:3e:0a:bc".into());
    assert!(matches!(connect(&bad_mac, &config(4, 4)), Err(NetfrontError::BadNode { .. })));

    let bad_state = Machine::new(1024, BackendScript::Honest);
    bad_state.store.borrow_mut().insert(format!("{BACKEND_PATH}/state"), "connected".into());
    assert!(matches!(connect(&bad_state, &config(4, 4)), Err(NetfrontError::BadNode { .. })));

    let no_copy = Machine::new(1024, BackendScript::Honest);
    no_copy.store.borrow_mut().remove(&format!("{BACKEND_PATH}/feature-rx-copy"));
    assert_eq!(
        connect(&no_copy, &config(4, 4)).unwrap_err(),
        NetfrontError::MissingFeature("feature-rx-copy")
    );

    let machine = Machine::new(1024, BackendScript::Honest);
    assert!(matches!(connect(&machine, &config(0, 4)), Err(NetfrontError::Config(_))));
    assert!(matches!(connect(&machine, &config(4, 257)), Err(NetfrontError::Config(_))));
}

#[test]
fn mac_addresses_are_parsed_strictly() {
    assert_eq!(parse_mac("00:16:3E:0a:bc:de\0"), Some([0, 0x16, 0x3e, 0x0a, 0xbc, 0xde]));
    for junk in
        ["", "00:16:3e:0a:bc", "00:16:3e:0a:bc:de:ff", "0:16:3e:0a:bc:de", "zz:16:3e:0a:bc:de"]
    {
        assert_eq!(parse_mac(junk), None, "{junk:?}");
    }
}

#[test]
fn frames_go_both_ways() {
    let (machine, mut device, mut netback) = up(8, 16);
    assert!(receive(&mut device).is_none());
    assert!(netback.deliver(&frame(1)));
    assert!(netback.deliver(&frame(2)));
    assert_eq!(netback.events, 1, "one event: the device had asked for the next response");
    assert_eq!(receive(&mut device), Some(frame(1)));
    assert_eq!(receive(&mut device), Some(frame(2)));
    assert_eq!(receive(&mut device), None);
    // Both pages came back to the ring.
    assert_eq!(netback.rx_posted(), 16);

    let notified = machine.notifications.get();
    assert!(send(&mut device, &frame(3)));
    assert!(send(&mut device, &frame(4)));
    assert!(machine.notifications.get() > notified);
    assert_eq!(device.rings().tx.in_flight(), 2);
    assert_eq!(netback.collect(), [frame(3), frame(4)]);
    // Reclaimed at the next poll.
    assert!(send(&mut device, &frame(5)));
    assert_eq!(device.rings().tx.in_flight(), 1);
    assert!(take_logs(log::Level::Error).is_empty());
}

#[test]
fn a_frame_at_an_offset_is_lent_in_place() {
    let (_machine, mut device, mut netback) = up(2, 4);
    netback.rx_offset = 4096 - 1514;
    assert!(netback.deliver(&frame(9)));
    let (rx, _) = device.receive(now()).unwrap();
    rx.consume(|bytes| assert_eq!(bytes, &frame(9)[..]));
}

#[test]
fn thousands_of_frames_wrap_both_rings() {
    let (machine, mut device, mut netback) = up(16, 256);
    let grants_in_force = machine.grants.borrow().active();
    let mut sent = 0u32;
    let mut received = 0u32;
    for round in 0..2_000u32 {
        // Bursts of 1 to 7 frames each way, so the indexes move unevenly past slot 255.
        for i in 0..(round % 7 + 1) {
            assert!(netback.deliver(&frame(round * 8 + i)));
            let got = receive(&mut device).expect("the frame just delivered");
            assert_eq!(got, frame(round * 8 + i));
            received += 1;
        }
        let burst = round % 5 + 1;
        for i in 0..burst {
            assert!(send(&mut device, &frame(1_000_000 + round * 8 + i)));
            sent += 1;
        }
        let collected = netback.collect();
        assert_eq!(collected.len() as u32, burst);
        for (i, got) in collected.iter().enumerate() {
            assert_eq!(*got, frame(1_000_000 + round * 8 + i as u32));
        }
    }
    assert!(sent > 5_000 && received > 7_000, "{sent} sent, {received} received");
    assert!(receive(&mut device).is_none());
    // Nothing leaked: as many grants as at the start, the whole receive ring posted.
    assert_eq!(machine.grants.borrow().active(), grants_in_force);
    assert_eq!(netback.rx_posted(), 256);
    assert!(take_logs(log::Level::Error).is_empty());
}

#[test]
fn transmit_stops_when_the_pool_is_in_flight() {
    let (_machine, mut device, mut netback) = up(4, 4);
    for n in 0..4 {
        assert!(send(&mut device, &frame(n)));
    }
    assert!(!send(&mut device, &frame(4)));
    // Receiving needs a transmit token too: held back until the back end answers.
    assert!(netback.deliver(&frame(5)));
    assert!(device.receive(now()).is_none());
    assert_eq!(netback.collect().len(), 4);
    assert_eq!(receive(&mut device), Some(frame(5)));
    assert!(send(&mut device, &frame(6)));
}

#[test]
fn unknown_and_duplicate_receive_ids_are_dropped() {
    let (_machine, mut device, mut netback) = up(4, 8);
    let (id, _) = netback.take_rx_request().unwrap();
    netback.respond_rx(NetifRxResponse { id: 999, offset: 0, flags: 0, status: 60 });
    assert_eq!(receive(&mut device), None);
    assert_eq!(take_logs(log::Level::Error).len(), 1, "unknown id");
    // `id` was never answered: still posted, the ring one short.
    assert_eq!(netback.rx_posted(), 7);
    // Two answers for `id` in one batch (in the slots of two other requests): the first is an
    // error, which drops the frame and frees the buffer; the second names a buffer that is no
    // longer posted.
    netback.take_rx_request().unwrap();
    netback.take_rx_request().unwrap();
    netback.respond_rx(NetifRxResponse { id, offset: 0, flags: 0, status: NETIF_RSP_ERROR });
    netback.respond_rx(NetifRxResponse { id, offset: 0, flags: 0, status: 60 });
    assert_eq!(receive(&mut device), None);
    assert_eq!(take_logs(log::Level::Warn).len(), 1, "the error status");
    assert_eq!(take_logs(log::Level::Error).len(), 1, "the duplicate");
    // The device still works; the two buffers whose requests got no answer of their own stay
    // with the back end, and `id` was posted again.
    assert!(netback.deliver(&frame(1)));
    assert_eq!(receive(&mut device), Some(frame(1)));
    assert_eq!(device.rings().rx.posted(), 7, "all but the lent one");
    assert_eq!(netback.rx_posted(), 8 - 4 + 1);
}

#[test]
fn bad_receive_lengths_are_dropped_and_the_page_reposted() {
    let (_machine, mut device, mut netback) = up(4, 8);
    let cases = [
        (4000, 200, "runs past the page"),
        (0, 4097, "longer than the page"),
        (0, 0, "empty"),
        (0, NETIF_RSP_ERROR, "error"),
        (0, i16::MIN, "most negative"),
        (u16::MAX, 1, "offset past the page"),
    ];
    for (offset, status, what) in cases {
        let (id, _) = netback.take_rx_request().unwrap();
        netback.respond_rx(NetifRxResponse { id, offset, flags: 0, status });
        assert_eq!(receive(&mut device), None, "{what}");
        // Dropped, and the page went straight back to the ring.
        assert_eq!(netback.rx_posted(), 8, "{what}");
    }
    assert_eq!(take_logs(log::Level::Warn).len(), cases.len());
    assert!(netback.deliver(&frame(1)));
    assert_eq!(receive(&mut device), Some(frame(1)));
}

#[test]
fn multi_slot_frames_are_dropped_whole() {
    let (_machine, mut device, mut netback) = up(4, 8);
    for flags in [NETRXF_MORE_DATA, NETRXF_EXTRA_INFO] {
        let (first, _) = netback.take_rx_request().unwrap();
        netback.respond_rx(NetifRxResponse { id: first, offset: 0, flags, status: 100 });
        let (second, _) = netback.take_rx_request().unwrap();
        netback.respond_rx(NetifRxResponse { id: second, offset: 0, flags: 0, status: 100 });
        assert_eq!(receive(&mut device), None);
        assert_eq!(netback.rx_posted(), 8);
    }
    assert_eq!(take_logs(log::Level::Error).len(), 2);
    assert!(netback.deliver(&frame(2)));
    assert_eq!(receive(&mut device), Some(frame(2)));
}

#[test]
fn a_jumping_receive_producer_breaks_the_ring_without_harm() {
    for jump in [1_000u32, 9, u32::MAX] {
        let (_machine, mut device, mut netback) = up(4, 8);
        assert!(netback.deliver(&frame(1)));
        // 8 requests outstanding, one answered: claim 9 or 1000 answers, or one behind.
        netback.set_rx_rsp_prod(if jump == u32::MAX { u32::MAX } else { jump });
        assert_eq!(receive(&mut device), None, "rsp_prod {jump}");
        assert_eq!(take_logs(log::Level::Error).len(), 1);
        // Broken for good, logged once, and sending still works.
        netback.set_rx_rsp_prod(1);
        assert_eq!(receive(&mut device), None);
        assert!(take_logs(log::Level::Error).is_empty());
        assert!(send(&mut device, &frame(2)));
        assert_eq!(netback.collect(), [frame(2)]);
    }
}

#[test]
fn bad_transmit_responses_are_ignored() {
    let (_machine, mut device, mut netback) = up(4, 4);
    assert!(send(&mut device, &frame(1)));
    netback.take_tx_request().unwrap();
    netback.respond_tx(NetifTxResponse { id: 77, status: NETIF_RSP_OKAY });
    assert!(send(&mut device, &frame(2)));
    assert_eq!(take_logs(log::Level::Error).len(), 1, "unknown id");
    assert_eq!(device.rings().tx.in_flight(), 2);
    let (second, _) = netback.take_tx_request().unwrap();
    assert!(send(&mut device, &frame(3)));
    netback.take_tx_request().unwrap();
    // The first frame's slot went to id 77; now a failure for the second, and the same answer
    // again in the third's slot.
    netback.respond_tx(NetifTxResponse { id: second, status: NETIF_RSP_ERROR });
    netback.respond_tx(NetifTxResponse { id: second, status: NETIF_RSP_ERROR });
    assert!(send(&mut device, &frame(4)));
    assert_eq!(take_logs(log::Level::Warn).len(), 1, "the failed frame");
    assert_eq!(take_logs(log::Level::Error).len(), 1, "the duplicate");
    // The first and third frames' buffers stay in flight (never answered); the fourth's too.
    assert_eq!(device.rings().tx.in_flight(), 3);
    assert_eq!(netback.collect(), [frame(4)]);
}

#[test]
fn a_jumping_transmit_producer_breaks_the_ring_without_harm() {
    let (_machine, mut device, mut netback) = up(4, 4);
    assert!(send(&mut device, &frame(1)));
    netback.set_tx_rsp_prod(500);
    assert!(!send(&mut device, &frame(2)));
    assert_eq!(take_logs(log::Level::Error).len(), 1);
    assert!(device.transmit(now()).is_none());
    assert!(take_logs(log::Level::Error).is_empty());
}

#[test]
fn a_page_the_back_end_still_writes_is_not_read_until_released() {
    let (machine, mut device, mut netback) = up(4, 4);
    let (id, grant) = netback.take_rx_request().unwrap();
    // The back end keeps copying into the page (Xen's GTF_writing) yet answers.
    machine.grants.borrow_mut().entries[grant as usize].flags |= GTF_WRITING;
    netback.respond_rx(NetifRxResponse { id, offset: 0, flags: 0, status: 60 });
    assert_eq!(receive(&mut device), None);
    assert_eq!(take_logs(log::Level::Warn).len(), 1);
    assert_eq!(netback.rx_posted(), 3);
    assert_eq!(receive(&mut device), None);
    assert_eq!(netback.rx_posted(), 3, "still held: not reposted");
    machine.grants.borrow_mut().entries[grant as usize].flags &= !GTF_WRITING;
    assert_eq!(receive(&mut device), None);
    assert_eq!(netback.rx_posted(), 4, "let go: back in the ring");
}

#[test]
fn dropping_the_device_ends_every_grant() {
    let (machine, device, _netback) = up(8, 32);
    assert_eq!(machine.live_pages(), 2 + 8 + 32);
    drop(device);
    assert_eq!(machine.grants.borrow().active(), 0);
    assert_eq!(machine.live_pages(), 0);
}

#[test]
fn pages_the_back_end_holds_are_kept_when_the_device_goes() {
    let (machine, device, mut netback) = up(4, 4);
    let (_, grant) = netback.take_rx_request().unwrap();
    machine.grants.borrow_mut().entries[grant as usize].flags |= GTF_WRITING;
    drop(device);
    assert_eq!(machine.grants.borrow().active(), 1);
    assert_eq!(machine.live_pages(), 1, "leaked, not freed");
    assert_eq!(take_logs(log::Level::Warn).len(), 1);
}

#[test]
fn closing_walks_both_ends_to_closed_and_ends_every_grant() {
    let (machine, mut device, mut netback) = up(4, 8);
    assert!(netback.deliver(&frame(1)));
    assert!(send(&mut device, &frame(2)));
    // A frame is lent when the device closes: its page is freed too.
    let _ = device.receive(now()).map(|(rx, _)| rx.consume(|bytes| bytes.len()));
    device.close(&mut FakeStore(machine.clone()), 100).unwrap();
    assert_eq!(store(&machine, &format!("{DEVICE}/state")), "6");
    assert_eq!(store(&machine, &format!("{BACKEND_PATH}/state")), "6");
    assert_eq!(machine.grants.borrow().active(), 0);
    assert_eq!(machine.live_pages(), 0);
}

#[test]
fn closing_a_silent_back_end_times_out_but_still_releases() {
    let (machine, device, _netback) = up(4, 4);
    machine.script.set(BackendScript::Silent);
    let error = device.close(&mut FakeStore(machine.clone()), 100).unwrap_err();
    assert!(matches!(error, NetfrontError::Timeout { last: XenbusState::Connected, .. }));
    assert_eq!(machine.grants.borrow().active(), 0);
}

#[test]
fn a_full_grant_table_fails_the_connection_cleanly() {
    capture_logs();
    let machine = Machine::new(1024, BackendScript::Honest);
    // Someone else holds all but 100 references.
    let mut others = FakeGrants(machine.clone());
    let held: Vec<_> = (0..1024 - 8 - 100).map(|_| others.grant(0, 1, true).unwrap()).collect();
    let error = connect(&machine, &config(4, 256)).unwrap_err();
    assert_eq!(error, NetfrontError::Grant(GrantError::Exhausted));
    assert_eq!(machine.grants.borrow().active(), held.len());
    assert_eq!(machine.live_pages(), 0);
    assert!(!take_logs(log::Level::Warn).is_empty());
}

#[test]
fn a_frame_longer_than_a_page_is_dropped() {
    let (_machine, mut device, mut netback) = up(2, 2);
    let token = device.transmit(now()).unwrap();
    let filled = token.consume(5000, |buffer| {
        buffer.fill(7);
        buffer.len()
    });
    assert_eq!(filled, 5000, "the stack still gets a buffer of the size it asked for");
    assert_eq!(take_logs(log::Level::Error).len(), 1);
    assert!(netback.collect().is_empty());
    assert_eq!(device.rings().tx.in_flight(), 0);
}
