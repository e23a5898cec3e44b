//! The duplicate check run before registering a child: how much does a new
//! registration look like an existing child, and is it likely the same one?
//!
//! Why: most duplicate children are born at registration, when a kader does
//! not find the existing record (another kader's device, a visit to another
//! posyandu, a sweeping visit) and types the child afresh. The field client
//! therefore looks for a likely existing child and refuses to register
//! unless the kader confirms it is a new child. The product rule: a likely
//! existing child has the same valid NIK, or a similar name (a newborn's
//! `By Ny <mother>` placeholder counts as similar to a real name with the
//! same mother) together with a matching birth date (equal, a few days off,
//! day and month swapped, the same year and month) or a similar mother's
//! name.
//!
//! What must not be flagged: twins (same mother, same birth date, names
//! that rhyme: Hasan/Husain, Salma/Salwa, Rizky/Rizka) and siblings (same
//! mother, other birth year). Hence the name must really be similar (see
//! [`crate::name_similarity`], which is strict on short names), and birth
//! dates that are known and clearly different rule a match out.

use std::fmt;

use chrono::{Datelike, NaiveDate};

use crate::is_newborn_placeholder;
use crate::names::{mother_name_similarity, name_similarity, normalize_name};
use crate::nik::{Nik, Sex};

/// Name similarity from which two child names count as similar.
pub const SIMILAR_NAME_THRESHOLD: f64 = 0.85;
/// Name similarity needed when the recorded sexes differ (sex is rarely
/// entered wrong, twins often are a boy and a girl).
pub const SIMILAR_NAME_THRESHOLD_OTHER_SEX: f64 = 0.95;
/// Mother's-name similarity from which two mothers count as the same.
pub const SIMILAR_MOTHER_THRESHOLD: f64 = 0.85;
/// Mother's-name similarity below which two mothers count as different.
/// In between ("Dwi" / "Dwi Sulistyowati") the mothers' names are neither
/// evidence for nor against.
pub const DIFFERENT_MOTHER_THRESHOLD: f64 = 0.6;
/// Birth dates less than this many days apart cannot be two children of
/// one mother, except twins, who share the date: with the same mother such
/// a pair is one child with a mistyped birth date.
pub const SIBLING_MIN_GAP_DAYS: i64 = 270;

/// The identity fields of a child as entered (raw, not normalised).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ChildKey<'a> {
    /// The child's name as typed (may be a newborn placeholder).
    pub name: &'a str,
    /// Sex, if known.
    pub sex: Option<Sex>,
    /// Birth date, if entered.
    pub birth_date: Option<NaiveDate>,
    /// The mother's name as typed (honorifics allowed).
    pub mother_name: Option<&'a str>,
    /// The child's NIK as typed (parsed here; invalid ones are ignored).
    pub nik: Option<&'a str>,
}

/// One piece of evidence for (or, where noted, against) two registrations
/// being the same child. `Display` is Indonesian; [`LikenessReason::en`]
/// gives English.
#[derive(Debug, Clone, PartialEq)]
pub enum LikenessReason {
    /// Both have the same valid, non-dummy NIK.
    SameNik,
    /// Both have a valid, non-dummy NIK and they differ (against; twins'
    /// NIKs differ in the serial, but NIK typos exist too).
    DifferentNik,
    /// The names are equal after normalisation.
    SameName,
    /// The names are similar ([`SIMILAR_NAME_THRESHOLD`] or more).
    SimilarName {
        /// [`crate::name_similarity`] of the two names.
        similarity: f64,
    },
    /// The names are not similar (against).
    DifferentName {
        /// [`crate::name_similarity`] of the two names.
        similarity: f64,
    },
    /// One is a newborn placeholder ("By Ny Siti") and the mother it names
    /// matches the other's mother (or the other's placeholder).
    NewbornPlaceholder {
        /// Similarity of the mothers' names.
        mother_similarity: f64,
    },
    /// Same birth date.
    SameBirthDate,
    /// Same year, day and month swapped (05-07 vs 07-05).
    BirthDateDayMonthSwapped,
    /// Birth dates within a few days (at most 14, or up to 62 days as weak
    /// evidence).
    BirthDateClose {
        /// Days apart.
        days: i64,
    },
    /// Same year and month (one of them "the 1st" or "the 15th").
    BirthDateSameMonth,
    /// Same year and one of them on 1 January (only the year known).
    BirthDateSameYear,
    /// Day and month equal, the year off by one.
    BirthDateYearOff,
    /// Same year, one digit of day or month differs (a typo).
    BirthDateOneDigit,
    /// Birth dates clearly different (against).
    BirthDateFar {
        /// Days apart.
        days: i64,
    },
    /// The mothers' names are equal after normalisation.
    SameMother,
    /// The mothers' names are similar ([`SIMILAR_MOTHER_THRESHOLD`] or
    /// more; nicknames like Aminah/Minah count).
    SimilarMother {
        /// [`crate::mother_name_similarity`].
        similarity: f64,
    },
    /// Both mothers' names known and clearly different (below
    /// [`DIFFERENT_MOTHER_THRESHOLD`]; against, though it may be the
    /// grandmother bringing the child).
    DifferentMother {
        /// [`crate::mother_name_similarity`].
        similarity: f64,
    },
    /// Same recorded sex.
    SameSex,
    /// Different recorded sex (against).
    DifferentSex,
}

impl LikenessReason {
    /// Whether this is evidence against being the same child.
    pub fn is_against(&self) -> bool {
        matches!(
            self,
            LikenessReason::DifferentNik
                | LikenessReason::DifferentName { .. }
                | LikenessReason::BirthDateFar { .. }
                | LikenessReason::DifferentMother { .. }
                | LikenessReason::DifferentSex
        )
    }

    /// The reason in English.
    pub fn en(&self) -> String {
        match self {
            LikenessReason::SameNik => "same NIK".to_owned(),
            LikenessReason::DifferentNik => "different NIK".to_owned(),
            LikenessReason::SameName => "same name".to_owned(),
            LikenessReason::SimilarName { similarity } => {
                format!("similar name ({:.0}%)", similarity * 100.0)
            }
            LikenessReason::DifferentName { similarity } => {
                format!("different name ({:.0}% similar)", similarity * 100.0)
            }
            LikenessReason::NewbornPlaceholder { .. } => {
                "registered as a newborn of the same mother".to_owned()
            }
            LikenessReason::SameBirthDate => "same birth date".to_owned(),
            LikenessReason::BirthDateDayMonthSwapped => {
                "birth date with day and month swapped".to_owned()
            }
            LikenessReason::BirthDateClose { days } => format!("birth dates {days} days apart"),
            LikenessReason::BirthDateSameMonth => "birth date in the same month".to_owned(),
            LikenessReason::BirthDateSameYear => {
                "same birth year (one date is 1 January)".to_owned()
            }
            LikenessReason::BirthDateYearOff => "birth date one year apart".to_owned(),
            LikenessReason::BirthDateOneDigit => "birth date differs by one digit".to_owned(),
            LikenessReason::BirthDateFar { days } => {
                format!("birth dates far apart ({days} days)")
            }
            LikenessReason::SameMother => "same mother".to_owned(),
            LikenessReason::SimilarMother { .. } => "similar mother's name".to_owned(),
            LikenessReason::DifferentMother { .. } => "different mother's name".to_owned(),
            LikenessReason::SameSex => "same sex".to_owned(),
            LikenessReason::DifferentSex => "different sex".to_owned(),
        }
    }
}

impl fmt::Display for LikenessReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LikenessReason::SameNik => f.write_str("NIK sama"),
            LikenessReason::DifferentNik => f.write_str("NIK berbeda"),
            LikenessReason::SameName => f.write_str("nama sama"),
            LikenessReason::SimilarName { similarity } => {
                write!(f, "nama mirip ({:.0}%)", similarity * 100.0)
            }
            LikenessReason::DifferentName { similarity } => {
                write!(f, "nama berbeda (kemiripan {:.0}%)", similarity * 100.0)
            }
            LikenessReason::NewbornPlaceholder { .. } => {
                f.write_str("terdaftar sebagai bayi dari ibu yang sama")
            }
            LikenessReason::SameBirthDate => f.write_str("tanggal lahir sama"),
            LikenessReason::BirthDateDayMonthSwapped => {
                f.write_str("tanggal lahir dengan tanggal dan bulan tertukar")
            }
            LikenessReason::BirthDateClose { days } => {
                write!(f, "tanggal lahir selisih {days} hari")
            }
            LikenessReason::BirthDateSameMonth => f.write_str("bulan dan tahun lahir sama"),
            LikenessReason::BirthDateSameYear => {
                f.write_str("tahun lahir sama (salah satu 1 Januari)")
            }
            LikenessReason::BirthDateYearOff => f.write_str("tanggal lahir selisih satu tahun"),
            LikenessReason::BirthDateOneDigit => f.write_str("tanggal lahir beda satu angka"),
            LikenessReason::BirthDateFar { days } => {
                write!(f, "tanggal lahir jauh berbeda ({days} hari)")
            }
            LikenessReason::SameMother => f.write_str("ibu sama"),
            LikenessReason::SimilarMother { .. } => f.write_str("nama ibu mirip"),
            LikenessReason::DifferentMother { .. } => f.write_str("nama ibu berbeda"),
            LikenessReason::SameSex => f.write_str("jenis kelamin sama"),
            LikenessReason::DifferentSex => f.write_str("jenis kelamin berbeda"),
        }
    }
}

/// How much a new registration looks like an existing child.
#[derive(Debug, Clone, PartialEq)]
pub struct Likeness {
    /// 0..=1, for ranking candidates (not for deciding: see
    /// [`is_likely_same_child`]).
    pub score: f64,
    /// The evidence, for and against, in a fixed order: NIK, name, birth
    /// date, mother, sex.
    pub reasons: Vec<LikenessReason>,
}

fn usable_nik(s: Option<&str>) -> Option<Nik> {
    Nik::parse(s?).ok().filter(|n| !n.is_dummy())
}

fn non_empty(s: Option<&str>) -> Option<&str> {
    s.filter(|m| !normalize_name(m).is_empty())
}

/// What a birth-date reason is worth for [`is_likely_same_child`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DateSupport {
    /// Same date, a few days off, day/month swapped, same year and month.
    Strong,
    /// Same year with 1 January, one digit of day/month off, 15-62 days.
    Weak,
    /// Year off by one (same day and month), or too close for two
    /// children of one mother: the mother's name must agree.
    WithMother,
    /// Far apart: not the same child.
    Against,
}

fn date_support(r: &LikenessReason) -> Option<DateSupport> {
    use LikenessReason as R;
    Some(match r {
        R::SameBirthDate | R::BirthDateDayMonthSwapped | R::BirthDateSameMonth => {
            DateSupport::Strong
        }
        R::BirthDateClose { days } if *days <= 14 => DateSupport::Strong,
        R::BirthDateClose { .. } | R::BirthDateSameYear | R::BirthDateOneDigit => DateSupport::Weak,
        R::BirthDateYearOff => DateSupport::WithMother,
        R::BirthDateFar { days } if *days < SIBLING_MIN_GAP_DAYS => DateSupport::WithMother,
        R::BirthDateFar { .. } => DateSupport::Against,
        _ => return None,
    })
}

/// The relation between two birth dates, as a reason.
fn date_relation(a: NaiveDate, b: NaiveDate) -> LikenessReason {
    use LikenessReason as R;
    if a == b {
        return R::SameBirthDate;
    }
    let days = (a - b).num_days().abs();
    let same_year = a.year() == b.year();
    if same_year && a.day() == b.month() && a.month() == b.day() {
        return R::BirthDateDayMonthSwapped;
    }
    if days <= 14 {
        return R::BirthDateClose { days };
    }
    if same_year && a.month() == b.month() {
        return R::BirthDateSameMonth;
    }
    if (a.month(), a.day()) == (b.month(), b.day()) && (a.year() - b.year()).abs() == 1 {
        return R::BirthDateYearOff;
    }
    let jan1 = |d: NaiveDate| d.month() == 1 && d.day() == 1;
    if same_year && (jan1(a) || jan1(b)) {
        return R::BirthDateSameYear;
    }
    if same_year {
        let fa = format!("{:02}{:02}", a.month(), a.day());
        let fb = format!("{:02}{:02}", b.month(), b.day());
        if fa.bytes().zip(fb.bytes()).filter(|(x, y)| x != y).count() == 1 {
            return R::BirthDateOneDigit;
        }
    }
    if days <= 62 {
        return R::BirthDateClose { days };
    }
    R::BirthDateFar { days }
}

/// Compares a new registration with an existing child.
///
/// Evidence gathered (see [`LikenessReason`]): the NIKs (only valid,
/// non-dummy ones count), the names ([`crate::name_similarity`]; a newborn
/// placeholder is compared through its mother's name instead), the birth
/// dates, the mothers' names ([`crate::mother_name_similarity`]) and sex.
///
/// The score, for ranking only, is 0.5 × name + 0.3 × birth date + 0.15 ×
/// mother + 0.05 × sex (unknown parts count as neutral values), at least
/// 0.95 with the same NIK and reduced by 10 % with different NIKs. The
/// function is symmetric.
pub fn likeness(new: &ChildKey, existing: &ChildKey) -> Likeness {
    use LikenessReason as R;
    let mut reasons = Vec::new();

    // NIK.
    let nik_new = usable_nik(new.nik);
    let nik_old = usable_nik(existing.nik);
    let nik_relation = match (&nik_new, &nik_old) {
        (Some(a), Some(b)) if a == b => Some(true),
        (Some(_), Some(_)) => Some(false),
        _ => None,
    };
    match nik_relation {
        Some(true) => reasons.push(R::SameNik),
        Some(false) => reasons.push(R::DifferentNik),
        None => {}
    }

    // Mothers: the mother_name fields plus what a placeholder names.
    let ph_new = is_newborn_placeholder(new.name);
    let ph_old = is_newborn_placeholder(existing.name);
    let mothers = |k: &ChildKey<'_>, ph: &Option<String>| -> Vec<String> {
        let mut v: Vec<String> = non_empty(k.mother_name)
            .map(str::to_owned)
            .into_iter()
            .collect();
        if let Some(p) = ph.as_ref().filter(|p| !p.is_empty()) {
            v.push(p.clone());
        }
        v
    };
    let best_mother = |a: &[String], b: &[String]| -> Option<f64> {
        let mut best: Option<f64> = None;
        for x in a {
            for y in b {
                let s = mother_name_similarity(x, y);
                best = Some(best.map_or(s, |m: f64| m.max(s)));
            }
        }
        best
    };

    // Name.
    let name_part;
    if ph_new.is_some() || ph_old.is_some() {
        let ms = best_mother(&mothers(new, &ph_new), &mothers(existing, &ph_old));
        match ms {
            Some(s) if s >= SIMILAR_MOTHER_THRESHOLD => {
                reasons.push(R::NewbornPlaceholder {
                    mother_similarity: s,
                });
                name_part = 0.9 * s;
            }
            _ => name_part = 0.0,
        }
    } else {
        let (a, b) = (normalize_name(new.name), normalize_name(existing.name));
        if a.is_empty() || b.is_empty() {
            // No name on one side: no evidence either way.
            name_part = 0.0;
        } else if a == b {
            reasons.push(R::SameName);
            name_part = 1.0;
        } else {
            let s = name_similarity(new.name, existing.name);
            if s >= SIMILAR_NAME_THRESHOLD {
                reasons.push(R::SimilarName { similarity: s });
            } else {
                reasons.push(R::DifferentName { similarity: s });
            }
            name_part = s;
        }
    }

    // Birth date.
    let date_part = match (new.birth_date, existing.birth_date) {
        (Some(a), Some(b)) => {
            let reason = date_relation(a, b);
            let v = match (&reason, date_support(&reason)) {
                (R::SameBirthDate, _) => 1.0,
                (_, Some(DateSupport::Strong)) => 0.85,
                (_, Some(DateSupport::Weak)) => 0.5,
                (_, Some(DateSupport::WithMother)) => 0.3,
                _ => 0.0,
            };
            reasons.push(reason);
            v
        }
        _ => 0.4,
    };

    // Mother's name (fields only; a placeholder's mother was used above).
    let mother_part = match (non_empty(new.mother_name), non_empty(existing.mother_name)) {
        (Some(a), Some(b)) => {
            let s = mother_name_similarity(a, b);
            if normalize_name(a) == normalize_name(b) {
                reasons.push(R::SameMother);
            } else if s >= SIMILAR_MOTHER_THRESHOLD {
                reasons.push(R::SimilarMother { similarity: s });
            } else if s < DIFFERENT_MOTHER_THRESHOLD {
                reasons.push(R::DifferentMother { similarity: s });
            }
            s
        }
        _ => 0.5,
    };

    // Sex.
    let sex_part = match (new.sex, existing.sex) {
        (Some(a), Some(b)) if a == b => {
            reasons.push(R::SameSex);
            1.0
        }
        (Some(_), Some(_)) => {
            reasons.push(R::DifferentSex);
            0.0
        }
        _ => 0.5,
    };

    let mut score = 0.5 * name_part + 0.3 * date_part + 0.15 * mother_part + 0.05 * sex_part;
    match nik_relation {
        Some(true) => score = score.max(0.95),
        Some(false) => score *= 0.9,
        None => {}
    }
    Likeness {
        score: score.clamp(0.0, 1.0),
        reasons,
    }
}

/// Whether the likeness is strong enough to stop a registration and show
/// the existing child as a candidate.
///
/// - The same valid, non-dummy NIK: likely.
/// - Otherwise the names must match: [`LikenessReason::SameName`], a
///   [`LikenessReason::SimilarName`], or a [`LikenessReason::NewbornPlaceholder`]
///   of the same mother; when the recorded sexes differ only the same name
///   or a similarity of [`SIMILAR_NAME_THRESHOLD_OTHER_SEX`] counts, and
///   a placeholder does not count when both have (different) NIKs: twins
///   get consecutive NIKs, and a placeholder cannot tell twins apart.
/// - And something else must agree:
///   - a strong birth-date match (same, close ≤ 14 days, day/month swapped,
///     same year and month) suffices;
///   - a weak one in the same year (same year with 1 January, one digit of
///     day/month off, 15-62 days apart) suffices unless both mothers are
///     known and different;
///   - with no birth date on one side, the year off by one (same day and
///     month), or dates less than [`SIBLING_MIN_GAP_DAYS`] apart (too close
///     for two children of one mother), the mother's name must be the same
///     or similar;
///   - birth dates further apart rule it out (siblings), whatever the
///     mother and the name: a birth date entered completely wrong (the
///     date picker left on the visit date) is missed, a sibling is never
///     taken for the child.
///
/// Twins (same mother and birth date, different names) are therefore not
/// flagged: their names do not match.
pub fn is_likely_same_child(l: &Likeness) -> bool {
    use LikenessReason as R;
    let has = |f: fn(&LikenessReason) -> bool| l.reasons.iter().any(f);
    if has(|r| matches!(r, R::SameNik)) {
        return true;
    }
    let other_sex = has(|r| matches!(r, R::DifferentSex));
    let different_nik = has(|r| matches!(r, R::DifferentNik));
    let name_ok = l.reasons.iter().any(|r| match r {
        R::SameName => true,
        R::SimilarName { similarity } => {
            *similarity
                >= if other_sex {
                    SIMILAR_NAME_THRESHOLD_OTHER_SEX
                } else {
                    SIMILAR_NAME_THRESHOLD
                }
        }
        R::NewbornPlaceholder { .. } => !other_sex && !different_nik,
        _ => false,
    });
    if !name_ok {
        return false;
    }
    let mother_ok = has(|r| matches!(r, R::SameMother | R::SimilarMother { .. }))
        || has(|r| matches!(r, R::NewbornPlaceholder { .. }));
    let mother_differs = has(|r| matches!(r, R::DifferentMother { .. })) && !mother_ok;
    match l.reasons.iter().find_map(date_support) {
        Some(DateSupport::Strong) => true,
        Some(DateSupport::Weak) => !mother_differs,
        Some(DateSupport::WithMother) | None => mother_ok,
        Some(DateSupport::Against) => false,
    }
}

/// The existing children that are likely the same child as `new`
/// ([`is_likely_same_child`]), best first: by score, ties in input order.
/// `T` is whatever identifies an existing child for the caller (an id, an
/// index, a reference to the record).
pub fn likely_candidates<'a, T>(
    new: &ChildKey<'_>,
    existing: impl IntoIterator<Item = (T, ChildKey<'a>)>,
) -> Vec<(T, Likeness)> {
    let mut out: Vec<(T, Likeness)> = existing
        .into_iter()
        .filter_map(|(id, key)| {
            let l = likeness(new, &key);
            is_likely_same_child(&l).then_some((id, l))
        })
        .collect();
    // A stable sort keeps the input order among equal scores.
    out.sort_by(|a, b| b.1.score.total_cmp(&a.1.score));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> Option<NaiveDate> {
        NaiveDate::from_ymd_opt(y, m, day)
    }

    fn key<'a>(name: &'a str, sex: Sex, birth: Option<NaiveDate>, mother: &'a str) -> ChildKey<'a> {
        ChildKey {
            name,
            sex: Some(sex),
            birth_date: birth,
            mother_name: Some(mother),
            nik: None,
        }
    }

    fn likely(a: &ChildKey, b: &ChildKey) -> bool {
        let l = likeness(a, b);
        let r = likeness(b, a);
        assert_eq!(l, r, "likeness must be symmetric");
        assert!((0.0..=1.0).contains(&l.score));
        is_likely_same_child(&l)
    }

    #[test]
    fn same_nik_is_likely() {
        let a = ChildKey {
            name: "Rizky",
            nik: Some("3530010507210012"),
            ..ChildKey::default()
        };
        let b = ChildKey {
            name: "Aisyah",
            nik: Some(" 3530010507210012"),
            ..ChildKey::default()
        };
        let l = likeness(&a, &b);
        assert!(l.reasons.contains(&LikenessReason::SameNik));
        assert!(l.score >= 0.95);
        assert!(is_likely_same_child(&l));
    }

    #[test]
    fn dummy_or_invalid_same_nik_is_not_evidence() {
        for nik in ["3530010000000000", "0000000000000000", "12345"] {
            let a = ChildKey {
                name: "Rizky",
                nik: Some(nik),
                ..ChildKey::default()
            };
            let b = ChildKey {
                name: "Aisyah",
                nik: Some(nik),
                ..ChildKey::default()
            };
            let l = likeness(&a, &b);
            assert!(!l.reasons.contains(&LikenessReason::SameNik), "{nik}");
            assert!(!is_likely_same_child(&l), "{nik}");
        }
    }

    #[test]
    fn similar_name_and_birth_date_variants_are_likely() {
        let base = key(
            "Muhammad Rizky Pratama",
            Sex::Male,
            d(2022, 5, 7),
            "Siti Aminah",
        );
        for (name, birth) in [
            ("M. Rizki Pratama", d(2022, 5, 7)),
            ("Muhammad Rizky Pratama", d(2022, 7, 5)),
            ("Moh. Risky Pratama", d(2022, 5, 11)),
            ("Rizky Pratama", d(2022, 5, 1)),
            ("Muhammad Rizky", d(2022, 5, 15)),
            ("Rizqi Pratama", d(2022, 1, 1)),
        ] {
            let other = key(name, Sex::Male, birth, "Aminah");
            assert!(likely(&base, &other), "{name} {birth:?}");
        }
    }

    #[test]
    fn similar_name_and_mother_without_birth_date_is_likely() {
        let a = key("Aisyah Putri", Sex::Female, None, "Ny. Siti Aminah");
        let b = key("Aisah Putri", Sex::Female, d(2021, 3, 3), "Siti Aminah");
        assert!(likely(&a, &b));
        // Year off by one with the same mother.
        let c = key("Aisah Putri", Sex::Female, d(2020, 3, 3), "Siti Aminah");
        let e = key("Aisyah Putri", Sex::Female, d(2021, 3, 3), "Ibu Aminah");
        assert!(likely(&c, &e));
        // ... but not without the mother.
        let f = key("Aisyah Putri", Sex::Female, d(2021, 3, 3), "Sumarni");
        assert!(!likely(&c, &f));
    }

    #[test]
    fn newborn_placeholder_with_same_mother_is_likely() {
        let a = key(
            "By Ny Siti Aminah",
            Sex::Male,
            d(2024, 2, 19),
            "Siti Aminah",
        );
        let b = key("Arga Saputra", Sex::Male, d(2024, 2, 19), "Siti Aminah");
        let l = likeness(&a, &b);
        assert!(
            l.reasons
                .iter()
                .any(|r| matches!(r, LikenessReason::NewbornPlaceholder { .. })),
            "{l:?}"
        );
        assert!(is_likely_same_child(&l));
        // Placeholder without a mother_name field, mother only in the name.
        let c = ChildKey {
            name: "Bayi Tukiyem",
            birth_date: d(2024, 2, 19),
            ..ChildKey::default()
        };
        let e = key("Irfan Saputra", Sex::Male, d(2024, 2, 21), "Toekiyem");
        assert!(likely(&c, &e));
        // Another mother: not likely.
        let f = key("Irfan Saputra", Sex::Male, d(2024, 2, 19), "Sumarni");
        assert!(!likely(&c, &f));
        // The newborn's older sibling: same mother, other year.
        let g = key("Rizky", Sex::Male, d(2021, 6, 1), "Siti Aminah");
        assert!(!likely(&a, &g));
        // A twin: both have NIKs, consecutive serials.
        let h = ChildKey {
            nik: Some("3530011902240039"),
            ..a
        };
        let i = ChildKey {
            nik: Some("3530011902240040"),
            ..b
        };
        assert!(!likely(&h, &i));
    }

    #[test]
    fn twins_are_not_likely() {
        for (x, y, sx, sy) in [
            ("Hasan", "Husain", Sex::Male, Sex::Male),
            ("Salma", "Salwa", Sex::Female, Sex::Female),
            ("Rizky", "Rizka", Sex::Male, Sex::Female),
            ("Rizki", "Rizka", Sex::Female, Sex::Female),
            ("Hasan Al Fatih", "Husain Al Fatih", Sex::Male, Sex::Male),
            ("Salma Aulia", "Salwa Aulia", Sex::Female, Sex::Female),
            ("Nabil Ramadhan", "Nabila Ramadhan", Sex::Male, Sex::Female),
            ("Yusuf", "Yunus", Sex::Male, Sex::Male),
            ("Zaka Sanjaya", "Zaki Sanjaya", Sex::Male, Sex::Male),
        ] {
            let a = key(x, sx, d(2023, 4, 19), "Siti Aminah");
            let b = key(y, sy, d(2023, 4, 19), "Siti Aminah");
            let l = likeness(&a, &b);
            assert!(!is_likely_same_child(&l), "{x} / {y}: {l:?}");
            assert!(likeness(&b, &a) == l);
        }
    }

    #[test]
    fn siblings_with_other_birth_years_are_not_likely() {
        for (x, y) in [
            ("Muhammad Rizky", "Muhammad Fajar"),
            ("Putri Aisyah", "Putri Nabila"),
            ("Aisyah", "Aisyah"),
            ("Rizky Pratama", "Rizki Pratama"),
        ] {
            let a = key(x, Sex::Male, d(2020, 3, 10), "Siti Aminah");
            let b = key(y, Sex::Male, d(2022, 8, 1), "Siti Aminah");
            assert!(!likely(&a, &b), "{x} / {y}");
            // Even on the same day and month two years apart.
            let c = key(y, Sex::Male, d(2022, 3, 10), "Siti Aminah");
            assert!(!likely(&a, &c), "{x} / {y}");
        }
    }

    #[test]
    fn unrelated_children_are_not_likely() {
        let a = key("Muhammad Rizky", Sex::Male, d(2022, 5, 7), "Sumarni");
        let b = key("Aisyah Putri", Sex::Female, d(2022, 5, 7), "Sumarni");
        assert!(!likely(&a, &b));
        let c = key("Muhammad Rizky", Sex::Male, d(2022, 9, 20), "Wartini");
        assert!(!likely(&a, &c));
        // Different sex needs an (almost) identical name.
        let e = key("Muhammad Rizky", Sex::Female, d(2022, 5, 7), "Sumarni");
        assert!(likely(&a, &e));
        let f = key("Rizka", Sex::Female, d(2022, 5, 7), "Sumarni");
        assert!(!likely(&a, &f));
    }

    #[test]
    fn candidates_are_filtered_and_ranked() {
        let new = key("M. Rizki", Sex::Male, d(2022, 5, 9), "Siti Aminah");
        let existing = [
            key("Muhammad Rizky", Sex::Male, d(2022, 5, 7), "Aminah"),
            key("Muhammad Fajar", Sex::Male, d(2022, 5, 9), "Siti Aminah"),
            key("Muhammad Rizky", Sex::Male, d(2022, 5, 9), "Siti Aminah"),
            key("Rizka", Sex::Female, d(2022, 5, 9), "Siti Aminah"),
        ];
        let found = likely_candidates(&new, existing.iter().copied().enumerate());
        let ids: Vec<usize> = found.iter().map(|(i, _)| *i).collect();
        assert_eq!(ids, vec![2, 0]);
        assert!(found[0].1.score > found[1].1.score);
    }

    #[test]
    fn empty_keys_do_not_panic_and_are_not_likely() {
        let e = ChildKey::default();
        let l = likeness(&e, &e);
        assert!(!is_likely_same_child(&l));
        let odd = ChildKey {
            name: "😊",
            mother_name: Some("Ny."),
            nik: Some("٣"),
            ..ChildKey::default()
        };
        assert!(!likely(&odd, &odd));
    }

    #[test]
    fn reasons_have_both_languages() {
        let a = key("Muhammad Rizky", Sex::Male, d(2022, 5, 7), "Siti Aminah");
        let b = key("M. Rizki", Sex::Female, d(2023, 5, 7), "Sumarni");
        let l = likeness(&a, &b);
        for r in &l.reasons {
            assert!(!r.to_string().is_empty() && !r.en().is_empty());
        }
        assert!(l.reasons.iter().any(LikenessReason::is_against));
    }
}
