//! The field store at rest: encrypted under a key unlocked by the kader's PIN.
//! Walks what an attacker holding the phone's files finds (no name, NIK or
//! token in the clear, in the store or its WAL), a wrong or missing PIN
//! (refused with exit code 2, nothing touched), the right PIN, sync, PIN
//! change, and a store made before PINs (refused, then encrypted by
//! `tumbuh pin set`).

use std::path::{Path, PathBuf};

use field_client::pin::{KdfParams, Pin, key_file_path};
use field_client::store::{StoreError, open_connection};
use predicates::prelude::*;
use serde_json::Value;
use tumbuh_tests::{Device, PIN, Server};

const NAME: &str = "Wulandari Kusumawardani";
const MOTHER: &str = "Ratnaningsih Purbasari";
/// A girl born 17 May 2023 in kecamatan 353001 (day + 40).
const NIK: &str = "3530015705230007";
const NO_KK: &str = "3530010101190042";

/// Registers the test child with its NIK and KK number and weighs it.
fn register(d: &Device) -> String {
    let v = d.json(&[
        "child",
        "add",
        "--name",
        NAME,
        "--sex",
        "P",
        "--birth-date",
        "2023-05-17",
        "--mother-name",
        MOTHER,
        "--nik",
        NIK,
        "--no-kk",
        NO_KK,
        "--address",
        "Dusun Krajan",
        "--new",
    ]);
    let id = v["id"].as_str().expect("id").to_string();
    d.measure(
        &id,
        "2024-05-02",
        "8.9",
        &["--height", "74.5", "--position", "lying"],
    );
    id
}

/// `path` with `suffix` appended (`tumbuh.db` → `tumbuh.db-wal`).
fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_os_string();
    s.push(suffix);
    PathBuf::from(s)
}

/// Every file of the store (the database, its WAL and shared memory, the
/// sidecar) as bytes, for "nothing changed" comparisons.
fn files(d: &Device) -> Vec<(String, Option<Vec<u8>>)> {
    ["", "-wal", "-shm", "-journal", ".kdf"]
        .iter()
        .map(|s| (s.to_string(), std::fs::read(with_suffix(d.db(), s)).ok()))
        .collect()
}

/// Whether `needle` occurs in `haystack`, as UTF-8 or as UTF-16 (either order).
fn contains(haystack: &[u8], needle: &str) -> bool {
    let utf16 = |big: bool| -> Vec<u8> {
        needle
            .encode_utf16()
            .flat_map(|u| {
                if big {
                    u.to_be_bytes()
                } else {
                    u.to_le_bytes()
                }
            })
            .collect()
    };
    [needle.as_bytes().to_vec(), utf16(true), utf16(false)]
        .iter()
        .any(|n| haystack.windows(n.len()).any(|w| w == n.as_slice()))
}

/// Asserts that none of `secrets` occurs in the store file or its WAL.
fn assert_nothing_in_clear(d: &Device, secrets: &[&str]) {
    for suffix in ["", "-wal"] {
        let path = with_suffix(d.db(), suffix);
        let Ok(bytes) = std::fs::read(&path) else {
            continue;
        };
        assert!(
            !bytes.starts_with(b"SQLite format 3\0"),
            "{} is a plain SQLite file",
            path.display()
        );
        for secret in secrets {
            assert!(
                !contains(&bytes, secret),
                "{} holds `{secret}` in the clear",
                path.display()
            );
        }
    }
}

#[test]
fn the_store_and_its_wal_hold_no_name_nik_or_number_in_the_clear() {
    let d = Device::new();
    // A reader kept open: the writers' pages stay in the WAL (the last
    // connection to close would fold them into the file and delete it).
    let reader = d.conn();
    let _: i64 = reader
        .query_row("SELECT count(*) FROM changes", [], |r| r.get(0))
        .expect("read");
    let id = register(&d);
    let wal = with_suffix(d.db(), "-wal");
    let wal_len = std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0);
    assert!(
        wal_len > 0,
        "the writes are in the WAL while a reader is open"
    );
    assert_nothing_in_clear(&d, &[NAME, MOTHER, NIK, NO_KK, "Dusun Krajan", "Wulandari"]);
    // …and with the PIN they are all there (the check above is not vacuous).
    let (name, nik): (String, String) = reader
        .query_row("SELECT name, nik FROM children WHERE id = ?1", [&id], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .expect("the child, unlocked");
    assert_eq!((name.as_str(), nik.as_str()), (NAME, NIK));
    drop(reader);
    // Closed and checkpointed: the file alone.
    d.json(&["child", "list"]);
    assert_nothing_in_clear(&d, &[NAME, MOTHER, NIK, NO_KK, "Dusun Krajan", "Wulandari"]);
    // The sidecar holds the salt and cost, nothing personal.
    let sidecar = std::fs::read(key_file_path(d.db())).expect("sidecar");
    for secret in [NAME, NIK, PIN] {
        assert!(!contains(&sidecar, secret));
    }
    d.assert_consistent();
}

#[test]
fn a_wrong_or_missing_pin_is_refused_and_changes_nothing() {
    let d = Device::new();
    let id = register(&d);
    let before = files(&d);
    // Reads and writes alike, in both languages.
    for (lang, message) in [("id", "PIN salah"), ("en", "wrong PIN")] {
        d.cmd()
            .env("TUMBUH_PIN", "135792")
            .args(["--lang", lang, "child", "list"])
            .assert()
            .code(2)
            .stderr(predicate::str::contains(message))
            // One message, in the user's language: no SQLCipher log lines.
            .stderr(predicate::str::contains("hmac").not());
    }
    d.cmd()
        .env("TUMBUH_PIN", "000000")
        .args(["measure", &id, "--date", "2024-06-03", "--weight", "9.1"])
        .assert()
        .code(2)
        .stdout(predicate::str::is_empty())
        .stderr(predicate::str::contains("PIN salah"));
    // No PIN and no terminal to ask on.
    d.cmd()
        .env_remove("TUMBUH_PIN")
        .args(["--lang", "en", "child", "show", &id])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("a PIN is needed"));
    // --pin-stdin with the wrong PIN, and with nothing on stdin.
    d.cmd()
        .env_remove("TUMBUH_PIN")
        .args(["--pin-stdin", "status"])
        .write_stdin("864200\n")
        .assert()
        .code(2);
    d.cmd()
        .env_remove("TUMBUH_PIN")
        .args(["--pin-stdin", "status"])
        .write_stdin("")
        .assert()
        .code(2);
    assert_eq!(files(&d), before, "no byte of the store was touched");
    // The library says the same.
    assert!(matches!(
        open_connection(d.db(), &Pin::new("135792")),
        Err(StoreError::WrongPin(_))
    ));
    // The right PIN, from the environment or stdin, opens it.
    let list = d.json(&["child", "list"]);
    assert_eq!(list.as_array().map(Vec::len), Some(1));
    d.cmd()
        .env_remove("TUMBUH_PIN")
        .args(["--pin-stdin", "child", "show", &id])
        .write_stdin(format!("{PIN}\n"))
        .assert()
        .success()
        .stdout(predicate::str::contains(NAME));
    d.measure(&id, "2024-06-03", "9.1", &[]);
    assert_eq!(d.count("measurements"), 2);
    d.assert_consistent();
}

#[test]
fn a_store_without_its_key_file_cannot_be_opened_even_with_the_pin() {
    let d = Device::new();
    register(&d);
    let sidecar = key_file_path(d.db());
    let kept = std::fs::read(&sidecar).expect("sidecar");
    std::fs::remove_file(&sidecar).expect("remove");
    d.cmd()
        .args(["--lang", "en", "child", "list"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("key file"));
    // A sidecar with another salt (or a lowered cost) derives another key.
    let mut other: Value = serde_json::from_slice(&kept).expect("JSON");
    other["t"] = Value::from(2);
    std::fs::write(&sidecar, serde_json::to_vec(&other).expect("JSON")).expect("write");
    d.cmd()
        .args(["child", "list"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("PIN salah"));
    std::fs::write(&sidecar, &kept).expect("restore");
    assert_eq!(d.json(&["child", "list"]).as_array().map(Vec::len), Some(1));
}

#[test]
fn init_asks_for_a_pin_of_six_digits_not_an_obvious_one() {
    for (pin, why) in [
        ("12345", "minimal 6 angka"),
        ("12a456", "hanya boleh berisi angka"),
        ("111111", "terlalu mudah ditebak"),
        ("123456", "terlalu mudah ditebak"),
        ("654321", "terlalu mudah ditebak"),
    ] {
        let d = Device::uninitialised();
        d.cmd()
            .env("TUMBUH_PIN", pin)
            .args([
                "init",
                "--posyandu",
                tumbuh_tests::POSYANDU,
                "--kader",
                "Sri",
            ])
            .assert()
            .code(2)
            .stderr(predicate::str::contains(why));
        assert!(!d.db().exists(), "no store for a refused PIN ({pin})");
        assert!(!key_file_path(d.db()).exists());
    }
    let d = Device::uninitialised();
    d.cmd()
        .env_remove("TUMBUH_PIN")
        .args([
            "--lang",
            "en",
            "init",
            "--posyandu",
            tumbuh_tests::POSYANDU,
            "--kader",
            "Sri",
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("a new PIN is needed"));
    assert!(!d.db().exists());
    // From stdin, for scripts.
    d.cmd()
        .env_remove("TUMBUH_PIN")
        .args([
            "--pin-stdin",
            "init",
            "--posyandu",
            tumbuh_tests::POSYANDU,
            "--kader",
            "Sri",
        ])
        .write_stdin(format!("{PIN}\n"))
        .assert()
        .success();
    assert_eq!(d.json(&["child", "list"]).as_array().map(Vec::len), Some(0));
}

#[test]
fn a_new_store_uses_the_phone_cost_and_its_own_salt() {
    let read = |d: &Device| -> Value {
        serde_json::from_slice(&std::fs::read(key_file_path(d.db())).expect("sidecar"))
            .expect("sidecar is JSON")
    };
    let mut salts = Vec::new();
    for _ in 0..2 {
        let d = Device::uninitialised();
        d.cmd()
            .env_remove("TUMBUH_INSECURE_TEST_KDF")
            .args([
                "init",
                "--posyandu",
                tumbuh_tests::POSYANDU,
                "--kader",
                "Sri",
            ])
            .assert()
            .success();
        let kdf = read(&d);
        assert_eq!(kdf["kdf"], "argon2id");
        let phone = KdfParams::PHONE;
        assert_eq!(
            (&kdf["m_kib"], &kdf["t"], &kdf["p"]),
            (
                &Value::from(phone.m_kib),
                &Value::from(phone.t),
                &Value::from(phone.p)
            )
        );
        assert_eq!(kdf["salt"].as_str().map(str::len), Some(32));
        salts.push(kdf["salt"].clone());
        // The store made at the real cost opens (at the real cost).
        d.cmd()
            .env_remove("TUMBUH_INSECURE_TEST_KDF")
            .args(["status"])
            .assert()
            .success();
    }
    assert_ne!(salts[0], salts[1], "every store has its own salt");
}

#[test]
fn the_pin_can_be_changed_and_the_old_one_no_longer_opens() {
    let d = Device::new();
    let id = register(&d);
    const NEW: &str = "975310";
    // A wrong current PIN changes nothing.
    let before = files(&d);
    d.cmd()
        .env("TUMBUH_PIN", "135792")
        .env("TUMBUH_NEW_PIN", NEW)
        .args(["pin", "change"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("PIN salah"));
    // A weak or unchanged new PIN is refused.
    for weak in ["999999", "1234", PIN] {
        d.cmd()
            .env("TUMBUH_NEW_PIN", weak)
            .args(["pin", "change"])
            .assert()
            .code(2);
    }
    assert_eq!(files(&d), before, "refused changes touch nothing");
    d.cmd()
        .env("TUMBUH_NEW_PIN", NEW)
        .args(["--lang", "en", "pin", "change"])
        .assert()
        .success()
        .stdout(predicate::str::contains("PIN changed"));
    d.cmd()
        .args(["child", "list"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("PIN salah"));
    d.cmd()
        .env("TUMBUH_PIN", NEW)
        .args(["child", "show", &id])
        .assert()
        .success()
        .stdout(predicate::str::contains(NAME));
    assert_nothing_in_clear(&d, &[NAME, NIK, MOTHER]);
    // And back, through --pin-stdin (current PIN, then the new one).
    d.cmd()
        .env_remove("TUMBUH_PIN")
        .args(["--pin-stdin", "pin", "change"])
        .write_stdin(format!("{NEW}\n{PIN}\n"))
        .assert()
        .success();
    assert!(matches!(
        open_connection(d.db(), &Pin::new(NEW)),
        Err(StoreError::WrongPin(_))
    ));
    d.assert_consistent();
    assert_eq!(d.count("measurements"), 1);
}

#[test]
fn sync_works_with_encrypted_stores_and_the_token_is_not_in_the_clear() {
    let server = Server::start();
    let area = &tumbuh_tests::POSYANDU[..10];
    let a = Device::new();
    let b = Device::new();
    let token_a = server.enrol("bidan", area);
    let token_b = server.enrol("bidan", area);
    a.login(&server.url(), &token_a);
    b.login(&server.url(), &token_b);
    let id = register(&a);
    a.sync();
    b.sync();
    assert!(b.child_ids().contains(&id), "the child crossed by sync");
    b.cmd()
        .args(["child", "show", &id])
        .assert()
        .success()
        .stdout(predicate::str::contains(NAME));
    assert_nothing_in_clear(&a, &[NAME, NIK, &token_a]);
    assert_nothing_in_clear(&b, &[NAME, NIK, &token_b]);
    // The server's database is still plain SQLite (the SQLCipher build
    // without a key), and sound.
    let server_head = std::fs::read(server.db()).expect("server db");
    assert!(server_head.starts_with(b"SQLite format 3\0"));
    server.assert_sound();
    a.assert_consistent();
    b.assert_consistent();
}

#[test]
fn a_store_made_before_pins_is_refused_until_pin_set_encrypts_it() {
    let d = Device::new();
    let id = register(&d);
    // Make the plain store of an older Tumbuh: the same contents, no key.
    let plain = d.dir().join("plain.db");
    // An empty file (a store connection may not create one to attach).
    drop(rusqlite::Connection::open(&plain).expect("create plain.db"));
    {
        let conn = d.conn();
        let version: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .expect("version");
        conn.execute(
            "ATTACH DATABASE ?1 AS plain KEY ''",
            [plain.to_string_lossy()],
        )
        .expect("attach");
        conn.query_row("SELECT sqlcipher_export('plain')", [], |_| Ok(()))
            .expect("export");
        conn.pragma_update(Some("plain"), "user_version", version)
            .expect("version");
        conn.execute_batch("DETACH DATABASE plain").expect("detach");
    }
    for suffix in ["", "-wal", "-shm", ".kdf"] {
        let _ = std::fs::remove_file(with_suffix(d.db(), suffix));
    }
    std::fs::rename(&plain, d.db()).expect("replace");
    assert!(
        std::fs::read(d.db())
            .expect("plain")
            .starts_with(b"SQLite format 3\0")
    );

    for with_pin in [true, false] {
        let mut cmd = d.cmd();
        if !with_pin {
            cmd.env_remove("TUMBUH_PIN");
        }
        cmd.args(["child", "list"])
            .assert()
            .code(2)
            .stderr(predicate::str::contains("tumbuh pin set"));
    }
    d.cmd()
        .env("TUMBUH_PIN", "1111")
        .args(["pin", "set"])
        .assert()
        .code(2);
    d.cmd()
        .args(["--lang", "en", "pin", "set"])
        .assert()
        .success()
        .stdout(predicate::str::contains("now encrypted"));
    assert_nothing_in_clear(&d, &[NAME, NIK, MOTHER]);
    d.cmd()
        .args(["child", "show", &id])
        .assert()
        .success()
        .stdout(predicate::str::contains(NAME));
    d.cmd()
        .env_remove("TUMBUH_PIN")
        .args(["pin", "set"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("pin change"));
    d.measure(&id, "2024-06-03", "9.1", &[]);
    d.assert_consistent();
}
