//! What a platform knows at the end of boot, for the API and the application.

use crate::cmdline::CommandLine;
use spin::Once;

/// Facts a platform hands to the rest of the kernel once it has booted.
#[derive(Debug)]
pub struct BootInfo {
    /// The CPU architecture (`x86_64`, `aarch64`).
    pub arch: &'static str,
    /// The boot environment the platform recognised (`pvh`, `virt`, …).
    pub platform: &'static str,
    /// The command line, split into kernel parameters and application arguments.
    pub command_line: CommandLine,
    /// The clock's tick count at the kernel's first instruction.
    pub entry_ticks: u64,
    /// Bytes of RAM given to the heap.
    pub heap_bytes: u64,
}

static BOOT_INFO: Once<BootInfo> = Once::new();

/// Records the boot facts. Only the first call takes effect.
pub fn set_boot_info(info: BootInfo) -> &'static BootInfo {
    BOOT_INFO.call_once(|| info)
}

/// The boot facts, once the platform has recorded them.
pub fn boot_info() -> Option<&'static BootInfo> {
    BOOT_INFO.get()
}
