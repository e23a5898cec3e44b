//! Crash safety: a `tumbuh` process killed in the middle of a write leaves
//! the store consistent, with either the whole command or none of it.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use tumbuh_tests::{Device, tumbuh_bin};

fn measure_cmd(d: &Device, child: &str, weight: &str) -> Command {
    let mut c = Command::new(tumbuh_bin());
    tumbuh_tests::with_pin(&mut c)
        .env_remove("TUMBUH_FAILPOINT")
        .arg("--db")
        .arg(d.db())
        .args(["measure", child, "--date", "2024-06-01", "--weight", weight]);
    c
}

#[test]
fn an_abort_before_commit_keeps_nothing_of_the_command() {
    let d = Device::new();
    let id = d.add_child("Ani", "P", "2023-05-17", "Sri");
    d.measure(&id, "2024-05-02", "9.0", &[]);
    let (changes, rows) = (d.count("changes"), d.count("measurements"));
    let status = measure_cmd(&d, &id, "9.4")
        .env("TUMBUH_FAILPOINT", "abort-before-commit")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("run");
    assert!(!status.success(), "the process died");
    assert_eq!(
        (d.count("changes"), d.count("measurements")),
        (changes, rows),
        "none of the command"
    );
    d.assert_consistent();
    // The store still works.
    d.measure(&id, "2024-06-01", "9.4", &[]);
    assert_eq!(d.count("measurements"), rows + 1);
    d.assert_consistent();
}

#[test]
fn sigkill_in_the_middle_of_a_write_keeps_nothing_of_it() {
    let d = Device::new();
    let id = d.add_child("Ani", "P", "2023-05-17", "Sri");
    let before = (d.count("changes"), d.count("measurements"));
    for (what, mut cmd) in [
        ("measure", measure_cmd(&d, &id, "9.4")),
        ("child add", {
            let mut c = Command::new(tumbuh_bin());
            tumbuh_tests::with_pin(&mut c)
                .arg("--db")
                .arg(d.db())
                .args([
                    "child",
                    "add",
                    "--name",
                    "Budi",
                    "--sex",
                    "L",
                    "--birth-date",
                    "2022-01-03",
                    "--mother-name",
                    "Wati",
                    "--new",
                ]);
            c
        }),
    ] {
        let mut child = cmd
            .env("TUMBUH_FAILPOINT", "pause-before-commit")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn");
        // Wait until the process says it is inside the transaction, then kill -9.
        let stderr = child.stderr.take().expect("stderr");
        let mut lines = BufReader::new(stderr).lines();
        let reached = lines.any(|l| l.is_ok_and(|l| l.contains("FAILPOINT before-commit")));
        assert!(reached, "{what}: failpoint reached");
        child.kill().expect("SIGKILL");
        child.wait().expect("reaped");
        assert_eq!(
            (d.count("changes"), d.count("measurements")),
            before,
            "{what}: nothing kept"
        );
        d.assert_consistent();
    }
    assert_eq!(d.count("children"), 1);
}

#[test]
fn kills_at_arbitrary_moments_never_leave_half_a_record() {
    let d = Device::new();
    let id = d.add_child("Ani", "P", "2023-05-17", "Sri");
    let mut killed = 0;
    // Bounded: 24 runs, each killed after a different delay (or finishing first).
    for i in 0..24u64 {
        let mut child = measure_cmd(&d, &id, "9.4")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn");
        std::thread::sleep(std::time::Duration::from_micros(500 * i));
        let _ = child.kill();
        let status = child.wait().expect("reaped");
        if !status.success() {
            killed += 1;
        }
        d.assert_consistent();
        // Every change is either fully there (with its derived row) or absent.
        assert_eq!(d.count("changes"), 1 + d.count("measurements"), "run {i}");
    }
    assert!(killed > 0, "at least the run killed at once died mid-way");
}
