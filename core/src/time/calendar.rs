//! The proleptic Gregorian calendar in UTC: civil dates ↔ days since 1970-01-01, and a
//! [`DateTime`] for what real-time clocks report and what people read.
//!
//! [`days_from_civil`] and [`civil_from_days`] are Howard Hinnant's algorithms ("chrono-Compatible
//! Low-Level Date Algorithms", <https://howardhinnant.github.io/date_algorithms.html>, public
//! domain): eras of 400 years (146 097 days) with the year starting on 1 March, so the leap day
//! is the last day of the shifted year and no table is needed. Exact for every `i64` day count
//! this module accepts (years ±2^32 or so; far beyond any clock).
//!
//! Weak spots: no leap seconds (as Unix time has none: 23:59:60 is refused by
//! [`DateTime::new`]), no time zones (every device Rivet reads is set to UTC, or its offset is
//! applied by the driver).

use core::fmt;

/// Seconds in a day.
pub const SECONDS_PER_DAY: i64 = 86_400;

/// Whether `year` has a 29 February (every 4th year, but not every 100th, but every 400th).
pub const fn is_leap_year(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

/// Days in `month` (1–12) of `year`; 0 for a month out of range.
pub const fn days_in_month(year: i64, month: u8) -> u8 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap_year(year) => 29,
        2 => 28,
        _ => 0,
    }
}

/// Days from 1970-01-01 to `year`-`month`-`day` (negative before it). `month` is 1–12 and `day`
/// 1–31; an invalid date (31 April) counts on into the next month, as the algorithm does.
pub const fn days_from_civil(year: i64, month: u8, day: u8) -> i64 {
    let (month, day) = (month as i64, day as i64);
    // The year starts on 1 March: January and February belong to the year before.
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400; // 0..=399
    let day_of_year = (153 * ((month + 9) % 12) + 2) / 5 + day - 1; // 0..=365, from 1 March
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    // 719 468 days from 0000-03-01 to 1970-01-01.
    era * 146_097 + day_of_era - 719_468
}

/// The civil date (year, month 1–12, day 1–31) `days` after 1970-01-01.
pub const fn civil_from_days(days: i64) -> (i64, u8, u8) {
    let days = days + 719_468;
    let era = days.div_euclid(146_097);
    let day_of_era = days - era * 146_097; // 0..=146_096
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153; // 0 = March
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 { shifted_month + 3 } else { shifted_month - 9 };
    let year = year_of_era + era * 400 + if month <= 2 { 1 } else { 0 };
    (year, month as u8, day as u8)
}

/// A moment in UTC, to the nanosecond: what an RTC reports (to the second) and what is printed.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct DateTime {
    year: i64,
    month: u8,
    day: u8,
    hour: u8,
    minute: u8,
    second: u8,
    nanosecond: u32,
}

impl DateTime {
    /// The moment, if every field is in range: month 1–12, day within the month, hour 0–23,
    /// minute and second 0–59, nanosecond below 10^9, year within ±10^9.
    pub const fn new(
        year: i64,
        month: u8,
        day: u8,
        hour: u8,
        minute: u8,
        second: u8,
        nanosecond: u32,
    ) -> Option<Self> {
        let valid = year.unsigned_abs() <= 1_000_000_000
            && month >= 1
            && month <= 12
            && day >= 1
            && day <= days_in_month(year, month)
            && hour < 24
            && minute < 60
            && second < 60
            && nanosecond < 1_000_000_000;
        if valid {
            Some(Self { year, month, day, hour, minute, second, nanosecond })
        } else {
            None
        }
    }

    /// The moment `nanos` nanoseconds after 1970-01-01 00:00:00 UTC (before it if negative).
    pub const fn from_unix_nanos(nanos: i128) -> Self {
        let seconds = nanos.div_euclid(1_000_000_000);
        let nanosecond = nanos.rem_euclid(1_000_000_000) as u32;
        // An i128 of nanoseconds is at most ~1.7e29 s, ~5e21 days: clamp to the years `new`
        // accepts rather than overflow (no clock gets there).
        let limit = 365_250_000_000 * SECONDS_PER_DAY as i128;
        let seconds = if seconds > limit {
            limit
        } else if seconds < -limit {
            -limit
        } else {
            seconds
        } as i64;
        let days = seconds.div_euclid(SECONDS_PER_DAY);
        let in_day = seconds.rem_euclid(SECONDS_PER_DAY);
        let (year, month, day) = civil_from_days(days);
        Self {
            year,
            month,
            day,
            hour: (in_day / 3600) as u8,
            minute: (in_day / 60 % 60) as u8,
            second: (in_day % 60) as u8,
            nanosecond,
        }
    }

    /// Nanoseconds since 1970-01-01 00:00:00 UTC (negative before it).
    pub const fn unix_nanos(&self) -> i128 {
        let days = days_from_civil(self.year, self.month, self.day);
        let seconds = days * SECONDS_PER_DAY
            + self.hour as i64 * 3600
            + self.minute as i64 * 60
            + self.second as i64;
        seconds as i128 * 1_000_000_000 + self.nanosecond as i128
    }

    /// The year (proleptic Gregorian, astronomical: 0 is 1 BC).
    pub const fn year(&self) -> i64 {
        self.year
    }

    /// The month, 1–12.
    pub const fn month(&self) -> u8 {
        self.month
    }

    /// The day of the month, 1–31.
    pub const fn day(&self) -> u8 {
        self.day
    }

    /// The hour, 0–23.
    pub const fn hour(&self) -> u8 {
        self.hour
    }

    /// The minute, 0–59.
    pub const fn minute(&self) -> u8 {
        self.minute
    }

    /// The second, 0–59.
    pub const fn second(&self) -> u8 {
        self.second
    }

    /// The nanosecond within the second.
    pub const fn nanosecond(&self) -> u32 {
        self.nanosecond
    }
}

impl fmt::Display for DateTime {
    /// `YYYY-MM-DD HH:MM:SS` (ISO 8601 with a space; the year has at least four digits).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_epoch_is_day_zero() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
        assert_eq!(days_from_civil(1969, 12, 31), -1);
    }

    #[test]
    fn known_dates() {
        // `date -u -d 2000-02-29 +%s` = 951782400 = 11016 days.
        assert_eq!(days_from_civil(2000, 2, 29), 11_016);
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(civil_from_days(11_017), (2000, 3, 1));
        // 1900 is not a leap year, 2000 is: 1900-02-28 is followed by 1 March.
        assert_eq!(civil_from_days(days_from_civil(1900, 2, 28) + 1), (1900, 3, 1));
        // The 32-bit time_t limit: 2038-01-19 03:14:07 UTC = 2^31 - 1 s.
        let limit = DateTime::new(2038, 1, 19, 3, 14, 7, 0).unwrap();
        assert_eq!(limit.unix_nanos(), (i32::MAX as i128) * 1_000_000_000);
        assert_eq!(
            DateTime::from_unix_nanos(((i32::MAX as i128) + 1) * 1_000_000_000).to_string(),
            "2038-01-19 03:14:08"
        );
        // `date -u -d 2106-02-07T06:28:16 +%s` = 2^32 (the unsigned 32-bit limit).
        assert_eq!(
            DateTime::from_unix_nanos((1i128 << 32) * 1_000_000_000).to_string(),
            "2106-02-07 06:28:16"
        );
        // 2026-11-27 = 20784 days.
        assert_eq!(days_from_civil(2026, 11, 27), 20_784);
    }

    #[test]
    fn leap_years() {
        assert!(is_leap_year(2000));
        assert!(is_leap_year(2024));
        assert!(is_leap_year(2400));
        assert!(!is_leap_year(1900));
        assert!(!is_leap_year(2100));
        assert!(!is_leap_year(2023));
        assert_eq!(days_in_month(2024, 2), 29);
        assert_eq!(days_in_month(2100, 2), 28);
        assert_eq!(days_in_month(2024, 13), 0);
        assert_eq!(days_from_civil(2001, 1, 1) - days_from_civil(2000, 1, 1), 366);
        assert_eq!(days_from_civil(2101, 1, 1) - days_from_civil(2100, 1, 1), 365);
    }

    #[test]
    fn every_day_round_trips() {
        // 1600-01-01 to 2500-12-31, across three centuries that are not leap years.
        let (first, last) = (days_from_civil(1600, 1, 1), days_from_civil(2500, 12, 31));
        let mut expected = (1600, 1, 1);
        for days in first..=last {
            assert_eq!(civil_from_days(days), expected);
            assert_eq!(days_from_civil(expected.0, expected.1, expected.2), days);
            let (y, m, d) = expected;
            expected = if d < days_in_month(y, m) {
                (y, m, d + 1)
            } else if m < 12 {
                (y, m + 1, 1)
            } else {
                (y + 1, 1, 1)
            };
        }
    }

    #[test]
    fn date_times() {
        let moment = DateTime::new(2026, 11, 27, 18, 48, 2, 5).unwrap();
        assert_eq!(moment.to_string(), "2026-11-27 18:48:02");
        assert_eq!(DateTime::from_unix_nanos(moment.unix_nanos()), moment);
        assert_eq!(DateTime::from_unix_nanos(0).to_string(), "1970-01-01 00:00:00");
        let before = DateTime::from_unix_nanos(-1);
        assert_eq!(
            (before.to_string().as_str(), before.nanosecond()),
            ("1969-12-31 23:59:59", 999_999_999)
        );
        assert_eq!(DateTime::new(2023, 2, 29, 0, 0, 0, 0), None);
        assert_eq!(DateTime::new(2024, 2, 29, 0, 0, 0, 0).map(|d| d.day()), Some(29));
        assert_eq!(DateTime::new(2024, 1, 1, 24, 0, 0, 0), None);
        assert_eq!(DateTime::new(2024, 1, 1, 23, 59, 60, 0), None, "no leap seconds");
        assert_eq!(DateTime::new(2024, 0, 1, 0, 0, 0, 0), None);
        // Far out: clamped, not overflowing.
        assert!(DateTime::from_unix_nanos(i128::MAX).year() > 1_000_000);
    }
}
