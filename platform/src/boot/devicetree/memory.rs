//! From the devicetree's RAM and reservations to free frames and the kernel's page tables.
//!
//! Two maps are built from the `/memory` nodes (or, where a Pi's DTB has none, the RAM its
//! firmware reported through the mailbox):
//!
//! - *mapped*: all RAM minus page 0 (so a null pointer faults even where RAM starts at 0, as on a
//!   Pi), minus the image (which `map_kernel_image` maps section by section, W^X, guard page
//!   left out), minus `no-map` reservations (secure firmware memory must not even be mapped, or
//!   a speculative access can fault). It is identity-mapped read-write, never executable.
//! - *free*: mapped minus every other reservation (the DTB itself, /memreserve/, the initrd …).
//!   It feeds the frame allocator, which also provides the page tables themselves.

use super::error::BootError;
use rivet_arch::paging::{kernel_image, DirectMap, Format};
use rivet_bootinfo::devicetree::Machine;
use rivet_core::memory::frame::FrameAllocator;
use rivet_core::memory::map::MemoryMap;
use rivet_core::memory::paging::{map_kernel_image, Attributes, PageTable};
use rivet_core::memory::{PhysRange, PAGE_SIZE};

/// Physical addresses the identity map can reach: 48 bits (TCR_EL1.T0SZ = 16).
const ADDRESS_LIMIT: u64 = 1 << 48;

/// Free memory and the root of the page tables that map it, ready for `paging::activate`.
pub struct Memory {
    /// Free RAM, identity-mapped once the tables are active.
    pub frames: FrameAllocator,
    /// Physical address of the root table.
    pub root: u64,
}

/// Builds the memory maps and the page tables for `machine`, whose devicetree blob lies at `dtb`.
/// `firmware_ram` is RAM the firmware reported (a Pi's mailbox), used instead of the tree's;
/// `devices` are MMIO ranges to map as Device memory.
pub fn build(
    machine: &Machine<'_>,
    firmware_ram: Option<PhysRange>,
    dtb: PhysRange,
    devices: &[PhysRange],
) -> Result<Memory, BootError> {
    let image = kernel_image();
    let image_range = PhysRange::new(image.text.start, image.stack.end);
    if !image_range.start.is_multiple_of(PAGE_SIZE) {
        return Err(BootError::MisalignedImage(image_range.start));
    }

    let mut mapped = MemoryMap::new();
    let from_tree = machine.ram.iter().map(|(ram, _)| ram).filter(|_| firmware_ram.is_none());
    for ram in from_tree.chain(firmware_ram) {
        // RAM beyond the identity map's reach is left out rather than refused.
        let reachable = PhysRange::new(ram.start, ram.end.min(ADDRESS_LIMIT));
        if reachable.start < reachable.end {
            mapped.add(reachable)?;
        }
    }
    mapped.reserve(PhysRange::new(0, PAGE_SIZE))?;
    mapped.reserve(image_range)?;
    let mut free = mapped.clone();
    for (range, no_map) in machine.reserved.iter() {
        if no_map {
            mapped.reserve(range)?;
        }
        free.reserve(range)?;
    }
    if mapped.total() == 0 {
        return Err(BootError::NoMemory);
    }
    // The command line handed to the runtime points into the DTB: it must stay mapped.
    let dtb_pages = dtb.grow_to_pages();
    if !mapped.regions().iter().any(|r| r.start <= dtb_pages.start && dtb_pages.end <= r.end) {
        return Err(BootError::DtbOutsideRam(dtb));
    }
    free.reserve(dtb)?;

    let mut frames = FrameAllocator::new(free);
    // SAFETY: the tables' frames come from `frames`, which holds only free RAM (obligation 1),
    // and the MMU is still off, so physical addresses are reachable as they are (obligation 2).
    let memory = unsafe { DirectMap::new() };
    let mut table = PageTable::<Format, DirectMap>::new(memory, &mut frames)?;
    map_kernel_image(&mut table, &image, &mut frames)?;
    for ram in mapped.regions() {
        table.map(ram.start, ram.start, ram.len(), Attributes::DATA, &mut frames)?;
    }
    for device in devices {
        let pages = device.grow_to_pages();
        table.map(pages.start, pages.start, pages.len(), Attributes::DEVICE, &mut frames)?;
    }
    Ok(Memory { root: table.root(), frames })
}
