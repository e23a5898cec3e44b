//! Hostile uploads: a change of another document filed under an existing
//! child, or one that builds on changes the child does not have, is refused
//! and does not poison the child's record for everyone else; a change in
//! the name of another author (another device, the server) is refused; a
//! change may not move a child to a posyandu outside the device's area.

use std::time::Duration;

use chrono::NaiveDate;
use field_client::sync::http::HttpTransport;
use field_client::sync::{Endpoint, Transport};
use serde_bytes::ByteBuf;
use sync_protocol::compact;
use sync_protocol::wire::{self, Ack, ChildChanges, SyncRequest, SyncResponse};
use sync_protocol::{ChildDocument, ChildId, DeviceId, Profile, ProfileField, Sex};
use tumbuh_tests::{Device, POSYANDU, Server, wait_for};

fn profile(name: &str) -> Profile {
    Profile {
        name: name.into(),
        sex: Sex::L,
        birth_date: NaiveDate::from_ymd_opt(2023, 1, 1).expect("date"),
        mother_name: "Ibu".into(),
        nik: None,
        no_kk: None,
        mother_nik: None,
        father_name: None,
        rt: None,
        rw: None,
        address: None,
        posyandu: POSYANDU.into(),
        desa: None,
        birth_weight: None,
        birth_length: None,
        consent_by: None,
        consent_on: None,
    }
}

#[test]
fn foreign_or_dangling_changes_are_refused_and_the_child_stays_readable() {
    let server = Server::start();
    let token = server.enrol("kader", POSYANDU);
    let device = Device::new();
    device.login(&server.url(), &token);
    let child = device.add_child("Anak Asli", "L", "2023-01-01", "Ibu Asli");
    device.sync();
    let before = server.count("changes");

    // Another document (its own root change and an edit on top of it),
    // written under the device's own actor so that only its history is wrong.
    let own = device_id(&device);
    let mut other =
        ChildDocument::create(own.actor(), ChildId::new(), &profile("Penyusup"), 1).expect("doc");
    other
        .set_fields(&[(ProfileField::Name, Some("Penyusup 2".into()))], 2)
        .expect("edit");
    let foreign = other.changes_since(&[]);
    let upload = vec![ChildChanges {
        child: child.parse().expect("child id"),
        changes: foreign
            .iter()
            .map(|c| ByteBuf::from(compact::compact(&c.bytes, |_| false)))
            .collect(),
    }];
    let request = SyncRequest {
        batch: uuid::Uuid::now_v7(),
        cursor: 0,
        upload,
        max_page_bytes: 0,
    };
    let mut http =
        HttpTransport::new(&server.url(), &token, Duration::from_secs(10)).expect("http");
    let body = wire::encode(&request).expect("encode");
    let answer = http.exchange(Endpoint::Sync, &body).expect("answer");
    let response: SyncResponse = wire::decode(&answer, wire::MAX_MESSAGE_BYTES).expect("decode");
    assert_eq!(response.acks.len(), 2);
    for ack in &response.acks {
        assert!(matches!(ack, Ack::Rejected(_)), "{ack:?}");
    }
    // Only the dangling edit is offered alone: still refused.
    let dangling = SyncRequest {
        batch: uuid::Uuid::now_v7(),
        cursor: 0,
        upload: vec![ChildChanges {
            child: child.parse().expect("child id"),
            changes: vec![ByteBuf::from(compact::compact(&foreign[1].bytes, |_| {
                false
            }))],
        }],
        max_page_bytes: 0,
    };
    let answer = http
        .exchange(Endpoint::Sync, &wire::encode(&dangling).expect("encode"))
        .expect("answer");
    let response: SyncResponse = wire::decode(&answer, wire::MAX_MESSAGE_BYTES).expect("decode");
    assert!(matches!(&response.acks[0], Ack::Rejected(r) if r.contains("does not have")));

    assert_eq!(server.count("changes"), before, "nothing stored");
    let detail = wait_for("the child's projection", Duration::from_secs(20), || {
        let r = server.get(&format!("/v1/children/{child}"), &token);
        (r.status == 200).then(|| r.json())
    });
    assert_eq!(detail["name"], "Anak Asli");
    let second = Device::new();
    second.login(&server.url(), &server.enrol("kader", POSYANDU));
    second.sync();
    let shown = second.json(&["child", "show", &child]);
    assert_eq!(shown["profile"]["name"], "Anak Asli", "{shown}");
}

#[test]
fn a_device_cannot_upload_changes_in_the_name_of_another_author() {
    let server = Server::start();
    let token = server.enrol("kader", POSYANDU);
    let device = Device::new();
    device.login(&server.url(), &token);
    let child = device.add_child("Anak Asli", "L", "2023-01-01", "Ibu Asli");
    device.sync();
    server.wait_projected();
    let before = server.count("changes");

    // The child's document as the server holds it, edited by a made-up actor
    // (as if the server had merged it away, or another kader had renamed it).
    let bytes = server.get(&format!("/v1/docs/{child}"), &token).body;
    let mut doc = ChildDocument::load(DeviceId::new().actor(), &bytes).expect("doc");
    let heads = doc.heads();
    doc.set_fields(&[(ProfileField::Name, Some("Nama Palsu".into()))], 5)
        .expect("edit");
    let forged = doc.changes_since(&heads);
    let request = SyncRequest {
        batch: uuid::Uuid::now_v7(),
        cursor: 0,
        upload: vec![ChildChanges {
            child: child.parse().expect("child id"),
            changes: forged
                .iter()
                .map(|c| ByteBuf::from(compact::compact(&c.bytes, |_| false)))
                .collect(),
        }],
        max_page_bytes: 0,
    };
    let mut http =
        HttpTransport::new(&server.url(), &token, Duration::from_secs(10)).expect("http");
    let answer = http
        .exchange(Endpoint::Sync, &wire::encode(&request).expect("encode"))
        .expect("answer");
    let response: SyncResponse = wire::decode(&answer, wire::MAX_MESSAGE_BYTES).expect("decode");
    assert!(
        matches!(&response.acks[0], Ack::Rejected(r) if r.contains("another author")),
        "{:?}",
        response.acks
    );
    assert_eq!(server.count("changes"), before, "nothing stored");
    // The device's own edits still go through.
    device.json(&["child", "edit", &child, "--name", "Anak Asli Benar"]);
    device.sync();
    assert_eq!(server.count("changes"), before + 1);
}

/// The change the fuzzer found that Automerge 0.12 panics on (an op naming
/// an actor index past the change's own actor table), uploaded on top of
/// the document it was found against: refused at upload, and the child
/// stays readable for everyone.
#[test]
fn a_change_automerge_cannot_process_is_refused_at_upload() {
    let fuzz = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../sync-protocol/tests/fuzz-regressions/change_upload");
    let saved = std::fs::read(fuzz.join("base.automerge")).expect("base document");
    let crash = std::fs::read(fuzz.join("apply-actor-index")).expect("crash input");
    let mut base = ChildDocument::load(DeviceId::new().actor(), &saved).expect("base loads");
    let child = base.id();
    let history = base.changes_since(&[]);

    let server = Server::start();
    // An admin token may relay changes written by other actors.
    let token = server.admin_token().to_string();
    let mut http =
        HttpTransport::new(&server.url(), &token, Duration::from_secs(10)).expect("http");
    let mut upload = |changes: Vec<ByteBuf>| -> Vec<Ack> {
        let request = SyncRequest {
            batch: uuid::Uuid::now_v7(),
            cursor: 0,
            upload: vec![ChildChanges { child, changes }],
            max_page_bytes: 0,
        };
        let answer = http
            .exchange(Endpoint::Sync, &wire::encode(&request).expect("encode"))
            .expect("answer");
        let response: SyncResponse =
            wire::decode(&answer, wire::MAX_MESSAGE_BYTES).expect("decode");
        response.acks
    };
    let acks = upload(
        history
            .iter()
            .map(|c| ByteBuf::from(compact::compact(&c.bytes, |_| false)))
            .collect(),
    );
    assert!(acks.iter().all(|a| matches!(a, Ack::Stored)), "{acks:?}");
    server.wait_projected();
    let before = server.count("changes");

    let acks = upload(vec![ByteBuf::from(crash)]);
    assert!(
        matches!(&acks[0], Ack::Rejected(r) if r.contains("do not apply")),
        "{acks:?}"
    );
    assert_eq!(server.count("changes"), before, "nothing stored");
    let r = server.get(&format!("/v1/children/{child}"), &token);
    assert_eq!(r.status, 200, "the child stays readable");
    let doc = server.get(&format!("/v1/docs/{child}"), &token);
    assert_eq!(doc.status, 200);
    ChildDocument::load(DeviceId::new().actor(), &doc.body).expect("the document loads");
}

/// The device's id, which is also its Automerge actor.
fn device_id(device: &Device) -> DeviceId {
    device
        .conn()
        .query_row("SELECT device_id FROM device", [], |r| {
            r.get::<_, String>(0)
        })
        .expect("device id")
        .parse()
        .expect("a device id")
}

/// Sends `changes` of `child` in one sync request with `token`; the acks.
fn upload(server: &Server, token: &str, child: &str, changes: &[Vec<u8>]) -> Vec<Ack> {
    let request = SyncRequest {
        batch: uuid::Uuid::now_v7(),
        cursor: 0,
        upload: vec![ChildChanges {
            child: child.parse().expect("child id"),
            changes: changes
                .iter()
                .map(|c| ByteBuf::from(compact::compact(c, |_| false)))
                .collect(),
        }],
        max_page_bytes: 0,
    };
    let mut http = HttpTransport::new(&server.url(), token, Duration::from_secs(10)).expect("http");
    let answer = http
        .exchange(Endpoint::Sync, &wire::encode(&request).expect("encode"))
        .expect("answer");
    let response: SyncResponse = wire::decode(&answer, wire::MAX_MESSAGE_BYTES).expect("decode");
    response.acks
}

/// A change by `device` (under its own actor, as its own `tumbuh` would
/// write it) on the child's document as the server holds it, setting the
/// profile's posyandu to `posyandu`.
fn move_change(
    server: &Server,
    token: &str,
    device: &Device,
    child: &str,
    posyandu: &str,
) -> Vec<u8> {
    let own = device_id(device);
    let doc = server.get(&format!("/v1/docs/{child}"), token);
    assert_eq!(doc.status, 200);
    let mut doc = ChildDocument::load(own.actor(), &doc.body).expect("doc");
    let heads = doc.heads();
    doc.set_fields(&[(ProfileField::Posyandu, Some(posyandu.into()))], 7)
        .expect("edit");
    let mut changes = doc.changes_since(&heads);
    assert_eq!(changes.len(), 1);
    changes.remove(0).bytes
}

/// The child's area on the server: its index row (scope checks, the feed)
/// and its projected row.
fn server_area(server: &Server, child: &str) -> (String, String) {
    let conn = server.conn();
    let index = conn
        .query_row(
            "SELECT area FROM child_index WHERE child_id = ?1",
            [child],
            |r| r.get(0),
        )
        .expect("index row");
    let row = conn
        .query_row(
            "SELECT posyandu FROM children WHERE id = ?1",
            [child],
            |r| r.get(0),
        )
        .expect("children row");
    (index, row)
}

#[test]
fn an_in_scope_device_cannot_move_a_child_out_of_its_area() {
    let server = Server::start();
    let token = server.enrol("kader", POSYANDU);
    let device = Device::new();
    device.login(&server.url(), &token);
    let child = device.add_child("Anak Asli", "L", "2023-01-01", "Ibu Asli");
    device.sync();
    server.wait_projected();
    let before = server.count("changes");

    // A posyandu of another desa.
    let change = move_change(&server, &token, &device, &child, "353001200101");
    let acks = upload(&server, &token, &child, &[change]);
    assert!(
        matches!(&acks[..], [Ack::Rejected(r)]
            if r.contains(&format!("would move child {child} to posyandu 353001200101, outside this device's area"))),
        "{acks:?}"
    );
    assert_eq!(server.count("changes"), before, "nothing stored");
    server.wait_projected();
    assert_eq!(
        server_area(&server, &child),
        (POSYANDU.to_string(), POSYANDU.to_string()),
        "the child stays where it was"
    );
    assert_eq!(
        server.get(&format!("/v1/children/{child}"), &token).status,
        200,
        "and in the device's sight"
    );

    // The same device's ordinary edit still goes through.
    device.json(&["child", "edit", &child, "--name", "Anak Asli Benar"]);
    let synced = device.sync();
    assert!(
        synced["rejected"].as_array().is_some_and(Vec::is_empty),
        "{synced}"
    );
    assert_eq!(server.count("changes"), before + 1);
    server.wait_projected();
    let detail = server.get(&format!("/v1/children/{child}"), &token).json();
    assert_eq!(detail["name"], "Anak Asli Benar");
    assert_eq!(server_area(&server, &child).0, POSYANDU);
}

#[test]
fn a_bidan_moves_a_child_between_posyandu_of_her_desa() {
    let server = Server::start();
    let kader_token = server.enrol("kader", POSYANDU);
    let kader = Device::new();
    kader.login(&server.url(), &kader_token);
    let child = kader.add_child("Anak Pindah", "P", "2023-01-01", "Ibu");
    kader.sync();
    server.wait_projected();

    // The bidan of desa 3530012002 holds the child after her first sync.
    let desa = &POSYANDU[..10];
    let bidan_token = server.enrol("bidan", desa);
    let bidan = Device::new();
    bidan.login(&server.url(), &bidan_token);
    bidan.sync();
    // Her desa's own code lies in her area by prefix, but is no posyandu.
    let change = move_change(&server, &bidan_token, &bidan, &child, desa);
    let acks = upload(&server, &bidan_token, &child, &[change]);
    assert!(
        matches!(&acks[..], [Ack::Rejected(r)] if r.contains("without a valid 12-digit posyandu code")),
        "{acks:?}"
    );
    let next_door = format!("{desa}01");
    let change = move_change(&server, &bidan_token, &bidan, &child, &next_door);
    let acks = upload(&server, &bidan_token, &child, &[change]);
    assert!(matches!(&acks[..], [Ack::Stored]), "{acks:?}");
    wait_for("the move projected", Duration::from_secs(20), || {
        (server_area(&server, &child) == (next_door.clone(), next_door.clone())).then_some(())
    });
    // The kader of the old posyandu no longer sees the child; the bidan does.
    assert_eq!(
        server
            .get(&format!("/v1/children/{child}"), &kader_token)
            .status,
        404
    );
    assert_eq!(
        server
            .get(&format!("/v1/children/{child}"), &bidan_token)
            .status,
        200
    );
}
