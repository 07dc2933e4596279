//! The device: connection, smoltcp's `phy::Device`, release of its grants.

use alloc::string::String;
use alloc::vec::Vec;
use core::ops::Range;

use log::warn;
use rivet_core::net::smoltcp::phy::{self, DeviceCapabilities, Medium};
use rivet_core::net::smoltcp::time::Instant;
use rivet_core::net::NetDevice;
use rivet_xen_abi::netif::{XenbusState, RX_RING_ENTRIES, TX_RING_ENTRIES};

use crate::error::NetfrontError;
use crate::handshake::{self, Published};
use crate::platform::{EventChannel, GrantAccess, GrantError, PageAllocator, SharedPage, Store};
use crate::receive::Receive;
use crate::ring_page::RingPage;
use crate::transmit::{Transmit, TxBuffer};

/// The largest Ethernet frame without its FCS: 1500 bytes of payload, 14 of header.
const MAX_FRAME: usize = 1514;

/// Which device to connect and how much memory to give it.
#[derive(Clone, Copy, Debug)]
pub struct NetfrontConfig<'a> {
    /// The device's xenstore directory, relative to the domain's home: `device/vif/0`.
    pub device: &'a str,
    /// Pages in the transmit pool (1 to 256, the ring's size): frames in flight at most.
    pub transmit_buffers: u16,
    /// Pages posted for receiving (1 to 256; the whole ring by default).
    pub receive_buffers: u16,
    /// How long each wait for the back end's state may take, in milliseconds.
    pub timeout_ms: u64,
}

impl Default for NetfrontConfig<'static> {
    /// `device/vif/0`, 64 transmit pages, a full ring (256) of receive pages, 10 s waits.
    fn default() -> Self {
        Self {
            device: "device/vif/0",
            transmit_buffers: 64,
            receive_buffers: 256,
            timeout_ms: 10_000,
        }
    }
}

/// Raises the event channel for the back end.
pub(crate) struct Notifier<E: EventChannel> {
    events: E,
    port: u32,
}

impl<E: EventChannel> Notifier<E> {
    fn notify_if(&mut self, needed: bool) {
        if needed {
            self.events.notify(self.port);
        }
    }
}

/// Both rings with their buffers.
pub(crate) struct Rings<P: SharedPage> {
    pub(crate) rx: Receive<P>,
    pub(crate) tx: Transmit<P>,
}

/// A connected Xen virtual network card.
///
/// Built by [`connect`](Self::connect); polled through smoltcp's `phy::Device` (from the network
/// thread, when the event channel [`port`](Self::port) fires, and from socket calls). Dropping
/// it ends every grant it made; a page the back end still holds is kept (leaked), never freed.
pub struct XenNetfront<P: SharedPage, G: GrantAccess, E: EventChannel> {
    /// The device's xenstore directory.
    device: String,
    /// The back end's xenstore directory.
    backend_path: String,
    mac: [u8; 6],
    backend: u16,
    transmit_buffers: u16,
    grants: G,
    notifier: Notifier<E>,
    /// `None` only while being dropped.
    rings: Option<Rings<P>>,
}

impl<P: SharedPage, G: GrantAccess, E: EventChannel> XenNetfront<P, G, E> {
    /// Connects the device `config.device` names: reads its back end, waits for it to be ready
    /// (`InitWait`), shares the rings and buffers, publishes them, and waits for the back end to
    /// connect. Blocks on xenstore for up to `config.timeout_ms` per wait.
    pub fn connect<A: PageAllocator<Page = P>>(
        config: &NetfrontConfig<'_>,
        store: &mut impl Store,
        pages: &mut A,
        grants: G,
        mut events: E,
    ) -> Result<Self, NetfrontError> {
        if !(1..=TX_RING_ENTRIES).contains(&u32::from(config.transmit_buffers)) {
            return Err(NetfrontError::Config("transmit_buffers must be 1 to 256"));
        }
        if !(1..=RX_RING_ENTRIES).contains(&u32::from(config.receive_buffers)) {
            return Err(NetfrontError::Config("receive_buffers must be 1 to 256"));
        }
        let backend = handshake::read_backend(store, config.device)?;
        handshake::wait_for_backend(
            store,
            &backend.path,
            XenbusState::InitWait,
            config.timeout_ms,
        )?;
        handshake::require_rx_copy(store, &backend.path)?;
        let port = events.allocate_unbound(backend.domain)?;
        let tx_ring = RingPage::new(pages.allocate_page()?, TX_RING_ENTRIES);
        let rx_ring = RingPage::new(pages.allocate_page()?, RX_RING_ENTRIES);
        let mut tx_buffers = Vec::with_capacity(usize::from(config.transmit_buffers));
        for _ in 0..config.transmit_buffers {
            tx_buffers.push(TxBuffer { page: pages.allocate_page()?, grant: None });
        }
        let mut rx_pages = Vec::with_capacity(usize::from(config.receive_buffers));
        for _ in 0..config.receive_buffers {
            rx_pages.push(pages.allocate_page()?);
        }
        // From here on a failure drops `device`, which ends whatever was granted.
        let mut device = Self {
            device: config.device.into(),
            backend_path: backend.path.clone(),
            mac: backend.mac,
            backend: backend.domain,
            transmit_buffers: config.transmit_buffers,
            grants,
            notifier: Notifier { events, port },
            rings: Some(Rings {
                rx: Receive::new(rx_ring, rx_pages),
                tx: Transmit::new(tx_ring, tx_buffers),
            }),
        };
        let published = device.share()?;
        handshake::publish(store, config.device, &published)?;
        handshake::set_state(store, config.device, XenbusState::Connected)?;
        handshake::wait_for_backend(
            store,
            &backend.path,
            XenbusState::Connected,
            config.timeout_ms,
        )?;
        // The receive requests were pushed before the back end connected: tell it.
        device.notifier.notify_if(true);
        Ok(device)
    }

    /// Grants both rings to the back end, every transmit page read-only, and posts every
    /// receive page.
    fn share(&mut self) -> Result<Published, NetfrontError> {
        let Self { rings: Some(Rings { rx, tx }), grants, backend, .. } = self else {
            return Err(NetfrontError::Config("device already released"));
        };
        let tx_ring = grants.grant(*backend, tx.ring.page.frame(), false)?;
        tx.ring_grant = Some(tx_ring);
        let rx_ring = grants.grant(*backend, rx.ring.page.frame(), false)?;
        rx.ring_grant = Some(rx_ring);
        for buffer in &mut tx.buffers {
            buffer.grant = Some(grants.grant(*backend, buffer.page.frame(), true)?);
        }
        rx.refill(grants, *backend);
        if rx.posted() != rx.pages.len() {
            // `refill` logged why (the grant table is full).
            return Err(NetfrontError::Grant(GrantError::Exhausted));
        }
        Ok(Published { tx_ring, rx_ring, port: self.notifier.port })
    }

    /// Disconnects: switches to `Closing` and waits for the back end to let go of the rings
    /// (`Closing`, `Closed` or gone), switches to `Closed` and waits for it to follow, then ends
    /// every grant. Errors say which wait failed; the grants are ended (or their pages kept, if
    /// the back end still holds them) either way.
    pub fn close(self, store: &mut impl Store, timeout_ms: u64) -> Result<(), NetfrontError> {
        let backend = self.backend_path.clone();
        let result = handshake::set_state(store, &self.device, XenbusState::Closing)
            .and_then(|()| {
                handshake::wait_for_backend_closing(
                    store,
                    &backend,
                    XenbusState::Closing,
                    timeout_ms,
                )
            })
            .and_then(|()| handshake::set_state(store, &self.device, XenbusState::Closed))
            .and_then(|()| {
                handshake::wait_for_backend_closing(
                    store,
                    &backend,
                    XenbusState::Closed,
                    timeout_ms,
                )
            });
        drop(self);
        result
    }

    /// The event channel the back end raises: the platform routes it to the network thread.
    pub fn port(&self) -> u32 {
        self.notifier.port
    }

    /// The back end's domain.
    pub fn backend_domain(&self) -> u16 {
        self.backend
    }

    /// Both rings, for the tests' fake back end.
    #[cfg(test)]
    pub(crate) fn rings(&self) -> &Rings<P> {
        self.rings.as_ref().expect("rings exist until drop")
    }
}

impl<P: SharedPage, G: GrantAccess, E: EventChannel> core::fmt::Debug for XenNetfront<P, G, E> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("XenNetfront")
            .field("mac", &self.mac)
            .field("backend", &self.backend)
            .field("port", &self.notifier.port)
            .finish_non_exhaustive()
    }
}

impl<P: SharedPage, G: GrantAccess, E: EventChannel> Drop for XenNetfront<P, G, E> {
    fn drop(&mut self) {
        let Some(Rings { rx, tx }) = self.rings.take() else { return };
        let kept = rx.release(&mut self.grants) + tx.release(&mut self.grants);
        if kept > 0 {
            warn!("xen-netfront: {kept} pages kept forever: the back end still holds them");
        }
    }
}

/// A received frame, lent to the stack until the next receive.
pub struct RxToken<'a, P: SharedPage> {
    page: &'a P,
    frame: Range<usize>,
}

/// Room for one frame to send.
pub struct TxToken<'a, P: SharedPage, E: EventChannel> {
    tx: &'a mut Transmit<P>,
    notifier: &'a mut Notifier<E>,
}

impl<P: SharedPage> phy::RxToken for RxToken<'_, P> {
    fn consume<R, F: FnOnce(&[u8]) -> R>(self, f: F) -> R {
        // The bounds were checked against the page when the response came.
        self.page.with_bytes(|bytes| f(bytes.get(self.frame).unwrap_or_default()))
    }
}

impl<P: SharedPage, E: EventChannel> phy::TxToken for TxToken<'_, P, E> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
        let (result, notify) = self.tx.send(len, f);
        self.notifier.notify_if(notify);
        result
    }
}

impl<P: SharedPage, G: GrantAccess, E: EventChannel> phy::Device for XenNetfront<P, G, E> {
    type RxToken<'a>
        = RxToken<'a, P>
    where
        Self: 'a;
    type TxToken<'a>
        = TxToken<'a, P, E>
    where
        Self: 'a;

    fn receive(&mut self, _: Instant) -> Option<(RxToken<'_, P>, TxToken<'_, P, E>)> {
        let Self { rings: Some(Rings { rx, tx }), grants, notifier, backend, .. } = self else {
            return None;
        };
        let notify = rx.refill(grants, *backend);
        notifier.notify_if(notify);
        tx.reclaim();
        if !tx.can_send() {
            return None;
        }
        let Some((id, frame)) = rx.take(grants) else {
            // Pages of frames dropped on the way go straight back to the ring.
            let notify = rx.refill(grants, *backend);
            notifier.notify_if(notify);
            return None;
        };
        Some((RxToken { page: &rx.pages[usize::from(id)], frame }, TxToken { tx, notifier }))
    }

    fn transmit(&mut self, _: Instant) -> Option<TxToken<'_, P, E>> {
        let Self { rings: Some(Rings { tx, .. }), notifier, .. } = self else { return None };
        tx.reclaim();
        if !tx.can_send() {
            return None;
        }
        Some(TxToken { tx, notifier })
    }

    fn capabilities(&self) -> DeviceCapabilities {
        let mut caps = DeviceCapabilities::default();
        caps.medium = Medium::Ethernet;
        caps.max_transmission_unit = MAX_FRAME;
        caps.max_burst_size = Some(usize::from(self.transmit_buffers / 2).max(1));
        caps
    }
}

impl<P: SharedPage, G: GrantAccess, E: EventChannel> NetDevice for XenNetfront<P, G, E> {
    fn mac_address(&self) -> [u8; 6] {
        self.mac
    }
}
