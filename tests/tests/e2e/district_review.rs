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
