//! The one unsafe step of the devicetree boot: the loader's x0 becomes a `&'static [u8]`.
//!
//! By the arm64 boot protocol (Linux `Documentation/arch/arm64/booting.rst`, "Setup the device
//! tree") x0 holds the DTB's physical address, 8-byte aligned, in RAM the kernel leaves alone.
//! That is a claim, not checked: [`claim`] refuses a null or misaligned address, reads the
//! 40-byte header and lets `rivet_bootinfo::devicetree::claimed_size` check the magic and bound
//! `totalsize` (40 bytes to 2 MiB) before taking that many bytes. Everything after that is safe
//! code in `rivet-bootinfo`, which reads the blob as untrusted bytes.
//!
//! Weak spot: nothing can check that `totalsize` bytes really are RAM; a loader that lies about
//! it makes the walk read whatever is there.

use super::error::BootError;
use rivet_bootinfo::devicetree::{claimed_size, HEADER_SIZE};

/// Checks the DTB the loader put at `address` and takes it, `totalsize` bytes.
///
/// # Safety
/// 1. If `address` is not 0, the loader's claim holds at least this far: from `address`,
///    the 40-byte header and then `totalsize` bytes (at most 2 MiB) are readable memory that
///    the kernel never writes — the caller reserves the blob's range and keeps it mapped.
pub unsafe fn claim(address: u64) -> Result<&'static [u8], BootError> {
    if address == 0 {
        return Err(BootError::NoDtb);
    }
    if !address.is_multiple_of(8) {
        return Err(BootError::MisalignedDtb(address));
    }
    // SAFETY: the header is readable (obligation 1), and `address` is not null and is aligned
    // (checked above; u8 needs no alignment anyway).
    let header = unsafe { core::slice::from_raw_parts(address as *const u8, HEADER_SIZE) };
    let total = claimed_size(header)?;
    // SAFETY: `claimed_size` checked the magic and bounded `total` to 2 MiB, so by obligation 1
    // `total` bytes from `address` are readable and never written, for the whole run.
    Ok(unsafe { core::slice::from_raw_parts(address as *const u8, total) })
}
