//! The ACPI reader against QEMU's real tables (as AAVMF hands them over) and broken ones: bad
//! checksums, truncated and unreadable tables, a MADT without a GIC, an unsupported console —
//! each a clear error, and 20,000 mutations that must never panic.

use rivet_bootinfo::acpi::{
    self, Console, Ecam, Error, Gic, Psci, Signature, Timer, UartKind, SPCR_16550_GAS, SPCR_PL011,
};

mod common;

use common::acpi_memory::FakeMemory;

const VIRT: &str = include_str!("fixtures/acpi/qemu-virt-aavmf.hex");
const VIRT_GICV3_EL2: &str = include_str!("fixtures/acpi/qemu-virt-gicv3-el2-aavmf.hex");

fn read(memory: &FakeMemory, rsdp: u64) -> acpi::Result<acpi::Machine> {
    acpi::read(&memory, rsdp)
}

// --- Real tables --------------------------------------------------------------------------------

#[test]
fn qemu_virt_tables_are_read() {
    let (memory, rsdp) = FakeMemory::fixture(VIRT);
    let machine = read(&memory, rsdp).unwrap();
    assert_eq!(&machine.oem, b"BOCHS ");
    assert_eq!(
        machine.console,
        Console { interface_type: SPCR_PL011, base: 0x0900_0000, access_size: 3 }
    );
    assert_eq!(machine.console.kind(), UartKind::Pl011);
    assert_eq!(machine.gic.version, 2);
    assert_eq!(machine.gic.distributor, 0x0800_0000);
    assert_eq!(machine.gic.cpus, 1);
    assert_eq!(machine.gic.cpu_interface, 0x0801_0000);
    assert_eq!(machine.gic.its, None);
    // QEMU virt without EL2: PSCI through the hypervisor call.
    assert_eq!(machine.psci, Some(Psci::Hvc));
    assert!(machine.hardware_reduced);
    assert_eq!(
        machine.timer,
        // QEMU flags only the EL1 physical timer (bit 2, always-on).
        Some(Timer { physical: (30, 4), virtual_timer: (27, 0), hypervisor: (26, 0) })
    );
    assert_eq!(machine.ecam, Some(Ecam { base: 0x40_1000_0000, segment: 0, buses: (0, 0xff) }));
    assert_eq!(machine.tables, 8);
}

#[test]
fn qemu_virt_gicv3_at_el2_tables_are_read() {
    let (memory, rsdp) = FakeMemory::fixture(VIRT_GICV3_EL2);
    let machine = read(&memory, rsdp).unwrap();
    assert_eq!(
        machine.gic,
        Gic {
            version: 3,
            distributor: 0x0800_0000,
            redistributors: (0x080a_0000, 0x00f6_0000),
            redistributor_ranges: 1,
            its: Some(0x0808_0000),
            cpus: 1,
            cpu_interface: 0,
        }
    );
    // With EL2 (virtualization=on) QEMU's PSCI is EL3's: smc.
    assert_eq!(machine.psci, Some(Psci::Smc));
}

// --- Broken tables ------------------------------------------------------------------------------

fn virt() -> (FakeMemory, u64) {
    FakeMemory::fixture(VIRT)
}

#[test]
fn bad_rsdps_are_refused() {
    let (memory, rsdp) = virt();
    let bad = |problem| Error::BadRsdp { address: rsdp, problem };

    let mut m = memory.clone();
    m.regions.get_mut(&rsdp).unwrap()[0] = b'X';
    assert_eq!(read(&m, rsdp), Err(bad("signature is not \"RSD PTR \"")));

    let mut m = memory.clone();
    m.regions.get_mut(&rsdp).unwrap()[8] ^= 1;
    assert_eq!(read(&m, rsdp), Err(bad("bad checksum (first 20 bytes)")));

    let mut m = memory.clone();
    m.regions.get_mut(&rsdp).unwrap()[32] ^= 1;
    assert_eq!(read(&m, rsdp), Err(bad("bad extended checksum")));

    // ACPI 1.0: revision 0 (checksum kept right by moving the difference into byte 8).
    let mut m = memory.clone();
    let r = m.regions.get_mut(&rsdp).unwrap();
    let old = r[15];
    r[15] = 0;
    r[8] = r[8].wrapping_add(old);
    assert_eq!(read(&m, rsdp), Err(bad("revision under 2: an ACPI 1.0 RSDP has no XSDT")));

    // Truncated: only 20 bytes readable.
    let mut m = memory.clone();
    m.regions.get_mut(&rsdp).unwrap().truncate(20);
    assert_eq!(read(&m, rsdp), Err(Error::Unreadable { address: rsdp, len: 36 }));

    assert_eq!(read(&memory, 0x1234), Err(Error::Unreadable { address: 0x1234, len: 36 }));
}

#[test]
fn bad_checksums_name_the_table() {
    for signature in [b"XSDT", b"APIC", b"SPCR", b"GTDT", b"FACP", b"MCFG", b"DBG2"] {
        let (mut memory, rsdp) = virt();
        let (address, bytes) = memory.region_mut(signature);
        bytes[20] ^= 0x40;
        assert_eq!(
            read(&memory, rsdp),
            Err(Error::BadChecksum { signature: Signature(*signature), address }),
            "{}",
            Signature(*signature)
        );
    }
}

#[test]
fn truncated_tables_are_unreadable_not_overread() {
    let (mut memory, rsdp) = virt();
    let (address, bytes) = memory.region_mut(b"APIC");
    let length = bytes.len() as u64;
    bytes.truncate(100);
    assert_eq!(read(&memory, rsdp), Err(Error::Unreadable { address, len: length }));

    // A header cut short.
    let (mut memory, rsdp) = virt();
    let (address, bytes) = memory.region_mut(b"SPCR");
    bytes.truncate(20);
    assert_eq!(read(&memory, rsdp), Err(Error::Unreadable { address, len: 36 }));
}

#[test]
fn impossible_lengths_are_refused() {
    for (length, problem) in
        [(35u32, "Length is under 36 bytes"), (0x0200_0000, "Length is over 1 MiB")]
    {
        let (mut memory, rsdp) = virt();
        let (address, bytes) = memory.region_mut(b"GTDT");
        bytes[4..8].copy_from_slice(&length.to_le_bytes());
        assert_eq!(
            read(&memory, rsdp),
            Err(Error::BadTable { signature: Signature(*b"GTDT"), address, problem })
        );
    }
}

#[test]
fn an_xsdt_with_a_partial_entry_is_refused() {
    let (mut memory, rsdp) = virt();
    let (address, bytes) = memory.region_mut(b"XSDT");
    let length = bytes.len() as u32 - 4;
    bytes[4..8].copy_from_slice(&length.to_le_bytes());
    memory.fix_checksum(b"XSDT");
    assert_eq!(
        read(&memory, rsdp),
        Err(Error::BadTable {
            signature: Signature(*b"XSDT"),
            address,
            problem: "Length leaves a partial 8-byte entry"
        })
    );
}

/// Replaces the MADT's entries after the fixed fields with `entries`.
fn with_madt_entries(entries: &[u8]) -> (FakeMemory, u64, u64) {
    let (mut memory, rsdp) = virt();
    let (address, bytes) = memory.region_mut(b"APIC");
    bytes.truncate(44);
    bytes.extend_from_slice(entries);
    let length = bytes.len() as u32;
    bytes[4..8].copy_from_slice(&length.to_le_bytes());
    memory.fix_checksum(b"APIC");
    (memory, rsdp, address)
}

#[test]
fn a_madt_without_a_gic_is_an_error() {
    // Only a GICC (CPU interface), no distributor.
    let mut gicc = vec![0x0b, 80];
    gicc.resize(80, 0);
    gicc[12] = 1;
    let (memory, rsdp, _) = with_madt_entries(&gicc);
    assert_eq!(read(&memory, rsdp), Err(Error::NoGic));
    // No entries at all.
    let (memory, rsdp, _) = with_madt_entries(&[]);
    assert_eq!(read(&memory, rsdp), Err(Error::NoGic));
    assert_eq!(Error::NoGic.to_string(), "acpi: the MADT describes no GIC distributor");
}

#[test]
fn broken_madt_entries_are_refused() {
    let cases: [(&[u8], &str); 4] = [
        (&[0x0c, 0], "an entry has a length under 2"),
        (&[0x0c], "an entry's header runs past the table"),
        (&[0x0c, 24, 0, 0], "an entry runs past the table"),
        (
            &[0x0c, 8, 0, 0, 0, 0, 0, 0],
            "an interrupt controller entry is shorter than its type needs",
        ),
    ];
    for (entries, problem) in cases {
        let (memory, rsdp, address) = with_madt_entries(entries);
        assert_eq!(
            read(&memory, rsdp),
            Err(Error::BadTable { signature: Signature(*b"APIC"), address, problem }),
            "{problem}"
        );
    }
}

#[test]
fn a_16550_console_is_read() {
    // As on AWS Graviton: a 16550-compatible UART with 32-bit registers.
    let (mut memory, rsdp) = virt();
    memory.region_mut(b"SPCR").1[36] = SPCR_16550_GAS;
    memory.fix_checksum(b"SPCR");
    let console = read(&memory, rsdp).unwrap().console;
    assert_eq!(console.kind(), UartKind::Ns16550 { register_shift: 2 });
    // Byte accesses: registers one byte apart.
    memory.region_mut(b"SPCR").1[43] = 1;
    memory.fix_checksum(b"SPCR");
    let console = read(&memory, rsdp).unwrap().console;
    assert_eq!(console.kind(), UartKind::Ns16550 { register_shift: 0 });
}

#[test]
fn unsupported_consoles_are_refused() {
    // A MAX311xE SPI UART (type 0x02), and a 16550 in I/O space (address space 1).
    for (offset, value, interface_type, address_space) in [(36, 0x02, 0x02, 0), (40, 1, 0x03, 1)] {
        let (mut memory, rsdp) = virt();
        memory.region_mut(b"SPCR").1[offset] = value;
        memory.fix_checksum(b"SPCR");
        assert_eq!(
            read(&memory, rsdp),
            Err(Error::UnsupportedConsole { interface_type, address_space })
        );
    }
    assert_eq!(
        Error::UnsupportedConsole { interface_type: 2, address_space: 0 }.to_string(),
        "acpi: SPCR console type 0x02 in address space 0 is not supported (PL011, SBSA UART or \
         16550, in memory space only)"
    );
}

#[test]
fn missing_tables_are_named() {
    // Point the XSDT's SPCR entry at the DBG2 table: no SPCR left.
    let (mut memory, rsdp) = virt();
    let (dbg2, _) = memory.region_mut(b"DBG2");
    let (spcr, _) = memory.region_mut(b"SPCR");
    let (_, xsdt) = memory.region_mut(b"XSDT");
    for entry in xsdt[36..].chunks_exact_mut(8) {
        if entry == spcr.to_le_bytes() {
            entry.copy_from_slice(&dbg2.to_le_bytes());
        }
    }
    memory.fix_checksum(b"XSDT");
    let error = read(&memory, rsdp).unwrap_err();
    assert_eq!(error, Error::Missing(Signature(*b"SPCR")));
    assert_eq!(error.to_string(), "acpi: no SPCR table");
}

#[test]
fn a_short_fadt_is_refused() {
    let (mut memory, rsdp) = virt();
    let (address, bytes) = memory.region_mut(b"FACP");
    bytes.truncate(116);
    bytes[4..8].copy_from_slice(&116u32.to_le_bytes());
    memory.fix_checksum(b"FACP");
    assert_eq!(
        read(&memory, rsdp),
        Err(Error::BadTable {
            signature: Signature(*b"FACP"),
            address,
            problem: "too short for ARM_BOOT_ARCH"
        })
    );
}

#[test]
fn signatures_print_unprintable_bytes_escaped() {
    assert_eq!(Signature(*b"AP\x00C").to_string(), "AP\\x00C");
}

/// Random byte flips in every table, with checksums fixed half of the time so the parsers past
/// the checksum see the damage: an error or a machine, never a panic.
#[test]
fn mutations_never_panic() {
    let (memory, rsdp) = virt();
    let addresses: Vec<u64> = memory.regions.keys().copied().collect();
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for round in 0..20_000 {
        let mut m = memory.clone();
        let address = addresses[next() as usize % addresses.len()];
        let bytes = m.regions.get_mut(&address).unwrap();
        for _ in 0..1 + next() % 4 {
            let at = next() as usize % bytes.len();
            bytes[at] = next() as u8;
        }
        if round % 2 == 0 && address != rsdp {
            let signature: [u8; 4] = bytes[..4].try_into().unwrap();
            if m.regions.values().filter(|b| b.get(..4) == Some(signature.as_slice())).count() == 1
            {
                m.fix_checksum(&signature);
            }
        }
        let _ = read(&m, rsdp);
    }
}
