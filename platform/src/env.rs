//! The application's environment: its arguments and what it runs on.

use alloc::string::String;
use spin::Once;

static PROGRAM_NAME: Once<&'static str> = Once::new();

#[doc(hidden)]
pub fn set_program_name(name: &'static str) {
    PROGRAM_NAME.call_once(|| name);
}

/// The program's arguments, like `std::env::args`: the program name first (the crate name the
/// image was built from), then the words after `--` on the boot command line (or all its words
/// if it has no `--`).
pub fn args() -> impl Iterator<Item = String> {
    let name = PROGRAM_NAME.get().copied().unwrap_or("rivet");
    let rest = rivet_core::boot::boot_info().map(|b| b.command_line.args.as_slice()).unwrap_or(&[]);
    core::iter::once(String::from(name)).chain(rest.iter().cloned())
}

/// The value of kernel parameter `name` from the boot command line (the words before `--`).
pub fn kernel_param(name: &str) -> Option<&'static str> {
    rivet_core::boot::boot_info()?.command_line.param(name)
}

/// The words before `--` on the boot command line (kernel parameters such as `rivet.log=debug`,
/// and `KEY=VALUE` words that C's `getenv` reads as the environment), in order.
pub fn kernel_words() -> impl Iterator<Item = &'static str> {
    let words =
        rivet_core::boot::boot_info().map(|b| b.command_line.kernel.as_slice()).unwrap_or(&[]);
    words.iter().map(String::as_str)
}

/// Bytes of RAM the heap was given at boot (`None` before the heap exists).
pub fn heap_bytes() -> Option<u64> {
    rivet_core::boot::boot_info().map(|b| b.heap_bytes)
}

/// The CPU architecture the image runs on: `x86_64` or `aarch64`.
pub fn arch() -> &'static str {
    rivet_arch::NAME
}

/// The boot environment the kernel recognised: `pvh`, `virt`, …
pub fn platform() -> &'static str {
    rivet_core::boot::boot_info().map(|b| b.platform).unwrap_or("unknown")
}
