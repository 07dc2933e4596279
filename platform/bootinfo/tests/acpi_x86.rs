//! The x86 side of the ACPI reader: RSDP (ACPI 1.0 with an RSDT, 2.0+ with an XSDT) → MADT →
//! the enabled cores' APIC ids, the BIOS-area RSDP scan, and broken tables refused, not panicked
//! on. Tables are built here, laid out as QEMU's `q35` (RSDT) and `microvm,acpi=on` (XSDT) build
//! them.

use rivet_bootinfo::acpi::{self, Error, Root, Signature};

mod common;

use common::acpi_memory::{checksum, FakeMemory};

/// A table: header (signature, length, revision 1, checksum, OEM "BOCHS ") and `body`.
fn table(signature: &[u8; 4], body: &[u8]) -> Vec<u8> {
    let mut bytes = Vec::new();
    bytes.extend_from_slice(signature);
    bytes.extend_from_slice(&((36 + body.len()) as u32).to_le_bytes());
    bytes.push(1);
    bytes.push(0);
    bytes.extend_from_slice(b"BOCHS ");
    bytes.extend_from_slice(b"BXPC    ");
    bytes.extend_from_slice(&1u32.to_le_bytes());
    bytes.extend_from_slice(b"BXPC");
    bytes.extend_from_slice(&1u32.to_le_bytes());
    bytes.extend_from_slice(body);
    checksum(&mut bytes, 9);
    bytes
}

/// Processor Local APIC entry.
fn local_apic(uid: u8, id: u8, flags: u32) -> Vec<u8> {
    let mut e = vec![0, 8, uid, id];
    e.extend_from_slice(&flags.to_le_bytes());
    e
}

/// Processor Local x2APIC entry.
fn local_x2apic(id: u32, flags: u32, uid: u32) -> Vec<u8> {
    let mut e = vec![9, 16, 0, 0];
    e.extend_from_slice(&id.to_le_bytes());
    e.extend_from_slice(&flags.to_le_bytes());
    e.extend_from_slice(&uid.to_le_bytes());
    e
}

/// An I/O APIC entry (ignored by the core list).
fn io_apic() -> Vec<u8> {
    let mut e = vec![1, 12, 0, 0];
    e.extend_from_slice(&0xfec0_0000u32.to_le_bytes());
    e.extend_from_slice(&0u32.to_le_bytes());
    e
}

/// A MADT body: Local Interrupt Controller Address 0xfee00000, flags PCAT_COMPAT, `entries`.
fn madt(entries: &[Vec<u8>]) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend_from_slice(&0xfee0_0000u32.to_le_bytes());
    body.extend_from_slice(&1u32.to_le_bytes());
    for e in entries {
        body.extend_from_slice(e);
    }
    table(b"APIC", &body)
}

const RSDP: u64 = 0xf5a40;
const ROOT: u64 = 0x7fe_2000;
const FACP: u64 = 0x7fe_1000;
const MADT: u64 = 0x7fe_1800;

/// An ACPI 1.0 RSDP (revision 0) naming an RSDT, as QEMU builds for q35 and pc.
fn rsdp_v1(rsdt: u32) -> Vec<u8> {
    let mut r = Vec::new();
    r.extend_from_slice(b"RSD PTR ");
    r.push(0);
    r.extend_from_slice(b"BOCHS ");
    r.push(0);
    r.extend_from_slice(&rsdt.to_le_bytes());
    checksum(&mut r, 8);
    r
}

/// An ACPI 2.0 RSDP naming an XSDT, as QEMU builds for microvm.
fn rsdp_v2(xsdt: u64) -> Vec<u8> {
    let mut r = rsdp_v1(0);
    r[15] = 2;
    r.extend_from_slice(&36u32.to_le_bytes());
    r.extend_from_slice(&xsdt.to_le_bytes());
    r.extend_from_slice(&[0; 4]);
    checksum(&mut r[..20], 8);
    checksum(&mut r, 32);
    r
}

/// q35-like memory: RSDP v1 → RSDT → FACP, APIC.
fn q35(madt_bytes: Vec<u8>) -> FakeMemory {
    let mut memory = FakeMemory::default();
    memory.regions.insert(RSDP, rsdp_v1(ROOT as u32));
    let mut entries = Vec::new();
    entries.extend_from_slice(&(FACP as u32).to_le_bytes());
    entries.extend_from_slice(&(MADT as u32).to_le_bytes());
    memory.regions.insert(ROOT, table(b"RSDT", &entries));
    memory.regions.insert(FACP, table(b"FACP", &[0; 80]));
    memory.regions.insert(MADT, madt_bytes);
    memory
}

/// microvm-like memory: RSDP v2 → XSDT → APIC.
fn microvm(madt_bytes: Vec<u8>) -> FakeMemory {
    let mut memory = FakeMemory::default();
    memory.regions.insert(RSDP, rsdp_v2(ROOT));
    memory.regions.insert(ROOT, table(b"XSDT", &MADT.to_le_bytes()));
    memory.regions.insert(MADT, madt_bytes);
    memory
}

fn four_cores() -> Vec<u8> {
    madt(&[
        local_apic(0, 0, 1),
        local_apic(1, 1, 1),
        io_apic(),
        local_apic(2, 2, 1),
        local_apic(3, 3, 1),
    ])
}

#[test]
fn q35_rsdt_tables_list_the_cores() {
    let memory = q35(four_cores());
    let root = acpi::rsdp_any(&&memory, RSDP).unwrap();
    assert_eq!(root, Root { address: ROOT, extended: false, oem: *b"BOCHS " });
    let cores = acpi::x86_cores::<16>(&&memory, RSDP).unwrap();
    assert_eq!(cores.ids(), [0, 1, 2, 3]);
    assert_eq!(cores.count, 4);
    assert_eq!(cores.local_apic, 0xfee0_0000);
}

#[test]
fn microvm_xsdt_tables_list_the_cores() {
    let memory = microvm(four_cores());
    assert!(acpi::rsdp_any(&&memory, RSDP).unwrap().extended);
    assert_eq!(acpi::x86_cores::<16>(&&memory, RSDP).unwrap().ids(), [0, 1, 2, 3]);
}

#[test]
fn disabled_and_duplicate_entries_are_skipped_x2apic_ids_kept() {
    let memory = q35(madt(&[
        local_apic(0, 0, 1),
        local_apic(1, 1, 0),    // disabled
        local_apic(2, 2, 0b10), // online capable only: not startable now
        local_x2apic(0, 1, 0),  // the boot core again, as x2APIC
        local_x2apic(0x1_0000, 1, 4),
    ]));
    let cores = acpi::x86_cores::<16>(&&memory, RSDP).unwrap();
    assert_eq!(cores.ids(), [0, 0x1_0000]);
}

#[test]
fn more_cores_than_room_are_counted_not_kept() {
    let entries: Vec<_> = (0..20).map(|i| local_apic(i, i, 1)).collect();
    let memory = q35(madt(&entries));
    let cores = acpi::x86_cores::<16>(&&memory, RSDP).unwrap();
    assert_eq!(cores.count, 20);
    assert_eq!(cores.ids().len(), 16);
    assert_eq!(cores.ids()[15], 15);
}

#[test]
fn a_missing_madt_is_named() {
    let mut memory = q35(four_cores());
    memory.regions.remove(&MADT);
    memory.regions.insert(MADT, table(b"SSDT", &[]));
    assert_eq!(acpi::x86_cores::<16>(&&memory, RSDP), Err(Error::Missing(Signature(*b"APIC"))));
}

#[test]
fn broken_madt_entries_are_refused() {
    for entry in [vec![0u8, 0], vec![0, 4, 0, 0], vec![9, 8, 0, 0, 1, 0, 0, 0], vec![0, 40]] {
        let memory = q35(madt(&[local_apic(0, 0, 1), entry.clone()]));
        assert!(
            matches!(acpi::x86_cores::<16>(&&memory, RSDP), Err(Error::BadTable { .. })),
            "{entry:?}"
        );
    }
}

#[test]
fn bad_rsdps_are_refused() {
    let mut memory = q35(four_cores());
    memory.regions.get_mut(&RSDP).unwrap()[12] ^= 1;
    assert!(matches!(acpi::rsdp_any(&&memory, RSDP), Err(Error::BadRsdp { .. })));
    let mut memory = q35(four_cores());
    let rsdp = memory.regions.get_mut(&RSDP).unwrap();
    rsdp[16..20].copy_from_slice(&[0; 4]);
    checksum(rsdp, 8);
    assert!(matches!(acpi::rsdp_any(&&memory, RSDP), Err(Error::BadRsdp { .. })));
    assert!(matches!(acpi::rsdp_any(&&memory, 0x1234), Err(Error::Unreadable { .. })));
}

#[test]
fn a_root_table_of_the_wrong_kind_is_refused() {
    let mut memory = q35(four_cores());
    let rsdt = memory.regions.remove(&ROOT).unwrap();
    let mut xsdt = rsdt.clone();
    xsdt[..4].copy_from_slice(b"XSDT");
    checksum(&mut xsdt, 9);
    memory.regions.insert(ROOT, xsdt);
    assert!(matches!(acpi::x86_cores::<16>(&&memory, RSDP), Err(Error::BadTable { .. })));
}

#[test]
fn the_rsdp_is_found_in_the_bios_area() {
    let mut area = vec![0u8; 0x20000];
    // A decoy with a bad checksum, then the real one, both on 16-byte boundaries.
    let mut decoy = rsdp_v1(ROOT as u32);
    decoy[8] ^= 0xff;
    area[0x100..0x100 + 20].copy_from_slice(&decoy);
    area[0x15a40..0x15a40 + 20].copy_from_slice(&rsdp_v1(ROOT as u32));
    assert_eq!(acpi::scan_rsdp(&area, 0xe0000), Some(0xf5a40));
    // Off a 16-byte boundary: not an RSDP.
    let mut area = vec![0u8; 0x1000];
    area[0x108..0x108 + 20].copy_from_slice(&rsdp_v1(ROOT as u32));
    assert_eq!(acpi::scan_rsdp(&area, 0xe0000), None);
}

#[test]
fn mutations_never_panic() {
    let memory = q35(four_cores());
    let original = memory.regions[&MADT].clone();
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    for _ in 0..5000 {
        let mut mutated = memory.clone();
        let bytes = mutated.regions.get_mut(&MADT).unwrap();
        *bytes = original.clone();
        for _ in 0..3 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let at = (seed % bytes.len() as u64) as usize;
            bytes[at] = (seed >> 32) as u8;
        }
        checksum(bytes, 9);
        let _ = acpi::x86_cores::<4>(&&mutated, RSDP);
    }
}

// --- The MP table ------------------------------------------------------------------------------

/// Modelled on QEMU `microvm,acpi=off -smp 4`'s MP table as qboot builds it at 0x9FC00 (header,
/// processor, bus and I/O APIC entries as dumped from a run; the interrupt entries simplified):
/// floating pointer, then "PCMP" with four processors (the first the BSP); qboot leaves the
/// entry count at 0.
fn qboot_mp_table() -> Vec<u8> {
    let mut t = vec![0u8; 0x114];
    t[..4].copy_from_slice(b"PCMP");
    t[4..6].copy_from_slice(&0x114u16.to_le_bytes());
    t[6] = 4;
    t[8..16].copy_from_slice(b"QBOOT   ");
    t[16..28].copy_from_slice(b"000000000000");
    t[36..40].copy_from_slice(&0xfee0_0000u32.to_le_bytes());
    let mut at = 44;
    for id in 0..4u8 {
        let flags = if id == 0 { 3 } else { 1 };
        t[at..at + 12]
            .copy_from_slice(&[0, id, 0x14, flags, 0x63, 6, 0, 0, 0xfd, 0xfb, 0xcb, 0x1f]);
        at += 20;
    }
    t[at..at + 8].copy_from_slice(&[1, 0, b'I', b'S', b'A', b' ', b' ', b' ']);
    at += 8;
    t[at..at + 8].copy_from_slice(&[2, 5, 0x14, 1, 0, 0, 0xc0, 0xfe]);
    at += 8;
    // Interrupt assignment entries (type 3) fill the rest.
    while at + 8 <= t.len() {
        t[at..at + 8].copy_from_slice(&[3, 0, 0, 0, 0, 0, 5, 0]);
        at += 8;
    }
    checksum(&mut t, 7);
    t
}

fn mp_floating(table: u32) -> Vec<u8> {
    let mut f = b"_MP_".to_vec();
    f.extend_from_slice(&table.to_le_bytes());
    f.extend_from_slice(&[1, 4, 0, 0, 0, 0, 0, 0]);
    checksum(&mut f, 10);
    f
}

fn microvm_mp() -> FakeMemory {
    let mut memory = FakeMemory::default();
    let mut low = mp_floating(0x9fc10);
    low.extend_from_slice(&qboot_mp_table());
    low.resize(1024, 0);
    memory.regions.insert(0x9fc00, low);
    memory
}

#[test]
fn the_mp_table_is_found_at_the_top_of_base_memory_and_lists_the_cores() {
    let memory = microvm_mp();
    let floating = acpi::mp::find(&&memory).unwrap();
    assert_eq!(floating, 0x9fc00);
    let cores = acpi::mp::cores::<16>(&&memory, floating).unwrap();
    assert_eq!(cores.ids(), [0, 1, 2, 3]);
    assert_eq!(cores.local_apic, 0xfee0_0000);
}

#[test]
fn the_mp_table_is_found_in_the_ebda_and_the_bios_rom() {
    let mut memory = FakeMemory::default();
    // BDA word 0x40E = EBDA segment 0x9000 → 0x90000.
    let mut bda = vec![0u8; 0x100];
    bda[0xe..0x10].copy_from_slice(&0x9000u16.to_le_bytes());
    memory.regions.insert(0x400, bda);
    let mut ebda = vec![0u8; 1024];
    ebda[0x20..0x30].copy_from_slice(&mp_floating(0x1234));
    memory.regions.insert(0x9_0000, ebda);
    assert_eq!(acpi::mp::find(&&memory), Some(0x9_0020));

    let mut memory = FakeMemory::default();
    let mut rom = vec![0u8; 0x1_0000];
    rom[0xa0..0xb0].copy_from_slice(&mp_floating(0x1234));
    memory.regions.insert(0xf_0000, rom);
    assert_eq!(acpi::mp::find(&&memory), Some(0xf_00a0));
}

#[test]
fn disabled_processors_and_broken_mp_tables_are_handled() {
    let mut memory = microvm_mp();
    let low = memory.regions.get_mut(&0x9fc00).unwrap();
    low[16 + 44 + 20 + 3] = 0; // core 1: not EN
    checksum(&mut low[16..16 + 0x114], 7);
    assert_eq!(acpi::mp::cores::<16>(&&memory, 0x9fc00).unwrap().ids(), [0, 2, 3]);

    let mut memory = microvm_mp();
    memory.regions.get_mut(&0x9fc00).unwrap()[16 + 50] ^= 1;
    assert!(matches!(acpi::mp::cores::<16>(&&memory, 0x9fc00), Err(Error::BadTable { .. })));

    let mut memory = microvm_mp();
    let low = memory.regions.get_mut(&0x9fc00).unwrap();
    low[16 + 44] = 9; // an unknown entry type
    checksum(&mut low[16..16 + 0x114], 7);
    assert!(matches!(acpi::mp::cores::<16>(&&memory, 0x9fc00), Err(Error::BadTable { .. })));

    let mut memory = microvm_mp();
    let low = memory.regions.get_mut(&0x9fc00).unwrap();
    low[16 + 4..16 + 6].copy_from_slice(&0x2000u16.to_le_bytes()); // longer than readable
    assert!(matches!(acpi::mp::cores::<16>(&&memory, 0x9fc00), Err(Error::Unreadable { .. })));
}

#[test]
fn mp_mutations_never_panic() {
    let memory = microvm_mp();
    let original = memory.regions[&0x9fc00].clone();
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    for _ in 0..5000 {
        let mut mutated = memory.clone();
        let bytes = mutated.regions.get_mut(&0x9fc00).unwrap();
        *bytes = original.clone();
        for _ in 0..3 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let at = 16 + (seed % 0x114) as usize;
            bytes[at] = (seed >> 32) as u8;
        }
        checksum(&mut bytes[16..16 + 0x114], 7);
        if let Some(floating) = acpi::mp::find(&&mutated) {
            let _ = acpi::mp::cores::<4>(&&mutated, floating);
        }
    }
}
