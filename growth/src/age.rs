//! Age: days between dates, WHO's month length, and which standard applies at an age.
//!
//! WHO software works in **days**. `age_months = age_days / 30.4375` (365.25 / 12) is never
//! rounded; it is only used for range tests and WHO 2007 interpolation. Calendar months
//! ("umur dalam bulan" as written in a KIA book) are a different quantity: see
//! [`completed_months`](crate::completed_months), which the weight-gain rule uses.

use chrono::NaiveDate;

/// Days per month used by WHO (365.25 / 12). Exactly representable in binary.
pub const DAYS_PER_MONTH: f64 = 30.4375;

/// Last day of WHO 2006: `age_months < 60` ⇔ `age_days ≤ 1826` (60 × 30.4375 = 1826.25).
pub const WHO2006_LAST_DAY: i64 = 1826;

/// Last day of WHO 2007: `age_months ≤ 228` ⇔ `age_days ≤ 6939` (228 × 30.4375 = 6939.75).
pub const WHO2007_LAST_DAY: i64 = 6939;

/// Last day of WHO 2007 weight-for-age: `age_months ≤ 120` ⇔ `age_days ≤ 3652`.
pub const WHO2007_WAZ_LAST_DAY: i64 = 3652;

/// Age in whole calendar days from `birth` to `on` (negative if `on` is before `birth`).
///
/// This is what WHO calls age in days. Do not derive it from calendar months.
#[must_use]
pub fn age_in_days(birth: NaiveDate, on: NaiveDate) -> i64 {
    on.signed_duration_since(birth).num_days()
}

/// `age_days / 30.4375`, unrounded.
#[inline]
#[must_use]
pub fn age_months(age_days: i64) -> f64 {
    age_days as f64 / DAYS_PER_MONTH
}

/// Which reference applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Standard {
    /// WHO Child Growth Standards 2006: `age_days` 0–1826 (age_months < 60).
    Who2006,
    /// WHO Growth Reference 2007: `age_days` 1827–6939 (60 ≤ age_months ≤ 228).
    Who2007,
    /// Negative age (measurement before birth) or older than 228 months: nothing is computed.
    OutOfRange,
}

impl Standard {
    /// `"WHO2006"`, `"WHO2007"` or `"NONE"`.
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            Standard::Who2006 => "WHO2006",
            Standard::Who2007 => "WHO2007",
            Standard::OutOfRange => "NONE",
        }
    }

    /// The standard WHO uses at this age.
    #[must_use]
    pub fn for_age_days(age_days: i64) -> Standard {
        match age_days {
            0..=WHO2006_LAST_DAY => Standard::Who2006,
            1827..=WHO2007_LAST_DAY => Standard::Who2007,
            _ => Standard::OutOfRange,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("valid date")
    }

    #[test]
    fn days_between_dates() {
        assert_eq!(age_in_days(d(2020, 6, 14), d(2024, 6, 14)), 1461);
        assert_eq!(age_in_days(d(2024, 4, 20), d(2024, 4, 21)), 1);
        assert_eq!(age_in_days(d(2024, 4, 21), d(2024, 4, 20)), -1);
        // 2nd birthday: 730 or 731 days depending on leap days.
        assert_eq!(age_in_days(d(2023, 7, 30), d(2025, 7, 30)), 731);
        assert_eq!(age_in_days(d(2021, 7, 30), d(2023, 7, 30)), 730);
    }

    #[test]
    fn month_boundaries_match_days() {
        // The integer day limits are the exact translations of WHO's month conditions.
        for day in -5..7000 {
            let m = age_months(day);
            let want = if day < 0 {
                Standard::OutOfRange
            } else if m < 60.0 {
                Standard::Who2006
            } else if m <= 228.0 {
                Standard::Who2007
            } else {
                Standard::OutOfRange
            };
            assert_eq!(Standard::for_age_days(day), want, "day {day}");
            assert_eq!(m <= 120.0, day <= WHO2007_WAZ_LAST_DAY, "day {day}");
        }
        assert_eq!(Standard::for_age_days(1826), Standard::Who2006);
        assert_eq!(Standard::for_age_days(1827), Standard::Who2007);
        assert_eq!(Standard::for_age_days(6939), Standard::Who2007);
        assert_eq!(Standard::for_age_days(6940), Standard::OutOfRange);
        assert_eq!(Standard::for_age_days(-1), Standard::OutOfRange);
        assert_eq!(Standard::for_age_days(i64::MIN), Standard::OutOfRange);
    }
}
