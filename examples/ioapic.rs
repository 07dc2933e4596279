//! Device interrupts through the I/O APIC: the PC's interval timer (8254 PIT, ISA IRQ 0) pulses
//! every 5 ms while the main thread sleeps 100 ms; its handler counts. Passes (exit 0) if at
//! least one interrupt arrived; prints where IRQ 0 was routed (its GSI: 2 on QEMU's machines,
//! through the ACPI override or the MP table) and the vector it came in on.
//!
//! x86 PC-style machines only (QEMU `microvm`, `q35`): elsewhere there is no I/O APIC and
//! `rivet::interrupt` says so (exit 1).
#![no_std]
#![no_main]

use core::sync::atomic::{AtomicU32, Ordering};
use rivet::interrupt::{self, Irq};
use rivet::time::{sleep, Duration};

rivet::main!(main);

/// PIT interrupts seen.
static TICKS: AtomicU32 = AtomicU32::new(0);

/// IRQ 0's handler (interrupt context, boot core).
fn tick(_irq: Irq) {
    TICKS.fetch_add(1, Ordering::Relaxed);
}

fn main() -> i32 {
    let route = match interrupt::set_isa_handler(0, tick) {
        Ok(route) => route,
        Err(e) => {
            rivet::println!("ioapic: cannot route ISA IRQ 0: {e}");
            return 1;
        }
    };
    if let Err(e) = interrupt::start_legacy_timer(Duration::from_millis(5)) {
        rivet::println!("ioapic: cannot start the PIT: {e}");
        return 1;
    }
    sleep(Duration::from_millis(100));
    interrupt::stop_legacy_timer();
    let _ = interrupt::disable(&route);
    let ticks = TICKS.load(Ordering::Relaxed);
    rivet::println!(
        "ioapic: {ticks} PIT interrupts through GSI {} (vector {:#x})",
        route.gsi,
        route.irq.0
    );
    if ticks == 0 {
        rivet::println!("ioapic: the PIT's interrupt never arrived");
        return 1;
    }
    0
}
