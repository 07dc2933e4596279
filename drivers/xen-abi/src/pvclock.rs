//! pvclock arithmetic: Xen's TSC-to-nanoseconds scaling in `vcpu_time_info`, as pure functions.
//!
//! Xen publishes, per vCPU, `system_time` (ns since boot) at `tsc_timestamp` and a scale: a TSC
//! difference is shifted by `tsc_shift` (left if positive) and multiplied by `tsc_to_system_mul`,
//! a 32.32 fixed-point fraction. Reading a consistent record (the `version` dance) needs the
//! shared memory and stays with the platform; everything after the copy is here.
//!
//! Weak spot: [`frequency_hz`] is exact only to the scale's precision (≈ 1 part in 2^32 of the
//! multiplier), the same figure Linux's `pvclock_tsc_khz` derives.

use crate::VcpuTimeInfo;

/// The TSC frequency the scale implies, in Hz; `None` for a zero multiplier (no record yet) or an
/// absurd shift.
pub fn frequency_hz(time: &VcpuTimeInfo) -> Option<u64> {
    if time.tsc_to_system_mul == 0 || !(-32..=32).contains(&time.tsc_shift) {
        return None;
    }
    // ns per tick = mul / 2^32 * 2^shift, so Hz = 1e9 * 2^32 / mul / 2^shift.
    let hz = (1_000_000_000u128 << 32) / u128::from(time.tsc_to_system_mul);
    let hz = if time.tsc_shift < 0 { hz << (-time.tsc_shift) } else { hz >> time.tsc_shift };
    u64::try_from(hz).ok().filter(|&hz| hz > 0)
}

/// Scales a TSC difference to nanoseconds with the record's shift and multiplier.
pub fn scale_delta(delta: u64, time: &VcpuTimeInfo) -> u64 {
    let shifted = if time.tsc_shift < 0 {
        delta.checked_shr(u32::from(time.tsc_shift.unsigned_abs())).unwrap_or(0)
    } else {
        delta.checked_shl(time.tsc_shift as u32).unwrap_or(0)
    };
    ((u128::from(shifted) * u128::from(time.tsc_to_system_mul)) >> 32) as u64
}

/// Xen system time (ns since Xen booted) at TSC value `tsc`.
pub fn system_time_ns(tsc: u64, time: &VcpuTimeInfo) -> u64 {
    time.system_time.wrapping_add(scale_delta(tsc.wrapping_sub(time.tsc_timestamp), time))
}

/// [`scale_delta`] without wrapping: a difference whose nanoseconds do not fit in 64 bits gives
/// `u64::MAX`.
pub fn scale_delta_saturating(delta: u64, time: &VcpuTimeInfo) -> u64 {
    let shift = i32::from(time.tsc_shift);
    let shifted = if shift < 0 {
        u128::from(delta) >> shift.unsigned_abs().min(127)
    } else {
        u128::from(delta).checked_shl(shift as u32).unwrap_or(u128::MAX)
    };
    let nanos = shifted.saturating_mul(u128::from(time.tsc_to_system_mul)) >> 32;
    u64::try_from(nanos).unwrap_or(u64::MAX)
}

/// The Xen system time of a TSC *deadline*, for a timer: like [`system_time_ns`], but a TSC value
/// before the record's timestamp counts backwards (down to 0) and one too far ahead saturates at
/// `u64::MAX` instead of wrapping round to the past.
pub fn deadline_ns(tsc: u64, time: &VcpuTimeInfo) -> u64 {
    if tsc >= time.tsc_timestamp {
        let ahead = scale_delta_saturating(tsc - time.tsc_timestamp, time);
        time.system_time.saturating_add(ahead)
    } else {
        let behind = scale_delta_saturating(time.tsc_timestamp - tsc, time);
        time.system_time.saturating_sub(behind)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(mul: u32, shift: i8) -> VcpuTimeInfo {
        VcpuTimeInfo { tsc_to_system_mul: mul, tsc_shift: shift, ..Default::default() }
    }

    #[test]
    fn one_ghz_is_one_ns_per_tick() {
        // mul = 2^31, shift 1: delta * 2 * 0.5 = delta.
        let t = record(1 << 31, 1);
        assert_eq!(frequency_hz(&t), Some(1_000_000_000));
        assert_eq!(scale_delta(12345, &t), 12345);
    }

    #[test]
    fn three_ghz_like_linux_computes_it() {
        // Xen's scale for 3 GHz: shift -1, mul = 2^32 * 2 / 3 (ns per tick = 1/3).
        let t = record(0xaaaa_aaab, -1);
        let hz = frequency_hz(&t).unwrap();
        assert!((2_999_999_990..=3_000_000_010).contains(&hz), "{hz}");
        assert_eq!(scale_delta(3_000_000_000, &t), 1_000_000_000);
    }

    #[test]
    fn system_time_adds_the_scaled_delta() {
        let t = VcpuTimeInfo { system_time: 500, tsc_timestamp: 1000, ..record(1 << 31, 1) };
        assert_eq!(system_time_ns(1600, &t), 1100);
    }

    #[test]
    fn deadlines_saturate_instead_of_wrapping() {
        // 3 GHz: 3e9 ticks are 1 s either way of the record.
        let t = VcpuTimeInfo {
            system_time: 5_000_000_000,
            tsc_timestamp: 10_000_000_000,
            ..record(0xaaaa_aaab, -1)
        };
        assert_eq!(deadline_ns(13_000_000_000, &t), 6_000_000_000);
        assert_eq!(deadline_ns(7_000_000_000, &t), 4_000_000_000);
        assert_eq!(deadline_ns(0, &t), 1_666_666_667);
        // About 2^64 / 3 ns: far ahead, not wrapped round.
        assert!(deadline_ns(u64::MAX, &t) > 6_000_000_000_000_000_000);
        // 1 GHz with a left shift: the far future saturates.
        let fast = VcpuTimeInfo { system_time: 100, ..record(u32::MAX, 4) };
        assert_eq!(deadline_ns(u64::MAX, &fast), u64::MAX);
        assert_eq!(deadline_ns(0, &fast), 100);
        assert_eq!(scale_delta_saturating(12345, &record(1 << 31, 1)), 12345);
    }

    #[test]
    fn empty_or_absurd_records_have_no_frequency() {
        assert_eq!(frequency_hz(&record(0, 0)), None);
        assert_eq!(frequency_hz(&record(1, 100)), None);
        assert_eq!(scale_delta(u64::MAX, &record(u32::MAX, 127)), 0);
    }
}
