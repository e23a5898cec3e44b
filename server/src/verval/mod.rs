//! The verval round report: how many children of an area were measured in a
//! posyandu round, and how many of them are stunted, wasted or underweight.
//!
//! *Verval* (verifikasi dan validasi) is the district's monthly check of the
//! posyandu data before it is reported upwards: coverage per area, the
//! prevalences with their uncertainty, and the by-name-by-address list of
//! stunted children the puskesmas follows up. This module is pure: the caller
//! loads the deduplicated children ([`RoundChild`]) from the database and
//! passes area names as a closure; [`compute`] returns a [`VervalReport`],
//! which the writers in this module turn into a terminal table, CSV, JSON or
//! an xlsx workbook. [`export`] writes the register in e-PPGBM's layout.
//!
//! The counting rule (one child, one round measurement, attributed to the
//! posyandu where it was taken) is documented on [`compute`] and in
//! ARCHITECTURE.md; every number in the report follows from it.

pub mod evidence;
pub mod export;
pub mod flags;
#[cfg(test)]
mod flags_tests;
mod format;
mod rate;
pub mod worklist;

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use chrono::{Datelike, NaiveDate};
use growth::lms::round_centi;
use growth::{BbuCategory, NutritionCategory, TbuCategory};
use serde::{Deserialize, Serialize};

pub use format::{
    CSV_HEADER, LIST_CSV_HEADER, WORKLIST_CSV_HEADER, write_csv, write_json, write_list_csv,
    write_table, write_verification, write_worklist_csv, write_worklist_table, write_xlsx,
};
pub use rate::{Rate, Z95};

/// What can go wrong computing or writing a verval report.
#[derive(Debug, thiserror::Error)]
pub enum VervalError {
    #[error("`{0}` is not a round: use YYYY-MM")]
    BadRound(String),
    #[error("the previous round `{previous}` is not before the round `{round}`")]
    PreviousNotBefore { round: String, previous: String },
    #[error("`{0}` is not an area code: use 2, 4, 6, 10 or 12 digits")]
    BadArea(String),
    #[error("child `{child}`: `{code}` is not a posyandu code (12 digits)")]
    BadPosyandu { child: String, code: String },
    #[error("measurement `{measurement}`: `{round}` is not a round: use YYYY-MM")]
    BadMeasurementRound { measurement: String, round: String },
    #[error("cannot write the report: {0}")]
    Io(#[from] std::io::Error),
    #[error("cannot write the CSV: {0}")]
    Csv(#[from] csv::Error),
    #[error("cannot write the JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("cannot write the workbook {}: {source}", path.display())]
    Xlsx {
        path: PathBuf,
        #[source]
        source: rust_xlsxwriter::XlsxError,
    },
}

/// A posyandu round: one calendar month, written `YYYY-MM`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Round {
    year: i32,
    month: u32,
}

impl Round {
    /// Parses `YYYY-MM` (month 01–12).
    pub fn parse(text: &str) -> Result<Round, VervalError> {
        let bad = || VervalError::BadRound(text.to_owned());
        let bytes = text.as_bytes();
        let digits = |range: std::ops::Range<usize>| {
            bytes
                .get(range)
                .is_some_and(|b| b.iter().all(u8::is_ascii_digit))
        };
        if bytes.len() != 7 || bytes.get(4) != Some(&b'-') || !digits(0..4) || !digits(5..7) {
            return Err(bad());
        }
        let year: i32 = text
            .get(0..4)
            .and_then(|s| s.parse().ok())
            .ok_or_else(bad)?;
        let month: u32 = text
            .get(5..7)
            .and_then(|s| s.parse().ok())
            .ok_or_else(bad)?;
        if !(1..=12).contains(&month) {
            return Err(bad());
        }
        Ok(Round { year, month })
    }

    /// The year and month.
    #[must_use]
    pub fn year_month(self) -> (i32, u32) {
        (self.year, self.month)
    }

    /// The round a measurement falls in when none was recorded: its month.
    #[must_use]
    pub fn of_date(date: NaiveDate) -> Round {
        Round {
            year: date.year(),
            month: date.month(),
        }
    }
}

impl fmt::Display for Round {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

/// One child after deduplication (merged registrations already folded in).
#[derive(Debug, Clone, PartialEq)]
pub struct RoundChild {
    pub id: String,
    pub name: String,
    /// `L` or `P`.
    pub sex: String,
    pub birth_date: NaiveDate,
    pub nik: Option<String>,
    pub mother_name: String,
    pub address: Option<String>,
    pub rt: Option<String>,
    pub rw: Option<String>,
    /// 12-digit home posyandu (registration).
    pub posyandu: String,
    /// How many registrations were merged into it (1 = none).
    pub registrations: usize,
    pub measurements: Vec<RoundMeasurement>,
}

/// One measurement of a [`RoundChild`], with its z-scores already computed.
#[derive(Debug, Clone, PartialEq)]
pub struct RoundMeasurement {
    pub id: String,
    pub date: NaiveDate,
    /// `YYYY-MM` when recorded with the entry; else the round is the month of `date`.
    pub round: Option<String>,
    /// 12-digit posyandu where measured.
    pub posyandu: String,
    pub haz: Option<f64>,
    pub waz: Option<f64>,
    pub whz: Option<f64>,
    /// A WHO flag (|z| beyond the WHO plausibility limits) on any index.
    pub implausible: bool,
    pub has_length: bool,
    pub voided: bool,
}

/// Whether by-name lists and exports show NIKs and free-text addresses in
/// full. RT/RW, desa and posyandu are shown either way: they are the area a
/// cadre or bidan works in, not where the family can be found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NikDisplay {
    /// NIK `3530********0012` (first and last 4 digits only), address
    /// withheld: the default, since lists travel.
    Masked,
    /// The full NIK and address, for the district officer who needs them
    /// (`--reveal`, `reveal=true`; audited).
    Revealed,
}

impl NikDisplay {
    /// `Revealed` when asked for (`--reveal`, `reveal=true`), else `Masked`.
    #[must_use]
    pub fn revealed_if(reveal: bool) -> NikDisplay {
        if reveal {
            NikDisplay::Revealed
        } else {
            NikDisplay::Masked
        }
    }

    /// A NIK as this display shows it.
    #[must_use]
    pub fn nik(self, nik: Option<&str>) -> Option<String> {
        nik.map(|n| match self {
            NikDisplay::Masked => mask_nik(n),
            NikDisplay::Revealed => n.to_owned(),
        })
    }

    /// A free-text address as this display shows it (`None`: withheld).
    #[must_use]
    pub fn address(self, address: Option<&str>) -> Option<String> {
        match self {
            NikDisplay::Masked => None,
            NikDisplay::Revealed => address.map(str::to_owned),
        }
    }
}

/// An area level of the report, by the length of its code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Kabupaten,
    Kecamatan,
    Desa,
    Posyandu,
}

impl Level {
    /// Every level, coarsest first.
    pub const ALL: [Level; 4] = [
        Level::Kabupaten,
        Level::Kecamatan,
        Level::Desa,
        Level::Posyandu,
    ];

    /// Digits of an area code at this level.
    #[must_use]
    pub fn digits(self) -> usize {
        match self {
            Level::Kabupaten => 4,
            Level::Kecamatan => 6,
            Level::Desa => 10,
            Level::Posyandu => 12,
        }
    }

    /// Lowercase name, as in the CSV `level` column.
    #[must_use]
    pub fn code(self) -> &'static str {
        match self {
            Level::Kabupaten => "kabupaten",
            Level::Kecamatan => "kecamatan",
            Level::Desa => "desa",
            Level::Posyandu => "posyandu",
        }
    }

    /// Capitalised name, for headings and sheet names.
    #[must_use]
    pub fn title(self) -> &'static str {
        match self {
            Level::Kabupaten => "Kabupaten",
            Level::Kecamatan => "Kecamatan",
            Level::Desa => "Desa",
            Level::Posyandu => "Posyandu",
        }
    }
}

/// Changes against the previous round, per child (see [`compute`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transitions {
    /// Stunted now; not stunted, not assessable or not measured in the previous round.
    pub new: usize,
    /// Stunted in both rounds.
    pub still_stunted: usize,
    /// Stunted before; measured now with a HAZ that is not stunted.
    pub recovered: usize,
    /// Stunted before; no round measurement now (counted at the previous round's area).
    pub not_remeasured: usize,
    /// Stunted before; measured now but without a usable HAZ (flagged, or no length).
    pub unassessed: usize,
    /// Measured in both rounds, at posyandu of different desa.
    pub moved: usize,
}

/// One area's line of a level table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AreaRow {
    pub code: String,
    pub name: Option<String>,
    /// Children whose home posyandu is in the area.
    pub register: usize,
    /// Children whose round measurement was taken in the area.
    pub measured: usize,
    /// `measured / register`; above 1 when visiting children were measured here. `None` when
    /// the register is empty.
    pub coverage: Option<f64>,
    /// Measured children whose every round measurement is implausible: out of the prevalences.
    pub flagged: usize,
    pub stunted: usize,
    pub severely_stunted: usize,
    pub stunting_prevalence: Option<Rate>,
    pub wasted: usize,
    pub wasting_prevalence: Option<Rate>,
    pub underweight: usize,
    pub underweight_prevalence: Option<Rate>,
    /// Present when a previous round was given.
    pub transitions: Option<Transitions>,
}

/// The rows of one level, by code.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LevelTable {
    pub level: Level,
    pub rows: Vec<AreaRow>,
}

/// A stunted child's status against the previous round.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChildStatus {
    New,
    StillStunted,
}

impl ChildStatus {
    /// As in the CSV: `new`, `still_stunted`.
    #[must_use]
    pub fn code(self) -> &'static str {
        match self {
            ChildStatus::New => "new",
            ChildStatus::StillStunted => "still_stunted",
        }
    }
}

/// A line of the by-name-by-address list: a child stunted in the round.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StuntedChild {
    pub id: String,
    pub name: String,
    pub sex: String,
    pub birth_date: NaiveDate,
    /// Completed months (age in days / 30.4375, rounded down) at the measurement.
    pub age_months: i64,
    /// Masked unless [`NikDisplay::Revealed`].
    pub nik: Option<String>,
    pub mother_name: String,
    /// The free-text address: withheld (`None`) unless [`NikDisplay::Revealed`].
    pub address: Option<String>,
    pub rt: Option<String>,
    pub rw: Option<String>,
    /// Posyandu where the round measurement was taken.
    pub posyandu: String,
    pub posyandu_name: Option<String>,
    pub measurement_id: String,
    pub date: NaiveDate,
    /// Rounded to two decimals, as the category is decided.
    pub haz: f64,
    /// `pendek` or `sangat pendek`.
    pub category: String,
    /// Present when a previous round was given.
    pub status: Option<ChildStatus>,
    /// Measured in the previous round at a posyandu of another desa.
    pub moved: bool,
}

/// The verval report of one round.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VervalReport {
    pub round: String,
    pub previous: Option<String>,
    /// The area filter (a code prefix), if any.
    pub area: Option<String>,
    pub area_name: Option<String>,
    /// The whole selection in one row (code = the area filter, or empty).
    pub total: AreaRow,
    /// Kabupaten, kecamatan, desa, posyandu — the levels at or below the area filter.
    pub levels: Vec<LevelTable>,
    /// Whether the lists show NIKs and addresses in full
    /// ([`NikDisplay::Revealed`]); otherwise NIKs are masked and addresses
    /// withheld.
    #[serde(default)]
    pub revealed: bool,
    pub stunted_list: Vec<StuntedChild>,
    /// With a previous round: the children stunted then and not measured
    /// in this round, with their previous measurement (where to look).
    #[serde(default)]
    pub not_remeasured_list: Vec<StuntedChild>,
    /// The whole selection against the previous round.
    pub transitions: Option<Transitions>,
    /// The figures both ways (as recorded and reconciled) and what is still
    /// unverified; set by [`report`], absent from bare [`compute`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verification: Option<worklist::VerificationSummary>,
}

/// The verval report of a round over the register, with the verification
/// summary: [`compute`] on the children as recorded, plus the figures after
/// reconciliation ([`worklist::worklist`]).
pub fn report(
    register: &[crate::storage::RegisterChild],
    round: &str,
    previous: Option<&str>,
    area: Option<&str>,
    nik: NikDisplay,
    names: &dyn Fn(&str) -> Option<String>,
) -> Result<VervalReport, VervalError> {
    let children: Vec<RoundChild> = register.iter().map(|r| r.child.clone()).collect();
    let mut out = compute(&children, round, previous, area, nik, names)?;
    out.verification = Some(worklist::worklist(register, round, area, nik, names)?.summary);
    Ok(out)
}

/// Counts of one area, before they become an [`AreaRow`].
#[derive(Debug, Default, Clone)]
struct Tally {
    register: usize,
    measured: usize,
    flagged: usize,
    haz_n: usize,
    stunted: usize,
    severe: usize,
    whz_n: usize,
    wasted: usize,
    waz_n: usize,
    underweight: usize,
    transitions: Transitions,
}

impl Tally {
    fn row(&self, code: String, name: Option<String>, with_previous: bool) -> AreaRow {
        AreaRow {
            code,
            name,
            register: self.register,
            measured: self.measured,
            coverage: (self.register > 0).then(|| self.measured as f64 / self.register as f64),
            flagged: self.flagged,
            stunted: self.stunted,
            severely_stunted: self.severe,
            stunting_prevalence: Rate::wilson(self.stunted, self.haz_n),
            wasted: self.wasted,
            wasting_prevalence: Rate::wilson(self.wasted, self.whz_n),
            underweight: self.underweight,
            underweight_prevalence: Rate::wilson(self.underweight, self.waz_n),
            transitions: with_previous.then_some(self.transitions),
        }
    }
}

/// What the report needs of a round measurement.
struct Assessed<'a> {
    m: &'a RoundMeasurement,
    /// HAZ category, unless flagged or without HAZ.
    tbu: Option<TbuCategory>,
}

impl<'a> Assessed<'a> {
    fn new(m: &'a RoundMeasurement) -> Self {
        let tbu = if m.implausible {
            None
        } else {
            m.haz.map(|z| TbuCategory::from_centi(round_centi(z)))
        };
        Assessed { m, tbu }
    }

    /// `Some(stunted?)` when the HAZ is usable.
    fn stunted(&self) -> Option<bool> {
        self.tbu.map(|c| c.is_alarm())
    }

    fn desa(&self) -> &str {
        self.m.posyandu.get(..10).unwrap_or(&self.m.posyandu)
    }
}

fn is_code(code: &str, digits: &[usize]) -> bool {
    digits.contains(&code.len()) && code.bytes().all(|b| b.is_ascii_digit())
}

fn check_posyandu(child: &str, code: &str) -> Result<(), VervalError> {
    if is_code(code, &[12]) {
        Ok(())
    } else {
        Err(VervalError::BadPosyandu {
            child: child.to_owned(),
            code: code.to_owned(),
        })
    }
}

/// The preference rank of a candidate: usable with a length first, then plausible
/// weight-only, then implausible.
fn tier(m: &RoundMeasurement) -> u8 {
    match (m.implausible, m.has_length) {
        (false, true) => 0,
        (false, false) => 1,
        (true, _) => 2,
    }
}

/// The child's measurement for `round`, by the counting rule (see [`compute`]).
/// Errors on a malformed explicit round or posyandu code of a candidate.
pub fn round_measurement(
    child: &RoundChild,
    round: Round,
) -> Result<Option<&RoundMeasurement>, VervalError> {
    let mut best: Option<&RoundMeasurement> = None;
    for m in child.measurements.iter().filter(|m| !m.voided) {
        let its = match &m.round {
            Some(text) => Round::parse(text).map_err(|_| VervalError::BadMeasurementRound {
                measurement: m.id.clone(),
                round: text.clone(),
            })?,
            None => Round::of_date(m.date),
        };
        if its != round {
            continue;
        }
        check_posyandu(&child.id, &m.posyandu)?;
        let key = |m: &RoundMeasurement| {
            (
                tier(m),
                m.posyandu != child.posyandu,
                std::cmp::Reverse(m.date),
                m.id.clone(),
            )
        };
        if best.is_none_or(|b| key(m) < key(b)) {
            best = Some(m);
        }
    }
    Ok(best)
}

/// `3530********0012`: the first and last four characters, the rest as `*`
/// (all masked when there are eight or fewer).
#[must_use]
pub fn mask_nik(nik: &str) -> String {
    let chars: Vec<char> = nik.chars().collect();
    if chars.len() <= 8 {
        return "*".repeat(chars.len());
    }
    let mut out: String = chars.iter().take(4).collect();
    out.push_str(&"*".repeat(chars.len() - 8));
    out.extend(chars.iter().skip(chars.len() - 4));
    out
}

/// Per level (and the total), the counts keyed by area code.
struct Tallies<'f> {
    area: &'f str,
    levels: Vec<Level>,
    by_level: BTreeMap<Level, BTreeMap<String, Tally>>,
    total: Tally,
}

impl Tallies<'_> {
    /// Applies `f` to every area row containing `posyandu` (within the filter).
    fn add(&mut self, posyandu: &str, f: impl Fn(&mut Tally)) {
        if !posyandu.starts_with(self.area) {
            return;
        }
        f(&mut self.total);
        for level in &self.levels {
            let code = posyandu.get(..level.digits()).unwrap_or(posyandu);
            f(self
                .by_level
                .entry(*level)
                .or_default()
                .entry(code.to_owned())
                .or_default());
        }
    }
}

/// Computes the verval report of `round` (`YYYY-MM`) over `children` (the register after
/// deduplication), optionally against the `previous` round and restricted to the areas whose
/// code starts with `area`. `nik` says whether the by-name list shows NIKs in full; `names`
/// gives an area's name from its code.
///
/// **Counting rule.** A child counts once per round. Its round measurement is, among its
/// measurements that are not voided and belong to the round (the recorded round, else the month
/// of the date), the first by: (1) plausible with a length/height, then plausible weight-only,
/// then implausible; (2) taken at the child's home posyandu; (3) the latest date; (4) the
/// smallest id. If that measurement is implausible (so every candidate is), the child is
/// *measured* but *flagged*: out of every prevalence numerator and denominator. The child is
/// attributed to the area of the posyandu where the chosen measurement was taken. Stunted =
/// HAZ < −2, severely = HAZ < −3, wasted = WHZ < −2, underweight = WAZ < −2, each on the
/// z-score rounded to two decimals as the Permenkes categories of `growth` are; each
/// prevalence's denominator is the children with that z-score in the round (not flagged).
/// Register = children whose home posyandu is in the area; coverage = measured / register.
pub fn compute(
    children: &[RoundChild],
    round: &str,
    previous: Option<&str>,
    area: Option<&str>,
    nik: NikDisplay,
    names: &dyn Fn(&str) -> Option<String>,
) -> Result<VervalReport, VervalError> {
    let current = Round::parse(round)?;
    let before = previous.map(Round::parse).transpose()?;
    if let Some(before) = before
        && before >= current
    {
        return Err(VervalError::PreviousNotBefore {
            round: current.to_string(),
            previous: before.to_string(),
        });
    }
    if let Some(code) = area
        && !is_code(code, &[2, 4, 6, 10, 12])
    {
        return Err(VervalError::BadArea(code.to_owned()));
    }
    let filter = area.unwrap_or("");
    let levels: Vec<Level> = Level::ALL
        .into_iter()
        .filter(|l| l.digits() >= filter.len())
        .collect();
    let mut tallies = Tallies {
        area: filter,
        levels: levels.clone(),
        by_level: BTreeMap::new(),
        total: Tally::default(),
    };
    let mut list = Vec::new();
    let mut missing = Vec::new();

    for child in children {
        check_posyandu(&child.id, &child.posyandu)?;
        tallies.add(&child.posyandu, |t| t.register += 1);

        let now = round_measurement(child, current)?.map(Assessed::new);
        let then = match before {
            Some(r) => round_measurement(child, r)?.map(Assessed::new),
            None => None,
        };

        if let Some(a) = &now {
            let m = a.m;
            let whz = m.whz.filter(|_| !m.implausible).map(round_centi);
            let waz = m.waz.filter(|_| !m.implausible).map(round_centi);
            let wasted = whz.map(|c| {
                matches!(
                    NutritionCategory::under_five_from_centi(c),
                    NutritionCategory::GiziBuruk | NutritionCategory::GiziKurang
                )
            });
            let underweight = waz.map(|c| BbuCategory::from_centi(c).is_alarm());
            let tbu = a.tbu;
            tallies.add(&m.posyandu, |t| {
                t.measured += 1;
                if m.implausible {
                    t.flagged += 1;
                    return;
                }
                if let Some(c) = tbu {
                    t.haz_n += 1;
                    t.stunted += usize::from(c.is_alarm());
                    t.severe += usize::from(c == TbuCategory::SangatPendek);
                }
                if let Some(w) = wasted {
                    t.whz_n += 1;
                    t.wasted += usize::from(w);
                }
                if let Some(u) = underweight {
                    t.waz_n += 1;
                    t.underweight += usize::from(u);
                }
            });
        }

        let mut status = None;
        let mut moved = false;
        if before.is_some() {
            let was_stunted = then.as_ref().and_then(Assessed::stunted) == Some(true);
            let is_stunted = now.as_ref().and_then(Assessed::stunted);
            match (&now, is_stunted) {
                (Some(a), Some(true)) => {
                    let s = if was_stunted {
                        ChildStatus::StillStunted
                    } else {
                        ChildStatus::New
                    };
                    status = Some(s);
                    tallies.add(&a.m.posyandu, |t| match s {
                        ChildStatus::New => t.transitions.new += 1,
                        ChildStatus::StillStunted => t.transitions.still_stunted += 1,
                    });
                }
                (Some(a), Some(false)) if was_stunted => {
                    tallies.add(&a.m.posyandu, |t| t.transitions.recovered += 1);
                }
                (Some(a), None) if was_stunted => {
                    tallies.add(&a.m.posyandu, |t| t.transitions.unassessed += 1);
                }
                (None, _) if was_stunted => {
                    if let Some(p) = &then {
                        tallies.add(&p.m.posyandu, |t| t.transitions.not_remeasured += 1);
                    }
                }
                _ => {}
            }
            if let (Some(a), Some(p)) = (&now, &then)
                && a.desa() != p.desa()
            {
                moved = true;
                tallies.add(&a.m.posyandu, |t| t.transitions.moved += 1);
            }
        }

        if let Some(a) = &now
            && let Some(entry) = listed(child, a, filter, nik, names)
        {
            list.push(StuntedChild {
                status,
                moved,
                ..entry
            });
        }
        // Stunted last round, not measured in this one: the puskesmas
        // needs their names to find them.
        if now.is_none()
            && let Some(p) = &then
            && let Some(entry) = listed(child, p, filter, nik, names)
        {
            missing.push(entry);
        }
    }

    list.sort_by(|a, b| (&a.posyandu, &a.name, &a.id).cmp(&(&b.posyandu, &b.name, &b.id)));
    missing.sort_by(|a, b| (&a.posyandu, &a.name, &a.id).cmp(&(&b.posyandu, &b.name, &b.id)));
    let with_previous = before.is_some();
    let tables = levels
        .iter()
        .map(|level| LevelTable {
            level: *level,
            rows: tallies
                .by_level
                .get(level)
                .map(|rows| {
                    rows.iter()
                        .map(|(code, t)| t.row(code.clone(), names(code), with_previous))
                        .collect()
                })
                .unwrap_or_default(),
        })
        .collect();
    let total = tallies
        .total
        .row(filter.to_owned(), area.and_then(names), with_previous);
    Ok(VervalReport {
        round: current.to_string(),
        previous: before.map(|r| r.to_string()),
        area: area.map(str::to_owned),
        area_name: area.and_then(names),
        transitions: total.transitions,
        total,
        levels: tables,
        revealed: nik == NikDisplay::Revealed,
        stunted_list: list,
        not_remeasured_list: missing,
        verification: None,
    })
}

/// A child's line in a by-name list, from a stunted measurement in the
/// area `filter` (`None` when the measurement is not stunted or outside).
fn listed(
    child: &RoundChild,
    a: &Assessed<'_>,
    filter: &str,
    nik: NikDisplay,
    names: &dyn Fn(&str) -> Option<String>,
) -> Option<StuntedChild> {
    let tbu = a.tbu.filter(TbuCategory::is_alarm)?;
    let haz = a.m.haz?;
    if !a.m.posyandu.starts_with(filter) {
        return None;
    }
    let days = growth::age_in_days(child.birth_date, a.m.date);
    Some(StuntedChild {
        id: child.id.clone(),
        name: child.name.clone(),
        sex: child.sex.clone(),
        birth_date: child.birth_date,
        age_months: growth::age_months(days).floor() as i64,
        nik: nik.nik(child.nik.as_deref()),
        mother_name: child.mother_name.clone(),
        address: nik.address(child.address.as_deref()),
        rt: child.rt.clone(),
        rw: child.rw.clone(),
        posyandu: a.m.posyandu.clone(),
        posyandu_name: names(&a.m.posyandu),
        measurement_id: a.m.id.clone(),
        date: a.m.date,
        haz: f64::from(round_centi(haz)) / 100.0,
        category: tbu.label_id().to_lowercase(),
        status: None,
        moved: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("valid test date")
    }

    fn m(id: &str, date: NaiveDate, posyandu: &str) -> RoundMeasurement {
        RoundMeasurement {
            id: id.to_owned(),
            date,
            round: None,
            posyandu: posyandu.to_owned(),
            haz: Some(-1.0),
            waz: Some(-1.0),
            whz: Some(-1.0),
            implausible: false,
            has_length: true,
            voided: false,
        }
    }

    fn child(measurements: Vec<RoundMeasurement>) -> RoundChild {
        RoundChild {
            id: "c".to_owned(),
            name: "Anak".to_owned(),
            sex: "L".to_owned(),
            birth_date: d(2023, 1, 1),
            nik: None,
            mother_name: "Ibu".to_owned(),
            address: None,
            rt: None,
            rw: None,
            posyandu: HOME.to_owned(),
            registrations: 1,
            measurements,
        }
    }

    const HOME: &str = "353001000101";
    const AWAY: &str = "353001000201";

    fn chosen(c: &RoundChild) -> Option<String> {
        let r = Round::parse("2024-08").expect("round");
        round_measurement(c, r)
            .expect("valid")
            .map(|m| m.id.clone())
    }

    #[test]
    fn rounds_parse_and_reject() {
        assert_eq!(Round::parse("2024-08").expect("ok").to_string(), "2024-08");
        for bad in [
            "2024-13",
            "2024-00",
            "2024-8",
            "24-08",
            "2024/08",
            "",
            "2024-08x",
            "２０２４-08",
        ] {
            let err = Round::parse(bad).expect_err(bad);
            assert_eq!(
                err.to_string(),
                format!("`{bad}` is not a round: use YYYY-MM")
            );
        }
    }

    #[test]
    fn choice_prefers_plausible_with_length_then_home_then_latest_then_id() {
        // Implausible at home loses to plausible away.
        let mut a = m("a", d(2024, 8, 10), HOME);
        a.implausible = true;
        let b = m("b", d(2024, 8, 5), AWAY);
        assert_eq!(chosen(&child(vec![a, b])).as_deref(), Some("b"));
        // Weight-only at home loses to length away.
        let mut a = m("a", d(2024, 8, 10), HOME);
        a.has_length = false;
        assert_eq!(
            chosen(&child(vec![a, m("b", d(2024, 8, 5), AWAY)])).as_deref(),
            Some("b")
        );
        // Plausible weight-only beats implausible with length.
        let mut a = m("a", d(2024, 8, 10), HOME);
        a.has_length = false;
        let mut b = m("b", d(2024, 8, 11), HOME);
        b.implausible = true;
        assert_eq!(chosen(&child(vec![b, a])).as_deref(), Some("a"));
        // Home beats a later date away.
        let a = m("a", d(2024, 8, 3), HOME);
        let b = m("b", d(2024, 8, 20), AWAY);
        assert_eq!(chosen(&child(vec![b, a])).as_deref(), Some("a"));
        // Latest date, then smallest id.
        let c = child(vec![
            m("z", d(2024, 8, 3), HOME),
            m("y", d(2024, 8, 9), HOME),
            m("x", d(2024, 8, 9), HOME),
        ]);
        assert_eq!(chosen(&c).as_deref(), Some("x"));
    }

    #[test]
    fn choice_skips_voided_and_other_rounds_and_uses_the_recorded_round() {
        let mut voided = m("a", d(2024, 8, 10), HOME);
        voided.voided = true;
        let july = m("b", d(2024, 7, 31), HOME);
        let mut late = m("c", d(2024, 9, 2), HOME);
        late.round = Some("2024-08".to_owned());
        assert_eq!(
            chosen(&child(vec![voided.clone(), july.clone(), late])).as_deref(),
            Some("c")
        );
        assert_eq!(chosen(&child(vec![voided, july])), None);
    }

    #[test]
    fn malformed_codes_are_errors() {
        let mut late = m("c", d(2024, 9, 2), HOME);
        late.round = Some("2024-8".to_owned());
        let err = round_measurement(&child(vec![late]), Round::parse("2024-08").expect("ok"))
            .expect_err("bad round");
        assert!(err.to_string().contains("`2024-8` is not a round"), "{err}");
        let c = child(vec![m("a", d(2024, 8, 1), "3530")]);
        let names = |_: &str| None;
        let err =
            compute(&[c], "2024-08", None, None, NikDisplay::Masked, &names).expect_err("bad");
        assert!(matches!(err, VervalError::BadPosyandu { .. }), "{err}");
        let err = compute(
            &[],
            "2024-08",
            None,
            Some("35x"),
            NikDisplay::Masked,
            &names,
        )
        .expect_err("bad area");
        assert!(matches!(err, VervalError::BadArea(_)), "{err}");
        let err = compute(
            &[],
            "2024-08",
            Some("2024-08"),
            None,
            NikDisplay::Masked,
            &names,
        )
        .expect_err("previous not before");
        assert!(
            matches!(err, VervalError::PreviousNotBefore { .. }),
            "{err}"
        );
    }

    #[test]
    fn nik_masks_all_but_the_ends() {
        assert_eq!(mask_nik("3530011234560012"), "3530********0012");
        assert_eq!(mask_nik("123456789"), "1234*6789");
        assert_eq!(mask_nik("12345678"), "********");
        assert_eq!(mask_nik(""), "");
    }

    #[test]
    fn stunting_uses_the_rounded_z_like_the_permenkes_categories() {
        // −2.004 rounds to −2.00: not stunted; −2.005 rounds to −2.01: stunted.
        let mut a = m("a", d(2024, 8, 1), HOME);
        a.haz = Some(-2.004);
        let mut c1 = child(vec![a.clone()]);
        c1.id = "c1".to_owned();
        a.haz = Some(-2.006);
        let mut c2 = child(vec![a]);
        c2.id = "c2".to_owned();
        let names = |_: &str| None;
        let r = compute(&[c1, c2], "2024-08", None, None, NikDisplay::Masked, &names).expect("ok");
        assert_eq!(r.total.stunted, 1);
        assert_eq!(r.stunted_list.len(), 1);
        assert_eq!(r.stunted_list[0].id, "c2");
        assert_eq!(r.stunted_list[0].haz, -2.01);
    }
}
