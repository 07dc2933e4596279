//! The PV console of a domU: the `out` half of the console ring (`io/console.h`).
//!
//! Xen refuses `console_io` to an unprivileged domain (on a release build); its console is a
//! shared page whose frame and event channel the start info names, read by `xenconsoled` in
//! dom0. Writing copies the bytes into the ring, publishes `out_prod` and signals the channel.
//! A full ring is waited on by yielding the vCPU (the daemon may need this very CPU to run),
//! for a bounded time: if nobody reads, the rest is dropped rather than hanging the guest, and
//! later writes do not wait at all (they send what fits) until the daemon takes bytes again.
//! [`drain`] waits for the daemon to take everything, so the last lines are not lost when the
//! domain shuts down.

use super::ring::{self, RingHalf};
use super::Deadline;
use core::sync::atomic::{AtomicBool, Ordering};
use rivet_xen_abi::byte_ring;
use rivet_xen_abi::ConsoleInterface;
use spin::Once;

/// A wait for room timed out and the daemon has not read since: writes do not wait.
static STALLED: AtomicBool = AtomicBool::new(false);

/// How long a write waits for room, and [`drain`] for the daemon: TSC ticks (≈ 0.5–2 s).
const WAIT_TICKS: u64 = 1 << 31;

/// The ring and its event channel, once [`init`] has mapped them.
struct Ring {
    output: RingHalf,
    port: u32,
}

static RING: Once<Ring> = Once::new();

/// Uses the console page at `page` from now on (the first call only; later ones change
/// nothing).
///
/// # Safety
/// `page` is the domain's console page, mapped read-write for the rest of the run.
pub(crate) unsafe fn connect(page: *mut ConsoleInterface, port: u32) {
    // SAFETY: the page is mapped for the rest of the run (the caller's promise); the fields are
    // the `out` array (2048 bytes, a power of two) and its two aligned indexes, per
    // `ConsoleInterface`'s layout.
    let output = unsafe {
        RingHalf::new(
            (&raw mut (*page).output).cast::<u8>(),
            2048,
            &raw mut (*page).out_prod,
            &raw mut (*page).out_cons,
        )
    };
    RING.call_once(|| Ring { output, port });
}

/// Whether the ring is in use (a domU whose console page was mapped).
pub(crate) fn is_ready() -> bool {
    RING.get().is_some()
}

/// Writes `bytes` to the ring (see the module's text for a full ring). Callers serialise
/// (core's console lock).
pub(crate) fn write(bytes: &[u8]) {
    let Some(ring) = RING.get() else { return };
    let mut rest = bytes;
    let mut waited_since = None;
    while !rest.is_empty() {
        match byte_ring::send(&ring.output, rest) {
            Ok(0) => {
                ring::notify(ring.port);
                if STALLED.load(Ordering::Relaxed) || !wait_a_little(&mut waited_since) {
                    STALLED.store(true, Ordering::Relaxed);
                    return; // nobody reads: drop the rest
                }
            }
            Ok(n) => {
                rest = &rest[n..];
                waited_since = None;
                STALLED.store(false, Ordering::Relaxed);
            }
            Err(_) => return, // the daemon broke the indexes: nothing sensible to write
        }
    }
    ring::notify(ring.port);
}

/// Waits (bounded) until the daemon has taken everything written.
pub(crate) fn drain() {
    let Some(ring) = RING.get() else { return };
    ring::notify(ring.port);
    let mut waited_since = None;
    while matches!(byte_ring::pending(&ring.output), Ok(n) if n > 0) {
        if STALLED.load(Ordering::Relaxed) || !wait_a_little(&mut waited_since) {
            return;
        }
    }
}

/// Yields once for the wait started at the first call after `waiting` was reset (a raw TSC
/// budget: asking the clock its frequency could log, and logging writes here); false once it has
/// lasted [`WAIT_TICKS`].
fn wait_a_little(waiting: &mut Option<Deadline>) -> bool {
    waiting.get_or_insert_with(|| Deadline::after_ticks(WAIT_TICKS)).wait()
}
