//! The CPU itself: its name, stopping it, waiting for an interrupt, MSRs, and the CPUID facts
//! the rest of the port asks for.

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

/// Lets interrupts in and halts until one has been handled, then masks them again.
///
/// One asm block, so nothing runs between `sti` and `hlt`: `sti` only takes effect after the next
/// instruction (the "interrupt shadow"), so an interrupt already pending, or arriving in between,
/// is taken *after* `hlt` has begun and wakes it; it cannot slip in before the `hlt` and leave
/// the core halted with its wake-up spent.
pub fn wait_for_interrupt() {
    // SAFETY: interrupts are enabled only for the `hlt`; every vector that can arrive has an IDT
    // entry (trap.rs) that saves what it clobbers and returns with `iretq`.
    unsafe {
        core::arch::asm!(
            "sti", // IF = 1 from the end of the next instruction
            "hlt", // wait; the interrupt handler runs and returns after this instruction
            "cli", // back to interrupts off, as the rest of the kernel expects
            // Not `nomem`: the handler that ran writes memory (counters, the clock's state).
            options(nostack)
        )
    };
}

/// `CPUID.01H`.ecx, the basic feature flags.
fn basic_features_ecx() -> u32 {
    cpuid(1).ecx
}

/// Whether the core has a local APIC (`CPUID.01H:EDX[9]`).
pub fn has_apic() -> bool {
    cpuid(1).edx & (1 << 9) != 0
}

/// Whether the local APIC can run in x2APIC mode, reached through MSRs (`CPUID.01H:ECX[21]`).
pub fn has_x2apic() -> bool {
    basic_features_ecx() & (1 << 21) != 0
}

/// Whether the APIC timer has the TSC-deadline mode (`CPUID.01H:ECX[24]`).
pub fn has_tsc_deadline() -> bool {
    basic_features_ecx() & (1 << 24) != 0
}

/// Reads model-specific register `msr`.
///
/// # Safety
/// 1. `msr` exists on this CPU (else `rdmsr` raises #GP) and reading it has no side effect that
///    breaks memory safety.
pub unsafe fn read_msr(msr: u32) -> u64 {
    // SAFETY: obligation 1 of this function.
    unsafe { x86_64::registers::model_specific::Msr::new(msr).read() }
}

/// Writes `value` to model-specific register `msr`.
///
/// # Safety
/// 1. `msr` exists on this CPU, `value` is valid for it, and the write cannot break memory safety
///    (it does not move memory the kernel uses, e.g. the APIC page into RAM).
pub unsafe fn write_msr(msr: u32, value: u64) {
    // SAFETY: obligation 1 of this function.
    unsafe { x86_64::registers::model_specific::Msr::new(msr).write(value) }
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

/// Masks maskable interrupts (`cli`); returns whether they were enabled (RFLAGS.IF).
pub fn disable_interrupts() -> bool {
    let enabled = x86_64::instructions::interrupts::are_enabled();
    x86_64::instructions::interrupts::disable();
    enabled
}

/// Enables interrupts again if `enabled` (what [`disable_interrupts`] returned).
pub fn restore_interrupts(enabled: bool) {
    if enabled {
        x86_64::instructions::interrupts::enable();
    }
}

/// Enables interrupts on this core (`sti`).
pub fn enable_interrupts() {
    x86_64::instructions::interrupts::enable();
}

/// `IA32_GS_BASE`: where `%gs:` addresses point.
const IA32_GS_BASE: u32 = 0xc000_0101;

/// Points GS at this core's [`crate::percpu`] block, whose first word is its own address.
/// Under Xen PV the `wrmsr` is emulated by Xen (64-bit PV guests may set their GS base).
pub(crate) fn set_local_base(address: u64) {
    // SAFETY: IA32_GS_BASE exists on every x86_64 CPU; the kernel never uses GS for anything
    // else, so moving it breaks no memory access.
    unsafe { write_msr(IA32_GS_BASE, address) }
}

/// This core's [`crate::percpu`] block (`mov %gs:0`). Valid once `set_local_base` has run on
/// this core, which `trap::init` does first thing on the boot core.
pub(crate) fn local_base() -> u64 {
    let address: u64;
    // SAFETY: GS points at this core's block (see above), whose first word is readable.
    unsafe {
        core::arch::asm!("mov {}, gs:[0]", out(reg) address, options(nostack, readonly, preserves_flags))
    };
    address
}
