//! The WHO LMS tables, compiled into the binary by `build.rs`, and their lookups.
//!
//! * WHO 2006 daily tables (length/height, weight, BMI, head and arm circumference for age):
//!   exact row at `age_days`, no interpolation.
//! * WHO 2006 weight-for-length (45–110 cm) and weight-for-height (65–120 cm) on a 0.1 cm
//!   grid, interpolated linearly off the grid.
//! * WHO 2007 monthly tables (height and BMI 60–229 months, weight 60–121 months),
//!   interpolated linearly between `trunc(age_months)` and the next month.
//!
//! Every lookup returns `None` outside the table instead of clamping or panicking.

use crate::input::Sex;
pub use crate::lms::Lms;
use crate::lms::floor_i64;

// Data, not code: a WHO parameter such as L = 0.3183 is not an approximation of 1/π.
#[allow(
    dead_code,
    clippy::approx_constant,
    clippy::unreadable_literal,
    clippy::excessive_precision
)]
mod generated {
    use super::Lms;
    include!(concat!(env!("OUT_DIR"), "/who_tables.rs"));
}

use generated::*;

/// Which weight-for-length/height table WHZ uses. WHO chooses it by **age**, not by the
/// measuring position: [`WhzTable::Wfl`] if `age_days < 731`, else [`WhzTable::Wfh`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WhzTable {
    /// Weight-for-length, valid 45–110 cm.
    Wfl,
    /// Weight-for-height, valid 65–120 cm.
    Wfh,
}

impl WhzTable {
    /// `"WFL"` or `"WFH"`.
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            WhzTable::Wfl => "WFL",
            WhzTable::Wfh => "WFH",
        }
    }

    /// The table WHO uses at this age (day 731 = 24 months is the first WFH day).
    #[must_use]
    pub fn for_age_days(age_days: i64) -> WhzTable {
        if age_days < 731 {
            WhzTable::Wfl
        } else {
            WhzTable::Wfh
        }
    }

    /// Valid length/height range in cm, inclusive: 45–110 (WFL) or 65–120 (WFH).
    #[must_use]
    pub fn range_cm(&self) -> (f64, f64) {
        match self {
            WhzTable::Wfl => (45.0, 110.0),
            WhzTable::Wfh => (65.0, 120.0),
        }
    }

    /// Interpolated LMS row for `length_cm`, or `None` outside the valid range (WHO leaves WHZ
    /// blank there: no clamping, no falling back to the other table).
    ///
    /// `length_cm` should already be cleaned of binary noise (see `assess`). A value within
    /// 1e-7 cm of the 0.1 cm grid uses that grid row exactly (f = 0), so `102.4` never
    /// interpolates towards `102.5` even if it is stored as `102.39999999999999`.
    #[must_use]
    pub fn lms(&self, sex: Sex, length_cm: f64) -> Option<Lms> {
        let (lo_cm, hi_cm) = self.range_cm();
        if !(length_cm >= lo_cm && length_cm <= hi_cm) {
            return None;
        }
        let (rows, first): (&[Lms], i64) = match self {
            WhzTable::Wfl => (&WFL[sex.index()], WFL_FIRST),
            WhzTable::Wfh => (&WFH[sex.index()], WFH_FIRST),
        };
        grid_lerp(rows, first, length_cm * 10.0)
    }
}

/// Interpolates `rows` (keyed `first`, `first + 1`, …) at fractional key `t`.
/// On-grid keys (within 1e-6) use their row with f = 0.
#[inline]
fn grid_lerp(rows: &[Lms], first: i64, t: f64) -> Option<Lms> {
    if !t.is_finite() {
        return None;
    }
    let lo = floor_i64(t);
    let frac = t - lo as f64;
    let (lo, f) = if frac < 1e-6 {
        (lo, 0.0)
    } else if frac > 1.0 - 1e-6 {
        (lo.saturating_add(1), 0.0)
    } else {
        (lo, frac)
    };
    let i = usize::try_from(lo.checked_sub(first)?).ok()?;
    let lo_row = rows.get(i)?;
    if f == 0.0 {
        Some(*lo_row)
    } else {
        Some(lo_row.lerp(rows.get(i + 1)?, f))
    }
}

#[inline]
fn by_day<const N: usize>(
    table: &[[Lms; N]; 2],
    first: i64,
    sex: Sex,
    age_days: i64,
) -> Option<Lms> {
    let i = usize::try_from(age_days.checked_sub(first)?).ok()?;
    table[sex.index()].get(i).copied()
}

/// WHO 2006 length/height-for-age row at `age_days` (0–1826). Length-based (`L`) up to day
/// 730, height-based (`H`) from day 731.
#[must_use]
pub fn lhfa_2006(sex: Sex, age_days: i64) -> Option<Lms> {
    by_day(&LHFA_DAY, LHFA_DAY_FIRST, sex, age_days)
}

/// WHO 2006 weight-for-age row at `age_days` (0–1826).
#[must_use]
pub fn wfa_2006(sex: Sex, age_days: i64) -> Option<Lms> {
    by_day(&WFA_DAY, WFA_DAY_FIRST, sex, age_days)
}

/// WHO 2006 BMI-for-age row at `age_days` (0–1826). Length-based up to day 730, height-based
/// from day 731.
#[must_use]
pub fn bmifa_2006(sex: Sex, age_days: i64) -> Option<Lms> {
    by_day(&BMIFA_DAY, BMIFA_DAY_FIRST, sex, age_days)
}

/// WHO 2006 head circumference-for-age row at `age_days` (0–1826).
#[must_use]
pub fn hcfa_2006(sex: Sex, age_days: i64) -> Option<Lms> {
    by_day(&HCFA_DAY, HCFA_DAY_FIRST, sex, age_days)
}

/// WHO 2006 arm circumference-for-age row at `age_days` (91–1826; WHO has no standard
/// before 3 months).
#[must_use]
pub fn acfa_2006(sex: Sex, age_days: i64) -> Option<Lms> {
    by_day(&ACFA_DAY, ACFA_DAY_FIRST, sex, age_days)
}

/// A position in the WHO 2007 monthly tables: `lo = trunc(age_months)`, `f = age_months − lo`.
/// Computed once per assessment and shared by the three WHO 2007 lookups.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MonthPoint {
    lo: i64,
    f: f64,
}

impl MonthPoint {
    /// `None` for non-finite or negative ages.
    #[must_use]
    pub fn new(age_months: f64) -> Option<MonthPoint> {
        if !(age_months.is_finite() && age_months >= 0.0) {
            return None;
        }
        // Truncation by conversion (no libm call); exact for any realistic age.
        let lo = age_months as i64;
        Some(MonthPoint {
            lo,
            f: age_months - lo as f64,
        })
    }

    #[inline]
    fn lookup<const N: usize>(&self, table: &[[Lms; N]; 2], first: i64, sex: Sex) -> Option<Lms> {
        let rows = &table[sex.index()];
        let i = usize::try_from(self.lo.checked_sub(first)?).ok()?;
        let lo = rows.get(i)?;
        if self.f == 0.0 {
            Some(*lo)
        } else {
            Some(lo.lerp(rows.get(i + 1)?, self.f))
        }
    }
}

/// WHO 2007 height-for-age, interpolated (60–229 months).
#[must_use]
pub fn hfa_2007(sex: Sex, at: MonthPoint) -> Option<Lms> {
    at.lookup(&HFA_2007_MONTH, HFA_2007_MONTH_FIRST, sex)
}

/// WHO 2007 BMI-for-age, interpolated (60–229 months).
#[must_use]
pub fn bfa_2007(sex: Sex, at: MonthPoint) -> Option<Lms> {
    at.lookup(&BFA_2007_MONTH, BFA_2007_MONTH_FIRST, sex)
}

/// WHO 2007 weight-for-age, interpolated (60–121 months; WHO uses it up to 120 months).
#[must_use]
pub fn wfa_2007(sex: Sex, at: MonthPoint) -> Option<Lms> {
    at.lookup(&WFA_2007_MONTH, WFA_2007_MONTH_FIRST, sex)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_ranges() {
        assert_eq!((LHFA_DAY_FIRST, LHFA_DAY_LAST), (0, 1826));
        assert_eq!((ACFA_DAY_FIRST, ACFA_DAY_LAST), (91, 1826));
        assert_eq!((WFL_FIRST, WFL_LAST), (450, 1100));
        assert_eq!((WFH_FIRST, WFH_LAST), (650, 1200));
        assert_eq!((HFA_2007_MONTH_FIRST, HFA_2007_MONTH_LAST), (60, 229));
        assert_eq!((WFA_2007_MONTH_FIRST, WFA_2007_MONTH_LAST), (60, 121));
        assert_eq!(WFL[0].len(), 651);
        assert_eq!(WFH[1].len(), 551);
    }

    #[test]
    fn day_rows_match_csv() {
        // who2006_wfa_day.csv: M,0,0.3487,3.3464,0.14602 and F,1826,-0.3518,18.2179,0.14821
        assert_eq!(
            wfa_2006(Sex::Male, 0),
            Some(Lms {
                l: 0.3487,
                m: 3.3464,
                s: 0.14602
            })
        );
        assert_eq!(
            wfa_2006(Sex::Female, 1826),
            Some(Lms {
                l: -0.3518,
                m: 18.2179,
                s: 0.14821
            })
        );
        assert_eq!(wfa_2006(Sex::Male, -1), None);
        assert_eq!(wfa_2006(Sex::Male, 1827), None);
        // Arm circumference starts at day 91: M,91,0.3933,13.4779,0.07474
        assert_eq!(acfa_2006(Sex::Male, 90), None);
        assert_eq!(
            acfa_2006(Sex::Male, 91),
            Some(Lms {
                l: 0.3933,
                m: 13.4779,
                s: 0.07474
            })
        );
    }

    #[test]
    fn whz_limits() {
        for (table, sex, lo, hi) in [
            (WhzTable::Wfl, Sex::Male, 45.0, 110.0),
            (WhzTable::Wfh, Sex::Female, 65.0, 120.0),
        ] {
            assert!(table.lms(sex, lo).is_some());
            assert!(table.lms(sex, hi).is_some());
            assert!(table.lms(sex, lo - 0.01).is_none());
            assert!(table.lms(sex, hi + 0.01).is_none());
            assert!(table.lms(sex, f64::NAN).is_none());
        }
        // WFL 45.0 (M): -0.3521, 2.441, 0.09182; WFH 120.0 (F): -0.3833, 22.8173, 0.09828
        assert_eq!(WhzTable::Wfl.lms(Sex::Male, 45.0).map(|r| r.m), Some(2.441));
        assert_eq!(
            WhzTable::Wfh.lms(Sex::Female, 120.0).map(|r| r.m),
            Some(22.8173)
        );
    }

    #[test]
    fn whz_interpolation_off_grid() {
        // who2006_wfl.csv M 45.0: M 2.441, S 0.09182; M 45.1: M 2.4577, S 0.09176 (L -0.3521 both).
        let r = WhzTable::Wfl.lms(Sex::Male, 45.05).expect("in range");
        assert!((r.m - (2.441 + 0.5 * (2.4577 - 2.441))).abs() < 1e-12);
        assert!((r.s - (0.09182 + 0.5 * (0.09176 - 0.09182))).abs() < 1e-12);
        assert_eq!(r.l, -0.3521);
        let r = WhzTable::Wfl.lms(Sex::Male, 45.02).expect("in range");
        assert!((r.m - (2.441 + 0.2 * (2.4577 - 2.441))).abs() < 1e-9);
    }

    #[test]
    fn whz_on_grid_uses_row_exactly() {
        // 103.1 - 0.7 = 102.39999999999999 in f64: must use the 102.4 row, not interpolate.
        let noisy = 103.1 - 0.7;
        assert_ne!(noisy, 102.4);
        let exact = WhzTable::Wfh.lms(Sex::Male, 102.4).expect("in range");
        assert_eq!(WhzTable::Wfh.lms(Sex::Male, noisy), Some(exact));
        let i = (1024 - WFH_FIRST) as usize;
        assert_eq!(exact, WFH[0][i]);
    }

    #[test]
    fn who2007_month_interpolation() {
        // who2007_hfa_month.csv M,60,1,109.7265,0.04156 and M,61,1,110.2647,0.04164
        let at = MonthPoint::new(60.25).expect("valid");
        let r = hfa_2007(Sex::Male, at).expect("in range");
        assert!((r.m - (109.7265 + 0.25 * (110.2647 - 109.7265))).abs() < 1e-12);
        assert!((r.s - (0.04156 + 0.25 * (0.04164 - 0.04156))).abs() < 1e-12);
        // Exactly on a month: the row itself.
        let r = hfa_2007(Sex::Male, MonthPoint::new(61.0).expect("valid")).expect("in range");
        assert_eq!(r.m, 110.2647);
        // WAZ table stops at 121 (interpolation partner of 120).
        assert!(wfa_2007(Sex::Female, MonthPoint::new(120.9).expect("valid")).is_some());
        assert!(wfa_2007(Sex::Female, MonthPoint::new(121.5).expect("valid")).is_none());
        assert!(hfa_2007(Sex::Female, MonthPoint::new(59.9).expect("valid")).is_none());
        assert!(MonthPoint::new(f64::NAN).is_none());
    }
}
