//! Physical memory for the ACPI and MP-table tests: byte vectors at addresses, read from a
//! fixture (`fixtures/acpi/*.hex`) or built by hand, and a checksum fixer for edited tables.

use rivet_bootinfo::acpi::Memory;
use std::collections::BTreeMap;

/// Physical memory made of byte vectors at addresses; anything else is unreadable.
#[derive(Clone, Default)]
pub struct FakeMemory {
    pub regions: BTreeMap<u64, Vec<u8>>,
}

impl FakeMemory {
    /// Reads a fixture: one `ADDRESS HEX` line per structure, the first one's address returned
    /// (the RSDP, or the MP floating pointer; see fixtures/acpi/README.md).
    pub fn fixture(text: &str) -> (Self, u64) {
        let mut memory = FakeMemory::default();
        let mut first = None;
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let (address, hex) = line.trim().split_once(' ').expect("ADDRESS HEX");
            let address = u64::from_str_radix(address, 16).unwrap();
            let bytes = (0..hex.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
                .collect();
            first.get_or_insert(address);
            memory.regions.insert(address, bytes);
        }
        (memory, first.expect("an empty fixture"))
    }

    /// The structure whose first bytes are `signature` (a table, the MP floating pointer), to
    /// break.
    pub fn region_mut(&mut self, signature: &[u8; 4]) -> (u64, &mut Vec<u8>) {
        let (&address, bytes) = self
            .regions
            .iter_mut()
            .find(|(_, bytes)| bytes.get(..4) == Some(signature.as_slice()))
            .expect("no such structure in the fixture");
        (address, bytes)
    }

    /// Re-computes the checksum of the table with `signature` (byte 9) after an edit.
    pub fn fix_checksum(&mut self, signature: &[u8; 4]) {
        let (_, bytes) = self.region_mut(signature);
        checksum(bytes, 9);
    }
}

impl<'a> Memory<'a> for &'a FakeMemory {
    fn bytes(&self, address: u64, len: usize) -> Option<&'a [u8]> {
        let (&start, bytes) = self.regions.range(..=address).next_back()?;
        let offset = usize::try_from(address - start).ok()?;
        bytes.get(offset..offset.checked_add(len)?)
    }
}

/// Sets byte `at` so that all of `bytes` sums to zero.
pub fn checksum(bytes: &mut [u8], at: usize) {
    bytes[at] = 0;
    let sum = bytes.iter().fold(0u8, |s, &b| s.wrapping_add(b));
    bytes[at] = 0u8.wrapping_sub(sum);
}
