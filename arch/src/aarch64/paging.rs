//! Stage-1 translation at EL1: descriptor bits, the identity direct map, turning the MMU on.
//!
//! VMSAv8-64 with a 4 KiB granule and 48-bit virtual addresses (TCR_EL1.T0SZ = 16): four levels,
//! which core's `PageTable` calls 4 (L0) down to 1 (L3). Only TTBR0_EL1 is used — the kernel runs
//! identity-mapped (virtual == physical), so addresses stay in the lower half and TTBR1 walks are
//! disabled (EPD1). All mappings are global (nG = 0): there is one address space and no ASIDs.
//!
//! Memory types go through MAIR_EL1: index 0 is Normal write-back cacheable, index 1 is
//! Device-nGnRE (no gathering or reordering, early write acknowledgement: what Linux uses for
//! MMIO).
//!
//! Known weak spot: physical addresses above 2^48 (FEAT_LPA) are not supported.

use aarch64_cpu::registers::{
    ReadWriteable, Readable, Writeable, ID_AA64MMFR0_EL1, MAIR_EL1, SCTLR_EL1, TCR_EL1, TTBR0_EL1,
};
use core::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use rivet_core::memory::paging::{
    Attributes, KernelImage, MemoryKind, PageTableFormat, Permissions,
};
use rivet_core::memory::paging::{TableMemory, ENTRIES};
use rivet_core::memory::PAGE_SIZE;

/// Descriptor bits (ARM ARM D8.3, "Translation table descriptor formats").
mod bits {
    /// Valid.
    pub const VALID: u64 = 1 << 0;
    /// With VALID: a table (levels 0-2) or a page (level 3); clear, a block (levels 1-2).
    pub const TABLE_OR_PAGE: u64 = 1 << 1;
    /// AttrIndx[2:0], bits 4:2: which MAIR_EL1 attribute applies.
    pub const ATTR_INDEX_SHIFT: u32 = 2;
    /// AP[2], bit 7: read-only (at every exception level).
    pub const READ_ONLY: u64 = 1 << 7;
    /// SH[1:0] = 0b11, bits 9:8: Inner Shareable (ignored for Device memory).
    pub const INNER_SHAREABLE: u64 = 0b11 << 8;
    /// AF, bit 10: accessed. Set up front: no hardware access-flag management is assumed.
    pub const ACCESSED: u64 = 1 << 10;
    /// PXN, bit 53: not executable at EL1.
    pub const PRIVILEGED_EXECUTE_NEVER: u64 = 1 << 53;
    /// UXN, bit 54: not executable at EL0 (nothing runs at EL0).
    pub const USER_EXECUTE_NEVER: u64 = 1 << 54;
    /// Output address, bits 47:12.
    pub const ADDRESS: u64 = 0x0000_ffff_ffff_f000;
}

/// MAIR_EL1 index of Normal, inner and outer write-back read/write-allocate memory.
const MAIR_NORMAL: u64 = 0;
/// MAIR_EL1 index of Device-nGnRE memory.
const MAIR_DEVICE: u64 = 1;

/// The VMSAv8-64 stage-1 descriptor format, for core's `PageTable`.
pub struct Format;

impl PageTableFormat for Format {
    fn block_supported(level: u8) -> bool {
        // With a 4 KiB granule, L1 holds 1 GiB blocks and L2 2 MiB blocks; L0 holds tables only.
        level == 2 || level == 3
    }

    fn table_entry(table: u64) -> u64 {
        (table & bits::ADDRESS) | bits::VALID | bits::TABLE_OR_PAGE
    }

    fn leaf_entry(phys: u64, level: u8, attributes: Attributes) -> u64 {
        let kind = if level == 1 { bits::VALID | bits::TABLE_OR_PAGE } else { bits::VALID };
        let memory = match attributes.kind {
            MemoryKind::Normal => (MAIR_NORMAL << bits::ATTR_INDEX_SHIFT) | bits::INNER_SHAREABLE,
            MemoryKind::Device => MAIR_DEVICE << bits::ATTR_INDEX_SHIFT,
        };
        let access = match attributes.permissions {
            Permissions::ReadExecute => bits::READ_ONLY | bits::USER_EXECUTE_NEVER,
            Permissions::ReadOnly => {
                bits::READ_ONLY | bits::PRIVILEGED_EXECUTE_NEVER | bits::USER_EXECUTE_NEVER
            }
            Permissions::ReadWrite => bits::PRIVILEGED_EXECUTE_NEVER | bits::USER_EXECUTE_NEVER,
        };
        (phys & bits::ADDRESS) | kind | memory | access | bits::ACCESSED
    }

    fn is_valid(entry: u64) -> bool {
        entry & bits::VALID != 0
    }

    fn is_table(entry: u64, _level: u8) -> bool {
        // Only asked for levels 2 to 4 (L2 to L0), where bit 1 set means "table".
        entry & bits::TABLE_OR_PAGE != 0
    }

    fn address(entry: u64) -> u64 {
        entry & bits::ADDRESS
    }
}

/// Page-table memory reached at its physical address: the kernel runs identity-mapped, and
/// before the MMU is on every address is physical anyway.
pub struct DirectMap(());

impl DirectMap {
    /// Access to page tables through the identity map.
    ///
    /// # Safety
    /// 1. Every table address the `PageTable` using this hands over is a 4 KiB frame of RAM it
    ///    owns (core's `PageTable` only touches its root and frames it allocated itself, so this
    ///    holds as long as its `FrameSource` hands out free RAM).
    /// 2. That RAM is reachable at its physical address: the MMU is off, or the identity map
    ///    covers it.
    pub unsafe fn new() -> Self {
        Self(())
    }
}

impl TableMemory for DirectMap {
    fn read(&self, table: u64, index: usize) -> u64 {
        assert!(index < ENTRIES, "page-table index {index} out of range");
        // SAFETY: `table` is an owned, reachable table frame (obligations 1 and 2 of `new`) and
        // the index is inside it (checked above); volatile because the table walker reads it too.
        unsafe { core::ptr::read_volatile((table as *const u64).add(index)) }
    }

    fn write(&mut self, table: u64, index: usize, entry: u64) {
        assert!(index < ENTRIES, "page-table index {index} out of range");
        // SAFETY: as in `read`; the frame is ours to write (obligation 1 of `new`).
        unsafe { core::ptr::write_volatile((table as *mut u64).add(index), entry) };
        if crate::cpu::mmu_enabled() {
            // A live tree: core's `PageTable` only turns invalid entries valid, which needs no
            // TLB maintenance (faulting entries are never cached), but the walker must see the
            // write (dsb) before later instructions use the mapping (isb). ARM ARM D8.2.
            // SAFETY: barriers only.
            unsafe { core::arch::asm!("dsb ishst", "isb", options(nostack, preserves_flags)) };
        }
    }

    fn zero(&mut self, table: u64) {
        let mmu_off = !crate::cpu::mmu_enabled();
        if mmu_off {
            // Written below with the data cache off, straight to memory: a dirty line the loader
            // left for this frame could later be evicted over it. `activate` invalidates the
            // finished table again (see `EarlyTables`).
            invalidate_data_cache(table..table + PAGE_SIZE);
        }
        // SAFETY: as in `write`: the whole 4 KiB frame is an owned table (obligations 1 and 2 of
        // `new`). Frames are page-aligned, so every 16-byte store is aligned, which matters with
        // the MMU off, when all memory is Device memory (and why this is not `dc zva`).
        unsafe {
            core::arch::asm!(
                "2:",
                "stp xzr, xzr, [{p}], #16",
                "stp xzr, xzr, [{p}], #16",
                "stp xzr, xzr, [{p}], #16",
                "stp xzr, xzr, [{p}], #16",
                "cmp {p}, {end}",
                "b.lo 2b",
                p = inout(reg) table => _,
                end = in(reg) table + PAGE_SIZE,
                options(nostack),
            )
        };
        if mmu_off {
            EARLY_TABLES.record(table);
        }
    }
}

/// Most table frames remembered while the MMU is off (a boot builds about six).
const MAX_EARLY_TABLES: usize = 32;

/// The table frames written while the MMU was off. Once the MMU is on, the walker reads them
/// through the data cache, and under a hypervisor, whose cacheable alias of guest memory may be
/// prefetched, the cache can hold lines fetched while they were being written; `activate` drops
/// those. Plain loads and stores: single core, MMU off, no read-modify-write atomics.
struct EarlyTables {
    frames: [AtomicU64; MAX_EARLY_TABLES],
    /// How many were recorded; more than `MAX_EARLY_TABLES` means some were not.
    count: AtomicUsize,
}

static EARLY_TABLES: EarlyTables = EarlyTables {
    frames: [const { AtomicU64::new(0) }; MAX_EARLY_TABLES],
    count: AtomicUsize::new(0),
};

impl EarlyTables {
    fn record(&self, table: u64) {
        let count = self.count.load(Ordering::Relaxed);
        if let Some(slot) = self.frames.get(count) {
            slot.store(table, Ordering::Relaxed);
        }
        self.count.store(count.saturating_add(1), Ordering::Relaxed);
    }

    /// Invalidates every table of the tree at `root` from the data cache.
    fn invalidate(&self, root: u64) {
        let count = self.count.load(Ordering::Relaxed);
        if count <= MAX_EARLY_TABLES {
            for frame in &self.frames[..count] {
                let table = frame.load(Ordering::Relaxed);
                invalidate_data_cache(table..table + PAGE_SIZE);
            }
        } else {
            invalidate_tree(root, 4);
        }
    }
}

/// Invalidates the table at `table` (at `level`, 4 = root) and all tables below it.
fn invalidate_tree(table: u64, level: u8) {
    invalidate_data_cache(table..table + PAGE_SIZE);
    if level == 1 {
        return;
    }
    for index in 0..ENTRIES {
        // SAFETY: `table` is a table of the tree `activate` was handed (its obligation 1), in RAM
        // reachable as is with the MMU off.
        let entry = unsafe { core::ptr::read_volatile((table as *const u64).add(index)) };
        if Format::is_valid(entry) && Format::is_table(entry, level) {
            invalidate_tree(Format::address(entry), level - 1);
        }
    }
}

/// The running image's parts, for `rivet_core::memory::paging::map_kernel_image`. Identity-mapped
/// at wherever the loader put it, so `virt_minus_phys` is 0.
pub fn kernel_image() -> KernelImage {
    use crate::layout;
    KernelImage {
        text: layout::text(),
        rodata: layout::rodata(),
        data: layout::data(),
        stack: layout::boot_stack(),
        virt_minus_phys: 0,
    }
}

/// Invalidates the data cache (to the point of coherency) for every line of `range`, discarding
/// anything cached there. For memory written with the data cache off: its cached copies, if any,
/// are stale. `range` must be page-aligned at both ends, so it holds an even number of lines
/// (lines are at most 2 KiB) and the loop can do two per iteration.
fn invalidate_data_cache(range: core::ops::Range<u64>) {
    debug_assert!(range.start.is_multiple_of(PAGE_SIZE) && range.end.is_multiple_of(PAGE_SIZE));
    let ctr: u64;
    // SAFETY: reading CTR_EL0 (cache type) has no side effects.
    unsafe { core::arch::asm!("mrs {}, ctr_el0", out(reg) ctr, options(nomem, nostack)) };
    // CTR_EL0.DminLine, bits 19:16: log2 of the smallest data cache line, in 4-byte words.
    let line = 4u64 << ((ctr >> 16) & 0xf);
    let start = range.start;
    if start < range.end {
        // SAFETY: `dc ivac` only drops cached copies of lines. The callers use it on memory
        // written with the data cache off, where nothing cached is newer than memory.
        unsafe {
            core::arch::asm!(
                "2:",
                "dc ivac, {address}",
                "add {address}, {address}, {line}",
                "dc ivac, {address}",
                "add {address}, {address}, {line}",
                "cmp {address}, {end}",
                "b.lo 2b",
                address = inout(reg) start => _,
                line = in(reg) line,
                end = in(reg) range.end,
                options(nostack),
            )
        };
    }
    // dsb: the invalidations complete before anything that depends on them (the MMU coming on).
    aarch64_cpu::asm::barrier::dsb(aarch64_cpu::asm::barrier::SY);
}

/// Switches translation to the tree rooted at `root` (a physical address), turning the MMU and
/// caches on if they are off.
///
/// # Safety
/// 1. `root` is a complete VMSAv8-64 tree built with [`Format`] that identity-maps everything the
///    kernel touches from now on: the image (code executable), the stacks, the page tables, RAM
///    in use, and the MMIO of every device in use, with Device attributes.
/// 2. If the MMU is off, everything written since entry lies inside the image or in page tables
///    created through [`DirectMap`] (both are invalidated from the data cache here).
pub unsafe fn activate(root: u64) {
    if crate::cpu::mmu_enabled() {
        // SAFETY: the new tree maps everything in use (obligation 1), identically to the old one
        // where it matters, so execution continues at the same addresses.
        unsafe { switch(root) };
        return;
    }
    // Everything written with the data cache off (relocations, .data, .bss, the stack, the
    // tables) may have lines in the cache fetched while it was written (under a hypervisor,
    // through its cacheable alias); drop them before the cache comes on. Code is never written,
    // so its lines (clean to the point of coherency, per the boot protocol) stay.
    invalidate_data_cache(crate::layout::rodata().start..crate::layout::image().end);
    EARLY_TABLES.invalidate(root);

    MAIR_EL1.write(
        MAIR_EL1::Attr0_Normal_Outer::WriteBack_NonTransient_ReadWriteAlloc
            + MAIR_EL1::Attr0_Normal_Inner::WriteBack_NonTransient_ReadWriteAlloc
            + MAIR_EL1::Attr1_Device::nonGathering_nonReordering_EarlyWriteAck,
    );
    // The output size: what the CPU implements, at most 48 bits (the descriptors hold no more).
    let parange = ID_AA64MMFR0_EL1.read(ID_AA64MMFR0_EL1::PARange).min(0b101);
    TCR_EL1.write(
        TCR_EL1::T0SZ.val(16)
            + TCR_EL1::TG0::KiB_4
            + TCR_EL1::IRGN0::WriteBack_ReadAlloc_WriteAlloc_Cacheable
            + TCR_EL1::ORGN0::WriteBack_ReadAlloc_WriteAlloc_Cacheable
            + TCR_EL1::SH0::Inner
            + TCR_EL1::EPD0::EnableTTBR0Walks
            + TCR_EL1::T1SZ.val(16)
            + TCR_EL1::TG1::KiB_4
            + TCR_EL1::EPD1::DisableTTBR1Walks
            + TCR_EL1::IPS.val(parange),
    );
    TTBR0_EL1.set_baddr(root);
    // SAFETY: the registers written above describe the tree at `root`, which identity-maps the
    // code running now, its stack and everything else in use (obligation 1); caches hold nothing
    // stale for what was written so far (obligation 2 and the invalidation above).
    unsafe {
        core::arch::asm!(
            // Drop whatever translations the loader left in the TLB (none should match, but
            // the architecture does not promise an empty TLB at entry).
            "tlbi vmalle1",
            // dsb: the invalidation is complete before the MMU is enabled.
            "dsb nsh",
            // isb: the MAIR/TCR/TTBR0 writes are visible to the SCTLR write below.
            "isb",
            options(nostack),
        )
    };
    SCTLR_EL1.modify(SCTLR_EL1::M::Enable + SCTLR_EL1::C::Cacheable + SCTLR_EL1::I::Cacheable);
    // SAFETY: cache maintenance and barriers only.
    unsafe {
        core::arch::asm!(
            // isb: instructions after this point are fetched with the MMU on.
            "isb",
            // Discard instructions fetched speculatively from the point of unification before the
            // MMU came on (as Linux's `set_sctlr_el1` does), then wait for that (dsb) and
            // refetch (isb).
            "ic iallu",
            "dsb nsh",
            "isb",
            options(nostack),
        )
    };
}

/// Switches TTBR0_EL1 to another tree with the MMU already on.
///
/// # Safety
/// As for [`activate`], obligation 1.
unsafe fn switch(root: u64) {
    // SAFETY: see the caller; barriers and TLB maintenance only, besides TTBR0.
    unsafe {
        core::arch::asm!(
            // dsb: the new tables' writes are visible to the table walker before it can use them.
            "dsb ishst",
            "msr ttbr0_el1, {root}",
            // isb: later instructions translate through the new TTBR0.
            "isb",
            // No ASIDs: every cached translation of the old tree must go.
            "tlbi vmalle1",
            // dsb: the invalidation is complete; isb: no instruction was fetched with stale ones.
            "dsb nsh",
            "isb",
            root = in(reg) root,
            options(nostack),
        )
    };
}

/// The virtual range thread stacks are mapped in (each with an unmapped guard page below it):
/// near the top of the 48-bit TTBR0 space, above any RAM or device the identity map can hold.
pub const STACK_REGION: core::ops::Range<u64> = 0x0000_fe00_0000_0000..0x0000_fe10_0000_0000;
