//! Reproduces every row of `shared/who-growth-standards/zscore_cases.csv` (the public WHO
//! test cases) through [`growth::assess`]: standard, c9mo_flag, cmeasure, whz_table, clenhei
//! (4 dp), cbmi (6 dp), 2-decimal z-scores, flags and categories must match exactly (blank
//! included); raw z-scores within 1e-6. Age in days is recomputed from the two dates.

use std::collections::HashMap;
use std::path::PathBuf;

use chrono::NaiveDate;
use growth::{Assessment, Input, Position, Sex, Standard, ZScore, age_in_days, assess};

const EXPECTED_ROWS: usize = 493;

fn cases_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/who-growth-standards/zscore_cases.csv")
}

struct Row {
    cols: HashMap<String, String>,
}

impl Row {
    fn get(&self, col: &str) -> &str {
        self.cols
            .get(col)
            .map(String::as_str)
            .unwrap_or_else(|| panic!("zscore_cases.csv has no column `{col}`"))
    }
}

fn opt_f64(s: &str, what: &str) -> Option<f64> {
    if s.is_empty() {
        None
    } else {
        Some(s.parse().unwrap_or_else(|_| panic!("bad {what} `{s}`")))
    }
}

fn date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap_or_else(|_| panic!("bad date `{s}`"))
}

fn input_of(row: &Row) -> Input {
    let sex = match row.get("sex") {
        "M" => Sex::Male,
        "F" => Sex::Female,
        s => panic!("bad sex `{s}`"),
    };
    let age = age_in_days(date(row.get("dob")), date(row.get("measure_date")));
    let mut input = Input::new(sex, age);
    input.weight_kg = opt_f64(row.get("weight_kg"), "weight");
    input.lenhei_cm = opt_f64(row.get("lenhei_cm"), "lenhei");
    input.position = match row.get("measure") {
        "L" => Some(Position::Lying),
        "H" => Some(Position::Standing),
        "" => None,
        s => panic!("bad measure `{s}`"),
    };
    input.oedema = match row.get("oedema") {
        "y" => true,
        "n" => false,
        s => panic!("bad oedema `{s}`"),
    };
    input
}

/// Collects mismatches as "case_id column: expected … got …".
struct Checker<'a> {
    id: &'a str,
    row: &'a Row,
    errors: &'a mut Vec<String>,
}

impl Checker<'_> {
    fn text(&mut self, col: &str, got: &str) {
        let want = self.row.get(col);
        if want != got {
            self.errors
                .push(format!("{} {col}: expected `{want}`, got `{got}`", self.id));
        }
    }

    fn zscore(&mut self, name: &str, got: Option<ZScore>) {
        let want = self.row.get(name);
        let want_raw = self.row.get(&format!("{name}_raw"));
        let want_flag = self.row.get(&format!("{name}_flag"));
        match got {
            None => {
                self.text(name, "");
                self.text(&format!("{name}_raw"), "");
                self.text(&format!("{name}_flag"), "");
            }
            Some(z) => {
                // 2-decimal value: compare as integer hundredths, and as printed text.
                match want.parse::<f64>() {
                    Ok(w) if (w * 100.0).round() as i32 == z.centi => {}
                    _ => self.errors.push(format!(
                        "{} {name}: expected `{want}`, got {:.2} (raw {})",
                        self.id,
                        z.rounded(),
                        z.raw
                    )),
                }
                self.text(name, &format!("{:.2}", z.rounded()));
                match want_raw.parse::<f64>() {
                    Ok(w) if (w - z.raw).abs() <= 1e-6 => {}
                    _ => self.errors.push(format!(
                        "{} {name}_raw: expected `{want_raw}`, got {:.9}",
                        self.id, z.raw
                    )),
                }
                let flag = if z.implausible { "1" } else { "0" };
                if want_flag != flag {
                    self.errors.push(format!(
                        "{} {name}_flag: expected `{want_flag}`, got `{flag}`",
                        self.id
                    ));
                }
            }
        }
    }
}

fn check(row: &Row, a: &Assessment, errors: &mut Vec<String>) {
    let id = row.get("case_id");
    let mut c = Checker { id, row, errors };
    let none = a.standard == Standard::OutOfRange;

    c.text("age_days", &a.age_days.to_string());
    c.text("age_months", &format!("{:.6}", a.age_months));
    c.text("standard", a.standard.code());
    c.text(
        "c9mo_flag",
        if none {
            ""
        } else if a.c9mo_flag {
            "1"
        } else {
            "0"
        },
    );
    c.text("cmeasure", a.cmeasure.map_or("", |p| p.code()));
    c.text(
        "clenhei",
        &a.clenhei_cm.map_or(String::new(), |v| format!("{v:.4}")),
    );
    c.text("cbmi", &a.cbmi.map_or(String::new(), |v| format!("{v:.6}")));
    c.text("whz_table", a.whz_table.map_or("", |t| t.code()));
    c.zscore("haz", a.haz);
    c.zscore("waz", a.waz);
    c.zscore("whz", a.whz);
    c.zscore("bmiz", a.bmiz);
    c.text("tbu_cat", a.tbu.map_or("", |k| k.code()));
    c.text("bbu_cat", a.bbu.map_or("", |k| k.code()));
    c.text("bbtb_cat", a.bbtb.map_or("", |k| k.code()));
    c.text("imtu_cat", a.imtu.map_or("", |k| k.code()));

    // Not in the file: no arm or head circumference was given.
    if a.muacz.is_some() || a.hcz.is_some() {
        c.errors
            .push(format!("{id}: arm/head z-score without a measurement"));
    }
    // Every output blank when no standard applies.
    if none && *a != blank_like(a) {
        c.errors
            .push(format!("{id}: outputs computed for standard NONE: {a:?}"));
    }
}

fn blank_like(a: &Assessment) -> Assessment {
    Assessment {
        c9mo_flag: false,
        cmeasure: None,
        clenhei_cm: None,
        cbmi: None,
        whz_table: None,
        haz: None,
        waz: None,
        whz: None,
        bmiz: None,
        muacz: None,
        hcz: None,
        tbu: None,
        bbu: None,
        bbtb: None,
        imtu: None,
        ..*a
    }
}

#[test]
fn every_public_case_matches() {
    let path = cases_path();
    assert!(
        path.is_file(),
        "WHO test cases not found at {} (expected beside the repository, in \
         shared/who-growth-standards/). This test must not pass without them.",
        path.display()
    );
    let mut rdr = csv::Reader::from_path(&path)
        .unwrap_or_else(|e| panic!("cannot open {}: {e}", path.display()));
    let headers: Vec<String> = rdr
        .headers()
        .expect("zscore_cases.csv header")
        .iter()
        .map(str::to_owned)
        .collect();

    let mut errors = Vec::new();
    let mut checked = 0usize;
    let mut by_standard: HashMap<&'static str, usize> = HashMap::new();
    for rec in rdr.records() {
        let rec = rec.expect("zscore_cases.csv record");
        let row = Row {
            cols: headers
                .iter()
                .cloned()
                .zip(rec.iter().map(str::to_owned))
                .collect(),
        };
        let a = assess(&input_of(&row));
        check(&row, &a, &mut errors);
        *by_standard.entry(a.standard.code()).or_default() += 1;
        checked += 1;
    }

    assert!(
        errors.is_empty(),
        "{} mismatches in {checked} cases:\n{}",
        errors.len(),
        errors.join("\n")
    );
    assert_eq!(checked, EXPECTED_ROWS, "expected to check every case");
    // The file exercises all three outcomes.
    assert!(by_standard.get("WHO2006").copied().unwrap_or(0) > 300);
    assert!(by_standard.get("WHO2007").copied().unwrap_or(0) > 30);
    assert!(by_standard.get("NONE").copied().unwrap_or(0) >= 3);
}
