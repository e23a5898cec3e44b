//! `tumbuh-server link`: the district's batch deduplication of field rows.
//!
//! Reads the synced measurement rows as CSV (columns found by header name),
//! runs the pure engine of the `linkage` crate and writes one
//! `record_id,cluster_id` line per row, and optionally the review queue.
//! All I/O of the linkage lives here, so the engine stays testable by data.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use linkage::{FieldRecord, LinkConfig, Linkage, Sex};

/// What can go wrong reading or writing linkage files.
#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    /// The file could not be opened or read.
    #[error("{file}: {source}")]
    Io {
        /// The file.
        file: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// Malformed CSV.
    #[error("{file}: {source}")]
    Csv {
        /// The file.
        file: PathBuf,
        /// The cause (carries the position).
        #[source]
        source: csv::Error,
    },
    /// A required column is missing from the header.
    #[error("{file}: missing column `{column}` in the header")]
    MissingColumn {
        /// The file.
        file: PathBuf,
        /// The column name.
        column: &'static str,
    },
    /// A value could not be read.
    #[error("{file}:{line}: column `{column}`: {problem}: {value:?}")]
    BadValue {
        /// The file.
        file: PathBuf,
        /// 1-based line number.
        line: u64,
        /// The column name.
        column: &'static str,
        /// What is wrong.
        problem: &'static str,
        /// The value as found.
        value: String,
    },
}

/// Columns the engine needs (others are ignored).
const COLUMNS: [&str; 19] = [
    "record_id",
    "round",
    "measured_on",
    "posyandu_code",
    "desa_code",
    "nik",
    "no_kk",
    "name",
    "sex",
    "birth_date",
    "mother_name",
    "mother_nik",
    "father_name",
    "rt",
    "rw",
    "address",
    "weight_kg",
    "height_cm",
    "measure_position",
];

/// The rows read and how they were linked.
#[derive(Debug)]
pub struct LinkOutcome {
    /// Input rows.
    pub records: Vec<FieldRecord>,
    /// The engine's result.
    pub linkage: Linkage,
}

/// Reads field rows from a measurements CSV.
pub fn read_records(path: &Path) -> Result<Vec<FieldRecord>, LinkError> {
    let csv_err = |source| LinkError::Csv {
        file: path.to_owned(),
        source,
    };
    let mut reader = csv::ReaderBuilder::new().from_path(path).map_err(csv_err)?;
    let header = reader.headers().map_err(csv_err)?.clone();
    let mut at = HashMap::new();
    for column in COLUMNS {
        let i = header
            .iter()
            .position(|h| h.trim() == column)
            .ok_or(LinkError::MissingColumn {
                file: path.to_owned(),
                column,
            })?;
        at.insert(column, i);
    }
    let mut out = Vec::new();
    for row in reader.records() {
        let row = row.map_err(csv_err)?;
        let line = row.position().map_or(0, |p| p.line());
        let text = |c: &'static str| -> String {
            at.get(c)
                .and_then(|&i| row.get(i))
                .unwrap_or("")
                .trim()
                .to_owned()
        };
        let bad = |column: &'static str, problem: &'static str| LinkError::BadValue {
            file: path.to_owned(),
            line,
            column,
            problem,
            value: text(column),
        };
        let date = |c: &'static str| -> Result<Option<NaiveDate>, LinkError> {
            let t = text(c);
            if t.is_empty() {
                return Ok(None);
            }
            NaiveDate::parse_from_str(&t, "%Y-%m-%d")
                .map(Some)
                .map_err(|_| bad(c, "not a date YYYY-MM-DD"))
        };
        let number = |c: &'static str| -> Result<Option<f64>, LinkError> {
            let t = text(c);
            if t.is_empty() {
                return Ok(None);
            }
            t.replace(',', ".")
                .parse::<f64>()
                .map(Some)
                .map_err(|_| bad(c, "not a number"))
        };
        let sex_text = text("sex");
        let sex = if sex_text.is_empty() {
            None
        } else {
            Some(Sex::from_code(&sex_text).ok_or_else(|| bad("sex", "not L or P"))?)
        };
        let record_id = text("record_id");
        if record_id.is_empty() {
            return Err(bad("record_id", "empty"));
        }
        out.push(FieldRecord {
            record_id,
            round: text("round"),
            measured_on: date("measured_on")?,
            posyandu_code: text("posyandu_code"),
            desa_code: text("desa_code"),
            nik: text("nik"),
            no_kk: text("no_kk"),
            name: text("name"),
            sex,
            birth_date: date("birth_date")?,
            mother_name: text("mother_name"),
            mother_nik: text("mother_nik"),
            father_name: text("father_name"),
            rt: text("rt"),
            rw: text("rw"),
            address: text("address"),
            weight_kg: number("weight_kg")?,
            height_cm: number("height_cm")?,
            measure_position: text("measure_position"),
        });
    }
    Ok(out)
}

/// Reads `input`, links it, writes `output` (and `review` if given).
pub fn run(input: &Path, output: &Path, review: Option<&Path>) -> Result<LinkOutcome, LinkError> {
    let records = read_records(input)?;
    let linkage = linkage::link(&records, &LinkConfig::default());
    let mut w = csv::Writer::from_path(output).map_err(|e| csv_error(output, e))?;
    w.write_record(["record_id", "cluster_id"])
        .map_err(|e| csv_error(output, e))?;
    for (r, c) in records.iter().zip(&linkage.cluster_of_row) {
        w.write_record([r.record_id.as_str(), &format!("K{:06}", c + 1)])
            .map_err(|e| csv_error(output, e))?;
    }
    w.flush().map_err(|source| LinkError::Io {
        file: output.to_owned(),
        source,
    })?;
    if let Some(path) = review {
        let mut w = csv::Writer::from_path(path).map_err(|e| csv_error(path, e))?;
        w.write_record(["record_id_a", "record_id_b", "score", "evidence"])
            .map_err(|e| csv_error(path, e))?;
        for p in &linkage.review {
            let (a, b) = (&records[p.row_a].record_id, &records[p.row_b].record_id);
            w.write_record([
                a.as_str(),
                b.as_str(),
                &format!("{:.4}", p.probability),
                &p.evidence,
            ])
            .map_err(|e| csv_error(path, e))?;
        }
        w.flush().map_err(|source| LinkError::Io {
            file: path.to_owned(),
            source,
        })?;
    }
    Ok(LinkOutcome { records, linkage })
}

fn csv_error(file: &Path, source: csv::Error) -> LinkError {
    LinkError::Csv {
        file: file.to_owned(),
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "record_id,round,measured_on,posyandu_code,desa_code,kader_id,nik,no_kk,name,sex,birth_date,birth_weight_kg,mother_name,mother_nik,father_name,rt,rw,address,weight_kg,height_cm,measure_position,muac_cm\n";

    #[test]
    fn bad_date_names_file_line_and_column() {
        let dir = tempfile::tempdir().expect("tempdir");
        let input = dir.path().join("m.csv");
        let row = "a,2024-03,2024-03-04,353001200205,3530012002,K1,,,Rafa,L,2020-13-45,,Maryam,,,3,5,Krajan,13.4,96.2,standing,\n";
        std::fs::write(&input, format!("{HEADER}{row}")).expect("write");
        let err = read_records(&input).expect_err("bad date");
        let text = err.to_string();
        assert!(
            text.contains("m.csv:2") && text.contains("birth_date"),
            "{text}"
        );
    }

    #[test]
    fn missing_column_is_reported() {
        let dir = tempfile::tempdir().expect("tempdir");
        let input = dir.path().join("m.csv");
        std::fs::write(&input, "record_id,name\nx,Rafa\n").expect("write");
        let err = read_records(&input).expect_err("missing column");
        assert!(
            matches!(
                err,
                LinkError::MissingColumn {
                    column: "round",
                    ..
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn writes_one_cluster_per_row() {
        let dir = tempfile::tempdir().expect("tempdir");
        let input = dir.path().join("m.csv");
        let a = "a,2024-03,2024-03-04,353001200205,3530012002,K1,,,Rafa,L,2020-12-08,,Maryam,,,3,5,Krajan,13.4,96.2,standing,\n";
        let b = "b,2024-04,2024-04-04,353001200205,3530012002,K1,,,Rafa,L,2020-12-08,,Maryam,,,3,5,Krajan,13.6,96.9,standing,\n";
        std::fs::write(&input, format!("{HEADER}{a}{b}")).expect("write");
        let output = dir.path().join("c.csv");
        let out = run(&input, &output, None).expect("link");
        assert_eq!(out.linkage.cluster_of_row, vec![0, 0]);
        let text = std::fs::read_to_string(&output).expect("read");
        assert_eq!(text.lines().count(), 3);
    }
}
