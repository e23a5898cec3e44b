//! End-to-end tests of the `tumbuh` CLI: the real binary on a real store.

use predicates::prelude::*;
use serde_json::Value;
use tumbuh_tests::{Device, POSYANDU};

fn measurements_of(d: &Device, child: &str) -> Vec<Value> {
    d.json(&["child", "show", child])["measurements"]
        .as_array()
        .expect("measurements")
        .clone()
}

#[test]
fn init_creates_a_store_once_and_checks_the_posyandu_code() {
    let d = Device::uninitialised();
    d.cmd()
        .args(["init", "--posyandu", "3530012002", "--kader", "Sri"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("12 angka"));
    assert!(!d.db().exists(), "a refused init creates nothing");
    let v = d.json(&["init", "--posyandu", POSYANDU, "--kader", "Sri"]);
    assert_eq!(v["posyandu"], POSYANDU);
    assert!(d.db().exists());
    d.cmd()
        .args([
            "--lang",
            "en",
            "init",
            "--posyandu",
            POSYANDU,
            "--kader",
            "Sri",
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("already exists"));
}

#[test]
fn commands_without_a_store_say_how_to_create_one() {
    let d = Device::uninitialised();
    d.cmd()
        .args(["child", "list"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("tumbuh init"));
    assert!(!d.db().exists(), "reading does not create a store");
}

#[test]
fn tumbuh_db_env_selects_the_store() {
    let d = Device::new();
    d.add_child("Budi", "L", "2023-01-10", "Ani");
    let out = assert_cmd::Command::new(tumbuh_tests::tumbuh_bin())
        .env("TUMBUH_DB", d.db())
        .env("TUMBUH_PIN", tumbuh_tests::PIN)
        .args(["--json", "child", "list"])
        .output()
        .expect("run");
    assert!(out.status.success());
    let list: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(list.as_array().map(Vec::len), Some(1));
}

#[test]
fn registering_prints_the_id_and_refuses_likely_duplicates() {
    let d = Device::new();
    let out = d
        .cmd()
        .args([
            "child",
            "add",
            "--name",
            "Muhammad Rizky",
            "--sex",
            "L",
            "--birth-date",
            "2023-02-14",
        ])
        .args(["--mother-name", "Siti Aminah", "--rt", "3", "--rw", "5"])
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let id = String::from_utf8(out.stdout)
        .expect("utf8")
        .trim()
        .to_string();
    assert_eq!(id.len(), 36, "prints the new child's UUID: {id}");

    // The same child typed again by another kader: spelling variant, DD-MM-YYYY date.
    d.cmd()
        .args([
            "--lang",
            "en",
            "child",
            "add",
            "--name",
            "M. Rizki",
            "--sex",
            "L",
            "--birth-date",
            "14-02-2023",
        ])
        .args(["--mother-name", "Aminah"])
        .assert()
        .code(3)
        .stderr(predicate::str::contains(&id[..8]).and(predicate::str::contains("--new")));
    // With --json the candidates come as data.
    let out = d
        .cmd()
        .args([
            "--json",
            "child",
            "add",
            "--name",
            "M. Rizki",
            "--sex",
            "L",
            "--birth-date",
            "14-02-2023",
        ])
        .args(["--mother-name", "Aminah"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(3));
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["candidates"][0]["id"], id.as_str());
    assert_eq!(
        d.count("children"),
        1,
        "a refused registration stores nothing"
    );

    // --new registers anyway.
    d.cmd()
        .args([
            "child",
            "add",
            "--name",
            "M. Rizki",
            "--sex",
            "L",
            "--birth-date",
            "14-02-2023",
            "--mother-name",
            "Aminah",
            "--new",
        ])
        .assert()
        .success();
    assert_eq!(d.count("children"), 2);
}

#[test]
fn twins_are_not_taken_for_duplicates() {
    let d = Device::new();
    d.add_child("Hasan Maulana", "L", "2023-06-01", "Dewi Rahayu");
    d.cmd()
        .args([
            "child",
            "add",
            "--name",
            "Husain Maulana",
            "--sex",
            "L",
            "--birth-date",
            "2023-06-01",
            "--mother-name",
            "Dewi Rahayu",
        ])
        .assert()
        .success();
    assert_eq!(d.count("children"), 2);
}

#[test]
fn registration_refuses_bad_fields_with_the_reason() {
    let d = Device::new();
    let base = [
        "child",
        "add",
        "--name",
        "Ani",
        "--sex",
        "P",
        "--birth-date",
        "2023-05-17",
        "--mother-name",
        "Sri",
    ];
    let cases: [(&str, &str, &str); 4] = [
        ("--sex", "X", "--sex"),
        ("--birth-date", "2023-02-30", "--birth-date"),
        ("--birth-date", "2099-01-01", "future"),
        ("--name", " ", "--name"),
    ];
    for (flag, value, expect) in cases {
        let mut args: Vec<&str> = base.to_vec();
        let at = args.iter().position(|a| *a == flag).expect("flag present");
        args[at + 1] = value;
        d.cmd()
            .arg("--lang")
            .arg("en")
            .args(&args)
            .assert()
            .code(2)
            .stderr(predicate::str::contains(expect));
    }
    d.cmd()
        .args([
            "child",
            "add",
            "--name",
            "Ani",
            "--sex",
            "P",
            "--birth-date",
            "2023-05-17",
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--mother-name"));
    assert_eq!(d.count("children"), 0);
}

#[test]
fn a_nik_that_disagrees_is_stored_with_a_warning() {
    let d = Device::new();
    // Born 17 May 2023, a girl: her NIK's date part would read 570523. This one says 170523 (a boy).
    let v = d.json(&[
        "child",
        "add",
        "--name",
        "Ani",
        "--sex",
        "P",
        "--birth-date",
        "2023-05-17",
        "--mother-name",
        "Sri",
        "--nik",
        "3530011705230001",
    ]);
    let warnings = v["warnings"].as_array().expect("warnings");
    assert!(!warnings.is_empty(), "a warning about the NIK: {v}");
    let show = d.json(&["child", "show", v["id"].as_str().expect("id")]);
    assert_eq!(
        show["profile"]["nik"], "3530011705230001",
        "stored as typed"
    );
    // A NIK that agrees raises no warning.
    let ok = d.json(&[
        "child",
        "add",
        "--name",
        "Budi Santoso",
        "--sex",
        "P",
        "--birth-date",
        "2023-05-17",
        "--mother-name",
        "Wati",
        "--nik",
        "3530015705230002",
        "--new",
    ]);
    assert_eq!(ok["warnings"].as_array().map(Vec::len), Some(0), "{ok}");
}

/// WHO reference case P00003 of `zscore_cases.csv`: boy born 2023-07-19, measured
/// 2025-08-04, 11 kg, 83.6 cm standing → HAZ −1.29, WAZ −0.95, WHZ −0.37, BMIZ −0.21.
#[test]
fn measuring_shows_the_who_assessment_at_once() {
    let d = Device::new();
    let id = d.add_child("Bima", "L", "2023-07-19", "Yuli");
    let v = d.measure(
        &id,
        "2025-08-04",
        "11",
        &["--height", "83.6", "--position", "standing"],
    );
    assert_eq!(v["age_days"], 747);
    assert_eq!(v["haz"]["z"], -1.29);
    assert_eq!(v["waz"]["z"], -0.95);
    assert_eq!(v["whz"]["z"], -0.37);
    assert_eq!(v["bmiz"]["z"], -0.21);
    assert_eq!(v["tbu_cat"], "normal");
    assert_eq!(v["weight_gain"]["status"], "B");
    // The text form, in both languages.
    d.cmd()
        .args([
            "measure",
            &id,
            "--date",
            "2025-09-04",
            "--weight",
            "11.3",
            "--height",
            "84.1",
            "--position",
            "standing",
        ])
        .assert()
        .success()
        .stdout(
            predicate::str::contains("TB/U").and(predicate::str::contains("Pengukuran tersimpan")),
        );
    d.cmd()
        .args([
            "--lang",
            "en",
            "measure",
            &id,
            "--date",
            "2025-10-06",
            "--weight",
            "11.5",
        ])
        .assert()
        .success()
        .stdout(predicate::str::contains("Measurement saved"));
}

#[test]
fn a_stunted_child_is_flagged_and_listed() {
    let d = Device::new();
    // WHO reference case P00001: boy, 1685 days, 89.9 cm standing → HAZ −3.92 (sangat pendek).
    let stunted = d.add_child("Dimas", "L", "2016-09-09", "Rina");
    let v = d.measure(
        &stunted,
        "2021-04-21",
        "13.9",
        &["--height", "89.9", "--position", "standing"],
    );
    assert_eq!(v["haz"]["z"], -3.92);
    assert_eq!(v["tbu_cat"], "sangat_pendek");
    assert_eq!(v["stunted"], true);
    // P00003 again: not stunted.
    let fine = d.add_child("Bima", "L", "2023-07-19", "Yuli");
    d.measure(
        &fine,
        "2025-08-04",
        "11",
        &["--height", "83.6", "--position", "standing"],
    );
    let list = d.json(&["child", "list", "--stunted"]);
    let ids: Vec<&str> = list
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|c| c["id"].as_str())
        .collect();
    assert_eq!(ids, vec![stunted.as_str()]);
    d.cmd()
        .args(["child", "list", "--stunted"])
        .assert()
        .success()
        .stdout(predicate::str::contains("Dimas").and(predicate::str::contains("Bima").not()));
}

#[test]
fn impossible_values_are_refused_and_store_nothing() {
    let d = Device::new();
    let id = d.add_child("Ani", "P", "2023-05-17", "Sri");
    let refusals: [(&[&str], &str); 8] = [
        (&["--weight", "0"], "--weight"),
        (&["--weight", "60.5"], "--weight"),
        (
            &["--weight", "9", "--height", "37.9", "--position", "lying"],
            "--height",
        ),
        (
            &[
                "--weight",
                "9",
                "--height",
                "150.1",
                "--position",
                "standing",
            ],
            "--height",
        ),
        (
            &["--weight", "9", "--height", "75", "--position", "sitting"],
            "--position",
        ),
        (&["--weight", "9", "--date", "2099-01-01"], "future"),
        (
            &["--weight", "9", "--date", "2023-05-16"],
            "before the child's birth",
        ),
        (&["--weight", "9", "--date", "2024-13-01"], "--date"),
    ];
    for (args, expect) in refusals {
        let mut cmd = d.cmd();
        cmd.args(["--lang", "en", "measure", &id]);
        if !args.contains(&"--date") {
            cmd.args(["--date", "2024-06-01"]);
        }
        cmd.args(args)
            .assert()
            .code(2)
            .stderr(predicate::str::contains(expect));
    }
    assert_eq!(d.count("measurements"), 0);
    d.assert_consistent();
}

#[test]
fn implausible_values_are_stored_but_flagged_for_remeasuring() {
    let d = Device::new();
    let id = d.add_child("Ani", "P", "2023-05-17", "Sri");
    // 25 kg at 13 months is far above +5 SD weight-for-age (WHO flag: WAZ > 5).
    let v = d.measure(&id, "2024-06-20", "25", &[]);
    assert_eq!(v["waz"]["implausible"], true);
    assert_eq!(v["implausible"], true);
    assert_eq!(d.count("measurements"), 1);
    d.cmd()
        .args(["measure", &id, "--date", "2024-07-20", "--weight", "26"])
        .assert()
        .success()
        .stdout(predicate::str::contains("ukur ulang").or(predicate::str::contains("Ukur ulang")));
}

#[test]
fn voiding_keeps_the_measurement_marked_and_refuses_twice() {
    let d = Device::new();
    let id = d.add_child("Ani", "P", "2023-05-17", "Sri");
    let m = d.measure(&id, "2024-06-01", "9.1", &[]);
    let mid = m["id"].as_str().expect("id").to_string();
    d.cmd().args(["measure", "void", &mid]).assert().failure();
    d.cmd()
        .args(["measure", "void", &mid, "--reason", " "])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--reason"));
    d.cmd()
        .args(["measure", "void", &mid[..13], "--reason", "salah timbang"])
        .assert()
        .success();
    let ms = measurements_of(&d, &id);
    assert_eq!(ms.len(), 1, "nothing is deleted");
    assert_eq!(ms[0]["voided"]["reason"], "salah timbang");
    d.cmd()
        .args(["--lang", "en", "measure", "void", &mid, "--reason", "again"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("already voided"));
    d.cmd()
        .args([
            "measure",
            "void",
            "00000000-0000-7000-8000-000000000000",
            "--reason",
            "x",
        ])
        .assert()
        .code(2);
}

#[test]
fn editing_changes_the_profile_as_a_document_edit() {
    let d = Device::new();
    let id = d.add_child("Bayi Ny Sri", "P", "2024-05-17", "Sri");
    let changes_before = d.count("changes");
    d.cmd()
        .args([
            "child",
            "edit",
            &id[..12],
            "--name",
            "Aisyah Putri",
            "--rt",
            "003",
        ])
        .assert()
        .success();
    assert_eq!(
        d.count("changes"),
        changes_before + 1,
        "one edit is one change"
    );
    let show = d.json(&["child", "show", &id]);
    assert_eq!(show["profile"]["name"], "Aisyah Putri");
    assert_eq!(show["profile"]["rt"], "003");
    assert_eq!(show["profile"]["mother_name"], "Sri");
    d.cmd().args(["child", "edit", &id]).assert().code(2);
    d.cmd()
        .args(["child", "edit", &id, "--sex", "Q"])
        .assert()
        .code(2);
    // A birth date after an existing measurement is refused.
    d.measure(&id, "2024-06-01", "4.1", &[]);
    d.cmd()
        .args(["child", "edit", &id, "--birth-date", "2024-06-10"])
        .assert()
        .code(2);
    let list = d.json(&["child", "list"]);
    assert_eq!(list[0]["name"], "Aisyah Putri");
    d.assert_consistent();
}

#[test]
fn search_tolerates_spelling_variants() {
    let d = Device::new();
    let rizky = d.add_child("Muhammad Rizky Pratama", "L", "2022-03-01", "Khoirunnisa");
    d.add_child("Dewi Lestari", "P", "2022-04-01", "Sumarni");
    for query in ["rizki", "M. Rizky", "RISKY PRATAMA", "Khairunnisa"] {
        let hits = d.json(&["search", query]);
        let ids: Vec<&str> = hits
            .as_array()
            .expect("array")
            .iter()
            .filter_map(|h| h["id"].as_str())
            .collect();
        assert_eq!(ids, vec![rizky.as_str()], "query {query}");
    }
    let none = d.json(&["search", "Bambang"]);
    assert_eq!(none.as_array().map(Vec::len), Some(0));
}

#[test]
fn ids_can_be_given_by_a_unique_prefix_only() {
    let d = Device::new();
    let a = d.add_child("Ani", "P", "2023-05-17", "Sri");
    let b = d.add_child("Budi", "L", "2022-01-03", "Wati");
    // UUIDv7 ids made a moment apart share their leading (time) digits.
    assert_eq!(a[..4], b[..4]);
    d.cmd()
        .args(["--lang", "en", "child", "show", &a[..4]])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("matches 2"));
    let show = d.json(&["child", "show", &b[..b.len() - 3]]);
    assert_eq!(show["profile"]["name"], "Budi");
    d.cmd().args(["child", "show", "ffff"]).assert().code(2);
}

#[test]
fn weight_gain_follows_the_kbm_rule_over_months() {
    let d = Device::new();
    // Born 10 Jan 2023: 11 months and older from December 2023, so the KBM is 200 g.
    let id = d.add_child("Ani", "P", "2023-01-10", "Sri");
    let steps = [
        ("2024-01-08", "9.0", "B", false),  // first weighing
        ("2024-02-06", "9.3", "N", false),  // +300 g ≥ 200
        ("2024-03-05", "9.4", "T", false),  // +100 g < 200
        ("2024-04-08", "9.45", "T", true),  // +50 g: T again → 2T
        ("2024-06-10", "9.8", "O", false),  // not weighed in May
        ("2024-07-08", "10.0", "N", false), // +200 g = KBM
    ];
    for (date, kg, status, two_t) in steps {
        let v = d.measure(&id, date, kg, &[]);
        assert_eq!(v["weight_gain"]["status"], status, "{date}");
        assert_eq!(v["weight_gain"]["two_t"], two_t, "{date}");
    }
    d.cmd()
        .args(["measure", &id, "--date", "2024-08-05", "--weight", "9.9"])
        .assert()
        .success()
        .stdout(
            predicate::str::contains("T (").and(predicate::str::contains("perlu ditindaklanjuti")),
        );
    // Voiding the wrong March weighing changes April's judgement (now against nothing in March → O).
    let ms = measurements_of(&d, &id);
    let march = ms
        .iter()
        .find(|m| m["date"] == "2024-03-05")
        .expect("march")["id"]
        .as_str()
        .expect("id")
        .to_string();
    d.cmd()
        .args(["measure", "void", &march, "--reason", "timbangan rusak"])
        .assert()
        .success();
    let ms = measurements_of(&d, &id);
    let april = ms
        .iter()
        .find(|m| m["date"] == "2024-04-08")
        .expect("april");
    assert_eq!(april["assessment"]["weight_gain"]["status"], "O");
}

#[test]
fn show_prints_profile_measurements_and_a_growth_chart() {
    let d = Device::new();
    let id = d.add_child("Dimas", "L", "2022-01-15", "Rina");
    for (date, kg, cm) in [
        ("2024-01-10", "9.0", "78.0"),
        ("2024-02-12", "9.2", "78.6"),
        ("2024-03-11", "9.3", "79.0"),
    ] {
        d.measure(&id, date, kg, &["--height", cm, "--position", "standing"]);
    }
    d.cmd()
        .args(["--lang", "en", "child", "show", &id])
        .assert()
        .success()
        .stdout(
            predicate::str::contains("Dimas")
                .and(predicate::str::contains("Mother: Rina"))
                .and(predicate::str::contains("2024-02-12"))
                .and(predicate::str::contains("H = height-for-age"))
                .and(predicate::str::contains("-2 |")),
        );
}

#[test]
fn not_measured_in_lists_who_is_due() {
    let d = Device::new();
    let came = d.add_child("Ani", "P", "2023-05-17", "Sri");
    let missed = d.add_child("Budi", "L", "2022-01-03", "Wati");
    d.measure(&came, "2024-08-05", "10", &[]);
    d.measure(&missed, "2024-07-05", "12", &[]);
    let due = d.json(&["child", "list", "--not-measured-in", "2024-08"]);
    let ids: Vec<&str> = due
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|c| c["id"].as_str())
        .collect();
    assert_eq!(ids, vec![missed.as_str()]);
    d.cmd()
        .args(["child", "list", "--not-measured-in", "Agustus"])
        .assert()
        .code(2);
}

#[test]
fn messages_are_indonesian_by_default_and_english_on_request() {
    let d = Device::new();
    d.cmd()
        .args(["child", "show", "ffff"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("tidak ada anak"));
    d.cmd()
        .args(["--lang", "en", "child", "show", "ffff"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no child"));
}

#[test]
fn arm_circumference_bands_follow_the_absolute_cut_offs() {
    let d = Device::new();
    // 13 months old on 2024-06-20: within 6–59 months, where LiLA < 11.5 cm is gizi buruk.
    let id = d.add_child("Ani", "P", "2023-05-17", "Sri");
    let severe = d.measure(&id, "2024-06-20", "7.0", &["--muac", "11.4"]);
    assert_eq!(severe["lila_cat"], "lila_gizi_buruk");
    let moderate = d.measure(&id, "2024-07-20", "7.2", &["--muac", "11.5"]);
    assert_eq!(moderate["lila_cat"], "lila_gizi_kurang");
    let normal = d.measure(&id, "2024-08-20", "7.4", &["--muac", "12.5"]);
    assert_eq!(normal["lila_cat"], "lila_normal");
    d.cmd()
        .args([
            "measure",
            &id,
            "--date",
            "2024-09-20",
            "--weight",
            "7.5",
            "--muac",
            "11.0",
        ])
        .assert()
        .success()
        .stdout(
            predicate::str::contains("Gizi buruk (LiLA < 11,5 cm)")
                .and(predicate::str::contains("perlu ditindaklanjuti")),
        );
    // Under 6 months the cut-offs do not apply.
    let baby = d.add_child("Bayi", "L", "2024-05-01", "Wati");
    let v = d.measure(&baby, "2024-08-01", "5.5", &["--muac", "11.0"]);
    assert_eq!(v["lila_cat"], Value::Null);
}
