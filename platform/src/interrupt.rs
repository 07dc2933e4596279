//! Device interrupts: run a function when a device's interrupt line fires.
//!
//! A PC names its device interrupt lines two ways: legacy ISA IRQs 0–15 (the PIT is IRQ 0, COM1
//! IRQ 4) and global system interrupts (GSIs: the I/O APIC inputs, which ISA IRQs map onto, e.g.
//! IRQ 0 → GSI 2 on QEMU's machines). [`set_isa_handler`] and [`set_gsi_handler`] route a line
//! to the boot core, install a handler for it and unmask it; the handler runs in interrupt
//! context, interrupts masked, on the boot core. The boot environment says how lines are routed
//! (the PVH boot: through the I/O APIC, as the ACPI MADT or the MP table describes it; a GIC:
//! a "GSI" is an SPI's INTID, level-sensitive only); where it has no such routing (the Pi 3's
//! BCM2836, Xen PV guests) every call returns [`Error::Unsupported`].
//!
//! [`start_legacy_timer`] programs the PC's 8254 interval timer (PIT) to raise ISA IRQ 0
//! periodically: a device every PC and QEMU x86 machine has, for testing the interrupt path.
//!
//! Weak spots: a handler, once set, stays (core's handler table is write-once), so a line cannot
//! be re-routed; every device interrupt goes to the boot core (no affinity); a level-triggered
//! line's handler must quiet its device before returning, or the line fires again at once.

use rivet_core::interrupt::InterruptError;
pub use rivet_core::interrupt::Irq;
use spin::Once;

/// How a line's signal is sampled.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Trigger {
    /// On a transition (ISA devices, the PIT).
    Edge,
    /// While the line is asserted (PCI INTx).
    Level,
}

/// Which level of the line means "interrupt".
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Polarity {
    /// Active high (ISA).
    High,
    /// Active low (PCI).
    Low,
}

/// Where a line was routed.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Route {
    /// The global system interrupt the line arrives on.
    pub gsi: u32,
    /// The interrupt number the handler is called with (on x86: the vector).
    pub irq: Irq,
    /// How the line is sampled.
    pub trigger: Trigger,
    /// Its active level.
    pub polarity: Polarity,
}

/// Why a line could not be routed.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Error {
    /// This machine or boot environment routes no device interrupts (aarch64, Xen PV), or has
    /// no such device (no PIT).
    Unsupported,
    /// No interrupt controller input serves this line (ISA IRQ above 15, a GSI no I/O APIC
    /// has, or beyond the vectors reserved for devices).
    NoSuchLine(u32),
    /// The line has a handler already.
    InUse(u32),
    /// The interrupt controller refused.
    Controller(InterruptError),
}

impl core::fmt::Display for Error {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Error::Unsupported => f.write_str("device interrupts are not supported here"),
            Error::NoSuchLine(line) => {
                write!(f, "no interrupt controller input serves line {line}")
            }
            Error::InUse(gsi) => write!(f, "GSI {gsi} has a handler already"),
            Error::Controller(e) => write!(f, "interrupt controller: {e}"),
        }
    }
}

impl core::error::Error for Error {}

/// What a boot environment that routes device interrupts provides (the PVH boot's I/O APIC).
pub(crate) trait Router: Sync {
    /// Where ISA IRQ `irq` arrives: GSI, trigger and polarity, from the firmware's tables.
    fn isa_line(&self, irq: u8) -> Option<(u32, Trigger, Polarity)>;
    /// Programs `gsi` (masked) to reach the boot core, sampled as said; returns the interrupt
    /// number its handler will see. [`Error::InUse`] if the line is unmasked already.
    fn route(&self, gsi: u32, trigger: Trigger, polarity: Polarity) -> Result<Irq, Error>;
    /// Starts the PIT's channel 0 raising ISA IRQ 0 every `period_ns` (rounded to its clock).
    fn start_legacy_timer(&self, period_ns: u64) -> Result<(), Error>;
    /// Stops the PIT's channel 0.
    fn stop_legacy_timer(&self);
}

static ROUTER: Once<&'static dyn Router> = Once::new();

/// Installs the boot environment's router (once, during boot).
pub(crate) fn set_router(router: &'static dyn Router) {
    ROUTER.call_once(|| router);
}

fn router() -> Result<&'static dyn Router, Error> {
    ROUTER.get().copied().ok_or(Error::Unsupported)
}

/// Routes ISA IRQ `isa_irq` (0–15) to the boot core as the firmware's tables say (its GSI,
/// trigger and polarity), runs `handler` each time it fires, and unmasks it.
pub fn set_isa_handler(isa_irq: u8, handler: fn(Irq)) -> Result<Route, Error> {
    let (gsi, trigger, polarity) =
        router()?.isa_line(isa_irq).ok_or(Error::NoSuchLine(u32::from(isa_irq)))?;
    set_gsi_handler(gsi, trigger, polarity, handler)
}

/// Routes global system interrupt `gsi` to the boot core, sampled as `trigger` and `polarity`
/// say, runs `handler` each time it fires, and unmasks it.
pub fn set_gsi_handler(
    gsi: u32,
    trigger: Trigger,
    polarity: Polarity,
    handler: fn(Irq),
) -> Result<Route, Error> {
    let irq = router()?.route(gsi, trigger, polarity)?;
    rivet_core::interrupt::set_handler(irq, handler).map_err(|e| match e {
        InterruptError::AlreadyHandled(_) => Error::InUse(gsi),
        e => Error::Controller(e),
    })?;
    Ok(Route { gsi, irq, trigger, polarity })
}

/// Masks a routed line (its handler stays installed; [`enable`] unmasks it again).
pub fn disable(route: &Route) -> Result<(), Error> {
    controller()?.disable(route.irq).map_err(Error::Controller)
}

/// Unmasks a line masked with [`disable`].
pub fn enable(route: &Route) -> Result<(), Error> {
    controller()?.enable(route.irq).map_err(Error::Controller)
}

/// Masks interrupt `irq` at the controller (from its own handler: a level-triggered line whose
/// device is quieted later, outside interrupt context); [`unmask`] undoes it.
pub(crate) fn mask(irq: Irq) {
    if let Ok(controller) = controller() {
        let _ = controller.disable(irq);
    }
}

/// Unmasks interrupt `irq` masked with [`mask`].
pub(crate) fn unmask(irq: Irq) {
    if let Ok(controller) = controller() {
        let _ = controller.enable(irq);
    }
}

fn controller() -> Result<&'static dyn rivet_core::interrupt::InterruptController, Error> {
    router()?;
    rivet_core::interrupt::controller().map_err(Error::Controller)
}

/// Starts the PC's interval timer (8254 PIT, channel 0, rate generator) raising ISA IRQ 0 every
/// `period` (1 µs to 54.9 ms, rounded to its 1.193182 MHz clock). Route IRQ 0 first
/// ([`set_isa_handler`]). For tests of the interrupt path; [`Error::Unsupported`] where there
/// is no PIT.
pub fn start_legacy_timer(period: crate::time::Duration) -> Result<(), Error> {
    let period_ns = u64::try_from(period.as_nanos()).unwrap_or(u64::MAX);
    router()?.start_legacy_timer(period_ns)
}

/// Stops the interval timer [`start_legacy_timer`] started (no further IRQ 0).
pub fn stop_legacy_timer() {
    if let Ok(router) = router() {
        router.stop_legacy_timer();
    }
}
