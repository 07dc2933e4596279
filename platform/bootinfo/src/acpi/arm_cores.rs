//! The cores of an arm64 ACPI machine: the MPIDR of every usable GIC CPU interface (GICC) entry
//! of the MADT, in table order, for the SMP bring-up (which starts them with PSCI CPU_ON, the
//! FADT saying whether PSCI is there and through `hvc` or `smc`).
//!
//! Weak spots: the ACPI parking protocol (GICC Parking Protocol Version, Parked Address) is not
//! read: PSCI is the only way to start a core here; the MPIDR field needs ACPI 5.1 or later
//! (entries of 76 bytes or more), which every arm64 firmware has.

use super::{u32_at, u64_at, Result, Table};

/// The cores an arm64 MADT lists.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct ArmCores<const N: usize> {
    /// The MPIDR affinity fields (Aff3 at 39:32, Aff2..Aff0 at 23:0) of the usable cores, in
    /// table order; only the first `N` are kept.
    pub mpidrs: [u64; N],
    /// How many usable cores the table lists (may exceed `N`: the rest are dropped).
    pub count: usize,
}

impl<const N: usize> ArmCores<N> {
    /// The MPIDRs kept.
    pub fn mpidrs(&self) -> &[u64] {
        &self.mpidrs[..self.count.min(N)]
    }
}

/// GICC entry fields (ACPI 6.5 §5.2.12.14): type 0x0b, Flags at 12, MPIDR at 68.
const GICC: u8 = 0x0b;
const GICC_FLAGS: usize = 12;
const GICC_MPIDR: usize = 68;
/// MPIDR's affinity fields.
const AFFINITY: u64 = 0xff_00ff_ffff;

/// Lists the usable cores of an arm64 MADT (GICC entries Enabled, bit 0, or Online Capable,
/// bit 3). Entries are walked as [`read_madt`](super::read_madt) walks them and malformed ones
/// refused the same way.
pub fn read_arm_cores<const N: usize>(madt: &Table<'_>) -> Result<ArmCores<N>> {
    let mut cores = ArmCores { mpidrs: [0; N], count: 0 };
    madt.for_each_madt_entry(|kind, entry| {
        if kind == GICC {
            let short = || madt.bad("a GICC entry is too short for its MPIDR (ACPI 5.1+)");
            let flags = u32_at(entry, GICC_FLAGS).ok_or_else(short)?;
            if flags & 0b1001 != 0 {
                let mpidr = u64_at(entry, GICC_MPIDR).ok_or_else(short)? & AFFINITY;
                if let Some(slot) = cores.mpidrs.get_mut(cores.count) {
                    *slot = mpidr;
                }
                cores.count += 1;
            }
        }
        Ok(())
    })?;
    Ok(cores)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::acpi::{Error, Signature};

    /// A MADT (header checksum not checked here) with `entries` after its fixed fields.
    fn madt(entries: &[u8]) -> Vec<u8> {
        let mut bytes = vec![0u8; 44];
        bytes[..4].copy_from_slice(b"APIC");
        bytes.extend_from_slice(entries);
        let len = bytes.len() as u32;
        bytes[4..8].copy_from_slice(&len.to_le_bytes());
        bytes
    }

    fn gicc(flags: u32, mpidr: u64) -> Vec<u8> {
        let mut entry = vec![0u8; 82];
        entry[0] = GICC;
        entry[1] = 82;
        entry[12..16].copy_from_slice(&flags.to_le_bytes());
        entry[68..76].copy_from_slice(&mpidr.to_le_bytes());
        entry
    }

    fn table(bytes: &[u8]) -> Table<'_> {
        Table { signature: Signature(*b"APIC"), address: 0x1000, bytes }
    }

    #[test]
    fn usable_cores_in_table_order() {
        let mut entries = Vec::new();
        entries.extend(gicc(1, 0x8000_0000)); // MPIDR bit 31 (RES1) is not affinity
        entries.extend([0x0c, 8, 0, 0, 0, 0, 0, 0]); // another entry type, skipped
        entries.extend(gicc(0, 1)); // neither enabled nor online capable
        entries.extend(gicc(8, 0x1_0000_0102)); // online capable, Aff3 = 1
        entries.extend(gicc(1, 3));
        let bytes = madt(&entries);
        let cores = read_arm_cores::<2>(&table(&bytes)).unwrap();
        assert_eq!(cores.count, 3);
        assert_eq!(cores.mpidrs(), &[0, 0x1_0000_0102], "only the first two kept");
        let cores = read_arm_cores::<4>(&table(&bytes)).unwrap();
        assert_eq!(cores.mpidrs(), &[0, 0x1_0000_0102, 3]);
    }

    #[test]
    fn malformed_entries_are_refused() {
        let short = {
            let mut entry = gicc(1, 0);
            entry.truncate(40);
            entry[1] = 40;
            madt(&entry)
        };
        let error = read_arm_cores::<4>(&table(&short)).unwrap_err();
        assert!(matches!(error, Error::BadTable { problem, .. } if problem.contains("MPIDR")));
        let past = madt(&[GICC, 82, 0, 0]);
        assert!(read_arm_cores::<4>(&table(&past)).is_err());
        let zero = madt(&[GICC, 0]);
        assert!(read_arm_cores::<4>(&table(&zero)).is_err());
    }
}
