//! The role × action matrix of ARCHITECTURE.md, walked in full: every role
//! (kader, bidan, puskesmas, district, admin) tries every HTTP action on a
//! child inside and a child outside its area. Allowed succeeds; denied gets
//! 403 (an area) or 404 (a child, so its existence is not revealed) and
//! changes nothing; sync brings exactly the children of the area. The
//! verval report and worklist are walked the same way.

use tumbuh_tests::{Device, Server};

const P1: &str = "353001200205"; // desa 3530012002, kecamatan 353001
const P2: &str = "353002100101"; // another kecamatan of the same kabupaten

#[test]
fn every_role_can_do_exactly_what_its_area_allows() {
    let server = Server::start();
    let mut ids = Vec::new();
    for p in [P1, P2] {
        let d = Device::at(p);
        d.login(&server.url(), &server.enrol("kader", p));
        ids.push(d.add_child(&format!("Anak {p}"), "L", "2023-01-01", "Ibu"));
        d.sync();
    }
    server.wait_projected();
    let changes_before = server.count("changes");
    let roles: Vec<(&str, String, [bool; 2])> = vec![
        ("kader", server.enrol("kader", P1), [true, false]),
        ("bidan", server.enrol("bidan", &P1[..10]), [true, false]),
        (
            "puskesmas",
            server.enrol("puskesmas", "3530012002,3530012003"),
            [true, false],
        ),
        ("district", server.enrol("district", "3530"), [true, true]),
        ("admin", server.admin_token().to_string(), [true, true]),
    ];
    for (role, token, allowed) in &roles {
        for ((child, posyandu), ok) in ids.iter().zip([P1, P2]).zip(allowed) {
            let read = server.get(&format!("/v1/children/{child}"), token).status;
            let doc = server.get(&format!("/v1/docs/{child}"), token).status;
            let list = server.get(&format!("/v1/children?area={posyandu}"), token);
            let expect = |yes: u16, no: u16| if *ok { yes } else { no };
            assert_eq!(read, expect(200, 404), "{role} reads child in {posyandu}");
            assert_eq!(doc, expect(200, 404), "{role} reads document in {posyandu}");
            assert_eq!(list.status, expect(200, 403), "{role} lists {posyandu}");
            if *ok {
                let listed = list.json()["children"].as_array().expect("list").len();
                assert_eq!(listed, 1, "{role} lists the one child of {posyandu}");
            }
        }
        assert_eq!(
            server.get("/v1/conflicts", token).status,
            200,
            "{role} conflicts"
        );
        // Verval: the worklist is for bidan and up in their area, the report
        // for the district (both within its kabupaten) and admin.
        for (posyandu, ok) in [P1, P2].iter().zip(allowed) {
            let desa = &posyandu[..10];
            let worklist = server
                .get(
                    &format!("/v1/verval/worklist?round=2024-08&area={desa}"),
                    token,
                )
                .status;
            let report = server
                .get(&format!("/v1/verval?round=2024-08&area={desa}"), token)
                .status;
            let (w, r) = match *role {
                "kader" => (403, 403),
                "bidan" | "puskesmas" => (if *ok { 200 } else { 403 }, 403),
                _ => (200, 200),
            };
            assert_eq!(worklist, w, "{role} worklist of {desa}");
            assert_eq!(report, r, "{role} verval report of {desa}");
        }
        // Sync brings exactly the children of the area.
        let device = Device::at(P1);
        device.login(&server.url(), token);
        device.sync();
        let expected: std::collections::BTreeSet<String> = ids
            .iter()
            .zip(allowed)
            .filter(|(_, ok)| **ok)
            .map(|(id, _)| id.clone())
            .collect();
        assert_eq!(device.child_ids(), expected, "{role} receives its area");
    }
    assert_eq!(
        server.count("changes"),
        changes_before,
        "reads changed nothing"
    );
    // No token: nothing at all.
    assert_eq!(server.get("/v1/conflicts", "tmb_nothing").status, 401);
}
