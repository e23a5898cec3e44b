//! The server's child documents are standard Automerge: `GET /v1/docs/{id}`
//! loads in the JavaScript Automerge library (`@automerge/automerge`, installed
//! by `.ci/run` with `npm ci --prefix tests/js`) and holds what was recorded.

use std::process::Command;

use tumbuh_tests::{Device, Server, wait_for};

#[test]
fn a_child_document_from_the_server_loads_in_javascript_automerge() {
    let js = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("js");
    assert!(
        js.join("node_modules/@automerge/automerge").exists(),
        "the JavaScript Automerge library is missing: run `npm ci --prefix tests/js` (as .ci/run does)"
    );
    let server = Server::start();
    let token = server.enrol("kader", tumbuh_tests::POSYANDU);
    let device = Device::new();
    device.login(&server.url(), &token);
    let id = device.add_child("Siti Aisyah", "P", "2023-05-17", "Sri Wahyuni");
    device.measure(
        &id,
        "2024-08-05",
        "9.8",
        &["--height", "79.5", "--position", "lying"],
    );
    device.measure(&id, "2024-09-05", "10.1", &[]);
    device.sync();
    let doc = wait_for(
        "the document on the server",
        std::time::Duration::from_secs(30),
        || {
            let r = server.get(&format!("/v1/docs/{id}"), &token);
            (r.status == 200).then_some(r.body)
        },
    );
    let file = device.dir().join("child.automerge");
    std::fs::write(&file, &doc).expect("write document");
    let out = Command::new("node")
        .arg(js.join("load.mjs"))
        .arg(&file)
        .output()
        .expect("run node (installed by .ci/run)");
    assert!(
        out.status.success(),
        "JavaScript Automerge refused the document: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let loaded: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON from node");
    assert_eq!(loaded["id"], id.as_str());
    assert_eq!(loaded["profile"]["name"], "Siti Aisyah");
    assert_eq!(loaded["profile"]["birth_date"], "2023-05-17");
    let measurements = loaded["measurements"]
        .as_object()
        .expect("measurements map");
    assert_eq!(measurements.len(), 2);
    let mut weights: Vec<i64> = measurements
        .values()
        .filter_map(|m| m["weight_g"].as_i64())
        .collect();
    weights.sort();
    assert_eq!(weights, vec![9800, 10100]);
    assert!(
        measurements.values().any(|m| m["length_mm"] == 795),
        "{loaded}"
    );
}
