//! `zscore-csv`: the real `tumbuh zscore` on a generated CSV, wall time and
//! peak memory, at N rows and N/10 rows.

use std::ffi::OsStr;
use std::io::Read;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context as _, ensure};

use crate::data;
use crate::sys::{self, RssMethod, median, thousands};

/// Target: seconds for 1,000,000 rows.
pub const TARGET_SECONDS_1M: f64 = 2.0;

#[derive(Debug, Clone)]
pub struct SizeResult {
    pub rows: usize,
    pub input_bytes: u64,
    pub output_bytes: u64,
    /// Wall time of each run, spawn to exit.
    pub walls: Vec<Duration>,
    /// Highest peak RSS over the runs, KiB.
    pub peak_rss_kib: u64,
}

impl SizeResult {
    pub fn median_s(&self) -> f64 {
        let mut v: Vec<f64> = self.walls.iter().map(Duration::as_secs_f64).collect();
        v.sort_by(f64::total_cmp);
        median(&v)
    }

    pub fn best_s(&self) -> f64 {
        self.walls
            .iter()
            .map(Duration::as_secs_f64)
            .fold(f64::INFINITY, f64::min)
    }
}

#[derive(Debug, Clone)]
pub struct CsvResult {
    pub method: RssMethod,
    pub fs: String,
    pub sizes: Vec<SizeResult>,
}

fn count_lines(path: &Path) -> anyhow::Result<u64> {
    let mut f =
        std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut buf = vec![0u8; 1 << 20];
    let mut lines = 0u64;
    loop {
        let n = f
            .read(&mut buf)
            .with_context(|| format!("cannot read {}", path.display()))?;
        if n == 0 {
            return Ok(lines);
        }
        lines += buf[..n].iter().filter(|&&b| b == b'\n').count() as u64;
    }
}

fn one_size(
    tumbuh: &Path,
    method: RssMethod,
    dir: &Path,
    rows: usize,
    repeat: usize,
    seed: u64,
) -> anyhow::Result<SizeResult> {
    let input = dir.join(format!("cases_{rows}.csv"));
    let output = dir.join(format!("cases_{rows}_z.csv"));
    let t = Instant::now();
    let file = std::fs::File::create(&input)
        .with_context(|| format!("cannot create {}", input.display()))?;
    data::write_csv(file, seed, rows)
        .with_context(|| format!("cannot write {}", input.display()))?;
    let input_bytes = std::fs::metadata(&input)?.len();
    println!(
        "{} rows: generated {} ({:.1} MB) in {:.2} s (not timed)",
        thousands(rows as f64),
        input.display(),
        input_bytes as f64 / 1e6,
        t.elapsed().as_secs_f64()
    );
    let mut walls = Vec::with_capacity(repeat);
    let mut peak_rss_kib = 0;
    let mut output_bytes = 0;
    for run in 1..=repeat {
        if output.exists() {
            std::fs::remove_file(&output)
                .with_context(|| format!("cannot remove {}", output.display()))?;
        }
        let args: [&OsStr; 6] = [
            OsStr::new("--json"),
            OsStr::new("zscore"),
            OsStr::new("--input"),
            input.as_os_str(),
            OsStr::new("--output"),
            output.as_os_str(),
        ];
        let m = sys::run_measured(method, tumbuh, &args, dir)?;
        let summary: serde_json::Value = serde_json::from_slice(&m.stdout)
            .context("`tumbuh --json zscore` did not print JSON")?;
        let done = summary["rows"]
            .as_u64()
            .context("`tumbuh --json zscore` printed no `rows`")?;
        ensure!(
            done == rows as u64,
            "tumbuh computed {done} rows, expected {rows}"
        );
        if run == 1 {
            let lines = count_lines(&output)?;
            ensure!(
                lines == rows as u64 + 1,
                "{} has {lines} lines, expected {}",
                output.display(),
                rows + 1
            );
            output_bytes = std::fs::metadata(&output)?.len();
        }
        println!(
            "  run {run}/{repeat}: {:.3} s, peak RSS {:.1} MiB",
            m.wall.as_secs_f64(),
            m.peak_rss_kib as f64 / 1024.0
        );
        walls.push(m.wall);
        peak_rss_kib = peak_rss_kib.max(m.peak_rss_kib);
    }
    std::fs::remove_file(&input).ok();
    std::fs::remove_file(&output).ok();
    let r = SizeResult {
        rows,
        input_bytes,
        output_bytes,
        walls,
        peak_rss_kib,
    };
    println!(
        "  → median {:.3} s (best {:.3} s), {} rows/s, output {:.1} MB, peak RSS {:.1} MiB",
        r.median_s(),
        r.best_s(),
        thousands(rows as f64 / r.median_s()),
        output_bytes as f64 / 1e6,
        peak_rss_kib as f64 / 1024.0
    );
    Ok(r)
}

pub fn run(rows: usize, repeat: usize, dir: Option<&Path>, seed: u64) -> anyhow::Result<CsvResult> {
    ensure!(
        rows >= 10 && repeat > 0,
        "--rows must be at least 10 and --repeat at least 1"
    );
    println!("== zscore-csv: `tumbuh zscore` on a generated CSV ==");
    let tumbuh = sys::tumbuh_binary()?;
    let method = RssMethod::detect();
    let tmp = sys::scratch_dir(dir, "tumbuh-bench-csv-")?;
    let fs = sys::fs_type(tmp.path());
    println!("binary: {}", tumbuh.display());
    println!(
        "folder: {} ({fs}); peak memory: {}",
        tmp.path().display(),
        method.describe()
    );
    println!(
        "command: tumbuh --json zscore --input IN.csv --output OUT.csv (wall time = spawn to exit, {repeat} runs each)"
    );
    let mut sizes = Vec::new();
    for n in [rows, rows / 10] {
        sizes.push(one_size(&tumbuh, method, tmp.path(), n, repeat, seed)?);
    }
    if let [big, small] = sizes.as_slice() {
        let ratio = big.peak_rss_kib as f64 / small.peak_rss_kib.max(1) as f64;
        println!(
            "memory: {:.1} MiB at {} rows vs {:.1} MiB at {} rows (×{ratio:.2} for ×10 rows) → {}",
            big.peak_rss_kib as f64 / 1024.0,
            thousands(big.rows as f64),
            small.peak_rss_kib as f64 / 1024.0,
            thousands(small.rows as f64),
            if ratio < 1.25 {
                "constant memory"
            } else {
                "memory GROWS with the input"
            }
        );
        let scaled = big.median_s() * 1_000_000.0 / big.rows as f64;
        println!(
            "time for 1,000,000 rows: {scaled:.3} s{}  target ≤ {TARGET_SECONDS_1M} s → {}",
            if big.rows == 1_000_000 {
                ""
            } else {
                " (scaled linearly)"
            },
            if scaled <= TARGET_SECONDS_1M {
                "MET"
            } else {
                "NOT MET"
            }
        );
    }
    println!();
    Ok(CsvResult { method, fs, sizes })
}
