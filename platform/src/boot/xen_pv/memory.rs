//! Mapping the rest of a PV domain's memory: new L1 tables hooked in through `mmu_update`.
//!
//! Xen's initial mapping covers only the first few MiB of the domain's pseudo-physical pages (the
//! bootstrap region, up to a 4 MiB boundary). The rest, up to `nr_pages`, is ours but unmapped.
//! A PV kernel may not write page tables: a page becomes a page table only once no writable
//! mapping of it exists, and entries are written by Xen after it checks them. So for each 2 MiB
//! of pseudo-physical memory beyond the initial mapping this code takes a free page of the
//! initial mapping, fills it with the 512 leaf entries (machine frames from the p2m list
//! `mfn_list`), remaps it read-only (`update_va_mapping`), then writes the level-2 entry that
//! points at it (`mmu_update`). Pseudo-physical page `n` ends up at `VIRT_BASE + n * 4096`, the
//! same rule as the initial mapping, so the whole of memory is one linear range.
//!
//! Finding the level-2 table: the walk from `pt_base` (the level-4 table) goes through machine
//! frame numbers; every bootstrap table lies in `[pt_base, pt_base + nr_pt_frames pages)`, so the
//! frame-to-address lookup only searches those pages' p2m entries (no machine-to-physical table).
//!
//! Weak spots: only the 1 GiB of virtual space from `VIRT_BASE` that the initial level-2 table
//! covers is filled (a bigger domain keeps the rest unused, with a warning); leaf entries are
//! read-write-execute (no NX bit: W^X for the whole mapping comes with a `TableMemory` over
//! `mmu_update`); one `update_va_mapping` and one `mmu_update` per 2 MiB, not batched in a
//! multicall (≈ 14 pairs for 32 MiB: not worth it yet).

use core::ops::Range;
use rivet_arch::head::VIRT_BASE;
use rivet_arch::xen_pv::hypercall;
use rivet_core::console::print_emergency;
use rivet_core::memory::map::MemoryMap;
use rivet_core::memory::paging::KernelImage;
use rivet_core::memory::{PhysRange, PAGE_SIZE};
use rivet_xen_abi::hypercall as hc;
use rivet_xen_abi::{MmuUpdate, StartInfo};

/// Present, writable, accessed, dirty: a data page.
const PTE_DATA: u64 = 0x63;
/// Present, accessed: a page-table page as the guest must map it (read-only).
const PTE_READ_ONLY: u64 = 0x21;
/// Present, writable, user, accessed: a non-leaf entry (Xen's 64-bit PV kernels run in ring 3).
const PTE_TABLE: u64 = 0x67;
/// The machine frame bits of an entry (bits 12–51).
const FRAME_MASK: u64 = 0x000f_ffff_ffff_f000;
/// Entries per table.
const ENTRIES: u64 = 512;
/// Pages the initial level-2 table covers: 1 GiB from `VIRT_BASE`.
const LEVEL2_PAGES: u64 = ENTRIES * ENTRIES;

/// Why the mapping stopped short.
enum Stop {
    NoTable(&'static str),
    NoFreePage,
    Xen(&'static str, i64),
}

impl core::fmt::Display for Stop {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Stop::NoTable(level) => write!(f, "no {level} bootstrap table on the way to VIRT_BASE"),
            Stop::NoFreePage => f.write_str("no free page left for a page table"),
            Stop::Xen(what, error) => write!(f, "Xen refused {what}: {error}"),
        }
    }
}

/// Maps pseudo-physical pages from `mapped.end` up to `nr_pages` (at most 1 GiB from
/// `VIRT_BASE`), taking page-table pages from `free` (free pages of the initial mapping), and
/// returns the newly mapped virtual range (to be added to the free memory). Problems end the
/// extension early with a message: the kernel then runs in the initial mapping alone.
pub(super) fn extend_mapping(
    info: &StartInfo,
    mapped: &Range<u64>,
    free: &mut MemoryMap,
) -> Range<u64> {
    let first = (mapped.end - VIRT_BASE) / PAGE_SIZE;
    let last = info.nr_pages.min(LEVEL2_PAGES);
    if info.nr_pages > LEVEL2_PAGES {
        print_emergency(format_args!(
            "rivet: Xen PV: only the first 1 GiB of {} MiB is used\n",
            (info.nr_pages * PAGE_SIZE) >> 20
        ));
    }
    if first >= last || !first.is_multiple_of(ENTRIES) {
        return mapped.end..mapped.end;
    }
    match map_pages(info, first, last, free) {
        Ok(end) => mapped.end..VIRT_BASE + end * PAGE_SIZE,
        Err((end, stop)) => {
            print_emergency(format_args!(
                "rivet: Xen PV: memory beyond {} MiB left unmapped: {stop}\n",
                (end * PAGE_SIZE) >> 20
            ));
            mapped.end..VIRT_BASE + end * PAGE_SIZE
        }
    }
}

/// The pseudo-physical page whose p2m entry is machine frame `mfn`, if the domain has one: a
/// linear search of the p2m list (a few ms for 1 GiB; done twice at boot, for a domU's console
/// and xenstore pages, rather than trusting the machine-to-physical table's answer).
pub(super) fn pfn_of(info: &StartInfo, mfn: u64) -> Option<u64> {
    (0..info.nr_pages).find(|&pfn| mfn_of(info, pfn) == mfn)
}

/// The p2m entry of pseudo-physical page `pfn`.
pub(super) fn mfn_of(info: &StartInfo, pfn: u64) -> u64 {
    // SAFETY: `validate` checked that `mfn_list` holds `nr_pages` entries inside the initial
    // mapping (read-write, Xen's bootstrap element), and callers pass `pfn < nr_pages`.
    unsafe { core::ptr::read_volatile((info.mfn_list as *const u64).add(pfn as usize)) }
}

/// The virtual address of the bootstrap page table in machine frame `mfn`, if it is one.
fn bootstrap_table(info: &StartInfo, mfn: u64) -> Option<*const u64> {
    (0..info.nr_pt_frames).map(|k| info.pt_base + k * PAGE_SIZE).find_map(|va| {
        let pfn = (va - VIRT_BASE) / PAGE_SIZE;
        (mfn_of(info, pfn) == mfn).then_some(va as *const u64)
    })
}

/// Entry `index` of the bootstrap table at `table` (read-only mapped, readable).
fn entry(table: *const u64, index: u64) -> u64 {
    // SAFETY: `table` is a bootstrap page table found by `bootstrap_table` (a page inside the
    // validated pt_base range, mapped read-only by Xen), `index < 512`.
    unsafe { core::ptr::read_volatile(table.add(index as usize)) }
}

/// Maps pages `first..last` (whole level-2 slots); `Ok(last)` or how far it got and why not.
fn map_pages(
    info: &StartInfo,
    first: u64,
    last: u64,
    free: &mut MemoryMap,
) -> Result<u64, (u64, Stop)> {
    let (level2, level2_mfn) = level2_table(info).map_err(|stop| (first, stop))?;

    let mut slot = first / ENTRIES;
    while slot * ENTRIES < last {
        let done = slot * ENTRIES;
        if entry(level2, slot) & 1 != 0 {
            slot += 1; // Xen mapped more than the header promises: already there
            continue;
        }
        let table = free.take(PAGE_SIZE, PAGE_SIZE).ok_or((done, Stop::NoFreePage))?;
        let table_va = table.start;
        let table_mfn = mfn_of(info, (table_va - VIRT_BASE) / PAGE_SIZE);
        let entries = table_va as *mut u64;
        for index in 0..ENTRIES {
            let pfn = done + index;
            let value =
                if pfn < last { (mfn_of(info, pfn) << 12) & FRAME_MASK | PTE_DATA } else { 0 };
            // SAFETY: `table` was just taken from the free pages of the initial mapping (mapped
            // read-write, used by nothing else), and `index < 512` stays inside the page.
            unsafe { core::ptr::write_volatile(entries.add(index as usize), value) };
        }
        // SAFETY: the page is ours (above); mapping it read-only at the same address only makes
        // writes to it fault, and nothing writes it again.
        let result = unsafe {
            hypercall(
                hc::UPDATE_VA_MAPPING,
                table_va,
                (table_mfn << 12) | PTE_READ_ONLY,
                hc::UVMF_INVLPG,
                0,
                0,
            )
        };
        if result != 0 {
            return Err((done, Stop::Xen("update_va_mapping (table read-only)", result)));
        }
        let update = MmuUpdate {
            ptr: ((level2_mfn << 12) + slot * 8) | hc::MMU_NORMAL_PT_UPDATE,
            val: (table_mfn << 12) | PTE_TABLE,
        };
        // SAFETY: one readable `mmu_update` request; it maps pages of this domain that nothing
        // maps yet at addresses nothing uses yet (beyond the initial mapping, below 1 GiB from
        // VIRT_BASE, outside the image, which lies in the initial mapping).
        let result =
            unsafe { hypercall(hc::MMU_UPDATE, &raw const update as u64, 1, 0, hc::DOMID_SELF, 0) };
        if result != 0 {
            return Err((done, Stop::Xen("mmu_update (level-2 entry)", result)));
        }
        slot += 1;
    }
    Ok(last)
}

/// Requests per `mmu_update` call in [`protect_image`].
const BATCH: usize = 64;
/// The no-execute bit of an entry.
const PTE_NO_EXECUTE: u64 = 1 << 63;

/// Remaps the kernel image W^X, as on native x86_64: code read + execute, constants read-only,
/// data and the boot stack read-write and (where the CPU has NX) no-execute. Xen mapped it all
/// read-write-execute. The entries are rewritten in batches of `mmu_update` requests addressed by
/// the machine address of each leaf entry (the image's level-1 tables are bootstrap tables), then
/// the local TLB is flushed once.
pub(super) fn protect_image(info: &StartInfo, image: &KernelImage) -> Result<(), &'static str> {
    let no_execute =
        if rivet_arch::cpu::cpuid(0x8000_0001).edx & (1 << 20) != 0 { PTE_NO_EXECUTE } else { 0 };
    let level2 = level2_table(info).map_err(|_| "no level-2 bootstrap table")?.0;
    let parts = [
        (&image.text, PTE_READ_ONLY),
        (&image.rodata, PTE_READ_ONLY | no_execute),
        (&image.data, PTE_DATA | no_execute),
        (&image.stack, PTE_DATA | no_execute),
    ];
    let mut batch = [MmuUpdate::default(); BATCH];
    let mut count = 0;
    for (range, flags) in parts {
        let mut page = range.start;
        while page < range.end {
            let l2e = entry(level2, (page >> 21) & 511);
            let l1_mfn = (l2e & FRAME_MASK) >> 12;
            if l2e & 1 == 0 || bootstrap_table(info, l1_mfn).is_none() {
                return Err("an image page has no bootstrap level-1 table");
            }
            let mfn = mfn_of(info, (page - VIRT_BASE) / PAGE_SIZE);
            batch[count] = MmuUpdate {
                ptr: ((l1_mfn << 12) + ((page >> 12) & 511) * 8) | hc::MMU_NORMAL_PT_UPDATE,
                val: ((mfn << 12) & FRAME_MASK) | flags,
            };
            count += 1;
            if count == BATCH {
                submit(&batch[..count])?;
                count = 0;
            }
            page += PAGE_SIZE;
        }
    }
    submit(&batch[..count])?;
    // One full flush of the local TLB (an update of the first code page to what it now is).
    let first = image.text.start;
    let mfn = mfn_of(info, (first - VIRT_BASE) / PAGE_SIZE);
    // SAFETY: rewrites the first code page's entry with the value just written (no change) and
    // flushes the TLB, so the new permissions take effect; the code keeps running from it.
    let result = unsafe {
        hypercall(
            hc::UPDATE_VA_MAPPING,
            first,
            (mfn << 12) | PTE_READ_ONLY,
            hc::UVMF_TLB_FLUSH,
            0,
            0,
        )
    };
    if result != 0 {
        return Err("update_va_mapping (TLB flush)");
    }
    Ok(())
}

/// Sends `requests` in one `mmu_update`.
fn submit(requests: &[MmuUpdate]) -> Result<(), &'static str> {
    if requests.is_empty() {
        return Ok(());
    }
    // SAFETY: `requests` is a readable array of `mmu_update`s of that length; each rewrites a
    // leaf entry of the image with the image's own frame and permissions at least as strict as
    // every use the code makes (code executes, constants are read, data and stack are written).
    let result = unsafe {
        hypercall(
            hc::MMU_UPDATE,
            requests.as_ptr() as u64,
            requests.len() as u64,
            0,
            hc::DOMID_SELF,
            0,
        )
    };
    if result != 0 {
        return Err("mmu_update (image permissions)");
    }
    Ok(())
}

/// The level-2 bootstrap table covering `VIRT_BASE`'s gigabyte, and its machine frame.
fn level2_table(info: &StartInfo) -> Result<(*const u64, u64), Stop> {
    let level4 = info.pt_base as *const u64;
    let l4e = entry(level4, (VIRT_BASE >> 39) & 511);
    let level3 = bootstrap_table(info, (l4e & FRAME_MASK) >> 12)
        .filter(|_| l4e & 1 != 0)
        .ok_or(Stop::NoTable("level 3"))?;
    let l3e = entry(level3, (VIRT_BASE >> 30) & 511);
    let level2_mfn = (l3e & FRAME_MASK) >> 12;
    let level2 = bootstrap_table(info, level2_mfn)
        .filter(|_| l3e & 1 != 0)
        .ok_or(Stop::NoTable("level 2"))?;
    Ok((level2, level2_mfn))
}

/// The newly mapped range as a free region.
pub(super) fn as_free(range: &Range<u64>) -> PhysRange {
    PhysRange::new(range.start, range.end)
}
