//! Crash safety of the server: the real `tumbuh-server` is killed with
//! SIGKILL at random moments (seeded, the seed is printed; set
//! `TUMBUH_KILL9_SEED` to replay one) while six real `tumbuh` devices record
//! children and measurements and sync in loops, and `tumbuh-server import`
//! stores a field CSV into the same database (its process killed now and
//! then too). After each kill, before the restart, every change any device
//! holds as acknowledged must already be in the dead server's database. At
//! the end, after a clean sync of every device: no acknowledged change is
//! lost, each change is stored once (by hash), `PRAGMA integrity_check` is
//! ok, an import killed midway stored all of its rows or none, and every
//! import is complete (running it again stores nothing new).
//!
//! The devices reach the server through a plain loopback relay in this file
//! (no faults) so that their address stays the same when the server comes
//! back on a new port.

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::Value;
use tumbuh_tests::{Device, Server, server_bin, shared_dir, wait_for};

/// Devices syncing in loops, one posyandu each (posyandu that also hold
/// rows of the imported file, so their syncs carry imported children too).
const POSYANDUS: [&str; 6] = [
    "353002200104",
    "353002100104",
    "353001200301",
    "353002100103",
    "353002200101",
    "353002200105",
];
/// SIGKILLs of the server.
const KILLS: usize = 20;
/// Rows of `shared/synthetic/measurements.csv` imported, in this many files.
const IMPORT_ROWS: usize = 1500;
const IMPORT_FILES: usize = 3;
/// The longest random pause between a device reaching the server and the kill.
const MAX_KILL_DELAY_MS: u64 = 700;

// ---------------------------------------------------------------------------
// A relay on a fixed loopback port to wherever the server listens now.

struct Relay {
    addr: SocketAddr,
    upstream: Arc<Mutex<SocketAddr>>,
    connections: Arc<AtomicUsize>,
    stopping: Arc<AtomicBool>,
}

impl Relay {
    fn start(upstream: SocketAddr) -> Relay {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind relay");
        let addr = listener.local_addr().expect("relay addr");
        let relay = Relay {
            addr,
            upstream: Arc::new(Mutex::new(upstream)),
            connections: Arc::new(AtomicUsize::new(0)),
            stopping: Arc::new(AtomicBool::new(false)),
        };
        let (up, count, stop) = (
            relay.upstream.clone(),
            relay.connections.clone(),
            relay.stopping.clone(),
        );
        std::thread::spawn(move || {
            for client in listener.incoming() {
                if stop.load(Ordering::SeqCst) {
                    return;
                }
                let Ok(client) = client else { continue };
                let target = *up.lock().expect("upstream");
                let Ok(server) = TcpStream::connect(target) else {
                    // The server is down: the client sees its connection closed.
                    let _ = client.shutdown(Shutdown::Both);
                    continue;
                };
                count.fetch_add(1, Ordering::SeqCst);
                let (Ok(c2), Ok(s2)) = (client.try_clone(), server.try_clone()) else {
                    continue;
                };
                std::thread::spawn(move || pipe(client, server));
                std::thread::spawn(move || pipe(s2, c2));
            }
        });
        relay
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn set_upstream(&self, upstream: SocketAddr) {
        *self.upstream.lock().expect("upstream") = upstream;
    }

    /// Connections that reached a server.
    fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.stopping.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr);
    }
}

/// Copies `from` → `to` until either side ends, then closes both.
fn pipe(mut from: TcpStream, mut to: TcpStream) {
    let mut buf = [0u8; 16 * 1024];
    loop {
        match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if to.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
        }
    }
    let _ = to.shutdown(Shutdown::Both);
    let _ = from.shutdown(Shutdown::Both);
}

// ---------------------------------------------------------------------------
// The import side: `tumbuh-server import` processes the test may kill.

/// One import file: its path and the external ids of its rows.
struct ImportFile {
    path: PathBuf,
    ids: BTreeSet<String>,
}

/// Splits the first [`IMPORT_ROWS`] rows of the synthetic field export into
/// [`IMPORT_FILES`] files in `dir` (one record per line in that file).
fn import_files(dir: &Path) -> Vec<ImportFile> {
    let text = std::fs::read_to_string(shared_dir().join("synthetic/measurements.csv"))
        .expect("read the synthetic measurements");
    let mut lines = text.lines();
    let header = lines.next().expect("header");
    let rows: Vec<&str> = lines.take(IMPORT_ROWS).collect();
    assert_eq!(rows.len(), IMPORT_ROWS);
    rows.chunks(IMPORT_ROWS / IMPORT_FILES)
        .enumerate()
        .map(|(i, chunk)| {
            let path = dir.join(format!("posyandu-{i}.csv"));
            let mut body = format!("{header}\n");
            for r in chunk {
                body.push_str(r);
                body.push('\n');
            }
            std::fs::write(&path, body).expect("write import file");
            let ids = chunk
                .iter()
                .map(|r| r.split(',').next().expect("record_id").to_string())
                .collect();
            ImportFile { path, ids }
        })
        .collect()
}

/// How many of `ids` the `imports` table of the server database `db` remembers.
fn imported_rows(db: &Path, ids: &BTreeSet<String>) -> usize {
    let conn = rusqlite::Connection::open(db).expect("open server db");
    conn.busy_timeout(Duration::from_secs(10))
        .expect("busy timeout");
    let stored: BTreeSet<String> =
        tumbuh_tests::strings_of(&conn, "SELECT external_id FROM imports");
    stored.intersection(ids).count()
}

/// `tumbuh-server --db <db> --json import <file>` with its output to files.
fn spawn_import(db: &Path, file: &Path, out: &Path, err: &Path) -> Child {
    std::process::Command::new(server_bin())
        .env_remove("TUMBUH_SERVER_DB")
        .env_remove("TUMBUH_SERVER_LOG")
        .arg("--db")
        .arg(db)
        .args(["--json", "import"])
        .arg(file)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(out).expect("import stdout file"))
        .stderr(std::fs::File::create(err).expect("import stderr file"))
        .spawn()
        .expect("start tumbuh-server import")
}

/// What the import side did.
#[derive(Debug, Default)]
struct ImportLog {
    /// Runs killed by the test, and the rows each left stored (0 or all).
    killed: Vec<usize>,
    /// Runs that reported success, with their JSON report.
    succeeded: Vec<Value>,
}

// ---------------------------------------------------------------------------
// The devices.

/// What one device did.
#[derive(Debug, Default)]
struct DeviceLog {
    children: Vec<String>,
    measurements: usize,
    syncs_ok: usize,
    syncs_failed: usize,
    retries: u64,
}

/// Records a child and measurements, then syncs, until `stop`.
fn device_loop(d: &Device, index: usize, stop: &AtomicBool) -> DeviceLog {
    let mut log = DeviceLog::default();
    let mut round = 0usize;
    while !stop.load(Ordering::SeqCst) {
        round += 1;
        let id = d.add_child(
            &format!("Anak Uji {index} Nomor {round}"),
            if round.is_multiple_of(2) { "L" } else { "P" },
            &format!("2023-{:02}-{:02}", 1 + round % 12, 1 + round % 28),
            &format!("Ibu Uji {index} {round}"),
        );
        d.measure(&id, "2024-06-03", "8.4", &[]);
        d.measure(
            &id,
            "2024-07-01",
            "8.9",
            &["--height", "71", "--position", "lying"],
        );
        log.children.push(id);
        log.measurements += 2;
        let out = d.sync_output(4, &[]);
        if out.status.success() {
            let summary: Value = serde_json::from_slice(&out.stdout).expect("sync prints JSON");
            log.retries += summary["retries"].as_u64().unwrap_or(0);
            log.syncs_ok += 1;
        } else {
            // The server died under it: the outbox keeps the changes for later.
            log.syncs_failed += 1;
        }
    }
    log
}

/// Every hash in `acked` that `on_server` lacks.
fn missing(acked: &BTreeSet<Vec<u8>>, on_server: &BTreeSet<Vec<u8>>) -> BTreeSet<Vec<u8>> {
    acked.difference(on_server).cloned().collect()
}

#[test]
fn the_server_killed_at_random_during_sync_and_import_loses_and_duplicates_nothing() {
    let started = Instant::now();
    let seed: u64 = std::env::var("TUMBUH_KILL9_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.as_nanos() as u64)
        });
    println!("server_kill9: seed {seed} (TUMBUH_KILL9_SEED={seed} replays the kill schedule)");
    let mut rng = StdRng::seed_from_u64(seed);

    let mut server = Server::start();
    let relay = Relay::start(server.addr());
    let devices: Vec<Device> = POSYANDUS
        .iter()
        .map(|p| {
            let d = Device::at(p);
            d.login(&relay.url(), &server.enrol("kader", p));
            d
        })
        .collect();
    let work = tempfile::tempdir().expect("temp dir");
    let files = import_files(work.path());

    let stop = AtomicBool::new(false);
    let importing: Mutex<Option<Child>> = Mutex::new(None);
    let imports_done = AtomicBool::new(false);
    let mut kills = 0usize;
    let mut imports_killed_by_us = 0usize;
    let mut lost: BTreeSet<Vec<u8>> = BTreeSet::new();
    let db = server.db().to_path_buf();

    let (device_logs, import_log) = std::thread::scope(|scope| {
        let workers: Vec<_> = devices
            .iter()
            .enumerate()
            .map(|(i, d)| {
                let stop = &stop;
                scope.spawn(move || device_loop(d, i, stop))
            })
            .collect();

        // The importer: each file until one run reports success; a run the
        // test killed must have stored all of the file's rows or none.
        let importer = {
            let (files, importing, imports_done, db) = (&files, &importing, &imports_done, &db);
            let work = work.path();
            scope.spawn(move || {
                let mut log = ImportLog::default();
                for (i, file) in files.iter().enumerate() {
                    for attempt in 0.. {
                        let (out, err) = (
                            work.join(format!("import-{i}-{attempt}.json")),
                            work.join(format!("import-{i}-{attempt}.log")),
                        );
                        *importing.lock().expect("import slot") =
                            Some(spawn_import(db, &file.path, &out, &err));
                        let status =
                            wait_for("the import to end", Duration::from_secs(120), || {
                                let mut slot = importing.lock().expect("import slot");
                                let status = slot.as_mut()?.try_wait().expect("try_wait")?;
                                slot.take();
                                Some(status)
                            });
                        if status.success() {
                            let report: Value = serde_json::from_slice(
                                &std::fs::read(&out).expect("import output"),
                            )
                            .expect("import prints JSON");
                            log.succeeded.push(report);
                            break;
                        }
                        assert_eq!(
                            status.signal(),
                            Some(9),
                            "import {i} failed on its own: {}",
                            std::fs::read_to_string(&err).unwrap_or_default()
                        );
                        let kept = imported_rows(db, &file.ids);
                        assert!(
                            kept == 0 || kept == file.ids.len(),
                            "import {i} killed midway kept {kept} of {} rows",
                            file.ids.len()
                        );
                        log.killed.push(kept);
                    }
                }
                imports_done.store(true, Ordering::SeqCst);
                log
            })
        };

        for k in 0..KILLS {
            // Kill only once a device has reached the (re)started server, at a
            // random moment after that: in the middle of whatever it does.
            let reached = relay.connections();
            wait_for(
                "a device to reach the server",
                Duration::from_secs(30),
                || (relay.connections() > reached).then_some(()),
            );
            // The first kill also takes an import in flight, if one is coming.
            if k == 0 {
                wait_for("an import to start", Duration::from_secs(30), || {
                    (importing.lock().expect("slot").is_some()
                        || imports_done.load(Ordering::SeqCst))
                    .then_some(())
                });
            }
            let delay = rng.random_range(0..=MAX_KILL_DELAY_MS);
            let kill_import = k == 0 || rng.random_bool(0.3);
            // The random moment of the kill is the point of this test, not a wait.
            std::thread::sleep(Duration::from_millis(delay));
            if kill_import
                && let Some(child) = importing.lock().expect("slot").as_mut()
                && matches!(child.try_wait(), Ok(None))
            {
                let _ = child.kill();
                imports_killed_by_us += 1;
            }
            server.kill();
            kills += 1;
            // Whatever a device holds as acknowledged is in the dead server's database.
            let on_server = server.hashes();
            for d in &devices {
                lost.extend(missing(&d.acknowledged(), &on_server));
            }
            server.restart();
            relay.set_upstream(server.addr());
        }
        stop.store(true, Ordering::SeqCst);
        let logs: Vec<DeviceLog> = workers
            .into_iter()
            .map(|w| w.join().expect("device thread"))
            .collect();
        (logs, importer.join().expect("import thread"))
    });

    // A clean sync of every device, twice round so that each receives the others'.
    for _ in 0..2 {
        for d in &devices {
            let summary = d.sync();
            assert_eq!(summary["rejected"], Value::Array(vec![]), "{summary}");
        }
    }
    let on_server = server.hashes();
    for d in &devices {
        lost.extend(missing(&d.acknowledged(), &on_server));
    }

    let syncs_ok: usize = device_logs.iter().map(|l| l.syncs_ok).sum();
    let syncs_failed: usize = device_logs.iter().map(|l| l.syncs_failed).sum();
    let retries: u64 = device_logs.iter().map(|l| l.retries).sum();
    let children: usize = device_logs.iter().map(|l| l.children.len()).sum();
    let measurements: usize = device_logs.iter().map(|l| l.measurements).sum();
    println!(
        "server_kill9: seed {seed}: {kills} kills of the server, {} import runs killed (rows kept: {:?}), \
         {} imports succeeded; devices made {children} children and {measurements} measurements, \
         {syncs_ok} syncs succeeded ({retries} retries inside them), {syncs_failed} gave up; \
         acknowledged changes lost: {}; {} changes on the server; {:.1} s",
        import_log.killed.len(),
        import_log.killed,
        import_log.succeeded.len(),
        lost.len(),
        on_server.len(),
        started.elapsed().as_secs_f64()
    );

    assert_eq!(kills, KILLS, "every kill was performed");
    assert!(
        lost.is_empty(),
        "{} acknowledged changes are missing on the server",
        lost.len()
    );
    assert!(
        syncs_failed > 0 || retries > 0,
        "the kills hit syncs in flight (a sync failed or retried)"
    );
    assert!(syncs_ok > 0, "syncs went through between the kills");
    // (An import may end on its own just before the SIGKILL reaches it.)
    assert!(
        import_log.killed.len() <= imports_killed_by_us,
        "only the imports the test killed failed"
    );
    assert!(
        !import_log.killed.is_empty(),
        "the first kill took an import with it"
    );

    // Each change once, a sound database, every device's work on the server.
    let (rows, distinct): (i64, i64) = server
        .conn()
        .query_row(
            "SELECT count(*), count(DISTINCT hash) FROM changes",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("count changes");
    assert_eq!(rows, distinct, "no change is stored twice");
    assert_eq!(rows as usize, on_server.len());
    server.assert_sound();
    let indexed = tumbuh_tests::strings_of(&server.conn(), "SELECT child_id FROM child_index");
    for (d, log) in devices.iter().zip(&device_logs) {
        assert!(d.outbox().is_empty(), "the clean sync emptied the outbox");
        assert_eq!(d.status()["rejected_changes"], 0);
        let mine = d.hashes();
        assert!(
            mine.is_subset(&on_server),
            "{} changes of a device never reached the server",
            mine.difference(&on_server).count()
        );
        for child in &log.children {
            assert!(indexed.contains(child), "child {child} is on the server");
        }
        d.assert_consistent();
    }

    // Imports: every file complete, and importing it again stores nothing new.
    assert_eq!(import_log.succeeded.len(), IMPORT_FILES);
    for report in &import_log.succeeded {
        assert_eq!(report["rejected"], 0, "{report}");
    }
    let changes_before = server.count("changes");
    for file in &files {
        assert_eq!(
            imported_rows(server.db(), &file.ids),
            file.ids.len(),
            "{}: every row is stored",
            file.path.display()
        );
        // Without the dedup run, which may merge the devices' new children.
        let again = server.json(&["import", file.path.to_str().expect("path"), "--no-dedup"]);
        assert_eq!(again["stored"]["measurements_stored"], 0, "{again}");
        assert_eq!(again["stored"]["children_created"], 0, "{again}");
        assert_eq!(
            again["stored"]["already_imported"],
            file.ids.len(),
            "{again}"
        );
    }
    assert_eq!(
        server.count("changes"),
        changes_before,
        "re-importing stores no change"
    );
    assert_eq!(server.count("imports") as usize, IMPORT_ROWS);
    let check: String = server
        .conn()
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .expect("integrity_check");
    assert_eq!(check, "ok");
}
