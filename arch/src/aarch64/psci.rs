//! PSCI (Arm DEN 0022): asking the firmware or hypervisor to power the machine off.
//!
//! PSCI calls go through `smc` (to EL3 firmware) or `hvc` (to a hypervisor); which one is a fact
//! of the machine, found in the DTB's `/psci` node (`method`), so the platform passes it in.
//! SYSTEM_OFF carries no exit code: QEMU exits with status 0.

/// How PSCI calls reach the firmware.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Conduit {
    /// `hvc #0`: a hypervisor (QEMU `virt` without EL2, KVM, Xen) implements PSCI.
    Hvc,
    /// `smc #0`: EL3 firmware (or QEMU `virt` with `virtualization=on`) implements PSCI.
    Smc,
}

/// PSCI 0.2+ function ID of SYSTEM_OFF (SMC32 calling convention).
pub const SYSTEM_OFF: u32 = 0x8400_0008;

/// Issues PSCI function `function` with no arguments; returns the PSCI status in x0.
fn call(conduit: Conduit, function: u32) -> i64 {
    let mut x0 = function as u64;
    // SAFETY: a PSCI call touches no memory of ours. SMCCC allows x0-x17 to be clobbered by the
    // callee (older firmware does not preserve x4-x17), so all of them are declared clobbered.
    unsafe {
        match conduit {
            Conduit::Hvc => core::arch::asm!(
                "hvc #0",
                inout("x0") x0, out("x1") _, out("x2") _, out("x3") _, out("x4") _, out("x5") _,
                out("x6") _, out("x7") _, out("x8") _, out("x9") _, out("x10") _, out("x11") _,
                out("x12") _, out("x13") _, out("x14") _, out("x15") _, out("x16") _,
                out("x17") _, options(nomem, nostack),
            ),
            Conduit::Smc => core::arch::asm!(
                "smc #0",
                inout("x0") x0, out("x1") _, out("x2") _, out("x3") _, out("x4") _, out("x5") _,
                out("x6") _, out("x7") _, out("x8") _, out("x9") _, out("x10") _, out("x11") _,
                out("x12") _, out("x13") _, out("x14") _, out("x15") _, out("x16") _,
                out("x17") _, options(nomem, nostack),
            ),
        }
    }
    x0 as i64
}

/// Powers the machine off. Returns only if the firmware refused, with its PSCI status (for
/// example -1, NOT_SUPPORTED).
pub fn system_off(conduit: Conduit) -> i64 {
    call(conduit, SYSTEM_OFF)
}
