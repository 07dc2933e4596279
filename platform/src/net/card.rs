//! The network card behind the one interface: a virtio-net card or a Xen netfront.
//!
//! smoltcp's `phy::Device` has borrowing token types, so it cannot be a trait object; an enum
//! of the card types Rivet drives is the smallest thing that lets one `Stack` type serve both,
//! and each call is one branch on it.

use super::virtio::VirtioCard;
use super::xen::XenCard;
use rivet_core::net::smoltcp::phy::{self, DeviceCapabilities};
use rivet_core::net::smoltcp::time::Instant;
use rivet_core::net::NetDevice;

/// The interface's card. There is one, inside the interface's static state: the variants'
/// sizes do not matter.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Card {
    /// virtio-net over MMIO or PCI.
    Virtio(VirtioCard),
    /// Xen's paravirtual network front end.
    Xen(XenCard),
}

impl Card {
    /// Acknowledges a virtio card's interrupt (an event channel needs nothing: its pending bit
    /// was cleared when the event was claimed).
    pub(crate) fn ack_interrupt(&mut self) {
        if let Card::Virtio(card) = self {
            card.ack_interrupt();
        }
    }
}

/// A received frame from either card.
pub(crate) enum RxToken<'a> {
    Virtio(<VirtioCard as phy::Device>::RxToken<'a>),
    Xen(<XenCard as phy::Device>::RxToken<'a>),
}

/// Room for a frame on either card.
pub(crate) enum TxToken<'a> {
    Virtio(<VirtioCard as phy::Device>::TxToken<'a>),
    Xen(<XenCard as phy::Device>::TxToken<'a>),
}

impl phy::RxToken for RxToken<'_> {
    fn consume<R, F: FnOnce(&[u8]) -> R>(self, f: F) -> R {
        match self {
            RxToken::Virtio(token) => token.consume(f),
            RxToken::Xen(token) => token.consume(f),
        }
    }
}

impl phy::TxToken for TxToken<'_> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
        match self {
            TxToken::Virtio(token) => token.consume(len, f),
            TxToken::Xen(token) => token.consume(len, f),
        }
    }
}

impl phy::Device for Card {
    type RxToken<'a>
        = RxToken<'a>
    where
        Self: 'a;
    type TxToken<'a>
        = TxToken<'a>
    where
        Self: 'a;

    fn receive(&mut self, now: Instant) -> Option<(RxToken<'_>, TxToken<'_>)> {
        match self {
            Card::Virtio(card) => {
                card.receive(now).map(|(rx, tx)| (RxToken::Virtio(rx), TxToken::Virtio(tx)))
            }
            Card::Xen(card) => {
                card.receive(now).map(|(rx, tx)| (RxToken::Xen(rx), TxToken::Xen(tx)))
            }
        }
    }

    fn transmit(&mut self, now: Instant) -> Option<TxToken<'_>> {
        match self {
            Card::Virtio(card) => card.transmit(now).map(TxToken::Virtio),
            Card::Xen(card) => card.transmit(now).map(TxToken::Xen),
        }
    }

    fn capabilities(&self) -> DeviceCapabilities {
        match self {
            Card::Virtio(card) => card.capabilities(),
            Card::Xen(card) => card.capabilities(),
        }
    }
}

impl NetDevice for Card {
    fn mac_address(&self) -> [u8; 6] {
        match self {
            Card::Virtio(card) => card.mac_address(),
            Card::Xen(card) => card.mac_address(),
        }
    }
}
