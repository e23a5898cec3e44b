//! `tumbuh-server verval` and `export` on a small data set whose figures
//! are worked out by hand below, through the real import and binary.
//!
//! Six children born 2022-08-01, measured in February (18 months, lying)
//! and August 2024 (24 months, standing). WHO medians: boys 82.3 cm at 18
//! months and 87.1 cm (length; 86.4 height) at 24; girls 80.7 and 85.7
//! (85.0 height); SD about 3 cm. So 74 cm at 18 months and 77–78 cm at 24
//! months are well below −2 SD, 81 and 87 cm are near the median, and 50 cm
//! at 24 months is beyond the WHO plausibility limit (flagged).
//!
//! | child | desa        | Feb        | Aug                         |
//! |-------|-------------|------------|-----------------------------|
//! | A (L) | 3530012002  | 74 stunted | 78 stunted  → still stunted |
//! | B (P) | 3530012002  | 81 normal  | 77 stunted  → new           |
//! | D (L) | 3530012002  | 74 stunted | 87 normal   → recovered     |
//! | E (P) | 3530012002  | 73 stunted | —           → not re-measured |
//! | F (L) | 3530012001  | —          | 87 normal, typed 2 Sept for the August round |
//! | G (P) | 3530012001  | —          | 50 → flagged, left out       |
//!
//! August by desa: 3530012002 register 4, measured 3, stunted 2 of 3
//! (Wilson 95%: 0.2077–0.9385); 3530012001 register 2, measured 2, flagged
//! 1, stunted 0 of 1.

use serde_json::Value;
use tumbuh_tests::Server;

const HEADER: &str = "record_id,round,measured_on,posyandu_code,desa_code,kader_id,nik,no_kk,name,sex,birth_date,birth_weight_kg,mother_name,mother_nik,father_name,rt,rw,address,weight_kg,height_cm,measure_position,muac_cm";

/// The rows as a kader's device would export them (see the table above).
const ROWS: &str = "\
a-feb,2024-02,2024-02-05,353001200205,3530012002,353001200205-K1,3530010108220001,,Adi Saputra,L,2022-08-01,3.1,Sri Wahyuni,,,1,2,Dusun Krajan,8.9,74.0,lying,
a-aug,2024-08,2024-08-05,353001200205,3530012002,353001200205-K1,3530010108220001,,Adi Saputra,L,2022-08-01,3.1,Sri Wahyuni,,,1,2,Dusun Krajan,10.0,78.0,standing,
b-feb,2024-02,2024-02-05,353001200205,3530012002,353001200205-K1,,,Bunga Lestari,P,2022-08-01,3.1,Dwi Astuti,,,1,2,Dusun Krajan,10.2,81.0,lying,
b-aug,2024-08,2024-08-05,353001200205,3530012002,353001200205-K1,,,Bunga Lestari,P,2022-08-01,3.1,Dwi Astuti,,,1,2,Dusun Krajan,9.6,77.0,standing,
d-feb,2024-02,2024-02-05,353001200205,3530012002,353001200205-K1,,,Dimas Pratama,L,2022-08-01,3.1,Yuliani,,,1,2,Dusun Krajan,8.8,74.0,lying,
d-aug,2024-08,2024-08-05,353001200205,3530012002,353001200205-K1,,,Dimas Pratama,L,2022-08-01,3.1,Yuliani,,,1,2,Dusun Krajan,12.0,87.0,standing,
e-feb,2024-02,2024-02-05,353001200205,3530012002,353001200205-K1,,,Endah Sari,P,2022-08-01,3.1,Sumarni,,,1,2,Dusun Krajan,8.5,73.0,lying,
f-aug,2024-08,2024-09-02,353001200101,3530012001,353001200101-K1,,,Fajar Hidayat,L,2022-08-01,3.1,Ratna Sari,,,1,2,Dusun Krajan,12.1,87.0,standing,
g-aug,2024-08,2024-08-06,353001200101,3530012001,353001200101-K1,,,Gita Permata,P,2022-08-01,3.1,Fitri Handayani,,,1,2,Dusun Krajan,11.0,50.0,standing,
";

fn data() -> String {
    format!("{HEADER}\n{ROWS}")
}

fn desa<'a>(report: &'a Value, code: &str) -> &'a Value {
    report["levels"]
        .as_array()
        .expect("levels")
        .iter()
        .find(|l| l["level"] == "desa")
        .and_then(|l| l["rows"].as_array())
        .and_then(|rows| rows.iter().find(|r| r["code"] == code))
        .unwrap_or_else(|| panic!("desa {code} in {report}"))
}

#[test]
fn verval_figures_match_the_hand_count() {
    let server = Server::start();
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("rounds.csv");
    std::fs::write(&file, data()).expect("write data");
    let imported = server.json(&["import", file.to_str().expect("path"), "--no-dedup"]);
    assert_eq!(imported["stored"]["measurements_stored"], 9, "{imported}");
    assert_eq!(imported["stored"]["children_created"], 6);

    let report = server.json(&[
        "verval",
        "--round",
        "2024-08",
        "--previous",
        "2024-02",
        "--format",
        "json",
    ]);
    let d2 = desa(&report, "3530012002");
    assert_eq!(d2["register"], 4);
    assert_eq!(d2["measured"], 3);
    assert_eq!(d2["stunted"], 2);
    assert_eq!(d2["flagged"], 0);
    let rate = &d2["stunting_prevalence"];
    assert_eq!(
        (rate["cases"].as_u64(), rate["denominator"].as_u64()),
        (Some(2), Some(3))
    );
    let low = rate["low"].as_f64().expect("low");
    let high = rate["high"].as_f64().expect("high");
    assert!(
        (low - 0.2077).abs() < 1e-3 && (high - 0.9385).abs() < 1e-3,
        "{rate}"
    );
    let t = &d2["transitions"];
    assert_eq!(
        [
            &t["new"],
            &t["still_stunted"],
            &t["recovered"],
            &t["not_remeasured"]
        ],
        [1, 1, 1, 1],
        "{t}"
    );
    let d1 = desa(&report, "3530012001");
    assert_eq!(d1["register"], 2);
    assert_eq!(
        d1["measured"], 2,
        "the September-typed August row counts in August"
    );
    assert_eq!(d1["flagged"], 1);
    assert_eq!(d1["stunted"], 0);
    assert_eq!(d1["stunting_prevalence"]["denominator"], 1);

    // The by-name list: A and B, NIK masked.
    let list = report["stunted_list"].as_array().expect("list");
    let names: Vec<&str> = list.iter().filter_map(|c| c["name"].as_str()).collect();
    assert_eq!(names, ["Adi Saputra", "Bunga Lestari"]);
    assert_eq!(list[0]["nik"], "3530********0001");
    // The free-text address is withheld unless revealed; RT/RW are area.
    assert_eq!(report["revealed"], false);
    assert!(list.iter().all(|c| c["address"].is_null()), "{list:?}");
    assert_eq!(list[0]["rt"], "1");
    let revealed = server.json(&[
        "verval", "--round", "2024-08", "--format", "json", "--reveal",
    ]);
    assert_eq!(revealed["revealed"], true);
    assert_eq!(revealed["stunted_list"][0]["nik"], "3530010108220001");
    assert_eq!(revealed["stunted_list"][0]["address"], "Dusun Krajan");
    // The older flag name still works.
    let old_flag = server.json(&[
        "verval",
        "--round",
        "2024-08",
        "--format",
        "json",
        "--reveal-nik",
    ]);
    assert_eq!(old_flag["stunted_list"][0]["address"], "Dusun Krajan");

    // E was stunted in February and not seen in August: named, to be found.
    let missing: Vec<&str> = report["not_remeasured_list"]
        .as_array()
        .expect("not re-measured list")
        .iter()
        .filter_map(|c| c["name"].as_str())
        .collect();
    assert_eq!(missing, ["Endah Sari"]);
    let table = server
        .cmd()
        .args(["verval", "--round", "2024-08", "--previous", "2024-02"])
        .output()
        .expect("run");
    let table = String::from_utf8_lossy(&table.stdout);
    assert!(
        table.contains("Stunted in 2024-02, not measured in 2024-08 (1)")
            && table.contains("Endah Sari"),
        "{table}"
    );

    // CSV and xlsx land as files; the list CSV too.
    let csv = dir.path().join("verval.csv");
    let list_csv = dir.path().join("stunted.csv");
    let xlsx = dir.path().join("verval.xlsx");
    server.json(&[
        "verval",
        "--round",
        "2024-08",
        "--format",
        "csv",
        "-o",
        csv.to_str().expect("path"),
        "--list",
        list_csv.to_str().expect("path"),
    ]);
    let table = std::fs::read_to_string(&csv).expect("csv written");
    assert!(table.lines().any(|l| l.contains("3530012002")), "{table}");
    let listed = std::fs::read_to_string(&list_csv).expect("list written");
    assert_eq!(
        listed.lines().count(),
        3,
        "header and two children: {listed}"
    );
    assert!(
        !listed.contains("Dusun Krajan") && !listed.contains("3530010108220001"),
        "the list that travels carries no address or whole NIK: {listed}"
    );
    server.json(&[
        "verval",
        "--round",
        "2024-08",
        "--format",
        "xlsx",
        "-o",
        xlsx.to_str().expect("path"),
    ]);
    assert!(
        std::fs::read(&xlsx)
            .expect("xlsx written")
            .starts_with(b"PK")
    );

    // e-PPGBM export of the round: one row per child measured in August.
    let export = dir.path().join("ppgbm.csv");
    server.json(&[
        "export",
        "--round",
        "2024-08",
        "-o",
        export.to_str().expect("path"),
    ]);
    let mut reader = csv::Reader::from_path(&export).expect("export readable");
    let headers = reader.headers().expect("headers").clone();
    assert!(headers.iter().any(|h| h == "Pukesmas"), "{headers:?}");
    assert!(headers.iter().any(|h| h == "Tanggal Pengukuran"));
    let bb_lahir = headers
        .iter()
        .position(|h| h == "BB Lahir")
        .expect("a BB Lahir column");
    let records: Vec<csv::StringRecord> = reader.records().collect::<Result<_, _>>().expect("rows");
    assert_eq!(records.len(), 5, "A, B, D, F, G");
    assert!(
        records.iter().all(|r| r.get(bb_lahir) == Some("3.1")),
        "birth weight carried from the import to the export"
    );
    // Exports travel: NIKs masked and street addresses left out unless
    // revealed, which the audit log records.
    let column = |name: &str| headers.iter().position(|h| h == name).expect(name);
    let (nik, alamat) = (column("NIK"), column("Alamat"));
    let adi = records
        .iter()
        .find(|r| r.get(column("Nama")) == Some("Adi Saputra"))
        .expect("Adi exported");
    assert_eq!(adi.get(nik), Some("3530********0001"));
    assert_eq!(adi.get(alamat), Some(""));
    let full = dir.path().join("eppgbm-full.csv");
    server.json(&[
        "export",
        "--round",
        "2024-08",
        "--reveal",
        "-o",
        full.to_str().expect("path"),
    ]);
    let mut reader = csv::Reader::from_path(&full).expect("export readable");
    let revealed: Vec<csv::StringRecord> =
        reader.records().collect::<Result<_, _>>().expect("rows");
    let adi = revealed
        .iter()
        .find(|r| r.get(column("Nama")) == Some("Adi Saputra"))
        .expect("Adi exported");
    assert_eq!(adi.get(nik), Some("3530010108220001"));
    assert_eq!(adi.get(alamat), Some("Dusun Krajan"));
    let audited: i64 = server
        .conn()
        .query_row(
            "SELECT count(*) FROM audit WHERE action = 'export' AND detail LIKE '%reveal=true%'",
            [],
            |r| r.get(0),
        )
        .expect("audit");
    assert_eq!(audited, 1);

    // The same report from the API, for the district only.
    let district = server.enrol("district", "3530");
    let kader = server.enrol("kader", "353001200205");
    let api = server.get("/v1/verval?round=2024-08&previous=2024-02", &district);
    assert_eq!(api.status, 200);
    let api = api.json();
    assert_eq!(desa(&api, "3530012002")["stunted"], 2);
    assert_eq!(api["stunted_list"][0]["nik"], "3530********0001");
    assert!(api["stunted_list"][0]["address"].is_null(), "{api}");
    let revealed = server
        .get("/v1/verval?round=2024-08&reveal=true", &district)
        .json();
    assert_eq!(revealed["stunted_list"][0]["nik"], "3530010108220001");
    assert_eq!(revealed["stunted_list"][0]["address"], "Dusun Krajan");
    // Each reveal is audited as one, the CLI's (two above) and the API's.
    let reveals = server.json(&["audit", "--action", "verval.report.reveal"]);
    let reveals = reveals.as_array().expect("audit entries");
    assert_eq!(reveals.len(), 3, "{reveals:?}");
    assert!(
        reveals.iter().all(|e| e["detail"]
            .as_str()
            .is_some_and(|d| d.contains("reveal=nik,address"))),
        "{reveals:?}"
    );
    assert_eq!(server.get("/v1/verval?round=2024-08", &kader).status, 403);
    assert_eq!(
        server
            .get("/v1/verval?round=2024-08&area=3571", &district)
            .status,
        403
    );
    assert_eq!(
        server.get("/v1/verval?round=2024-13", &district).status,
        400
    );

    // A bad round says what is wrong.
    let out = server
        .cmd()
        .args(["verval", "--round", "2024-13"])
        .output()
        .expect("run");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("2024-13"));
}
