//! Event channels under Xen PV: the interrupt controller, the event mask and the idle wait.
//!
//! A PV guest has no interrupt flag it may use (`cli`/`sti` in ring 3 fault, or do nothing with
//! I/O privilege) and no APIC: its interrupts are event channels. This module wires them into
//! core's interrupt model:
//!
//! - the **upcall**: `set_callbacks` registers the arch layer's event and failsafe entries
//!   (`rivet_arch::xen_pv`), which run core's `interrupt::handle` until nothing is pending and
//!   then the after-interrupt hook (the scheduler's preemption point); other vCPUs get the same
//!   entries in their first context (`smp.rs`);
//! - the **controller** ([`EventChannels`]): `Irq` = port number; `claim` is the two-level scan
//!   of `rivet_xen_abi::evtchn` over the running vCPU's `evtchn_pending_sel` and the shared
//!   info's `evtchn_pending` / `evtchn_mask` words (each port's pending bit cleared before its
//!   handler runs), limited to the ports bound to that vCPU ([`bind_to`]: its timer and
//!   reschedule ports; every other port is vCPU 0's), `enable` is `EVTCHNOP_unmask`, `disable`
//!   sets the port's mask bit, `complete` has nothing to do;
//! - the **mask** ([`disable_events`], [`restore_events`], installed with
//!   `rivet_core::sync::set_interrupt_mask`): the running vCPU's `vcpu_info.evtchn_upcall_mask`,
//!   the PV interrupt flag. Unmasking checks `evtchn_upcall_pending` afterwards and, if an event
//!   came while masked, makes a no-op hypercall so Xen delivers it on the way back (as Linux's
//!   `xen_irq_enable` does);
//! - the **idle wait** ([`wait_for_event`]): `SCHEDOP_block`, which unmasks events and blocks in
//!   one step, checking for pending events *after* enabling them (no lost wake-up); the upcall
//!   runs as the hypercall returns, then events are masked again, as `sti; hlt; cli` leaves them
//!   natively.
//!
//! The running vCPU is `rivet_arch::percpu::index()` (core index = vCPU id), so its `vcpu_info`
//! is slot `index` of the shared info page (no `VCPUOP_register_vcpu_info`: the page holds the
//! first 32, more than `MAX_CPUS`).
//!
//! Weak spots: ports come lowest first (no fairness between busy ports); only ports below
//! `rivet_core::interrupt::MAX_IRQS` can have handlers or be bound to a vCPU other than 0.

use crate::smp::MAX_CPUS;
use core::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use rivet_arch::xen_pv::{event_callback_entry, failsafe_callback_entry, hypercall};
use rivet_core::interrupt::{InterruptController, InterruptError, Irq, MAX_IRQS};
use rivet_xen_abi::evtchn::{next_pending, EventWords};
use rivet_xen_abi::hypercall as hc;
use rivet_xen_abi::{EvtchnUnmask, SharedInfo, EVTCHN_2L_NR_CHANNELS};

/// Why events cannot be used.
#[derive(Debug)]
pub(super) struct CallbacksRefused(i64);

impl core::fmt::Display for CallbacksRefused {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Xen refused the event callbacks ({})", self.0)
    }
}

/// The mapped shared info page; only used after [`init`].
fn shared() -> *mut SharedInfo {
    super::shared_info()
}

/// The running vCPU: the core index (vCPU ids and core indices are the same numbers).
fn this_vcpu() -> usize {
    rivet_arch::percpu::index().min(MAX_CPUS - 1)
}

/// vCPU `vcpu`'s `evtchn_upcall_mask`, the PV interrupt flag (1: masked).
fn upcall_mask(vcpu: usize) -> &'static AtomicU8 {
    let vcpu = vcpu.min(MAX_CPUS - 1);
    // SAFETY: the shared info page is mapped at `shared()` for the rest of the run (`init` is
    // only called once `init_clock` has mapped it), `vcpu` < MAX_CPUS <= 32 slots, the byte is
    // aligned, and Xen and the guest only ever access it with single-byte reads and writes; the
    // atomic is never moved.
    unsafe { AtomicU8::from_ptr(&raw mut (*shared()).vcpu_info[vcpu].evtchn_upcall_mask) }
}

/// vCPU `vcpu`'s `evtchn_upcall_pending`.
fn upcall_pending(vcpu: usize) -> &'static AtomicU8 {
    let vcpu = vcpu.min(MAX_CPUS - 1);
    // SAFETY: as in `upcall_mask`.
    unsafe { AtomicU8::from_ptr(&raw mut (*shared()).vcpu_info[vcpu].evtchn_upcall_pending) }
}

/// Words of the ownership bitmaps: the ports that can have handlers.
const OWNED_WORDS: usize = MAX_IRQS / 64;

/// Per vCPU, the ports bound to it (only those of vCPUs other than 0 are kept).
static OWNED: [[AtomicU64; OWNED_WORDS]; MAX_CPUS] =
    [const { [const { AtomicU64::new(0) }; OWNED_WORDS] }; MAX_CPUS];

/// The ports bound to some vCPU other than 0 (the union of `OWNED[1..]`).
static ELSEWHERE: [AtomicU64; OWNED_WORDS] = [const { AtomicU64::new(0) }; OWNED_WORDS];

/// Records that `port` notifies `vcpu` (Xen sets that vCPU's selector for it), so only that
/// vCPU's upcall claims it. Call before the port is unmasked (its handler set). False if the port
/// is beyond the ports this can record (only vCPU 0 could take it).
pub(super) fn bind_to(port: u32, vcpu: usize) -> bool {
    if vcpu == 0 {
        return true;
    }
    let (word, bit) = (port as usize / 64, port % 64);
    if word >= OWNED_WORDS || vcpu >= MAX_CPUS {
        return false;
    }
    OWNED[vcpu][word].fetch_or(1 << bit, Ordering::SeqCst);
    ELSEWHERE[word].fetch_or(1 << bit, Ordering::SeqCst);
    true
}

/// Masks events of vCPU `vcpu` (one that does not run yet: its first context is being built).
pub(super) fn mask_vcpu(vcpu: usize) {
    upcall_mask(vcpu).store(1, Ordering::SeqCst);
}

/// Word `word` of the shared info's `evtchn_pending` (`mask` false) or `evtchn_mask` (true).
fn event_word(mask: bool, word: u32) -> &'static AtomicU64 {
    let word = (word as usize).min(63);
    // SAFETY: as in `upcall_mask`; the words are 8-byte aligned (offsets 2048 and 2560 of the
    // page-aligned shared info) and Xen updates them with locked instructions, as these atomics
    // do.
    unsafe {
        let words = if mask {
            &raw mut (*shared()).evtchn_mask
        } else {
            &raw mut (*shared()).evtchn_pending
        };
        AtomicU64::from_ptr(&raw mut (*words)[word])
    }
}

/// The shared memory of one vCPU (the running one), for the scan.
struct Vcpu(usize);

impl EventWords for Vcpu {
    fn clear_upcall_pending(&self) {
        upcall_pending(self.0).store(0, Ordering::SeqCst);
    }

    fn take_selector(&self) -> u64 {
        // SAFETY: as in `upcall_mask` (`self.0` < MAX_CPUS: `claim` passes `this_vcpu()`); the
        // selector is 8-byte aligned (offset 8 of a 64-byte vcpu_info) and Xen sets its bits with
        // locked instructions.
        let selector = unsafe {
            AtomicU64::from_ptr(&raw mut (*shared()).vcpu_info[self.0].evtchn_pending_sel)
        };
        selector.swap(0, Ordering::SeqCst)
    }

    fn deliverable(&self, word: u32) -> u64 {
        let live = event_word(false, word).load(Ordering::SeqCst)
            & !event_word(true, word).load(Ordering::SeqCst);
        // Only this vCPU's ports: another vCPU's pending port shares the word but is its to take.
        let Some(elsewhere) = ELSEWHERE.get(word as usize) else {
            return if self.0 == 0 { live } else { 0 };
        };
        if self.0 == 0 {
            live & !elsewhere.load(Ordering::SeqCst)
        } else {
            live & OWNED[self.0][word as usize].load(Ordering::SeqCst)
        }
    }

    fn clear_pending(&self, word: u32, bit: u32) {
        event_word(false, word).fetch_and(!(1 << bit), Ordering::SeqCst);
    }
}

/// The event channels as core's interrupt controller; `Irq` is the port number.
pub(super) struct EventChannels {
    /// Per vCPU, selector bits taken but not scanned to the end (touched only by that vCPU's
    /// upcall, events masked).
    carried: [AtomicU64; MAX_CPUS],
}

/// The controller [`init`] installs.
pub(super) static EVENT_CHANNELS: EventChannels =
    EventChannels { carried: [const { AtomicU64::new(0) }; MAX_CPUS] };

impl InterruptController for EventChannels {
    fn enable(&self, irq: Irq) -> Result<(), InterruptError> {
        if irq.0 >= EVTCHN_2L_NR_CHANNELS {
            return Err(InterruptError::OutOfRange(irq));
        }
        let unmask = EvtchnUnmask { port: irq.0 };
        // SAFETY: `unmask` is a readable `evtchn_unmask` for the call; unmasking a port only lets
        // its events reach the upcall (obligation 2 of `hypercall`).
        let result = unsafe {
            hypercall(hc::EVENT_CHANNEL_OP, hc::EVTCHNOP_UNMASK, &raw const unmask as u64, 0, 0, 0)
        };
        if result != 0 {
            return Err(InterruptError::OutOfRange(irq));
        }
        Ok(())
    }

    fn disable(&self, irq: Irq) -> Result<(), InterruptError> {
        if irq.0 >= EVTCHN_2L_NR_CHANNELS {
            return Err(InterruptError::OutOfRange(irq));
        }
        event_word(true, irq.0 / 64).fetch_or(1 << (irq.0 % 64), Ordering::SeqCst);
        Ok(())
    }

    fn claim(&self) -> Option<Irq> {
        let vcpu = this_vcpu();
        let mut carried = self.carried[vcpu].load(Ordering::Relaxed);
        let port = next_pending(&mut carried, &Vcpu(vcpu));
        self.carried[vcpu].store(carried, Ordering::Relaxed);
        port.map(Irq)
    }

    fn complete(&self, _irq: Irq) {
        // Nothing to acknowledge: the pending bit was cleared by `claim` (edge semantics).
    }
}

/// Masks events on this vCPU; returns whether they were unmasked.
pub(super) fn disable_events() -> bool {
    upcall_mask(this_vcpu()).swap(1, Ordering::SeqCst) == 0
}

/// Unmasks events again if `enabled` (what [`disable_events`] returned).
pub(super) fn restore_events(enabled: bool) {
    if enabled {
        enable_events();
    }
}

/// Unmasks events; an event that arrived while they were masked is delivered at once.
fn enable_events() {
    // SeqCst store then load: the store must be visible before the flag is read (an `xchg`),
    // or an event Xen raises in between on another CPU would wait for the next one.
    // The vCPU cannot change under this: a thread only moves between cores through the
    // scheduler, which runs with events masked.
    let vcpu = this_vcpu();
    upcall_mask(vcpu).store(0, Ordering::SeqCst);
    if upcall_pending(vcpu).load(Ordering::SeqCst) != 0 {
        // Any hypercall will do: Xen delivers pending, unmasked events on its way back.
        // SAFETY: `xen_version(XENVER_version, NULL)` reads and writes no guest memory.
        unsafe { hypercall(hc::XEN_VERSION, hc::XENVER_VERSION, 0, 0, 0, 0) };
    }
}

/// Idles the vCPU until an event has been handled; called and returns with events masked.
/// `SCHEDOP_block` unmasks them and blocks unless one is pending, checked after unmasking (so
/// one that came just before is not slept through); the upcall runs as the hypercall returns.
pub(super) fn wait_for_event() {
    // SAFETY: `SCHEDOP_block` takes no argument and touches no guest memory; the upcall it lets
    // in preserves every register (`rivet_xen_event_callback`).
    unsafe { hypercall(hc::SCHED_OP, hc::SCHEDOP_BLOCK, 0, 0, 0, 0) };
    upcall_mask(this_vcpu()).store(1, Ordering::SeqCst);
}

/// Registers the upcall and the failsafe callback and installs the controller and the event
/// mask. Events stay masked (as Xen started the guest). Call once the shared info page is mapped.
pub(super) fn init() -> Result<(), CallbacksRefused> {
    // SAFETY: both addresses are the arch layer's entries, which handle the frames Xen builds
    // for them (obligation 2); the syscall callback is left at 0 (no guest user mode).
    let result = unsafe {
        hypercall(hc::SET_CALLBACKS, event_callback_entry(), failsafe_callback_entry(), 0, 0, 0)
    };
    if result != 0 {
        return Err(CallbacksRefused(result));
    }
    upcall_mask(0).store(1, Ordering::SeqCst);
    rivet_core::interrupt::set_controller(&EVENT_CHANNELS);
    rivet_core::sync::set_interrupt_mask(disable_events, restore_events);
    Ok(())
}
