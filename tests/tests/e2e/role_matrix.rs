//! The role × action table of ARCHITECTURE.md ("Roles and actions"), walked
//! in full: each role (kader, bidan, puskesmas, district, admin) tries every
//! action of the table on something inside and something outside its area —
//! reads, uploads by sync, the review queue, the verval report and
//! worklist, the export, whole documents by device and by a person's
//! session.
//!
//! Allowed succeeds. Denied answers 403 (a role, or an area the caller may
//! not ask for) or 404 (a child or review pair outside its area, so that its
//! existence is not revealed) and changes nothing: the `changes`, `merges`,
//! `review` (each pair's status) and `audit` tables read the same before and
//! after. A refusal is not audited — it read nothing, and the audit log
//! records what was read or done. The one exception is a sync whose upload
//! is refused: the exchange itself runs (the device still receives its
//! area), so the sync's own read (`snapshot.read`) may be audited, and
//! nothing else.
//!
//! The review pairs come from the synthetic posyandu data: desa 3530012001
//! and 3530012004 as they are, and desa 3530021001 and 3530022005 moved to
//! kabupaten 3531, imported and deduplicated; the dedup queues doubtful
//! pairs on both sides (two desa each, so that the walk does not hang on
//! how few doubtful pairs one desa happens to give the engine).

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::json;
use tumbuh_tests::{Device, HttpResponse, Server, http_request, shared_dir};

/// Posyandu in desa 3530012002 (kecamatan 353001): inside every role's area.
const P1: &str = "353001200205";
/// Another kecamatan of kabupaten 3530: the district's and admin's only.
const P2: &str = "353002100101";
/// Kabupaten 3531 (desa `DESA_OUT`, no imported child): admin's only.
const P3: &str = "353102100109";
/// The imported desa kept in kabupaten 3530, and the ones moved to 3531.
const DESA_IN: &str = "3530012001";
const DESA_IN_TOO: &str = "3530012004";
const DESA_MOVED: [&str; 2] = ["3530021001", "3530022005"];
const DESA_OUT: &str = "3531021001";
const PASSWORD: &str = "kopi-tubruk-42";

/// A role as the walk sees it: its token and the area codes it holds
/// (`None`: everything).
struct Role {
    name: &'static str,
    token: String,
    areas: Option<Vec<&'static str>>,
}

impl Role {
    /// Whether `code` (a posyandu or desa) lies inside this role's area.
    fn holds(&self, code: &str) -> bool {
        self.areas
            .as_ref()
            .is_none_or(|areas| areas.iter().any(|a| code.starts_with(a)))
    }

    fn is_district_or_admin(&self) -> bool {
        matches!(self.name, "district" | "admin")
    }
}

/// What a refused action must leave as it was.
#[derive(Debug, PartialEq)]
struct Stored {
    changes: i64,
    merges: i64,
    /// Every review pair with its status.
    review: Vec<(i64, String)>,
    /// Every audit entry's action, in order.
    audit: Vec<String>,
}

fn stored(server: &Server) -> Stored {
    let conn = server.conn();
    let pairs = |sql: &str| -> Vec<(i64, String)> {
        let mut stmt = conn.prepare(sql).expect("prepare");
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .expect("query")
            .map(|r| r.expect("row"))
            .collect()
    };
    Stored {
        changes: server.count("changes"),
        merges: server.count("merges"),
        review: pairs("SELECT id, status FROM review ORDER BY id"),
        audit: pairs("SELECT id, action FROM audit ORDER BY id")
            .into_iter()
            .map(|(_, action)| action)
            .collect(),
    }
}

/// `check(role, "METHOD /path", expected)`: the answer has the expected
/// status, and when it is a refusal nothing was stored or audited.
fn check(server: &Server, role: &Role, action: &str, expected: u16) -> HttpResponse {
    let (method, path) = action.split_once(' ').expect("METHOD /path");
    let before = stored(server);
    let answer = http_request(server.addr(), method, path, &role.token, b"");
    assert_eq!(
        answer.status,
        expected,
        "{} {action}: {}",
        role.name,
        String::from_utf8_lossy(&answer.body)
    );
    if expected >= 400 {
        assert_eq!(
            stored(server),
            before,
            "{} {action} was refused and changed nothing",
            role.name
        );
    }
    answer
}

/// The synthetic rows of `DESA_IN` and `DESA_IN_TOO` as they are and of
/// `DESA_MOVED` moved to kabupaten 3531 (`DESA_OUT` is one of them),
/// written to `path`.
fn review_fixture(path: &Path) {
    let source = shared_dir().join("synthetic/measurements.csv");
    let mut reader = csv::Reader::from_path(&source).expect("synthetic measurements");
    let header = reader.headers().expect("header").clone();
    let column = |name: &str| {
        header
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("column {name} in {}", source.display()))
    };
    let (posyandu, desa, kader) = (
        column("posyandu_code"),
        column("desa_code"),
        column("kader_id"),
    );
    let mut writer = csv::Writer::from_path(path).expect("fixture file");
    writer.write_record(&header).expect("write header");
    for record in reader.records() {
        let record = record.expect("synthetic row");
        let mut row: Vec<String> = record.iter().map(str::to_owned).collect();
        if DESA_MOVED.contains(&row[desa].as_str()) {
            for i in [posyandu, desa, kader] {
                row[i] = format!("3531{}", &row[i][4..]);
            }
        } else if row[desa] != DESA_IN && row[desa] != DESA_IN_TOO {
            continue;
        }
        writer.write_record(&row).expect("write row");
    }
    writer.flush().expect("flush fixture");
}

/// Open review pairs whose two children both lie under `prefix`, neither
/// merged into a third and not both holding merged registrations (so that
/// accepting the pair can merge it: merges never chain).
fn open_pairs(server: &Server, prefix: &str) -> Vec<(i64, String, String)> {
    let conn = server.conn();
    let mut stmt = conn
        .prepare(
            "SELECT r.id, r.child_a, r.child_b FROM review r
               JOIN children a ON a.id = r.child_a
               JOIN children b ON b.id = r.child_b
              WHERE r.status = 'open'
                AND a.posyandu LIKE ?1 || '%' AND b.posyandu LIKE ?1 || '%'
                AND a.merged_into IS NULL AND b.merged_into IS NULL
                AND NOT (EXISTS (SELECT 1 FROM merges m
                                  WHERE m.survivor = r.child_a AND m.undone_at IS NULL)
                     AND EXISTS (SELECT 1 FROM merges m
                                  WHERE m.survivor = r.child_b AND m.undone_at IS NULL))
              ORDER BY r.id",
        )
        .expect("prepare");
    stmt.query_map([prefix], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .expect("query")
        .map(|r| r.expect("row"))
        .collect()
}

/// Two pairs of `pairs` that share no child (so deciding one leaves the
/// other open and decidable).
fn two_apart(pairs: &[(i64, String, String)], what: &str) -> (i64, i64) {
    let first = pairs
        .first()
        .unwrap_or_else(|| panic!("the dedup queued no pair {what}"));
    let second = pairs
        .iter()
        .find(|p| {
            ![&p.1, &p.2]
                .iter()
                .any(|c| **c == first.1 || **c == first.2)
        })
        .unwrap_or_else(|| panic!("the dedup queued no second, separate pair {what}"));
    (first.0, second.0)
}

fn csv_rows(answer: &HttpResponse) -> (Vec<String>, Vec<Vec<String>>) {
    let mut reader = csv::Reader::from_reader(answer.body.as_slice());
    let header = reader
        .headers()
        .expect("CSV header")
        .iter()
        .map(str::to_owned)
        .collect();
    let rows = reader
        .records()
        .map(|r| r.expect("CSV row").iter().map(str::to_owned).collect())
        .collect();
    (header, rows)
}

/// The last audit entry's action and detail.
fn last_audit(server: &Server) -> (String, String) {
    server
        .conn()
        .query_row(
            "SELECT action, detail FROM audit ORDER BY id DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("an audit entry")
}

/// The register export of `DESA_IN`: attachment, e-PPGBM header, NIK masked
/// and address withheld unless revealed, audited with counts.
fn check_export(server: &Server, role: &Role) {
    let masked = check(server, role, &format!("GET /v1/export?area={DESA_IN}"), 200);
    assert_eq!(
        masked.header("content-type"),
        Some("text/csv; charset=utf-8")
    );
    assert!(
        masked
            .header("content-disposition")
            .is_some_and(|d| d.starts_with("attachment;") && d.contains(".csv")),
        "{}",
        masked.head
    );
    let (header, rows) = csv_rows(&masked);
    let (nik, address) = (1, 16);
    assert_eq!((&*header[nik], &*header[address]), ("NIK", "Alamat"));
    assert!(
        !rows.is_empty(),
        "{} exports the desa's children",
        role.name
    );
    assert!(rows.iter().any(|r| !r[nik].is_empty()), "NIKs are listed");
    for row in &rows {
        assert!(row[nik].is_empty() || row[nik].contains('*'), "NIK masked");
        assert!(row[address].is_empty(), "address withheld");
    }
    assert_eq!(
        last_audit(server),
        (
            "export".to_owned(),
            format!("round=latest rows={} reveal=false", rows.len())
        )
    );

    let revealed = check(
        server,
        role,
        &format!("GET /v1/export?area={DESA_IN}&reveal=true"),
        200,
    );
    let (_, whole) = csv_rows(&revealed);
    assert_eq!(whole.len(), rows.len());
    assert!(whole.iter().all(|r| !r[nik].contains('*')), "NIK whole");
    assert!(whole.iter().any(|r| !r[address].is_empty()), "addresses");
    assert_eq!(
        last_audit(server).1,
        format!("round=latest rows={} reveal=true", rows.len())
    );

    let book = check(
        server,
        role,
        &format!("GET /v1/export?area={DESA_IN}&round=2024-03&format=xlsx"),
        200,
    );
    assert_eq!(
        book.header("content-type"),
        Some("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    );
    assert!(book.body.starts_with(b"PK"), "an xlsx is a zip file");
    assert!(last_audit(server).1.starts_with("round=2024-03 rows="));
}

/// Every child the server holds whose posyandu lies in the role's area.
fn children_in_area(server: &Server, role: &Role) -> BTreeSet<String> {
    let conn = server.conn();
    let mut stmt = conn
        .prepare("SELECT child_id, area FROM child_index")
        .expect("prepare");
    stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
        .expect("query")
        .map(|r| r.expect("row"))
        .filter(|(_, area)| role.holds(area))
        .map(|(id, _)| id)
        .collect()
}

/// A copy of `device`'s store (same key), as a stolen or cloned phone would be.
fn copy_of(device: &Device) -> Device {
    let copy = Device::uninitialised();
    device
        .conn()
        .execute("VACUUM INTO ?1", [copy.db().to_str().expect("utf-8 path")])
        .expect("copy the store");
    std::fs::copy(
        field_client::pin::key_file_path(device.db()),
        field_client::pin::key_file_path(copy.db()),
    )
    .expect("copy the key file");
    copy
}

/// Upload by sync, inside the area (a new child at P1 and a weighing of
/// the P1 child) and outside it (a new child at P3 and a weighing of the P3
/// child, from a copy of the P3 kader's store): inside is stored; outside is
/// refused and nothing of it stored, unless the role holds P3 (admin).
fn check_uploads(server: &Server, role: &Role, children: &[String; 3], p3_store: &Device) {
    // Inside: the device first receives exactly the children of its area.
    let device = Device::at(P1);
    device.login(&server.url(), &role.token);
    device.sync();
    assert_eq!(
        device.child_ids(),
        children_in_area(server, role),
        "{} receives exactly its area",
        role.name
    );
    let added = device.add_child(&format!("Anak {}", role.name), "P", "2023-02-02", "Ibu");
    device.measure(&children[0], "2024-08-05", "10.2", &[]);
    let summary = device.sync();
    assert_eq!(summary["rejected"].as_array().map(Vec::len), Some(0));
    assert!(
        device.hashes().is_subset(&server.hashes()),
        "{} uploads in its area: {summary}",
        role.name
    );
    assert!(children_in_area(server, role).contains(&added));

    // Outside: refused for every role but admin, whose area P3 is.
    let rogue = copy_of(p3_store);
    rogue.login(&server.url(), &role.token);
    let before_hashes = rogue.hashes();
    let stray = rogue.add_child(&format!("Luar {}", role.name), "L", "2023-03-03", "Ibu");
    rogue.measure(&children[2], "2024-08-06", "9.9", &[]);
    let new: BTreeSet<Vec<u8>> = rogue.hashes().difference(&before_hashes).cloned().collect();
    assert_eq!(new.len(), 2, "a registration and a weighing");
    let before = stored(server);
    let summary = rogue.sync();
    if role.holds(P3) {
        assert!(new.is_subset(&server.hashes()), "{summary}");
        return;
    }
    assert_eq!(
        summary["sent"], 0,
        "{} outside its area: {summary}",
        role.name
    );
    for child in [&stray, &children[2]] {
        assert!(
            summary["rejected"].as_array().is_some_and(|r| r
                .iter()
                .any(|r| r.as_str().is_some_and(|r| r.contains(child.as_str())))),
            "{} outside its area: {child} refused: {summary}",
            role.name
        );
    }
    assert!(server.hashes().is_disjoint(&new), "nothing of it stored");
    let after = stored(server);
    assert_eq!(
        (after.changes, after.merges, &after.review),
        (before.changes, before.merges, &before.review),
        "{} uploading outside its area changed nothing",
        role.name
    );
    assert_eq!(after.audit[..before.audit.len()], before.audit[..]);
    assert!(
        after.audit[before.audit.len()..]
            .iter()
            .all(|a| a == "snapshot.read"),
        "only the sync's own read is audited: {:?}",
        &after.audit[before.audit.len()..]
    );
    let indexed: i64 = server
        .conn()
        .query_row(
            "SELECT count(*) FROM child_index WHERE child_id = ?1",
            [&stray],
            |r| r.get(0),
        )
        .expect("query");
    assert_eq!(indexed, 0, "the server has no such child");
}

/// A person's session in `role` over `area`: reads as its role, never syncs;
/// the whole document only as district or admin, audited as a reveal.
fn check_session(server: &Server, role: &'static str, area: &str, children: &[String; 3]) {
    let area = match area {
        "all" => ["--all-areas", ""],
        some => ["--area", some],
    };
    let added = server
        .cmd()
        .args(["--json", "user", "add", role, "--role", role])
        .args(area.iter().filter(|a| !a.is_empty()))
        .write_stdin(format!("{PASSWORD}\n"))
        .output()
        .expect("user add");
    assert!(
        added.status.success(),
        "{}",
        String::from_utf8_lossy(&added.stderr)
    );
    let body = json!({ "name": role, "password": PASSWORD }).to_string();
    let signed_in = http_request(server.addr(), "POST", "/v1/session", "", body.as_bytes());
    assert_eq!(signed_in.status, 200);
    let session = Role {
        name: role,
        token: signed_in.json()["token"]
            .as_str()
            .expect("session token")
            .to_owned(),
        // Unused: each check below names what the session may do.
        areas: None,
    };
    let [inside, _, outside] = children;
    check(server, &session, &format!("GET /v1/children/{inside}"), 200);
    check(server, &session, "POST /v1/sync", 403);
    if matches!(role, "district" | "admin") {
        check(server, &session, &format!("GET /v1/docs/{inside}"), 200);
        assert_eq!(last_audit(server).0, "document.reveal");
        let beyond = if role == "admin" { 200 } else { 404 };
        check(server, &session, &format!("GET /v1/docs/{outside}"), beyond);
    } else {
        check(server, &session, &format!("GET /v1/docs/{inside}"), 403);
    }
}

#[test]
fn every_role_can_do_exactly_what_its_area_allows() {
    // No background dedup (it would queue or merge in the middle of a
    // before/after comparison), and no rate limit in the way of the walk.
    let server = Server::start_with(&["--dedup-every", "0", "--rate-limit", "1000"]);
    let fixture = tempfile::tempdir().expect("temp dir");
    let file = fixture.path().join("two-desa.csv");
    review_fixture(&file);
    let imported = server.json(&["import", file.to_str().expect("utf-8 path")]);
    assert_eq!(imported["rejected"], 0, "{imported}");

    // One child per posyandu, each registered by a kader enrolled there.
    let mut kader_stores = Vec::new();
    for p in [P1, P2, P3] {
        let device = Device::at(p);
        device.login(&server.url(), &server.enrol("kader", p));
        let child = device.add_child(&format!("Anak {p}"), "L", "2023-01-01", "Ibu");
        device.measure(
            &child,
            "2024-08-01",
            "10.0",
            &["--height", "80.0", "--position", "standing"],
        );
        device.sync();
        kader_stores.push((device, child));
    }
    let children: [String; 3] = std::array::from_fn(|i| kader_stores[i].1.clone());
    server.wait_projected();

    let (in_pair, in_pair_2) = two_apart(&open_pairs(&server, "3530"), "in kabupaten 3530");
    let (out_pair, out_pair_2) = two_apart(&open_pairs(&server, "3531"), "in kabupaten 3531");

    let roles = [
        Role {
            name: "kader",
            token: server.enrol("kader", P1),
            areas: Some(vec![P1]),
        },
        Role {
            name: "bidan",
            token: server.enrol("bidan", &P1[..10]),
            areas: Some(vec![&P1[..10]]),
        },
        Role {
            name: "puskesmas",
            token: server.enrol("puskesmas", "3530012002,3530012003"),
            areas: Some(vec!["3530012002", "3530012003"]),
        },
        Role {
            name: "district",
            token: server.enrol("district", "3530"),
            areas: Some(vec!["3530"]),
        },
        Role {
            name: "admin",
            token: server.admin_token().to_owned(),
            areas: None,
        },
    ];
    for role in &roles {
        let ask = |action: &str, expected: u16| check(&server, role, action, expected);
        let area_status = |inside: bool| if inside { 200 } else { 403 };
        // Children: one read, the whole document, the by-name list.
        for (child, posyandu) in children.iter().zip([P1, P2, P3]) {
            let inside = role.holds(posyandu);
            let child_status = if inside { 200 } else { 404 };
            ask(&format!("GET /v1/children/{child}"), child_status);
            ask(&format!("GET /v1/docs/{child}"), child_status);
            let list = ask(
                &format!("GET /v1/children?area={posyandu}"),
                area_status(inside),
            );
            if inside {
                assert!(
                    list.json()["children"]
                        .as_array()
                        .expect("children")
                        .iter()
                        .any(|c| c["id"] == child.as_str()),
                    "{} lists the child of {posyandu}",
                    role.name
                );
            }
        }
        ask("GET /v1/conflicts", 200);

        // Verval report, worklist and export, per desa.
        for desa in [&P1[..10], DESA_IN, DESA_OUT] {
            let inside = role.holds(desa);
            let report = role.is_district_or_admin() && inside;
            let worklist = role.name != "kader" && inside;
            ask(
                &format!("GET /v1/verval?round=2024-08&area={desa}"),
                area_status(report),
            );
            ask(
                &format!("GET /v1/verval/worklist?round=2024-08&area={desa}"),
                area_status(worklist),
            );
            ask(&format!("GET /v1/export?area={desa}"), area_status(report));
        }
        if role.is_district_or_admin() {
            check_export(&server, role);
        } else {
            ask(&format!("GET /v1/export?area={DESA_IN}&reveal=true"), 403);
        }

        // The review queue: district and admin, pairs in their area.
        if !role.is_district_or_admin() {
            ask("GET /v1/review", 403);
            for pair in [in_pair, out_pair] {
                ask(&format!("GET /v1/review/{pair}"), 403);
                ask(&format!("POST /v1/review/{pair}/accept"), 403);
                ask(&format!("POST /v1/review/{pair}/reject"), 403);
            }
        } else {
            let listed: BTreeSet<i64> = ask("GET /v1/review?limit=500", 200).json()["reviews"]
                .as_array()
                .expect("reviews")
                .iter()
                .map(|r| r["id"].as_i64().expect("id"))
                .collect();
            let out_status = if role.holds(P3) { 200 } else { 404 };
            assert_eq!(listed.contains(&out_pair), out_status == 200, "{listed:?}");
            ask(&format!("GET /v1/review/{out_pair}"), out_status);
            if role.name == "district" {
                assert!(listed.contains(&in_pair), "{listed:?}");
                ask(&format!("GET /v1/review/{in_pair}"), 200);
                ask(&format!("POST /v1/review/{out_pair}/reject"), 404);
                ask(&format!("POST /v1/review/{out_pair}/accept"), 404);
                ask(&format!("POST /v1/review/{in_pair_2}/reject"), 200);
                ask(&format!("POST /v1/review/{in_pair}/accept"), 200);
            } else {
                ask(&format!("POST /v1/review/{out_pair_2}/reject"), 200);
                ask(&format!("POST /v1/review/{out_pair}/accept"), 200);
            }
        }

        check_uploads(&server, role, &children, &kader_stores[2].0);
    }
    let status_of = |id: i64| -> String {
        server
            .conn()
            .query_row("SELECT status FROM review WHERE id = ?1", [id], |r| {
                r.get(0)
            })
            .expect("review row")
    };
    assert_eq!(
        [in_pair, in_pair_2, out_pair, out_pair_2].map(status_of),
        ["accepted", "rejected", "accepted", "rejected"].map(str::to_owned),
        "each pair decided once, by the role allowed to"
    );

    // People's sessions (kader work on devices only).
    for (role, area) in [
        ("bidan", &P1[..10]),
        ("puskesmas", "3530012002,3530012003"),
        ("district", "3530"),
        ("admin", "all"),
    ] {
        check_session(&server, role, area, &children);
    }

    // No token: nothing at all.
    let nobody = Role {
        name: "nobody",
        token: "tmb_nothing".into(),
        areas: Some(Vec::new()),
    };
    check(&server, &nobody, "GET /v1/conflicts", 401);
    check(
        &server,
        &nobody,
        &format!("GET /v1/export?area={DESA_IN}"),
        401,
    );
    server.assert_sound();
}
