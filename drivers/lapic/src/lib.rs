//! Local APIC driver: the x86 core's own interrupt controller and its timer, as Rivet's traits.
//!
//! [`LocalApic`] software-enables the APIC with a spurious vector, masks the local interrupt
//! lines (LINT0, the error LVT) and implements [`InterruptController`] for the core-local vectors
//! it owns (the timer's and the spurious one) and [`Alarm`] for the timer, in one of two modes:
//!
//! - TSC-deadline (`CPUID.01H:ECX[24]`): the deadline, in TSC ticks, goes straight into
//!   `IA32_TSC_DEADLINE`; the timer fires once when the TSC reaches it and disarms itself.
//! - one-shot: the deadline is turned into a count of the APIC timer (divide-by-16 bus clock),
//!   whose rate is measured against the system clock on the first `arm` (lazily, ~5 ms, never on
//!   the boot path). Counts beyond 32 bits are clamped: the timer then fires early and `sleep`
//!   arms it again.
//!
//! Register access is a small trait ([`RegisterAccess`]) indexed like the x2APIC MSRs (xAPIC
//! offset / 16), so the platform backs it with MMIO (xAPIC) or `rdmsr`/`wrmsr` (x2APIC), and the
//! host tests with a fake register block. The driver knows no CPU.
//!
//! `claim` returns the vector the CPU entered the interrupt entry with, which the arch layer's
//! stub records and the platform passes in as a function ([`LocalApic::new`]'s `entered`). Not
//! the in-service register: under KVM (x2APIC, TSC-deadline) the timer's interrupt was seen to
//! arrive with the ISR reading empty, and reading it costs VM exits anyway. The spurious vector
//! is claimed as `None`: it sets no ISR bit and must get no EOI.
//!
//! Inter-processor interrupts go through the ICR ([`LocalApic::send_init`],
//! [`LocalApic::send_startup`] to start a core, [`LocalApic::send_fixed`] to interrupt one):
//! two 32-bit writes (high word, then low) and a wait for the delivery-status bit in xAPIC mode,
//! one 64-bit MSR write in x2APIC mode ([`RegisterAccess::write_icr`]).
//!
//! SMP: one `LocalApic` value serves every core, because its register access always reaches the
//! *calling* core's APIC (x2APIC MSRs are per core; the xAPIC page is at the same address on
//! every core and each sees its own). The boot core's `new` sets up the boot core's APIC; every
//! other core calls [`LocalApic::init_this_core`] once. The measured one-shot rate is shared:
//! all cores' timers run from the same bus clock.
//!
//! Non-goals for now (device interrupts are `rivet-ioapic`'s, which this driver EOIs): thermal and
//! performance-counter LVTs, broadcast IPIs (shorthands). Weak spot: calibration assumes the
//! system clock is the TSC-rate clock the deadlines are expressed in.
#![cfg_attr(not(test), no_std)]
#![deny(unsafe_op_in_unsafe_fn)]
#![deny(clippy::undocumented_unsafe_blocks)]

use core::sync::atomic::{AtomicU64, Ordering};
use rivet_core::interrupt::{InterruptController, InterruptError, Irq};
use rivet_core::time::{Alarm, Clock};

/// Reading and writing the local APIC's 32-bit registers by x2APIC index (xAPIC MMIO offset / 16;
/// x2APIC MSR `0x800 + index`), plus the TSC-deadline MSR. Implemented by the platform.
///
/// # Implementation safety
/// Implementors access only the current core's local APIC (and `IA32_TSC_DEADLINE`).
pub trait RegisterAccess: Sync {
    /// Reads register `index`.
    fn read(&self, index: u32) -> u32;
    /// Writes `value` to register `index`.
    fn write(&self, index: u32, value: u32);
    /// Writes `IA32_TSC_DEADLINE` (MSR 0x6e0); 0 disarms. Only called in TSC-deadline mode.
    fn write_tsc_deadline(&self, deadline: u64);
    /// Whether the registers are the x2APIC MSRs (32-bit APIC ids, one-write ICR) rather than
    /// the xAPIC page (8-bit ids in the top byte, two-write ICR with a delivery-status bit).
    fn is_x2apic(&self) -> bool;
    /// Writes the interrupt command register, which sends an IPI: `destination` (an APIC id)
    /// and the low word `command` (vector, delivery mode, level, ...). The default is the xAPIC
    /// sequence: the destination (bits 24–31 of the high register), then the low register,
    /// which sends. x2APIC implementations override it with one write of MSR 0x830:
    /// `destination << 32 | command`.
    fn write_icr(&self, destination: u32, command: u32) {
        self.write(ICR_HIGH, destination << 24);
        self.write(ICR_LOW, command);
    }
}

// Register indexes (Intel SDM vol. 3A, table 11-6 / 10-6: xAPIC offset >> 4 = x2APIC MSR - 0x800).
/// Local APIC id (xAPIC: bits 24–31; x2APIC: all 32 bits).
const ID: u32 = 0x02;
/// Local APIC version.
const VERSION: u32 = 0x03;
/// Task priority.
const TPR: u32 = 0x08;
/// End of interrupt (write 0).
const EOI: u32 = 0x0b;
/// Spurious interrupt vector; bit 8 is the software enable.
const SVR: u32 = 0x0f;
/// Interrupt command, low word (x2APIC: the whole 64-bit ICR is MSR 0x830).
pub const ICR_LOW: u32 = 0x30;
/// Interrupt command, high word (xAPIC only): the destination in bits 24–31.
pub const ICR_HIGH: u32 = 0x31;
/// LVT: timer.
const LVT_TIMER: u32 = 0x32;
/// LVT: LINT0 (the 8259's virtual wire on a PC).
const LVT_LINT0: u32 = 0x35;
/// LVT: error.
const LVT_ERROR: u32 = 0x37;
/// Timer initial count.
const TIMER_INITIAL: u32 = 0x38;
/// Timer current count.
const TIMER_CURRENT: u32 = 0x39;
/// Timer divide configuration.
const TIMER_DIVIDE: u32 = 0x3e;

/// SVR: APIC software enable.
const SVR_ENABLE: u32 = 1 << 8;
/// LVT: masked.
const LVT_MASKED: u32 = 1 << 16;
/// LVT timer mode field (bits 17–18): one-shot is 0.
const LVT_TSC_DEADLINE: u32 = 0b10 << 17;
/// Divide configuration value for divide-by-16.
const DIVIDE_BY_16: u32 = 0b0011;
/// ICR delivery modes (bits 8–10): fixed, INIT, STARTUP.
const ICR_FIXED: u32 = 0b000 << 8;
const ICR_INIT: u32 = 0b101 << 8;
const ICR_STARTUP: u32 = 0b110 << 8;
/// ICR delivery status (xAPIC, read-only): the previous IPI has not been accepted yet.
const ICR_PENDING: u32 = 1 << 12;
/// ICR level: assert (required for everything but the obsolete INIT de-assert).
const ICR_ASSERT: u32 = 1 << 14;
/// How many times [`LocalApic::wait_for_delivery`] polls before giving up (~1 ms of MMIO reads
/// under a hypervisor, microseconds on hardware, where delivery takes under a microsecond).
const DELIVERY_POLLS: u32 = 100_000;

/// How long the one-shot calibration counts: 1/200 s.
const CALIBRATION_DIVISOR: u64 = 200;

/// How the timer raises its deadline.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum TimerMode {
    /// `IA32_TSC_DEADLINE`: deadlines in TSC ticks, no calibration.
    TscDeadline,
    /// A one-shot count of the divided bus clock, calibrated against the system clock.
    OneShot,
}

impl core::fmt::Display for TimerMode {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            TimerMode::TscDeadline => "TSC-deadline",
            TimerMode::OneShot => "one-shot (calibrated against the TSC)",
        })
    }
}

/// The vectors the driver uses.
#[derive(Clone, Copy, Debug)]
pub struct Vectors {
    /// The timer's vector (32–254; high, so it outranks device interrupts).
    pub timer: u8,
    /// The spurious vector (bits 0–3 all set on P6-era parts: 0xff is the usual choice).
    pub spurious: u8,
    /// The vector other cores' IPIs arrive with (the reschedule IPI): it has no LVT, so
    /// `enable` and `disable` accept it and do nothing.
    pub ipi: u8,
}

/// One core's local APIC.
pub struct LocalApic<R: RegisterAccess> {
    registers: R,
    vectors: Vectors,
    mode: TimerMode,
    clock: &'static dyn Clock,
    entered: fn() -> Option<u8>,
    /// Divided APIC timer ticks per second (one-shot mode), 0 until calibrated.
    timer_hz: AtomicU64,
}

impl<R: RegisterAccess> LocalApic<R> {
    /// Takes over the local APIC behind `registers`: software-enables it with the spurious
    /// vector, accepts every priority, masks LINT0, the error LVT and the timer (until a handler
    /// is set), and selects the timer `mode`. `clock` is the clock deadlines are counted in;
    /// `entered` tells, inside an interrupt handler, the vector the CPU entered it with.
    ///
    /// # Safety
    /// 1. `registers` reach the current core's local APIC (enabled in `IA32_APIC_BASE`, in the
    ///    mode matching the access), and nothing else programs it while this value exists.
    /// 2. `mode` is `TscDeadline` only if the CPU has the TSC-deadline timer, and `clock` then
    ///    counts TSC ticks.
    /// 3. The IDT has entries for both `vectors` that end in [`rivet_core::interrupt::handle`]
    ///    before interrupts are enabled.
    pub unsafe fn new(
        registers: R,
        vectors: Vectors,
        mode: TimerMode,
        clock: &'static dyn Clock,
        entered: fn() -> Option<u8>,
    ) -> Self {
        let apic = Self { registers, vectors, mode, clock, entered, timer_hz: AtomicU64::new(0) };
        apic.init();
        apic
    }

    fn init(&self) {
        let r = &self.registers;
        r.write(TPR, 0);
        r.write(LVT_LINT0, LVT_MASKED);
        r.write(LVT_ERROR, LVT_MASKED);
        r.write(LVT_TIMER, self.timer_lvt(true));
        r.write(TIMER_INITIAL, 0);
        r.write(TIMER_DIVIDE, DIVIDE_BY_16);
        r.write(SVR, SVR_ENABLE | u32::from(self.vectors.spurious));
    }

    /// The timer's LVT word for this mode, masked or not.
    fn timer_lvt(&self, masked: bool) -> u32 {
        let mode = match self.mode {
            TimerMode::TscDeadline => LVT_TSC_DEADLINE,
            TimerMode::OneShot => 0,
        };
        mode | u32::from(self.vectors.timer) | if masked { LVT_MASKED } else { 0 }
    }

    /// The timer mode in use.
    pub fn mode(&self) -> TimerMode {
        self.mode
    }

    /// Sets up the calling core's local APIC as `new` set up the first one (for the other cores
    /// of an SMP machine: this value's register access reaches whichever core calls).
    ///
    /// # Safety
    /// 1. Called on a core other than the one `new` ran on, once, with that core's APIC enabled
    ///    in `IA32_APIC_BASE` in the mode the register access uses (x2APIC: EXTD set on this
    ///    core too), and its IDT holding the entries `new`'s obligation 3 names.
    pub unsafe fn init_this_core(&self) {
        self.init();
    }

    /// The calling core's APIC id.
    pub fn id(&self) -> u32 {
        let id = self.registers.read(ID);
        if self.registers.is_x2apic() {
            id
        } else {
            id >> 24
        }
    }

    /// Sends INIT (level assert) to the core whose APIC id is `apic_id`: the first half of
    /// starting it. Returns whether the IPI was accepted (always true in x2APIC mode).
    pub fn send_init(&self, apic_id: u32) -> bool {
        self.send(apic_id, ICR_INIT | ICR_ASSERT)
    }

    /// Sends STARTUP with `vector` to the core whose APIC id is `apic_id`, which then starts in
    /// real mode at physical address `vector << 12` (after an INIT). Returns whether the IPI was
    /// accepted.
    pub fn send_startup(&self, apic_id: u32, vector: u8) -> bool {
        self.send(apic_id, ICR_STARTUP | ICR_ASSERT | u32::from(vector))
    }

    /// Sends the fixed-delivery interrupt `vector` (32–255) to the core whose APIC id is
    /// `apic_id`. Returns whether the IPI was accepted.
    pub fn send_fixed(&self, apic_id: u32, vector: u8) -> bool {
        self.send(apic_id, ICR_FIXED | ICR_ASSERT | u32::from(vector))
    }

    /// Writes the ICR (physical destination, no shorthand, edge) and, in xAPIC mode, waits for
    /// the APIC to accept the IPI, before and after (a write while one is pending may be lost).
    fn send(&self, apic_id: u32, command: u32) -> bool {
        let x2apic = self.registers.is_x2apic();
        if !x2apic && !self.wait_for_delivery() {
            return false;
        }
        // xAPIC destinations are 8 bits: a larger id cannot be reached (and must not wrap).
        if !x2apic && apic_id > 0xff {
            return false;
        }
        self.registers.write_icr(apic_id, command);
        x2apic || self.wait_for_delivery()
    }

    /// xAPIC: polls the ICR's delivery-status bit until the last IPI was accepted; false if it
    /// stays pending for [`DELIVERY_POLLS`] reads.
    fn wait_for_delivery(&self) -> bool {
        for _ in 0..DELIVERY_POLLS {
            if self.registers.read(ICR_LOW) & ICR_PENDING == 0 {
                return true;
            }
            core::hint::spin_loop();
        }
        false
    }

    /// The version register (low byte: version; bits 16–23: the highest LVT index).
    pub fn version(&self) -> u32 {
        self.registers.read(VERSION)
    }

    /// The divided timer's rate in Hz (one-shot mode), measured on first use.
    pub fn timer_frequency(&self) -> u64 {
        let known = self.timer_hz.load(Ordering::Relaxed);
        if known != 0 {
            return known;
        }
        let measured = self.calibrate().max(1);
        self.timer_hz.store(measured, Ordering::Relaxed);
        measured
    }

    /// Counts the timer down, masked, for 1/200 s of the system clock.
    fn calibrate(&self) -> u64 {
        let r = &self.registers;
        let clock_hz = self.clock.frequency();
        let span = (clock_hz / CALIBRATION_DIVISOR).max(1);
        let lvt = r.read(LVT_TIMER);
        r.write(LVT_TIMER, self.timer_lvt(true));
        r.write(TIMER_INITIAL, u32::MAX);
        let start = self.clock.ticks();
        let mut now = start;
        while now.wrapping_sub(start) < span {
            core::hint::spin_loop();
            now = self.clock.ticks();
        }
        let counted = u32::MAX - r.read(TIMER_CURRENT);
        r.write(TIMER_INITIAL, 0);
        r.write(LVT_TIMER, lvt);
        let elapsed = now.wrapping_sub(start).max(1);
        (u128::from(counted) * u128::from(clock_hz) / u128::from(elapsed)) as u64
    }
}

impl<R: RegisterAccess> InterruptController for LocalApic<R> {
    fn enable(&self, irq: Irq) -> Result<(), InterruptError> {
        if irq.0 == u32::from(self.vectors.timer) {
            self.registers.write(LVT_TIMER, self.timer_lvt(false));
            Ok(())
        } else if irq.0 == u32::from(self.vectors.spurious) || irq.0 == u32::from(self.vectors.ipi)
        {
            Ok(())
        } else {
            Err(InterruptError::OutOfRange(irq))
        }
    }

    fn disable(&self, irq: Irq) -> Result<(), InterruptError> {
        if irq.0 == u32::from(self.vectors.timer) {
            self.registers.write(LVT_TIMER, self.timer_lvt(true));
            Ok(())
        } else if irq.0 == u32::from(self.vectors.spurious) || irq.0 == u32::from(self.vectors.ipi)
        {
            Ok(())
        } else {
            Err(InterruptError::OutOfRange(irq))
        }
    }

    /// The vector being handled; `None` for the spurious vector (no EOI) or outside a handler.
    fn claim(&self) -> Option<Irq> {
        let vector = (self.entered)()?;
        (vector != self.vectors.spurious).then_some(Irq(u32::from(vector)))
    }

    fn complete(&self, _irq: Irq) {
        self.registers.write(EOI, 0);
    }
}

impl<R: RegisterAccess> Alarm for LocalApic<R> {
    fn arm(&self, deadline: u64) {
        match self.mode {
            // 0 would disarm: a deadline of 0 has passed anyway, so 1 fires at once.
            TimerMode::TscDeadline => self.registers.write_tsc_deadline(deadline.max(1)),
            TimerMode::OneShot => {
                let timer_hz = self.timer_frequency();
                let wait = deadline.saturating_sub(self.clock.ticks());
                let count = u128::from(wait) * u128::from(timer_hz)
                    / u128::from(self.clock.frequency().max(1));
                let count = count.clamp(1, u128::from(u32::MAX)) as u32;
                self.registers.write(TIMER_INITIAL, count);
            }
        }
    }

    fn disarm(&self) {
        match self.mode {
            TimerMode::TscDeadline => self.registers.write_tsc_deadline(0),
            TimerMode::OneShot => self.registers.write(TIMER_INITIAL, 0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    /// A register block: writes are logged, reads come from `values` (0 by default); the
    /// current count drops by 1000 per read, like a running timer.
    #[derive(Default)]
    struct FakeRegisters {
        values: Mutex<std::collections::HashMap<u32, u32>>,
        log: Mutex<Vec<String>>,
        /// Reports x2APIC mode, and logs ICR writes as one `icr=destination:command` entry.
        x2apic: bool,
    }

    impl RegisterAccess for FakeRegisters {
        fn read(&self, index: u32) -> u32 {
            let mut values = self.values.lock().unwrap();
            let mut value = *values.get(&index).unwrap_or(&0);
            if index == TIMER_CURRENT {
                value = value.saturating_sub(1000);
                values.insert(index, value);
            }
            value
        }
        fn write(&self, index: u32, value: u32) {
            self.log.lock().unwrap().push(format!("{index:#x}={value:#x}"));
            self.values.lock().unwrap().insert(index, value);
            if index == TIMER_INITIAL {
                self.values.lock().unwrap().insert(TIMER_CURRENT, value);
            }
        }
        fn write_tsc_deadline(&self, deadline: u64) {
            self.log.lock().unwrap().push(format!("deadline={deadline}"));
        }
        fn is_x2apic(&self) -> bool {
            self.x2apic
        }
        fn write_icr(&self, destination: u32, command: u32) {
            if self.x2apic {
                self.log.lock().unwrap().push(format!("icr={destination:#x}:{command:#x}"));
            } else {
                // The default xAPIC sequence, through this fake's `write`.
                self.write(ICR_HIGH, destination << 24);
                self.write(ICR_LOW, command);
            }
        }
    }

    /// A 1 MHz clock advancing 100 ticks per read.
    struct FakeClock(AtomicU64);
    impl Clock for FakeClock {
        fn ticks(&self) -> u64 {
            self.0.fetch_add(100, Ordering::SeqCst)
        }
        fn frequency(&self) -> u64 {
            1_000_000
        }
    }

    const VECTORS: Vectors = Vectors { timer: 0xef, spurious: 0xff, ipi: 0xf0 };

    /// What the fake entry stub recorded: u32::MAX = no interrupt.
    static ENTERED: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(u32::MAX);
    fn entered() -> Option<u8> {
        u8::try_from(ENTERED.load(Ordering::SeqCst)).ok()
    }

    fn apic(mode: TimerMode) -> LocalApic<FakeRegisters> {
        apic_with(mode, FakeRegisters::default())
    }

    fn apic_with(mode: TimerMode, registers: FakeRegisters) -> LocalApic<FakeRegisters> {
        let clock: &'static FakeClock = Box::leak(Box::new(FakeClock(AtomicU64::new(0))));
        // SAFETY: a fake register block; no real APIC is touched.
        unsafe { LocalApic::new(registers, VECTORS, mode, clock, entered) }
    }

    fn x2apic() -> LocalApic<FakeRegisters> {
        apic_with(TimerMode::TscDeadline, FakeRegisters { x2apic: true, ..Default::default() })
    }

    #[test]
    fn id_is_the_top_byte_in_xapic_mode_and_the_whole_register_in_x2apic_mode() {
        let xapic = apic(TimerMode::TscDeadline);
        xapic.registers.values.lock().unwrap().insert(ID, 0x0300_0000);
        assert_eq!(xapic.id(), 3);
        let x2 = x2apic();
        x2.registers.values.lock().unwrap().insert(ID, 0x1234);
        assert_eq!(x2.id(), 0x1234);
    }

    #[test]
    fn xapic_ipis_write_the_destination_then_the_command() {
        let apic = apic(TimerMode::TscDeadline);
        log(&apic);
        assert!(apic.send_init(2));
        assert!(apic.send_startup(2, 0x08));
        assert!(apic.send_fixed(3, 0xf0));
        assert_eq!(
            log(&apic),
            [
                "0x31=0x2000000",
                "0x30=0x4500",
                "0x31=0x2000000",
                "0x30=0x4608",
                "0x31=0x3000000",
                "0x30=0x40f0"
            ]
        );
    }

    #[test]
    fn xapic_ipi_waits_for_delivery_and_refuses_wide_ids() {
        let apic = apic(TimerMode::TscDeadline);
        log(&apic);
        // Delivery status stuck at "pending": the IPI is not sent over it.
        apic.registers.values.lock().unwrap().insert(ICR_LOW, ICR_PENDING);
        assert!(!apic.send_fixed(1, 0xf0));
        assert!(log(&apic).is_empty());
        apic.registers.values.lock().unwrap().insert(ICR_LOW, 0);
        assert!(!apic.send_fixed(0x100, 0xf0), "xAPIC ids are 8 bits");
        assert!(log(&apic).is_empty());
    }

    #[test]
    fn x2apic_ipis_are_one_icr_write_with_the_full_id() {
        let apic = x2apic();
        log(&apic);
        assert!(apic.send_init(0x1_0002));
        assert!(apic.send_startup(0x1_0002, 0x08));
        assert!(apic.send_fixed(7, 0xf0));
        assert_eq!(log(&apic), ["icr=0x10002:0x4500", "icr=0x10002:0x4608", "icr=0x7:0x40f0"]);
    }

    #[test]
    fn init_this_core_repeats_the_set_up() {
        let apic = apic(TimerMode::OneShot);
        let first = log(&apic);
        // SAFETY: a fake register block.
        unsafe { apic.init_this_core() };
        assert_eq!(log(&apic), first);
    }

    fn log(apic: &LocalApic<FakeRegisters>) -> Vec<String> {
        std::mem::take(&mut *apic.registers.log.lock().unwrap())
    }

    #[test]
    fn init_enables_with_the_spurious_vector_and_masks_the_lines() {
        let apic = apic(TimerMode::TscDeadline);
        assert_eq!(
            log(&apic),
            [
                "0x8=0x0",
                "0x35=0x10000",
                "0x37=0x10000",
                "0x32=0x500ef",
                "0x38=0x0",
                "0x3e=0x3",
                "0xf=0x1ff"
            ]
        );
    }

    #[test]
    fn enable_and_disable_touch_only_the_timer_lvt() {
        let apic = apic(TimerMode::OneShot);
        log(&apic);
        assert_eq!(apic.enable(Irq(0xef)), Ok(()));
        assert_eq!(apic.enable(Irq(0xff)), Ok(()));
        assert_eq!(apic.enable(Irq(0xf0)), Ok(()), "the IPI vector has no LVT");
        assert_eq!(apic.disable(Irq(0xf0)), Ok(()));
        assert_eq!(apic.disable(Irq(0xef)), Ok(()));
        assert_eq!(apic.enable(Irq(0x30)), Err(InterruptError::OutOfRange(Irq(0x30))));
        assert_eq!(log(&apic), ["0x32=0xef", "0x32=0x100ef"]);
    }

    #[test]
    fn claim_is_the_entered_vector_and_complete_writes_eoi() {
        let apic = apic(TimerMode::TscDeadline);
        assert_eq!(apic.claim(), None, "outside a handler");
        ENTERED.store(0xff, Ordering::SeqCst);
        assert_eq!(apic.claim(), None, "spurious: no EOI");
        ENTERED.store(0xef, Ordering::SeqCst);
        assert_eq!(apic.claim(), Some(Irq(0xef)));
        ENTERED.store(u32::MAX, Ordering::SeqCst);
        log(&apic);
        apic.complete(Irq(0xef));
        assert_eq!(log(&apic), ["0xb=0x0"]);
    }

    #[test]
    fn tsc_deadline_alarm_writes_the_msr() {
        let apic = apic(TimerMode::TscDeadline);
        log(&apic);
        apic.arm(12345);
        apic.arm(0);
        apic.disarm();
        assert_eq!(log(&apic), ["deadline=12345", "deadline=1", "deadline=0"]);
    }

    #[test]
    fn one_shot_alarm_calibrates_once_and_converts() {
        let apic = apic(TimerMode::OneShot);
        log(&apic);
        // 1/200 s of the 1 MHz fake clock is 5000 ticks = 51 reads after the first; the timer
        // drops 1000 per read of the current count, read once: 1000 counts in 5000 us+.
        let hz = apic.timer_frequency();
        assert!((190_000..=200_000).contains(&hz), "{hz}");
        assert_eq!(apic.timer_frequency(), hz, "cached");
        log(&apic);
        let now = apic.clock.ticks();
        apic.arm(now + 100_000 + 100); // 0.1 s ahead, and the arm's own clock read
        let initial = apic.registers.values.lock().unwrap()[&TIMER_INITIAL];
        assert_eq!(u64::from(initial), hz / 10);
        apic.arm(0);
        assert_eq!(apic.registers.values.lock().unwrap()[&TIMER_INITIAL], 1, "passed: at once");
        apic.disarm();
        assert_eq!(apic.registers.values.lock().unwrap()[&TIMER_INITIAL], 0);
    }
}
