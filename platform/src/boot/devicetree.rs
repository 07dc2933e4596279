//! Booting from an arm64 `Image` handed a devicetree: QEMU `virt`, the Raspberry Pi 4 and 3
//! (QEMU `raspi4b` / `raspi3b`), and Xen on arm64 (a dom0less domU), each recognised from the DTB.
//!
//! The entry code (`rivet_arch::boot`) calls [`rivet_devicetree_entry`] at EL1 with the MMU off,
//! the image relocated and .bss zeroed. From there:
//!
//! 1. exception vectors, so faults are reported from the start;
//! 2. the DTB is taken ([`claim`], the one `unsafe` step), then checked and read in one pass by
//!    `rivet_bootinfo::devicetree` (safe, host-tested): console UART, RAM, reservations, board,
//!    PSCI, bootargs, the cores under `/cpus` (spin-table cores are parked in the image's holding
//!    pen now, while the MMU is off: their release words may lie in page 0, which is not mapped);
//!    the console is a PL011 (or SBSA UART) or a Pi's mini-UART ([`console`]), whichever
//!    `stdout-path` names; a Pi whose DTB has no usable `/memory` (or booted with
//!    `rivet.memory=firmware`) has its RAM from the VideoCore mailbox ([`mailbox`], only then,
//!    still with the MMU off);
//! 3. memory maps and page tables are built ([`memory`]) and the MMU turned on;
//! 4. only then console, exit handler and clock are installed — they are registered through
//!    atomic read-modify-writes, which real hardware does not promise to perform on the Device
//!    memory every access is while the MMU is off (a Pi's exclusive monitor never succeeds);
//! 5. the interrupt controller (a GIC, or a Pi 3's BCM2836 local controller) and the virtual
//!    timer's interrupt ([`interrupts`]), so `sleep` halts in `wfi` and threads are preempted;
//! 6. the other cores are registered ([`smp`]: PSCI CPU_ON or the spin-table pen);
//! 7. `runtime::start` sets up the heap, starts the scheduler and the other cores, runs `main`.
//!
//! Until step 4, errors are printed straight to the UART (or, before one is known, to the
//! semihosting console) and end the run with code 103 through [`power_off`].
//!
//! Weak spot: a panic before step 4 cannot end the run (core's exit handler is not installed
//! yet), so it halts silently; the code before it is written not to panic on any input.

mod claim;
mod console;
mod error;
pub(crate) mod interrupts;
mod mailbox;
mod memory;
mod rtc;
pub(crate) mod smp;
pub(crate) mod watchdog;
mod xen;

use crate::boot::shutdown;
use crate::runtime::{start, Handoff};
use console::Uart;
use error::BootError;
use rivet_arch::psci::Conduit;
use rivet_bootinfo::devicetree::{self, Blob, Gic, Machine, PsciConduit};
use rivet_core::console::Console;
use rivet_core::memory::PhysRange;
use spin::Once;

/// The console UART, once the MMU is on.
static UART: Once<Uart> = Once::new();

/// The platform's entry point, called once by the arch entry code with the MMU off.
///
/// `dtb` is x0 as the loader left it, `entry_ticks` the counter at the first instruction,
/// `unapplied_relocations` the number of relocations the entry code could not apply (0 unless
/// the build is broken).
#[no_mangle]
extern "C" fn rivet_devicetree_entry(dtb: u64, entry_ticks: u64, unapplied_relocations: u64) -> ! {
    rivet_arch::trap::init();

    // SAFETY: x0 is the DTB address by the arm64 boot protocol, which also promises the blob
    // lies in RAM the kernel does not overwrite: `memory::build` reserves it and keeps it mapped.
    let bytes = match unsafe { claim::claim(dtb) } {
        Ok(bytes) => bytes,
        Err(e) => fail(None, e),
    };
    let blob = match Blob::parse(bytes) {
        Ok(blob) => blob,
        Err(e) => fail(None, e.into()),
    };
    let mut machine = Machine::new();
    let read = devicetree::read(&blob, &mut machine);
    // Known as soon as the walk has passed /psci, so even a later failure can power off.
    shutdown::set_psci(machine.psci.map(|conduit| match conduit {
        PsciConduit::Hvc => Conduit::Hvc,
        PsciConduit::Smc => Conduit::Smc,
    }));
    shutdown::set_watchdog(machine.watchdog);
    // A failure still names the UART if one was found, so the error can be shown there.
    let (uart_base, uart_kind) = match &read {
        Ok(()) => (machine.console, machine.console_kind),
        Err(failure) => match failure.console {
            Some(base) => (base, failure.console_kind),
            None => fail(None, failure.error.into()),
        },
    };
    // SAFETY: the base and kind come from the DTB's UART node (obligation 1: the MMU is off,
    // and `memory::build` maps its page — a mini-UART's AUX_ENABLES lies in the same one — as
    // Device memory before the MMU comes on); nothing else in the kernel drives this UART.
    let uart = match unsafe { Uart::new(uart_base, uart_kind) } {
        Ok(uart) => uart,
        Err(e) => fail(None, e),
    };
    if let Err(failure) = read {
        fail(Some(&uart), failure.error.into());
    }
    // No usable /memory (the reader only lets that through with a mailbox), or the kernel
    // parameter asks for it: ask the firmware, while the MMU is off.
    let ask_firmware = machine.ram.is_empty() || mailbox::requested(machine.bootargs);
    let firmware_ram = match machine.mailbox.filter(|_| ask_firmware) {
        None if ask_firmware => fail(Some(&uart), BootError::NoMailbox),
        None => None,
        // SAFETY: the MMU is off and the base is the DTB's mailbox, translated; nothing else
        // uses it (the kernel has no other mailbox user).
        Some(base) => match unsafe { mailbox::arm_memory(base) } {
            Ok(answer) => Some(answer),
            Err(e) => fail(Some(&uart), e),
        },
    };
    // Spin-table cores move to the image's holding pen now, while the MMU is off: their release
    // words may lie in page 0, which the identity map leaves out.
    let parked = smp::park_spin_table_cores(&machine.cpus);
    let uart_page = PhysRange::from_start_len(uart_base, 0x1000);
    let watchdog_page = PhysRange::from_start_len(machine.watchdog.unwrap_or(0), 0x1000);
    let mut pages = [uart_page; 5 + rivet_bootinfo::devicetree::MAX_VIRTIO_MMIO];
    let mut count = 1;
    if machine.watchdog.is_some() {
        pages[count] = watchdog_page;
        count += 1;
    }
    if let Some(rtc) = machine.rtc {
        pages[count] = PhysRange::from_start_len(rtc, 0x1000);
        count += 1;
    }
    let controller = match machine.gic {
        Some(Gic::V2 { distributor, cpu_interface }) => {
            (pages[count], pages[count + 1]) = (distributor, cpu_interface);
            count += 2;
            Some(interrupts::Controller::V2 {
                distributor: distributor.start,
                cpu_interface: cpu_interface.start,
            })
        }
        Some(Gic::V3 { distributor, redistributors }) => {
            (pages[count], pages[count + 1]) = (distributor, redistributors);
            count += 2;
            Some(interrupts::Controller::V3 {
                distributor: distributor.start,
                redistributors: (redistributors.start, redistributors.len()),
            })
        }
        None => machine.bcm2836_local.map(|base| {
            pages[count] = PhysRange::from_start_len(base, rivet_bcm2836_local::SIZE);
            count += 1;
            interrupts::Controller::Bcm2836 { base }
        }),
    };
    // virtio-mmio windows (several share a page on QEMU `virt`: each page once).
    for device in machine.virtio_mmio.as_slice() {
        let page = device.window.grow_to_pages();
        if !pages[..count].iter().any(|p| p.start <= page.start && page.end <= p.end) {
            pages[count] = page;
            count += 1;
        }
    }
    let devices = &pages[..count];
    let dtb_range = PhysRange::from_start_len(dtb, bytes.len() as u64);
    let reported = firmware_ram.map(|(ram, _)| ram);
    let memory = match memory::build(&machine, reported, dtb_range, devices) {
        Ok(memory) => memory,
        Err(e) => fail(Some(&uart), e),
    };
    // SAFETY: `memory::build` identity-mapped the image (W^X), all usable RAM (which holds the
    // tables and the DTB) and the UART (obligation 1); since entry only the image and those
    // tables were written (obligation 2).
    unsafe { rivet_arch::paging::activate(memory.root) };

    // The MMU and caches are on: atomics work everywhere from here.
    let uart = UART.call_once(|| uart);
    rivet_core::console::set_console(uart);
    rivet_core::exit::set_exit_handler(power_off);
    rivet_core::exit::set_reboot_handler(reboot);
    rivet_core::time::set_clock(&rivet_arch::time::COUNTER);
    interrupts::early_logger(machine.bootargs);
    if let Some((ram, reply)) = firmware_ram {
        log::info!(
            "memory: {ram} from the VideoCore mailbox, board revision {:#x}",
            reply.board_revision.unwrap_or(0)
        );
    }
    rtc::read_wall_clock(machine.rtc);
    if machine.is_xen_guest() {
        xen::register();
    }
    for device in machine.virtio_mmio.as_slice() {
        crate::net::virtio::add_mmio_window(crate::net::virtio::MmioWindow {
            base: device.window.start,
            size: device.window.len(),
            irq: device.intid,
        });
    }
    match (controller, machine.virtual_timer) {
        (Some(controller), Some(timer)) => {
            // SAFETY: the ranges are the DTB's GIC or BCM2836 `reg`, translated, and
            // `memory::build` mapped them as Device memory (obligation 1); nothing else drives
            // the controller (obligation 2).
            if let Err(e) = unsafe { interrupts::init(controller, timer) } {
                fail(Some(uart), BootError::Interrupts(e));
            }
        }
        (Some(_), None) => {
            log::debug!("interrupts: a controller but no generic timer: sleep spins")
        }
        (None, _) => log::debug!(
            "interrupts: neither a GIC nor a BCM2836 local controller in the devicetree: sleep \
             spins"
        ),
    }
    smp::register(
        &machine.cpus,
        machine.psci.map(|conduit| match conduit {
            PsciConduit::Hvc => Conduit::Hvc,
            PsciConduit::Smc => Conduit::Smc,
        }),
        controller.and(machine.virtual_timer),
        parked,
    );
    // A broken build, not bad boot input: some pointer in the image was never relocated.
    assert!(
        unapplied_relocations == 0,
        "{unapplied_relocations} relocations in the image are not R_AARCH64_RELATIVE or are \
         misaligned; the entry code could not apply them"
    );

    start(Handoff {
        platform: machine.platform,
        frames: memory.frames,
        page_tables: Some(memory.root),
        command_line: machine.bootargs,
        entry_ticks,
    })
}

/// Reports bad boot input on the UART, or on the semihosting console before a UART is known,
/// and ends the run with code 103.
fn fail(uart: Option<&Uart>, error: BootError) -> ! {
    shutdown::report_bad_boot_input(uart.map(|u| u as &dyn Console), &error);
    if let Some(uart) = uart {
        uart.flush();
    }
    power_off(rivet_core::exit::BAD_BOOT_INPUT)
}

/// The platform's exit handler: flushes the console, then [`shutdown::power_off`].
fn power_off(code: i32) -> ! {
    if let Some(uart) = UART.get() {
        uart.flush();
    }
    shutdown::power_off(code)
}

/// The platform's reboot handler: [`shutdown::reboot`], flushing the console before the reset.
fn reboot() -> ! {
    shutdown::reboot(|| {
        if let Some(uart) = UART.get() {
            uart.flush();
        }
    })
}
