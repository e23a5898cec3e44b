//! Area scope: a device sees and writes only the children of its area, by
//! sync and by the read API; wider roles (bidan, district) see what lies
//! in their area. And concurrent edits of one field surface as a conflict
//! on every device and on the server, with both values.

use std::collections::BTreeSet;

use serde_json::Value;
use tumbuh_tests::{Device, Server};

/// Posyandu A (desa Plosomanik 3530012002) and B (desa Mulyorejo 3530012001).
const POSYANDU_A: &str = "353001200205";
const DESA_A: &str = "3530012002";
const POSYANDU_B: &str = "353001200101";
const DISTRICT: &str = "3530";

fn listed(server: &Server, query: &str, token: &str) -> BTreeSet<String> {
    let r = server.get(&format!("/v1/children{query}"), token);
    assert_eq!(
        r.status,
        200,
        "{query}: {}",
        String::from_utf8_lossy(&r.body)
    );
    r.json()["children"]
        .as_array()
        .expect("children")
        .iter()
        .map(|c| c["id"].as_str().expect("id").to_string())
        .collect()
}

fn set(ids: &[&str]) -> BTreeSet<String> {
    ids.iter().map(|s| s.to_string()).collect()
}

#[test]
fn each_device_sees_and_writes_only_its_area() {
    let server = Server::start();
    let token_a = server.enrol("kader", POSYANDU_A);
    let token_b = server.enrol("kader", POSYANDU_B);
    let token_bidan = server.enrol("bidan", DESA_A);
    let token_district = server.enrol("district", DISTRICT);

    let kader_a = Device::at(POSYANDU_A);
    kader_a.login(&server.url(), &token_a);
    let child_a = kader_a.add_child("Ani", "P", "2023-05-17", "Sri");
    kader_a.measure(&child_a, "2024-06-01", "9.1", &[]);
    assert_eq!(kader_a.sync()["sent"], kader_a.hashes().len());

    let kader_b = Device::at(POSYANDU_B);
    kader_b.login(&server.url(), &token_b);
    let child_b = kader_b.add_child("Budi", "L", "2022-01-03", "Wati");
    let summary = kader_b.sync();
    assert_eq!(
        summary["snapshot_children"], 0,
        "B's snapshot holds no A child"
    );
    assert_eq!(summary["verified"], true, "{summary}");
    assert_eq!(kader_b.sync()["received"], 0);
    assert_eq!(
        kader_b.child_ids(),
        set(&[&child_b]),
        "B never gets A's child"
    );
    assert!(kader_b.hashes().is_disjoint(&kader_a.hashes()));
    assert_eq!(kader_a.sync()["received"], 0, "nor A B's");
    assert_eq!(kader_a.child_ids(), set(&[&child_a]));

    // The read API, once the projection has both children.
    server.wait_projected();
    let both = set(&[&child_a, &child_b]);
    assert_eq!(listed(&server, "?area=3530", &token_district), both);
    assert_eq!(listed(&server, "", &token_district), both);
    let a_path = format!("/v1/children/{child_a}");
    let shown = server.get(&a_path, &token_district);
    assert_eq!(shown.status, 200, "the district reads A's child");
    assert_eq!(shown.json()["name"], "Ani");
    assert_eq!(shown.json()["posyandu"], POSYANDU_A);
    assert_eq!(server.get(&a_path, &token_a).status, 200);
    // B's token: A's child is "not found", area A is forbidden.
    let refused = server.get(&a_path, &token_b);
    assert_eq!(
        refused.status,
        404,
        "{}",
        String::from_utf8_lossy(&refused.body)
    );
    assert_eq!(
        server.get(&format!("/v1/docs/{child_a}"), &token_b).status,
        404
    );
    assert_eq!(
        server.get(&format!("/v1/docs/{child_a}"), &token_a).status,
        200
    );
    let forbidden = server.get(&format!("/v1/children?area={POSYANDU_A}"), &token_b);
    assert_eq!(forbidden.status, 403);
    assert!(
        forbidden.json()["error"]
            .as_str()
            .is_some_and(|e| e.contains("outside"))
    );
    assert_eq!(
        server
            .get(&format!("/v1/children?area={DESA_A}"), &token_b)
            .status,
        403
    );
    assert_eq!(listed(&server, "", &token_b), set(&[&child_b]));
    assert_eq!(
        server
            .get(&format!("/v1/children/{child_b}"), &token_b)
            .status,
        200
    );
    assert_eq!(server.get("/v1/children", "tmb_not_a_token").status, 401);

    // The bidan of A's desa sees A's child, by sync and by the API, not B's.
    let bidan = Device::at(POSYANDU_A);
    bidan.login(&server.url(), &token_bidan);
    let summary = bidan.sync();
    assert_eq!(summary["snapshot_children"], 1, "{summary}");
    assert_eq!(bidan.child_ids(), set(&[&child_a]));
    assert_eq!(bidan.hashes(), kader_a.hashes());
    bidan.assert_consistent();
    assert_eq!(listed(&server, "", &token_bidan), set(&[&child_a]));
    assert_eq!(server.get(&a_path, &token_bidan).status, 200);
    assert_eq!(
        server
            .get(&format!("/v1/children/{child_b}"), &token_bidan)
            .status,
        404
    );

    // A district device syncs both.
    let district = Device::at(POSYANDU_A);
    district.login(&server.url(), &token_district);
    assert_eq!(district.sync()["snapshot_children"], 2);
    assert_eq!(district.child_ids(), both);
    assert_eq!(district.hashes(), server.hashes());
}

#[test]
fn changes_outside_the_tokens_area_are_rejected_and_never_stored() {
    let server = Server::start();
    let token_a = server.enrol("kader", POSYANDU_A);
    let token_b = server.enrol("kader", POSYANDU_B);
    let kader_a = Device::at(POSYANDU_A);
    kader_a.login(&server.url(), &token_a);
    let child_a = kader_a.add_child("Ani", "P", "2023-05-17", "Sri");
    kader_a.sync();
    let server_before = server.hashes();

    // A device set up for posyandu A but signed in with B's token: the
    // client warns, and the server refuses the child it registers.
    let rogue = Device::at(POSYANDU_A);
    let out = rogue
        .cmd()
        .args([
            "--lang",
            "en",
            "login",
            "--server",
            &server.url(),
            "--token",
            &token_b,
        ])
        .output()
        .expect("run");
    assert!(out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("outside the token's area"),
        "login warns: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stray = rogue.add_child("Citra", "P", "2023-08-08", "Yanti");
    rogue.measure(&stray, "2024-06-01", "8.0", &[]);
    let summary = rogue.sync();
    assert_eq!(summary["sent"], 0, "{summary}");
    let reasons = summary["rejected"].as_array().expect("rejected");
    assert!(
        reasons.iter().any(|r| r
            .as_str()
            .is_some_and(|r| r.contains("outside this device's area"))),
        "{summary}"
    );
    let status = rogue.status();
    assert_eq!(
        status["pending_changes"], 0,
        "rejected changes leave the outbox"
    );
    assert_eq!(status["rejected_changes"], rogue.hashes().len(), "{status}");
    assert_eq!(server.hashes(), server_before, "the server stored nothing");
    let indexed: i64 = server
        .conn()
        .query_row(
            "SELECT count(*) FROM child_index WHERE child_id = ?1",
            [&stray],
            |r| r.get(0),
        )
        .expect("query");
    assert_eq!(indexed, 0, "the server has no such child");
    // A sync later does not send them again.
    assert_eq!(rogue.sync()["rejected"].as_array().map(Vec::len), Some(0));

    // A copy of A's store, with a new measurement of A's child, signed in
    // with B's token: the change to A's child is refused too.
    let copy = Device::uninitialised();
    kader_a
        .conn()
        .execute("VACUUM INTO ?1", [copy.db().to_str().expect("utf-8")])
        .expect("copy the store");
    // The copy is encrypted under the same key: it needs the same sidecar.
    std::fs::copy(
        field_client::pin::key_file_path(kader_a.db()),
        field_client::pin::key_file_path(copy.db()),
    )
    .expect("copy the key file");
    copy.measure(&child_a, "2024-07-01", "9.5", &[]);
    let new_change: BTreeSet<Vec<u8>> = copy
        .hashes()
        .difference(&kader_a.hashes())
        .cloned()
        .collect();
    assert_eq!(new_change.len(), 1);
    copy.login(&server.url(), &token_b);
    let summary = copy.sync();
    assert_eq!(summary["sent"], 0, "{summary}");
    assert!(
        summary["rejected"].as_array().is_some_and(|r| r
            .iter()
            .any(|r| r.as_str().is_some_and(|r| r.contains(&child_a)))),
        "{summary}"
    );
    assert!(
        server.hashes().is_disjoint(&new_change),
        "the measurement of A's child sent with B's token is not stored"
    );
    assert_eq!(server.hashes(), server_before);
    server.assert_sound();
}

#[test]
fn concurrent_edits_of_one_field_show_as_a_conflict_everywhere() {
    let server = Server::start();
    let token_1 = server.enrol("kader", POSYANDU_A);
    let token_2 = server.enrol("kader", POSYANDU_A);
    let one = Device::at(POSYANDU_A);
    one.login(&server.url(), &token_1);
    let two = Device::at(POSYANDU_A);
    two.login(&server.url(), &token_2);
    let id = one.add_child("Ani", "P", "2023-05-17", "Sri");
    one.sync();
    assert_eq!(two.sync()["snapshot_children"], 1);

    // Both edit the mother's name offline.
    for (d, name) in [(&one, "Siti Aminah"), (&two, "Sri Wahyuni")] {
        d.cmd()
            .args(["child", "edit", &id, "--mother-name", name])
            .assert()
            .success();
    }
    one.sync();
    assert_eq!(two.sync()["conflicts"], 1);
    assert_eq!(one.sync()["conflicts"], 1);
    assert_eq!(one.hashes(), two.hashes());

    let both: BTreeSet<&str> = ["Siti Aminah", "Sri Wahyuni"].into();
    let mut shown_first = Vec::new();
    for d in [&one, &two] {
        let show = d.json(&["child", "show", &id]);
        let conflicts = show["conflicts"].as_array().expect("conflicts");
        assert_eq!(conflicts.len(), 1, "{show}");
        assert_eq!(conflicts[0]["field"], "mother_name");
        let values: BTreeSet<&str> = conflicts[0]["values"]
            .as_array()
            .expect("values")
            .iter()
            .filter_map(Value::as_str)
            .collect();
        assert_eq!(values, both);
        assert_eq!(
            show["profile"]["mother_name"], conflicts[0]["values"][0],
            "the value shown is listed first"
        );
        shown_first.push(show["profile"]["mother_name"].clone());
    }
    assert_eq!(
        shown_first[0], shown_first[1],
        "both devices show the same value"
    );

    server.wait_projected();
    let listed = server.get("/v1/conflicts", &token_1);
    assert_eq!(listed.status, 200);
    let conflicts = listed.json()["conflicts"].clone();
    let rows = conflicts.as_array().expect("conflicts");
    assert_eq!(rows.len(), 1, "{conflicts}");
    assert_eq!(rows[0]["child_id"], id.as_str());
    assert_eq!(rows[0]["field"], "mother_name");
    let values: BTreeSet<&str> = rows[0]["values"]
        .as_array()
        .expect("values")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(values, both);
    assert_eq!(
        server.json(&["conflicts"])["conflicts"],
        conflicts,
        "the admin command lists the same"
    );
    // Outside the area, the conflict is not listed.
    let other = server.enrol("kader", POSYANDU_B);
    let listed = server.get("/v1/conflicts", &other);
    assert_eq!(listed.json()["conflicts"].as_array().map(Vec::len), Some(0));
}
