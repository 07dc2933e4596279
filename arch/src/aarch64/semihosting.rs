//! Arm semihosting: ending the run with an exit code, and a console of last resort.
//!
//! A semihosting call is `hlt #0xf000` with the operation in w0 and a parameter block's address in
//! x1 ("Semihosting for AArch32 and AArch64", Arm IHI 0056). A debugger — or QEMU with
//! `-semihosting-config enable=on` — performs the call and resumes after the `hlt`. Without one,
//! `hlt` is an undefined instruction: the trap handler recognises this exact instruction, marks
//! semihosting absent and resumes after it with x0 = -1 (see `trap.rs`), so on a board without a
//! debugger every call here fails quietly and the caller falls back (PSCI to power off, the UART
//! for text). Nothing here is needed for correctness, only for QEMU's exit code and for words
//! printed before any UART is known.

use core::sync::atomic::{AtomicBool, Ordering};
use rivet_core::console::Console;

/// `SYS_WRITE0`: write a NUL-terminated string to the debugger's console.
const SYS_WRITE0: u64 = 0x04;
/// `SYS_EXIT`: report an exception (or the application's exit) to the debugger.
const SYS_EXIT: u64 = 0x18;
/// `ADP_Stopped_ApplicationExit`: the reason code for "the application exited"; with it, the
/// second word of the parameter block is the exit status.
const ADP_STOPPED_APPLICATION_EXIT: u64 = 0x20026;

/// The semihosting trap instruction, `hlt #0xf000`, as the trap handler sees it at ELR.
pub const HLT_SEMIHOSTING: u32 = 0xd45e_0000;

/// Cleared by the trap handler when a semihosting call turned out to be an undefined
/// instruction. Plain loads and stores only: it may change while the MMU is off.
static AVAILABLE: AtomicBool = AtomicBool::new(true);

/// Whether semihosting calls are still worth trying (no call has failed as undefined yet).
pub fn available() -> bool {
    AVAILABLE.load(Ordering::Relaxed)
}

/// Records that there is no semihosting host (called by the trap handler).
pub(crate) fn mark_absent() {
    AVAILABLE.store(false, Ordering::Relaxed);
}

/// Performs semihosting call `operation` with `parameter`; returns the host's x0, or `u64::MAX`
/// if there is no host.
///
/// # Safety
/// 1. `parameter` is what `operation` expects: for the calls here, the address of a parameter
///    block or string that stays valid and readable for the duration of the call.
/// 2. The exception vectors are installed (`trap::init`), so a missing host is survivable.
unsafe fn call(operation: u64, parameter: u64) -> u64 {
    if !available() {
        return u64::MAX;
    }
    let result: u64;
    // SAFETY: the host reads memory at `parameter` (obligation 1), and an absent host resumes
    // here through the trap handler (obligation 2); the call clobbers nothing but x0.
    unsafe {
        core::arch::asm!(
            "hlt #0xf000",
            inout("x0") operation => result,
            in("x1") parameter,
            options(nostack, readonly),
        )
    };
    result
}

/// Asks the semihosting host to end the run with `code`. Returns only if there is no host (or
/// it refused), so the caller can fall back to powering off.
pub fn exit(code: i32) {
    let block: [u64; 2] = [ADP_STOPPED_APPLICATION_EXIT, code as u32 as u64];
    // SAFETY: `block` is the two-word parameter block SYS_EXIT takes on AArch64 and lives across
    // the call (obligation 1); the platform calls `trap::init` before anything can exit
    // (obligation 2).
    unsafe { call(SYS_EXIT, block.as_ptr() as u64) };
}

/// The semihosting host's console (QEMU's standard error or standard output), for messages
/// written before any UART is known, such as "this DTB is broken". Slow: one trap per 128 bytes.
pub struct SemihostingConsole;

impl Console for SemihostingConsole {
    fn write_bytes(&self, bytes: &[u8]) {
        let mut buffer = [0u8; 129];
        // NUL bytes would end the string early: they are dropped.
        let mut text = bytes.iter().copied().filter(|&b| b != 0).peekable();
        while text.peek().is_some() {
            let mut len = 0;
            while len < buffer.len() - 1 {
                let Some(byte) = text.next() else { break };
                buffer[len] = byte;
                len += 1;
            }
            buffer[len] = 0;
            // SAFETY: `buffer` holds a NUL-terminated string and outlives the call (obligation 1);
            // exception vectors are installed before any console is used (obligation 2).
            unsafe { call(SYS_WRITE0, buffer.as_ptr() as u64) };
        }
    }
}
