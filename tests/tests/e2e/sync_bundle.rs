//! Sync by file: `tumbuh bundle export` → `tumbuh-server bundle import` →
//! `tumbuh bundle import` of the reply, with the real binaries. Importing a
//! bundle or a reply twice changes nothing the second time, the changes
//! reach other devices over HTTP, and an altered or cut-short file is
//! refused on both sides without touching anything.

use std::path::Path;

use serde_json::Value;
use tumbuh_tests::{Device, Server};

/// A change as the device keeps it: hash, acknowledged, why it was refused.
type ChangeRow = (Vec<u8>, i64, Option<String>);

/// Everything about a device's store a bundle import could change.
fn device_state(d: &Device) -> (Vec<ChangeRow>, Vec<String>, Value) {
    let conn = d.conn();
    let mut stmt = conn
        .prepare("SELECT hash, synced, rejected FROM changes ORDER BY seq")
        .expect("prepare");
    let changes = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .expect("query")
        .map(|r| r.expect("row"))
        .collect();
    let mut stmt = conn
        .prepare("SELECT id || '|' || mother_name || '|' || conflicts FROM children ORDER BY id")
        .expect("prepare");
    let children = stmt
        .query_map([], |r| r.get(0))
        .expect("query")
        .map(|r| r.expect("row"))
        .collect();
    let server: Value = conn
        .query_row(
            "SELECT json_object('cursor', cursor, 'enrolment', enrolment) FROM server",
            [],
            |r| r.get::<_, String>(0),
        )
        .map(|s| serde_json::from_str(&s).expect("json"))
        .expect("server row");
    (changes, children, server)
}

/// `tumbuh-server bundle import FILE --reply REPLY`.
fn server_import(server: &Server, bundle: &Path, reply: &Path) -> std::process::Output {
    server
        .cmd()
        .arg("--json")
        .args(["bundle", "import"])
        .arg(bundle)
        .arg("--reply")
        .arg(reply)
        .output()
        .expect("run tumbuh-server bundle import")
}

fn server_import_ok(server: &Server, bundle: &Path, reply: &Path) -> Value {
    let out = server_import(server, bundle, reply);
    assert!(
        out.status.success(),
        "bundle import failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON")
}

fn device_import(d: &Device, reply: &Path) -> std::process::Output {
    d.cmd()
        .args(["--lang", "en", "--json", "bundle", "import"])
        .arg(reply)
        .output()
        .expect("run tumbuh bundle import")
}

fn device_import_ok(d: &Device, reply: &Path) -> Value {
    let out = device_import(d, reply);
    assert!(
        out.status.success(),
        "tumbuh bundle import failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON")
}

fn export(d: &Device, file: &Path) -> Value {
    d.json(&["bundle", "export", file.to_str().expect("utf-8 path")])
}

#[test]
fn a_bundle_round_trip_is_idempotent_and_reaches_other_devices() {
    let server = Server::start();
    let field = Device::new();
    let other = Device::new();
    field.login(
        &server.url(),
        &server.enrol("kader", tumbuh_tests::POSYANDU),
    );
    other.login(
        &server.url(),
        &server.enrol("kader", tumbuh_tests::POSYANDU),
    );
    // The other device has a child the field device will get in the reply.
    let theirs = other.add_child("Dimas", "L", "2022-01-15", "Rina");
    other.measure(&theirs, "2024-06-03", "10.1", &[]);
    other.sync();

    let ani = field.add_child("Ani", "P", "2023-05-17", "Sri");
    field.measure(&ani, "2024-06-01", "9.1", &[]);
    field.measure(&ani, "2024-07-01", "9.4", &[]);
    let budi = field.add_child("Budi", "L", "2022-01-03", "Wati");
    field.measure(&budi, "2024-06-01", "12.0", &[]);
    let mine = field.hashes();
    assert_eq!(field.outbox(), mine, "nothing sent yet");

    let dir = field.dir();
    let bundle = dir.join("upload.tmbb");
    let reply = dir.join("reply.tmbb");
    let exported = export(&field, &bundle);
    assert_eq!(exported["changes"], mine.len());
    assert_eq!(exported["children"], 2);

    let before = server.count("changes");
    let imported = server_import_ok(&server, &bundle, &reply);
    assert_eq!(imported["received"], mine.len(), "{imported}");
    assert_eq!(imported["rejected"], 0);
    assert!(reply.exists(), "the reply is written");
    assert_eq!(server.count("changes"), before + mine.len() as i64);
    assert!(server.hashes().is_superset(&mine));

    let applied = device_import_ok(&field, &reply);
    assert_eq!(applied["sent"], mine.len(), "{applied}");
    assert!(applied["received"].as_u64() > Some(0), "{applied}");
    assert!(field.outbox().is_empty(), "every change acknowledged");
    assert_eq!(field.status()["pending_changes"], 0);
    assert!(
        field.child_ids().contains(&theirs),
        "the reply carried the other device's child"
    );
    assert!(field.hashes().is_superset(&other.hashes()));
    field.assert_consistent();

    // The same bundle and the same reply again: nothing changes.
    let server_hashes = server.hashes();
    let state = device_state(&field);
    let reply2 = dir.join("reply-again.tmbb");
    let again = server_import_ok(&server, &bundle, &reply2);
    assert_eq!(again["rejected"], 0, "{again}");
    assert_eq!(
        server.hashes(),
        server_hashes,
        "the server stores nothing twice"
    );
    server.assert_sound();
    device_import_ok(&field, &reply);
    assert_eq!(
        device_state(&field),
        state,
        "the same reply again changes nothing"
    );
    device_import_ok(&field, &reply2);
    assert_eq!(
        device_state(&field),
        state,
        "the reply to the repeated bundle changes nothing"
    );
    field.assert_consistent();

    // The changes reach a third party over HTTP.
    let summary = other.sync();
    assert!(summary["verified"] == true, "{summary}");
    assert_eq!(other.hashes(), field.hashes());
    assert_eq!(other.hashes(), server.hashes());
    let shown = other.json(&["child", "show", &ani]);
    assert_eq!(shown["measurements"].as_array().map(Vec::len), Some(2));
    other.assert_consistent();
    // And the field device is in step with the server by HTTP too.
    let summary = field.sync();
    assert_eq!(summary["sent"], 0, "{summary}");
    assert_eq!(summary["received"], 0, "{summary}");
    assert_eq!(summary["verified"], true, "{summary}");
}

/// Flips one byte in the middle of the framed message (past the header and MAC).
fn flipped(bytes: &[u8]) -> Vec<u8> {
    let mut v = bytes.to_vec();
    let at = 54 + (v.len() - 54) / 2;
    v[at] ^= 0x01;
    v
}

#[test]
fn altered_or_cut_bundles_are_refused_on_both_sides_and_change_nothing() {
    let server = Server::start();
    let field = Device::new();
    field.login(
        &server.url(),
        &server.enrol("kader", tumbuh_tests::POSYANDU),
    );
    let ani = field.add_child("Ani", "P", "2023-05-17", "Sri");
    field.measure(&ani, "2024-06-01", "9.1", &[]);
    let dir = field.dir();
    let bundle = dir.join("upload.tmbb");
    export(&field, &bundle);
    let good = std::fs::read(&bundle).expect("bundle");
    assert!(good.len() > 100, "a bundle with content");

    // The server refuses a tampered or cut upload bundle.
    let reply = dir.join("reply.tmbb");
    let server_before = server.status();
    for (what, bytes) in [
        ("one byte flipped", flipped(&good)),
        ("cut short", good[..good.len() / 2].to_vec()),
        ("cut to a few bytes", good[..10].to_vec()),
    ] {
        let bad = dir.join("bad.tmbb");
        std::fs::write(&bad, &bytes).expect("write");
        let out = server_import(&server, &bad, &reply);
        assert!(!out.status.success(), "{what}: refused");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("refused")
                && (err.contains("integrity check") || err.contains("not a Tumbuh bundle")),
            "{what}: a clear reason: {err}"
        );
        assert!(!reply.exists(), "{what}: no reply written");
        assert_eq!(server.status(), server_before, "{what}: nothing stored");
    }

    // The genuine bundle goes through; now the device's side.
    server_import_ok(&server, &bundle, &reply);
    let good_reply = std::fs::read(&reply).expect("reply");
    let state = device_state(&field);
    assert!(!field.outbox().is_empty());
    for (what, bytes) in [
        ("one byte flipped", flipped(&good_reply)),
        ("cut short", good_reply[..good_reply.len() - 1].to_vec()),
        ("cut to a few bytes", good_reply[..10].to_vec()),
        ("the upload bundle instead of the reply", good.clone()),
    ] {
        let bad = dir.join("bad-reply.tmbb");
        std::fs::write(&bad, &bytes).expect("write");
        let out = device_import(&field, &bad);
        assert_eq!(out.status.code(), Some(2), "{what}: refused");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("bundle refused")
                && (err.contains("integrity check")
                    || err.contains("not a Tumbuh bundle")
                    || err.contains("expected a server reply")),
            "{what}: a clear reason: {err}"
        );
        assert_eq!(device_state(&field), state, "{what}: nothing changed");
    }
    // The genuine reply still applies.
    let applied = device_import_ok(&field, &reply);
    assert!(applied["sent"].as_u64() > Some(0), "{applied}");
    assert!(field.outbox().is_empty());
    field.assert_consistent();
    server.assert_sound();
}
