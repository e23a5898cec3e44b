//! Helpers for the end-to-end tests: a field device (a temporary folder with
//! a real SQLite store) driven through the real `tumbuh` binary, and a sync
//! server (the real `tumbuh-server` binary as a child process on loopback).
//!
//! The binaries are the ones cargo built for this workspace
//! (`cargo nextest run --workspace` / `cargo test --workspace` build them).

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use assert_cmd::Command;
use serde_json::Value;
use std::sync::Arc;
use tempfile::TempDir;
use tumbuh_server::{Limits, Role, SqliteStorage, Storage, enrol};

/// The posyandu every test device belongs to (from `../shared/synthetic/areas.csv`).
pub const POSYANDU: &str = "353001200205";

/// The PIN of every test device's store ([`Device::cmd`] gives it to
/// `tumbuh` as `TUMBUH_PIN`).
pub const PIN: &str = "246810";

/// [`PIN`] as the field client's type, for tests that drive the library.
pub fn pin() -> field_client::pin::Pin {
    field_client::pin::Pin::new(PIN)
}

/// The Argon2id cost of test stores: next to nothing (`tumbuh` is run
/// thousands of times; `store_at_rest.rs` checks the real cost separately).
pub const TEST_KDF: field_client::pin::KdfParams = field_client::pin::KdfParams::INSECURE_TEST;

/// Gives a `tumbuh` command the test PIN and the cheap test KDF, as
/// [`Device::cmd`] does, for tests that build their own command.
pub fn with_pin(cmd: &mut std::process::Command) -> &mut std::process::Command {
    cmd.env("TUMBUH_PIN", PIN)
        .env("TUMBUH_INSECURE_TEST_KDF", "1")
        .env_remove("TUMBUH_NEW_PIN")
}

/// Path of the `tumbuh` binary under test: the one in this workspace's
/// target folder, built by `cargo nextest run --workspace` (field-client's
/// own integration test makes cargo build it).
pub fn tumbuh_bin() -> PathBuf {
    workspace_bin("tumbuh")
}

/// Path of the `tumbuh-server` binary under test, found like [`tumbuh_bin`]
/// (the server's own integration test makes cargo build it).
pub fn server_bin() -> PathBuf {
    workspace_bin("tumbuh-server")
}

/// A binary of this workspace: `CARGO_BIN_EXE_<name>` if cargo set it, else
/// the target folder the test executable runs from.
fn workspace_bin(name: &str) -> PathBuf {
    let path = std::env::var_os(format!("CARGO_BIN_EXE_{name}"))
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let mut dir = std::env::current_exe().expect("test executable path");
            dir.pop();
            if dir.ends_with("deps") {
                dir.pop();
            }
            dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX))
        });
    assert!(
        path.exists(),
        "{} is missing: run the tests for the whole workspace (`cargo nextest run --workspace`) so that cargo builds it",
        path.display()
    );
    path
}

/// Polls `ready` until it returns `Some`, failing the test with `what` after
/// `within`. The way to wait for something asynchronous (the server's
/// projection, a process reaching a point) without sleeping and hoping.
pub fn wait_for<T>(what: &str, within: Duration, mut ready: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + within;
    loop {
        if let Some(v) = ready() {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {within:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
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
        Self::at(POSYANDU)
    }

    /// A device with a store for `posyandu`, kader "Sri".
    pub fn at(posyandu: &str) -> Self {
        let d = Self::uninitialised();
        d.cmd()
            .args(["init", "--posyandu", posyandu, "--kader", "Sri"])
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

    /// `tumbuh --db <store>`, with no inherited Tumbuh settings, unlocked
    /// with [`PIN`] (`TUMBUH_PIN`; stores made by it use the cheap
    /// [`TEST_KDF`]).
    pub fn cmd(&self) -> Command {
        let mut c = Command::new(tumbuh_bin());
        c.env_remove("TUMBUH_DB")
            .env_remove("TUMBUH_LANG")
            .env_remove("TUMBUH_FAILPOINT")
            .env_remove("TUMBUH_LOG")
            .env_remove("TUMBUH_NEW_PIN")
            .env("TUMBUH_PIN", PIN)
            .env("TUMBUH_INSECURE_TEST_KDF", "1")
            .arg("--db")
            .arg(&self.db);
        c
    }

    /// Runs a command with `--json`, asserts success and parses stdout.
    pub fn json(&self, args: &[&str]) -> Value {
        run_json(self.cmd(), "tumbuh", args)
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

    /// `tumbuh login` to the server at `url` with `token`; returns its JSON.
    pub fn login(&self, url: &str, token: &str) -> Value {
        self.json(&["login", "--server", url, "--token", token])
    }

    /// `tumbuh --json sync --timeout <seconds>` as it ran: exit status, stdout, stderr.
    pub fn sync_output(&self, timeout_secs: u64, extra: &[&str]) -> std::process::Output {
        self.cmd()
            .args(extra)
            .args(["--json", "sync", "--timeout", &timeout_secs.to_string()])
            .output()
            .expect("run tumbuh sync")
    }

    /// Syncs, asserts success and returns the JSON summary.
    pub fn sync(&self) -> Value {
        let out = self.sync_output(20, &[]);
        assert!(
            out.status.success(),
            "tumbuh sync failed: {}\n{}",
            String::from_utf8_lossy(&out.stderr),
            String::from_utf8_lossy(&out.stdout)
        );
        serde_json::from_slice(&out.stdout).expect("sync prints JSON")
    }

    /// `tumbuh --json status`.
    pub fn status(&self) -> Value {
        self.json(&["status"])
    }

    /// The hashes of every change in the store.
    pub fn hashes(&self) -> BTreeSet<Vec<u8>> {
        hashes_of(&self.conn(), "SELECT hash FROM changes")
    }

    /// The hashes of the changes still waiting in the outbox (not acknowledged, not rejected).
    pub fn outbox(&self) -> BTreeSet<Vec<u8>> {
        hashes_of(
            &self.conn(),
            "SELECT hash FROM changes WHERE synced = 0 AND rejected IS NULL",
        )
    }

    /// The hashes of the changes the server has acknowledged (or sent).
    pub fn acknowledged(&self) -> BTreeSet<Vec<u8>> {
        hashes_of(&self.conn(), "SELECT hash FROM changes WHERE synced = 1")
    }

    /// The ids of the children in the store.
    pub fn child_ids(&self) -> BTreeSet<String> {
        strings_of(&self.conn(), "SELECT id FROM children")
    }

    /// A direct connection to the store (unlocked with [`PIN`]), for checks
    /// (it waits for a `tumbuh` process writing at the same moment rather
    /// than failing).
    pub fn conn(&self) -> rusqlite::Connection {
        let c = field_client::store::open_connection(&self.db, &pin()).expect("open store");
        c.busy_timeout(Duration::from_secs(10))
            .expect("busy timeout");
        c
    }

    /// Counts rows of a table.
    pub fn count(&self, table: &str) -> i64 {
        self.conn()
            .query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
            .expect("count")
    }

    /// Asserts the store is sound: SQLite's integrity check passes, and the
    /// derived tables agree with the Automerge documents rebuilt from
    /// `changes` (every measurement in a document has its row, and no other;
    /// a registration merged into a child the device holds has its rows
    /// there).
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
        let survivors: BTreeSet<String> = ids.iter().cloned().collect();
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
            // A registration the district merged into a child this device
            // holds shows its measurements on that child (the merge copied
            // them there under the same ids), not on itself.
            if child
                .merged_into
                .is_some_and(|survivor| survivors.contains(&survivor.to_string()))
            {
                in_doc.clear();
            }
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

/// The first column of every row of `sql`, as blobs.
pub fn hashes_of(conn: &rusqlite::Connection, sql: &str) -> BTreeSet<Vec<u8>> {
    let mut stmt = conn.prepare(sql).expect("prepare");
    stmt.query_map([], |r| r.get::<_, Vec<u8>>(0))
        .expect("query")
        .map(|r| r.expect("row"))
        .collect()
}

/// The first column of every row of `sql`, as text.
pub fn strings_of(conn: &rusqlite::Connection, sql: &str) -> BTreeSet<String> {
    let mut stmt = conn.prepare(sql).expect("prepare");
    stmt.query_map([], |r| r.get::<_, String>(0))
        .expect("query")
        .map(|r| r.expect("row"))
        .collect()
}

/// A running `tumbuh-server` on a database in a temporary folder, listening
/// on a free loopback port. The process is killed when this is dropped; the
/// database outlives [`Server::kill`] so [`Server::restart`] can reopen it.
pub struct Server {
    dir: TempDir,
    db: PathBuf,
    process: Option<Child>,
    addr: SocketAddr,
    admin_token: Option<String>,
    starts: u32,
    log_filter: Option<String>,
    serve_args: Vec<String>,
}

/// Runs `cmd --json args…`, asserts success and parses stdout.
fn run_json(mut cmd: Command, program: &str, args: &[&str]) -> Value {
    let out = cmd
        .arg("--json")
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("run {program}: {e}"));
    assert!(
        out.status.success(),
        "{program} {args:?} failed: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    serde_json::from_slice(&out.stdout).expect("stdout is JSON")
}

/// An HTTP answer.
#[derive(Debug, Clone)]
pub struct HttpResponse {
    pub status: u16,
    /// The status line and headers, as received.
    pub head: String,
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// The value of header `name` (case-insensitive), if sent.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().skip(1).find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.trim()
                .eq_ignore_ascii_case(name)
                .then_some(value.trim())
        })
    }

    /// The body as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "HTTP {} body is not JSON ({e}): {}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }
}

impl Server {
    /// Starts a server on a new, empty database.
    pub fn start() -> Self {
        Self::start_logging(None)
    }

    /// Starts a server with extra `serve` options (e.g. `--dedup-every 1`).
    pub fn start_with(serve_args: &[&str]) -> Self {
        Self::start_configured(None, serve_args)
    }

    /// Starts a server with `TUMBUH_SERVER_LOG` set to `filter` (e.g. "debug").
    pub fn start_logging(filter: Option<&str>) -> Self {
        Self::start_configured(filter, &[])
    }

    fn start_configured(filter: Option<&str>, serve_args: &[&str]) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = dir.path().join("server.db");
        let mut server = Server {
            dir,
            db,
            process: None,
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            admin_token: None,
            starts: 0,
            log_filter: filter.map(str::to_string),
            serve_args: serve_args.iter().map(|a| a.to_string()).collect(),
        };
        server.spawn();
        server
    }

    /// Starts the process on this server's database and reads where it listens.
    fn spawn(&mut self) {
        self.starts += 1;
        let log = std::fs::File::create(self.log_path()).expect("server log file");
        let mut command = std::process::Command::new(server_bin());
        command
            .env_remove("TUMBUH_SERVER_DB")
            .env_remove("TUMBUH_SERVER_LOG");
        if let Some(filter) = &self.log_filter {
            command.env("TUMBUH_SERVER_LOG", filter);
        }
        let mut process = command
            .arg("--db")
            .arg(&self.db)
            .args(["--json", "serve", "--listen", "127.0.0.1:0"])
            .args(&self.serve_args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .spawn()
            .expect("start tumbuh-server");
        let stdout = process.stdout.take().expect("server stdout");
        let mut lines = BufReader::new(stdout);
        let mut first = String::new();
        let read = lines.read_line(&mut first);
        if read.is_err() || first.trim().is_empty() {
            let _ = process.kill();
            let _ = process.wait();
            panic!(
                "tumbuh-server did not say where it listens; its log:\n{}",
                self.log()
            );
        }
        // Keep draining stdout so the server never blocks on a full pipe.
        std::thread::spawn(move || {
            let mut sink = Vec::new();
            let _ = lines.read_to_end(&mut sink);
        });
        let hello: Value = serde_json::from_str(&first).expect("server hello is JSON");
        let url = hello["listening"].as_str().expect("listening URL");
        self.addr = url
            .strip_prefix("http://")
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| panic!("bad listening URL {url}"));
        if let Some(t) = hello["admin_token"].as_str() {
            self.admin_token = Some(t.to_string());
        }
        self.process = Some(process);
    }

    fn log_path(&self) -> PathBuf {
        self.dir.path().join(format!("server-{}.log", self.starts))
    }

    /// What the server wrote on stderr (its log) since its last start.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    /// The base URL, e.g. `http://127.0.0.1:40123`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The server database.
    pub fn db(&self) -> &Path {
        &self.db
    }

    /// The admin token printed at the first start.
    pub fn admin_token(&self) -> &str {
        self.admin_token.as_deref().expect("admin token")
    }

    /// Kills the process with SIGKILL (no shutdown, no flush) and reaps it.
    pub fn kill(&mut self) {
        if let Some(mut p) = self.process.take() {
            let _ = p.kill();
            let _ = p.wait();
        }
    }

    /// Whether the process is running.
    pub fn is_running(&mut self) -> bool {
        self.process
            .as_mut()
            .is_some_and(|p| matches!(p.try_wait(), Ok(None)))
    }

    /// Starts the server again on the same database (on a new port).
    pub fn restart(&mut self) {
        self.kill();
        self.spawn();
    }

    /// `tumbuh-server --db <db>`, with no inherited settings.
    pub fn cmd(&self) -> Command {
        let mut c = Command::new(server_bin());
        c.env_remove("TUMBUH_SERVER_DB")
            .env_remove("TUMBUH_SERVER_LOG")
            .arg("--db")
            .arg(&self.db);
        c
    }

    /// Runs an admin command with `--json`, asserts success and parses stdout.
    pub fn json(&self, args: &[&str]) -> Value {
        run_json(self.cmd(), "tumbuh-server", args)
    }

    /// Enrols a device (`device add --role <role> --area <area>`); returns its token.
    pub fn enrol(&self, role: &str, area: &str) -> String {
        let v = self.json(&["device", "add", "--role", role, "--area", area]);
        v["token"].as_str().expect("token").to_string()
    }

    /// `tumbuh-server status`.
    pub fn status(&self) -> Value {
        self.json(&["status"])
    }

    /// Waits until the projection has caught up with every change.
    pub fn wait_projected(&self) {
        wait_for("the server's projection", Duration::from_secs(20), || {
            (self.status()["pending_projection"] == 0).then_some(())
        });
    }

    /// `GET path` with `Authorization: Bearer <token>`.
    pub fn get(&self, path: &str, token: &str) -> HttpResponse {
        http_get(self.addr, path, token)
    }

    /// A direct connection to the server database, for checks.
    pub fn conn(&self) -> rusqlite::Connection {
        let c = rusqlite::Connection::open(&self.db).expect("open server db");
        c.busy_timeout(Duration::from_secs(10))
            .expect("busy timeout");
        c
    }

    /// Counts rows of a table of the server database.
    pub fn count(&self, table: &str) -> i64 {
        self.conn()
            .query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
            .expect("count")
    }

    /// The hashes of every change the server holds.
    pub fn hashes(&self) -> BTreeSet<Vec<u8>> {
        hashes_of(&self.conn(), "SELECT hash FROM changes")
    }

    /// Asserts the server database passes SQLite's integrity check and holds
    /// each change once: as many rows as distinct hashes, and as many
    /// children in `child_index` as distinct child ids among the changes.
    pub fn assert_sound(&self) {
        let conn = self.conn();
        let check: String = conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .expect("integrity_check");
        assert_eq!(check, "ok", "server database integrity");
        let (rows, distinct, children): (i64, i64, i64) = conn
            .query_row(
                "SELECT count(*), count(DISTINCT hash), count(DISTINCT child_id) FROM changes",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .expect("count changes");
        assert_eq!(rows, distinct, "each change is stored once");
        let indexed = self.count("child_index");
        assert_eq!(indexed, children, "one index row per child");
        let (indexed_changes, last): (i64, i64) = conn
            .query_row(
                "SELECT coalesce(sum(changes), 0), coalesce(max(last_seq), 0) FROM child_index",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .expect("sum index");
        assert_eq!(indexed_changes, rows, "the index counts every change once");
        let max_seq: i64 = conn
            .query_row("SELECT coalesce(max(seq), 0) FROM changes", [], |r| {
                r.get(0)
            })
            .expect("max seq");
        assert_eq!(last, max_seq, "the index knows the last change");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A minimal HTTP/1.1 `GET` over loopback (`Connection: close`), enough for
/// the server's read API.
pub fn http_get(addr: SocketAddr, path: &str, token: &str) -> HttpResponse {
    http_request(addr, "GET", path, token, b"")
}

/// A minimal HTTP/1.1 request with a JSON body over loopback.
pub fn http_request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    token: &str,
    body: &[u8],
) -> HttpResponse {
    let mut stream = TcpStream::connect(addr).expect("connect to the server");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .expect("send request");
    stream.write_all(body).expect("send body");
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).expect("read response");
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("response headers end");
    let head = String::from_utf8_lossy(&raw[..split]).to_string();
    let mut body = raw[split + 4..].to_vec();
    let status: u16 = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("bad status line: {head}"));
    let chunked = head.lines().any(|l| {
        let l = l.to_ascii_lowercase();
        l.starts_with("transfer-encoding:") && l.contains("chunked")
    });
    if chunked {
        body = dechunk(&body);
    }
    HttpResponse { status, head, body }
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let Some(eol) = data.windows(2).position(|w| w == b"\r\n") else {
            return out;
        };
        let size_text = String::from_utf8_lossy(&data[..eol]);
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("0").trim(), 16)
            .expect("chunk size");
        if size == 0 {
            return out;
        }
        let start = eol + 2;
        out.extend_from_slice(&data[start..start + size]);
        data = &data[start + size + 2..];
    }
}

/// The server library running in this process on a loopback port (for
/// tests that drive the `field_client` library rather than the binary).
pub struct InProcessServer {
    pub url: String,
    pub storage: Arc<SqliteStorage>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl InProcessServer {
    pub fn start(db: &Path) -> InProcessServer {
        Self::start_with(db, Limits::default())
    }

    /// A server with the given limits.
    pub fn start_with(db: &Path, limits: Limits) -> InProcessServer {
        let storage = Arc::new(SqliteStorage::open(db).expect("open server db"));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let (ready, addr) = std::sync::mpsc::channel();
        let serving: Arc<dyn Storage> = storage.clone();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                    .await
                    .expect("bind loopback");
                ready
                    .send(listener.local_addr().expect("addr"))
                    .expect("send addr");
                tumbuh_server::serve(listener, serving, limits, async {
                    let _ = stopped.await;
                })
                .await
                .expect("serve");
            });
        });
        let addr = addr.recv().expect("server address");
        InProcessServer {
            url: format!("http://{addr}"),
            storage,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    pub fn enrol(&self, role: Role, area: &str) -> String {
        let scope = sync_protocol::Scope::from_text(area).expect("scope");
        enrol::enrol(self.storage.as_ref(), role, scope, "test", 0)
            .expect("enrol")
            .1
    }

    /// Waits until the projection has caught up with every change.
    pub fn wait_projection(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while self.storage.stats().expect("stats").pending_projection > 0 {
            assert!(Instant::now() < deadline, "projection did not catch up");
            // The worker is woken by uploads; driving it here only shortens the wait.
            self.storage.project_pending(256).expect("project");
        }
    }
}

impl Drop for InProcessServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
