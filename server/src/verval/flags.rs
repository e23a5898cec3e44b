//! Verification flags: what about a child's record in a verval round needs
//! checking before its classification can be trusted, each with a plain
//! reason in Bahasa Indonesia for the bidan who checks it.
//!
//! Flags are computed on the *reconciled* view of the child (the birth date
//! and sex of [`super::evidence`], z-scores recomputed) and say what a check
//! could still change. A flag is resolved by the check that answers it
//! ([`FlagKind::resolved_by`]); a resolved flag is kept (with the check) so
//! the list shows what was verified.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use sync_protocol::{Check, Sex, Verification};

use super::evidence::{
    BirthDateBasis, BirthDateChoice, DateShape, Registration, SexChoice, is_visit_date,
    nik_readings,
};

/// HAZ or WAZ changing by more than this between consecutive measurements is
/// not growth: one of the two (or the birth date) is wrong.
pub const MAX_Z_JUMP: f64 = 1.5;
/// A length/height more than this below an earlier one (mm, both as lying
/// length) is a measuring or typing error: children do not shrink.
pub const MAX_SHRINK_MM: i64 = 10;
/// WHO: under 24 months lying (length), from 24 months standing (height).
pub const STANDING_FROM_DAYS: i64 = 731;

/// The kinds of flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FlagKind {
    /// 1 January (only the year known), or a 1st/15th nobody confirmed.
    PlaceholderBirthDate,
    /// A usable NIK encodes another birth date than one typed.
    BirthDateVsNik,
    /// The registrations of the child typed different birth dates.
    BirthDateVsRegistrations,
    /// The registrations typed different sexes, or the NIK's sex part differs.
    SexDisagrees,
    /// HAZ jumps by more than [`MAX_Z_JUMP`] next to the round measurement.
    HazJump,
    /// WAZ jumps by more than [`MAX_Z_JUMP`] next to the round measurement.
    WazJump,
    /// Length/height shrinks by more than [`MAX_SHRINK_MM`] next to it.
    Shrinking,
    /// A WHO-implausible z-score: the measurement is left out of the figures.
    Implausible,
    /// Measured lying from 24 months or standing before.
    PositionVsAge,
    /// In an open review pair: possibly the same child as another.
    PossibleDuplicate,
}

impl FlagKind {
    /// Every kind, in the order lists show them.
    pub const ALL: [FlagKind; 10] = [
        Self::PlaceholderBirthDate,
        Self::BirthDateVsNik,
        Self::BirthDateVsRegistrations,
        Self::SexDisagrees,
        Self::HazJump,
        Self::WazJump,
        Self::Shrinking,
        Self::Implausible,
        Self::PositionVsAge,
        Self::PossibleDuplicate,
    ];

    /// A stable code for files and the API.
    #[must_use]
    pub fn code(self) -> &'static str {
        match self {
            Self::PlaceholderBirthDate => "placeholder_birth_date",
            Self::BirthDateVsNik => "birth_date_vs_nik",
            Self::BirthDateVsRegistrations => "birth_date_vs_registrations",
            Self::SexDisagrees => "sex_disagrees",
            Self::HazJump => "haz_jump",
            Self::WazJump => "waz_jump",
            Self::Shrinking => "shrinking",
            Self::Implausible => "implausible",
            Self::PositionVsAge => "position_vs_age",
            Self::PossibleDuplicate => "possible_duplicate",
        }
    }

    /// Whether `check` (recorded for `round`, or for no round) answers this flag.
    #[must_use]
    pub fn resolved_by(self, check: &Check) -> bool {
        match self {
            Self::PlaceholderBirthDate | Self::BirthDateVsNik | Self::BirthDateVsRegistrations => {
                matches!(check, Check::BirthDate { .. } | Check::Confirmed)
            }
            Self::SexDisagrees => matches!(check, Check::Sex { .. } | Check::Confirmed),
            Self::HazJump
            | Self::WazJump
            | Self::Shrinking
            | Self::Implausible
            | Self::PositionVsAge => {
                matches!(check, Check::Remeasured { .. } | Check::Confirmed)
            }
            // Only the review decision settles a duplicate.
            Self::PossibleDuplicate => false,
        }
    }
}

/// One flag on one child in one round.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Flag {
    pub kind: FlagKind,
    /// The reason in Bahasa Indonesia.
    pub reason: String,
    /// The check that answered it, if any (`kind by who`).
    pub resolved: Option<String>,
}

/// Formats a z-score the Indonesian way: `−2,15`.
#[must_use]
pub fn z_id(z: f64) -> String {
    format!("{z:.2}").replace('.', ",").replace('-', "−")
}

fn cm_id(mm: i64) -> String {
    format!("{:.1}", mm as f64 / 10.0).replace('.', ",")
}

/// A measurement of the reconciled child, with what flags need.
#[derive(Debug, Clone, Copy)]
pub struct Point {
    pub date: NaiveDate,
    pub haz: Option<f64>,
    pub waz: Option<f64>,
    /// Lying-equivalent length in mm (standing + 7 mm).
    pub length_lying_mm: Option<i64>,
    pub standing: Option<bool>,
    pub age_days: i64,
    pub implausible: bool,
}

/// The flags of a child in a round. `points` are its usable (not voided)
/// measurements in date order, `at` the index of its round measurement.
#[must_use]
pub fn flags(
    registrations: &[Registration],
    review_partners: usize,
    birth: &BirthDateChoice,
    sex: &SexChoice,
    points: &[Point],
    at: usize,
    round_end: NaiveDate,
) -> Vec<Flag> {
    let mut out = Vec::new();
    let mut push = |kind: FlagKind, reason: String| {
        out.push(Flag {
            kind,
            reason,
            resolved: None,
        });
    };

    // Birth date.
    let unsupported = !matches!(
        birth.basis,
        BirthDateBasis::Verified { .. } | BirthDateBasis::Nik { .. }
    ) && birth.typed.get(&birth.date).copied().unwrap_or(0) < 2;
    if unsupported && is_visit_date(registrations, birth.date) {
        push(
            FlagKind::PlaceholderBirthDate,
            format!(
                "Tanggal lahir {} sama dengan tanggal pengukuran: kemungkinan tanggal kunjungan",
                birth.date
            ),
        );
    } else if !birth.basis.is_verified() {
        match birth.shape() {
            DateShape::YearOnly => push(
                FlagKind::PlaceholderBirthDate,
                format!(
                    "Tanggal lahir {}: 1 Januari, kemungkinan hanya tahun lahir yang diketahui",
                    birth.date
                ),
            ),
            DateShape::RoundDay if birth.typed.get(&birth.date).copied().unwrap_or(0) < 2 => push(
                FlagKind::PlaceholderBirthDate,
                format!(
                    "Tanggal lahir {}: tanggal 1 atau 15, mungkin perkiraan",
                    birth.date
                ),
            ),
            _ => {}
        }
    }
    let readings = nik_readings(registrations, round_end);
    let nik_dates: Vec<NaiveDate> = {
        let mut v: Vec<NaiveDate> = readings.iter().map(|(d, _)| *d).collect();
        v.sort();
        v.dedup();
        v
    };
    if let Some(typed) = birth
        .typed
        .keys()
        .find(|d| !nik_dates.is_empty() && !nik_dates.contains(d))
    {
        let niks: Vec<String> = nik_dates.iter().map(ToString::to_string).collect();
        push(
            FlagKind::BirthDateVsNik,
            format!(
                "Tanggal lahir yang dicatat ({typed}) berbeda dengan tanggal dalam NIK ({})",
                niks.join(", ")
            ),
        );
    }
    if birth.typed.len() > 1 {
        let list: Vec<String> = birth
            .typed
            .iter()
            .map(|(d, n)| format!("{d} ({n}×)"))
            .collect();
        push(
            FlagKind::BirthDateVsRegistrations,
            format!(
                "Pendaftaran anak ini mencatat tanggal lahir berbeda: {}",
                list.join(", ")
            ),
        );
    }

    // Sex. A NIK is compared with the sex as typed (when the registrations
    // agree), not with the chosen one: after a sex check the flag stays,
    // shown as answered, like the birth-date flags do.
    let typed_sex = match sex.typed {
        [l, 0] if l > 0 => Sex::L,
        [0, p] if p > 0 => Sex::P,
        _ => sex.sex,
    };
    let nik_other = readings
        .iter()
        .filter(|(d, s)| *s != typed_sex && birth.typed.contains_key(d))
        .count();
    if sex.typed[0] > 0 && sex.typed[1] > 0 {
        push(
            FlagKind::SexDisagrees,
            format!(
                "Jenis kelamin berbeda antar pendaftaran (L {}×, P {}×)",
                sex.typed[0], sex.typed[1]
            ),
        );
    } else if nik_other > 0 {
        let other = match typed_sex {
            Sex::L => "P",
            Sex::P => "L",
        };
        push(
            FlagKind::SexDisagrees,
            format!(
                "Jenis kelamin ({}) berbeda dengan NIK ({other})",
                typed_sex.code()
            ),
        );
    }

    // The round measurement and its neighbours.
    if let Some(p) = points.get(at) {
        if p.implausible {
            push(
                FlagKind::Implausible,
                format!(
                    "Nilai tidak wajar menurut WHO pada pengukuran {}: perlu ukur ulang",
                    p.date
                ),
            );
        }
        let neighbours = [at.checked_sub(1), Some(at + 1)];
        for j in neighbours.into_iter().flatten() {
            let Some(q) = points.get(j) else { continue };
            let (first, second) = if j < at { (q, p) } else { (p, q) };
            let jump = |a: Option<f64>, b: Option<f64>| match (a, b) {
                (Some(a), Some(b)) if (b - a).abs() > MAX_Z_JUMP => Some((a, b)),
                _ => None,
            };
            if !first.implausible && !second.implausible {
                if let Some((a, b)) = jump(first.haz, second.haz) {
                    push(
                        FlagKind::HazJump,
                        format!(
                            "TB/U berubah dari {} ({}) ke {} ({})",
                            z_id(a),
                            first.date,
                            z_id(b),
                            second.date
                        ),
                    );
                }
                if let Some((a, b)) = jump(first.waz, second.waz) {
                    push(
                        FlagKind::WazJump,
                        format!(
                            "BB/U berubah dari {} ({}) ke {} ({})",
                            z_id(a),
                            first.date,
                            z_id(b),
                            second.date
                        ),
                    );
                }
            }
            if let (Some(a), Some(b)) = (first.length_lying_mm, second.length_lying_mm)
                && a - b > MAX_SHRINK_MM
            {
                push(
                    FlagKind::Shrinking,
                    format!(
                        "Panjang/tinggi badan turun {} cm dari {} ke {}",
                        cm_id(a - b),
                        first.date,
                        second.date
                    ),
                );
            }
        }
        if let Some(standing) = p.standing {
            let months = p.age_days * 100 / 3044;
            if standing && p.age_days < STANDING_FROM_DAYS {
                push(
                    FlagKind::PositionVsAge,
                    format!(
                        "Diukur berdiri pada umur {months} bulan (di bawah 24 bulan: telentang)"
                    ),
                );
            } else if !standing && p.age_days >= STANDING_FROM_DAYS {
                push(
                    FlagKind::PositionVsAge,
                    format!("Diukur telentang pada umur {months} bulan (mulai 24 bulan: berdiri)"),
                );
            }
        }
    }

    if review_partners > 0 {
        push(
            FlagKind::PossibleDuplicate,
            format!(
                "Kemungkinan duplikat dengan {} anak lain yang menunggu tinjauan",
                review_partners
            ),
        );
    }
    // Each kind once (the first reason), in the fixed order.
    out.sort_by_key(|f| f.kind);
    out.dedup_by_key(|f| f.kind);
    out
}

/// Marks the flags answered by a check in force for `round`: a birth date or
/// sex read from a document answers for good; a re-measurement or a
/// confirmation only for the round it was made for (or for every round when
/// recorded without one).
pub fn resolve(flags: &mut [Flag], verifications: &[Verification], round: &str) {
    for f in flags {
        let answered = verifications
            .iter()
            .filter(|v| {
                matches!(v.check, Check::BirthDate { .. } | Check::Sex { .. })
                    || v.round.as_deref().is_none_or(|r| r == round)
            })
            .filter(|v| f.kind.resolved_by(&v.check))
            .max_by_key(|v| (v.recorded_at_ms, v.id));
        f.resolved = answered.map(|v| format!("{} oleh {}", v.check.kind(), v.by));
    }
}
