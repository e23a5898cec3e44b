//! `sync`: the sync protocol measured end to end, with the real server
//! (`tumbuh_server::serve` in this process, or the `tumbuh-server` binary for
//! memory) and the real field client (`field_client::sync::sync` over HTTP).
//!
//! Bytes on the wire are counted by a byte-counting TCP proxy on 127.0.0.1
//! between client and server: every byte of every TCP stream in both
//! directions, HTTP request and status lines and headers included (TCP/IP
//! headers, handshakes and ACKs are not: they are not payload). Exchanges are
//! counted by a [`Transport`] wrapper around the HTTP transport (every call,
//! retries included) and cross-checked with `SyncSummary::round_trips`.

use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Barrier, mpsc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail, ensure};
use chrono::NaiveDate;
use field_client::pin::KdfParams;
use field_client::store::Store;
use field_client::sync::http::HttpTransport;
use field_client::sync::{
    self as client_sync, Endpoint, SyncOptions, SyncSummary, Transport, TransportError,
};
use serde_bytes::ByteBuf;
use sync_protocol::compact;
use sync_protocol::wire::{self, ChildChanges, SnapshotRequest, SnapshotResponse, SyncRequest};
use sync_protocol::{
    ChildDocument, ChildId, DeviceId, Grams, MeasurementId, MeasurementInput, Millimetres,
    Position, Profile, Scope,
};
use tumbuh_server::storage::Enrolment;
use tumbuh_server::{Limits, Role, SqliteStorage, Storage, enrol};

use crate::data::{self, Rng};
use crate::proxy::{Proxy, Traffic};
use crate::sys::{self, median, percentile, thousands};

/// Targets from the issue.
pub const TARGET_EMPTY_SYNC_BYTES: u64 = 1_000;
pub const TARGET_UPLOAD_RATIO: f64 = 1.5;
pub const TARGET_FIRST_SYNC_BYTES: u64 = 2_500_000;
pub const TARGET_FIRST_SYNC_S: f64 = 5.0;
pub const TARGET_ACCEPT_PER_S: f64 = 15_000.0;
pub const TARGET_PROJECTION_S: f64 = 10.0;
pub const TARGET_RSS_BYTES: u64 = 500_000_000;

/// The posyandu of figures 1–4 (kabupaten 3530, kecamatan 01, desa 2002, posyandu 05).
const POSYANDU: &str = "353001200205";
/// Children registered per transaction while filling a store.
const FILL_BATCH: usize = 500;
/// Children per upload while filling figure 7's database.
const MEMORY_BATCH: usize = 500;
/// Children each device of figure 6 registers before the rounds.
const SMALL_CHILDREN: usize = 5;
/// How long to wait for the projection before giving up.
const PROJECTION_TIMEOUT: Duration = Duration::from_secs(900);

/// The options of `tumbuh-bench sync`.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Figures to measure (1–7, comma-separated).
    #[arg(long, value_delimiter = ',', default_values_t = [1u8, 2, 3, 4, 5, 6, 7])]
    pub figures: Vec<u8>,
    /// Figures 1–4: children in the posyandu.
    #[arg(long, default_value_t = 5_000)]
    pub children: usize,
    /// Figures 1–4 and 7: measurements per child already recorded (monthly).
    #[arg(long, default_value_t = 12)]
    pub measurements: usize,
    /// Figure 2: syncs with nothing to do, per device.
    #[arg(long, default_value_t = 5)]
    pub empty_runs: usize,
    /// Figure 3: new measurements uploaded, each on a different child.
    #[arg(long, default_value_t = 100)]
    pub upload: usize,
    /// Figure 4: first syncs, each by a fresh device.
    #[arg(long, default_value_t = 3)]
    pub first_syncs: usize,
    /// Figure 5: devices uploading at once.
    #[arg(long, default_value_t = 20)]
    pub burst_devices: usize,
    /// Figure 5: new measurements per device.
    #[arg(long, default_value_t = 3_000)]
    pub burst_measurements: usize,
    /// Figure 5: children per device (already synced) the new measurements are spread over.
    #[arg(long, default_value_t = 300)]
    pub burst_children: usize,
    /// Figure 6: devices syncing at once.
    #[arg(long, default_value_t = 200)]
    pub devices: usize,
    /// Figure 6: devices per posyandu (they receive each other's changes).
    #[arg(long, default_value_t = 4)]
    pub devices_per_posyandu: usize,
    /// Figure 6: new measurements per device before each round.
    #[arg(long, default_value_t = 3)]
    pub device_measurements: usize,
    /// Figure 6: rounds of concurrent syncs.
    #[arg(long, default_value_t = 3)]
    pub rounds: usize,
    /// Figure 7: children stored on the server.
    #[arg(long, default_value_t = 50_000)]
    pub memory_children: usize,
    /// Figure 7: posyandus they are spread over (the synced device sees one).
    #[arg(long, default_value_t = 10)]
    pub memory_posyandus: usize,
}

/// One line of the summary table.
#[derive(Debug, Clone)]
pub struct Row {
    pub figure: u8,
    pub what: String,
    pub result: String,
    pub target: String,
    pub pass: Option<bool>,
}

/// What the run found.
#[derive(Debug, Default)]
pub struct SyncResult {
    pub rows: Vec<Row>,
}

impl SyncResult {
    fn add(
        &mut self,
        figure: u8,
        what: impl Into<String>,
        result: impl Into<String>,
        target: impl Into<String>,
        pass: Option<bool>,
    ) {
        let row = Row {
            figure,
            what: what.into(),
            result: result.into(),
            target: target.into(),
            pass,
        };
        println!(
            "  → figure {}: {} = {}   target {} → {}",
            row.figure,
            row.what,
            row.result,
            row.target,
            verdict(row.pass)
        );
        self.rows.push(row);
    }

    pub fn print_table(&self) {
        println!("| # | measured | result | target | |");
        println!("|---|---|---|---|---|");
        let mut rows: Vec<&Row> = self.rows.iter().collect();
        rows.sort_by_key(|r| r.figure);
        for r in rows {
            println!(
                "| {} | {} | {} | {} | {} |",
                r.figure,
                r.what,
                r.result,
                r.target,
                verdict(r.pass)
            );
        }
    }
}

fn verdict(pass: Option<bool>) -> &'static str {
    match pass {
        Some(true) => "met",
        Some(false) => "NOT MET",
        None => "",
    }
}

pub(crate) fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

fn kb(bytes: u64) -> String {
    format!("{} B", thousands(bytes as f64))
}

fn mb(bytes: u64) -> String {
    format!("{:.2} MB", bytes as f64 / 1e6)
}

// ---------------------------------------------------------------------------
// The server in this process (the byte-counting proxy is `crate::proxy`).

/// `tumbuh_server::serve` on its own tokio runtime in a background thread.
struct InProcessServer {
    storage: Arc<SqliteStorage>,
    addr: SocketAddr,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<anyhow::Result<()>>>,
}

impl InProcessServer {
    fn start(db: &Path) -> anyhow::Result<InProcessServer> {
        let storage = Arc::new(
            SqliteStorage::open(db)
                .with_context(|| format!("cannot open the server database {}", db.display()))?,
        );
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let (ready_tx, ready_rx) = mpsc::channel::<anyhow::Result<SocketAddr>>();
        let shared: Arc<dyn Storage> = storage.clone();
        let thread = std::thread::Builder::new()
            .name("server".into())
            .spawn(move || -> anyhow::Result<()> {
                let runtime = tokio::runtime::Builder::new_multi_thread()
                    .enable_all()
                    .build()
                    .context("cannot start the tokio runtime")?;
                runtime.block_on(async move {
                    let listener = match tokio::net::TcpListener::bind("127.0.0.1:0").await {
                        Ok(l) => l,
                        Err(e) => {
                            let _ = ready_tx.send(Err(anyhow::anyhow!("cannot listen: {e}")));
                            return Ok(());
                        }
                    };
                    let _ = ready_tx.send(listener.local_addr().map_err(anyhow::Error::from));
                    tumbuh_server::serve(listener, shared, Limits::default(), async move {
                        let _ = stop_rx.await;
                    })
                    .await
                    .context("server failed")
                })
            })
            .context("cannot start the server thread")?;
        let addr = ready_rx
            .recv_timeout(Duration::from_secs(30))
            .context("the in-process server did not start")??;
        Ok(InProcessServer {
            storage,
            addr,
            shutdown: Some(stop_tx),
            thread: Some(thread),
        })
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn storage(&self) -> &dyn Storage {
        self.storage.as_ref()
    }
}

impl Drop for InProcessServer {
    fn drop(&mut self) {
        if let Some(stop) = self.shutdown.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            // Graceful shutdown waits for open connections; do not hang on one.
            let deadline = Instant::now() + Duration::from_secs(10);
            while !thread.is_finished() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(10));
            }
            if thread.is_finished() {
                match thread.join() {
                    Ok(Err(e)) => eprintln!("warning: in-process server: {e:#}"),
                    Err(_) => eprintln!("warning: in-process server thread panicked"),
                    Ok(Ok(())) => {}
                }
            }
        }
    }
}

/// Counts the exchanges a sync makes (every attempt, retries included).
pub(crate) struct Counting<T> {
    pub(crate) inner: T,
    pub(crate) calls: Vec<Endpoint>,
}

impl<T: Transport> Transport for Counting<T> {
    fn exchange(&mut self, endpoint: Endpoint, body: &[u8]) -> Result<Vec<u8>, TransportError> {
        self.calls.push(endpoint);
        self.inner.exchange(endpoint, body)
    }
}

fn describe_calls(calls: &[Endpoint]) -> String {
    let mut parts = Vec::new();
    for e in [Endpoint::Snapshot, Endpoint::Sync, Endpoint::Repair] {
        let n = calls.iter().filter(|c| **c == e).count();
        if n > 0 {
            parts.push(format!("{n} × {}", e.path()));
        }
    }
    if parts.is_empty() {
        "none".to_string()
    } else {
        parts.join(", ")
    }
}

// ---------------------------------------------------------------------------
// Synthetic children, devices and syncs.

/// A generated child, with what is needed to measure it again.
#[derive(Debug, Clone)]
pub(crate) struct SimChild {
    id: ChildId,
    sex: growth::Sex,
    birth: NaiveDate,
    haz: f64,
    whz: f64,
    /// New measurements made so far (spreads their dates).
    extra: u64,
}

/// A measurement made during the benchmark (for the CSV of figure 3).
#[derive(Debug, Clone)]
pub(crate) struct NewRow {
    child: ChildId,
    id: MeasurementId,
    input: MeasurementInput,
}

impl SimChild {
    /// A child old enough for `visits` monthly visits before the last 28 days.
    fn draw(rng: &mut Rng, today: NaiveDate, visits: usize) -> SimChild {
        let sex = if rng.chance(0.5) {
            growth::Sex::Male
        } else {
            growth::Sex::Female
        };
        let min_age = 31 * visits as u64 + 40;
        let age = min_age + rng.below(1790u64.saturating_sub(min_age).max(1));
        SimChild {
            id: ChildId::new(),
            sex,
            birth: today - chrono::Days::new(age),
            haz: data::draw_z(rng, -1.0, 1.15),
            whz: data::draw_z(rng, -0.3, 1.05),
            extra: 0,
        }
    }

    fn profile(&self, rng: &mut Rng, posyandu: &str) -> Profile {
        data::child_profile(rng, self.sex, self.birth, posyandu)
    }

    /// A plausible weighing with length/height on `date` (0.1 kg scale, 1 mm
    /// board), LiLA at 30 % of the visits of 6–59 months, oedema rarely.
    fn measurement(
        &self,
        date: NaiveDate,
        rng: &mut Rng,
        posyandu: &str,
        by: &str,
    ) -> anyhow::Result<MeasurementInput> {
        let age = growth::age_in_days(self.birth, date);
        let length = data::length_at(self.sex, age, self.haz + 0.1 * rng.normal())
            .context("no WHO length row for a generated child")?;
        let weight = data::weight_at(self.sex, age, length, self.whz + 0.15 * rng.normal())
            .context("no WHO weight row for a generated child")?;
        let position = if age < 731 {
            Position::Lying
        } else {
            Position::Standing
        };
        let muac = if (183..1827).contains(&age) && rng.chance(0.3) {
            Some(Millimetres::from_cm(
                data::round_to(14.5 + 1.2 * rng.normal(), 0.1).clamp(9.0, 20.0),
                5.0,
                35.0,
            )?)
        } else {
            None
        };
        Ok(MeasurementInput {
            date,
            weight: Some(Grams::from_kg(data::round_to(weight, 0.1), 60.0)?),
            length: Some(Millimetres::from_cm(
                data::round_to(length, 0.1),
                38.0,
                150.0,
            )?),
            position: Some(position),
            muac,
            head: None,
            oedema: rng.chance(0.003),
            posyandu: posyandu.to_string(),
            by: by.to_string(),
            round: None,
        })
    }

    /// The document of this child registered with `visits` monthly
    /// measurements (the last one 59 days ago), made by `device`.
    #[allow(clippy::too_many_arguments)]
    fn document(
        &self,
        device: &DeviceId,
        rng: &mut Rng,
        posyandu: &str,
        by: &str,
        visits: usize,
        today: NaiveDate,
        now_ms: i64,
    ) -> anyhow::Result<ChildDocument> {
        let profile = self.profile(rng, posyandu);
        let mut doc = ChildDocument::create(device.actor(), self.id, &profile, now_ms)?;
        for visit in (1..=visits).rev() {
            let date = today - chrono::Days::new(28 + 31 * visit as u64);
            let input = self.measurement(date, rng, posyandu, by)?;
            doc.add_measurement(MeasurementId::new(), &input, now_ms)?;
        }
        Ok(doc)
    }

    /// The date of the next new measurement: within the last 28 days.
    fn next_date(&mut self, today: NaiveDate) -> NaiveDate {
        self.extra += 1;
        today - chrono::Days::new(1 + (self.extra - 1) % 27)
    }
}

/// A field device: its store, its enrolment token and the children it made.
pub(crate) struct Dev {
    pub(crate) store: Store,
    pub(crate) token: String,
    pub(crate) children: Vec<SimChild>,
}

impl Dev {
    /// Enrols a kader device for `posyandu`, creates its store and signs it
    /// in to `url`.
    pub(crate) fn new(
        dir: &Path,
        file: &str,
        storage: &dyn Storage,
        url: &str,
        posyandu: &str,
        name: &str,
    ) -> anyhow::Result<Dev> {
        let (_, token) = enrol_kader(storage, posyandu, name)?;
        let path = dir.join(file);
        let mut store = Store::create(
            &path,
            &sys::pin(),
            KdfParams::INSECURE_TEST,
            posyandu,
            name,
            now_ms(),
        )
        .with_context(|| format!("cannot create the store {}", path.display()))?;
        client_sync::login(&mut store, url, &token).context("login")?;
        Ok(Dev {
            store,
            token,
            children: Vec::new(),
        })
    }

    /// Registers `n` children with `visits` measurements each, through the
    /// field client library (same documents, changes and derived rows as
    /// `tumbuh child add` + `tumbuh measure`).
    pub(crate) fn fill(
        &mut self,
        n: usize,
        visits: usize,
        today: NaiveDate,
        rng: &mut Rng,
    ) -> anyhow::Result<()> {
        let device = self.store.device().clone();
        let now = now_ms();
        for start in (0..n).step_by(FILL_BATCH) {
            let batch = self.store.write(|w| -> anyhow::Result<Vec<SimChild>> {
                let mut made = Vec::new();
                for _ in start..(start + FILL_BATCH).min(n) {
                    let child = SimChild::draw(rng, today, visits);
                    let mut doc = child.document(
                        &device.id,
                        rng,
                        &device.posyandu,
                        &device.kader,
                        visits,
                        today,
                        now,
                    )?;
                    w.save_child(&mut doc, &[], now)?;
                    made.push(child);
                }
                Ok(made)
            })?;
            self.children.extend(batch);
        }
        Ok(())
    }

    /// Adds `count` new measurements to each `(child index, count)`, one
    /// Automerge change each, like `tumbuh measure`.
    pub(crate) fn measure(
        &mut self,
        picks: &[(usize, usize)],
        today: NaiveDate,
        rng: &mut Rng,
    ) -> anyhow::Result<Vec<NewRow>> {
        let device = self.store.device().clone();
        let now = now_ms();
        let mut rows = Vec::new();
        for chunk in picks.chunks(FILL_BATCH) {
            let children = &mut self.children;
            let batch = self.store.write(|w| -> anyhow::Result<Vec<NewRow>> {
                let mut out = Vec::new();
                for &(i, count) in chunk {
                    let child = children
                        .get_mut(i)
                        .with_context(|| format!("no child #{i} on this device"))?;
                    let mut doc = w.load_child(child.id)?;
                    let heads = doc.heads();
                    for _ in 0..count {
                        let date = child.next_date(today);
                        let input =
                            child.measurement(date, rng, &device.posyandu, &device.kader)?;
                        let id = MeasurementId::new();
                        doc.add_measurement(id, &input, now)?;
                        out.push(NewRow {
                            child: child.id,
                            id,
                            input,
                        });
                    }
                    w.save_child(&mut doc, &heads, now)?;
                }
                Ok(out)
            })?;
            rows.extend(batch);
        }
        Ok(rows)
    }

    /// Changes waiting in the outbox: (count, bytes of the raw changes).
    fn outbox(&self) -> anyhow::Result<(u64, u64)> {
        Ok(self.store.conn().query_row(
            "SELECT count(*), coalesce(sum(length(bytes)), 0) FROM changes
              WHERE synced = 0 AND rejected IS NULL",
            [],
            |r| Ok((r.get::<_, i64>(0)? as u64, r.get::<_, i64>(1)? as u64)),
        )?)
    }
}

fn enrol_kader(
    storage: &dyn Storage,
    posyandu: &str,
    name: &str,
) -> anyhow::Result<(Enrolment, String)> {
    let scope = Scope::from_text(posyandu)?;
    Role::Kader
        .check_scope(&scope)
        .map_err(anyhow::Error::msg)?;
    Ok(enrol::enrol(storage, Role::Kader, scope, name, now_ms())?)
}

/// One `field_client::sync::sync` call and what it cost.
#[derive(Debug)]
struct SyncRun {
    summary: SyncSummary,
    calls: Vec<Endpoint>,
    /// From building the HTTP client to the end of the sync.
    wall: Duration,
    /// Bytes through the counting proxy, when the sync went through it.
    traffic: Option<Traffic>,
}

impl SyncRun {
    /// The proxy's count (zero when the sync did not go through it).
    fn wire(&self) -> Traffic {
        self.traffic.unwrap_or_default()
    }

    fn describe(&self) -> String {
        let s = &self.summary;
        format!(
            "{:.3} s, exchanges {} (summary.round_trips {}, retries {}), sent {} received {} snapshot children {}, \
             {}framed bodies {} up + {} down, verified {}{}",
            self.wall.as_secs_f64(),
            describe_calls(&self.calls),
            s.round_trips,
            s.retries,
            thousands(s.sent as f64),
            thousands(s.received as f64),
            thousands(s.snapshot_children as f64),
            self.traffic.map_or_else(String::new, |t| format!(
                "wire {} up + {} down = {} over {} TCP connection(s), ",
                kb(t.up),
                kb(t.down),
                kb(t.total()),
                t.connections
            )),
            kb(s.bytes_sent),
            kb(s.bytes_received),
            s.verified,
            if s.rejected.is_empty() {
                String::new()
            } else {
                format!(", REJECTED: {:?}", s.rejected)
            }
        )
    }
}

fn options() -> SyncOptions {
    SyncOptions {
        now_ms: now_ms(),
        ..SyncOptions::default()
    }
}

/// Syncs `store` with the server at `url` as the `tumbuh sync` command does
/// (a new HTTP client, so a new TCP connection).
fn sync_device(
    store: &mut Store,
    url: &str,
    token: &str,
    proxy: Option<&Proxy>,
) -> anyhow::Result<SyncRun> {
    let before = proxy.map(Proxy::counts);
    let start = Instant::now();
    let transport = HttpTransport::new(url, token, Duration::from_secs(600))?;
    let mut counting = Counting {
        inner: transport,
        calls: Vec::new(),
    };
    let summary = client_sync::sync(store, &mut counting, &options())?;
    let wall = start.elapsed();
    let calls = std::mem::take(&mut counting.calls);
    drop(counting);
    let traffic = proxy.zip(before).map(|(p, b)| p.counts().since(b));
    Ok(SyncRun {
        summary,
        calls,
        wall,
        traffic,
    })
}

/// Polls the server's projection backlog until it is empty.
fn wait_projection(storage: &dyn Storage) -> anyhow::Result<Duration> {
    let start = Instant::now();
    loop {
        let stats = storage.stats()?;
        if stats.pending_projection == 0 {
            return Ok(start.elapsed());
        }
        if start.elapsed() > PROJECTION_TIMEOUT {
            bail!(
                "the projection still has {} children pending after {} s",
                stats.pending_projection,
                PROJECTION_TIMEOUT.as_secs()
            );
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The measurements as a CSV (the columns a posyandu register would have)
/// and its gzip (flate2, default level 6): (csv bytes, gzip bytes).
fn csv_gzip(rows: &[NewRow]) -> anyhow::Result<(usize, usize)> {
    let mut csv = String::from(
        "child_id,measurement_id,date,weight_g,length_mm,position,muac_mm,oedema,by\n",
    );
    for r in rows {
        let m = &r.input;
        csv.push_str(&format!(
            "{},{},{},{},{},{},{},{},{}\n",
            r.child,
            r.id,
            m.date,
            m.weight.map_or_else(String::new, |w| w.0.to_string()),
            m.length.map_or_else(String::new, |l| l.0.to_string()),
            m.position.map_or("", |p| p.code()),
            m.muac.map_or_else(String::new, |a| a.0.to_string()),
            u8::from(m.oedema),
            m.by
        ));
    }
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(csv.as_bytes())?;
    let gz = gz.finish()?;
    Ok((csv.len(), gz.len()))
}

/// Indices spread evenly over `0..n`, `k` of them, distinct when `k <= n`.
fn spread(n: usize, k: usize) -> Vec<usize> {
    (0..k).map(|j| j * n / k.max(1)).collect()
}

/// What [`snapshot_alternatives`] found.
struct SnapshotDiagnostic {
    pages: u64,
    /// Framed bytes of the pages as served.
    served: u64,
    /// Framed bytes with the documents saved without DEFLATE.
    plain: u64,
    /// Storage::snapshot + framing, as served.
    server_time: Duration,
    /// ChildDocument::load, changes_since(&[]), child(), conflicts(),
    /// assess_child; and for comparison AutoCommit::load + hydrate(ROOT).
    client: [Duration; 6],
}

/// Diagnostic for figure 4: the snapshot pages a fresh device of `who`
/// receives, encoded as served and with every document re-saved without
/// Automerge's per-column DEFLATE (`save_nocompress`), so that zstd can use
/// what repeats between children; and the CPU time of the document steps
/// of the client's `Writer::apply_document`, redone here on the same bytes.
fn snapshot_alternatives(
    storage: &dyn Storage,
    who: &Enrolment,
) -> anyhow::Result<SnapshotDiagnostic> {
    let page_bytes = wire::DEFAULT_PAGE_BYTES;
    let (mut pages, mut served, mut plain) = (0u64, 0u64, 0u64);
    let mut server_time = Duration::ZERO;
    let mut client = [Duration::ZERO; 6];
    let actor = DeviceId::new();
    let mut upto = 0;
    let mut after = None;
    loop {
        let t = Instant::now();
        let page: SnapshotResponse = storage.snapshot(
            who,
            &SnapshotRequest {
                upto,
                after,
                max_page_bytes: page_bytes,
            },
            page_bytes as usize,
        )?;
        pages += 1;
        served += wire::encode(&page)?.len() as u64;
        server_time += t.elapsed();
        for child in &page.children {
            let t = Instant::now();
            let mut doc = ChildDocument::load(actor.actor(), &child.document)?;
            client[0] += t.elapsed();
            let t = Instant::now();
            std::hint::black_box(doc.changes_since(&[]));
            client[1] += t.elapsed();
            let t = Instant::now();
            let record = doc.child()?;
            client[2] += t.elapsed();
            let t = Instant::now();
            std::hint::black_box(doc.conflicts()?);
            client[3] += t.elapsed();
            let t = Instant::now();
            std::hint::black_box(sync_protocol::assess_child(&record));
            client[4] += t.elapsed();
            // The same document read in one pass (Automerge's hydrate).
            let t = Instant::now();
            let raw = automerge::AutoCommit::load(&child.document)
                .map_err(|e| anyhow::anyhow!("cannot load a snapshot document: {e}"))?;
            std::hint::black_box(
                automerge::ReadDoc::hydrate(&raw, automerge::ROOT, None)
                    .map_err(|e| anyhow::anyhow!("cannot read a snapshot document: {e}"))?,
            );
            client[5] += t.elapsed();
        }
        let mut resaved = page.clone();
        for child in &mut resaved.children {
            let mut doc = automerge::AutoCommit::load(&child.document)
                .map_err(|e| anyhow::anyhow!("cannot load a snapshot document: {e}"))?;
            child.document = ByteBuf::from(doc.save_nocompress());
        }
        plain += wire::encode(&resaved)?.len() as u64;
        upto = page.upto;
        after = page.next;
        if after.is_none() {
            return Ok(SnapshotDiagnostic {
                pages,
                served,
                plain,
                server_time,
                client,
            });
        }
    }
}

// ---------------------------------------------------------------------------
// Figures 1–4: one posyandu.

fn area_figures(
    args: &Args,
    dir: Option<&Path>,
    seed: u64,
    out: &mut SyncResult,
) -> anyhow::Result<()> {
    let want = |f: u8| args.figures.contains(&f);
    println!(
        "== sync figures 1–4: posyandu {POSYANDU} with {} children × {} measurements ==",
        thousands(args.children as f64),
        args.measurements
    );
    let tmp = sys::scratch_dir(dir, "tumbuh-bench-sync-area-")?;
    println!(
        "folder: {} ({})",
        tmp.path().display(),
        sys::fs_type(tmp.path())
    );
    let server = InProcessServer::start(&tmp.path().join("server.db"))?;
    let proxy = Proxy::start(server.addr)?;
    let url = proxy.url();
    println!(
        "server: tumbuh_server::serve in this process on {} (Limits::default()), counting proxy on {url}",
        server.url()
    );
    let today = chrono::Local::now().date_naive();
    let mut rng = Rng::new(seed);

    let mut d1 = Dev::new(
        tmp.path(),
        "device-1.db",
        server.storage(),
        &url,
        POSYANDU,
        "Kader 1",
    )?;
    let t = Instant::now();
    d1.fill(args.children, args.measurements, today, &mut rng)?;
    println!(
        "device 1: {} children × {} measurements registered through field_client::store in {:.1} s (not timed)",
        thousands(args.children as f64),
        args.measurements,
        t.elapsed().as_secs_f64()
    );
    let first = sync_device(&mut d1.store, &url, &d1.token, Some(&proxy))?;
    println!(
        "device 1 uploads everything (not a target): {}",
        first.describe()
    );
    out.add(
        4,
        format!(
            "(for information) first upload of {} new children ({} changes) by one device: measurements acknowledged per second, client work included",
            thousands(args.children as f64),
            thousands(first.summary.sent as f64)
        ),
        format!(
            "{}/s",
            thousands((args.children * args.measurements) as f64 / first.wall.as_secs_f64())
        ),
        "(none)",
        None,
    );
    ensure!(
        first.summary.rejected.is_empty(),
        "the server rejected changes of device 1"
    );
    let lag = wait_projection(server.storage())?;
    let stats = server.storage().stats()?;
    println!(
        "server projection caught up {:.1} s after that upload returned ({} children, {} changes stored); \
         the first syncs below start only now (pending_projection = 0)",
        lag.as_secs_f64(),
        thousands(stats.children as f64),
        thousands(stats.changes as f64)
    );

    // Figure 4: a fresh device's first sync (snapshot pages + feed).
    let mut d2: Option<Dev> = None;
    if want(4) {
        println!(
            "-- figure 4: first sync of a fresh device (new enrolment, empty store) in the same posyandu --"
        );
        let mut walls = Vec::new();
        let mut bytes = Vec::new();
        for run in 0..args.first_syncs.max(1) {
            let mut dev = Dev::new(
                tmp.path(),
                &format!("fresh-{run}.db"),
                server.storage(),
                &url,
                POSYANDU,
                &format!("Kader baru {run}"),
            )?;
            let r = sync_device(&mut dev.store, &url, &dev.token, Some(&proxy))?;
            println!("first sync #{}: {}", run + 1, r.describe());
            ensure!(
                r.summary.snapshot_children == args.children as u64 && r.summary.verified,
                "the first sync did not bring the whole posyandu ({} of {} children, verified {})",
                r.summary.snapshot_children,
                args.children,
                r.summary.verified
            );
            walls.push(r.wall.as_secs_f64());
            bytes.push(r.wire().total() as f64);
            if d2.is_none() {
                d2 = Some(dev);
            }
        }
        walls.sort_by(f64::total_cmp);
        bytes.sort_by(f64::total_cmp);
        let max_bytes = bytes.last().copied().unwrap_or(f64::NAN) as u64;
        let what = format!(
            "first sync, {} children / {} measurements, fresh device",
            thousands(args.children as f64),
            thousands((args.children * args.measurements) as f64)
        );
        out.add(
            4,
            format!(
                "{what}: bytes on the wire (both ways, max of {})",
                walls.len()
            ),
            mb(max_bytes),
            format!("≤ {}", mb(TARGET_FIRST_SYNC_BYTES)),
            Some(max_bytes <= TARGET_FIRST_SYNC_BYTES),
        );
        out.add(
            4,
            format!(
                "{what}: wall time (median of {}, max {:.2} s)",
                walls.len(),
                walls.last().copied().unwrap_or(f64::NAN)
            ),
            format!("{:.2} s", median(&walls)),
            format!("≤ {TARGET_FIRST_SYNC_S} s"),
            Some(median(&walls) <= TARGET_FIRST_SYNC_S),
        );
        let (who, _) = enrol_kader(server.storage(), POSYANDU, "Diagnostic")?;
        let SnapshotDiagnostic {
            pages,
            served,
            plain,
            server_time,
            client,
        } = snapshot_alternatives(server.storage(), &who)?;
        println!(
            "diagnostic: the {pages} snapshot pages framed as served = {} ; the same documents re-saved without \
             Automerge's DEFLATE (AutoCommit::save_nocompress), then zstd as usual = {} ({:+.0} %)",
            kb(served),
            kb(plain),
            100.0 * (plain as f64 / served as f64 - 1.0)
        );
        println!(
            "diagnostic: the server's share of a first sync: Storage::snapshot + framing of those {pages} pages \
             in this process takes {:.2} s; the rest of the wall time is HTTP and the client storing and \
             projecting the documents",
            server_time.as_secs_f64()
        );
        println!(
            "diagnostic: the document work of the client's Writer::apply_document, redone in this process on \
             the same {} documents: ChildDocument::load {:.2} s, changes_since(&[]) (re-encodes every change) \
             {:.2} s, child() {:.2} s, conflicts() {:.2} s, assess_child (projection z-scores) {:.2} s; \
             the rest is SQLite. For comparison, Automerge load + hydrate(ROOT) (the whole document read in \
             one pass) {:.2} s",
            thousands(args.children as f64),
            client[0].as_secs_f64(),
            client[1].as_secs_f64(),
            client[2].as_secs_f64(),
            client[3].as_secs_f64(),
            client[4].as_secs_f64(),
            client[5].as_secs_f64()
        );
    }

    // Figure 2: nothing to do.
    if want(2) {
        println!(
            "-- figure 2: syncs with nothing to do (device already synced, no new changes) --"
        );
        let mut totals = Vec::new();
        let mut devices: Vec<(&str, &mut Dev)> = vec![("device 1 (uploader)", &mut d1)];
        if let Some(d) = d2.as_mut() {
            devices.push(("fresh device (after its first sync)", d));
        }
        for (name, dev) in devices {
            for i in 0..args.empty_runs.max(1) {
                let r = sync_device(&mut dev.store, &url, &dev.token, Some(&proxy))?;
                if i == 0 {
                    println!("{name}: {}", r.describe());
                }
                ensure!(
                    r.summary.sent == 0 && r.summary.received == 0,
                    "a sync with nothing to do sent {} and received {} changes",
                    r.summary.sent,
                    r.summary.received
                );
                totals.push((r.wire().total(), r.wire().up, r.wire().down, r.calls.len()));
            }
        }
        let scope = client_sync::state::server(d1.store.conn())?
            .context("device 1 is not signed in")?
            .scope;
        let mut times = Vec::new();
        for _ in 0..5 {
            let t = Instant::now();
            std::hint::black_box(client_sync::state::scope_checksum(d1.store.conn(), &scope)?);
            times.push(t.elapsed().as_secs_f64());
        }
        times.sort_by(f64::total_cmp);
        let (changes, _) =
            d1.store
                .conn()
                .query_row("SELECT count(*), 0 FROM changes", [], |r| {
                    Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?))
                })?;
        println!(
            "diagnostic: of that, the device's own scope checksum (field_client::sync::state::scope_checksum over \
             its {} changes) takes {:.1} ms (median of 5)",
            thousands(changes as f64),
            1e3 * median(&times)
        );
        let max = totals.iter().map(|t| t.0).max().unwrap_or(0);
        let min = totals.iter().map(|t| t.0).min().unwrap_or(0);
        let worst = totals
            .iter()
            .max_by_key(|t| t.0)
            .copied()
            .unwrap_or_default();
        out.add(
            2,
            format!(
                "sync with nothing to do: TCP payload both ways incl. HTTP headers (max of {} syncs, min {} B; worst {} up + {} down, {} exchange(s))",
                totals.len(),
                min,
                worst.1,
                worst.2,
                worst.3
            ),
            kb(max),
            format!("≤ {}", kb(TARGET_EMPTY_SYNC_BYTES)),
            Some(max <= TARGET_EMPTY_SYNC_BYTES),
        );
    }

    // Figure 1: round trips in steady state.
    if want(1) {
        println!("-- figure 1: exchanges per steady-state sync (device 1, already synced) --");
        for n in [1, args.children] {
            let picks: Vec<(usize, usize)> = spread(args.children, n)
                .into_iter()
                .map(|i| (i, 1))
                .collect();
            d1.measure(&picks, today, &mut rng)?;
            let r = sync_device(&mut d1.store, &url, &d1.token, Some(&proxy))?;
            println!(
                "new measurement on {} child(ren): {}",
                thousands(n as f64),
                r.describe()
            );
            out.add(
                1,
                format!(
                    "HTTP exchanges of one sync, new changes on {} child(ren) ({} up)",
                    thousands(n as f64),
                    kb(r.wire().up)
                ),
                format!("{} ({})", r.calls.len(), describe_calls(&r.calls)),
                "1",
                Some(r.calls.len() == 1 && r.summary.sent == n as u64),
            );
            if let Some(d) = d2.as_mut() {
                let r = sync_device(&mut d.store, &url, &d.token, Some(&proxy))?;
                println!(
                    "   the other device then downloads them (not a target): {}",
                    r.describe()
                );
                out.add(
                    1,
                    format!(
                        "(for information) HTTP exchanges of the sync of another device of the posyandu \
                         that receives those {} change(s) ({} down, {:.2} s)",
                        thousands(n as f64),
                        kb(r.wire().down),
                        r.wall.as_secs_f64()
                    ),
                    format!("{} ({})", r.calls.len(), describe_calls(&r.calls)),
                    "(none)",
                    None,
                );
            }
        }
    }

    // Figure 3: upload of 100 new measurements vs. gzipped CSV.
    if want(3) {
        println!(
            "-- figure 3: upload of {} new measurements on {} different children (device 1, already synced) --",
            args.upload, args.upload
        );
        ensure!(
            args.upload <= args.children,
            "--upload must not exceed --children"
        );
        let picks: Vec<(usize, usize)> = spread(args.children, args.upload)
            .into_iter()
            .map(|i| (i + 1) % args.children)
            .map(|i| (i, 1))
            .collect();
        let rows = d1.measure(&picks, today, &mut rng)?;
        let (pending, raw) = d1.outbox()?;
        let r = sync_device(&mut d1.store, &url, &d1.token, Some(&proxy))?;
        println!("upload: {}", r.describe());
        let (csv, gz) = csv_gzip(&rows)?;
        let ratio = r.wire().up as f64 / gz as f64;
        println!(
            "the {} measurements: {} Automerge changes of {} raw; framed request body {} (postcard, zstd level 9); \
             HTTP request on the wire {} (so {} of request line and headers); the same as CSV {} , gzipped {}",
            rows.len(),
            pending,
            kb(raw),
            kb(r.summary.bytes_sent),
            kb(r.wire().up),
            kb(r.wire().up.saturating_sub(r.summary.bytes_sent)),
            kb(csv as u64),
            kb(gz as u64)
        );
        out.add(
            3,
            format!(
                "upload of {} measurements: HTTP request bytes / gzipped CSV bytes ({} / {}; body alone {:.2})",
                rows.len(),
                thousands(r.wire().up as f64),
                thousands(gz as f64),
                r.summary.bytes_sent as f64 / gz as f64
            ),
            format!("{ratio:.2}"),
            format!("≤ {TARGET_UPLOAD_RATIO}"),
            Some(ratio <= TARGET_UPLOAD_RATIO),
        );
    }
    println!();
    Ok(())
}

// ---------------------------------------------------------------------------
// Figure 5: a burst of uploads.

fn burst(args: &Args, dir: Option<&Path>, seed: u64, out: &mut SyncResult) -> anyhow::Result<()> {
    let n = args.burst_devices;
    ensure!(
        (1..=99).contains(&n),
        "--burst-devices must be 1–99 (one posyandu each)"
    );
    ensure!(
        args.burst_children > 0,
        "--burst-children must be at least 1"
    );
    println!(
        "== sync figure 5: {n} devices upload {} new measurements each at once ==",
        thousands(args.burst_measurements as f64)
    );
    let tmp = sys::scratch_dir(dir, "tumbuh-bench-sync-burst-")?;
    let server = InProcessServer::start(&tmp.path().join("server.db"))?;
    let url = server.url();
    let today = chrono::Local::now().date_naive();
    let mut rng = Rng::new(seed ^ 0x5555);
    let t = Instant::now();
    let mut devices = Vec::with_capacity(n);
    for i in 0..n {
        let posyandu = format!("3530012003{:02}", i + 1);
        let mut dev = Dev::new(
            tmp.path(),
            &format!("burst-{i}.db"),
            server.storage(),
            &url,
            &posyandu,
            &format!("Kader {posyandu}"),
        )?;
        dev.fill(args.burst_children, 2, today, &mut rng)?;
        let r = sync_device(&mut dev.store, &url, &dev.token, None)?;
        ensure!(r.summary.rejected.is_empty(), "setup upload rejected");
        let per = args.burst_measurements / args.burst_children;
        let rem = args.burst_measurements % args.burst_children;
        let picks: Vec<(usize, usize)> = (0..args.burst_children)
            .map(|j| (j, per + usize::from(j < rem)))
            .filter(|p| p.1 > 0)
            .collect();
        dev.measure(&picks, today, &mut rng)?;
        devices.push(dev);
    }
    wait_projection(server.storage())?;
    println!(
        "setup (not timed, {:.1} s): {n} kader devices, one posyandu each, {} children × 2 measurements each uploaded \
         and projected; then each recorded {} new measurements ({} per child, one Automerge change each) offline",
        t.elapsed().as_secs_f64(),
        args.burst_children,
        thousands(args.burst_measurements as f64),
        args.burst_measurements.div_ceil(args.burst_children)
    );

    let barrier = Arc::new(Barrier::new(n + 1));
    let mut threads = Vec::with_capacity(n);
    for mut dev in devices {
        let barrier = barrier.clone();
        let url = url.clone();
        threads.push(std::thread::spawn(
            move || -> anyhow::Result<(SyncSummary, Duration, Instant)> {
                let transport = HttpTransport::new(&url, &dev.token, Duration::from_secs(600));
                barrier.wait();
                let mut transport = transport?;
                let t = Instant::now();
                let summary = client_sync::sync(&mut dev.store, &mut transport, &options())?;
                Ok((summary, t.elapsed(), Instant::now()))
            },
        ));
    }
    barrier.wait();
    let start = Instant::now();
    let mut sent = 0u64;
    let mut errors = Vec::new();
    let mut last_end = start;
    let mut latencies = Vec::new();
    for th in threads {
        match th.join() {
            Ok(Ok((summary, latency, end))) => {
                sent += summary.sent;
                if !summary.rejected.is_empty() {
                    errors.push(format!("rejected: {:?}", summary.rejected));
                }
                latencies.push(latency.as_secs_f64());
                last_end = last_end.max(end);
            }
            Ok(Err(e)) => errors.push(format!("{e:#}")),
            Err(_) => errors.push("a device thread panicked".into()),
        }
    }
    let burst_s = last_end.duration_since(start).as_secs_f64();
    let lag = wait_projection(server.storage())?;
    latencies.sort_by(f64::total_cmp);
    let expected = (n * args.burst_measurements) as u64;
    let rate = sent as f64 / burst_s;
    println!(
        "burst: {} of {} measurements acknowledged in {burst_s:.2} s (first request to last answer; \
         sync latency per device median {:.2} s, max {:.2} s); errors: {}",
        thousands(sent as f64),
        thousands(expected as f64),
        median(&latencies),
        latencies.last().copied().unwrap_or(f64::NAN),
        if errors.is_empty() {
            "none".to_string()
        } else {
            errors.join("; ")
        }
    );
    let stats = server.storage().stats()?;
    println!(
        "projection caught up {:.2} s after the last answer ({:.2} s after the burst began); server now holds {} children, {} changes",
        lag.as_secs_f64(),
        burst_s + lag.as_secs_f64(),
        thousands(stats.children as f64),
        thousands(stats.changes as f64)
    );
    out.add(
        5,
        format!(
            "measurements accepted per second, {n} devices × {} new measurements at once ({} in {burst_s:.2} s, wall clock incl. client work)",
            thousands(args.burst_measurements as f64),
            thousands(sent as f64)
        ),
        format!("{}/s", thousands(rate)),
        format!("≥ {}/s", thousands(TARGET_ACCEPT_PER_S)),
        Some(rate >= TARGET_ACCEPT_PER_S && sent == expected && errors.is_empty()),
    );
    out.add(
        5,
        format!(
            "projection caught up after the burst ({} children touched; from the last answer)",
            thousands((n * args.burst_children) as f64)
        ),
        format!("{:.2} s", lag.as_secs_f64()),
        format!("≤ {TARGET_PROJECTION_S} s"),
        Some(lag.as_secs_f64() <= TARGET_PROJECTION_S),
    );
    println!();
    Ok(())
}

// ---------------------------------------------------------------------------
// Figure 6: many devices at once.

fn concurrent(
    args: &Args,
    dir: Option<&Path>,
    seed: u64,
    out: &mut SyncResult,
) -> anyhow::Result<()> {
    let n = args.devices;
    let per = args.devices_per_posyandu.max(1);
    ensure!(n > 0, "--devices must be at least 1");
    ensure!(
        n.div_ceil(per) <= 99,
        "--devices / --devices-per-posyandu must be at most 99 posyandus"
    );
    println!(
        "== sync figure 6: {n} devices sync at once ({per} per posyandu, {} rounds) ==",
        args.rounds
    );
    let tmp = sys::scratch_dir(dir, "tumbuh-bench-sync-many-")?;
    let server = InProcessServer::start(&tmp.path().join("server.db"))?;
    let url = server.url();
    let today = chrono::Local::now().date_naive();
    let mut rng = Rng::new(seed ^ 0x6666);
    let t = Instant::now();
    let mut devices = Vec::with_capacity(n);
    for i in 0..n {
        let posyandu = format!("3530012004{:02}", i / per + 1);
        let mut dev = Dev::new(
            tmp.path(),
            &format!("device-{i}.db"),
            server.storage(),
            &url,
            &posyandu,
            &format!("Kader {i}"),
        )?;
        dev.fill(SMALL_CHILDREN, 2, today, &mut rng)?;
        sync_device(&mut dev.store, &url, &dev.token, None)?;
        devices.push(dev);
    }
    // Second pass: each device receives what the others of its posyandu uploaded.
    for dev in &mut devices {
        sync_device(&mut dev.store, &url, &dev.token, None)?;
    }
    wait_projection(server.storage())?;
    println!(
        "setup (not timed, {:.1} s): {n} kader devices, each its own enrolment and store, {SMALL_CHILDREN} children × 2 \
         measurements each, all synced twice and projected",
        t.elapsed().as_secs_f64()
    );

    let mut latencies = Vec::new();
    let mut errors = Vec::new();
    let mut exchanges = Vec::new();
    for round in 0..args.rounds.max(1) {
        for dev in &mut devices {
            let k = dev.children.len().max(1);
            let picks: Vec<(usize, usize)> = (0..args.device_measurements)
                .map(|j| ((round * args.device_measurements + j) % k, 1))
                .collect();
            dev.measure(&picks, today, &mut rng)?;
        }
        let barrier = Arc::new(Barrier::new(n + 1));
        let mut threads = Vec::with_capacity(n);
        for mut dev in devices.drain(..) {
            let barrier = barrier.clone();
            let url = url.clone();
            threads.push(std::thread::spawn(move || {
                let transport = HttpTransport::new(&url, &dev.token, Duration::from_secs(600));
                barrier.wait();
                let t = Instant::now();
                let result = match transport {
                    Ok(transport) => {
                        let mut counting = Counting {
                            inner: transport,
                            calls: Vec::new(),
                        };
                        client_sync::sync(&mut dev.store, &mut counting, &options())
                            .map(|s| (s, counting.calls.len()))
                            .map_err(anyhow::Error::from)
                    }
                    Err(e) => Err(anyhow::Error::from(e)),
                };
                (dev, result, t.elapsed())
            }));
        }
        barrier.wait();
        let start = Instant::now();
        let mut round_lat = Vec::new();
        for th in threads {
            match th.join() {
                Ok((dev, result, latency)) => {
                    match result {
                        Ok((summary, calls)) => {
                            if !summary.verified || !summary.rejected.is_empty() {
                                errors.push(format!(
                                    "round {round}: verified {}, rejected {:?}",
                                    summary.verified, summary.rejected
                                ));
                            }
                            exchanges.push(calls);
                            round_lat.push(latency.as_secs_f64());
                        }
                        Err(e) => errors.push(format!("round {round}: {e:#}")),
                    }
                    devices.push(dev);
                }
                Err(_) => errors.push(format!("round {round}: a device thread panicked")),
            }
        }
        let wall = start.elapsed().as_secs_f64();
        round_lat.sort_by(f64::total_cmp);
        println!(
            "round {}: {} syncs in {wall:.2} s; latency p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms",
            round + 1,
            round_lat.len(),
            1e3 * median(&round_lat),
            1e3 * percentile(&round_lat, 99.0),
            1e3 * round_lat.last().copied().unwrap_or(f64::NAN)
        );
        latencies.extend(round_lat);
    }
    latencies.sort_by(f64::total_cmp);
    exchanges.sort_unstable();
    println!(
        "exchanges per sync: min {}, max {}; errors: {}",
        exchanges.first().copied().unwrap_or(0),
        exchanges.last().copied().unwrap_or(0),
        if errors.is_empty() {
            "none".to_string()
        } else {
            errors.join("; ")
        }
    );
    out.add(
        6,
        format!(
            "{n} devices syncing at once ({} new measurements each, {} rounds, {} syncs): errors",
            args.device_measurements,
            args.rounds.max(1),
            latencies.len()
        ),
        errors.len().to_string(),
        "0",
        Some(errors.is_empty()),
    );
    out.add(
        6,
        format!(
            "{n} devices syncing at once: latency of one sync p50 / p99 (max {:.0} ms)",
            1e3 * latencies.last().copied().unwrap_or(f64::NAN)
        ),
        format!(
            "{:.0} ms / {:.0} ms",
            1e3 * median(&latencies),
            1e3 * percentile(&latencies, 99.0)
        ),
        "(no target)",
        None,
    );
    println!();
    Ok(())
}

// ---------------------------------------------------------------------------
// Figure 7: the real server binary's memory.

/// A `tumbuh-server serve` child process, stopped (SIGTERM, then SIGKILL) when dropped.
pub(crate) struct ServerProcess {
    pub(crate) child: std::process::Child,
    pub(crate) url: String,
}

impl ServerProcess {
    pub(crate) fn start(bin: &Path, db: &Path, log: &Path) -> anyhow::Result<ServerProcess> {
        let log = std::fs::File::create(log)
            .with_context(|| format!("cannot create {}", log.display()))?;
        let mut child = Command::new(bin)
            .arg("--db")
            .arg(db)
            .args(["--json", "serve", "--listen", "127.0.0.1:0"])
            .env("TUMBUH_SERVER_LOG", "warn")
            .env_remove("TUMBUH_SERVER_DB")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .spawn()
            .with_context(|| format!("cannot start {}", bin.display()))?;
        let stdout = child.stdout.take().context("no stdout pipe")?;
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .context("cannot read the server's first line")?;
        let mut process = ServerProcess {
            child,
            url: String::new(),
        };
        let json: serde_json::Value = serde_json::from_str(line.trim())
            .with_context(|| format!("unexpected first line from tumbuh-server: {line:?}"))?;
        process.url = json
            .get("listening")
            .and_then(|v| v.as_str())
            .with_context(|| format!("no `listening` in {line:?}"))?
            .to_string();
        Ok(process)
    }

    /// (VmRSS, VmHWM) in KiB.
    fn memory(&self) -> anyhow::Result<(u64, u64)> {
        let path = format!("/proc/{}/status", self.child.id());
        let status =
            std::fs::read_to_string(&path).with_context(|| format!("cannot read {path}"))?;
        let field = |key: &str| {
            status
                .lines()
                .find(|l| l.starts_with(key))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<u64>().ok())
        };
        Ok((
            field("VmRSS:").context("no VmRSS")?,
            field("VmHWM:").context("no VmHWM")?,
        ))
    }

    fn stop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = Command::new("kill")
                .args(["-TERM", &self.child.id().to_string()])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = self.child.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        self.stop();
    }
}

fn mib(kib: u64) -> String {
    format!(
        "{:.1} MiB ({:.1} MB)",
        kib as f64 / 1024.0,
        kib as f64 * 1.024e-3
    )
}

fn memory(args: &Args, dir: Option<&Path>, seed: u64, out: &mut SyncResult) -> anyhow::Result<()> {
    let posyandus = args.memory_posyandus.max(1);
    ensure!(posyandus <= 99, "--memory-posyandus must be at most 99");
    let bin = crate::sys::server_binary()?;
    println!(
        "== sync figure 7: memory of the `tumbuh-server` binary with {} children stored ==",
        thousands(args.memory_children as f64)
    );
    let tmp = sys::scratch_dir(dir, "tumbuh-bench-sync-memory-")?;
    let db = tmp.path().join("server.db");
    let today = chrono::Local::now().date_naive();
    let codes: Vec<String> = (0..posyandus)
        .map(|p| format!("3530012006{:02}", p + 1))
        .collect();

    // Fill: documents made on a generator thread, stored through
    // Storage::sync on this one (the same path as an HTTP upload, minus HTTP).
    let t = Instant::now();
    let storage = SqliteStorage::open(&db)?;
    let uploaders = codes
        .iter()
        .map(|c| enrol_kader(&storage, c, &format!("Uploader {c}")).map(|(e, _)| e))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let (_, reader_token) = enrol_kader(&storage, &codes[0], "Memory device")?;
    let (tx, rx) = mpsc::sync_channel::<anyhow::Result<(usize, Vec<ChildChanges>)>>(2);
    let n_children = args.memory_children;
    let visits = args.measurements;
    let codes_gen = codes.clone();
    let generator = std::thread::spawn(move || {
        let mut rng = Rng::new(seed ^ 0x7777);
        let now = now_ms();
        let devices: Vec<DeviceId> = codes_gen.iter().map(|_| DeviceId::new()).collect();
        let mut made = 0usize;
        while made < n_children {
            let p = made * codes_gen.len() / n_children.max(1);
            let take = MEMORY_BATCH
                .min(n_children - made)
                .min(((p + 1) * n_children).div_ceil(codes_gen.len()) - made)
                .max(1);
            let mut batch = Vec::with_capacity(take);
            for _ in 0..take {
                let child = SimChild::draw(&mut rng, today, visits);
                let doc = child.document(
                    &devices[p],
                    &mut rng,
                    &codes_gen[p],
                    "Uploader",
                    visits,
                    today,
                    now,
                );
                match doc {
                    Ok(mut doc) => batch.push(ChildChanges {
                        child: child.id,
                        changes: doc
                            .changes_since(&[])
                            .into_iter()
                            .map(|c| ByteBuf::from(compact::compact(&c.bytes, |_| false)))
                            .collect(),
                    }),
                    Err(e) => {
                        let _ = tx.send(Err(e));
                        return;
                    }
                }
            }
            made += batch.len();
            if tx.send(Ok((p, batch))).is_err() {
                return;
            }
        }
    });
    let mut stored = 0usize;
    for msg in rx {
        let (p, batch) = msg?;
        let request = SyncRequest {
            batch: uuid::Uuid::now_v7(),
            cursor: i64::MAX as u64,
            upload: batch,
            max_page_bytes: 1,
        };
        let response = storage.sync(&uploaders[p], &request, 1, now_ms())?;
        let rejected = response
            .acks
            .iter()
            .filter(|a| !matches!(a, sync_protocol::wire::Ack::Stored))
            .count();
        ensure!(rejected == 0, "{rejected} changes rejected while filling");
        stored += request.upload.len();
    }
    generator
        .join()
        .map_err(|_| anyhow::anyhow!("the generator thread panicked"))?;
    let fill_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    storage.project_all()?;
    let project_s = t.elapsed().as_secs_f64();
    let stats = storage.stats()?;
    drop(storage);
    let db_bytes = std::fs::metadata(&db).map(|m| m.len()).unwrap_or(0);
    let wal_bytes = std::fs::metadata(db.with_extension("db-wal"))
        .map(|m| m.len())
        .unwrap_or(0);
    println!(
        "database filled in this process (not timed): {} children × {visits} measurements in {} posyandus, \
         {} changes, stored via Storage::sync in {fill_s:.1} s, projected via project_pending in {project_s:.1} s \
         ({:.0} children/s); database file {} + WAL {}; pending_projection {}",
        thousands(stored as f64),
        posyandus,
        thousands(stats.changes as f64),
        stored as f64 / project_s,
        mb(db_bytes),
        mb(wal_bytes),
        stats.pending_projection
    );

    let mut server = ServerProcess::start(&bin, &db, &tmp.path().join("server.log"))?;
    println!(
        "server: {} --db {} --json serve --listen 127.0.0.1:0 (pid {}), {}",
        bin.display(),
        db.display(),
        server.child.id(),
        server.url
    );
    std::thread::sleep(Duration::from_secs(1));
    let (idle_rss, _) = server.memory()?;
    let mut dev_store = Store::create(
        &tmp.path().join("device.db"),
        &sys::pin(),
        KdfParams::INSECURE_TEST,
        &codes[0],
        "Memory device",
        now_ms(),
    )?;
    client_sync::login(&mut dev_store, &server.url, &reader_token)?;
    let first = sync_device(&mut dev_store, &server.url, &reader_token, None)?;
    println!(
        "a fresh kader device of posyandu {} syncs: {}",
        codes[0],
        first.describe()
    );
    let (after_first, _) = server.memory()?;
    let again = sync_device(&mut dev_store, &server.url, &reader_token, None)?;
    println!("and syncs again: {}", again.describe());
    let (after, hwm) = server.memory()?;
    server.stop();
    println!(
        "server memory: VmRSS idle after start {}, after the first sync {}, after the second {}; peak VmHWM {}",
        mib(idle_rss),
        mib(after_first),
        mib(after),
        mib(hwm)
    );
    out.add(
        7,
        format!(
            "`tumbuh-server` peak resident memory (VmHWM) with {} children / {} changes stored, after a device's first sync",
            thousands(stats.children as f64),
            thousands(stats.changes as f64)
        ),
        mib(hwm),
        format!("≤ {}", mb(TARGET_RSS_BYTES)),
        Some(hwm * 1024 <= TARGET_RSS_BYTES),
    );
    println!();
    Ok(())
}

/// `/proc/loadavg`'s 1, 5 and 15 minute averages.
pub(crate) fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".to_string())
}

/// Runs the selected figures.
pub fn run(args: &Args, dir: Option<&Path>, seed: u64) -> anyhow::Result<SyncResult> {
    ensure!(args.children > 0, "--children must be at least 1");
    ensure!(
        (1..=40).contains(&args.measurements),
        "--measurements must be 1–40 (children stay under five)"
    );
    if let Some(bad) = args.figures.iter().find(|f| !(1..=7).contains(*f)) {
        bail!("figure {bad} does not exist: use 1–7");
    }
    let want = |f: u8| args.figures.contains(&f);
    let mut out = SyncResult::default();
    println!("load average at start: {}", load_average());
    if (1..=4).any(want) {
        area_figures(args, dir, seed, &mut out)?;
    }
    if want(5) {
        burst(args, dir, seed, &mut out)?;
    }
    if want(6) {
        concurrent(args, dir, seed, &mut out)?;
    }
    if want(7) {
        memory(args, dir, seed, &mut out)?;
    }
    println!("== sync summary ==");
    println!(
        "load average at the end: {} (other work on the machine skews times)",
        load_average()
    );
    out.print_table();
    println!();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spread_is_distinct_and_in_range() {
        let v = spread(5_000, 100);
        assert_eq!(v.len(), 100);
        assert!(v.windows(2).all(|w| w[0] < w[1]));
        assert!(v.iter().all(|&i| i < 5_000));
        assert_eq!(spread(1, 1), vec![0]);
    }

    #[test]
    fn csv_has_a_header_and_one_line_per_measurement() -> anyhow::Result<()> {
        let mut rng = Rng::new(1);
        let today = NaiveDate::from_ymd_opt(2025, 1, 15).context("date")?;
        let mut child = SimChild::draw(&mut rng, today, 3);
        let date = child.next_date(today);
        let input = child.measurement(date, &mut rng, POSYANDU, "Kader")?;
        let rows = vec![
            NewRow {
                child: child.id,
                id: MeasurementId::new(),
                input
            };
            3
        ];
        let (csv, gz) = csv_gzip(&rows)?;
        assert!(csv > 3 * 80, "{csv}");
        assert!(gz > 0 && gz < csv);
        Ok(())
    }
}
