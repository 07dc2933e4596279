//! Reading the machine out of the devicetree in one pass: console, RAM, reservations, board, PSCI,
//! the cores under `/cpus`.
//!
//! One walk over the checked tokens of [`blob`](super::blob) collects every fact the boot needs;
//! a node's properties are gathered until its first child or its end, then acted on. Values are
//! decoded defensively (cell counts, lengths, overflow) and a bad one is reported with the node
//! and property it came from. Nothing is allocated: the lists have fixed capacities.
//!
//! A UART's `reg` is translated to a CPU physical address through every parent bus's `ranges`
//! (§2.3.8): a Pi's UARTs sit under `/soc`, whose bus addresses (0x7e20_1000) are not the CPU's
//! (0xfe20_1000 on a Pi 4). RAM and reservations sit under the root and need none.
//!
//! Weak spots: only the devices the boot reads (UARTs, the GIC or BCM2836 local interrupt
//! controller, the Pi's watchdog and mailbox, the PL031) are translated; a GIC whose
//! `#interrupt-cells` is not 3 (GICv3 PPI partitions) is refused; a UART a bus does not map (no
//! `ranges`, or no entry covering it) is skipped, not reported, as Linux skips it. Dynamically
//! placed reserved memory (`size` + `alloc-ranges`, no `reg`) is not honoured.

use super::blob::{find_nul, Blob, Name, Token, MAX_DEPTH};
use super::error::{Error, Result};
use super::machine::{
    Failure, Gic, Machine, PsciConduit, UartKind, VirtioMmio, UNKNOWN_BOARD, XEN_GUEST,
};
use rivet_core::memory::PhysRange;

/// Boards recognised from the root node's `compatible`, first match wins. Add a row per board.
/// A Xen guest is recognised by `/hypervisor` instead (see [`XEN_GUEST`]), whatever the root says.
const BOARDS: &[(&[u8], &str)] = &[
    (b"linux,dummy-virt", "virt"),
    (b"raspberrypi,4-model-b", "rpi4"),
    (b"raspberrypi,3-model-b", "rpi3"),
    (b"raspberrypi,3-model-b-plus", "rpi3"),
];

/// UART compatibles the console can use: the PL011, Arm's SBSA generic UART (a PL011 subset
/// without the line and control registers; Xen's `vpl011` is one) and the BCM2835 mini-UART (a
/// Pi 3's or 4's GPIO 14/15 console).
const UARTS: &[(&[u8], UartKind)] = &[
    (b"arm,pl011", UartKind::Pl011),
    (b"arm,sbsa-uart", UartKind::Sbsa),
    (b"brcm,bcm2835-aux-uart", UartKind::MiniUart),
];

/// The Raspberry Pi's VideoCore mailbox, asked for the ARM's RAM where `/memory` is missing.
const BCM2835_MBOX: &[u8] = b"brcm,bcm2835-mbox";

/// The Raspberry Pi's power-management block, whose watchdog resets or powers the board off.
const BCM2835_PM: &[u8] = b"brcm,bcm2835-pm-wdt";

/// A virtio device on the MMIO transport (QEMU `virt`).
const VIRTIO_MMIO: &[u8] = b"virtio,mmio";

/// The Arm PL031 real-time clock (QEMU `virt`): the wall clock.
const PL031: &[u8] = b"arm,pl031";

/// GIC compatibles: Arm's GICv2 bindings (QEMU `virt`'s `arm,cortex-a15-gic`, the Pi 4's
/// `arm,gic-400`) and GICv3 (QEMU `virt,gic-version=3`, Xen).
const GICS: &[(&[u8], bool)] = &[
    (b"arm,cortex-a15-gic", false),
    (b"arm,gic-400", false),
    (b"arm,cortex-a7-gic", false),
    (b"arm,gic-v3", true),
];

/// The BCM2836 ARM-local interrupt controller (a Pi 2 or 3, which has no GIC): the per-core
/// timer interrupts and mailboxes. `#interrupt-cells` is 2: the source bit, then flags.
const BCM2836_LOCAL: &[u8] = b"brcm,bcm2836-l1-intc";

/// Generic timer compatibles; `interrupts` lists secure physical, non-secure physical, virtual
/// and hypervisor timer PPIs, in that order.
const TIMERS: &[&[u8]] = &[b"arm,armv8-timer", b"arm,armv7-timer"];

/// Most UART nodes considered for the console (a Pi 4 has five PL011s).
const MAX_UARTS: usize = 8;
/// Most `/aliases` entries kept (for resolving `stdout-path`).
const MAX_ALIASES: usize = 16;

/// `#address-cells` and `#size-cells` a node declares for its children.
#[derive(Clone, Copy)]
struct Cells {
    address: u32,
    size: u32,
}

/// The defaults when a node declares none (§2.3.5).
const DEFAULT_CELLS: Cells = Cells { address: 2, size: 1 };

/// An open node, as its descendants see it: a bus whose cells and `ranges` their `reg` uses.
#[derive(Clone, Copy)]
struct Bus<'a> {
    kind: Kind,
    cells: Cells,
    /// `ranges`: `None` when absent (the children are not CPU-addressable), empty for identity.
    ranges: Option<&'a [u8]>,
}

impl Bus<'_> {
    const OTHER: Self = Bus { kind: Kind::Other, cells: DEFAULT_CELLS, ranges: None };
}

/// The nodes the boot cares about.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Root,
    Memory,
    Chosen,
    Psci,
    Aliases,
    ReservedMemory,
    Reserved,
    Hypervisor,
    /// `/cpus`, and a node directly under it (a core, or `cpu-map`, `l2-cache` …).
    Cpus,
    Cpu,
    Other,
}

/// The properties the boot reads. `repr(u8)`, in the order of [`Property::ALL`].
#[derive(Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
enum Property {
    Other,
    AddressCells,
    SizeCells,
    Compatible,
    Reg,
    Status,
    Method,
    NoMap,
    Bootargs,
    StdoutPath,
    InitrdStart,
    InitrdEnd,
    Ranges,
    Interrupts,
    EnableMethod,
    CpuReleaseAddr,
    DeviceType,
}

impl Property {
    /// Every property, indexed by its `u8` value.
    const ALL: [Property; 17] = [
        Property::Other,
        Property::AddressCells,
        Property::SizeCells,
        Property::Compatible,
        Property::Reg,
        Property::Status,
        Property::Method,
        Property::NoMap,
        Property::Bootargs,
        Property::StdoutPath,
        Property::InitrdStart,
        Property::InitrdEnd,
        Property::Ranges,
        Property::Interrupts,
        Property::EnableMethod,
        Property::CpuReleaseAddr,
        Property::DeviceType,
    ];

    /// Which property the NUL-terminated name at the start of `name` (the strings block from
    /// the name's offset on) is. The first byte tells most names apart, so each is compared with
    /// the known names, NULs included, rather than measured first; an unterminated one is
    /// [`Property::Other`].
    fn at(name: &[u8]) -> Self {
        let is = |known: &[u8]| name.starts_with(known);
        match name.first() {
            Some(b'#') if is(b"#address-cells\0") => Property::AddressCells,
            Some(b'#') if is(b"#size-cells\0") => Property::SizeCells,
            Some(b'c') if is(b"compatible\0") => Property::Compatible,
            Some(b'r') if is(b"reg\0") => Property::Reg,
            Some(b'r') if is(b"ranges\0") => Property::Ranges,
            Some(b's') if is(b"status\0") => Property::Status,
            Some(b's') if is(b"stdout-path\0") => Property::StdoutPath,
            Some(b'm') if is(b"method\0") => Property::Method,
            Some(b'n') if is(b"no-map\0") => Property::NoMap,
            Some(b'b') if is(b"bootargs\0") => Property::Bootargs,
            Some(b'i') if is(b"interrupts\0") => Property::Interrupts,
            Some(b'e') if is(b"enable-method\0") => Property::EnableMethod,
            Some(b'c') if is(b"cpu-release-addr\0") => Property::CpuReleaseAddr,
            Some(b'd') if is(b"device_type\0") => Property::DeviceType,
            Some(b'l') if is(b"linux,initrd-start\0") => Property::InitrdStart,
            Some(b'l') if is(b"linux,initrd-end\0") => Property::InitrdEnd,
            _ => Property::Other,
        }
    }
}

/// Strings-block offsets below this have their property classified once and remembered
/// (QEMU's strings block is under 512 bytes; beyond the cache names are classified each time).
const NAME_CACHE: usize = 512;

/// The node whose properties are being read.
struct Node<'a> {
    kind: Kind,
    /// The node's name, for error messages.
    name: &'a [u8],
    /// Offset of the node's `FDT_BEGIN_NODE` token.
    offset: usize,
    /// Its depth (the root is 1).
    depth: usize,
    /// The parent's cells, which this node's `reg` uses.
    parent_cells: Cells,
    /// This node's cells, for its children.
    cells: Cells,
    compatible: &'a [u8],
    reg: Option<&'a [u8]>,
    ranges: Option<&'a [u8]>,
    status: Option<&'a [u8]>,
    method: Option<&'a [u8]>,
    interrupts: Option<&'a [u8]>,
    enable_method: Option<&'a [u8]>,
    release: Option<&'a [u8]>,
    device_type: Option<&'a [u8]>,
    no_map: bool,
}

impl Node<'_> {
    const EMPTY: Self = Node {
        kind: Kind::Other,
        name: &[],
        offset: 0,
        depth: 0,
        parent_cells: DEFAULT_CELLS,
        cells: DEFAULT_CELLS,
        compatible: &[],
        reg: None,
        ranges: None,
        status: None,
        method: None,
        interrupts: None,
        enable_method: None,
        release: None,
        device_type: None,
        no_map: false,
    };
}

/// A UART found in the tree.
#[derive(Clone, Copy)]
struct Uart {
    /// CPU physical address of its registers (translated through the buses' `ranges`).
    base: u64,
    kind: UartKind,
    /// Offset of its `FDT_BEGIN_NODE` token, to match it against `stdout-path`.
    offset: usize,
}

/// Everything collected so far.
struct Walk<'a, 'm> {
    machine: &'m mut Machine<'a>,
    uarts: [Option<Uart>; MAX_UARTS],
    aliases: [(&'a [u8], &'a [u8]); MAX_ALIASES],
    alias_count: usize,
    stdout_path: Option<&'a [u8]>,
    initrd: (Option<&'a [u8]>, Option<&'a [u8]>),
    /// The enabled generic timer node's name and `interrupts`, read once the whole tree (and so
    /// the GIC, whose `#interrupt-cells` they use) is known.
    timer: Option<(&'a [u8], &'a [u8])>,
    /// `/cpus`' `enable-method`: the default of the cores under it.
    cpus_method: Option<&'a [u8]>,
    /// Per strings-block offset: 0 not seen yet, else 1 + the `Property` there.
    names: [u8; NAME_CACHE],
}

/// Reads the machine description out of `blob` in one pass, into `machine` (which should be
/// [`Machine::new`]).
///
/// On success every field of `machine` is set: RAM is not empty and `console` is a UART's
/// base. On failure `machine` holds what was read before the problem (notably
/// [`Machine::psci`]), and the [`Failure`] names the first UART found, if any, so the platform
/// can still report the error on it and power off.
pub fn read<'a>(
    blob: &Blob<'a>,
    machine: &mut Machine<'a>,
) -> core::result::Result<(), Failure<'a>> {
    let mut walk = Walk {
        machine,
        uarts: [None; MAX_UARTS],
        aliases: [(&[], &[]); MAX_ALIASES],
        alias_count: 0,
        stdout_path: None,
        initrd: (None, None),
        timer: None,
        cpus_method: None,
        names: [0; NAME_CACHE],
    };
    match walk.run(blob) {
        Ok(()) => walk.finish(blob),
        Err(error) => Err(Failure {
            error,
            console: walk.uarts[0].map(|u| u.base),
            console_kind: walk.uarts[0].map_or(UartKind::Pl011, |u| u.kind),
        }),
    }
}

/// The value of a one- or two-cell property, or a multi-cell field of `reg`.
fn cells_value(bytes: &[u8]) -> Option<u64> {
    match *bytes {
        [a, b, c, d] => Some(u64::from(u32::from_be_bytes([a, b, c, d]))),
        [a, b, c, d, e, f, g, h] => Some(u64::from_be_bytes([a, b, c, d, e, f, g, h])),
        _ => None,
    }
}

/// A string property's bytes without the terminating NUL.
fn text(value: &[u8]) -> &[u8] {
    value.strip_suffix(&[0]).unwrap_or(value)
}

/// Whether a NUL-separated string list contains `wanted`. Every node's `compatible` goes
/// through here, hence [`find_nul`] rather than `split`.
fn list_contains(list: &[u8], wanted: &[u8]) -> bool {
    let mut rest = list;
    loop {
        let len = find_nul(rest).unwrap_or(rest.len());
        if rest.get(..len) == Some(wanted) {
            return true;
        }
        // Past the NUL; `None` when there was none, so this was the last item.
        let Some(after) = rest.get(len + 1..) else {
            return false;
        };
        rest = after;
    }
}

impl<'a> Walk<'a, '_> {
    fn run(&mut self, blob: &Blob<'a>) -> Result<'a> {
        blob.reservations(|range| self.machine.reserved.push(range, false, "/memreserve/"))?;
        let mut tokens = blob.tokens();
        // Per depth (the root is 1): each open node as its children see it.
        let mut open = [Bus::OTHER; MAX_DEPTH + 1];
        // The node whose properties are being read; `pending` until its first child or its end.
        let mut node = Node::EMPTY;
        let mut pending = false;
        while let Some(token) = tokens.next() {
            match token? {
                Token::Begin { name } => {
                    let depth = tokens.depth();
                    if pending {
                        open[depth - 1] =
                            Bus { kind: node.kind, cells: node.cells, ranges: node.ranges };
                        self.node_done(&node, &open)?;
                    }
                    let parent = if depth == 1 { Bus::OTHER } else { open[depth - 1] };
                    node = Node {
                        kind: classify(depth, parent.kind, name),
                        name,
                        offset: tokens.offset(),
                        depth,
                        parent_cells: parent.cells,
                        ..Node::EMPTY
                    };
                    pending = true;
                }
                Token::Property { name, value } => {
                    // The blob checker only lets properties follow a node's start.
                    if pending {
                        let property = self.classify_property(blob, name);
                        // Most properties are none the boot reads (interrupts, clocks …).
                        if property != Property::Other || node.kind == Kind::Aliases {
                            self.property(blob, &mut node, name, property, value)?;
                        }
                    }
                }
                Token::End => {
                    if pending {
                        self.node_done(&node, &open)?;
                        pending = false;
                    }
                }
            }
        }
        Ok(())
    }

    /// Which property `name` is, remembered per strings-block offset.
    fn classify_property(&mut self, blob: &Blob<'a>, name: Name) -> Property {
        let offset = name.0 as usize;
        let cached = self.names.get(offset).copied().unwrap_or(0);
        if let Some(&property) = Property::ALL.get(usize::from(cached).wrapping_sub(1)) {
            return property;
        }
        let property = Property::at(blob.strings_from(name));
        if let Some(slot) = self.names.get_mut(offset) {
            *slot = property as u8 + 1;
        }
        property
    }

    /// Records one property of `node`.
    fn property(
        &mut self,
        blob: &Blob<'a>,
        node: &mut Node<'a>,
        name: Name,
        property: Property,
        value: &'a [u8],
    ) -> Result<'a> {
        let bad = |property, problem| Error::BadProperty {
            node: printable(node.name),
            property,
            problem,
        };
        let one_cell = |property| match *value {
            [a, b, c, d] => Ok(u32::from_be_bytes([a, b, c, d])),
            _ => Err(bad(property, "not one cell")),
        };
        match property {
            Property::AddressCells => node.cells.address = one_cell("#address-cells")?,
            Property::SizeCells => node.cells.size = one_cell("#size-cells")?,
            Property::Compatible => node.compatible = value,
            Property::Reg => node.reg = Some(value),
            Property::Ranges => node.ranges = Some(value),
            Property::Status => node.status = Some(value),
            Property::Method => node.method = Some(value),
            Property::NoMap => node.no_map = true,
            Property::Interrupts => node.interrupts = Some(value),
            Property::EnableMethod => node.enable_method = Some(value),
            Property::CpuReleaseAddr => node.release = Some(value),
            Property::DeviceType => node.device_type = Some(value),
            _ => {}
        }
        match (node.kind, property) {
            (Kind::Chosen, Property::Bootargs) => {
                self.machine.bootargs =
                    core::str::from_utf8(text(value)).map_err(|_| bad("bootargs", "not UTF-8"))?;
            }
            (Kind::Chosen, Property::StdoutPath) => self.stdout_path = Some(text(value)),
            (Kind::Chosen, Property::InitrdStart) => self.initrd.0 = Some(value),
            (Kind::Chosen, Property::InitrdEnd) => self.initrd.1 = Some(value),
            (Kind::Aliases, _) if self.alias_count < MAX_ALIASES => {
                if let Some(name) = blob.property_name(name) {
                    self.aliases[self.alias_count] = (name, text(value));
                    self.alias_count += 1;
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// Acts on a node whose properties are all read; `open[1..node.depth]` are its ancestors.
    fn node_done(&mut self, node: &Node<'a>, open: &[Bus<'a>]) -> Result<'a> {
        let enabled = matches!(node.status.map(text), None | Some(b"okay") | Some(b"ok"));
        match node.kind {
            Kind::Root => {
                let board = BOARDS.iter().find(|(c, _)| list_contains(node.compatible, c));
                self.machine.platform = board.map_or(UNKNOWN_BOARD, |(_, platform)| platform);
            }
            // A disabled node is not RAM (Linux skips it too); an empty range, as in a DTB whose
            // firmware did not fill `/memory` in, adds nothing.
            Kind::Memory if enabled => {
                for range in reg(node)? {
                    let range = range?;
                    if !range.is_empty() {
                        self.machine.ram.push(range, false, printable(node.name))?;
                    }
                }
            }
            Kind::Reserved if node.reg.is_some() => {
                for range in reg(node)? {
                    self.machine.reserved.push(range?, node.no_map, printable(node.name))?;
                }
            }
            Kind::Cpus => self.cpus_method = node.enable_method,
            Kind::Cpu if node.device_type.map(text) == Some(b"cpu") => {
                let failed = node.status.is_some_and(|status| status.starts_with(b"fail"));
                if !failed {
                    let cpu = super::cpus::cpu(
                        printable(node.name),
                        node.parent_cells.address,
                        node.reg,
                        node.enable_method.or(self.cpus_method),
                        node.release,
                    )?;
                    self.machine.cpus.push(cpu);
                }
            }
            Kind::Hypervisor if list_contains(node.compatible, b"xen,xen") => {
                // The root (whose `compatible` named a board) was done before its children.
                self.machine.platform = XEN_GUEST;
            }
            Kind::Psci
                if list_contains(node.compatible, b"arm,psci-0.2")
                    || list_contains(node.compatible, b"arm,psci-1.0") =>
            {
                // SYSTEM_OFF has a fixed function ID from PSCI 0.2 on; "arm,psci" (0.1) has none.
                self.machine.psci = match node.method.map(text) {
                    Some(b"hvc") => Some(PsciConduit::Hvc),
                    Some(b"smc") => Some(PsciConduit::Smc),
                    _ => {
                        return Err(Error::BadProperty {
                            node: printable(node.name),
                            property: "method",
                            problem: "neither \"hvc\" nor \"smc\"",
                        });
                    }
                };
            }
            _ => {}
        }
        let uart = UARTS.iter().find(|(c, _)| list_contains(node.compatible, c));
        if let (true, Some(&(_, kind))) = (enabled, uart) {
            // A UART no bus maps into the CPU's address space cannot be the console: skipped.
            if let Some(base) = first_reg_address(node, open)? {
                if let Some(slot) = self.uarts.iter_mut().find(|u| u.is_none()) {
                    *slot = Some(Uart { base, kind, offset: node.offset });
                }
            }
        }
        let gic = GICS.iter().find(|(c, _)| list_contains(node.compatible, c));
        if let (true, None, Some(&(_, v3))) = (enabled, self.machine.gic, gic) {
            let name = printable(node.name);
            let ancestors = open.get(1..node.depth).unwrap_or(&[]);
            let mut regions = reg(node)?;
            let missing = Error::BadProperty {
                node: name,
                property: "reg",
                problem: "fewer than two regions (distributor and CPU interface or redistributors)",
            };
            let mut next = || -> Result<'a, PhysRange> {
                let range = regions.next().ok_or(missing)??;
                let base = translate(range, ancestors, name)?.ok_or(Error::BadProperty {
                    node: name,
                    property: "reg",
                    problem: "not mapped into the CPU's address space",
                })?;
                Ok(PhysRange::from_start_len(base, range.len()))
            };
            let (distributor, second) = (next()?, next()?);
            self.machine.gic = Some(if v3 {
                Gic::V3 { distributor, redistributors: second }
            } else {
                Gic::V2 { distributor, cpu_interface: second }
            });
        }
        if enabled
            && self.machine.bcm2836_local.is_none()
            && list_contains(node.compatible, BCM2836_LOCAL)
        {
            let base = first_reg_address(node, open)?.ok_or(Error::BadProperty {
                node: printable(node.name),
                property: "reg",
                problem: "not mapped into the CPU's address space",
            })?;
            self.machine.bcm2836_local = Some(base);
        }
        if enabled
            && self.timer.is_none()
            && TIMERS.iter().any(|c| list_contains(node.compatible, c))
        {
            self.timer = Some((node.name, node.interrupts.unwrap_or(&[])));
        }
        if enabled && self.machine.watchdog.is_none() && list_contains(node.compatible, BCM2835_PM)
        {
            self.machine.watchdog = first_reg_address(node, open)?;
        }
        if enabled && self.machine.mailbox.is_none() && list_contains(node.compatible, BCM2835_MBOX)
        {
            self.machine.mailbox = first_reg_address(node, open)?;
        }
        if enabled && self.machine.rtc.is_none() && list_contains(node.compatible, PL031) {
            self.machine.rtc = first_reg_address(node, open)?;
        }
        if enabled && list_contains(node.compatible, VIRTIO_MMIO) {
            let first = reg(node)?.next().ok_or(Error::BadProperty {
                node: printable(node.name),
                property: "reg",
                problem: "empty",
            })??;
            let ancestors = open.get(1..node.depth).unwrap_or(&[]);
            if let Some(base) = translate(first, ancestors, printable(node.name))? {
                let window = PhysRange::from_start_len(base, first.len());
                let intid = node.interrupts.and_then(spi_intid);
                self.machine.virtio_mmio.push(VirtioMmio { window, intid });
            }
        }
        Ok(())
    }

    /// Checks what only the whole tree can tell, and picks the console.
    fn finish(&mut self, blob: &Blob<'a>) -> core::result::Result<(), Failure<'a>> {
        let fallback = self.uarts[0];
        let fail = |error| Failure {
            error,
            console: fallback.map(|u| u.base),
            console_kind: fallback.map_or(UartKind::Pl011, |u| u.kind),
        };
        match self.initrd {
            (None, None) => {}
            (Some(start), Some(end)) => match (cells_value(start), cells_value(end)) {
                (Some(start), Some(end)) if start <= end => self
                    .machine
                    .reserved
                    .push(PhysRange::new(start, end), false, "chosen")
                    .map_err(fail)?,
                _ => {
                    return Err(fail(Error::BadProperty {
                        node: "chosen",
                        property: "linux,initrd-start",
                        problem: "initrd bounds are not 1 or 2 cells, or inverted",
                    }));
                }
            },
            _ => {
                return Err(fail(Error::BadProperty {
                    node: "chosen",
                    property: "linux,initrd-start",
                    problem: "only one of linux,initrd-start and linux,initrd-end",
                }));
            }
        }
        // Without RAM in the tree a Pi's firmware can still be asked (the platform does that).
        if self.machine.ram.is_empty() && self.machine.mailbox.is_none() {
            return Err(fail(Error::NoMemory));
        }
        if self.machine.gic.is_some() {
            // A Pi 4 lists the block too (before its GIC-400), but there the GIC is the root
            // controller and the block routes nothing.
            self.machine.bcm2836_local = None;
        }
        if let Some((node, interrupts)) = self.timer {
            if self.machine.gic.is_some() {
                self.machine.virtual_timer =
                    Some(virtual_timer(printable(node), interrupts).map_err(fail)?);
            } else if self.machine.bcm2836_local.is_some() {
                self.machine.virtual_timer =
                    Some(local_virtual_timer(printable(node), interrupts).map_err(fail)?);
            }
        }
        let console = self.console(blob).ok_or(fail(Error::NoConsole))?;
        self.machine.console = console.base;
        self.machine.console_kind = console.kind;
        Ok(())
    }

    /// The console: the UART `/chosen/stdout-path` names (directly or through `/aliases`), else
    /// the one alias `serial0` names, else the first. A Pi 3's or 4's stdout-path names `serial1`,
    /// its mini-UART (the GPIO 14/15 UART when the PL011 drives Bluetooth); a stdout-path naming
    /// a disabled UART, or one without a driver here, falls back to `serial0`.
    fn console(&self, blob: &Blob<'a>) -> Option<Uart> {
        let mut uarts = self.uarts.iter().flatten();
        let first = *uarts.next()?;
        if uarts.next().is_none() {
            // One candidate: whatever stdout-path says, it is the console (a stdout-path naming
            // a UART without a driver falls back to one that has one anyway).
            return Some(first);
        }
        // `/pl011@9000000:115200n8` or `serial0:115200n8`: options follow a colon.
        let stdout = self.stdout_path.map(|path| path.split(|&b| b == b':').next().unwrap_or(path));
        let named = |path: &[u8]| {
            let path = if path.starts_with(b"/") {
                path
            } else {
                self.aliases[..self.alias_count].iter().find(|(name, _)| *name == path)?.1
            };
            let offset = find_path(blob, path)?;
            self.uarts.iter().flatten().find(|u| u.offset == offset).copied()
        };
        stdout.and_then(named).or_else(|| named(b"serial0")).or(Some(first))
    }
}

/// The virtual timer's INTID from a generic timer's `interrupts` under a GIC (three cells per
/// entry: type, number, flags): the third entry, which must be a PPI (type 1, number < 16).
fn virtual_timer<'a>(node: &'a str, interrupts: &[u8]) -> Result<'a, u32> {
    let bad = |problem| Error::BadProperty { node, property: "interrupts", problem };
    if !interrupts.len().is_multiple_of(12) {
        return Err(bad("not a whole number of three-cell GIC interrupt specifiers"));
    }
    let entry = interrupts.chunks_exact(12).nth(2).ok_or(bad("no third (virtual timer) entry"))?;
    let cell = |i: usize| u32::from_be_bytes([entry[i], entry[i + 1], entry[i + 2], entry[i + 3]]);
    match (cell(0), cell(4)) {
        (1, number) if number < 16 => Ok(16 + number),
        _ => Err(bad("the virtual timer is not a PPI below 16")),
    }
}

/// The virtual timer's source bit from a generic timer's `interrupts` under a BCM2836 local
/// controller (two cells per entry: source bit, flags): the third entry, which must be one of
/// the four timer bits (0-3).
fn local_virtual_timer<'a>(node: &'a str, interrupts: &[u8]) -> Result<'a, u32> {
    let bad = |problem| Error::BadProperty { node, property: "interrupts", problem };
    if !interrupts.len().is_multiple_of(8) {
        return Err(bad("not a whole number of two-cell BCM2836 interrupt specifiers"));
    }
    let entry = interrupts.chunks_exact(8).nth(2).ok_or(bad("no third (virtual timer) entry"))?;
    match u32::from_be_bytes([entry[0], entry[1], entry[2], entry[3]]) {
        bit @ 0..=3 => Ok(bit),
        _ => Err(bad("the virtual timer is not a BCM2836 timer source (0-3)")),
    }
}

/// The INTID of the first interrupt in a three-cell GIC specifier list when it is an SPI
/// (type 0: 32 + its number, which must stay below the GIC's 1020 limit).
fn spi_intid(interrupts: &[u8]) -> Option<u32> {
    let entry = interrupts.get(..12)?;
    let cell = |i: usize| u32::from_be_bytes([entry[i], entry[i + 1], entry[i + 2], entry[i + 3]]);
    let (kind, number) = (cell(0), cell(4));
    (kind == 0 && number < 988).then(|| 32 + number)
}

/// The CPU address of `node`'s first `reg` entry, translated through the buses above it (`open`
/// holds every node open above it, the root first); `None` if no bus maps it into the CPU's
/// address space. An empty `reg` is an error.
fn first_reg_address<'a>(node: &Node<'a>, open: &[Bus<'a>]) -> Result<'a, Option<u64>> {
    let first = reg(node)?.next().ok_or(Error::BadProperty {
        node: printable(node.name),
        property: "reg",
        problem: "empty",
    })??;
    let ancestors = open.get(1..node.depth).unwrap_or(&[]);
    translate(first, ancestors, printable(node.name))
}

/// The CPU physical address of a device whose first `reg` entry is `range`, through the `ranges`
/// of each bus in `ancestors` (root first, the device's parent last); `None` if a bus does not
/// map it. `node` names the device in errors.
fn translate<'a>(
    range: PhysRange,
    ancestors: &[Bus<'a>],
    node: &'a str,
) -> Result<'a, Option<u64>> {
    let bad = |problem| Error::BadProperty { node, property: "ranges", problem };
    let (mut address, len) = (range.start, range.len());
    // Each bus but the root maps its children's addresses into its own parent's.
    for pair in ancestors.windows(2).rev() {
        let (outer, bus) = (pair[0], pair[1]);
        let ranges = match bus.ranges {
            None => return Ok(None),
            Some([]) => continue, // `ranges;`: the same addresses on both sides
            Some(ranges) => ranges,
        };
        let cells = [bus.cells.address, outer.cells.address, bus.cells.size];
        if cells.iter().any(|c| !(1..=2).contains(c)) {
            return Err(bad("a bus's #address-cells or #size-cells is not 1 or 2"));
        }
        let [child_len, parent_len, size_len] = cells.map(|c| c as usize * 4);
        let entry = child_len + parent_len + size_len;
        if ranges.len() % entry != 0 {
            return Err(bad("a bus's ranges is not a whole number of entries"));
        }
        let mapped = ranges.chunks_exact(entry).find_map(|chunk| {
            let child = cells_value(&chunk[..child_len])?;
            let parent = cells_value(&chunk[child_len..child_len + parent_len])?;
            let size = cells_value(&chunk[child_len + parent_len..])?;
            // The device's whole register range lies in this window.
            let offset = address.checked_sub(child)?;
            (offset.checked_add(len)? <= size).then_some(parent.checked_add(offset))
        });
        address = match mapped {
            None => return Ok(None),
            Some(None) => return Err(bad("the translated address wraps around")),
            Some(Some(address)) => address,
        };
    }
    Ok(Some(address))
}

/// The offset of the `FDT_BEGIN_NODE` of the node at `path` (components may leave out their
/// unit address), found by a second walk; `None` if there is none or the walk fails.
fn find_path(blob: &Blob<'_>, path: &[u8]) -> Option<usize> {
    let mut wanted = path.split(|&b| b == b'/').filter(|c| !c.is_empty());
    let mut next = wanted.next();
    // Depth of the deepest node on the path matched so far (1: the root).
    let mut matched = 0;
    let mut tokens = blob.tokens();
    while let Some(token) = tokens.next() {
        match token.ok()? {
            Token::Begin { name } if tokens.depth() == matched + 1 => {
                let component = match next {
                    None if matched == 0 => return Some(tokens.offset()), // "/"
                    None => return None,
                    Some(component) => component,
                };
                let base = name.split(|&b| b == b'@').next().unwrap_or(name);
                if matched == 0
                    || name == component
                    || (!component.contains(&b'@') && base == component)
                {
                    if matched > 0 {
                        next = wanted.next();
                    }
                    matched += 1;
                    if matched > 1 && next.is_none() {
                        return Some(tokens.offset());
                    }
                }
            }
            Token::End if tokens.depth() < matched => return None,
            _ => {}
        }
    }
    None
}

/// A node name for an error message ("?" if it is not UTF-8).
fn printable(name: &[u8]) -> &str {
    core::str::from_utf8(name).unwrap_or("?")
}

/// What a node at `depth` named `name` under a `parent` is to the boot.
fn classify(depth: usize, parent: Kind, name: &[u8]) -> Kind {
    // `base` or `base@unit-address`.
    let is =
        |base: &[u8]| name.starts_with(base) && matches!(name.get(base.len()), None | Some(b'@'));
    match depth {
        1 => Kind::Root,
        // Most nodes are none of these: the first byte settles it without a comparison.
        2 => match name.first() {
            Some(b'm') if is(b"memory") => Kind::Memory,
            Some(b'c') if is(b"chosen") => Kind::Chosen,
            Some(b'c') if is(b"cpus") => Kind::Cpus,
            Some(b'p') if is(b"psci") => Kind::Psci,
            Some(b'a') if is(b"aliases") => Kind::Aliases,
            Some(b'r') if is(b"reserved-memory") => Kind::ReservedMemory,
            Some(b'h') if is(b"hypervisor") => Kind::Hypervisor,
            _ => Kind::Other,
        },
        3 if parent == Kind::ReservedMemory => Kind::Reserved,
        3 if parent == Kind::Cpus => Kind::Cpu,
        _ => Kind::Other,
    }
}

/// The `reg` entries of `node`, as ranges, using its parent's cell counts.
fn reg<'a>(node: &Node<'a>) -> Result<'a, impl Iterator<Item = Result<'a, PhysRange>>> {
    let name = printable(node.name);
    let bad = move |problem| Error::BadProperty { node: name, property: "reg", problem };
    let value = node.reg.ok_or(bad("missing"))?;
    let cells = node.parent_cells;
    if !(1..=2).contains(&cells.address) || !(1..=2).contains(&cells.size) {
        return Err(bad("#address-cells or #size-cells of the parent is not 1 or 2"));
    }
    let (address_len, size_len) = (cells.address as usize * 4, cells.size as usize * 4);
    let entry = address_len + size_len;
    if value.len() % entry != 0 {
        return Err(bad("length is not a whole number of entries"));
    }
    Ok(value.chunks_exact(entry).map(move |chunk| {
        let (address, size) = chunk.split_at(address_len);
        let address = cells_value(address).ok_or(bad("bad address"))?;
        let size = cells_value(size).ok_or(bad("bad size"))?;
        address.checked_add(size).ok_or(bad("range wraps around the address space"))?;
        Ok(PhysRange::from_start_len(address, size))
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_lists() {
        assert!(list_contains(b"arm,pl011\0arm,primecell\0", b"arm,pl011"));
        assert!(list_contains(b"arm,primecell\0arm,pl011\0", b"arm,pl011"));
        assert!(list_contains(b"a\0arm,pl011\0b\0", b"arm,pl011"));
        // Without the final NUL, and a prefix or suffix of an item is not the item.
        assert!(list_contains(b"arm,pl011", b"arm,pl011"));
        assert!(!list_contains(b"arm,pl0111\0", b"arm,pl011"));
        assert!(!list_contains(b"xarm,pl011\0", b"arm,pl011"));
        assert!(!list_contains(b"arm,pl01\0", b"arm,pl011"));
        assert!(!list_contains(b"", b"arm,pl011"));
        assert!(!list_contains(b"\0\0\0", b"arm,pl011"));
    }

    #[test]
    fn property_names_need_their_nul() {
        assert!(Property::at(b"reg\0compatible\0") == Property::Reg);
        assert!(Property::at(b"stdout-path\0") == Property::StdoutPath);
        assert!(Property::at(b"status\0") == Property::Status);
        assert!(Property::at(b"linux,initrd-end\0") == Property::InitrdEnd);
        assert!(Property::at(b"#size-cells\0") == Property::SizeCells);
        assert!(Property::at(b"reg") == Property::Other, "unterminated");
        assert!(Property::at(b"regs\0") == Property::Other);
        assert!(Property::at(b"re\0") == Property::Other);
        assert!(Property::at(b"") == Property::Other);
        // Each property's `u8` indexes ALL, which the name cache relies on.
        for (index, property) in Property::ALL.iter().enumerate() {
            assert_eq!(*property as usize, index);
        }
    }

    #[test]
    fn node_kinds() {
        assert!(classify(1, Kind::Other, b"") == Kind::Root);
        assert!(classify(2, Kind::Root, b"memory@40000000") == Kind::Memory);
        assert!(classify(2, Kind::Root, b"memory") == Kind::Memory);
        assert!(classify(2, Kind::Root, b"memory-controller") == Kind::Other);
        assert!(classify(3, Kind::Other, b"memory@0") == Kind::Other);
        assert!(classify(2, Kind::Root, b"chosen") == Kind::Chosen);
        assert!(classify(2, Kind::Root, b"cpus") == Kind::Cpus);
        assert!(classify(3, Kind::Cpus, b"cpu@0") == Kind::Cpu);
        assert!(classify(3, Kind::Other, b"cpu@0") == Kind::Other);
        assert!(classify(2, Kind::Root, b"psci") == Kind::Psci);
        assert!(classify(2, Kind::Root, b"aliases") == Kind::Aliases);
        assert!(classify(2, Kind::Root, b"reserved-memory") == Kind::ReservedMemory);
        assert!(classify(3, Kind::ReservedMemory, b"anything@1") == Kind::Reserved);
        assert!(classify(4, Kind::ReservedMemory, b"x") == Kind::Other);
    }

    #[test]
    fn cell_values() {
        assert_eq!(cells_value(&[0, 0, 0x10, 0]), Some(0x1000));
        assert_eq!(cells_value(&[0, 0, 0, 1, 0, 0, 0, 2]), Some(0x1_0000_0002));
        assert_eq!(cells_value(&[0, 0, 1]), None);
        assert_eq!(cells_value(&[0; 12]), None);
        assert_eq!(cells_value(&[]), None);
    }

    /// Paths as `stdout-path` and `/aliases` give them, against `stdout-path.dts`.
    #[test]
    fn paths() {
        let bytes = include_bytes!("../../tests/fixtures/stdout-path.dtb");
        let blob = Blob::parse(bytes).unwrap();
        let mut offsets = Vec::new();
        let mut tokens = blob.tokens();
        while let Some(token) = tokens.next() {
            if let Token::Begin { name } = token.unwrap() {
                offsets.push((name, tokens.offset()));
            }
        }
        let offset = |wanted: &[u8]| offsets.iter().find(|(name, _)| *name == wanted).unwrap().1;
        assert_eq!(find_path(&blob, b"/"), Some(0));
        assert_eq!(find_path(&blob, b"/soc/serial@1c0b0000"), Some(offset(b"serial@1c0b0000")));
        assert_eq!(
            find_path(&blob, b"/soc@1c000000/serial@1c0a0000"),
            Some(offset(b"serial@1c0a0000"))
        );
        // Without a unit address, the first node of that name.
        assert_eq!(find_path(&blob, b"/soc/serial"), Some(offset(b"serial@1c090000")));
        assert_eq!(find_path(&blob, b"/soc"), Some(offset(b"soc@1c000000")));
        assert_eq!(find_path(&blob, b"/chosen/"), Some(offset(b"chosen")));
        assert_eq!(find_path(&blob, b"/serial@1c0b0000"), None, "not at the top level");
        assert_eq!(find_path(&blob, b"/soc/serial@1c0c0000"), None);
        assert_eq!(find_path(&blob, b"/soc/serial@1c0b0000/deeper"), None);
        assert_eq!(find_path(&blob, b"/nowhere"), None);
    }
}
