//! `measure`: `tumbuh measure` end to end (process spawn to exit) on a store
//! holding many children, plus an in-process breakdown of where the time goes.

use std::ffi::OsString;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context as _, ensure};
use chrono::NaiveDate;
use field_client::store::{Device, Store};
use sync_protocol::{
    ChildDocument, ChildId, Grams, MeasurementId, MeasurementInput, Millimetres, Position,
};

use crate::data::{self, Rng};
use crate::sys::{self, median, percentile, sorted_ms, thousands};

/// Target: milliseconds for one `tumbuh measure`.
pub const TARGET_MS: f64 = 30.0;

const POSYANDU: &str = "353001200205";
const KADER: &str = "Bench";
/// Children registered per transaction while filling the store.
const FILL_BATCH: usize = 500;
/// Unrecorded runs before the timed ones.
const WARMUP: usize = 3;

/// One child of the benchmark store, with what is needed to measure it again.
#[derive(Debug, Clone)]
struct BenchChild {
    id: ChildId,
    sex: growth::Sex,
    birth: NaiveDate,
    haz: f64,
    whz: f64,
}

impl BenchChild {
    /// Plausible weight (kg, 0.1 kg scale) and length/height (cm, 1 mm board)
    /// on `date`, with the position WHO expects at that age.
    fn values_on(
        &self,
        date: NaiveDate,
        rng: &mut Rng,
    ) -> Option<(f64, f64, sync_protocol::Position)> {
        let age = growth::age_in_days(self.birth, date);
        let length = data::length_at(self.sex, age, self.haz + 0.1 * rng.normal())?;
        let weight = data::weight_at(self.sex, age, length, self.whz + 0.15 * rng.normal())?;
        let position = if age < 731 {
            sync_protocol::Position::Lying
        } else {
            sync_protocol::Position::Standing
        };
        Some((
            data::round_to(weight, 0.1),
            data::round_to(length, 0.1),
            position,
        ))
    }
}

#[derive(Debug, Clone)]
pub struct MeasureResult {
    pub children: usize,
    pub measurements_per_child: usize,
    pub fs: String,
    pub fill_s: f64,
    pub db_bytes: u64,
    /// Sorted end-to-end times, ms.
    pub runs_ms: Vec<f64>,
    /// Sorted `tumbuh --version` times, ms (process start-up floor).
    pub floor_ms: Vec<f64>,
    /// (phase, median ms) of the in-process breakdown.
    pub phases: Vec<(&'static str, f64)>,
}

impl MeasureResult {
    pub fn median_ms(&self) -> f64 {
        median(&self.runs_ms)
    }
    pub fn p95_ms(&self) -> f64 {
        percentile(&self.runs_ms, 95.0)
    }
    pub fn max_ms(&self) -> f64 {
        self.runs_ms.last().copied().unwrap_or(f64::NAN)
    }
}

/// A weighing with length, as `tumbuh measure` records it (same limits).
fn weighing(
    date: NaiveDate,
    kg: f64,
    cm: f64,
    position: Position,
    device: &Device,
) -> anyhow::Result<MeasurementInput> {
    Ok(MeasurementInput {
        date,
        weight: Some(Grams::from_kg(kg, 60.0)?),
        length: Some(Millimetres::from_cm(cm, 38.0, 150.0)?),
        position: Some(position),
        muac: None,
        head: None,
        oedema: false,
        posyandu: device.posyandu.clone(),
        by: device.kader.clone(),
        round: None,
    })
}

/// Registers `n` children with `k` monthly measurements each (the last one
/// 31 days before `today`), through the field client library: the same
/// documents, changes and derived rows as `tumbuh child add` + `tumbuh measure`.
fn fill(
    db: &Path,
    n: usize,
    k: usize,
    today: NaiveDate,
    rng: &mut Rng,
) -> anyhow::Result<Vec<BenchChild>> {
    let mut store =
        Store::open(db, &sys::pin()).with_context(|| format!("cannot open {}", db.display()))?;
    let device = store.device().clone();
    let now_ms = chrono::Utc::now().timestamp_millis();
    let mut children = Vec::with_capacity(n);
    for start in (0..n).step_by(FILL_BATCH) {
        let batch = store.write(|w| -> anyhow::Result<Vec<BenchChild>> {
            let mut made = Vec::new();
            for _ in start..(start + FILL_BATCH).min(n) {
                let sex = if rng.chance(0.5) {
                    growth::Sex::Male
                } else {
                    growth::Sex::Female
                };
                // Old enough for k monthly visits, young enough to stay under five.
                let min_age = 31 * k as u64 + 40;
                let age = min_age + rng.below(1790 - min_age);
                let birth = today - chrono::Days::new(age);
                let child = BenchChild {
                    id: ChildId::new(),
                    sex,
                    birth,
                    haz: data::draw_z(rng, -1.0, 1.15),
                    whz: data::draw_z(rng, -0.3, 1.05),
                };
                let profile = data::child_profile(rng, sex, birth, &device.posyandu);
                let mut doc = ChildDocument::create(device.id.actor(), child.id, &profile, now_ms)?;
                for visit in (1..=k).rev() {
                    let date = today - chrono::Days::new(31 * visit as u64);
                    let (kg, cm, position) = child
                        .values_on(date, rng)
                        .context("no WHO row for a generated child")?;
                    let input = weighing(date, kg, cm, position, &device)?;
                    doc.add_measurement(MeasurementId::new(), &input, now_ms)?;
                }
                w.save_child(&mut doc, &[], now_ms)?;
                made.push(child);
            }
            Ok(made)
        })?;
        children.extend(batch);
    }
    Ok(children)
}

/// The `tumbuh measure` arguments for `child` on `date`.
fn measure_args(
    db: &Path,
    child: &BenchChild,
    date: NaiveDate,
    rng: &mut Rng,
) -> anyhow::Result<Vec<OsString>> {
    let (kg, cm, position) = child
        .values_on(date, rng)
        .context("no WHO row for a generated child")?;
    Ok([
        "--db".into(),
        db.as_os_str().to_owned(),
        "measure".into(),
        child.id.to_string().into(),
        "--date".into(),
        date.to_string().into(),
        "--weight".into(),
        format!("{kg:.1}").into(),
        "--height".into(),
        format!("{cm:.1}").into(),
        "--position".into(),
        position.code().into(),
    ]
    .into_iter()
    .collect())
}

fn time_command(cmd: &mut Command, what: &str) -> anyhow::Result<Duration> {
    let start = Instant::now();
    sys::run_ok(cmd, what)?;
    Ok(start.elapsed())
}

/// The phases of `tumbuh measure` as its code does them (commands/measure.rs),
/// timed in this process on `child`.
fn breakdown_once(
    db: &Path,
    child: &BenchChild,
    date: NaiveDate,
    rng: &mut Rng,
) -> anyhow::Result<[f64; 8]> {
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let (kg, cm, position) = child
        .values_on(date, rng)
        .context("no WHO row for a generated child")?;
    let now_ms = chrono::Utc::now().timestamp_millis();

    let t = Instant::now();
    let mut store = Store::open(db, &sys::pin())?;
    let open = t.elapsed();
    let t = Instant::now();
    let id = store.resolve_child(&child.id.to_string())?;
    let resolve = t.elapsed();
    let device = store.device().clone();
    let (mut load, mut add, mut save) = Default::default();
    let t = Instant::now();
    let saved = store.write(|w| -> anyhow::Result<sync_protocol::Child> {
        let t = Instant::now();
        let mut doc = w.load_child(id)?;
        let _birth = doc.child()?.profile.birth_date;
        load = t.elapsed();
        let input = weighing(date, kg, cm, position, &device)?;
        let t = Instant::now();
        let heads = doc.heads();
        doc.add_measurement(MeasurementId::new(), &input, now_ms)?;
        add = t.elapsed();
        let t = Instant::now();
        let c = w.save_child(&mut doc, &heads, now_ms)?;
        save = t.elapsed();
        Ok(c)
    })?;
    let write_total = t.elapsed();
    let t = Instant::now();
    let assessed = sync_protocol::assess_child(&saved);
    std::hint::black_box(&assessed);
    let assess = t.elapsed();
    let t = Instant::now();
    drop(store);
    let close = t.elapsed();
    let commit = write_total.saturating_sub(load + add + save);
    Ok([
        ms(open),
        ms(resolve),
        ms(load),
        ms(add),
        ms(save),
        ms(commit),
        ms(assess),
        ms(close),
    ])
}

const PHASES: [&str; 8] = [
    "Store::open (Argon2id unlock, open, pragmas, migrate check)",
    "resolve_child (id prefix, index range)",
    "load_child + child() (read changes, Automerge load)",
    "add_measurement (Automerge change)",
    "save_child (insert change, hydrate, project rows)",
    "COMMIT (WAL, synchronous=FULL → fsync)",
    "assess_child",
    "close connection (WAL checkpoint)",
];

#[allow(clippy::too_many_arguments)]
pub fn run(
    n_children: usize,
    runs: usize,
    measurements: usize,
    breakdown_runs: usize,
    dir: Option<&Path>,
    seed: u64,
) -> anyhow::Result<MeasureResult> {
    ensure!(runs > 0, "--runs must be at least 1");
    ensure!(
        (1..=40).contains(&measurements),
        "--measurements must be 1–40 (children stay under five)"
    );
    let needed = WARMUP + runs + breakdown_runs;
    ensure!(
        n_children >= needed,
        "--children must be at least {needed} (warm-up + runs + breakdown, each on its own child)"
    );
    println!(
        "== measure: `tumbuh measure` end to end with {} children ==",
        thousands(n_children as f64)
    );
    let tumbuh = sys::tumbuh_binary()?;
    let tmp = sys::scratch_dir(dir, "tumbuh-bench-measure-")?;
    let fs = sys::fs_type(tmp.path());
    let db = tmp.path().join("tumbuh.db");
    println!("binary: {}", tumbuh.display());
    println!("store: {} ({fs})", db.display());

    sys::run_ok(
        sys::tumbuh_command(&tumbuh).arg("--db").arg(&db).args([
            "init",
            "--posyandu",
            POSYANDU,
            "--kader",
            KADER,
        ]),
        "tumbuh init",
    )?;
    let today = chrono::Local::now().date_naive();
    let mut rng = Rng::new(seed);
    let t = Instant::now();
    let children = fill(&db, n_children, measurements, today, &mut rng)?;
    let fill_s = t.elapsed().as_secs_f64();
    let db_bytes = std::fs::metadata(&db).map(|m| m.len()).unwrap_or(0)
        + std::fs::metadata(db.with_extension("db-wal"))
            .map(|m| m.len())
            .unwrap_or(0);
    println!(
        "filled: {} children × {measurements} measurements in {fill_s:.1} s through the field_client library \
         ({} per transaction; not timed), store {:.1} MB",
        thousands(n_children as f64),
        FILL_BATCH,
        db_bytes as f64 / 1e6
    );

    // Each run measures a different child, spread over the store; the
    // measurement is dated yesterday (after the fill's last visit, 31 days ago).
    let date = today - chrono::Days::new(1);
    let pick = |j: usize| &children[j * n_children / needed];
    for j in 0..WARMUP {
        let args = measure_args(&db, pick(j), date, &mut rng)?;
        time_command(sys::tumbuh_command(&tumbuh).args(&args), "tumbuh measure")?;
    }
    let mut times = Vec::with_capacity(runs);
    for j in WARMUP..WARMUP + runs {
        let args = measure_args(&db, pick(j), date, &mut rng)?;
        times.push(time_command(
            sys::tumbuh_command(&tumbuh).args(&args),
            "tumbuh measure",
        )?);
    }
    let runs_ms = sorted_ms(&times);

    let mut floor = Vec::with_capacity(runs);
    for _ in 0..runs {
        floor.push(time_command(
            sys::tumbuh_command(&tumbuh).arg("--version"),
            "tumbuh --version",
        )?);
    }
    let floor_ms = sorted_ms(&floor);

    let mut samples: Vec<Vec<f64>> = vec![Vec::new(); PHASES.len()];
    for j in WARMUP + runs..needed {
        let t = breakdown_once(&db, pick(j), date, &mut rng)?;
        for (s, v) in samples.iter_mut().zip(t) {
            s.push(v);
        }
    }
    let phases: Vec<(&'static str, f64)> = PHASES
        .iter()
        .zip(&mut samples)
        .map(|(name, s)| {
            s.sort_by(f64::total_cmp);
            (*name, median(s))
        })
        .collect();

    let r = MeasureResult {
        children: n_children,
        measurements_per_child: measurements,
        fs,
        fill_s,
        db_bytes,
        runs_ms,
        floor_ms,
        phases,
    };
    println!(
        "command: tumbuh --db STORE measure <full child id> --date {date} --weight KG --height CM --position lying|standing"
    );
    println!(
        "{runs} runs on {runs} different children (after {WARMUP} warm-up runs): median {:.1} ms, p95 {:.1} ms, max {:.1} ms, min {:.1} ms   target ≤ {TARGET_MS} ms → {}",
        r.median_ms(),
        r.p95_ms(),
        r.max_ms(),
        r.runs_ms.first().copied().unwrap_or(f64::NAN),
        if r.p95_ms() <= TARGET_MS {
            "MET (p95)"
        } else if r.median_ms() <= TARGET_MS {
            "MET (median), p95 over"
        } else {
            "NOT MET"
        }
    );
    println!(
        "process floor, `tumbuh --version` ({runs} runs): median {:.1} ms, p95 {:.1} ms",
        median(&r.floor_ms),
        percentile(&r.floor_ms, 95.0)
    );
    // The store is unlocked by every command: an Argon2id derivation at the
    // phone cost, which an app would pay once per session instead.
    let key_file = field_client::pin::KeyFile::read(&db)?;
    let mut unlock = Vec::with_capacity(runs);
    for _ in 0..runs {
        let t = Instant::now();
        let key = key_file
            .derive(&sys::pin())
            .map_err(|e| anyhow::anyhow!("derive the key: {e}"))?;
        unlock.push(t.elapsed());
        drop(key);
    }
    let unlock_ms = sorted_ms(&unlock);
    let after_unlock = r.median_ms() - median(&unlock_ms);
    println!(
        "of which the PIN unlock (Argon2id {} MiB × {} passes, in-process, {runs} runs): median {:.1} ms; \
         the command without it: about {after_unlock:.1} ms (target ≤ {TARGET_MS} ms → {})",
        key_file.params.m_kib / 1024,
        key_file.params.t,
        median(&unlock_ms),
        if after_unlock <= TARGET_MS {
            "MET"
        } else {
            "NOT MET"
        }
    );
    if breakdown_runs > 0 {
        println!(
            "in-process breakdown (field_client library, same steps as commands/measure.rs; median of {breakdown_runs} children):"
        );
        for (name, v) in &r.phases {
            println!("  {v:8.3} ms  {name}");
        }
        println!(
            "  {:8.3} ms  total",
            r.phases.iter().map(|(_, v)| v).sum::<f64>()
        );
    }
    println!();
    Ok(r)
}
