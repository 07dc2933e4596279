//! I/O APIC driver: the chip that turns a PC's device interrupt lines into local APIC messages.
//!
//! An I/O APIC has a few dozen input pins (24 on the 82093AA and every QEMU machine); the ACPI
//! MADT or the MP table says at which global system interrupt (GSI) its first pin sits. Each pin
//! has a 64-bit redirection entry: the vector to deliver, the destination local APIC, edge or
//! level, active high or low, and a mask bit. [`IoApic::new`] reads the pin count from the
//! version register and masks every pin; the platform then programs the pins it routes
//! ([`IoApic::program`]) and masks / unmasks them as handlers come and go
//! ([`IoApic::set_masked`]). The end of an interrupt is the local APIC's business (its EOI is
//! broadcast to the I/O APICs, which clears a level-triggered pin's Remote IRR): nothing here.
//!
//! The chip has two registers in memory, IOREGSEL (offset 0x00: which internal register) and
//! IOWIN (offset 0x10: its value), so every access is a select-then-window pair that must not be
//! interleaved with another core's: the driver serialises the pairs with a spin lock. The register
//! access is a small trait ([`RegisterAccess`]) so the platform backs it with MMIO and the host
//! tests with a fake register file.
//!
//! Weak spots: the lock is not interrupt-safe. A caller that may also reach the driver from an
//! interrupt handler (core's `handle` masks an interrupt that has no handler) must mask
//! interrupts around its calls, as the PVH platform does. Physical destination mode only (8-bit
//! APIC ids: an x2APIC id above 255 needs interrupt remapping), fixed delivery only (no lowest
//! priority, NMI, SMI or ExtINT entries).
#![cfg_attr(not(test), no_std)]
#![deny(unsafe_op_in_unsafe_fn)]
#![deny(clippy::undocumented_unsafe_blocks)]

use spin::Mutex;

/// Reaching the two memory-mapped registers of one I/O APIC. Implemented by the platform.
///
/// # Implementation safety
/// Implementors access only that I/O APIC's IOREGSEL (offset 0x00) and IOWIN (offset 0x10),
/// with 32-bit accesses.
pub trait RegisterAccess: Sync {
    /// Writes IOREGSEL: which internal register IOWIN reads and writes next.
    fn select(&self, register: u8);
    /// Reads IOWIN.
    fn read_window(&self) -> u32;
    /// Writes IOWIN.
    fn write_window(&self, value: u32);
}

// Internal registers (82093AA datasheet §3.2).
/// IOAPICID: the chip's APIC id in bits 24–27.
pub const ID: u8 = 0x00;
/// IOAPICVER: version in bits 0–7, maximum redirection entry (pins - 1) in bits 16–23.
pub const VERSION: u8 = 0x01;
/// The first redirection entry's low word; entry `n` is `0x10 + 2n` (low) and `0x11 + 2n` (high).
pub const REDIRECTION_BASE: u8 = 0x10;

/// Redirection entry, low word: the mask bit.
const MASKED: u32 = 1 << 16;
/// Redirection entry, low word: level-triggered (0: edge).
const LEVEL: u32 = 1 << 15;
/// Redirection entry, low word: active low (0: active high).
const ACTIVE_LOW: u32 = 1 << 13;
/// Redirection entry, low word: the read-only bits (delivery status 12, Remote IRR 14).
const READ_ONLY: u32 = (1 << 12) | (1 << 14);
/// Most pins the register file can name (0x10 + 2 * 120 = 0xff is the last index).
const MAX_PINS: u32 = 120;

/// How a pin's signal is sampled.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Trigger {
    /// On a transition (ISA devices, the PIT, MSI-less virtio-mmio on microvm).
    Edge,
    /// While the line is asserted (PCI INTx): the pin waits for the EOI before delivering again.
    Level,
}

/// Which level of the line means "interrupt".
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Polarity {
    /// Active high (ISA).
    High,
    /// Active low (PCI).
    Low,
}

/// What a pin delivers, and to whom.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Redirection {
    /// The vector (32–254) the destination core enters.
    pub vector: u8,
    /// The destination core's local APIC id (physical destination mode).
    pub destination: u8,
    /// Edge or level.
    pub trigger: Trigger,
    /// Active high or low.
    pub polarity: Polarity,
    /// Whether the pin is masked.
    pub masked: bool,
}

impl Redirection {
    /// The entry's two words: (low, high).
    fn encode(&self) -> (u32, u32) {
        let mut low = u32::from(self.vector); // fixed delivery (0), physical destination (0)
        if self.trigger == Trigger::Level {
            low |= LEVEL;
        }
        if self.polarity == Polarity::Low {
            low |= ACTIVE_LOW;
        }
        if self.masked {
            low |= MASKED;
        }
        (low, u32::from(self.destination) << 24)
    }

    /// The entry the two words describe.
    fn decode(low: u32, high: u32) -> Self {
        Self {
            vector: low as u8,
            destination: (high >> 24) as u8,
            trigger: if low & LEVEL != 0 { Trigger::Level } else { Trigger::Edge },
            polarity: if low & ACTIVE_LOW != 0 { Polarity::Low } else { Polarity::High },
            masked: low & MASKED != 0,
        }
    }
}

/// Why a pin could not be programmed.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Error {
    /// The chip has no such pin.
    NoSuchPin(u32),
    /// Vectors 0–31 are the CPU's exceptions, and 255 is left to the spurious interrupt.
    BadVector(u8),
}

impl core::fmt::Display for Error {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Error::NoSuchPin(pin) => write!(f, "the I/O APIC has no pin {pin}"),
            Error::BadVector(vector) => write!(f, "vector {vector:#x} cannot be delivered"),
        }
    }
}

impl core::error::Error for Error {}

/// One I/O APIC.
pub struct IoApic<R: RegisterAccess> {
    registers: R,
    /// Serialises the IOREGSEL/IOWIN pairs.
    lock: Mutex<()>,
    /// Pins (maximum redirection entry + 1).
    pins: u32,
    /// The GSI of pin 0.
    gsi_base: u32,
}

impl<R: RegisterAccess> IoApic<R> {
    /// Takes over the I/O APIC behind `registers`, whose pin 0 is global system interrupt
    /// `gsi_base`: reads its pin count and masks every pin.
    ///
    /// # Safety
    /// 1. `registers` reach an I/O APIC (mapped as device memory), and nothing else programs it
    ///    while this value exists.
    pub unsafe fn new(registers: R, gsi_base: u32) -> Self {
        let mut apic = Self { registers, lock: Mutex::new(()), pins: 0, gsi_base };
        let max_entry = (apic.read(VERSION) >> 16) & 0xff;
        apic.pins = (max_entry + 1).min(MAX_PINS);
        apic.mask_all();
        apic
    }

    /// Reads internal register `register`.
    fn read(&self, register: u8) -> u32 {
        let _pair = self.lock.lock();
        self.registers.select(register);
        self.registers.read_window()
    }

    /// Writes internal register `register`.
    fn write(&self, register: u8, value: u32) {
        let _pair = self.lock.lock();
        self.registers.select(register);
        self.registers.write_window(value);
    }

    /// The chip's APIC id (IOAPICID bits 24–27).
    pub fn id(&self) -> u8 {
        ((self.read(ID) >> 24) & 0x0f) as u8
    }

    /// The version register's version byte (0x11 or 0x20 on the chips QEMU models).
    pub fn version(&self) -> u8 {
        self.read(VERSION) as u8
    }

    /// How many input pins the chip has (its maximum redirection entry + 1).
    pub fn pins(&self) -> u32 {
        self.pins
    }

    /// The global system interrupt of pin 0.
    pub fn gsi_base(&self) -> u32 {
        self.gsi_base
    }

    /// The pin that global system interrupt `gsi` arrives on, if it is this chip's.
    pub fn pin_of(&self, gsi: u32) -> Option<u32> {
        let pin = gsi.checked_sub(self.gsi_base)?;
        (pin < self.pins).then_some(pin)
    }

    /// Masks every pin (vector 0, edge, active high: the reset state, masked).
    pub fn mask_all(&self) {
        for pin in 0..self.pins {
            self.write_entry(pin, MASKED, 0);
        }
    }

    /// Programs pin `pin` with `entry`.
    pub fn program(&self, pin: u32, entry: Redirection) -> Result<(), Error> {
        self.check_pin(pin)?;
        if entry.vector < 32 || entry.vector == 0xff {
            return Err(Error::BadVector(entry.vector));
        }
        let (low, high) = entry.encode();
        self.write_entry(pin, low, high);
        Ok(())
    }

    /// Reads pin `pin`'s entry back.
    pub fn redirection(&self, pin: u32) -> Result<Redirection, Error> {
        self.check_pin(pin)?;
        let low = self.read(Self::low(pin));
        let high = self.read(Self::low(pin) + 1);
        Ok(Redirection::decode(low, high))
    }

    /// Masks or unmasks pin `pin`, leaving the rest of its entry as it is.
    pub fn set_masked(&self, pin: u32, masked: bool) -> Result<(), Error> {
        self.check_pin(pin)?;
        let _pair = self.lock.lock();
        self.registers.select(Self::low(pin));
        let low = self.registers.read_window() & !READ_ONLY;
        let low = if masked { low | MASKED } else { low & !MASKED };
        self.registers.select(Self::low(pin));
        self.registers.write_window(low);
        Ok(())
    }

    fn check_pin(&self, pin: u32) -> Result<(), Error> {
        if pin < self.pins {
            Ok(())
        } else {
            Err(Error::NoSuchPin(pin))
        }
    }

    /// The index of pin `pin`'s low word.
    fn low(pin: u32) -> u8 {
        REDIRECTION_BASE + 2 * pin as u8
    }

    /// Writes an entry so that it never fires half-written: masked low word first, then the
    /// high word (destination), then the real low word.
    fn write_entry(&self, pin: u32, low: u32, high: u32) {
        self.write(Self::low(pin), MASKED);
        self.write(Self::low(pin) + 1, high);
        self.write(Self::low(pin), low);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex as StdMutex;

    /// An I/O APIC's register file: IOREGSEL picks one of 256 words, IOWIN reads or writes it;
    /// every access is logged. The read-only bits of redirection entries keep their value.
    struct FakeApic {
        selected: StdMutex<u8>,
        words: StdMutex<[u32; 256]>,
        log: StdMutex<Vec<String>>,
    }

    impl FakeApic {
        fn with_pins(pins: u32) -> Self {
            let mut words = [0; 256];
            words[usize::from(ID)] = 0x0200_0000;
            words[usize::from(VERSION)] = ((pins - 1) << 16) | 0x20;
            Self {
                selected: StdMutex::new(0),
                words: StdMutex::new(words),
                log: Default::default(),
            }
        }
    }

    impl RegisterAccess for FakeApic {
        fn select(&self, register: u8) {
            *self.selected.lock().unwrap() = register;
        }
        fn read_window(&self) -> u32 {
            self.words.lock().unwrap()[usize::from(*self.selected.lock().unwrap())]
        }
        fn write_window(&self, value: u32) {
            let register = *self.selected.lock().unwrap();
            self.log.lock().unwrap().push(format!("{register:#x}={value:#x}"));
            let mut words = self.words.lock().unwrap();
            let word = &mut words[usize::from(register)];
            let keep = if register >= REDIRECTION_BASE && register.is_multiple_of(2) {
                READ_ONLY
            } else {
                0
            };
            *word = (*word & keep) | (value & !keep);
        }
    }

    fn apic(pins: u32, gsi_base: u32) -> IoApic<FakeApic> {
        // SAFETY: a fake register file; no hardware is touched.
        unsafe { IoApic::new(FakeApic::with_pins(pins), gsi_base) }
    }

    fn log(apic: &IoApic<FakeApic>) -> Vec<String> {
        std::mem::take(&mut *apic.registers.log.lock().unwrap())
    }

    #[test]
    fn new_reads_the_pin_count_and_masks_every_pin() {
        let apic = apic(24, 0);
        assert_eq!(apic.pins(), 24);
        assert_eq!(apic.version(), 0x20);
        assert_eq!(apic.id(), 2);
        let writes = log(&apic);
        assert_eq!(writes.len(), 24 * 3);
        assert_eq!(writes[..3], ["0x10=0x10000", "0x11=0x0", "0x10=0x10000"]);
        assert_eq!(writes[69..], ["0x3e=0x10000", "0x3f=0x0", "0x3e=0x10000"]);
        for pin in 0..24 {
            assert!(apic.redirection(pin).unwrap().masked, "pin {pin}");
        }
    }

    #[test]
    fn program_writes_destination_before_the_unmasked_low_word() {
        let apic = apic(24, 0);
        log(&apic);
        let entry = Redirection {
            vector: 0x32,
            destination: 3,
            trigger: Trigger::Edge,
            polarity: Polarity::High,
            masked: false,
        };
        assert_eq!(apic.program(2, entry), Ok(()));
        assert_eq!(log(&apic), ["0x14=0x10000", "0x15=0x3000000", "0x14=0x32"]);
        assert_eq!(apic.redirection(2), Ok(entry));

        let pci = Redirection {
            vector: 0x3b,
            destination: 0,
            trigger: Trigger::Level,
            polarity: Polarity::Low,
            masked: true,
        };
        assert_eq!(apic.program(11, pci), Ok(()));
        assert_eq!(log(&apic), ["0x26=0x10000", "0x27=0x0", "0x26=0x1a03b"]);
        assert_eq!(apic.redirection(11), Ok(pci));
    }

    #[test]
    fn set_masked_keeps_the_rest_of_the_entry_and_drops_read_only_bits() {
        let apic = apic(24, 0);
        let entry = Redirection {
            vector: 0x40,
            destination: 1,
            trigger: Trigger::Level,
            polarity: Polarity::High,
            masked: true,
        };
        apic.program(16, entry).unwrap();
        // Remote IRR and delivery status set by the "hardware".
        apic.registers.words.lock().unwrap()[0x30] |= READ_ONLY;
        log(&apic);
        assert_eq!(apic.set_masked(16, false), Ok(()));
        assert_eq!(apic.set_masked(16, true), Ok(()));
        assert_eq!(log(&apic), ["0x30=0x8040", "0x30=0x18040"]);
        assert_eq!(apic.redirection(16).unwrap().destination, 1);
    }

    #[test]
    fn pins_and_vectors_out_of_range_are_refused() {
        let apic = apic(24, 24);
        log(&apic);
        let entry = Redirection {
            vector: 0x30,
            destination: 0,
            trigger: Trigger::Edge,
            polarity: Polarity::High,
            masked: false,
        };
        assert_eq!(apic.program(24, entry), Err(Error::NoSuchPin(24)));
        assert_eq!(apic.set_masked(99, true), Err(Error::NoSuchPin(99)));
        assert_eq!(apic.redirection(24), Err(Error::NoSuchPin(24)));
        let exception = Redirection { vector: 14, ..entry };
        assert_eq!(apic.program(0, exception), Err(Error::BadVector(14)));
        let spurious = Redirection { vector: 0xff, ..entry };
        assert_eq!(apic.program(0, spurious), Err(Error::BadVector(0xff)));
        assert!(log(&apic).is_empty());
    }

    #[test]
    fn pin_of_maps_global_system_interrupts_to_this_chips_pins() {
        let apic = apic(24, 24);
        assert_eq!(apic.gsi_base(), 24);
        assert_eq!(apic.pin_of(23), None);
        assert_eq!(apic.pin_of(24), Some(0));
        assert_eq!(apic.pin_of(47), Some(23));
        assert_eq!(apic.pin_of(48), None);
    }

    #[test]
    fn a_chip_claiming_more_pins_than_registers_is_clamped() {
        let apic = apic(240, 0);
        assert_eq!(apic.pins(), MAX_PINS);
    }
}
