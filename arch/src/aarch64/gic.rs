//! The GICv3 CPU interface's system registers (ICC_*), for the GIC driver.
//!
//! The GICv3 driver (`drivers/gic`) is MMIO plus these few system-register accesses; the
//! accesses are CPU instructions, so they live here and the platform hands them to the driver.
//! Names use the `S3_<op1>_C<n>_C<m>_<op2>` encodings (IHI 0069H §12.11) so any assembler takes
//! them.
//!
//! Weak spot: only Group 1 (the non-secure group) is used; nothing here touches Group 0.

/// Whether this CPU implements the GICv3 system-register interface (ID_AA64PFR0_EL1.GIC,
/// bits 27:24, non-zero). Calling the other functions without it is an undefined instruction.
pub fn has_system_registers() -> bool {
    let pfr0: u64;
    // SAFETY: reading an ID register has no side effects.
    unsafe { core::arch::asm!("mrs {}, id_aa64pfr0_el1", out(reg) pfr0, options(nomem, nostack)) };
    (pfr0 >> 24) & 0xf != 0
}

/// Enables the system-register interface (ICC_SRE_EL1.SRE), unmasks every priority
/// (ICC_PMR_EL1 = 0xff), no preemption grouping (ICC_BPR1_EL1 = 0) and enables Group 1
/// (ICC_IGRPEN1_EL1 = 1). Needs [`has_system_registers`] and, when EL2 exists, ICC_SRE_EL2.Enable
/// (the entry code sets it).
pub fn enable() {
    // SAFETY: the caller checked the interface exists (the driver's constructor obligation);
    // these writes only configure this core's CPU interface. `isb` after SRE makes the other
    // ICC_* accesses use the system-register interface.
    unsafe {
        core::arch::asm!(
            "mrs {t}, S3_0_C12_C12_5",     /* ICC_SRE_EL1 */
            "orr {t}, {t}, #1",            /* SRE */
            "msr S3_0_C12_C12_5, {t}",
            "isb",
            "mov {t}, #0xff",
            "msr S3_0_C4_C6_0, {t}",       /* ICC_PMR_EL1 */
            "msr S3_0_C12_C12_3, xzr",     /* ICC_BPR1_EL1 */
            "mov {t}, #1",
            "msr S3_0_C12_C12_7, {t}",     /* ICC_IGRPEN1_EL1 */
            "isb",
            t = out(reg) _,
            options(nomem, nostack),
        )
    };
}

/// Reads ICC_IAR1_EL1: acknowledges the highest-priority pending Group 1 interrupt and returns
/// its INTID (1023 when none is pending).
pub fn acknowledge() -> u32 {
    let intid: u64;
    // SAFETY: acknowledging changes only the GIC's state for this core; the caller completes
    // the interrupt. No memory is touched.
    unsafe { core::arch::asm!("mrs {}, S3_0_C12_C12_0", out(reg) intid, options(nomem, nostack)) };
    intid as u32
}

/// Writes ICC_EOIR1_EL1: ends the handling of an acknowledged INTID (priority drop and
/// deactivation, as ICC_CTLR_EL1.EOImode is 0).
pub fn end_of_interrupt(intid: u32) {
    // SAFETY: as for `acknowledge`. The handler's device accesses must be done first: a `dsb`
    // orders them before the write.
    unsafe {
        core::arch::asm!(
            "dsb sy",
            "msr S3_0_C12_C12_1, {}",
            in(reg) u64::from(intid),
            options(nostack),
        )
    };
}

/// Writes ICC_SGI1R_EL1: sends a Group 1 software-generated interrupt. `value` says which INTID
/// and to which cores (the GIC driver's `GicV3::sgi1r` builds it).
pub fn send_sgi(value: u64) {
    // SAFETY: raising an SGI touches no memory; the `dsb` first makes this core's earlier memory
    // writes visible to the target before its handler can run, and the `isb` after issues the
    // SGI now rather than later.
    unsafe {
        core::arch::asm!(
            "dsb ishst",
            "msr S3_0_C12_C11_5, {}",      /* ICC_SGI1R_EL1 */
            "isb",
            in(reg) value,
            options(nostack),
        )
    };
}
