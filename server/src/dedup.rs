//! The server's dedup run: links every registration the server holds with
//! the same engine and thresholds as `tumbuh-server link`, then acts only
//! where something changed since the last run.
//!
//! Incremental: only pairs with a registration that is new or changed since
//! the last run are compared, scored and decided (blocking still runs over
//! every registration: it is near-linear and cheap). The weights need the
//! whole district (EM learns from the population's pairs, not from a
//! handful of new rows), so a full run estimates them and stores them; the
//! runs after it reuse them until the register has grown by a quarter, or
//! `--full` asks for a new estimate. A pair a person rejected or a merge a
//! person undid is never redone behind their back (those pairs are *kept
//! apart* for good).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::{Duration, Instant};

use linkage::compare::{LEVELS, MAX_LEVELS, N_FIELDS};
use linkage::{Increment, LinkConfig, Weights};
use serde::Serialize;
use sync_protocol::ChildId;

use crate::storage::{MergeDecision, NewReview, Storage, StorageError, pair_key};

/// The key of the stored weights in the server's meta table.
const WEIGHTS_KEY: &str = "link_weights";

/// A full estimate is redone once the register grew by this factor.
const REESTIMATE_GROWTH: f64 = 1.25;

/// The weights of the last full run and the register size they came from.
#[derive(Serialize, serde::Deserialize)]
struct StoredWeights {
    /// The number of levels per field the weights were estimated for:
    /// weights stored before a comparison gained a level (the NIK's
    /// two-digit typo) do not fit, and are estimated anew rather than read
    /// with shifted meanings.
    levels: [usize; N_FIELDS],
    m: [[f64; MAX_LEVELS]; N_FIELDS],
    u: [[f64; MAX_LEVELS]; N_FIELDS],
    prior: f64,
    registrations: usize,
}

/// What a dedup run did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct DedupReport {
    /// Registrations (children not merged) linked.
    pub registrations: usize,
    /// Whether the weights were estimated anew (a full run) rather than
    /// reused from the last full run.
    pub full: bool,
    /// Of which new or changed since the last run.
    pub changed: usize,
    pub candidate_pairs: usize,
    /// Merges made now.
    pub merged: usize,
    /// Measurements (or voids) that reached a merged registration after its
    /// merge, copied into the survivor now.
    pub caught_up: usize,
    /// Clusters left alone because a person kept two of them apart.
    pub kept_apart: usize,
    /// Pairs added to the review queue.
    pub review_added: usize,
    #[serde(serialize_with = "millis")]
    pub took: Duration,
}

fn millis<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u128(d.as_millis())
}

/// Links, merges automatically what the engine is sure of, and queues the
/// doubtful pairs. `who` goes to the audit log.
pub fn run(
    storage: &dyn Storage,
    who: &str,
    config: &LinkConfig,
    now_ms: i64,
) -> Result<DedupReport, StorageError> {
    run_with(storage, who, config, false, now_ms)
}

/// [`run`], with `full`: estimate the weights anew and compare every
/// blocked pair (decisions still only for what changed).
pub fn run_with(
    storage: &dyn Storage,
    who: &str,
    config: &LinkConfig,
    full: bool,
    now_ms: i64,
) -> Result<DedupReport, StorageError> {
    let started = Instant::now();
    let caught_up = storage.catch_up_merges(now_ms)?;
    // The run reads the projection: it must include every change so far.
    storage.project_all()?;
    let inputs = storage.link_inputs()?;
    let mut report = DedupReport {
        caught_up,
        changed: inputs.changed.len(),
        ..DedupReport::default()
    };
    if inputs.records.is_empty() || inputs.changed.is_empty() {
        storage.mark_linked(&inputs.changed)?;
        report.took = started.elapsed();
        return Ok(report);
    }
    let changed_children: HashSet<&str> = inputs.changed.iter().map(|(c, _)| c.as_str()).collect();
    let changed_rows: Vec<bool> = inputs
        .child_of_record
        .iter()
        .map(|c| changed_children.contains(c.as_str()))
        .collect();
    let stored: Option<StoredWeights> = storage
        .meta(WEIGHTS_KEY)?
        .and_then(|bytes| serde_json::from_slice(&bytes).ok());
    let registrations_now = inputs.child_of_record.iter().collect::<HashSet<_>>().len();
    let reuse = stored.filter(|w| {
        !full
            && w.levels == LEVELS
            && (registrations_now as f64) <= (w.registrations as f64) * REESTIMATE_GROWTH
    });
    let weights = reuse.as_ref().map(|w| Weights {
        m: w.m,
        u: w.u,
        prior: w.prior,
    });
    report.full = weights.is_none();
    let linkage = linkage::link_increment(
        &inputs.records,
        config,
        Increment {
            changed: Some(&changed_rows),
            weights: weights.as_ref(),
        },
    );
    if report.full {
        let w = &linkage.weights;
        let stored = StoredWeights {
            levels: LEVELS,
            m: w.m,
            u: w.u,
            prior: w.prior,
            registrations: registrations_now,
        };
        if let Ok(bytes) = serde_json::to_vec(&stored) {
            storage.set_meta(WEIGHTS_KEY, &bytes)?;
        }
    }
    report.candidate_pairs = linkage.candidate_pairs;
    let child_of = |row: usize| inputs.child_of_record[row].as_str();
    let changed: HashSet<&str> = inputs.changed.iter().map(|(c, _)| c.as_str()).collect();
    let kept_apart: HashSet<(String, String)> = storage.kept_apart()?.into_iter().collect();
    let apart = |a: &str, b: &str| kept_apart.contains(&pair_key(a, b));

    // Children per cluster, with what decides the survivor.
    struct Member {
        latest: Option<chrono::NaiveDate>,
        rows: usize,
    }
    let mut clusters: BTreeMap<usize, BTreeMap<&str, Member>> = BTreeMap::new();
    for (row, &cluster) in linkage.cluster_of_row.iter().enumerate() {
        let m = clusters
            .entry(cluster)
            .or_default()
            .entry(child_of(row))
            .or_insert(Member {
                latest: None,
                rows: 0,
            });
        m.rows += 1;
        m.latest = m.latest.max(inputs.records[row].measured_on);
    }
    report.registrations = clusters.values().map(BTreeMap::len).sum();
    let active_merges = storage.merges(true)?;
    let survivors: HashSet<String> = active_merges.iter().map(|m| m.survivor.clone()).collect();
    // Where each merged-away registration lives now (merges do not chain,
    // so one step reaches the survivor).
    let mut merged_into: HashMap<String, String> = active_merges
        .into_iter()
        .map(|m| (m.duplicate, m.survivor))
        .collect();

    // The evidence of the pairs that joined each child to its cluster.
    let mut evidence: HashMap<&str, (f64, String)> = HashMap::new();
    for pair in &linkage.merges {
        for child in [child_of(pair.row_a), child_of(pair.row_b)] {
            evidence
                .entry(child)
                .or_insert((pair.probability, pair.evidence.clone()));
        }
    }

    let mut reviews = Vec::new();
    let mut merges = Vec::new();
    for members in clusters.values() {
        if members.len() < 2 || !members.keys().any(|c| changed.contains(c)) {
            continue;
        }
        let ids: Vec<&str> = members.keys().copied().collect();
        if ids
            .iter()
            .enumerate()
            .any(|(i, a)| ids[i + 1..].iter().any(|b| apart(a, b)))
        {
            report.kept_apart += 1;
            continue;
        }
        // Survivor: a child others were merged into already, then the one
        // measured most recently (the child's current posyandu), then the
        // one with most rows, then the smallest id.
        let Some(survivor) = ids.iter().copied().max_by(|a, b| {
            let (ma, mb) = (&members[a], &members[b]);
            survivors
                .contains(*a)
                .cmp(&survivors.contains(*b))
                .then(ma.latest.cmp(&mb.latest))
                .then(ma.rows.cmp(&mb.rows))
                .then(b.cmp(a))
        }) else {
            continue;
        };
        let Ok(survivor_id) = survivor.parse::<ChildId>() else {
            continue;
        };
        for &dup in ids.iter().filter(|&&c| c != survivor) {
            let (score, why) = evidence.get(dup).cloned().unwrap_or((
                config.auto_merge_probability,
                "linked through its cluster".into(),
            ));
            if survivors.contains(dup) {
                // Two clusters of earlier merges meet: a person decides.
                reviews.push(NewReview {
                    child_a: survivor.to_owned(),
                    child_b: dup.to_owned(),
                    score,
                    evidence: format!("{why}; both already hold merged registrations"),
                });
                continue;
            }
            let Ok(dup_id) = dup.parse::<ChildId>() else {
                continue;
            };
            merges.push((
                survivor_id,
                dup_id,
                MergeDecision {
                    who: who.to_owned(),
                    source: "auto",
                    score: Some(score),
                    evidence: why,
                },
            ));
        }
    }
    let mut touched = Vec::new();
    for outcome in storage.merge_many(&merges, now_ms)? {
        match outcome {
            Ok(m) => {
                report.merged += 1;
                merged_into.insert(m.duplicate.clone(), m.survivor.clone());
                touched.push(m.survivor);
                touched.push(m.duplicate);
            }
            // Changed under us (a person merged it meanwhile): next run.
            Err(reason) => tracing::info!(%reason, "dedup: merge skipped"),
        }
    }
    // A doubtful pair names the children that stand for the two sides: a
    // registration merged away (earlier, or by this run) is represented by
    // its survivor, so that the pair can be decided (a merge never chains)
    // and one side merged into the other is no pair at all.
    let standing =
        |c: &str| -> String { merged_into.get(c).cloned().unwrap_or_else(|| c.to_owned()) };
    for pair in &linkage.review {
        let (a, b) = (child_of(pair.row_a), child_of(pair.row_b));
        if a == b || !(changed.contains(a) || changed.contains(b)) {
            continue;
        }
        let (a, b) = (standing(a), standing(b));
        if a == b || apart(&a, &b) {
            continue;
        }
        reviews.push(NewReview {
            child_a: a,
            child_b: b,
            score: pair.probability,
            evidence: pair.evidence.clone(),
        });
    }
    report.review_added = storage.add_reviews(&reviews, who, now_ms)?;
    storage.mark_linked(&inputs.changed)?;
    // The merges just made changed both sides; that is this run's own
    // doing, not news for the next run.
    if !touched.is_empty() {
        storage.project_all()?;
        storage.mark_linked_as_projected(&touched)?;
    }
    report.took = started.elapsed();
    tracing::info!(
        registrations = report.registrations,
        changed = report.changed,
        merged = report.merged,
        review_added = report.review_added,
        "dedup run done"
    );
    Ok(report)
}
