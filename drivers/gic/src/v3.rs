//! GICv3: distributor and redistributor memory-mapped, CPU interface through system registers
//! (IHI 0069H, chapters 12 and 9).
//!
//! The distributor runs with affinity routing (GICD_CTLR.ARE_NS); SGIs and PPIs are configured in
//! this core's redistributor (its SGI_base frame), SPIs in the distributor and routed to this
//! core by affinity (GICD_IROUTER).
//!
//! Weak spot: only the boot core's redistributor is found and woken; other cores will need theirs.

use crate::{bit, byte, DEFAULT_PRIORITY, FIRST_SPI, SPECIAL_INTIDS};
use rivet_core::interrupt::{InterruptController, InterruptError, Irq};
use tock_registers::interfaces::{Readable, Writeable};

/// The register blocks, named as in the spec.
#[allow(missing_docs, non_snake_case)]
pub mod registers {
    use tock_registers::register_structs;
    use tock_registers::registers::{ReadOnly, ReadWrite};

    register_structs! {
        /// The distributor (IHI 0069H Table 12-25), the part Rivet uses.
        pub Distributor {
            (0x0000 => pub GICD_CTLR: ReadWrite<u32>),
            (0x0004 => pub GICD_TYPER: ReadOnly<u32>),
            (0x0008 => pub GICD_IIDR: ReadOnly<u32>),
            (0x000c => _reserved0),
            (0x0080 => pub GICD_IGROUPR: [ReadWrite<u32>; 32]),
            (0x0100 => pub GICD_ISENABLER: [ReadWrite<u32>; 32]),
            (0x0180 => pub GICD_ICENABLER: [ReadWrite<u32>; 32]),
            (0x0200 => pub GICD_ISPENDR: [ReadWrite<u32>; 32]),
            (0x0280 => pub GICD_ICPENDR: [ReadWrite<u32>; 32]),
            (0x0300 => pub GICD_ISACTIVER: [ReadWrite<u32>; 32]),
            (0x0380 => pub GICD_ICACTIVER: [ReadWrite<u32>; 32]),
            (0x0400 => pub GICD_IPRIORITYR: [ReadWrite<u32>; 255]),
            (0x07fc => _reserved1),
            (0x0c00 => pub GICD_ICFGR: [ReadWrite<u32>; 64]),
            (0x0d00 => _reserved2),
            (0x6100 => pub GICD_IROUTER: [ReadWrite<u64>; 988]),
            (0x7fe0 => @END),
        }
    }

    register_structs! {
        /// A redistributor's RD_base frame (IHI 0069H Table 12-27), the part Rivet uses.
        pub Redistributor {
            (0x0000 => pub GICR_CTLR: ReadWrite<u32>),
            (0x0004 => pub GICR_IIDR: ReadOnly<u32>),
            (0x0008 => pub GICR_TYPER: ReadOnly<u64>),
            (0x0010 => pub GICR_STATUSR: ReadWrite<u32>),
            (0x0014 => pub GICR_WAKER: ReadWrite<u32>),
            (0x0018 => @END),
        }
    }

    register_structs! {
        /// A redistributor's SGI_base frame (64 KiB after RD_base; IHI 0069H Table 12-29).
        pub Sgi {
            (0x0000 => _reserved0),
            (0x0080 => pub GICR_IGROUPR0: ReadWrite<u32>),
            (0x0084 => _reserved1),
            (0x0100 => pub GICR_ISENABLER0: ReadWrite<u32>),
            (0x0104 => _reserved2),
            (0x0180 => pub GICR_ICENABLER0: ReadWrite<u32>),
            (0x0184 => _reserved3),
            (0x0200 => pub GICR_ISPENDR0: ReadWrite<u32>),
            (0x0204 => _reserved4),
            (0x0280 => pub GICR_ICPENDR0: ReadWrite<u32>),
            (0x0284 => _reserved5),
            (0x0400 => pub GICR_IPRIORITYR: [ReadWrite<u32>; 8]),
            (0x0420 => @END),
        }
    }
}

use registers::{Distributor, Redistributor, Sgi};

/// The CPU interface's system registers (ICC_*), as the arch layer accesses them.
#[derive(Clone, Copy)]
pub struct SystemRegisters {
    /// Enables the system-register interface (ICC_SRE_EL1.SRE), unmasks every priority
    /// (ICC_PMR_EL1 = 0xff) and enables Group 1 (ICC_IGRPEN1_EL1 = 1).
    pub enable: fn(),
    /// Reads ICC_IAR1_EL1: acknowledges the highest-priority Group 1 interrupt, returns its INTID.
    pub acknowledge: fn() -> u32,
    /// Writes ICC_EOIR1_EL1: ends the handling of an acknowledged INTID.
    pub end_of_interrupt: fn(u32),
}

/// GICD_CTLR bits (non-secure view, or the single security state): EnableGrp1 (1), ARE (4),
/// RWP (31, register write pending).
const CTLR_ENABLE_GRP1: u32 = 1 << 1;
const CTLR_ARE: u32 = 1 << 4;
const CTLR_RWP: u32 = 1 << 31;
/// GICR_WAKER: ProcessorSleep (1), ChildrenAsleep (2).
const WAKER_PROCESSOR_SLEEP: u32 = 1 << 1;
const WAKER_CHILDREN_ASLEEP: u32 = 1 << 2;
/// GICR_TYPER: VLPIS (1: four 64 KiB frames per redistributor, not two), Last (4).
const TYPER_VLPIS: u64 = 1 << 1;
const TYPER_LAST: u64 = 1 << 4;
/// Polls of a busy bit before giving up (a broken GIC must not hang the boot).
const SPINS: u32 = 1_000_000;

/// Why a GICv3 could not be brought up.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Error {
    /// No redistributor in the range has this core's affinity.
    NoRedistributor,
    /// A busy bit (GICD_CTLR.RWP, GICR_WAKER.ChildrenAsleep) never cleared.
    Timeout(&'static str),
}

impl core::fmt::Display for Error {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Error::NoRedistributor => {
                f.write_str("no GICv3 redistributor has this core's affinity")
            }
            Error::Timeout(what) => write!(f, "GICv3 {what} stayed busy"),
        }
    }
}

/// A GICv3 seen from the boot core.
pub struct GicV3 {
    distributor: &'static Distributor,
    redistributor: &'static Redistributor,
    sgi: &'static Sgi,
    cpu: SystemRegisters,
    lines: u32,
    /// GICD_IROUTER value routing an SPI to this core (its affinity, Aff3 in bits 39:32).
    route: u64,
}

impl GicV3 {
    /// Takes over the GIC whose distributor is at `distributor` and whose redistributors fill
    /// `redistributors` (`length` bytes), picking the one whose GICR_TYPER affinity is
    /// `affinity` (MPIDR_EL1's Aff3.Aff2.Aff1.Aff0 packed into 32 bits). Reads only; [`init`]
    /// programs it.
    ///
    /// [`init`]: GicV3::init
    ///
    /// # Safety
    ///
    /// 1. `distributor` points at a GICv3 distributor's 64 KiB frame and `redistributors` at
    ///    `length` bytes of redistributor frames, all mapped as Device memory for `'static`.
    /// 2. `cpu` accesses this core's ICC_* registers, and EL2 (if any) lets EL1 use them.
    /// 3. Nothing else programs this GIC.
    pub unsafe fn new(
        distributor: *mut u8,
        redistributors: *mut u8,
        length: usize,
        affinity: u32,
        cpu: SystemRegisters,
    ) -> Result<Self, Error> {
        // SAFETY: obligation 1; MMIO cells are interior-mutable, so shared references are sound.
        let distributor = unsafe { &*(distributor as *const Distributor) };
        let mut offset = 0;
        let redistributor = loop {
            if offset + 0x20000 > length {
                return Err(Error::NoRedistributor);
            }
            // SAFETY: obligation 1: `offset` + 128 KiB is inside the mapped range.
            let frame = unsafe { &*(redistributors.add(offset) as *const Redistributor) };
            let typer = frame.GICR_TYPER.get();
            if (typer >> 32) as u32 == affinity {
                break frame;
            }
            if typer & TYPER_LAST != 0 {
                return Err(Error::NoRedistributor);
            }
            offset += if typer & TYPER_VLPIS != 0 { 0x40000 } else { 0x20000 };
        };
        // SAFETY: obligation 1: the SGI_base frame follows RD_base, inside the checked 128 KiB.
        let sgi = unsafe {
            &*((redistributor as *const Redistributor as *const u8).add(0x10000) as *const Sgi)
        };
        let lines = (32 * ((distributor.GICD_TYPER.get() & 0x1f) + 1)).min(SPECIAL_INTIDS.start);
        let affinity = u64::from(affinity);
        let route = (affinity & 0xff00_0000) << 8 | (affinity & 0x00ff_ffff);
        Ok(Self { distributor, redistributor, sgi, cpu, lines, route })
    }

    /// Enables the distributor with affinity routing, wakes this core's redistributor and enables
    /// the CPU interface. Interrupts stay disabled one by one until
    /// [`InterruptController::enable`].
    pub fn init(&self) -> Result<(), Error> {
        let d = self.distributor;
        d.GICD_CTLR.set(0);
        self.wait_for_distributor()?;
        for index in 1..(self.lines / 32) as usize {
            d.GICD_ICENABLER[index].set(u32::MAX);
            d.GICD_ICPENDR[index].set(u32::MAX);
        }
        d.GICD_CTLR.set(CTLR_ARE | CTLR_ENABLE_GRP1);
        self.wait_for_distributor()?;

        let r = self.redistributor;
        r.GICR_WAKER.set(r.GICR_WAKER.get() & !WAKER_PROCESSOR_SLEEP);
        if !spin_until(|| r.GICR_WAKER.get() & WAKER_CHILDREN_ASLEEP == 0) {
            return Err(Error::Timeout("GICR_WAKER.ChildrenAsleep"));
        }
        self.sgi.GICR_ICENABLER0.set(u32::MAX);
        self.sgi.GICR_ICPENDR0.set(u32::MAX);
        (self.cpu.enable)();
        Ok(())
    }

    /// How many interrupt IDs the distributor implements (SGIs, PPIs and SPIs).
    pub fn lines(&self) -> u32 {
        self.lines
    }

    fn wait_for_distributor(&self) -> Result<(), Error> {
        if spin_until(|| self.distributor.GICD_CTLR.get() & CTLR_RWP == 0) {
            Ok(())
        } else {
            Err(Error::Timeout("GICD_CTLR.RWP"))
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

/// Polls `done` up to [`SPINS`] times.
fn spin_until(done: impl Fn() -> bool) -> bool {
    (0..SPINS).any(|_| done())
}

/// Sets `intid`'s byte in a priority array to [`DEFAULT_PRIORITY`].
fn set_priority(registers: &[tock_registers::registers::ReadWrite<u32>], intid: u32) {
    let (index, shift) = byte(intid);
    let value = registers[index].get() & !(0xff << shift);
    registers[index].set(value | u32::from(DEFAULT_PRIORITY) << shift);
}

// SAFETY: the registers are MMIO cells; every access is a single volatile load or store, which
// the GIC serialises. The read-modify-write updates (group, priority) happen with interrupts
// masked on the one core Rivet runs.
unsafe impl Sync for GicV3 {}
// SAFETY: as for `Sync`: the references are to device registers, not thread-local data.
unsafe impl Send for GicV3 {}

impl InterruptController for GicV3 {
    fn enable(&self, irq: Irq) -> Result<(), InterruptError> {
        let intid = self.check(irq)?;
        let (index, mask) = bit(intid);
        if intid < FIRST_SPI {
            let sgi = self.sgi;
            // Group 1 (writable without security extensions; RAZ/WI to non-secure otherwise,
            // where firmware has already made it Group 1 non-secure).
            sgi.GICR_IGROUPR0.set(sgi.GICR_IGROUPR0.get() | mask);
            set_priority(&sgi.GICR_IPRIORITYR, intid);
            sgi.GICR_ISENABLER0.set(mask);
        } else {
            let d = self.distributor;
            d.GICD_IGROUPR[index].set(d.GICD_IGROUPR[index].get() | mask);
            set_priority(&d.GICD_IPRIORITYR, intid);
            d.GICD_IROUTER[(intid - FIRST_SPI) as usize].set(self.route);
            d.GICD_ISENABLER[index].set(mask);
        }
        Ok(())
    }

    fn disable(&self, irq: Irq) -> Result<(), InterruptError> {
        let intid = self.check(irq)?;
        let (index, mask) = bit(intid);
        if intid < FIRST_SPI {
            self.sgi.GICR_ICENABLER0.set(mask);
        } else {
            self.distributor.GICD_ICENABLER[index].set(mask);
        }
        Ok(())
    }

    fn claim(&self) -> Option<Irq> {
        let intid = (self.cpu.acknowledge)() & 0x00ff_ffff;
        (!SPECIAL_INTIDS.contains(&intid)).then_some(Irq(intid))
    }

    fn complete(&self, irq: Irq) {
        (self.cpu.end_of_interrupt)(irq.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    static EOI: AtomicU32 = AtomicU32::new(0);
    static ENABLED: AtomicU32 = AtomicU32::new(0);
    const FAKE_CPU: SystemRegisters = SystemRegisters {
        enable: || {
            ENABLED.fetch_add(1, Ordering::SeqCst);
        },
        acknowledge: || 27,
        end_of_interrupt: |intid| EOI.store(intid, Ordering::SeqCst),
    };

    #[test]
    fn finds_the_redistributor_and_enables_a_ppi_and_an_spi() {
        let distributor: &'static mut [u32] = Vec::leak(vec![0u32; 0x10000 / 4]);
        distributor[1] = 1; // 64 interrupt IDs
                            // Two redistributors (128 KiB each): affinity 0.0.0.0, then 0.0.0.1 (the last).
        let redistributors: &'static mut [u32] = Vec::leak(vec![0u32; 0x40000 / 4]);
        redistributors[0x20000 / 4 + 3] = 1; // GICR_TYPER[63:32]
        redistributors[0x20000 / 4 + 2] = TYPER_LAST as u32;
        let (d, r) = (distributor.as_mut_ptr(), redistributors.as_mut_ptr());
        // SAFETY: the leaked fakes are as large as the frames; only this test uses them.
        let gic = unsafe { GicV3::new(d.cast(), r.cast(), 0x40000, 1, FAKE_CPU) }.unwrap();
        gic.init().unwrap();
        assert_eq!(ENABLED.load(Ordering::SeqCst), 1);
        gic.enable(Irq(27)).unwrap();
        gic.enable(Irq(33)).unwrap();
        assert_eq!(gic.enable(Irq(64)), Err(InterruptError::OutOfRange(Irq(64))));
        // SAFETY: as above; the driver is done writing.
        let (d, r) = unsafe {
            (std::slice::from_raw_parts(d, 0x10000 / 4), std::slice::from_raw_parts(r, 0x40000 / 4))
        };
        assert_eq!(d[0], CTLR_ARE | CTLR_ENABLE_GRP1);
        let sgi = (0x20000 + 0x10000) / 4;
        assert_eq!(r[sgi + 0x100 / 4], 1 << 27, "GICR_ISENABLER0 of the second redistributor");
        assert_eq!(r[sgi + 0x80 / 4], 1 << 27, "GICR_IGROUPR0");
        assert_eq!(r[sgi + 0x400 / 4 + 6], 0xa0 << 24, "GICR_IPRIORITYR6");
        assert_eq!(r[0x10000 / 4 + 0x100 / 4], 0, "the first redistributor is untouched");
        assert_eq!(d[0x100 / 4 + 1], 2, "GICD_ISENABLER1 for SPI 33");
        assert_eq!((d[0x6100 / 4 + 2], d[0x6100 / 4 + 3]), (1, 0), "GICD_IROUTER33 to 0.0.0.1");
        assert_eq!(gic.claim(), Some(Irq(27)));
        gic.complete(Irq(27));
        assert_eq!(EOI.load(Ordering::SeqCst), 27);
    }

    #[test]
    fn no_matching_redistributor() {
        let distributor: &'static mut [u32] = Vec::leak(vec![0u32; 0x10000 / 4]);
        let redistributors: &'static mut [u32] = Vec::leak(vec![0u32; 0x20000 / 4]);
        redistributors[2] = TYPER_LAST as u32;
        // SAFETY: as above.
        let gic = unsafe {
            GicV3::new(
                distributor.as_mut_ptr().cast(),
                redistributors.as_mut_ptr().cast(),
                0x20000,
                5,
                FAKE_CPU,
            )
        };
        assert_eq!(gic.err(), Some(Error::NoRedistributor));
    }
}
