//! Data-driven checks on the public synthetic posyandu set
//! (`/work/shared/synthetic`, see its README), with its ground truth:
//!
//! - `name_similarity` must score names of the same true child typed
//!   separately high, and names of different children of the same desa
//!   born in the same year mostly low;
//! - the duplicate warning (`likeness` + `is_likely_same_child`) must flag
//!   most re-registrations of a child and almost never twins or other
//!   children.
//!
//! The thresholds asserted are a little below the figures reached, so that
//! a regression fails. Run with `--nocapture` to see the figures and the
//! worst pairs; set `LINKAGE_DUMP=<file>` to write every scored pair.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;
use std::sync::OnceLock;

use chrono::{Datelike, NaiveDate};
use linkage::{
    ChildKey, Sex, is_likely_same_child, is_newborn_placeholder, likeness, name_similarity,
    normalize_name,
};

const THRESHOLD: f64 = 0.85;
/// At most this many different-child name pairs are scored (deterministic
/// stride sample) to keep the test fast in debug builds.
const MAX_DIFFERENT_NAME_PAIRS: usize = 12_000;
/// Same for the different-children registration pairs of the likeness test.
const MAX_DIFFERENT_KEY_PAIRS: usize = 4_000;

fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/synthetic")
}

fn read_csv(name: &str) -> (csv::StringRecord, Vec<csv::StringRecord>) {
    let path = data_dir().join(name);
    let mut reader = csv::Reader::from_path(&path).unwrap_or_else(|e| {
        panic!(
            "cannot read {} ({e}): these tests need the synthetic data set at \
             ../../shared/synthetic relative to the linkage crate",
            path.display()
        )
    });
    let headers = reader
        .headers()
        .unwrap_or_else(|e| panic!("{name}: no header ({e})"))
        .clone();
    let rows = reader
        .records()
        .map(|r| r.unwrap_or_else(|e| panic!("{name}: bad row ({e})")))
        .collect();
    (headers, rows)
}

fn column(headers: &csv::StringRecord, name: &str) -> usize {
    headers
        .iter()
        .position(|h| h == name)
        .unwrap_or_else(|| panic!("column {name} missing"))
}

/// The identity fields of one row, with its true child.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Row {
    child: String,
    desa: String,
    name: String,
    sex: String,
    birth_date: String,
    mother_name: String,
    nik: String,
}

impl Row {
    fn birth(&self) -> Option<NaiveDate> {
        NaiveDate::parse_from_str(&self.birth_date, "%Y-%m-%d").ok()
    }

    fn key(&self) -> ChildKey<'_> {
        ChildKey {
            name: &self.name,
            sex: Sex::from_code(&self.sex),
            birth_date: self.birth(),
            mother_name: Some(self.mother_name.as_str()).filter(|m| !m.is_empty()),
            nik: Some(self.nik.as_str()).filter(|n| !n.is_empty()),
        }
    }
}

struct Data {
    rows: Vec<Row>,
    /// child_id -> twin's child_id.
    twin_of: HashMap<String, String>,
}

fn data() -> &'static Data {
    static DATA: OnceLock<Data> = OnceLock::new();
    DATA.get_or_init(|| {
        let (th, truth) = read_csv("truth.csv");
        let (t_rec, t_child) = (column(&th, "record_id"), column(&th, "child_id"));
        let child_of: HashMap<&str, &str> =
            truth.iter().map(|r| (&r[t_rec], &r[t_child])).collect();
        let (mh, meas) = read_csv("measurements.csv");
        let col = |n| column(&mh, n);
        let (rec, desa, name, sex, birth, mother, nik) = (
            col("record_id"),
            col("desa_code"),
            col("name"),
            col("sex"),
            col("birth_date"),
            col("mother_name"),
            col("nik"),
        );
        let rows = meas
            .iter()
            .map(|r| Row {
                child: child_of
                    .get(&r[rec])
                    .unwrap_or_else(|| panic!("record {} not in truth.csv", &r[rec]))
                    .to_string(),
                desa: r[desa].to_owned(),
                name: r[name].to_owned(),
                sex: r[sex].to_owned(),
                birth_date: r[birth].to_owned(),
                mother_name: r[mother].to_owned(),
                nik: r[nik].to_owned(),
            })
            .collect();
        let (ch, children) = read_csv("children_truth.csv");
        let (c_id, c_twin) = (column(&ch, "child_id"), column(&ch, "twin_of"));
        let twin_of = children
            .iter()
            .filter(|r| !r[c_twin].is_empty())
            .map(|r| (r[c_id].to_owned(), r[c_twin].to_owned()))
            .collect();
        Data { rows, twin_of }
    })
}

fn share<T>(v: &[T], pred: impl Fn(&T) -> bool) -> f64 {
    v.iter().filter(|x| pred(x)).count() as f64 / v.len().max(1) as f64
}

fn dump(lines: impl Iterator<Item = String>) {
    if let Ok(path) = std::env::var("LINKAGE_DUMP") {
        let text: String = lines.map(|l| l + "\n").collect();
        std::fs::write(&path, text).unwrap_or_else(|e| panic!("cannot write {path}: {e}"));
    }
}

#[test]
fn name_similarity_separates_same_child_from_different_children() {
    let rows = &data().rows;
    assert!(rows.len() > 1000, "unexpectedly small data set");

    // Normalise every distinct raw name once. Placeholders are left out:
    // they are matched through the mother's name, not by name similarity.
    let mut normal: HashMap<&str, Option<String>> = HashMap::new();
    for r in rows {
        normal.entry(&r.name).or_insert_with(|| {
            let n = normalize_name(&r.name);
            (!n.is_empty() && is_newborn_placeholder(&r.name).is_none()).then_some(n)
        });
    }

    // Same child, typed separately: distinct raw names of one true child
    // whose normalised forms differ (case/space-only differences are
    // trivially equal and left out).
    let mut names_of: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for r in rows {
        names_of.entry(&r.child).or_default().insert(&r.name);
    }
    let mut same: Vec<(f64, &str, &str)> = Vec::new();
    let mut with_placeholder = 0;
    for names in names_of.values() {
        let v: Vec<&str> = names.iter().copied().collect();
        for (i, a) in v.iter().enumerate() {
            for b in &v[i + 1..] {
                match (&normal[a], &normal[b]) {
                    (Some(x), Some(y)) if x != y => same.push((name_similarity(a, b), a, b)),
                    (Some(_), Some(_)) => {}
                    _ => with_placeholder += 1,
                }
            }
        }
    }

    // Different children in the same desa with the same (entered) birth
    // year: distinct (child, normalised name) entries, pairs across
    // children with differing names, deduplicated by raw name pair.
    // (desa, birth year) -> (child, normalised name, raw name).
    type Group<'a> = BTreeSet<(&'a str, &'a str, &'a str)>;
    let mut groups: BTreeMap<(&str, &str), Group> = BTreeMap::new();
    for r in rows {
        if let Some(n) = &normal[r.name.as_str()] {
            let year = r.birth_date.get(0..4).unwrap_or("");
            groups
                .entry((&r.desa, year))
                .or_default()
                .insert((&r.child, n, &r.name));
        }
    }
    let mut diff_pairs: BTreeSet<(&str, &str)> = BTreeSet::new();
    for members in groups.values() {
        let v: Vec<_> = members.iter().collect();
        for (i, a) in v.iter().enumerate() {
            for b in &v[i + 1..] {
                if a.0 != b.0 && a.1 != b.1 {
                    diff_pairs.insert(if a.2 <= b.2 { (a.2, b.2) } else { (b.2, a.2) });
                }
            }
        }
    }
    let total_diff = diff_pairs.len();
    let stride = total_diff.div_ceil(MAX_DIFFERENT_NAME_PAIRS).max(1);
    let diff: Vec<(f64, &str, &str)> = diff_pairs
        .iter()
        .step_by(stride)
        .map(|(a, b)| (name_similarity(a, b), *a, *b))
        .collect();

    eprintln!(
        "same-child name pairs typed differently: {} scored (+{with_placeholder} with a newborn placeholder)",
        same.len()
    );
    eprintln!(
        "different-children name pairs (same desa, same birth year): {} scored of {total_diff}",
        diff.len()
    );
    for t in [0.75, 0.8, THRESHOLD, 0.9, 0.95] {
        eprintln!(
            "  similarity >= {t:.2}: same child {:.1} %, different children {:.2} %",
            100.0 * share(&same, |p| p.0 >= t),
            100.0 * share(&diff, |p| p.0 >= t)
        );
    }
    let mut same_sorted = same.clone();
    same_sorted.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut diff_sorted = diff.clone();
    diff_sorted.sort_by(|a, b| b.0.total_cmp(&a.0));
    eprintln!("lowest same-child pairs:");
    for (s, a, b) in same_sorted.iter().take(10) {
        eprintln!("  {s:.3}  {a} | {b}");
    }
    eprintln!("highest different-children pairs:");
    for (s, a, b) in diff_sorted.iter().take(10) {
        eprintln!("  {s:.3}  {a} | {b}");
    }
    dump(
        same_sorted
            .iter()
            .map(|(s, a, b)| format!("same {s:.3} {a} | {b}"))
            .chain(
                diff_sorted
                    .iter()
                    .map(|(s, a, b)| format!("diff {s:.3} {a} | {b}")),
            ),
    );

    assert!(same.len() > 300, "too few same-child pairs: {}", same.len());
    assert!(
        diff.len() > 5_000,
        "too few different-child pairs: {}",
        diff.len()
    );
    // Reached on the public set: 89.7 % and 0.37 %.
    let same_share = share(&same, |p| p.0 >= THRESHOLD);
    let diff_share = share(&diff, |p| p.0 >= THRESHOLD);
    assert!(
        same_share >= 0.87,
        "only {:.1} % of same-child name pairs reach {THRESHOLD}",
        100.0 * same_share
    );
    assert!(
        diff_share <= 0.007,
        "{:.2} % of different-children name pairs reach {THRESHOLD}",
        100.0 * diff_share
    );
}

#[test]
fn normalisation_is_stable_on_every_name_in_the_data() {
    let rows = &data().rows;
    let names: BTreeSet<&str> = rows
        .iter()
        .flat_map(|r| [r.name.as_str(), r.mother_name.as_str()])
        .collect();
    let mut placeholders = 0;
    for raw in &names {
        let n = normalize_name(raw);
        assert_eq!(normalize_name(&n), n, "not idempotent: {raw:?}");
        assert_eq!(
            is_newborn_placeholder(&n),
            is_newborn_placeholder(raw),
            "{raw:?}"
        );
        placeholders += usize::from(is_newborn_placeholder(raw).is_some());
    }
    eprintln!(
        "{} distinct names, {placeholders} newborn placeholders",
        names.len()
    );
    assert!(placeholders > 50, "placeholders not recognised");
}

#[test]
fn duplicate_warning_finds_reregistrations_but_not_twins() {
    let data = data();
    // A registration = a distinct set of identity fields of a child (later
    // rows of a registration are copies of it).
    let regs: Vec<&Row> = data
        .rows
        .iter()
        .collect::<BTreeSet<&Row>>()
        .into_iter()
        .collect();
    let mut by_child: BTreeMap<&str, Vec<&Row>> = BTreeMap::new();
    for r in &regs {
        by_child.entry(&r.child).or_default().push(r);
    }
    let flagged = |a: &Row, b: &Row| is_likely_same_child(&likeness(&a.key(), &b.key()));

    // Re-registrations of the same child.
    let mut same: Vec<(bool, &Row, &Row)> = Vec::new();
    for v in by_child.values() {
        for (i, a) in v.iter().enumerate() {
            for b in &v[i + 1..] {
                same.push((flagged(a, b), a, b));
            }
        }
    }
    // Twins: every registration of one twin against every one of the other.
    let mut twins: Vec<(bool, &Row, &Row)> = Vec::new();
    for (c, t) in &data.twin_of {
        if c < t
            && let (Some(va), Some(vb)) = (by_child.get(c.as_str()), by_child.get(t.as_str()))
        {
            for a in va {
                for b in vb {
                    twins.push((flagged(a, b), a, b));
                }
            }
        }
    }
    // Other children of the same desa born within a year of each other
    // (all such pairs counted, a deterministic stride sample scored).
    let mut by_desa: BTreeMap<&str, Vec<(&Row, Option<i32>)>> = BTreeMap::new();
    for r in &regs {
        by_desa
            .entry(&r.desa)
            .or_default()
            .push((r, r.birth().map(|d| d.year())));
    }
    let is_candidate = |a: &(&Row, Option<i32>), b: &(&Row, Option<i32>)| {
        let close = match (a.1, b.1) {
            (Some(x), Some(y)) => (x - y).abs() <= 1,
            _ => true,
        };
        a.0.child != b.0.child && close && data.twin_of.get(&a.0.child) != Some(&b.0.child)
    };
    let mut total_other = 0usize;
    for v in by_desa.values() {
        for (i, a) in v.iter().enumerate() {
            total_other += v[i + 1..].iter().filter(|b| is_candidate(a, b)).count();
        }
    }
    let stride = total_other.div_ceil(MAX_DIFFERENT_KEY_PAIRS).max(1);
    let mut other: Vec<(bool, &Row, &Row)> = Vec::new();
    let mut k = 0usize;
    for v in by_desa.values() {
        for (i, a) in v.iter().enumerate() {
            for b in &v[i + 1..] {
                if is_candidate(a, b) {
                    if k.is_multiple_of(stride) {
                        other.push((flagged(a.0, b.0), a.0, b.0));
                    }
                    k += 1;
                }
            }
        }
    }

    let flagged_share = |v: &[(bool, &Row, &Row)]| share(v, |p| p.0);
    let retyped: Vec<(bool, &Row, &Row)> = same
        .iter()
        .filter(|(_, a, b)| normalize_name(&a.name) != normalize_name(&b.name))
        .cloned()
        .collect();
    // Twins flagged although both have real names and not the same NIK
    // (a twin's NIK typed for the other is flagged by the NIK rule, and a
    // newborn placeholder cannot tell twins apart).
    let twins_by_name: Vec<&(bool, &Row, &Row)> = twins
        .iter()
        .filter(|(f, a, b)| {
            *f && is_newborn_placeholder(&a.name).is_none()
                && is_newborn_placeholder(&b.name).is_none()
                && (a.nik.is_empty() || a.nik != b.nik)
        })
        .collect();
    eprintln!(
        "re-registrations of the same child: {} pairs, {:.1} % flagged; {} with the name typed differently, {:.1} % flagged",
        same.len(),
        100.0 * flagged_share(&same),
        retyped.len(),
        100.0 * flagged_share(&retyped)
    );
    eprintln!(
        "twin registration pairs: {}, {} flagged ({} by name)",
        twins.len(),
        twins.iter().filter(|p| p.0).count(),
        twins_by_name.len()
    );
    eprintln!(
        "other children (same desa, birth year ±1): {} scored of {total_other}, {:.2} % flagged",
        other.len(),
        100.0 * flagged_share(&other)
    );
    let show = |r: &Row| {
        format!(
            "{} {} {} [{}] {}",
            r.name, r.sex, r.birth_date, r.mother_name, r.nik
        )
    };
    for (_, a, b) in twins.iter().filter(|p| p.0) {
        eprintln!("  twins flagged: {} | {}", show(a), show(b));
    }
    for (_, a, b) in other.iter().filter(|p| p.0).take(10) {
        eprintln!("  other flagged: {} | {}", show(a), show(b));
    }
    dump(
        same.iter()
            .map(|(f, a, b)| format!("same {f} {} | {}", show(a), show(b)))
            .chain(
                twins
                    .iter()
                    .map(|(f, a, b)| format!("twin {f} {} | {}", show(a), show(b))),
            )
            .chain(
                other
                    .iter()
                    .map(|(f, a, b)| format!("other {f} {} | {}", show(a), show(b))),
            ),
    );

    assert!(same.len() > 500 && retyped.len() > 300 && twins.len() > 20 && other.len() > 2_000);
    // Reached on the public set: 97.4 % and 94.2 % of re-registrations,
    // no twins by name, 0 % of other children; asserted a little lower.
    assert!(
        flagged_share(&same) >= 0.95,
        "re-registrations flagged too rarely"
    );
    assert!(
        flagged_share(&retyped) >= 0.92,
        "retyped names flagged too rarely"
    );
    assert!(
        twins_by_name.is_empty(),
        "twins flagged as one child by name"
    );
    assert!(
        flagged_share(&other) <= 0.003,
        "other children flagged too often"
    );
}
