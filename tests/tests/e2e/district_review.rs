//! The district's review queue, end to end: the synthetic posyandu data are
//! imported into a real server, the dedup queues its doubtful pairs, and a
//! person works through them from the command line and the JSON API.

use serde_json::Value;
use tumbuh_tests::{Server, http_request, shared_dir};

fn review_status(server: &Server, id: i64) -> String {
    server
        .conn()
        .query_row("SELECT status FROM review WHERE id = ?1", [id], |r| {
            r.get(0)
        })
        .expect("review row")
}

#[test]
fn doubtful_pairs_are_reviewed_side_by_side_and_decisions_stick() {
    let server = Server::start();
    let file = shared_dir().join("synthetic/measurements.csv");
    let imported = server.json(&["import", file.to_str().expect("path")]);
    assert_eq!(imported["rejected"], 0, "{imported}");
    let dedup = &imported["dedup"];
    assert!(dedup["merged"].as_u64() > Some(500), "{imported}");
    assert!(dedup["review_added"].as_u64() > Some(0), "{imported}");
    // Each pair queued is audited, by the run, with its score and the
    // engine's evidence: agreement codes, not the children's names.
    let conn = server.conn();
    let queued: i64 = conn
        .query_row(
            "SELECT count(*) FROM audit WHERE action = 'review.queue'",
            [],
            |r| r.get(0),
        )
        .expect("audit count");
    assert_eq!(Some(queued as u64), dedup["review_added"].as_u64());
    let details = tumbuh_tests::strings_of(
        &conn,
        "SELECT detail FROM audit WHERE action = 'review.queue'",
    );
    let names = tumbuh_tests::strings_of(&conn, "SELECT name FROM children");
    for detail in &details {
        assert!(
            detail.contains("score=") && detail.contains("evidence: "),
            "{detail}"
        );
        assert!(
            !names.iter().any(|n| detail.contains(n.as_str())),
            "{detail}"
        );
    }
    // Every pair names the children as they stand after the run's merges:
    // a registration merged away is represented by its survivor, so every
    // queued pair can be decided (a merge never chains).
    let stale: i64 = conn
        .query_row(
            "SELECT count(*) FROM review r JOIN children a ON a.id = r.child_a
               JOIN children b ON b.id = r.child_b
              WHERE r.status = 'open'
                AND (a.merged_into IS NOT NULL OR b.merged_into IS NOT NULL)",
            [],
            |r| r.get(0),
        )
        .expect("pairs naming merged registrations");
    assert_eq!(stale, 0, "open pairs naming a merged-away registration");
    drop(conn);

    // The queue: open pairs, the most important first.
    let list = server.json(&["review", "list", "--limit", "500"]);
    let pairs = list.as_array().expect("a list");
    assert!(!pairs.is_empty());
    let priorities: Vec<i64> = pairs
        .iter()
        .map(|p| p["priority"].as_i64().expect("priority"))
        .collect();
    assert!(
        priorities.windows(2).all(|w| w[0] >= w[1]),
        "ordered by priority: {priorities:?}"
    );
    assert!(pairs.iter().all(|p| p["status"] == "open"));

    // Side by side, identity numbers masked unless asked for.
    let first = pairs[0]["id"].as_i64().expect("id");
    let shown = server.json(&["review", "show", &first.to_string()]);
    let fields = shown["fields"].as_array().expect("fields");
    assert_eq!(fields.len(), 12, "{shown}");
    assert!(fields.iter().any(|f| f["field"] == "name"));
    for d in [&shown["a"], &shown["b"]] {
        assert!(d["measurements"].as_array().is_some_and(|m| !m.is_empty()));
        if let Some(nik) = d["nik"].as_str() {
            assert!(nik.contains('*'), "NIK masked: {nik}");
        }
    }
    assert!(!shown["evidence"].as_str().unwrap_or("").is_empty());

    // The API: the district sees the same queue, a kader is refused.
    let district = server.enrol("district", "3530");
    let kader = server.enrol("kader", "353001200205");
    let api = server.get("/v1/review?limit=500", &district);
    assert_eq!(api.status, 200);
    let api_ids: Vec<i64> = api.json()["reviews"]
        .as_array()
        .expect("reviews")
        .iter()
        .map(|r| r["id"].as_i64().expect("id"))
        .collect();
    let cli_ids: Vec<i64> = pairs
        .iter()
        .map(|p| p["id"].as_i64().expect("id"))
        .collect();
    assert_eq!(api_ids, cli_ids);
    assert_eq!(server.get("/v1/review", &kader).status, 403);
    let view = server.get(&format!("/v1/review/{first}"), &district);
    assert_eq!(view.status, 200);
    assert_eq!(view.json()["child_a"], pairs[0]["child_a"]);

    // Accept one on the command line: a merge by review, audited.
    let accepted = server.json(&["review", "accept", &first.to_string()]);
    assert_eq!(accepted["review"]["status"], "accepted", "{accepted}");
    assert_eq!(accepted["merge"]["source"], "review");
    let duplicate = accepted["merge"]["duplicate"].as_str().expect("duplicate");
    let merged_into: Option<String> = server
        .conn()
        .query_row(
            "SELECT merged_into FROM children WHERE id = ?1",
            [duplicate],
            |r| r.get(0),
        )
        .expect("row");
    assert_eq!(
        merged_into.as_deref(),
        accepted["merge"]["survivor"].as_str()
    );

    // Reject another through the API: kept apart, even by later dedup runs.
    let second = pairs
        .iter()
        .map(|p| p["id"].as_i64().expect("id"))
        .find(|&id| review_status(&server, id) == "open")
        .expect("another open pair");
    let rejected = http_request(
        server.addr(),
        "POST",
        &format!("/v1/review/{second}/reject"),
        &district,
        b"",
    );
    assert_eq!(
        rejected.status,
        200,
        "{}",
        String::from_utf8_lossy(&rejected.body)
    );
    assert_eq!(review_status(&server, second), "rejected");
    let again = http_request(
        server.addr(),
        "POST",
        &format!("/v1/review/{second}/accept"),
        &district,
        b"{}",
    );
    assert_eq!(again.status, 409, "a decided pair is not decided twice");
    let rerun: Value = server.json(&["dedup"]);
    assert_eq!(rerun["merged"], 0, "nothing new, nothing merged: {rerun}");
    assert_eq!(review_status(&server, second), "rejected");

    // A later file: the same child registered afresh with its name typed
    // differently. Only the new registration is compared with its blocks,
    // with the weights of the full run.
    let first_import_pairs = dedup["candidate_pairs"].as_u64().expect("pairs");
    let original = std::fs::read_to_string(&file).expect("synthetic file");
    let mut lines = original.lines();
    let header = lines.next().expect("header");
    let row = lines.next().expect("a row");
    let mut cells: Vec<String> = row.split(',').map(str::to_owned).collect();
    assert_eq!(cells[8], "Mochammad Rafa", "the row this test relies on");
    cells[0] = "0a1b2c3d-0000-4000-8000-000000000001".into();
    cells[1] = "2024-09".into();
    cells[2] = "2024-09-02".into();
    cells[8] = "Moch. Rafa".into();
    let later = tempfile::tempdir().expect("temp dir");
    let later_file = later.path().join("september.csv");
    std::fs::write(&later_file, format!("{header}\n{}\n", cells.join(","))).expect("write");
    let second = server.json(&["import", later_file.to_str().expect("path")]);
    let dedup2 = &second["dedup"];
    assert_eq!(dedup2["full"], false, "{second}");
    assert_eq!(dedup2["changed"], 1, "{second}");
    let pairs = dedup2["candidate_pairs"].as_u64().expect("pairs");
    assert!(
        pairs > 0 && pairs * 100 < first_import_pairs,
        "an increment compares a few pairs, not the district: {pairs} vs {first_import_pairs}"
    );
    let linked =
        dedup2["merged"].as_u64().unwrap_or(0) + dedup2["review_added"].as_u64().unwrap_or(0);
    assert_eq!(
        linked, 1,
        "the new registration is merged or queued: {second}"
    );

    let audit = server.json(&["audit", "--action", "review"]);
    let actions: Vec<&str> = audit
        .as_array()
        .expect("entries")
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert!(actions.contains(&"review.accept"), "{actions:?}");
    assert!(actions.contains(&"review.reject"), "{actions:?}");
    assert!(actions.contains(&"review.read"), "{actions:?}");
    server.assert_sound();
}

const FIELD_HEADER: &str = "record_id,round,measured_on,posyandu_code,desa_code,kader_id,nik,no_kk,name,sex,birth_date,birth_weight_kg,mother_name,mother_nik,father_name,rt,rw,address,weight_kg,height_cm,measure_position,muac_cm";

/// A girl born 2023-03-10 measured lying on 2024-08-05: stunted at 70 cm
/// (HAZ about −3.4), not at 76.5 cm (about −1.2).
fn girl(id: &str, name: &str, mother: &str, posyandu: &str, height: &str) -> String {
    format!(
        "{id},2024-08,2024-08-05,{posyandu},{},K1,,,{name},P,2023-03-10,3.1,{mother},,,1,2,Dsn Krajan,9.1,{height},lying,\n",
        &posyandu[..10]
    )
}

#[test]
fn stunted_pairs_come_first_and_a_district_page_holds_only_its_own_pairs() {
    let server = Server::start();
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("pairs.csv");
    let home = "353001200101";
    let elsewhere = "357101100101";
    let rows = [
        girl("n1", "Ani", "Sri", home, "76.5"),
        girl("n2", "Ana", "Sri", home, "76.4"),
        girl("s1", "Citra", "Rina", home, "70.0"),
        girl("s2", "Cinta", "Rina", home, "76.6"),
        girl("o1", "Oki", "Wati", elsewhere, "70.0"),
        girl("o2", "Okta", "Wati", elsewhere, "70.1"),
    ];
    std::fs::write(&file, format!("{FIELD_HEADER}\n{}", rows.concat())).expect("write");
    let imported = server.json(&["import", file.to_str().expect("path"), "--no-dedup"]);
    assert_eq!(imported["stored"]["children_created"], 6, "{imported}");
    let conn = server.conn();
    let id = |name: &str| -> String {
        conn.query_row("SELECT id FROM children WHERE name = ?1", [name], |r| {
            r.get(0)
        })
        .unwrap_or_else(|e| panic!("{name}: {e}"))
    };
    // Queued in this order, with the priorities frozen at queueing as an
    // older server stored them (the non-stunted pair high): the order must
    // come from the children as they are now.
    let queue = [
        ("Ani", "Ana", 0.9, 9),
        ("Citra", "Cinta", 0.6, 0),
        ("Oki", "Okta", 0.95, 9),
    ];
    let mut ids = std::collections::HashMap::new();
    for (a, b, score, frozen) in queue {
        let (x, y) = (id(a), id(b));
        let (x, y) = if x <= y { (x, y) } else { (y, x) };
        conn.execute(
            "INSERT INTO review (child_a, child_b, score, evidence, priority, created_at)
             VALUES (?1, ?2, ?3, 'name=variant(+2.0)', ?4, 0)",
            rusqlite::params![x, y, score, frozen],
        )
        .expect("queue a pair");
        ids.insert(a, conn.last_insert_rowid());
    }
    drop(conn);

    let list = server.json(&["review", "list"]);
    let order: Vec<i64> = list
        .as_array()
        .expect("a list")
        .iter()
        .map(|p| p["id"].as_i64().expect("id"))
        .collect();
    // Two stunted children elsewhere, one stunted child at home, none.
    assert_eq!(order, [ids["Oki"], ids["Citra"], ids["Ani"]], "{list}");

    // The district of 3530, two to a page: its two pairs, although the pair
    // elsewhere ranks above both.
    let district = server.enrol("district", "3530");
    let page = server.get("/v1/review?limit=2", &district);
    assert_eq!(page.status, 200);
    let got: Vec<i64> = page.json()["reviews"]
        .as_array()
        .expect("reviews")
        .iter()
        .map(|r| r["id"].as_i64().expect("id"))
        .collect();
    assert_eq!(got, [ids["Citra"], ids["Ani"]]);
    let elsewhere_district = server.enrol("district", "3571");
    let theirs = server.get("/v1/review?limit=1", &elsewhere_district);
    assert_eq!(theirs.json()["reviews"][0]["id"], ids["Oki"]);
}
