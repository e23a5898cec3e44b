//! End-to-end tests of `tumbuh-server import`: the real binary on a fresh
//! database per test, its `--json` report, and the rows it leaves in the
//! database (`imports`, `children`, `measurements`, `changes`, `merges`,
//! `audit`).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;
use tempfile::TempDir;
use tumbuh_tests::{server_bin, shared_dir, strings_of};

const FIELD_HEADER: &str = "record_id,round,measured_on,posyandu_code,desa_code,kader_id,nik,no_kk,name,sex,birth_date,birth_weight_kg,mother_name,mother_nik,father_name,rt,rw,address,weight_kg,height_cm,measure_position,muac_cm";

/// A district server database in its own temporary folder, and the files
/// imported into it.
struct District {
    dir: TempDir,
    db: PathBuf,
}

impl District {
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = dir.path().join("server.db");
        Self { dir, db }
    }

    /// Writes `name` in the test folder.
    fn file(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, bytes).expect("write import file");
        path
    }

    /// `tumbuh-server --db <db> --json import <file> <args>`, with no
    /// inherited settings.
    fn import(&self, file: &Path, args: &[&str]) -> Command {
        let mut c = Command::new(server_bin());
        c.env_remove("TUMBUH_SERVER_DB")
            .env_remove("TUMBUH_SERVER_LOG")
            .arg("--db")
            .arg(&self.db)
            .args(["--json", "import"])
            .arg(file)
            .args(args);
        c
    }

    /// Runs an import that must succeed; its JSON report.
    fn import_json(&self, file: &Path, args: &[&str]) -> Value {
        let out = self.import(file, args).output().expect("run tumbuh-server");
        assert!(
            out.status.success(),
            "import {} {args:?} failed: {}\n{}",
            file.display(),
            String::from_utf8_lossy(&out.stderr),
            String::from_utf8_lossy(&out.stdout)
        );
        serde_json::from_slice(&out.stdout).expect("stdout is JSON")
    }

    /// `tumbuh-server --db <db> --json <args>`, which must succeed.
    fn server_json(&self, args: &[&str]) -> Value {
        let out = Command::new(server_bin())
            .env_remove("TUMBUH_SERVER_DB")
            .env_remove("TUMBUH_SERVER_LOG")
            .arg("--db")
            .arg(&self.db)
            .arg("--json")
            .args(args)
            .output()
            .expect("run tumbuh-server");
        assert!(
            out.status.success(),
            "{args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).expect("stdout is JSON")
    }

    fn conn(&self) -> rusqlite::Connection {
        rusqlite::Connection::open(&self.db).expect("open server db")
    }

    /// Rows of `table`; 0 when the database was never created.
    fn count(&self, table: &str) -> i64 {
        if !self.db.exists() {
            return 0;
        }
        self.conn()
            .query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
            .expect("count")
    }

    fn strings(&self, sql: &str) -> BTreeSet<String> {
        strings_of(&self.conn(), sql)
    }

    /// Asserts that nothing was stored.
    fn assert_empty(&self) {
        for table in ["imports", "children", "measurements", "changes", "merges"] {
            assert_eq!(self.count(table), 0, "rows in `{table}`");
        }
    }
}

/// One field-export row (the layout of `shared/synthetic/measurements.csv`).
struct FieldRow<'a> {
    id: &'a str,
    measured_on: &'a str,
    posyandu: &'a str,
    nik: &'a str,
    name: &'a str,
    sex: &'a str,
    birth_date: &'a str,
    mother: &'a str,
    address: &'a str,
    weight: &'a str,
    height: &'a str,
}

impl FieldRow<'_> {
    fn csv(&self) -> String {
        let desa = &self.posyandu[..10];
        format!(
            "{},{},{},{},{desa},{}-K1,{},3530010101230007,{},{},{},3.1,{},,Agus Santoso,2,4,{},{},{},lying,\n",
            self.id,
            &self.measured_on[..7],
            self.measured_on,
            self.posyandu,
            self.posyandu,
            self.nik,
            self.name,
            self.sex,
            self.birth_date,
            self.mother,
            self.address,
            self.weight,
            self.height,
        )
    }
}

fn row<'a>(id: &'a str, name: &'a str, sex: &'a str, birth_date: &'a str) -> FieldRow<'a> {
    FieldRow {
        id,
        measured_on: "2024-08-05",
        posyandu: "353001200101",
        nik: "",
        name,
        sex,
        birth_date,
        mother: "Siti Aminah",
        address: "Dsn Krajan",
        weight: "9.8",
        height: "76.5",
    }
}

/// A field export with three good children and, among them, a bad weight,
/// an impossible date, a NIK Excel turned into a number and a repeated row;
/// a quoted address over two lines and a blank line make the spreadsheet
/// rows differ from the text lines.
fn field_file_with_bad_rows() -> String {
    let mut text = format!("{FIELD_HEADER}\n");
    text.push_str(
        &FieldRow {
            address: "\"Dsn Krajan\nRT 2\"",
            ..row("ok-1", "Aisyah Putri", "P", "2023-03-10")
        }
        .csv(),
    ); // row 2, on two lines of text
    text.push_str(
        &FieldRow {
            weight: "83..9",
            ..row("bad-weight", "Bagus Saputra", "L", "2022-11-01")
        }
        .csv(),
    ); // row 3
    text.push('\n'); // row 4, blank
    text.push_str(
        &FieldRow {
            measured_on: "2024-13-45",
            ..row("bad-date", "Citra Lestari", "P", "2022-07-19")
        }
        .csv(),
    ); // row 5
    text.push_str(
        &FieldRow {
            nik: "3.5301E+15",
            ..row("bad-nik", "Dimas Pratama", "L", "2023-01-25")
        }
        .csv(),
    ); // row 6
    text.push_str(
        &FieldRow {
            address: "\"Dsn Krajan\nRT 2\"",
            ..row("ok-1", "Aisyah Putri", "P", "2023-03-10")
        }
        .csv(),
    ); // row 7: the same as row 2
    text.push_str(
        &FieldRow {
            posyandu: "353001200201",
            mother: "Rina Wati",
            ..row("ok-2", "Eko Prasetyo", "L", "2022-05-30")
        }
        .csv(),
    ); // row 8
    text.push_str(
        &FieldRow {
            mother: "Dewi Sartika",
            weight: "\"8,4\"",
            ..row("ok-3", "Fitri Handayani", "P", "2023-09-12")
        }
        .csv(),
    ); // row 9
    text
}

const GOOD_IDS: [&str; 3] = ["ok-1", "ok-2", "ok-3"];

#[test]
fn check_lists_each_bad_row_at_its_line_and_column_and_stores_nothing() {
    let d = District::new();
    let file = d.file("posyandu.csv", field_file_with_bad_rows().as_bytes());
    let v = d.import_json(&file, &["--check"]);
    assert_eq!(v["check"], true);
    assert_eq!(v["format"], "FieldCsv");
    assert_eq!(
        (&v["rows"], &v["valid"], &v["rejected"]),
        (&7.into(), &3.into(), &3.into()),
        "{v:#}"
    );
    let problems: Vec<&str> = v["problems"]
        .as_array()
        .expect("problems")
        .iter()
        .map(|p| p.as_str().expect("a problem is a string"))
        .collect();
    let expected = [
        "line 3, column `weight_kg` (\"83..9\"): not a number",
        "line 5, column `measured_on` (\"2024-13-45\")",
        "line 6, column `nik` (\"3.5301E+15\"): NIK was converted to a number by Excel",
        "line 7, column `` (\"\"): duplicate of line 2",
    ];
    for e in expected {
        assert!(
            problems.iter().any(|p| p.starts_with(e)),
            "no problem `{e}…` in {problems:#?}"
        );
    }
    let lines: BTreeSet<&str> = problems
        .iter()
        .filter_map(|p| p.split(',').next())
        .collect();
    assert_eq!(
        lines,
        BTreeSet::from(["line 3", "line 5", "line 6", "line 7"]),
        "{problems:#?}"
    );
    d.assert_empty();

    // Without --json the same problems go to stderr, one per line.
    let mut plain = Command::new(server_bin());
    let out = plain
        .env_remove("TUMBUH_SERVER_DB")
        .env_remove("TUMBUH_SERVER_LOG")
        .arg("--db")
        .arg(&d.db)
        .args(["import", "--check"])
        .arg(&file)
        .output()
        .expect("run");
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("line 3, column `weight_kg` (\"83..9\"): not a number"),
        "{stderr}"
    );
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .contains("check only, nothing stored: 7 rows, 3 valid"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    d.assert_empty();
}

#[test]
fn import_stores_exactly_the_valid_rows() {
    let d = District::new();
    let file = d.file("posyandu.csv", field_file_with_bad_rows().as_bytes());
    let v = d.import_json(&file, &[]);
    assert_eq!((&v["rows"], &v["rejected"]), (&7.into(), &3.into()), "{v}");
    assert_eq!(v["stored"]["measurements_stored"], 3, "{v}");
    assert_eq!(v["stored"]["already_imported"], 0, "{v}");
    assert_eq!(v["stored"]["children_created"], 3, "{v}");
    assert_eq!(v["dedup"]["merged"], 0, "{v}");

    assert_eq!(
        d.strings("SELECT external_id FROM imports"),
        BTreeSet::from(GOOD_IDS.map(String::from)),
        "the rejected rows are not imported"
    );
    assert_eq!(d.count("measurements"), 3);
    assert_eq!(
        d.strings("SELECT name FROM children"),
        BTreeSet::from(["Aisyah Putri", "Eko Prasetyo", "Fitri Handayani"].map(String::from))
    );
    // The values as read: a decimal comma, a quoted address over two lines.
    let fitri: i64 = d
        .conn()
        .query_row(
            "SELECT m.weight_g FROM measurements m JOIN children c ON c.id = m.child_id
             WHERE c.name = 'Fitri Handayani'",
            [],
            |r| r.get(0),
        )
        .expect("Fitri's weight");
    assert_eq!(fitri, 8400);
    let address: String = d
        .conn()
        .query_row(
            "SELECT address FROM children WHERE name = 'Aisyah Putri'",
            [],
            |r| r.get(0),
        )
        .expect("address");
    assert!(
        address.starts_with("Dsn Krajan") && address.ends_with("RT 2"),
        "{address:?}"
    );
    assert_eq!(
        d.strings("SELECT posyandu FROM children WHERE name = 'Eko Prasetyo'"),
        BTreeSet::from(["353001200201".to_string()])
    );
}

#[test]
fn importing_the_same_file_again_stores_nothing_twice() {
    let d = District::new();
    let file = d.file("posyandu.csv", field_file_with_bad_rows().as_bytes());
    d.import_json(&file, &[]);
    let changes = d.count("changes");
    let measurements = d.count("measurements");
    assert!(changes > 0);

    let again = d.import_json(&file, &[]);
    assert_eq!(again["stored"]["already_imported"], 3, "{again}");
    assert_eq!(again["stored"]["measurements_stored"], 0, "{again}");
    assert_eq!(again["stored"]["children_created"], 0, "{again}");
    assert_eq!(again["rejected"], 3, "{again}");
    assert_eq!(d.count("changes"), changes, "no new change");
    assert_eq!(d.count("measurements"), measurements);
    assert_eq!(d.count("imports"), 3);
    assert_eq!(d.count("children"), 3);
}

#[test]
fn a_file_with_unknown_columns_fails_naming_the_expected_headers() {
    let d = District::new();
    let file = d.file("other.csv", b"a,b,c\n1,2,3\n4,5,6\n");
    let out = d.import(&file, &[]).output().expect("run");
    assert!(!out.status.success(), "an unknown layout must fail");
    let stderr = String::from_utf8_lossy(&out.stderr);
    for part in [
        "cannot import",
        "seen: a, b, c",
        "record_id, round, measured_on",
        "Nama, JK, Tgl Lahir, Tanggal Pengukuran, Posyandu",
    ] {
        assert!(stderr.contains(part), "`{part}` not in: {stderr}");
    }
    assert!(out.stdout.is_empty(), "no report on stdout");
    d.assert_empty();
}

#[test]
fn ppgbm_xlsx_with_area_names_is_stored_under_the_posyandu_codes() {
    use rust_xlsxwriter::{Format, Workbook};
    let d = District::new();
    let path = d.dir.path().join("Daftar Anak Agustus 2024.xlsx");
    let mut book = Workbook::new();
    let date = Format::new().set_num_format("dd/mm/yyyy");
    let sheet = book.add_worksheet();
    sheet
        .write_string(0, 0, "Daftar Anak Berdasarkan Status Gizi")
        .expect("title");
    let header = [
        "NIK",
        "Nama",
        "JK",
        "Tgl Lahir",
        "Nama Ortu",
        "Kec",
        "Desa/Kel",
        "Posyandu",
        "Tanggal Pengukuran",
        "Berat",
        "Tinggi",
        "Cara Ukur",
    ];
    for (c, h) in header.iter().enumerate() {
        sheet.write_string(2, c as u16, *h).expect("header");
    }
    // (NIK, name, sex, birth date serial, mother, desa, posyandu, weight)
    let rows = [
        (
            "3530015003230001",
            "Nur Aini",
            "P",
            45000.0,
            "Sri Wahyuni",
            "Mulyorejo",
            "Kenanga 1",
            8.2,
        ),
        (
            "3530011208220002",
            "Rafi Ahmad",
            "L",
            44785.0,
            "Lilik Suryani",
            "PLOSOMANIK",
            "Posyandu Nusa 1",
            10.4,
        ),
    ];
    for (i, (nik, name, sex, birth, mother, desa, posyandu, weight)) in rows.iter().enumerate() {
        let r = 3 + i as u32;
        sheet.write_string(r, 0, *nik).expect("nik");
        sheet.write_string(r, 1, *name).expect("name");
        sheet.write_string(r, 2, *sex).expect("sex");
        sheet
            .write_number_with_format(r, 3, *birth, &date)
            .expect("birth");
        sheet.write_string(r, 4, *mother).expect("mother");
        sheet.write_string(r, 5, "Kedungjati").expect("kec");
        sheet.write_string(r, 6, *desa).expect("desa");
        sheet.write_string(r, 7, *posyandu).expect("posyandu");
        sheet
            .write_number_with_format(r, 8, 45516.0, &date)
            .expect("measured");
        sheet.write_number(r, 9, *weight).expect("weight");
        sheet.write_number(r, 10, 75.2).expect("height");
        sheet.write_string(r, 11, "Berdiri").expect("position");
    }
    book.save(&path).expect("save xlsx");

    // Without an area directory the names cannot become codes; the message
    // says how to give the server one.
    let out = d.import(&path, &[]).output().expect("run");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("holds no area directory")
            && stderr.contains("tumbuh-server areas import areas.csv"),
        "{stderr}"
    );
    d.assert_empty();

    // `import --areas` stores the directory it is given.
    let areas = shared_dir().join("synthetic/areas.csv");
    let areas = areas.to_str().expect("utf-8 path");
    let other = District::new();
    other.import_json(&path, &["--areas", areas]);
    assert_eq!(other.count("areas"), 80);

    // `areas import` stores it once: a second run changes nothing. Then a
    // plain `import FILE` finds the codes.
    let stored = d.server_json(&["areas", "import", areas]);
    assert_eq!(stored["added"], 80, "{stored}");
    let again = d.server_json(&["areas", "import", areas]);
    assert_eq!(
        (&again["added"], &again["changed"], &again["unchanged"]),
        (&0.into(), &0.into(), &80.into()),
        "{again}"
    );
    assert_eq!(d.count("areas"), 80);
    let v = d.import_json(&path, &[]);
    assert_eq!((&v["rows"], &v["rejected"]), (&2.into(), &0.into()), "{v}");
    assert_eq!(v["stored"]["measurements_stored"], 2, "{v}");
    let placed = d.strings(
        "SELECT c.name || ' ' || c.posyandu || ' ' || m.posyandu || ' ' || m.date
         FROM children c JOIN measurements m ON m.child_id = c.id",
    );
    assert_eq!(
        placed,
        BTreeSet::from(
            [
                "Nur Aini 353001200101 353001200101 2024-08-12",
                "Rafi Ahmad 353001200201 353001200201 2024-08-12",
            ]
            .map(String::from)
        )
    );
    assert_eq!(d.count("imports"), 2);
    assert!(
        d.strings("SELECT external_id FROM imports")
            .iter()
            .all(|id| id.starts_with("ppgbm:")),
    );
}

#[test]
fn one_child_typed_differently_at_two_posyandu_is_merged_by_the_dedup() {
    let d = District::new();
    let rizky = |id, name, measured_on, posyandu, weight, height| FieldRow {
        measured_on,
        posyandu,
        nik: "3530011402230003",
        weight,
        height,
        ..row(id, name, "L", "2023-02-14")
    };
    let mut text = format!("{FIELD_HEADER}\n");
    text.push_str(
        &rizky(
            "rz-1",
            "Muhammad Rizky",
            "2024-08-05",
            "353001200101",
            "9.8",
            "76.5",
        )
        .csv(),
    );
    text.push_str(
        &rizky(
            "rz-2",
            "M. Rizki",
            "2024-09-09",
            "353001200102",
            "10.0",
            "77.4",
        )
        .csv(),
    );
    // His twin, weighed the same day at the same posyandu: not him.
    text.push_str(
        &FieldRow {
            weight: "9.1",
            height: "75.0",
            ..row("tw-1", "Muhammad Rizal", "L", "2023-02-14")
        }
        .csv(),
    );
    // Another child of the posyandu.
    text.push_str(
        &FieldRow {
            mother: "Rina Wati",
            ..row("ot-1", "Dewi Lestari", "P", "2022-06-03")
        }
        .csv(),
    );
    let file = d.file("dua-posyandu.csv", text.as_bytes());
    let v = d.import_json(&file, &[]);
    assert_eq!(v["stored"]["children_created"], 4, "{v}");
    assert_eq!(v["dedup"]["merged"], 1, "{v}");

    let conn = d.conn();
    let child = |name: &str| -> (String, Option<String>) {
        conn.query_row(
            "SELECT id, merged_into FROM children WHERE name = ?1",
            [name],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap_or_else(|e| panic!("{name}: {e}"))
    };
    let (a, a_into) = child("Muhammad Rizky");
    let (b, b_into) = child("M. Rizki");
    let (survivor, duplicate) = match (a_into, b_into) {
        (Some(into), None) if into == b => (b.clone(), a.clone()),
        (None, Some(into)) if into == a => (a.clone(), b.clone()),
        other => panic!("exactly one of the two is merged into the other: {other:?}"),
    };
    assert_eq!(child("Muhammad Rizal").1, None, "the twin stays apart");
    assert_eq!(child("Dewi Lestari").1, None);

    let merges: Vec<(String, String, String)> = conn
        .prepare("SELECT survivor, duplicate, source FROM merges WHERE undone_at IS NULL")
        .expect("merges")
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .expect("merges")
        .collect::<Result<_, _>>()
        .expect("merges");
    assert_eq!(
        merges,
        [(survivor.clone(), duplicate.clone(), "auto".into())]
    );
    let audit = d.strings("SELECT target FROM audit WHERE action = 'child.merge'");
    assert_eq!(audit.len(), 1, "{audit:?}");
    let target = audit.first().expect("audit");
    assert!(
        target.contains(&survivor) && target.contains(&duplicate),
        "{target}"
    );
}

#[test]
fn export_without_a_round_lists_the_whole_register_after_dedup() {
    let d = District::new();
    let rizky = |id, name, measured_on, posyandu| FieldRow {
        measured_on,
        posyandu,
        nik: "3530011402230003",
        ..row(id, name, "L", "2023-02-14")
    };
    let mut text = format!("{FIELD_HEADER}\n");
    text.push_str(&rizky("rz-1", "Muhammad Rizky", "2024-08-05", "353001200101").csv());
    text.push_str(&rizky("rz-2", "M. Rizki", "2024-09-09", "353001200102").csv());
    text.push_str(
        &FieldRow {
            mother: "Rina Wati",
            ..row("ot-1", "Dewi Lestari", "P", "2022-06-03")
        }
        .csv(),
    );
    // Registered, never weighed or measured.
    text.push_str(
        &FieldRow {
            mother: "Tini",
            weight: "",
            height: "",
            ..row("bare-1", "Bayu Aji", "L", "2023-05-01")
        }
        .csv(),
    );
    let file = d.file("register.csv", text.as_bytes());
    let v = d.import_json(&file, &[]);
    assert_eq!(v["dedup"]["merged"], 1, "{v}");
    let areas = shared_dir().join("synthetic/areas.csv");
    d.server_json(&["areas", "import", areas.to_str().expect("utf-8 path")]);

    let out = d.dir.path().join("register-export.csv");
    let written = d.server_json(&["export", "-o", out.to_str().expect("utf-8 path")]);
    let register: i64 = d
        .conn()
        .query_row(
            "SELECT count(*) FROM children WHERE merged_into IS NULL",
            [],
            |r| r.get(0),
        )
        .expect("count");
    assert_eq!(register, 3);
    assert_eq!(written["rows"], register, "{written}");
    let mut csv = csv::Reader::from_path(&out).expect("export CSV");
    let header = csv.headers().expect("header").clone();
    let col = |name: &str| {
        header
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("column {name}"))
    };
    let rows: Vec<csv::StringRecord> = csv.records().collect::<Result<_, _>>().expect("rows");
    assert_eq!(rows.len() as i64, register);
    let names: Vec<&str> = rows.iter().map(|r| &r[col("Nama")]).collect();
    let rizky_rows = names
        .iter()
        .filter(|n| **n == "Muhammad Rizky" || **n == "M. Rizki")
        .count();
    assert_eq!(
        rizky_rows, 1,
        "the merged registration is not listed: {names:?}"
    );
    let bayu = rows
        .iter()
        .find(|r| &r[col("Nama")] == "Bayu Aji")
        .expect("the child never measured is in the register");
    for empty in [
        "Tanggal Pengukuran",
        "Usia Saat Ukur",
        "Berat",
        "Tinggi",
        "TB/U",
        "ZS TB/U",
    ] {
        assert_eq!(&bayu[col(empty)], "", "{empty}");
    }
    // Area names from the stored directory (no --areas), by home posyandu.
    assert_eq!(&bayu[col("Kab/Kota")], "Kabupaten Sukamakmur (fiktif)");
    assert_eq!(&bayu[col("Posyandu")], "Posyandu Kenanga 1");
    let dewi = rows
        .iter()
        .find(|r| &r[col("Nama")] == "Dewi Lestari")
        .expect("Dewi");
    assert_eq!(&dewi[col("Tanggal Pengukuran")], "2024-08-05");
    assert_eq!(&dewi[col("Berat")], "9.8");
}
