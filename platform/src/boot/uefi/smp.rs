//! The UEFI boot's other cores: the MADT's GICC entries give their MPIDRs, the FADT says how
//! PSCI is reached, and they start like the devicetree boot's PSCI cores
//! (`boot::devicetree::smp`, which does the work).
//!
//! Weak spots: a machine without PSCI (the ACPI parking protocol) runs on the boot core alone;
//! a MADT that cannot be read for cores is logged, not fatal, once the console is up.

use crate::boot::devicetree::smp as cores;
use crate::smp::MAX_CPUS;
use rivet_arch::psci::Conduit;
use rivet_bootinfo::acpi::{self, ArmCores, Memory};
use rivet_bootinfo::devicetree::{Cpu, Cpus, EnableMethod};
use spin::Once;

/// What the firmware phase found: the cores, or why the MADT could not say.
static FOUND: Once<Result<ArmCores<MAX_CPUS>, acpi::Error>> = Once::new();

/// Reads the MADT's cores through the RSDP at `rsdp`, in the firmware phase (tables readable
/// where `memory` says), and keeps them for [`register`].
pub(super) fn find<'a>(memory: &impl Memory<'a>, rsdp: u64) {
    FOUND.call_once(|| {
        let root = acpi::rsdp_any(memory, rsdp)?;
        let madt = acpi::find_table(memory, root, *b"APIC")?;
        acpi::read_arm_cores(&madt)
    });
}

/// Registers the cores [`find`] kept, started through PSCI over `psci`, with the virtual
/// timer's INTID `timer` enabled on each (when the GIC is up). After `interrupts::init`.
pub(super) fn register(psci: Option<Conduit>, timer: Option<u32>) {
    match FOUND.get() {
        Some(Ok(found)) => {
            let mut cpus = Cpus::new();
            for &mpidr in found.mpidrs() {
                cpus.push(Cpu { mpidr, enable: EnableMethod::Psci });
            }
            cpus.ignored += found.count.saturating_sub(found.mpidrs().len());
            cores::register(&cpus, psci, timer, 0);
        }
        Some(Err(e)) => log::warn!("smp: MADT: {e}: running on the boot core alone"),
        None => {}
    }
}
