//! PVH: QEMU/KVM `microvm` and `q35`, Firecracker, cloud-hypervisor, all booting the ELF directly.
//!
//! `arch/src/x86_64/head.rs` takes the CPU from the loader's 32-bit entry to 64-bit mode on boot
//! page tables and calls [`rivet_pvh_entry`]. From there, in this order:
//!
//! 0. Xen, if its CPUID leaves say this is a Xen PVH domU (`xen.rs`): then the exit is a Xen
//!    shutdown and, once memory is set up, the console is the PV console ring;
//! 1. the console: the 16550 at COM1 (port 0x3f8), if one answers;
//! 2. the exit path: isa-debug-exit at port 0xf4 (QEMU exits with `(code << 1) | 1`), falling back
//!    to a message and a halt where no such device exists;
//! 3. the exception vectors, so a fault from here on is reported, not a reset;
//! 4. the clock: the TSC, whose frequency is only measured when first asked for;
//! 5. the start info, validated as untrusted input (see `start_info.rs`);
//! 6. the cores (`smp.rs`) and the I/O APIC with the ISA interrupt routing (`ioapic.rs`): the
//!    ACPI MADT or the MP table, read while the boot tables still map the firmware's memory;
//! 7. memory: RAM from the start info's memory map (type 1), minus page 0, the kernel image and
//!    everything the loader handed over; new page tables mapping the image W^X at its high
//!    address and all RAM but page 0 and the image read-write, no-execute at its physical address;
//!    with other cores, the AP trampoline's pages (0x8000 read-execute, 0x9000 read-write) kept
//!    out of the free RAM and the trampoline copied in;
//! 8. the local APIC (`apic.rs`): the legacy PICs masked, the APIC as interrupt controller and
//!    its timer as `sleep`'s alarm; the I/O APIC (`ioapic.rs`) with every pin masked, its
//!    routing offered to `crate::interrupt`; then the cores registered with `crate::smp`;
//! 9. the common start-up in `runtime.rs`, which ends in `main` (and starts the other cores).
//!
//! Nothing on this path waits or calibrates: boot time is the time to run it.
//!
//! Weak spots: the command line is used where the loader put it (mapped read-only if it is not in
//! RAM), so a loader that later reuses that memory would change it; modules are only reserved,
//! not mapped (nothing uses them yet); of the ACPI tables only the MADT is read.

mod apic;
mod ioapic;
mod pci;
mod pit;
mod reset;
mod rtc;
mod smp;
mod start_info;
mod xen;

use rivet_arch::cpu::halt_forever;
use rivet_arch::head::{BOOT_MAP_LIMIT, COM1_PORT, DEBUG_EXIT_PORT};
use rivet_arch::io::IoPorts;
use rivet_arch::paging::{activate, kernel_image, kernel_image_physical, DirectMap, Format};
use rivet_core::console::{print_emergency, set_console};
use rivet_core::exit::BAD_BOOT_INPUT;
use rivet_core::memory::frame::{FrameAllocator, FramesBelow};
use rivet_core::memory::map::{MapError, MemoryMap};
use rivet_core::memory::paging::{map_kernel_image, Attributes, PageTable, PagingError};
use rivet_core::memory::{PhysRange, PAGE_SIZE};
use rivet_ns16550::{Ns16550, RegisterAccess};
use spin::Once;
use start_info::{Claimed, StartInfo, StartInfoError, MEMMAP_RAM};

/// The boot environment's name, as `rivet::env::platform()` reports it.
const PLATFORM: &str = "pvh";
/// The name under Xen (a PVH domU).
const PLATFORM_ON_XEN: &str = "xen-pvh";

static CONSOLE: Once<Ns16550<UartPorts>> = Once::new();

/// A 16550's eight registers at consecutive I/O ports: the driver's register access on a PC.
struct UartPorts(IoPorts);

impl RegisterAccess for UartPorts {
    fn read(&self, index: u8) -> u8 {
        self.0.read_u8(u16::from(index))
    }

    fn write(&self, index: u8, value: u8) {
        self.0.write_u8(u16::from(index), value)
    }
}

/// How long an exit waits for isa-debug-exit to take effect: ~0.1–0.3 s at 1–3 GHz.
const EXIT_GRACE_TICKS: u64 = 1 << 28;

/// Where the PVH entry code lands, in 64-bit mode on the boot page tables (the first
/// `BOOT_MAP_LIMIT` of physical memory mapped at its own address and at the kernel's), on the
/// boot stack, with `.bss` zeroed and interrupts off.
///
/// `start_info` is the physical address the loader passed in `ebx` (the entry code checked its
/// magic); `entry_tsc` the TSC at the kernel's first instruction.
#[no_mangle]
pub extern "C" fn rivet_pvh_entry(start_info: u64, entry_tsc: u64) -> ! {
    if xen::detect() {
        rivet_core::exit::set_exit_handler(xen::exit);
        rivet_core::exit::set_reboot_handler(xen::reboot);
    }
    install_console();
    rivet_core::exit::set_exit_handler(exit_via_debug_port);
    rivet_core::exit::set_reboot_handler(reset::reboot);
    rivet_arch::trap::init();
    rivet_core::time::set_clock(&rivet_arch::time::COUNTER);

    let kernel = kernel_image_physical();
    let info = match Claimed::at(start_info).validate(&kernel) {
        Ok(info) => info,
        Err(e) => fail(BootError::StartInfo(e)),
    };
    rtc::install();
    smp::discover(start_info);
    ioapic::discover(start_info);
    pci::discover();
    let (frames, page_tables) = match set_up_memory(&info, &kernel) {
        Ok(memory) => memory,
        Err(e) => fail(e),
    };
    if xen::on_xen() {
        xen::connect();
    }
    apic::init();
    ioapic::init();
    smp::register();
    pci::register();
    crate::runtime::start(crate::runtime::Handoff {
        platform: if xen::on_xen() { PLATFORM_ON_XEN } else { PLATFORM },
        frames,
        page_tables: Some(page_tables),
        command_line: info.command_line,
        entry_ticks: entry_tsc,
    })
}

/// Makes COM1 the console if a UART answers there; without one the run goes on silently (the
/// exit code still reaches the host).
fn install_console() {
    // SAFETY: ports 0x3f8–0x3ff are COM1 on every PC-compatible machine and PVH VMM (QEMU,
    // Firecracker, cloud-hypervisor) or unused (reads 0xff, writes ignored), never another
    // device (obligation 1); this console is the only code that drives COM1 (obligation 2).
    let ports = unsafe { IoPorts::new(COM1_PORT, 8) };
    if let Ok(uart) = Ns16550::new(UartPorts(ports)) {
        let uart = CONSOLE.call_once(|| uart);
        uart.init();
        set_console(uart);
    }
}

/// Ends the run through isa-debug-exit; where the machine has none, says so and halts.
fn exit_via_debug_port(code: i32) -> ! {
    // SAFETY: port 0xf4 is QEMU's isa-debug-exit when the machine has one (the write ends the
    // run); on a PC without it the port is unused and the write is ignored (obligation 1).
    unsafe { rivet_arch::cpu::write_port_u32(DEBUG_EXIT_PORT, code as u32) };
    // QEMU only *requests* the shutdown on that write; its main loop stops the CPU a little later.
    // Wait (TSC ticks, as the frequency may not be known) before concluding nothing is there.
    let start = rivet_arch::time::read_tsc();
    while rivet_arch::time::read_tsc().wrapping_sub(start) < EXIT_GRACE_TICKS {
        core::hint::spin_loop();
    }
    print_emergency(format_args!(
        "rivet: exit code {code}: no isa-debug-exit device at port {DEBUG_EXIT_PORT:#x} ended the \
         run; halting\n"
    ));
    halt_forever()
}

/// Why this boot cannot go on.
#[derive(Debug)]
enum BootError {
    StartInfo(StartInfoError),
    MemoryMap(MapError),
    NoRam,
    PageTables(PagingError),
}

impl core::fmt::Display for BootError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            BootError::StartInfo(e) => write!(f, "hvm_start_info: {e}"),
            BootError::MemoryMap(e) => write!(f, "memory map: {e}"),
            BootError::NoRam => {
                write!(f, "memory map: no RAM (type 1) beyond what the kernel uses")
            }
            BootError::PageTables(e) => write!(f, "page tables: {e}"),
        }
    }
}

impl From<MapError> for BootError {
    fn from(e: MapError) -> Self {
        BootError::MemoryMap(e)
    }
}

impl From<PagingError> for BootError {
    fn from(e: PagingError) -> Self {
        BootError::PageTables(e)
    }
}

/// Reports bad boot input and ends the run with `BAD_BOOT_INPUT`.
fn fail(error: BootError) -> ! {
    print_emergency(format_args!("rivet: PVH boot: {error}\n"));
    rivet_core::exit::exit(BAD_BOOT_INPUT)
}

/// Builds the memory map and the kernel's page tables, switches to them and returns the free RAM
/// and the tables' root.
fn set_up_memory(
    info: &StartInfo,
    kernel: &core::ops::Range<u64>,
) -> Result<(FrameAllocator, u64), BootError> {
    let mut ram = MemoryMap::new();
    for entry in info.memory_map().filter(|entry| entry.kind == MEMMAP_RAM) {
        ram.add(PhysRange::from_start_len(entry.address, entry.size))?;
    }
    // What the identity map covers: RAM but page 0 (null stays a fault) and the image (reached at
    // its high address only, so its code has no writable alias).
    let mut direct = ram;
    direct.reserve(PhysRange::new(0, PAGE_SIZE))?;
    direct.reserve(PhysRange::new(kernel.start, kernel.end))?;
    let mut free = direct.clone();
    for range in info.footprint() {
        free.reserve(range)?;
    }
    // The AP trampoline's pages (if there are other cores): out of the free RAM, and its code
    // page out of the read-write direct map (mapped read-execute below).
    smp::reserve_trampoline(&mut direct, &mut free)?;
    if free.total() == 0 {
        return Err(BootError::NoRam);
    }
    let mut frames = FrameAllocator::new(free);

    // Page-table frames must be reachable through the boot identity map while the new tree is
    // built (FramesBelow), and they are RAM, so the new tree maps them too.
    let mut table_frames = FramesBelow { frames: &mut frames, limit: BOOT_MAP_LIMIT };
    // SAFETY: every table address the builder touches is its root or a frame from `table_frames`:
    // free RAM below BOOT_MAP_LIMIT, which the boot tables map read-write at its physical address
    // (obligation 1), handed out once by the frame allocator and used by nothing else
    // (obligation 2).
    let memory = unsafe { DirectMap::new() };
    let mut table = PageTable::<Format, DirectMap>::new(memory, &mut table_frames)?;
    map_kernel_image(&mut table, &kernel_image(), &mut table_frames)?;
    for region in direct.regions() {
        table.map(region.start, region.start, region.len(), Attributes::DATA, &mut table_frames)?;
    }
    // The command line is used after the switch; loaders often keep it outside RAM.
    let command_line = info.command_line_range().grow_to_pages();
    let mut page = command_line.start;
    while page < command_line.end {
        if table.translate(page).is_none() {
            table.map(page, page, PAGE_SIZE, Attributes::READ_ONLY, &mut table_frames)?;
        }
        page += PAGE_SIZE;
    }
    // The local APIC's page, when it is reached through MMIO (xAPIC).
    if let Some(page) = apic::xapic_page() {
        if table.translate(page).is_none() {
            table.map(page, page, PAGE_SIZE, Attributes::DEVICE, &mut table_frames)?;
        }
    }
    // The I/O APIC's registers (device interrupts).
    if let Some(page) = ioapic::mmio_page() {
        if table.translate(page).is_none() {
            table.map(page, page, PAGE_SIZE, Attributes::DEVICE, &mut table_frames)?;
        }
    }
    // virtio-mmio windows the monitor announces on the command line (QEMU microvm,
    // Firecracker): mapped as Device, then offered to the network driver.
    for device in rivet_core::cmdline::virtio_mmio_devices(info.command_line).flatten() {
        let window = PhysRange::from_start_len(device.base, device.size).grow_to_pages();
        let mut page = window.start;
        while page < window.end {
            if table.translate(page).is_none() {
                table.map(page, page, PAGE_SIZE, Attributes::DEVICE, &mut table_frames)?;
            }
            page += PAGE_SIZE;
        }
        crate::net::virtio::add_mmio_window(crate::net::virtio::MmioWindow {
            base: device.base,
            size: device.size,
            irq: Some(device.irq),
        });
    }
    // The memory BARs of the PCI network cards.
    for window in pci::bar_windows() {
        let mut page = window.start;
        while page < window.end {
            if table.translate(page).is_none() {
                table.map(page, page, PAGE_SIZE, Attributes::DEVICE, &mut table_frames)?;
            }
            page += PAGE_SIZE;
        }
    }
    // A Xen PVH domU's console and xenstore pages (outside RAM).
    for page in xen::pages_to_map() {
        if table.translate(page).is_none() {
            table.map(page, page, PAGE_SIZE, Attributes::DATA, &mut table_frames)?;
        }
    }
    if let Some(page) = smp::trampoline_code_page() {
        table.map(page, page, PAGE_SIZE, Attributes::CODE, &mut table_frames)?;
    }
    smp::install_trampoline();
    // SAFETY: the tree is a PML4 from `Format` (obligation 1) mapping the image with
    // `map_kernel_image` (code, statics and the boot stack, which this code runs on) and, at their
    // physical addresses, all free RAM (the frame allocator's and the page tables' memory) and the
    // command line: everything touched from here on (obligation 2).
    unsafe { activate(table.root()) };
    Ok((frames, table.root()))
}
