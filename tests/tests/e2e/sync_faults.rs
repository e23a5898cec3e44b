//! Faults on the way between the field client and the server: the real
//! `tumbuh sync` goes through a TCP proxy (in this file) that cuts the
//! connection at a chosen point of the exchange, and the real server is
//! killed with SIGKILL in the middle of a sync. Whatever happens, after the
//! next good sync the server holds every change exactly once, the devices
//! hold the same changes as the server, the outbox is empty, and no change
//! the server acknowledged is ever missing from it.

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::process::{Output, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use serde_json::Value;
use tumbuh_tests::{Device, POSYANDU, Server, tumbuh_bin, wait_for};

// ---------------------------------------------------------------------------
// The fault-injecting proxy.

/// Where the proxy cuts a connection (counted on that connection, from its
/// first byte; "body" fractions are of the first message's
/// `Content-Length`, read from its headers).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    /// Forward this many bytes client → server, then close both sides
    /// (0: before the request).
    RequestBytes(usize),
    /// Forward the request's headers and this many ‰ of its body, then
    /// close both sides (1000: the whole request, then close).
    RequestBody(u32),
    /// Forward the whole request, then close the client's side before any
    /// response byte: the server answers into the void.
    DropResponse,
    /// Forward this many bytes server → client, then close both sides.
    ResponseBytes(usize),
    /// Forward the response's headers and this many ‰ of its body, then close.
    ResponseBody(u32),
    /// Forward the whole response, then close.
    AfterResponse,
    /// Forward the whole request, report [`Proxy::wait_held`], and hold the
    /// response back until the server goes away (to kill it mid-exchange).
    Hold,
}

#[derive(Default)]
struct Plan {
    fault: Option<Fault>,
    /// How many more connections get the fault (`None`: all of them).
    times: Option<usize>,
}

struct Shared {
    upstream: Mutex<SocketAddr>,
    plan: Mutex<Plan>,
    /// Faults that actually cut (or held) a connection.
    cuts: AtomicUsize,
    held: (Mutex<usize>, Condvar),
    stopping: AtomicBool,
    sockets: Mutex<Vec<TcpStream>>,
}

/// A TCP proxy on 127.0.0.1 that forwards to the server and injects faults.
struct Proxy {
    addr: SocketAddr,
    shared: Arc<Shared>,
}

impl Proxy {
    fn start(upstream: SocketAddr) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind proxy");
        let addr = listener.local_addr().expect("proxy addr");
        let shared = Arc::new(Shared {
            upstream: Mutex::new(upstream),
            plan: Mutex::new(Plan::default()),
            cuts: AtomicUsize::new(0),
            held: (Mutex::new(0), Condvar::new()),
            stopping: AtomicBool::new(false),
            sockets: Mutex::new(Vec::new()),
        });
        let s = shared.clone();
        std::thread::spawn(move || {
            for client in listener.incoming() {
                if s.stopping.load(Ordering::SeqCst) {
                    return;
                }
                let Ok(client) = client else { continue };
                let fault = {
                    let mut plan = s.plan.lock().expect("plan");
                    match (plan.fault, plan.times) {
                        (Some(_), Some(0)) | (None, _) => None,
                        (Some(f), Some(n)) => {
                            plan.times = Some(n - 1);
                            Some(f)
                        }
                        (Some(f), None) => Some(f),
                    }
                };
                let s = s.clone();
                std::thread::spawn(move || connection(client, &s, fault));
            }
        });
        Proxy { addr, shared }
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The next `times` connections (all, if `None`) get `fault`.
    fn set_fault(&self, fault: Fault, times: Option<usize>) {
        *self.shared.plan.lock().expect("plan") = Plan {
            fault: Some(fault),
            times,
        };
    }

    /// No more faults.
    fn heal(&self) {
        *self.shared.plan.lock().expect("plan") = Plan::default();
    }

    /// Forwards new connections to `upstream` from now on.
    fn set_upstream(&self, upstream: SocketAddr) {
        *self.shared.upstream.lock().expect("upstream") = upstream;
    }

    /// How many connections a fault actually cut or held.
    fn cuts(&self) -> usize {
        self.shared.cuts.load(Ordering::SeqCst)
    }

    /// Waits until a [`Fault::Hold`] connection has forwarded its whole request.
    fn wait_held(&self, within: Duration) {
        let (lock, cond) = &self.shared.held;
        let guard = lock.lock().expect("held");
        let (guard, timeout) = cond
            .wait_timeout_while(guard, within, |n| *n == 0)
            .expect("held");
        assert!(
            !timeout.timed_out() && *guard > 0,
            "a request reached the server through the proxy within {within:?}"
        );
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.shared.stopping.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr);
        if let Ok(sockets) = self.shared.sockets.lock() {
            for s in sockets.iter() {
                let _ = s.shutdown(Shutdown::Both);
            }
        }
    }
}

fn cut(a: &TcpStream, b: &TcpStream) {
    let _ = a.shutdown(Shutdown::Both);
    let _ = b.shutdown(Shutdown::Both);
}

/// The length of the first HTTP message's header block and its body, once
/// `seen` holds the whole header block.
fn message_size(seen: &[u8]) -> Option<(usize, usize)> {
    let head_end = seen.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    let head = String::from_utf8_lossy(&seen[..head_end]);
    let body = head
        .lines()
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.trim().parse().ok())
        .unwrap_or(0);
    Some((head_end, body))
}

/// Where to stop: a number of bytes, or a point in the first message.
#[derive(Debug, Clone, Copy)]
enum Limit {
    None,
    Bytes(usize),
    Body(u32),
}

impl Limit {
    /// The byte count to stop at, once it can be known from `seen`.
    fn resolve(self, seen: &[u8]) -> Option<Option<usize>> {
        match self {
            Limit::None => Some(None),
            Limit::Bytes(n) => Some(Some(n)),
            Limit::Body(permille) => {
                let (head, body) = message_size(seen)?;
                Some(Some(head + body * permille as usize / 1000))
            }
        }
    }
}

/// Copies `from` → `to` (or reads and discards, when `forward` is false)
/// until `limit` bytes went through (true) or `from` ends (false). Bytes
/// past a limit that is not yet known (the headers are incomplete) are held
/// back.
fn pump(from: &mut TcpStream, to: &mut TcpStream, limit: Limit, forward: bool) -> bool {
    let mut seen = Vec::new();
    let mut sent = 0usize;
    let mut buf = [0u8; 16 * 1024];
    loop {
        let stop = limit.resolve(&seen);
        let upto = match stop {
            Some(Some(n)) => n.min(seen.len()),
            Some(None) => seen.len(),
            None => sent,
        };
        if upto > sent {
            if forward && to.write_all(&seen[sent..upto]).is_err() {
                return false;
            }
            sent = upto;
        }
        if let Some(Some(n)) = stop
            && sent >= n
        {
            return true;
        }
        match from.read(&mut buf) {
            Ok(0) | Err(_) => return false,
            Ok(n) => seen.extend_from_slice(&buf[..n]),
        }
    }
}

fn connection(client: TcpStream, shared: &Arc<Shared>, fault: Option<Fault>) {
    let upstream = *shared.upstream.lock().expect("upstream");
    let Ok(server) = TcpStream::connect(upstream) else {
        // The server is down: the client sees its connection closed.
        let _ = client.shutdown(Shutdown::Both);
        return;
    };
    if let Ok(mut sockets) = shared.sockets.lock() {
        sockets.extend(client.try_clone().ok());
        sockets.extend(server.try_clone().ok());
    }
    let (up_limit, down_limit) = match fault {
        None | Some(Fault::ResponseBytes(_) | Fault::ResponseBody(_) | Fault::AfterResponse) => {
            (Limit::None, None)
        }
        Some(Fault::RequestBytes(n)) => (Limit::Bytes(n), None),
        Some(Fault::RequestBody(p)) => (Limit::Body(p), None),
        Some(Fault::DropResponse | Fault::Hold) => (Limit::Body(1000), None),
    };
    let down_limit = down_limit.unwrap_or(match fault {
        Some(Fault::ResponseBytes(n)) => Limit::Bytes(n),
        Some(Fault::ResponseBody(p)) => Limit::Body(p),
        Some(Fault::AfterResponse) => Limit::Body(1000),
        // DropResponse stops at the first response byte, Hold at the end.
        Some(Fault::DropResponse) => Limit::Bytes(1),
        _ => Limit::None,
    });
    let forward_down = !matches!(fault, Some(Fault::DropResponse | Fault::Hold));

    let (mut c_read, mut s_write) = (
        client.try_clone().expect("clone"),
        server.try_clone().expect("clone"),
    );
    let up_shared = shared.clone();
    let up = std::thread::spawn(move || {
        let reached = pump(&mut c_read, &mut s_write, up_limit, true);
        match fault {
            Some(Fault::RequestBytes(_) | Fault::RequestBody(_)) if reached => {
                up_shared.cuts.fetch_add(1, Ordering::SeqCst);
                cut(&c_read, &s_write);
            }
            Some(Fault::DropResponse) if reached => {
                up_shared.cuts.fetch_add(1, Ordering::SeqCst);
                // The client loses its connection; the server still answers.
                let _ = c_read.shutdown(Shutdown::Both);
            }
            Some(Fault::Hold) if reached => {
                up_shared.cuts.fetch_add(1, Ordering::SeqCst);
                let (lock, cond) = &up_shared.held;
                *lock.lock().expect("held") += 1;
                cond.notify_all();
            }
            _ => {
                // The client is done sending: pass the end on.
                if !reached {
                    let _ = s_write.shutdown(Shutdown::Write);
                }
            }
        }
    });
    let (mut s_read, mut c_write) = (server, client);
    let reached = pump(&mut s_read, &mut c_write, down_limit, forward_down);
    match fault {
        Some(Fault::ResponseBytes(_) | Fault::ResponseBody(_) | Fault::AfterResponse)
            if reached =>
        {
            shared.cuts.fetch_add(1, Ordering::SeqCst);
            cut(&s_read, &c_write);
        }
        // Dropped or held: once the server answered (or went away), close all.
        Some(Fault::DropResponse | Fault::Hold) => cut(&s_read, &c_write),
        _ => {
            if !reached {
                let _ = c_write.shutdown(Shutdown::Write);
            }
        }
    }
    let _ = up.join();
}

// ---------------------------------------------------------------------------
// The scene: a server, a proxy in front of it, and two devices of one
// posyandu with offline work for each other.

struct Scene {
    server: Server,
    proxy: Proxy,
    /// Syncs through the proxy; the faults hit its syncs.
    field: Device,
    /// The other kader's device (also through the proxy, when it is healed).
    other: Device,
    children: usize,
}

fn scene() -> Scene {
    let server = Server::start();
    let proxy = Proxy::start(server.addr());
    let field = Device::new();
    field.login(&proxy.url(), &server.enrol("kader", POSYANDU));
    let other = Device::new();
    other.login(&proxy.url(), &server.enrol("kader", POSYANDU));
    // A child both devices know.
    let shared = other.add_child("Dimas", "L", "2022-01-15", "Rina");
    other.measure(&shared, "2024-05-06", "10.0", &[]);
    other.sync();
    assert_eq!(field.sync()["snapshot_children"], 1);
    // Offline work on both sides.
    for (name, sex, born, mother) in [
        ("Ani", "P", "2023-05-17", "Sri"),
        ("Budi", "L", "2022-03-01", "Wati"),
        ("Citra", "P", "2023-08-08", "Yanti"),
    ] {
        let id = field.add_child(name, sex, born, mother);
        field.measure(&id, "2024-06-03", "9.1", &[]);
        field.measure(
            &id,
            "2024-07-01",
            "9.4",
            &["--height", "75", "--position", "lying"],
        );
    }
    field.measure(&shared, "2024-06-03", "10.2", &[]);
    let eka = other.add_child("Eka", "P", "2023-02-02", "Lestari");
    other.measure(&eka, "2024-06-04", "8.8", &[]);
    other.measure(&shared, "2024-07-01", "10.5", &[]);
    other.sync();
    Scene {
        server,
        proxy,
        field,
        other,
        children: 5,
    }
}

/// No change the server acknowledged is missing from it, and every change
/// of the device is either acknowledged or still in the outbox.
fn assert_nothing_lost(s: &Scene, what: &str) {
    let on_server = s.server.hashes();
    for d in [&s.field, &s.other] {
        let acked = d.acknowledged();
        assert!(
            acked.is_subset(&on_server),
            "{what}: {} acknowledged changes are missing on the server",
            acked.difference(&on_server).count()
        );
        let outbox = d.outbox();
        let all: BTreeSet<Vec<u8>> = acked.union(&outbox).cloned().collect();
        assert_eq!(
            d.hashes(),
            all,
            "{what}: every change is acknowledged or waiting"
        );
    }
}

/// Heals the proxy, syncs both devices and checks they and the server agree.
fn assert_converges(s: &Scene, what: &str) {
    s.proxy.heal();
    for d in [&s.field, &s.other, &s.field] {
        let summary = d.sync();
        assert_eq!(summary["verified"], true, "{what}: {summary}");
        assert_eq!(
            summary["rejected"],
            Value::Array(vec![]),
            "{what}: {summary}"
        );
    }
    let on_server = s.server.hashes();
    assert_eq!(
        s.server.count("changes"),
        on_server.len() as i64,
        "{what}: each change once on the server"
    );
    s.server.assert_sound();
    assert_eq!(s.field.hashes(), on_server, "{what}: field device = server");
    assert_eq!(s.other.hashes(), on_server, "{what}: other device = server");
    for d in [&s.field, &s.other] {
        let status = d.status();
        assert_eq!(
            status["pending_changes"], 0,
            "{what}: outbox empty: {status}"
        );
        assert_eq!(status["rejected_changes"], 0, "{what}: {status}");
        assert_eq!(
            d.count("children"),
            s.children as i64,
            "{what}: no duplicate child"
        );
        d.assert_consistent();
    }
    assert_eq!(s.field.child_ids(), s.other.child_ids());
    assert_eq!(
        s.server.count("child_index"),
        s.children as i64,
        "{what}: no duplicate child on the server"
    );
    s.server.wait_projected();
    assert_eq!(s.server.count("children"), s.children as i64, "{what}");
}

/// The cut points, from before the request to after the response.
const CUTS: [Fault; 9] = [
    Fault::RequestBytes(0),
    Fault::RequestBytes(20),
    Fault::RequestBody(500),
    Fault::RequestBody(1000),
    Fault::DropResponse,
    Fault::ResponseBytes(10),
    Fault::ResponseBody(500),
    Fault::ResponseBody(999),
    Fault::AfterResponse,
];

/// Runs `check` for every cut point, each in its own scene, in parallel.
fn for_every_cut(check: impl Fn(Fault) + Sync) {
    let check = &check;
    std::thread::scope(|scope| {
        let runs: Vec<_> = CUTS
            .iter()
            .map(|&fault| (fault, scope.spawn(move || check(fault))))
            .collect();
        let failed: Vec<Fault> = runs
            .into_iter()
            .filter_map(|(fault, run)| run.join().is_err().then_some(fault))
            .collect();
        assert!(failed.is_empty(), "failed at cut points {failed:?}");
    });
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn a_connection_cut_once_anywhere_is_retried_and_each_change_stored_once() {
    for_every_cut(|fault| {
        let s = scene();
        let what = format!("{fault:?} once");
        let outbox = s.field.outbox();
        assert!(!outbox.is_empty());
        s.proxy.set_fault(fault, Some(1));
        let out = s.field.sync_output(10, &[]);
        assert!(
            out.status.success(),
            "{what}: the retry succeeds: {}",
            text(&out)
        );
        assert_eq!(s.proxy.cuts(), 1, "{what}: the fault hit");
        let summary: Value = serde_json::from_slice(&out.stdout).expect("JSON");
        if fault != Fault::AfterResponse {
            assert!(summary["retries"].as_u64() >= Some(1), "{what}: {summary}");
        }
        assert_eq!(summary["sent"], outbox.len(), "{what}: {summary}");
        assert!(s.field.outbox().is_empty(), "{what}");
        assert_nothing_lost(&s, &what);
        assert_converges(&s, &what);
    });
}

#[test]
fn a_sync_that_keeps_being_cut_gives_up_and_the_next_one_completes() {
    for_every_cut(|fault| {
        let s = scene();
        let what = format!("{fault:?} always");
        let before = s.field.hashes();
        let outbox = s.field.outbox();
        s.proxy.set_fault(fault, None);
        let out = s.field.sync_output(2, &["--lang", "en"]);
        assert!(s.proxy.cuts() >= 1, "{what}: the fault hit");
        if out.status.success() {
            // Only a cut after the whole response lets the exchange through.
            assert_eq!(fault, Fault::AfterResponse, "{what}: {}", text(&out));
            assert!(s.field.outbox().is_empty());
        } else {
            assert!(
                text(&out).contains("Nothing was lost"),
                "{what}: a clear message: {}",
                text(&out)
            );
            assert_eq!(s.field.outbox(), outbox, "{what}: the outbox is intact");
        }
        assert!(s.field.hashes().is_superset(&before), "{what}");
        assert_nothing_lost(&s, &what);
        assert_converges(&s, &what);
    });
}

/// Waits for a spawned `tumbuh sync` to end (with a deadline) and returns its output.
fn finish(mut child: std::process::Child) -> Output {
    wait_for("tumbuh sync to finish", Duration::from_secs(60), || {
        child.try_wait().expect("try_wait").map(|_| ())
    });
    child.wait_with_output().expect("output")
}

#[test]
fn the_server_killed_mid_sync_and_restarted_loses_and_duplicates_nothing() {
    let mut s = scene();
    let acknowledged = s.field.acknowledged();
    assert!(!acknowledged.is_empty(), "the first sync was acknowledged");

    // 1. Killed while it holds a whole upload (answering or about to).
    s.proxy.set_fault(Fault::Hold, Some(1));
    let sync = tumbuh_tests::with_pin(&mut std::process::Command::new(tumbuh_bin()))
        .env_remove("TUMBUH_LANG")
        .env_remove("TUMBUH_LOG")
        .arg("--db")
        .arg(s.field.db())
        .args(["--json", "sync", "--timeout", "60"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start tumbuh sync");
    s.proxy.wait_held(Duration::from_secs(20));
    s.server.kill();
    assert!(!s.server.is_running());
    s.server.restart();
    s.proxy.set_upstream(s.server.addr());
    let out = finish(sync);
    assert!(out.status.success(), "the sync carries on: {}", text(&out));
    let summary: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert!(summary["retries"].as_u64() >= Some(1), "{summary}");
    assert!(s.field.outbox().is_empty());
    assert!(
        acknowledged.is_subset(&s.server.hashes()),
        "acknowledged before, kept"
    );
    assert_nothing_lost(&s, "killed holding an upload");
    s.server.assert_sound();

    // 2. Killed right after acknowledging, before the projection ran.
    let id = s.field.add_child("Fajar", "L", "2023-09-09", "Nur");
    s.field.measure(&id, "2024-06-03", "8.1", &[]);
    let new = s.field.outbox();
    assert_eq!(s.field.sync()["sent"], new.len());
    s.server.kill();
    s.children += 1;
    let conn = s.server.conn();
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .expect("integrity_check");
    assert_eq!(check, "ok", "the killed server's database is sound");
    drop(conn);
    assert!(
        new.is_subset(&s.server.hashes()),
        "what the server acknowledged survives SIGKILL"
    );
    s.server.restart();
    s.proxy.set_upstream(s.server.addr());
    assert_nothing_lost(&s, "killed after acknowledging");
    // The restarted server catches up with its projection and the devices converge.
    assert_converges(&s, "after restarts");
}

#[test]
fn an_unreachable_server_makes_sync_give_up_clearly_with_the_outbox_intact() {
    let server = Server::start();
    let proxy = Proxy::start(server.addr());
    let d = Device::new();
    d.login(&proxy.url(), &server.enrol("kader", POSYANDU));
    let id = d.add_child("Ani", "P", "2023-05-17", "Sri");
    d.measure(&id, "2024-06-03", "9.1", &[]);
    let outbox = d.outbox();
    assert_eq!(outbox.len(), 2);
    // Nothing listens where the proxy forwards: a port just freed.
    let dead = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port");
    proxy.set_upstream(dead);
    for (lang, says) in [
        ("en", "Nothing was lost"),
        ("id", "Tidak ada data yang hilang"),
    ] {
        let out = d.sync_output(1, &["--lang", lang]);
        assert_eq!(out.status.code(), Some(2), "{lang}: {}", text(&out));
        let message: Value = serde_json::from_slice(&out.stdout).expect("JSON error");
        let message = message["message"].as_str().expect("message");
        assert!(message.contains(says), "{lang}: {message}");
        assert!(text(&out).contains(says), "{lang}: on stderr too");
        assert_eq!(d.outbox(), outbox, "{lang}: the outbox is intact");
    }
    let status = d.status();
    assert_eq!(status["pending_changes"], 2);
    assert_eq!(status["last_sync_ms"], Value::Null, "never synced");
    assert!(status["last_error"].is_string(), "{status}");
    assert_eq!(server.count("changes"), 0);
    // Reachable again: everything goes through.
    proxy.set_upstream(server.addr());
    assert_eq!(d.sync()["sent"], 2);
    assert_eq!(server.hashes(), outbox);
    let status = d.status();
    assert_eq!(status["pending_changes"], 0);
    assert!(status["last_sync_ms"].is_number());
    assert_eq!(status["last_error"], Value::Null);
}
