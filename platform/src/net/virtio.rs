//! virtio-net cards: where they are, how their memory is shared, and bringing one up.
//!
//! Boot environments announce virtio-mmio windows as they find them ([`add_mmio_window`]: the
//! PVH boot from the command line's `virtio_mmio.device=`, the devicetree boot from its
//! `virtio,mmio` nodes) and map each window as Device memory; [`attach`] (from
//! `net::bring_up`, once threads run) probes them and drives the first network card.
//!
//! [`IdentityHal`] is the memory contract `virtio-drivers` asks of a platform: on every
//! platform that announces windows the heap is identity-mapped RAM, so a buffer's address is
//! the address the device uses. (Xen PV, whose pseudo-physical pages are not identity-mapped,
//! has netfront instead.)

use super::card::Card;
use super::interface::{self, Acknowledge};
use alloc::alloc::{alloc_zeroed, dealloc, Layout};
use core::ptr::NonNull;
use rivet_core::cmdline::CommandLine;
use rivet_core::net::config::Ipv4Config;
use rivet_virtio_net::{Hal, InterruptAck, VirtioNet};
use virtio_drivers::transport::mmio::{MmioTransport, VirtIOHeader};
use virtio_drivers::transport::pci::bus::DeviceFunction;
use virtio_drivers::transport::pci::{PciTransport, VirtioPciError};
use virtio_drivers::transport::{DeviceType, SomeTransport, Transport};
use virtio_drivers::{BufferDirection, PhysAddr, PAGE_SIZE};

/// A virtio-net card as the interface drives it.
pub(crate) type VirtioCard = VirtioNet<IdentityHal, SomeTransport<'static>>;

/// A virtio-mmio register window a boot environment found and mapped.
#[derive(Clone, Copy, Debug)]
pub(crate) struct MmioWindow {
    /// Physical (= virtual) address of the registers.
    pub base: u64,
    /// Size of the window.
    pub size: u64,
    /// Its interrupt line for `interrupt::set_gsi_handler` (GSI on x86, GIC INTID on Arm).
    pub irq: Option<u32>,
}

/// Windows kept at most (QEMU `virt` has 32, most of them empty).
const MAX_WINDOWS: usize = 32;

static WINDOWS: spin::Mutex<([Option<MmioWindow>; MAX_WINDOWS], usize)> =
    spin::Mutex::new(([None; MAX_WINDOWS], 0));

/// Records a mapped virtio-mmio window (during boot, before the heap exists). Windows beyond
/// [`MAX_WINDOWS`] are ignored.
pub(crate) fn add_mmio_window(window: MmioWindow) {
    let mut windows = WINDOWS.lock();
    let (list, count) = &mut *windows;
    if let Some(slot) = list.get_mut(*count) {
        *slot = Some(window);
        *count += 1;
    }
}

/// DMA memory and addresses for `virtio-drivers`, where RAM is identity-mapped.
pub(crate) struct IdentityHal;

// SAFETY: `dma_alloc` returns zeroed, page-aligned heap memory that nothing else uses until
// `dma_dealloc`, at an address that is also its physical address (the heap is identity-mapped
// RAM on the platforms that announce virtio windows); `mmio_phys_to_virt` returns the identity,
// and windows are mapped at their physical address by the boot environment; `share` gives the
// buffer's own (physical = virtual) address and needs no bounce buffer, as the device sees all
// RAM coherently.
unsafe impl Hal for IdentityHal {
    fn dma_alloc(pages: usize, _direction: BufferDirection) -> (PhysAddr, NonNull<u8>) {
        let layout = Layout::from_size_align(pages * PAGE_SIZE, PAGE_SIZE)
            .expect("virtio: a DMA size that overflows");
        // SAFETY: the layout's size is not zero (virtio-drivers asks for at least one page).
        let memory = unsafe { alloc_zeroed(layout) };
        let memory = NonNull::new(memory).expect("virtio: out of memory for a queue");
        (memory.as_ptr() as PhysAddr, memory)
    }

    unsafe fn dma_dealloc(_paddr: PhysAddr, vaddr: NonNull<u8>, pages: usize) -> i32 {
        let layout = Layout::from_size_align(pages * PAGE_SIZE, PAGE_SIZE)
            .expect("virtio: a DMA size that overflows");
        // SAFETY: `vaddr` came from `dma_alloc` with this many pages (the trait's contract).
        unsafe { dealloc(vaddr.as_ptr(), layout) };
        0
    }

    unsafe fn mmio_phys_to_virt(paddr: PhysAddr, _size: usize) -> NonNull<u8> {
        NonNull::new(paddr as *mut u8).expect("virtio: a window at address 0")
    }

    unsafe fn share(buffer: NonNull<[u8]>, _direction: BufferDirection) -> PhysAddr {
        buffer.as_ptr() as *mut u8 as PhysAddr
    }

    unsafe fn unshare(_paddr: PhysAddr, _buffer: NonNull<[u8]>, _direction: BufferDirection) {}
}

/// Drives the first virtio network card, if there is one: the card installed as the
/// interface with `config`, its interrupt routed (or the thread set to poll), the thread
/// started. Returns whether a card was found.
pub(crate) fn attach(command_line: &CommandLine, config: &Ipv4Config, tcp_buffer: usize) -> bool {
    let Some(found) = find_card() else { return false };
    let card = match VirtioNet::new(found.transport) {
        Ok(card) => card,
        Err(e) => {
            log::error!("net: the virtio-net card at {} failed to start: {e}", found.place);
            return false;
        }
    };
    // The interface first: the handler, once routed, needs it to acknowledge the line.
    let net = interface::install(Card::Virtio(card), config, found.ack, tcp_buffer);
    // `rivet.net.poll`: no interrupt, the thread polls (to rule the interrupt path out).
    let irq = found.irq.filter(|_| command_line.param("rivet.net.poll").is_none());
    let routed = irq.map(|irq| {
        crate::interrupt::set_gsi_handler(irq, found.trigger.0, found.trigger.1, on_interrupt)
    });
    let interrupt = match routed {
        Some(Ok(route)) => alloc::format!("interrupt-driven, line {}", route.gsi),
        Some(Err(e)) => alloc::format!("polled: line {}: {e}", found.irq.unwrap_or(0)),
        None if found.irq.is_some() => alloc::string::String::from("polled: rivet.net.poll"),
        None => alloc::string::String::from("polled: no interrupt line"),
    };
    if !matches!(routed, Some(Ok(_))) {
        net.poll_on_timer();
    }
    net.start(format_args!("virtio-net at {}", found.place), &interrupt);
    true
}

/// A network card found, ready to drive.
struct Found {
    transport: SomeTransport<'static>,
    /// Where it is, for the log: `0xfeb00e00` or `pci 00:03.0`.
    place: alloc::string::String,
    irq: Option<u32>,
    trigger: (crate::interrupt::Trigger, crate::interrupt::Polarity),
    ack: Acknowledge,
}

/// The first virtio network card: the virtio-mmio windows first, then PCI.
fn find_card() -> Option<Found> {
    let windows = WINDOWS.lock().0;
    let mmio = windows.iter().flatten().find_map(|&window| {
        let header = NonNull::new(window.base as *mut VirtIOHeader)?;
        // SAFETY: the boot environment mapped the window as Device memory at this address and
        // nothing else drives it (`add_mmio_window`'s contract); a window without a device
        // (magic or device id 0) is refused by `new`.
        let transport = unsafe { MmioTransport::new(header, window.size as usize) }.ok()?;
        (transport.device_type() == DeviceType::Network).then_some((window, transport))
    });
    if let Some((window, transport)) = mmio {
        // SAFETY: the window is mapped Device memory (as above); acknowledging is a write of
        // the status back, which the driver expects of an interrupt handler.
        let ack = unsafe { InterruptAck::new(window.base as usize) };
        return Some(Found {
            transport: SomeTransport::Mmio(transport),
            place: alloc::format!("{:#x}", window.base),
            irq: window.irq,
            trigger: (crate::interrupt::Trigger::Level, crate::interrupt::Polarity::High),
            ack: Acknowledge::Mmio(ack),
        });
    }
    let cards = PCI_CARDS.lock().0;
    cards.iter().flatten().find_map(|card| {
        let f = card.function;
        let place = alloc::format!("pci {:02x}:{:02x}.{}", f.bus, f.device, f.function);
        match (card.open)(f) {
            Ok(transport) => Some(Found {
                transport: SomeTransport::Pci(transport),
                place,
                irq: card.irq,
                trigger: (crate::interrupt::Trigger::Level, crate::interrupt::Polarity::Low),
                ack: Acknowledge::MaskLine,
            }),
            Err(e) => {
                log::error!("net: the virtio-net card at {place} failed to open: {e}");
                None
            }
        }
    })
}

/// A virtio network function on a PCI bus, as a boot environment found it (its BARs mapped
/// as Device memory at their physical addresses).
#[derive(Clone, Copy)]
pub(crate) struct PciCard {
    /// Where it is.
    pub function: DeviceFunction,
    /// Its interrupt line for `interrupt::set_gsi_handler` (level-triggered, active low).
    pub irq: Option<u32>,
    /// Enables it and opens its transport (the boot environment knows the configuration
    /// mechanism).
    pub open: fn(DeviceFunction) -> Result<PciTransport, VirtioPciError>,
}

static PCI_CARDS: spin::Mutex<([Option<PciCard>; 4], usize)> = spin::Mutex::new(([None; 4], 0));

/// Records a PCI network card (during boot). Cards beyond four are ignored.
// Only the PVH boot walks a PCI bus so far: unused in arm64 builds.
#[allow(dead_code)]
pub(crate) fn add_pci_card(card: PciCard) {
    let mut cards = PCI_CARDS.lock();
    let (list, count) = &mut *cards;
    if let Some(slot) = list.get_mut(*count) {
        *slot = Some(card);
        *count += 1;
    }
}

fn on_interrupt(irq: rivet_core::interrupt::Irq) {
    if let Ok(net) = interface::net() {
        net.interrupt(irq);
    }
}
