//! Thread stacks, each with an unmapped guard page below it.
//!
//! On native platforms a stack is a run of heap pages mapped a second time in the arch's
//! `paging::STACK_REGION`, one slot after another with a never-mapped page between them, so an
//! overflow faults on the guard page and the fault report names it (`percpu::thread_stack`)
//! instead of silently overwriting the next stack. Page-table frames come from the heap as
//! well. A stack is never unmapped: a finished thread's slot is kept for the next thread of the
//! same size, so no TLB shootdown is ever needed.
//!
//! Under Xen PV the kernel cannot build new mappings yet (no `mmu_update`-backed page tables),
//! but it can take one page away: there a stack is a heap block one page larger, whose lowest
//! page the boot environment unmaps ([`GuardHooks`]) and maps back when the stack is released.
//! An overflow then faults instead of overwriting the heap (a PV guest cannot report that fault:
//! Xen crashes the domain, which is still no silent corruption).

use alloc::vec::Vec;
use core::alloc::Layout;
use core::ops::Range;
use rivet_arch::paging::{DirectMap, Format, STACK_REGION};
use rivet_core::memory::frame::FrameSource;
use rivet_core::memory::paging::{Attributes, PageTable, PagingError};
use rivet_core::memory::{PhysRange, PAGE_SIZE};
use rivet_core::sync::IrqMutex;

/// A thread's stack: the usable range (16-aligned top), and where it lives.
pub(crate) struct Stack {
    range: Range<u64>,
    kind: Kind,
}

/// Where a stack's memory comes from.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// A slot of the guarded region.
    Region,
    /// A heap block; `true` if its lowest page was unmapped as the guard (the block starts one
    /// page below the stack).
    Heap(bool),
}

/// How a boot environment without page-table access fences a heap stack: `unmap` takes the page
/// at an address away (returns whether it did), `remap` puts it back.
#[derive(Clone, Copy)]
pub(crate) struct GuardHooks {
    /// Unmaps the page at the address (a heap page), flushing every core's TLB.
    pub unmap: fn(u64) -> bool,
    /// Maps the page back, read-write, as the heap had it; `false` if it could not (the stack's
    /// block is then never returned to the heap: better a leak than a hole in it).
    pub remap: fn(u64) -> bool,
}

static GUARD_HOOKS: spin::Once<GuardHooks> = spin::Once::new();

/// Installs the guard hooks heap stacks use (Xen PV). Only the first call takes effect.
// Only the Xen PV boot (x86_64) installs hooks: an aarch64 image has no caller.
#[allow(dead_code)]
pub(crate) fn set_guard_hooks(hooks: GuardHooks) {
    GUARD_HOOKS.call_once(|| hooks);
}

impl Stack {
    /// The usable addresses.
    pub(crate) fn range(&self) -> Range<u64> {
        self.range.clone()
    }
}

/// Why a stack could not be made.
#[derive(Clone, Copy, Debug)]
pub(crate) enum StackError {
    /// The heap has no room for the stack or its page tables.
    OutOfMemory,
    /// The stack region is used up.
    RegionFull,
    /// The page tables refused the mapping (a broken invariant).
    Paging(PagingError),
}

impl core::fmt::Display for StackError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            StackError::OutOfMemory => f.write_str("out of memory for a thread stack"),
            StackError::RegionFull => f.write_str("the thread-stack address region is full"),
            StackError::Paging(e) => write!(f, "mapping a thread stack: {e}"),
        }
    }
}

/// The guarded region's state: the live page tables, the next free address, the free slots.
struct Region {
    table: PageTable<Format, DirectMap>,
    next: u64,
    free: Vec<Range<u64>>,
}

static REGION: IrqMutex<Option<Region>> = IrqMutex::new(None);

/// Frames from the heap: on native platforms the heap is identity-mapped RAM, so a page's
/// address is its physical address.
struct HeapFrames;

impl FrameSource for HeapFrames {
    fn allocate_frames(&mut self, count: u64, align: u64) -> Option<PhysRange> {
        let size = usize::try_from(count.checked_mul(PAGE_SIZE)?).ok()?;
        let layout = Layout::from_size_align(size, usize::try_from(align).ok()?).ok()?;
        // SAFETY: the layout has a non-zero size (count >= 1 pages).
        let start = unsafe { alloc::alloc::alloc_zeroed(layout) } as u64;
        (start != 0).then(|| PhysRange::from_start_len(start, size as u64))
    }
}

/// Enables guarded stacks in the live page tables whose root is `root` (`None`: heap stacks).
///
/// # Safety
/// 1. `root` is the root of the page tables this core (and every core) runs on, built with
///    `rivet_arch::paging::Format`, reachable through the identity map like all page tables.
/// 2. Nothing maps anything in `STACK_REGION` but this module, and the heap is identity-mapped
///    RAM (its addresses are physical addresses).
pub(crate) unsafe fn init(root: Option<u64>) {
    let Some(root) = root else { return };
    // SAFETY: page-table frames are heap pages (identity-mapped RAM, obligation 2 of this
    // function) or the root (obligation 1).
    let memory = unsafe { DirectMap::new() };
    let table = PageTable::from_root(memory, root);
    *REGION.lock() = Some(Region { table, next: STACK_REGION.start, free: Vec::new() });
}

/// Makes a stack of at least `size` bytes (rounded up to pages).
pub(crate) fn allocate(size: usize) -> Result<Stack, StackError> {
    let size = (size as u64).div_ceil(PAGE_SIZE).max(2) * PAGE_SIZE;
    let mut region = REGION.lock();
    let Some(region) = region.as_mut() else {
        // The heap's lock is not taken under the region's: allocate after releasing it.
        drop(region);
        return allocate_on_heap(size);
    };
    if let Some(index) = region.free.iter().position(|slot| slot.end - slot.start == size) {
        let range = region.free.swap_remove(index);
        return Ok(Stack { range, kind: Kind::Region });
    }
    // The guard page first, then the stack.
    let start = region.next + PAGE_SIZE;
    let end = start + size;
    if end > STACK_REGION.end {
        return Err(StackError::RegionFull);
    }
    let pages =
        HeapFrames.allocate_frames(size / PAGE_SIZE, PAGE_SIZE).ok_or(StackError::OutOfMemory)?;
    region.table.map(start, pages.start, size, Attributes::DATA, &mut HeapFrames).map_err(|e| {
        match e {
            PagingError::OutOfFrames => StackError::OutOfMemory,
            e => StackError::Paging(e),
        }
    })?;
    region.next = end;
    Ok(Stack { range: start..end, kind: Kind::Region })
}

/// A stack from the heap, one page larger with the lowest page unmapped where the boot
/// environment can (see [`GuardHooks`]).
fn allocate_on_heap(size: u64) -> Result<Stack, StackError> {
    let hooks = GUARD_HOOKS.get().copied();
    let block = size + if hooks.is_some() { PAGE_SIZE } else { 0 };
    let layout = heap_layout(block)?;
    // SAFETY: the layout has a non-zero size.
    let start = unsafe { alloc::alloc::alloc(layout) } as u64;
    if start == 0 {
        return Err(StackError::OutOfMemory);
    }
    let end = start + block;
    match hooks {
        Some(hooks) if (hooks.unmap)(start) => {
            Ok(Stack { range: start + PAGE_SIZE..end, kind: Kind::Heap(true) })
        }
        // The hook refused: the whole block is the stack, unguarded.
        _ => Ok(Stack { range: start..end, kind: Kind::Heap(false) }),
    }
}

/// Gives a stack back once no thread runs on it.
pub(crate) fn release(stack: Stack) {
    let start = match stack.kind {
        Kind::Region => {
            if let Some(region) = REGION.lock().as_mut() {
                region.free.push(stack.range);
            }
            return;
        }
        Kind::Heap(false) => stack.range.start,
        Kind::Heap(true) => {
            let guard = stack.range.start - PAGE_SIZE;
            if !GUARD_HOOKS.get().is_some_and(|hooks| (hooks.remap)(guard)) {
                return;
            }
            guard
        }
    };
    if let Ok(layout) = heap_layout(stack.range.end - start) {
        // SAFETY: a heap stack's block starts at `start` and was allocated by `allocate_on_heap`
        // with this same layout; its guard page (if any) is mapped again.
        unsafe { alloc::alloc::dealloc(start as *mut u8, layout) };
    }
}

fn heap_layout(size: u64) -> Result<Layout, StackError> {
    Layout::from_size_align(size as usize, PAGE_SIZE as usize).map_err(|_| StackError::OutOfMemory)
}
