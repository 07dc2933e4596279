//! The local APIC on a PVH machine: interrupt controller and `sleep`'s alarm.
//!
//! [`init`] masks both legacy 8259 PICs (so nothing but the APIC can interrupt), switches the APIC
//! to x2APIC mode where the CPU has it (MSR access, no MMIO page) or else uses the xAPIC page the
//! memory setup mapped as Device ([`xapic_page`]), and builds the `rivet-lapic` driver with the
//! TSC-deadline timer where `CPUID.01H:ECX[24]` says so, one-shot otherwise. It installs the
//! driver as the interrupt controller (inside `ioapic.rs`'s, which adds the device vectors) and
//! the alarm, and a timer handler that counts.
//!
//! The other cores (`smp.rs`) share the one driver value: its registers always reach the calling
//! core's APIC. [`init_this_core`] sets up a secondary core's APIC in the boot core's mode with
//! the timer unmasked; [`send_init`], [`send_startup`] and [`send_fixed`] send IPIs, and the
//! reschedule IPI's vector gets its (empty) handler here.
//!
//! Device interrupts come through the I/O APIC (`ioapic.rs`), whose controller wraps this one:
//! core sees that wrapper. Weak spot: the APIC base is taken from IA32_APIC_BASE as is, on every
//! core.

use core::sync::atomic::Ordering;
use rivet_arch::cpu::{has_apic, has_tsc_deadline, has_x2apic, read_msr, write_msr};
use rivet_arch::io::IoPorts;
use rivet_arch::trap::{entered_vector, RESCHEDULE_VECTOR, SPURIOUS_VECTOR, TIMER_VECTOR};
use rivet_core::interrupt::{set_handler, InterruptController, Irq};
use rivet_core::time::{set_alarm, Alarm};
use rivet_lapic::{LocalApic, RegisterAccess, TimerMode, Vectors};
use spin::Once;

/// `IA32_APIC_BASE`: the APIC page's physical address (bits 12+), x2APIC enable (bit 10), global
/// enable (bit 11).
const IA32_APIC_BASE: u32 = 0x1b;
const APIC_BASE_X2APIC: u64 = 1 << 10;
const APIC_BASE_ENABLE: u64 = 1 << 11;
/// `IA32_TSC_DEADLINE`.
const IA32_TSC_DEADLINE: u32 = 0x6e0;
/// The first x2APIC register MSR; register `n` is `0x800 + n`.
const X2APIC_MSR_BASE: u32 = 0x800;
/// The x2APIC interrupt command register: one 64-bit MSR (`0x800 + ICR_LOW`).
const X2APIC_ICR: u32 = X2APIC_MSR_BASE + rivet_lapic::ICR_LOW;

/// The local APIC's registers: the xAPIC MMIO page or the x2APIC MSRs.
enum Registers {
    /// The xAPIC page's address (mapped Device at its physical address).
    Mmio(u64),
    /// x2APIC mode.
    Msr,
}

impl RegisterAccess for Registers {
    fn read(&self, index: u32) -> u32 {
        match *self {
            // SAFETY: `base` is the xAPIC page, mapped Device read-write (set_up_memory); the
            // register at `index * 16` is inside it (index < 0x40) and 16-byte aligned.
            Registers::Mmio(base) => unsafe {
                core::ptr::read_volatile((base + u64::from(index & 0x3f) * 16) as *const u32)
            },
            // SAFETY: x2APIC mode is on (init) and the index names an APIC register.
            Registers::Msr => unsafe { read_msr(X2APIC_MSR_BASE + index) as u32 },
        }
    }

    fn write(&self, index: u32, value: u32) {
        match *self {
            // SAFETY: as in `read`.
            Registers::Mmio(base) => unsafe {
                core::ptr::write_volatile((base + u64::from(index & 0x3f) * 16) as *mut u32, value)
            },
            // SAFETY: as in `read`; APIC register writes touch no memory.
            Registers::Msr => unsafe { write_msr(X2APIC_MSR_BASE + index, u64::from(value)) },
        }
    }

    fn write_tsc_deadline(&self, deadline: u64) {
        // SAFETY: only called in TSC-deadline mode, which is chosen only where CPUID reports it.
        unsafe { write_msr(IA32_TSC_DEADLINE, deadline) }
    }

    fn is_x2apic(&self) -> bool {
        matches!(self, Registers::Msr)
    }

    fn write_icr(&self, destination: u32, command: u32) {
        match *self {
            Registers::Mmio(_) => {
                self.write(rivet_lapic::ICR_HIGH, destination << 24);
                self.write(rivet_lapic::ICR_LOW, command);
            }
            // SAFETY: x2APIC mode is on; an ICR write sends an IPI and touches no memory (what
            // the IPI makes the other core do is the sender's business: INIT/STARTUP only from
            // smp.rs, with the trampoline in place).
            Registers::Msr => unsafe {
                write_msr(X2APIC_ICR, (u64::from(destination) << 32) | u64::from(command))
            },
        }
    }
}

/// The driver, once `init` has taken over the APIC.
static APIC: Once<LocalApic<Registers>> = Once::new();

/// The xAPIC page to map as Device before [`init`], if the core has an APIC that will be used
/// through MMIO.
pub fn xapic_page() -> Option<u64> {
    if !has_apic() || has_x2apic() {
        return None;
    }
    // SAFETY: IA32_APIC_BASE exists on every CPU with an APIC (CPUID.01H:EDX[9], checked).
    let base = unsafe { read_msr(IA32_APIC_BASE) };
    Some(base & 0x000f_ffff_ffff_f000)
}

/// Masks the legacy PICs, takes over the local APIC and installs it as controller and alarm.
/// Call after the page tables map [`xapic_page`] and after `trap::init`.
pub fn init() {
    mask_legacy_pics();
    if !has_apic() {
        log::debug!("time: no local APIC; sleep spins");
        return;
    }
    let registers = match xapic_page() {
        Some(page) => Registers::Mmio(page),
        None => {
            // SAFETY: `xapic_page` returns None with an APIC present only when the CPU has
            // x2APIC, so IA32_APIC_BASE exists and EXTD may be set; with EN it keeps the APIC
            // enabled and only changes how its registers are reached (no memory moves).
            unsafe {
                let base = read_msr(IA32_APIC_BASE);
                write_msr(IA32_APIC_BASE, base | APIC_BASE_ENABLE | APIC_BASE_X2APIC);
            }
            Registers::Msr
        }
    };
    let access = match registers {
        Registers::Mmio(_) => "xAPIC",
        Registers::Msr => "x2APIC",
    };
    ACCESS.call_once(|| access);
    let mode = if has_tsc_deadline() { TimerMode::TscDeadline } else { TimerMode::OneShot };
    let vectors =
        Vectors { timer: TIMER_VECTOR, spurious: SPURIOUS_VECTOR, ipi: RESCHEDULE_VECTOR };
    // SAFETY: `registers` reach this core's APIC in the mode just set, and this is its only
    // driver (obligation 1); TscDeadline only where CPUID says so, and the clock is the TSC
    // (obligation 2); trap::init installed both vectors' entry, which records the vector for
    // `entered_vector` and calls `handle` (obligation 3).
    let apic = APIC.call_once(|| unsafe {
        LocalApic::new(registers, vectors, mode, &rivet_arch::time::COUNTER, entered_vector)
    });
    // One controller for the local APIC's vectors and the I/O APIC's (see ioapic.rs).
    super::ioapic::install_controller(apic);
    if let Err(e) = set_handler(Irq(u32::from(RESCHEDULE_VECTOR)), crate::smp::reschedule_interrupt)
    {
        log::warn!("smp: cannot handle the reschedule IPI ({e})");
    }
    if let Err(e) = set_handler(Irq(u32::from(TIMER_VECTOR)), timer_interrupt) {
        log::warn!("time: cannot handle the APIC timer ({e}); sleep spins");
        return;
    }
    set_alarm(&LOGGED_ALARM, rivet_arch::cpu::wait_for_interrupt);
    crate::time::HAS_ALARM.store(true, Ordering::Relaxed);
}

/// Sets up the calling (secondary) core's local APIC like the boot core's: the same mode (x2APIC
/// switched on here too, if the boot core uses it), the same vectors, the timer unmasked.
/// Returns false if the boot core has no APIC driver (then this core takes no interrupts).
///
/// # Safety
/// 1. Called once on a core other than the boot core, after its IDT is loaded, interrupts masked.
pub(super) unsafe fn init_this_core() -> bool {
    let Some(apic) = APIC.get() else { return false };
    if apic_is_x2apic() {
        // SAFETY: the boot core runs its APIC in x2APIC mode, so this CPU model has x2APIC and
        // IA32_APIC_BASE; setting EXTD with EN only changes how the registers are reached.
        unsafe {
            let base = read_msr(IA32_APIC_BASE);
            write_msr(IA32_APIC_BASE, base | APIC_BASE_ENABLE | APIC_BASE_X2APIC);
        }
    }
    // SAFETY: obligation 1 of this function; the APIC is enabled in the mode the shared register
    // access uses (just above, or xAPIC at the same page on every core), and the IDT is the boot
    // core's, which has the timer and spurious entries.
    unsafe { apic.init_this_core() };
    let _ = apic.enable(Irq(u32::from(TIMER_VECTOR)));
    true
}

/// Whether the boot core's APIC runs in x2APIC mode.
fn apic_is_x2apic() -> bool {
    access() == "x2APIC"
}

/// "xAPIC" or "x2APIC": how the boot core reaches its APIC ("?" before `init`).
pub(super) fn access() -> &'static str {
    ACCESS.get().copied().unwrap_or("?")
}

/// The calling core's APIC id, if the APIC driver is up.
pub(super) fn id() -> Option<u32> {
    APIC.get().map(|apic| apic.id())
}

/// Sends INIT to the core with APIC id `apic_id`; false if the APIC is missing or refused.
pub(super) fn send_init(apic_id: u32) -> bool {
    APIC.get().is_some_and(|apic| apic.send_init(apic_id))
}

/// Sends STARTUP with `vector` to the core with APIC id `apic_id`.
pub(super) fn send_startup(apic_id: u32, vector: u8) -> bool {
    APIC.get().is_some_and(|apic| apic.send_startup(apic_id, vector))
}

/// Sends the fixed interrupt `vector` to the core with APIC id `apic_id`.
pub(super) fn send_fixed(apic_id: u32, vector: u8) -> bool {
    APIC.get().is_some_and(|apic| apic.send_fixed(apic_id, vector))
}

/// "xAPIC" or "x2APIC", for the log line.
static ACCESS: Once<&'static str> = Once::new();

/// The APIC as `sleep`'s alarm, saying on the first `arm` which timer mode was chosen: `init`
/// runs before the logger is set up, and the first `sleep` is the first moment the choice matters.
struct LoggedAlarm;

static LOGGED_ALARM: LoggedAlarm = LoggedAlarm;
static MODE_LOGGED: Once<()> = Once::new();

impl Alarm for LoggedAlarm {
    fn arm(&self, deadline: u64) {
        let Some(apic) = APIC.get() else { return };
        MODE_LOGGED.call_once(|| {
            let access = ACCESS.get().copied().unwrap_or("?");
            log::debug!(
                "time: local APIC ({access}, version {:#x}), timer {}",
                apic.version(),
                apic.mode()
            );
            if apic.mode() == TimerMode::OneShot {
                log::debug!("time: APIC timer at {} Hz (divided by 16)", apic.timer_frequency());
            }
        });
        apic.arm(deadline);
    }

    fn disarm(&self) {
        if let Some(apic) = APIC.get() {
            apic.disarm();
        }
    }
}

/// The APIC timer fired: quiet it and count.
fn timer_interrupt(_irq: Irq) {
    if let Some(apic) = APIC.get() {
        apic.disarm();
    }
    crate::time::ALARM_INTERRUPTS.fetch_add(1, Ordering::Relaxed);
}

/// Masks every line of both 8259 PICs (OCW1 = 0xff to the data ports 0x21 and 0xa1).
fn mask_legacy_pics() {
    for port in [0x21, 0xa1] {
        // SAFETY: 0x21/0xa1 are the master and slave PIC data ports on every PC, or unused
        // (microvm without a PIC: writes ignored); masking touches no memory.
        let pic = unsafe { IoPorts::new(port, 1) };
        pic.write_u8(0, 0xff);
    }
}
