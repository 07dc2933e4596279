//! The alarm under Xen PV: the vCPU's singleshot timer, delivered as `VIRQ_TIMER`.
//!
//! [`init`] stops the periodic timer Xen may run for a PV vCPU (no tick: the scheduler arms the
//! alarm for the next deadline), binds `VIRQ_TIMER` of vCPU 0 to an event channel with a handler
//! that counts (`crate::time::ALARM_INTERRUPTS`), and installs [`XenAlarm`] with the event wait
//! (`events::wait_for_event`) as core's alarm; `crate::time::HAS_ALARM` then makes the scheduler
//! preemptive. Every other vCPU gets its own `VIRQ_TIMER` port from [`bind_vcpu`] (bound by the
//! boot vCPU before it starts that one) and stops its periodic timer itself
//! ([`stop_periodic`]). A deadline is TSC ticks (the system clock); Xen wants its system time in
//! ns, which the running vCPU's pvclock record in the shared info converts (read afresh for
//! every arm: Xen updates it). `arm` and `disarm` act on the running vCPU's timer (Xen only lets
//! a vCPU set its own singleshot timer), as the scheduler wants.
//!
//! Weak spots: the armed deadline is cached per vCPU so the scheduler re-arming the same one
//! costs no hypercall, which assumes every arm and disarm runs with events masked (the
//! scheduler's lock, or boot); Xen's timer slop (50 µs by default) makes wake-ups that late.

use crate::smp::MAX_CPUS;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use rivet_arch::xen_pv::hypercall;
use rivet_core::interrupt::{set_handler, InterruptError, Irq};
use rivet_core::time::Alarm;
use rivet_xen_abi::hypercall as hc;
use rivet_xen_abi::{pvclock, EvtchnBindVirq, VcpuSetSingleshotTimer, VIRQ_TIMER};

/// Why the timer cannot be used.
#[derive(Debug)]
pub(super) enum TimerError {
    /// `EVTCHNOP_bind_virq` failed (Xen's `-errno`).
    Bind(i64),
    /// The port Xen gave is beyond those a vCPU other than 0 can own (`events::bind_to`).
    PortTooHigh(u32),
    /// The port could not get its handler.
    Handler(InterruptError),
}

impl core::fmt::Display for TimerError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            TimerError::Bind(e) => write!(f, "cannot bind VIRQ_TIMER ({e})"),
            TimerError::PortTooHigh(port) => write!(f, "VIRQ_TIMER got port {port}, too high"),
            TimerError::Handler(e) => write!(f, "VIRQ_TIMER's port: {e}"),
        }
    }
}

/// No deadline armed.
const NONE: u64 = u64::MAX;

/// The singleshot timers of the vCPUs as core's [`Alarm`] (each core arms its own).
pub(super) struct XenAlarm {
    /// Per vCPU, the deadline (ticks) its timer is set for, [`NONE`] when it is stopped or has
    /// fired.
    armed: [AtomicU64; MAX_CPUS],
    /// vCPU 0's `VIRQ_TIMER` port, for the first-arm log line.
    port: AtomicU64,
}

/// The alarm [`init`] installs.
pub(super) static ALARM: XenAlarm =
    XenAlarm { armed: [const { AtomicU64::new(NONE) }; MAX_CPUS], port: AtomicU64::new(0) };

/// The running vCPU (= core index).
fn this_vcpu() -> usize {
    rivet_arch::percpu::index().min(MAX_CPUS - 1)
}

/// Set once the first arm has said which timer is used (the logger does not exist at `init`).
static LOGGED: AtomicBool = AtomicBool::new(false);

impl Alarm for XenAlarm {
    fn arm(&self, deadline: u64) {
        if !LOGGED.swap(true, Ordering::Relaxed) {
            log::debug!(
                "time: Xen vCPU singleshot timer, VIRQ_TIMER on event channel {}",
                self.port.load(Ordering::Relaxed)
            );
        }
        let vcpu = this_vcpu();
        if self.armed[vcpu].swap(deadline, Ordering::Relaxed) == deadline {
            return;
        }
        let time = super::read_time_info_of(super::shared_info(), vcpu);
        let set = VcpuSetSingleshotTimer {
            timeout_abs_ns: pvclock::deadline_ns(deadline, &time),
            flags: 0, // a deadline already past fires at once (no -ETIME)
        };
        // SAFETY: `set` is a readable `vcpu_set_singleshot_timer` for the call; the timer only
        // raises VIRQ_TIMER (obligation 2 of `hypercall`).
        let result = unsafe {
            hypercall(
                hc::VCPU_OP,
                hc::VCPUOP_SET_SINGLESHOT_TIMER,
                vcpu as u64,
                &raw const set as u64,
                0,
                0,
            )
        };
        if result != 0 {
            self.armed[vcpu].store(NONE, Ordering::Relaxed);
            log::warn!("time: Xen refused the singleshot timer ({result})");
        }
    }

    fn disarm(&self) {
        let vcpu = this_vcpu();
        if self.armed[vcpu].swap(NONE, Ordering::Relaxed) == NONE {
            return;
        }
        // SAFETY: stopping the running vCPU's singleshot timer takes no argument and touches no
        // memory.
        unsafe { hypercall(hc::VCPU_OP, hc::VCPUOP_STOP_SINGLESHOT_TIMER, vcpu as u64, 0, 0, 0) };
    }
}

/// `VIRQ_TIMER` fired (on the vCPU it belongs to: `events` only lets that one claim the port):
/// its singleshot timer is spent; count.
fn timer_interrupt(_irq: Irq) {
    ALARM.armed[this_vcpu()].store(NONE, Ordering::Relaxed);
    crate::time::ALARM_INTERRUPTS.fetch_add(1, Ordering::Relaxed);
}

/// Stops the periodic timer, binds `VIRQ_TIMER` to a port with [`timer_interrupt`] as its
/// handler, and installs the alarm with the event wait. Call after `events::init`, events masked.
pub(super) fn init() -> Result<(), TimerError> {
    stop_periodic(0);
    let port = bind_vcpu(0)?;
    ALARM.port.store(u64::from(port), Ordering::Relaxed);
    rivet_core::time::set_alarm(&ALARM, super::events::wait_for_event);
    crate::time::HAS_ALARM.store(true, Ordering::Relaxed);
    Ok(())
}

/// Stops vCPU `vcpu`'s periodic timer (call on that vCPU). Its result does not matter: a vCPU
/// without one answers with an error or 0 alike.
pub(super) fn stop_periodic(vcpu: usize) {
    // SAFETY: stopping a vCPU's periodic timer takes no argument and touches no memory.
    unsafe { hypercall(hc::VCPU_OP, hc::VCPUOP_STOP_PERIODIC_TIMER, vcpu as u64, 0, 0, 0) };
}

/// Binds `VIRQ_TIMER` of vCPU `vcpu` to a new port owned by that vCPU, with [`timer_interrupt`]
/// as its handler (unmasked); returns the port. Any vCPU may call it, events masked.
pub(super) fn bind_vcpu(vcpu: usize) -> Result<u32, TimerError> {
    let mut bind = EvtchnBindVirq { virq: VIRQ_TIMER, vcpu: vcpu as u32, port: 0 };
    // SAFETY: `bind` is a readable and writable `evtchn_bind_virq` for the call (Xen writes the
    // port into it); binding allocates a port of this domain (obligation 2).
    let result = unsafe {
        hypercall(hc::EVENT_CHANNEL_OP, hc::EVTCHNOP_BIND_VIRQ, &raw mut bind as u64, 0, 0, 0)
    };
    if result != 0 {
        return Err(TimerError::Bind(result));
    }
    if !super::events::bind_to(bind.port, vcpu) {
        return Err(TimerError::PortTooHigh(bind.port));
    }
    set_handler(Irq(bind.port), timer_interrupt).map_err(TimerError::Handler)?;
    Ok(bind.port)
}
