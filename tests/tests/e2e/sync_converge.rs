//! Property test: three devices edit offline and sync in random orders; all
//! end with the same documents and projections as the server, and nothing
//! entered is missing.
//!
//! Each schedule runs against its own real server (the `tumbuh-server`
//! library serving on 127.0.0.1, port 0, with its SQLite file) and three real
//! device stores (SQLite files), driven through the `field_client` library
//! rather than the CLI so that 100+ schedules fit in a CI run. Operations:
//! register a child, measure, edit a profile field (often the same field on
//! two devices: a conflict), void a measurement, sync. Seeds are printed on
//! failure; `TUMBUH_SCHEDULES` and `TUMBUH_SEED` replay or widen the run.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::Duration;

use chrono::NaiveDate;
use field_client::store::{Store, StoreError};
use field_client::sync::http::HttpTransport;
use field_client::sync::{SyncOptions, sync};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sync_protocol::{
    ChildDocument, ChildId, Grams, MeasurementId, MeasurementInput, Millimetres, Position, Profile,
    ProfileField, Sex,
};
use tumbuh_server::Role;
use tumbuh_tests::{InProcessServer, TEST_KDF, pin};

const POSYANDU: &str = "353001200205";

/// What the test asked the devices to enter, to check nothing went missing.
#[derive(Default)]
struct Model {
    children: BTreeSet<ChildId>,
    measurements: BTreeMap<MeasurementId, ChildId>,
    voided: BTreeSet<MeasurementId>,
}

struct Device {
    store: Store,
    token: String,
    name: String,
    /// Small pages and uploads on some devices, so paging is exercised.
    page_bytes: u32,
    upload_bytes: usize,
}

fn profile(rng: &mut StdRng, n: usize) -> Profile {
    let year = rng.random_range(2020..=2024);
    Profile {
        name: format!("Anak Uji {n}"),
        sex: if rng.random_bool(0.5) { Sex::L } else { Sex::P },
        birth_date: NaiveDate::from_ymd_opt(
            year,
            rng.random_range(1..=12),
            rng.random_range(1..=28),
        )
        .expect("date"),
        mother_name: format!("Ibu Uji {n}"),
        nik: None,
        no_kk: None,
        mother_nik: None,
        father_name: None,
        rt: Some("001".into()),
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

fn doc_err(child: ChildId) -> impl Fn(sync_protocol::DocumentError) -> StoreError + Copy {
    move |source| StoreError::Document { child, source }
}

fn now() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// The ids of the children a device holds.
fn child_ids(store: &Store) -> Vec<ChildId> {
    let mut stmt = store
        .conn()
        .prepare("SELECT id FROM children ORDER BY id")
        .expect("prepare");
    stmt.query_map([], |r| r.get::<_, String>(0))
        .expect("query")
        .map(|r| r.expect("row").parse().expect("child id"))
        .collect()
}

fn hashes(conn: &rusqlite::Connection) -> BTreeSet<Vec<u8>> {
    let mut stmt = conn.prepare("SELECT hash FROM changes").expect("prepare");
    stmt.query_map([], |r| r.get::<_, Vec<u8>>(0))
        .expect("query")
        .map(|r| r.expect("row"))
        .collect()
}

fn do_sync(device: &mut Device, server: &InProcessServer) -> Result<(), String> {
    let mut transport = HttpTransport::new(&server.url, &device.token, Duration::from_secs(30))
        .map_err(|e| e.to_string())?;
    let options = SyncOptions {
        give_up_after: Duration::from_secs(20),
        page_bytes: device.page_bytes,
        upload_bytes: device.upload_bytes,
        now_ms: now(),
        ..SyncOptions::default()
    };
    let summary = sync(&mut device.store, &mut transport, &options)
        .map_err(|e| format!("{} sync: {e}", device.name))?;
    // Without faults the feed alone must be complete: the checksum repair is
    // for real gaps, and running it here would hide a feed bug.
    if summary.repaired || !summary.verified {
        return Err(format!(
            "{}: the scope checksum disagreed after sync (repaired: {})",
            device.name, summary.repaired
        ));
    }
    if !summary.rejected.is_empty() {
        return Err(format!(
            "{} had changes rejected: {:?}",
            device.name, summary.rejected
        ));
    }
    Ok(())
}

fn step(
    rng: &mut StdRng,
    devices: &mut [Device],
    server: &InProcessServer,
    model: &mut Model,
    n: &mut usize,
) -> Result<(), String> {
    let d = rng.random_range(0..devices.len());
    let device = &mut devices[d];
    let known = child_ids(&device.store);
    let op = rng.random_range(0..100);
    if op < 25 || known.is_empty() {
        *n += 1;
        let p = profile(rng, *n);
        let id = ChildId::new();
        let actor = device.store.device().id.actor();
        device
            .store
            .write(|w| -> Result<(), StoreError> {
                let mut doc = ChildDocument::create(actor, id, &p, now()).map_err(doc_err(id))?;
                w.save_child(&mut doc, &[], now())?;
                Ok(())
            })
            .map_err(|e| e.to_string())?;
        model.children.insert(id);
        return Ok(());
    }
    if op < 40 {
        return do_sync(device, server);
    }
    let child = known[rng.random_range(0..known.len())];
    let kader = device.name.clone();
    let action = rng.random_range(0..10);
    let mut voided = None;
    let mut measured = None;
    let e = doc_err(child);
    device
        .store
        .write(|w| -> Result<(), StoreError> {
            let mut doc = w.load_child(child)?;
            let heads = doc.heads();
            match action {
                0..=5 => {
                    let id = MeasurementId::new();
                    let record = doc.child().map_err(e)?;
                    let date =
                        record.profile.birth_date + chrono::Days::new(rng.random_range(30..700));
                    let input = MeasurementInput {
                        date,
                        weight: Some(Grams(rng.random_range(3000..15000))),
                        length: Some(Millimetres(rng.random_range(500..950))),
                        position: Some(Position::Lying),
                        muac: None,
                        head: None,
                        oedema: false,
                        posyandu: POSYANDU.into(),
                        by: kader.clone(),
                        round: None,
                    };
                    doc.add_measurement(id, &input, now()).map_err(e)?;
                    measured = Some(id);
                }
                6..=8 => {
                    // Few values on purpose: two devices often set the same field.
                    let field =
                        [ProfileField::MotherName, ProfileField::Address][rng.random_range(0..2)];
                    let value = format!("nilai {}", rng.random_range(0..4));
                    doc.set_fields(&[(field, Some(value))], now()).map_err(e)?;
                }
                _ => {
                    let record = doc.child().map_err(e)?;
                    let Some(m) = record.measurements.iter().find(|m| m.void.is_none()) else {
                        return Ok(());
                    };
                    doc.void_measurement(m.id, "salah ketik", &kader, now())
                        .map_err(e)?;
                    voided = Some(m.id);
                }
            }
            w.save_child(&mut doc, &heads, now())?;
            Ok(())
        })
        .map_err(|e| e.to_string())?;
    if let Some(id) = measured {
        model.measurements.insert(id, child);
    }
    if let Some(id) = voided {
        model.voided.insert(id);
    }
    Ok(())
}

fn schedule(seed: u64, dir: &Path) -> Result<(), String> {
    let mut rng = StdRng::seed_from_u64(seed);
    let server = InProcessServer::start(&dir.join("server.db"));
    let roles = [
        (Role::Kader, POSYANDU),
        (Role::Kader, POSYANDU),
        (Role::Bidan, &POSYANDU[..10]),
    ];
    let mut devices = Vec::new();
    for (i, (role, area)) in roles.iter().enumerate() {
        let token = server.enrol(*role, area);
        let path = dir.join(format!("device{i}.db"));
        let mut store = Store::create(
            &path,
            &pin(),
            TEST_KDF,
            POSYANDU,
            &format!("kader{i}"),
            now(),
        )
        .map_err(|e| e.to_string())?;
        field_client::sync::login(&mut store, &server.url, &token).map_err(|e| e.to_string())?;
        devices.push(Device {
            store,
            token,
            name: format!("device{i}"),
            page_bytes: [0, 700, 3000][rng.random_range(0..3)],
            upload_bytes: [4 << 20, 900][rng.random_range(0..2)],
        });
    }
    let mut model = Model::default();
    let mut n = 0;
    let steps = rng.random_range(10..30);
    for _ in 0..steps {
        step(&mut rng, &mut devices, &server, &mut model, &mut n)?;
    }
    // The hard case in every schedule: two devices that both hold a child
    // set one field to different values offline (a same-field conflict).
    for d in [2, 0, 1, 0] {
        do_sync(&mut devices[d], &server)?;
    }
    if let Some(&child) = child_ids(&devices[0].store)
        .iter()
        .find(|c| child_ids(&devices[1].store).contains(c))
    {
        for (d, value) in [(0, "konflik A"), (1, "konflik B")] {
            devices[d]
                .store
                .write(|w| -> Result<(), StoreError> {
                    let mut doc = w.load_child(child)?;
                    let heads = doc.heads();
                    doc.set_fields(&[(ProfileField::FatherName, Some(value.into()))], now())
                        .map_err(doc_err(child))?;
                    w.save_child(&mut doc, &heads, now())?;
                    Ok(())
                })
                .map_err(|e| e.to_string())?;
        }
    }
    // Everyone syncs twice, in a random order: the first round brings every
    // change to the server, the second brings it to every device.
    for _ in 0..2 {
        let mut order: Vec<usize> = (0..devices.len()).collect();
        for i in (1..order.len()).rev() {
            order.swap(i, rng.random_range(0..=i));
        }
        for i in order {
            do_sync(&mut devices[i], &server)?;
        }
    }
    server.wait_projection();
    check(&devices, &server, &model)
}

fn check(devices: &[Device], server: &InProcessServer, model: &Model) -> Result<(), String> {
    let server_conn =
        rusqlite::Connection::open(server.storage.path()).map_err(|e| e.to_string())?;
    let server_hashes = hashes(&server_conn);
    let server_children: BTreeSet<String> = server_conn
        .prepare("SELECT id FROM children")
        .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
        .map_err(|e| e.to_string())?;
    let server_measurements: BTreeMap<String, Option<String>> = server_conn
        .prepare("SELECT id, void_reason FROM measurements")
        .and_then(|mut s| s.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect())
        .map_err(|e| e.to_string())?;
    let mut reference = None;
    for device in devices {
        let device_hashes = hashes(device.store.conn());
        if device_hashes != server_hashes {
            return Err(format!(
                "{} holds {} changes, the server {}",
                device.name,
                device_hashes.len(),
                server_hashes.len()
            ));
        }
        let ids = child_ids(&device.store);
        let expected: Vec<ChildId> = model.children.iter().copied().collect();
        if ids != expected {
            return Err(format!(
                "{} has children {ids:?}, entered {expected:?}",
                device.name
            ));
        }
        let mut records = Vec::new();
        for id in &ids {
            let doc = device.store.load_child(*id).map_err(|e| e.to_string())?;
            let child = doc.child().map_err(|e| e.to_string())?;
            let conflicts = doc.conflicts().map_err(|e| e.to_string())?;
            for m in &child.measurements {
                if model.voided.contains(&m.id) && m.void.is_none() {
                    return Err(format!(
                        "{}: measurement {} lost its void",
                        device.name, m.id
                    ));
                }
            }
            records.push((child, conflicts));
        }
        for (m, c) in &model.measurements {
            let found = records
                .iter()
                .any(|(child, _)| child.id == *c && child.measurements.iter().any(|x| x.id == *m));
            if !found {
                return Err(format!("{}: measurement {m} is missing", device.name));
            }
        }
        // Derived rows equal the documents on every device.
        let rows: i64 = device
            .store
            .conn()
            .query_row("SELECT count(*) FROM measurements", [], |r| r.get(0))
            .map_err(|e| e.to_string())?;
        if rows as usize != model.measurements.len() {
            return Err(format!(
                "{}: {rows} measurement rows for {} measurements",
                device.name,
                model.measurements.len()
            ));
        }
        match &reference {
            None => reference = Some(records),
            Some(r) if *r == records => {}
            Some(_) => {
                return Err(format!(
                    "{} ended with other records than device0",
                    device.name
                ));
            }
        }
    }
    let expected: BTreeSet<String> = model.children.iter().map(|c| c.to_string()).collect();
    if server_children != expected {
        return Err("the server's projection lacks or adds children".into());
    }
    if server_measurements.len() != model.measurements.len() {
        return Err(format!(
            "the server's projection has {} measurements, entered {}",
            server_measurements.len(),
            model.measurements.len()
        ));
    }
    for v in &model.voided {
        if server_measurements
            .get(&v.to_string())
            .is_none_or(Option::is_none)
        {
            return Err(format!("the server's projection lost the void of {v}"));
        }
    }
    Ok(())
}

#[test]
fn random_schedules_converge_on_every_device_and_the_server() {
    let count: u64 = std::env::var("TUMBUH_SCHEDULES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(100);
    let first: u64 = std::env::var("TUMBUH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| rand::rng().random_range(0..u64::MAX / 2));
    let mut conflicts_seen = 0;
    for seed in first..first + count {
        let dir = tempfile::tempdir().expect("tempdir");
        if let Err(e) = schedule(seed, dir.path()) {
            panic!("schedule failed — replay with TUMBUH_SEED={seed} TUMBUH_SCHEDULES=1: {e}");
        }
        let conn = rusqlite::Connection::open(dir.path().join("server.db")).expect("server db");
        let n: i64 = conn
            .query_row("SELECT count(*) FROM conflicts", [], |r| r.get(0))
            .expect("conflicts");
        conflicts_seen += n;
    }
    // Every schedule ends with at least its deliberate conflict kept visible.
    assert!(
        conflicts_seen >= count as i64,
        "{conflicts_seen} conflicts kept over {count} schedules (seeds {first}..{})",
        first + count
    );
}

#[test]
fn a_gap_in_a_device_store_is_found_by_the_checksum_and_repaired() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = InProcessServer::start(&dir.path().join("server.db"));
    let mut devices = Vec::new();
    for i in 0..2 {
        let token = server.enrol(Role::Kader, POSYANDU);
        let path = dir.path().join(format!("device{i}.db"));
        let mut store =
            Store::create(&path, &pin(), TEST_KDF, POSYANDU, "kader", now()).expect("store");
        field_client::sync::login(&mut store, &server.url, &token).expect("login");
        devices.push(Device {
            store,
            token,
            name: format!("device{i}"),
            page_bytes: 0,
            upload_bytes: 4 << 20,
        });
    }
    let mut rng = StdRng::seed_from_u64(7);
    let mut model = Model::default();
    let mut n = 0;
    while model.measurements.len() < 3 {
        // Only device 0 records; device 1 only receives.
        step(&mut rng, &mut devices[..1], &server, &mut model, &mut n).expect("step");
    }
    do_sync(&mut devices[0], &server).expect("sync 0");
    do_sync(&mut devices[1], &server).expect("sync 1");
    let before = hashes(devices[1].store.conn());
    // Lose one received change on device 1, as a damaged copy would.
    devices[1]
        .store
        .conn()
        .execute(
            "DELETE FROM changes WHERE seq = (SELECT max(seq) FROM changes)",
            [],
        )
        .expect("delete");
    assert_eq!(hashes(devices[1].store.conn()).len() + 1, before.len());
    let mut transport =
        HttpTransport::new(&server.url, &devices[1].token, Duration::from_secs(30)).expect("http");
    let options = SyncOptions {
        now_ms: now(),
        ..SyncOptions::default()
    };
    let summary = sync(&mut devices[1].store, &mut transport, &options).expect("sync");
    assert!(summary.repaired, "the checksum noticed the gap");
    assert!(summary.verified, "and the repair closed it");
    assert_eq!(hashes(devices[1].store.conn()), before);
}

/// A transport that breaks (without retry) after a number of exchanges.
struct Breaking {
    inner: HttpTransport,
    left: usize,
    snapshot_pages: usize,
}

impl field_client::sync::Transport for Breaking {
    fn exchange(
        &mut self,
        endpoint: field_client::sync::Endpoint,
        body: &[u8],
    ) -> Result<Vec<u8>, field_client::sync::TransportError> {
        if self.left == 0 {
            return Err(field_client::sync::TransportError::Refused {
                status: 0,
                message: "link cut by the test".into(),
            });
        }
        self.left -= 1;
        if endpoint == field_client::sync::Endpoint::Snapshot {
            self.snapshot_pages += 1;
        }
        self.inner.exchange(endpoint, body)
    }
}

#[test]
fn a_first_sync_cut_half_way_resumes_at_the_next_snapshot_page() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = InProcessServer::start(&dir.path().join("server.db"));
    let mut writer = {
        let token = server.enrol(Role::Kader, POSYANDU);
        let mut store = Store::create(
            &dir.path().join("a.db"),
            &pin(),
            TEST_KDF,
            POSYANDU,
            "kader",
            now(),
        )
        .expect("store");
        field_client::sync::login(&mut store, &server.url, &token).expect("login");
        Device {
            store,
            token,
            name: "writer".into(),
            page_bytes: 0,
            upload_bytes: 4 << 20,
        }
    };
    let mut rng = StdRng::seed_from_u64(11);
    let mut model = Model::default();
    let mut n = 0;
    while model.children.len() < 40 {
        step(
            &mut rng,
            std::slice::from_mut(&mut writer),
            &server,
            &mut model,
            &mut n,
        )
        .expect("step");
    }
    do_sync(&mut writer, &server).expect("upload");
    server.wait_projection();

    let token = server.enrol(Role::Bidan, &POSYANDU[..10]);
    let mut store = Store::create(
        &dir.path().join("b.db"),
        &pin(),
        TEST_KDF,
        POSYANDU,
        "bidan",
        now(),
    )
    .expect("b");
    field_client::sync::login(&mut store, &server.url, &token).expect("login");
    let options = SyncOptions {
        page_bytes: 400,
        now_ms: now(),
        ..SyncOptions::default()
    };
    let http = || HttpTransport::new(&server.url, &token, Duration::from_secs(30)).expect("http");
    let mut cut = Breaking {
        inner: http(),
        left: 3,
        snapshot_pages: 0,
    };
    assert!(
        sync(&mut store, &mut cut, &options).is_err(),
        "the cut stops the sync"
    );
    assert_eq!(cut.snapshot_pages, 3);
    let kept: i64 = store
        .conn()
        .query_row("SELECT count(*) FROM children", [], |r| r.get(0))
        .expect("count");
    assert!(kept > 0, "the pages before the cut were kept");
    let mut rest = Breaking {
        inner: http(),
        left: usize::MAX,
        snapshot_pages: 0,
    };
    let summary = sync(&mut store, &mut rest, &options).expect("resumed sync");
    assert!(summary.verified);
    assert_eq!(
        summary.snapshot_children as i64 + kept,
        model.children.len() as i64,
        "the resumed sync fetched only the children after the cut"
    );
    let mut fresh = Store::create(
        &dir.path().join("c.db"),
        &pin(),
        TEST_KDF,
        POSYANDU,
        "c",
        now(),
    )
    .expect("c");
    let token_c = server.enrol(Role::Bidan, &POSYANDU[..10]);
    field_client::sync::login(&mut fresh, &server.url, &token_c).expect("login");
    let mut whole = Breaking {
        inner: HttpTransport::new(&server.url, &token_c, Duration::from_secs(30)).expect("http"),
        left: usize::MAX,
        snapshot_pages: 0,
    };
    sync(&mut fresh, &mut whole, &options).expect("uncut sync");
    assert_eq!(
        rest.snapshot_pages + 3,
        whole.snapshot_pages,
        "no page was downloaded twice"
    );
    assert_eq!(hashes(store.conn()), hashes(fresh.conn()));
}
