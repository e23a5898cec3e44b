//! The engine's input (one [`FieldRecord`] per synced field row) and the
//! [`Registration`] node that identical identity fields collapse into.
//!
//! Why: a kader who recognises a child picks the existing record, so most
//! rows of a child carry a byte-for-byte copy of the registration's identity
//! fields. Comparing registrations instead of rows shrinks the problem
//! several times and keeps every measurement of the registration at hand for
//! the growth checks.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;

use crate::names::{PreparedName, is_newborn_placeholder, normalize_name, phonetic_key};
use crate::nik::{Nik, Sex};

/// One measurement row as synced from the field, with its identity fields
/// as entered. Empty text means "not entered".
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FieldRecord {
    /// Device-made id of the row (not of the child).
    pub record_id: String,
    /// Weighing month, `YYYY-MM`.
    pub round: String,
    /// Day of the measurement.
    pub measured_on: Option<NaiveDate>,
    /// Posyandu where the row was recorded.
    pub posyandu_code: String,
    /// Child's domicile desa as recorded (10 digits).
    pub desa_code: String,
    /// Child's NIK as entered.
    pub nik: String,
    /// Family card number as entered.
    pub no_kk: String,
    /// Child's name as typed.
    pub name: String,
    /// Sex as entered.
    pub sex: Option<Sex>,
    /// Birth date as entered.
    pub birth_date: Option<NaiveDate>,
    /// Mother's name as entered.
    pub mother_name: String,
    /// Mother's NIK as entered.
    pub mother_nik: String,
    /// Father's name as entered.
    pub father_name: String,
    /// RT in the kader's format (`3`, `03`, `003`).
    pub rt: String,
    /// RW in the kader's format.
    pub rw: String,
    /// Free-text address.
    pub address: String,
    /// Weight in kg.
    pub weight_kg: Option<f64>,
    /// Length or height in cm.
    pub height_cm: Option<f64>,
    /// `lying` / `standing` / empty.
    pub measure_position: String,
}

/// One measurement of a registration, for the growth checks.
#[derive(Debug, Clone, PartialEq)]
pub struct Visit {
    pub date: Option<NaiveDate>,
    pub posyandu: String,
    pub weight_kg: Option<f64>,
    /// Height converted to a length (+0.7 cm when measured standing).
    pub length_cm: Option<f64>,
}

/// The identity fields of a row that make it "the same registration".
type IdentityTuple<'a> = [&'a str; 10];

fn identity(r: &FieldRecord) -> (IdentityTuple<'_>, Option<Sex>, Option<NaiveDate>) {
    (
        [
            r.nik.trim(),
            r.no_kk.trim(),
            r.name.trim(),
            r.mother_name.trim(),
            r.mother_nik.trim(),
            r.father_name.trim(),
            r.rt.trim(),
            r.rw.trim(),
            r.address.trim(),
            r.desa_code.trim(),
        ],
        r.sex,
        r.birth_date,
    )
}

/// A set of rows sharing exactly the same identity fields, with the
/// features the comparisons use computed once.
#[derive(Debug, Clone)]
pub struct Registration {
    /// Indices of the rows (into the input slice).
    pub rows: Vec<usize>,
    pub name: String,
    pub name_key: String,
    /// Phonetic key of the first distinctive token of the name.
    pub first_key: String,
    /// `Some(mother part)` for a newborn placeholder ("By Ny Siti").
    pub placeholder_mother: Option<String>,
    pub sex: Option<Sex>,
    pub birth: Option<NaiveDate>,
    pub mother: String,
    pub mother_key: String,
    pub mother_first_key: String,
    pub father: String,
    /// A usable child NIK: 16 digits, not a dummy, not a date part older
    /// than a child's, and not a number any registration of the data set
    /// gives as a mother's NIK or a KK number ([`collapse`]).
    pub nik: Option<Nik>,
    pub mother_nik: Option<Nik>,
    /// A 16-digit KK number.
    pub kk: Option<String>,
    pub desa: String,
    pub rt: Option<u32>,
    pub rw: Option<u32>,
    /// The place words of the free-text address ([`address_key`]).
    pub address_key: Vec<String>,
    pub visits: Vec<Visit>,
    /// `name`, `mother`, `father` and `placeholder_mother` prepared for the
    /// name similarities once, rather than parsed again for every pair.
    pub name_prepared: PreparedName,
    pub mother_prepared: PreparedName,
    pub father_prepared: PreparedName,
    pub placeholder_mother_prepared: Option<PreparedName>,
}

/// Tokens too common to identify a child on their own in a blocking key.
const COMMON_FIRST: &[&str] = &[
    "muhammad", "ahmad", "siti", "nur", "nurul", "putri", "abdul",
];

fn first_distinctive_key(normalized: &str) -> String {
    let token = normalized
        .split(' ')
        .find(|t| t.len() > 1 && !COMMON_FIRST.contains(t))
        .or_else(|| normalized.split(' ').next())
        .unwrap_or("");
    phonetic_key(token)
}

fn usable_nik(s: &str) -> Option<Nik> {
    Nik::parse(s).ok().filter(|n| !n.is_dummy())
}

/// Words of an address that carry no place of their own: kinds of place
/// (dusun, dukuh, jalan, …), the RT/RW markers and house numbers.
const ADDRESS_FILLER: &[&str] = &[
    "dusun",
    "dsn",
    "dukuh",
    "dk",
    "jl",
    "jln",
    "jalan",
    "gang",
    "gg",
    "no",
    "nomor",
    "rt",
    "rw",
    "blok",
    "perum",
    "perumahan",
    "kampung",
    "kp",
    "lingkungan",
    "lingk",
    "rumah",
];

/// The place words of a free-text address ("Dsn. Krajan RT 03 RW 02",
/// "Dusun Krajan", "KRAJAN", "Dk. Klampok, Desa Plosomanik"), as sorted,
/// deduplicated phonetic keys, so that a dusun or street typed differently
/// still agrees. The desa or kelurahan named after "desa", "ds", "kel" or
/// "kelurahan" is left out: every child of the desa shares it, and the desa
/// is compared as an area already.
pub fn address_key(address: &str) -> Vec<String> {
    let lower = address.to_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| !c.is_ascii_alphabetic())
        .filter(|w| !w.is_empty())
        .collect();
    let mut keys = Vec::new();
    let mut skip_next = false;
    for w in words {
        if skip_next {
            skip_next = false;
            continue;
        }
        if matches!(w, "desa" | "ds" | "kel" | "kelurahan") {
            skip_next = true;
            continue;
        }
        if w.len() < 3 || ADDRESS_FILLER.contains(&w) {
            continue;
        }
        keys.push(phonetic_key(w));
    }
    keys.sort();
    keys.dedup();
    keys
}

fn number(s: &str) -> Option<u32> {
    s.trim().parse().ok()
}

impl Registration {
    fn new(first_row: usize, r: &FieldRecord) -> Registration {
        let name = normalize_name(&r.name);
        let placeholder_mother = is_newborn_placeholder(&r.name);
        let mother = normalize_name(&r.mother_name);
        let kk = Some(r.no_kk.trim().to_owned())
            .filter(|k| k.len() == 16 && k.bytes().all(|b| b.is_ascii_digit()))
            .filter(|k| !k[6..].bytes().all(|b| b == b'0'));
        let mother_nik = usable_nik(&r.mother_nik);
        let nik = usable_nik(&r.nik).filter(|n| {
            Some(n.as_str()) != kk.as_deref()
                && Some(n.as_str()) != mother_nik.as_ref().map(Nik::as_str)
                && !r.measured_on.is_some_and(|on| n.is_too_old_for_a_child(on))
        });
        let father = normalize_name(&r.father_name);
        Registration {
            rows: vec![first_row],
            name_prepared: PreparedName::new(&name),
            mother_prepared: PreparedName::new(&mother),
            father_prepared: PreparedName::new(&father),
            placeholder_mother_prepared: placeholder_mother.as_deref().map(PreparedName::new),
            name_key: phonetic_key(&name),
            first_key: first_distinctive_key(&name),
            placeholder_mother,
            name,
            sex: r.sex,
            birth: r.birth_date,
            mother_key: phonetic_key(&mother),
            mother_first_key: first_distinctive_key(&mother),
            mother,
            father,
            nik,
            mother_nik,
            kk,
            desa: r.desa_code.trim().to_owned(),
            rt: number(&r.rt),
            rw: number(&r.rw),
            address_key: address_key(&r.address),
            visits: Vec::new(),
        }
    }

    /// Kecamatan code (first 6 digits of the desa code).
    pub fn kecamatan(&self) -> &str {
        self.desa.get(..6).unwrap_or(&self.desa)
    }
}

fn visit(r: &FieldRecord) -> Visit {
    let standing = r.measure_position.trim().eq_ignore_ascii_case("standing");
    Visit {
        date: r.measured_on,
        posyandu: r.posyandu_code.trim().to_owned(),
        weight_kg: r.weight_kg.filter(|w| w.is_finite() && *w > 0.0),
        length_cm: r
            .height_cm
            .filter(|h| h.is_finite() && *h > 0.0)
            .map(|h| if standing { h + 0.7 } else { h }),
    }
}

/// Takes out of identity a child NIK that some registration of the data
/// set gives as a mother's NIK or a KK number: the kader typed a family
/// number into the child's field, and a family number is shared by
/// siblings, so agreeing on it says "same family", not "same child". Where
/// the registration has no mother's NIK (or KK) of its own, the number
/// moves there, so it still counts as family evidence.
fn drop_family_numbers(regs: &mut [Registration]) {
    let mothers: HashSet<String> = regs
        .iter()
        .filter_map(|r| r.mother_nik.as_ref().map(|n| n.as_str().to_owned()))
        .collect();
    let kks: HashSet<String> = regs.iter().filter_map(|r| r.kk.clone()).collect();
    for r in regs.iter_mut() {
        let Some(nik) = r
            .nik
            .take_if(|n| mothers.contains(n.as_str()) || kks.contains(n.as_str()))
        else {
            continue;
        };
        if mothers.contains(nik.as_str()) {
            r.mother_nik.get_or_insert(nik);
        } else if r.kk.is_none() {
            r.kk = Some(nik.as_str().to_owned());
        }
    }
}

/// Collapses rows with identical identity fields into registrations.
/// Returns the registrations and, per row, the index of its registration.
pub(crate) fn collapse(records: &[FieldRecord]) -> (Vec<Registration>, Vec<usize>) {
    let mut index: HashMap<_, usize> = HashMap::new();
    let mut regs: Vec<Registration> = Vec::new();
    let mut of_row = Vec::with_capacity(records.len());
    for (i, r) in records.iter().enumerate() {
        let id = identity(r);
        let k = match index.get(&id) {
            Some(&k) => {
                regs[k].rows.push(i);
                k
            }
            None => {
                regs.push(Registration::new(i, r));
                index.insert(id, regs.len() - 1);
                regs.len() - 1
            }
        };
        regs[k].visits.push(visit(r));
        of_row.push(k);
    }
    drop_family_numbers(&mut regs);
    (regs, of_row)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_keeps_its_place_words_only() {
        // The same dusun, typed four ways, gives one key.
        let krajan = address_key("Dusun Krajan");
        assert_eq!(krajan.len(), 1, "{krajan:?}");
        for typed in [
            "Dsn. Krajan RT 03 RW 02",
            "KRAJAN",
            "Dk. Krajan, Desa Gununglor",
        ] {
            assert_eq!(address_key(typed), krajan, "{typed}");
        }
        // The desa named after "Desa"/"Ds." is no place word (every child
        // of the desa shares it); house numbers and RT/RW are none either.
        assert_eq!(
            address_key("Dukuh RT 1/3 Ds. Plosomanik"),
            Vec::<String>::new()
        );
        assert_eq!(
            address_key("Jl. Melati No. 12"),
            address_key("jalan melati")
        );
        assert_ne!(address_key("Dsn. Rejosari"), krajan);
        assert!(address_key("").is_empty());
    }

    fn row(nik: &str, mother_nik: &str, kk: &str) -> FieldRecord {
        FieldRecord {
            record_id: nik.to_owned(),
            measured_on: NaiveDate::from_ymd_opt(2024, 3, 4),
            name: "Dimas Pratama".to_owned(),
            birth_date: NaiveDate::from_ymd_opt(2021, 7, 21),
            nik: nik.to_owned(),
            mother_nik: mother_nik.to_owned(),
            no_kk: kk.to_owned(),
            ..FieldRecord::default()
        }
    }

    fn nik_of(reg: &Registration) -> Option<&str> {
        reg.nik.as_ref().map(Nik::as_str)
    }

    #[test]
    fn a_childs_own_nik_is_kept() {
        let (regs, _) = collapse(&[row("3530012107210041", "3530015705880012", "")]);
        assert_eq!(nik_of(&regs[0]), Some("3530012107210041"));
    }

    #[test]
    fn an_adults_nik_is_no_childs_identity() {
        // The mother's NIK (born 1988) with her own field left empty, and a
        // KK issued in 2015: neither can be a child's under five in 2024.
        let (regs, _) = collapse(&[
            row("3530015705880012", "", ""),
            row("3530011104152436", "", ""),
        ]);
        assert_eq!(nik_of(&regs[0]), None);
        assert_eq!(nik_of(&regs[1]), None);
        // Six years is the limit, not five: a year typo stays a child's.
        let (regs, _) = collapse(&[row("3530012107180041", "", "")]);
        assert_eq!(nik_of(&regs[0]), Some("3530012107180041"));
        // Without a measurement date there is nothing to judge by.
        let (regs, _) = collapse(&[FieldRecord {
            measured_on: None,
            ..row("3530015705880012", "", "")
        }]);
        assert_eq!(nik_of(&regs[0]), Some("3530015705880012"));
    }

    #[test]
    fn a_family_number_of_any_registration_is_no_childs_identity() {
        // A KK issued in 2022 looks like a child's NIK by its date; another
        // registration gives it as its KK, so it is a family number.
        let kk = "3530011503220088";
        // A mother's NIK with a (mistyped) young date: known as a mother's
        // from another registration.
        let mother = "3530015705200012";
        let (regs, _) = collapse(&[
            row("3530012107210041", mother, kk),
            row(kk, "", ""),
            row(mother, "", ""),
            row(mother, "3530016101900011", ""),
        ]);
        assert_eq!(nik_of(&regs[0]), Some("3530012107210041"));
        // Out of identity, into the family fields that were empty.
        assert_eq!(nik_of(&regs[1]), None);
        assert_eq!(regs[1].kk.as_deref(), Some(kk));
        assert_eq!(nik_of(&regs[2]), None);
        assert_eq!(regs[2].mother_nik.as_ref().map(Nik::as_str), Some(mother));
        // A mother's NIK of its own is not overwritten.
        assert_eq!(nik_of(&regs[3]), None);
        assert_eq!(
            regs[3].mother_nik.as_ref().map(Nik::as_str),
            Some("3530016101900011")
        );
    }
}
