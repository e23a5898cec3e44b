//! Comparing two registrations field by field: each comparison yields a
//! discrete agreement level (the unit the Fellegi–Sunter weights are
//! estimated for), plus the hard conflicts and growth evidence that no
//! weight may override.
//!
//! Why levels rather than raw similarities: the weight of "names agree up
//! to spelling" or "birth date off by a day/month swap" is learnt from the
//! data by EM; what is domain knowledge is *which* differences are typical
//! entry errors (day/month swap, a few days off, 1 January for a year-only
//! date, a one- or two-digit NIK typo, two adjacent digits swapped) and
//! which mean another child (a NIK of the same kecamatan and birth date
//! with a neighbouring serial, or a NIK of the other sex: a twin's).

use chrono::{Datelike, NaiveDate};

use crate::names::{prepared_mother_name_similarity, prepared_name_similarity};
use crate::nik::Nik;
use crate::record::Registration;

/// The compared fields, in the order of [`Comparison::levels`].
pub const FIELDS: [&str; 10] = [
    "name",
    "birth_date",
    "sex",
    "mother",
    "nik",
    "no_kk",
    "area",
    "father",
    "mother_nik",
    "address",
];

/// Number of compared fields.
pub const N_FIELDS: usize = FIELDS.len();

/// Number of levels per field, level 0 being "missing" (no evidence).
pub const LEVELS: [usize; N_FIELDS] = [7, 5, 3, 4, 5, 4, 5, 3, 3, 3];

/// Most levels any field has.
pub const MAX_LEVELS: usize = 7;

/// Level names per field, for the evidence text.
pub(crate) const LEVEL_NAMES: [&[&str]; N_FIELDS] = [
    &[
        "missing",
        "equal",
        "variant",
        "similar",
        "weak",
        "different",
        "placeholder~mother",
    ],
    &["missing", "equal", "entry-error", "near", "different"],
    &["missing", "equal", "different"],
    &["missing", "equal", "similar", "different"],
    &["missing", "equal", "typo", "two-digits", "different"],
    &["missing", "equal", "typo", "different"],
    &["missing", "rt-rw", "desa", "kecamatan", "different"],
    &["missing", "similar", "different"],
    &["missing", "equal", "different"],
    &["missing", "shared-place", "different"],
];

/// The agreement levels of one pair, plus the raw name similarities kept for
/// the hard rules.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Comparison {
    /// One level per field of [`FIELDS`]; 0 = missing.
    pub levels: [u8; N_FIELDS],
    /// Child-name similarity (0 when a placeholder is involved).
    pub name_sim: f64,
    /// Mother-name similarity.
    pub mother_sim: f64,
}

fn name_level(a: &Registration, b: &Registration, mother_sim: f64) -> (u8, f64) {
    match (
        &a.placeholder_mother_prepared,
        &b.placeholder_mother_prepared,
    ) {
        (Some(pa), Some(pb)) => {
            // Two placeholders: both newborn entries of the same mother?
            let s = prepared_mother_name_similarity(pa, pb);
            (if s >= 0.85 { 6 } else { 0 }, 0.0)
        }
        (Some(p), None) | (None, Some(p)) => {
            // "By Ny Siti" vs a real name: the placeholder names the mother.
            let other = if a.placeholder_mother.is_some() { b } else { a };
            let raw = if a.placeholder_mother.is_some() {
                &a.placeholder_mother
            } else {
                &b.placeholder_mother
            };
            let s = if raw.as_deref().is_none_or(str::is_empty) {
                mother_sim
            } else {
                prepared_mother_name_similarity(p, &other.mother_prepared)
            };
            (if s >= 0.85 { 6 } else { 0 }, 0.0)
        }
        (None, None) => {
            if a.name.is_empty() || b.name.is_empty() {
                return (0, 0.0);
            }
            if a.name == b.name {
                return (1, 1.0);
            }
            let s = prepared_name_similarity(&a.name_prepared, &b.name_prepared);
            let level = if s >= 0.93 {
                2
            } else if s >= 0.85 {
                3
            } else if s >= 0.65 {
                4
            } else {
                5
            };
            (level, s)
        }
    }
}

/// Whether two dates differ by one typical entry error: day and month
/// swapped, a few days off, the 1st or 15th of the right month, the year off
/// by one, or one digit mistyped.
pub(crate) fn is_date_entry_error(a: NaiveDate, b: NaiveDate) -> bool {
    let days = (a - b).num_days().abs();
    if days <= 7 {
        return true;
    }
    let swapped = |x: NaiveDate, y: NaiveDate| {
        x.year() == y.year() && x.day() == y.month() && x.month() == y.day()
    };
    if swapped(a, b) {
        return true;
    }
    let same_month = a.year() == b.year() && a.month() == b.month();
    if same_month && [1, 15].iter().any(|d| a.day() == *d || b.day() == *d) {
        return true;
    }
    if (a.year() - b.year()).abs() == 1 && a.month() == b.month() && a.day() == b.day() {
        return true;
    }
    digit_differences(a, b) == 1
}

/// Number of differing characters of the `%Y%m%d` forms of two dates
/// (compared position by position up to the shorter one).
fn digit_differences(a: NaiveDate, b: NaiveDate) -> usize {
    let four_digits = |d: NaiveDate| (0..=9999).contains(&d.year());
    if !four_digits(a) || !four_digits(b) {
        let sa = a.format("%Y%m%d").to_string();
        let sb = b.format("%Y%m%d").to_string();
        return sa.bytes().zip(sb.bytes()).filter(|(x, y)| x != y).count();
    }
    let number = |d: NaiveDate| d.year() as u32 * 10_000 + d.month() * 100 + d.day();
    let (mut x, mut y) = (number(a), number(b));
    let mut n = 0;
    for _ in 0..8 {
        n += usize::from(x % 10 != y % 10);
        x /= 10;
        y /= 10;
    }
    n
}

pub(crate) fn birth_level(a: Option<NaiveDate>, b: Option<NaiveDate>) -> u8 {
    let (Some(a), Some(b)) = (a, b) else { return 0 };
    if a == b {
        return 1;
    }
    if is_date_entry_error(a, b) {
        return 2;
    }
    let year_only =
        |x: NaiveDate, y: NaiveDate| x.month() == 1 && x.day() == 1 && x.year() == y.year();
    if year_only(a, b) || year_only(b, a) || (a - b).num_days().abs() <= 62 {
        return 3;
    }
    4
}

/// Number of differing digits of two equally long digit strings, or `None`
/// for different lengths.
fn digit_distance(a: &str, b: &str) -> Option<usize> {
    (a.len() == b.len()).then(|| a.bytes().zip(b.bytes()).filter(|(x, y)| x != y).count())
}

/// The NIK level: 1 equal; 2 a typo (one digit, or two adjacent digits
/// swapped); 3 two digits differ; 4 different.
///
/// Why the exceptions come first: Dukcapil numbers the serial in order
/// among the people registered in one kecamatan with one birth date, so
/// twins (and any two children born there that day) carry NIKs that differ
/// only in a neighbouring serial (`…0294`/`…0295`, `…0129`/`…0130`): one
/// or two digits, exactly what a typo looks like. The day part of a girl is
/// the day + 40, so twins of different sex differ in the day's first digit
/// and in the serial: two digits again. Neither is a typo of one child's
/// number. A one- or two-digit difference anywhere else (another region
/// digit, another date digit, a serial far off) is a typo far more often
/// than another child's NIK. One- and two-digit differences are separate
/// levels because two-digit differences between different children are
/// much more common (siblings registered the same day share region, year
/// and the serial's leading digits), so EM weighs them apart.
pub(crate) fn nik_level(a: Option<&Nik>, b: Option<&Nik>) -> u8 {
    let (Some(a), Some(b)) = (a, b) else { return 0 };
    if a == b {
        return 1;
    }
    if let (Some(x), Some(y)) = (a.sex(), b.sex())
        && x != y
    {
        return 4;
    }
    if a.region() == b.region() && a.date_part() == b.date_part() {
        let serial = |n: &Nik| n.serial().parse::<i32>().unwrap_or(0);
        // Triplets take three serials in a row; further apart is a typo.
        if (serial(a) - serial(b)).abs() <= 2 {
            return 4;
        }
    }
    let (x, y) = (a.as_str().as_bytes(), b.as_str().as_bytes());
    // The first three differing positions (three or more is "different");
    // kept in an array so that a comparison allocates nothing.
    let mut differ = [0usize; 3];
    let mut n = 0;
    for i in (0..x.len().min(y.len())).filter(|&i| x[i] != y[i]) {
        if n == differ.len() {
            break;
        }
        differ[n] = i;
        n += 1;
    }
    match &differ[..n] {
        [_] => 2,
        [i, j] if *j == i + 1 && x[*i] == y[*j] && x[*j] == y[*i] => 2,
        [_, _] => 3,
        _ => 4,
    }
}

fn id_level(a: Option<&str>, b: Option<&str>) -> u8 {
    let (Some(a), Some(b)) = (a, b) else { return 0 };
    match digit_distance(a, b) {
        Some(0) => 1,
        Some(1) => 2,
        _ => 3,
    }
}

fn area_level(a: &Registration, b: &Registration) -> u8 {
    if a.desa.is_empty() || b.desa.is_empty() {
        return 0;
    }
    if a.desa == b.desa {
        if a.rt.is_some() && a.rt == b.rt && a.rw == b.rw {
            1
        } else {
            2
        }
    } else if a.kecamatan() == b.kecamatan() {
        3
    } else {
        4
    }
}

/// The free-text address, within one desa only: a dusun name such as
/// "Krajan" recurs in many villages, so across desa it says nothing (the
/// area level says the desa differ). Agreement: a place word in common.
fn address_level(a: &Registration, b: &Registration) -> u8 {
    if a.desa.is_empty() || a.desa != b.desa || a.address_key.is_empty() || b.address_key.is_empty()
    {
        return 0;
    }
    if a.address_key.iter().any(|k| b.address_key.contains(k)) {
        1
    } else {
        2
    }
}

/// Compares two registrations.
pub(crate) fn compare(a: &Registration, b: &Registration) -> Comparison {
    let mother_sim = if a.mother.is_empty() || b.mother.is_empty() {
        -1.0
    } else {
        prepared_mother_name_similarity(&a.mother_prepared, &b.mother_prepared)
    };
    let (name, name_sim) = name_level(a, b, mother_sim.max(0.0));
    let sex = match (a.sex, b.sex) {
        (Some(x), Some(y)) => 1 + u8::from(x != y),
        _ => 0,
    };
    let mother = if mother_sim < 0.0 {
        0
    } else if mother_sim >= 0.9 {
        1
    } else if mother_sim >= 0.7 {
        2
    } else {
        3
    };
    let father = if a.father.is_empty() || b.father.is_empty() {
        0
    } else if prepared_name_similarity(&a.father_prepared, &b.father_prepared) >= 0.8 {
        1
    } else {
        2
    };
    let mother_nik = match (&a.mother_nik, &b.mother_nik) {
        (Some(x), Some(y)) => 1 + u8::from(x != y),
        _ => 0,
    };
    Comparison {
        levels: [
            name,
            birth_level(a.birth, b.birth),
            sex,
            mother,
            nik_level(a.nik.as_ref(), b.nik.as_ref()),
            id_level(a.kk.as_deref(), b.kk.as_deref()),
            area_level(a, b),
            father,
            mother_nik,
            address_level(a, b),
        ],
        name_sim,
        mother_sim,
    }
}

/// [`compare`] for every pair, in order. The pairs are split into one
/// contiguous chunk per available core (scoped threads); the result does not
/// depend on the number of threads.
pub(crate) fn compare_pairs(regs: &[Registration], pairs: &[(u32, u32)]) -> Vec<Comparison> {
    let one = |&(a, b): &(u32, u32)| compare(&regs[a as usize], &regs[b as usize]);
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    if threads < 2 || pairs.len() < 4096 {
        return pairs.iter().map(one).collect();
    }
    let chunk = pairs.len().div_ceil(threads);
    std::thread::scope(|s| {
        let handles: Vec<_> = pairs
            .chunks(chunk)
            .map(|part| s.spawn(move || part.iter().map(one).collect::<Vec<_>>()))
            .collect();
        let mut out = Vec::with_capacity(pairs.len());
        for h in handles {
            match h.join() {
                Ok(part) => out.extend(part),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        out
    })
}

/// Why two registrations can never be the same child.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conflict {
    /// Same mother or family, clearly different child names: twins or
    /// siblings.
    SiblingNames,
    /// Same family, birth dates too far apart for an entry error, and names
    /// not the same: siblings.
    SiblingBirthDates,
    /// Two clearly different measurements on the same day at the same
    /// posyandu.
    SameDayMeasurements,
}

impl Conflict {
    /// Short English text for the evidence column.
    pub fn en(self) -> &'static str {
        match self {
            Conflict::SiblingNames => "same family, different child names (twin/sibling)",
            Conflict::SiblingBirthDates => "same family, birth dates far apart (sibling)",
            Conflict::SameDayMeasurements => "different measurements same day same posyandu",
        }
    }
}

/// Whether `c` says the two registrations share a mother or family.
fn same_family(c: &Comparison) -> bool {
    let l = &c.levels;
    l[3] == 1 || l[8] == 1 || (l[5] == 1 && l[3] != 3)
}

/// Hard conflicts between two registrations that no score can override.
pub(crate) fn hard_conflict(
    a: &Registration,
    b: &Registration,
    c: &Comparison,
) -> Option<Conflict> {
    let family = same_family(c);
    // Within one family a same-child name is written the same or as a
    // spelling variant; a name that is only "weakly" alike (Salma/Salwa
    // Aulia, Nabil/Nabila) is a twin or sibling, as is another sex under a
    // name that is not a clear variant.
    let names_differ = matches!(c.levels[0], 4 | 5);
    let sex_differs = c.levels[2] == 2 && c.levels[0] >= 3 && c.levels[0] != 6;
    if family && (names_differ || sex_differs) {
        return Some(Conflict::SiblingNames);
    }
    if family && c.levels[1] == 4 && c.levels[0] != 1 && c.levels[0] != 2 && c.levels[4] != 1 {
        return Some(Conflict::SiblingBirthDates);
    }
    if same_day_conflict(a, b) {
        return Some(Conflict::SameDayMeasurements);
    }
    None
}

/// Whether a pair, however high its score, should be decided by a person:
/// the mothers' names differ and so do the birth dates (beyond any entry
/// error), with no equal NIK. Each alone happens to one child (a
/// grandmother named as the carer; a date estimated from the stated age),
/// but both at once is what two children of the same common name in one RT
/// look like (Muhammad Rizky of Sri, Muhammad Rizky of Dewi), and the name
/// and area weights alone can outscore them.
pub(crate) fn needs_a_person(c: &Comparison) -> bool {
    c.levels[3] == 3 && c.levels[1] == 4 && c.levels[4] != 1
}

fn same_day_conflict(a: &Registration, b: &Registration) -> bool {
    for x in &a.visits {
        for y in &b.visits {
            if x.date.is_none() || x.date != y.date || x.posyandu != y.posyandu {
                continue;
            }
            if let (Some(wx), Some(wy)) = (x.weight_kg, y.weight_kg)
                && (wx - wy).abs() > (0.1 * wx.max(wy)).max(0.5)
            {
                return true;
            }
            if let (Some(hx), Some(hy)) = (x.length_cm, y.length_cm)
                && (hx - hy).abs() > 4.0
            {
                return true;
            }
        }
    }
    false
}

/// Number of implausible growth steps between the visits of two
/// registrations: the child would shrink by more than 3 cm, or weigh more
/// than 40 % differently within two weeks. One gross measurement error can
/// cause one, so this is soft evidence, not a hard conflict.
pub(crate) fn growth_violations(a: &Registration, b: &Registration) -> u32 {
    let mut n = 0;
    for x in &a.visits {
        for y in &b.visits {
            let (Some(dx), Some(dy)) = (x.date, y.date) else {
                continue;
            };
            let (early, late) = if dx <= dy { (x, y) } else { (y, x) };
            let days = (dx - dy).num_days().abs();
            if let (Some(he), Some(hl)) = (early.length_cm, late.length_cm) {
                if hl < he - 3.0 {
                    n += 1;
                    continue;
                }
                // Growth faster than ~4 cm/month plus measurement error.
                if hl > he + 5.0 + 4.0 * days as f64 / 30.0 {
                    n += 1;
                    continue;
                }
            }
            if let (Some(we), Some(wl)) = (early.weight_kg, late.weight_kg)
                && days <= 14
                && (we - wl).abs() > 0.4 * we.max(wl)
            {
                n += 1;
            }
        }
    }
    n
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::*;
    use crate::nik::Sex;
    use crate::record::{FieldRecord, collapse};

    fn date(s: &str) -> Option<NaiveDate> {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
    }

    fn child(name: &str, sex: Sex, born: &str, mother: &str) -> FieldRecord {
        FieldRecord {
            record_id: name.to_owned(),
            measured_on: date("2024-03-04"),
            posyandu_code: "353001200205".to_owned(),
            desa_code: "3530012002".to_owned(),
            no_kk: "3530010109131126".to_owned(),
            name: name.to_owned(),
            sex: Some(sex),
            birth_date: date(born),
            mother_name: mother.to_owned(),
            rt: "3".to_owned(),
            rw: "5".to_owned(),
            ..FieldRecord::default()
        }
    }

    fn pair(a: FieldRecord, b: FieldRecord) -> (Comparison, Option<Conflict>) {
        let (regs, _) = collapse(&[a, b]);
        let c = compare(&regs[0], &regs[1]);
        (c, hard_conflict(&regs[0], &regs[1], &c))
    }

    #[test]
    fn an_address_agrees_on_a_shared_place_within_one_desa_only() {
        let at = |address: &str, desa: &str| FieldRecord {
            address: address.to_owned(),
            desa_code: desa.to_owned(),
            rt: String::new(),
            rw: String::new(),
            ..child("Aisyah", Sex::Female, "2022-01-05", "Sri")
        };
        let level = |a: FieldRecord, b: FieldRecord| pair(a, b).0.levels[9];
        let desa = "3530012002";
        assert_eq!(level(at("Dsn. Krajan RT 3", desa), at("KRAJAN", desa)), 1);
        assert_eq!(level(at("Dsn. Krajan", desa), at("Dusun Ngasem", desa)), 2);
        assert_eq!(level(at("Dsn. Krajan", desa), at("", desa)), 0);
        // "Krajan" in another desa is another place: no evidence.
        assert_eq!(
            level(at("Dsn. Krajan", desa), at("Krajan", "3530022001")),
            0
        );
    }

    #[test]
    fn twins_with_same_mother_and_birth_date_conflict() {
        for (x, y) in [
            ("Hasan", "Husain"),
            ("Salma Aulia", "Salwa Aulia"),
            ("Rizky", "Rizka"),
        ] {
            let (c, conflict) = pair(
                child(x, Sex::Male, "2023-06-13", "Fitri Aminah"),
                child(y, Sex::Male, "2023-06-13", "Fitri Aminah"),
            );
            assert_eq!(c.levels[1], 1);
            assert_eq!(conflict, Some(Conflict::SiblingNames), "{x}/{y}");
        }
        // Another sex under a similar name (Nabil/Nabila): twins too.
        let (_, conflict) = pair(
            child("Nabil Ramadhan", Sex::Male, "2023-06-13", "Fitri Aminah"),
            child("Nabila Ramadhan", Sex::Female, "2023-06-13", "Fitri Aminah"),
        );
        assert!(conflict.is_some());
    }

    #[test]
    fn siblings_conflict() {
        let (c, conflict) = pair(
            child("Aisyah Putri", Sex::Female, "2020-02-10", "Siti Aminah"),
            child("Aisyah Nabila", Sex::Female, "2022-09-01", "Siti Aminah"),
        );
        assert_eq!(c.levels[1], 4);
        assert!(conflict.is_some());
    }

    #[test]
    fn name_variants_agree_without_conflict() {
        let (c, conflict) = pair(
            child("Muhammad Rizky", Sex::Male, "2022-01-05", "Siti Aminah"),
            child("M. Rizqi", Sex::Male, "2022-01-05", "Ny. Siti Aminah"),
        );
        assert!(matches!(c.levels[0], 1 | 2), "{:?}", c.levels);
        assert_eq!(c.levels[3], 1);
        assert_eq!(conflict, None);
    }

    #[test]
    fn nik_typo_is_its_own_level() {
        let mut a = child("Kayla", Sex::Female, "2023-02-16", "Tukiyem");
        let mut b = a.clone();
        a.nik = "3530025602230294".to_owned();
        b.nik = "3530025602230284".to_owned();
        b.record_id = "other".to_owned();
        let (c, conflict) = pair(a, b);
        assert_eq!(c.levels[4], 2);
        assert_eq!(conflict, None);
    }

    /// `nik_level` of two NIK strings.
    fn nik_pair(a: &str, b: &str) -> u8 {
        let parse = |s: &str| Nik::parse(s).unwrap_or_else(|e| panic!("test NIK {s}: {e}"));
        nik_level(Some(&parse(a)), Some(&parse(b)))
    }

    #[test]
    fn nik_levels_tell_typos_from_twins() {
        for (a, b, level, why) in [
            ("3530010904210077", "3530010904210077", 1, "equal"),
            (
                "3530010904210077",
                "3530810904210077",
                2,
                "one region digit",
            ),
            ("3530010904210077", "3530010904220077", 2, "one date digit"),
            (
                "3530010904210077",
                "3530019004210077",
                2,
                "adjacent digits swapped",
            ),
            (
                "3530014312220055",
                "3530014312220385",
                3,
                "two serial digits, far",
            ),
            (
                "3530010904210077",
                "3530020904210177",
                3,
                "two digits apart",
            ),
            ("3530010904210077", "3530020904210188", 4, "three digits"),
            // Twins: the same kecamatan and birth date, serials in a row,
            // whether one digit or two differ.
            (
                "3530011306230101",
                "3530011306230102",
                4,
                "twin, next serial",
            ),
            ("3530012403240039", "3530012403240040", 4, "twin, 0039/0040"),
            ("3530012403240039", "3530012403240041", 4, "triplet"),
            // Twins of different sex: day + 40 and another serial.
            ("3530010211220150", "3530014211220250", 4, "boy and girl"),
            ("3530010211220150", "3530014211220150", 4, "other sex only"),
        ] {
            assert_eq!(nik_pair(a, b), level, "{why}: {a} / {b}");
            assert_eq!(nik_pair(b, a), level, "{why}, reversed");
        }
        assert_eq!(
            nik_level(None, Some(&Nik::parse("3530010904210077").expect("nik"))),
            0
        );
    }

    #[test]
    fn another_mother_and_another_birth_date_need_a_person() {
        let (c, conflict) = pair(
            child("Muhammad Rizky", Sex::Male, "2021-08-17", "Sri Rahayu"),
            FieldRecord {
                no_kk: String::new(),
                ..child("Muhammad Rizky", Sex::Male, "2021-03-02", "Dewi Lestari")
            },
        );
        assert_eq!((c.levels[1], c.levels[3]), (4, 3), "{:?}", c.levels);
        assert_eq!(conflict, None);
        assert!(needs_a_person(&c));
        // The same child with the grandmother as carer, birth date typed
        // right: no doubt from this rule.
        let (c, _) = pair(
            child("Muhammad Rizky", Sex::Male, "2021-08-17", "Sri Rahayu"),
            child("Muhammad Rizky", Sex::Male, "2021-08-17", "Dewi Lestari"),
        );
        assert!(!needs_a_person(&c));
    }

    #[test]
    fn day_month_swap_is_an_entry_error() {
        let (c, conflict) = pair(
            child("Kafka", Sex::Male, "2022-10-05", "Ika Utami"),
            child("Kafka", Sex::Male, "2022-05-10", "Ika Utami"),
        );
        assert_eq!(c.levels[1], 2);
        assert_eq!(conflict, None);
        let (c, _) = pair(
            child("Kafka", Sex::Male, "2022-10-05", "Ika Utami"),
            child("Kafka", Sex::Male, "2022-01-01", "Ika Utami"),
        );
        assert_eq!(c.levels[1], 3, "year-only placeholder date");
    }

    #[test]
    fn newborn_placeholder_matches_later_name() {
        let (c, conflict) = pair(
            child("By Ny Siti", Sex::Female, "2024-05-26", "Siti"),
            child("Kurnia Dewi", Sex::Female, "2024-05-26", "Siti"),
        );
        assert_eq!(c.levels[0], 6);
        assert_eq!(conflict, None);
    }

    #[test]
    fn same_day_different_measurements_conflict() {
        let mut a = child("Kafka", Sex::Male, "2022-10-05", "Ika Utami");
        let mut b = child("Kafka Pratama", Sex::Male, "2022-10-05", "Ika");
        a.weight_kg = Some(9.3);
        b.weight_kg = Some(12.1);
        let (_, conflict) = pair(a, b);
        assert_eq!(conflict, Some(Conflict::SameDayMeasurements));
    }
}
