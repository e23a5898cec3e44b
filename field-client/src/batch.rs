//! Batch z-scores for analysts: a CSV in, the same CSV with WHO z-scores,
//! flags and Permenkes categories out (`tumbuh zscore`).
//!
//! Input columns are found by header name, as in WHO's test file
//! (`sex,dob,measure_date,weight_kg,lenhei_cm,measure[,oedema]`); every other
//! column is passed through unchanged, and an input column with the name of a
//! computed column is replaced by the computed one. Output columns and their
//! formats are exactly those of `zscore_cases.csv`, so results can be diffed
//! against WHO's expected values.
//!
//! Rows are streamed one at a time with reused buffers, so memory stays
//! constant however long the file is.

use std::io::{Read, Write};

use growth::{Assessment, Input, Position, Sex, Standard, ZScore};
use thiserror::Error;

use crate::dates::parse_date;

/// The computed columns, in output order.
pub const OUTPUT_COLUMNS: [&str; 24] = [
    "age_days",
    "age_months",
    "standard",
    "c9mo_flag",
    "cmeasure",
    "clenhei",
    "cbmi",
    "whz_table",
    "haz",
    "waz",
    "whz",
    "bmiz",
    "haz_raw",
    "waz_raw",
    "whz_raw",
    "bmiz_raw",
    "haz_flag",
    "waz_flag",
    "whz_flag",
    "bmiz_flag",
    "tbu_cat",
    "bbu_cat",
    "bbtb_cat",
    "imtu_cat",
];

/// Why a cell could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CellProblem {
    Missing,
    NotADate,
    NotANumber,
    NotASex,
    NotAPosition,
    NotYesNo,
}

impl CellProblem {
    /// English reason.
    pub fn en(self) -> &'static str {
        match self {
            CellProblem::Missing => "is empty but required",
            CellProblem::NotADate => "is not a date (YYYY-MM-DD, DD-MM-YYYY or DD/MM/YYYY)",
            CellProblem::NotANumber => "is not a number",
            CellProblem::NotASex => "is not a sex (M/F or L/P)",
            CellProblem::NotAPosition => "is not a position (L lying, H standing, or blank)",
            CellProblem::NotYesNo => "is not y or n",
        }
    }
    /// Indonesian reason.
    pub fn id(self) -> &'static str {
        match self {
            CellProblem::Missing => "kosong padahal wajib",
            CellProblem::NotADate => "bukan tanggal (YYYY-MM-DD, DD-MM-YYYY atau DD/MM/YYYY)",
            CellProblem::NotANumber => "bukan angka",
            CellProblem::NotASex => "bukan jenis kelamin (M/F atau L/P)",
            CellProblem::NotAPosition => "bukan posisi ukur (L berbaring, H berdiri, atau kosong)",
            CellProblem::NotYesNo => "bukan y atau n",
        }
    }
}

/// What stops a batch.
#[derive(Debug, Error)]
pub enum BatchError {
    #[error(
        "the input has no `{0}` column (needed: sex, dob, measure_date; optional: weight_kg, lenhei_cm, measure, oedema)"
    )]
    MissingColumn(&'static str),
    #[error("line {line}, column `{column}`: `{value}` {}", problem.en())]
    BadCell {
        line: u64,
        column: &'static str,
        value: String,
        problem: CellProblem,
    },
    #[error("CSV error: {0}")]
    Csv(#[from] csv::Error),
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
}

/// How many rows were done.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BatchSummary {
    pub rows: u64,
    pub bad_rows: u64,
}

struct Columns {
    sex: usize,
    dob: usize,
    measure_date: usize,
    weight: Option<usize>,
    lenhei: Option<usize>,
    measure: Option<usize>,
    oedema: Option<usize>,
    /// Input columns written through (those not replaced by computed ones).
    passthrough: Vec<usize>,
}

fn find(headers: &csv::ByteRecord, name: &str) -> Option<usize> {
    headers
        .iter()
        .position(|h| h.trim_ascii().eq_ignore_ascii_case(name.as_bytes()))
}

impl Columns {
    fn from_headers(h: &csv::ByteRecord) -> Result<Self, BatchError> {
        let need = |n: &'static str| find(h, n).ok_or(BatchError::MissingColumn(n));
        let passthrough = (0..h.len())
            .filter(|&i| {
                let name = h.get(i).unwrap_or_default().trim_ascii();
                !OUTPUT_COLUMNS
                    .iter()
                    .any(|o| o.as_bytes().eq_ignore_ascii_case(name))
                    && !name.eq_ignore_ascii_case(b"error")
            })
            .collect();
        Ok(Self {
            sex: need("sex")?,
            dob: need("dob")?,
            measure_date: need("measure_date")?,
            weight: find(h, "weight_kg"),
            lenhei: find(h, "lenhei_cm"),
            measure: find(h, "measure"),
            oedema: find(h, "oedema"),
            passthrough,
        })
    }
}

fn cell(r: &csv::ByteRecord, i: usize) -> &str {
    std::str::from_utf8(r.get(i).unwrap_or_default())
        .unwrap_or("\u{fffd}")
        .trim()
}

/// Reads the inputs of one row.
fn parse_row(
    r: &csv::ByteRecord,
    c: &Columns,
) -> Result<Input, (&'static str, String, CellProblem)> {
    let bad = |col: &'static str, v: &str, p| (col, v.to_string(), p);
    let sex = match cell(r, c.sex) {
        "M" | "m" | "L" | "l" | "1" => Sex::Male,
        "F" | "f" | "P" | "p" | "2" => Sex::Female,
        "" => return Err(bad("sex", "", CellProblem::Missing)),
        v => return Err(bad("sex", v, CellProblem::NotASex)),
    };
    let date = |col: &'static str, i: usize| {
        let v = cell(r, i);
        if v.is_empty() {
            return Err(bad(col, v, CellProblem::Missing));
        }
        parse_date(v).ok_or_else(|| bad(col, v, CellProblem::NotADate))
    };
    let dob = date("dob", c.dob)?;
    let on = date("measure_date", c.measure_date)?;
    let number = |col: &'static str, i: Option<usize>| -> Result<Option<f64>, _> {
        let Some(i) = i else { return Ok(None) };
        let v = cell(r, i);
        if v.is_empty() {
            return Ok(None);
        }
        let parsed = if v.contains(',') {
            v.replace(',', ".").parse::<f64>()
        } else {
            v.parse::<f64>()
        };
        match parsed {
            Ok(x) if x.is_finite() => Ok(Some(x)),
            _ => Err(bad(col, v, CellProblem::NotANumber)),
        }
    };
    let mut input = Input::new(sex, growth::age_in_days(dob, on));
    input.weight_kg = number("weight_kg", c.weight)?;
    input.lenhei_cm = number("lenhei_cm", c.lenhei)?;
    input.position = match c.measure.map(|i| cell(r, i)).unwrap_or("") {
        "" => None,
        "L" | "l" | "lying" => Some(Position::Lying),
        "H" | "h" | "standing" => Some(Position::Standing),
        v => return Err(bad("measure", v, CellProblem::NotAPosition)),
    };
    input.oedema = match c.oedema.map(|i| cell(r, i)).unwrap_or("") {
        "" | "n" | "N" | "0" | "no" => false,
        "y" | "Y" | "1" | "yes" => true,
        v => return Err(bad("oedema", v, CellProblem::NotYesNo)),
    };
    Ok(input)
}

/// Appends `x` with `decimals` digits after the point, e.g. `-1.801301146`.
///
/// Through a scaled integer rather than `format!("{:.9}")`, which is the
/// slowest part of a million-row run. The value is rounded at the last digit
/// (half away from zero); it can differ from exact decimal rounding only when
/// the digit after the last is a tie, below every tolerance WHO's cases use.
fn push_fixed(buf: &mut Vec<u8>, x: f64, decimals: u32) {
    let scale = 10i64.pow(decimals);
    let scaled = (x * scale as f64).round();
    if !scaled.is_finite() || scaled.abs() >= 9.0e15 {
        // Writing into a Vec cannot fail.
        let _ = write!(buf, "{x:.prec$}", prec = decimals as usize);
        return;
    }
    let scaled = scaled as i64;
    if scaled < 0 {
        buf.push(b'-');
    }
    let abs = scaled.unsigned_abs();
    let scale = scale.unsigned_abs();
    let mut ints = itoa::Buffer::new();
    buf.extend_from_slice(ints.format(abs / scale).as_bytes());
    buf.push(b'.');
    let frac = ints.format(abs % scale).as_bytes();
    buf.extend(std::iter::repeat_n(b'0', decimals as usize - frac.len()));
    buf.extend_from_slice(frac);
}

fn push_z(fields: &mut [Vec<u8>; 24], z: Option<ZScore>, rounded: usize, raw: usize, flag: usize) {
    if let Some(z) = z {
        push_fixed(&mut fields[rounded], f64::from(z.centi) / 100.0, 2);
        push_fixed(&mut fields[raw], z.raw, 9);
        fields[flag].push(if z.implausible { b'1' } else { b'0' });
    }
}

/// Fills the computed columns of one row.
fn fill(fields: &mut [Vec<u8>; 24], a: &Assessment) {
    for f in fields.iter_mut() {
        f.clear();
    }
    fields[0].extend_from_slice(itoa::Buffer::new().format(a.age_days).as_bytes());
    push_fixed(&mut fields[1], a.age_months, 6);
    fields[2].extend_from_slice(a.standard.code().as_bytes());
    if a.standard == Standard::OutOfRange {
        return;
    }
    fields[3].push(if a.c9mo_flag { b'1' } else { b'0' });
    if let Some(p) = a.cmeasure {
        fields[4].extend_from_slice(p.code().as_bytes());
    }
    if let Some(l) = a.clenhei_cm {
        push_fixed(&mut fields[5], l, 4);
    }
    if let Some(b) = a.cbmi {
        push_fixed(&mut fields[6], b, 6);
    }
    if let Some(t) = a.whz_table {
        fields[7].extend_from_slice(t.code().as_bytes());
    }
    push_z(fields, a.haz, 8, 12, 16);
    push_z(fields, a.waz, 9, 13, 17);
    push_z(fields, a.whz, 10, 14, 18);
    push_z(fields, a.bmiz, 11, 15, 19);
    if let Some(c) = a.tbu {
        fields[20].extend_from_slice(c.code().as_bytes());
    }
    if let Some(c) = a.bbu {
        fields[21].extend_from_slice(c.code().as_bytes());
    }
    if let Some(c) = a.bbtb {
        fields[22].extend_from_slice(c.code().as_bytes());
    }
    if let Some(c) = a.imtu {
        fields[23].extend_from_slice(c.code().as_bytes());
    }
}

/// Streams `input` to `output`. `progress` is called now and then with the
/// number of input bytes read so far.
pub fn zscore_csv<R: Read, W: Write>(
    input: R,
    output: W,
    skip_bad: bool,
    mut progress: impl FnMut(u64),
) -> Result<BatchSummary, BatchError> {
    let mut reader = csv::ReaderBuilder::new().flexible(false).from_reader(input);
    let mut writer = csv::WriterBuilder::new().from_writer(output);
    let headers = reader.byte_headers()?.clone();
    let cols = Columns::from_headers(&headers)?;
    let mut out_header = csv::ByteRecord::new();
    for &i in &cols.passthrough {
        out_header.push_field(headers.get(i).unwrap_or_default());
    }
    for name in OUTPUT_COLUMNS {
        out_header.push_field(name.as_bytes());
    }
    if skip_bad {
        out_header.push_field(b"error");
    }
    writer.write_byte_record(&out_header)?;

    let mut record = csv::ByteRecord::new();
    let mut out = csv::ByteRecord::new();
    let mut fields: [Vec<u8>; 24] = Default::default();
    let mut summary = BatchSummary::default();
    let mut error_text = Vec::new();
    while reader.read_byte_record(&mut record)? {
        summary.rows += 1;
        let line = record.position().map_or(summary.rows + 1, |p| p.line());
        out.clear();
        for &i in &cols.passthrough {
            out.push_field(record.get(i).unwrap_or_default());
        }
        match parse_row(&record, &cols) {
            Ok(input) => {
                let a = growth::assess(&input);
                fill(&mut fields, &a);
                for f in &fields {
                    out.push_field(f);
                }
                if skip_bad {
                    out.push_field(b"");
                }
            }
            Err((column, value, problem)) => {
                if !skip_bad {
                    return Err(BatchError::BadCell {
                        line,
                        column,
                        value,
                        problem,
                    });
                }
                summary.bad_rows += 1;
                for _ in 0..OUTPUT_COLUMNS.len() {
                    out.push_field(b"");
                }
                error_text.clear();
                let _ = write!(error_text, "column `{column}`: `{value}` {}", problem.en());
                out.push_field(&error_text);
            }
        }
        writer.write_byte_record(&out)?;
        if summary.rows % 65_536 == 0 {
            progress(record.position().map_or(0, |p| p.byte()));
        }
    }
    writer.flush()?;
    Ok(summary)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn run(input: &str, skip_bad: bool) -> Result<String, BatchError> {
        let mut out = Vec::new();
        zscore_csv(input.as_bytes(), &mut out, skip_bad, |_| {})?;
        Ok(String::from_utf8(out).unwrap())
    }

    #[test]
    fn extra_columns_pass_through_and_outputs_are_appended() {
        let out = run("id,sex,dob,measure_date,weight_kg,lenhei_cm,measure\nA1,M,2023-01-01,2024-01-01,9.5,75,L\n", false).unwrap();
        let mut lines = out.lines();
        let header = lines.next().unwrap();
        assert!(header.starts_with(
            "id,sex,dob,measure_date,weight_kg,lenhei_cm,measure,age_days,age_months,standard"
        ));
        let row = lines.next().unwrap();
        assert!(
            row.starts_with(
                "A1,M,2023-01-01,2024-01-01,9.5,75,L,365,11.991786,WHO2006,0,L,75.0000,"
            ),
            "{row}"
        );
    }

    #[test]
    fn a_bad_row_names_its_line_and_column() {
        let err = run("sex,dob,measure_date,weight_kg\nM,2023-01-01,2024-01-01,9.5\nM,2023-01-01,2024-01-01,abc\n", false)
            .unwrap_err();
        match err {
            BatchError::BadCell {
                line,
                column,
                value,
                problem,
            } => {
                assert_eq!(
                    (line, column, value.as_str(), problem),
                    (3, "weight_kg", "abc", CellProblem::NotANumber)
                );
            }
            other => panic!("unexpected {other}"),
        }
    }

    #[test]
    fn skip_bad_writes_the_row_with_an_error_column() {
        let out = run(
            "sex,dob,measure_date\nX,2023-01-01,2024-01-01\nF,2023-01-01,2024-01-01\n",
            true,
        )
        .unwrap();
        let lines: Vec<&str> = out.lines().collect();
        assert!(lines[0].ends_with(",imtu_cat,error"));
        assert!(lines[1].starts_with("X,2023-01-01,2024-01-01,,"));
        assert!(lines[1].ends_with("column `sex`: `X` is not a sex (M/F or L/P)"));
        assert!(lines[2].contains(",365,") && lines[2].ends_with(','));
    }

    #[test]
    fn fixed_formatting_matches_the_standard_formatter() {
        for &(x, d) in &[
            (-1.801301146, 9),
            (0.0, 9),
            (-0.0004, 2),
            (89.9, 4),
            (17.198692, 6),
            (-3.922876280, 9),
            (5.0, 4),
            (228.0, 6),
            (-0.9999999999, 9),
        ] {
            let mut buf = Vec::new();
            push_fixed(&mut buf, x, d);
            let expected = format!("{x:.prec$}", prec = d as usize);
            let expected = if expected.starts_with("-0.")
                && expected[1..].bytes().all(|b| b == b'0' || b == b'.')
            {
                expected[1..].to_string()
            } else {
                expected
            };
            assert_eq!(
                String::from_utf8(buf).unwrap(),
                expected,
                "{x} to {d} places"
            );
        }
    }

    #[test]
    fn a_missing_required_column_is_named() {
        let err = run("sex,measure_date\nM,2024-01-01\n", false).unwrap_err();
        assert!(matches!(err, BatchError::MissingColumn("dob")));
    }

    #[test]
    fn computed_columns_in_the_input_are_replaced_not_duplicated() {
        let out = run(
            "sex,dob,measure_date,haz\nM,2023-01-01,2024-01-01,99\n",
            false,
        )
        .unwrap();
        let header = out.lines().next().unwrap();
        let names: Vec<&str> = header.split(',').collect();
        assert_eq!(names.iter().filter(|n| **n == "haz").count(), 1, "{header}");
        let at = names.iter().position(|n| *n == "haz").unwrap();
        let row: Vec<&str> = out.lines().nth(1).unwrap().split(',').collect();
        assert_eq!(row.len(), names.len());
        assert_eq!(
            row[at], "",
            "no length given: no HAZ, and the input's 99 is gone"
        );
    }
}
