//! virtio-net, the network card of QEMU, Firecracker and cloud-hypervisor guests.
//!
//! The device protocol (feature negotiation, virtqueues, the `virtio_net_hdr` in front of each
//! frame) is the `virtio-drivers` crate's `VirtIONetRaw`, over an MMIO or a PCI transport; this
//! crate adds what Rivet needs on top: receive and transmit buffers allocated once and recycled
//! (no allocation per packet), frames lent to smoltcp without a copy, and core's
//! [`NetDevice`] trait. `virtio-drivers` is used rather than a driver of our own because it is
//! well kept, `no_std`, and its one unsafe door (the [`Hal`] a platform implements) is exactly
//! the knowledge a driver must not have: how guest memory maps to device addresses.
//!
//! Checksums: virtio-drivers 0.13 negotiates neither `VIRTIO_NET_F_CSUM` nor
//! `VIRTIO_NET_F_GUEST_CSUM`, so the device hands over and expects fully checksummed frames and
//! smoltcp computes and checks every checksum.
//!
//! [`InterruptAck`] acknowledges an MMIO device's interrupt from interrupt context without
//! the driver's lock: reading and writing back the two interrupt registers is all a
//! level-triggered line needs to fall.
#![no_std]

extern crate alloc;

use alloc::boxed::Box;

use alloc::vec::Vec;
use rivet_core::net::smoltcp::phy::{self, DeviceCapabilities, Medium};
use rivet_core::net::smoltcp::time::Instant;
use rivet_core::net::NetDevice;
use virtio_drivers::device::net::VirtIONetRaw;
pub use virtio_drivers::transport::Transport;
pub use virtio_drivers::Hal;

/// Descriptors in each of the receive and transmit queues (and buffers of each kind).
pub const QUEUE_SIZE: usize = 64;
/// Bytes of each buffer: the `virtio_net_hdr` (12 bytes) and a full Ethernet frame fit.
const BUFFER_SIZE: usize = 2048;
/// The largest Ethernet frame without its FCS: 1500 bytes of payload, 14 of header.
const MAX_FRAME: usize = 1514;

/// Why the device could not be brought up.
pub type Error = virtio_drivers::Error;

type Buffer = Box<[u8; BUFFER_SIZE]>;

/// A virtio network card with its buffers.
pub struct VirtioNet<H: Hal, T: Transport> {
    raw: VirtIONetRaw<H, T, QUEUE_SIZE>,
    rx: Receive,
    tx: Transmit,
}

/// Receive buffers: each is either in the device's queue or lent to the stack.
struct Receive {
    buffers: Vec<Buffer>,
    /// The buffer index each queue token (descriptor head) carries.
    of_token: [u16; QUEUE_SIZE],
    /// The buffer whose frame the stack holds: back to the device at the next receive.
    lent: Option<usize>,
}

/// Transmit buffers: free, or in the device's queue with the length given to it.
struct Transmit {
    buffers: Vec<Buffer>,
    free: Vec<usize>,
    /// The buffer index and length each queue token carries.
    of_token: [(u16, u16); QUEUE_SIZE],
}

impl<H: Hal, T: Transport> VirtioNet<H, T> {
    /// Negotiates with the device behind `transport` and fills its receive queue.
    pub fn new(transport: T) -> Result<Self, Error> {
        let mut raw = VirtIONetRaw::new(transport)?;
        let mut rx = Receive {
            buffers: (0..QUEUE_SIZE).map(|_| Box::new([0; BUFFER_SIZE])).collect(),
            of_token: [0; QUEUE_SIZE],
            lent: None,
        };
        for index in 0..QUEUE_SIZE {
            rx.give(&mut raw, index)?;
        }
        let tx = Transmit {
            buffers: (0..QUEUE_SIZE).map(|_| Box::new([0; BUFFER_SIZE])).collect(),
            free: (0..QUEUE_SIZE).rev().collect(),
            of_token: [(0, 0); QUEUE_SIZE],
        };
        raw.enable_interrupts();
        Ok(Self { raw, rx, tx })
    }

    /// Acknowledges the device's interrupt (through the transport), so that the line falls.
    pub fn ack_interrupt(&mut self) {
        self.raw.ack_interrupt();
    }
}

impl Receive {
    /// Puts buffer `index` in the device's receive queue.
    fn give<H: Hal, T: Transport>(
        &mut self,
        raw: &mut VirtIONetRaw<H, T, QUEUE_SIZE>,
        index: usize,
    ) -> Result<(), Error> {
        // SAFETY: the buffer is a heap allocation this struct owns and never touches while the
        // device holds it: it is out of `lent`, and only `take` (after the device returned the
        // token) reads it again; it is neither moved nor freed while queued (boxes in a Vec
        // that is never resized, dropped only with the device, after the queues are reset).
        let token = unsafe { raw.receive_begin(&mut self.buffers[index][..])? };
        let slot = self.of_token.get_mut(usize::from(token)).ok_or(Error::WrongToken)?;
        *slot = index as u16;
        Ok(())
    }

    /// The next frame the device filled: its buffer index and the frame's bounds.
    fn take<H: Hal, T: Transport>(
        &mut self,
        raw: &mut VirtIONetRaw<H, T, QUEUE_SIZE>,
    ) -> Option<(usize, core::ops::Range<usize>)> {
        let token = raw.poll_receive()?;
        let index = usize::from(*self.of_token.get(usize::from(token))?);
        // SAFETY: `token` is the device's, for the buffer `give` queued under it, passed again
        // whole as the contract asks.
        match unsafe { raw.receive_complete(token, &mut self.buffers[index][..]) } {
            Ok((header, len)) if header + len <= BUFFER_SIZE => Some((index, header..header + len)),
            // A length the device should not report: drop the frame, keep the buffer.
            _ => {
                let _ = self.give(raw, index);
                None
            }
        }
    }
}

impl Transmit {
    /// Takes back the buffers the device has sent.
    fn reclaim<H: Hal, T: Transport>(&mut self, raw: &mut VirtIONetRaw<H, T, QUEUE_SIZE>) {
        while let Some(token) = raw.poll_transmit() {
            let Some(&(index, len)) = self.of_token.get(usize::from(token)) else { return };
            let (index, len) = (usize::from(index), usize::from(len));
            // SAFETY: the token is the one `send` got for this buffer and length.
            if unsafe { raw.transmit_complete(token, &self.buffers[index][..len]) }.is_err() {
                return;
            }
            self.free.push(index);
        }
    }
}

/// A received frame, lent to the stack until the next receive.
pub struct RxToken<'a> {
    frame: &'a [u8],
}

/// Room for one frame to send.
pub struct TxToken<'a, H: Hal, T: Transport> {
    raw: &'a mut VirtIONetRaw<H, T, QUEUE_SIZE>,
    tx: &'a mut Transmit,
}

impl phy::RxToken for RxToken<'_> {
    fn consume<R, F: FnOnce(&[u8]) -> R>(self, f: F) -> R {
        f(self.frame)
    }
}

impl<H: Hal, T: Transport> phy::TxToken for TxToken<'_, H, T> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
        // `transmit` and `receive` hand out a token only with a free buffer.
        let index = self.tx.free.pop().expect("a transmit token without a free buffer");
        let buffer = &mut self.tx.buffers[index];
        let header = self.raw.fill_buffer_header(&mut buffer[..]).unwrap_or(0);
        let len = len.min(BUFFER_SIZE - header);
        let result = f(&mut buffer[header..header + len]);
        let total = header + len;
        // SAFETY: the buffer is owned here and untouched until `reclaim` gets its token back;
        // boxes in a never-resized Vec do not move.
        match unsafe { self.raw.transmit_begin(&buffer[..total]) } {
            Ok(token) if usize::from(token) < QUEUE_SIZE => {
                self.tx.of_token[usize::from(token)] = (index as u16, total as u16);
            }
            // The queue refused (it cannot be full: there are as many buffers as descriptors):
            // the frame is dropped, as a busy card would, and TCP retransmits.
            _ => self.tx.free.push(index),
        }
        result
    }
}

impl<H: Hal, T: Transport> phy::Device for VirtioNet<H, T> {
    type RxToken<'a>
        = RxToken<'a>
    where
        Self: 'a;
    type TxToken<'a>
        = TxToken<'a, H, T>
    where
        Self: 'a;

    fn receive(&mut self, _: Instant) -> Option<(RxToken<'_>, TxToken<'_, H, T>)> {
        if let Some(index) = self.rx.lent.take() {
            // Back to the device; if it refuses, the buffer is lost to the ring, not reused.
            let _ = self.rx.give(&mut self.raw, index);
        }
        self.tx.reclaim(&mut self.raw);
        if self.tx.free.is_empty() {
            return None;
        }
        let (index, frame) = self.rx.take(&mut self.raw)?;
        self.rx.lent = Some(index);
        let Self { raw, rx, tx } = self;
        Some((RxToken { frame: &rx.buffers[index][frame] }, TxToken { raw, tx }))
    }

    fn transmit(&mut self, _: Instant) -> Option<TxToken<'_, H, T>> {
        self.tx.reclaim(&mut self.raw);
        if self.tx.free.is_empty() {
            return None;
        }
        Some(TxToken { raw: &mut self.raw, tx: &mut self.tx })
    }

    fn capabilities(&self) -> DeviceCapabilities {
        let mut caps = DeviceCapabilities::default();
        caps.medium = Medium::Ethernet;
        caps.max_transmission_unit = MAX_FRAME;
        caps.max_burst_size = Some(QUEUE_SIZE / 2);
        caps
    }
}

impl<H: Hal, T: Transport> NetDevice for VirtioNet<H, T> {
    fn mac_address(&self) -> [u8; 6] {
        self.raw.mac_address()
    }
}

/// Offsets of the virtio-mmio interrupt registers (virtio 1.x, 4.2.2).
const INTERRUPT_STATUS: usize = 0x60;
const INTERRUPT_ACK: usize = 0x64;

/// Acknowledges a virtio-mmio device's interrupt from an interrupt handler.
pub struct InterruptAck {
    base: usize,
}

impl InterruptAck {
    /// An acknowledger for the device whose registers are at `base`.
    ///
    /// # Safety
    /// `base` is a mapped (Device memory) virtio-mmio register window for as long as the value
    /// lives; writing its InterruptACK register is harmless to whoever else drives the device.
    pub const unsafe fn new(base: usize) -> Self {
        Self { base }
    }

    /// Acknowledges every pending cause; returns whether there was one.
    pub fn acknowledge(&self) -> bool {
        // SAFETY: `new`'s contract: the window is mapped; both registers are aligned words.
        unsafe {
            let status = core::ptr::read_volatile((self.base + INTERRUPT_STATUS) as *const u32);
            if status != 0 {
                core::ptr::write_volatile((self.base + INTERRUPT_ACK) as *mut u32, status);
            }
            status != 0
        }
    }
}
