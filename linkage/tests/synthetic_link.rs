//! Runs the linkage engine on the synthetic development set and checks
//! pairwise precision/recall against its ground truth and that no twin pair
//! is merged. The thresholds sit a little below what the engine achieves so
//! that a differently drawn set does not make the test flaky.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

use chrono::NaiveDate;
use linkage::{FieldRecord, LinkConfig, Sex, link};

fn data(file: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/synthetic")
        .join(file)
}

fn rows(file: &str) -> Vec<HashMap<String, String>> {
    let mut r = csv::Reader::from_path(data(file)).expect("synthetic data present");
    let header: Vec<String> = r
        .headers()
        .expect("header")
        .iter()
        .map(str::to_owned)
        .collect();
    r.records()
        .map(|rec| {
            let rec = rec.expect("valid csv");
            header
                .iter()
                .cloned()
                .zip(rec.iter().map(str::to_owned))
                .collect()
        })
        .collect()
}

fn date(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
}

#[test]
fn links_the_synthetic_set() {
    let input = rows("measurements.csv");
    let f = |r: &HashMap<String, String>, k: &str| r.get(k).cloned().unwrap_or_default();
    let records: Vec<FieldRecord> = input
        .iter()
        .map(|r| FieldRecord {
            record_id: f(r, "record_id"),
            round: f(r, "round"),
            measured_on: date(&f(r, "measured_on")),
            posyandu_code: f(r, "posyandu_code"),
            desa_code: f(r, "desa_code"),
            nik: f(r, "nik"),
            no_kk: f(r, "no_kk"),
            name: f(r, "name"),
            sex: Sex::from_code(&f(r, "sex")),
            birth_date: date(&f(r, "birth_date")),
            mother_name: f(r, "mother_name"),
            mother_nik: f(r, "mother_nik"),
            father_name: f(r, "father_name"),
            rt: f(r, "rt"),
            rw: f(r, "rw"),
            address: f(r, "address"),
            weight_kg: f(r, "weight_kg").parse().ok(),
            height_cm: f(r, "height_cm").parse().ok(),
            measure_position: f(r, "measure_position"),
        })
        .collect();
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
