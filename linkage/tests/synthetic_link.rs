//! Runs the linkage engine on the synthetic development set and checks
//! pairwise precision/recall against its ground truth and that no twin pair
//! is merged. The thresholds sit a little below what the engine achieves so
//! that a differently drawn set does not make the test flaky.

use std::collections::{HashMap, HashSet};

use linkage::{Increment, LinkConfig, link, link_increment};

mod common;

use common::{field_records, rows};

#[test]
fn links_the_synthetic_set() {
    let f = |r: &HashMap<String, String>, k: &str| r.get(k).cloned().unwrap_or_default();
    let records = field_records();
    let linkage = link(&records, &LinkConfig::default());

    let truth: HashMap<String, String> = rows("truth.csv")
        .into_iter()
        .map(|r| (f(&r, "record_id"), f(&r, "child_id")))
        .collect();
    let child: Vec<&str> = records
        .iter()
        .map(|r| truth[&r.record_id].as_str())
        .collect();
    let cluster = &linkage.cluster_of_row;

    let mut cell: HashMap<(&str, usize), u64> = HashMap::new();
    let mut per_child: HashMap<&str, u64> = HashMap::new();
    let mut per_cluster: HashMap<usize, u64> = HashMap::new();
    for (c, k) in child.iter().zip(cluster) {
        *cell.entry((c, *k)).or_default() += 1;
        *per_child.entry(c).or_default() += 1;
        *per_cluster.entry(*k).or_default() += 1;
    }
    let pairs = |n: &u64| n * n.saturating_sub(1) / 2;
    let tp: u64 = cell.values().map(pairs).sum();
    let precision = tp as f64 / per_cluster.values().map(pairs).sum::<u64>() as f64;
    let recall = tp as f64 / per_child.values().map(pairs).sum::<u64>() as f64;
    assert!(precision >= 0.99, "pairwise precision {precision:.4}");
    assert!(recall >= 0.975, "pairwise recall {recall:.4}");

    // Twins: children_truth.csv names the other twin in `twin_of`.
    let clusters_of: HashMap<&str, HashSet<usize>> =
        child
            .iter()
            .zip(cluster)
            .fold(HashMap::new(), |mut m, (c, k)| {
                m.entry(*c).or_insert_with(HashSet::new).insert(*k);
                m
            });
    let children = rows("children_truth.csv");
    let mut twin_pairs = 0;
    for c in &children {
        let (id, twin) = (f(c, "child_id"), f(c, "twin_of"));
        if twin.is_empty() {
            continue;
        }
        twin_pairs += 1;
        if let (Some(a), Some(b)) = (clusters_of.get(id.as_str()), clusters_of.get(twin.as_str())) {
            assert!(a.is_disjoint(b), "twins {id} and {twin} merged");
        }
    }
    assert!(twin_pairs > 0, "the set has twins");
}

#[test]
fn an_increment_compares_only_what_changed_and_decides_like_the_full_run() {
    let records = field_records();
    let config = LinkConfig::default();
    let full = link(&records, &config);

    // Everything changed, the full run's weights: exactly the full run.
    let all = vec![true; records.len()];
    let same = link_increment(
        &records,
        &config,
        Increment {
            changed: Some(&all),
            weights: Some(&full.weights),
        },
    );
    assert_eq!(same.cluster_of_row, full.cluster_of_row);
    assert_eq!(same.candidate_pairs, full.candidate_pairs);

    // One row in sixteen is new (its record id starts with 0): far fewer
    // pairs compared, and the rows it puts together are the ones the full
    // run puts together.
    let fresh: Vec<bool> = records
        .iter()
        .map(|r| r.record_id.starts_with('0'))
        .collect();
    let inc = link_increment(
        &records,
        &config,
        Increment {
            changed: Some(&fresh),
            weights: Some(&full.weights),
        },
    );
    eprintln!(
        "increment: {} of {} pairs compared",
        inc.candidate_pairs, full.candidate_pairs
    );
    assert!(
        inc.candidate_pairs * 2 < full.candidate_pairs,
        "{} of {} pairs",
        inc.candidate_pairs,
        full.candidate_pairs
    );
    let mut together = 0u64;
    let mut agree = 0u64;
    let mut by_cluster: HashMap<usize, Vec<usize>> = HashMap::new();
    for (row, &c) in inc.cluster_of_row.iter().enumerate() {
        by_cluster.entry(c).or_default().push(row);
    }
    for rows in by_cluster.values() {
        for (i, &a) in rows.iter().enumerate() {
            for &b in &rows[i + 1..] {
                together += 1;
                agree += u64::from(full.cluster_of_row[a] == full.cluster_of_row[b]);
            }
        }
    }
    assert!(together > 0);
    assert!(
        agree as f64 >= 0.995 * together as f64,
        "{agree} of {together} pairs agree with the full run"
    );
}
