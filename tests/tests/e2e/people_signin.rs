//! People's sign-in, separate from device tokens: a district officer added
//! with `tumbuh-server user add` signs in with a password at
//! `POST /v1/session`, reads what the role allows, cannot sync, signs out;
//! wrong passwords are refused alike and lock the name; passwords and
//! session tokens are stored only as hashes; everything is audited.

use serde_json::{Value, json};
use tumbuh_tests::{Server, http_request};

const PASSWORD: &str = "kopi-tubruk-42";

fn add_user(
    server: &Server,
    name: &str,
    role: &str,
    area: &str,
    password: &str,
) -> std::process::Output {
    server
        .cmd()
        .args([
            "--json", "user", "add", name, "--role", role, "--area", area,
        ])
        .write_stdin(format!("{password}\n"))
        .output()
        .expect("user add")
}

fn sign_in(server: &Server, name: &str, password: &str) -> (u16, Value) {
    let body = json!({ "name": name, "password": password }).to_string();
    let r = http_request(server.addr(), "POST", "/v1/session", "", body.as_bytes());
    let v = serde_json::from_slice(&r.body).unwrap_or(Value::Null);
    (r.status, v)
}

#[test]
fn a_person_signs_in_reads_within_the_role_cannot_sync_and_signs_out() {
    let server = Server::start();
    let added = add_user(&server, "rina", "district", "3530", PASSWORD);
    assert!(
        added.status.success(),
        "{}",
        String::from_utf8_lossy(&added.stderr)
    );
    // Weak passwords and kader accounts are refused.
    let weak = add_user(&server, "budi", "district", "3530", "pendek");
    assert!(!weak.status.success());
    assert!(String::from_utf8_lossy(&weak.stderr).contains("too short"));
    let kader = add_user(&server, "ani", "kader", "353001200205", PASSWORD);
    assert!(!kader.status.success());

    let (status, session) = sign_in(&server, "rina", PASSWORD);
    assert_eq!(status, 200, "{session}");
    let token = session["token"].as_str().expect("token").to_owned();
    assert!(token.starts_with("tmbs_"));
    assert_eq!(session["role"], "district");
    assert_eq!(session["area"], "3530");

    // Reads like a district device; a desa outside the kabupaten is refused.
    assert_eq!(server.get("/v1/verval?round=2024-08", &token).status, 200);
    assert_eq!(server.get("/v1/review", &token).status, 200);
    assert_eq!(
        server
            .get("/v1/verval?round=2024-08&area=3571", &token)
            .status,
        403
    );
    // But never syncs.
    let login = http_request(
        server.addr(),
        "POST",
        "/v1/login",
        &token,
        br#"{"device_id":"01a20859-f53b-76af-a518-4fc153becbe9"}"#,
    );
    assert_eq!(login.status, 403);
    assert_eq!(
        http_request(server.addr(), "POST", "/v1/sync", &token, b"").status,
        403
    );

    // Stored only as hashes.
    let conn = server.conn();
    let stored: String = conn
        .query_row("SELECT password FROM users WHERE name = 'rina'", [], |r| {
            r.get(0)
        })
        .expect("user row");
    assert!(stored.starts_with("$argon2id$") && !stored.contains(PASSWORD));
    let plain: i64 = conn
        .query_row(
            "SELECT count(*) FROM sessions WHERE token_hash = ?1",
            [token.as_bytes()],
            |r| r.get(0),
        )
        .expect("sessions");
    assert_eq!(plain, 0, "the token itself is not stored");

    // Signing out ends the session.
    let out = http_request(server.addr(), "DELETE", "/v1/session", &token, b"");
    assert_eq!(out.status, 200);
    let after = server.get("/v1/review", &token);
    assert_eq!(after.status, 401);
    assert!(String::from_utf8_lossy(&after.body).contains("sign in again"));

    // A device token cannot "sign out".
    let device = server.enrol("kader", "353001200205");
    assert_eq!(
        http_request(server.addr(), "DELETE", "/v1/session", &device, b"").status,
        403
    );

    // Disabled: sign-in refused like a wrong password.
    let (status, _) = sign_in(&server, "rina", PASSWORD);
    assert_eq!(status, 200);
    server.json(&["user", "disable", "rina"]);
    assert_eq!(sign_in(&server, "rina", PASSWORD).0, 401);

    let actions: Vec<String> = server
        .conn()
        .prepare("SELECT action FROM audit WHERE action LIKE 'user.%' OR action LIKE 'session.%'")
        .expect("audit")
        .query_map([], |r| r.get(0))
        .expect("rows")
        .collect::<Result<_, _>>()
        .expect("actions");
    for a in [
        "user.add",
        "session.signin",
        "session.signout",
        "user.disable",
    ] {
        assert!(actions.iter().any(|x| x == a), "{a} audited: {actions:?}");
    }
}

#[test]
fn wrong_passwords_are_refused_alike_and_lock_the_name() {
    let server = Server::start();
    let added = add_user(&server, "rina", "district", "3530", PASSWORD);
    assert!(added.status.success());
    let (unknown, v) = sign_in(&server, "nobody", PASSWORD);
    let (wrong, w) = sign_in(&server, "rina", "not-the-password");
    assert_eq!((unknown, wrong), (401, 401));
    assert_eq!(
        v["error"], w["error"],
        "an unknown name answers like a wrong password"
    );
    for _ in 1..5 {
        assert_eq!(sign_in(&server, "rina", "not-the-password").0, 401);
    }
    // Five wrong in a row: locked, even with the right password.
    let (status, locked) = sign_in(&server, "rina", PASSWORD);
    assert_eq!(status, 429, "{locked}");
    assert!(
        locked["error"]
            .as_str()
            .is_some_and(|e| e.contains("locked"))
    );
    // The operator's new password unlocks it.
    let reset = server
        .cmd()
        .args(["user", "password", "rina"])
        .write_stdin("teh-manis-hangat-7\n")
        .output()
        .expect("run");
    assert!(reset.status.success());
    assert_eq!(sign_in(&server, "rina", "teh-manis-hangat-7").0, 200);
    assert_eq!(sign_in(&server, "rina", PASSWORD).0, 401);
}
