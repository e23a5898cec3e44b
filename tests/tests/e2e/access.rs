//! Access control: revoked and expired tokens, rotation, the audit log, and
//! the client's refusal of plain HTTP to another machine.

use tumbuh_tests::{Device, POSYANDU, Server};

/// Enrols a kader of `POSYANDU`; returns (enrolment id, token).
fn enrol(server: &Server) -> (String, String) {
    let v = server.json(&["device", "add", "--role", "kader", "--area", POSYANDU]);
    (
        v["device"]["id"].as_str().expect("id").to_string(),
        v["token"].as_str().expect("token").to_string(),
    )
}

#[test]
fn a_revoked_device_is_refused_with_a_clear_message_and_its_data_is_kept() {
    let server = Server::start();
    let (id, token) = enrol(&server);
    let device = Device::new();
    device.login(&server.url(), &token);
    let child = device.add_child("Siti Aisyah", "P", "2023-05-17", "Sri Wahyuni");
    device.sync();
    let before = server.count("changes");
    assert!(before > 0);

    let revoked = server.json(&["device", "revoke", &id]);
    assert!(revoked["revoked_at_ms"].is_i64(), "{revoked}");
    device.measure(&child, "2024-08-05", "9.8", &[]);
    let out = device.sync_output(5, &[]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("revoked"), "{err}");
    assert!(err.contains("kept"), "{err}");
    assert_eq!(
        server.count("changes"),
        before,
        "nothing taken from a revoked device"
    );
    assert_eq!(
        device.outbox().len(),
        1,
        "the device keeps what it could not send"
    );
    let r = server.get(&format!("/v1/children/{child}"), &token);
    assert_eq!(r.status, 401);
    // What the device synced before is kept and readable by others.
    let district = server.enrol("district", &POSYANDU[..4]);
    assert_eq!(
        server
            .get(&format!("/v1/children/{child}"), &district)
            .status,
        200
    );
    let list = server.json(&["device", "list"]);
    let row = list
        .as_array()
        .expect("devices")
        .iter()
        .find(|d| d["id"] == id.as_str())
        .expect("revoked device still listed");
    assert!(row["revoked_at_ms"].is_i64());
}

#[test]
fn rotation_replaces_the_token_and_expiry_ends_it() {
    let server = Server::start();
    let (id, old) = enrol(&server);
    assert_eq!(server.get("/v1/conflicts", &old).status, 200);
    let rotated = server.json(&["device", "rotate", &id]);
    let new = rotated["token"].as_str().expect("token").to_string();
    assert_ne!(new, old);
    assert_eq!(server.get("/v1/conflicts", &old).status, 401);
    assert_eq!(server.get("/v1/conflicts", &new).status, 200);

    // Expire it (as if its days had passed).
    server
        .conn()
        .execute("UPDATE devices SET expires_at = 1 WHERE id = ?1", [&id])
        .expect("expire");
    let r = server.get("/v1/conflicts", &new);
    assert_eq!(r.status, 401);
    assert!(
        r.json()["error"]
            .as_str()
            .expect("error")
            .contains("expired")
    );
}

#[test]
fn enrolments_revocations_and_by_name_reads_are_audited_append_only() {
    let server = Server::start();
    let (id, token) = enrol(&server);
    let r = server.get(&format!("/v1/children?area={POSYANDU}"), &token);
    assert_eq!(r.status, 200);
    server.json(&["device", "revoke", &id]);

    let device_actions = server.json(&["audit", "--action", "device"]);
    let actions: Vec<&str> = device_actions
        .as_array()
        .expect("entries")
        .iter()
        .filter(|e| e["target"] == id.as_str())
        .map(|e| e["action"].as_str().expect("action"))
        .collect();
    assert_eq!(actions, ["device.add", "device.revoke"]);
    let reads = server.json(&["audit", "--who", &id]);
    let reads = reads.as_array().expect("entries");
    assert_eq!(reads.len(), 1, "{reads:?}");
    assert_eq!(reads[0]["action"], "children.list");
    assert_eq!(reads[0]["target"], POSYANDU);

    let conn = server.conn();
    assert!(
        conn.execute("UPDATE audit SET who = 'someone else'", [])
            .is_err()
    );
    assert!(conn.execute("DELETE FROM audit", []).is_err());
}

#[test]
fn plain_http_to_another_machine_is_refused_without_insecure() {
    let device = Device::new();
    let out = device
        .cmd()
        .args([
            "--lang",
            "en",
            "login",
            "--server",
            "http://10.20.30.40:8080",
            "--token",
            "tmb_x",
        ])
        .output()
        .expect("run tumbuh");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("https://") && err.contains("--insecure"),
        "{err}"
    );
    assert!(
        device
            .conn()
            .query_row("SELECT count(*) FROM server", [], |r| r.get::<_, i64>(0))
            .expect("count")
            == 0
    );
}

#[test]
fn nik_and_address_are_masked_unless_a_district_role_asks_and_that_is_audited() {
    let server = Server::start();
    let (_, kader) = enrol(&server);
    let device = Device::new();
    device.login(&server.url(), &kader);
    let nik = "3530015705230001";
    let child = device.json(&[
        "child",
        "add",
        "--name",
        "Siti Aisyah",
        "--sex",
        "P",
        "--birth-date",
        "2023-05-17",
        "--mother-name",
        "Sri Wahyuni",
        "--nik",
        nik,
        "--address",
        "Dusun Krajan RT 03",
    ])["id"]
        .as_str()
        .expect("id")
        .to_string();
    device.sync();
    server.wait_projected();
    let masked = server.get(&format!("/v1/children/{child}"), &kader).json();
    assert_eq!(masked["nik"], "3530********0001");
    assert_eq!(masked["address"], "(masked)");
    assert_eq!(
        server
            .get(&format!("/v1/children/{child}?reveal=true"), &kader)
            .status,
        403,
        "a kader may not unmask"
    );
    let district = server.json(&["device", "add", "--role", "district", "--area", "3530"]);
    let (district_id, district_token) = (
        district["device"]["id"].as_str().expect("id"),
        district["token"].as_str().expect("token"),
    );
    let full = server
        .get(&format!("/v1/children/{child}?reveal=true"), district_token)
        .json();
    assert_eq!(full["nik"], nik);
    assert_eq!(full["address"], "Dusun Krajan RT 03");
    let audit = server.json(&["audit", "--who", district_id, "--action", "child.reveal"]);
    assert_eq!(audit.as_array().map(Vec::len), Some(1), "{audit}");
    assert_eq!(audit[0]["target"], child.as_str());
}

#[test]
fn a_snapshot_is_audited_with_the_device_and_a_count_never_names() {
    use std::time::Duration;

    use field_client::sync::http::HttpTransport;
    use field_client::sync::{Endpoint, Transport};
    use sync_protocol::wire::{self, SnapshotRequest, SnapshotResponse};

    let server = Server::start();
    let (first_id, first) = enrol(&server);
    let device = Device::new();
    device.login(&server.url(), &first);
    device.add_child("Siti Aisyah", "P", "2023-05-17", "Sri Wahyuni");
    device.add_child("Budi Santoso", "L", "2023-02-01", "Ani Lestari");
    device.sync();
    server.wait_projected();
    let snapshots = |who: &str| -> Vec<serde_json::Value> {
        let v = server.json(&["audit", "--who", who, "--action", "snapshot.read"]);
        v.as_array().expect("entries").clone()
    };
    assert!(
        snapshots(&first_id).is_empty(),
        "an empty area's snapshot read nothing"
    );

    // A second device's first sync downloads both children at once.
    let (second_id, second) = enrol(&server);
    let other = Device::new();
    other.login(&server.url(), &second);
    assert_eq!(other.sync()["snapshot_children"], 2);
    let entries = snapshots(&second_id);
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert_eq!(entries[0]["target"], POSYANDU, "the area read");
    assert_eq!(entries[0]["detail"], "children=2 of=2 first_page");

    // A snapshot started past the first child is a read too.
    let mut http =
        HttpTransport::new(&server.url(), &second, Duration::from_secs(10)).expect("http");
    // Children come in id order; `child_ids` is sorted the same way.
    let first_child = device.child_ids().into_iter().next().expect("a child");
    let request = SnapshotRequest {
        upto: 0,
        after: Some(first_child.parse().expect("child id")),
        max_page_bytes: 0,
    };
    let answer = http
        .exchange(Endpoint::Snapshot, &wire::encode(&request).expect("encode"))
        .expect("answer");
    let page: SnapshotResponse = wire::decode(&answer, wire::MAX_MESSAGE_BYTES).expect("decode");
    assert_eq!(page.children.len(), 1);
    let entries = snapshots(&second_id);
    assert_eq!(entries.len(), 2, "{entries:?}");
    assert_eq!(entries[1]["detail"], "children=1 of=2 continued");

    // Ids and counts only: no name of a child or mother anywhere in the log.
    let log = server.json(&["audit"]).to_string();
    for name in [
        "Siti",
        "Aisyah",
        "Budi",
        "Santoso",
        "Sri Wahyuni",
        "Ani Lestari",
    ] {
        assert!(!log.contains(name), "{name} in the audit log: {log}");
    }
}

#[test]
fn edits_voids_and_checks_arriving_from_a_device_are_audited_with_who() {
    let server = Server::start();
    let (id, token) = enrol(&server);
    let device = Device::new();
    device.login(&server.url(), &token);
    let child = device.add_child("Anak Asli", "L", "2023-01-01", "Ibu");
    let m = device.measure(&child, "2024-08-05", "9.5", &[]);
    device.sync();
    let quiet = server.json(&["audit", "--who", &id]);
    assert!(
        quiet.as_array().is_some_and(Vec::is_empty),
        "registering and measuring are in `changes`, not the audit log: {quiet}"
    );
    device.json(&["child", "edit", &child, "--name", "Anak Benar"]);
    let mid = m["id"].as_str().expect("measurement id");
    device.json(&["measure", "void", mid, "--reason", "salah timbang"]);
    device.json(&["verify", &child, "--confirmed", "--round", "2024-08"]);
    device.sync();
    let entries = server.json(&["audit", "--who", &id]);
    let actions: Vec<&str> = entries
        .as_array()
        .expect("entries")
        .iter()
        .filter(|e| e["target"] == child.as_str())
        .map(|e| e["action"].as_str().expect("action"))
        .collect();
    assert_eq!(actions, ["child.edit", "measurement.void", "child.verify"]);
}
