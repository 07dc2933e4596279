//! Where the image's parts lie at run time, from the linker script's boundary symbols.
//!
//! The image is linked at 0 and runs wherever it was loaded, so every address here is the
//! *run-time* one: the symbols are reached PC-relatively (or through the GOT, which the entry code
//! has relocated), never taken as link-time constants. See `targets/aarch64-unknown-none/kernel.ld`
//! for the layout.

use core::ops::Range;

extern "C" {
    static __image_start: u8;
    static __text_end: u8;
    static __rodata_end: u8;
    static __data_end: u8;
    static __boot_stack_bottom: u8;
    static __boot_stack_top: u8;
    static __image_end: u8;
    static __exception_stack_bottom: u8;
    static __exception_stack_top: u8;
}

/// Reads a linker symbol's run-time address.
macro_rules! address_of {
    ($symbol:ident) => {
        // Taking the address of an extern static reads nothing; the symbol is defined by the
        // linker script or the entry assembly, so it exists.
        (&raw const $symbol) as u64
    };
}

/// Run-time address of the image's first byte (the `Image` header): the load address.
pub fn image_start() -> u64 {
    address_of!(__image_start)
}

/// The whole image in memory, header to the top of the boot stack (`image_size` bytes).
pub fn image() -> Range<u64> {
    image_start()..address_of!(__image_end)
}

/// Code (and the header): read + execute.
pub fn text() -> Range<u64> {
    image_start()..address_of!(__text_end)
}

/// Constants, relocated pointers and the relocation table: read-only.
pub fn rodata() -> Range<u64> {
    address_of!(__text_end)..address_of!(__rodata_end)
}

/// Initialised data and .bss (which holds the exception stack): read + write.
pub fn data() -> Range<u64> {
    address_of!(__rodata_end)..address_of!(__data_end)
}

/// The page between data and the boot stack that is never mapped.
pub fn guard_page() -> Range<u64> {
    address_of!(__data_end)..address_of!(__boot_stack_bottom)
}

/// The boot stack the kernel runs on (SP_EL0).
pub fn boot_stack() -> Range<u64> {
    address_of!(__boot_stack_bottom)..address_of!(__boot_stack_top)
}

/// The stack exception handlers run on (SP_EL1), inside .bss.
pub fn exception_stack() -> Range<u64> {
    address_of!(__exception_stack_bottom)..address_of!(__exception_stack_top)
}

/// Converts a run-time code address to its link-time address (an offset into the image), which
/// is what `llvm-addr2line` and `llvm-objdump` want for the ELF. Addresses outside the image are
/// returned unchanged.
pub fn link_address(runtime: u64) -> u64 {
    if image().contains(&runtime) {
        runtime - image_start()
    } else {
        runtime
    }
}
