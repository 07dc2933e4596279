//! Xen hypercalls on arm64: `hvc #0xEA1`.
//!
//! The ABI (`arch-arm.h`): the hypercall number in x16, up to five arguments in x0–x4, the
//! result in x0; the HVC immediate is Xen's tag (`XEN_HYPERCALL_TAG` = 0xEA1), which tells Xen's
//! trap handler this is a hypercall and not a PSCI or SMCCC call (those use `hvc #0`). Xen
//! clobbers x16 and the argument registers a call uses; [`hypercall`] declares x0–x4 and x16
//! clobbered for every call, whatever its argument count, so no caller has to know which.
//! Unlike x86_64 PV there is no hypercall page and no ring change: the kernel stays at EL1.

/// `XEN_HYPERCALL_TAG`: the `hvc` immediate Xen recognises.
pub const HYPERCALL_TAG: u16 = 0xEA1;

/// Makes hypercall `number` with up to five arguments (unused ones: pass 0) and returns Xen's
/// result (0 or positive on success, `-errno` on failure).
///
/// # Safety
/// 1. The kernel runs as a Xen guest (an `hvc` at EL1 with no hypervisor is undefined).
/// 2. Every argument is what the hypercall expects: each pointer argument is the address of
///    memory valid for the access the operation makes, of the size it implies, and the
///    operation's effect does not break memory the Rust program relies on.
pub unsafe fn hypercall(number: u64, a1: u64, a2: u64, a3: u64, a4: u64, a5: u64) -> i64 {
    let result: i64;
    // SAFETY: obligation 1 makes the `hvc` a hypercall; obligation 2 covers what Xen does with
    // the arguments. x0–x4 and x16 are declared clobbered (the ABI's worst case); memory is not
    // `nomem`, so the compiler assumes Xen may read and write it.
    unsafe {
        core::arch::asm!(
            "hvc #0xEA1",
            inlateout("x0") a1 => result,
            inlateout("x1") a2 => _,
            inlateout("x2") a3 => _,
            inlateout("x3") a4 => _,
            inlateout("x4") a5 => _,
            inlateout("x16") number => _,
            options(nostack),
        );
    }
    result
}
