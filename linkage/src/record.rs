//! The engine's input (one [`FieldRecord`] per synced field row) and the
//! [`Registration`] node that identical identity fields collapse into.
//!
//! Why: a kader who recognises a child picks the existing record, so most
//! rows of a child carry a byte-for-byte copy of the registration's identity
//! fields. Comparing registrations instead of rows shrinks the problem
//! several times and keeps every measurement of the registration at hand for
//! the growth checks.

use std::collections::HashMap;

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
    /// A usable child NIK (16 digits, not a dummy, not the KK or mother's NIK).
    pub nik: Option<Nik>,
    pub mother_nik: Option<Nik>,
    /// A 16-digit KK number.
    pub kk: Option<String>,
    pub desa: String,
    pub rt: Option<u32>,
    pub rw: Option<u32>,
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
    (regs, of_row)
}
