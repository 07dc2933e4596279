//! x86 interrupt routing: where the I/O APICs are and which global system interrupt (GSI) each
//! legacy ISA interrupt arrives on, from the ACPI MADT or the MP table.
//!
//! - ACPI ([`read_madt_interrupts`], [`x86_interrupts`]): MADT I/O APIC entries (type 1: id,
//!   address, GSI base) and Interrupt Source Overrides (type 2: bus 0 = ISA, source IRQ, GSI,
//!   MPS INTI flags). On QEMU `q35` the override that matters is ISA IRQ 0 (the PIT) → GSI 2;
//!   IRQs 5, 9, 10 and 11 are level-triggered PCI lines.
//! - MP table ([`mp_interrupts`]): I/O APIC entries (type 2: id, flags, address) and I/O
//!   interrupt assignments (type 3: source bus and IRQ → destination I/O APIC id and pin) for
//!   sources on the bus whose type string is "ISA" (type 1 entries). qboot (QEMU `microvm,
//!   acpi=off`) lists ISA IRQ 0 → pin 2 and 1–15 → the same pin.
//!
//! Both tables use the MPS INTI flags (polarity in bits 0–1, trigger mode in bits 2–3; 0 means
//! "as the bus says", which for ISA is active high, edge): [`IsaRoute`] holds them resolved. An ISA
//! IRQ no entry names keeps the identity route (GSI = IRQ, edge, active high), as both specs say.
//!
//! Weak spots: the MP table gives no GSI bases, so I/O APICs get them in table order assuming 24
//! pins each (every chip QEMU and Firecracker model; Linux reads the chip's pin count instead);
//! destination "all I/O APICs" (0xff) in an MP assignment is read as the first one. At most
//! [`MAX_IO_APICS`] I/O APICs are kept (the rest are counted). Only ISA sources are read: PCI
//! INTx routing is in the DSDT's `_PRT` (AML), which nothing here reads.

use super::{find_table, mp, rsdp_any, u16_at, u32_at, Error, Memory, Result, Signature, Table};

/// I/O APICs kept; more are counted in [`X86Interrupts::io_apics_listed`].
pub const MAX_IO_APICS: usize = 8;
/// ISA interrupt lines (IRQ 0–15).
pub const ISA_IRQS: usize = 16;
/// Pins assumed per I/O APIC when the MP table gives no GSI base.
pub const MP_PINS_PER_IO_APIC: u32 = 24;

/// An I/O APIC as the firmware lists it.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct IoApicEntry {
    /// Its APIC id.
    pub id: u8,
    /// The physical address of its register window (IOREGSEL; IOWIN is 0x10 above).
    pub address: u32,
    /// The GSI of its pin 0.
    pub gsi_base: u32,
}

/// Where an ISA interrupt line arrives, and how its signal looks.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct IsaRoute {
    /// The global system interrupt.
    pub gsi: u32,
    /// Active low (ISA's default is active high).
    pub active_low: bool,
    /// Level-triggered (ISA's default is edge).
    pub level: bool,
}

impl IsaRoute {
    /// ISA IRQ `irq` when no table overrides it: GSI = IRQ, edge, active high.
    pub const fn identity(irq: u8) -> Self {
        Self { gsi: irq as u32, active_low: false, level: false }
    }

    /// The route to `gsi` with MPS INTI `flags`, "conforms to the bus" read as ISA's defaults.
    pub fn with_flags(gsi: u32, flags: u16) -> Self {
        // Polarity 0b11 = active low; trigger mode 0b11 = level (0b01: high / edge, 0: the bus's).
        Self { gsi, active_low: flags & 0b11 == 0b11, level: (flags >> 2) & 0b11 == 0b11 }
    }
}

/// An x86 machine's interrupt routing.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct X86Interrupts {
    /// The I/O APICs, in table order (the first [`MAX_IO_APICS`]).
    pub io_apics: [IoApicEntry; MAX_IO_APICS],
    /// How many I/O APICs the table lists (may exceed [`MAX_IO_APICS`]).
    pub io_apics_listed: usize,
    /// Where each ISA IRQ 0–15 arrives.
    pub isa: [IsaRoute; ISA_IRQS],
}

impl Default for X86Interrupts {
    fn default() -> Self {
        Self {
            io_apics: [IoApicEntry::default(); MAX_IO_APICS],
            io_apics_listed: 0,
            isa: core::array::from_fn(|irq| IsaRoute::identity(irq as u8)),
        }
    }
}

impl X86Interrupts {
    /// The I/O APICs kept.
    pub fn io_apics(&self) -> &[IoApicEntry] {
        &self.io_apics[..self.io_apics_listed.min(MAX_IO_APICS)]
    }

    /// Where ISA IRQ `irq` arrives (`None` beyond 15).
    pub fn isa_route(&self, irq: u8) -> Option<IsaRoute> {
        self.isa.get(usize::from(irq)).copied()
    }

    /// The I/O APIC (kept) whose pins include `gsi`, with the pin, for a chip of `pins` inputs
    /// (24 when unknown).
    pub fn io_apic_for(&self, gsi: u32, pins: u32) -> Option<(IoApicEntry, u32)> {
        self.io_apics().iter().find_map(|apic| {
            let pin = gsi.checked_sub(apic.gsi_base)?;
            (pin < pins).then_some((*apic, pin))
        })
    }

    fn add_io_apic(&mut self, entry: IoApicEntry) {
        if let Some(slot) = self.io_apics.get_mut(self.io_apics_listed) {
            *slot = entry;
        }
        self.io_apics_listed += 1;
    }
}

/// MADT structure types read here (ACPI 6.5 §5.2.12).
mod madt {
    /// I/O APIC: type, length 12, id, reserved, address (u32), GSI base (u32).
    pub const IO_APIC: u8 = 0x01;
    /// Interrupt Source Override: type, length 10, bus (0 = ISA), source, GSI (u32), flags (u16).
    pub const SOURCE_OVERRIDE: u8 = 0x02;
}

/// MADT ("APIC"): the I/O APICs and the ISA interrupt source overrides.
pub fn read_madt_interrupts(madt: &Table<'_>) -> Result<X86Interrupts> {
    let mut found = X86Interrupts::default();
    madt.for_each_madt_entry(|kind, entry| {
        let short = || madt.bad("an interrupt controller entry is shorter than its type needs");
        match kind {
            madt::IO_APIC => {
                let address = u32_at(entry, 4).ok_or_else(short)?;
                let gsi_base = u32_at(entry, 8).ok_or_else(short)?;
                found.add_io_apic(IoApicEntry { id: entry[2], address, gsi_base });
            }
            madt::SOURCE_OVERRIDE => {
                let gsi = u32_at(entry, 4).ok_or_else(short)?;
                let flags = u16_at(entry, 8).ok_or_else(short)?;
                let (bus, source) = (entry[2], entry[3]);
                if bus == 0 {
                    if let Some(route) = found.isa.get_mut(usize::from(source)) {
                        *route = IsaRoute::with_flags(gsi, flags);
                    }
                }
            }
            _ => {}
        }
        Ok(())
    })?;
    Ok(found)
}

/// The interrupt routing of an x86 machine with ACPI: RSDP at `rsdp_address` → RSDT or XSDT →
/// MADT.
pub fn x86_interrupts<'a>(memory: &impl Memory<'a>, rsdp_address: u64) -> Result<X86Interrupts> {
    let root = rsdp_any(memory, rsdp_address)?;
    let madt = find_table(memory, root, *b"APIC")?;
    read_madt_interrupts(&madt)
}

/// MP table entry types read here (MP spec 1.4 §4.3).
const MP_BUS: u8 = 1;
const MP_IO_APIC: u8 = 2;
const MP_INTERRUPT: u8 = 3;
/// I/O APIC entry flags: EN (usable).
const MP_IO_APIC_ENABLED: u8 = 1 << 0;
/// I/O interrupt assignment type INT: a vectored interrupt (not NMI, SMI or ExtINT).
const MP_INT: u8 = 0;

/// The interrupt routing the MP table at `floating` (its floating pointer) gives: enabled I/O
/// APICs (GSI bases in table order, [`MP_PINS_PER_IO_APIC`] each) and the ISA buses' INT
/// assignments.
pub fn mp_interrupts<'a>(memory: &impl Memory<'a>, floating: u64) -> Result<X86Interrupts> {
    let (table, bytes) = mp::configuration(memory, floating)?;
    let mut found = X86Interrupts::default();
    // Pass 1: the ISA buses' ids (a bitmap of bus ids 0–255) and the I/O APICs.
    let mut isa_buses = [false; 256];
    let mut next_base = 0u32;
    mp::for_each_entry(table, bytes, |kind, entry| match kind {
        MP_BUS if entry[2..8].starts_with(b"ISA") => isa_buses[usize::from(entry[1])] = true,
        MP_IO_APIC if entry[3] & MP_IO_APIC_ENABLED != 0 => {
            let address = u32_at(entry, 4).unwrap_or(0);
            found.add_io_apic(IoApicEntry { id: entry[1], address, gsi_base: next_base });
            next_base = next_base.saturating_add(MP_PINS_PER_IO_APIC);
        }
        _ => {}
    })?;
    // Pass 2: assignments of ISA sources (entries may come in any order relative to the buses).
    let apics = found.io_apics;
    let kept = found.io_apics().len();
    let mut unknown_apic = false;
    mp::for_each_entry(table, bytes, |kind, entry| {
        if kind != MP_INTERRUPT || entry[1] != MP_INT || !isa_buses[usize::from(entry[4])] {
            return;
        }
        let flags = u16_at(entry, 2).unwrap_or(0);
        let (source, apic_id, pin) = (entry[5], entry[6], entry[7]);
        let apic = if apic_id == 0xff {
            apics[..kept].first()
        } else {
            apics[..kept].iter().find(|apic| apic.id == apic_id)
        };
        let Some(apic) = apic else {
            unknown_apic = true;
            return;
        };
        if let Some(route) = found.isa.get_mut(usize::from(source)) {
            *route = IsaRoute::with_flags(apic.gsi_base + u32::from(pin), flags);
        }
    })?;
    if unknown_apic && kept == found.io_apics_listed {
        return Err(Error::BadTable {
            signature: Signature(*b"PCMP"),
            address: table,
            problem: "an interrupt assignment names an I/O APIC the table does not list",
        });
    }
    Ok(found)
}
