//! The other cores on a PVH machine: finding them in the ACPI MADT or the MP table and starting
//! them with INIT-STARTUP through the local APIC.
//!
//! Finding ([`discover`], during boot, while the boot page tables map the first GiB): where the
//! start info's `rsdp_paddr` names an RSDP (QEMU q35), the MADT's enabled Local APIC / Local
//! x2APIC entries; else the MP table's enabled processors (QEMU `microvm,acpi=off` puts one at
//! 0x9FC00, Firecracker too); else an RSDP found by scanning the BIOS area (0xE0000–0xFFFFF).
//! microvm keeps `acpi=off`: with ACPI on, QEMU + qboot take ~50 ms longer to reach the kernel
//! under TCG (measured: 118 → 170 ms a boot), while the MP table costs the guest one 16-byte
//! probe. No tables, or broken ones: one core, and the reason is logged when the runtime first
//! asks.
//!
//! Starting ([`PvhCores::start`]): the AP trampoline (`rivet_arch::smp`) lives in two reserved
//! pages at 0x8000 (code, mapped read-execute) and 0x9000 (parameters, read-write), set aside by
//! [`reserve_trampoline`] and filled by [`install_trampoline`] before the kernel's page tables
//! are activated. Each start allocates the core's GDT, TSS and IST stacks from the heap, writes
//! the parameters, sends INIT and STARTUP (a second STARTUP if the core has not run the
//! trampoline's first instruction after [`ALIVE_MS`]) and waits up to [`ARRIVAL_MS`] for it to
//! reach its entry. Cores start one at a time (a lock).
//!
//! Weak spots: no 10 ms wait after INIT (what Intel's old MP spec asks for; Linux skips it on
//! every CPU since the Pentium 4 and under hypervisors): real pre-2005 hardware may miss the
//! STARTUP. After a time-out no further core is started, because a late core would read the
//! next core's parameters. The memory of a failed start (tables) is not reclaimed.

use super::apic;
use crate::smp::{Cores, SmpError, MAX_CPUS};
use core::sync::atomic::{AtomicBool, Ordering};
use rivet_arch::gdt::CoreTables;
use rivet_arch::head::BOOT_MAP_LIMIT;
use rivet_arch::smp as trampoline;
use rivet_bootinfo::acpi;
use rivet_core::memory::map::{MapError, MemoryMap};
use rivet_core::memory::{PhysRange, PAGE_SIZE};
use spin::{Mutex, Once};

/// Offset of `rsdp_paddr` in `hvm_start_info` (see start_info.rs).
const START_INFO_RSDP: u64 = 32;
/// How long a started core has to run the trampoline's first instruction before the second
/// STARTUP IPI.
pub(super) const ALIVE_MS: u64 = 10;
/// How long a started core has to reach its entry function.
pub(super) const ARRIVAL_MS: u64 = 1000;
/// MADT entries considered (the boot core may be listed anywhere among them).
const MADT_CORES: usize = 64;

/// What [`discover`] found.
struct Found {
    /// APIC ids in MADT order (the first [`MADT_CORES`]).
    ids: [u32; MADT_CORES],
    /// How many of `ids` are valid.
    kept: usize,
    /// How many enabled cores the MADT lists.
    listed: usize,
    /// Where the list came from.
    source: Source,
    /// Why there is only one core, if the tables could not be used.
    problem: Option<Problem>,
}

/// Which firmware table listed the cores.
#[derive(Clone, Copy)]
enum Source {
    Acpi,
    MpTable,
}

impl core::fmt::Display for Source {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Source::Acpi => "ACPI MADT",
            Source::MpTable => "MP table",
        })
    }
}

/// Why no core list came from ACPI.
#[derive(Clone, Copy)]
enum Problem {
    NoTables,
    Tables(acpi::Error),
}

static FOUND: Once<Found> = Once::new();

/// ACPI tables read through the boot page tables' identity map of the first GiB. Only used
/// during [`discover`], before the kernel's own tables (which map RAM only) replace them.
pub(super) struct BootMap;

impl acpi::Memory<'static> for BootMap {
    fn bytes(&self, address: u64, len: usize) -> Option<&'static [u8]> {
        let end = address.checked_add(len as u64)?;
        if address == 0 || end > BOOT_MAP_LIMIT {
            return None;
        }
        // SAFETY: [address, end) is non-null, does not wrap and lies below BOOT_MAP_LIMIT, which
        // the boot page tables map readable at virtual == physical; the slices are only read
        // inside `discover`, before those tables go (the 'static is a lie nothing outlives).
        // Addresses come from the firmware's ACPI pointers (or the BIOS area): ROM or RAM, which
        // has no read side effects. A u8 slice has no alignment or validity requirement.
        Some(unsafe { core::slice::from_raw_parts(address as *const u8, len) })
    }
}

/// Where the firmware's tables are, in the order they are believed: an RSDP the loader names
/// (q35), an MP table (microvm with `acpi=off`, Firecracker), an RSDP found in the BIOS area.
#[derive(Clone, Copy)]
pub(super) enum Tables {
    /// The RSDP's physical address.
    Acpi(u64),
    /// The MP floating pointer's physical address.
    Mp(u64),
}

/// Looks for the firmware's tables (see [`Tables`]) through the boot page tables; `start_info`
/// is the validated start info's physical address. Call during boot, before the kernel's page
/// tables replace the boot ones.
pub(super) fn find_tables(start_info: u64) -> Option<Tables> {
    let memory = BootMap;
    let claimed = acpi::Memory::bytes(&memory, start_info + START_INFO_RSDP, 8)
        .and_then(|bytes| bytes.first_chunk::<8>())
        .map_or(0, |raw| u64::from_le_bytes(*raw));
    if claimed != 0 {
        Some(Tables::Acpi(claimed))
    } else if let Some(floating) = acpi::mp::find(&memory) {
        Some(Tables::Mp(floating))
    } else {
        let area = acpi::BIOS_AREA;
        acpi::Memory::bytes(&memory, area.start, (area.end - area.start) as usize)
            .and_then(|bytes| acpi::scan_rsdp(bytes, area.start))
            .map(Tables::Acpi)
    }
}

/// Finds the cores: the ACPI MADT or the MP table, wherever [`find_tables`] finds them. Call
/// during boot, before the kernel's page tables replace the boot ones; `start_info` is the
/// validated start info's physical address.
pub(super) fn discover(start_info: u64) {
    let memory = BootMap;
    let result = find_tables(start_info).map(|tables| match tables {
        Tables::Acpi(rsdp) => (Source::Acpi, acpi::x86_cores::<MADT_CORES>(&memory, rsdp)),
        Tables::Mp(floating) => (Source::MpTable, acpi::mp::cores::<MADT_CORES>(&memory, floating)),
    });
    let mut found =
        Found { ids: [0; MADT_CORES], kept: 0, listed: 1, source: Source::Acpi, problem: None };
    match result {
        None => found.problem = Some(Problem::NoTables),
        Some((source, Err(e))) => {
            found.source = source;
            found.problem = Some(Problem::Tables(e));
        }
        Some((source, Ok(cores))) => {
            found.source = source;
            found.kept = cores.ids().len();
            found.ids[..found.kept].copy_from_slice(cores.ids());
            found.listed = cores.count.max(1);
        }
    }
    FOUND.call_once(|| found);
}

/// Whether the trampoline pages were set aside (there is more than one core and they are free).
static TRAMPOLINE_RESERVED: AtomicBool = AtomicBool::new(false);

/// The trampoline's two pages: code, then parameters.
fn trampoline_pages() -> PhysRange {
    PhysRange::new(trampoline::TRAMPOLINE, trampoline::PARAMETERS + PAGE_SIZE)
}

/// If [`discover`] found other cores, takes the trampoline's pages out of `free` (both) and out of
/// `direct` (the code page, which is mapped read-execute instead, see [`trampoline_code_page`]).
/// Leaves everything alone (and SMP off) if the pages are not free RAM.
pub(super) fn reserve_trampoline(
    direct: &mut MemoryMap,
    free: &mut MemoryMap,
) -> Result<(), MapError> {
    if FOUND.get().is_none_or(|found| found.kept <= 1) {
        return Ok(());
    }
    let pages = trampoline_pages();
    let is_free = free.regions().iter().any(|r| r.start <= pages.start && pages.end <= r.end);
    if !is_free {
        return Ok(());
    }
    free.reserve(pages)?;
    direct.reserve(PhysRange::from_start_len(trampoline::TRAMPOLINE, PAGE_SIZE))?;
    TRAMPOLINE_RESERVED.store(true, Ordering::Relaxed);
    Ok(())
}

/// The trampoline's code page, to map read-execute at its physical address, if reserved.
pub(super) fn trampoline_code_page() -> Option<u64> {
    TRAMPOLINE_RESERVED.load(Ordering::Relaxed).then_some(trampoline::TRAMPOLINE)
}

/// Copies the trampoline into its page. Call after [`reserve_trampoline`], before the kernel's
/// page tables are activated (the boot tables map the page writable; the kernel's do not).
pub(super) fn install_trampoline() {
    if TRAMPOLINE_RESERVED.load(Ordering::Relaxed) {
        // SAFETY: the page is RAM reserved for the trampoline just now (out of the free memory
        // and the direct map's data pages), and the boot tables still map it read-write.
        unsafe { trampoline::install_trampoline() };
    }
}

/// The last start's ticks from STARTUP to alive and to arrival, and whether a second STARTUP was
/// sent (for the debug self-test's report).
static LAST_START: [core::sync::atomic::AtomicU64; 3] =
    [const { core::sync::atomic::AtomicU64::new(0) }; 3];

/// The cores of this machine, the boot core first.
pub(super) struct PvhCores {
    /// APIC ids by core index.
    ids: [u32; MAX_CPUS],
    count: usize,
    /// Enabled cores the firmware lists, for the warning about those beyond MAX_CPUS.
    listed: usize,
    source: Source,
    problem: Option<Problem>,
    started: [AtomicBool; MAX_CPUS],
    /// A start timed out: no other core may use the parameter page.
    broken: AtomicBool,
    /// One start at a time.
    lock: Mutex<()>,
    logged: Once<()>,
}

static CORES: Once<PvhCores> = Once::new();

/// Builds the core list (the boot core, by its APIC id, first) and registers it with
/// `crate::smp`. Call after `apic::init`; does nothing without a local APIC.
pub(super) fn register() {
    let Some(boot_id) = apic::id() else { return };
    let found = FOUND.get();
    let mut ids = [0; MAX_CPUS];
    ids[0] = boot_id;
    let mut count = 1;
    if let Some(found) = found {
        for &id in found.ids[..found.kept].iter().filter(|&&id| id != boot_id) {
            if count < MAX_CPUS {
                ids[count] = id;
                count += 1;
            }
        }
    }
    let cores = CORES.call_once(|| PvhCores {
        ids,
        count,
        listed: found.map_or(1, |f| f.listed),
        source: found.map_or(Source::Acpi, |f| f.source),
        problem: found.and_then(|f| f.problem),
        // The boot core runs already (and may be kicked).
        started: core::array::from_fn(|index| AtomicBool::new(index == 0)),
        broken: AtomicBool::new(false),
        lock: Mutex::new(()),
        logged: Once::new(),
    });
    crate::smp::set_cores(cores);
}

/// Runs on each new core before it reports arrival: its local APIC, like the boot core's.
fn prepare_core(_index: usize) {
    // SAFETY: this runs once per secondary core (each index is started once), from
    // `rivet_x86_ap_entry` after the core's tables and the IDT are loaded, interrupts masked.
    unsafe { apic::init_this_core() };
}

/// Milliseconds to clock ticks.
fn ms_to_ticks(ms: u64) -> u64 {
    rivet_core::time::clock().frequency().saturating_mul(ms) / 1000
}

/// Spins until `done` or `ms` milliseconds have passed; returns `done()`'s last answer.
fn wait_until(ms: u64, done: impl Fn() -> bool) -> bool {
    let clock = rivet_core::time::clock();
    let span = ms_to_ticks(ms);
    let start = clock.ticks();
    while clock.ticks().wrapping_sub(start) < span {
        if done() {
            return true;
        }
        core::hint::spin_loop();
    }
    done()
}

impl PvhCores {
    /// Says once, when first asked, how many cores there are and where that came from.
    fn log_once(&self) {
        self.logged.call_once(|| {
            match self.problem {
                Some(Problem::NoTables) => log::debug!("smp: no ACPI RSDP, no MP table: one core"),
                Some(Problem::Tables(e)) => log::warn!("smp: {e}: one core"),
                None => log::debug!(
                    "smp: {} cores ({}), APIC ids {:?}",
                    self.count,
                    self.source,
                    &self.ids[..self.count]
                ),
            }
            if self.listed > self.count {
                log::warn!(
                    "smp: the firmware lists {} cores; Rivet uses the first {MAX_CPUS}",
                    self.listed
                );
            }
            if self.count > 1 && trampoline_code_page().is_none() {
                log::warn!("smp: the AP trampoline's pages (0x8000-0x9fff) are not free RAM");
            }
        });
    }

    /// Starts core `index` with `tables` already built.
    fn start_with(
        &self,
        index: usize,
        stack_top: u64,
        tables: &'static CoreTables,
        entry: extern "C" fn(usize) -> !,
    ) -> Result<(), SmpError> {
        let start = trampoline::Start { index, stack_top, tables, prepare: prepare_core, entry };
        // SAFETY: the trampoline is installed and its pages mapped (trampoline_code_page is
        // Some: checked by `start`), the lock held by the caller makes this the only start in
        // flight and `broken` is clear (obligations 1, 2); the tables were just built for this
        // index, which starts once, and the caller owns the stack (obligation 3).
        unsafe { trampoline::prepare(&start) }.map_err(|e| match e {
            trampoline::StartError::BadStack(_) => {
                SmpError::Refused(index, "its stack top is not 16-byte aligned")
            }
            trampoline::StartError::RootAbove4GiB(_) => SmpError::Refused(
                index,
                "the page-table root is above 4 GiB, out of the AP trampoline's reach",
            ),
        })?;
        let id = self.ids[index];
        if !apic::send_init(id) || !apic::send_startup(id, trampoline::STARTUP_VECTOR) {
            return Err(SmpError::Refused(index, "the local APIC did not deliver INIT/STARTUP"));
        }
        let sent = rivet_core::time::clock().ticks();
        let alive = wait_until(ALIVE_MS, trampoline::alive);
        LAST_START[0]
            .store(rivet_core::time::clock().ticks().wrapping_sub(sent), Ordering::Relaxed);
        LAST_START[2].store(u64::from(!alive), Ordering::Relaxed);
        if !alive && !apic::send_startup(id, trampoline::STARTUP_VECTOR) {
            return Err(SmpError::Refused(index, "the local APIC did not deliver INIT/STARTUP"));
        }
        if !wait_until(ARRIVAL_MS, trampoline::arrived) {
            self.broken.store(true, Ordering::Relaxed);
            return Err(SmpError::Timeout(index));
        }
        LAST_START[1]
            .store(rivet_core::time::clock().ticks().wrapping_sub(sent), Ordering::Relaxed);
        Ok(())
    }

    /// The checks every start makes, and the start itself with tables from `make_tables`.
    fn start_checked(
        &self,
        index: usize,
        stack_top: u64,
        entry: extern "C" fn(usize) -> !,
        make_tables: impl FnOnce() -> Option<&'static CoreTables>,
    ) -> Result<(), SmpError> {
        self.log_once();
        if index == 0 || index >= self.count {
            return Err(SmpError::NoSuchCore(index));
        }
        if stack_top == 0 || !stack_top.is_multiple_of(16) {
            return Err(SmpError::Refused(index, "its stack top is null or not 16-byte aligned"));
        }
        if trampoline_code_page().is_none() {
            // Logged by log_once: the trampoline's pages are not free RAM.
            return Err(SmpError::NoEnableMethod(index));
        }
        let _one_at_a_time = self.lock.lock();
        if self.broken.load(Ordering::Relaxed) {
            return Err(SmpError::Refused(index, "an earlier core timed out (it may still wake)"));
        }
        if self.started[index].load(Ordering::Relaxed) {
            return Err(SmpError::AlreadyStarted(index));
        }
        let tables = make_tables().ok_or(SmpError::OutOfMemory(index))?;
        self.started[index].store(true, Ordering::Relaxed);
        self.start_with(index, stack_top, tables, entry)
    }
}

/// A core's GDT, TSS and IST stacks, in heap memory given to it for good.
fn heap_tables(index: usize) -> Option<&'static CoreTables> {
    let layout = core::alloc::Layout::from_size_align(CoreTables::SIZE, CoreTables::ALIGN).ok()?;
    // SAFETY: the layout has a non-zero size.
    let memory = unsafe { alloc::alloc::alloc(layout) };
    if memory.is_null() {
        return None;
    }
    // SAFETY: `memory` is SIZE bytes at ALIGN, identity-mapped read-write heap (the PVH platform
    // maps all free RAM), never freed: it is the tables' for ever.
    Some(unsafe { CoreTables::new_in(memory, index) })
}

impl Cores for PvhCores {
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
        self.start_checked(index, stack_top, entry, || heap_tables(index))
    }

    fn kick(&self, index: usize) {
        if index < self.count && self.started[index].load(Ordering::Relaxed) {
            apic::send_fixed(self.ids[index], rivet_arch::trap::RESCHEDULE_VECTOR);
        }
    }
}
