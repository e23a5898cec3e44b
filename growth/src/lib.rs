//! WHO child growth z-scores, Permenkes RI No. 2 Tahun 2020 categories, and the Buku KIA
//! weight-gain rule (N/T/O/B, 2T). Pure computation: no I/O; the WHO tables are compiled
//! into the binary by `build.rs` from `growth/data/` (see `data/PROVENANCE.md`).
//!
//! # Quick use
//!
//! ```
//! use growth::{Input, Position, Sex, assess};
//!
//! let mut input = Input::new(Sex::Female, 1212); // age in days
//! input.weight_kg = Some(12.5);
//! input.lenhei_cm = Some(93.0);
//! input.position = Some(Position::Standing);
//! let a = assess(&input);
//! assert_eq!(a.haz.map(|z| z.centi), Some(-117)); // HAZ −1.17
//! assert!(!a.is_stunted());
//! ```
//!
//! # The WHO rules, and why each matters
//!
//! The computation follows WHO's own R code line by line: `anthro` 1.1.0 for 0–60 months
//! (WHO Child Growth Standards 2006) and `anthroplus` 1.0.0 for 5–19 years (WHO Reference
//! 2007). Several popular re-implementations get these wrong; each rule below lists the
//! pitfall it avoids.
//!
//! * **Age is in days.** `age_days` = measurement date − birth date
//!   ([`age_in_days`]); `age_months = age_days / 30.4375`, never rounded. WHO 2006 applies to
//!   days 0–1826 (age_months < 60), WHO 2007 to days 1827–6939 (60 ≤ age_months ≤ 228), and
//!   WHO 2007 weight-for-age only to day 3652 (≤ 120 months). Older children, and
//!   measurements dated before birth, get nothing ([`Standard::OutOfRange`]).
//!   *Pitfall:* switching at day 1856 (old igrowup) or at whole calendar months.
//! * **Daily tables for WHO 2006.** HAZ, WAZ, BMIZ, head and arm circumference use the row at
//!   exactly `age_days`. *Pitfall:* WHO's monthly tables are for charts; the row for month m
//!   is not the row for day round(30.4375·m).
//! * **Length/height adjustment (WHO 2006 only).** +0.7 cm for a standing measurement before
//!   day 731, −0.7 cm for a lying one from day 731, none when the position is unknown. Day
//!   731 (not 730, not "24 calendar months") is where length becomes height.
//! * **The 9-month rule.** A standing measurement before 9 months (`age_months < 9`) is not
//!   adjusted, `c9mo_flag` is set and the position becomes unknown. *Pitfall:* missing it
//!   moves HAZ by up to 0.38.
//! * **Binary noise.** `103.1 − 0.7` is `102.39999999999999` in floating point; the adjusted
//!   length is rounded to 1e-9 cm before range checks and lookups, so it uses the 102.4 row
//!   (WHO's R code gets this case wrong by 0.02).
//! * **HAZ, WHZ and BMI all use the adjusted length.** BMI = weight / (clenhei/100)², not
//!   rounded. *Pitfall:* WHZ or BMI from the unadjusted length differs by up to 0.3 z.
//! * **WHZ table by age, not position**: weight-for-length before day 731, weight-for-height
//!   from day 731, valid only for 45–110 cm and 65–120 cm respectively. Outside, WHZ is
//!   blank: no clamping, no falling back to the other table. Off the 0.1 cm grid, L, M and S
//!   are interpolated linearly (rounding to the nearest 0.1 cm changes WHZ by up to 0.05).
//! * **WHO 2007 ages are interpolated** between `trunc(age_months)` and the next month, and
//!   the height is used as given (no ±0.7, no 9-month rule).
//! * **Restricted z-scores** for WAZ, WHZ, BMIZ and arm circumference beyond ±3 SD (linear
//!   in the SD2–SD3 spacing); never for HAZ or head circumference. See [`lms`].
//! * **Oedema** blanks WAZ, WHZ and BMIZ (HAZ is still computed; BMI is still reported).
//!   WHO counts such a child as below −3 SD for the weight indexes, so
//!   [`Assessment::is_wasted`] and [`Assessment::is_underweight`] are true.
//! * **Missing or impossible values**: a weight, length or circumference that is missing,
//!   ≤ 0, NaN or infinite leaves every index that needs it blank. Nothing panics.
//! * **Round, then judge.** Each z-score is rounded to 2 decimals like R's `round(x, 2)`;
//!   flags and categories use the rounded value ([`ZScore::centi`]). *Pitfall:* z = −2.004
//!   is −2.00: not stunted.
//! * **Flags** (biologically implausible, strict): HAZ |z| > 6; WAZ z < −6 or z > 5; WHZ,
//!   BMIZ, arm and head circumference |z| > 5. Flagged z-scores keep their categories; the
//!   flag asks for a re-measurement and keeps the value out of prevalence.
//! * **Categories** (Permenkes 2/2020): TB/U, BB/U and BB/PB–BB/TB at WHO 2006 ages; IMT/U
//!   at both, with the 5-band scale at WHO 2007 ages. See [`category`].
//!
//! The implementation is checked against all 493 cases of
//! `shared/who-growth-standards/zscore_cases.csv` (`tests/who_cases.rs`).

pub mod age;
pub mod assess;
pub mod category;
pub mod input;
pub mod kbm;
pub mod lms;
pub mod muac;
pub mod tables;
pub mod weight_gain;

pub use age::{Standard, age_in_days, age_months};
pub use assess::{Assessment, ZScore, assess};
pub use category::{BbuCategory, NutritionCategory, TbuCategory};
pub use input::{Input, Position, Sex};
pub use kbm::{KBM_BY_MONTH, KBM_TABLE_VERSION, kbm_grams};
pub use lms::Lms;
pub use muac::{MuacCategory, muac_category};
pub use tables::WhzTable;
pub use weight_gain::{
    Weighing, WeightGain, WeightGainStatus, completed_months, weight_gain_series,
};
