//! The TSC as Rivet's clock, with its frequency calibrated on first use.
//!
//! Reading the counter is one `rdtsc`, so the entry code can take a timestamp at the first
//! instruction and boot never waits for a calibration. The frequency is worked out the first time
//! someone asks for it ([`Clock::frequency`]), in this order:
//!
//! 0. Under Xen (HVM/PVH), Xen's CPUID leaf `base + 3` (the guest TSC frequency in kHz): exact
//!    and free; Xen gives such a guest no PIT to calibrate against.
//! 1. CPUID leaf 0x15 (TSC / crystal ratio and crystal frequency): exact, free, but only recent
//!    Intel CPUs and some hypervisors fill in all three numbers (QEMU's TCG does not).
//! 2. The PIT, channel 0 (ports 0x40/0x43), counting ~2 ms at 1.193182 MHz: accurate to ~0.1 %,
//!    costs 2 ms once, and needs a PIT. Channel 0 is used because channel 2 needs port 0x61,
//!    which `microvm` may not have. Under KVM each poll is a VM exit; that only makes the loop
//!    coarser. The PIT is left stopped afterwards (mode 0 with no count loaded), so it raises no
//!    interrupt later; whoever enables interrupts must still set up the PIC/IOAPIC first.
//! 3. CPUID leaf 0x16 (nominal base frequency in MHz): a rated figure, not a measurement.
//! 4. Otherwise 1 GHz, with a warning: time is then only roughly right.
//!
//! Weak spots: the TSC is assumed invariant (constant rate across P-states, which every CPU a
//! hypervisor exposes as "invariant TSC" guarantees; older hosts may drift), and per-core TSCs are
//! assumed synchronised. kvmclock/pvclock, which correct both, come with the interrupt work.

use core::sync::atomic::{AtomicU64, Ordering};
use rivet_core::time::Clock;
use x86_64::instructions::port::Port;

/// The system clock on x86_64: the time-stamp counter.
pub static COUNTER: Tsc = Tsc { frequency: AtomicU64::new(0) };

/// The time-stamp counter. Its frequency is calibrated on first use and then cached.
pub struct Tsc {
    /// Ticks per second, 0 until calibrated.
    frequency: AtomicU64,
}

/// Reads the time-stamp counter.
pub fn read_tsc() -> u64 {
    // SAFETY: `rdtsc` only reads a counter; CR4.TSD is clear (the entry code never sets it), so it
    // is allowed in ring 0 and cannot fault.
    unsafe { core::arch::x86_64::_rdtsc() }
}

impl Clock for Tsc {
    fn ticks(&self) -> u64 {
        read_tsc()
    }

    fn frequency(&self) -> u64 {
        let known = self.frequency.load(Ordering::Relaxed);
        if known != 0 {
            return known;
        }
        // Two cores racing here both calibrate and store similar figures: harmless.
        let measured = calibrate();
        self.frequency.store(measured, Ordering::Relaxed);
        measured
    }
}

/// Used when nothing can tell the TSC frequency.
const FALLBACK_HZ: u64 = 1_000_000_000;

fn calibrate() -> u64 {
    if let Some(hz) = from_xen_cpuid() {
        log::debug!("time: TSC at {hz} Hz (Xen's CPUID leaf)");
        return hz;
    }
    if let Some(hz) = from_cpuid_0x15() {
        log::debug!("time: TSC at {hz} Hz (CPUID 0x15)");
        return hz;
    }
    if let Some(hz) = from_pit() {
        log::debug!("time: TSC at {hz} Hz (calibrated against the PIT)");
        return hz;
    }
    if let Some(hz) = from_cpuid_0x16() {
        log::warn!("time: no PIT; TSC taken to run at its nominal {hz} Hz (CPUID 0x16)");
        return hz;
    }
    log::warn!("time: cannot tell the TSC frequency; assuming {FALLBACK_HZ} Hz");
    FALLBACK_HZ
}

/// Xen's guest TSC frequency (CPUID leaf `base + 3`, sub-leaf 0, ECX in kHz), under Xen.
fn from_xen_cpuid() -> Option<u64> {
    let base = super::xen_pv::xen_cpuid_base()?;
    if super::cpu::cpuid(base).eax < base + 3 {
        return None;
    }
    match super::cpu::cpuid(base + 3).ecx {
        0 => None,
        khz => Some(u64::from(khz) * 1000),
    }
}

fn max_basic_leaf() -> u32 {
    super::cpu::cpuid(0).eax
}

/// TSC Hz = crystal Hz × ebx / eax (Intel SDM vol. 2A, CPUID leaf 15H), when all three are given.
fn from_cpuid_0x15() -> Option<u64> {
    if max_basic_leaf() < 0x15 {
        return None;
    }
    let leaf = super::cpu::cpuid(0x15);
    let (denominator, numerator, crystal) = (leaf.eax as u64, leaf.ebx as u64, leaf.ecx as u64);
    if denominator == 0 || numerator == 0 || crystal == 0 {
        return None;
    }
    Some(crystal * numerator / denominator)
}

/// The processor base frequency in MHz (CPUID leaf 16H), taken as the TSC's.
fn from_cpuid_0x16() -> Option<u64> {
    if max_basic_leaf() < 0x16 {
        return None;
    }
    match super::cpu::cpuid(0x16).eax & 0xffff {
        0 => None,
        mhz => Some(mhz as u64 * 1_000_000),
    }
}

/// The PIT's input clock (the 14.31818 MHz NTSC crystal / 12).
const PIT_HZ: u64 = 1_193_182;
/// PIT ticks to measure over: ~2 ms.
const PIT_TICKS: u16 = (PIT_HZ / 500) as u16;
/// Polls in a row that may see the count unchanged before the PIT is declared absent. At least
/// a few hundred nanoseconds per poll (three port accesses), so far more than one PIT tick.
const PIT_STUCK_POLLS: u32 = 100_000;

/// PIT channel 0 and the mode/command port (Intel 8254 datasheet; OSDev "Programmable Interval
/// Timer").
struct Pit {
    channel0: Port<u8>,
    command: Port<u8>,
}

impl Pit {
    /// Command: channel 0, access low byte then high byte, mode 0 (interrupt on terminal count),
    /// binary counting.
    const MODE0_CHANNEL0: u8 = 0x30;
    /// Command: latch channel 0's count.
    const LATCH_CHANNEL0: u8 = 0x00;

    /// Starts channel 0 counting down from 0xffff: ~55 ms, far longer than the measurement.
    fn start(&mut self) {
        // SAFETY: the PIT's ports, which nothing else programs while interrupts are off.
        unsafe {
            self.command.write(Self::MODE0_CHANNEL0);
            self.channel0.write(0xff);
            self.channel0.write(0xff);
        }
    }

    /// Channel 0's current count.
    fn count(&mut self) -> u16 {
        // SAFETY: as in `start`; latching and reading the count only affects the PIT.
        unsafe {
            self.command.write(Self::LATCH_CHANNEL0);
            let low = self.channel0.read();
            let high = self.channel0.read();
            u16::from_le_bytes([low, high])
        }
    }

    /// The count and the TSC at the moment it was latched (the midpoint of the reads around it).
    fn sample(&mut self) -> (u16, u64) {
        let before = read_tsc();
        let count = self.count();
        let after = read_tsc();
        (count, before + (after - before) / 2)
    }

    /// Stops channel 0 with its output low: a mode word without a count. No interrupt edge later.
    fn stop(&mut self) {
        // SAFETY: as in `start`.
        unsafe { self.command.write(Self::MODE0_CHANNEL0) };
    }
}

/// Counts the TSC across ~2 ms of PIT channel 0.
fn from_pit() -> Option<u64> {
    let mut pit = Pit { channel0: Port::new(0x40), command: Port::new(0x43) };
    pit.start();
    let (start_count, start_tsc) = pit.sample();
    let mut last = start_count;
    let mut unchanged = 0;
    let result = loop {
        let (count, tsc) = pit.sample();
        let elapsed = start_count.wrapping_sub(count);
        if elapsed >= PIT_TICKS {
            break Some((tsc - start_tsc) as u128 * PIT_HZ as u128 / elapsed as u128);
        }
        if count == last {
            unchanged += 1;
            if unchanged > PIT_STUCK_POLLS {
                break None; // no PIT: the ports float (0xffff) or the counter never moves
            }
        } else {
            unchanged = 0;
            last = count;
        }
    };
    pit.stop();
    result.and_then(|hz| u64::try_from(hz).ok()).filter(|&hz| hz > 0)
}
