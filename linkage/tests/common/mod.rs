//! What the linkage tests share: the synthetic development set
//! (`../shared/synthetic/`) read into the engine's `FieldRecord`s.

use std::collections::HashMap;
use std::path::PathBuf;

use chrono::NaiveDate;
use linkage::{FieldRecord, Sex};

fn data(file: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/synthetic")
        .join(file)
}

/// The rows of a synthetic CSV file, by column name.
pub fn rows(file: &str) -> Vec<HashMap<String, String>> {
    let mut r = csv::Reader::from_path(data(file)).expect("synthetic data present");
    let header: Vec<String> = r
        .headers()
        .expect("header")
        .iter()
        .map(str::to_owned)
        .collect();
    r.records()
        .map(|rec| {
            let rec = rec.expect("valid csv");
            header
                .iter()
                .cloned()
                .zip(rec.iter().map(str::to_owned))
                .collect()
        })
        .collect()
}

fn date(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
}

/// Every row of `measurements.csv` as the engine reads it.
pub fn field_records() -> Vec<FieldRecord> {
    let input = rows("measurements.csv");
    let f = |r: &HashMap<String, String>, k: &str| r.get(k).cloned().unwrap_or_default();
    input
        .iter()
        .map(|r| FieldRecord {
            record_id: f(r, "record_id"),
            round: f(r, "round"),
            measured_on: date(&f(r, "measured_on")),
            posyandu_code: f(r, "posyandu_code"),
            desa_code: f(r, "desa_code"),
            nik: f(r, "nik"),
            no_kk: f(r, "no_kk"),
            name: f(r, "name"),
            sex: Sex::from_code(&f(r, "sex")),
            birth_date: date(&f(r, "birth_date")),
            mother_name: f(r, "mother_name"),
            mother_nik: f(r, "mother_nik"),
            father_name: f(r, "father_name"),
            rt: f(r, "rt"),
            rw: f(r, "rw"),
            address: f(r, "address"),
            weight_kg: f(r, "weight_kg").parse().ok(),
            height_cm: f(r, "height_cm").parse().ok(),
            measure_position: f(r, "measure_position"),
        })
        .collect()
}
