//! Resetting a PVH machine: the reboot handler.
//!
//! Three ways, in order, each tried only where its device answers and given a grace period
//! (QEMU only *requests* the reset on the write; its main loop acts a little later):
//! 1. the PCI reset control register at port 0xCF9 (PIIX and ICH9, so QEMU `pc` and `q35`):
//!    0x02 (reset requested, soft) then 0x06 (do it, hard reset);
//! 2. the 8042 keyboard controller's pulse of the CPU reset line (port 0x64 ← 0xFE);
//! 3. a deliberate triple fault: an empty IDT, then `int3` (QEMU `microvm` has neither device).
//!
//! Under QEMU with `-no-reboot` any of them ends QEMU with status 0, which an isa-debug-exit
//! machine reports as a guest reset (exit codes arrive as odd statuses).
//!
//! Weak spots: "answers" means the port does not read 0xff, as an absent ISA port does; a
//! machine whose 0xCF9 or 0x64 belongs to something else would be poked anyway (no PC does
//! that). The other cores keep running until the reset takes them.

use rivet_arch::io::IoPorts;
use rivet_core::console::print_emergency;

use super::EXIT_GRACE_TICKS;

/// The PCI reset control register (PIIX / ICH9 "RST_CNT").
const RESET_CONTROL_PORT: u16 = 0xcf9;
/// RST_CNT: system reset (bit 1) …
const RESET_CONTROL_SYS_RST: u8 = 0x02;
/// … and reset CPU (bit 2): the write of 0x06 resets the machine.
const RESET_CONTROL_RST_CPU: u8 = 0x04;
/// The 8042 keyboard controller's command / status port.
const KEYBOARD_COMMAND_PORT: u16 = 0x64;
/// 8042 command: pulse output line 0, the CPU reset.
const KEYBOARD_PULSE_RESET: u8 = 0xfe;
/// 8042 status: the input buffer is full (the controller has not taken the last byte).
const KEYBOARD_INPUT_FULL: u8 = 0x02;

/// The PVH reboot handler: resets the machine by the first way that works.
pub(super) fn reboot() -> ! {
    // SAFETY: port 0xCF9 is the chipset's reset control register on every PC that has one, and
    // unused (reads 0xff, ignores writes) elsewhere (obligation 1); nothing else in the kernel
    // drives it, and the run is ending (obligation 2).
    let reset_control = unsafe { IoPorts::new(RESET_CONTROL_PORT, 1) };
    if reset_control.read_u8(0) != 0xff {
        reset_control.write_u8(0, RESET_CONTROL_SYS_RST);
        reset_control.write_u8(0, RESET_CONTROL_SYS_RST | RESET_CONTROL_RST_CPU);
        grace();
    }
    // SAFETY: port 0x64 is the 8042's command port on every PC that has one, unused (0xff)
    // elsewhere (obligation 1); the kernel drives no keyboard (obligation 2).
    let keyboard = unsafe { IoPorts::new(KEYBOARD_COMMAND_PORT, 1) };
    if keyboard.read_u8(0) != 0xff {
        for _ in 0..100_000 {
            if keyboard.read_u8(0) & KEYBOARD_INPUT_FULL == 0 {
                break;
            }
            core::hint::spin_loop();
        }
        keyboard.write_u8(0, KEYBOARD_PULSE_RESET);
        grace();
    }
    print_emergency(format_args!(
        "rivet: reboot: no reset port took effect; resetting by a triple fault\n"
    ));
    triple_fault()
}

/// Waits long enough for QEMU to act on a reset request.
fn grace() {
    let start = rivet_arch::time::read_tsc();
    while rivet_arch::time::read_tsc().wrapping_sub(start) < EXIT_GRACE_TICKS {
        core::hint::spin_loop();
    }
}

/// Loads an empty IDT and raises `int3`: the breakpoint cannot be delivered, nor the double
/// fault that follows, so the CPU shuts down, which the chipset turns into a reset.
fn triple_fault() -> ! {
    /// The `lidt` operand: limit 0 (no gates), base 0.
    #[repr(C, packed)]
    struct Descriptor {
        limit: u16,
        base: u64,
    }
    let empty = Descriptor { limit: 0, base: 0 };
    // SAFETY: the run is ending on purpose: with no IDT every exception escalates to a triple
    // fault, which resets the machine; nothing after this runs, so no state is left broken.
    unsafe {
        core::arch::asm!(
            "cli",
            "lidt [{idt}]",
            "int3",
            idt = in(reg) &raw const empty,
            options(noreturn),
        )
    }
}
