//! Blocking: which pairs of registrations are compared at all.
//!
//! Why several passes: any one key misses pairs whose key field was
//! mistyped (a misspelt name, a swapped birth date, a missing NIK), but a
//! duplicate registration rarely gets *every* key wrong. Each pass groups
//! registrations by one key and emits the pairs inside each group; the union
//! keeps nearly all true pairs while the work stays near-linear. Oversized
//! groups (a common name in a whole kecamatan) are skipped for that pass:
//! the other passes still cover them.

use std::collections::{HashMap, HashSet};

use chrono::Datelike;

use crate::compare::birth_level;
use crate::record::Registration;

/// Groups larger than this are skipped in a pass (quadratic cost, little
/// information).
pub const MAX_BLOCK: usize = 400;

type KeyFn = fn(&Registration) -> Option<String>;

fn nonempty(s: &str) -> Option<&str> {
    (!s.is_empty()).then_some(s)
}

/// The blocking passes: each maps a registration to a key (or none).
const PASSES: &[(&str, KeyFn)] = &[
    ("name+birth-year", |r| {
        Some(format!("{}|{}", nonempty(&r.name_key)?, r.birth?.year()))
    }),
    ("first-name+mother", |r| {
        Some(format!(
            "{}|{}",
            nonempty(&r.first_key)?,
            nonempty(&r.mother_first_key)?
        ))
    }),
    ("mother+desa", |r| {
        Some(format!(
            "{}|{}",
            nonempty(&r.mother_key)?,
            nonempty(&r.desa)?
        ))
    }),
    ("mother+birth-year", |r| {
        Some(format!(
            "{}|{}",
            nonempty(&r.mother_first_key)?,
            r.birth?.year()
        ))
    }),
    ("nik", |r| r.nik.as_ref().map(|n| n.as_str().to_owned())),
    ("nik-date-part", |r| {
        // Region + birth date: catches a typo in the serial.
        r.nik
            .as_ref()
            .map(|n| format!("{}{}", n.region(), n.date_part()))
    }),
    ("no-kk", |r| r.kk.clone()),
    ("mother-nik", |r| {
        r.mother_nik.as_ref().map(|n| n.as_str().to_owned())
    }),
    ("birth-date+sex+kecamatan", |r| {
        Some(format!(
            "{}|{:?}|{}",
            r.birth?,
            r.sex?,
            nonempty(r.kecamatan())?
        ))
    }),
    ("birth-day-month-any-order+first-name", |r| {
        let b = r.birth?;
        let (lo, hi) = (b.day().min(b.month()), b.day().max(b.month()));
        Some(format!(
            "{}|{lo}-{hi}|{}",
            b.year(),
            nonempty(&r.first_key)?
        ))
    }),
    ("first-name+desa", |r| {
        Some(format!(
            "{}|{}",
            nonempty(&r.first_key)?,
            nonempty(&r.desa)?
        ))
    }),
    ("placeholder-mother+birth-month", |r| {
        // A newborn placeholder and its later name share mother and birth.
        let b = r.birth?;
        Some(format!(
            "{}|{}-{}",
            nonempty(&r.mother_first_key)?,
            b.year(),
            b.month()
        ))
    }),
];

/// Passes whose key holds neither an area nor an identity number nor a full
/// birth date: their groups grow with the whole district (a common first
/// name with a common mother's name), quadratically in pairs. In their
/// groups larger than [`FILTER_FROM`] only pairs whose birth dates could be
/// the same child's are kept ([`birth_compatible`]); smaller groups (all
/// of them on a set of a few thousand children) keep every pair, so the
/// EM sees the same mix of pairs there as before.
const NAME_ONLY_PASSES: &[&str] = &["name+birth-year", "first-name+mother", "mother+birth-year"];

/// Group size from which [`NAME_ONLY_PASSES`] filter by birth date.
pub const FILTER_FROM: usize = 50;

/// Birth dates that allow the same child: either missing, or equal up to a
/// typical entry error, a year-only date or two months (birth level ≤ 3).
/// Pairs whose dates are simply different score low on the birth date and
/// are found by the identity-number and area passes when they are matches.
fn birth_compatible(a: &Registration, b: &Registration) -> bool {
    birth_level(a.birth, b.birth) <= 3
}

/// Candidate pairs `(i, j)` with `i < j`, sorted, without repeats.
pub(crate) fn candidate_pairs(regs: &[Registration]) -> Vec<(u32, u32)> {
    let mut seen: HashSet<(u32, u32)> = HashSet::new();
    for (name, key) in PASSES {
        let name_only = NAME_ONLY_PASSES.contains(name);
        let mut groups: HashMap<String, Vec<u32>> = HashMap::new();
        for (i, r) in regs.iter().enumerate() {
            if let Some(k) = key(r) {
                groups.entry(k).or_default().push(i as u32);
            }
        }
        for members in groups.values() {
            if members.len() < 2 || members.len() > MAX_BLOCK {
                continue;
            }
            let filter = name_only && members.len() > FILTER_FROM;
            for (x, &a) in members.iter().enumerate() {
                for &b in &members[x + 1..] {
                    if filter && !birth_compatible(&regs[a as usize], &regs[b as usize]) {
                        continue;
                    }
                    seen.insert((a.min(b), a.max(b)));
                }
            }
        }
    }
    let mut pairs: Vec<_> = seen.into_iter().collect();
    pairs.sort_unstable();
    pairs
}
