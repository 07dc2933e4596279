//! The other vCPUs of a Xen PV domain: counting them, starting them with `VCPUOP_initialise` and
//! `VCPUOP_up`, and the reschedule IPI as an event channel.
//!
//! Counting ([`register`]): `VCPUOP_is_up` answers `-ENOENT` for a vCPU the domain does not have,
//! so the vCPUs are ids 0 up to the first such answer (dom0 gets `dom0_max_vcpus` of them, see
//! `targets/machines/xen-x86_64.toml`). vCPU id = core index.
//!
//! Starting ([`XenCores::start`]), on the boot vCPU, one at a time: the new vCPU's `VIRQ_TIMER`
//! and its reschedule IPI (`EVTCHNOP_bind_ipi`) are bound to ports that only its upcall claims
//! (`events::bind_to`), with their handlers; its events are masked in its `vcpu_info`; then its
//! first state (`vcpu_guest_context`): kernel mode, Xen's flat selectors and default GDT (no
//! guest descriptors, as on the boot vCPU), the boot vCPU's trap table, event and failsafe
//! callbacks, and page tables (the level-4 table's machine frame), `rsp` = the stack the runtime
//! gave, `rip` = `rivet_arch::xen_pv::vcpu_entry` calling [`vcpu_main`]. That sets the per-core
//! block (GS base: Xen emulates the `wrmsr`), stops the periodic timer, says it arrived and calls
//! the runtime's entry with events still masked.
//!
//! Kicking ([`XenCores::kick`]): `EVTCHNOP_send` on the core's IPI port; its handler is
//! `crate::smp::reschedule_interrupt`. vCPU 0 has one too (bound at [`register`]).
//!
//! Weak spots: a vCPU that does not arrive in [`ARRIVAL_MS`] is left out but may still run later
//! (on the stack it was given, as the `Cores` contract allows); the ports of a failed start are not
//! closed; every vCPU shares the boot vCPU's level-4 table, so a change to the kernel's mappings
//! (there is none after boot yet) would need a TLB flush on all of them.

use super::{events, timer};
use crate::smp::{Cores, SmpError, MAX_CPUS};
use core::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use rivet_arch::xen_pv::{event_callback_entry, failsafe_callback_entry, hypercall, vcpu_entry};
use rivet_core::interrupt::{set_handler, Irq};
use rivet_xen_abi::hypercall as hc;
use rivet_xen_abi::{pfn_to_cr3, selector, EvtchnBindIpi, EvtchnSend, VcpuGuestContext};
use spin::{Mutex, Once};

/// How long a started vCPU has to reach its entry (Xen under TCG is slow to schedule it).
const ARRIVAL_MS: u64 = 3000;

/// No port bound.
const NO_PORT: u32 = u32::MAX;

/// The domain's vCPUs, the boot one first.
pub(super) struct XenCores {
    /// How many vCPUs the domain has (at most `MAX_CPUS` of them used).
    count: usize,
    /// How many `VCPUOP_is_up` found before giving up at `MAX_CPUS`, for the warning.
    probed: usize,
    /// The level-4 page table's machine frame, for each new vCPU's CR3.
    level4_mfn: u64,
    /// Each vCPU's reschedule port ([`NO_PORT`] until bound).
    ipi: [AtomicU32; MAX_CPUS],
    started: [AtomicBool; MAX_CPUS],
    /// One start at a time (and the context below with it).
    context: Mutex<VcpuGuestContext>,
    logged: Once<()>,
}

static CORES: Once<XenCores> = Once::new();

/// Set by each new vCPU as it reaches [`vcpu_main`].
static ARRIVED: [AtomicBool; MAX_CPUS] = [const { AtomicBool::new(false) }; MAX_CPUS];

/// `VCPUOP_is_up` for `vcpu`: 0 or 1 if the domain has it, `-ENOENT` if not.
fn is_up(vcpu: usize) -> i64 {
    // SAFETY: `VCPUOP_is_up` reads and writes no guest memory.
    unsafe { hypercall(hc::VCPU_OP, hc::VCPUOP_IS_UP, vcpu as u64, 0, 0, 0) }
}

/// A new port that notifies `vcpu`, owned by it, with the reschedule handler.
fn bind_ipi(vcpu: usize) -> Result<u32, &'static str> {
    let mut bind = EvtchnBindIpi { vcpu: vcpu as u32, port: 0 };
    // SAFETY: `bind` is a readable and writable `evtchn_bind_ipi` for the call (Xen writes the
    // port into it); binding allocates a port of this domain (obligation 2 of `hypercall`).
    let result = unsafe {
        hypercall(hc::EVENT_CHANNEL_OP, hc::EVTCHNOP_BIND_IPI, &raw mut bind as u64, 0, 0, 0)
    };
    if result != 0 {
        return Err("EVTCHNOP_bind_ipi failed");
    }
    if !events::bind_to(bind.port, vcpu) {
        return Err("its reschedule port is too high a number");
    }
    set_handler(Irq(bind.port), crate::smp::reschedule_interrupt)
        .map_err(|_| "its reschedule port cannot take a handler")?;
    Ok(bind.port)
}

/// Counts the vCPUs and registers them with `crate::smp`; binds vCPU 0's reschedule port. Call
/// once events and the timer work, on the boot vCPU, events masked. `level4_mfn` is the machine
/// frame of the page tables every vCPU runs on.
pub(super) fn register(level4_mfn: u64) {
    let mut count = 1;
    while count < MAX_CPUS && is_up(count) != -hc::ENOENT {
        count += 1;
    }
    let probed =
        if count == MAX_CPUS && is_up(MAX_CPUS) != -hc::ENOENT { count + 1 } else { count };
    let cores = CORES.call_once(|| XenCores {
        count,
        probed,
        level4_mfn,
        ipi: [const { AtomicU32::new(NO_PORT) }; MAX_CPUS],
        // The boot vCPU runs already (and may be kicked).
        started: core::array::from_fn(|index| AtomicBool::new(index == 0)),
        context: Mutex::new(VcpuGuestContext::zeroed()),
        logged: Once::new(),
    });
    if count > 1 {
        match bind_ipi(0) {
            Ok(port) => cores.ipi[0].store(port, Ordering::Relaxed),
            Err(why) => rivet_core::console::print_emergency(format_args!(
                "rivet: Xen PV: vCPU 0: {why}; it cannot be kicked\n"
            )),
        }
    }
    crate::smp::set_cores(cores);
}

/// Where a new vCPU lands (through `rivet_arch::xen_pv::vcpu_entry`), on its stack, events
/// masked: its per-core block first (nothing before it may use GS), then the timer, then the
/// runtime's `entry`.
extern "C" fn vcpu_main(index: u64, entry: u64) -> ! {
    let index = index as usize;
    rivet_arch::percpu::init(index);
    timer::stop_periodic(index);
    // SAFETY: `start` put the address of an `extern "C" fn(usize) -> !` in rsi (the context's
    // registers), which arrives here as `entry`; fn pointers and u64 have the same size.
    let entry: extern "C" fn(usize) -> ! = unsafe { core::mem::transmute(entry) };
    ARRIVED[index].store(true, Ordering::Release);
    entry(index)
}

/// Spins until vCPU `index` has arrived or `ms` milliseconds have passed.
fn wait_arrival(index: usize, ms: u64) -> bool {
    let clock = rivet_core::time::clock();
    let span = clock.frequency().saturating_mul(ms) / 1000;
    let start = clock.ticks();
    while clock.ticks().wrapping_sub(start) < span {
        if ARRIVED[index].load(Ordering::Acquire) {
            return true;
        }
        core::hint::spin_loop();
    }
    ARRIVED[index].load(Ordering::Acquire)
}

impl XenCores {
    /// Says once, when first asked, how many vCPUs there are.
    fn log_once(&self) {
        self.logged.call_once(|| {
            log::debug!("smp: {} Xen vCPUs (VCPUOP_is_up)", self.count);
            if self.probed > self.count {
                log::warn!("smp: the domain has more vCPUs; Rivet uses the first {MAX_CPUS}");
            }
        });
    }

    /// Fills `context` with vCPU `index`'s first state (see the module doc).
    fn build_context(
        &self,
        context: &mut VcpuGuestContext,
        index: usize,
        stack_top: u64,
        entry: extern "C" fn(usize) -> !,
    ) {
        *context = VcpuGuestContext::zeroed();
        context.flags = rivet_xen_abi::VGCF_IN_KERNEL;
        let regs = &mut context.user_regs;
        regs.rip = vcpu_entry();
        regs.rsp = stack_top;
        regs.rdi = index as u64;
        regs.rsi = entry as usize as u64;
        let main: extern "C" fn(u64, u64) -> ! = vcpu_main;
        regs.r15_to_rdx[12] = main as usize as u64; // rdx: the function the stub calls
        regs.cs = selector::FLAT_KERNEL_CS;
        regs.ss = u64::from(selector::FLAT_KERNEL_SS);
        regs.rflags = 0x2; // the reserved bit; IF is Xen's to keep, IOPL 0
        for trap in super::trap_table().iter().take_while(|t| t.address != 0) {
            context.trap_ctxt[usize::from(trap.vector)] = *trap;
        }
        context.kernel_ss = u64::from(selector::FLAT_KERNEL_SS);
        context.kernel_sp = stack_top;
        context.ctrlreg[3] = pfn_to_cr3(self.level4_mfn);
        context.event_callback_eip = event_callback_entry();
        context.failsafe_callback_eip = failsafe_callback_entry();
    }

    /// Binds vCPU `index`'s ports, then initialises it and lets it run; the lock is held.
    fn start_locked(
        &self,
        context: &mut VcpuGuestContext,
        index: usize,
        stack_top: u64,
        entry: extern "C" fn(usize) -> !,
    ) -> Result<(), SmpError> {
        timer::bind_vcpu(index)
            .map_err(|_| SmpError::Refused(index, "cannot bind its VIRQ_TIMER"))?;
        let port = bind_ipi(index).map_err(|why| SmpError::Refused(index, why))?;
        self.ipi[index].store(port, Ordering::Relaxed);
        events::mask_vcpu(index);
        self.build_context(context, index, stack_top, entry);
        // SAFETY: `context` is a readable `vcpu_guest_context` for the call; the state it gives
        // the vCPU runs `vcpu_main` on `stack_top` (the caller's, given to that vCPU for good)
        // with the kernel's own page tables, trap table and callbacks (obligation 2).
        let result = unsafe {
            hypercall(
                hc::VCPU_OP,
                hc::VCPUOP_INITIALISE,
                index as u64,
                core::ptr::from_mut(context) as u64,
                0,
                0,
            )
        };
        if result != 0 {
            log::warn!("smp: vCPU {index}: VCPUOP_initialise: {result}");
            return Err(SmpError::Refused(index, "VCPUOP_initialise failed"));
        }
        // SAFETY: `VCPUOP_up` reads and writes no guest memory; the vCPU runs the state above.
        let result = unsafe { hypercall(hc::VCPU_OP, hc::VCPUOP_UP, index as u64, 0, 0, 0) };
        if result != 0 {
            log::warn!("smp: vCPU {index}: VCPUOP_up: {result}");
            return Err(SmpError::Refused(index, "VCPUOP_up failed"));
        }
        if !wait_arrival(index, ARRIVAL_MS) {
            return Err(SmpError::Timeout(index));
        }
        Ok(())
    }
}

impl Cores for XenCores {
    fn count(&self) -> usize {
        self.log_once();
        self.count
    }

    fn start(
        &self,
        index: usize,
        stack_top: u64,
        entry: extern "C" fn(usize) -> !,
    ) -> Result<(), SmpError> {
        self.log_once();
        if index == 0 || index >= self.count {
            return Err(SmpError::NoSuchCore(index));
        }
        if stack_top == 0 || !stack_top.is_multiple_of(16) {
            return Err(SmpError::Refused(index, "its stack top is null or not 16-byte aligned"));
        }
        let mut context = self.context.lock();
        if self.started[index].swap(true, Ordering::Relaxed) {
            return Err(SmpError::AlreadyStarted(index));
        }
        self.start_locked(&mut context, index, stack_top, entry)
    }

    fn kick(&self, index: usize) {
        if index >= self.count || !self.started[index].load(Ordering::Relaxed) {
            return;
        }
        let port = self.ipi[index].load(Ordering::Relaxed);
        if port == NO_PORT {
            return;
        }
        let send = EvtchnSend { port };
        // SAFETY: `send` is a readable `evtchn_send` for the call; notifying our own IPI port
        // only raises that vCPU's upcall (obligation 2).
        unsafe {
            hypercall(hc::EVENT_CHANNEL_OP, hc::EVTCHNOP_SEND, &raw const send as u64, 0, 0, 0)
        };
    }
}
