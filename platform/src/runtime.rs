//! The start-up every boot environment ends in: heap, command line, logger, then `main`.

use rivet_core::boot::{set_boot_info, BootInfo};
use rivet_core::cmdline::CommandLine;
use rivet_core::memory::frame::{FrameAllocator, FrameSource};
use rivet_core::memory::PAGE_SIZE;

/// What a boot environment hands over once memory is mapped and a console and clock exist.
pub(crate) struct Handoff {
    /// The boot environment's name, as `env::platform()` reports it.
    pub platform: &'static str,
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

/// Finishes start-up and runs the application; never returns.
pub(crate) fn start(mut handoff: Handoff) -> ! {
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
        Err(e) => {
            rivet_core::console::print(format_args!("rivet: {e}\n"));
            rivet_core::exit::exit(rivet_core::exit::BAD_BOOT_INPUT);
        }
    };
    let level = match command_line.param("rivet.log").map(rivet_core::logger::parse_level) {
        None => log::LevelFilter::Info,
        Some(Ok(level)) => level,
        Some(Err(e)) => {
            rivet_core::console::print(format_args!("rivet: rivet.log: {e}\n"));
            rivet_core::exit::exit(rivet_core::exit::BAD_BOOT_INPUT);
        }
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

    // SAFETY: `__rivet_main` is defined by the application through `rivet::main!`, which gives
    // it exactly this signature; a missing definition is a link error, not undefined behaviour.
    let code = unsafe { __rivet_main() };
    crate::process::exit(code)
}
