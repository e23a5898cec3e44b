//! No personal data in logs: a full sync (HTTP and bundle), a district
//! import with its dedup run, and the verval worklist, with debug logging on
//! every side, leave no child's name, mother's name, NIK or token in the
//! logs.

use tumbuh_tests::{Device, POSYANDU, Server};

#[test]
fn debug_logs_of_a_full_sync_hold_no_names_niks_or_tokens() {
    let server = Server::start_logging(Some("debug"));
    let token_a = server.enrol("kader", POSYANDU);
    let token_b = server.enrol("bidan", &POSYANDU[..10]);
    let a = Device::new();
    let b = Device::new();
    a.login(&server.url(), &token_a);
    b.login(&server.url(), &token_b);
    let secrets = [
        "Zulaikha Purnamasari",
        "Wartini Handayani",
        "3530015705230001",
        "3530014107950003",
        token_a.as_str(),
        token_b.as_str(),
    ];
    let child = a.json(&[
        "child",
        "add",
        "--name",
        secrets[0],
        "--sex",
        "P",
        "--birth-date",
        "2023-05-17",
        "--mother-name",
        secrets[1],
        "--nik",
        secrets[2],
        "--mother-nik",
        secrets[3],
    ])["id"]
        .as_str()
        .expect("id")
        .to_string();
    a.measure(
        &child,
        "2024-08-05",
        "9.8",
        &["--height", "79.5", "--position", "lying"],
    );
    let mut client_logs = String::new();
    for device in [&a, &b, &a] {
        let out = device
            .cmd()
            .env("TUMBUH_LOG", "debug")
            .args(["--json", "sync"])
            .output()
            .expect("sync");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        client_logs.push_str(&String::from_utf8_lossy(&out.stderr));
    }
    let bundle = a.dir().join("up.tmb");
    let reply = a.dir().join("back.tmb");
    a.measure(&child, "2024-09-05", "10.1", &[]);
    let out = a
        .cmd()
        .env("TUMBUH_LOG", "debug")
        .arg("bundle")
        .arg("export")
        .arg(&bundle)
        .output()
        .expect("export");
    assert!(out.status.success());
    client_logs.push_str(&String::from_utf8_lossy(&out.stderr));
    let out = server
        .cmd()
        .env("TUMBUH_SERVER_LOG", "debug")
        .args(["bundle", "import"])
        .arg(&bundle)
        .arg("--reply")
        .arg(&reply)
        .output()
        .expect("import");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut import_log = String::from_utf8_lossy(&out.stderr).to_string();
    // A district import of field rows (with its dedup run) and the verval
    // worklist, logging at debug level too.
    let imported = [
        "Kurniawati Sasmita",
        "Sulastri Wibisono",
        "3530016208220007",
    ];
    let file = a.dir().join("rows.csv");
    std::fs::write(
        &file,
        format!(
            "record_id,round,measured_on,posyandu_code,desa_code,kader_id,nik,no_kk,name,sex,birth_date,birth_weight_kg,mother_name,mother_nik,father_name,rt,rw,address,weight_kg,height_cm,measure_position,muac_cm\n\
             r-1,2024-08,2024-08-05,{POSYANDU},{},{POSYANDU}-K1,{},,{},P,2022-08-22,3.1,{},,,1,2,Dusun Krajan,9.6,77.0,standing,\n",
            &POSYANDU[..10],
            imported[2],
            imported[0],
            imported[1]
        ),
    )
    .expect("write rows");
    for args in [
        vec!["import", file.to_str().expect("path")],
        vec![
            "verval", "worklist", "--round", "2024-08", "--format", "json",
        ],
    ] {
        let out = server
            .cmd()
            .env("TUMBUH_SERVER_LOG", "debug")
            .args(&args)
            .output()
            .expect("run");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        import_log.push_str(&String::from_utf8_lossy(&out.stderr));
        if args[0] == "verval" {
            // The worklist ran over both children (the synced and the imported one).
            let list: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
            assert_eq!(list["summary"]["as_recorded"]["measured"], 2, "{list}");
        }
    }
    let secrets: Vec<&str> = secrets.iter().chain(&imported).copied().collect();
    server.wait_projected();
    let server_log = server.log();
    assert!(
        server_log.contains("DEBUG") || client_logs.contains("DEBUG"),
        "debug logging was on (else this test proves nothing)"
    );
    assert_eq!(b.count("children"), 1, "the data did travel");
    for (name, log) in [
        ("server", &server_log),
        ("clients", &client_logs),
        ("bundle import, import and worklist", &import_log),
    ] {
        for secret in &secrets {
            assert!(
                !log.contains(secret),
                "the {name} log holds personal data or a token: {secret}"
            );
        }
        let upper = secrets[0].to_uppercase();
        assert!(
            !log.to_uppercase().contains(&upper),
            "{name} log holds the name in another case"
        );
    }
}
