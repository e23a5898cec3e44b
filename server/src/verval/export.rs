//! The register in e-PPGBM's layout ("Daftar Anak Berdasarkan Status Gizi"),
//! as CSV and xlsx.
//!
//! e-PPGBM is the Ministry of Health's national nutrition reporting system;
//! puskesmas staff upload or retype posyandu data into it. Writing our
//! register in its column order and spelling (including its `Pukesmas`
//! header) saves that retyping. The caller picks the rows — one per child with
//! its latest measurement, or one per measurement of a round — and gives area
//! names as strings; this module only classifies (with `growth`'s Permenkes
//! 2/2020 categories) and lays out.
//!
//! NIKs are 16 digits: Excel turns such a number into `3.53E+15` and loses the
//! last digits, so the workbook writes NIK (and RT/RW) cells as strings. The
//! CSV writes the NIK verbatim; open the xlsx in Excel, not the CSV.

use std::io::Write;
use std::path::Path;

use chrono::{Datelike, NaiveDate};
use growth::lms::round_centi;
use growth::{BbuCategory, NutritionCategory, Position, Standard, TbuCategory};
use rust_xlsxwriter::{Format, Workbook, XlsxError};

use super::VervalError;

/// e-PPGBM's header, in its order and spelling.
pub const PPGBM_HEADER: [&str; 31] = [
    "No",
    "NIK",
    "Nama",
    "JK",
    "Tgl Lahir",
    "BB Lahir",
    "TB Lahir",
    "Nama Ortu",
    "Prov",
    "Kab/Kota",
    "Kec",
    "Pukesmas",
    "Desa/Kel",
    "Posyandu",
    "RT",
    "RW",
    "Alamat",
    "Usia Saat Ukur",
    "Tanggal Pengukuran",
    "Berat",
    "Tinggi",
    "Cara Ukur",
    "LiLA",
    "BB/U",
    "ZS BB/U",
    "TB/U",
    "ZS TB/U",
    "BB/TB",
    "ZS BB/TB",
    // Not e-PPGBM's: the parental consent the record rests on (UU 27/2022),
    // after its columns so an upload can drop them.
    "Persetujuan Ortu",
    "Tgl Persetujuan",
];

/// One line of the e-PPGBM list: a child and one of its measurements.
#[derive(Debug, Clone, PartialEq)]
pub struct PpgbmRow {
    pub nik: Option<String>,
    pub nama: String,
    /// `L` or `P`.
    pub jk: String,
    pub tgl_lahir: NaiveDate,
    pub bb_lahir_kg: Option<f64>,
    pub tb_lahir_cm: Option<f64>,
    pub nama_ortu: String,
    pub prov: String,
    pub kab_kota: String,
    pub kec: String,
    pub puskesmas: String,
    pub desa_kel: String,
    pub posyandu: String,
    pub rt: Option<String>,
    pub rw: Option<String>,
    pub alamat: Option<String>,
    /// `None` for a child of the register never measured (its measurement
    /// columns are left empty).
    pub tanggal_pengukuran: Option<NaiveDate>,
    pub berat_kg: Option<f64>,
    pub tinggi_cm: Option<f64>,
    pub cara_ukur: Option<Position>,
    pub lila_cm: Option<f64>,
    /// Unrounded z-scores; `None` when not computed (no weight, no length, out of range).
    pub waz: Option<f64>,
    pub haz: Option<f64>,
    pub whz: Option<f64>,
    /// Who gave parental consent, and when (`YYYY-MM-DD`).
    pub consent_by: Option<String>,
    pub consent_on: Option<String>,
}

/// `"2 Tahun - 3 Bulan - 5 Hari"`: calendar years, months and days from birth to `on`
/// (a day-of-month past the end of a shorter month counts as its last day). Empty when
/// `on` is before `birth`.
#[must_use]
pub fn usia_saat_ukur(birth: NaiveDate, on: NaiveDate) -> String {
    if on < birth {
        return String::new();
    }
    let mut months = (on.year() - birth.year()) * 12 + on.month() as i32 - birth.month() as i32;
    if on.day() < birth.day() {
        months -= 1;
    }
    // Birth + months, clamped to the month's end (31 Jan + 1 month = 29 Feb).
    let anchor = u32::try_from(months)
        .ok()
        .and_then(|m| birth.checked_add_months(chrono::Months::new(m)));
    let Some(anchor) = anchor else {
        return String::new();
    };
    let (mut months, mut days) = (months, (on - anchor).num_days());
    if days < 0 {
        // Only when the clamped anchor overshoots; step back one month.
        months -= 1;
        days = u32::try_from(months)
            .ok()
            .and_then(|m| birth.checked_add_months(chrono::Months::new(m)))
            .map_or(0, |a| (on - a).num_days());
    }
    format!(
        "{} Tahun - {} Bulan - {} Hari",
        months / 12,
        months % 12,
        days
    )
}

/// e-PPGBM spells the Permenkes categories in title case ("Sangat Pendek",
/// "Gizi Baik"): `growth`'s labels with each word capitalised.
fn title_case(label: &str) -> String {
    label
        .split(' ')
        .map(|word| {
            let mut chars = word.chars();
            match chars.next() {
                Some(first) => first.to_uppercase().chain(chars).collect(),
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// TB/U label (0–60 months only; Permenkes has none later).
#[must_use]
pub fn tbu_label(haz: Option<f64>, age_days: i64) -> String {
    under_five(age_days, haz)
        .map(|c| title_case(TbuCategory::from_centi(c).label_id()))
        .unwrap_or_default()
}

/// BB/U label (0–60 months). e-PPGBM shortens "Risiko Berat Badan Lebih" to "Risiko Lebih".
#[must_use]
pub fn bbu_label(waz: Option<f64>, age_days: i64) -> String {
    under_five(age_days, waz)
        .map(|c| match BbuCategory::from_centi(c) {
            BbuCategory::RisikoLebih => "Risiko Lebih".to_owned(),
            other => title_case(other.label_id()),
        })
        .unwrap_or_default()
}

/// BB/TB (or BB/PB) label (0–60 months).
#[must_use]
pub fn bbtb_label(whz: Option<f64>, age_days: i64) -> String {
    under_five(age_days, whz)
        .map(|c| title_case(NutritionCategory::under_five_from_centi(c).label_id()))
        .unwrap_or_default()
}

fn under_five(age_days: i64, z: Option<f64>) -> Option<i32> {
    (Standard::for_age_days(age_days) == Standard::Who2006)
        .then_some(z)
        .flatten()
        .map(round_centi)
}

/// A measurement as e-PPGBM shows it: decimal point, at most two decimals.
fn number(value: Option<f64>) -> String {
    value.map_or_else(String::new, |v| {
        let text = format!("{v:.2}");
        text.trim_end_matches('0').trim_end_matches('.').to_owned()
    })
}

fn z(value: Option<f64>) -> String {
    value.map_or_else(String::new, |v| {
        format!("{:.2}", f64::from(round_centi(v)) / 100.0)
    })
}

fn cara_ukur(position: Option<Position>) -> &'static str {
    match position {
        Some(Position::Lying) => "Terlentang",
        Some(Position::Standing) => "Berdiri",
        None => "",
    }
}

/// The 31 cells of `row` as text, numbered `no`.
fn cells(no: usize, row: &PpgbmRow) -> [String; 31] {
    let measured = row.tanggal_pengukuran;
    // Without a measurement there is no age to classify at: no labels.
    let age = measured.map(|on| growth::age_in_days(row.tgl_lahir, on));
    let label = |f: fn(Option<f64>, i64) -> String, v: Option<f64>| {
        age.map(|a| f(v, a)).unwrap_or_default()
    };
    [
        no.to_string(),
        row.nik.clone().unwrap_or_default(),
        row.nama.clone(),
        row.jk.clone(),
        row.tgl_lahir.to_string(),
        number(row.bb_lahir_kg),
        number(row.tb_lahir_cm),
        row.nama_ortu.clone(),
        row.prov.clone(),
        row.kab_kota.clone(),
        row.kec.clone(),
        row.puskesmas.clone(),
        row.desa_kel.clone(),
        row.posyandu.clone(),
        row.rt.clone().unwrap_or_default(),
        row.rw.clone().unwrap_or_default(),
        row.alamat.clone().unwrap_or_default(),
        measured
            .map(|on| usia_saat_ukur(row.tgl_lahir, on))
            .unwrap_or_default(),
        measured.map(|on| on.to_string()).unwrap_or_default(),
        number(row.berat_kg),
        number(row.tinggi_cm),
        cara_ukur(row.cara_ukur).to_owned(),
        number(row.lila_cm),
        label(bbu_label, row.waz),
        z(row.waz),
        label(tbu_label, row.haz),
        z(row.haz),
        label(bbtb_label, row.whz),
        z(row.whz),
        row.consent_by.clone().unwrap_or_default(),
        row.consent_on.clone().unwrap_or_default(),
    ]
}

/// The rows as e-PPGBM CSV (comma-separated, decimal point, dates `YYYY-MM-DD`, NIK verbatim).
pub fn write_ppgbm_csv(rows: &[PpgbmRow], out: &mut dyn Write) -> Result<(), VervalError> {
    let mut csv = csv::Writer::from_writer(out);
    csv.write_record(PPGBM_HEADER)?;
    for (i, row) in rows.iter().enumerate() {
        csv.write_record(cells(i + 1, row))?;
    }
    csv.flush()?;
    Ok(())
}

/// Columns written as numbers in the workbook (No, BB/TB lahir, Berat, Tinggi, LiLA, the z's);
/// every other cell — NIK, RT, RW included — is a string.
const NUMERIC: [usize; 9] = [0, 5, 6, 19, 20, 22, 24, 26, 28];

/// The rows as an xlsx workbook with one sheet, `Status Gizi`, saved at `path`.
pub fn write_ppgbm_xlsx(rows: &[PpgbmRow], path: &Path) -> Result<(), VervalError> {
    let err = |source: XlsxError| VervalError::Xlsx {
        path: path.to_owned(),
        source,
    };
    ppgbm_workbook(rows).map_err(err)?.save(path).map_err(err)
}

/// The same workbook as bytes, for an HTTP answer (`GET /v1/export`).
pub fn ppgbm_xlsx_bytes(rows: &[PpgbmRow]) -> Result<Vec<u8>, VervalError> {
    let err = |source: XlsxError| VervalError::Xlsx {
        path: "in memory".into(),
        source,
    };
    ppgbm_workbook(rows)
        .map_err(err)?
        .save_to_buffer()
        .map_err(err)
}

fn ppgbm_workbook(rows: &[PpgbmRow]) -> Result<Workbook, XlsxError> {
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    let text = Format::new().set_num_format("@");
    let sheet = book.add_worksheet().set_name("Status Gizi")?;
    for (col, title) in (0u16..).zip(PPGBM_HEADER) {
        sheet.write_string_with_format(0, col, title, &bold)?;
    }
    for (r, (i, row)) in (1u32..).zip(rows.iter().enumerate()) {
        for (col, cell) in cells(i + 1, row).into_iter().enumerate() {
            let c = u16::try_from(col).unwrap_or(u16::MAX);
            let as_number = NUMERIC
                .contains(&col)
                .then(|| cell.parse::<f64>().ok())
                .flatten();
            match as_number {
                Some(value) => sheet.write_number(r, c, value),
                None if cell.is_empty() => continue,
                None => sheet.write_string_with_format(r, c, &cell, &text),
            }?;
        }
    }
    sheet.autofit();
    Ok(book)
}

/// The rows of a register export, as `tumbuh-server export` and
/// `GET /v1/export` both write them: per child its round measurement when
/// `round` (`YYYY-MM`) is given, else its latest; NIK masked and the street
/// address withheld unless `reveal` (exports travel).
pub fn export_rows(
    register: &[crate::storage::RegisterChild],
    round: Option<&str>,
    reveal: bool,
    names: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<PpgbmRow>, VervalError> {
    let round = round.map(super::Round::parse).transpose()?;
    rows_from_register(
        register,
        round,
        super::NikDisplay::revealed_if(reveal),
        names,
    )
}

/// The audit detail of an export: round, row count and whether NIKs and
/// addresses were revealed (counts only, never a name).
#[must_use]
pub fn audit_detail(round: Option<&str>, rows: usize, reveal: bool) -> String {
    format!(
        "round={} rows={rows} reveal={reveal}",
        round.unwrap_or("latest")
    )
}

/// e-PPGBM rows from the register. With `round`: one row per child measured
/// in it, with its round measurement (the verval counting rule's choice).
/// Without: the whole register, one row per child (the register is after
/// dedup: a registration merged into another is not a child of it), with
/// its latest valid measurement, or empty measurement columns when it has
/// none. `names` gives area names by code (empty when unknown): of where the
/// measurement was taken, else of the child's home posyandu.
pub fn rows_from_register(
    register: &[crate::storage::RegisterChild],
    round: Option<super::Round>,
    personal: super::NikDisplay,
    names: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<PpgbmRow>, VervalError> {
    let mut out = Vec::new();
    for entry in register {
        let child = &entry.child;
        let chosen = match round {
            Some(r) => match super::round_measurement(child, r)? {
                Some(m) => Some(m),
                None => continue,
            },
            None => child.measurements.iter().rev().find(|m| !m.voided),
        };
        let raw = chosen
            .and_then(|m| child.measurements.iter().position(|x| x.id == m.id))
            .and_then(|i| entry.raw.get(i))
            .copied()
            .unwrap_or_default();
        let place = chosen.map_or(child.posyandu.as_str(), |m| m.posyandu.as_str());
        let name =
            |digits: usize| -> String { place.get(..digits).and_then(names).unwrap_or_default() };
        out.push(PpgbmRow {
            nik: personal.nik(child.nik.as_deref()),
            nama: child.name.clone(),
            jk: child.sex.clone(),
            tgl_lahir: child.birth_date,
            bb_lahir_kg: entry.birth_weight_g.map(|g| g as f64 / 1000.0),
            tb_lahir_cm: entry.birth_length_mm.map(|mm| mm as f64 / 10.0),
            nama_ortu: child.mother_name.clone(),
            prov: name(2),
            kab_kota: name(4),
            kec: name(6),
            // The area directory (areas.csv) has no puskesmas level — a
            // puskesmas serves a list of desa, not a level of the code — so
            // the column stays empty until the directory knows them.
            puskesmas: String::new(),
            desa_kel: name(10),
            posyandu: name(12),
            rt: child.rt.clone(),
            rw: child.rw.clone(),
            alamat: personal.address(child.address.as_deref()),
            tanggal_pengukuran: chosen.map(|m| m.date),
            berat_kg: raw.weight_g.map(|g| g as f64 / 1000.0),
            tinggi_cm: raw.length_mm.map(|mm| mm as f64 / 10.0),
            cara_ukur: raw.standing.map(|s| {
                if s {
                    Position::Standing
                } else {
                    Position::Lying
                }
            }),
            lila_cm: raw.muac_mm.map(|mm| mm as f64 / 10.0),
            waz: chosen.and_then(|m| m.waz),
            haz: chosen.and_then(|m| m.haz),
            whz: chosen.and_then(|m| m.whz),
            consent_by: entry.consent_by.clone(),
            consent_on: entry.consent_on.clone(),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("valid test date")
    }

    #[test]
    fn age_is_years_months_days() {
        let check = |birth, on, want: &str| assert_eq!(usia_saat_ukur(birth, on), want);
        check(d(2022, 5, 10), d(2024, 8, 15), "2 Tahun - 3 Bulan - 5 Hari");
        check(d(2022, 5, 10), d(2022, 5, 10), "0 Tahun - 0 Bulan - 0 Hari");
        check(d(2024, 1, 20), d(2024, 3, 5), "0 Tahun - 1 Bulan - 14 Hari");
        check(d(2024, 1, 31), d(2024, 3, 1), "0 Tahun - 1 Bulan - 1 Hari");
        check(
            d(2023, 8, 16),
            d(2024, 8, 15),
            "0 Tahun - 11 Bulan - 30 Hari",
        );
        check(d(2024, 8, 16), d(2024, 8, 15), "");
    }

    #[test]
    fn labels_are_growth_categories_in_eppgbm_spelling() {
        let age = 400;
        assert_eq!(tbu_label(Some(-3.5), age), "Sangat Pendek");
        assert_eq!(tbu_label(Some(-2.5), age), "Pendek");
        assert_eq!(tbu_label(Some(-2.004), age), "Normal");
        assert_eq!(tbu_label(Some(3.2), age), "Tinggi");
        assert_eq!(bbu_label(Some(-3.5), age), "Berat Badan Sangat Kurang");
        assert_eq!(bbu_label(Some(-2.5), age), "Berat Badan Kurang");
        assert_eq!(bbu_label(Some(0.0), age), "Berat Badan Normal");
        assert_eq!(bbu_label(Some(1.5), age), "Risiko Lebih");
        assert_eq!(bbtb_label(Some(-3.5), age), "Gizi Buruk");
        assert_eq!(bbtb_label(Some(-2.5), age), "Gizi Kurang");
        assert_eq!(bbtb_label(Some(0.0), age), "Gizi Baik");
        assert_eq!(bbtb_label(Some(1.5), age), "Berisiko Gizi Lebih");
        assert_eq!(bbtb_label(Some(2.5), age), "Gizi Lebih");
        assert_eq!(bbtb_label(Some(3.5), age), "Obesitas");
        assert_eq!(bbtb_label(None, age), "");
        // Past 60 months Permenkes has no TB/U category.
        assert_eq!(tbu_label(Some(-2.5), 1900), "");
    }

    #[test]
    fn numbers_use_a_decimal_point_and_no_trailing_zeros() {
        assert_eq!(number(Some(9.8)), "9.8");
        assert_eq!(number(Some(10.0)), "10");
        assert_eq!(number(Some(75.25)), "75.25");
        assert_eq!(number(None), "");
        assert_eq!(z(Some(-2.006)), "-2.01");
    }
}
