//! The I/O APIC on a PVH machine: device interrupts, and the one interrupt controller core sees.
//!
//! Finding it ([`discover`], during boot, while the boot page tables map the firmware's memory):
//! the firmware tables `smp.rs` finds — the ACPI MADT's I/O APIC and Interrupt Source Override
//! entries (q35), or the MP table's I/O APIC and I/O interrupt assignment entries (`microvm,
//! acpi=off`) — read by `rivet_bootinfo::acpi::{x86_interrupts, mp_interrupts}`. The memory
//! setup maps the chip's page as Device ([`mmio_page`]); [`init`] (after the local APIC's) masks
//! every pin and installs the routing `crate::interrupt` offers applications.
//!
//! Vectors: GSI `g` (below [`DEVICE_VECTOR_COUNT`]) is delivered as vector
//! [`DEVICE_VECTOR_BASE`]` + g` to the boot core, so a handler's `Irq` is that vector and core's
//! handler table needs no second numbering. The entry stubs for those vectors are in
//! `rivet_arch::trap`.
//!
//! One controller ([`Controller`], installed by `apic.rs` instead of the bare local APIC): the
//! local APIC's vectors (timer, spurious, reschedule IPI) are enabled and disabled by the local
//! APIC, device vectors by masking their I/O APIC pin; `claim` is the vector the CPU entered
//! with and `complete` the local APIC's EOI (which the local APIC broadcasts to the I/O APIC,
//! ending a level-triggered pin's cycle), for both.
//!
//! Weak spots: only the I/O APIC whose pins include GSI 0 is driven (QEMU's second one on
//! `microvm,ioapic2=on`, GSIs 24+, is left as the firmware set it up: masked); every device
//! interrupt goes to the boot core; the boot core's APIC id must fit in 8 bits (physical
//! destination mode without interrupt remapping). QEMU's `microvm,acpi=on` MADT has no override
//! for ISA IRQ 0 although QEMU wires the PIT to pin 2 — so there the PIT route is wrong (the MP
//! table, which `microvm,acpi=off` uses, is right). [`init`] runs before the logger exists, so
//! why a machine has no device interrupts is not reported: `crate::interrupt` just says
//! "unsupported".

use super::smp::{find_tables, BootMap, Tables};
use crate::interrupt::{Error, Polarity, Router, Trigger};
use rivet_arch::cpu::{disable_interrupts, restore_interrupts};
use rivet_arch::trap::{DEVICE_VECTORS, DEVICE_VECTOR_BASE, DEVICE_VECTOR_COUNT};
use rivet_bootinfo::acpi::{self, X86Interrupts};
use rivet_core::interrupt::{set_controller, InterruptController, InterruptError, Irq};
use rivet_core::memory::PAGE_SIZE;
use rivet_ioapic::{IoApic, Redirection, RegisterAccess};
use spin::Once;

/// An I/O APIC's two registers, at its physical address (mapped Device, see [`mmio_page`]).
struct Mmio(u64);

/// IOWIN's offset from IOREGSEL.
const IOWIN: u64 = 0x10;

impl RegisterAccess for Mmio {
    fn select(&self, register: u8) {
        // SAFETY: `self.0` is the I/O APIC's register window, mapped Device read-write by
        // `set_up_memory` (mmio_page); IOREGSEL is its first, 4-byte aligned word.
        unsafe { core::ptr::write_volatile(self.0 as *mut u32, u32::from(register)) }
    }

    fn read_window(&self) -> u32 {
        // SAFETY: as in `select`; IOWIN is the aligned word at offset 0x10 of the same page.
        unsafe { core::ptr::read_volatile((self.0 + IOWIN) as *const u32) }
    }

    fn write_window(&self, value: u32) {
        // SAFETY: as in `read_window`.
        unsafe { core::ptr::write_volatile((self.0 + IOWIN) as *mut u32, value) }
    }
}

/// What [`discover`] found: the routing, or why there is none.
static FOUND: Once<Result<X86Interrupts, Problem>> = Once::new();

/// Why no I/O APIC is used.
#[derive(Clone, Copy, Debug)]
enum Problem {
    NoTables,
    Tables(acpi::Error),
    NoIoApic,
}

impl core::fmt::Display for Problem {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Problem::NoTables => f.write_str("no ACPI or MP table"),
            Problem::Tables(e) => write!(f, "{e}"),
            Problem::NoIoApic => f.write_str("the tables list no I/O APIC at GSI 0"),
        }
    }
}

/// Reads the I/O APICs and the ISA routing from the firmware's tables. Call during boot, before
/// the kernel's page tables replace the boot ones; `start_info` is the validated start info's
/// physical address.
pub(super) fn discover(start_info: u64) {
    let memory = BootMap;
    let found = match find_tables(start_info) {
        None => Err(Problem::NoTables),
        Some(Tables::Acpi(rsdp)) => acpi::x86_interrupts(&memory, rsdp).map_err(Problem::Tables),
        Some(Tables::Mp(floating)) => {
            acpi::mp_interrupts(&memory, floating).map_err(Problem::Tables)
        }
    };
    let found = found.and_then(|found| match found.io_apic_for(0, 1) {
        Some(_) => Ok(found),
        None => Err(Problem::NoIoApic),
    });
    FOUND.call_once(|| found);
}

/// The I/O APIC driven (the one whose pin 0 is GSI 0), as the tables list it.
fn first() -> Option<acpi::IoApicEntry> {
    let found = FOUND.get()?.as_ref().ok()?;
    found.io_apic_for(0, 1).map(|(entry, _)| entry)
}

/// The I/O APIC's register page, to map as Device before [`init`].
pub(super) fn mmio_page() -> Option<u64> {
    first().map(|entry| u64::from(entry.address) & !(PAGE_SIZE - 1))
}

/// The driver, once [`init`] has taken the chip over, and the boot core's APIC id.
struct Devices {
    chip: IoApic<Mmio>,
    destination: u8,
    /// The chip as the tables list it, and how many I/O APICs they list (for the log).
    entry: acpi::IoApicEntry,
    listed: usize,
}

/// Says once which I/O APIC routes device interrupts: `init` runs before the logger is set up,
/// the first route is the first moment it matters (as `apic.rs` does with the timer mode).
fn describe(devices: &Devices) {
    static DESCRIBED: Once<()> = Once::new();
    DESCRIBED.call_once(|| {
        log::debug!(
            "interrupts: I/O APIC id {} (version {:#x}) at {:#x}, {} pins from GSI {}, of {} \
             listed; devices interrupt APIC id {}",
            devices.entry.id,
            devices.chip.version(),
            devices.entry.address,
            devices.chip.pins(),
            devices.entry.gsi_base,
            devices.listed,
            devices.destination,
        );
    });
}

static DEVICES: Once<Devices> = Once::new();

/// Takes over the I/O APIC [`discover`] found (every pin masked) and offers its routing to
/// `crate::interrupt`. Call on the boot core after [`mmio_page`] is mapped and the local APIC is
/// up (`apic::init`), interrupts masked.
pub(super) fn init() {
    let found = match FOUND.get() {
        Some(Ok(found)) => found,
        Some(Err(problem)) => {
            log::debug!("interrupts: no device interrupts ({problem})");
            return;
        }
        None => return,
    };
    let Some(entry) = first() else { return };
    let Some(id) = super::apic::id() else {
        log::debug!("interrupts: no local APIC, so no device interrupts");
        return;
    };
    let Ok(destination) = u8::try_from(id) else {
        log::warn!("interrupts: boot core APIC id {id} needs interrupt remapping; no devices");
        return;
    };
    // SAFETY: the address is the I/O APIC the firmware lists, its page mapped Device by
    // set_up_memory (mmio_page); this is the only driver for it (obligation 1).
    let chip = unsafe { IoApic::new(Mmio(u64::from(entry.address)), entry.gsi_base) };
    DEVICES.call_once(|| Devices { chip, destination, entry, listed: found.io_apics_listed });
    crate::interrupt::set_router(&ROUTER);
}

/// The pin of device vector `vector`, if it is one and the chip has that pin.
fn pin_of(devices: &Devices, vector: u32) -> Option<u32> {
    let vector = u8::try_from(vector).ok().filter(|v| DEVICE_VECTORS.contains(v))?;
    devices.chip.pin_of(u32::from(vector - DEVICE_VECTOR_BASE))
}

/// Runs `f` with interrupts masked on this core: the driver's lock is not interrupt-safe, and
/// core's `handle` may mask a pin from an interrupt handler.
fn masked<T>(f: impl FnOnce() -> T) -> T {
    let enabled = disable_interrupts();
    let result = f();
    restore_interrupts(enabled);
    result
}

/// The x86 interrupt controller: the local APIC for its own vectors, the I/O APIC's pins for
/// device vectors; see the module doc.
pub(super) struct Controller {
    local: Once<&'static dyn InterruptController>,
}

static CONTROLLER: Controller = Controller { local: Once::new() };

/// Installs the controller, with `local` (the local APIC driver) for everything but device
/// vectors. Called by `apic::init`.
pub(super) fn install_controller(local: &'static dyn InterruptController) {
    CONTROLLER.local.call_once(|| local);
    set_controller(&CONTROLLER);
}

impl Controller {
    fn local(&self) -> &'static dyn InterruptController {
        // Installed before core can see `self` (install_controller), so always set.
        *self.local.get().expect("the local APIC is installed with the controller")
    }

    /// Masks or unmasks device vector `irq`'s pin; `None` if `irq` is not a device vector.
    fn set_masked(&self, irq: Irq, masked_now: bool) -> Option<Result<(), InterruptError>> {
        let vector = u8::try_from(irq.0).ok().filter(|v| DEVICE_VECTORS.contains(v))?;
        let Some(devices) = DEVICES.get() else {
            return Some(Err(InterruptError::OutOfRange(irq)));
        };
        let Some(pin) = pin_of(devices, u32::from(vector)) else {
            return Some(Err(InterruptError::OutOfRange(irq)));
        };
        Some(
            masked(|| devices.chip.set_masked(pin, masked_now))
                .map_err(|_| InterruptError::OutOfRange(irq)),
        )
    }
}

impl InterruptController for Controller {
    fn enable(&self, irq: Irq) -> Result<(), InterruptError> {
        self.set_masked(irq, false).unwrap_or_else(|| self.local().enable(irq))
    }

    fn disable(&self, irq: Irq) -> Result<(), InterruptError> {
        self.set_masked(irq, true).unwrap_or_else(|| self.local().disable(irq))
    }

    fn claim(&self) -> Option<Irq> {
        self.local().claim()
    }

    fn complete(&self, irq: Irq) {
        self.local().complete(irq)
    }
}

/// `crate::interrupt`'s routing through the I/O APIC.
struct IoApicRouter;

static ROUTER: IoApicRouter = IoApicRouter;

impl Router for IoApicRouter {
    fn isa_line(&self, irq: u8) -> Option<(u32, Trigger, Polarity)> {
        let route = FOUND.get()?.as_ref().ok()?.isa_route(irq)?;
        let trigger = if route.level { Trigger::Level } else { Trigger::Edge };
        let polarity = if route.active_low { Polarity::Low } else { Polarity::High };
        Some((route.gsi, trigger, polarity))
    }

    fn route(&self, gsi: u32, trigger: Trigger, polarity: Polarity) -> Result<Irq, Error> {
        let devices = DEVICES.get().ok_or(Error::Unsupported)?;
        describe(devices);
        let pin = devices.chip.pin_of(gsi).ok_or(Error::NoSuchLine(gsi))?;
        let offset = u8::try_from(gsi).ok().filter(|&g| g < DEVICE_VECTOR_COUNT);
        let vector = DEVICE_VECTOR_BASE + offset.ok_or(Error::NoSuchLine(gsi))?;
        let entry = Redirection {
            vector,
            destination: devices.destination,
            trigger: match trigger {
                Trigger::Edge => rivet_ioapic::Trigger::Edge,
                Trigger::Level => rivet_ioapic::Trigger::Level,
            },
            polarity: match polarity {
                Polarity::High => rivet_ioapic::Polarity::High,
                Polarity::Low => rivet_ioapic::Polarity::Low,
            },
            masked: true,
        };
        masked(|| {
            let current = devices.chip.redirection(pin).map_err(|_| Error::NoSuchLine(gsi))?;
            if !current.masked {
                return Err(Error::InUse(gsi));
            }
            devices.chip.program(pin, entry).map_err(|_| Error::NoSuchLine(gsi))
        })?;
        Ok(Irq(u32::from(vector)))
    }

    fn start_legacy_timer(&self, period_ns: u64) -> Result<(), Error> {
        let period = super::pit::start(period_ns);
        log::debug!("interrupts: PIT channel 0 pulses every {period} ns");
        Ok(())
    }

    fn stop_legacy_timer(&self) {
        super::pit::stop();
    }
}
