//! `tumbuh-bench`: how fast Tumbuh is, measured the way it is used.
//!
//! # What is measured
//!
//! * **`zscore-lib`**: z-scores per second in the `growth` library, on one
//!   core. A vector of 1,000,000 [`growth::Input`]s is generated *before*
//!   timing (deterministic SplitMix64, see `data.rs`): ages 0–1826 days for
//!   88 % and 1827–6939 days for 12 %, lengths and weights drawn as z-scores
//!   around the WHO medians (mean HAZ −1, WHZ −0.3, 0.3 % wild values) and
//!   turned into cm/kg with the WHO tables, lying and standing positions (10 %
//!   the "wrong" one for the age, 4 % unknown), 1 % oedema, 2 % missing
//!   weights, 6 % missing lengths, some arm and head circumferences. After one
//!   warm-up pass, `growth::assess` is called on every input for several
//!   passes (`std::hint::black_box` on input and result). Reported:
//!   assessments/s of the median pass, and z-scores/s = 4 × assessments/s (an
//!   assessment computes the four main z-scores HAZ, WAZ, WHZ and BMIZ; the
//!   share that is non-blank on this data is printed too). Target: ≥ 5
//!   million z-scores/s.
//! * **`zscore-csv`**: the real `tumbuh zscore --input IN --output OUT`
//!   binary on a generated CSV (`case_id,sex,dob,measure_date,weight_kg,
//!   lenhei_cm,measure,oedema`, same generator; written to a temporary folder,
//!   not timed). Wall time is spawn to exit; peak memory (max RSS) comes from
//!   GNU `/usr/bin/time -f %M`, or, without it, from polling `VmHWM` in
//!   `/proc/<pid>/status`. It runs at N rows and at N/10 rows: equal peak
//!   memory shows that memory does not grow with the input. Every run's row
//!   count is checked. Target: ≤ 2 s for 1,000,000 rows.
//! * **`measure`**: `tumbuh measure` end to end (process spawn to exit). A
//!   store is created with `tumbuh init`, then filled with N children of
//!   under five years, each with K monthly measurements, through the
//!   `field_client` library (the same Automerge documents, changes and derived
//!   rows as `tumbuh child add` and `tumbuh measure` make, but without 5,000
//!   process starts and the O(N) duplicate check of `child add`). After 3
//!   warm-up runs, each timed run measures a different child, spread over the
//!   store. Reported: median, p95 and max in ms; the floor of a process start
//!   (`tumbuh --version`); and an in-process breakdown of the steps of
//!   `commands/measure.rs` (open, resolve, load, add, save, commit, close).
//!   The store is encrypted (`tumbuh init` at the real Argon2id cost, PIN
//!   from `TUMBUH_PIN`), so every command first derives the key from the
//!   PIN; the PIN unlock alone is timed too, and the command without it.
//!   Target: ≤ 30 ms (set before the store was encrypted: the unlock alone
//!   is several times that; an app would unlock once per session).
//! * **`sync`**: the sync protocol end to end (real `tumbuh_server::serve` in
//!   this process on 127.0.0.1, real `field_client::sync::sync` over HTTP,
//!   every store filled through the `field_client` library with the same
//!   generator). Bytes on the wire are counted by a byte-counting TCP proxy
//!   between client and server (TCP payload both ways, HTTP request/status
//!   lines and headers included); exchanges by a counting `Transport`
//!   wrapper. Each device is its own enrolment and store, signed in with
//!   `field_client::sync::login`; each sync builds a new HTTP client (a new
//!   connection), as `tumbuh sync` does. Figures (`--figures 1,2,…` picks):
//!   1. HTTP exchanges of one sync of an already-synced device after new
//!      measurements on 1 and on all N (5,000) children. Target: 1.
//!   2. Bytes on the wire of a sync with nothing to do (max over several
//!      syncs of two devices). Target: ≤ 1 KB (1,000 B).
//!   3. Upload of 100 new measurements on 100 different synced children: HTTP
//!      request bytes ÷ the same measurements as a gzipped CSV (child_id,
//!      measurement_id, date, weight_g, length_mm, position, muac_mm, oedema,
//!      by; flate2 default level). Target: ≤ 1.5.
//!   4. First sync of a fresh device in a posyandu of 5,000 children × 12
//!      measurements (snapshot pages + feed), started only once the server's
//!      projection has caught up (`Storage::stats().pending_projection == 0`,
//!      it saves the documents snapshots send): bytes (≤ 2.5 MB) and wall
//!      time including the client's writes (≤ 5 s; median of 3 devices).
//!   5. 20 devices (one posyandu each, 300 synced children each) upload
//!      3,000 new measurements each at once: measurements acknowledged per
//!      second, first request to last answer, client work included (≥
//!      15,000/s); then the time until `pending_projection` is 0 (≤ 10 s).
//!   6. 200 devices (4 per posyandu, so they receive each other's changes),
//!      3 new measurements each, sync at once, 3 rounds: errors (0) and the
//!      p50/p99 latency of one `sync` call.
//!   7. The real `tumbuh-server` binary (found beside this one) on a database
//!      filled in-process with 50,000 children × 12 measurements (via
//!      `Storage::sync`, projected): VmHWM/VmRSS from `/proc/<pid>/status`
//!      after a fresh device's first sync and a second sync. Target: ≤ 500 MB.
//!
//!   Client and server share the machine's cores, as on a loopback test.
//!   Takes several minutes with the defaults, so it is not part of `all`;
//!   smaller sizes by flags (e.g. `--children 500 --memory-children 5000
//!   --devices 40`) give a quick run.
//! * **`load`**: the real `tumbuh-server` binary (release, found beside this
//!   one) on a fresh database; 200 simulated devices (4 per posyandu, each
//!   its own enrolment and store, the `sync` generator) record a few
//!   children, then new measurements, and call `field_client::sync::sync`
//!   for several rounds on a pool of threads (8 per core), through a proxy
//!   on 127.0.0.1 that cuts 5 % of the HTTP requests mid-body (seeded
//!   RNG; half in the request body, half in the response body). Reported:
//!   requests, requests cut, client retries, sync calls that still returned
//!   an error, changes made on the devices against those stored on the
//!   server after a final uncut sync (data lost, target 0), time,
//!   throughput and latency. See `load.rs`.
//! * **`all`**: `zscore-lib`, `zscore-csv` and `measure` with their defaults
//!   and a summary table (not `sync` or `load`: run them on their own).
//!
//! # How to reproduce
//!
//! ```sh
//! export CARGO_TARGET_DIR=/tmp/target-bench   # any dir, but the same for both builds
//! cargo build --release -p tumbuh-bench -p field-client -p tumbuh-server
//! cargo run --release -p tumbuh-bench -- all
//! cargo run --release -p tumbuh-bench -- sync
//! cargo run --release -p tumbuh-bench -- load
//! ```
//!
//! The `tumbuh` binary is taken from beside this one
//! (`current_exe().with_file_name("tumbuh")`), and so is `tumbuh-server` for
//! `sync`'s figure 7 and for `load`, so all must come from the same target dir and profile
//! (building `tumbuh-bench` alone does not build them). Temporary files go to `$TMPDIR` (or `--dir`); the
//! store's fsyncs make `measure` depend on that disk: use a real disk, not a
//! tmpfs, for field-like figures. Figures vary with the machine and its
//! load; run on an idle machine and compare medians.

mod data;
mod link;
mod load;
mod measure;
mod proxy;
mod sync;
mod sys;
mod verval_synthetic;
mod zscore_csv;
mod zscore_lib;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// Benchmarks of Tumbuh: library z-scores, `tumbuh zscore` on a big CSV, `tumbuh measure` on a full store, sync.
#[derive(Debug, Parser)]
#[command(name = "tumbuh-bench")]
struct Cli {
    /// Seed of the synthetic data (same seed, same data).
    #[arg(long, global = true, default_value_t = 20_240_805)]
    seed: u64,
    /// Folder for temporary files (default: the system temporary folder).
    #[arg(long, global = true, value_name = "DIR")]
    dir: Option<PathBuf>,
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// z-scores per second in `growth::assess`, one core.
    ZscoreLib {
        /// Inputs generated before timing.
        #[arg(long, default_value_t = 1_000_000)]
        inputs: usize,
        /// Timed passes over the inputs (after one warm-up pass).
        #[arg(long, default_value_t = 5)]
        passes: usize,
    },
    /// `tumbuh zscore` on a generated CSV of N rows and of N/10 rows: wall time and peak memory.
    ZscoreCsv {
        #[arg(long, default_value_t = 1_000_000)]
        rows: usize,
        /// Runs per size.
        #[arg(long, default_value_t = 3)]
        repeat: usize,
    },
    /// `tumbuh measure` end to end on a store with many children.
    Measure {
        #[arg(long, default_value_t = 5_000)]
        children: usize,
        /// Timed runs, each on a different child.
        #[arg(long, default_value_t = 50)]
        runs: usize,
        /// Measurements already recorded per child (monthly).
        #[arg(long, default_value_t = 4)]
        measurements: usize,
        /// Children measured in-process to break the time down by step (0 = none).
        #[arg(long, default_value_t = 20)]
        breakdown: usize,
    },
    /// Sync client and server: round trips, bytes on the wire, first sync, upload burst, 200 devices, server memory.
    Sync(sync::Args),
    /// 200 devices syncing with the real `tumbuh-server` through a proxy that cuts 5 % of requests mid-body: errors, data lost, throughput.
    Load(load::Args),
    /// `tumbuh-server link` on the dev set scaled to a district (~50,000 children): time, peak memory, precision/recall.
    Link(link::Args),
    /// Stunted children in a round of the synthetic dev set: rows, tumbuh dedup, perfect dedup, truth.
    VervalSynthetic(verval_synthetic::Args),
    /// `zscore-lib`, `zscore-csv` and `measure` with their defaults, then a summary table (not `sync` or `load`).
    All,
}

fn print_summary(
    machine: &sys::Machine,
    lib: &zscore_lib::LibResult,
    csv: &zscore_csv::CsvResult,
    m: &measure::MeasureResult,
) {
    let verdict = |ok: bool| if ok { "met" } else { "NOT MET" };
    println!("== summary ==");
    machine.print();
    println!(
        "reproduce: CARGO_TARGET_DIR=/tmp/target-bench cargo build --release -p tumbuh-bench -p field-client"
    );
    println!(
        "           CARGO_TARGET_DIR=/tmp/target-bench cargo run --release -p tumbuh-bench -- all"
    );
    println!();
    println!("| benchmark | result | target | |");
    println!("|---|---|---|---|");
    println!(
        "| `growth::assess`, 1 core ({} inputs, median of {} passes) | {} z-scores/s ({} assessments/s × 4) | ≥ {} z-scores/s | {} |",
        sys::thousands(lib.inputs as f64),
        lib.passes,
        sys::thousands(lib.zscores_per_s()),
        sys::thousands(lib.assessments_per_s),
        sys::thousands(zscore_lib::TARGET_ZSCORES_PER_S),
        verdict(lib.zscores_per_s() >= zscore_lib::TARGET_ZSCORES_PER_S)
    );
    for (i, s) in csv.sizes.iter().enumerate() {
        let target = if i == 0 {
            let scaled = s.median_s() * 1_000_000.0 / s.rows as f64;
            format!(
                "≤ {} s per 1M rows | {} |",
                zscore_csv::TARGET_SECONDS_1M,
                verdict(scaled <= zscore_csv::TARGET_SECONDS_1M)
            )
        } else {
            "constant memory | |".to_string()
        };
        println!(
            "| `tumbuh zscore`, {} rows (median of {}) | {:.3} s ({} rows/s), peak RSS {:.1} MiB | {target}",
            sys::thousands(s.rows as f64),
            s.walls.len(),
            s.median_s(),
            sys::thousands(s.rows as f64 / s.median_s()),
            s.peak_rss_kib as f64 / 1024.0
        );
    }
    println!(
        "| `tumbuh measure`, {} children × {} measurements, {} runs ({}) | median {:.1} ms, p95 {:.1} ms, max {:.1} ms | ≤ {} ms | {} |",
        sys::thousands(m.children as f64),
        m.measurements_per_child,
        m.runs_ms.len(),
        m.fs,
        m.median_ms(),
        m.p95_ms(),
        m.max_ms(),
        measure::TARGET_MS,
        verdict(m.p95_ms() <= measure::TARGET_MS)
    );
    println!(
        "| process start floor, `tumbuh --version` | median {:.1} ms | | |",
        sys::median(&m.floor_ms)
    );
    println!();
    println!(
        "notes: {:.1} % of the library's main z-scores are non-blank on this data; \
         CSV in/out {:.1}/{:.1} MB at {} rows; measure store {:.1} MB, filled in {:.1} s (untimed).",
        100.0 * lib.computed_share,
        csv.sizes
            .first()
            .map_or(0.0, |s| s.input_bytes as f64 / 1e6),
        csv.sizes
            .first()
            .map_or(0.0, |s| s.output_bytes as f64 / 1e6),
        csv.sizes
            .first()
            .map_or_else(String::new, |s| sys::thousands(s.rows as f64)),
        m.db_bytes as f64 / 1e6,
        m.fill_s
    );
    println!(
        "peak memory measured with {}; temporary files on {}.",
        csv.method.describe(),
        csv.fs
    );
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let machine = sys::Machine::detect();
    machine.print();
    println!();
    let dir = cli.dir.as_deref();
    match cli.command {
        Cmd::ZscoreLib { inputs, passes } => {
            zscore_lib::run(inputs, passes, cli.seed)?;
        }
        Cmd::ZscoreCsv { rows, repeat } => {
            zscore_csv::run(rows, repeat, dir, cli.seed)?;
        }
        Cmd::Measure {
            children,
            runs,
            measurements,
            breakdown,
        } => {
            measure::run(children, runs, measurements, breakdown, dir, cli.seed)?;
        }
        Cmd::Sync(args) => {
            sync::run(&args, dir, cli.seed)?;
            println!(
                "reproduce: CARGO_TARGET_DIR=/tmp/target-bench cargo build --release -p tumbuh-bench -p tumbuh-server"
            );
            println!(
                "           CARGO_TARGET_DIR=/tmp/target-bench cargo run --release -p tumbuh-bench -- sync"
            );
        }
        Cmd::Load(args) => {
            load::run(&args, dir, cli.seed)?;
            println!(
                "reproduce: CARGO_TARGET_DIR=/tmp/target-bench cargo build --release -p tumbuh-bench -p tumbuh-server"
            );
            println!(
                "           CARGO_TARGET_DIR=/tmp/target-bench cargo run --release -p tumbuh-bench -- load"
            );
        }
        Cmd::Link(args) => {
            link::run(&args, dir)?;
        }
        Cmd::VervalSynthetic(args) => verval_synthetic::run(&args, dir)?,
        Cmd::All => {
            let lib = zscore_lib::run(1_000_000, 5, cli.seed)?;
            let csv = zscore_csv::run(1_000_000, 3, dir, cli.seed)?;
            let m = measure::run(5_000, 50, 4, 20, dir, cli.seed)?;
            print_summary(&machine, &lib, &csv, &m);
        }
    }
    Ok(())
}
