//! Xen netfront: the paravirtual network card of Xen guests.
//!
//! Purpose: a Rivet image running under Xen (x86_64 PV or PVH, arm64) reaches the network
//! through its `vif`, a pair of shared rings with the back end (`netback`, in dom0 or a driver
//! domain). [`XenNetfront`] does the xenbus handshake over xenstore, shares its rings and buffers
//! through grants, and implements core's [`NetDevice`](rivet_core::net::NetDevice), a smoltcp
//! `phy::Device`: frames to send are copied into one of a fixed pool of pre-granted pages (one
//! slot per frame, no allocation per packet); received frames land in a full ring of granted
//! pages and are lent to smoltcp without a copy, the page re-granted and re-posted afterwards.
//!
//! Why by hand: no maintained `no_std` Rust netfront exists to reuse. Searched (crates.io /
//! docs.rs, GitHub code, issue trackers): the `xen`, `xen-sys` and `oxerun` crates (0.0.0
//! pre-releases: hypercall bindings and a Mini-OS build example, no netfront); `krata-xengnt`
//! and `xenstore` (Linux user space, `std`); Hermit and the other Rust unikernels (no Xen PV
//! devices); one 2016-era in-kernel Rust netfront (pre-2018 Rust, raw pointers into the ring,
//! no validation of the back end's responses), not a crate. The protocol was learnt from Xen's
//! `io/netif.h`, `io/ring.h`, `io/xenbus.h` and from the Linux and Mini-OS netfronts; the code
//! is written from scratch over `rivet-xen-abi`.
//!
//! Design: the driver is generic over four small traits in [`platform`] (pages, grants, an
//! event channel, xenstore); the platform implements them over hypercalls and real memory, the
//! tests over a `Vec`-backed fake with a fake netback. The crate has one unsafe door, the
//! [`PageAllocator`] trait (the frames it reports are granted to the back end), and no unsafe
//! code. The back end is untrusted: every response is copied out of the ring once and checked
//! (known, outstanding `id`; `offset + length` inside the page; no flags that were not
//! negotiated); a bad one is logged and its frame dropped. A `rsp_prod` that claims responses to
//! requests never made marks that ring broken (logged once; the device stops, as Linux's does).
//! A received page is handed to smoltcp only after its grant has ended, so the back end cannot
//! write it while the stack reads it.
//!
//! [`XenNetfront::close`] walks both ends to `Closed` before ending the grants, so the back end
//! has unmapped the rings and nothing is leaked.
//!
//! Features negotiated: `request-rx-copy` (the back end copies into our pages; its
//! `feature-rx-copy` is required), `feature-rx-notify`, `feature-no-csum-offload` (frames come
//! fully checksummed; smoltcp checks and computes every checksum). Not negotiated: scatter-gather, GSO, multicast control,
//! multiple queues, split event channels.
//!
//! Weak spots: one queue and one event channel; frames up to one page (no `feature-sg`); no
//! reconnection after the back end closes (a new device must be connected); a back end that
//! keeps a receive page mapped leaves its buffer out of the ring until it lets go. Not yet booted
//! on Xen: tested on the host against the fake back end only.
#![cfg_attr(not(test), no_std)]
#![deny(unsafe_code)]

extern crate alloc;

mod device;
mod error;
mod handshake;
pub mod platform;
mod receive;
mod ring_page;
mod transmit;

#[cfg(test)]
mod fake;
#[cfg(test)]
mod stack_tests;
#[cfg(test)]
mod tests;

pub use device::{NetfrontConfig, RxToken, TxToken, XenNetfront};
pub use error::NetfrontError;
pub use platform::{
    EventChannel, EventChannelError, GrantAccess, OutOfPages, PageAllocator, SharedPage, Store,
    StoreError,
};
