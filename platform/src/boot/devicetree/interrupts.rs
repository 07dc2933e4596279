//! The interrupt controller and the generic timer's interrupt, wired together: what makes
//! `sleep` halt the core and the scheduler preempt.
//!
//! Shared by the devicetree and UEFI boots (the GIC comes from the DTB or the MADT, the timer's
//! INTID from `/timer` or the GTDT). The controller is a GICv2, a GICv3, or, on a Raspberry Pi 3
//! (no GIC), the BCM2836 ARM-local controller, which routes each core's timer interrupts and
//! mailboxes to that core (its interrupt numbers are IRQ source bits: the virtual timer is 3,
//! mailbox 0 — the reschedule IPI — is 4). [`init`] brings the controller up, installs it as
//! core's interrupt controller, gives the virtual timer's interrupt a handler that disarms the
//! alarm and counts the interrupt (`rivet::time::alarm_interrupts`), and installs the virtual
//! timer as `sleep`'s alarm with `cpu::wait_for_interrupt` (`wfi`) as the idle. Every other core
//! calls `init_this_core` as it comes up (its GIC CPU interface or redistributor, or its BCM2836
//! routing; the timer interrupt; and the reschedule IPI: SGI 1, or mailbox 0).
//!
//! Weak spots: per-core interrupts other than the timer and the reschedule IPI reach only the
//! boot core's redistributor on a GICv3; SPIs all go to the boot core; a GIC that does not come
//! up (no redistributor for this core, a busy bit stuck) is reported as bad boot input rather
//! than falling back to spinning. On the BCM2836 only the per-core timers and mailboxes are
//! routed: the Pi's peripheral interrupts (the BCM2835 controller behind source bit 8) are not.

use crate::interrupt::{Error as RouteError, Polarity, Trigger};
use core::sync::atomic::Ordering;
use rivet_bcm2836_local::Bcm2836Local;
use rivet_core::interrupt::{self, Irq};
use rivet_core::memory::PhysRange;
use rivet_core::time::Alarm;
use rivet_gic::{GicV2, GicV3, GicV3Error, SystemRegisters};
use spin::Once;

static GICV2: Once<GicV2> = Once::new();
static GICV3: Once<GicV3> = Once::new();
static BCM2836: Once<Bcm2836Local> = Once::new();

/// An interrupt controller to bring up: its kind and CPU physical register ranges.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Controller {
    /// GICv2: distributor and CPU interface.
    V2 { distributor: u64, cpu_interface: u64 },
    /// GICv3: distributor and the redistributor range (base, length).
    V3 { distributor: u64, redistributors: (u64, u64) },
    /// The BCM2836 ARM-local interrupt controller (a Pi 3): its register block.
    Bcm2836 { base: u64 },
}

/// Why the interrupts could not be set up.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum InterruptSetupError {
    /// A GICv3 on a CPU without the GIC system-register interface.
    NoSystemRegisters,
    /// The GICv3 did not come up.
    GicV3(GicV3Error),
    /// The timer's interrupt could not be given its handler.
    Timer(interrupt::InterruptError),
    /// The firmware's description of the GIC or timer is unusable (what is wrong).
    Unsupported(&'static str),
}

impl core::fmt::Display for InterruptSetupError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            InterruptSetupError::NoSystemRegisters => {
                f.write_str("GICv3 described, but the CPU has no GIC system-register interface")
            }
            InterruptSetupError::GicV3(e) => write!(f, "{e}"),
            InterruptSetupError::Timer(e) => write!(f, "timer interrupt: {e}"),
            InterruptSetupError::Unsupported(what) => f.write_str(what),
        }
    }
}

impl Controller {
    /// The controller the ACPI MADT describes. GIC version 0 ("read the hardware") is taken as
    /// v3 when there are redistributor ranges, else v2. Redistributors given per GICC entry
    /// (no GICR entry) are not supported.
    pub(crate) fn from_madt(gic: &rivet_bootinfo::acpi::Gic) -> Result<Self, InterruptSetupError> {
        let v3 = match gic.version {
            1 | 2 => false,
            3 | 4 => true,
            _ => gic.redistributor_ranges > 0,
        };
        if v3 {
            if gic.redistributor_ranges == 0 {
                return Err(InterruptSetupError::Unsupported(
                    "MADT: a GICv3 without a GICR (redistributor range) entry",
                ));
            }
            let (base, length) = gic.redistributors;
            Ok(Controller::V3 {
                distributor: gic.distributor,
                redistributors: (base, u64::from(length)),
            })
        } else if gic.cpu_interface == 0 {
            Err(InterruptSetupError::Unsupported("MADT: a GICv2 without a CPU interface base"))
        } else {
            Ok(Controller::V2 { distributor: gic.distributor, cpu_interface: gic.cpu_interface })
        }
    }

    /// The register ranges to map as Device memory: the distributor (4 KiB on a v2, 64 KiB on a
    /// v3) and the CPU interface (8 KiB) or the redistributors; the BCM2836's one block and an
    /// empty range.
    pub(crate) fn ranges(&self) -> [PhysRange; 2] {
        match *self {
            Controller::V2 { distributor, cpu_interface } => [
                PhysRange::from_start_len(distributor, 0x1000),
                PhysRange::from_start_len(cpu_interface, 0x2000),
            ],
            Controller::V3 { distributor, redistributors: (base, length) } => [
                PhysRange::from_start_len(distributor, 0x1_0000),
                PhysRange::from_start_len(base, length),
            ],
            Controller::Bcm2836 { base } => [
                PhysRange::from_start_len(base, rivet_bcm2836_local::SIZE),
                PhysRange::from_start_len(base, 0),
            ],
        }
    }
}

/// The GICv3 CPU interface, through the arch layer's ICC_* accessors.
const ICC: SystemRegisters = SystemRegisters {
    enable: rivet_arch::gic::enable,
    acknowledge: rivet_arch::gic::acknowledge,
    end_of_interrupt: rivet_arch::gic::end_of_interrupt,
};

/// The calling core's number for the BCM2836 local controller: MPIDR_EL1.Aff0 (0-3 on a Pi 3).
fn bcm2836_core() -> usize {
    (rivet_arch::cpu::affinity() & 0xff) as usize
}

/// The virtual timer's interrupt: the deadline has passed. Disarming drops the (level) line;
/// `sleep` re-checks the clock when `wfi` returns.
fn timer_interrupt(_: Irq) {
    rivet_arch::time::ALARM.disarm();
    crate::time::ALARM_INTERRUPTS.fetch_add(1, Ordering::Relaxed);
}

/// Brings up `controller`, installs it, and makes the virtual timer (interrupt `timer`: a GIC
/// INTID, or a BCM2836 source bit) `sleep`'s alarm. Runs once, with the MMU on (atomics) and
/// IRQs masked.
///
/// # Safety
///
/// 1. The ranges in `controller` are the controller's registers as the firmware describes them,
///    mapped as Device memory at their physical addresses for the rest of the run.
/// 2. Nothing else drives the controller.
pub(crate) unsafe fn init(controller: Controller, timer: u32) -> Result<(), InterruptSetupError> {
    match controller {
        Controller::V2 { distributor, cpu_interface } => {
            // SAFETY: obligations 1 and 2 are the caller's.
            let gic = unsafe { GicV2::new(distributor as *mut u8, cpu_interface as *mut u8) };
            let gic = GICV2.call_once(|| gic);
            gic.init();
            interrupt::set_controller(gic);
            log::debug!(
                "interrupts: GICv2 (distributor {distributor:#x}, CPU interface \
                 {cpu_interface:#x}, {} lines), virtual timer INTID {timer}",
                gic.lines()
            );
        }
        Controller::V3 { distributor, redistributors: (base, length) } => {
            if !rivet_arch::gic::has_system_registers() {
                return Err(InterruptSetupError::NoSystemRegisters);
            }
            // SAFETY: obligations 1 and 2 are the caller's; the CPU has the ICC_* interface
            // (checked above) and the entry code set ICC_SRE_EL2.Enable where it owned EL2.
            let gic = unsafe {
                GicV3::new(
                    distributor as *mut u8,
                    base as *mut u8,
                    length as usize,
                    rivet_arch::cpu::affinity(),
                    ICC,
                )
            }
            .map_err(InterruptSetupError::GicV3)?;
            let gic = GICV3.call_once(|| gic);
            gic.init().map_err(InterruptSetupError::GicV3)?;
            interrupt::set_controller(gic);
            log::debug!(
                "interrupts: GICv3 (distributor {distributor:#x}, redistributors {base:#x}+\
                 {length:#x}, {} lines), virtual timer INTID {timer}",
                gic.lines()
            );
        }
        Controller::Bcm2836 { base } => {
            // SAFETY: obligations 1 and 2 are the caller's; the block's cores are numbered by
            // MPIDR Aff0, which `bcm2836_core` reads.
            let local = unsafe { Bcm2836Local::new(base as *mut u8, bcm2836_core) };
            let local = BCM2836.call_once(|| local);
            local.init();
            interrupt::set_controller(local);
            log::debug!(
                "interrupts: BCM2836 local controller ({base:#x}), virtual timer source {timer}"
            );
        }
    }
    if GICV2.get().is_some() || GICV3.get().is_some() {
        crate::interrupt::set_router(&GicRouter);
    }
    rivet_arch::time::ALARM.disarm();
    interrupt::set_handler(Irq(timer), timer_interrupt).map_err(InterruptSetupError::Timer)?;
    rivet_core::time::set_alarm(&rivet_arch::time::ALARM, rivet_arch::cpu::wait_for_interrupt);
    crate::time::HAS_ALARM.store(true, Ordering::Relaxed);
    Ok(())
}

/// Device interrupts on a GIC, for `crate::interrupt`: a line's number is its SPI's INTID (as
/// the DTB's `interrupts` gives it, 32 + the SPI number), delivered to the boot core. Lines are
/// level-sensitive, active high: the GIC's reset configuration, which QEMU's virtio-mmio lines
/// (high while their interrupt status is not zero) need; other configurations are refused.
struct GicRouter;

impl crate::interrupt::Router for GicRouter {
    fn isa_line(&self, _irq: u8) -> Option<(u32, Trigger, Polarity)> {
        None
    }

    fn route(&self, gsi: u32, trigger: Trigger, polarity: Polarity) -> Result<Irq, RouteError> {
        let lines = GICV2.get().map(|g| g.lines()).or_else(|| GICV3.get().map(|g| g.lines()));
        let lines = lines.ok_or(RouteError::Unsupported)?;
        if !(32..lines.min(1020)).contains(&gsi) {
            return Err(RouteError::NoSuchLine(gsi));
        }
        if (trigger, polarity) != (Trigger::Level, Polarity::High) {
            return Err(RouteError::Unsupported);
        }
        Ok(Irq(gsi))
    }

    fn start_legacy_timer(&self, _period_ns: u64) -> Result<(), RouteError> {
        Err(RouteError::Unsupported)
    }

    fn stop_legacy_timer(&self) {}
}

/// The reschedule inter-processor interrupt on a GIC: SGI 1 (SGI 0 is left free). Its handler
/// is `crate::smp::reschedule_interrupt`, given by [`enable_reschedule`]. On the BCM2836 it is
/// mailbox 0 ([`rivet_bcm2836_local::MAILBOX0`]).
pub(crate) const RESCHEDULE_SGI: u32 = 1;

/// The reschedule IPI's interrupt number on the installed controller.
fn reschedule_irq() -> Irq {
    if BCM2836.get().is_some() {
        rivet_bcm2836_local::MAILBOX0
    } else {
        Irq(RESCHEDULE_SGI)
    }
}

/// Where a reschedule IPI for one core goes.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum SgiTarget {
    /// GICv2: the core's CPU interface, as a one-bit GICD_SGIR target list.
    V2(u8),
    /// GICv3: the core's affinity (Aff3.Aff2.Aff1.Aff0 packed, as `cpu::affinity` gives it).
    V3(u32),
    /// BCM2836: the core's number, whose mailbox 0 is written.
    Mailbox(u8),
}

/// The calling core's IPI target, once [`init`] (boot core) or [`init_this_core`] (another
/// core) brought up the controller; `None` without one.
pub(crate) fn this_core_sgi_target() -> Option<SgiTarget> {
    if let Some(gic) = GICV2.get() {
        Some(SgiTarget::V2(gic.this_core_target()))
    } else if GICV3.get().is_some() {
        Some(SgiTarget::V3(rivet_arch::cpu::affinity()))
    } else {
        let core = BCM2836.get()?.this_core()?;
        Some(SgiTarget::Mailbox(core as u8))
    }
}

/// Gives the reschedule IPI (SGI [`RESCHEDULE_SGI`], or mailbox 0) its handler and enables it
/// on the boot core. Call on the boot core after [`init`].
pub(crate) fn enable_reschedule() -> Result<(), InterruptSetupError> {
    interrupt::set_handler(reschedule_irq(), crate::smp::reschedule_interrupt)
        .map_err(InterruptSetupError::Timer)
}

/// Brings up the calling core's part of the controller the boot core's [`init`] set up: its
/// GICv2 banked registers and CPU interface, its GICv3 redistributor and CPU interface, or its
/// BCM2836 routing and mailboxes; enables the virtual timer's interrupt `timer` (whose handler
/// [`init`] installed) and the reschedule IPI, with the alarm disarmed. Returns the core's IPI
/// target (`None` without a controller: the core then has no interrupts at all). Runs on that
/// core, with the MMU on and IRQs masked.
pub(crate) fn init_this_core(timer: Option<u32>) -> Result<Option<SgiTarget>, InterruptSetupError> {
    rivet_arch::time::ALARM.disarm();
    if let Some(local) = BCM2836.get() {
        let mut sources = [rivet_bcm2836_local::MAILBOX0, Irq(0)];
        let sources = match timer {
            Some(timer) => {
                sources[1] = Irq(timer);
                &sources[..]
            }
            None => &sources[..1],
        };
        local.init_this_core(sources).map_err(InterruptSetupError::Timer)?;
        return Ok(this_core_sgi_target());
    }
    let mut private = [RESCHEDULE_SGI, 0];
    let private = match timer {
        Some(timer) => {
            private[1] = timer;
            &private[..]
        }
        None => &private[..1],
    };
    if let Some(gic) = GICV2.get() {
        gic.init_this_core(private).map_err(InterruptSetupError::Timer)?;
    } else if let Some(gic) = GICV3.get() {
        if !rivet_arch::gic::has_system_registers() {
            return Err(InterruptSetupError::NoSystemRegisters);
        }
        gic.init_this_core(rivet_arch::cpu::affinity(), private)
            .map_err(InterruptSetupError::GicV3)?;
    }
    Ok(this_core_sgi_target())
}

/// Sends the reschedule IPI to the core at `target`.
pub(crate) fn send_reschedule(target: SgiTarget) {
    match target {
        SgiTarget::V2(mask) => {
            if let Some(gic) = GICV2.get() {
                // This core's earlier stores are visible to the target before the SGI is
                // (Linux's `dmb ishst` before GICD_SGIR; the GICv3 accessor has its own).
                core::sync::atomic::fence(Ordering::SeqCst);
                gic.send_sgi(mask, RESCHEDULE_SGI);
            }
        }
        SgiTarget::V3(affinity) => {
            rivet_arch::gic::send_sgi(GicV3::sgi1r(affinity, RESCHEDULE_SGI))
        }
        SgiTarget::Mailbox(core) => {
            if let Some(local) = BCM2836.get() {
                // `send_ipi` fences first: this core's stores are visible before the IPI.
                local.send_ipi(usize::from(core));
            }
        }
    }
}

/// Installs the logger before `runtime::start` does, at the level `rivet.log` in `bootargs`
/// asks for, so device discovery can log at debug level. There is no heap yet, so this is a
/// plain word scan (quoting is the runtime's business); anything unusual is left for the
/// runtime's full parse to handle or report.
pub(crate) fn early_logger(bootargs: &str) {
    let words = bootargs.split_ascii_whitespace().take_while(|&word| word != "--");
    let value = words.filter_map(|word| word.strip_prefix("rivet.log=")).last();
    if let Some(Ok(level)) = value.map(rivet_core::logger::parse_level) {
        rivet_core::logger::init(level);
    }
}
