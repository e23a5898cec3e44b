//! Helpers for the end-to-end tests: a field device (a temporary folder with
//! a real SQLite store) driven through the real `tumbuh` binary.
//!
//! The binary is the one cargo built for this workspace
//! (`cargo nextest run --workspace` / `cargo test --workspace` build it).

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;
use tempfile::TempDir;

/// The posyandu every test device belongs to (from `../shared/synthetic/areas.csv`).
pub const POSYANDU: &str = "353001200205";

/// Path of the `tumbuh` binary under test: the one in this workspace's
/// target folder, built by `cargo nextest run --workspace` (field-client's
/// own integration test makes cargo build it).
pub fn tumbuh_bin() -> PathBuf {
    let path = std::env::var_os("CARGO_BIN_EXE_tumbuh")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let mut dir = std::env::current_exe().expect("test executable path");
            dir.pop();
            if dir.ends_with("deps") {
                dir.pop();
            }
            dir.join(format!("tumbuh{}", std::env::consts::EXE_SUFFIX))
        });
    assert!(
        path.exists(),
        "{} is missing: run the tests for the whole workspace (`cargo nextest run --workspace`) so that cargo builds it",
        path.display()
    );
    path
}

/// The `shared/` folder beside the repository; panics with a clear message if absent.
pub fn shared_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared");
    assert!(
        dir.is_dir(),
        "{} is missing: the shared data must sit beside the repository",
        dir.display()
    );
    dir
}

/// One field device: a temporary folder holding its store.
pub struct Device {
    dir: TempDir,
    db: PathBuf,
}

impl Device {
    /// A device with no store yet.
    pub fn uninitialised() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = dir.path().join("tumbuh.db");
        Self { dir, db }
    }

    /// A device with a store for [`POSYANDU`], kader "Sri".
    pub fn new() -> Self {
        let d = Self::uninitialised();
        d.cmd()
            .args(["init", "--posyandu", POSYANDU, "--kader", "Sri"])
            .assert()
            .success();
        d
    }

    /// The folder of this device.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The store file.
    pub fn db(&self) -> &Path {
        &self.db
    }

    /// `tumbuh --db <store>`, with no inherited Tumbuh settings.
    pub fn cmd(&self) -> Command {
        let mut c = Command::new(tumbuh_bin());
        c.env_remove("TUMBUH_DB")
            .env_remove("TUMBUH_LANG")
            .env_remove("TUMBUH_FAILPOINT")
            .env_remove("TUMBUH_LOG")
            .arg("--db")
            .arg(&self.db);
        c
    }

    /// Runs a command with `--json`, asserts success and parses stdout.
    pub fn json(&self, args: &[&str]) -> Value {
        let out = self
            .cmd()
            .arg("--json")
            .args(args)
            .output()
            .expect("run tumbuh");
        assert!(
            out.status.success(),
            "tumbuh {args:?} failed: {}\n{}",
            String::from_utf8_lossy(&out.stderr),
            String::from_utf8_lossy(&out.stdout)
        );
        serde_json::from_slice(&out.stdout).expect("stdout is JSON")
    }

    /// Registers a child (with `--new`) and returns its id.
    pub fn add_child(&self, name: &str, sex: &str, birth_date: &str, mother: &str) -> String {
        let v = self.json(&[
            "child",
            "add",
            "--name",
            name,
            "--sex",
            sex,
            "--birth-date",
            birth_date,
            "--mother-name",
            mother,
            "--new",
        ]);
        v["id"].as_str().expect("id in output").to_string()
    }

    /// Records a weighing and returns the JSON assessment.
    pub fn measure(&self, child: &str, date: &str, weight: &str, extra: &[&str]) -> Value {
        let mut args = vec!["measure", child, "--date", date, "--weight", weight];
        args.extend_from_slice(extra);
        self.json(&args)
    }

    /// A direct connection to the store, for checks.
    pub fn conn(&self) -> rusqlite::Connection {
        rusqlite::Connection::open(&self.db).expect("open store")
    }

    /// Counts rows of a table.
    pub fn count(&self, table: &str) -> i64 {
        self.conn()
            .query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
            .expect("count")
    }

    /// Asserts the store is sound: SQLite's integrity check passes, and the
    /// derived tables agree with the Automerge documents rebuilt from
    /// `changes` (every measurement in a document has its row, and no other).
    pub fn assert_consistent(&self) {
        let conn = self.conn();
        let check: String = conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .expect("integrity_check");
        assert_eq!(check, "ok");
        let mut children = conn
            .prepare("SELECT DISTINCT child_id FROM changes")
            .expect("prepare");
        let ids: Vec<String> = children
            .query_map([], |r| r.get(0))
            .expect("query")
            .map(|r| r.expect("row"))
            .collect();
        let derived_children: i64 = conn
            .query_row("SELECT count(*) FROM children", [], |r| r.get(0))
            .expect("count");
        assert_eq!(
            derived_children as usize,
            ids.len(),
            "every document has its derived child row"
        );
        for id in ids {
            let mut stmt = conn
                .prepare("SELECT bytes FROM changes WHERE child_id = ?1 ORDER BY seq")
                .expect("prepare");
            let bytes: Vec<u8> = stmt
                .query_map([&id], |r| r.get::<_, Vec<u8>>(0))
                .expect("query")
                .flat_map(|r| r.expect("row"))
                .collect();
            let doc =
                sync_protocol::ChildDocument::load(sync_protocol::DeviceId::new().actor(), &bytes)
                    .expect("document loads from its changes");
            let child = doc.child().expect("document reads");
            let mut in_doc: Vec<String> = child
                .measurements
                .iter()
                .map(|m| m.id.to_string())
                .collect();
            in_doc.sort();
            let mut stmt = conn
                .prepare("SELECT id FROM measurements WHERE child_id = ?1 ORDER BY id")
                .expect("prepare");
            let in_table: Vec<String> = stmt
                .query_map([&id], |r| r.get(0))
                .expect("query")
                .map(|r| r.expect("row"))
                .collect();
            assert_eq!(
                in_doc, in_table,
                "derived measurements of child {id} match its document"
            );
        }
    }
}

impl Default for Device {
    fn default() -> Self {
        Self::new()
    }
}
