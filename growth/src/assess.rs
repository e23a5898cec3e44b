//! [`assess`]: one measurement in, every z-score, flag and Permenkes category out.
//!
//! This is the hot path (millions of calls per second): it allocates nothing, looks up each
//! LMS row once, and evaluates the ±2/±3 SD curves only when a restricted z-score is beyond
//! ±3.

use crate::age::{Standard, WHO2007_WAZ_LAST_DAY, age_months};
use crate::category::{BbuCategory, NutritionCategory, TbuCategory};
use crate::input::{Input, Position};
use crate::lms::{Lms, round_centi};
use crate::tables::{self, MonthPoint, WhzTable};

/// A z-score as WHO reports it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ZScore {
    /// Unrounded z (restricted where WHO restricts it).
    pub raw: f64,
    /// z rounded to 2 decimals (R's `round(x, 2)`), in integer hundredths: −2.01 → −201.
    /// Flags and categories are decided on this value.
    pub centi: i32,
    /// Biologically implausible (re-measure): HAZ |z| > 6; WAZ z < −6 or z > 5; WHZ, BMIZ,
    /// arm and head circumference |z| > 5; all on the rounded value.
    pub implausible: bool,
}

impl ZScore {
    /// The 2-decimal z-score as a float (`centi / 100`).
    #[must_use]
    pub fn rounded(&self) -> f64 {
        f64::from(self.centi) / 100.0
    }

    #[inline]
    fn new(raw: f64, limits: (i32, i32)) -> ZScore {
        let centi = round_centi(raw);
        ZScore {
            raw,
            centi,
            implausible: centi < limits.0 || centi > limits.1,
        }
    }
}

/// Implausibility limits (hundredths), strict inequalities: flagged if `centi < lo || centi > hi`.
const HAZ_LIMITS: (i32, i32) = (-600, 600);
const WAZ_LIMITS: (i32, i32) = (-600, 500);
const FIVE_SD_LIMITS: (i32, i32) = (-500, 500);

/// Everything computed for one measurement. `None` = not computed / not applicable.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Assessment {
    pub age_days: i64,
    /// `age_days / 30.4375`, unrounded.
    pub age_months: f64,
    pub standard: Standard,
    /// Standing measurement before 9 months: not adjusted, position treated as unknown.
    pub c9mo_flag: bool,
    /// Position after cleaning (`None` = unknown, including after the 9-month rule).
    pub cmeasure: Option<Position>,
    /// Length/height used for HAZ, WHZ and BMI (after the ±0.7 cm adjustment at WHO 2006
    /// ages, cleaned of binary noise), in cm.
    pub clenhei_cm: Option<f64>,
    /// `weight / (clenhei/100)²`, unrounded (computed even with oedema).
    pub cbmi: Option<f64>,
    /// Table WHZ uses (WHO 2006 ages with a length); set even when the length is outside it.
    pub whz_table: Option<WhzTable>,
    /// Length/height-for-age.
    pub haz: Option<ZScore>,
    /// Weight-for-age (WHO 2007: only up to 120 months).
    pub waz: Option<ZScore>,
    /// Weight-for-length/height (WHO 2006 ages only).
    pub whz: Option<ZScore>,
    /// BMI-for-age.
    pub bmiz: Option<ZScore>,
    /// Arm circumference-for-age (WHO 2006, from day 91), restricted.
    pub muacz: Option<ZScore>,
    /// Head circumference-for-age (WHO 2006), not restricted.
    pub hcz: Option<ZScore>,
    /// PB/U or TB/U category (WHO 2006 ages).
    pub tbu: Option<TbuCategory>,
    /// BB/U category (WHO 2006 ages).
    pub bbu: Option<BbuCategory>,
    /// BB/PB or BB/TB category (WHO 2006 ages).
    pub bbtb: Option<NutritionCategory>,
    /// IMT/U category (both standards, with the 5–18 y bands at WHO 2007 ages).
    pub imtu: Option<NutritionCategory>,
    /// Oedema was recorded (copied from the input): WAZ, WHZ and BMIZ are blank.
    pub oedema: bool,
}

impl Assessment {
    fn blank(input: &Input, standard: Standard) -> Assessment {
        Assessment {
            age_days: input.age_days,
            age_months: age_months(input.age_days),
            standard,
            c9mo_flag: false,
            cmeasure: None,
            clenhei_cm: None,
            cbmi: None,
            whz_table: None,
            haz: None,
            waz: None,
            whz: None,
            bmiz: None,
            muacz: None,
            hcz: None,
            tbu: None,
            bbu: None,
            bbtb: None,
            imtu: None,
            oedema: input.oedema,
        }
    }

    /// Stunted (pendek or sangat pendek: rounded HAZ < −2). WHO 2006 ages only, since
    /// Permenkes defines no TB/U categories at 5–18 years. A flagged HAZ still counts here;
    /// check [`Assessment::implausible`] before acting on it.
    #[must_use]
    pub fn is_stunted(&self) -> bool {
        self.tbu.is_some_and(|c| c.is_alarm())
    }

    /// Wasted (gizi kurang or gizi buruk by BB/PB or BB/TB), or oedema at WHO 2006 ages:
    /// WHO's prevalence code counts a child with oedema as < −3 SD for the weight indexes.
    #[must_use]
    pub fn is_wasted(&self) -> bool {
        matches!(
            self.bbtb,
            Some(NutritionCategory::GiziBuruk | NutritionCategory::GiziKurang)
        ) || (self.oedema && self.standard == Standard::Who2006)
    }

    /// Underweight (BB kurang or BB sangat kurang), or oedema at WHO 2006 ages (as for
    /// [`Assessment::is_wasted`]).
    #[must_use]
    pub fn is_underweight(&self) -> bool {
        self.bbu.is_some_and(|c| c.is_alarm())
            || (self.oedema && self.standard == Standard::Who2006)
    }

    /// Any z-score is flagged as biologically implausible: re-measure.
    #[must_use]
    pub fn implausible(&self) -> bool {
        [
            self.haz, self.waz, self.whz, self.bmiz, self.muacz, self.hcz,
        ]
        .iter()
        .flatten()
        .any(|z| z.implausible)
    }
}

/// A usable measurement: finite and > 0. Anything else counts as not measured.
#[inline]
fn valid(x: Option<f64>) -> Option<f64> {
    x.filter(|v| v.is_finite() && *v > 0.0)
}

/// Removes binary noise (e.g. `103.1 − 0.7 = 102.39999999999999`) by rounding to 1e-9 cm,
/// so that range checks and grid lookups see 102.4. Values too large to scale are returned
/// unchanged.
#[inline]
#[must_use]
pub fn clean_length(x: f64) -> f64 {
    if x.abs() < 1e6 {
        // Same as `(x * 1e9).round() / 1e9` (half away from zero) for |x·1e9| < 2^52, where
        // `y - t` is exact; avoids a libm `round` call on the hot path.
        let y = x * 1e9;
        let t = y as i64;
        let frac = y - t as f64;
        let r = if frac >= 0.5 {
            t + 1
        } else if frac <= -0.5 {
            t - 1
        } else {
            t
        };
        r as f64 / 1e9
    } else {
        x
    }
}

#[inline]
fn bmi(weight_kg: f64, height_cm: f64) -> Option<f64> {
    let h = height_cm / 100.0;
    let b = weight_kg / (h * h);
    (b.is_finite() && b > 0.0).then_some(b)
}

/// Plain z-score of a valid measurement against a row, with rounding and flag.
#[inline(always)]
fn plain(row: Option<Lms>, y: f64, limits: (i32, i32)) -> Option<ZScore> {
    match row {
        Some(r) => r.z(y).map(|z| ZScore::new(z, limits)),
        None => None,
    }
}

/// Restricted z-score of a valid measurement against a row, with rounding and flag.
#[inline(always)]
fn restricted(row: Option<Lms>, y: f64, limits: (i32, i32)) -> Option<ZScore> {
    match row {
        Some(r) => r.z_restricted(y).map(|z| ZScore::new(z, limits)),
        None => None,
    }
}

/// Computes every index for one measurement, following WHO's `anthro` (0–60 months) and
/// `anthroplus` (5–19 years) R code. See the crate documentation for the rules.
#[must_use]
pub fn assess(input: &Input) -> Assessment {
    match Standard::for_age_days(input.age_days) {
        Standard::Who2006 => assess_who2006(input),
        Standard::Who2007 => assess_who2007(input),
        Standard::OutOfRange => Assessment::blank(input, Standard::OutOfRange),
    }
}

fn assess_who2006(input: &Input) -> Assessment {
    let sex = input.sex;
    let day = input.age_days;
    let months = age_months(day);
    let weight = valid(input.weight_kg);

    // 9-month rule: a standing measurement before 9 months is not adjusted and its position
    // is treated as unknown.
    let c9mo_flag = input.position == Some(Position::Standing) && months < 9.0;
    let cmeasure = if c9mo_flag { None } else { input.position };

    let clenhei = match valid(input.lenhei_cm) {
        Some(l) => {
            let adjusted = match (cmeasure, day < 731) {
                (Some(Position::Standing), true) => l + 0.7,
                (Some(Position::Lying), false) => l - 0.7,
                _ => l,
            };
            valid(Some(clean_length(adjusted)))
        }
        None => None,
    };
    let cbmi = match (weight, clenhei) {
        (Some(w), Some(h)) => bmi(w, h),
        _ => None,
    };
    let whz_table = clenhei.map(|_| WhzTable::for_age_days(day));

    let haz = match clenhei {
        Some(h) => plain(tables::lhfa_2006(sex, day), h, HAZ_LIMITS),
        None => None,
    };
    // Weight-based indexes are not computed with oedema.
    let (waz, whz, bmiz) = if input.oedema {
        (None, None, None)
    } else {
        let waz = match weight {
            Some(w) => restricted(tables::wfa_2006(sex, day), w, WAZ_LIMITS),
            None => None,
        };
        let whz = match (weight, clenhei, whz_table) {
            (Some(w), Some(h), Some(t)) => restricted(t.lms(sex, h), w, FIVE_SD_LIMITS),
            _ => None,
        };
        let bmiz = match cbmi {
            Some(b) => restricted(tables::bmifa_2006(sex, day), b, FIVE_SD_LIMITS),
            None => None,
        };
        (waz, whz, bmiz)
    };
    let muacz = match valid(input.muac_cm) {
        Some(c) => restricted(tables::acfa_2006(sex, day), c, FIVE_SD_LIMITS),
        None => None,
    };
    let hcz = match valid(input.head_cm) {
        Some(c) => plain(tables::hcfa_2006(sex, day), c, FIVE_SD_LIMITS),
        None => None,
    };

    Assessment {
        age_days: day,
        age_months: months,
        standard: Standard::Who2006,
        c9mo_flag,
        cmeasure,
        clenhei_cm: clenhei,
        cbmi,
        whz_table,
        haz,
        waz,
        whz,
        bmiz,
        muacz,
        hcz,
        tbu: haz.map(|z| TbuCategory::from_centi(z.centi)),
        bbu: waz.map(|z| BbuCategory::from_centi(z.centi)),
        bbtb: whz.map(|z| NutritionCategory::under_five_from_centi(z.centi)),
        imtu: bmiz.map(|z| NutritionCategory::under_five_from_centi(z.centi)),
        oedema: input.oedema,
    }
}

fn assess_who2007(input: &Input) -> Assessment {
    let sex = input.sex;
    let day = input.age_days;
    let months = age_months(day);
    let weight = valid(input.weight_kg);
    // WHO 2007 (AnthroPlus) uses the height exactly as given: no position adjustment.
    let height = valid(input.lenhei_cm);
    let cbmi = match (weight, height) {
        (Some(w), Some(h)) => bmi(w, h),
        _ => None,
    };

    let (haz, waz, bmiz) = match MonthPoint::new(months) {
        Some(at) => {
            let haz = match height {
                Some(h) => plain(tables::hfa_2007(sex, at), h, HAZ_LIMITS),
                None => None,
            };
            let (waz, bmiz) = if input.oedema {
                (None, None)
            } else {
                let waz = match weight {
                    Some(w) if day <= WHO2007_WAZ_LAST_DAY => {
                        restricted(tables::wfa_2007(sex, at), w, WAZ_LIMITS)
                    }
                    _ => None,
                };
                let bmiz = match cbmi {
                    Some(b) => restricted(tables::bfa_2007(sex, at), b, FIVE_SD_LIMITS),
                    None => None,
                };
                (waz, bmiz)
            };
            (haz, waz, bmiz)
        }
        None => (None, None, None),
    };

    Assessment {
        cmeasure: input.position,
        clenhei_cm: height,
        cbmi,
        haz,
        waz,
        bmiz,
        imtu: bmiz.map(|z| NutritionCategory::school_age_from_centi(z.centi)),
        ..Assessment::blank(input, Standard::Who2007)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::Sex;

    fn input(
        sex: Sex,
        day: i64,
        weight: Option<f64>,
        len: Option<f64>,
        pos: Option<Position>,
    ) -> Input {
        Input {
            weight_kg: weight,
            lenhei_cm: len,
            position: pos,
            ..Input::new(sex, day)
        }
    }

    fn raw(z: Option<ZScore>) -> f64 {
        z.expect("z computed").raw
    }

    #[test]
    fn nine_month_rule() {
        // who2006_lhfa_day.csv M,273: L 1, M 71.9273, S 0.03117; M,274: M 71.9714, S 0.03117.
        // Day 273 is 8.97 months: standing → no +0.7, flag, position unknown.
        let a = assess(&input(
            Sex::Male,
            273,
            None,
            Some(70.0),
            Some(Position::Standing),
        ));
        assert!(a.c9mo_flag);
        assert_eq!(a.cmeasure, None);
        assert_eq!(a.clenhei_cm, Some(70.0));
        assert!((raw(a.haz) - (70.0 / 71.9273 - 1.0) / 0.03117).abs() < 1e-12);
        // Day 274 is 9.002 months: adjusted as usual.
        let a = assess(&input(
            Sex::Male,
            274,
            None,
            Some(70.0),
            Some(Position::Standing),
        ));
        assert!(!a.c9mo_flag);
        assert_eq!(a.cmeasure, Some(Position::Standing));
        assert_eq!(a.clenhei_cm, Some(70.7));
        assert!((raw(a.haz) - (70.7 / 71.9714 - 1.0) / 0.03117).abs() < 1e-12);
        // Lying before 9 months: nothing special.
        let a = assess(&input(
            Sex::Male,
            100,
            None,
            Some(60.0),
            Some(Position::Lying),
        ));
        assert!(!a.c9mo_flag);
        assert_eq!(
            (a.cmeasure, a.clenhei_cm),
            (Some(Position::Lying), Some(60.0))
        );
        // The flag depends on age and position only, not on a length being present.
        let a = assess(&input(Sex::Male, 10, None, None, Some(Position::Standing)));
        assert!(a.c9mo_flag);
        assert_eq!(a.cmeasure, None);
    }

    #[test]
    fn length_adjustment_switches_at_day_731() {
        let h = Some(Position::Standing);
        let l = Some(Position::Lying);
        let c = |day, pos| assess(&input(Sex::Male, day, None, Some(85.0), pos)).clenhei_cm;
        assert_eq!(c(730, h), Some(85.7));
        assert_eq!(c(731, h), Some(85.0));
        assert_eq!(c(730, l), Some(85.0));
        assert_eq!(c(731, l), Some(84.3));
        assert_eq!(c(730, None), Some(85.0));
        assert_eq!(c(731, None), Some(85.0));
        // BMI uses the adjusted length: 12 kg at 84.3 cm.
        let a = assess(&input(Sex::Male, 731, Some(12.0), Some(85.0), l));
        assert!((a.cbmi.expect("bmi") - 12.0 / (0.843 * 0.843)).abs() < 1e-9);
    }

    #[test]
    fn whz_table_limits() {
        let whz = |day, len: f64, pos| {
            let a = assess(&input(Sex::Male, day, Some(10.0), Some(len), pos));
            (a.whz_table, a.whz.is_some())
        };
        let wfl = Some(WhzTable::Wfl);
        let wfh = Some(WhzTable::Wfh);
        // WFL (day < 731): 45–110 cm inclusive.
        assert_eq!(whz(500, 45.0, None), (wfl, true));
        assert_eq!(whz(500, 44.99, None), (wfl, false));
        assert_eq!(whz(500, 110.0, None), (wfl, true));
        assert_eq!(whz(500, 110.01, None), (wfl, false));
        // WFH (day ≥ 731): 65–120 cm inclusive; a 100-day-old never falls back to it.
        assert_eq!(whz(800, 65.0, None), (wfh, true));
        assert_eq!(whz(800, 64.99, None), (wfh, false));
        assert_eq!(whz(800, 120.0, None), (wfh, true));
        assert_eq!(whz(800, 120.01, None), (wfh, false));
        // Limits reached through the ±0.7 adjustment (with binary noise removed).
        assert_eq!(whz(800, 120.7, Some(Position::Lying)), (wfh, true));
        assert_eq!(whz(800, 65.6, Some(Position::Lying)), (wfh, false));
        assert_eq!(whz(700, 109.3, Some(Position::Standing)), (wfl, true));
        assert_eq!(whz(700, 44.3, Some(Position::Standing)), (wfl, true));
        // Table chosen by age, not position: lying at day 731 still uses WFH.
        assert_eq!(whz(731, 90.0, Some(Position::Lying)).0, wfh);
    }

    #[test]
    fn whz_interpolates_off_grid() {
        // who2006_wfh.csv M,80.3: -0.3521, 10.6352, 0.08293; M,80.4: -0.3521, 10.6544, 0.08291.
        // 80.35 cm → f = 0.5: M = 10.6448, S = 0.08292.
        let a = assess(&input(
            Sex::Male,
            800,
            Some(10.6),
            Some(80.35),
            Some(Position::Standing),
        ));
        let (l, m, s) = (-0.3521_f64, 10.6448, 0.08292);
        let want = ((10.6_f64 / m).powf(l) - 1.0) / (l * s);
        assert!((raw(a.whz) - want).abs() < 1e-9, "{} vs {want}", raw(a.whz));
        // 103.1 lying at day 800 → 102.4 exactly, the 102.4 row (M 16.0503): z = 0 at the median.
        let a = assess(&input(
            Sex::Male,
            800,
            Some(16.0503),
            Some(103.1),
            Some(Position::Lying),
        ));
        assert_eq!(a.clenhei_cm, Some(102.4));
        assert!(raw(a.whz).abs() < 1e-12);
    }

    #[test]
    fn non_finite_and_non_positive_inputs_are_missing() {
        for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 0.0, -3.0] {
            let a = assess(&Input {
                weight_kg: Some(bad),
                lenhei_cm: Some(bad),
                position: Some(Position::Lying),
                muac_cm: Some(bad),
                head_cm: Some(bad),
                ..Input::new(Sex::Female, 400)
            });
            assert_eq!(a.standard, Standard::Who2006);
            assert_eq!(
                (a.haz, a.waz, a.whz, a.bmiz, a.muacz, a.hcz),
                (None, None, None, None, None, None),
                "{bad}"
            );
            assert_eq!((a.clenhei_cm, a.cbmi, a.whz_table), (None, None, None));
            assert_eq!((a.tbu, a.bbu, a.bbtb, a.imtu), (None, None, None, None));
            assert!(!a.implausible());
        }
        // NaN weight with a good length: HAZ only.
        let a = assess(&input(Sex::Female, 3000, Some(f64::NAN), Some(130.0), None));
        assert!(a.haz.is_some());
        assert_eq!((a.waz, a.bmiz, a.cbmi), (None, None, None));
        // Absurd but finite values do not panic.
        let a = assess(&input(Sex::Male, 500, Some(1e300), Some(1e300), None));
        assert!(a.whz.is_none());
    }

    #[test]
    fn arm_and_head_circumference_by_hand() {
        // who2006_acfa_day.csv F,365: L -0.1733, M 14.2062, S 0.0828.
        // who2006_hcfa_day.csv F,365: L 1, M 44.894, S 0.03027.
        let (l, m, s) = (-0.1733_f64, 14.2062_f64, 0.0828_f64);
        let at = |muac, head| {
            assess(&Input {
                muac_cm: Some(muac),
                head_cm: Some(head),
                oedema: true, // oedema does not affect arm or head circumference
                ..Input::new(Sex::Female, 365)
            })
        };
        let a = at(13.0, 43.0);
        let muac_want = ((13.0 / m).powf(l) - 1.0) / (l * s); // ≈ −1.08
        assert!((raw(a.muacz) - muac_want).abs() < 1e-12);
        assert_eq!(a.muacz.map(|z| z.centi), Some(-108));
        let head_want = (43.0 / 44.894 - 1.0) / 0.03027; // ≈ −1.39
        assert!((raw(a.hcz) - head_want).abs() < 1e-12);
        assert_eq!(a.hcz.map(|z| z.centi), Some(-139));

        // Beyond +3: arm circumference is restricted, head circumference is not.
        let a = at(20.0, 50.0);
        let plain_muac = ((20.0 / m).powf(l) - 1.0) / (l * s); // ≈ 4.01
        assert!(plain_muac > 3.0);
        let sd3 = m * (1.0 + l * s * 3.0).powf(1.0 / l);
        let sd2 = m * (1.0 + l * s * 2.0).powf(1.0 / l);
        let restricted_want = 3.0 + (20.0 - sd3) / (sd3 - sd2);
        assert!((raw(a.muacz) - restricted_want).abs() < 1e-12);
        assert!((raw(a.muacz) - plain_muac).abs() > 0.01);
        let head_want = (50.0 / 44.894 - 1.0) / 0.03027; // ≈ 3.76, kept as is
        assert!((raw(a.hcz) - head_want).abs() < 1e-12);
        assert!(!a.implausible());
        // Flag at |z| > 5.
        let a = at(14.2062, 44.894 * (1.0 + 0.03027 * 5.02));
        assert_eq!(a.muacz.map(|z| z.centi), Some(0));
        assert_eq!(a.hcz.map(|z| (z.centi, z.implausible)), Some((502, true)));
        assert!(a.implausible());

        // No arm circumference standard before day 91, none at WHO 2007 ages.
        let early = |day| {
            assess(&Input {
                muac_cm: Some(12.0),
                head_cm: Some(40.0),
                ..Input::new(Sex::Male, day)
            })
        };
        assert!(early(90).muacz.is_none() && early(90).hcz.is_some());
        assert!(early(91).muacz.is_some());
        assert!(early(1827).muacz.is_none() && early(1827).hcz.is_none());
    }

    #[test]
    fn oedema_blanks_weight_indexes() {
        let a = assess(&Input {
            oedema: true,
            ..input(
                Sex::Male,
                800,
                Some(12.0),
                Some(88.0),
                Some(Position::Standing),
            )
        });
        assert!(a.haz.is_some() && a.tbu.is_some());
        assert_eq!((a.waz, a.whz, a.bmiz), (None, None, None));
        assert_eq!((a.bbu, a.bbtb, a.imtu), (None, None, None));
        assert!(a.cbmi.is_some());
        assert_eq!(a.whz_table, Some(WhzTable::Wfh));
        assert!(a.is_wasted() && a.is_underweight());
    }

    #[test]
    fn before_birth_and_too_old_compute_nothing() {
        for day in [-1, -400, 6940, i64::MAX, i64::MIN] {
            let a = assess(&Input {
                muac_cm: Some(15.0),
                head_cm: Some(45.0),
                ..input(
                    Sex::Female,
                    day,
                    Some(10.0),
                    Some(80.0),
                    Some(Position::Standing),
                )
            });
            assert_eq!(a.standard, Standard::OutOfRange);
            assert_eq!(
                a,
                Assessment::blank(&Input::new(Sex::Female, day), Standard::OutOfRange)
            );
        }
    }

    #[test]
    fn who2007_interpolates_by_month_and_uses_height_as_given() {
        // who2007_hfa_month.csv M,100: 1, 129.0466, 0.0447; M,101: 1, 129.4887, 0.04478.
        let day = 3060; // 100.5339… months
        let f = day as f64 / 30.4375 - 100.0;
        let a = assess(&input(
            Sex::Male,
            day,
            Some(26.0),
            Some(129.0),
            Some(Position::Lying),
        ));
        assert_eq!(a.standard, Standard::Who2007);
        assert!(!a.c9mo_flag);
        assert_eq!(a.cmeasure, Some(Position::Lying));
        assert_eq!(a.clenhei_cm, Some(129.0)); // no −0.7
        let m = 129.0466 + f * (129.4887 - 129.0466);
        let s = 0.0447 + f * (0.04478 - 0.0447);
        assert!((raw(a.haz) - (129.0 / m - 1.0) / s).abs() < 1e-12);
        assert_eq!(
            (a.whz_table, a.whz, a.tbu, a.bbu, a.bbtb),
            (None, None, None, None, None)
        );
        assert!(a.waz.is_some() && a.bmiz.is_some() && a.imtu.is_some());
        // WAZ only up to 120 months (day 3652).
        let waz = |day| {
            assess(&input(Sex::Male, day, Some(30.0), None, None))
                .waz
                .is_some()
        };
        assert!(waz(3652));
        assert!(!waz(3653));
    }

    #[test]
    fn categories_use_the_rounded_z() {
        // who2006_lhfa_day.csv M,800: L 1, M 89.0391, S 0.03586. Standing at day 800: no
        // adjustment, so the height for a given z is M·(1 + S·z).
        let at = |z: f64| {
            let h = 89.0391 * (1.0 + 0.03586 * z);
            assess(&input(
                Sex::Male,
                800,
                None,
                Some(h),
                Some(Position::Standing),
            ))
        };
        let a = at(-2.004);
        assert!((raw(a.haz) + 2.004).abs() < 1e-6);
        assert_eq!(a.haz.map(|z| z.centi), Some(-200));
        assert_eq!(a.tbu, Some(TbuCategory::Normal));
        assert!(!a.is_stunted());
        let a = at(-2.006);
        assert_eq!(a.haz.map(|z| z.centi), Some(-201));
        assert_eq!(a.tbu, Some(TbuCategory::Pendek));
        assert!(a.is_stunted());
        let a = at(-3.004);
        assert_eq!(a.tbu, Some(TbuCategory::Pendek));
        let a = at(-3.006);
        assert_eq!(a.tbu, Some(TbuCategory::SangatPendek));
        // HAZ flag: |rounded z| > 6, and HAZ is never restricted.
        let a = at(6.004);
        assert_eq!(a.haz.map(|z| (z.centi, z.implausible)), Some((600, false)));
        let a = at(6.5);
        assert!((raw(a.haz) - 6.5).abs() < 1e-6);
        assert!(a.implausible());
        assert_eq!(a.tbu, Some(TbuCategory::Tinggi));
    }

    #[test]
    fn cleaning_removes_binary_noise() {
        assert_ne!(103.1 - 0.7, 102.4);
        assert_eq!(clean_length(103.1 - 0.7), 102.4);
        assert_eq!(clean_length(110.7 - 0.7), 110.0);
        assert_eq!(clean_length(44.3 + 0.7), 45.0);
        assert_eq!(clean_length(80.35), 80.35);
        assert_eq!(clean_length(-2.5), -2.5);
        for x in [0.1, 45.05, 65.123456789, 119.95, 123.456] {
            assert_eq!(clean_length(x), (x * 1e9).round() / 1e9, "{x}");
        }
        assert_eq!(clean_length(1e300), 1e300);
    }

    #[test]
    fn rounded_value() {
        let z = ZScore::new(-2.0049, HAZ_LIMITS);
        assert_eq!(z.centi, -200);
        assert_eq!(z.rounded(), -2.0);
    }
}
