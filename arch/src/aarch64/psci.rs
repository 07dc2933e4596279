//! PSCI (Arm DEN 0022): asking the firmware or hypervisor to power the machine off, and to start
//! a secondary core (CPU_ON).
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

/// PSCI 0.2+ function ID of CPU_ON (SMC64 calling convention: 64-bit addresses).
pub const CPU_ON: u32 = 0xc400_0003;

/// Why CPU_ON failed: the PSCI status codes it can return (DEN 0022 §5.1.4, Table 6).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum CpuOnError {
    /// -1 NOT_SUPPORTED: the firmware has no CPU_ON.
    NotSupported,
    /// -2 INVALID_PARAMETERS: no core has that MPIDR.
    InvalidParameters,
    /// -4 ALREADY_ON: the core is already running.
    AlreadyOn,
    /// -5 ON_PENDING: a CPU_ON for the core is already under way.
    OnPending,
    /// -6 INTERNAL_FAILURE: the firmware could not power the core on.
    InternalFailure,
    /// -9 INVALID_ADDRESS: the entry point is not valid to the firmware.
    InvalidAddress,
    /// -3 DENIED or any other status: the code itself.
    Other(i64),
}

impl CpuOnError {
    /// The error for PSCI status `status` (negative).
    pub fn from_status(status: i64) -> Self {
        match status {
            -1 => CpuOnError::NotSupported,
            -2 => CpuOnError::InvalidParameters,
            -4 => CpuOnError::AlreadyOn,
            -5 => CpuOnError::OnPending,
            -6 => CpuOnError::InternalFailure,
            -9 => CpuOnError::InvalidAddress,
            other => CpuOnError::Other(other),
        }
    }
}

impl core::fmt::Display for CpuOnError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            CpuOnError::NotSupported => f.write_str("PSCI CPU_ON: NOT_SUPPORTED"),
            CpuOnError::InvalidParameters => {
                f.write_str("PSCI CPU_ON: INVALID_PARAMETERS (no core has that MPIDR)")
            }
            CpuOnError::AlreadyOn => f.write_str("PSCI CPU_ON: ALREADY_ON"),
            CpuOnError::OnPending => f.write_str("PSCI CPU_ON: ON_PENDING"),
            CpuOnError::InternalFailure => f.write_str("PSCI CPU_ON: INTERNAL_FAILURE"),
            CpuOnError::InvalidAddress => f.write_str("PSCI CPU_ON: INVALID_ADDRESS"),
            CpuOnError::Other(status) => write!(f, "PSCI CPU_ON: status {status}"),
        }
    }
}

/// Asks the firmware to start the core whose MPIDR affinity is `target` at the physical address
/// `entry`, MMU off, with `context` in x0 (DEN 0022 §5.6). Returns once the firmware has
/// accepted (the core may not have run yet).
///
/// # Safety
///
/// `entry` is code that can run as a core's first instruction with the MMU off and `context`
/// in x0 (see `smp::entry_point`), and everything it reads is in memory (cleaned).
pub unsafe fn cpu_on(
    conduit: Conduit,
    target: u64,
    entry: u64,
    context: u64,
) -> Result<(), CpuOnError> {
    match call_with(conduit, CPU_ON, [target, entry, context]) {
        0 => Ok(()),
        status => Err(CpuOnError::from_status(status)),
    }
}

/// Issues PSCI function `function` with no arguments; returns the PSCI status in x0.
fn call(conduit: Conduit, function: u32) -> i64 {
    call_with(conduit, function, [0; 3])
}

/// Issues PSCI function `function` with x1..x3 = `arguments`; returns the PSCI status in x0.
fn call_with(conduit: Conduit, function: u32, arguments: [u64; 3]) -> i64 {
    let mut x0 = function as u64;
    let [x1, x2, x3] = arguments;
    // SAFETY: a PSCI call touches no memory of ours. SMCCC allows x0-x17 to be clobbered by the
    // callee (older firmware does not preserve x4-x17), so all of them are declared clobbered.
    unsafe {
        match conduit {
            Conduit::Hvc => core::arch::asm!(
                "hvc #0",
                inout("x0") x0, inout("x1") x1 => _, inout("x2") x2 => _, inout("x3") x3 => _,
                out("x4") _, out("x5") _,
                out("x6") _, out("x7") _, out("x8") _, out("x9") _, out("x10") _, out("x11") _,
                out("x12") _, out("x13") _, out("x14") _, out("x15") _, out("x16") _,
                out("x17") _, options(nomem, nostack),
            ),
            Conduit::Smc => core::arch::asm!(
                "smc #0",
                inout("x0") x0, inout("x1") x1 => _, inout("x2") x2 => _, inout("x3") x3 => _,
                out("x4") _, out("x5") _,
                out("x6") _, out("x7") _, out("x8") _, out("x9") _, out("x10") _, out("x11") _,
                out("x12") _, out("x13") _, out("x14") _, out("x15") _, out("x16") _,
                out("x17") _, options(nomem, nostack),
            ),
        }
    }
    x0 as i64
}

/// PSCI 0.2+ function ID of SYSTEM_RESET (SMC32 calling convention).
pub const SYSTEM_RESET: u32 = 0x8400_0009;

/// Resets the machine. Returns only if the firmware refused, with its PSCI status.
pub fn system_reset(conduit: Conduit) -> i64 {
    call(conduit, SYSTEM_RESET)
}

/// Powers the machine off. Returns only if the firmware refused, with its PSCI status (for
/// example -1, NOT_SUPPORTED).
pub fn system_off(conduit: Conduit) -> i64 {
    call(conduit, SYSTEM_OFF)
}
