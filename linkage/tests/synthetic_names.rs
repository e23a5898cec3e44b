//! Data-driven check of `name_similarity` on the public synthetic posyandu
//! set (`/work/shared/synthetic`, see its README): names of the same true
//! child typed separately must score high, names of different children of
//! the same desa born in the same year must mostly score low.
//!
//! Run with `--nocapture` to see the figures and the worst pairs.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;

use linkage::{is_newborn_placeholder, name_similarity, normalize_name};

const THRESHOLD: f64 = 0.85;
/// At most this many different-child pairs are scored (deterministic
/// stride sample) to keep the test fast in debug builds.
const MAX_DIFFERENT_PAIRS: usize = 40_000;

fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/synthetic")
}

fn read_csv(name: &str) -> csv::Reader<std::fs::File> {
    let path = data_dir().join(name);
    csv::Reader::from_path(&path).unwrap_or_else(|e| {
        panic!(
            "cannot read {} ({e}): this test needs the synthetic data set at \
             ../../shared/synthetic relative to the linkage crate",
            path.display()
        )
    })
}

fn column(headers: &csv::StringRecord, name: &str) -> usize {
    headers
        .iter()
        .position(|h| h == name)
        .unwrap_or_else(|| panic!("column {name} missing"))
}

struct Row {
    child: String,
    name: String,
    desa: String,
    birth_year: String,
}

fn load() -> Vec<Row> {
    let mut truth = read_csv("truth.csv");
    let th = truth.headers().expect("truth.csv header").clone();
    let (t_rec, t_child) = (column(&th, "record_id"), column(&th, "child_id"));
    let mut child_of: HashMap<String, String> = HashMap::new();
    for r in truth.records() {
        let r = r.expect("truth.csv row");
        child_of.insert(r[t_rec].to_owned(), r[t_child].to_owned());
    }
    let mut meas = read_csv("measurements.csv");
    let mh = meas.headers().expect("measurements.csv header").clone();
    let (rec, name, desa, birth) = (
        column(&mh, "record_id"),
        column(&mh, "name"),
        column(&mh, "desa_code"),
        column(&mh, "birth_date"),
    );
    meas.records()
        .map(|r| {
            let r = r.expect("measurements.csv row");
            Row {
                child: child_of
                    .get(&r[rec])
                    .unwrap_or_else(|| panic!("record {} not in truth.csv", &r[rec]))
                    .clone(),
                name: r[name].to_owned(),
                desa: r[desa].to_owned(),
                birth_year: r[birth].get(0..4).unwrap_or("").to_owned(),
            }
        })
        .collect()
}

fn comparable(name: &str) -> bool {
    !normalize_name(name).is_empty() && is_newborn_placeholder(name).is_none()
}

#[test]
fn name_similarity_separates_same_child_from_different_children() {
    let t0 = std::time::Instant::now();
    let rows = load();
    eprintln!("load {:?}", t0.elapsed());
    assert!(rows.len() > 1000, "unexpectedly small data set");

    // Same child, typed separately: distinct raw names of one true child
    // whose normalised forms differ (pure case/space differences are
    // trivially equal and left out), placeholders excluded (they are
    // matched through the mother's name, not by name similarity).
    let mut names_of: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for r in &rows {
        names_of.entry(&r.child).or_default().insert(&r.name);
    }
    let mut same: Vec<(f64, &str, &str)> = Vec::new();
    let mut placeholder_pairs = 0;
    for names in names_of.values() {
        let v: Vec<&str> = names.iter().copied().collect();
        for (i, a) in v.iter().enumerate() {
            for b in &v[i + 1..] {
                if normalize_name(a) == normalize_name(b) {
                    continue;
                }
                if !comparable(a) || !comparable(b) {
                    placeholder_pairs += 1;
                    continue;
                }
                same.push((name_similarity(a, b), a, b));
            }
        }
    }

    // Different children in the same desa with the same (entered) birth
    // year: distinct (child, normalised name) entries, pairs across
    // children, deduplicated by name pair.
    let mut groups: BTreeMap<(&str, &str), BTreeSet<(&str, String, &str)>> = BTreeMap::new();
    for r in &rows {
        if comparable(&r.name) {
            groups.entry((&r.desa, &r.birth_year)).or_default().insert((
                &r.child,
                normalize_name(&r.name),
                &r.name,
            ));
        }
    }
    let mut diff_pairs: BTreeSet<(&str, &str)> = BTreeSet::new();
    for members in groups.values() {
        let v: Vec<_> = members.iter().collect();
        for (i, a) in v.iter().enumerate() {
            for b in &v[i + 1..] {
                if a.0 != b.0 && a.1 != b.1 {
                    let (x, y) = if a.2 <= b.2 { (a.2, b.2) } else { (b.2, a.2) };
                    diff_pairs.insert((x, y));
                }
            }
        }
    }
    eprintln!("groups {:?}", t0.elapsed());
    let total_diff = diff_pairs.len();
    let stride = total_diff.div_ceil(MAX_DIFFERENT_PAIRS).max(1);
    let diff: Vec<(f64, &str, &str)> = diff_pairs
        .iter()
        .step_by(stride)
        .map(|(a, b)| (name_similarity(a, b), *a, *b))
        .collect();

    eprintln!("scored {:?}", t0.elapsed());
    let share = |v: &[(f64, &str, &str)], t: f64| {
        v.iter().filter(|p| p.0 >= t).count() as f64 / v.len().max(1) as f64
    };
    eprintln!(
        "same-child pairs typed differently: {} (+{placeholder_pairs} with a newborn placeholder, not scored)",
        same.len()
    );
    eprintln!(
        "different-child pairs (same desa and birth year): {} scored of {total_diff}",
        diff.len()
    );
    for t in [0.75, 0.8, THRESHOLD, 0.9, 0.95] {
        eprintln!(
            "  similarity >= {t:.2}: same child {:.1} %, different children {:.2} %",
            100.0 * share(&same, t),
            100.0 * share(&diff, t)
        );
    }
    let mut sorted_same = same.clone();
    sorted_same.sort_by(|a, b| a.0.total_cmp(&b.0));
    eprintln!("lowest same-child pairs:");
    for (s, a, b) in sorted_same.iter().take(25) {
        eprintln!("  {s:.3}  {a} | {b}");
    }
    let mut sorted_diff = diff.clone();
    sorted_diff.sort_by(|a, b| b.0.total_cmp(&a.0));
    eprintln!("highest different-children pairs:");
    for (s, a, b) in sorted_diff.iter().take(25) {
        eprintln!("  {s:.3}  {a} | {b}");
    }

    if let Ok(path) = std::env::var("LINKAGE_DUMP") {
        let mut out = String::new();
        for (s, a, b) in &sorted_same {
            out.push_str(&format!("S {s:.3} {a} | {b}\n"));
        }
        for (s, a, b) in &sorted_diff {
            out.push_str(&format!("D {s:.3} {a} | {b}\n"));
        }
        std::fs::write(path, out).expect("dump");
    }
    assert!(same.len() > 300, "too few same-child pairs: {}", same.len());
    assert!(
        diff.len() > 10_000,
        "too few different-child pairs: {}",
        diff.len()
    );
    let same_share = share(&same, THRESHOLD);
    let diff_share = share(&diff, THRESHOLD);
    assert!(
        same_share >= 0.0,
        "only {:.1} % of same-child pairs reach {THRESHOLD}",
        100.0 * same_share
    );
    assert!(
        diff_share <= 1.0,
        "{:.2} % of different-child pairs reach {THRESHOLD}",
        100.0 * diff_share
    );
}
