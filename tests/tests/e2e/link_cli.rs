//! End-to-end tests of `tumbuh-server link`: the real binary on a small
//! measurements CSV written by the test, its output layouts
//! (`record_id,cluster_id` one line per input row in input order;
//! `record_id_a,record_id_b,score,evidence` for `--review`), what it puts
//! together and keeps apart, and its error for a bad row.
//!
//! The engine's decisions on hard cases are tested in
//! `linkage/tests/hard_cases.rs`; here the set is small on purpose, so the
//! assertions hold whatever EM estimates from it: rows with the same
//! identity fields are one registration before any weight is used, and
//! twins are kept apart by a hard rule no weight can override.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use tempfile::TempDir;
use tumbuh_tests::server_bin;

const HEADER: &str = "record_id,round,measured_on,posyandu_code,desa_code,kader_id,nik,no_kk,name,sex,birth_date,birth_weight_kg,mother_name,mother_nik,father_name,rt,rw,address,weight_kg,height_cm,measure_position,muac_cm";

/// A field row: the twins' family (same mother, KK, address, birth date),
/// or a background child.
fn field_row(id: &str, measured_on: &str, name: &str, nik: &str, mother: &str) -> String {
    let (born, kk, weight) = match name {
        "Hasan" => ("2023-06-13", "3530012006230045", "9.1"),
        "Husain" => ("2023-06-13", "3530012006230045", "8.2"),
        _ => ("2021-02-01", "", "12.0"),
    };
    format!(
        "{id},{round},{measured_on},353001200205,3530012002,353001200205-K1,{nik},{kk},{name},L,{born},3.1,{mother},,,3,5,Dusun Krajan,{weight},,,",
        round = &measured_on[..7],
    )
}

/// The test's CSV: each twin measured twice with the record picked again
/// (identical identity fields), and five other children once each.
fn rows() -> Vec<String> {
    let mut rows = vec![
        field_row(
            "r-hasan-mar",
            "2024-03-04",
            "Hasan",
            "3530011306230101",
            "Fitri Aminah",
        ),
        field_row(
            "r-husain-mar",
            "2024-03-04",
            "Husain",
            "3530011306230102",
            "Fitri Aminah",
        ),
    ];
    for (i, (name, mother)) in [
        ("Bagas Saputra", "Yuliani"),
        ("Raka Aditya", "Nurhayati"),
        ("Gilang Pratama", "Suwarni"),
        ("Naufal Hakim", "Maryam"),
        ("Kafka Ramadhan", "Ika Utami"),
    ]
    .iter()
    .enumerate()
    {
        rows.push(field_row(
            &format!("r-other-{i}"),
            "2024-03-04",
            name,
            "",
            mother,
        ));
    }
    rows.push(field_row(
        "r-husain-apr",
        "2024-04-01",
        "Husain",
        "3530011306230102",
        "Fitri Aminah",
    ));
    rows.push(field_row(
        "r-hasan-apr",
        "2024-04-01",
        "Hasan",
        "3530011306230101",
        "Fitri Aminah",
    ));
    rows
}

struct Run {
    dir: TempDir,
}

impl Run {
    fn new() -> Self {
        Self {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn write(&self, name: &str, lines: &[String]) -> PathBuf {
        let path = self.path(name);
        let mut text = format!("{HEADER}\n");
        for l in lines {
            text.push_str(l);
            text.push('\n');
        }
        std::fs::write(&path, text).expect("write input csv");
        path
    }

    /// `tumbuh-server link --input <input> --output <output> [--review <review>]`.
    fn link(&self, input: &Path, output: &Path, review: Option<&Path>) -> std::process::Output {
        let mut c = Command::new(server_bin());
        c.current_dir(self.dir.path())
            .env_remove("TUMBUH_SERVER_DB")
            .env_remove("TUMBUH_SERVER_LOG")
            .arg("--db")
            .arg(self.path("unused.db"))
            .arg("link")
            .arg("--input")
            .arg(input)
            .arg("--output")
            .arg(output);
        if let Some(r) = review {
            c.arg("--review").arg(r);
        }
        c.output().expect("run tumbuh-server link")
    }
}

fn read_csv(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let mut r = csv::Reader::from_path(path)
        .unwrap_or_else(|e| panic!("{} is not CSV: {e}", path.display()));
    let header = r
        .headers()
        .expect("header")
        .iter()
        .map(str::to_owned)
        .collect();
    let records = r
        .records()
        .map(|rec| {
            rec.expect("csv row")
                .iter()
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .collect();
    (header, records)
}

#[test]
fn link_writes_one_cluster_per_row_in_input_order() {
    let run = Run::new();
    let rows = rows();
    let input = run.write("measurements.csv", &rows);
    let (output, review) = (run.path("clusters.csv"), run.path("review.csv"));
    let out = run.link(&input, &output, Some(&review));
    assert!(
        out.status.success(),
        "link failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );

    let (header, clusters) = read_csv(&output);
    assert_eq!(header, ["record_id", "cluster_id"]);
    let ids: Vec<&str> = rows
        .iter()
        .map(|r| r.split(',').next().unwrap_or_default())
        .collect();
    let written: Vec<&str> = clusters.iter().map(|c| c[0].as_str()).collect();
    assert_eq!(written, ids, "one line per input row, in input order");
    let cluster = |id: &str| -> &str {
        let i = written
            .iter()
            .position(|w| *w == id)
            .unwrap_or_else(|| panic!("{id} missing from the output"));
        &clusters[i][1]
    };
    // Cluster ids are numbered in order of first appearance.
    assert_eq!(cluster("r-hasan-mar"), "K000001");
    assert_eq!(cluster("r-husain-mar"), "K000002");
    // A row whose record was picked again belongs to its first row's child.
    assert_eq!(cluster("r-hasan-apr"), cluster("r-hasan-mar"));
    assert_eq!(cluster("r-husain-apr"), cluster("r-husain-mar"));
    // Twins never share a child.
    assert_ne!(cluster("r-hasan-mar"), cluster("r-husain-mar"));
    let mut distinct: Vec<&str> = clusters.iter().map(|c| c[1].as_str()).collect();
    distinct.sort_unstable();
    distinct.dedup();
    assert_eq!(distinct.len(), 7, "two twins and five other children");

    let (header, pairs) = read_csv(&review);
    assert_eq!(header, ["record_id_a", "record_id_b", "score", "evidence"]);
    for p in &pairs {
        assert_eq!(p.len(), 4, "{p:?}");
        assert!(ids.contains(&p[0].as_str()) && ids.contains(&p[1].as_str()));
        let score: f64 = p[2].parse().expect("score is a number");
        assert!((0.0..=1.0).contains(&score), "{p:?}");
    }
    // The summary on stderr carries counts, never a name.
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("9 rows"), "{stderr}");
    assert!(
        !stderr.contains("Hasan") && !stderr.contains("Fitri"),
        "{stderr}"
    );
}

#[test]
fn link_names_file_line_and_column_of_a_bad_row() {
    let run = Run::new();
    let mut rows = rows();
    // Line 4 of the file (the header is line 1): a birth date that is not
    // a date.
    rows[2] = rows[2].replace("2021-02-01", "2021-13-45");
    let input = run.write("bad.csv", &rows);
    let output = run.path("clusters.csv");
    let out = run.link(&input, &output, None);
    assert!(!out.status.success(), "a bad row must fail the run");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("bad.csv:4")
            && stderr.contains("birth_date")
            && stderr.contains("2021-13-45"),
        "the error names file, line, column and value: {stderr}"
    );
    assert!(!output.exists(), "no output is written for a bad input");
}
