//! A prevalence with its 95% Wilson score interval.
//!
//! Posyandu and desa denominators are small (often 10–60 children), where the
//! textbook p ± 1.96·√(p(1−p)/n) interval goes below 0 and collapses to a
//! point at 0% or 100%. The Wilson score interval stays inside [0, 1] and
//! keeps a sensible width at the extremes, which is what a district needs to
//! avoid over-reading a small posyandu's 0 of 12.

use serde::{Deserialize, Serialize};

/// The two-sided 95% normal quantile.
pub const Z95: f64 = 1.959964;

/// `cases / denominator` with a 95% Wilson score interval (all as proportions, 0–1).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Rate {
    pub cases: usize,
    pub denominator: usize,
    pub value: f64,
    pub low: f64,
    pub high: f64,
}

impl Rate {
    /// `None` when `denominator` is 0 (no proportion to speak of) or `cases > denominator`.
    #[must_use]
    pub fn wilson(cases: usize, denominator: usize) -> Option<Rate> {
        if denominator == 0 || cases > denominator {
            return None;
        }
        let n = denominator as f64;
        let p = cases as f64 / n;
        let z2 = Z95 * Z95;
        let scale = 1.0 + z2 / n;
        let centre = (p + z2 / (2.0 * n)) / scale;
        let half = Z95 * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt() / scale;
        Some(Rate {
            cases,
            denominator,
            value: p,
            low: (centre - half).max(0.0),
            high: (centre + half).min(1.0),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reference values: the Wilson interval as given by R's
    /// `prop.test(x, n, correct = FALSE)$conf.int` / `binom::binom.wilson`.
    fn check(cases: usize, n: usize, low: f64, high: f64) {
        let r = Rate::wilson(cases, n).expect("n > 0");
        assert!(
            (r.low - low).abs() < 5e-5,
            "{cases}/{n}: low {} vs {low}",
            r.low
        );
        assert!(
            (r.high - high).abs() < 5e-5,
            "{cases}/{n}: high {} vs {high}",
            r.high
        );
        assert!((r.value - cases as f64 / n as f64).abs() < 1e-12);
    }

    #[test]
    fn wilson_matches_known_intervals() {
        check(10, 100, 0.0552, 0.1744);
        check(0, 20, 0.0, 0.1611);
        check(20, 20, 0.8389, 1.0);
        check(1, 2, 0.0945, 0.9055);
        check(5, 10, 0.2366, 0.7634);
    }

    #[test]
    fn wilson_has_no_proportion_without_children() {
        assert_eq!(Rate::wilson(0, 0), None);
        assert_eq!(Rate::wilson(3, 2), None);
    }
}
