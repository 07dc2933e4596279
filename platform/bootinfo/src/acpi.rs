//! ACPI tables (ACPI 6.5, chapter 5): from the RSDP to what an arm64 boot needs, checked.
//!
//! UEFI firmware on arm64 servers (AWS Graviton, QEMU `virt` with AAVMF) describes the machine
//! with ACPI instead of a device tree. [`read`] follows RSDP → XSDT → each table, checking every
//! signature, length and checksum, and collects into a [`Machine`]:
//!
//! - SPCR: the serial console (PL011, SBSA generic UART or 16550, in memory space);
//! - MADT: the GIC — distributor, version, redistributor ranges, ITS, CPU interfaces (the first
//!   one's GICv2 base; a MADT without a distributor is an error);
//! - GTDT: the generic timer's interrupts;
//! - FADT: whether PSCI is there and through `hvc` or `smc`;
//! - MCFG: the first PCIe ECAM window, if any.
//!
//! x86 (the PVH boot on q35 and microvm with ACPI) needs only the cores: [`x86_cores`] follows
//! the RSDP (ACPI 1.0 with an RSDT, as QEMU's PC machines build it, or 2.0+ with an XSDT) to the
//! MADT and lists the enabled Processor Local APIC and Local x2APIC entries ([`read_x86_madt`]);
//! [`scan_rsdp`] finds the RSDP in the BIOS area when the loader does not say where it is. Machines
//! without ACPI (QEMU `microvm,acpi=off`, Firecracker) list their cores in the older MP table:
//! [`mp`].
//!
//! Tables lie at physical addresses the firmware names, so the walk asks a [`Memory`] for each
//! byte range; the platform's implementation is the one `unsafe` step, a host test's is a map of
//! byte vectors. Every read is bounds-checked and every failure is an [`Error`] naming the table
//! and the problem: nothing here panics, whatever the tables hold.
//!
//! Why not the `acpi` crate: it reads tables through an `unsafe` handler that maps raw physical
//! memory, so the parsing is not safe code over bytes and cannot run in host tests as this does;
//! its platform summary (`PlatformInfo`: processors, interrupt model) needs `alloc`, which does
//! not exist until the heap is set up from the memory map this boot is still building; and it
//! centres on x86 (APIC, HPET). What an arm64 boot needs is five short tables, checked here over
//! byte slices under the same rules as the device-tree reader (no panic, an error naming the
//! table), with real tables from QEMU as fixtures and a mutation test.
//!
//! Weak spots: only the first of each table is used; DSDT/SSDT (AML) are not read, so devices
//! described only there (most PCIe-less MMIO devices on real servers) are invisible.

mod arm_cores;
mod error;
pub mod mp;
mod x86_irq;

pub use arm_cores::{read_arm_cores, ArmCores};
pub use error::{Error, Result, Signature};
pub use x86_irq::{
    mp_interrupts, read_madt_interrupts, x86_interrupts, IoApicEntry, IsaRoute, X86Interrupts,
    ISA_IRQS, MAX_IO_APICS, MP_PINS_PER_IO_APIC,
};

/// Largest table accepted: 1 MiB, far above any table read here (QEMU's are under 300 bytes).
pub const MAX_TABLE_SIZE: u32 = 1 << 20;
/// Bytes of the common table header ("System Description Table Header", §5.2.6).
pub const HEADER_SIZE: usize = 36;
/// Bytes of an ACPI 2.0+ RSDP (§5.2.5.3).
pub const RSDP_SIZE: usize = 36;
/// Most XSDT entries followed; more is refused rather than truncated.
pub const MAX_TABLES: usize = 64;

/// Physical memory the tables lie in, as the platform can reach it.
pub trait Memory<'a> {
    /// The `len` bytes at physical address `address`, or `None` if they cannot be read.
    fn bytes(&self, address: u64, len: usize) -> Option<&'a [u8]>;
}

/// The console UART the SPCR names.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Console {
    /// SPCR "Interface Type": see the `SPCR_*` constants.
    pub interface_type: u8,
    /// MMIO base address.
    pub base: u64,
    /// The Generic Address Structure's "Access Size": 1 byte, 2 half-word, 3 word, 4 double
    /// word, 0 undefined (legacy: byte accesses).
    pub access_size: u8,
}

/// Which driver a console needs.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum UartKind {
    /// An ARM PL011, or the SBSA generic UART (a PL011 subset).
    Pl011,
    /// A 16550-compatible UART (as on AWS Graviton), registers `1 << register_shift` bytes
    /// apart, accessed with 32-bit loads and stores when the shift is 2.
    Ns16550 {
        /// 0: byte registers, 2: 32-bit registers (Linux's `mmio32`).
        register_shift: u8,
    },
}

impl Console {
    /// The driver this console needs (the interface type was checked by [`read_spcr`]).
    pub fn kind(&self) -> UartKind {
        match self.interface_type {
            SPCR_PL011 | SPCR_SBSA | SPCR_SBSA_2X => UartKind::Pl011,
            // 32-bit access width means 32-bit registers, 4 bytes apart (Linux's SPCR reading).
            _ if self.access_size == 3 => UartKind::Ns16550 { register_shift: 2 },
            _ => UartKind::Ns16550 { register_shift: 0 },
        }
    }
}

/// SPCR interface type of a full 16550.
pub const SPCR_16550: u8 = 0x00;
/// SPCR interface type of a 16550 subset.
pub const SPCR_16550_SUBSET: u8 = 0x01;
/// SPCR interface type of an ARM PL011 UART.
pub const SPCR_PL011: u8 = 0x03;
/// SPCR interface type of the ARM SBSA generic UART, 2.x subset.
pub const SPCR_SBSA_2X: u8 = 0x0d;
/// SPCR interface type of the ARM SBSA generic UART (32-bit accesses).
pub const SPCR_SBSA: u8 = 0x0e;
/// SPCR interface type of a 16550-compatible UART described by the Generic Address Structure.
pub const SPCR_16550_GAS: u8 = 0x12;

/// The GIC the MADT describes.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct Gic {
    /// GICD "GIC version": 1 to 4, or 0 if the firmware leaves it to be read from the hardware.
    pub version: u8,
    /// Distributor base address.
    pub distributor: u64,
    /// The first redistributor discovery range (GICv3+): base and length; `(0, 0)` if none.
    pub redistributors: (u64, u32),
    /// How many redistributor ranges there are.
    pub redistributor_ranges: u32,
    /// The first ITS's base, if there is one.
    pub its: Option<u64>,
    /// CPU interface (GICC) entries that are enabled or online-capable: the usable cores.
    pub cpus: u32,
    /// The first usable GICC entry's Physical Base Address: the GICv2 CPU interface (0 on a
    /// GICv3 used through its system registers).
    pub cpu_interface: u64,
}

/// The generic timer's interrupts, from the GTDT (GSIV and flags: bit 0 edge, bit 1 active low).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct Timer {
    /// Non-secure EL1 physical timer.
    pub physical: (u32, u32),
    /// EL1 virtual timer.
    pub virtual_timer: (u32, u32),
    /// EL2 physical timer.
    pub hypervisor: (u32, u32),
}

/// How PSCI is reached, from the FADT's ARM boot architecture flags.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Psci {
    /// PSCI_USE_HVC: a hypervisor implements PSCI.
    Hvc,
    /// PSCI compliant without PSCI_USE_HVC: EL3 firmware does, through `smc`.
    Smc,
}

/// A PCIe ECAM window from the MCFG.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Ecam {
    /// Base address of the configuration space.
    pub base: u64,
    /// PCI segment group.
    pub segment: u16,
    /// First and last bus decoded.
    pub buses: (u8, u8),
}

/// What the ACPI tables say about the machine.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Machine {
    /// The RSDP's OEM ID (padded with spaces), for messages.
    pub oem: [u8; 6],
    /// The serial console (SPCR).
    pub console: Console,
    /// The GIC (MADT).
    pub gic: Gic,
    /// The timer's interrupts (GTDT), if there is a GTDT.
    pub timer: Option<Timer>,
    /// PSCI (FADT), if the firmware says it is PSCI compliant.
    pub psci: Option<Psci>,
    /// FADT flag HW_REDUCED_ACPI (required on arm64).
    pub hardware_reduced: bool,
    /// The first PCIe ECAM window (MCFG), if any.
    pub ecam: Option<Ecam>,
    /// How many tables the XSDT lists.
    pub tables: usize,
}

/// Little-endian u16 at `at`.
fn u16_at(bytes: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(*bytes.get(at..)?.first_chunk::<2>()?))
}

/// Little-endian u32 at `at`.
fn u32_at(bytes: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(*bytes.get(at..)?.first_chunk::<4>()?))
}

/// Little-endian u64 at `at`.
fn u64_at(bytes: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(*bytes.get(at..)?.first_chunk::<8>()?))
}

/// Whether `bytes` add up to 0 modulo 256, as every ACPI checksum requires.
fn sums_to_zero(bytes: &[u8]) -> bool {
    bytes.iter().fold(0u8, |sum, &b| sum.wrapping_add(b)) == 0
}

/// A checked table: header, length and checksum verified; `bytes` is exactly `Length` long.
#[derive(Clone, Copy, Debug)]
pub struct Table<'a> {
    /// The signature.
    pub signature: Signature,
    /// Where it lies.
    pub address: u64,
    /// All of it, header included.
    pub bytes: &'a [u8],
}

impl<'a> Table<'a> {
    /// The table's revision (header byte 8).
    pub fn revision(&self) -> u8 {
        self.bytes[8]
    }

    /// An error about this table.
    fn bad(&self, problem: &'static str) -> Error {
        Error::BadTable { signature: self.signature, address: self.address, problem }
    }

    /// Calls `visit` with the type and bytes of each MADT interrupt controller structure: from
    /// byte 44, each opening with its type and length. A table too short for the fixed fields,
    /// or an entry whose header or length does not fit, is refused before `visit` sees it.
    fn for_each_madt_entry(&self, mut visit: impl FnMut(u8, &'a [u8]) -> Result<()>) -> Result<()> {
        let mut at = 44;
        if self.bytes.len() < at {
            return Err(self.bad("too short for the MADT's fixed fields"));
        }
        while at < self.bytes.len() {
            let (Some(&kind), Some(&length)) = (self.bytes.get(at), self.bytes.get(at + 1)) else {
                return Err(self.bad("an entry's header runs past the table"));
            };
            let length = length as usize;
            if length < 2 {
                return Err(self.bad("an entry has a length under 2"));
            }
            let entry =
                self.bytes.get(at..at + length).ok_or(self.bad("an entry runs past the table"))?;
            visit(kind, entry)?;
            at += length;
        }
        Ok(())
    }

    /// A `u32` of the body at byte `at`, or the error "too short for `what`".
    fn u32(&self, at: usize, what: &'static str) -> Result<u32> {
        u32_at(self.bytes, at).ok_or(self.bad(what))
    }

    /// A `u64` of the body at byte `at`, or the error `what`.
    fn u64(&self, at: usize, what: &'static str) -> Result<u64> {
        u64_at(self.bytes, at).ok_or(self.bad(what))
    }
}

/// Reads and checks the table at `address`: header, `Length` (36 bytes to [`MAX_TABLE_SIZE`])
/// and checksum.
pub fn table<'a>(memory: &impl Memory<'a>, address: u64) -> Result<Table<'a>> {
    let unreadable = |len: usize| Error::Unreadable { address, len: len as u64 };
    let header = memory.bytes(address, HEADER_SIZE).ok_or(unreadable(HEADER_SIZE))?;
    let mut signature = [0; 4];
    signature.copy_from_slice(&header[..4]);
    let signature = Signature(signature);
    let length = u32_at(header, 4).unwrap_or(0);
    if (length as usize) < HEADER_SIZE {
        return Err(Error::BadTable { signature, address, problem: "Length is under 36 bytes" });
    }
    if length > MAX_TABLE_SIZE {
        return Err(Error::BadTable { signature, address, problem: "Length is over 1 MiB" });
    }
    let bytes = memory.bytes(address, length as usize).ok_or(unreadable(length as usize))?;
    if bytes.len() != length as usize {
        return Err(unreadable(length as usize));
    }
    if !sums_to_zero(bytes) {
        return Err(Error::BadChecksum { signature, address });
    }
    Ok(Table { signature, address, bytes })
}

/// Reads the RSDP at `address` and returns the XSDT's address and the OEM ID.
pub fn rsdp<'a>(memory: &impl Memory<'a>, address: u64) -> Result<(u64, [u8; 6])> {
    let bad = |problem| Error::BadRsdp { address, problem };
    let bytes = memory
        .bytes(address, RSDP_SIZE)
        .ok_or(Error::Unreadable { address, len: RSDP_SIZE as u64 })?;
    if bytes.get(..8) != Some(b"RSD PTR ".as_slice()) {
        return Err(bad("signature is not \"RSD PTR \""));
    }
    if !sums_to_zero(&bytes[..20]) {
        return Err(bad("bad checksum (first 20 bytes)"));
    }
    if bytes[15] < 2 {
        return Err(bad("revision under 2: an ACPI 1.0 RSDP has no XSDT"));
    }
    if u32_at(bytes, 20) != Some(RSDP_SIZE as u32) {
        return Err(bad("Length is not 36"));
    }
    if !sums_to_zero(bytes) {
        return Err(bad("bad extended checksum"));
    }
    let xsdt = u64_at(bytes, 24).unwrap_or(0);
    if xsdt == 0 {
        return Err(bad("no XSDT address"));
    }
    let mut oem = [0; 6];
    oem.copy_from_slice(&bytes[9..15]);
    Ok((xsdt, oem))
}

/// The root table an RSDP names: the RSDT (ACPI 1.0, 32-bit entries) or the XSDT (64-bit).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Root {
    /// The root table's physical address.
    pub address: u64,
    /// Whether it is an XSDT (8-byte entries) rather than an RSDT (4-byte entries).
    pub extended: bool,
    /// The RSDP's OEM ID.
    pub oem: [u8; 6],
}

/// Bytes of an ACPI 1.0 RSDP (§5.2.5.3: the fields up to the RSDT address).
pub const RSDP_V1_SIZE: usize = 20;

/// Reads the RSDP at `address` in either revision: an XSDT where there is one (revision 2+ with
/// a non-zero XSDT address), else the RSDT.
pub fn rsdp_any<'a>(memory: &impl Memory<'a>, address: u64) -> Result<Root> {
    let bad = |problem| Error::BadRsdp { address, problem };
    let bytes = memory
        .bytes(address, RSDP_V1_SIZE)
        .ok_or(Error::Unreadable { address, len: RSDP_V1_SIZE as u64 })?;
    if bytes.get(..8) != Some(b"RSD PTR ".as_slice()) {
        return Err(bad("signature is not \"RSD PTR \""));
    }
    if !sums_to_zero(bytes) {
        return Err(bad("bad checksum (first 20 bytes)"));
    }
    let mut oem = [0; 6];
    oem.copy_from_slice(&bytes[9..15]);
    if bytes[15] >= 2 {
        let (xsdt, oem) = rsdp(memory, address)?;
        return Ok(Root { address: xsdt, extended: true, oem });
    }
    let rsdt = u64::from(u32_at(bytes, 16).unwrap_or(0));
    if rsdt == 0 {
        return Err(bad("no RSDT address"));
    }
    Ok(Root { address: rsdt, extended: false, oem })
}

/// Finds the first table whose signature is `signature` among those the root table lists.
pub fn find_table<'a>(
    memory: &impl Memory<'a>,
    root: Root,
    signature: [u8; 4],
) -> Result<Table<'a>> {
    let root_table = table(memory, root.address)?;
    let (expected, width) = if root.extended { (b"XSDT", 8) } else { (b"RSDT", 4) };
    if &root_table.signature.0 != expected {
        return Err(root_table.bad("the RSDP's root table address holds another table"));
    }
    let entries = &root_table.bytes[HEADER_SIZE..];
    if !entries.len().is_multiple_of(width) {
        return Err(root_table.bad("Length leaves a partial entry"));
    }
    if entries.len() / width > MAX_TABLES {
        return Err(root_table.bad("more than 64 entries"));
    }
    for entry in entries.chunks_exact(width) {
        let address = if width == 8 {
            u64_at(entry, 0).unwrap_or(0)
        } else {
            u64::from(u32_at(entry, 0).unwrap_or(0))
        };
        // Only the signature is needed to skip a table: a broken table the boot does not use
        // must not stop it.
        let Some(header) = memory.bytes(address, 4) else { continue };
        if header == signature.as_slice() {
            return table(memory, address);
        }
    }
    Err(Error::Missing(Signature(signature)))
}

/// Where [`scan_rsdp`] looks on a PC: the BIOS read-only area, 0xE0000–0xFFFFF.
pub const BIOS_AREA: core::ops::Range<u64> = 0xe_0000..0x10_0000;

/// Finds an RSDP in `area` (the bytes at physical address `base`): "RSD PTR " on a 16-byte
/// boundary whose first 20 bytes sum to zero. Returns its physical address.
pub fn scan_rsdp(area: &[u8], base: u64) -> Option<u64> {
    (0..area.len()).step_by(16).find_map(|at| {
        let candidate = area.get(at..at + RSDP_V1_SIZE)?;
        (candidate.starts_with(b"RSD PTR ") && sums_to_zero(candidate)).then_some(base + at as u64)
    })
}

/// The cores an x86 MADT lists.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct X86Cores<const N: usize> {
    /// The APIC ids of the enabled cores, in table order; only the first `N` are kept.
    pub apic_ids: [u32; N],
    /// How many enabled cores the table lists (may exceed `N`: the rest are dropped).
    pub count: usize,
    /// The MADT's Local Interrupt Controller Address: the xAPIC page.
    pub local_apic: u32,
}

impl<const N: usize> X86Cores<N> {
    /// The APIC ids kept.
    pub fn ids(&self) -> &[u32] {
        &self.apic_ids[..self.count.min(N)]
    }
}

/// MADT interrupt controller structure types for x86 cores.
mod x86_madt {
    /// Processor Local APIC: type, length 8, ACPI processor UID (u8), APIC id (u8), flags (u32).
    pub const LOCAL_APIC: u8 = 0x00;
    /// Processor Local x2APIC: type, length 16, reserved (u16), x2APIC id (u32), flags (u32),
    /// ACPI processor UID (u32).
    pub const LOCAL_X2APIC: u8 = 0x09;
    /// Local APIC flags: Enabled. (Online Capable, bit 1, means "may be enabled later": not a
    /// core that can be started now.)
    pub const ENABLED: u32 = 1 << 0;
}

/// MADT ("APIC", §5.2.12) on x86: the enabled cores' APIC ids, in table order, a core listed
/// twice (as Local APIC and Local x2APIC) counted once.
pub fn read_x86_madt<const N: usize>(madt: &Table<'_>) -> Result<X86Cores<N>> {
    let local_apic = madt.u32(36, "too short for the MADT's fixed fields")?;
    let mut cores = X86Cores { apic_ids: [0; N], count: 0, local_apic };
    madt.for_each_madt_entry(|kind, entry| {
        let short = || madt.bad("an interrupt controller entry is shorter than its type needs");
        let core = match kind {
            x86_madt::LOCAL_APIC => {
                let flags = u32_at(entry, 4).ok_or_else(short)?;
                Some((u32::from(entry[3]), flags))
            }
            x86_madt::LOCAL_X2APIC => {
                let id = u32_at(entry, 4).ok_or_else(short)?;
                let flags = u32_at(entry, 8).ok_or_else(short)?;
                Some((id, flags))
            }
            _ => None,
        };
        if let Some((id, flags)) = core {
            let seen = cores.ids().contains(&id);
            if flags & x86_madt::ENABLED != 0 && !seen {
                if let Some(slot) = cores.apic_ids.get_mut(cores.count) {
                    *slot = id;
                }
                cores.count += 1;
            }
        }
        Ok(())
    })?;
    Ok(cores)
}

/// The cores of an x86 machine: RSDP at `rsdp_address` → RSDT or XSDT → MADT.
pub fn x86_cores<'a, const N: usize>(
    memory: &impl Memory<'a>,
    rsdp_address: u64,
) -> Result<X86Cores<N>> {
    let root = rsdp_any(memory, rsdp_address)?;
    let madt = find_table(memory, root, *b"APIC")?;
    read_x86_madt(&madt)
}

/// Reads every table the RSDP at `rsdp_address` leads to and collects what the boot needs.
///
/// SPCR, MADT and FADT are required (a console, a GIC and a way to power off); GTDT and MCFG
/// are recorded when present.
pub fn read<'a>(memory: &impl Memory<'a>, rsdp_address: u64) -> Result<Machine> {
    let (xsdt_address, oem) = rsdp(memory, rsdp_address)?;
    let xsdt = table(memory, xsdt_address)?;
    if &xsdt.signature.0 != b"XSDT" {
        return Err(xsdt.bad("the RSDP's XSDT address holds another table"));
    }
    let entries = &xsdt.bytes[HEADER_SIZE..];
    if !entries.len().is_multiple_of(8) {
        return Err(xsdt.bad("Length leaves a partial 8-byte entry"));
    }
    let tables = entries.len() / 8;
    if tables > MAX_TABLES {
        return Err(xsdt.bad("more than 64 entries"));
    }
    let (mut spcr, mut madt, mut gtdt, mut fadt, mut mcfg) = (None, None, None, None, None);
    for entry in entries.chunks_exact(8) {
        let address = u64_at(entry, 0).unwrap_or(0);
        let table = table(memory, address)?;
        let slot = match &table.signature.0 {
            b"SPCR" => &mut spcr,
            b"APIC" => &mut madt,
            b"GTDT" => &mut gtdt,
            b"FACP" => &mut fadt,
            b"MCFG" => &mut mcfg,
            _ => continue,
        };
        if slot.is_none() {
            *slot = Some(table);
        }
    }
    let spcr = spcr.ok_or(Error::Missing(Signature(*b"SPCR")))?;
    let madt = madt.ok_or(Error::Missing(Signature(*b"APIC")))?;
    let fadt = fadt.ok_or(Error::Missing(Signature(*b"FACP")))?;
    let (psci, hardware_reduced) = read_fadt(&fadt)?;
    Ok(Machine {
        oem,
        console: read_spcr(&spcr)?,
        gic: read_madt(&madt)?,
        timer: gtdt.map(|t| read_gtdt(&t)).transpose()?,
        psci,
        hardware_reduced,
        ecam: mcfg.map(|t| read_mcfg(&t)).transpose()?,
        tables,
    })
}

/// SPCR (Microsoft "Serial Port Console Redirection Table", revision 2+): the console UART.
pub fn read_spcr(spcr: &Table<'_>) -> Result<Console> {
    let interface_type = *spcr.bytes.get(36).ok_or(spcr.bad("too short for Interface Type"))?;
    // Base Address: a Generic Address Structure (§5.2.3.2) at 40: space, width, offset, access
    // size, address.
    let address_space = *spcr.bytes.get(40).ok_or(spcr.bad("too short for Base Address"))?;
    let access_size = *spcr.bytes.get(43).ok_or(spcr.bad("too short for Base Address"))?;
    let base = spcr.u64(44, "too short for Base Address")?;
    let supported = matches!(
        interface_type,
        SPCR_PL011 | SPCR_SBSA | SPCR_SBSA_2X | SPCR_16550 | SPCR_16550_SUBSET | SPCR_16550_GAS
    );
    if !supported || address_space != 0 {
        return Err(Error::UnsupportedConsole { interface_type, address_space });
    }
    if base == 0 {
        return Err(spcr.bad("Base Address is 0"));
    }
    Ok(Console { interface_type, base, access_size })
}

/// MADT interrupt controller structure types (§5.2.12, Table 5.21).
mod madt {
    pub const GICC: u8 = 0x0b;
    pub const GICD: u8 = 0x0c;
    pub const GICR: u8 = 0x0e;
    pub const ITS: u8 = 0x0f;
}

/// MADT ("APIC", §5.2.12): the GIC. Entries start at byte 44; each begins with type and length.
pub fn read_madt(madt: &Table<'_>) -> Result<Gic> {
    let mut gic = Gic::default();
    let mut distributor = false;
    madt.for_each_madt_entry(|kind, entry| {
        let short = || madt.bad("an interrupt controller entry is shorter than its type needs");
        match kind {
            madt::GICC => {
                let flags = u32_at(entry, 12).ok_or_else(short)?;
                // Enabled (bit 0) or Online Capable (bit 3): a core that can run.
                if flags & 0b1001 != 0 {
                    if gic.cpus == 0 {
                        gic.cpu_interface = u64_at(entry, 32).ok_or_else(short)?;
                    }
                    gic.cpus = gic.cpus.saturating_add(1);
                }
            }
            madt::GICD => {
                if entry.len() < 24 {
                    return Err(short());
                }
                if !distributor {
                    gic.distributor = u64_at(entry, 8).ok_or_else(short)?;
                    gic.version = entry[20];
                    distributor = true;
                }
            }
            madt::GICR => {
                let base = u64_at(entry, 4).ok_or_else(short)?;
                let length = u32_at(entry, 12).ok_or_else(short)?;
                if gic.redistributor_ranges == 0 {
                    gic.redistributors = (base, length);
                }
                gic.redistributor_ranges = gic.redistributor_ranges.saturating_add(1);
            }
            madt::ITS => {
                let base = u64_at(entry, 8).ok_or_else(short)?;
                gic.its.get_or_insert(base);
            }
            _ => {}
        }
        Ok(())
    })?;
    if !distributor {
        return Err(Error::NoGic);
    }
    if gic.version > 4 {
        return Err(madt.bad("GIC distributor version is over 4"));
    }
    Ok(gic)
}

/// GTDT (§5.2.25): the generic timer's interrupts (GSIV, flags) for the non-secure EL1
/// physical, EL1 virtual and EL2 timers.
pub fn read_gtdt(gtdt: &Table<'_>) -> Result<Timer> {
    let short = "too short for the timer interrupts";
    Ok(Timer {
        physical: (gtdt.u32(56, short)?, gtdt.u32(60, short)?),
        virtual_timer: (gtdt.u32(64, short)?, gtdt.u32(68, short)?),
        hypervisor: (gtdt.u32(72, short)?, gtdt.u32(76, short)?),
    })
}

/// FADT ("FACP", §5.2.9): PSCI and the hardware-reduced flag. ARM_BOOT_ARCH (ACPI 5.1+) is the
/// 16-bit field at byte 129: bit 0 PSCI_COMPLIANT, bit 1 PSCI_USE_HVC.
pub fn read_fadt(fadt: &Table<'_>) -> Result<(Option<Psci>, bool)> {
    let flags = fadt.u32(112, "too short for Flags")?;
    let boot = u16_at(fadt.bytes, 129).ok_or(fadt.bad("too short for ARM_BOOT_ARCH"))?;
    let psci = match (boot & 1 != 0, boot & 2 != 0) {
        (false, _) => None,
        (true, true) => Some(Psci::Hvc),
        (true, false) => Some(Psci::Smc),
    };
    Ok((psci, flags & (1 << 20) != 0))
}

/// MCFG (PCI Firmware Specification 3.2, §4.1.2): the first ECAM window. Entries (16 bytes)
/// start at byte 44.
pub fn read_mcfg(mcfg: &Table<'_>) -> Result<Ecam> {
    let entry = mcfg.bytes.get(44..60).ok_or(mcfg.bad("no configuration space entry"))?;
    let base = u64_at(entry, 0).unwrap_or(0);
    let segment = u16_at(entry, 8).unwrap_or(0);
    let buses = (entry[10], entry[11]);
    if buses.1 < buses.0 {
        return Err(mcfg.bad("end bus is below start bus"));
    }
    Ok(Ecam { base, segment, buses })
}
