//! x86 interrupt routing against QEMU's real tables: q35's MADT as SeaBIOS builds it (one I/O
//! APIC, ISA IRQ 0 → GSI 2, PCI lines level-triggered), the MP tables of SeaBIOS and of qboot
//! (`microvm,acpi=off`), and broken ones refused, never panicked on.

use rivet_bootinfo::acpi::{self, Error, IoApicEntry, IsaRoute, Signature};

mod common;

use common::acpi_memory::{checksum, FakeMemory};

const Q35: &str = include_str!("fixtures/acpi/qemu-q35-seabios.hex");
const Q35_MP: &str = include_str!("fixtures/acpi/qemu-q35-seabios-mp.hex");
const MICROVM_MP: &str = include_str!("fixtures/acpi/qemu-microvm-qboot-mp.hex");

const QEMU_IO_APIC: u32 = 0xfec0_0000;

/// ISA IRQ 0 on GSI 2, edge, active high; the rest where they are.
fn assert_pc_isa_routes(found: &acpi::X86Interrupts, level: &[u8]) {
    assert_eq!(found.isa_route(0), Some(IsaRoute { gsi: 2, active_low: false, level: false }));
    for irq in 1..16u8 {
        let route = found.isa_route(irq).unwrap();
        assert_eq!(route.gsi, u32::from(irq), "irq {irq}");
        assert!(!route.active_low, "irq {irq}");
        assert_eq!(route.level, level.contains(&irq), "irq {irq}");
    }
    assert_eq!(found.isa_route(16), None);
}

#[test]
fn q35_madt_lists_the_io_apic_and_the_overrides() {
    let (memory, rsdp) = FakeMemory::fixture(Q35);
    let found = acpi::x86_interrupts(&&memory, rsdp).unwrap();
    assert_eq!(found.io_apics(), [IoApicEntry { id: 0, address: QEMU_IO_APIC, gsi_base: 0 }]);
    // SeaBIOS overrides IRQ 0 (→ GSI 2) and marks the PCI link IRQs 5, 9, 10, 11 level, high.
    assert_pc_isa_routes(&found, &[5, 9, 10, 11]);
    assert_eq!(found.io_apic_for(2, 24), Some((found.io_apics[0], 2)));
    assert_eq!(found.io_apic_for(24, 24), None);
}

#[test]
fn q35_mp_table_agrees_with_its_madt() {
    let (memory, floating) = FakeMemory::fixture(Q35_MP);
    let found = acpi::mp_interrupts(&&memory, floating).unwrap();
    assert_eq!(found.io_apics(), [IoApicEntry { id: 0, address: QEMU_IO_APIC, gsi_base: 0 }]);
    // SeaBIOS's MP table lists ISA IRQs with "conforms" flags: edge, active high, IRQ 0 on pin 2.
    assert_pc_isa_routes(&found, &[]);
}

#[test]
fn qboot_mp_table_routes_irq_0_to_pin_2() {
    let (memory, floating) = FakeMemory::fixture(MICROVM_MP);
    let found = acpi::mp_interrupts(&&memory, floating).unwrap();
    // qboot gives the I/O APIC an id past the cores' (3 under -smp 2).
    assert_eq!(found.io_apics(), [IoApicEntry { id: 3, address: QEMU_IO_APIC, gsi_base: 0 }]);
    assert_pc_isa_routes(&found, &[]);
    // The core list from the same table still reads (the entry walk is shared).
    assert_eq!(acpi::mp::cores::<4>(&&memory, floating).unwrap().ids(), [0, 1]);
}

/// Builds a MADT from q35's with `entries` appended (and the checksum fixed).
fn q35_with(entries: &[&[u8]]) -> (FakeMemory, u64) {
    let (mut memory, rsdp) = FakeMemory::fixture(Q35);
    let (_, madt) = memory.region_mut(b"APIC");
    for entry in entries {
        madt.extend_from_slice(entry);
    }
    let length = madt.len() as u32;
    madt[4..8].copy_from_slice(&length.to_le_bytes());
    checksum(madt, 9);
    (memory, rsdp)
}

#[test]
fn more_io_apics_and_active_low_overrides() {
    // A second I/O APIC (id 1 at 0xfec01000, GSIs 24+) and IRQ 9 → GSI 20, level, active low.
    let second: &[u8] = &[1, 12, 1, 0, 0x00, 0x10, 0xc0, 0xfe, 24, 0, 0, 0];
    let sci: &[u8] = &[2, 10, 0, 9, 20, 0, 0, 0, 0x0f, 0];
    let not_isa: &[u8] = &[2, 10, 1, 4, 30, 0, 0, 0, 0x0f, 0];
    let (memory, rsdp) = q35_with(&[second, sci, not_isa]);
    let found = acpi::x86_interrupts(&&memory, rsdp).unwrap();
    assert_eq!(found.io_apics().len(), 2);
    assert_eq!(found.io_apics[1], IoApicEntry { id: 1, address: 0xfec0_1000, gsi_base: 24 });
    assert_eq!(found.isa_route(9), Some(IsaRoute { gsi: 20, active_low: true, level: true }));
    assert_eq!(found.isa_route(4), Some(IsaRoute::identity(4)), "a bus-1 override is not ISA");
    assert_eq!(found.io_apic_for(30, 24), Some((found.io_apics[1], 6)));
}

#[test]
fn short_madt_entries_are_refused() {
    let short_io_apic: &[u8] = &[1, 8, 1, 0, 0, 0, 0xc0, 0xfe];
    let (memory, rsdp) = q35_with(&[short_io_apic]);
    assert!(matches!(
        acpi::x86_interrupts(&&memory, rsdp),
        Err(Error::BadTable { signature: Signature(s), .. }) if &s == b"APIC"
    ));
    let short_override: &[u8] = &[2, 6, 0, 0, 2, 0];
    let (memory, rsdp) = q35_with(&[short_override]);
    assert!(acpi::x86_interrupts(&&memory, rsdp).is_err());
}

#[test]
fn an_assignment_to_an_unlisted_io_apic_is_refused() {
    let (mut memory, floating) = FakeMemory::fixture(MICROVM_MP);
    let (_, table) = memory.region_mut(b"PCMP");
    // The I/O APIC entry is the first type-2 entry after two processors (20 bytes each) and
    // the bus entry (8): give it another id, so the assignments name an unknown chip.
    let at = 44 + 20 + 20 + 8;
    assert_eq!(table[at], 2);
    table[at + 1] = 9;
    checksum(table, 7);
    let error = acpi::mp_interrupts(&&memory, floating).unwrap_err();
    assert!(
        matches!(error, Error::BadTable { problem, .. } if problem.contains("I/O APIC")),
        "{error:?}"
    );
}

#[test]
fn mutations_never_panic() {
    for (fixture, signature) in [(Q35, b"APIC"), (MICROVM_MP, b"PCMP"), (Q35_MP, b"PCMP")] {
        let (memory, start) = FakeMemory::fixture(fixture);
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..5000 {
            let mut mutated = memory.clone();
            let (_, bytes) = mutated.region_mut(signature);
            for _ in 0..3 {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                let at = (seed % bytes.len() as u64) as usize;
                bytes[at] = (seed >> 32) as u8;
            }
            // ACPI tables carry their checksum at byte 9, the MP configuration table at byte 7.
            checksum(bytes, if signature == b"APIC" { 9 } else { 7 });
            if signature == b"APIC" {
                let _ = acpi::x86_interrupts(&&mutated, start);
            } else {
                let _ = acpi::mp_interrupts(&&mutated, start);
            }
        }
    }
}
