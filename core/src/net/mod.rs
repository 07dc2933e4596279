//! Networking: smoltcp as the TCP/IP stack over the network devices drivers provide.
//!
//! - [`NetDevice`] is the trait a network driver implements (virtio-net, later Xen netfront): a
//!   smoltcp [`phy::Device`](smoltcp::phy::Device) that can also say its MAC address. Drivers
//!   reach smoltcp through the re-export [`smoltcp`], so every layer agrees on one version.
//! - [`config`] reads the interface's IPv4 set-up from the kernel parameters (`ip=`, `gw=`,
//!   `dns=`), untrusted text checked word by word.
//! - [`Stack`] is one interface with its sockets: it owns the device, runs DHCPv4 when asked,
//!   keeps the DNS servers, and tells its caller when to poll next. It knows no threads: the
//!   platform serialises access and decides who polls (the network interrupt's thread, and
//!   every socket call).
//!
//! Everything here is host-tested, two stacks talking over an in-memory wire.

pub mod config;
mod stack;

pub use smoltcp;
pub use stack::{Event, Stack, StackError};

/// A network interface card as the stack sees it: frames in and out, and its address.
///
/// Receive and transmit tokens come from smoltcp's [`phy::Device`](smoltcp::phy::Device); a
/// driver lends its receive buffers to the stack rather than copying frames where it can.
pub trait NetDevice: smoltcp::phy::Device {
    /// The card's Ethernet address.
    fn mac_address(&self) -> [u8; 6];
}
