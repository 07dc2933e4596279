//! The GDT and the TSS, whose interrupt stack table gives some exceptions their own stacks; one
//! set per core.
//!
//! In 64-bit mode segmentation is nearly gone, but the TSS survives for one job Rivet needs: the
//! IST, seven stack pointers the CPU switches to on chosen vectors. A page fault caused by the
//! boot stack overflowing into its guard page cannot push its frame on that stack; on an IST stack
//! it can, and the fault is reported instead of escalating to a triple fault (a silent reset).
//!
//! Every core needs its own TSS (loading one marks it busy: a second core loading the same one
//! takes a #GP) and its own IST stacks (two cores faulting at once must not share a stack), hence
//! its own GDT (the TSS descriptor is in it). The boot core keeps the static tables ([`init`]);
//! every other core gets a [`CoreTables`] built in memory its starter passes in
//! ([`CoreTables::new_in`]), from the heap: ~64 KiB per core that exists, rather than a static
//! array sized for the largest machine, which every run (and the minimum-memory figure) would pay
//! for. The selectors match the boot GDT in head.rs (code 0x08, data 0x10) on every core, so
//! loading a table changes no segment register's meaning. Built with the `x86_64` crate's types.
//!
//! Weak spot: the IST stacks have no guard pages; a handler that overflows one (16 KiB) would
//! corrupt the stack below it. The handlers here only format a report.

use core::cell::UnsafeCell;
use core::mem::MaybeUninit;
use core::sync::atomic::{AtomicU64, Ordering};
use spin::Once;
use x86_64::instructions::segmentation::{Segment, CS, DS, ES, SS};
use x86_64::instructions::tables::load_tss;
use x86_64::structures::gdt::{Descriptor, GlobalDescriptorTable, SegmentSelector};
use x86_64::structures::tss::TaskStateSegment;
use x86_64::VirtAddr;

/// IST slot (0-based, as `EntryOptions::set_stack_index` takes it) for double faults.
pub const DOUBLE_FAULT_IST: u16 = 0;
/// IST slot for page faults (a stack overflow is a page fault on the guard page).
pub const PAGE_FAULT_IST: u16 = 1;
/// IST slot for NMIs and machine checks, which may arrive with any stack in any state.
pub const NMI_IST: u16 = 2;
/// IST slot for external interrupts (the APIC timer): code built with the red zone (the C++
/// libraries) may be running, and an interrupt must not push its frame over those 128 bytes.
pub const INTERRUPT_IST: u16 = 3;
const IST_STACKS: usize = 4;

/// Bytes in each exception stack: room for core::fmt and a register report.
pub const IST_STACK_SIZE: usize = 16 * 1024;

/// Most cores whose IST stacks [`ist_stacks`] reports (the boot core's and up to this many
/// minus one others); tables beyond it still work, their stacks are just not walked by backtraces.
pub const MAX_CORES: usize = 16;

#[repr(C, align(16))]
struct Stack(UnsafeCell<[u8; IST_STACK_SIZE]>);

// SAFETY: Rust code never reads or writes the stack bytes; only the CPU does, on the one core
// whose TSS names the stack, when it takes an exception on it.
unsafe impl Sync for Stack {}

/// The boot core's exception stacks. The `.bss.rivet.stack.*` section name puts them outside the
/// `.bss` range the entry code zeroes (kernel.ld): 64 KiB nobody needs zeroed.
#[link_section = ".bss.rivet.stack.ist"]
static STACKS: [Stack; IST_STACKS] =
    [const { Stack(UnsafeCell::new([0; IST_STACK_SIZE])) }; IST_STACKS];

/// The bottom of each other core's IST block ([`CoreTables`]), 0 where none is registered.
static OTHER_STACKS: [AtomicU64; MAX_CORES - 1] = [const { AtomicU64::new(0) }; MAX_CORES - 1];

/// The address range of each exception stack, every core's, for the backtrace's frame checks.
pub fn ist_stacks() -> impl Iterator<Item = core::ops::Range<u64>> {
    let boot = STACKS.iter().map(|stack| {
        let bottom = stack.0.get() as u64;
        bottom..bottom + IST_STACK_SIZE as u64
    });
    let others = OTHER_STACKS
        .iter()
        .map(|bottom| bottom.load(Ordering::Acquire))
        .filter(|&bottom| bottom != 0)
        .flat_map(|bottom| {
            (0..IST_STACKS as u64).map(move |slot| {
                let start = bottom + slot * IST_STACK_SIZE as u64;
                start..start + IST_STACK_SIZE as u64
            })
        });
    boot.chain(others)
}

struct Tables {
    gdt: GlobalDescriptorTable,
    code: SegmentSelector,
    data: SegmentSelector,
    tss: SegmentSelector,
}

impl Tables {
    fn new(tss: &'static TaskStateSegment) -> Self {
        let mut gdt = GlobalDescriptorTable::new();
        let code = gdt.append(Descriptor::kernel_code_segment());
        let data = gdt.append(Descriptor::kernel_data_segment());
        let tss = gdt.append(Descriptor::tss_segment(tss));
        Tables { gdt, code, data, tss }
    }

    /// Loads the GDT and the TSS on the calling core and reloads every segment register.
    ///
    /// # Safety
    /// 1. The TSS this GDT names is loaded on no other core (it would be busy: #GP).
    unsafe fn load(&'static self) {
        self.gdt.load();
        // SAFETY: the selectors index descriptors of the GDT just loaded, which lives for ever: a
        // 64-bit code segment, a flat data segment and an available TSS (obligation 1), all DPL 0.
        unsafe {
            CS::set_reg(self.code);
            SS::set_reg(self.data);
            DS::set_reg(self.data);
            ES::set_reg(self.data);
            load_tss(self.tss);
        }
    }
}

/// A TSS whose IST slots point at the tops of the `IST_STACKS` stacks starting at `bottom`.
fn tss_for(bottom: u64) -> TaskStateSegment {
    let mut tss = TaskStateSegment::new();
    for slot in 0..IST_STACKS {
        // Stacks grow down: the IST entry is the top, 16-byte aligned.
        let top = bottom + ((slot + 1) * IST_STACK_SIZE) as u64;
        tss.interrupt_stack_table[slot] = VirtAddr::new(top);
    }
    tss
}

static TSS: Once<TaskStateSegment> = Once::new();
static TABLES: Once<Tables> = Once::new();

/// Loads the boot core's GDT and TSS, reloading every segment register. Only the first call does
/// anything (later calls, on any core, return at once: other cores load [`CoreTables`]).
pub fn init() {
    if TABLES.is_completed() {
        return;
    }
    // The four static stacks are consecutive (one array), so the first one's bottom is the base.
    let tss = TSS.call_once(|| tss_for(STACKS[0].0.get() as u64));
    let tables = TABLES.call_once(|| Tables::new(tss));
    // SAFETY: the boot core's TSS is loaded only here, once (obligation 1).
    unsafe { tables.load() };
}

/// A core other than the boot core: its IST stacks, TSS and GDT, in memory its starter provides.
#[repr(C, align(4096))]
pub struct CoreTables {
    /// The IST stacks, consecutive; never read by Rust, so left uninitialised.
    stacks: UnsafeCell<MaybeUninit<[[u8; IST_STACK_SIZE]; IST_STACKS]>>,
    tss: TaskStateSegment,
    tables: Tables,
}

// SAFETY: after `new_in` the TSS and GDT are only read (by the CPU and by `load`); the stacks are
// only touched by the CPU of the one core that loads these tables.
unsafe impl Sync for CoreTables {}

impl CoreTables {
    /// Bytes a [`CoreTables`] needs (~65 KiB).
    pub const SIZE: usize = core::mem::size_of::<CoreTables>();
    /// Alignment a [`CoreTables`] needs: a page.
    pub const ALIGN: usize = core::mem::align_of::<CoreTables>();

    /// Builds core `index`'s tables in `memory` and registers its IST stacks for backtraces.
    ///
    /// # Safety
    /// 1. `memory` is [`Self::SIZE`] bytes, aligned to [`Self::ALIGN`], mapped read-write, and
    ///    given to these tables for ever (it is never freed or used for anything else).
    pub unsafe fn new_in(memory: *mut u8, index: usize) -> &'static CoreTables {
        let this = memory.cast::<CoreTables>();
        let bottom = memory as u64; // `stacks` is the first field of a repr(C) struct
                                    // SAFETY: obligation 1: `this` is valid for writes of a CoreTables and ours alone. The
                                    // stacks may stay uninitialised (MaybeUninit); the other two fields are written before
                                    // the reference is made.
        let tables = unsafe {
            core::ptr::addr_of_mut!((*this).tss).write(tss_for(bottom));
            let tss: &'static TaskStateSegment = &*core::ptr::addr_of!((*this).tss);
            core::ptr::addr_of_mut!((*this).tables).write(Tables::new(tss));
            &*this
        };
        if let Some(slot) = index.checked_sub(1).and_then(|i| OTHER_STACKS.get(i)) {
            slot.store(bottom, Ordering::Release);
        }
        tables
    }

    /// Loads these tables on the calling core (GDT, every segment register, TSS).
    ///
    /// # Safety
    /// 1. No other core has loaded (or will load) these tables: each core gets its own.
    pub unsafe fn load(&'static self) {
        // SAFETY: obligation 1 of this function is `Tables::load`'s.
        unsafe { self.tables.load() }
    }
}
