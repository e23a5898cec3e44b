//! Parental consent (UU 27/2022): recorded per child on the device (who,
//! when), withdrawn by clearing it, carried by sync, and shown in the
//! district's exports.

use tumbuh_tests::{Device, POSYANDU, Server};

#[test]
fn consent_recorded_on_a_device_reaches_the_export_and_can_be_withdrawn() {
    let server = Server::start();
    let kader = Device::at(POSYANDU);
    kader.login(&server.url(), &server.enrol("kader", POSYANDU));
    let with = kader.json(&[
        "child",
        "add",
        "--name",
        "Siti Aminah",
        "--sex",
        "P",
        "--birth-date",
        "2023-02-10",
        "--mother-name",
        "Sri",
        "--consent-by",
        "Sri (ibu)",
        "--consent-on",
        "2024-03-04",
        "--new",
    ])["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let without = kader.add_child("Budi", "L", "2023-05-01", "Ani");
    let shown = kader.json(&["child", "show", &with]);
    assert_eq!(shown["profile"]["consent_by"], "Sri (ibu)");
    assert_eq!(shown["profile"]["consent_on"], "2024-03-04");
    assert!(kader.json(&["child", "show", &without])["profile"]["consent_by"].is_null());
    // The text view says when none is recorded.
    let text = kader
        .cmd()
        .args(["child", "show", &without])
        .output()
        .expect("show");
    assert!(String::from_utf8_lossy(&text.stdout).contains("Persetujuan orang tua belum dicatat"));
    // A date in the future is refused.
    let refused = kader
        .cmd()
        .args([
            "child",
            "edit",
            &without,
            "--consent-by",
            "Ani",
            "--consent-on",
            "2999-01-01",
        ])
        .output()
        .expect("edit");
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--consent-on"));
    for id in [&with, &without] {
        kader.measure(
            id,
            "2024-08-05",
            "9.5",
            &["--height", "80.0", "--position", "lying"],
        );
    }
    kader.sync();
    server.wait_projected();

    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("export.csv");
    let export = |path: &std::path::Path| {
        server.json(&[
            "export",
            "--round",
            "2024-08",
            "-o",
            path.to_str().expect("path"),
        ]);
        let mut reader = csv::Reader::from_path(path).expect("export");
        let headers = reader.headers().expect("headers").clone();
        let col = |n: &str| headers.iter().position(|h| h == n).expect(n);
        let (name, by, on) = (col("Nama"), col("Persetujuan Ortu"), col("Tgl Persetujuan"));
        reader
            .records()
            .map(|r| {
                let r = r.expect("row");
                (r[name].to_owned(), (r[by].to_owned(), r[on].to_owned()))
            })
            .collect::<std::collections::BTreeMap<_, _>>()
    };
    let rows = export(&file);
    assert_eq!(
        rows["Siti Aminah"],
        ("Sri (ibu)".to_owned(), "2024-03-04".to_owned())
    );
    assert_eq!(rows["Budi"], (String::new(), String::new()));

    // Withdrawn on the device: gone from the next export.
    kader.json(&["child", "edit", &with, "--consent-by", ""]);
    kader.sync();
    server.wait_projected();
    let rows = export(&dir.path().join("export2.csv"));
    assert_eq!(rows["Siti Aminah"], (String::new(), String::new()));
}
