//! GICv3: distributor and redistributor memory-mapped, CPU interface through system registers
//! (IHI 0069H, chapters 12 and 9).
//!
//! The distributor runs with affinity routing (GICD_CTLR.ARE_NS); SGIs and PPIs are configured in
//! this core's redistributor (its SGI_base frame), SPIs in the distributor and routed to this
//! core by affinity (GICD_IROUTER).
//!
//! Each core has its own redistributor, found by affinity in the redistributor range: the boot
//! core's by [`GicV3::new`], another core's by [`GicV3::init_this_core`], run on that core. SGIs
//! go out through the CPU interface (ICC_SGI1R_EL1, a system register the platform writes with
//! the value [`GicV3::sgi1r`] builds).
//!
//! Weak spot: [`InterruptController::enable`] of an SGI or PPI programs the *boot core's*
//! redistributor whichever core calls it; another core's private interrupts are the ones
//! [`GicV3::init_this_core`] was given.

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
    /// The redistributor range (every core's frames) and its length in bytes.
    redistributors: *mut u8,
    length: usize,
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
        // SAFETY: obligation 1: the range is mapped for 'static.
        let (redistributor, sgi) = unsafe { find_redistributor(redistributors, length, affinity) }?;
        let lines = (32 * ((distributor.GICD_TYPER.get() & 0x1f) + 1)).min(SPECIAL_INTIDS.start);
        let affinity = u64::from(affinity);
        let route = (affinity & 0xff00_0000) << 8 | (affinity & 0x00ff_ffff);
        Ok(Self { distributor, redistributors, length, redistributor, sgi, cpu, lines, route })
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

        wake(self.redistributor, self.sgi)?;
        (self.cpu.enable)();
        Ok(())
    }

    /// Brings up the calling core's part of the GIC, after [`GicV3::init`] ran on the boot core:
    /// finds the redistributor whose affinity is `affinity` (the calling core's, packed as for
    /// [`GicV3::new`]), wakes it, enables `private` (SGIs and PPIs, INTIDs below 32) in it, and
    /// enables this core's CPU interface.
    pub fn init_this_core(&self, affinity: u32, private: &[u32]) -> Result<(), Error> {
        // SAFETY: the range was mapped for 'static (obligation 1 of `new`).
        let (redistributor, sgi) =
            unsafe { find_redistributor(self.redistributors, self.length, affinity) }?;
        wake(redistributor, sgi)?;
        for &intid in private.iter().filter(|&&intid| intid < FIRST_SPI) {
            let (_, mask) = bit(intid);
            sgi.GICR_IGROUPR0.set(sgi.GICR_IGROUPR0.get() | mask);
            set_priority(&sgi.GICR_IPRIORITYR, intid);
            sgi.GICR_ISENABLER0.set(mask);
        }
        (self.cpu.enable)();
        Ok(())
    }

    /// The ICC_SGI1R_EL1 value that sends SGI `intid` (0-15) to the one core whose affinity is
    /// `affinity` (packed as for [`GicV3::new`]: Aff3.Aff2.Aff1.Aff0): TargetList (15:0) has bit
    /// Aff0 % 16, RS (47:44) is Aff0 / 16, Aff1 (23:16), INTID (27:24), Aff2 (39:32), Aff3
    /// (55:48), IRM (40) 0.
    pub fn sgi1r(affinity: u32, intid: u32) -> u64 {
        let [aff3, aff2, aff1, aff0] = affinity.to_be_bytes().map(u64::from);
        (1 << (aff0 % 16))
            | aff1 << 16
            | u64::from(intid & 0xf) << 24
            | aff2 << 32
            | (aff0 / 16) << 44
            | aff3 << 48
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

/// The RD_base and SGI_base frames of the redistributor whose GICR_TYPER affinity is
/// `affinity`, in the `length` bytes of frames at `redistributors`.
///
/// # Safety
///
/// The range is a GICv3's redistributor frames, mapped as Device memory for `'static`.
unsafe fn find_redistributor(
    redistributors: *mut u8,
    length: usize,
    affinity: u32,
) -> Result<(&'static Redistributor, &'static Sgi), Error> {
    let mut offset = 0;
    loop {
        if offset + 0x20000 > length {
            return Err(Error::NoRedistributor);
        }
        // SAFETY: the caller's obligation: `offset` + 128 KiB is inside the mapped range.
        let frame = unsafe { &*(redistributors.add(offset) as *const Redistributor) };
        let typer = frame.GICR_TYPER.get();
        if (typer >> 32) as u32 == affinity {
            // SAFETY: the SGI_base frame follows RD_base, inside the checked 128 KiB.
            let sgi = unsafe { &*(redistributors.add(offset + 0x10000) as *const Sgi) };
            return Ok((frame, sgi));
        }
        if typer & TYPER_LAST != 0 {
            return Err(Error::NoRedistributor);
        }
        offset += if typer & TYPER_VLPIS != 0 { 0x40000 } else { 0x20000 };
    }
}

/// Wakes a redistributor (GICR_WAKER.ProcessorSleep cleared, then ChildrenAsleep awaited) and
/// leaves its SGIs and PPIs disabled and not pending.
fn wake(r: &Redistributor, sgi: &Sgi) -> Result<(), Error> {
    r.GICR_WAKER.set(r.GICR_WAKER.get() & !WAKER_PROCESSOR_SLEEP);
    if !spin_until(|| r.GICR_WAKER.get() & WAKER_CHILDREN_ASLEEP == 0) {
        return Err(Error::Timeout("GICR_WAKER.ChildrenAsleep"));
    }
    sgi.GICR_ICENABLER0.set(u32::MAX);
    sgi.GICR_ICPENDR0.set(u32::MAX);
    Ok(())
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
// the GIC serialises; the redistributor range pointer is only read through, to find frames. The
// read-modify-write updates (group, priority) happen with interrupts masked, on a core's own
// redistributor in `init_this_core`, and on the boot core's redistributor or the distributor in
// `enable`, which the platform calls from one core at a time (its interrupt set-up).
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
    fn a_secondary_cores_redistributor() {
        let distributor: &'static mut [u32] = Vec::leak(vec![0u32; 0x10000 / 4]);
        // Three redistributors: 0.0.0.0, 0.0.0.1 (VLPIS: 256 KiB), 0.0.0.2 (the last).
        let redistributors: &'static mut [u32] = Vec::leak(vec![0u32; 0x80000 / 4]);
        redistributors[0x20000 / 4 + 3] = 1;
        redistributors[0x20000 / 4 + 2] = TYPER_VLPIS as u32;
        redistributors[0x60000 / 4 + 3] = 2;
        redistributors[0x60000 / 4 + 2] = TYPER_LAST as u32;
        redistributors[0x60000 / 4 + 5] = WAKER_PROCESSOR_SLEEP; // GICR_WAKER, asleep
        let (d, r) = (distributor.as_mut_ptr(), redistributors.as_mut_ptr());
        static SECONDARY_ENABLED: AtomicU32 = AtomicU32::new(0);
        let cpu = SystemRegisters {
            enable: || {
                SECONDARY_ENABLED.fetch_add(1, Ordering::SeqCst);
            },
            ..FAKE_CPU
        };
        // SAFETY: as in the test above.
        let gic = unsafe { GicV3::new(d.cast(), r.cast(), 0x80000, 0, cpu) }.unwrap();
        gic.init_this_core(2, &[1, 27, 40]).unwrap();
        assert_eq!(SECONDARY_ENABLED.load(Ordering::SeqCst), 1, "the CPU interface is enabled");
        assert_eq!(gic.init_this_core(3, &[]), Err(Error::NoRedistributor));
        // SAFETY: as above; the driver is done writing.
        let r = unsafe { std::slice::from_raw_parts(r, 0x80000 / 4) };
        assert_eq!(r[0x60000 / 4 + 5], 0, "woken");
        let sgi = (0x60000 + 0x10000) / 4;
        assert_eq!(r[sgi + 0x180 / 4], u32::MAX, "GICR_ICENABLER0 cleared first");
        // Plain RAM keeps only the last write-1-to-set (PPI 27's); the group bits accumulate.
        assert_eq!(r[sgi + 0x100 / 4], 1 << 27, "GICR_ISENABLER0");
        assert_eq!(r[sgi + 0x80 / 4], 1 << 27 | 1 << 1, "GICR_IGROUPR0: PPI 27, SGI 1, no SPI");
        assert_eq!(r[sgi + 0x400 / 4], 0xa0 << 8, "GICR_IPRIORITYR0 for SGI 1");
        assert_eq!(r[0x30000 / 4 + 0x100 / 4], 0, "the middle redistributor is untouched");
    }

    #[test]
    fn sgi1r_values() {
        assert_eq!(GicV3::sgi1r(0, 1), 1 << 24 | 1);
        assert_eq!(GicV3::sgi1r(3, 1), 1 << 24 | 1 << 3);
        // Aff3 = 1, Aff2 = 2, Aff1 = 3, Aff0 = 17: RS 1, TargetList bit 1.
        let value = GicV3::sgi1r(0x0102_0311, 1);
        assert_eq!(value, 1 << 48 | 1 << 44 | 2 << 32 | 1 << 24 | 3 << 16 | 1 << 1);
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
