//! Reading field-data files for `tumbuh-server import FILE`: typed rows and
//! row-level problems, no database.
//!
//! Two layouts arrive at the district: the field export
//! (`shared/synthetic/measurements.csv`, one row per measurement with codes)
//! and e-PPGBM's "Daftar Anak Berdasarkan Status Gizi" (area *names*, no
//! ids), in CSV, `.xlsx`, binary `.xls` or an HTML table saved as `.xls`.
//! The container is detected from the bytes ([`read_csv`], [`read_xlsx`],
//! [`read_html`]), the layout from the header row (found by its column
//! names, below any title rows), and every cell is read by [`fields`].
//!
//! A row with an [`Severity::Error`] problem is left out of
//! [`ParsedFile::rows`]; warnings keep the row (a NIK that is not 16
//! digits is dropped from it, an implausible measurement value is dropped
//! from the measurement). Whole-file problems are [`ImportError`]s.

pub mod areas;
mod fields;
mod read_csv;
mod read_html;
mod read_xlsx;

use std::collections::HashMap;
use std::fmt;
use std::path::Path;

use chrono::{Datelike, Days, NaiveDate};
use sha2::{Digest, Sha256};
use sync_protocol::{Grams, Millimetres, Position, Sex};
use thiserror::Error;

pub use areas::{AreaDirectory, AreaDirectoryError, AreaEntry, AreaLookupError};
use fields::{Cell, NikCell};

/// One child row, ready to be stored.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportRow {
    /// 1-based row number as a spreadsheet user sees it (the header row
    /// and any title rows count).
    pub line: usize,
    /// `record_id` of the field export; `ppgbm:<sha256>` of the row's
    /// normalised values for e-PPGBM, so that a re-import gives the same id.
    pub external_id: String,
    /// Weighing month `YYYY-MM`: the field export's `round`, else the month
    /// of the measurement.
    pub round: Option<String>,
    /// 12-digit posyandu code.
    pub posyandu: String,
    /// 10-digit desa code of the child's domicile as recorded (e-PPGBM: the
    /// posyandu's desa).
    pub desa: Option<String>,
    pub kader: Option<String>,
    pub name: String,
    pub sex: Sex,
    pub birth_date: NaiveDate,
    pub nik: Option<String>,
    pub no_kk: Option<String>,
    /// Empty when not entered.
    pub mother_name: String,
    pub mother_nik: Option<String>,
    pub father_name: Option<String>,
    pub rt: Option<String>,
    pub rw: Option<String>,
    pub address: Option<String>,
    pub birth_weight: Option<Grams>,
    pub birth_length: Option<Millimetres>,
    /// `None` when the row has no measurement date or values.
    pub measurement: Option<ImportMeasurement>,
}

/// The measurement of a row.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportMeasurement {
    pub date: NaiveDate,
    pub weight: Option<Grams>,
    pub length: Option<Millimetres>,
    pub position: Option<Position>,
    pub muac: Option<Millimetres>,
}

/// Whether a problem rejects the row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    /// The row is not imported.
    Error,
    /// The row is imported (without the value concerned, if said so).
    Warning,
}

/// A problem in one cell of one row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowProblem {
    pub line: usize,
    /// The column's header as written in the file.
    pub column: String,
    pub value: String,
    pub reason: String,
    pub severity: Severity,
}

impl fmt::Display for RowProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "line {}, column `{}` ({:?}): {}",
            self.line, self.column, self.value, self.reason
        )
    }
}

/// Layout and container of a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileFormat {
    /// The field export layout in CSV.
    FieldCsv,
    /// The field export layout saved as a workbook (`.xlsx`/`.xls`).
    FieldSpreadsheet,
    /// The field export layout as an HTML table.
    FieldHtml,
    PpgbmCsv,
    PpgbmXlsx,
    /// Binary (BIFF) `.xls`.
    PpgbmXls,
    /// An HTML table saved with an `.xls` name.
    PpgbmHtml,
}

impl fmt::Display for FileFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FileFormat::FieldCsv => "field export (CSV)",
            FileFormat::FieldSpreadsheet => "field export (spreadsheet)",
            FileFormat::FieldHtml => "field export (HTML table)",
            FileFormat::PpgbmCsv => "e-PPGBM (CSV)",
            FileFormat::PpgbmXlsx => "e-PPGBM (.xlsx)",
            FileFormat::PpgbmXls => "e-PPGBM (binary .xls)",
            FileFormat::PpgbmHtml => "e-PPGBM (HTML table saved as .xls)",
        })
    }
}

/// Everything read from one file.
#[derive(Debug, Clone)]
pub struct ParsedFile {
    pub format: FileFormat,
    /// The rows without errors, in file order.
    pub rows: Vec<ImportRow>,
    /// Every problem, in file order (rows with an error are not in `rows`).
    pub problems: Vec<RowProblem>,
    /// Header names present in the file and not read.
    pub ignored_columns: Vec<String>,
    /// Optional columns of the layout that the file lacks.
    pub missing_columns: Vec<String>,
    /// Data rows seen (blank rows not counted).
    pub total_rows: usize,
}

impl ParsedFile {
    /// Number of rows rejected by an error.
    pub fn rejected_rows(&self) -> usize {
        let mut lines: Vec<usize> = self
            .problems
            .iter()
            .filter(|p| p.severity == Severity::Error)
            .map(|p| p.line)
            .collect();
        lines.dedup();
        lines.len()
    }
}

/// A problem with the whole file.
#[derive(Debug, Error)]
pub enum ImportError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("the file is empty")]
    Empty,
    #[error("the file cannot be read: {0}")]
    Unreadable(String),
    #[error(
        "the columns are not a known layout; seen: {}; expected the field export ({}) or an e-PPGBM export with {}",
        if seen.is_empty() { "no table".to_string() } else { seen.join(", ") },
        FIELD_COLUMNS.join(", "),
        PPGBM_REQUIRED.join(", ")
    )]
    UnknownLayout { seen: Vec<String> },
    #[error("the {format} file lacks the required column(s): {}", missing.join(", "))]
    MissingColumns {
        format: FileFormat,
        missing: Vec<String>,
    },
    #[error(
        "the {0} file names its areas and the server holds no area directory to find their codes: \
         load it once with `tumbuh-server areas import areas.csv` (or give --areas areas.csv)"
    )]
    NeedsAreaDirectory(FileFormat),
}

/// The columns of the field export, in order.
pub const FIELD_COLUMNS: &[&str] = &[
    "record_id",
    "round",
    "measured_on",
    "posyandu_code",
    "desa_code",
    "kader_id",
    "nik",
    "no_kk",
    "name",
    "sex",
    "birth_date",
    "birth_weight_kg",
    "mother_name",
    "mother_nik",
    "father_name",
    "rt",
    "rw",
    "address",
    "weight_kg",
    "height_cm",
    "measure_position",
    "muac_cm",
];

/// The e-PPGBM columns without which a row cannot be placed.
pub const PPGBM_REQUIRED: &[&str] = &["Nama", "JK", "Tgl Lahir", "Tanggal Pengukuran", "Posyandu"];

/// What a column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Col {
    RecordId,
    Round,
    MeasuredOn,
    PosyanduCode,
    DesaCode,
    KaderId,
    Nik,
    NoKk,
    Name,
    Sex,
    BirthDate,
    BirthWeight,
    BirthLength,
    MotherName,
    MotherNik,
    FatherName,
    Rt,
    Rw,
    Address,
    Weight,
    Height,
    Position,
    Muac,
    Prov,
    Kab,
    Kec,
    Puskesmas,
    Desa,
    Posyandu,
    Age,
}

/// A column of a layout: what it holds, its usual header, the header keys
/// ([`fields::key`]) it is known by, and whether the layout needs it.
struct Spec {
    col: Col,
    label: &'static str,
    keys: &'static [&'static str],
    required: bool,
    /// Reported in `missing_columns` when absent.
    expected: bool,
}

const fn spec(
    col: Col,
    label: &'static str,
    keys: &'static [&'static str],
    required: bool,
    expected: bool,
) -> Spec {
    Spec {
        col,
        label,
        keys,
        required,
        expected,
    }
}

const FIELD_SPEC: &[Spec] = &[
    spec(Col::RecordId, "record_id", &["recordid"], true, true),
    spec(Col::Round, "round", &["round"], false, true),
    spec(Col::MeasuredOn, "measured_on", &["measuredon"], true, true),
    spec(
        Col::PosyanduCode,
        "posyandu_code",
        &["posyanducode"],
        true,
        true,
    ),
    spec(Col::DesaCode, "desa_code", &["desacode"], false, true),
    spec(Col::KaderId, "kader_id", &["kaderid"], false, true),
    spec(Col::Nik, "nik", &["nik"], false, true),
    spec(Col::NoKk, "no_kk", &["nokk"], false, true),
    spec(Col::Name, "name", &["name"], true, true),
    spec(Col::Sex, "sex", &["sex"], true, true),
    spec(Col::BirthDate, "birth_date", &["birthdate"], true, true),
    spec(
        Col::BirthWeight,
        "birth_weight_kg",
        &["birthweightkg"],
        false,
        true,
    ),
    spec(
        Col::BirthLength,
        "birth_length_cm",
        &["birthlengthcm"],
        false,
        false,
    ),
    spec(Col::MotherName, "mother_name", &["mothername"], false, true),
    spec(Col::MotherNik, "mother_nik", &["mothernik"], false, true),
    spec(Col::FatherName, "father_name", &["fathername"], false, true),
    spec(Col::Rt, "rt", &["rt"], false, true),
    spec(Col::Rw, "rw", &["rw"], false, true),
    spec(Col::Address, "address", &["address"], false, true),
    spec(Col::Weight, "weight_kg", &["weightkg"], false, true),
    spec(Col::Height, "height_cm", &["heightcm"], false, true),
    spec(
        Col::Position,
        "measure_position",
        &["measureposition"],
        false,
        true,
    ),
    spec(Col::Muac, "muac_cm", &["muaccm"], false, true),
];

const PPGBM_SPEC: &[Spec] = &[
    spec(
        Col::Nik,
        "NIK",
        &["nik", "nikanak", "nikbalita"],
        false,
        true,
    ),
    spec(
        Col::Name,
        "Nama",
        &["nama", "namaanak", "namabalita"],
        true,
        true,
    ),
    spec(Col::Sex, "JK", &["jk", "jeniskelamin", "lp"], true, true),
    spec(
        Col::BirthDate,
        "Tgl Lahir",
        &["tgllahir", "tanggallahir", "tgllhr"],
        true,
        true,
    ),
    spec(
        Col::BirthWeight,
        "BB Lahir",
        &["bblahir", "beratlahir", "beratbadanlahir"],
        false,
        true,
    ),
    spec(
        Col::BirthLength,
        "TB Lahir",
        &["tblahir", "pblahir", "panjanglahir", "tinggilahir"],
        false,
        true,
    ),
    spec(
        Col::MotherName,
        "Nama Ortu",
        &["namaortu", "namaorangtua", "namaibu"],
        false,
        true,
    ),
    spec(Col::NoKk, "No KK", &["nokk", "kk", "nomorkk"], false, false),
    spec(
        Col::MotherNik,
        "NIK Ibu",
        &["nikibu", "nikortu"],
        false,
        false,
    ),
    spec(Col::FatherName, "Nama Ayah", &["namaayah"], false, false),
    spec(Col::Prov, "Prov", &["prov", "provinsi"], false, true),
    spec(
        Col::Kab,
        "Kab/Kota",
        &["kabkota", "kab", "kabupaten", "kota", "kabupatenkota"],
        false,
        true,
    ),
    spec(Col::Kec, "Kec", &["kec", "kecamatan"], false, true),
    spec(
        Col::Puskesmas,
        "Puskesmas",
        &["pukesmas", "puskesmas", "pkm"],
        false,
        true,
    ),
    spec(
        Col::Desa,
        "Desa/Kel",
        &["desakel", "desa", "kel", "kelurahan", "desakelurahan"],
        false,
        true,
    ),
    spec(
        Col::Posyandu,
        "Posyandu",
        &["posyandu", "namaposyandu"],
        true,
        true,
    ),
    spec(Col::Rt, "RT", &["rt"], false, true),
    spec(Col::Rw, "RW", &["rw"], false, true),
    spec(Col::Address, "Alamat", &["alamat"], false, true),
    spec(
        Col::Age,
        "Usia Saat Ukur",
        &["usiasaatukur", "usia", "umur"],
        false,
        true,
    ),
    spec(
        Col::MeasuredOn,
        "Tanggal Pengukuran",
        &[
            "tanggalpengukuran",
            "tglpengukuran",
            "tanggalukur",
            "tglukur",
        ],
        true,
        true,
    ),
    spec(
        Col::Weight,
        "Berat",
        &["berat", "beratbadan", "bb"],
        false,
        true,
    ),
    spec(
        Col::Height,
        "Tinggi",
        &["tinggi", "tinggibadan", "tb", "pb", "panjangbadan"],
        false,
        true,
    ),
    spec(Col::Position, "Cara Ukur", &["caraukur"], false, true),
    spec(Col::Muac, "LiLA", &["lila"], false, true),
];

/// One row of a container, before it is understood.
#[derive(Debug, Clone)]
pub(crate) struct RawRow {
    pub line: usize,
    pub cells: Vec<Cell>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layout {
    Field,
    Ppgbm,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Container {
    Csv,
    Xlsx,
    Xls,
    Html,
}

fn file_format(layout: Layout, container: Container) -> FileFormat {
    match (layout, container) {
        (Layout::Field, Container::Csv) => FileFormat::FieldCsv,
        (Layout::Field, Container::Xlsx | Container::Xls) => FileFormat::FieldSpreadsheet,
        (Layout::Field, Container::Html) => FileFormat::FieldHtml,
        (Layout::Ppgbm, Container::Csv) => FileFormat::PpgbmCsv,
        (Layout::Ppgbm, Container::Xlsx) => FileFormat::PpgbmXlsx,
        (Layout::Ppgbm, Container::Xls) => FileFormat::PpgbmXls,
        (Layout::Ppgbm, Container::Html) => FileFormat::PpgbmHtml,
    }
}

/// Reads `path`, detecting its container and layout. `areas` is needed for
/// e-PPGBM files (to turn area names into codes) and, when given, checks
/// the posyandu codes of field exports. `progress` is called with (rows
/// done, rows in all).
pub fn read_file(
    path: &Path,
    areas: Option<&AreaDirectory>,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<ParsedFile, ImportError> {
    read_file_as_of(path, areas, chrono::Local::now().date_naive(), progress)
}

/// [`read_file`] with "today" given: dates after `today` (plus one day, for
/// the time zones between the server and eastern Indonesia) are errors.
pub fn read_file_as_of(
    path: &Path,
    areas: Option<&AreaDirectory>,
    today: NaiveDate,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<ParsedFile, ImportError> {
    let bytes = std::fs::read(path).map_err(|source| ImportError::Io {
        path: path.display().to_string(),
        source,
    })?;
    read_bytes(bytes, areas, today, progress)
}

/// [`read_file_as_of`] on the file's bytes.
pub fn read_bytes(
    bytes: Vec<u8>,
    areas: Option<&AreaDirectory>,
    today: NaiveDate,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<ParsedFile, ImportError> {
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(ImportError::Empty);
    }
    let (container, tables) = if bytes.starts_with(b"PK\x03\x04") {
        (Container::Xlsx, read_xlsx::read_sheets(bytes)?)
    } else if bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) {
        (Container::Xls, read_xlsx::read_sheets(bytes)?)
    } else if read_html::looks_like_html(&bytes) {
        (
            Container::Html,
            read_html::read_tables(&read_csv::decode(&bytes)),
        )
    } else {
        (
            Container::Csv,
            vec![read_csv::read_rows(&read_csv::decode(&bytes))?],
        )
    };
    let mut seen: Option<Vec<String>> = None;
    for rows in &tables {
        match find_header(rows) {
            Some((index, layout)) => {
                let format = file_format(layout, container);
                return read_table(
                    format,
                    layout,
                    &rows[index],
                    &rows[index + 1..],
                    areas,
                    today,
                    progress,
                );
            }
            None => {
                if seen.is_none() {
                    seen = rows
                        .iter()
                        .find(|r| r.cells.iter().any(|c| !c.is_empty()))
                        .map(|r| {
                            r.cells
                                .iter()
                                .map(Cell::text)
                                .filter(|t| !t.is_empty())
                                .collect()
                        });
                }
            }
        }
    }
    Err(ImportError::UnknownLayout {
        seen: seen.unwrap_or_default(),
    })
}

/// The header row (index in `rows`) and its layout: the first of the top 50
/// rows whose cells name enough known columns.
fn find_header(rows: &[RawRow]) -> Option<(usize, Layout)> {
    rows.iter().take(50).enumerate().find_map(|(i, row)| {
        let keys: Vec<String> = row.cells.iter().map(|c| fields::key(&c.text())).collect();
        let hits = |specs: &[Spec]| {
            specs
                .iter()
                .filter(|s| s.keys.iter().any(|k| keys.iter().any(|h| h == k)))
                .count()
        };
        let has = |k: &str| keys.iter().any(|h| h == k);
        if has("recordid") && hits(FIELD_SPEC) >= 5 {
            Some((i, Layout::Field))
        } else if hits(PPGBM_SPEC) >= 4 && (has("nama") || has("namaanak") || has("namabalita")) {
            Some((i, Layout::Ppgbm))
        } else {
            None
        }
    })
}

/// Where each column is, with its header as written.
struct Columns {
    at: HashMap<Col, (usize, String)>,
}

impl Columns {
    fn cell<'r>(&self, row: &'r RawRow, col: Col) -> &'r Cell {
        static EMPTY: Cell = Cell::Empty;
        self.at
            .get(&col)
            .and_then(|(i, _)| row.cells.get(*i))
            .unwrap_or(&EMPTY)
    }
    fn label(&self, col: Col) -> String {
        self.at
            .get(&col)
            .map(|(_, l)| l.clone())
            .unwrap_or_default()
    }
}

fn read_table(
    format: FileFormat,
    layout: Layout,
    header: &RawRow,
    data: &[RawRow],
    areas: Option<&AreaDirectory>,
    today: NaiveDate,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<ParsedFile, ImportError> {
    let specs = match layout {
        Layout::Field => FIELD_SPEC,
        Layout::Ppgbm => PPGBM_SPEC,
    };
    let mut at = HashMap::new();
    let mut ignored = Vec::new();
    for (i, cell) in header.cells.iter().enumerate() {
        let text = cell.text();
        if text.is_empty() {
            continue;
        }
        let k = fields::key(&text);
        match specs
            .iter()
            .find(|s| s.keys.contains(&k.as_str()) && !at.contains_key(&s.col))
        {
            Some(s) => {
                at.insert(s.col, (i, text));
            }
            None => ignored.push(text),
        }
    }
    let missing_required: Vec<String> = specs
        .iter()
        .filter(|s| s.required && !at.contains_key(&s.col))
        .map(|s| s.label.to_string())
        .collect();
    if !missing_required.is_empty() {
        return Err(ImportError::MissingColumns {
            format,
            missing: missing_required,
        });
    }
    let missing_columns = specs
        .iter()
        .filter(|s| s.expected && !at.contains_key(&s.col))
        .map(|s| s.label.to_string())
        .collect();
    let areas = match (layout, areas) {
        (Layout::Ppgbm, None) => return Err(ImportError::NeedsAreaDirectory(format)),
        (_, a) => a,
    };
    let columns = Columns { at };
    let data: Vec<&RawRow> = data
        .iter()
        .filter(|r| r.cells.iter().any(|c| !c.is_empty()))
        .collect();
    let total = data.len() as u64;
    let mut parsed = ParsedFile {
        format,
        rows: Vec::new(),
        problems: Vec::new(),
        ignored_columns: ignored,
        missing_columns,
        total_rows: data.len(),
    };
    // external id → (line, content hash) of the first row with it.
    let mut seen: HashMap<String, (usize, String)> = HashMap::new();
    for (done, raw) in data.iter().enumerate() {
        if done % 256 == 0 {
            progress(done as u64, total);
        }
        let mut ctx = RowCtx {
            line: raw.line,
            problems: Vec::new(),
            columns: &columns,
            raw,
        };
        let row = read_row(&mut ctx, layout, areas, today);
        let failed = ctx.problems.iter().any(|p| p.severity == Severity::Error);
        let mut problems = ctx.problems;
        if let (Some(mut row), false) = (row, failed) {
            let content = content_hash(&row);
            if layout == Layout::Ppgbm {
                row.external_id = format!("ppgbm:{content}");
            }
            match seen.get(&row.external_id) {
                Some((first, hash)) if *hash == content => problems.push(RowProblem {
                    line: raw.line,
                    column: String::new(),
                    value: String::new(),
                    reason: format!("duplicate of line {first}; imported once"),
                    severity: Severity::Warning,
                }),
                Some((first, _)) => problems.push(RowProblem {
                    line: raw.line,
                    column: columns.label(Col::RecordId),
                    value: row.external_id.clone(),
                    reason: format!("the same id as line {first}, with other values"),
                    severity: Severity::Error,
                }),
                None => {
                    seen.insert(row.external_id.clone(), (raw.line, content));
                    parsed.rows.push(row);
                }
            }
        }
        parsed.problems.extend(problems);
    }
    progress(total, total);
    Ok(parsed)
}

/// SHA-256 (hex) of a row's values as read (not its line), normalised so
/// that the same row exported again — as CSV or as a workbook — hashes the
/// same.
fn content_hash(row: &ImportRow) -> String {
    let norm = |s: &str| fields::collapse_spaces(s).to_lowercase();
    let opt = |s: &Option<String>| s.as_deref().map(norm).unwrap_or_default();
    let m = row.measurement.as_ref();
    let parts = [
        row.posyandu.clone(),
        opt(&row.desa),
        opt(&row.kader),
        opt(&row.round),
        norm(&row.name),
        row.sex.code().to_string(),
        row.birth_date.to_string(),
        opt(&row.nik),
        opt(&row.no_kk),
        norm(&row.mother_name),
        opt(&row.mother_nik),
        opt(&row.father_name),
        opt(&row.rt),
        opt(&row.rw),
        opt(&row.address),
        row.birth_weight
            .map(|g| g.0.to_string())
            .unwrap_or_default(),
        row.birth_length
            .map(|l| l.0.to_string())
            .unwrap_or_default(),
        m.map(|m| m.date.to_string()).unwrap_or_default(),
        m.and_then(|m| m.weight)
            .map(|g| g.0.to_string())
            .unwrap_or_default(),
        m.and_then(|m| m.length)
            .map(|l| l.0.to_string())
            .unwrap_or_default(),
        m.and_then(|m| m.position)
            .map(|p| p.code().to_string())
            .unwrap_or_default(),
        m.and_then(|m| m.muac)
            .map(|l| l.0.to_string())
            .unwrap_or_default(),
    ];
    hex::encode(Sha256::digest(parts.join("\u{1f}").as_bytes()))
}

/// The row being read and its problems so far.
struct RowCtx<'a> {
    line: usize,
    problems: Vec<RowProblem>,
    columns: &'a Columns,
    raw: &'a RawRow,
}

impl RowCtx<'_> {
    fn cell(&self, col: Col) -> &Cell {
        self.columns.cell(self.raw, col)
    }
    fn problem(&mut self, col: Col, reason: impl Into<String>, severity: Severity) {
        let value = self.cell(col).text();
        self.problems.push(RowProblem {
            line: self.line,
            column: self.columns.label(col),
            value,
            reason: reason.into(),
            severity,
        });
    }
    fn error(&mut self, col: Col, reason: impl Into<String>) {
        self.problem(col, reason, Severity::Error);
    }
    fn warn(&mut self, col: Col, reason: impl Into<String>) {
        self.problem(col, reason, Severity::Warning);
    }
    fn text(&self, col: Col) -> Option<String> {
        Some(self.cell(col).text()).filter(|t| !t.is_empty())
    }
    /// A required cell's text; an error when empty.
    fn required_text(&mut self, col: Col) -> Option<String> {
        let t = self.text(col);
        if t.is_none() {
            self.error(col, "required, but empty");
        }
        t
    }
    fn date(&mut self, col: Col, today: NaiveDate) -> Option<NaiveDate> {
        match fields::parse_date(self.cell(col)) {
            Ok(d) if Some(d) > today.checked_add_days(Days::new(1)) => {
                self.error(col, format!("{d} is in the future"));
                None
            }
            Ok(d) if d.year() < 1900 => {
                self.error(col, format!("{d} is too long ago"));
                None
            }
            Ok(d) => Some(d),
            Err(reason) => {
                self.error(col, reason);
                None
            }
        }
    }
    /// An optional number: `Ok(None)` when empty; an error when not a number.
    fn number(&mut self, col: Col) -> Result<Option<f64>, ()> {
        if self.cell(col).is_empty() {
            return Ok(None);
        }
        match fields::parse_decimal(self.cell(col)) {
            Ok(v) => Ok(Some(v)),
            Err(reason) => {
                self.error(col, reason);
                Err(())
            }
        }
    }
    /// A NIK-like cell: digits, or nothing with a warning, or an error when
    /// Excel mangled it.
    fn nik(&mut self, col: Col, what: &str) -> Option<String> {
        match fields::parse_nik(self.cell(col)) {
            NikCell::Empty => None,
            NikCell::Digits(d) => Some(d),
            NikCell::Unusable(why) => {
                self.warn(col, format!("{what} left out: {why}"));
                None
            }
            NikCell::Mangled(shown) => {
                self.error(
                    col,
                    format!(
                        "{what} was converted to a number by Excel ({shown}); digits lost — re-export with the column as text"
                    ),
                );
                None
            }
        }
    }
    /// A measured length in cm within `[min, max]`; outside it a warning and
    /// the value is left out.
    fn length_cm(&mut self, col: Col, min: f64, max: f64, what: &str) -> Option<Millimetres> {
        let v = self.number(col).ok()??;
        match Millimetres::from_cm(v, min, max) {
            Ok(mm) => Some(mm),
            Err(e) => {
                self.warn(col, format!("{what} {e}; left out"));
                None
            }
        }
    }
}

fn is_code(s: &str, digits: usize) -> bool {
    s.len() == digits && s.bytes().all(|b| b.is_ascii_digit())
}

/// Reads one data row; problems go to `ctx`. `None` when a required value
/// is unusable (the errors say why).
fn read_row(
    ctx: &mut RowCtx<'_>,
    layout: Layout,
    areas: Option<&AreaDirectory>,
    today: NaiveDate,
) -> Option<ImportRow> {
    let external_id = match layout {
        Layout::Field => ctx.required_text(Col::RecordId),
        Layout::Ppgbm => Some(String::new()),
    };
    let name = ctx.required_text(Col::Name);
    let sex = match fields::parse_sex(ctx.cell(Col::Sex)) {
        Ok(s) => Some(s),
        Err(reason) => {
            ctx.error(Col::Sex, reason);
            None
        }
    };
    let birth_date = ctx.date(Col::BirthDate, today);

    let (posyandu, desa, kader) = match layout {
        Layout::Field => {
            let posyandu = ctx.required_text(Col::PosyanduCode).and_then(|p| {
                if is_code(&p, 12) {
                    Some(p)
                } else {
                    ctx.error(Col::PosyanduCode, "not a posyandu code (12 digits)");
                    None
                }
            });
            if let (Some(p), Some(dir)) = (&posyandu, areas)
                && dir.level(p).is_none()
            {
                ctx.warn(Col::PosyanduCode, "not in the area directory");
            }
            let desa = ctx.text(Col::DesaCode).and_then(|d| {
                if is_code(&d, 10) {
                    Some(d)
                } else {
                    ctx.warn(Col::DesaCode, "not a desa code (10 digits); left out");
                    None
                }
            });
            (posyandu, desa, ctx.text(Col::KaderId))
        }
        Layout::Ppgbm => {
            let dir = areas?;
            let name_of = |c: Col| ctx.text(c);
            let found = dir.find_posyandu(
                name_of(Col::Prov).as_deref(),
                name_of(Col::Kab).as_deref(),
                name_of(Col::Kec).as_deref(),
                name_of(Col::Desa).as_deref(),
                name_of(Col::Posyandu).as_deref(),
            );
            match found {
                Ok(code) => {
                    let desa = dir.parent(&code).map(str::to_string);
                    (Some(code), desa, None)
                }
                Err(e) => {
                    let col = match &e {
                        AreaLookupError::NotFound { level, .. }
                        | AreaLookupError::Ambiguous { level, .. } => match *level {
                            "provinsi" => Col::Prov,
                            "kabupaten/kota" => Col::Kab,
                            "kecamatan" => Col::Kec,
                            "desa/kelurahan" => Col::Desa,
                            _ => Col::Posyandu,
                        },
                        AreaLookupError::Missing { .. } => Col::Posyandu,
                    };
                    ctx.error(col, e.to_string());
                    (None, None, None)
                }
            }
        }
    };

    let nik = ctx.nik(Col::Nik, "NIK");
    let no_kk = ctx.nik(Col::NoKk, "No. KK");
    let mother_nik = ctx.nik(Col::MotherNik, "mother's NIK");

    let birth_weight = match ctx.number(Col::BirthWeight) {
        Ok(Some(v)) => {
            // Entered in grams now and then (3400 for 3.4 kg).
            let kg = if v > 100.0 { v / 1000.0 } else { v };
            if (0.4..=7.0).contains(&kg) {
                Grams::from_kg(kg, 7.0).ok()
            } else {
                ctx.warn(Col::BirthWeight, "birth weight outside 0.4–7 kg; left out");
                None
            }
        }
        _ => None,
    };
    let birth_length = ctx.length_cm(Col::BirthLength, 25.0, 65.0, "birth length");

    // The measurement.
    let measured_on = if ctx.cell(Col::MeasuredOn).is_empty() {
        None
    } else {
        ctx.date(Col::MeasuredOn, today)
    };
    let weight = match ctx.number(Col::Weight) {
        Ok(Some(v)) => match Grams::from_kg(v, 60.0) {
            Ok(g) if v >= 0.5 => Some(g),
            _ => {
                ctx.warn(Col::Weight, "weight outside 0.5–60 kg; left out");
                None
            }
        },
        _ => None,
    };
    let length = ctx.length_cm(Col::Height, 35.0, 130.0, "length/height");
    let muac = ctx.length_cm(Col::Muac, 7.0, 35.0, "LiLA");
    let position = match fields::parse_position(ctx.cell(Col::Position)) {
        Ok(p) => p,
        Err(reason) => {
            ctx.error(Col::Position, reason);
            None
        }
    };
    let any_value = [Col::Weight, Col::Height, Col::Muac]
        .iter()
        .any(|c| !ctx.cell(*c).is_empty());
    let measurement = match measured_on {
        Some(date) => {
            if let Some(b) = birth_date
                && b > date
            {
                ctx.error(
                    Col::BirthDate,
                    format!("born after the measurement date {date}"),
                );
            }
            if weight.is_none() && length.is_none() && muac.is_none() {
                if !any_value {
                    ctx.warn(
                        Col::MeasuredOn,
                        "a measurement date without any value; no measurement imported",
                    );
                }
                None
            } else {
                Some(ImportMeasurement {
                    date,
                    weight,
                    length,
                    position: length.and(position),
                    muac,
                })
            }
        }
        None => {
            if any_value && ctx.cell(Col::MeasuredOn).is_empty() {
                ctx.error(
                    Col::MeasuredOn,
                    "measurement values without a measurement date",
                );
            }
            None
        }
    };

    let round = match layout {
        Layout::Field => match ctx.text(Col::Round) {
            Some(r) => {
                if NaiveDate::parse_from_str(&format!("{r}-01"), "%Y-%m-%d").is_ok() && r.len() == 7
                {
                    Some(r)
                } else {
                    ctx.error(Col::Round, "not a month (YYYY-MM)");
                    None
                }
            }
            None => measurement
                .as_ref()
                .map(|m| m.date.format("%Y-%m").to_string()),
        },
        Layout::Ppgbm => measurement
            .as_ref()
            .map(|m| m.date.format("%Y-%m").to_string()),
    };

    Some(ImportRow {
        line: ctx.line,
        external_id: external_id?,
        round,
        posyandu: posyandu?,
        desa,
        kader,
        name: name?,
        sex: sex?,
        birth_date: birth_date?,
        nik,
        no_kk,
        mother_name: ctx.text(Col::MotherName).unwrap_or_default(),
        mother_nik,
        father_name: ctx.text(Col::FatherName),
        rt: ctx.text(Col::Rt),
        rw: ctx.text(Col::Rw),
        address: ctx.text(Col::Address),
        birth_weight,
        birth_length,
        measurement,
    })
}
