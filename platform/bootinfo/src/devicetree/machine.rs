//! What the device tree says about the machine: the result of [`read`](super::read).
//!
//! Plain data with fixed capacities (nothing is allocated), borrowing its strings from the blob.

use super::cpus::Cpus;
use super::error::{Error, Result};
use rivet_core::memory::PhysRange;

/// What the platform reports for a devicetree machine it does not know by name.
pub(super) const UNKNOWN_BOARD: &str = "devicetree";
/// The platform name of a Xen guest (dom0 or domU), whatever the root node says.
pub(super) const XEN_GUEST: &str = "xen";

/// Most RAM ranges, and most reserved ranges, kept. Real machines have a handful of each.
pub const MAX_RANGES: usize = 32;

/// How PSCI calls reach the firmware, from `/psci`'s `method` (the platform maps it to its
/// arch's conduit).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum PsciConduit {
    /// `method = "hvc"`: a hypervisor implements PSCI (QEMU `virt` without EL2, KVM, Xen).
    Hvc,
    /// `method = "smc"`: EL3 firmware does (or QEMU `virt` with `virtualization=on`).
    Smc,
}

/// Most `virtio,mmio` windows kept (QEMU `virt` lists 32, most of them empty).
pub const MAX_VIRTIO_MMIO: usize = 32;

/// A `virtio,mmio` node: a virtio device's register window and interrupt.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct VirtioMmio {
    /// The register window, translated to CPU physical addresses.
    pub window: PhysRange,
    /// Its interrupt's GIC INTID (an SPI: 32 + the specifier's number), when `interrupts` is a
    /// three-cell GIC specifier.
    pub intid: Option<u32>,
}

/// The `virtio,mmio` windows, in tree order (beyond [`MAX_VIRTIO_MMIO`] ignored).
#[derive(Clone, Copy, Debug)]
pub struct VirtioMmios {
    items: [VirtioMmio; MAX_VIRTIO_MMIO],
    len: usize,
}

impl VirtioMmios {
    /// None yet.
    pub const fn new() -> Self {
        let empty = VirtioMmio { window: PhysRange::new(0, 0), intid: None };
        Self { items: [empty; MAX_VIRTIO_MMIO], len: 0 }
    }

    /// The windows.
    pub fn as_slice(&self) -> &[VirtioMmio] {
        &self.items[..self.len]
    }

    pub(super) fn push(&mut self, window: VirtioMmio) {
        if let Some(slot) = self.items.get_mut(self.len) {
            *slot = window;
            self.len += 1;
        }
    }
}

impl Default for VirtioMmios {
    fn default() -> Self {
        Self::new()
    }
}

/// The register interface of the console UART.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub enum UartKind {
    /// An Arm PL011 (`arm,pl011`): QEMU `virt`, the Raspberry Pi's UART0.
    #[default]
    Pl011,
    /// An Arm SBSA generic UART (`arm,sbsa-uart`): the PL011's data and flag registers only, no
    /// line or control registers to program (Xen's `vpl011`, which does not emulate them).
    Sbsa,
    /// A BCM2835 auxiliary mini-UART (`brcm,bcm2835-aux-uart`): a Pi 3's or 4's console on GPIO
    /// 14/15 when the PL011 drives Bluetooth, as their DTBs' `stdout-path` (`serial1`) says.
    MiniUart,
}

/// The interrupt controller, from a node compatible with a GIC binding, its `reg` translated to
/// CPU physical addresses.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Gic {
    /// A GICv2 (`arm,cortex-a15-gic`, `arm,gic-400`): `reg` is the distributor, then the CPU
    /// interface.
    V2 {
        /// GICD_* registers.
        distributor: PhysRange,
        /// GICC_* registers.
        cpu_interface: PhysRange,
    },
    /// A GICv3 (`arm,gic-v3`): `reg` is the distributor, then the redistributors (the first
    /// region; more regions and the GICv2-compatibility frames that may follow are ignored).
    V3 {
        /// GICD_* registers.
        distributor: PhysRange,
        /// Every core's GICR_* frames, back to back.
        redistributors: PhysRange,
    },
}

/// A fixed-capacity list of physical ranges, each with a flag (`no-map` for reservations).
#[derive(Clone, Debug)]
pub struct Ranges {
    items: [(PhysRange, bool); MAX_RANGES],
    len: usize,
}

impl Ranges {
    /// An empty list.
    pub const fn new() -> Self {
        Self { items: [(PhysRange::new(0, 0), false); MAX_RANGES], len: 0 }
    }

    /// Appends `range`; refused (naming `node`'s `reg`) when [`MAX_RANGES`] are already kept.
    pub(super) fn push<'a>(&mut self, range: PhysRange, flag: bool, node: &'a str) -> Result<'a> {
        let slot = self.items.get_mut(self.len).ok_or(Error::BadProperty {
            node,
            property: "reg",
            problem: "more than 32 ranges of this kind",
        })?;
        *slot = (range, flag);
        self.len += 1;
        Ok(())
    }

    /// The ranges and their flags, in the order they were found.
    pub fn iter(&self) -> impl Iterator<Item = (PhysRange, bool)> + '_ {
        self.items[..self.len].iter().copied()
    }

    /// How many ranges there are.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl Default for Ranges {
    fn default() -> Self {
        Self::new()
    }
}

/// What the devicetree says about the machine. Over 1 KiB: filled in place by [`read`](super::read) rather
/// than returned, so it is not copied around the boot path. Strings borrow from the blob (`'a`).
#[derive(Clone, Debug)]
pub struct Machine<'a> {
    /// The platform name `rivet::env::platform()` reports: `"virt"` for QEMU's board (root
    /// `compatible` `linux,dummy-virt`), `"rpi4"` / `"rpi3"` for a Raspberry Pi 4 / 3,
    /// `"xen"` for a Xen guest (`/hypervisor` compatible with `xen,xen`), `"devicetree"` for
    /// any other.
    pub platform: &'static str,
    /// How to reach PSCI, if the machine has PSCI 0.2 or later (for SYSTEM_OFF). Set as soon as
    /// the walk has passed `/psci`, so it may be known even when [`read`](super::read) fails
    /// later.
    pub psci: Option<PsciConduit>,
    /// `/chosen/bootargs` without its NUL, or "".
    pub bootargs: &'a str,
    /// CPU physical address of the console UART's registers.
    pub console: u64,
    /// Which register interface the console UART has.
    pub console_kind: UartKind,
    /// CPU physical address of a Raspberry Pi's power-management block (`brcm,bcm2835-pm-wdt`),
    /// whose watchdog powers the board off where there is no PSCI.
    pub watchdog: Option<u64>,
    /// CPU physical address of an Arm PL031 real-time clock (`arm,pl031`: QEMU `virt`), the
    /// wall clock's source; the first enabled one.
    pub rtc: Option<u64>,
    /// RAM, from every enabled `/memory*` node (empty ranges left out). May be empty when
    /// [`mailbox`](Self::mailbox) is known: the platform then asks the firmware.
    pub ram: Ranges,
    /// CPU physical address of a Raspberry Pi's VideoCore mailbox (`brcm,bcm2835-mbox`), whose
    /// property channel tells the ARM's RAM where the DTB has no usable `/memory`.
    pub mailbox: Option<u64>,
    /// Reserved ranges (/memreserve/, `/reserved-memory`, the initrd), flagged when `no-map`.
    pub reserved: Ranges,
    /// The GIC, if the machine has one (a Pi 3 has none: its BCM2836 local interrupt controller
    /// is not a GIC).
    pub gic: Option<Gic>,
    /// CPU physical address of a BCM2836 ARM-local interrupt controller (`brcm,bcm2836-l1-intc`,
    /// 256 bytes of registers: a Pi 2 or 3), the root interrupt controller where there is no GIC.
    /// `None` when the tree has a GIC (a Pi 4 lists the block too, but its GIC is the root).
    pub bcm2836_local: Option<u64>,
    /// The generic timer's EL1 virtual timer interrupt, the third `interrupts` entry of the
    /// `arm,armv8-timer` node: under a GIC its INTID, a PPI (16 + its number); under a BCM2836
    /// local controller its IRQ source bit (3, CNTVIRQ). Only read when there is either.
    pub virtual_timer: Option<u32>,
    /// The cores under `/cpus`, in devicetree order (see [`Cpus`]).
    pub cpus: Cpus,
    /// Enabled `virtio,mmio` nodes (QEMU `virt`'s virtio transports).
    pub virtio_mmio: VirtioMmios,
}

impl Machine<'_> {
    /// Nothing known yet.
    pub const fn new() -> Self {
        Self {
            platform: UNKNOWN_BOARD,
            psci: None,
            bootargs: "",
            console: 0,
            console_kind: UartKind::Pl011,
            watchdog: None,
            rtc: None,
            ram: Ranges::new(),
            mailbox: None,
            reserved: Ranges::new(),
            gic: None,
            bcm2836_local: None,
            virtual_timer: None,
            virtio_mmio: VirtioMmios::new(),
            cpus: Cpus::new(),
        }
    }

    /// Whether the machine is a Xen guest (`/hypervisor` compatible with `xen,xen`).
    pub fn is_xen_guest(&self) -> bool {
        self.platform == XEN_GUEST
    }
}

impl Default for Machine<'_> {
    fn default() -> Self {
        Self::new()
    }
}

/// Why the devicetree could not be read, and the console UART if one was found before the
/// problem, so the error can be shown on it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Failure<'a> {
    /// What was wrong.
    pub error: Error<'a>,
    /// CPU physical address of a UART found before the error, if any.
    pub console: Option<u64>,
    /// Which register interface that UART has ([`UartKind::Pl011`] when there is none).
    pub console_kind: UartKind,
}
