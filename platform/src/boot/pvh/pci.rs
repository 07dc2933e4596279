//! PCI on a PC: virtio-net cards on bus 0, found at boot through configuration mechanism #1
//! (ports 0xCF8/0xCFC, which every PC and QEMU's `q35` and `pc` have; no ACPI MCFG needed).
//!
//! [`discover`] (during boot, before the page tables are built) walks bus 0 with
//! `virtio-drivers`' PCI root over [`PortCam`], and for each virtio network function records
//! its memory BARs (which the firmware assigned) and its interrupt line; the memory set-up maps
//! those BARs as Device ([`bar_windows`]), and [`register`] offers the cards to the network
//! driver, which opens them with [`open`] once threads run.
//!
//! Interrupts: the line is the one the firmware wrote to the function's Interrupt Line
//! register (SeaBIOS routes the PCI interrupt links to ISA IRQs 10 and 11 on QEMU's PCs, which
//! the I/O APIC also sees at those GSIs), level-triggered, active low as PCI lines are. The
//! network driver masks it in the handler and unmasks it after reading the card's ISR.
//!
//! Weak spots: bus 0 only (no bridges are followed); functions whose BARs the firmware left
//! unassigned are skipped; no MSI-X (`virtio-drivers` does not program it), so the line may be
//! shared with other devices.

use rivet_arch::io::IoPorts;
use rivet_core::memory::PhysRange;
use spin::Once;
use virtio_drivers::transport::pci::bus::{Command, ConfigurationAccess, DeviceFunction, PciRoot};
use virtio_drivers::transport::pci::{virtio_device_type, PciTransport, VirtioPciError};
use virtio_drivers::transport::DeviceType;

/// CONFIG_ADDRESS; CONFIG_DATA follows at +4.
const CONFIG_PORTS: u16 = 0xcf8;
/// The Interrupt Line register's offset in a function's configuration space (its low byte).
const INTERRUPT_LINE: u8 = 0x3c;
/// Cards kept at most.
const MAX_CARDS: usize = 4;
/// Memory BARs per function.
const BARS: usize = 6;

/// Configuration mechanism #1: an address written to 0xCF8 selects a function's register,
/// 0xCFC reads or writes it.
pub(crate) struct PortCam(IoPorts);

impl PortCam {
    fn new() -> Self {
        // SAFETY: 0xCF8–0xCFF are the PC's PCI configuration ports, which nothing else in the
        // kernel touches (obligation 2), and every PC decodes (obligation 1: the accesses
        // themselves program no DMA; what is written through them — BAR sizing by
        // virtio-drivers, the command register below — is confined to the virtio cards this
        // module hands to the network driver, whose DMA memory the driver owns).
        Self(unsafe { IoPorts::new(CONFIG_PORTS, 8) })
    }

    fn select(&self, function: DeviceFunction, offset: u8) {
        let address = 1 << 31
            | u32::from(function.bus) << 16
            | u32::from(function.device) << 11
            | u32::from(function.function) << 8
            | u32::from(offset & 0xfc);
        self.0.write_u32(0, address);
    }
}

impl ConfigurationAccess for PortCam {
    fn read_word(&self, function: DeviceFunction, offset: u8) -> u32 {
        self.select(function, offset);
        self.0.read_u32(4)
    }

    fn write_word(&mut self, function: DeviceFunction, offset: u8, data: u32) {
        self.select(function, offset);
        self.0.write_u32(4, data);
    }

    unsafe fn unsafe_clone(&self) -> Self {
        PortCam::new()
    }
}

/// A virtio network function found on bus 0.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Card {
    /// Where it is.
    pub function: DeviceFunction,
    /// Its memory BARs (start, length), as the firmware assigned them.
    pub bars: [Option<(u64, u64)>; BARS],
    /// Its interrupt line (a GSI), if the firmware gave it one.
    pub line: Option<u8>,
}

static CARDS: Once<([Option<Card>; MAX_CARDS], usize)> = Once::new();

/// Walks bus 0 for virtio network functions (once, during boot, on the boot core).
pub(super) fn discover() {
    CARDS.call_once(|| {
        let mut cards = [None; MAX_CARDS];
        let mut count = 0;
        let mut root = PciRoot::new(PortCam::new());
        let found: ([Option<DeviceFunction>; MAX_CARDS], usize) = {
            let mut list = [None; MAX_CARDS];
            let mut n = 0;
            for (function, info) in root.enumerate_bus(0) {
                if virtio_device_type(&info) == Some(DeviceType::Network) && n < MAX_CARDS {
                    list[n] = Some(function);
                    n += 1;
                }
            }
            (list, n)
        };
        for function in found.0.into_iter().flatten() {
            let Ok(bars) = root.bars(function) else { continue };
            let mut windows = [None; BARS];
            for (slot, bar) in windows.iter_mut().zip(bars.iter()) {
                *slot = bar
                    .as_ref()
                    .and_then(|b| b.memory_address_size())
                    .filter(|&(address, size)| address != 0 && size != 0);
            }
            // A second handle on the same ports, used between the root's accesses (one core).
            let line = PortCam::new().read_word(function, INTERRUPT_LINE) as u8;
            let line = (line != 0 && line != 0xff).then_some(line);
            cards[count] = Some(Card { function, bars: windows, line });
            count += 1;
        }
        (cards, count)
    });
}

/// The cards [`discover`] found.
pub(crate) fn cards() -> impl Iterator<Item = Card> {
    CARDS.get().into_iter().flat_map(|(cards, count)| cards[..*count].iter().flatten().copied())
}

/// Every memory BAR of every card, page-aligned, for the memory set-up to map as Device.
pub(super) fn bar_windows() -> impl Iterator<Item = PhysRange> {
    cards().flat_map(|card| {
        card.bars
            .into_iter()
            .flatten()
            .map(|(start, len)| PhysRange::from_start_len(start, len).grow_to_pages())
    })
}

/// Offers the cards to the network driver.
pub(super) fn register() {
    for card in cards() {
        crate::net::virtio::add_pci_card(crate::net::virtio::PciCard {
            function: card.function,
            irq: card.line.map(u32::from),
            open,
        });
    }
}

/// Turns on a card's memory decoding and bus mastering and opens its virtio transport.
fn open(function: DeviceFunction) -> Result<PciTransport, VirtioPciError> {
    let mut root = PciRoot::new(PortCam::new());
    let (_, command) = root.get_status_command(function);
    root.set_command(function, command | Command::MEMORY_SPACE | Command::BUS_MASTER);
    PciTransport::new::<crate::net::virtio::IdentityHal, _>(&mut root, function)
}
