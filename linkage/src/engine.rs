//! The batch record-linkage engine: field rows in, a child cluster per row
//! and a review queue of doubtful pairs out.
//!
//! Steps: collapse identical identity fields into registrations
//! ([`crate::record`]); block ([`crate::blocking`]); compare
//! ([`crate::compare`]); estimate Fellegi–Sunter weights by EM and score
//! ([`crate::scoring`]); merge in descending score under hard constraints
//! ([`crate::cluster`]). Pairs between the review and auto-merge
//! thresholds, and likely pairs refused by a constraint, go to review.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;

use crate::blocking::candidate_pairs;
use crate::cluster::Clusters;
use crate::compare::{
    Comparison, Conflict, FIELDS, LEVEL_NAMES, MAX_LEVELS, N_FIELDS, compare, compare_pairs,
    growth_violations, hard_conflict, needs_a_person,
};
use crate::record::{FieldRecord, Registration, collapse};
use crate::scoring::{Weights, estimate, estimate_u};

/// Thresholds and effort of a linkage run.
#[derive(Debug, Clone, PartialEq)]
pub struct LinkConfig {
    /// Match probability at or above which a pair is merged automatically.
    pub auto_merge_probability: f64,
    /// Match probability at or above which an unmerged pair is reviewed.
    pub review_probability: f64,
    /// EM iterations.
    pub em_rounds: usize,
    /// Random registration pairs drawn to estimate u-probabilities.
    pub random_pairs: usize,
    /// Log2 weight subtracted per implausible growth step (at most two).
    pub growth_penalty: f64,
}

impl Default for LinkConfig {
    fn default() -> LinkConfig {
        LinkConfig {
            auto_merge_probability: 0.99,
            review_probability: 0.5,
            em_rounds: 30,
            random_pairs: 50_000,
            growth_penalty: 4.0,
        }
    }
}

/// A doubtful pair for a person to decide.
#[derive(Debug, Clone, PartialEq)]
pub struct ReviewPair {
    /// Row index (into the input) of a row of the first registration.
    pub row_a: usize,
    /// Row index of a row of the second registration.
    pub row_b: usize,
    /// Match probability (0..=1).
    pub probability: f64,
    /// Field levels with their weights, and any refusal reason.
    pub evidence: String,
}

/// The result of [`link`].
#[derive(Debug, Clone)]
pub struct Linkage {
    /// Cluster (child) number per input row, numbered from 0 in order of
    /// first appearance.
    pub cluster_of_row: Vec<usize>,
    /// Number of clusters.
    pub clusters: usize,
    /// Number of registrations (distinct identity tuples).
    pub registrations: usize,
    /// Pairs compared after blocking.
    pub candidate_pairs: usize,
    /// Pairs merged automatically.
    pub auto_merged: usize,
    /// The pairs whose merge joined two clusters, with their evidence (in
    /// the order they were merged): what an audit log of the decisions needs.
    pub merges: Vec<ReviewPair>,
    /// Pairs left for review.
    pub review: Vec<ReviewPair>,
    /// The estimated weights.
    pub weights: Weights,
}

/// Deterministic pseudo-random pairs of distinct registrations.
fn random_pairs(n: usize, count: usize) -> Vec<(usize, usize)> {
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut out = Vec::with_capacity(count);
    if n < 2 {
        return out;
    }
    while out.len() < count {
        let a = (next() % n as u64) as usize;
        let b = (next() % n as u64) as usize;
        if a != b {
            out.push((a, b));
        }
    }
    out
}

struct Scorer<'a> {
    regs: &'a [Registration],
    weights: &'a Weights,
    /// `weights.level_weights()`, so scoring a pair takes no logarithms.
    table: [[f64; MAX_LEVELS]; N_FIELDS],
    config: &'a LinkConfig,
}

impl Scorer<'_> {
    fn log_odds(&self, a: usize, b: usize, c: &Comparison) -> f64 {
        let growth = growth_violations(&self.regs[a], &self.regs[b]).min(2);
        self.weights.prior_log_odds() + Weights::score_with(&self.table, c)
            - self.config.growth_penalty * f64::from(growth)
    }

    fn evidence(&self, a: usize, b: usize, c: &Comparison) -> String {
        let mut s = String::new();
        for (f, name) in FIELDS.iter().enumerate().take(N_FIELDS) {
            let l = c.levels[f];
            if l == 0 {
                continue;
            }
            let level = LEVEL_NAMES[f].get(l as usize).copied().unwrap_or("?");
            let _ = write!(
                s,
                "{name}={level}({:+.1}) ",
                self.weights.level_weight(f, l)
            );
        }
        let g = growth_violations(&self.regs[a], &self.regs[b]);
        if g > 0 {
            let _ = write!(s, "growth-implausible={g} ");
        }
        s.trim_end().to_owned()
    }
}

fn probability(log_odds: f64) -> f64 {
    1.0 / (1.0 + (-log_odds).exp2())
}

/// What an incremental run may skip: which rows are new or changed since
/// the last run, and the weights that run estimated.
#[derive(Debug, Clone, Copy, Default)]
pub struct Increment<'a> {
    /// Per input row: new or changed. Only pairs with at least one
    /// registration holding such a row are compared and decided.
    pub changed: Option<&'a [bool]>,
    /// Weights to score with instead of estimating them again (EM needs
    /// the whole population's pairs, so an increment reuses the last
    /// full run's).
    pub weights: Option<&'a Weights>,
}

/// Links field rows into children.
pub fn link(records: &[FieldRecord], config: &LinkConfig) -> Linkage {
    link_increment(records, config, Increment::default())
}

/// Links field rows into children, comparing only the pairs an increment
/// touches when `increment` says which rows changed. Blocking still runs
/// over every registration (it is near-linear); comparisons, scoring and
/// clustering only over pairs with a changed registration. Without
/// `increment.weights`, the weights are estimated from every blocked pair
/// first, as [`link`] does.
pub fn link_increment(
    records: &[FieldRecord],
    config: &LinkConfig,
    increment: Increment<'_>,
) -> Linkage {
    let (regs, reg_of_row) = collapse(records);
    let n = regs.len();
    let all_pairs = candidate_pairs(&regs);
    let touched: Option<Vec<bool>> = increment.changed.map(|changed| {
        regs.iter()
            .map(|r| {
                r.rows
                    .iter()
                    .any(|&row| changed.get(row).copied().unwrap_or(true))
            })
            .collect()
    });
    let keep = |&(a, b): &(u32, u32)| {
        touched
            .as_ref()
            .is_none_or(|t| t[a as usize] || t[b as usize])
    };
    let (pairs, comparisons, weights) = match increment.weights {
        Some(w) if touched.is_some() => {
            let pairs: Vec<(u32, u32)> = all_pairs.into_iter().filter(keep).collect();
            let comparisons = compare_pairs(&regs, &pairs);
            (pairs, comparisons, w.clone())
        }
        _ => {
            let comparisons = compare_pairs(&regs, &all_pairs);
            let random_regs: Vec<(u32, u32)> =
                random_pairs(n, config.random_pairs.min(n * n.saturating_sub(1) / 2))
                    .into_iter()
                    .map(|(a, b)| (a as u32, b as u32))
                    .collect();
            let random = compare_pairs(&regs, &random_regs);
            let weights = estimate(&comparisons, estimate_u(&random), config.em_rounds);
            if touched.is_some() {
                let (pairs, comparisons) = all_pairs
                    .into_iter()
                    .zip(comparisons)
                    .filter(|(p, _)| keep(p))
                    .unzip();
                (pairs, comparisons, weights)
            } else {
                (all_pairs, comparisons, weights)
            }
        }
    };
    let scorer = Scorer {
        regs: &regs,
        weights: &weights,
        table: weights.level_weights(),
        config,
    };

    let mut scored: Vec<(f64, usize)> = pairs
        .iter()
        .zip(&comparisons)
        .enumerate()
        .map(|(i, (&(a, b), c))| (scorer.log_odds(a as usize, b as usize, c), i))
        .collect();
    scored.sort_by(|x, y| y.0.total_cmp(&x.0).then(x.1.cmp(&y.1)));
    let known: HashMap<(usize, usize), usize> = pairs
        .iter()
        .enumerate()
        .map(|(i, &(a, b))| ((a as usize, b as usize), i))
        .collect();

    let auto = (config.auto_merge_probability / (1.0 - config.auto_merge_probability)).log2();
    let review = (config.review_probability / (1.0 - config.review_probability)).log2();
    let mut clusters = Clusters::new(n);
    let mut auto_merged = 0;
    let mut merges = Vec::new();
    let mut review_pairs = Vec::new();
    // Cluster pairs already in the review queue: one review per pair of
    // clusters (the best-scoring pair shows it).
    let mut reviewed = HashSet::new();
    for &(s, i) in &scored {
        if s < auto {
            break;
        }
        let (a, b) = (pairs[i].0 as usize, pairs[i].1 as usize);
        let (ra, rb) = (clusters.find(a), clusters.find(b));
        if ra == rb {
            continue;
        }
        let mut refusal = None;
        let mut total = 0.0;
        let mut count = 0usize;
        'cross: for &x in clusters.members(ra) {
            for &y in clusters.members(rb) {
                let key = (x.min(y), x.max(y));
                let c = match known.get(&key) {
                    Some(&k) => comparisons[k],
                    None => compare(&regs[key.0], &regs[key.1]),
                };
                if let Some(conflict) = hard_conflict(&regs[key.0], &regs[key.1], &c) {
                    refusal = Some(conflict);
                    break 'cross;
                }
                total += scorer.log_odds(key.0, key.1, &c);
                count += 1;
            }
        }
        let disagree = count > 0 && total / (count as f64) < review;
        let doubtful = needs_a_person(&comparisons[i]);
        let why = match (refusal, disagree || doubtful) {
            (None, false) => {
                clusters.union(ra, rb);
                auto_merged += 1;
                merges.push(ReviewPair {
                    row_a: regs[a].rows[0],
                    row_b: regs[b].rows[0],
                    probability: probability(s),
                    evidence: scorer.evidence(a, b, &comparisons[i]),
                });
                continue;
            }
            // Twins and siblings are certain non-matches: not for review.
            (Some(Conflict::SiblingNames | Conflict::SiblingBirthDates), _) => continue,
            (Some(c), _) => c.en(),
            (None, true) if disagree => "clusters disagree as a whole",
            (None, true) => "another mother and another birth date",
        };
        if reviewed.insert((ra.min(rb), ra.max(rb))) {
            review_pairs.push(ReviewPair {
                row_a: regs[a].rows[0],
                row_b: regs[b].rows[0],
                probability: probability(s),
                evidence: format!("{}; refused: {why}", scorer.evidence(a, b, &comparisons[i])),
            });
        }
    }
    for &(s, i) in &scored {
        if s >= auto {
            continue;
        }
        if s < review {
            break;
        }
        let (a, b) = (pairs[i].0 as usize, pairs[i].1 as usize);
        let (ra, rb) = (clusters.find(a), clusters.find(b));
        // One review per pair of clusters (the best-scoring pair shows it).
        if ra == rb || !reviewed.insert((ra.min(rb), ra.max(rb))) {
            continue;
        }
        if hard_conflict(&regs[a], &regs[b], &comparisons[i]).is_some() {
            continue;
        }
        review_pairs.push(ReviewPair {
            row_a: regs[a].rows[0],
            row_b: regs[b].rows[0],
            probability: probability(s),
            evidence: scorer.evidence(a, b, &comparisons[i]),
        });
    }

    let mut number: HashMap<usize, usize> = HashMap::new();
    let mut cluster_of_row = Vec::with_capacity(records.len());
    for &reg in &reg_of_row {
        let root = clusters.find(reg);
        let next = number.len();
        cluster_of_row.push(*number.entry(root).or_insert(next));
    }
    Linkage {
        clusters: number.len(),
        cluster_of_row,
        registrations: n,
        candidate_pairs: pairs.len(),
        auto_merged,
        merges,
        review: review_pairs,
        weights,
    }
}
