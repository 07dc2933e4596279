//! From the UEFI memory map to free frames and the kernel's page tables.
//!
//! [`from_descriptors`] runs while the firmware's MMU is still on, right after
//! `ExitBootServices`, and turns the final memory map into two core `MemoryMap`s:
//!
//! - *mapped*: all RAM the kernel may touch — free memory and what stays reserved (ACPI tables,
//!   runtime services) — minus page 0 and the image (mapped section by section, W^X);
//! - *free*: the memory types `rivet_bootinfo::uefi::usage` calls free (conventional memory,
//!   boot services and loader memory, which nothing needs once boot services are gone).
//!
//! [`build`] then makes the page tables from them, with the MMU off, as the devicetree boot does.

use super::error::BootError;
use rivet_arch::paging::{kernel_image, DirectMap, Format};
use rivet_bootinfo::uefi::{usage, Descriptors, Usage};
use rivet_core::memory::frame::FrameAllocator;
use rivet_core::memory::map::MemoryMap;
use rivet_core::memory::paging::{map_kernel_image, Attributes, PageTable};
use rivet_core::memory::{PhysRange, PAGE_SIZE};

/// Physical addresses the identity map can reach: 48 bits (TCR_EL1.T0SZ = 16).
const ADDRESS_LIMIT: u64 = 1 << 48;

/// RAM to map and RAM that is free, from a memory map.
#[derive(Clone, Debug)]
pub struct Maps {
    /// Everything to identity-map read-write.
    pub mapped: MemoryMap,
    /// Everything the frame allocator may hand out.
    pub free: MemoryMap,
}

/// Reads `map` (`descriptor_size` bytes per descriptor) into the two maps, leaving out page 0
/// and the running image.
pub fn from_descriptors(map: &[u8], descriptor_size: usize) -> Result<Maps, BootError> {
    let mut mapped = MemoryMap::new();
    let mut free = MemoryMap::new();
    for descriptor in Descriptors::new(map, descriptor_size)? {
        let descriptor = descriptor?;
        let range = PhysRange::new(descriptor.range.start, descriptor.range.end.min(ADDRESS_LIMIT));
        if range.is_empty() {
            continue;
        }
        match usage(descriptor.kind) {
            Usage::Free => {
                mapped.add(range)?;
                free.add(range)?;
            }
            Usage::Reserved => mapped.add(range)?,
            Usage::Ignored => {}
        }
    }
    let image = kernel_image();
    let image_range = PhysRange::new(image.text.start, image.stack.end);
    if !image_range.start.is_multiple_of(PAGE_SIZE) {
        return Err(BootError::MisalignedImage(image_range.start));
    }
    for map in [&mut mapped, &mut free] {
        map.reserve(PhysRange::new(0, PAGE_SIZE))?;
        map.reserve(image_range)?;
    }
    if free.total() == 0 {
        return Err(BootError::NoMemory);
    }
    Ok(Maps { mapped, free })
}

/// Free memory and the root of the page tables that map it, ready for `paging::activate`.
pub struct Memory {
    /// Free RAM, identity-mapped once the tables are active.
    pub frames: FrameAllocator,
    /// Physical address of the root table.
    pub root: u64,
}

/// Builds the page tables for `maps`, with `devices` mapped as Device memory. The MMU is off.
pub fn build(maps: &Maps, devices: &[PhysRange]) -> Result<Memory, BootError> {
    let mut frames = FrameAllocator::new(maps.free.clone());
    // SAFETY: the tables' frames come from `frames`, which holds only free RAM (obligation 1),
    // and the MMU is off, so physical addresses are reachable as they are (obligation 2).
    let memory = unsafe { DirectMap::new() };
    let mut table = PageTable::<Format, DirectMap>::new(memory, &mut frames)?;
    map_kernel_image(&mut table, &kernel_image(), &mut frames)?;
    for ram in maps.mapped.regions() {
        table.map(ram.start, ram.start, ram.len(), Attributes::DATA, &mut frames)?;
    }
    for device in devices {
        let pages = device.grow_to_pages();
        table.map(pages.start, pages.start, pages.len(), Attributes::DEVICE, &mut frames)?;
    }
    Ok(Memory { root: table.root(), frames })
}
