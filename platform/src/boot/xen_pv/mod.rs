//! Xen classic PV (x86_64): the same image as PVH, started by Xen's PV domain builder.
//!
//! `arch/src/x86_64/xen_pv.rs` enters [`rivet_xen_pv_entry`] in 64-bit ring 3 on Xen's initial
//! page tables, on the image's boot stack. From there, in this order:
//!
//! 1. the console: `HYPERVISOR_console_io` (Xen's own console; dom0, or any domain on a debug
//!    Xen); a domU switches to its console ring (`console_ring.rs`) as soon as the start info is
//!    read, and connects to xenstore (`xenstore.rs`), whose services `rivet::xen` offers;
//! 2. the exit path — a domU leaves its exit code in xenstore (`data/rivet-exit-code`, for the
//!    toolstack), drains its console ring and shuts down (poweroff for 0, crash otherwise); dom0:
//!    `PHYSDEVOP_set_iopl` and a 32-bit write of the code to isa-debug-exit (port
//!    0xf4, so QEMU exits with `(code << 1) | 1` exactly as on `microvm`), falling back to
//!    `SCHEDOP_shutdown` where no such device ends the run: crash for a non-zero code, poweroff
//!    for 0 — reboot for 0 in dom0, whose poweroff halts the machine (QEMU would not exit) while
//!    its reboot ends a `-no-reboot` QEMU with status 0;
//! 3. the trap table (`set_trap_table`), so a fault from here on is reported as on native x86_64;
//! 4. the start info, copied and validated as untrusted input (`rivet-xen-abi`);
//! 5. memory (`memory.rs`): the image remapped W^X and the boot stack's guard page unmapped (Xen
//!    maps it all read-write-execute); the rest of the domain's pages (up to `nr_pages`, 1 GiB at
//!    most) mapped at `VIRT_BASE + pfn * 4096` through new level-1 tables; the free part of all
//!    that (minus the image, the start info, the p2m list, the module, Xen's bootstrap page tables
//!    and stack) becomes the heap;
//! 6. the clock: the TSC, its frequency from the pvclock scale in the shared info page (mapped
//!    over a page of `.bss` with `update_va_mapping`);
//! 7. events (`events.rs`): the upcall and failsafe callbacks, the event channels as core's
//!    interrupt controller, `evtchn_upcall_mask` as the interrupt mask; then the alarm
//!    (`timer.rs`): the vCPU's singleshot timer on `VIRQ_TIMER`, with `SCHEDOP_block` as the idle
//!    wait — so threads are preempted as on the native platforms (events stay masked until the
//!    runtime lets interrupts in);
//! 8. the other vCPUs (`smp.rs`), counted with `VCPUOP_is_up` and registered with `crate::smp`
//!    if events work; the runtime starts them (`VCPUOP_initialise`, `VCPUOP_up`), each with its
//!    own `VIRQ_TIMER` and reschedule IPI port;
//! 9. the common start-up in `runtime.rs`, which ends in `main`.
//!
//! Known gaps (this milestone): the frames handed to `runtime::start` are *virtual* addresses
//! (pseudo-physical + `VIRT_BASE`: a PV guest has no mapping at the pseudo-physical address),
//! which is right for the heap, their only user today, but not the "physical" the `Handoff`
//! contract names; no `TableMemory` over `mmu_update` yet (the pages are mapped by hand in
//! `memory.rs`); memory beyond 1 GiB is not used; a stack overflow cannot be reported: there is
//! no IST under PV, so Xen cannot deliver the fault and crashes the domain ("Hardware Dom0
//! crashed" on Xen's console; Xen then reboots, which `-no-reboot` turns into QEMU exiting 0).
//! No device event channels yet besides the timer and IPIs (the console and xenstore rings are
//! polled). If Xen refuses the callbacks or the
//! timer, the boot goes on without interrupts on one vCPU: threads switch cooperatively and
//! `sleep` busy-waits on the TSC, as before events were wired.

mod events;
mod grant_table;
mod guard;
mod memory;
mod shared_page;
mod smp;
mod timer;
mod wall_clock;

use crate::boot::xen::{console_ring, xenstore};

use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use rivet_arch::head::{DEBUG_EXIT_PORT, VIRT_BASE};
use rivet_arch::xen_pv::{boot_stack_guard_page, hypercall, kernel_image_virtual, trap_entry};
use rivet_core::console::{print_emergency, set_console, Console};
use rivet_core::exit::BAD_BOOT_INPUT;
use rivet_core::memory::frame::FrameAllocator;
use rivet_core::memory::map::{MapError, MemoryMap};
use rivet_core::memory::{PhysRange, PAGE_SIZE};
use rivet_core::time::{Alarm, Clock};
use rivet_xen_abi::grant_table::{GrantError, GrantRef};
use rivet_xen_abi::hypercall as hc;
use rivet_xen_abi::{
    pvclock, selector, start_info, EvtchnAllocUnbound, PhysdevSetIopl, SharedInfo, StartInfo,
    StartInfoError, TrapInfo, VcpuTimeInfo, SIF_INITDOMAIN, TI_MASK_EVENTS,
};

/// The boot environment's name, as `rivet::env::platform()` reports it.
const PLATFORM: &str = "xen-pv";

/// How long an exit waits for isa-debug-exit to take effect: ~0.1–0.3 s at 1–3 GHz.
const EXIT_GRACE_TICKS: u64 = 1 << 28;

/// Used when the pvclock scale cannot be read.
const FALLBACK_HZ: u64 = 1_000_000_000;

/// Where Xen jumps (through `rivet_xen_pv_start`) with the start info's virtual address, the
/// stack pointer Xen gave (the end of its bootstrap elements) and the TSC at the first
/// instruction; on the image's boot stack, `.bss` zeroed, events masked, no trap table yet.
#[no_mangle]
pub extern "C" fn rivet_xen_pv_entry(start_info: u64, xen_stack: u64, entry_tsc: u64) -> ! {
    rivet_arch::percpu::init(0);
    set_console(&XenConsole);
    rivet_core::exit::set_exit_handler(exit);
    rivet_core::exit::set_reboot_handler(reboot);
    install_trap_table();
    rivet_core::time::set_clock(&CLOCK);

    // The start info is read once, into the image: validation then works on a stable copy.
    if !start_info.is_multiple_of(8) || start_info < VIRT_BASE {
        fail(StartInfoError::Outside("the start info (rsi)").into());
    }
    // SAFETY: Xen passes the start info's virtual address in rsi, inside its initial mapping
    // (checked against the domain's memory by `validate` below; a wild pointer faults and is
    // reported through the trap table); `StartInfo` is plain integers, any bit pattern is valid.
    let copy = unsafe { core::ptr::read_volatile(start_info as *const StartInfo) };
    let info = START_INFO.call_once(|| copy);
    // A domU's console is its ring: connected first, so that even a bad start info is reported.
    IS_DOM0.store(info.flags & SIF_INITDOMAIN != 0, Ordering::Relaxed);
    crate::xen::register(&SERVICES);
    if !is_dom0() {
        connect_console_and_store(info);
    }
    let image = kernel_image_virtual();
    let boot = match start_info::validate(info, start_info, xen_stack, VIRT_BASE, image.clone()) {
        Ok(boot) => boot,
        Err(e) => fail(e.into()),
    };

    let frames = match set_up_memory(info, &boot, &image) {
        Ok(frames) => frames,
        Err(e) => fail(e),
    };
    if !is_dom0() {
        // Remapping the image W^X put the image's own frames back under the ring slots.
        connect_console_and_store(info);
    }
    if init_clock(boot.shared_info_mfn) && init_events() {
        // The level-4 table stays Xen's bootstrap one (`memory.rs` only adds to it): the other
        // vCPUs start on it too.
        let level4 = memory::mfn_of(info, (info.pt_base - VIRT_BASE) / PAGE_SIZE);
        smp::register(level4);
    }
    // Only takes effect if `init_events` installed no alarm.
    rivet_core::time::set_alarm(&NO_ALARM, core::hint::spin_loop);
    guard::install();
    crate::runtime::start(crate::runtime::Handoff {
        platform: PLATFORM,
        frames,
        page_tables: None,
        command_line: boot.command_line,
        entry_ticks: entry_tsc,
    })
}

static START_INFO: spin::Once<StartInfo> = spin::Once::new();

/// The console: a domU's console ring once it is mapped, else the hypervisor console through
/// `HYPERVISOR_console_io(CONSOLEIO_write, …)` (dom0, and a domU's first moments).
struct XenConsole;

impl Console for XenConsole {
    fn write_bytes(&self, bytes: &[u8]) {
        if console_ring::is_ready() {
            return console_ring::write(bytes);
        }
        // Xen takes any length, but keep each call short so a long write is not one long stall.
        for chunk in bytes.chunks(256) {
            // SAFETY: the buffer is `chunk.len()` readable bytes for the duration of the call
            // (obligation 2 of `hypercall`); the kernel entered through the PV entry (obligation
            // 1), as this console is only installed by `rivet_xen_pv_entry`.
            unsafe {
                hypercall(
                    hc::CONSOLE_IO,
                    hc::CONSOLEIO_WRITE,
                    chunk.len() as u64,
                    chunk.as_ptr() as u64,
                    0,
                    0,
                )
            };
        }
    }
}

/// Whether this domain is dom0 (`SIF_INITDOMAIN`), for the shutdown reason.
static IS_DOM0: AtomicBool = AtomicBool::new(false);

/// Whether this domain is dom0.
fn is_dom0() -> bool {
    IS_DOM0.load(Ordering::Relaxed)
}

/// A domU's console ring and xenstore connection, from the frames and channels the start info
/// names. Says so on Xen's console (which a debug Xen shows) when a page cannot be mapped.
/// Called again after `memory::protect_image`, which rewrites every page of the image —
/// the slots the rings are mapped over included.
fn connect_console_and_store(info: &StartInfo) {
    let console = &raw mut CONSOLE_PAGE;
    // SAFETY: CONSOLE_PAGE is only used through this mapping, as the console page.
    match unsafe { shared_page::map_frame(console, info.console_mfn()) } {
        // SAFETY: the slot now maps the console page, for the rest of the run.
        Ok(()) => unsafe { console_ring::connect(console.cast(), info.console_evtchn()) },
        Err(e) => {
            print_emergency(format_args!("rivet: Xen PV: cannot map the console ring ({e})\n"))
        }
    }
    let store = &raw mut STORE_PAGE;
    // SAFETY: STORE_PAGE is only used through this mapping, as the xenstore page.
    match unsafe { shared_page::map_frame(store, info.store_mfn) } {
        // SAFETY: the slot now maps the xenstore page, for the rest of the run.
        Ok(()) => drop(unsafe { xenstore::connect(store.cast(), info.store_evtchn) }),
        Err(e) => {
            print_emergency(format_args!("rivet: Xen PV: cannot map the xenstore ring ({e})\n"))
        }
    }
}

/// Where a domU's console page is mapped.
static mut CONSOLE_PAGE: shared_page::PageSlot = shared_page::PageSlot::new();
/// Where a domU's xenstore page is mapped.
static mut STORE_PAGE: shared_page::PageSlot = shared_page::PageSlot::new();

/// The Xen services `rivet::xen` offers applications: xenstore (a domU's), Xen's clock, and
/// netfront's needs in a domU.
static SERVICES: crate::boot::xen::GuestServices =
    crate::boot::xen::GuestServices { system_time_ns, split_drivers };

/// Xen's system time, once the shared info page is mapped.
fn system_time_ns() -> Option<u64> {
    CLOCK_MAPPED.load(Ordering::Relaxed).then(|| {
        let time = read_time_info_of(shared_info(), rivet_arch::percpu::index());
        pvclock::system_time_ns(rivet_arch::time::read_tsc(), &time)
    })
}

/// A domU's split-driver support, once its grant table is set up (not in dom0: no back ends).
fn split_drivers() -> Option<&'static dyn crate::xen::SplitDrivers> {
    if is_dom0() || xenstore::get().is_none() {
        return None;
    }
    match grant_table::init() {
        Ok(_) => Some(&SPLIT_DRIVERS),
        Err(e) => {
            log::error!("xen: no grant table: {e}");
            None
        }
    }
}

/// Frames, grants and event channels for front ends, over this domain's p2m and grant table.
struct SplitDrivers;

static SPLIT_DRIVERS: SplitDrivers = SplitDrivers;

impl crate::xen::SplitDrivers for SplitDrivers {
    fn frame_of(&self, virt: usize) -> Option<u64> {
        let info = START_INFO.get()?;
        let pfn = (virt as u64).checked_sub(VIRT_BASE)? / PAGE_SIZE;
        (pfn < info.nr_pages).then(|| memory::mfn_of(info, pfn))
    }

    fn grant(&self, domain: u16, frame: u64, readonly: bool) -> Result<GrantRef, GrantError> {
        grant_table::init().map_err(|_| GrantError::Exhausted)?.grant(domain, frame, readonly)
    }

    fn end_grant(&self, reference: GrantRef) -> Result<(), GrantError> {
        grant_table::init().map_err(|_| GrantError::NotAllocated(reference))?.end(reference)
    }

    fn alloc_unbound(&self, remote: u16) -> Result<u32, i64> {
        let mut request =
            EvtchnAllocUnbound { dom: hc::DOMID_SELF as u16, remote_dom: remote, port: 0 };
        // SAFETY: `request` is a readable and writable `evtchn_alloc_unbound` for the call
        // (obligation 2).
        let result = unsafe {
            hypercall(
                hc::EVENT_CHANNEL_OP,
                hc::EVTCHNOP_ALLOC_UNBOUND,
                &raw mut request as u64,
                0,
                0,
                0,
            )
        };
        if result == 0 {
            Ok(request.port)
        } else {
            Err(result)
        }
    }

    fn notify(&self, port: u32) {
        crate::boot::xen::ring::notify(port);
    }
}

/// Ends the run: isa-debug-exit if the domain may reach it, else a Xen shutdown.
fn exit(code: i32) -> ! {
    if !is_dom0() {
        crate::boot::xen::exit_domu(code);
    }
    let iopl = PhysdevSetIopl { iopl: 3 };
    // SAFETY: `iopl` is a readable `physdev_set_iopl` for the call; raising the virtual IOPL only
    // lets port I/O through Xen's permission check (obligation 2).
    let raised = unsafe {
        hypercall(hc::PHYSDEV_OP, hc::PHYSDEVOP_SET_IOPL, &raw const iopl as u64, 0, 0, 0)
    };
    if raised == 0 {
        // SAFETY: port 0xf4 is QEMU's isa-debug-exit when the machine has one (the write ends the
        // run); Xen emulates the `out` for a domain with I/O privilege and drops it elsewhere.
        unsafe { rivet_arch::cpu::write_port_u32(DEBUG_EXIT_PORT, code as u32) };
        let start = rivet_arch::time::read_tsc();
        while rivet_arch::time::read_tsc().wrapping_sub(start) < EXIT_GRACE_TICKS {
            core::hint::spin_loop();
        }
    }
    // dom0's poweroff halts the machine (QEMU keeps running); its reboot ends a `-no-reboot` QEMU.
    let (reason, name) = match code {
        0 if is_dom0() => (hc::SHUTDOWN_REBOOT, "reboot: dom0 success"),
        0 => (hc::SHUTDOWN_POWEROFF, "poweroff"),
        _ => (hc::SHUTDOWN_CRASH, "crash"),
    };
    print_emergency(format_args!(
        "rivet: exit code {code}: no isa-debug-exit device ended the run; asking Xen to shut the \
         domain down ({name})\n"
    ));
    crate::boot::xen::shut_down(reason)
}

/// The reboot handler: `SCHEDOP_shutdown` with `SHUTDOWN_reboot`. For dom0 Xen resets the
/// machine (a `-no-reboot` QEMU exits with status 0, a guest reset to the host tool); a domU is
/// restarted or destroyed as its toolstack decides.
fn reboot() -> ! {
    crate::boot::xen::reboot_domu()
}

/// The trap table every vCPU uses: the exception vectors 0–31 (but NMI and double fault, which
/// PV delivers otherwise or not at all) with the PV stubs in front of the native handlers; the
/// last entry (zero) ends the list.
fn trap_table() -> &'static [TrapInfo; 33] {
    static TABLE: spin::Once<[TrapInfo; 33]> = spin::Once::new();
    TABLE.call_once(|| {
        let mut table = [TrapInfo::default(); 33]; // the last entry stays zero: the terminator
        for (slot, vector) in (0..32u8).filter(|v| !matches!(v, 2 | 8)).enumerate() {
            table[slot] = TrapInfo {
                vector,
                flags: TI_MASK_EVENTS,
                cs: selector::FLAT_KERNEL_CS,
                address: trap_entry(vector),
            };
        }
        table
    })
}

/// Registers [`trap_table`] for the boot vCPU (`smp.rs` gives the others the same one).
fn install_trap_table() {
    let table = trap_table();
    // SAFETY: `table` is a static list of `trap_info` ending in a zero entry, readable for the call
    // (obligation 2); the handlers it names are the PV stubs, which never return.
    let result = unsafe { hypercall(hc::SET_TRAP_TABLE, table.as_ptr() as u64, 0, 0, 0, 0) };
    if result != 0 {
        print_emergency(format_args!(
            "rivet: Xen refused the trap table ({result}); faults will kill the domain\n"
        ));
    }
}

/// Whether the shared info page is mapped (its time records can be read).
static CLOCK_MAPPED: AtomicBool = AtomicBool::new(false);

/// Where the shared info page appears once mapped (its original frame is given up).
static mut SHARED_INFO_PAGE: shared_page::PageSlot = shared_page::PageSlot::new();

/// The TSC, with the frequency Xen's pvclock scale implies (read once at boot).
struct XenClock {
    frequency: AtomicU64,
}

static CLOCK: XenClock = XenClock { frequency: AtomicU64::new(FALLBACK_HZ) };

impl Clock for XenClock {
    fn ticks(&self) -> u64 {
        rivet_arch::time::read_tsc()
    }

    fn frequency(&self) -> u64 {
        self.frequency.load(Ordering::Relaxed)
    }
}

/// `sleep`'s stand-in alarm where events could not be set up (`init_events` failed): `sleep`
/// spins on the TSC. It only says so, once, at the first sleep (the logger does not exist yet
/// when the platform is set up); `rivet::time::has_alarm()` stays false.
struct NoAlarm;

static NO_ALARM: NoAlarm = NoAlarm;
static NO_ALARM_LOGGED: AtomicBool = AtomicBool::new(false);

impl Alarm for NoAlarm {
    fn arm(&self, _deadline: u64) {
        if !NO_ALARM_LOGGED.swap(true, Ordering::Relaxed) {
            log::debug!("time: Xen PV: no timer interrupt (events not set up); sleep spins");
        }
    }

    fn disarm(&self) {}
}

/// The shared info page, once [`init_clock`] has mapped it.
fn shared_info() -> *mut SharedInfo {
    (&raw mut SHARED_INFO_PAGE).cast::<SharedInfo>()
}

/// Sets up event delivery and the timer; on failure says why and leaves events masked (no
/// alarm: the caller installs the spinning one). Returns whether both work (the other vCPUs
/// need them: without events they could not be kicked, nor wake from `SCHEDOP_block`).
fn init_events() -> bool {
    if let Err(e) = events::init() {
        print_emergency(format_args!("rivet: Xen PV: {e}; no interrupts, threads cooperative\n"));
        return false;
    }
    if let Err(e) = timer::init() {
        print_emergency(format_args!("rivet: Xen PV: {e}; no timer interrupt, sleep spins\n"));
        return false;
    }
    true
}

/// Maps the shared info page and takes the TSC frequency from vCPU 0's pvclock record; returns
/// whether both worked (the timer converts its deadlines with that record: without a scale, every
/// deadline would be "now" and the timer would fire without end).
fn init_clock(shared_info_mfn: u64) -> bool {
    let slot = &raw mut SHARED_INFO_PAGE;
    // SAFETY: SHARED_INFO_PAGE is only used through `shared_info()` after this mapping (read
    // with volatile reads and atomics: Xen writes it concurrently).
    if let Err(result) = unsafe { shared_page::map_frame(slot, shared_info_mfn) } {
        print_emergency(format_args!(
            "rivet: cannot map the shared info page ({result}); TSC taken to run at 1 GHz\n"
        ));
        return false;
    }
    CLOCK_MAPPED.store(true, Ordering::Relaxed);
    let shared = slot.cast::<SharedInfo>().cast_const();
    let time = read_time_info(shared);
    wall_clock::read(shared, &time);
    match pvclock::frequency_hz(&time) {
        Some(hz) => {
            CLOCK.frequency.store(hz, Ordering::Relaxed);
            true
        }
        None => {
            print_emergency(format_args!(
                "rivet: no pvclock scale in the shared info; TSC taken to run at 1 GHz\n"
            ));
            false
        }
    }
}

/// A consistent copy of vCPU 0's time record (see [`read_time_info_of`]).
fn read_time_info(shared: *const SharedInfo) -> VcpuTimeInfo {
    read_time_info_of(shared, 0)
}

/// A consistent copy of vCPU `vcpu`'s time record (`boot::xen::read_time_info`).
fn read_time_info_of(shared: *const SharedInfo, vcpu: usize) -> VcpuTimeInfo {
    let vcpu = vcpu.min(crate::smp::MAX_CPUS - 1);
    // SAFETY: `shared` maps the shared info page (mapped by `init_clock` before any call: the
    // timer's come after it succeeded), which holds 32 `vcpu_info` slots (`vcpu` < MAX_CPUS
    // <= 32).
    unsafe { crate::boot::xen::read_time_info(shared, vcpu) }
}

/// Why this boot cannot go on.
#[derive(Debug)]
enum BootError {
    StartInfo(StartInfoError),
    MemoryMap(MapError),
    NoRam,
}

impl From<StartInfoError> for BootError {
    fn from(e: StartInfoError) -> Self {
        BootError::StartInfo(e)
    }
}

impl From<MapError> for BootError {
    fn from(e: MapError) -> Self {
        BootError::MemoryMap(e)
    }
}

impl core::fmt::Display for BootError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            BootError::StartInfo(e) => write!(f, "start_info: {e}"),
            BootError::MemoryMap(e) => write!(f, "memory map: {e}"),
            BootError::NoRam => write!(f, "no free memory in Xen's initial mapping"),
        }
    }
}

/// Reports bad boot input and ends the run with `BAD_BOOT_INPUT`.
fn fail(error: BootError) -> ! {
    print_emergency(format_args!("rivet: Xen PV boot: {error}\n"));
    rivet_core::exit::exit(BAD_BOOT_INPUT)
}

/// Unmaps the guard page, maps the rest of the domain's memory and returns the free memory
/// (virtual addresses: pseudo-physical page `n` is at `VIRT_BASE + n * 4096`).
fn set_up_memory(
    info: &StartInfo,
    boot: &start_info::Bootstrap<'_>,
    image: &core::ops::Range<u64>,
) -> Result<FrameAllocator, BootError> {
    if let Err(e) = memory::protect_image(info, &rivet_arch::paging::kernel_image()) {
        print_emergency(format_args!("rivet: Xen PV: the image stays read-write-execute: {e}\n"));
    }
    let guard = boot_stack_guard_page();
    // SAFETY: the guard page is part of the image that nothing uses (kernel.ld leaves it out of
    // every section); unmapping it only makes accesses there fault (obligation 2).
    let unmapped = unsafe { hypercall(hc::UPDATE_VA_MAPPING, guard, 0, hc::UVMF_INVLPG, 0, 0) };
    if unmapped != 0 {
        print_emergency(format_args!(
            "rivet: cannot unmap the boot stack's guard page ({unmapped})\n"
        ));
    }

    let mut free = MemoryMap::new();
    free.add(PhysRange::new(boot.mapped.start, boot.mapped.end))?;
    // Pseudo-physical page 0 stays out, as on native: its address is no pointer anyone should use.
    free.reserve(PhysRange::new(boot.mapped.start, boot.mapped.start + PAGE_SIZE))?;
    free.reserve(PhysRange::new(image.start, image.end))?;
    for range in &boot.reserved {
        free.reserve(PhysRange::new(range.start, range.end))?;
    }
    if free.total() == 0 {
        return Err(BootError::NoRam);
    }
    let more = memory::extend_mapping(info, &boot.mapped, &mut free);
    free.add(memory::as_free(&more))?;
    if !is_dom0() {
        // The console and xenstore pages are the domain's own pages, mapped elsewhere now
        // (`shared_page`): the heap must not hand them out.
        for mfn in [info.console_mfn(), info.store_mfn] {
            if let Some(pfn) = memory::pfn_of(info, mfn) {
                let at = VIRT_BASE + pfn * PAGE_SIZE;
                free.reserve(PhysRange::new(at, at + PAGE_SIZE))?;
            }
        }
    }
    Ok(FrameAllocator::new(free))
}
