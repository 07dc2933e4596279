//! The CPU itself: its name, stopping it, and the CPUID facts the rest of the port asks for.

use core::sync::atomic::{AtomicU32, Ordering};

/// The architecture's name, as `rivet::env::arch()` reports it.
pub const NAME: &str = "x86_64";

/// Stops this core for good: interrupts off, then `hlt` forever (an NMI or SMI can wake `hlt`,
/// hence the loop).
pub fn halt_forever() -> ! {
    x86_64::instructions::interrupts::disable();
    loop {
        x86_64::instructions::hlt();
    }
}

/// `CPUID.(EAX=leaf, ECX=0)`.
pub fn cpuid(leaf: u32) -> core::arch::x86_64::CpuidResult {
    core::arch::x86_64::__cpuid_count(leaf, 0)
}

/// The highest extended leaf (`CPUID 0x80000000`.eax), or 0 if it looks bogus.
fn max_extended_leaf() -> u32 {
    let max = cpuid(0x8000_0000).eax;
    if max & 0xffff_0000 == 0x8000_0000 {
        max
    } else {
        0
    }
}

/// `CPUID 0x80000001`.edx, read once: asking again costs a VM exit under a hypervisor.
/// `u32::MAX` means "not read yet" (no real CPU sets every bit, reserved ones included).
static EXTENDED_FEATURES: AtomicU32 = AtomicU32::new(u32::MAX);

fn extended_features() -> u32 {
    let cached = EXTENDED_FEATURES.load(Ordering::Relaxed);
    if cached != u32::MAX {
        return cached;
    }
    let edx = if max_extended_leaf() >= 0x8000_0001 { cpuid(0x8000_0001).edx } else { 0 };
    EXTENDED_FEATURES.store(edx, Ordering::Relaxed);
    edx
}

/// Whether the page tables may hold 1 GiB pages (`CPUID 0x80000001`.edx bit 26, "Page1GB").
pub fn has_1gib_pages() -> bool {
    extended_features() & (1 << 26) != 0
}

/// Writes `value` to I/O port `port` as one 32-bit access (`out dx, eax`).
///
/// # Safety
/// 1. The port belongs to a device the caller is entitled to drive (or to nothing), and a 32-bit
///    write of `value` there has no effect on memory safety.
pub unsafe fn write_port_u32(port: u16, value: u32) {
    let mut port = x86_64::instructions::port::PortWriteOnly::<u32>::new(port);
    // SAFETY: obligation 1 of this function.
    unsafe { port.write(value) }
}
