//! The district's review queue on a real SQLite store: how pairs are
//! queued (audited), listed (priority computed when listed, scope before the
//! limit) and decided (merge and status in one transaction).

use std::path::Path;

use chrono::NaiveDate;
use sync_protocol::{AreaCode, ChildId, Scope};
use tumbuh_server::storage::{AuditFilter, NewReview, ReviewItem, ReviewQuery};
use tumbuh_server::{SqliteStorage, Storage, import, ingest};

const HEADER: &str = "record_id,round,measured_on,posyandu_code,desa_code,kader_id,nik,no_kk,name,sex,birth_date,birth_weight_kg,mother_name,mother_nik,father_name,rt,rw,address,weight_kg,height_cm,measure_position,muac_cm";
const NOW_MS: i64 = 1_725_000_000_000;

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).expect("valid test date")
}

/// One field row: a girl born 2023-03-10, measured lying at `posyandu`.
/// At 76.5 cm on 2024-08-05 she is not stunted (HAZ about −1.2); at 70 cm
/// she is (about −3.4).
fn row(id: &str, name: &str, mother: &str, posyandu: &str, on: &str, height: &str) -> String {
    format!(
        "{id},{},{on},{posyandu},{},K1,,,{name},P,2023-03-10,3.1,{mother},,,1,2,Dsn Krajan,9.1,{height},lying,\n",
        &on[..7],
        &posyandu[..10]
    )
}

/// Imports `rows` (field-row layout) and projects them.
fn import_rows(storage: &SqliteStorage, file: &str, rows: &[String]) {
    let text = format!("{HEADER}\n{}", rows.concat());
    let parsed = import::read_bytes(text.into_bytes(), None, d(2024, 9, 1), &mut |_, _| {})
        .expect("a readable file");
    assert!(parsed.problems.is_empty(), "{:?}", parsed.problems);
    storage
        .import("test", file, &ingest::registrations(&parsed.rows), NOW_MS)
        .expect("import");
    storage.project_all().expect("projection");
}

fn child_id(storage: &SqliteStorage, name: &str) -> String {
    rusqlite::Connection::open(storage.path())
        .expect("open")
        .query_row("SELECT id FROM children WHERE name = ?1", [name], |r| {
            r.get(0)
        })
        .unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn pair(a: &str, b: &str, score: f64) -> NewReview {
    NewReview {
        child_a: a.to_owned(),
        child_b: b.to_owned(),
        score,
        evidence: "name=variant(+2.0) birth_date=equal(+3.1)".into(),
    }
}

fn list(storage: &SqliteStorage, scope: &Scope, today: NaiveDate, limit: usize) -> Vec<ReviewItem> {
    storage
        .reviews(&ReviewQuery {
            status: Some("open"),
            scope,
            today,
            limit,
        })
        .expect("review list")
}

fn open_store(dir: &Path) -> SqliteStorage {
    SqliteStorage::open(&dir.join("server.db")).expect("open store")
}

const HOME: &str = "353001200101";
const ELSEWHERE: &str = "357101100101";

/// Six girls: four at home (Ani, Ana not stunted; Citra, Cinta who become
/// stunted later), two in another kabupaten.
fn district(storage: &SqliteStorage) {
    import_rows(
        storage,
        "agustus.csv",
        &[
            row("a1", "Ani", "Sri", HOME, "2024-08-05", "76.5"),
            row("a2", "Ana", "Sri", HOME, "2024-08-05", "76.4"),
            row("c1", "Citra", "Rina", HOME, "2024-08-05", "76.5"),
            row("c2", "Cinta", "Rina", HOME, "2024-08-05", "76.6"),
            row("o1", "Oki", "Wati", ELSEWHERE, "2024-08-05", "70.0"),
            row("o2", "Okta", "Wati", ELSEWHERE, "2024-08-05", "70.1"),
        ],
    );
}

#[test]
fn the_queue_is_ordered_by_the_children_as_they_are_now_not_as_queued() {
    let dir = tempfile::tempdir().expect("temp dir");
    let storage = open_store(dir.path());
    district(&storage);
    let id = |n| child_id(&storage, n);
    // Queued while no home child is stunted; the pair of Ani scores higher.
    let added = storage
        .add_reviews(
            &[
                pair(&id("Ani"), &id("Ana"), 0.9),
                pair(&id("Citra"), &id("Cinta"), 0.6),
            ],
            "dedup-test",
            NOW_MS,
        )
        .expect("queue");
    assert_eq!(added, 2);
    let all = Scope::All;
    let before = list(&storage, &all, d(2024, 8, 20), 10);
    assert_eq!(
        before[0].child_a,
        id("Ani").min(id("Ana")),
        "by score: {before:?}"
    );
    // Citra is measured again, now stunted: her pair comes first although
    // it scores lower and was queued later.
    import_rows(
        &storage,
        "september.csv",
        &[row("c3", "Citra", "Rina", HOME, "2024-09-02", "70.0")],
    );
    let after = list(&storage, &all, d(2024, 8, 20), 10);
    let citra = [id("Citra"), id("Cinta")];
    assert!(
        citra.contains(&after[0].child_a) && citra.contains(&after[0].child_b),
        "the stunted child's pair first: {after:?}"
    );
    // Round August 2024 (counted from March): both of each pair measured
    // towards it, +1 each; Citra stunted, +2.
    assert_eq!(after[0].priority, 4, "{after:?}");
    assert_eq!(after[1].priority, 2, "{after:?}");
    // As of January 2025 the coming round is February 2025, counted from
    // September 2024: only Citra's new measurement counts towards it.
    let january = list(&storage, &all, d(2025, 1, 10), 10);
    let priorities: Vec<i64> = january.iter().map(|r| r.priority).collect();
    assert_eq!(priorities, [3, 0]);
    assert_eq!(
        storage
            .review(after[0].id, d(2025, 1, 10))
            .expect("read")
            .map(|r| r.priority),
        Some(3)
    );
}

#[test]
fn pairs_outside_the_area_do_not_take_places_on_its_page() {
    let dir = tempfile::tempdir().expect("temp dir");
    let storage = open_store(dir.path());
    district(&storage);
    let id = |n| child_id(&storage, n);
    // The pair elsewhere is stunted twice over and scores highest: it is
    // first in the whole queue.
    storage
        .add_reviews(
            &[
                pair(&id("Oki"), &id("Okta"), 0.95),
                pair(&id("Ani"), &id("Ana"), 0.7),
            ],
            "dedup-test",
            NOW_MS,
        )
        .expect("queue");
    let today = d(2024, 8, 20);
    let everything = list(&storage, &Scope::All, today, 1);
    assert_eq!(everything.len(), 1);
    assert!(everything[0].child_a == id("Oki") || everything[0].child_b == id("Oki"));
    let home = Scope::Areas(vec![AreaCode::parse("3530").expect("code")]);
    let page = list(&storage, &home, today, 1);
    assert_eq!(page.len(), 1, "a page of one is filled from the area");
    let ani = [id("Ani"), id("Ana")];
    assert!(ani.contains(&page[0].child_a) && ani.contains(&page[0].child_b));
    let other = Scope::Areas(vec![AreaCode::parse("3572").expect("code")]);
    assert!(list(&storage, &other, today, 50).is_empty());
}

#[test]
fn queueing_a_pair_is_audited_with_who_score_and_evidence() {
    let dir = tempfile::tempdir().expect("temp dir");
    let storage = open_store(dir.path());
    district(&storage);
    let id = |n| child_id(&storage, n);
    let items = [
        pair(&id("Ani"), &id("Ana"), 0.7),
        // The same pair the other way round, and an exact repeat: one entry.
        pair(&id("Ana"), &id("Ani"), 0.7),
        pair(&id("Citra"), &id("Cinta"), 0.61),
    ];
    assert_eq!(
        storage
            .add_reviews(&items, "dedup-test", NOW_MS)
            .expect("queue"),
        2
    );
    // Queued again (a later run): nothing new, nothing audited.
    assert_eq!(
        storage
            .add_reviews(&items, "dedup-test", NOW_MS)
            .expect("queue"),
        0
    );
    let entries = storage
        .audit_log(&AuditFilter {
            action: Some("review.queue".into()),
            limit: 100,
            ..AuditFilter::default()
        })
        .expect("audit");
    assert_eq!(entries.len(), 2, "{entries:?}");
    for e in &entries {
        assert_eq!(e.who, "dedup-test");
        assert_eq!(e.at_ms, NOW_MS);
        assert!(
            e.detail.contains("score=0.")
                && e.detail
                    .contains("evidence: name=variant(+2.0) birth_date=equal(+3.1)"),
            "{e:?}"
        );
        for name in ["Ani", "Ana", "Citra", "Cinta", "Sri", "Rina"] {
            assert!(
                !e.detail.contains(name) && !e.target.contains(name),
                "{e:?}"
            );
        }
    }
}

#[test]
fn an_accept_that_fails_half_way_leaves_no_merge_and_the_pair_open() {
    let dir = tempfile::tempdir().expect("temp dir");
    let storage = open_store(dir.path());
    district(&storage);
    let (ani, ana) = (child_id(&storage, "Ani"), child_id(&storage, "Ana"));
    storage
        .add_reviews(&[pair(&ani, &ana, 0.8)], "dedup-test", NOW_MS)
        .expect("queue");
    let item = list(&storage, &Scope::All, d(2024, 8, 20), 1).remove(0);
    // A failure after the merge is written, at the pair's status (as a
    // crash there would be): the decision must not be half kept.
    let conn = rusqlite::Connection::open(storage.path()).expect("open");
    conn.execute_batch(
        "CREATE TRIGGER fail_decision BEFORE UPDATE OF decided_at ON review
         BEGIN SELECT RAISE(ABORT, 'simulated crash'); END;",
    )
    .expect("trigger");
    let survivor: ChildId = ani.parse().expect("id");
    let err = tumbuh_server::review::accept(&storage, item.id, Some(survivor), "person", NOW_MS)
        .expect_err("the decision fails");
    assert!(err.to_string().contains("simulated crash"), "{err}");
    let merges = storage.merges(false).expect("merges");
    assert!(
        merges.is_empty(),
        "no merge kept without its decision: {merges:?}"
    );
    let stored = storage
        .review(item.id, d(2024, 8, 20))
        .expect("read")
        .expect("pair");
    assert_eq!(stored.status, "open");
    let merged: Option<String> = conn
        .query_row(
            "SELECT merged_into FROM children WHERE id = ?1",
            [&ana],
            |r| r.get(0),
        )
        .expect("row");
    assert_eq!(merged, None);

    // Without the failure the same decision goes through whole.
    conn.execute_batch("DROP TRIGGER fail_decision")
        .expect("drop");
    let (decided, merge) =
        tumbuh_server::review::accept(&storage, item.id, Some(survivor), "person", NOW_MS)
            .expect("accepted");
    assert_eq!(decided.status, "accepted");
    let merge = merge.expect("a merge");
    assert_eq!(
        (merge.survivor.as_str(), merge.duplicate.as_str()),
        (ani.as_str(), ana.as_str())
    );
    let actions: Vec<String> = storage
        .audit_log(&AuditFilter {
            action: Some("review".into()),
            limit: 100,
            ..AuditFilter::default()
        })
        .expect("audit")
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert!(actions.contains(&"review.accept".to_owned()), "{actions:?}");
}

/// Accepting a pair without naming the survivor keeps the child that
/// already holds merged registrations, even when the other was measured
/// later: merges never chain, so the holder could not be merged away (the
/// old rule, "measured last survives", made such a pair undecidable).
#[test]
fn an_accept_keeps_the_child_that_already_holds_merges() {
    let dir = tempfile::tempdir().expect("temp dir");
    let storage = open_store(dir.path());
    district(&storage);
    // Citra is weighed again later: she is the one "measured last".
    import_rows(
        &storage,
        "september.csv",
        &[row("c3", "Citra", "Rina", HOME, "2024-08-20", "76.9")],
    );
    let (ani, ana, citra) = (
        child_id(&storage, "Ani"),
        child_id(&storage, "Ana"),
        child_id(&storage, "Citra"),
    );
    storage
        .add_reviews(&[pair(&ani, &ana, 0.8)], "dedup-test", NOW_MS)
        .expect("queue");
    let first = list(&storage, &Scope::All, d(2024, 8, 20), 1).remove(0);
    let ani_id: ChildId = ani.parse().expect("id");
    tumbuh_server::review::accept(&storage, first.id, Some(ani_id), "person", NOW_MS)
        .expect("Ana merged into Ani");
    storage.project_all().expect("projection");

    storage
        .add_reviews(&[pair(&citra, &ani, 0.7)], "dedup-test", NOW_MS)
        .expect("queue");
    let second = list(&storage, &Scope::All, d(2024, 8, 21), 5)
        .into_iter()
        .find(|p| p.id != first.id)
        .expect("the second pair");
    let (decided, merge) =
        tumbuh_server::review::accept(&storage, second.id, None, "person", NOW_MS)
            .expect("the pair can be decided");
    assert_eq!(decided.status, "accepted");
    let merge = merge.expect("a merge");
    assert_eq!(
        (merge.survivor.as_str(), merge.duplicate.as_str()),
        (ani.as_str(), citra.as_str()),
        "Ani holds Ana's registration, so Ani survives"
    );
}
