//! `zscore-lib`: `growth::assess` throughput on one core.

use std::hint::black_box;
use std::time::{Duration, Instant};

use crate::data;
use crate::sys::{median, thousands};

/// Target: z-scores per second on one core.
pub const TARGET_ZSCORES_PER_S: f64 = 5_000_000.0;

/// Main z-scores per assessment: HAZ, WAZ, WHZ, BMIZ.
const MAIN_Z_PER_ASSESSMENT: f64 = 4.0;

#[derive(Debug, Clone)]
pub struct LibResult {
    pub inputs: usize,
    pub passes: usize,
    /// Assessments per second, median pass.
    pub assessments_per_s: f64,
    /// Assessments per second, fastest pass.
    pub best_assessments_per_s: f64,
    /// Share of the 4·n main z-scores that are not blank in this data.
    pub computed_share: f64,
}

impl LibResult {
    pub fn zscores_per_s(&self) -> f64 {
        self.assessments_per_s * MAIN_Z_PER_ASSESSMENT
    }
}

pub fn run(n: usize, passes: usize, seed: u64) -> anyhow::Result<LibResult> {
    anyhow::ensure!(
        n > 0 && passes > 0,
        "--inputs and --passes must be at least 1"
    );
    println!("== zscore-lib: growth::assess on one core ==");
    let t = Instant::now();
    let inputs: Vec<growth::Input> = data::cases(seed, n);
    println!(
        "generated {} inputs in {:.2} s (not timed); seed {seed}",
        thousands(n as f64),
        t.elapsed().as_secs_f64()
    );

    // What the data exercises (untimed): how many main z-scores are not blank.
    let mut computed = 0u64;
    let mut who2007 = 0u64;
    for input in &inputs {
        let a = growth::assess(input);
        computed += [a.haz, a.waz, a.whz, a.bmiz]
            .iter()
            .filter(|z| z.is_some())
            .count() as u64;
        who2007 += u64::from(a.standard == growth::Standard::Who2007);
    }
    let computed_share = computed as f64 / (MAIN_Z_PER_ASSESSMENT * n as f64);

    // One warm-up pass, then the timed passes.
    let mut times = Vec::with_capacity(passes);
    for pass in 0..=passes {
        let start = Instant::now();
        for input in &inputs {
            black_box(growth::assess(black_box(input)));
        }
        let elapsed = start.elapsed();
        if pass > 0 {
            times.push(elapsed);
        }
    }
    let secs: Vec<f64> = {
        let mut v: Vec<f64> = times.iter().map(Duration::as_secs_f64).collect();
        v.sort_by(f64::total_cmp);
        v
    };
    let median_s = median(&secs);
    let best_s = secs.first().copied().unwrap_or(f64::NAN);
    let r = LibResult {
        inputs: n,
        passes,
        assessments_per_s: n as f64 / median_s,
        best_assessments_per_s: n as f64 / best_s,
        computed_share,
    };
    println!(
        "data: {:.1} % WHO 2007 ages; {:.1} % of the 4 main z-scores are non-blank (missing values, oedema, out of WHZ range, WAZ > 10 y)",
        100.0 * who2007 as f64 / n as f64,
        100.0 * computed_share
    );
    println!(
        "passes: {} × {} inputs, median {:.1} ms, best {:.1} ms ({:.1} ns per assessment)",
        passes,
        thousands(n as f64),
        median_s * 1e3,
        best_s * 1e3,
        median_s * 1e9 / n as f64
    );
    println!(
        "assessments/s (median pass): {}   (best pass: {})",
        thousands(r.assessments_per_s),
        thousands(r.best_assessments_per_s)
    );
    println!(
        "z-scores/s = 4 × assessments/s (HAZ, WAZ, WHZ, BMIZ): {}   target ≥ {} → {}",
        thousands(r.zscores_per_s()),
        thousands(TARGET_ZSCORES_PER_S),
        if r.zscores_per_s() >= TARGET_ZSCORES_PER_S {
            "MET"
        } else {
            "NOT MET"
        }
    );
    println!(
        "non-blank z-scores/s actually produced on this data: {}",
        thousands(r.zscores_per_s() * computed_share)
    );
    println!();
    Ok(r)
}
