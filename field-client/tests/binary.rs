//! The `tumbuh` binary starts and describes itself.
//!
//! Besides checking that, this integration test makes `cargo test` /
//! `cargo nextest run` build the `tumbuh` binary, which the end-to-end tests
//! in `tests/` drive (cargo builds a package's binaries only for its own
//! integration tests).

use std::process::Command;

#[test]
fn help_lists_every_command_in_both_languages_of_the_tool() {
    let out = Command::new(env!("CARGO_BIN_EXE_tumbuh"))
        .arg("--help")
        .output()
        .expect("run tumbuh");
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for command in ["init", "child", "search", "measure", "zscore"] {
        assert!(help.contains(command), "--help lists `{command}`:\n{help}");
    }
    assert!(help.contains("--lang"), "{help}");
}

#[test]
fn an_unknown_command_fails_with_usage() {
    let out = Command::new(env!("CARGO_BIN_EXE_tumbuh"))
        .arg("weigh")
        .output()
        .expect("run tumbuh");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("Usage"));
}
