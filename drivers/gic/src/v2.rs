//! GICv2: distributor and CPU interface, both memory-mapped (IHI 0048B, chapter 4).
//!
//! The SGI and PPI registers (the first word of each array, GICD_IPRIORITYR0-7) are banked per
//! core: the same address reaches the calling core's copy, so [`GicV2::init_this_core`] and
//! [`InterruptController::enable`] of an INTID below 32 act on whichever core runs them. SGIs
//! go out through GICD_SGIR to CPU interface numbers, which a core learns by reading its banked
//! GICD_ITARGETSR0 ([`GicV2::this_core_target`]).
//!
//! Weak spot: the distributor is shared by every core, and its read-modify-write registers
//! (GICD_IPRIORITYR, GICD_ITARGETSR) are updated without a lock: SPIs must be enabled from one
//! core at a time.

use crate::{bit, byte, DEFAULT_PRIORITY, SPECIAL_INTIDS};
use rivet_core::interrupt::{InterruptController, InterruptError, Irq};
use tock_registers::interfaces::{Readable, Writeable};

/// The register blocks, named as in the spec.
#[allow(missing_docs, non_snake_case)]
pub mod registers {
    use tock_registers::register_structs;
    use tock_registers::registers::{ReadOnly, ReadWrite, WriteOnly};

    register_structs! {
        /// The distributor (IHI 0048B Table 4-1), the part Rivet uses.
        pub Distributor {
            (0x000 => pub GICD_CTLR: ReadWrite<u32>),
            (0x004 => pub GICD_TYPER: ReadOnly<u32>),
            (0x008 => pub GICD_IIDR: ReadOnly<u32>),
            (0x00c => _reserved0),
            (0x080 => pub GICD_IGROUPR: [ReadWrite<u32>; 32]),
            (0x100 => pub GICD_ISENABLER: [ReadWrite<u32>; 32]),
            (0x180 => pub GICD_ICENABLER: [ReadWrite<u32>; 32]),
            (0x200 => pub GICD_ISPENDR: [ReadWrite<u32>; 32]),
            (0x280 => pub GICD_ICPENDR: [ReadWrite<u32>; 32]),
            (0x300 => pub GICD_ISACTIVER: [ReadWrite<u32>; 32]),
            (0x380 => pub GICD_ICACTIVER: [ReadWrite<u32>; 32]),
            (0x400 => pub GICD_IPRIORITYR: [ReadWrite<u32>; 255]),
            (0x7fc => _reserved1),
            (0x800 => pub GICD_ITARGETSR: [ReadWrite<u32>; 255]),
            (0xbfc => _reserved2),
            (0xc00 => pub GICD_ICFGR: [ReadWrite<u32>; 64]),
            (0xd00 => _reserved3),
            (0xf00 => pub GICD_SGIR: WriteOnly<u32>),
            (0xf04 => @END),
        }
    }

    register_structs! {
        /// The CPU interface (IHI 0048B Table 4-2), the part Rivet uses.
        pub CpuInterface {
            (0x000 => pub GICC_CTLR: ReadWrite<u32>),
            (0x004 => pub GICC_PMR: ReadWrite<u32>),
            (0x008 => pub GICC_BPR: ReadWrite<u32>),
            (0x00c => pub GICC_IAR: ReadOnly<u32>),
            (0x010 => pub GICC_EOIR: WriteOnly<u32>),
            (0x014 => pub GICC_RPR: ReadOnly<u32>),
            (0x018 => pub GICC_HPPIR: ReadOnly<u32>),
            (0x01c => @END),
        }
    }
}

use registers::{CpuInterface, Distributor};

/// GICD_CTLR / GICC_CTLR: enable Group 0 (bit 0) and Group 1 (bit 1). In the non-secure view of
/// a GIC with security extensions bit 0 enables the non-secure group and bit 1 is reserved.
const ENABLE_GROUPS: u32 = 0b11;

/// GICC_IAR bits 9:0: the interrupt ID (bits 12:10 name the CPU that sent an SGI).
const IAR_INTID: u32 = 0x3ff;
/// INTIDs 0-15 are SGIs, 16-31 PPIs, 32 and up SPIs.
const FIRST_PPI: u32 = 16;

/// A GICv2 seen from the boot core.
pub struct GicV2 {
    distributor: &'static Distributor,
    cpu: &'static CpuInterface,
    /// Interrupt IDs the distributor implements: 32 × (GICD_TYPER.ITLinesNumber + 1), max 1020.
    lines: u32,
}

impl GicV2 {
    /// Takes over the GIC whose distributor and CPU interface registers are at `distributor` and
    /// `cpu_interface`. Nothing is written yet: [`GicV2::init`] does that.
    ///
    /// # Safety
    ///
    /// 1. `distributor` points at a GICv2 distributor's 4 KiB register frame and `cpu_interface`
    ///    at its CPU interface's frame (8 KiB), both mapped as Device memory for `'static`.
    /// 2. Nothing else programs this GIC (one driver per GIC, firmware done with it).
    pub unsafe fn new(distributor: *mut u8, cpu_interface: *mut u8) -> Self {
        // SAFETY: obligation 1: both point at their register frames, mapped for 'static; the
        // register types are interior-mutable MMIO cells, so shared references are sound.
        let (distributor, cpu) = unsafe {
            (&*(distributor as *const Distributor), &*(cpu_interface as *const CpuInterface))
        };
        let lines = (32 * ((distributor.GICD_TYPER.get() & 0x1f) + 1)).min(SPECIAL_INTIDS.start);
        Self { distributor, cpu, lines }
    }

    /// Enables the distributor and the CPU interface with every priority unmasked. Interrupts
    /// stay disabled one by one until [`InterruptController::enable`].
    pub fn init(&self) {
        let d = self.distributor;
        d.GICD_CTLR.set(0);
        // Everything off and not pending, so nothing left over by firmware fires.
        for index in 0..(self.lines / 32) as usize {
            d.GICD_ICENABLER[index].set(u32::MAX);
            d.GICD_ICPENDR[index].set(u32::MAX);
        }
        d.GICD_CTLR.set(ENABLE_GROUPS);
        // Lowest mask (all priorities pass), no preemption grouping.
        self.cpu.GICC_PMR.set(0xff);
        self.cpu.GICC_BPR.set(0);
        self.cpu.GICC_CTLR.set(ENABLE_GROUPS);
    }

    /// How many interrupt IDs the distributor implements.
    pub fn lines(&self) -> u32 {
        self.lines
    }

    /// Brings up the calling core's part of the GIC, after [`GicV2::init`] ran on the boot core:
    /// its banked SGIs and PPIs disabled and not pending, then `private` (INTIDs below 32)
    /// enabled, and its CPU interface on with every priority unmasked.
    pub fn init_this_core(&self, private: &[u32]) -> Result<(), InterruptError> {
        let d = self.distributor;
        // SGI enable bits may be read-as-one; PPIs are really disabled.
        d.GICD_ICENABLER[0].set(u32::MAX);
        d.GICD_ICPENDR[0].set(u32::MAX);
        for &intid in private {
            if intid >= crate::FIRST_SPI {
                return Err(InterruptError::OutOfRange(Irq(intid)));
            }
            self.enable(Irq(intid))?;
        }
        self.cpu.GICC_PMR.set(0xff);
        self.cpu.GICC_BPR.set(0);
        self.cpu.GICC_CTLR.set(ENABLE_GROUPS);
        Ok(())
    }

    /// The calling core's CPU interface, as a one-bit mask for [`GicV2::send_sgi`]: the banked
    /// GICD_ITARGETSR0 reads back the calling core's bit. 0 on a uniprocessor GIC (RAZ).
    pub fn this_core_target(&self) -> u8 {
        self.distributor.GICD_ITARGETSR[0].get() as u8
    }

    /// Sends SGI `intid` (0-15) to the CPU interfaces in `targets` (bit n = interface n) through
    /// GICD_SGIR (TargetListFilter 0: the list given). Out-of-range INTIDs are ignored.
    pub fn send_sgi(&self, targets: u8, intid: u32) {
        if intid < 16 {
            self.distributor.GICD_SGIR.set(sgir(targets, intid));
        }
    }

    fn check(&self, irq: Irq) -> Result<u32, InterruptError> {
        if irq.0 < self.lines {
            Ok(irq.0)
        } else {
            Err(InterruptError::OutOfRange(irq))
        }
    }
}

// SAFETY: the registers are MMIO cells; every access is a single volatile load or store, which
// the GIC serialises. Read-modify-writes of banked registers (SGIs, PPIs) only reach the calling
// core's copy; those of shared ones (SPIs) are the weak spot named in the header.
unsafe impl Sync for GicV2 {}
// SAFETY: as for `Sync`: the references are to device registers, not thread-local data.
unsafe impl Send for GicV2 {}

impl InterruptController for GicV2 {
    fn enable(&self, irq: Irq) -> Result<(), InterruptError> {
        let intid = self.check(irq)?;
        let d = self.distributor;
        let (index, shift) = byte(intid);
        let priority = d.GICD_IPRIORITYR[index].get() & !(0xff << shift);
        d.GICD_IPRIORITYR[index].set(priority | u32::from(DEFAULT_PRIORITY) << shift);
        if intid >= crate::FIRST_SPI {
            // SPIs go to CPU interface 0 (the boot core); SGI/PPI targets are read-only.
            let targets = d.GICD_ITARGETSR[index].get() & !(0xff << shift);
            d.GICD_ITARGETSR[index].set(targets | 1 << shift);
        }
        let (index, mask) = bit(intid);
        d.GICD_ISENABLER[index].set(mask);
        Ok(())
    }

    fn disable(&self, irq: Irq) -> Result<(), InterruptError> {
        let intid = self.check(irq)?;
        let (index, mask) = bit(intid);
        self.distributor.GICD_ICENABLER[index].set(mask);
        Ok(())
    }

    /// An SGI is ended here, at once: GICC_EOIR must get back the whole GICC_IAR value,
    /// source CPU (bits 12:10) included, or the write ends nothing and the SGI stays active —
    /// every later SGI from that core is then lost. The handler (a wake-up) does not mind
    /// running after the end of the interrupt; Linux ends SGIs the same way.
    fn claim(&self) -> Option<Irq> {
        let iar = self.cpu.GICC_IAR.get();
        let intid = iar & IAR_INTID;
        if SPECIAL_INTIDS.contains(&intid) {
            return None;
        }
        if intid < FIRST_PPI {
            self.cpu.GICC_EOIR.set(iar);
        }
        Some(Irq(intid))
    }

    /// Ends a PPI or SPI (their GICC_IAR value is the bare INTID); SGIs were ended by `claim`.
    fn complete(&self, irq: Irq) {
        if irq.0 >= FIRST_PPI {
            self.cpu.GICC_EOIR.set(irq.0);
        }
    }
}

/// The GICD_SGIR value sending SGI `intid` to the CPU interfaces in `targets`: CPUTargetList in
/// bits 23:16, INTID in 3:0, TargetListFilter (25:24) 0, NSATT (15) 0.
fn sgir(targets: u8, intid: u32) -> u32 {
    u32::from(targets) << 16 | (intid & 0xf)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Zeroed memory standing in for the two register frames (RAM, not MMIO: what the driver
    /// writes stays there to be checked).
    fn fake() -> (&'static mut [u32], &'static mut [u32]) {
        (Vec::leak(vec![0u32; 0x1000 / 4]), Vec::leak(vec![0u32; 0x100 / 4]))
    }

    #[test]
    fn init_enable_claim_complete() {
        let (d, c) = fake();
        d[1] = 2; // GICD_TYPER.ITLinesNumber = 2: 96 interrupt IDs
        c[3] = 0x0000_041b; // GICC_IAR: CPU 1, INTID 27
        let (d, c) = (d.as_mut_ptr(), c.as_mut_ptr());
        // SAFETY: both fakes are larger than the register blocks and leaked ('static); only this
        // test uses them.
        let gic = unsafe { GicV2::new(d.cast(), c.cast()) };
        assert_eq!(gic.lines(), 96);
        gic.init();
        // SAFETY: as above; the driver is done writing.
        let (d, c) = unsafe {
            (core::slice::from_raw_parts(d, 0x400), core::slice::from_raw_parts(c, 0x40))
        };
        assert_eq!(d[0], ENABLE_GROUPS);
        assert_eq!(d[0x180 / 4 + 2], u32::MAX, "GICD_ICENABLER covers every line");
        assert_eq!((c[0], c[1]), (ENABLE_GROUPS, 0xff), "GICC_CTLR, GICC_PMR");

        assert_eq!(gic.enable(Irq(27)), Ok(()));
        assert_eq!(gic.enable(Irq(40)), Ok(()));
        assert_eq!(gic.enable(Irq(96)), Err(InterruptError::OutOfRange(Irq(96))));
        assert_eq!(d[0x100 / 4], 1 << 27, "GICD_ISENABLER0");
        assert_eq!(d[0x100 / 4 + 1], 1 << 8, "GICD_ISENABLER1");
        assert_eq!(d[0x400 / 4 + 6], 0xa0 << 24, "GICD_IPRIORITYR6");
        assert_eq!(d[0x800 / 4 + 10], 1, "GICD_ITARGETSR10: SPI 40 to CPU 0");
        assert_eq!(d[0x800 / 4 + 6], 0, "PPI targets are left alone");

        assert_eq!(gic.claim(), Some(Irq(27)));
        gic.complete(Irq(27));
        // SAFETY: as above.
        assert_eq!(unsafe { c.as_ptr().add(4).read_volatile() }, 27, "GICC_EOIR");
    }

    #[test]
    fn an_sgi_is_ended_with_its_source_cpu() {
        let (d, c) = fake();
        d[1] = 2;
        c[3] = 0x0000_0c01; // GICC_IAR: SGI 1 from CPU 3
        let (d, c) = (d.as_mut_ptr(), c.as_mut_ptr());
        // SAFETY: as in `init_enable_claim_complete`.
        let gic = unsafe { GicV2::new(d.cast(), c.cast()) };
        assert_eq!(gic.claim(), Some(Irq(1)));
        // SAFETY: as above; the driver is done writing.
        let eoir = unsafe { c.add(4).read_volatile() };
        assert_eq!(eoir, 0x0c01, "GICC_EOIR gets the source CPU back, at claim");
        // SAFETY: as above.
        unsafe { c.add(4).write_volatile(0) };
        gic.complete(Irq(1));
        // SAFETY: as above.
        assert_eq!(unsafe { c.add(4).read_volatile() }, 0, "no second end for the SGI");
    }

    #[test]
    fn a_secondary_core_and_an_sgi() {
        let (d, c) = fake();
        d[1] = 2;
        d[0x800 / 4] = 0x0404_0404; // GICD_ITARGETSR0 as CPU interface 2 reads it
        let (d, c) = (d.as_mut_ptr(), c.as_mut_ptr());
        // SAFETY: as in the test above.
        let gic = unsafe { GicV2::new(d.cast(), c.cast()) };
        assert_eq!(gic.init_this_core(&[1, 27]), Ok(()));
        assert_eq!(
            gic.init_this_core(&[40]),
            Err(InterruptError::OutOfRange(Irq(40))),
            "SPIs are not per core"
        );
        assert_eq!(gic.this_core_target(), 4);
        gic.send_sgi(1 << 3, 1);
        // Not an SGI: nothing is written.
        gic.send_sgi(1, 16);
        // SAFETY: as above; the driver is done writing.
        let (d, c) = unsafe {
            (core::slice::from_raw_parts(d, 0x400), core::slice::from_raw_parts(c, 0x40))
        };
        assert_eq!(d[0x180 / 4], u32::MAX, "banked GICD_ICENABLER0 cleared first");
        // Plain RAM keeps only the last write-1-to-set: PPI 27's; SGI 1's shows in its priority.
        assert_eq!(d[0x100 / 4], 1 << 27, "GICD_ISENABLER0");
        assert_eq!(d[0x400 / 4], 0xa0 << 8, "GICD_IPRIORITYR0 for SGI 1");
        assert_eq!((c[0], c[1]), (ENABLE_GROUPS, 0xff), "GICC_CTLR, GICC_PMR");
        assert_eq!(d[0xf00 / 4], 0x0008_0001, "GICD_SGIR: SGI 1 to CPU interface 3");
    }

    #[test]
    fn spurious_is_not_claimed() {
        let (d, c) = fake();
        c[3] = 1023;
        // SAFETY: as in the test above.
        let gic = unsafe { GicV2::new(d.as_mut_ptr().cast(), c.as_mut_ptr().cast()) };
        assert_eq!(gic.claim(), None);
    }
}
