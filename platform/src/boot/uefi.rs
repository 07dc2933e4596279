//! Booting as a UEFI application with ACPI only (AWS Graviton, QEMU `virt` + AAVMF): `efi`.
//!
//! The arch entry (`rivet_arch::uefi`) relocates the image and calls [`rivet_uefi_entry`] on the
//! firmware's stack, MMU on, boot services running. From there:
//!
//! 1. the system table is checked ([`Firmware::claim`], the unsafe door);
//! 2. the load options become the command line (UCS-2 → UTF-8, checked, copied into the image);
//! 3. a first memory map tells which addresses are RAM, so the ACPI tables the RSDP leads to are
//!    only read where the firmware says RAM is; `rivet_bootinfo::acpi` checks and reads them
//!    (SPCR console, MADT GIC, GTDT timer, FADT PSCI, MCFG ECAM);
//! 4. the memory map is fetched again and boot services left (the map key changes whenever the
//!    firmware allocates, so this retries);
//! 5. the final map becomes the kernel's memory maps, kept with the rest in [`HANDOVER`] inside
//!    the image; `rivet_arch::uefi::leave_firmware` turns the firmware's MMU off, drops to EL1 and
//!    calls [`rivet_uefi_continue`] on the kernel's stack;
//! 6. which, like the devicetree boot: vectors, console UART, page tables (with the MADT's GIC),
//!    MMU on, the GIC and the GTDT's virtual timer interrupt (so `sleep` halts), then `main`.
//!
//! Errors before step 4 are printed on the firmware's console, then the machine is powered off
//! through the runtime services' ResetSystem (so the run ends rather than waiting in the
//! firmware's boot manager); only a firmware without one gets EFI_LOAD_ERROR back. Errors
//! after it are reported on the SPCR's UART, or the semihosting console if none is known, and end
//! the run with code 103.
//!
//! Whether the firmware also passes a device tree (AAVMF does not, when ACPI is on) is recorded
//! and ignored: this boot uses ACPI only.
//!
//! Weak spots: the 16550 console (AWS Graviton) is only host-tested — QEMU describes a PL011;
//! a panic between ExitBootServices and the continuation
//! cannot print anything.

mod console;
mod error;
mod firmware;
mod memory;
mod rtc;
mod smp;

use crate::boot::devicetree::interrupts::{self, Controller};
use crate::boot::shutdown;
use crate::runtime::{start, Handoff};
use console::Uart;
use core::fmt::Write;
use error::BootError;
use firmware::{Firmware, ACPI_20_TABLE, DTB_TABLE, INVALID_PARAMETER, LOAD_ERROR};
use memory::Maps;
use rivet_arch::psci::Conduit;
use rivet_bootinfo::acpi::{self, Psci};
use rivet_core::console::Console;
use rivet_core::memory::map::MemoryMap;
use rivet_core::memory::PhysRange;
use spin::Once;

/// Bytes of command line kept (UTF-8).
const COMMAND_LINE_SIZE: usize = 4096;
/// Bytes of memory map the boot can take (firmware maps are a few KiB: descriptors of ~48 bytes).
const MEMORY_MAP_SIZE: usize = 32 * 1024;
/// How often ExitBootServices is tried with a fresh map key.
const EXIT_ATTEMPTS: usize = 8;

/// What the firmware phase found, for the continuation. Inside the image (.bss), which
/// `leave_firmware` cleans to memory before the MMU goes off.
struct Handover {
    /// The console UART (SPCR).
    console: acpi::Console,
    /// The memory maps built from the final UEFI memory map.
    maps: Maps,
    /// The command line, UTF-8, inside [`COMMAND_LINE`].
    command_line: &'static str,
    /// Relocations the entry code could not apply.
    unapplied_relocations: u64,
}

/// Filled once in the firmware phase, read in the continuation.
static HANDOVER: Once<Result<Handover, (Option<acpi::Console>, BootError)>> = Once::new();
/// The command line's bytes and length.
static COMMAND_LINE: Once<([u8; COMMAND_LINE_SIZE], usize)> = Once::new();
/// What the ACPI tables say: the GIC (MADT) and the timer's interrupt (GTDT) are used.
static ACPI: Once<acpi::Machine> = Once::new();
/// Whether the firmware passed a device tree too (recorded, not used).
static FIRMWARE_DTB: Once<bool> = Once::new();
/// The console UART, once the MMU is on.
static UART: Once<Uart> = Once::new();

/// The ACPI tables as the firmware left them in RAM, read only inside RAM its memory map names.
struct FirmwareMemory<'m> {
    ram: &'m MemoryMap,
}

impl acpi::Memory<'static> for FirmwareMemory<'_> {
    fn bytes(&self, address: u64, len: usize) -> Option<&'static [u8]> {
        let end = address.checked_add(len as u64)?;
        if address == 0 || !self.ram.regions().iter().any(|r| r.start <= address && end <= r.end) {
            return None;
        }
        // SAFETY: [address, end) lies inside RAM of the firmware's memory map (checked above)
        // that the kernel never frees or writes (ACPI and runtime memory is reserved, and this
        // runs before anything is allocated), identity-mapped by the firmware now and by the
        // kernel later; it is only read.
        Some(unsafe { core::slice::from_raw_parts(address as *const u8, len) })
    }
}

/// The platform's UEFI entry point, called by `rivet_efi_entry` with boot services running.
/// Returns an EFI status to the firmware only if the boot cannot go on.
#[no_mangle]
extern "C" fn rivet_uefi_entry(
    image: u64,
    system_table: u64,
    entry_ticks: u64,
    unapplied_relocations: u64,
) -> u64 {
    // SAFETY: x1 as the firmware passed it to the entry point, boot services running
    // (`rivet_efi_entry` calls this before anything else).
    let firmware = match unsafe { Firmware::claim(system_table) } {
        Ok(firmware) => firmware,
        Err(_) => return LOAD_ERROR,
    };
    rtc::read(&firmware, entry_ticks);
    match firmware_phase(&firmware, image, unapplied_relocations) {
        Ok(()) => {}
        Err(e) => {
            let mut text = Text { bytes: [0; 256], len: 0 };
            let _ = writeln!(text, "rivet: bad boot input: {e}");
            firmware.print(core::str::from_utf8(&text.bytes[..text.len]).unwrap_or("rivet: ?\n"));
            firmware.shut_down(LOAD_ERROR);
            return LOAD_ERROR;
        }
    }
    // SAFETY: boot services were left by `firmware_phase` (obligation 1), and the continuation
    // reads only statics inside the image and memory written with the MMU off (obligation 2).
    unsafe { rivet_arch::uefi::leave_firmware(rivet_uefi_continue, 0, entry_ticks) }
}

/// Steps 2 to 5: everything done while the firmware still runs the machine. An `Err` means
/// boot services are still there (the caller reports on ConOut); after ExitBootServices
/// failures go into [`HANDOVER`].
fn firmware_phase(firmware: &Firmware, image: u64, unapplied: u64) -> Result<(), BootError> {
    let options = firmware.load_options(image)?;
    let mut line = [0u8; COMMAND_LINE_SIZE];
    let len = rivet_bootinfo::uefi::load_options(options, &mut line)?.len();
    let stored = COMMAND_LINE.call_once(|| (line, len));
    let command_line = core::str::from_utf8(&stored.0[..stored.1]).unwrap_or("");

    FIRMWARE_DTB.call_once(|| firmware.configuration_table(&DTB_TABLE).is_some());
    let rsdp = firmware.configuration_table(&ACPI_20_TABLE).ok_or(acpi::Error::NoRsdp)?;

    let mut buffer = [0u8; MEMORY_MAP_SIZE];
    let (len, _, descriptor_size) = firmware.memory_map(&mut buffer)?;
    let first = memory::from_descriptors(&buffer[..len], descriptor_size)?;
    let machine = acpi::read(&FirmwareMemory { ram: &first.mapped }, rsdp)?;
    ACPI.call_once(|| machine);
    // The cores (MADT GICC entries), read while the firmware still maps the tables.
    smp::find(&FirmwareMemory { ram: &first.mapped }, rsdp);
    shutdown::set_psci(machine.psci.map(|conduit| match conduit {
        Psci::Hvc => Conduit::Hvc,
        Psci::Smc => Conduit::Smc,
    }));

    // Nothing may allocate between GetMemoryMap and ExitBootServices (printing would): a
    // changed map makes ExitBootServices refuse the key, and the loop fetches the map again.
    let mut status = INVALID_PARAMETER;
    let mut final_map = (0, descriptor_size);
    for _ in 0..EXIT_ATTEMPTS {
        let (len, key, descriptor_size) = firmware.memory_map(&mut buffer)?;
        final_map = (len, descriptor_size);
        match firmware.exit_boot_services(image, key) {
            Ok(()) => {
                status = 0;
                break;
            }
            Err(s) => status = s,
        }
    }
    if status != 0 {
        return Err(BootError::ExitBootServices(status));
    }
    // Boot services are gone: from here every failure is handed over, not returned.
    let console = machine.console;
    let (len, descriptor_size) = final_map;
    let handover = match memory::from_descriptors(&buffer[..len], descriptor_size) {
        Ok(maps) => Ok(Handover { console, maps, command_line, unapplied_relocations: unapplied }),
        Err(e) => Err((Some(console), e)),
    };
    HANDOVER.call_once(|| handover);
    Ok(())
}

/// A line of text for the firmware's console, cut short if longer than its buffer.
struct Text {
    bytes: [u8; 256],
    len: usize,
}

impl Write for Text {
    fn write_str(&mut self, text: &str) -> core::fmt::Result {
        for c in text.chars() {
            let mut encoded = [0; 4];
            let encoded = c.encode_utf8(&mut encoded).as_bytes();
            let Some(slot) = self.bytes.get_mut(self.len..self.len + encoded.len()) else {
                break;
            };
            slot.copy_from_slice(encoded);
            self.len += encoded.len();
        }
        Ok(())
    }
}

/// Step 6: at EL1, MMU off, on the kernel's stack; boot services gone.
extern "C" fn rivet_uefi_continue(_argument: u64, entry_ticks: u64) -> ! {
    rivet_arch::trap::init();
    let handover = match HANDOVER.get() {
        Some(Ok(handover)) => handover,
        Some(Err((console, e))) => {
            let uart = console.and_then(|console| console_uart(&console).ok());
            fail(uart.as_ref(), *e)
        }
        // Cannot happen: the firmware phase sets it before `leave_firmware`.
        None => fail(None, BootError::Firmware { call: "hand-over", status: 0 }),
    };
    let uart = match console_uart(&handover.console) {
        Ok(uart) => uart,
        Err(e) => fail(None, e),
    };
    let uart_page = PhysRange::from_start_len(handover.console.base, 0x1000);
    let acpi = ACPI.get();
    let controller = acpi.map(|acpi| Controller::from_madt(&acpi.gic));
    let mut devices = [uart_page; 3];
    let count = match controller {
        Some(Ok(controller)) => {
            devices[1..].copy_from_slice(&controller.ranges());
            3
        }
        _ => 1,
    };
    let memory = match memory::build(&handover.maps, &devices[..count]) {
        Ok(memory) => memory,
        Err(e) => fail(Some(&uart), e),
    };
    // SAFETY: `memory::build` identity-mapped the image (W^X), all RAM of the memory map (which
    // holds the tables) and the UART (obligation 1); since the MMU went off only the image and
    // those tables were written (obligation 2).
    unsafe { rivet_arch::paging::activate(memory.root) };

    let uart = UART.call_once(|| uart);
    // The firmware leaves its console mid-line (after its clear-screen escape sequences, which
    // carry no line break): start the kernel's output on a line of its own.
    uart.write_bytes(b"\r\n");
    rivet_core::console::set_console(uart);
    rivet_core::exit::set_exit_handler(power_off);
    rivet_core::exit::set_reboot_handler(reboot);
    rivet_core::time::set_clock(&rivet_arch::time::COUNTER);
    interrupts::early_logger(handover.command_line);
    rtc::record(entry_ticks);
    // The GTDT's virtual timer GSIV, when it is a PPI (INTIDs 16 to 31).
    let timer = acpi.and_then(|acpi| acpi.timer).map(|timer| timer.virtual_timer.0);
    match (controller, timer) {
        (Some(Ok(controller)), Some(timer @ 16..=31)) => {
            // SAFETY: the ranges are the MADT's GIC, mapped as Device memory by `memory::build`
            // above (obligation 1); nothing else drives the GIC (obligation 2).
            if let Err(e) = unsafe { interrupts::init(controller, timer) } {
                fail(Some(uart), BootError::Interrupts(e));
            }
        }
        (Some(Err(e)), _) => fail(Some(uart), BootError::Interrupts(e)),
        (_, timer) => {
            log::debug!("interrupts: no usable GTDT virtual timer ({timer:?}): sleep spins")
        }
    }
    smp::register(
        acpi.and_then(|acpi| acpi.psci).map(|conduit| match conduit {
            Psci::Hvc => Conduit::Hvc,
            Psci::Smc => Conduit::Smc,
        }),
        match (controller, timer) {
            (Some(Ok(_)), Some(timer @ 16..=31)) => Some(timer),
            _ => None,
        },
    );
    let unapplied = handover.unapplied_relocations;
    assert!(
        unapplied == 0,
        "{unapplied} relocations in the image are not R_AARCH64_RELATIVE or are misaligned; \
         the entry code could not apply them"
    );
    start(Handoff {
        platform: "efi",
        frames: memory.frames,
        page_tables: Some(memory.root),
        command_line: handover.command_line,
        entry_ticks,
    })
}

/// The SPCR's UART, set up. The MMU is off, or maps it.
fn console_uart(console: &acpi::Console) -> Result<Uart, BootError> {
    // SAFETY: the console comes from the SPCR, checked to be a UART the kernel drives, in memory
    // space (obligation 1: the MMU is off, and `memory::build` maps its page as Device memory
    // before it comes on); nothing else in the kernel drives it.
    unsafe { Uart::new(console) }
}

/// Reports bad boot input on the UART, or on the semihosting console, and ends the run with 103.
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

/// The platform's reboot handler: [`shutdown::reboot`] (PSCI SYSTEM_RESET from the FADT),
/// flushing the console before the reset. Not ResetSystem(EfiResetCold): after ExitBootServices the
/// runtime services would need their regions mapped and the system table kept, and AAVMF's
/// ResetSystem is itself PSCI SYSTEM_RESET.
fn reboot() -> ! {
    shutdown::reboot(|| {
        if let Some(uart) = UART.get() {
            uart.flush();
        }
    })
}
