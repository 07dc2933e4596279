//! The MP table (Intel MultiProcessor Specification 1.4): ACPI's predecessor, and what x86
//! machines without ACPI list their cores in (QEMU `microvm,acpi=off`, Firecracker).
//!
//! [`find`] looks for the MP Floating Pointer Structure ("_MP_", 16 bytes, on a 16-byte boundary,
//! checksummed) where the spec says to (§4: the first KiB of the EBDA, the last KiB of base
//! memory, the BIOS ROM 0xF0000–0xFFFFF); [`cores`] reads the configuration table it points at
//! ("PCMP", checksummed, walked by its length: the entry count is not trusted) and lists the enabled processor entries' local APIC ids, the bootstrap
//! processor's among them. Same rules as the ACPI reader: every read bounds-checked, every
//! failure an [`Error`], no panic whatever the bytes.
//!
//! Weak spots: 8-bit APIC ids only (the MP table has no x2APIC entries, so no more than 255
//! cores); the extended table and the default configurations (feature byte 1 non-zero, no
//! configuration table: two-processor boards of the 1990s) are not read.

use super::{sums_to_zero, u16_at, u32_at, Error, Memory, Result, Signature, X86Cores};

/// Bytes of the floating pointer structure.
pub const FLOATING_SIZE: usize = 16;
/// Bytes of the configuration table header.
pub const HEADER_SIZE: usize = 44;

/// Entry types and their lengths (§4.3).
const PROCESSOR: u8 = 0;
const PROCESSOR_SIZE: usize = 20;
const OTHER_SIZE: usize = 8;
/// Processor entry CPU flags: EN (usable).
const PROCESSOR_ENABLED: u8 = 1 << 0;

/// Finds a floating pointer in `area` (the bytes at physical address `base`): "_MP_" on a 16-byte
/// boundary, length 1 (16 bytes) and a zero checksum. Returns its physical address.
pub fn scan(area: &[u8], base: u64) -> Option<u64> {
    (0..area.len()).step_by(16).find_map(|at| {
        let candidate = area.get(at..at + FLOATING_SIZE)?;
        (candidate.starts_with(b"_MP_") && candidate[8] == 1 && sums_to_zero(candidate))
            .then_some(base + at as u64)
    })
}

/// Where the spec says to look, in order: the EBDA's first KiB (its segment is the word at
/// 0x40E, when that is readable and non-zero), the last KiB of 640 KiB base memory, the BIOS ROM.
pub fn find<'a>(memory: &impl Memory<'a>) -> Option<u64> {
    let ebda = memory
        .bytes(0x40e, 2)
        .and_then(|bytes| u16_at(bytes, 0))
        .map(|segment| u64::from(segment) << 4)
        .filter(|&address| address != 0);
    let areas = [(ebda, 1024), (Some(0x9_fc00), 1024), (Some(0xf_0000), 0x1_0000)];
    areas.into_iter().find_map(|(start, len)| {
        let start = start?;
        scan(memory.bytes(start, len)?, start)
    })
}

/// Reads the floating pointer at `floating` and the configuration table it names: the enabled
/// processors' local APIC ids, in table order.
pub fn cores<'a, const N: usize>(memory: &impl Memory<'a>, floating: u64) -> Result<X86Cores<N>> {
    let (table, bytes) = configuration(memory, floating)?;
    let local_apic = u32_at(bytes, 36).unwrap_or(0);
    let mut cores = X86Cores { apic_ids: [0; N], count: 0, local_apic };
    for_each_entry(table, bytes, |kind, entry| {
        if kind == PROCESSOR && entry[3] & PROCESSOR_ENABLED != 0 {
            let id = u32::from(entry[1]);
            if !cores.ids().contains(&id) {
                if let Some(slot) = cores.apic_ids.get_mut(cores.count) {
                    *slot = id;
                }
                cores.count += 1;
            }
        }
    })?;
    Ok(cores)
}

/// Calls `f` with each entry's type and bytes (20 for a processor, 8 for the others) of the
/// configuration table `bytes` (at `table`), in order; an unknown type or an entry running past
/// the table is an error (after `f` saw the entries before it).
pub(super) fn for_each_entry(table: u64, bytes: &[u8], mut f: impl FnMut(u8, &[u8])) -> Result<()> {
    let bad_table =
        |problem| Error::BadTable { signature: Signature(*b"PCMP"), address: table, problem };
    let mut at = HEADER_SIZE;
    // Walk the entries by the table's length, not its entry count: qboot (QEMU microvm) leaves
    // the count 0, and Linux reads by length too.
    while at < bytes.len() {
        let kind = bytes[at];
        if kind > 4 {
            return Err(bad_table("unknown entry type"));
        }
        let size = if kind == PROCESSOR { PROCESSOR_SIZE } else { OTHER_SIZE };
        let entry = bytes.get(at..at + size).ok_or(bad_table("entries run past it"))?;
        f(kind, entry);
        at += size;
    }
    Ok(())
}

/// Checks the floating pointer at `floating` and the configuration table it names (signature,
/// length, checksum); returns the table's address and all its bytes, header included.
pub(super) fn configuration<'a>(
    memory: &impl Memory<'a>,
    floating: u64,
) -> Result<(u64, &'a [u8])> {
    let bad =
        |problem| Error::BadTable { signature: Signature(*b"_MP_"), address: floating, problem };
    let pointer = memory
        .bytes(floating, FLOATING_SIZE)
        .ok_or(Error::Unreadable { address: floating, len: FLOATING_SIZE as u64 })?;
    if !pointer.starts_with(b"_MP_") || !sums_to_zero(pointer) {
        return Err(bad("bad signature or checksum"));
    }
    if pointer[11] != 0 {
        return Err(bad("a default configuration, no table to read"));
    }
    let table = u64::from(u32_at(pointer, 4).unwrap_or(0));
    if table == 0 {
        return Err(bad("no configuration table"));
    }
    let header = memory
        .bytes(table, HEADER_SIZE)
        .ok_or(Error::Unreadable { address: table, len: HEADER_SIZE as u64 })?;
    let bad_table =
        |problem| Error::BadTable { signature: Signature(*b"PCMP"), address: table, problem };
    if !header.starts_with(b"PCMP") {
        return Err(bad_table("signature is not \"PCMP\""));
    }
    let length = usize::from(u16_at(header, 4).unwrap_or(0));
    if length < HEADER_SIZE {
        return Err(bad_table("length under 44 bytes"));
    }
    let bytes = memory
        .bytes(table, length)
        .ok_or(Error::Unreadable { address: table, len: length as u64 })?;
    if !sums_to_zero(bytes) {
        return Err(bad_table("bad checksum"));
    }
    Ok((table, bytes))
}
