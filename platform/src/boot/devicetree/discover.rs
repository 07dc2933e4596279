//! Reading the machine out of the devicetree in one pass: console, RAM, reservations, board, PSCI.
//!
//! One walk over the checked tokens of [`blob`](super::blob) collects every fact the boot needs;
//! a node's properties are gathered until its first child or its end, then acted on. Values are
//! decoded defensively (cell counts, lengths, overflow) and a bad one is reported with the node
//! and property it came from. Nothing is allocated: the lists have fixed capacities.
//!
//! Weak spots: `reg` addresses are taken as CPU physical addresses without translating them
//! through parent buses' `ranges` (true on QEMU `virt`, whose devices sit under the root; the Pi,
//! whose UART sits under `/soc`, will need the translation). Dynamically placed reserved memory
//! (`size` + `alloc-ranges`, no `reg`) is not honoured.

use super::blob::{Blob, Name, Token, MAX_DEPTH};
use super::error::BootError;
use rivet_arch::psci::Conduit;
use rivet_core::memory::PhysRange;

/// Boards recognised from the root node's `compatible`, first match wins. Add a row per board
/// (`raspberrypi,4-model-b` → `rpi4`); a Xen guest will be recognised by `/hypervisor` instead.
const BOARDS: &[(&[u8], &str)] = &[(b"linux,dummy-virt", "virt")];

/// What the platform reports for a devicetree machine it does not know by name.
const UNKNOWN_BOARD: &str = "devicetree";

/// Most RAM ranges, and most reserved ranges, kept. Real machines have a handful of each.
pub const MAX_RANGES: usize = 32;
/// Most PL011 nodes considered for the console.
const MAX_UARTS: usize = 4;
/// Most `/aliases` entries kept (for resolving `stdout-path`).
const MAX_ALIASES: usize = 16;

/// A fixed-capacity list of physical ranges, each with a flag (`no-map` for reservations).
pub struct Ranges {
    items: [(PhysRange, bool); MAX_RANGES],
    len: usize,
}

impl Ranges {
    /// An empty list.
    pub const fn new() -> Self {
        Self { items: [(PhysRange::new(0, 0), false); MAX_RANGES], len: 0 }
    }

    fn push(&mut self, range: PhysRange, flag: bool, node: &'static str) -> Result<(), BootError> {
        let slot = self.items.get_mut(self.len).ok_or(BootError::BadProperty {
            node,
            property: "reg",
            problem: "more than 32 ranges of this kind",
        })?;
        *slot = (range, flag);
        self.len += 1;
        Ok(())
    }

    /// The ranges and their flags.
    pub fn iter(&self) -> impl Iterator<Item = (PhysRange, bool)> + '_ {
        self.items[..self.len].iter().copied()
    }
}

/// What the devicetree says about the machine. Several KiB: filled in place by [`read`] rather
/// than returned, so it is not copied around the boot path.
pub struct Machine {
    /// The platform name `rivet::env::platform()` reports.
    pub platform: &'static str,
    /// How to reach PSCI, if the machine has PSCI 0.2 or later (for SYSTEM_OFF).
    pub psci: Option<Conduit>,
    /// `/chosen/bootargs` without its NUL, or "".
    pub bootargs: &'static str,
    /// MMIO base of the console PL011.
    pub console: u64,
    /// RAM, from every `/memory*` node.
    pub ram: Ranges,
    /// Reserved ranges (/memreserve/, `/reserved-memory`, the initrd), flagged when `no-map`.
    pub reserved: Ranges,
}

impl Machine {
    /// Nothing known yet.
    pub const fn new() -> Self {
        Self {
            platform: UNKNOWN_BOARD,
            psci: None,
            bootargs: "",
            console: 0,
            ram: Ranges::new(),
            reserved: Ranges::new(),
        }
    }
}

/// Why the devicetree could not be read, and the console UART if one was found before the
/// problem, so the error can be shown on it.
pub struct Failure {
    /// What was wrong.
    pub error: BootError,
    /// MMIO base of a PL011 found before the error, if any.
    pub console: Option<u64>,
}

/// `#address-cells` and `#size-cells` a node declares for its children.
#[derive(Clone, Copy)]
struct Cells {
    address: u32,
    size: u32,
}

/// The defaults when a node declares none (§2.3.5).
const DEFAULT_CELLS: Cells = Cells { address: 2, size: 1 };

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
}

impl Property {
    /// Every property, indexed by its `u8` value.
    const ALL: [Property; 12] = [
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
    ];

    fn of(name: &[u8]) -> Self {
        match name {
            b"#address-cells" => Property::AddressCells,
            b"#size-cells" => Property::SizeCells,
            b"compatible" => Property::Compatible,
            b"reg" => Property::Reg,
            b"status" => Property::Status,
            b"method" => Property::Method,
            b"no-map" => Property::NoMap,
            b"bootargs" => Property::Bootargs,
            b"stdout-path" => Property::StdoutPath,
            b"linux,initrd-start" => Property::InitrdStart,
            b"linux,initrd-end" => Property::InitrdEnd,
            _ => Property::Other,
        }
    }
}

/// Strings-block offsets below this have their property classified once and remembered
/// (QEMU's strings block is under 512 bytes; beyond the cache names are classified each time).
const NAME_CACHE: usize = 512;

/// The node whose properties are being read.
struct Node {
    kind: Kind,
    /// The node's name, for error messages.
    name: &'static [u8],
    /// Offset of the node's `FDT_BEGIN_NODE` token.
    offset: usize,
    /// The parent's cells, which this node's `reg` uses.
    parent_cells: Cells,
    /// This node's cells, for its children.
    cells: Cells,
    compatible: &'static [u8],
    reg: Option<&'static [u8]>,
    status: Option<&'static [u8]>,
    method: Option<&'static [u8]>,
    no_map: bool,
}

impl Node {
    const EMPTY: Node = Node {
        kind: Kind::Other,
        name: &[],
        offset: 0,
        parent_cells: DEFAULT_CELLS,
        cells: DEFAULT_CELLS,
        compatible: &[],
        reg: None,
        status: None,
        method: None,
        no_map: false,
    };
}

/// A PL011 found in the tree.
#[derive(Clone, Copy)]
struct Uart {
    base: u64,
    /// Offset of its `FDT_BEGIN_NODE` token, to match it against `stdout-path`.
    offset: usize,
}

/// Everything collected so far.
struct Walk<'m> {
    machine: &'m mut Machine,
    uarts: [Option<Uart>; MAX_UARTS],
    aliases: [(&'static [u8], &'static [u8]); MAX_ALIASES],
    alias_count: usize,
    stdout_path: Option<&'static [u8]>,
    initrd: (Option<&'static [u8]>, Option<&'static [u8]>),
    /// Per strings-block offset: 0 not seen yet, else 1 + the `Property` there.
    names: [u8; NAME_CACHE],
}

/// Reads the machine description out of `blob` in one pass, into `machine` (which should be
/// [`Machine::new`]).
pub fn read(blob: &Blob<'static>, machine: &mut Machine) -> Result<(), Failure> {
    let mut walk = Walk {
        machine,
        uarts: [None; MAX_UARTS],
        aliases: [(&[], &[]); MAX_ALIASES],
        alias_count: 0,
        stdout_path: None,
        initrd: (None, None),
        names: [0; NAME_CACHE],
    };
    match walk.run(blob) {
        Ok(()) => walk.finish(blob),
        Err(error) => Err(Failure { error, console: walk.uarts[0].map(|u| u.base) }),
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

/// Whether a NUL-separated string list contains `wanted`.
fn list_contains(list: &[u8], wanted: &[u8]) -> bool {
    list.split(|&b| b == 0).any(|item| item == wanted)
}

impl Walk<'_> {
    fn run(&mut self, blob: &Blob<'static>) -> Result<(), BootError> {
        blob.reservations(|range| self.machine.reserved.push(range, false, "/memreserve/"))?;
        let mut tokens = blob.tokens();
        // Per depth: the kind of each open node and the cells it declares for its children.
        let mut open = [(Kind::Other, DEFAULT_CELLS); MAX_DEPTH + 1];
        // The node whose properties are being read; `pending` until its first child or its end.
        let mut node = Node::EMPTY;
        let mut pending = false;
        while let Some(token) = tokens.next() {
            match token? {
                Token::Begin { name } => {
                    let depth = tokens.depth();
                    if pending {
                        open[depth - 1] = (node.kind, node.cells);
                        self.node_done(&node)?;
                    }
                    let (parent_kind, parent_cells) =
                        if depth == 1 { (Kind::Other, DEFAULT_CELLS) } else { open[depth - 1] };
                    node = Node {
                        kind: classify(depth, parent_kind, name),
                        name,
                        offset: tokens.offset(),
                        parent_cells,
                        ..Node::EMPTY
                    };
                    pending = true;
                }
                Token::Property { name, value } => {
                    // The blob checker only lets properties follow a node's start.
                    if pending {
                        let property = self.classify_property(blob, name);
                        self.property(blob, &mut node, name, property, value)?;
                    }
                }
                Token::End => {
                    if pending {
                        self.node_done(&node)?;
                        pending = false;
                    }
                }
            }
        }
        Ok(())
    }

    /// Which property `name` is, remembered per strings-block offset.
    fn classify_property(&mut self, blob: &Blob<'static>, name: Name) -> Property {
        let offset = name.0 as usize;
        let cached = self.names.get(offset).copied().unwrap_or(0);
        if let Some(&property) = Property::ALL.get(usize::from(cached).wrapping_sub(1)) {
            return property;
        }
        let property = blob.property_name(name).map_or(Property::Other, Property::of);
        if let Some(slot) = self.names.get_mut(offset) {
            *slot = property as u8 + 1;
        }
        property
    }

    /// Records one property of `node`.
    fn property(
        &mut self,
        blob: &Blob<'static>,
        node: &mut Node,
        name: Name,
        property: Property,
        value: &'static [u8],
    ) -> Result<(), BootError> {
        let bad = |property, problem| BootError::BadProperty {
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
            Property::Status => node.status = Some(value),
            Property::Method => node.method = Some(value),
            Property::NoMap => node.no_map = true,
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

    /// Acts on a node whose properties are all read.
    fn node_done(&mut self, node: &Node) -> Result<(), BootError> {
        match node.kind {
            Kind::Root => {
                let board = BOARDS.iter().find(|(c, _)| list_contains(node.compatible, c));
                self.machine.platform = board.map_or(UNKNOWN_BOARD, |(_, platform)| platform);
            }
            Kind::Memory => {
                for range in reg(node)? {
                    self.machine.ram.push(range?, false, printable(node.name))?;
                }
            }
            Kind::Reserved if node.reg.is_some() => {
                for range in reg(node)? {
                    self.machine.reserved.push(range?, node.no_map, printable(node.name))?;
                }
            }
            Kind::Psci
                if list_contains(node.compatible, b"arm,psci-0.2")
                    || list_contains(node.compatible, b"arm,psci-1.0") =>
            {
                // SYSTEM_OFF has a fixed function ID from PSCI 0.2 on; "arm,psci" (0.1) has none.
                self.machine.psci = match node.method.map(text) {
                    Some(b"hvc") => Some(Conduit::Hvc),
                    Some(b"smc") => Some(Conduit::Smc),
                    _ => {
                        return Err(BootError::BadProperty {
                            node: printable(node.name),
                            property: "method",
                            problem: "neither \"hvc\" nor \"smc\"",
                        })
                    }
                };
            }
            _ => {}
        }
        let enabled = matches!(node.status.map(text), None | Some(b"okay") | Some(b"ok"));
        if enabled && list_contains(node.compatible, b"arm,pl011") {
            let first = reg(node)?.next().ok_or(BootError::BadProperty {
                node: printable(node.name),
                property: "reg",
                problem: "empty",
            })??;
            if let Some(slot) = self.uarts.iter_mut().find(|u| u.is_none()) {
                *slot = Some(Uart { base: first.start, offset: node.offset });
            }
        }
        Ok(())
    }

    /// Checks what only the whole tree can tell, and picks the console.
    fn finish(&mut self, blob: &Blob<'static>) -> Result<(), Failure> {
        let fallback = self.uarts[0].map(|u| u.base);
        let fail = |error| Failure { error, console: fallback };
        match self.initrd {
            (None, None) => {}
            (Some(start), Some(end)) => match (cells_value(start), cells_value(end)) {
                (Some(start), Some(end)) if start <= end => self
                    .machine
                    .reserved
                    .push(PhysRange::new(start, end), false, "chosen")
                    .map_err(fail)?,
                _ => {
                    return Err(fail(BootError::BadProperty {
                        node: "chosen",
                        property: "linux,initrd-start",
                        problem: "initrd bounds are not 1 or 2 cells, or inverted",
                    }))
                }
            },
            _ => {
                return Err(fail(BootError::BadProperty {
                    node: "chosen",
                    property: "linux,initrd-start",
                    problem: "only one of linux,initrd-start and linux,initrd-end",
                }))
            }
        }
        if self.machine.ram.len == 0 {
            return Err(fail(BootError::NoMemory));
        }
        self.machine.console = self.console(blob).ok_or(fail(BootError::NoConsole))?;
        Ok(())
    }

    /// The PL011 `/chosen/stdout-path` names (directly or through `/aliases`), else the first.
    fn console(&self, blob: &Blob<'static>) -> Option<u64> {
        let mut uarts = self.uarts.iter().flatten();
        let first = uarts.next()?;
        if uarts.next().is_none() {
            // One candidate: whatever stdout-path says, it is the console (a stdout-path naming
            // a UART without a driver falls back to a PL011 anyway).
            return Some(first.base);
        }
        let chosen = self.stdout_path.and_then(|path| {
            // `/pl011@9000000:115200n8` or `serial0:115200n8`: options follow a colon.
            let path = path.split(|&b| b == b':').next().unwrap_or(path);
            let path = if path.starts_with(b"/") {
                path
            } else {
                self.aliases[..self.alias_count].iter().find(|(name, _)| *name == path)?.1
            };
            let offset = find_path(blob, path)?;
            self.uarts.iter().flatten().find(|u| u.offset == offset)
        });
        Some(chosen.unwrap_or(first).base)
    }
}

/// The offset of the `FDT_BEGIN_NODE` of the node at `path` (components may leave out their
/// unit address), found by a second walk; `None` if there is none or the walk fails.
fn find_path(blob: &Blob<'static>, path: &[u8]) -> Option<usize> {
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
fn printable(name: &'static [u8]) -> &'static str {
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
            Some(b'p') if is(b"psci") => Kind::Psci,
            Some(b'a') if is(b"aliases") => Kind::Aliases,
            Some(b'r') if is(b"reserved-memory") => Kind::ReservedMemory,
            _ => Kind::Other,
        },
        3 if parent == Kind::ReservedMemory => Kind::Reserved,
        _ => Kind::Other,
    }
}

/// The `reg` entries of `node`, as ranges, using its parent's cell counts.
fn reg(node: &Node) -> Result<impl Iterator<Item = Result<PhysRange, BootError>>, BootError> {
    let name = printable(node.name);
    let bad = move |problem| BootError::BadProperty { node: name, property: "reg", problem };
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
