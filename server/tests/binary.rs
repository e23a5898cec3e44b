//! The `tumbuh-server` binary starts and describes itself.
//!
//! This integration test also makes `cargo nextest run --workspace` build the
//! binary that the end-to-end tests in `tests/` start.

use std::process::Command;

#[test]
fn help_lists_the_commands() {
    let out = Command::new(env!("CARGO_BIN_EXE_tumbuh-server"))
        .arg("--help")
        .output()
        .expect("run tumbuh-server");
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for command in ["serve", "device", "conflicts", "bundle", "status"] {
        assert!(help.contains(command), "--help lists `{command}`:\n{help}");
    }
    assert!(help.contains("TUMBUH_SERVER_DB"), "{help}");
}

#[test]
fn a_bad_area_code_is_refused_with_the_reason() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = Command::new(env!("CARGO_BIN_EXE_tumbuh-server"))
        .args(["--db"])
        .arg(dir.path().join("s.db"))
        .args(["device", "add", "--role", "kader", "--area", "3530"])
        .output()
        .expect("run tumbuh-server");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("12-digit"), "{err}");
}
