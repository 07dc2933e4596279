//! The start-up every boot environment ends in: heap, command line, logger, the scheduler and
//! the other cores, then `main`.

use core::sync::atomic::Ordering;
use rivet_core::boot::{set_boot_info, BootInfo};
use rivet_core::cmdline::CommandLine;
use rivet_core::memory::frame::{FrameAllocator, FrameSource};
use rivet_core::memory::PAGE_SIZE;

/// What a boot environment hands over once memory is mapped and a console and clock exist.
pub(crate) struct Handoff {
    /// The boot environment's name, as `env::platform()` reports it.
    pub platform: &'static str,
    /// The root of the live page tables, where the kernel may map more (thread stacks); `None`
    /// where it cannot change them yet (Xen PV).
    pub page_tables: Option<u64>,
    /// Free RAM, mapped read-write, at the addresses the kernel dereferences: the physical
    /// address on native platforms (the direct map is the identity), the virtual address of the
    /// pseudo-physical pages under Xen PV, where no mapping at the physical address exists.
    /// Known gap: a `FrameAllocator` of virtual addresses cannot serve DMA or page tables on Xen
    /// PV; a direct-map offset here is the planned fix.
    pub frames: FrameAllocator,
    /// The boot command line as the loader gave it (in reserved memory, or copied).
    pub command_line: &'static str,
    /// Clock ticks at the first instruction.
    pub entry_ticks: u64,
}

/// Frames kept back from the heap for later page tables and device rings.
const FRAME_RESERVE: u64 = 64 * PAGE_SIZE;

extern "Rust" {
    /// The application's entry point, defined by `rivet::main!`.
    fn __rivet_main() -> i32;
}

/// Stack bytes of each core's idle thread.
const IDLE_STACK: usize = 16 * 1024;
/// The time slice when `rivet.timeslice=` does not say.
const DEFAULT_SLICE_MS: u64 = 10;

/// Finishes start-up and runs the application; never returns.
pub(crate) fn start(mut handoff: Handoff) -> ! {
    // Threads will be preempted: from here every kernel lock masks interrupts while held (unless
    // the boot environment installed its own mask first, as Xen PV does).
    let preemptive = crate::time::has_alarm();
    if preemptive {
        rivet_core::sync::set_interrupt_mask(
            rivet_arch::cpu::disable_interrupts,
            rivet_arch::cpu::restore_interrupts,
        );
    }
    // Keep a small reserve of frames; everything else becomes heap.
    let reserve = handoff.frames.allocate_frames(FRAME_RESERVE / PAGE_SIZE, PAGE_SIZE);
    while let Some(region) = handoff.frames.take_largest() {
        // SAFETY: the region was just removed from the frame allocator, which owned it as free
        // RAM (obligation 1), and the boot environment maps all free RAM at its physical address
        // before calling `start`, at the addresses `frames` holds (obligation 2, the
        // `Handoff::frames` contract).
        unsafe { crate::heap::add_region(region) };
    }
    if let Some(reserve) = reserve {
        let _ = handoff.frames.free(reserve);
    }

    let command_line = match CommandLine::parse(handoff.command_line) {
        Ok(c) => c,
        Err(e) => bad_boot_input(format_args!("{e}")),
    };
    let level = match command_line.param("rivet.log").map(rivet_core::logger::parse_level) {
        None => log::LevelFilter::Info,
        Some(Ok(level)) => level,
        Some(Err(e)) => bad_boot_input(format_args!("rivet.log: {e}")),
    };
    rivet_core::logger::init(level);

    let heap_bytes = crate::heap::total_bytes() as u64;
    let info = set_boot_info(BootInfo {
        arch: rivet_arch::NAME,
        platform: handoff.platform,
        command_line,
        entry_ticks: handoff.entry_ticks,
        heap_bytes,
    });
    // Read the counter before printing anything: console output is slow, and it is not boot.
    let main_ticks = rivet_core::time::clock().ticks();
    log::debug!(
        "{}/{}: heap {} KiB, {} KiB of frames in reserve",
        info.arch,
        info.platform,
        heap_bytes / 1024,
        handoff.frames.free_bytes() / 1024
    );
    if log::log_enabled!(log::Level::Debug) {
        let ticks = main_ticks.wrapping_sub(info.entry_ticks);
        let nanos = rivet_core::time::ticks_to_nanos(ticks, rivet_core::time::clock().frequency());
        log::debug!("boot: first instruction to main took {}.{:03} us", nanos / 1000, nanos % 1000);
    }

    start_threads(&info.command_line, handoff.page_tables, preemptive);
    crate::net::bring_up(&info.command_line);

    // SAFETY: `__rivet_main` is defined by the application through `rivet::main!`, which gives
    // it exactly this signature; a missing definition is a link error, not undefined behaviour.
    let code = unsafe { __rivet_main() };
    crate::process::exit(code)
}

/// Starts the scheduler (the caller becomes the thread `main`), the other cores, and lets
/// interrupts in.
fn start_threads(command_line: &CommandLine, page_tables: Option<u64>, preemptive: bool) {
    let slice_ms = number_param(command_line, "rivet.timeslice", DEFAULT_SLICE_MS, 1..=10_000);
    if let Some(kib) = command_line.param("rivet.stack") {
        let kib = parse_param("rivet.stack", kib, 4..=1024 * 1024);
        crate::thread::DEFAULT_STACK_SIZE.store(kib as usize * 1024, Ordering::Relaxed);
    }
    // SAFETY: `page_tables` is the root the boot environment activated (the `Handoff`
    // contract), built with the arch's format and reachable through the identity map; nothing
    // else maps in the stack region, and the heap is identity-mapped RAM on every platform that
    // passes a root.
    unsafe { crate::thread::stack::init(page_tables) };
    let idle = crate::thread::stack::allocate(IDLE_STACK).unwrap_or_else(|e| {
        rivet_core::console::print(format_args!("rivet: the idle thread's stack: {e}\n"));
        rivet_core::exit::exit(rivet_core::exit::BAD_BOOT_INPUT)
    });
    let frequency = rivet_core::time::clock().frequency();
    let slice = rivet_core::time::nanos_to_ticks(slice_ms * 1_000_000, frequency);
    crate::thread::sched::init(slice, preemptive, idle);
    start_cores();
    if preemptive {
        // Through the installed mask (`sti` natively; under Xen PV `evtchn_upcall_mask`, as `sti`
        // faults in ring 3).
        rivet_core::sync::restore_interrupts(true);
    }
}

/// Starts every other core the boot environment found, each on its own idle stack. A core that
/// does not come up is reported and left out.
fn start_cores() {
    let Some(cores) = crate::smp::cores() else { return };
    let mut started = 1;
    for index in 1..cores.count().min(rivet_arch::percpu::MAX_CPUS) {
        let stack = match crate::thread::stack::allocate(IDLE_STACK) {
            Ok(stack) => stack,
            Err(e) => {
                log::warn!("core {index}: {e}; left out");
                continue;
            }
        };
        let top = stack.range().end;
        match cores.start(index, top, secondary_entry) {
            // The core runs on the stack for the rest of the run: it is never given back.
            Ok(()) => started += 1,
            // Not given back either: a core that timed out may still start, on this stack.
            Err(e) => log::warn!("{e}; left out"),
        }
    }
    // A started core has reached its entry; wait (briefly) until it has joined the scheduler, so
    // `main` sees every core (`thread::available_parallelism`).
    let clock = rivet_core::time::clock();
    let give_up = clock.ticks().saturating_add(clock.frequency());
    while crate::thread::sched::online_cores() < started && clock.ticks() < give_up {
        core::hint::spin_loop();
    }
    log::debug!(
        "smp: {started} of {} cores started, {} online",
        cores.count(),
        crate::thread::sched::online_cores()
    );
}

/// Where a secondary core lands once its bring-up is done, interrupts masked: its per-core block
/// (x86_64's entry installs it earlier, for its own set-up; again here is harmless), then the
/// scheduler's idle loop.
extern "C" fn secondary_entry(index: usize) -> ! {
    rivet_arch::percpu::init(index);
    crate::thread::sched::run_secondary(index)
}

/// A numeric kernel parameter, or `default`; out of `range` or unreadable is bad boot input.
/// Reports bad boot input (`rivet: MESSAGE`) and ends the run with exit code 103.
pub(crate) fn bad_boot_input(message: core::fmt::Arguments<'_>) -> ! {
    rivet_core::console::print(format_args!("rivet: {message}\n"));
    rivet_core::exit::exit(rivet_core::exit::BAD_BOOT_INPUT)
}

/// Kernel parameter `name` as a number in `range` (`default` when absent); anything else is bad
/// boot input.
pub(crate) fn number_param(
    command_line: &CommandLine,
    name: &str,
    default: u64,
    range: core::ops::RangeInclusive<u64>,
) -> u64 {
    command_line.param(name).map_or(default, |value| parse_param(name, value, range))
}

fn parse_param(name: &str, value: &str, range: core::ops::RangeInclusive<u64>) -> u64 {
    match value.parse::<u64>() {
        Ok(n) if range.contains(&n) => n,
        _ => bad_boot_input(format_args!(
            "{name}={value}: expected a number from {} to {}",
            range.start(),
            range.end()
        )),
    }
}
