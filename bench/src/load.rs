//! `load`: many devices syncing at once with the real `tumbuh-server`
//! binary while the network cuts a share of the requests mid-body.
//!
//! The server is the release `tumbuh-server serve` found beside this binary,
//! on a fresh database. Each simulated device is its own kader enrolment and
//! field-client store (`sync::Dev`, the same generator as `sync`), several
//! per posyandu so that they receive each other's changes. Every round,
//! each device records new data (round 1: a few children with a
//! measurement each; later rounds: new measurements) and calls
//! `field_client::sync::sync` with an `HttpTransport` through the
//! fault-injecting proxy (`crate::proxy`), which cuts `--cut-rate` of the
//! HTTP requests mid-body with a seeded RNG, half in the request body and
//! half in the response body. The client retries with backoff as `tumbuh
//! sync` does (`--timeout` is its give-up time); a sync call that still
//! fails is an error returned to the user. The devices are served by a pool
//! of `--threads` threads. After the rounds the proxy stops cutting and each
//! device syncs once more; then every change made on a device must be on
//! the server (data lost = 0), each once.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::{Context as _, ensure};
use field_client::sync::http::HttpTransport;
use field_client::sync::{self as client_sync, SyncOptions};
use tumbuh_server::SqliteStorage;

use crate::data::Rng;
use crate::proxy::{Faults, Proxy};
use crate::sync::{Counting, Dev, ServerProcess, load_average, now_ms};
use crate::sys::{self, median, percentile, thousands};

/// The options of `tumbuh-bench load`.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Devices syncing.
    #[arg(long, default_value_t = 200)]
    pub devices: usize,
    /// Devices per posyandu (they receive each other's changes).
    #[arg(long, default_value_t = 4)]
    pub devices_per_posyandu: usize,
    /// Children each device registers in the first round (one measurement each).
    #[arg(long, default_value_t = 3)]
    pub children: usize,
    /// New measurements per device in each later round.
    #[arg(long, default_value_t = 2)]
    pub measurements: usize,
    /// Rounds: every device records and syncs once per round.
    #[arg(long, default_value_t = 5)]
    pub rounds: usize,
    /// Share of HTTP requests the proxy cuts mid-body.
    #[arg(long, default_value_t = 0.05)]
    pub cut_rate: f64,
    /// Threads serving the devices (default: 8 per core, at most the devices).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Seconds a sync call keeps retrying before it returns an error (as `tumbuh sync --timeout`).
    #[arg(long, default_value_t = 120)]
    pub timeout: u64,
}

/// One device of the run.
struct Sim {
    index: usize,
    dev: Dev,
    rng: Rng,
    /// Hashes of every change made on this device.
    created: BTreeSet<Vec<u8>>,
}

impl Sim {
    /// This round's new data: children in round 0, measurements after.
    fn record(
        &mut self,
        args: &Args,
        round: usize,
        today: chrono::NaiveDate,
    ) -> anyhow::Result<()> {
        if round == 0 {
            self.dev.fill(args.children, 1, today, &mut self.rng)?;
        } else {
            let k = self.dev.children.len().max(1);
            let picks: Vec<(usize, usize)> = (0..args.measurements)
                .map(|j| ((round * args.measurements + j) % k, 1))
                .collect();
            self.dev.measure(&picks, today, &mut self.rng)?;
        }
        // Everything in the outbox now was made here (received changes
        // arrive acknowledged).
        let mut stmt = self
            .dev
            .store
            .conn()
            .prepare("SELECT hash FROM changes WHERE synced = 0")?;
        let hashes = stmt.query_map([], |r| r.get::<_, Vec<u8>>(0))?;
        for h in hashes {
            self.created.insert(h?);
        }
        Ok(())
    }

    /// One `sync` call through `url`: (retries, HTTP exchanges tried) or the error.
    fn sync(&mut self, url: &str, timeout: Duration) -> Result<(u64, usize), String> {
        let transport =
            HttpTransport::new(url, &self.dev.token, timeout).map_err(|e| e.to_string())?;
        let mut counting = Counting {
            inner: transport,
            calls: Vec::new(),
        };
        let options = SyncOptions {
            give_up_after: timeout,
            now_ms: now_ms(),
            ..SyncOptions::default()
        };
        let summary = client_sync::sync(&mut self.dev.store, &mut counting, &options)
            .map_err(|e| e.to_string())?;
        if !summary.rejected.is_empty() {
            return Err(format!("rejected: {:?}", summary.rejected));
        }
        Ok((summary.retries, counting.calls.len()))
    }
}

/// What one sync call gave.
struct Outcome {
    latency: f64,
    result: Result<(u64, usize), String>,
}

/// Runs `work` on every device with a pool of `threads`; the outcomes in any order.
fn on_pool(
    sims: &mut Vec<Sim>,
    threads: usize,
    work: &(dyn Fn(&mut Sim) -> anyhow::Result<Outcome> + Sync),
) -> anyhow::Result<Vec<Outcome>> {
    let queue = Mutex::new(std::mem::take(sims));
    let done = Mutex::new(Vec::new());
    let outcomes = Mutex::new(Vec::new());
    let failure = Mutex::new(None::<anyhow::Error>);
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                loop {
                    let next = queue.lock().ok().and_then(|mut q| q.pop());
                    let Some(mut sim) = next else { break };
                    match work(&mut sim) {
                        Ok(o) => {
                            if let Ok(mut v) = outcomes.lock() {
                                v.push(o);
                            }
                        }
                        Err(e) => {
                            if let Ok(mut f) = failure.lock() {
                                f.get_or_insert(e);
                            }
                        }
                    }
                    if let Ok(mut d) = done.lock() {
                        d.push(sim);
                    }
                }
            });
        }
    });
    *sims = done
        .into_inner()
        .map_err(|_| anyhow::anyhow!("a device thread panicked"))?;
    // Same order every round (by device number), whatever the pool did.
    sims.sort_by_key(|s| s.index);
    if let Some(e) = failure
        .into_inner()
        .map_err(|_| anyhow::anyhow!("a device thread panicked"))?
    {
        return Err(e);
    }
    outcomes
        .into_inner()
        .map_err(|_| anyhow::anyhow!("a device thread panicked"))
}

fn timed_sync(sim: &mut Sim, url: &str, timeout: Duration) -> Outcome {
    let t = Instant::now();
    let result = sim.sync(url, timeout);
    Outcome {
        latency: t.elapsed().as_secs_f64(),
        result,
    }
}

/// Runs the load and prints its table.
pub fn run(args: &Args, dir: Option<&Path>, seed: u64) -> anyhow::Result<()> {
    let n = args.devices;
    let per = args.devices_per_posyandu.max(1);
    ensure!(n > 0, "--devices must be at least 1");
    ensure!(
        n.div_ceil(per) <= 99,
        "--devices / --devices-per-posyandu must be at most 99 posyandus"
    );
    ensure!(
        (0.0..1.0).contains(&args.cut_rate),
        "--cut-rate must be in [0, 1)"
    );
    ensure!(args.rounds > 0, "--rounds must be at least 1");
    let cores = std::thread::available_parallelism().map_or(1, |c| c.get());
    let threads = args.threads.unwrap_or(8 * cores).clamp(1, n);
    let timeout = Duration::from_secs(args.timeout.max(1));
    println!(
        "== load: {n} devices ({per} per posyandu), {} rounds, {:.1} % of requests cut mid-body (seed {seed}), \
         {threads} threads ==",
        args.rounds,
        100.0 * args.cut_rate
    );
    println!("load average at start: {}", load_average());
    let bin = sys::server_binary()?;
    let tmp = sys::scratch_dir(dir, "tumbuh-bench-load-")?;
    let db = tmp.path().join("server.db");
    // Enrolments go straight into the database (the server has it open too).
    let storage = SqliteStorage::open(&db)?;
    let server = ServerProcess::start(&bin, &db, &tmp.path().join("server.log"))?;
    let upstream = server
        .url
        .strip_prefix("http://")
        .and_then(|a| a.parse().ok())
        .with_context(|| format!("unexpected server URL {}", server.url))?;
    let proxy = Proxy::with_faults(
        upstream,
        Faults {
            rate: args.cut_rate,
            seed,
        },
    )?;
    println!(
        "server: {} (pid {}) at {}; fault proxy at {}",
        bin.display(),
        server.child.id(),
        server.url,
        proxy.url()
    );
    let today = chrono::Local::now().date_naive();
    let t = Instant::now();
    let mut sims = Vec::with_capacity(n);
    for i in 0..n {
        let posyandu = format!("3530012007{:02}", i / per + 1);
        // Sign-in goes to the server directly; the syncs go through the proxy.
        let dev = Dev::new(
            tmp.path(),
            &format!("device-{i:03}.db"),
            &storage,
            &server.url,
            &posyandu,
            &format!("Kader {i:03}"),
        )?;
        sims.push(Sim {
            index: i,
            dev,
            rng: Rng::new(seed ^ (0x10AD_0000 + i as u64)),
            created: BTreeSet::new(),
        });
    }
    println!(
        "setup (not timed, {:.1} s): {n} enrolments and stores, signed in",
        t.elapsed().as_secs_f64()
    );

    let url = proxy.url();
    let mut latencies = Vec::new();
    let mut failures = Vec::new();
    let mut retries = 0u64;
    let mut exchanges = 0u64;
    let mut calls = 0usize;
    let start = Instant::now();
    for round in 0..args.rounds {
        let t = Instant::now();
        let work = |sim: &mut Sim| -> anyhow::Result<Outcome> {
            sim.record(args, round, today)?;
            Ok(timed_sync(sim, &url, timeout))
        };
        let outcomes = on_pool(&mut sims, threads, &work)?;
        let mut round_failures = 0;
        for o in outcomes {
            calls += 1;
            latencies.push(o.latency);
            match o.result {
                Ok((r, e)) => {
                    retries += r;
                    exchanges += e as u64;
                }
                Err(e) => {
                    round_failures += 1;
                    failures.push(format!("round {}: {e}", round + 1));
                }
            }
        }
        let f = proxy.faults();
        println!(
            "round {}: {n} syncs in {:.2} s, {round_failures} returned an error; so far {} requests, {} cut",
            round + 1,
            t.elapsed().as_secs_f64(),
            f.requests,
            f.cut()
        );
    }
    let wall = start.elapsed().as_secs_f64();
    let faults = proxy.faults();
    let traffic = proxy.counts();

    // A final sync with nothing cut, then every change made on a device must be on the server.
    proxy.heal();
    let final_outcomes = on_pool(&mut sims, threads, &|sim: &mut Sim| {
        Ok(timed_sync(sim, &url, timeout))
    })?;
    let final_errors: Vec<String> = final_outcomes
        .into_iter()
        .filter_map(|o| o.result.err())
        .collect();
    let server_db = rusqlite::Connection::open(&db)?;
    server_db.busy_timeout(Duration::from_secs(30))?;
    let mut on_server = BTreeSet::new();
    {
        let mut stmt = server_db.prepare("SELECT hash FROM changes")?;
        for h in stmt.query_map([], |r| r.get::<_, Vec<u8>>(0))? {
            on_server.insert(h?);
        }
    }
    let (rows, distinct): (i64, i64) = server_db.query_row(
        "SELECT count(*), count(DISTINCT hash) FROM changes",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    let integrity: String = server_db.query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
    let mut created = BTreeSet::new();
    let mut pending = 0i64;
    for s in &sims {
        created.extend(s.created.iter().cloned());
        pending += s.dev.store.conn().query_row(
            "SELECT count(*) FROM changes WHERE synced = 0",
            [],
            |r| r.get::<_, i64>(0),
        )?;
    }
    let lost = created.difference(&on_server).count();
    drop(server);

    latencies.sort_by(f64::total_cmp);
    let share = |part: u64, whole: u64| 100.0 * part as f64 / whole.max(1) as f64;
    println!("load average at the end: {}", load_average());
    println!();
    println!("| measured | result |");
    println!("|---|---|");
    println!(
        "| devices (posyandus) × rounds | {n} ({}) × {} = {calls} sync calls, {threads} threads |",
        n.div_ceil(per),
        args.rounds
    );
    println!(
        "| HTTP requests through the proxy | {} ({} exchanges tried by the clients; {} TCP connections, {} up + {} down) |",
        thousands(faults.requests as f64),
        thousands(exchanges as f64),
        thousands(traffic.connections as f64),
        sys_mb(traffic.up),
        sys_mb(traffic.down)
    );
    println!(
        "| requests cut mid-body | {} ({:.1} %): {} in the request body, {} in the response body |",
        faults.cut(),
        share(faults.cut(), faults.requests),
        faults.cut_in_request,
        faults.cut_in_response
    );
    println!("| retries by the clients | {retries} |");
    println!(
        "| sync calls that returned an error after retries | {} of {calls} |",
        failures.len()
    );
    println!(
        "| changes created on devices / stored on the server | {} / {} (each once: {}) |",
        thousands(created.len() as f64),
        thousands(rows as f64),
        rows == distinct
    );
    println!(
        "| data lost after a final uncut sync | {lost} (outboxes left: {pending}, final sync errors: {}) |",
        final_errors.len()
    );
    println!("| server `PRAGMA integrity_check` | {integrity} |");
    println!("| time (the {} rounds) | {wall:.2} s |", args.rounds);
    println!(
        "| throughput | {:.0} syncs/s, {:.0} requests/s, {:.0} changes/s |",
        calls as f64 / wall,
        faults.requests as f64 / wall,
        created.len() as f64 / wall
    );
    println!(
        "| latency of one sync call p50 / p99 / max | {:.0} / {:.0} / {:.0} ms |",
        1e3 * median(&latencies),
        1e3 * percentile(&latencies, 99.0),
        1e3 * latencies.last().copied().unwrap_or(f64::NAN)
    );
    println!();
    if !failures.is_empty() {
        let mut distinct_errors: Vec<&String> = failures.iter().collect();
        distinct_errors.sort();
        distinct_errors.dedup();
        println!("errors returned to users:");
        for e in distinct_errors.iter().take(10) {
            println!("  {e}");
        }
    }
    ensure!(
        final_errors.is_empty(),
        "the final uncut syncs failed: {final_errors:?}"
    );
    ensure!(
        lost == 0,
        "{lost} changes made on devices are not on the server"
    );
    ensure!(pending == 0, "{pending} changes are still in outboxes");
    ensure!(rows == distinct, "a change is stored twice on the server");
    ensure!(integrity == "ok", "server database integrity: {integrity}");
    ensure!(
        args.cut_rate == 0.0 || faults.cut() > 0,
        "the proxy cut nothing"
    );
    Ok(())
}

fn sys_mb(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1e6)
}
