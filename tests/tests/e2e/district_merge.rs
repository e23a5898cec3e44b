//! Merges made by the district reach the devices, and an unmerge restores
//! exactly what was there: a real server, real devices, real SQLite files.

use std::collections::BTreeSet;

use serde_json::Value;
use tumbuh_tests::{Device, Server, strings_of};

const POSYANDU: &str = "353001200205";

/// Everything the server's projection says about one child: its row and
/// its measurement rows, as text.
fn projected(server: &Server, child: &str) -> (String, BTreeSet<String>) {
    let conn = server.conn();
    let row: String = conn
        .query_row(
            "SELECT json_array(posyandu, name, sex, birth_date, mother_name, nik, last_measured,
                    last_haz, last_tbu, stunted, conflicts, merged_into)
               FROM children WHERE id = ?1",
            [child],
            |r| r.get(0),
        )
        .expect("child row");
    let measurements = strings_of(
        &conn,
        &format!(
            "SELECT json_array(id, date, weight_g, length_mm, haz, waz, whz, tbu, posyandu,
                    merged_from, void_reason)
               FROM measurements WHERE child_id = '{child}'"
        ),
    );
    (row, measurements)
}

fn listed(device: &Device) -> Vec<String> {
    let list = device.json(&["child", "list"]);
    list.as_array()
        .expect("a list")
        .iter()
        .map(|c| c["id"].as_str().expect("id").to_owned())
        .collect()
}

fn shown(device: &Device, child: &str) -> Value {
    device.json(&["child", "show", child])
}

/// A kader device at `posyandu`, enrolled and signed in to `server`.
fn kader_device(server: &Server, posyandu: &str) -> Device {
    let token = server.enrol("kader", posyandu);
    let device = Device::at(posyandu);
    device.login(&server.url(), &token);
    device
}

#[test]
fn a_merge_reaches_the_devices_as_one_child_and_an_unmerge_restores_both_exactly() {
    let server = Server::start();
    // Two kader register the same child, each not finding the other's record.
    let a = kader_device(&server, POSYANDU);
    let b = kader_device(&server, POSYANDU);
    let survivor = a.add_child("Muhammad Rizky", "L", "2023-03-14", "Siti Aminah");
    a.measure(
        &survivor,
        "2024-07-02",
        "10.1",
        &["--height", "78.5", "--position", "lying"],
    );
    let duplicate = b.add_child("M. Rizki", "L", "2023-03-14", "Siti Aminah");
    b.measure(
        &duplicate,
        "2024-08-05",
        "10.4",
        &["--height", "79.6", "--position", "lying"],
    );
    a.sync();
    b.sync();
    a.sync();
    server.wait_projected();
    assert_eq!(
        listed(&a).into_iter().collect::<BTreeSet<_>>(),
        BTreeSet::from([survivor.clone(), duplicate.clone()]),
        "before the merge the device lists two children"
    );
    let before = (
        projected(&server, &survivor),
        projected(&server, &duplicate),
    );

    // The district merges them.
    let merge = server.json(&[
        "merge",
        &survivor,
        &duplicate,
        "--reason",
        "same child, checked KIA book",
    ]);
    assert_eq!(merge["survivor"], survivor.as_str());
    assert_eq!(merge["duplicate"], duplicate.as_str());
    assert_eq!(merge["source"], "manual");
    server.wait_projected();
    let (_, survivor_rows) = projected(&server, &survivor);
    assert_eq!(
        survivor_rows.len(),
        2,
        "the survivor holds both measurements"
    );
    let merged_into: Option<String> = server
        .conn()
        .query_row(
            "SELECT merged_into FROM children WHERE id = ?1",
            [&duplicate],
            |r| r.get(0),
        )
        .expect("duplicate row");
    assert_eq!(merged_into.as_deref(), Some(survivor.as_str()));
    let audited: i64 = server
        .conn()
        .query_row(
            "SELECT count(*) FROM audit WHERE action = 'child.merge' AND detail LIKE '%checked KIA book%'",
            [],
            |r| r.get(0),
        )
        .expect("audit");
    assert_eq!(audited, 1, "the merge is in the audit log with its reason");

    // Both devices see one child after their next sync, with both weighings.
    for device in [&a, &b] {
        device.sync();
        assert_eq!(listed(device), vec![survivor.clone()]);
        let child = shown(device, &survivor);
        assert_eq!(
            child["measurements"].as_array().map(Vec::len),
            Some(2),
            "{child}"
        );
        assert_eq!(shown(device, &duplicate)["merged_into"], survivor.as_str());
    }

    // The district undoes it: both children come back exactly as they were.
    let undone = server.json(&["unmerge", &merge["id"].to_string()]);
    assert!(undone["undone_at_ms"].is_i64(), "{undone}");
    server.wait_projected();
    let after = (
        projected(&server, &survivor),
        projected(&server, &duplicate),
    );
    assert_eq!(after, before, "unmerge restores the projection exactly");
    a.sync();
    assert_eq!(
        listed(&a).into_iter().collect::<BTreeSet<_>>(),
        BTreeSet::from([survivor.clone(), duplicate.clone()])
    );
    assert_eq!(
        shown(&a, &survivor)["measurements"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );

    // A person said "two children": the dedup never merges them again.
    let kept: String = server
        .conn()
        .query_row(
            "SELECT status FROM review WHERE child_a IN (?1, ?2) AND child_b IN (?1, ?2)",
            [&survivor, &duplicate],
            |r| r.get(0),
        )
        .expect("review row");
    assert_eq!(kept, "rejected");
    let dedup = server.json(&["dedup"]);
    assert_eq!(dedup["merged"], 0, "{dedup}");
    assert_eq!(server.json(&["merges"]).as_array().map(Vec::len), Some(0));
    server.assert_sound();
}

#[test]
fn merges_are_refused_when_they_would_chain_or_loop() {
    let server = Server::start();
    let d = kader_device(&server, POSYANDU);
    let x = d.add_child("Aisyah Putri", "P", "2022-05-01", "Rina Marlina");
    let y = d.add_child("Aisah Putri", "P", "2022-05-01", "Rina Marlina");
    let z = d.add_child("Aisyah P.", "P", "2022-05-01", "Rina Marlina");
    d.sync();
    server.wait_projected();
    server.json(&["merge", &x, &y]);
    for (args, says) in [
        (vec!["merge", &x, &x], "into itself"),
        (vec!["merge", &z, &y], "already merged"),
        (vec!["merge", &y, &z], "itself merged"),
        (vec!["merge", &z, &x], "other registrations are merged into"),
    ] {
        let out = server
            .cmd()
            .args(&args)
            .output()
            .expect("run tumbuh-server");
        assert!(!out.status.success(), "{args:?} must be refused");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(says), "{args:?}: {stderr}");
    }
    assert_eq!(server.count("merges"), 1, "nothing half-done");
    let missing = server
        .cmd()
        .args(["unmerge", "99"])
        .output()
        .expect("run tumbuh-server");
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no merge number 99"));
}

#[test]
fn a_weighing_recorded_on_a_merged_registration_before_its_device_heard_of_the_merge_is_not_lost() {
    let server = Server::start();
    let a = kader_device(&server, POSYANDU);
    let b = kader_device(&server, POSYANDU);
    let survivor = a.add_child("Nabila Putri", "P", "2023-01-20", "Fitri Handayani");
    a.measure(&survivor, "2024-06-03", "9.0", &[]);
    let duplicate = b.add_child("Nabilla Putri", "P", "2023-01-20", "Fitri Handayani");
    b.measure(&duplicate, "2024-07-01", "9.3", &[]);
    a.sync();
    b.sync();
    server.wait_projected();
    server.json(&["merge", &survivor, &duplicate]);
    server.json(&["dedup"]);

    // Device B has not synced since: its kader weighs the old record again.
    b.measure(&duplicate, "2024-08-05", "9.6", &[]);
    b.sync();
    server.wait_projected();
    let dedup = server.json(&["dedup"]);
    assert_eq!(dedup["caught_up"], 1, "{dedup}");
    let (_, rows) = projected(&server, &survivor);
    assert_eq!(rows.len(), 3, "the survivor has every weighing: {rows:?}");
    b.sync();
    assert_eq!(listed(&b), vec![survivor.clone()]);
    assert_eq!(
        shown(&b, &survivor)["measurements"]
            .as_array()
            .map(Vec::len),
        Some(3)
    );
}

#[test]
fn the_running_server_dedups_new_registrations_by_itself() {
    let server = Server::start_with(&["--dedup-every", "1"]);
    let a = kader_device(&server, POSYANDU);
    let b = kader_device(&server, "353001200204");
    // The same child registered at two posyandu, typed identically (a
    // registration copied by hand from the KIA book): the engine is sure.
    for (device, on) in [(&a, "2024-07-02"), (&b, "2024-08-05")] {
        let id = device.json(&[
            "child",
            "add",
            "--name",
            "Putri Ayu Lestari",
            "--sex",
            "P",
            "--birth-date",
            "2022-11-09",
            "--mother-name",
            "Endang Susilowati",
            "--nik",
            "3530014911220007",
            "--father-name",
            "Slamet Riyadi",
            "--new",
        ])["id"]
            .as_str()
            .expect("id")
            .to_owned();
        device.measure(&id, on, "10.2", &[]);
        device.sync();
    }
    let merged = tumbuh_tests::wait_for(
        "the background dedup to merge the two registrations",
        std::time::Duration::from_secs(60),
        || {
            let n: i64 = server
                .conn()
                .query_row(
                    "SELECT count(*) FROM merges WHERE source = 'auto' AND undone_at IS NULL",
                    [],
                    |r| r.get(0),
                )
                .ok()?;
            (n == 1).then_some(n)
        },
    );
    assert_eq!(merged, 1);
    let who: String = server
        .conn()
        .query_row(
            "SELECT who FROM audit WHERE action = 'child.merge'",
            [],
            |r| r.get(0),
        )
        .expect("audited");
    assert_eq!(who, "server-dedup");
}
