//! `tumbuh zscore` against WHO's expected values: every row of
//! `../shared/who-growth-standards/zscore_cases.csv` goes through the real
//! binary and must come out exactly as the reference says.

use std::collections::HashMap;

use predicates::prelude::*;
use tumbuh_tests::{Device, shared_dir};

const INPUT_COLUMNS: [&str; 9] = [
    "case_id",
    "kind",
    "sex",
    "dob",
    "measure_date",
    "weight_kg",
    "lenhei_cm",
    "measure",
    "oedema",
];
const RAW_COLUMNS: [&str; 4] = ["haz_raw", "waz_raw", "whz_raw", "bmiz_raw"];
const EXACT_COLUMNS: [&str; 19] = [
    "age_days",
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
    "haz_flag",
    "waz_flag",
    "whz_flag",
    "bmiz_flag",
    "tbu_cat",
    "bbu_cat",
    "bbtb_cat",
    "imtu_cat",
];

type Row = HashMap<String, String>;

fn read(path: &std::path::Path) -> Vec<Row> {
    let mut r = csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let headers = r.headers().expect("headers").clone();
    r.records()
        .map(|rec| {
            let rec = rec.expect("record");
            headers
                .iter()
                .zip(rec.iter())
                .map(|(h, v)| (h.to_string(), v.to_string()))
                .collect()
        })
        .collect()
}

#[test]
fn every_who_case_comes_out_of_tumbuh_zscore_as_expected() {
    let expected = read(&shared_dir().join("who-growth-standards/zscore_cases.csv"));
    assert_eq!(expected.len(), 493);
    let d = Device::uninitialised();
    let input = d.dir().join("in.csv");
    let output = d.dir().join("out.csv");
    // Only the input columns go in (plus id and kind, which must pass through).
    let mut w = csv::Writer::from_path(&input).expect("write input");
    w.write_record(INPUT_COLUMNS).expect("header");
    for row in &expected {
        w.write_record(INPUT_COLUMNS.iter().map(|c| row[*c].as_str()))
            .expect("row");
    }
    w.flush().expect("flush");
    d.cmd()
        .arg("zscore")
        .arg("--input")
        .arg(&input)
        .arg("--output")
        .arg(&output)
        .assert()
        .success();

    let got = read(&output);
    assert_eq!(got.len(), expected.len());
    let mut mismatches = Vec::new();
    let mut compared = 0;
    for (e, g) in expected.iter().zip(&got) {
        assert_eq!(e["case_id"], g["case_id"], "rows stay in order");
        assert_eq!(e["kind"], g["kind"], "extra columns pass through");
        for c in EXACT_COLUMNS {
            compared += 1;
            if e[c] != g[c] {
                mismatches.push(format!(
                    "{} {c}: expected `{}`, got `{}`",
                    e["case_id"], e[c], g[c]
                ));
            }
        }
        for c in RAW_COLUMNS {
            compared += 1;
            match (e[c].as_str(), g[c].as_str()) {
                ("", "") => {}
                (a, b) => {
                    let ok = matches!((a.parse::<f64>(), b.parse::<f64>()), (Ok(x), Ok(y)) if (x - y).abs() <= 1e-6);
                    if !ok {
                        mismatches.push(format!("{} {c}: expected `{a}`, got `{b}`", e["case_id"]));
                    }
                }
            }
        }
        let (ea, ga) = (
            e["age_months"].parse::<f64>(),
            g["age_months"].parse::<f64>(),
        );
        assert!(
            matches!((ea, ga), (Ok(x), Ok(y)) if (x - y).abs() <= 1e-6),
            "{} age_months",
            e["case_id"]
        );
    }
    assert_eq!(compared, 493 * 23);
    assert!(
        mismatches.is_empty(),
        "{} mismatches:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
}

#[test]
fn a_bad_row_stops_the_run_naming_file_line_and_column_and_writes_nothing() {
    let d = Device::uninitialised();
    let input = d.dir().join("in.csv");
    let output = d.dir().join("out.csv");
    std::fs::write(&input, "sex,dob,measure_date,weight_kg,lenhei_cm,measure\nM,2023-01-01,2024-01-01,9.5,75,L\nF,2023-01-01,2024-01-01,9.1,74,X\n")
        .expect("write");
    d.cmd()
        .args(["--lang", "en", "zscore", "--input"])
        .arg(&input)
        .arg("--output")
        .arg(&output)
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("in.csv")
                .and(predicate::str::contains("line 3, column `measure`")),
        );
    assert!(!output.exists(), "no half-written output");

    d.cmd()
        .args(["zscore", "--skip-bad", "--input"])
        .arg(&input)
        .arg("--output")
        .arg(&output)
        .assert()
        .success();
    let rows = read(&output);
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["error"], "");
    assert_eq!(rows[0]["standard"], "WHO2006");
    assert!(rows[1]["error"].contains("measure"));
    assert_eq!(rows[1]["haz"], "");
}

#[test]
fn a_missing_column_or_file_is_explained() {
    let d = Device::uninitialised();
    let input = d.dir().join("in.csv");
    std::fs::write(&input, "sex,measure_date\nM,2024-01-01\n").expect("write");
    d.cmd()
        .args(["--lang", "en", "zscore", "--input"])
        .arg(&input)
        .args(["--output", "x.csv"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("`dob`"));
    d.cmd()
        .args([
            "--lang",
            "en",
            "zscore",
            "--input",
            "/nonexistent/in.csv",
            "--output",
            "x.csv",
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("cannot open"));
}
