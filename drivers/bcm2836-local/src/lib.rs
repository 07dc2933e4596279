//! BCM2836 ARM-local interrupt controller (Pi 2/3): per-core timer interrupts and mailboxes.
//!
//! The Raspberry Pi 2 and 3 (BCM2836, BCM2837) have no GIC. Each core's generic-timer
//! interrupts and four mailboxes per core are routed to that core's IRQ line by the "ARM local
//! peripherals" block at 0x4000_0000 (DTB `brcm,bcm2836-l1-intc`). Register names and bits
//! follow Broadcom's *BCM2836 ARM-local peripherals* (QA7, rev 3.4) and Linux's
//! `irq-bcm2836.h`, so grep finds them in both.
//!
//! Interrupt numbers ([`Irq`]) are the bits of a core's IRQ source register: 0–3 the generic
//! timer's CNTPS, CNTPNS, CNTHP and CNTV interrupts ([`CNTVIRQ`] is the virtual timer), 4–7
//! mailboxes 0–3 ([`MAILBOX0`] is the reschedule IPI). Everything is per core: `enable`,
//! `disable` and `claim` act on the calling core's registers. The block cannot tell which core
//! reads it, so the platform passes a function returning the calling core's number (MPIDR
//! Aff0 on a Pi), as `rivet-gic` takes its ICC accessors: the crate stays free of `asm!`.
//!
//! A mailbox raises its core's interrupt while any of its 32 bits is set; writing the set
//! register ORs bits in, writing the read/clear register clears the bits written. [`claim`]
//! clears the mailbox bits it read before the handler runs (Linux acknowledges its IPIs the same
//! way), so a second IPI sent while the first is handled raises the line again instead of being
//! wiped by a late clear.
//!
//! Non-goals for now: FIQs; the GPU interrupt (bit 8: the BCM2835 "armctrl" controller's
//! output, for peripherals), the PMU (bit 9), AXI (bit 10) and the block's own local timer (bit
//! 11), which `enable` refuses and `claim` never returns; the core timer prescaler (0x08) and
//! control register (0x00), which firmware sets and which only change the counter's rate,
//! which CNTFRQ_EL0 reports anyway.
//!
//! Weak spots: the timer and mailbox interrupt-control registers are read-modify-written
//! without a lock — safe because each core only touches its own (the boot core's `init` runs
//! before the others start); a core number of 4 or more (not a BCM2836/7) makes `enable` fail
//! and `claim` see nothing.
//!
//! [`claim`]: InterruptController::claim
#![cfg_attr(not(test), no_std)]
#![deny(unsafe_op_in_unsafe_fn)]
#![deny(clippy::undocumented_unsafe_blocks)]

use core::sync::atomic::{fence, Ordering};
use rivet_core::interrupt::{InterruptController, InterruptError, Irq};
use tock_registers::interfaces::{Readable, Writeable};

/// The register block, named after QA7 §4 (offsets from the block's base).
// Register names are the datasheet's upper-case ones, so grep finds them there.
#[allow(missing_docs, non_snake_case)]
pub mod registers {
    use tock_registers::register_structs;
    use tock_registers::registers::{ReadOnly, ReadWrite, WriteOnly};

    register_structs! {
        /// The ARM-local peripherals (QA7 §4.1, "Register overview").
        pub Registers {
            (0x00 => pub CONTROL: ReadWrite<u32>),
            (0x04 => _reserved0),
            (0x08 => pub CORE_TIMER_PRESCALER: ReadWrite<u32>),
            (0x0c => pub GPU_INTERRUPTS_ROUTING: ReadWrite<u32>),
            (0x10 => _reserved1),
            (0x34 => pub LOCAL_TIMER_CONTROL: ReadWrite<u32>),
            (0x38 => _reserved2),
            /// Per core: bits 0–3 route CNTPS/CNTPNS/CNTHP/CNTV to IRQ, bits 4–7 to FIQ.
            (0x40 => pub CORE_TIMERS_INTERRUPT_CONTROL: [ReadWrite<u32>; 4]),
            /// Per core: bits 0–3 route mailboxes 0–3 to IRQ, bits 4–7 to FIQ.
            (0x50 => pub CORE_MAILBOXES_INTERRUPT_CONTROL: [ReadWrite<u32>; 4]),
            /// Per core: the pending IRQ sources (bit numbers as in the crate docs).
            (0x60 => pub CORE_IRQ_SOURCE: [ReadOnly<u32>; 4]),
            (0x70 => pub CORE_FIQ_SOURCE: [ReadOnly<u32>; 4]),
            /// Core c's mailbox n at index 4c + n: writing ORs bits in.
            (0x80 => pub CORE_MAILBOX_WRITE_SET: [WriteOnly<u32>; 16]),
            /// Core c's mailbox n at index 4c + n: reads the mailbox; writing clears bits.
            (0xc0 => pub CORE_MAILBOX_READ_CLEAR: [ReadWrite<u32>; 16]),
            (0x100 => @END),
        }
    }
}

use registers::Registers;

/// The size of the register block, to map as Device memory.
pub const SIZE: u64 = 0x100;

/// Cores the block serves.
pub const CORES: usize = 4;

/// The generic timer's secure physical timer interrupt (IRQ source bit 0).
pub const CNTPSIRQ: Irq = Irq(0);
/// The generic timer's non-secure physical timer interrupt (bit 1).
pub const CNTPNSIRQ: Irq = Irq(1);
/// The generic timer's hypervisor timer interrupt (bit 2).
pub const CNTHPIRQ: Irq = Irq(2);
/// The generic timer's virtual timer interrupt (bit 3).
pub const CNTVIRQ: Irq = Irq(3);
/// Mailbox 0's interrupt (bit 4), which [`Bcm2836Local::send_ipi`] raises. Mailboxes 1–3 are
/// `Irq(5)` to `Irq(7)`.
pub const MAILBOX0: Irq = Irq(4);

/// The IRQ source bits this driver routes: the four timers and the four mailboxes.
const ROUTED: u32 = 0xff;

/// Where an interrupt number is enabled: which control register, which bit.
#[derive(Clone, Copy)]
enum Source {
    Timer(u32),
    Mailbox(u32),
}

fn source(irq: Irq) -> Result<Source, InterruptError> {
    match irq.0 {
        n @ 0..=3 => Ok(Source::Timer(1 << n)),
        n @ 4..=7 => Ok(Source::Mailbox(1 << (n - 4))),
        _ => Err(InterruptError::OutOfRange(irq)),
    }
}

/// The ARM-local interrupt controller, driven from whichever core calls it.
pub struct Bcm2836Local {
    registers: &'static Registers,
    /// The calling core's number (0–3).
    this_core: fn() -> usize,
}

impl Bcm2836Local {
    /// Takes over the block whose registers are at `base`. `this_core` returns the number of
    /// the core calling it (MPIDR_EL1.Aff0 on a BCM2836/7). Nothing is written yet:
    /// [`Bcm2836Local::init`] does that.
    ///
    /// # Safety
    ///
    /// 1. `base` points at the ARM-local register block ([`SIZE`] bytes), mapped as Device
    ///    memory for `'static`.
    /// 2. Nothing else programs the block's interrupt routing or mailboxes.
    pub unsafe fn new(base: *mut u8, this_core: fn() -> usize) -> Self {
        // SAFETY: obligation 1: `base` points at the block, mapped for 'static; the register
        // types are interior-mutable MMIO cells, so a shared reference is sound.
        let registers = unsafe { &*(base as *const Registers) };
        Self { registers, this_core }
    }

    /// Routes nothing to any core and empties every mailbox, so nothing left by firmware fires.
    /// Run once on the boot core, before the others start; interrupts then stay off one by one
    /// until [`InterruptController::enable`].
    pub fn init(&self) {
        let r = self.registers;
        for core in 0..CORES {
            r.CORE_TIMERS_INTERRUPT_CONTROL[core].set(0);
            r.CORE_MAILBOXES_INTERRUPT_CONTROL[core].set(0);
        }
        for mailbox in &r.CORE_MAILBOX_READ_CLEAR {
            mailbox.set(u32::MAX);
        }
    }

    /// Brings up the calling core's part, after [`Bcm2836Local::init`] ran on the boot core:
    /// its timer and mailbox interrupts off and its mailboxes empty, then `sources` enabled.
    pub fn init_this_core(&self, sources: &[Irq]) -> Result<(), InterruptError> {
        let r = self.registers;
        let core = self.core().ok_or(InterruptError::OutOfRange(MAILBOX0))?;
        r.CORE_TIMERS_INTERRUPT_CONTROL[core].set(0);
        r.CORE_MAILBOXES_INTERRUPT_CONTROL[core].set(0);
        for mailbox in &r.CORE_MAILBOX_READ_CLEAR[core * 4..core * 4 + 4] {
            mailbox.set(u32::MAX);
        }
        sources.iter().try_for_each(|&irq| self.enable(irq))
    }

    /// The calling core's number, as `this_core` reports it (`None` beyond [`CORES`]).
    pub fn this_core(&self) -> Option<usize> {
        self.core()
    }

    /// Raises mailbox 0 ([`MAILBOX0`]) of `core`, the reschedule IPI. The caller's earlier
    /// memory writes are visible to `core` before the interrupt is (a full fence first, as
    /// Linux's `smp_wmb` before its mailbox write). A core number beyond [`CORES`] is ignored.
    pub fn send_ipi(&self, core: usize) {
        if let Some(mailbox) = self.registers.CORE_MAILBOX_WRITE_SET.get(core * 4) {
            fence(Ordering::SeqCst);
            mailbox.set(1);
        }
    }

    fn core(&self) -> Option<usize> {
        let core = (self.this_core)();
        (core < CORES).then_some(core)
    }

    /// Sets (`on`) or clears the bit of `irq` in the calling core's control registers.
    fn route(&self, irq: Irq, on: bool) -> Result<(), InterruptError> {
        let source = source(irq)?;
        let core = self.core().ok_or(InterruptError::OutOfRange(irq))?;
        let r = self.registers;
        let (register, bit) = match source {
            Source::Timer(bit) => (&r.CORE_TIMERS_INTERRUPT_CONTROL[core], bit),
            Source::Mailbox(bit) => (&r.CORE_MAILBOXES_INTERRUPT_CONTROL[core], bit),
        };
        // The FIQ bits (7:4) override the IRQ ones: keep them clear.
        let value = register.get() & 0xf;
        register.set(if on { value | bit } else { value & !bit });
        Ok(())
    }
}

// SAFETY: the registers are MMIO cells; every access is a single volatile load or store. The
// read-modify-writes of the control registers only touch the calling core's own register (the
// weak spot named in the header); the mailboxes are set and cleared by single writes.
unsafe impl Sync for Bcm2836Local {}
// SAFETY: as for `Sync`: the reference is to device registers, not thread-local data.
unsafe impl Send for Bcm2836Local {}

impl InterruptController for Bcm2836Local {
    fn enable(&self, irq: Irq) -> Result<(), InterruptError> {
        self.route(irq, true)
    }

    fn disable(&self, irq: Irq) -> Result<(), InterruptError> {
        self.route(irq, false)
    }

    /// The lowest pending timer or mailbox source of the calling core. A mailbox's bits are
    /// cleared here, before its handler runs (see the crate docs); a timer's line stays up
    /// until its handler disarms the timer.
    fn claim(&self) -> Option<Irq> {
        let core = self.core()?;
        let r = self.registers;
        let pending = r.CORE_IRQ_SOURCE[core].get() & ROUTED;
        if pending == 0 {
            return None;
        }
        let bit = pending.trailing_zeros();
        if let Source::Mailbox(mask) = source(Irq(bit)).ok()? {
            let mailbox = &r.CORE_MAILBOX_READ_CLEAR[core * 4 + mask.trailing_zeros() as usize];
            mailbox.set(mailbox.get());
        }
        Some(Irq(bit))
    }

    /// Nothing to do: level-triggered timers drop their line when disarmed, and mailboxes were
    /// emptied at [`claim`](InterruptController::claim).
    fn complete(&self, _: Irq) {}
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    thread_local! {
        /// The core the fake `this_core` reports, per test thread.
        static CORE: Cell<usize> = const { Cell::new(0) };
    }

    fn this_core() -> usize {
        CORE.with(Cell::get)
    }

    /// Word index of a register offset in the fake block.
    const fn at(offset: usize) -> usize {
        offset / 4
    }

    /// Zeroed RAM standing in for the register block (not MMIO: what the driver writes stays
    /// there to be checked, and write-1-to-clear registers just keep the written value).
    fn fake() -> (*mut u32, Bcm2836Local) {
        let block = Vec::leak(vec![0u32; SIZE as usize / 4]).as_mut_ptr();
        // SAFETY: the fake is as large as the register block and leaked ('static); only this
        // test uses it.
        let local = unsafe { Bcm2836Local::new(block.cast(), this_core) };
        (block, local)
    }

    fn read(block: *mut u32, offset: usize) -> u32 {
        // SAFETY: `offset` lies inside the leaked fake block.
        unsafe { block.add(at(offset)).read_volatile() }
    }

    fn write(block: *mut u32, offset: usize, value: u32) {
        // SAFETY: as in `read`.
        unsafe { block.add(at(offset)).write_volatile(value) }
    }

    #[test]
    fn init_routes_nothing_and_empties_mailboxes() {
        let (block, local) = fake();
        for core in 0..CORES {
            write(block, 0x40 + 4 * core, 0xff);
            write(block, 0x50 + 4 * core, 0xff);
        }
        local.init();
        for core in 0..CORES {
            assert_eq!(read(block, 0x40 + 4 * core), 0, "timer control, core {core}");
            assert_eq!(read(block, 0x50 + 4 * core), 0, "mailbox control, core {core}");
        }
        for mailbox in 0..16 {
            assert_eq!(read(block, 0xc0 + 4 * mailbox), u32::MAX, "mailbox {mailbox} cleared");
        }
    }

    #[test]
    fn enable_and_disable_act_on_the_calling_core() {
        let (block, local) = fake();
        CORE.with(|c| c.set(2));
        write(block, 0x48, 0x80); // a FIQ bit left by firmware
        assert_eq!(local.enable(CNTVIRQ), Ok(()));
        assert_eq!(local.enable(MAILBOX0), Ok(()));
        assert_eq!(read(block, 0x48), 1 << 3, "core 2's timer control: CNTV to IRQ, no FIQ");
        assert_eq!(read(block, 0x58), 1, "core 2's mailbox control: mailbox 0 to IRQ");
        assert_eq!(read(block, 0x40), 0, "core 0 untouched");
        assert_eq!(local.enable(Irq(8)), Err(InterruptError::OutOfRange(Irq(8))), "GPU");
        assert_eq!(local.disable(CNTVIRQ), Ok(()));
        assert_eq!(read(block, 0x48), 0);
        CORE.with(|c| c.set(4));
        assert_eq!(local.enable(CNTVIRQ), Err(InterruptError::OutOfRange(CNTVIRQ)));
        assert_eq!(local.claim(), None);
        assert_eq!(local.this_core(), None);
    }

    #[test]
    fn init_this_core() {
        let (block, local) = fake();
        CORE.with(|c| c.set(1));
        write(block, 0x44, 0xff);
        assert_eq!(local.init_this_core(&[CNTVIRQ, MAILBOX0]), Ok(()));
        assert_eq!((read(block, 0x44), read(block, 0x54)), (1 << 3, 1));
        assert_eq!(read(block, 0xd0), u32::MAX, "core 1's mailbox 0 cleared");
        assert_eq!(read(block, 0xc0), 0, "core 0's mailboxes untouched");
        assert_eq!(local.init_this_core(&[Irq(11)]), Err(InterruptError::OutOfRange(Irq(11))));
    }

    #[test]
    fn claim_timer_then_mailbox() {
        let (block, local) = fake();
        CORE.with(|c| c.set(3));
        write(block, 0x6c, 1 << 3 | 1 << 4 | 1 << 8); // core 3: CNTV, mailbox 0, GPU
        write(block, 0xf0, 0b101); // core 3's mailbox 0 holds two bits
        assert_eq!(local.claim(), Some(CNTVIRQ), "the lowest source first");
        assert_eq!(read(block, 0xf0), 0b101, "a timer claim leaves the mailbox alone");
        local.complete(CNTVIRQ);
        write(block, 0x6c, 1 << 4 | 1 << 8);
        assert_eq!(local.claim(), Some(MAILBOX0));
        // RAM keeps the write: the clear register was written with the bits read.
        assert_eq!(read(block, 0xf0), 0b101, "mailbox 0 cleared with the bits it held");
        write(block, 0x6c, 1 << 8);
        assert_eq!(local.claim(), None, "the GPU interrupt is not routed by this driver");
    }

    #[test]
    fn send_ipi() {
        let (block, local) = fake();
        local.send_ipi(2);
        assert_eq!(read(block, 0xa0), 1, "core 2's mailbox 0 write-set");
        local.send_ipi(4);
        for mailbox in 0..16 {
            let expected = u32::from(mailbox == 8);
            assert_eq!(read(block, 0x80 + 4 * mailbox), expected, "mailbox set {mailbox}");
        }
    }
}
