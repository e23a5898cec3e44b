//! Fellegi–Sunter scoring with weights estimated from the data.
//!
//! Why estimated: error rates differ between districts and years, so the
//! m-probabilities (how often a true duplicate shows a level) are learnt by
//! EM over the blocked pairs, and the u-probabilities (how often two
//! different children show it by chance) from pairs drawn at random, which
//! are almost all non-matches. Keeping u fixed during EM stops the latent
//! class drifting from "same child" to "same family" (siblings agree on
//! mother, KK and address too).

use crate::compare::{Comparison, LEVELS, MAX_LEVELS, N_FIELDS};

/// Smallest probability kept, so no level has an infinite weight.
const FLOOR: f64 = 1e-4;

/// Estimated per-level weights (log2 m/u) and the match prior.
#[derive(Debug, Clone, PartialEq)]
pub struct Weights {
    /// `m[field][level]`: P(level | same child).
    pub m: [[f64; MAX_LEVELS]; N_FIELDS],
    /// `u[field][level]`: P(level | different children).
    pub u: [[f64; MAX_LEVELS]; N_FIELDS],
    /// Share of blocked pairs that are matches.
    pub prior: f64,
}

fn normalise(row: &mut [f64; MAX_LEVELS], n: usize) {
    let total: f64 = row[1..n].iter().sum();
    for v in row[1..n].iter_mut() {
        *v = if total > 0.0 {
            (*v / total).max(FLOOR)
        } else {
            1.0 / (n - 1) as f64
        };
    }
}

/// u-probabilities from comparisons of random pairs (Laplace-smoothed).
pub(crate) fn estimate_u(random: &[Comparison]) -> [[f64; MAX_LEVELS]; N_FIELDS] {
    let mut u = [[0.0; MAX_LEVELS]; N_FIELDS];
    for c in random {
        for f in 0..N_FIELDS {
            u[f][c.levels[f] as usize] += 1.0;
        }
    }
    for f in 0..N_FIELDS {
        for v in u[f][1..LEVELS[f]].iter_mut() {
            *v += 0.5;
        }
        normalise(&mut u[f], LEVELS[f]);
    }
    u
}

impl Weights {
    /// The match weight (log2 likelihood ratio) of one level.
    pub fn level_weight(&self, field: usize, level: u8) -> f64 {
        if level == 0 {
            return 0.0;
        }
        let l = level as usize;
        (self.m[field][l] / self.u[field][l]).log2()
    }

    /// The total match weight of a comparison (without the prior).
    pub fn score(&self, c: &Comparison) -> f64 {
        (0..N_FIELDS)
            .map(|f| self.level_weight(f, c.levels[f]))
            .sum()
    }

    /// [`Weights::level_weight`] of every field and level, for scoring many
    /// comparisons: `table[f][l]` is exactly `level_weight(f, l)`.
    pub fn level_weights(&self) -> [[f64; MAX_LEVELS]; N_FIELDS] {
        let mut t = [[0.0; MAX_LEVELS]; N_FIELDS];
        for (f, row) in t.iter_mut().enumerate() {
            for (l, v) in row.iter_mut().enumerate() {
                *v = self.level_weight(f, l as u8);
            }
        }
        t
    }

    /// [`Weights::score`] with a table from [`Weights::level_weights`]
    /// (the same value, without the logarithms).
    pub fn score_with(table: &[[f64; MAX_LEVELS]; N_FIELDS], c: &Comparison) -> f64 {
        (0..N_FIELDS).map(|f| table[f][c.levels[f] as usize]).sum()
    }

    /// Prior log-odds of a match among blocked pairs.
    pub fn prior_log_odds(&self) -> f64 {
        (self.prior / (1.0 - self.prior)).log2()
    }
}

fn initial_m() -> [[f64; MAX_LEVELS]; N_FIELDS] {
    let mut m = [[0.0; MAX_LEVELS]; N_FIELDS];
    for f in 0..N_FIELDS {
        let n = LEVELS[f];
        for (l, v) in m[f].iter_mut().enumerate().take(n).skip(1) {
            // Level 1 is the best agreement; later levels get less mass.
            *v = 0.5f64.powi(l as i32 * 2);
        }
        normalise(&mut m[f], n);
    }
    m
}

/// The distinct level patterns of `pairs` and, per pair, its pattern: the
/// posterior of a pair depends on its levels only, so it is computed once
/// per pattern (the sums still run over the pairs in order, so the result
/// is the same to the last bit).
fn patterns(pairs: &[&Comparison]) -> (Vec<[u8; N_FIELDS]>, Vec<u32>) {
    let mut index: std::collections::HashMap<[u8; N_FIELDS], u32> =
        std::collections::HashMap::new();
    let mut distinct = Vec::new();
    let ids = pairs
        .iter()
        .map(|c| {
            *index.entry(c.levels).or_insert_with(|| {
                distinct.push(c.levels);
                (distinct.len() - 1) as u32
            })
        })
        .collect();
    (distinct, ids)
}

/// One EM session over `pairs`, updating m only for `fields` (the others
/// are left out of the posterior: they were used to select the pairs).
fn session(w: &mut Weights, pairs: &[&Comparison], fields: &[usize], rounds: usize) {
    let (distinct, ids) = patterns(pairs);
    let mut posterior = vec![0.0f64; distinct.len()];
    let mut prior: f64 = 0.5;
    for _ in 0..rounds {
        let mut acc = [[0.0; MAX_LEVELS]; N_FIELDS];
        let mut total = 0.0;
        let lo = (prior / (1.0 - prior)).log2();
        let table = w.level_weights();
        for (p, levels) in posterior.iter_mut().zip(&distinct) {
            let s = lo
                + fields
                    .iter()
                    .map(|&f| table[f][levels[f] as usize])
                    .sum::<f64>();
            *p = 1.0 / (1.0 + (-s).exp2());
        }
        for (c, &id) in pairs.iter().zip(&ids) {
            let p = posterior[id as usize];
            total += p;
            for &f in fields {
                acc[f][c.levels[f] as usize] += p;
            }
        }
        for &f in fields {
            for v in acc[f][1..LEVELS[f]].iter_mut() {
                *v += 0.01;
            }
            normalise(&mut acc[f], LEVELS[f]);
            w.m[f] = acc[f];
        }
        prior = (total / pairs.len().max(1) as f64).clamp(1e-4, 0.999);
    }
}

/// Estimates m by EM in two sessions, each on pairs selected by fields it
/// does not estimate (so the latent class stays "same child", not "same
/// family"): pairs whose child names and birth dates agree estimate the
/// family, NIK, sex and area fields; pairs with the same mother estimate the
/// child name, birth date, sex and NIK. Then the prior among all blocked
/// pairs is estimated with m and u fixed.
pub(crate) fn estimate(
    pairs: &[Comparison],
    u: [[f64; MAX_LEVELS]; N_FIELDS],
    rounds: usize,
) -> Weights {
    let mut w = Weights {
        m: initial_m(),
        u,
        prior: 0.1,
    };
    let same_name_birth: Vec<&Comparison> = pairs
        .iter()
        .filter(|c| matches!(c.levels[0], 1 | 2 | 3 | 6) && matches!(c.levels[1], 1 | 2))
        .collect();
    session(&mut w, &same_name_birth, &[2, 3, 4, 5, 6, 7, 8, 9], rounds);
    let same_mother: Vec<&Comparison> = pairs.iter().filter(|c| c.levels[3] == 1).collect();
    let mut child = w.clone();
    session(&mut child, &same_mother, &[0, 1, 2, 4], rounds);
    w.m[0] = child.m[0];
    w.m[1] = child.m[1];
    let all: Vec<&Comparison> = pairs.iter().collect();
    let (distinct, ids) = patterns(&all);
    drop(all);
    let mut posterior = vec![0.0f64; distinct.len()];
    for _ in 0..rounds {
        let lo = w.prior_log_odds();
        let table = w.level_weights();
        for (p, levels) in posterior.iter_mut().zip(&distinct) {
            let score: f64 = (0..N_FIELDS).map(|f| table[f][levels[f] as usize]).sum();
            *p = 1.0 / (1.0 + (-(lo + score)).exp2());
        }
        let total: f64 = ids.iter().map(|&id| posterior[id as usize]).sum();
        w.prior = (total / pairs.len().max(1) as f64).clamp(1e-4, 0.9);
    }
    w
}
