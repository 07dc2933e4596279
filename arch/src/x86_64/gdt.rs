//! The GDT and the TSS, whose interrupt stack table gives some exceptions their own stacks.
//!
//! In 64-bit mode segmentation is nearly gone, but the TSS survives for one job Rivet needs: the
//! IST, seven stack pointers the CPU switches to on chosen vectors. A page fault caused by the
//! boot stack overflowing into its guard page cannot push its frame on that stack; on an IST stack
//! it can, and the fault is reported instead of escalating to a triple fault (a silent reset).
//!
//! The selectors match the boot GDT in head.rs (code 0x08, data 0x10), so loading this table
//! changes no segment register's meaning. Built with the `x86_64` crate's types.
//!
//! Weak spot: the IST stacks have no guard pages; a handler that overflows one (16 KiB) would
//! corrupt the stack below it. The handlers here only format a report.

use core::cell::UnsafeCell;
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

#[repr(C, align(16))]
struct Stack(UnsafeCell<[u8; IST_STACK_SIZE]>);

// SAFETY: Rust code never reads or writes the stack bytes; only the CPU does, on the one core
// Rivet runs on, when it takes an exception on that stack.
unsafe impl Sync for Stack {}

/// The exception stacks. The `.bss.rivet.stack.*` section name puts them outside the `.bss` range
/// the entry code zeroes (kernel.ld): 64 KiB nobody needs zeroed.
#[link_section = ".bss.rivet.stack.ist"]
static STACKS: [Stack; IST_STACKS] =
    [const { Stack(UnsafeCell::new([0; IST_STACK_SIZE])) }; IST_STACKS];

/// The address range of each exception stack, for the backtrace's frame checks.
pub fn ist_stacks() -> impl Iterator<Item = core::ops::Range<u64>> {
    STACKS.iter().map(|stack| {
        let bottom = stack.0.get() as u64;
        bottom..bottom + IST_STACK_SIZE as u64
    })
}

struct Tables {
    gdt: GlobalDescriptorTable,
    code: SegmentSelector,
    data: SegmentSelector,
    tss: SegmentSelector,
}

static TSS: Once<TaskStateSegment> = Once::new();
static TABLES: Once<Tables> = Once::new();

/// Loads the GDT and TSS, reloading every segment register. Only the first call does anything.
pub fn init() {
    let tss = TSS.call_once(|| {
        let mut tss = TaskStateSegment::new();
        for (slot, range) in ist_stacks().enumerate() {
            // Stacks grow down: the IST entry is the top, 16-byte aligned.
            tss.interrupt_stack_table[slot] = VirtAddr::new(range.end);
        }
        tss
    });
    if TABLES.is_completed() {
        return;
    }
    let tables = TABLES.call_once(|| {
        let mut gdt = GlobalDescriptorTable::new();
        let code = gdt.append(Descriptor::kernel_code_segment());
        let data = gdt.append(Descriptor::kernel_data_segment());
        let tss = gdt.append(Descriptor::tss_segment(tss));
        Tables { gdt, code, data, tss }
    });
    tables.gdt.load();
    // SAFETY: the selectors index descriptors of the GDT just loaded, which lives in a static
    // for ever: a 64-bit code segment, a flat data segment and an available TSS, all DPL 0.
    unsafe {
        CS::set_reg(tables.code);
        SS::set_reg(tables.data);
        DS::set_reg(tables.data);
        ES::set_reg(tables.data);
        load_tss(tables.tss);
    }
}
