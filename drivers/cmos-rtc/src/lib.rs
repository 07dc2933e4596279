//! The PC's CMOS real-time clock (Motorola MC146818 and its descendants in every chipset), read
//! for the wall-clock time at boot.
//!
//! The RTC keeps the date in battery-backed registers behind an index port (0x70) and a data port
//! (0x71); the platform implements [`RegisterAccess`] over them, the host tests over a fake.
//! [`CmosRtc::read_time`] follows the datasheet (MC146818A, "Update cycle"): once a second the
//! chip spends up to ~2 ms updating the registers, announced 244 µs ahead by UIP (register A,
//! bit 7); a read during it can mix two seconds (59 s with the next minute). So it waits for UIP
//! to clear, reads every field, then checks that UIP is still clear and the seconds unchanged:
//! every update changes the seconds, so an update that overlapped the read either finished
//! (the seconds moved) or is still running (UIP set), and the read is retried. That is 11 port
//! reads when nothing overlaps, half of reading the whole date twice: each access is a VM exit
//! (~1 µs under KVM, ~25 µs under TCG, measured). Register B says how
//! the fields are encoded: BCD or binary (DM, bit 2) and 12- or 24-hour (bit 1; in 12-hour mode
//! bit 7 of the hour is PM). The century is register 0x32 (the ACPI FADT's default `CENTURY`
//! index, which QEMU and SeaBIOS keep) when it holds 19 to 29, else the year is taken to be 20xx.
//!
//! Weak spots: the clock is assumed to run in UTC (QEMU's default `-rtc base=utc`; a PC set to
//! local time by another OS will be off by its offset); only whole seconds are known, so the
//! reading is up to a second early; the century index is not taken from the FADT; a chip that
//! never clears UIP (no RTC: the ports read 0xff) costs one bounded wait, then an error.
#![cfg_attr(not(test), no_std)]
#![deny(unsafe_op_in_unsafe_fn)]
#![deny(clippy::undocumented_unsafe_blocks)]

use rivet_core::time::calendar::DateTime;

/// Reading the RTC's registers by index (0x00–0x7f). The platform implements it over the index
/// and data ports; the driver itself knows no CPU.
pub trait RegisterAccess {
    /// Reads register `index`.
    fn read(&self, index: u8) -> u8;
}

// Register indexes (MC146818A "Address map"; 0x32 by convention, see the module doc).
/// Seconds.
pub const SECONDS: u8 = 0x00;
/// Minutes.
pub const MINUTES: u8 = 0x02;
/// Hours (bit 7: PM, in 12-hour mode).
pub const HOURS: u8 = 0x04;
/// Day of the month.
pub const DAY: u8 = 0x07;
/// Month.
pub const MONTH: u8 = 0x08;
/// Year within the century.
pub const YEAR: u8 = 0x09;
/// Register A: UIP and the divider and rate selects.
pub const REGISTER_A: u8 = 0x0a;
/// Register B: SET, the interrupt enables, DM, 24/12, DSE.
pub const REGISTER_B: u8 = 0x0b;
/// The century (IBM PC/AT convention, ACPI FADT `CENTURY` default).
pub const CENTURY: u8 = 0x32;

/// Register A: update in progress.
const A_UIP: u8 = 0x80;
/// Register B: data mode binary (clear: BCD).
const B_BINARY: u8 = 0x04;
/// Register B: 24-hour mode (clear: 12-hour).
const B_24_HOUR: u8 = 0x02;
/// The hour's PM flag in 12-hour mode.
const HOUR_PM: u8 = 0x80;

/// Polls of register A while waiting for an update to end: it lasts at most 244 µs + 2 ms, and
/// a port access takes about a microsecond, so this is several updates long.
pub const UIP_POLLS: u32 = 20_000;
/// Reads of the whole date before giving up on one that no update overlapped.
pub const MAX_READS: u32 = 8;

/// Why the RTC gave no time.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Error {
    /// Register A reads 0xff: nothing answers at the ports (no RTC; `microvm` under KVM).
    NotPresent,
    /// UIP never cleared within [`UIP_POLLS`].
    Stuck,
    /// Each of [`MAX_READS`] reads overlapped an update.
    Unstable,
    /// The registers hold no valid date (bad BCD, month 13, 31 February …): a clock never set or
    /// a dead battery. The raw registers, for the message.
    Invalid(Raw),
}

impl core::fmt::Display for Error {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Error::NotPresent => f.write_str("no CMOS RTC answers at ports 0x70/0x71"),
            Error::Stuck => f.write_str("the CMOS RTC's update never ended (UIP stays set)"),
            Error::Unstable => f.write_str("every read of the CMOS RTC overlapped an update"),
            Error::Invalid(raw) => write!(f, "the CMOS RTC holds no valid date ({raw:02x?})"),
        }
    }
}

impl core::error::Error for Error {}

/// The date registers as read, undecoded.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Raw {
    /// Seconds, minutes, hours, day, month, year, century, register B.
    pub registers: [u8; 8],
}

/// A CMOS RTC behind `R`.
#[derive(Debug)]
pub struct CmosRtc<R> {
    registers: R,
}

impl<R: RegisterAccess> CmosRtc<R> {
    /// The RTC behind `registers` (whoever made them vouched for the ports).
    pub const fn new(registers: R) -> Self {
        Self { registers }
    }

    /// The date and time the RTC holds, to the second (see the module doc for how).
    pub fn read_time(&self) -> Result<DateTime, Error> {
        if self.registers.read(REGISTER_A) == 0xff {
            return Err(Error::NotPresent);
        }
        for _ in 0..MAX_READS {
            self.wait_for_update()?;
            let raw = self.snapshot();
            // Still no update running, and none finished since the seconds were read.
            if self.registers.read(REGISTER_A) & A_UIP == 0
                && self.registers.read(SECONDS) == raw.registers[0]
            {
                return decode(raw);
            }
        }
        Err(Error::Unstable)
    }

    fn wait_for_update(&self) -> Result<(), Error> {
        for _ in 0..UIP_POLLS {
            if self.registers.read(REGISTER_A) & A_UIP == 0 {
                return Ok(());
            }
            core::hint::spin_loop();
        }
        Err(Error::Stuck)
    }

    fn snapshot(&self) -> Raw {
        let r = &self.registers;
        Raw {
            registers: [
                r.read(SECONDS),
                r.read(MINUTES),
                r.read(HOURS),
                r.read(DAY),
                r.read(MONTH),
                r.read(YEAR),
                r.read(CENTURY),
                r.read(REGISTER_B),
            ],
        }
    }
}

/// A BCD byte's value, or `None` if a digit is above 9.
fn from_bcd(value: u8) -> Option<u8> {
    let (high, low) = (value >> 4, value & 0x0f);
    (high <= 9 && low <= 9).then_some(high * 10 + low)
}

/// Decodes the registers per register B (BCD or binary, 12- or 24-hour) into a date.
pub fn decode(raw: Raw) -> Result<DateTime, Error> {
    let [seconds, minutes, hours, day, month, year, century, b] = raw.registers;
    let invalid = Error::Invalid(raw);
    let field = |value: u8| {
        if b & B_BINARY != 0 {
            Some(value)
        } else {
            from_bcd(value)
        }
    };
    let pm = hours & HOUR_PM != 0;
    let mut hour = field(hours & !HOUR_PM).ok_or(invalid)?;
    if b & B_24_HOUR == 0 {
        // 12-hour mode: 12 AM is midnight, 12 PM noon.
        if !(1..=12).contains(&hour) {
            return Err(invalid);
        }
        hour = hour % 12 + if pm { 12 } else { 0 };
    } else if pm {
        return Err(invalid);
    }
    let year = field(year).filter(|&y| y < 100).ok_or(invalid)?;
    let century = field(century).filter(|c| (19..=29).contains(c)).unwrap_or(20);
    DateTime::new(
        i64::from(century) * 100 + i64::from(year),
        field(month).ok_or(invalid)?,
        field(day).ok_or(invalid)?,
        hour,
        field(minutes).ok_or(invalid)?,
        field(seconds).ok_or(invalid)?,
        0,
    )
    .ok_or(invalid)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::{Cell, RefCell};

    /// 128 bytes of CMOS; register A's UIP is set for the first `busy` reads of it, and the date
    /// registers switch to `next` after `switch_after` snapshots' worth of reads (a second tick).
    struct Fake {
        cmos: RefCell<[u8; 128]>,
        busy: Cell<u32>,
        reads: Cell<u32>,
        tick: Option<(u32, [u8; 128])>,
    }

    impl Fake {
        fn new(date: [u8; 8]) -> Self {
            Fake {
                cmos: RefCell::new(cmos(date)),
                busy: Cell::new(0),
                reads: Cell::new(0),
                tick: None,
            }
        }
    }

    /// A CMOS image with `date` (as in [`Raw`]) and register A = 0x26 (the usual divider and rate).
    fn cmos(date: [u8; 8]) -> [u8; 128] {
        let mut cmos = [0u8; 128];
        for (index, value) in
            [SECONDS, MINUTES, HOURS, DAY, MONTH, YEAR, CENTURY, REGISTER_B].into_iter().zip(date)
        {
            cmos[index as usize] = value;
        }
        cmos[REGISTER_A as usize] = 0x26;
        cmos
    }

    impl RegisterAccess for &Fake {
        fn read(&self, index: u8) -> u8 {
            self.reads.set(self.reads.get() + 1);
            if let Some((after, next)) = self.tick {
                if self.reads.get() == after {
                    *self.cmos.borrow_mut() = next;
                }
            }
            let value = self.cmos.borrow()[index as usize];
            if index == REGISTER_A && self.busy.get() > 0 {
                self.busy.set(self.busy.get() - 1);
                return value | A_UIP;
            }
            value
        }
    }

    /// BCD, 24-hour: register B = 0x02 (QEMU's default).
    const BCD_24: u8 = 0x02;

    #[test]
    fn reads_bcd_24_hour() {
        let fake = Fake::new([0x02, 0x48, 0x18, 0x27, 0x11, 0x26, 0x20, BCD_24]);
        fake.busy.set(5);
        let time = CmosRtc::new(&fake).read_time().unwrap();
        assert_eq!(time.to_string(), "2026-11-27 18:48:02");
    }

    #[test]
    fn reads_binary_12_hour() {
        // 11 PM and 12 AM / 12 PM.
        let pm = decode(Raw { registers: [2, 48, 0x80 | 11, 27, 11, 26, 20, B_BINARY] }).unwrap();
        assert_eq!(pm.to_string(), "2026-11-27 23:48:02");
        let midnight = decode(Raw { registers: [0, 0, 12, 1, 1, 0, 20, B_BINARY] }).unwrap();
        assert_eq!(midnight.to_string(), "2000-01-01 00:00:00");
        let noon = decode(Raw { registers: [0, 0, 0x80 | 0x12, 1, 1, 0, 0x20, 0] }).unwrap();
        assert_eq!(noon.to_string(), "2000-01-01 12:00:00");
        assert!(decode(Raw { registers: [0, 0, 0, 1, 1, 0, 20, B_BINARY] }).is_err(), "hour 0");
    }

    #[test]
    fn century_from_register_0x32_when_plausible() {
        let date = |century| Raw { registers: [0, 0, 0, 0x29, 0x02, 0x00, century, BCD_24] };
        assert_eq!(decode(date(0x20)).unwrap().to_string(), "2000-02-29 00:00:00");
        assert!(decode(date(0x21)).is_err(), "2100 is no leap year");
    }

    #[test]
    fn implausible_centuries_mean_20xx() {
        let date = |century| Raw { registers: [0, 0, 0, 0x01, 0x03, 0x38, century, BCD_24] };
        assert_eq!(decode(date(0x00)).unwrap().year(), 2038);
        assert_eq!(decode(date(0xff)).unwrap().year(), 2038);
        assert_eq!(decode(date(0x19)).unwrap().year(), 1938);
        assert_eq!(decode(date(0x30)).unwrap().year(), 2038);
    }

    #[test]
    fn invalid_dates_are_refused() {
        let raw = |registers| Raw { registers };
        for registers in [
            [0x5a, 0, 0, 1, 1, 0, 0x20, BCD_24],    // bad BCD
            [0x60, 0, 0, 1, 1, 0, 0x20, BCD_24],    // second 60
            [0, 0, 0, 0x31, 0x04, 0, 0x20, BCD_24], // 31 April
            [0, 0, 0x24, 1, 1, 0, 0x20, BCD_24],    // hour 24
            [0, 0, 0, 0, 1, 0, 0x20, BCD_24],       // day 0
            [0, 0, 0, 1, 0x13, 0, 0x20, BCD_24],    // month 13
        ] {
            assert_eq!(
                decode(raw(registers)),
                Err(Error::Invalid(raw(registers))),
                "{registers:x?}"
            );
        }
    }

    #[test]
    fn a_read_across_an_update_is_retried() {
        // The first snapshot sees 23:59:59 on 31 Dec 2025, then the clock ticks.
        let mut fake = Fake::new([0x59, 0x59, 0x23, 0x31, 0x12, 0x25, 0x20, BCD_24]);
        fake.tick = Some((6, cmos([0x00, 0x00, 0x00, 0x01, 0x01, 0x26, 0x20, BCD_24])));
        let time = CmosRtc::new(&fake).read_time().unwrap();
        assert_eq!(time.to_string(), "2026-01-01 00:00:00");
    }

    #[test]
    fn a_quiet_read_takes_twelve_port_reads() {
        let fake = Fake::new([0x02, 0x48, 0x18, 0x27, 0x11, 0x26, 0x20, BCD_24]);
        assert_eq!(CmosRtc::new(&fake).read_time().map(|t| t.second()), Ok(2));
        assert_eq!(fake.reads.get(), 12, "presence, wait, 8 registers, UIP, seconds");
    }

    #[test]
    fn an_update_starting_during_the_read_is_waited_out() {
        // UIP is set at the first check after a snapshot (read 11), then clear: retried once.
        struct Starting<'a>(&'a Fake);
        impl RegisterAccess for Starting<'_> {
            fn read(&self, index: u8) -> u8 {
                let value = (&self.0).read(index);
                if index == REGISTER_A && self.0.reads.get() == 11 {
                    return value | A_UIP;
                }
                value
            }
        }
        let fake = Fake::new([0x02, 0x48, 0x18, 0x27, 0x11, 0x26, 0x20, BCD_24]);
        assert_eq!(CmosRtc::new(Starting(&fake)).read_time().map(|t| t.minute()), Ok(48));
        assert_eq!(fake.reads.get(), 11 + 11);
    }

    #[test]
    fn every_read_overlapping_an_update_is_an_error() {
        let fake = Fake::new([0x02, 0x48, 0x18, 0x27, 0x11, 0x26, 0x20, BCD_24]);
        // Each snapshot's seconds change before the check.
        struct Ticking<'a>(&'a Fake);
        impl RegisterAccess for Ticking<'_> {
            fn read(&self, index: u8) -> u8 {
                let value = (&self.0).read(index);
                if index == SECONDS {
                    let mut cmos = self.0.cmos.borrow_mut();
                    cmos[SECONDS as usize] = (cmos[SECONDS as usize] + 1) % 0x10;
                }
                value
            }
        }
        assert_eq!(CmosRtc::new(Ticking(&fake)).read_time(), Err(Error::Unstable));
    }

    #[test]
    fn a_missing_rtc_costs_one_read() {
        let fake = Fake::new([0; 8]);
        fake.cmos.borrow_mut().fill(0xff);
        assert_eq!(CmosRtc::new(&fake).read_time(), Err(Error::NotPresent));
        assert_eq!(fake.reads.get(), 1);
    }

    #[test]
    fn a_stuck_update_is_bounded() {
        let fake = Fake::new([0; 8]);
        fake.busy.set(u32::MAX);
        assert_eq!(CmosRtc::new(&fake).read_time(), Err(Error::Stuck));
        assert_eq!(fake.reads.get(), 1 + UIP_POLLS);
    }
}
