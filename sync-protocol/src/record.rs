//! The plain (hydrated) view of a child record: what a child document holds,
//! as ordinary Rust values.
//!
//! [`crate::ChildDocument`] reads and writes these; the field client and the
//! server derive their relational tables from them.

use std::fmt;
use std::str::FromStr;

use chrono::NaiveDate;

use crate::ids::{ChildId, MeasurementId};
use crate::units::{Grams, Millimetres};

/// Sex as written on Indonesian forms: `L` (laki-laki) or `P` (perempuan).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Sex {
    /// Laki-laki (male).
    L,
    /// Perempuan (female).
    P,
}

impl Sex {
    /// The form code, `L` or `P`.
    pub fn code(self) -> &'static str {
        match self {
            Sex::L => "L",
            Sex::P => "P",
        }
    }
}

impl FromStr for Sex {
    type Err = String;
    /// Accepts L/P (and M/F, laki-laki/perempuan), any case.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "l" | "m" | "laki-laki" | "laki" | "male" => Ok(Sex::L),
            "p" | "f" | "perempuan" | "female" => Ok(Sex::P),
            other => Err(format!("`{other}` is not a sex: use L or P")),
        }
    }
}

impl fmt::Display for Sex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl From<Sex> for growth::Sex {
    fn from(s: Sex) -> Self {
        match s {
            Sex::L => growth::Sex::Male,
            Sex::P => growth::Sex::Female,
        }
    }
}

/// How a length/height was measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Position {
    /// Lying (recumbent length, *terlentang*).
    Lying,
    /// Standing (height, *berdiri*).
    Standing,
}

impl Position {
    /// The code stored in documents: `lying` / `standing`.
    pub fn code(self) -> &'static str {
        match self {
            Position::Lying => "lying",
            Position::Standing => "standing",
        }
    }
}

impl FromStr for Position {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "lying" | "l" | "terlentang" | "berbaring" => Ok(Position::Lying),
            "standing" | "h" | "berdiri" => Ok(Position::Standing),
            other => Err(format!(
                "`{other}` is not a position: use lying or standing"
            )),
        }
    }
}

impl From<Position> for growth::Position {
    fn from(p: Position) -> Self {
        match p {
            Position::Lying => growth::Position::Lying,
            Position::Standing => growth::Position::Standing,
        }
    }
}

/// The editable fields of a child's profile, with their document keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProfileField {
    Name,
    Sex,
    BirthDate,
    MotherName,
    Nik,
    NoKk,
    MotherNik,
    FatherName,
    Rt,
    Rw,
    Address,
    Posyandu,
    /// The child's domicile desa (10 digits) when it differs from the
    /// posyandu's, e.g. a child registered while visiting grandparents.
    Desa,
    /// Birth weight in grams, from the KIA book or recalled (text of a
    /// whole number).
    BirthWeight,
    /// Birth length in millimetres (text of a whole number).
    BirthLength,
    /// Who gave consent to record the child's data (a parent or guardian,
    /// e.g. "Sri (ibu)"), as UU 27/2022 asks for a child's personal data.
    ConsentBy,
    /// The day that consent was given (YYYY-MM-DD).
    ConsentOn,
}

impl ProfileField {
    /// Every field, in display order.
    pub const ALL: [ProfileField; 17] = [
        ProfileField::Name,
        ProfileField::Sex,
        ProfileField::BirthDate,
        ProfileField::MotherName,
        ProfileField::Nik,
        ProfileField::NoKk,
        ProfileField::MotherNik,
        ProfileField::FatherName,
        ProfileField::Rt,
        ProfileField::Rw,
        ProfileField::Address,
        ProfileField::Posyandu,
        ProfileField::Desa,
        ProfileField::BirthWeight,
        ProfileField::BirthLength,
        ProfileField::ConsentBy,
        ProfileField::ConsentOn,
    ];

    /// The key in the document's `profile` map.
    pub fn key(self) -> &'static str {
        match self {
            ProfileField::Name => "name",
            ProfileField::Sex => "sex",
            ProfileField::BirthDate => "birth_date",
            ProfileField::MotherName => "mother_name",
            ProfileField::Nik => "nik",
            ProfileField::NoKk => "no_kk",
            ProfileField::MotherNik => "mother_nik",
            ProfileField::FatherName => "father_name",
            ProfileField::Rt => "rt",
            ProfileField::Rw => "rw",
            ProfileField::Address => "address",
            ProfileField::Posyandu => "posyandu",
            ProfileField::Desa => "desa",
            ProfileField::BirthWeight => "birth_weight_g",
            ProfileField::BirthLength => "birth_length_mm",
            ProfileField::ConsentBy => "consent_by",
            ProfileField::ConsentOn => "consent_on",
        }
    }
}

/// Who a child is: the profile part of the document.
#[derive(Debug, Clone, PartialEq)]
pub struct Profile {
    /// The name as typed (shown as typed; normalised only for search).
    pub name: String,
    pub sex: Sex,
    pub birth_date: NaiveDate,
    pub mother_name: String,
    pub nik: Option<String>,
    pub no_kk: Option<String>,
    pub mother_nik: Option<String>,
    pub father_name: Option<String>,
    pub rt: Option<String>,
    pub rw: Option<String>,
    pub address: Option<String>,
    /// The 12-digit posyandu code where the child was registered.
    pub posyandu: String,
    /// The domicile desa (10 digits) as recorded, when known.
    pub desa: Option<String>,
    pub birth_weight: Option<Grams>,
    pub birth_length: Option<Millimetres>,
    /// The parent or guardian who consented to the record, and when.
    pub consent_by: Option<String>,
    pub consent_on: Option<NaiveDate>,
}

impl Profile {
    /// The text value of a field, as stored in the document (`None` = empty).
    pub fn get(&self, field: ProfileField) -> Option<String> {
        match field {
            ProfileField::Name => Some(self.name.clone()),
            ProfileField::Sex => Some(self.sex.code().to_string()),
            ProfileField::BirthDate => Some(self.birth_date.to_string()),
            ProfileField::MotherName => Some(self.mother_name.clone()),
            ProfileField::Nik => self.nik.clone(),
            ProfileField::NoKk => self.no_kk.clone(),
            ProfileField::MotherNik => self.mother_nik.clone(),
            ProfileField::FatherName => self.father_name.clone(),
            ProfileField::Rt => self.rt.clone(),
            ProfileField::Rw => self.rw.clone(),
            ProfileField::Address => self.address.clone(),
            ProfileField::Posyandu => Some(self.posyandu.clone()),
            ProfileField::Desa => self.desa.clone(),
            ProfileField::BirthWeight => self.birth_weight.map(|g| g.0.to_string()),
            ProfileField::BirthLength => self.birth_length.map(|l| l.0.to_string()),
            ProfileField::ConsentBy => self.consent_by.clone(),
            ProfileField::ConsentOn => self.consent_on.map(|d| d.to_string()),
        }
    }
}

/// Why and by whom a measurement was voided. Voided measurements stay in the
/// document (nothing is ever deleted) but count for nothing.
#[derive(Debug, Clone, PartialEq)]
pub struct Void {
    pub reason: String,
    /// Unix milliseconds.
    pub at_ms: i64,
    pub by: String,
}

/// What is recorded at one weighing/measuring.
#[derive(Debug, Clone, PartialEq)]
pub struct MeasurementInput {
    pub date: NaiveDate,
    pub weight: Option<Grams>,
    pub length: Option<Millimetres>,
    pub position: Option<Position>,
    pub muac: Option<Millimetres>,
    pub head: Option<Millimetres>,
    pub oedema: bool,
    /// The 12-digit posyandu code where it was measured.
    pub posyandu: String,
    /// Who measured (kader name or id).
    pub by: String,
    /// The weighing round (`YYYY-MM`) the entry belongs to, when it was
    /// recorded with one (imports); otherwise the round is the month of `date`.
    pub round: Option<String>,
}

/// One measurement as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Measurement {
    pub id: MeasurementId,
    pub input: MeasurementInput,
    /// Unix milliseconds when it was recorded on the device.
    pub recorded_at_ms: i64,
    pub void: Option<Void>,
    /// Set on a copy made by a merge: the duplicate child it came from.
    pub merged_from: Option<ChildId>,
}

/// A whole child record: profile and measurements (sorted by date, then id).
#[derive(Debug, Clone, PartialEq)]
pub struct Child {
    pub id: ChildId,
    pub profile: Profile,
    pub measurements: Vec<Measurement>,
    /// Set when the district merged this registration into another child
    /// (the survivor holds copies of its measurements); the record stays.
    pub merged_into: Option<ChildId>,
    /// The verval checks recorded on this child (in `recorded_at` order).
    pub verifications: Vec<crate::verification::Verification>,
}

impl Child {
    /// Measurements that have not been voided, in date order.
    pub fn valid_measurements(&self) -> impl DoubleEndedIterator<Item = &Measurement> {
        self.measurements.iter().filter(|m| m.void.is_none())
    }
}
