//! The image layout, as the linker script (`targets/x86_64-unknown-none/kernel.ld`) defines it.
//!
//! The linker script is the single source of truth for where things are; this file turns its
//! symbols into addresses. Only the address of such a symbol means anything: none of them names
//! an object, and nothing here reads through them.

use core::ops::Range;

extern "C" {
    static __text_start: u8;
    static __text_end: u8;
    static __rodata_start: u8;
    static __rodata_end: u8;
    static __data_start: u8;
    static __data_end: u8;
    static __boot_stack_bottom: u8;
    static __boot_stack_top: u8;
    static __kernel_start: u8;
    static __kernel_end: u8;
    static __kernel_virt_minus_phys: u8;
}

macro_rules! symbol {
    ($name:ident) => {
        // `&raw const` takes the address without creating a reference to a non-object.
        (&raw const $name) as u64
    };
}

/// Code: `[__text_start, __text_end)`.
pub(crate) fn text() -> Range<u64> {
    symbol!(__text_start)..symbol!(__text_end)
}

/// Constants and the ELF notes: `[__rodata_start, __rodata_end)`.
pub(crate) fn rodata() -> Range<u64> {
    symbol!(__rodata_start)..symbol!(__rodata_end)
}

/// Data, bss and the exception stacks: `[__data_start, __data_end)`.
pub(crate) fn data() -> Range<u64> {
    symbol!(__data_start)..symbol!(__data_end)
}

/// The boot stack, which `main` runs on. The page below it is the guard page.
pub(crate) fn boot_stack() -> Range<u64> {
    symbol!(__boot_stack_bottom)..symbol!(__boot_stack_top)
}

/// The whole image, guard page and boot stack included.
pub(crate) fn image() -> Range<u64> {
    symbol!(__kernel_start)..symbol!(__kernel_end)
}

/// Virtual minus physical address of every byte of the image.
pub(crate) fn virt_minus_phys() -> u64 {
    symbol!(__kernel_virt_minus_phys)
}
