//! The wall clock under UEFI: the runtime services' `GetTime`, asked once while boot services
//! still run (the firmware's own RTC driver: the PL031 on QEMU `virt`, the CMOS RTC on a PC,
//! the platform's on a Graviton), recorded once the kernel's clock is installed.
//!
//! The counter is read with the reading and kept as an offset from the entry's read: if the
//! firmware ran at EL2, the entry code later folds the old CNTVOFF_EL2 into `entry_ticks`, and
//! the offset follows it.
//!
//! Weak spots: `TimeZone` changed sign between UEFI versions (2.6 and earlier: local = UTC −
//! TimeZone; 2.7 on: local = UTC + TimeZone); the later reading is taken, and
//! EFI_UNSPECIFIED_TIMEZONE (AAVMF's answer) is taken as UTC. Firmware that lets the RTC keep
//! local time with an unspecified zone (as Windows PCs do) will be off by the local offset.

use super::firmware::{EfiTime, Firmware, Status};
use rivet_core::time::calendar::DateTime;
use rivet_core::time::{set_wall_clock, Clock, WallClock};
use spin::Once;

/// EFI_UNSPECIFIED_TIMEZONE.
const UNSPECIFIED_TIME_ZONE: i16 = 0x7ff;

/// What GetTime said: Unix nanoseconds and the counter's ticks after entry, or why it failed.
static READING: Once<Result<(i128, u64), Problem>> = Once::new();

#[derive(Clone, Copy, Debug)]
enum Problem {
    Failed(Status),
    Invalid(EfiTime),
}

/// Asks the firmware for the time. `entry_ticks` is the counter at the image's entry, as the
/// firmware phase sees it.
pub(super) fn read(firmware: &Firmware, entry_ticks: u64) {
    let time = firmware.time();
    let ticks = rivet_arch::time::COUNTER.ticks().wrapping_sub(entry_ticks);
    READING.call_once(|| match time {
        Ok(time) => unix_nanos(&time).map(|nanos| (nanos, ticks)).ok_or(Problem::Invalid(time)),
        Err(status) => Err(Problem::Failed(status)),
    });
}

/// Records the wall clock read by [`read`], `entry_ticks` being the corrected entry counter the
/// continuation gets. Logs why there is none.
pub(super) fn record(entry_ticks: u64) {
    match READING.get() {
        Some(Ok((unix_nanos, after_entry))) => set_wall_clock(WallClock {
            source: "uefi",
            unix_nanos: *unix_nanos,
            ticks: entry_ticks.wrapping_add(*after_entry),
        }),
        Some(Err(Problem::Failed(status))) => {
            log::warn!("time: UEFI GetTime failed ({status:#x}); no wall clock")
        }
        Some(Err(Problem::Invalid(time))) => {
            log::warn!("time: UEFI GetTime gave no valid date ({time:?}); no wall clock")
        }
        None => {}
    }
}

/// The EFI_TIME as Unix nanoseconds (UTC), if it is a valid date and zone.
fn unix_nanos(time: &EfiTime) -> Option<i128> {
    let local = DateTime::new(
        i64::from(time.year),
        time.month,
        time.day,
        time.hour,
        time.minute,
        time.second,
        time.nanosecond,
    )?;
    let offset_minutes = match time.time_zone {
        UNSPECIFIED_TIME_ZONE => 0,
        zone @ -1440..=1440 => i128::from(zone),
        _ => return None,
    };
    Some(local.unix_nanos() - offset_minutes * 60 * 1_000_000_000)
}
