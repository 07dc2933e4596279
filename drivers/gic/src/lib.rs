//! Arm Generic Interrupt Controller drivers: GICv2 and GICv3, behind Rivet's interrupt trait.
//!
//! Register names follow the *Arm GIC Architecture Specification* (IHI 0048B for GICv2, IHI 0069H
//! for GICv3/v4), so grep finds them in the spec. Each driver has one unsafe constructor taking
//! its MMIO base addresses (from the DTB or the MADT); everything after it is safe.
//!
//! - [`GicV2`]: distributor (GICD_*) and CPU interface (GICC_*), both MMIO.
//! - [`GicV3`]: distributor (GICD_*) and this core's redistributor (GICR_*) as MMIO; the CPU
//!   interface is system registers (ICC_*), which are CPU code: the platform passes the arch
//!   layer's accessors in as a [`SystemRegisters`] table, so this crate stays free of `asm!`.
//!
//! Both drivers run in the non-secure world and use whatever grouping the GIC offers there:
//! interrupts are put in Group 1 where the group registers are writable (a GIC without security
//! extensions, as QEMU and Xen present), and left as firmware set them otherwise.
//!
//! Several cores: the boot core runs `init`; every other core runs `init_this_core` with the
//! private interrupts (SGIs, PPIs) it wants enabled — its banked GICv2 registers, or its own
//! GICv3 redistributor, found by affinity. SGIs go out through `GicV2::send_sgi` (GICD_SGIR) or
//! ICC_SGI1R_EL1 with the value `GicV3::sgi1r` builds.
//!
//! Non-goals for now: routing SPIs to other cores (all go to the boot core), priorities (every
//! enabled interrupt gets the same middle priority), LPIs and the ITS.
//!
//! Weak spots: a GICv2 with security extensions whose firmware left interrupts in Group 0 shows
//! them to the non-secure world as RAZ/WI — they can be enabled but never fire (real Pi firmware
//! and QEMU's direct kernel boot both move them to Group 1).
#![cfg_attr(not(test), no_std)]
#![deny(unsafe_op_in_unsafe_fn)]
#![deny(clippy::undocumented_unsafe_blocks)]

mod v2;
mod v3;

pub use v2::GicV2;
pub use v3::{Error as GicV3Error, GicV3, SystemRegisters};

/// INTIDs 1020 to 1023 are special (1023: no pending interrupt, a spurious acknowledge).
pub const SPECIAL_INTIDS: core::ops::Range<u32> = 1020..1024;

/// The first shared peripheral interrupt (SPI); 0–15 are SGIs, 16–31 PPIs.
pub const FIRST_SPI: u32 = 32;

/// The priority every enabled interrupt gets: the middle of the range, below any mask.
pub const DEFAULT_PRIORITY: u8 = 0xa0;

/// Register index and bit mask of `intid` in a one-bit-per-interrupt register array.
fn bit(intid: u32) -> (usize, u32) {
    ((intid / 32) as usize, 1 << (intid % 32))
}

/// Register index and bit shift of `intid` in a one-byte-per-interrupt register array
/// (GICD_IPRIORITYR, GICD_ITARGETSR), accessed as 32-bit words.
fn byte(intid: u32) -> (usize, u32) {
    ((intid / 4) as usize, (intid % 4) * 8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bit_and_byte_positions() {
        assert_eq!(bit(0), (0, 1));
        assert_eq!(bit(27), (0, 1 << 27));
        assert_eq!(bit(33), (1, 2));
        assert_eq!(byte(27), (6, 24));
        assert_eq!(byte(32), (8, 0));
    }
}
