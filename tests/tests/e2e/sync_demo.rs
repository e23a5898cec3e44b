//! `tumbuh-server demo` seeds a district that a new device can sync at once.

use tumbuh_tests::{Device, Server};

#[test]
fn the_demo_district_syncs_to_a_new_kader_device() {
    let server = Server::start();
    let demo = server.json(&["demo"]);
    assert_eq!(demo["children"], 30);
    let tokens = demo["tokens"].as_array().expect("tokens");
    let (area, token) = tokens
        .iter()
        .find(|t| t[0] == "kader")
        .map(|t| (t[1].as_str().expect("area"), t[2].as_str().expect("token")))
        .expect("a kader token");
    assert_eq!(area.len(), 12);
    let device = Device::at(area);
    device.login(&server.url(), token);
    let summary = device.sync();
    assert_eq!(summary["snapshot_children"], 15, "{summary}");
    assert_eq!(summary["verified"], true, "{summary}");
    assert_eq!(device.count("children"), 15);
    let stunted: i64 = device
        .conn()
        .query_row("SELECT count(*) FROM children WHERE stunted = 1", [], |r| {
            r.get(0)
        })
        .expect("count");
    assert!(
        stunted > 0 && stunted < 15,
        "some, not all, stunted: {stunted}"
    );
    // A second demo on the same database is refused rather than doubled.
    let again = server.cmd().arg("demo").output().expect("run demo");
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already holds children"));
}
