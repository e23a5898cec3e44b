//! Verval verification end to end: a kader's device records children, the
//! district's worklist flags them, checks recorded on the device (and on the
//! server) reach the other side by sync, and the verified figures follow.
//!
//! The girl: born 2022-08-20, 81.0 cm lying on 2024-08-12 — about −1.7 SD
//! for her true age (24 months), so not stunted. Registered with the
//! placeholder birth date 1 January 2022 she is 31 months old and looks
//! stunted (WHO −2 SD at 31 months is about 85 cm for girls). The boy: 50 cm
//! at two years, WHO-implausible, left out of the figures until re-measured.

use serde_json::Value;
use tumbuh_tests::{Device, Server};

const POSYANDU: &str = "353001200205";

fn worklist(server: &Server) -> Value {
    server.json(&[
        "verval", "worklist", "--round", "2024-08", "--format", "json",
    ])
}

fn entry<'a>(list: &'a Value, child: &str) -> Option<&'a Value> {
    list["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .find(|e| e["id"] == child)
}

fn flag_codes(e: &Value) -> Vec<String> {
    e["flags"]
        .as_array()
        .expect("flags")
        .iter()
        .map(|f| f["kind"].as_str().expect("kind").to_owned())
        .collect()
}

/// Registers the girl with the placeholder birth date and measures her in August.
fn placeholder_girl(kader: &Device) -> String {
    let girl = kader.add_child("Siti Aminah", "P", "2022-01-01", "Sri");
    kader.measure(
        &girl,
        "2024-08-12",
        "10.2",
        &["--height", "81.0", "--position", "lying"],
    );
    girl
}

#[test]
fn checks_recorded_on_a_device_reach_the_servers_verified_figures() {
    let server = Server::start();
    let kader = Device::at(POSYANDU);
    kader.login(&server.url(), &server.enrol("kader", POSYANDU));
    let girl = placeholder_girl(&kader);
    let boy = kader.add_child("Budi Santoso", "L", "2022-06-10", "Ani");
    kader.measure(
        &boy,
        "2024-08-12",
        "11.0",
        &["--height", "50.0", "--position", "standing"],
    );
    kader.sync();
    server.wait_projected();

    // Before any check: both on the worklist, the girl for her birth date.
    let before = worklist(&server);
    let s = &before["summary"];
    assert_eq!(s["as_recorded"]["stunted"], 1, "{s}");
    assert_eq!(
        s["reconciled"]["stunted"], 1,
        "nothing tells another date yet"
    );
    assert_eq!(s["reconciled"]["flagged"], 1, "the boy's 50 cm is left out");
    assert_eq!(s["unverified"], 2);
    let g = entry(&before, &girl).expect("the girl is on the worklist");
    assert!(
        flag_codes(g).contains(&"placeholder_birth_date".to_owned()),
        "{g}"
    );
    assert_eq!(g["consequence"], "stunting");
    let reason = g["flags"][0]["reason"].as_str().expect("reason");
    assert!(
        reason.contains("1 Januari"),
        "the reason is in Bahasa Indonesia: {reason}"
    );
    let b = entry(&before, &boy).expect("the boy is on the worklist");
    assert!(flag_codes(b).contains(&"implausible".to_owned()), "{b}");
    assert_eq!(b["category"], "tidak_wajar");

    // The worklist as CSV for the bidan's spreadsheet: one row per child,
    // stunted-now first, reasons in Bahasa Indonesia.
    let dir = tempfile::tempdir().expect("temp dir");
    let csv_path = dir.path().join("worklist.csv");
    let written = server.json(&[
        "verval",
        "worklist",
        "--round",
        "2024-08",
        "--format",
        "csv",
        "-o",
        csv_path.to_str().expect("path"),
    ]);
    assert_eq!(written["unverified"], 2);
    let text = std::fs::read_to_string(&csv_path).expect("worklist written");
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header = reader.headers().expect("header").clone();
    let first: Vec<&str> = header.iter().take(3).collect();
    assert_eq!(first, ["order", "child_id", "consequence"]);
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("row")).collect();
    assert_eq!(rows.len(), 2, "{text}");
    assert_eq!(&rows[0][1], girl.as_str(), "the stunted girl first: {text}");
    assert!(
        rows[0].get(19).is_some_and(|f| f.contains("1 Januari")),
        "{text}"
    );
    assert_eq!(&rows[1][1], boy.as_str());

    // The bidan reads the KIA book; the kader re-measures the boy.
    let v = kader.json(&[
        "verify",
        &girl,
        "--birth-date",
        "2022-08-20",
        "--source",
        "kia",
        "--round",
        "2024-08",
    ]);
    assert_eq!(v["check"], "birth_date");
    let r = kader.json(&[
        "verify",
        &boy,
        "--remeasure",
        "--date",
        "2024-08-20",
        "--weight",
        "11.0",
        "--height",
        "85.0",
        "--position",
        "standing",
        "--round",
        "2024-08",
    ]);
    assert_eq!(r["check"], "remeasured");
    // Nothing entered is overwritten: the profile keeps the typed date.
    let shown = kader.json(&["child", "show", &girl]);
    assert_eq!(shown["profile"]["birth_date"], "2022-01-01");
    assert_eq!(shown["verifications"][0]["birth_date"], "2022-08-20");
    assert_eq!(shown["verifications"][0]["source"], "kia");
    kader.sync();
    server.wait_projected();

    let after = worklist(&server);
    let s = &after["summary"];
    assert_eq!(
        s["as_recorded"]["stunted"], 1,
        "as recorded stays as recorded"
    );
    assert_eq!(s["reconciled"]["stunted"], 0, "verified: not stunted");
    assert_eq!(s["reconciled"]["flagged"], 0, "the re-measurement counts");
    assert_eq!(s["reconciled"]["measured"], 2);
    assert_eq!(s["unverified"], 0, "{after}");
    assert!(entry(&after, &girl).is_none() && entry(&after, &boy).is_none());

    // The verval report carries the same figures both ways.
    let report = server.json(&["verval", "--round", "2024-08", "--format", "json"]);
    let v = &report["verification"];
    assert_eq!(v["as_recorded"]["stunted"], 1, "{v}");
    assert_eq!(v["reconciled"]["stunted"], 0);
    assert_eq!(v["unverified"], 0);

    // A check recorded on the server reaches the device at its next sync.
    let confirmed = server.json(&[
        "verval",
        "verify",
        &girl,
        "--confirmed",
        "--round",
        "2024-08",
        "--by",
        "Dinkes Sukamakmur",
    ]);
    assert_eq!(confirmed["check"], "confirmed");
    kader.sync();
    let shown = kader.json(&["child", "show", &girl]);
    let checks: Vec<&str> = shown["verifications"]
        .as_array()
        .expect("verifications")
        .iter()
        .map(|v| v["check"].as_str().expect("check"))
        .collect();
    assert_eq!(checks, ["birth_date", "confirmed"]);
    kader.assert_consistent();
    server.assert_sound();
}

/// A boy typed as a girl: 81.0 cm at 24 months is about −1.6 SD for a girl
/// but below −2 SD for a boy. His NIK (a boy's, dated as typed) raises the
/// question; the birth certificate read on the device answers it, and after
/// sync the server counts him stunted in the reconciled figure only.
#[test]
fn a_sex_check_recorded_on_a_device_reaches_the_servers_figures() {
    // Born 2022-08-20, a boy: the day is not raised by 40.
    const BOYS_NIK: &str = "3530012008220005";
    let server = Server::start();
    let kader = Device::at(POSYANDU);
    kader.login(&server.url(), &server.enrol("kader", POSYANDU));
    let added = kader.json(&[
        "child",
        "add",
        "--name",
        "Agus Setiawan",
        "--sex",
        "P",
        "--birth-date",
        "2022-08-20",
        "--mother-name",
        "Wati",
        "--nik",
        BOYS_NIK,
        "--new",
    ]);
    let child = added["id"].as_str().expect("id").to_owned();
    kader.measure(
        &child,
        "2024-08-12",
        "10.2",
        &["--height", "81.0", "--position", "lying"],
    );
    kader.sync();
    server.wait_projected();

    let before = worklist(&server);
    let s = &before["summary"];
    assert_eq!(s["as_recorded"]["stunted"], 0, "{s}");
    assert_eq!(
        s["reconciled"]["stunted"], 0,
        "one registration: the sex as typed"
    );
    assert_eq!(
        (s["may_join"].as_i64(), s["sexes_changed"].as_i64()),
        (Some(1), Some(0)),
        "{s}"
    );
    let e = entry(&before, &child).expect("on the worklist for his sex");
    assert_eq!(flag_codes(e), ["sex_disagrees"], "{e}");
    assert_eq!(e["consequence"], "stunting");
    assert!(e["flags"][0]["resolved"].is_null(), "{e}");

    let v = kader.json(&[
        "verify", &child, "--sex", "L", "--source", "akta", "--round", "2024-08",
    ]);
    assert_eq!(v["check"], "sex");
    // Nothing entered is overwritten: the profile keeps the typed sex.
    let shown = kader.json(&["child", "show", &child]);
    assert_eq!(shown["profile"]["sex"], "P");
    assert_eq!(shown["verifications"][0]["check"], "sex");
    assert_eq!(shown["verifications"][0]["sex"], "L");
    assert_eq!(shown["verifications"][0]["source"], "akta");
    kader.sync();
    server.wait_projected();

    let after = worklist(&server);
    let s = &after["summary"];
    assert_eq!(s["as_recorded"]["stunted"], 0, "as recorded stays: {s}");
    assert_eq!(s["reconciled"]["stunted"], 1, "a boy of 81 cm is stunted");
    assert_eq!(s["sexes_changed"], 1);
    assert_eq!(s["unverified"], 0, "{s}");
    assert!(entry(&after, &child).is_none(), "answered: {after}");
    // The verval report carries the same figures both ways.
    let report = server.json(&["verval", "--round", "2024-08", "--format", "json"]);
    let v = &report["verification"];
    assert_eq!(v["as_recorded"]["stunted"], 0, "{v}");
    assert_eq!(v["reconciled"]["stunted"], 1);
    kader.assert_consistent();
    server.assert_sound();
}

#[test]
fn the_worklist_api_is_for_bidan_and_up_within_their_area() {
    let server = Server::start();
    let kader = Device::at(POSYANDU);
    let kader_token = server.enrol("kader", POSYANDU);
    kader.login(&server.url(), &kader_token);
    let girl = placeholder_girl(&kader);
    // Her NIK (born 20 August 2022) and the family's address, to see both
    // masked in the list and shown only to the district asking.
    let (nik, address) = ("3530016008220004", "Dusun Krajan RT 03");
    kader.json(&["child", "edit", &girl, "--nik", nik, "--address", address]);
    kader.sync();
    server.wait_projected();
    let path = "/v1/verval/worklist?round=2024-08";
    assert_eq!(
        server.get(path, &kader_token).status,
        403,
        "not for a kader"
    );
    let bidan = server.enrol("bidan", "3530012002");
    let got = server.get(path, &bidan);
    assert_eq!(got.status, 200);
    let list = got.json();
    assert_eq!(list["area"], "3530012002", "a bidan sees her desa");
    assert_eq!(list["revealed"], false);
    let e = entry(&list, &girl).expect("listed");
    assert_eq!(e["nik"], "3530********0004", "NIK masked: {e}");
    assert!(e["address"].is_null(), "address withheld: {e}");
    assert!(
        !String::from_utf8_lossy(&got.body).contains("Krajan"),
        "nowhere in the answer"
    );
    // Another desa is outside her area; revealing is for the district.
    assert_eq!(
        server
            .get(&format!("{path}&area=3530012001"), &bidan)
            .status,
        403
    );
    assert_eq!(
        server.get(&format!("{path}&reveal=true"), &bidan).status,
        403
    );
    // A puskesmas with several desa names one of them.
    let puskesmas = server.enrol("puskesmas", "3530012002,3530012003");
    assert_eq!(server.get(path, &puskesmas).status, 400);
    assert_eq!(
        server
            .get(&format!("{path}&area=3530012002"), &puskesmas)
            .status,
        200
    );
    // The district may ask for both, and gets them.
    let district = server.enrol("district", "3530");
    let full = server.get(&format!("{path}&area=3530012002&reveal=true"), &district);
    assert_eq!(full.status, 200);
    let full = full.json();
    assert_eq!(full["revealed"], true);
    let e = entry(&full, &girl).expect("listed");
    assert_eq!(e["nik"], nik);
    assert_eq!(e["address"], address);
    // The server's operator too, with `--reveal`; the CSV keeps the column
    // empty without it.
    let cli = server.json(&[
        "verval", "worklist", "--round", "2024-08", "--format", "json", "--reveal",
    ]);
    assert_eq!(entry(&cli, &girl).expect("listed")["address"], address);
    let dir = tempfile::tempdir().expect("temp dir");
    let csv_path = dir.path().join("worklist.csv");
    server.json(&[
        "verval",
        "worklist",
        "--round",
        "2024-08",
        "--format",
        "csv",
        "-o",
        csv_path.to_str().expect("path"),
    ]);
    let text = std::fs::read_to_string(&csv_path).expect("worklist written");
    assert!(
        text.contains("3530********0004") && !text.contains(nik) && !text.contains("Krajan"),
        "{text}"
    );
    // The reads are audited, each reveal as one (the API's and the CLI's).
    let count = |action: &str| -> i64 {
        server
            .conn()
            .query_row(
                "SELECT count(*) FROM audit WHERE action = ?1",
                [action],
                |r| r.get(0),
            )
            .expect("audit")
    };
    assert!(
        count("verval.worklist") >= 3,
        "{}",
        count("verval.worklist")
    );
    assert_eq!(count("verval.worklist.reveal"), 2);
}
