//! Shared by the integration tests: a builder for hand-made (and deliberately broken) blobs, and
//! helpers that run the whole discovery.
#![allow(dead_code)] // Each test file uses its own subset.

pub mod acpi_memory;

use rivet_bootinfo::devicetree::{read, Blob, Failure, Machine, Ranges, UartKind};

/// `FDT_BEGIN_NODE` … `FDT_END`, as the spec numbers them (§5.4.1).
pub const BEGIN_NODE: u32 = 1;
pub const END_NODE: u32 = 2;
pub const PROP: u32 = 3;
pub const NOP: u32 = 4;
pub const END: u32 = 9;

/// Header words by index (§5.2): what `set_header` patches.
pub const TOTALSIZE: usize = 1;
pub const OFF_DT_STRUCT: usize = 2;
pub const OFF_DT_STRINGS: usize = 3;
pub const OFF_MEM_RSVMAP: usize = 4;
pub const VERSION: usize = 5;
pub const LAST_COMP_VERSION: usize = 6;
pub const SIZE_DT_STRINGS: usize = 8;
pub const SIZE_DT_STRUCT: usize = 9;

/// A flattened device tree under construction: raw structure and strings blocks, reservations,
/// and the header computed by [`Fdt::build`]. Nothing is checked, so broken trees are easy.
#[derive(Clone, Default)]
pub struct Fdt {
    /// The structure block so far.
    pub structure: Vec<u8>,
    /// The strings block so far.
    pub strings: Vec<u8>,
    /// /memreserve/ entries; [`Fdt::build`] adds the terminating (0, 0).
    pub reservations: Vec<(u64, u64)>,
}

impl Fdt {
    /// An empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// The structure block's length: the offset the next token will have.
    pub fn offset(&self) -> usize {
        self.structure.len()
    }

    /// A raw big-endian word.
    pub fn word(&mut self, word: u32) -> &mut Self {
        self.structure.extend_from_slice(&word.to_be_bytes());
        self
    }

    /// `FDT_BEGIN_NODE` and its NUL-terminated, padded name.
    pub fn begin(&mut self, name: &str) -> &mut Self {
        self.begin_raw(name.as_bytes())
    }

    /// `FDT_BEGIN_NODE` with a name of any bytes.
    pub fn begin_raw(&mut self, name: &[u8]) -> &mut Self {
        self.word(BEGIN_NODE);
        self.structure.extend_from_slice(name);
        self.structure.push(0);
        self.pad()
    }

    /// `FDT_END_NODE`.
    pub fn end(&mut self) -> &mut Self {
        self.word(END_NODE)
    }

    /// `FDT_NOP`.
    pub fn nop(&mut self) -> &mut Self {
        self.word(NOP)
    }

    /// `FDT_END`.
    pub fn finish(&mut self) -> &mut Self {
        self.word(END)
    }

    /// The strings-block offset of `name`, added if it is not there yet.
    pub fn name(&mut self, name: &str) -> u32 {
        let mut wanted = name.as_bytes().to_vec();
        wanted.push(0);
        let found = self
            .strings
            .windows(wanted.len())
            .enumerate()
            .find(|(at, w)| *w == wanted && (*at == 0 || self.strings[at - 1] == 0));
        if let Some((at, _)) = found {
            return at as u32;
        }
        let at = self.strings.len() as u32;
        self.strings.extend_from_slice(&wanted);
        at
    }

    /// `FDT_PROP` named `name` with `value`.
    pub fn prop(&mut self, name: &str, value: &[u8]) -> &mut Self {
        let name = self.name(name);
        self.prop_raw(value.len() as u32, name, value)
    }

    /// `FDT_PROP` with whatever length word and name offset, then `value` (padded).
    pub fn prop_raw(&mut self, len: u32, name: u32, value: &[u8]) -> &mut Self {
        self.word(PROP).word(len).word(name);
        self.structure.extend_from_slice(value);
        self.pad()
    }

    /// A string property (NUL-terminated; `\0` inside separates list items).
    pub fn string(&mut self, name: &str, value: &str) -> &mut Self {
        self.prop(name, &string(value))
    }

    /// A property of 32-bit cells.
    pub fn cells(&mut self, name: &str, values: &[u32]) -> &mut Self {
        self.prop(name, &cells(values))
    }

    fn pad(&mut self) -> &mut Self {
        while !self.structure.len().is_multiple_of(4) {
            self.structure.push(0);
        }
        self
    }

    /// The blob: header, reservation block, structure block, strings block, in that order.
    pub fn build(&self) -> Vec<u8> {
        let mut reservations: Vec<u8> = Vec::new();
        for (address, size) in self.reservations.iter().copied().chain([(0, 0)]) {
            reservations.extend_from_slice(&u64::to_be_bytes(address));
            reservations.extend_from_slice(&u64::to_be_bytes(size));
        }
        let off_rsvmap = 40;
        let off_struct = off_rsvmap + reservations.len();
        let off_strings = off_struct + self.structure.len();
        let total = off_strings + self.strings.len();
        let header = [
            0xd00d_feed,
            total as u32,
            off_struct as u32,
            off_strings as u32,
            off_rsvmap as u32,
            17,
            16,
            0,
            self.strings.len() as u32,
            self.structure.len() as u32,
        ];
        let mut blob: Vec<u8> = header.iter().flat_map(|w: &u32| w.to_be_bytes()).collect();
        blob.extend_from_slice(&reservations);
        blob.extend_from_slice(&self.structure);
        blob.extend_from_slice(&self.strings);
        blob
    }
}

/// `value` NUL-terminated.
pub fn string(value: &str) -> Vec<u8> {
    let mut bytes = value.as_bytes().to_vec();
    bytes.push(0);
    bytes
}

/// `values` as big-endian cells.
pub fn cells(values: &[u32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_be_bytes()).collect()
}

/// Overwrites header word `index` of `blob`.
pub fn set_header(blob: &mut [u8], index: usize, value: u32) {
    blob[index * 4..index * 4 + 4].copy_from_slice(&value.to_be_bytes());
}

/// Header word `index` of `blob`.
pub fn header(blob: &[u8], index: usize) -> u32 {
    u32::from_be_bytes(blob[index * 4..index * 4 + 4].try_into().unwrap())
}

/// Opens the root with two address and two size cells and QEMU's board `compatible`.
pub fn open_root(fdt: &mut Fdt) -> &mut Fdt {
    fdt.begin("")
        .cells("#address-cells", &[2])
        .cells("#size-cells", &[2])
        .string("compatible", "linux,dummy-virt")
}

/// `memory@40000000`: 128 MiB at 1 GiB.
pub fn memory(fdt: &mut Fdt) -> &mut Fdt {
    fdt.begin("memory@40000000")
        .string("device_type", "memory")
        .cells("reg", &[0, 0x4000_0000, 0, 0x0800_0000])
        .end()
}

/// `pl011@9000000`, as on QEMU `virt`.
pub fn pl011(fdt: &mut Fdt) -> &mut Fdt {
    fdt.begin("pl011@9000000")
        .string("compatible", "arm,pl011\0arm,primecell")
        .cells("reg", &[0, 0x0900_0000, 0, 0x1000])
        .end()
}

/// A complete, valid tree: root, memory, PL011, `/chosen/bootargs = "x"`.
pub fn valid() -> Fdt {
    let mut fdt = Fdt::new();
    open_root(&mut fdt);
    memory(&mut fdt);
    pl011(&mut fdt);
    fdt.begin("chosen").string("bootargs", "x").end();
    fdt.end().finish();
    fdt
}

/// A valid tree whose root holds, after memory and a PL011, whatever `body` adds.
pub fn with_body(body: impl FnOnce(&mut Fdt)) -> Vec<u8> {
    let mut fdt = Fdt::new();
    open_root(&mut fdt);
    memory(&mut fdt);
    pl011(&mut fdt);
    body(&mut fdt);
    fdt.end().finish();
    fdt.build()
}

/// Parses `bytes` and reads the machine out of it, as the boot does. A header error comes back
/// as a [`Failure`] without a console.
pub fn discover(bytes: &[u8]) -> Result<Machine<'_>, Failure<'_>> {
    let blob = Blob::parse(bytes).map_err(|error| Failure {
        error,
        console: None,
        console_kind: UartKind::Pl011,
    })?;
    let mut machine = Machine::new();
    read(&blob, &mut machine)?;
    Ok(machine)
}

/// Like [`discover`], also returning the machine as far as it was read when it fails.
pub fn discover_partly(bytes: &[u8]) -> (Machine<'_>, Result<(), Failure<'_>>) {
    let mut machine = Machine::new();
    let result = match Blob::parse(bytes) {
        Ok(blob) => read(&blob, &mut machine),
        Err(error) => Err(Failure { error, console: None, console_kind: UartKind::Pl011 }),
    };
    (machine, result)
}

/// `ranges` as `(start, end, flag)` triples, for comparing with a literal.
pub fn triples(ranges: &Ranges) -> Vec<(u64, u64, bool)> {
    ranges.iter().map(|(r, flag)| (r.start, r.end, flag)).collect()
}
