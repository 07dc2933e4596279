//! The devicetree boot's other cores: started with PSCI CPU_ON (QEMU `virt`, Xen) or released
//! from a spin table (a Raspberry Pi), then given their part of the GIC.
//!
//! [`park_spin_table_cores`] runs before the MMU is on: it writes the image's holding pen
//! (`rivet_arch::smp`) into every other core's `cpu-release-addr` and wakes them, so they leave
//! the firmware's spin loop for the pen at once. That has to happen while the MMU is off: a Pi's
//! release words lie in page 0, which the identity map leaves out so null pointers fault. From
//! then on the firmware's spin code and release words are never read again (and page 0, which
//! holds both on a Pi, is covered by the DTB's `/memreserve/` anyway, so it is never heap).
//!
//! [`register`] (after the interrupt controller is up) builds the [`Cores`] the runtime uses.
//! `start` allocates the core's exception stack, fills a `StartBlock` with the boot core's
//! translation registers, and starts the core through CPU_ON (the block's address as context
//! id) or the pen; the core enters [`secondary_main`], which sets up its part of the interrupt
//! controller (GIC, or a Pi 3's BCM2836 routing) and timer and reports back before calling the
//! runtime's entry.
//!
//! Weak spots: without an interrupt controller cores start but `kick` does nothing and they
//! take no timer interrupt; a core that times out is given up (its exception stack and block are
//! leaked, not reused).

use super::interrupts::{self, SgiTarget};
use crate::smp::{Cores, SmpError, MAX_CPUS};
use alloc::boxed::Box;
use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use rivet_arch::psci::{Conduit, CpuOnError};
use rivet_arch::smp::StartBlock;
use rivet_bootinfo::devicetree::{Cpu, Cpus, EnableMethod};
use spin::{Mutex, Once};

/// How long a core has to reach its entry: 1 s (QEMU's TCG on a busy host is slow).
const START_TIMEOUT_NANOS: u64 = 1_000_000_000;

/// `Launch::state` values.
const STARTING: u32 = 0;
const UP: u32 = 1;
const FAILED: u32 = 2;

/// Sends every spin-table core but the boot core into the image's holding pen. Returns how
/// many were sent. Call once, with the MMU off (the release words are then written straight to
/// memory, and page 0 is reachable).
pub(crate) fn park_spin_table_cores(cpus: &Cpus) -> usize {
    let boot = rivet_arch::smp::mpidr();
    let mut parked = 0;
    for cpu in cpus.as_slice().iter().filter(|cpu| cpu.mpidr != boot) {
        if let EnableMethod::SpinTable { release } = cpu.enable {
            if release.is_multiple_of(8) && release != 0 {
                // SAFETY: the DTB names `release` as the core's release word, in RAM the
                // firmware's spin code reads (obligation 1); the MMU is off, so the store goes to
                // memory (the caller's contract), and the cleaning is harmless.
                unsafe { rivet_arch::smp::send_to_pen(release) };
                parked += 1;
            }
        }
    }
    parked
}

/// What a starting core is handed (through [`StartBlock::argument`]) and reports back in.
#[repr(C)]
struct Launch {
    block: StartBlock,
    index: usize,
    entry: extern "C" fn(usize) -> !,
    cores: &'static DevicetreeCores,
    state: AtomicU32,
}

/// The cores `/cpus` lists, boot core first.
pub(crate) struct DevicetreeCores {
    cpus: [Cpu; MAX_CPUS],
    count: usize,
    psci: Option<Conduit>,
    /// The virtual timer's interrupt number, enabled on each core (with a controller).
    timer: Option<u32>,
    /// How many spin-table cores wait in the pen.
    parked: usize,
    started: [AtomicBool; MAX_CPUS],
    /// Each started core's IPI target, as its `secondary_main` found it: bit 63 set when known,
    /// bit 62 for a GICv3 affinity, bit 61 for a BCM2836 core number (else a GICv2 target
    /// mask), the value in bits 31:0.
    targets: [AtomicU64; MAX_CPUS],
    /// The pen holds one block: one spin-table start at a time.
    pen: Mutex<()>,
}

/// `DevicetreeCores::targets` encoding.
const TARGET_KNOWN: u64 = 1 << 63;
const TARGET_V3: u64 = 1 << 62;
const TARGET_MAILBOX: u64 = 1 << 61;

fn encode(target: SgiTarget) -> u64 {
    match target {
        SgiTarget::V2(mask) => TARGET_KNOWN | u64::from(mask),
        SgiTarget::V3(affinity) => TARGET_KNOWN | TARGET_V3 | u64::from(affinity),
        SgiTarget::Mailbox(core) => TARGET_KNOWN | TARGET_MAILBOX | u64::from(core),
    }
}

fn decode(word: u64) -> Option<SgiTarget> {
    if word & TARGET_KNOWN == 0 {
        None
    } else if word & TARGET_V3 != 0 {
        Some(SgiTarget::V3(word as u32))
    } else if word & TARGET_MAILBOX != 0 {
        Some(SgiTarget::Mailbox(word as u8))
    } else {
        Some(SgiTarget::V2(word as u8))
    }
}

static CORES: Once<DevicetreeCores> = Once::new();

/// Registers the cores `cpus` lists with `crate::smp`, the boot core first, and gives the
/// reschedule IPI its handler (with an interrupt controller). `parked` is what
/// [`park_spin_table_cores`] returned. Call once, after `interrupts::init`, with the MMU on.
pub(crate) fn register(cpus: &Cpus, psci: Option<Conduit>, timer: Option<u32>, parked: usize) {
    if cpus.ignored > 0 {
        log::warn!("smp: {} cores beyond the first {MAX_CPUS} are ignored", cpus.ignored);
    }
    let boot = rivet_arch::smp::mpidr();
    let mut list = [Cpu { mpidr: boot, enable: EnableMethod::None }; MAX_CPUS];
    let mut count = 1;
    for cpu in cpus.as_slice().iter().filter(|cpu| cpu.mpidr != boot) {
        if let Some(slot) = list.get_mut(count) {
            *slot = *cpu;
            count += 1;
        }
    }
    let gic = interrupts::this_core_sgi_target();
    if gic.is_some() && count > 1 {
        if let Err(e) = interrupts::enable_reschedule() {
            log::warn!("smp: the reschedule interrupt: {e}");
        }
    }
    let cores = CORES.call_once(|| DevicetreeCores {
        cpus: list,
        count,
        psci,
        timer,
        parked,
        started: [const { AtomicBool::new(false) }; MAX_CPUS],
        targets: [const { AtomicU64::new(0) }; MAX_CPUS],
        pen: Mutex::new(()),
    });
    if let Some(target) = gic {
        cores.targets[0].store(encode(target), Ordering::Relaxed);
    }
    log::debug!("smp: {count} cores, {parked} waiting in the pen");
    crate::smp::set_cores(cores);
}

impl Cores for DevicetreeCores {
    fn count(&self) -> usize {
        self.count
    }

    fn start(
        &self,
        index: usize,
        stack_top: u64,
        entry: extern "C" fn(usize) -> !,
    ) -> Result<(), SmpError> {
        if index == 0 || index >= self.count {
            return Err(SmpError::NoSuchCore(index));
        }
        let cpu = self.cpus[index];
        let psci = match (cpu.enable, self.psci) {
            (EnableMethod::Psci, Some(conduit)) => Some(conduit),
            (EnableMethod::SpinTable { .. }, _) if self.parked > 0 => None,
            _ => return Err(SmpError::NoEnableMethod(index)),
        };
        if self.started[index].swap(true, Ordering::AcqRel) {
            return Err(SmpError::AlreadyStarted(index));
        }
        let size = rivet_arch::boot::EXCEPTION_STACK_SIZE;
        let layout =
            core::alloc::Layout::from_size_align(size, rivet_core::memory::PAGE_SIZE as usize)
                .map_err(|_| SmpError::OutOfMemory(index))?;
        // SAFETY: the layout has a non-zero size.
        let exception_stack = unsafe { alloc::alloc::alloc(layout) };
        if exception_stack.is_null() {
            return Err(SmpError::OutOfMemory(index));
        }
        // The heap is identity-mapped: its addresses are physical ones too.
        let exception_stack_top = exception_stack as u64 + size as u64;
        let this: &'static Self = CORES.get().ok_or(SmpError::NoSuchCore(index))?;
        let launch = Box::leak(Box::new(Launch {
            block: StartBlock::like_this_core(exception_stack_top, stack_top, secondary_main, 0),
            index,
            entry,
            cores: this,
            state: AtomicU32::new(STARTING),
        }));
        launch.block.argument = launch as *const Launch as u64;
        launch.block.publish();

        let _pen = match psci {
            Some(conduit) => {
                let block = &launch.block as *const StartBlock as u64;
                // SAFETY: the entry point is the secondary entry, which takes a published
                // StartBlock's address in x0.
                unsafe {
                    rivet_arch::psci::cpu_on(
                        conduit,
                        cpu.mpidr,
                        rivet_arch::smp::entry_point(),
                        block,
                    )
                }
                .map_err(|e| SmpError::Refused(index, cpu_on_error(e)))?;
                None
            }
            None => {
                let pen = self.pen.lock();
                rivet_arch::smp::release_from_pen(cpu.mpidr, &launch.block);
                Some(pen)
            }
        };
        let clock = rivet_core::time::clock();
        let start = clock.ticks();
        let timeout = rivet_core::time::nanos_to_ticks(START_TIMEOUT_NANOS, clock.frequency());
        let state = loop {
            let state = launch.state.load(Ordering::Acquire);
            if state != STARTING || clock.ticks().wrapping_sub(start) > timeout {
                break state;
            }
            core::hint::spin_loop();
        };
        if psci.is_none() {
            rivet_arch::smp::close_pen();
        }
        match state {
            UP => Ok(()),
            FAILED => Err(SmpError::InterruptController(index)),
            _ => Err(SmpError::Timeout(index)),
        }
    }

    fn kick(&self, index: usize) {
        if let Some(target) =
            self.targets.get(index).and_then(|t| decode(t.load(Ordering::Acquire)))
        {
            interrupts::send_reschedule(target);
        }
    }
}

/// What CPU_ON's refusal says.
fn cpu_on_error(error: CpuOnError) -> &'static str {
    match error {
        CpuOnError::NotSupported => "PSCI CPU_ON: NOT_SUPPORTED",
        CpuOnError::InvalidParameters => "PSCI CPU_ON: INVALID_PARAMETERS (no core has that MPIDR)",
        CpuOnError::AlreadyOn => "PSCI CPU_ON: ALREADY_ON",
        CpuOnError::OnPending => "PSCI CPU_ON: ON_PENDING",
        CpuOnError::InternalFailure => "PSCI CPU_ON: INTERNAL_FAILURE",
        CpuOnError::InvalidAddress => "PSCI CPU_ON: INVALID_ADDRESS",
        CpuOnError::Other(_) => "PSCI CPU_ON: DENIED or an unknown status",
    }
}

/// A started core's first Rust, on its own stack with the MMU on and IRQs masked: its part of
/// the interrupt controller, then the runtime's entry.
extern "C" fn secondary_main(launch: u64) -> ! {
    // SAFETY: `launch` is the address of the leaked `Launch` whose block started this core.
    let launch = unsafe { &*(launch as *const Launch) };
    let (index, entry, cores) = (launch.index, launch.entry, launch.cores);
    match interrupts::init_this_core(cores.timer) {
        Ok(target) => {
            if let Some(target) = target {
                cores.targets[index].store(encode(target), Ordering::Release);
            }
            launch.state.store(UP, Ordering::Release);
        }
        Err(e) => {
            log::error!("smp: core {index}: {e}");
            launch.state.store(FAILED, Ordering::Release);
            rivet_arch::cpu::halt_forever();
        }
    }
    entry(index)
}
