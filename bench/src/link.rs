//! `link`: the district's batch record linkage (`tumbuh-server link`) at
//! district scale.
//!
//! The input is the public dev set (`measurements.csv`, 3,000 children)
//! replicated K times, each copy moved to its own fictitious kecamatan: the
//! kecamatan digits of `posyandu_code`, `desa_code`, `kader_id` and of the
//! region part (first 6 digits) of NIK, KK and mother's NIK are shifted by
//! 2 × copy (the dev set has 2 kecamatan), the same way in every field, so
//! the copies are different children that block apart as different kecamatan
//! would. Child names and measurements are kept, so common names repeat
//! across the district. Parents' names are not: in copy c ≥ 1 every family
//! (`family_id` of `children_truth.csv`) takes the mother's and the father's
//! names of a donor family (a deterministic cyclic permutation of the
//! families, another one per copy, separately for mothers and fathers), the
//! k-th distinct spelling of the family (in file order) becoming the donor's
//! k-th (mod its count), and a newborn placeholder ("By Ny Siti") naming
//! the new mother. Otherwise a child and its copies would share child name,
//! mother and father, which strangers do not. Within a copy, a family keeps
//! its spelling variants, so the copy keeps the dev set's duplicate
//! structure. Birth dates of copy c are moved back by 67·c days (and the
//! date parts of NIK, KK and mother's NIK with them): without that, a copy
//! would be the same child (same name, birth date and parents) registered in
//! another kecamatan, which the engine rightly merges, not a different
//! child. Measurement dates are kept (the whole district weighs in the same
//! months), so copies reach ages beyond 60 months. Dummy NIKs (all zeros, runs, mostly one digit) stay
//! as they are, as dummies do. Record ids become `<id>-cNN` and child ids
//! `<child>-cNN` (copy 0 keeps the original ids).
//!
//! The scaled CSV is written to a temporary folder (untimed), then the real
//! `tumbuh-server link --input … --output … --review …` binary (found beside
//! this one) runs on it: wall time from spawn to exit and peak RSS (GNU
//! `/usr/bin/time -f %M`, or polled `VmHWM`). An in-process breakdown
//! (`tumbuh_server::link::read_records`, then `linkage::link`, the same
//! calls `tumbuh-server link` makes) times the phases. The clusters file the
//! binary wrote is scored against the scaled truth: pairwise precision,
//! recall and F1 (from cluster-size combinatorics), false pairs across
//! copies, and twin pairs (`twin_of` in `children_truth.csv`) merged.

use std::collections::HashMap;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context as _, bail};
use chrono::Datelike as _;

use crate::sys;

/// Target wall time (s) for ~50,000 children.
pub const TARGET_SECONDS: f64 = 30.0;
/// Target peak memory (MiB).
pub const TARGET_MIB: f64 = 1024.0;

/// Options of the `link` benchmark.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Dev-set measurements CSV (relative paths are from the repository root);
    /// `truth.csv` and `children_truth.csv` are taken from beside it.
    #[arg(long, default_value = "../shared/synthetic/measurements.csv")]
    input: PathBuf,
    /// Copies of the dev set, each in its own kecamatan (17 → ~51,000 children).
    #[arg(long, default_value_t = 17)]
    copies: usize,
    /// Timed runs of the binary (the median is reported).
    #[arg(long, default_value_t = 1)]
    repeat: usize,
    /// Skip the in-process phase breakdown (read, link).
    #[arg(long)]
    no_breakdown: bool,
    /// Also copy the scaled input CSV and its truth (`record_id,child_id`) into this folder (for profiling).
    #[arg(long, value_name = "DIR")]
    keep: Option<PathBuf>,
}

/// Kecamatan in the dev set: each copy shifts kecamatan codes by this much.
const KEC_PER_COPY: usize = 2;

/// A 16-digit value that is a placeholder rather than a number (kept as is).
fn looks_dummy(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() != 16 || !b.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let all_zero = |s: &[u8]| s.iter().all(|&c| c == b'0');
    if all_zero(&b[0..6]) || all_zero(&b[6..12]) || all_zero(&b[12..16]) {
        return true;
    }
    let ascending = b.windows(2).all(|w| (w[0] - b'0' + 1) % 10 == w[1] - b'0');
    let descending = b.windows(2).all(|w| (w[1] - b'0' + 1) % 10 == w[0] - b'0');
    let mut counts = [0usize; 10];
    for &c in b {
        counts[usize::from(c - b'0')] += 1;
    }
    ascending || descending || counts.iter().any(|&n| n >= 13)
}

/// Moves a code that starts with a region (prov 2 + kab 2 + kec 2 digits) to
/// the kecamatan of `copy`: kec → ((kec − 1 + 2·copy) mod 99) + 1. Values
/// that do not start with 6 digits, or look like dummies, are kept.
fn shift_region(value: &str, copy: usize) -> String {
    let b = value.as_bytes();
    if copy == 0 || b.len() < 6 || !b[..6].iter().all(u8::is_ascii_digit) || looks_dummy(value) {
        return value.to_owned();
    }
    let kec = usize::from(b[4] - b'0') * 10 + usize::from(b[5] - b'0');
    let new = (kec + 98 + KEC_PER_COPY * copy) % 99 + 1;
    format!("{}{new:02}{}", &value[..4], &value[6..])
}

/// Days every birth date of copy `c` is moved back by (`c` × this): far
/// enough that the same name in two copies is not the same birth date.
const DAYS_PER_COPY: i64 = 67;

/// Moves a `YYYY-MM-DD` date back by `days`; other text is kept.
fn shift_date(value: &str, days: i64) -> String {
    match chrono::NaiveDate::parse_from_str(value, "%Y-%m-%d") {
        Ok(d) if days != 0 => (d - chrono::Duration::days(days))
            .format("%Y-%m-%d")
            .to_string(),
        _ => value.to_owned(),
    }
}

/// Moves the `DDMMYY` date part (digits 7–12; day + 40 for women) of a
/// 16-digit NIK or KK back by `days`. Values whose date part is not a date
/// (typos, dummies) are kept.
fn shift_id_date(value: &str, days: i64) -> String {
    let b = value.as_bytes();
    if days == 0 || b.len() != 16 || !b.iter().all(u8::is_ascii_digit) || looks_dummy(value) {
        return value.to_owned();
    }
    let num = |i: usize| u32::from(b[i] - b'0') * 10 + u32::from(b[i + 1] - b'0');
    let (mut day, month, yy) = (num(6), num(8), num(10));
    let female = day > 40;
    if female {
        day -= 40;
    }
    let year = if yy <= 30 { 2000 + yy } else { 1900 + yy } as i32;
    let Some(d) = chrono::NaiveDate::from_ymd_opt(year, month, day) else {
        return value.to_owned();
    };
    let d = d - chrono::Duration::days(days);
    let day = d.day() + if female { 40 } else { 0 };
    format!(
        "{}{day:02}{:02}{:02}{}",
        &value[..6],
        d.month(),
        d.year().rem_euclid(100),
        &value[12..]
    )
}

/// The scaled input (written to `path`) and its truth.
struct Scaled {
    rows: usize,
    bytes: u64,
    /// record_id → child_id (scaled).
    truth: HashMap<String, String>,
    /// Twin pairs (scaled child ids).
    twins: Vec<(String, String)>,
    children: usize,
}

fn suffix(id: &str, copy: usize) -> String {
    if copy == 0 {
        id.to_owned()
    } else {
        format!("{id}-c{copy:02}")
    }
}

/// Distinct non-empty spellings of one parent's name per family, in file
/// order, and the spelling index of every row (`None` for an empty name).
struct Spellings {
    /// Per family (index into the sorted family ids): its spellings.
    of_family: Vec<Vec<String>>,
    /// Per row: (family, spelling index).
    of_row: Vec<(usize, Option<usize>)>,
}

impl Spellings {
    fn new(families: &[usize], n_families: usize, names: &[&str]) -> Spellings {
        let mut of_family: Vec<Vec<String>> = vec![Vec::new(); n_families];
        let of_row = families
            .iter()
            .zip(names)
            .map(|(&f, &name)| {
                if name.trim().is_empty() {
                    return (f, None);
                }
                let list = &mut of_family[f];
                let k = list.iter().position(|s| s == name).unwrap_or_else(|| {
                    list.push(name.to_owned());
                    list.len() - 1
                });
                (f, Some(k))
            })
            .collect();
        Spellings { of_family, of_row }
    }

    /// Donor family per family for `copy`: the families with a spelling,
    /// shuffled (seeded by `copy` and `salt`), each taking the next one's
    /// names (a cycle, so no family keeps its own). Families without a
    /// spelling keep none.
    fn donors(&self, copy: usize, salt: u64) -> Vec<usize> {
        let mut order: Vec<usize> = (0..self.of_family.len())
            .filter(|&f| !self.of_family[f].is_empty())
            .collect();
        let mut state = 0x9E37_79B9_7F4A_7C15u64 ^ (copy as u64 + 1).wrapping_mul(salt);
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for i in (1..order.len()).rev() {
            let j = (next() % (i as u64 + 1)) as usize;
            order.swap(i, j);
        }
        let mut donor: Vec<usize> = (0..self.of_family.len()).collect();
        for (i, &f) in order.iter().enumerate() {
            donor[f] = order[(i + 1) % order.len()];
        }
        donor
    }

    /// The name of row `row` in a copy with `donors`: the donor family's
    /// spelling of the same rank (mod its count); empty stays empty.
    fn name<'a>(&'a self, row: usize, donors: &[usize]) -> Option<&'a str> {
        let (f, k) = self.of_row[row];
        let list = &self.of_family[donors[f]];
        k.map(|k| list[k % list.len()].as_str())
    }
}

/// The leading words of a newborn placeholder before the mother's name
/// ("By Ny. ", "AN. BY NY ", "Bayi "), as written; `None` for other names.
fn placeholder_prefix(name: &str) -> Option<&str> {
    linkage::names::is_newborn_placeholder(name)?;
    const WORDS: &[&str] = &[
        "an", "anak", "by", "bayi", "baby", "bby", "ny", "nyonya", "ibu", "bu", "bunda", "hj",
    ];
    let mut end = 0;
    let mut rest = name;
    loop {
        let skipped = rest.len()
            - rest
                .trim_start_matches(|c: char| !c.is_alphanumeric())
                .len();
        let word_start = end + skipped;
        let word: String = name[word_start..]
            .chars()
            .take_while(|c| c.is_alphanumeric())
            .collect();
        if word.is_empty() || !WORDS.contains(&word.to_lowercase().as_str()) {
            return Some(&name[..word_start]);
        }
        end = word_start + word.len();
        rest = &name[end..];
    }
}

fn scale(input: &Path, copies: usize, out: &Path) -> anyhow::Result<Scaled> {
    let dir = input.parent().unwrap_or(Path::new("."));
    let mut reader = csv::Reader::from_path(input)
        .with_context(|| format!("cannot read {}", input.display()))?;
    let header = reader.headers()?.clone();
    let col = |name: &str| {
        header
            .iter()
            .position(|h| h == name)
            .with_context(|| format!("{}: no column {name}", input.display()))
    };
    let record_id = col("record_id")?;
    let regional: Vec<usize> = [
        "posyandu_code",
        "desa_code",
        "kader_id",
        "nik",
        "no_kk",
        "mother_nik",
    ]
    .iter()
    .map(|c| col(c))
    .collect::<anyhow::Result<_>>()?;
    let dated: Vec<usize> = ["nik", "no_kk", "mother_nik"]
        .iter()
        .map(|c| col(c))
        .collect::<anyhow::Result<_>>()?;
    let birth = col("birth_date")?;
    let rows: Vec<csv::StringRecord> = reader.records().collect::<Result<_, _>>()?;

    let mut truth_reader = csv::Reader::from_path(dir.join("truth.csv"))
        .with_context(|| format!("cannot read {}", dir.join("truth.csv").display()))?;
    let base_truth: HashMap<String, String> = truth_reader
        .records()
        .map(|r| r.map(|r| (r[0].to_owned(), r[1].to_owned())))
        .collect::<Result<_, _>>()?;
    let mut children_reader = csv::Reader::from_path(dir.join("children_truth.csv"))
        .with_context(|| format!("cannot read {}", dir.join("children_truth.csv").display()))?;
    let ch_header = children_reader.headers()?.clone();
    let ch_col = |name: &str| ch_header.iter().position(|h| h == name);
    let (Some(child_col), Some(twin_col), Some(family_col)) =
        (ch_col("child_id"), ch_col("twin_of"), ch_col("family_id"))
    else {
        bail!("children_truth.csv: needs child_id, twin_of and family_id");
    };
    let mut base_children = 0;
    let mut base_twins = Vec::new();
    let mut family_of_child: HashMap<String, String> = HashMap::new();
    for r in children_reader.records() {
        let r = r?;
        base_children += 1;
        let (c, t) = (&r[child_col], &r[twin_col]);
        if !t.is_empty() && c < t {
            base_twins.push((c.to_owned(), t.to_owned()));
        }
        family_of_child.insert(c.to_owned(), r[family_col].to_owned());
    }

    // The family of every row, as an index into the sorted family ids.
    let mut family_ids: Vec<&str> = family_of_child.values().map(String::as_str).collect();
    family_ids.sort_unstable();
    family_ids.dedup();
    let families: Vec<usize> = rows
        .iter()
        .map(|row| {
            let id = &row[record_id];
            let family = base_truth
                .get(id)
                .and_then(|child| family_of_child.get(child))
                .with_context(|| format!("record {id}: no child or family in the truth"))?;
            Ok(family_ids.binary_search(&family.as_str()).unwrap_or(0))
        })
        .collect::<anyhow::Result<_>>()?;
    let (name_col, mother_col, father_col) =
        (col("name")?, col("mother_name")?, col("father_name")?);
    let column = |c: usize| -> Vec<&str> { rows.iter().map(|r| &r[c]).collect() };
    let mothers = Spellings::new(&families, family_ids.len(), &column(mother_col));
    let fathers = Spellings::new(&families, family_ids.len(), &column(father_col));

    let mut writer = csv::Writer::from_path(out)?;
    writer.write_record(&header)?;
    let mut truth = HashMap::with_capacity(rows.len() * copies);
    let mut twins = Vec::new();
    for copy in 0..copies {
        let days = DAYS_PER_COPY * copy as i64;
        let mother_donors = mothers.donors(copy, 0x5851_F42D_4C95_7F2D);
        let father_donors = fathers.donors(copy, 0x1405_7B7E_F767_814F);
        for (n, row) in rows.iter().enumerate() {
            let id = &row[record_id];
            let child = base_truth
                .get(id)
                .with_context(|| format!("record {id} is not in truth.csv"))?;
            let new_id = suffix(id, copy);
            truth.insert(new_id.clone(), suffix(child, copy));
            let fields: Vec<String> = row
                .iter()
                .enumerate()
                .map(|(i, v)| {
                    if i == record_id {
                        new_id.clone()
                    } else if i == birth {
                        shift_date(v, days)
                    } else if dated.contains(&i) {
                        shift_region(&shift_id_date(v, days), copy)
                    } else if regional.contains(&i) {
                        shift_region(v, copy)
                    } else if copy == 0 {
                        v.to_owned()
                    } else if i == mother_col {
                        mothers.name(n, &mother_donors).unwrap_or(v).to_owned()
                    } else if i == father_col {
                        fathers.name(n, &father_donors).unwrap_or(v).to_owned()
                    } else if i == name_col {
                        // A placeholder names the (new) mother.
                        match (placeholder_prefix(v), mothers.name(n, &mother_donors)) {
                            (Some(prefix), Some(mother)) => format!("{prefix}{mother}"),
                            _ => v.to_owned(),
                        }
                    } else {
                        v.to_owned()
                    }
                })
                .collect();
            writer.write_record(&fields)?;
        }
        twins.extend(
            base_twins
                .iter()
                .map(|(a, b)| (suffix(a, copy), suffix(b, copy))),
        );
    }
    writer.flush()?;
    Ok(Scaled {
        rows: rows.len() * copies,
        bytes: std::fs::metadata(out)?.len(),
        truth,
        twins,
        children: base_children * copies,
    })
}

/// Pairwise scores of a clustering against the truth.
#[derive(Debug, Default)]
struct Scores {
    true_pairs: u64,
    predicted_pairs: u64,
    tp: u64,
    /// Predicted pairs whose children come from different copies.
    cross_copy: u64,
    clusters: usize,
    twins_merged: usize,
    twin_pairs: usize,
}

impl Scores {
    fn precision(&self) -> f64 {
        self.tp as f64 / self.predicted_pairs.max(1) as f64
    }
    fn recall(&self) -> f64 {
        self.tp as f64 / self.true_pairs.max(1) as f64
    }
    fn f1(&self) -> f64 {
        let (p, r) = (self.precision(), self.recall());
        if p + r == 0.0 {
            0.0
        } else {
            2.0 * p * r / (p + r)
        }
    }
}

fn c2(n: u64) -> u64 {
    n * n.saturating_sub(1) / 2
}

fn copy_of(child: &str) -> &str {
    child.rsplit_once("-c").map_or("", |(_, c)| c)
}

fn score(clusters_csv: &Path, scaled: &Scaled) -> anyhow::Result<Scores> {
    let mut reader = csv::Reader::from_path(clusters_csv)
        .with_context(|| format!("cannot read {}", clusters_csv.display()))?;
    let mut by_cell: HashMap<(String, &str), u64> = HashMap::new();
    let mut by_cluster: HashMap<String, u64> = HashMap::new();
    let mut by_child: HashMap<&str, u64> = HashMap::new();
    let mut cluster_copies: HashMap<String, HashMap<&str, u64>> = HashMap::new();
    let mut clusters_of_child: HashMap<&str, Vec<String>> = HashMap::new();
    let mut seen = 0usize;
    for r in reader.records() {
        let r = r?;
        let (id, cluster) = (&r[0], r[1].to_owned());
        let child = scaled
            .truth
            .get(id)
            .with_context(|| format!("{}: unknown record {id}", clusters_csv.display()))?
            .as_str();
        seen += 1;
        *by_cell.entry((cluster.clone(), child)).or_default() += 1;
        *by_cluster.entry(cluster.clone()).or_default() += 1;
        *by_child.entry(child).or_default() += 1;
        *cluster_copies
            .entry(cluster.clone())
            .or_default()
            .entry(copy_of(child))
            .or_default() += 1;
        clusters_of_child.entry(child).or_default().push(cluster);
    }
    if seen != scaled.rows {
        bail!(
            "{}: {seen} rows, expected {}",
            clusters_csv.display(),
            scaled.rows
        );
    }
    let mut s = Scores {
        true_pairs: by_child.values().map(|&n| c2(n)).sum(),
        predicted_pairs: by_cluster.values().map(|&n| c2(n)).sum(),
        tp: by_cell.values().map(|&n| c2(n)).sum(),
        clusters: by_cluster.len(),
        twin_pairs: scaled.twins.len(),
        ..Scores::default()
    };
    s.cross_copy = cluster_copies
        .values()
        .map(|per_copy| {
            let total: u64 = per_copy.values().sum();
            c2(total) - per_copy.values().map(|&n| c2(n)).sum::<u64>()
        })
        .sum();
    for (a, b) in &scaled.twins {
        let (Some(ca), Some(cb)) = (
            clusters_of_child.get(a.as_str()),
            clusters_of_child.get(b.as_str()),
        ) else {
            continue;
        };
        if ca.iter().any(|c| cb.contains(c)) {
            s.twins_merged += 1;
        }
    }
    Ok(s)
}

fn lines(path: &Path) -> anyhow::Result<usize> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    Ok(text.lines().count().saturating_sub(1))
}

pub fn run(args: &Args, dir: Option<&Path>) -> anyhow::Result<()> {
    let input = if args.input.is_absolute() {
        args.input.clone()
    } else {
        crate::sys::repo_root().join(&args.input)
    };
    let input = input.canonicalize().unwrap_or(input);
    let server = crate::sys::server_binary()?;
    let scratch = sys::scratch_dir(dir, "tumbuh-bench-link-")?;
    let scaled_csv = scratch.path().join("measurements.csv");
    let clusters_csv = scratch.path().join("clusters.csv");
    let review_csv = scratch.path().join("review.csv");
    let copies = args.copies.max(1);

    println!(
        "== link: `tumbuh-server link` on the dev set × {copies} (each copy its own kecamatan) =="
    );
    let start = Instant::now();
    let scaled = scale(&input, copies, &scaled_csv)?;
    println!(
        "input: {} ×{copies} → {} rows, {} children, {} twin pairs, {:.1} MB ({}; written in {:.1} s, untimed)",
        input.display(),
        sys::thousands(scaled.rows as f64),
        sys::thousands(scaled.children as f64),
        scaled.twins.len(),
        scaled.bytes as f64 / 1e6,
        sys::fs_type(scratch.path()),
        start.elapsed().as_secs_f64()
    );

    if let Some(keep) = &args.keep {
        std::fs::create_dir_all(keep)?;
        std::fs::copy(&scaled_csv, keep.join("measurements.csv"))?;
        let mut w = csv::Writer::from_path(keep.join("truth.csv"))?;
        w.write_record(["record_id", "child_id"])?;
        let mut truth: Vec<_> = scaled.truth.iter().collect();
        truth.sort();
        for (r, c) in truth {
            w.write_record([r, c])?;
        }
        w.flush()?;
        println!("scaled input and truth copied to {}", keep.display());
    }

    let method = sys::RssMethod::detect();
    let run_args: Vec<&OsStr> = vec![
        OsStr::new("link"),
        OsStr::new("--input"),
        scaled_csv.as_os_str(),
        OsStr::new("--output"),
        clusters_csv.as_os_str(),
        OsStr::new("--review"),
        review_csv.as_os_str(),
    ];
    let mut walls = Vec::new();
    let mut peak_kib = 0;
    for i in 0..args.repeat.max(1) {
        let m = sys::run_measured(method, &server, &run_args, scratch.path())?;
        println!(
            "run {}: {:.2} s, peak RSS {:.1} MiB",
            i + 1,
            m.wall.as_secs_f64(),
            m.peak_rss_kib as f64 / 1024.0
        );
        walls.push(m.wall);
        peak_kib = peak_kib.max(m.peak_rss_kib);
    }
    let wall_s = sys::median(&sys::sorted_ms(&walls)) / 1e3;
    let scores = score(&clusters_csv, &scaled)?;
    let review = lines(&review_csv)?;

    let mut breakdown = None;
    if !args.no_breakdown {
        let t = Instant::now();
        let records = tumbuh_server::link::read_records(&scaled_csv)?;
        let read_s = t.elapsed().as_secs_f64();
        let t = Instant::now();
        let l = linkage::link(&records, &linkage::LinkConfig::default());
        let link_s = t.elapsed().as_secs_f64();
        breakdown = Some((read_s, link_s, l.registrations, l.candidate_pairs));
    }

    let verdict = |ok: bool| if ok { "met" } else { "NOT MET" };
    let peak_mib = peak_kib as f64 / 1024.0;
    println!();
    println!("== link summary ==");
    sys::Machine::detect().print();
    println!(
        "reproduce: CARGO_TARGET_DIR=/tmp/target-bench cargo build --release -p tumbuh-bench -p tumbuh-server"
    );
    println!(
        "           /tmp/target-bench/release/tumbuh-bench link --copies {copies} --repeat {}",
        args.repeat.max(1)
    );
    println!();
    println!("| figure | result | target | |");
    println!("|---|---|---|---|");
    println!(
        "| `tumbuh-server link`, {} rows / {} children, wall (spawn to exit, median of {}) | {:.2} s | ≤ {TARGET_SECONDS} s | {} |",
        sys::thousands(scaled.rows as f64),
        sys::thousands(scaled.children as f64),
        walls.len(),
        wall_s,
        verdict(wall_s <= TARGET_SECONDS)
    );
    println!(
        "| peak RSS | {peak_mib:.1} MiB | ≤ {TARGET_MIB} MiB | {} |",
        verdict(peak_mib <= TARGET_MIB)
    );
    if let Some((read_s, link_s, regs, pairs)) = breakdown {
        println!(
            "| phases (in-process, same calls): read CSV | {read_s:.2} s | | |\n\
             | phases: `linkage::link` ({} registrations, {} compared pairs) | {link_s:.2} s | | |\n\
             | phases: rest of the binary run (start, write clusters + review) | {:.2} s | | |",
            sys::thousands(regs as f64),
            sys::thousands(pairs as f64),
            (wall_s - read_s - link_s).max(0.0)
        );
    }
    println!(
        "| pairwise precision / recall / F1 | {:.4} / {:.4} / {:.4} | | |",
        scores.precision(),
        scores.recall(),
        scores.f1()
    );
    println!(
        "| pairs: true / predicted / correct / across copies | {} / {} / {} / {} | | |",
        sys::thousands(scores.true_pairs as f64),
        sys::thousands(scores.predicted_pairs as f64),
        sys::thousands(scores.tp as f64),
        sys::thousands(scores.cross_copy as f64)
    );
    println!(
        "| clusters (true children {}) | {} | | |",
        sys::thousands(scaled.children as f64),
        sys::thousands(scores.clusters as f64)
    );
    println!(
        "| twin pairs merged | {} of {} | 0 | {} |",
        scores.twins_merged,
        scores.twin_pairs,
        verdict(scores.twins_merged == 0)
    );
    println!(
        "| review queue | {} pairs | | |",
        sys::thousands(review as f64)
    );
    println!("peak memory measured with {}.", method.describe());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shifts_kecamatan_consistently() {
        assert_eq!(shift_region("3530012002", 0), "3530012002");
        assert_eq!(shift_region("3530012002", 1), "3530032002");
        assert_eq!(shift_region("353002200104-K1", 3), "353008200104-K1");
        assert_eq!(shift_region("3530025602230294", 16), "3530345602230294");
        assert_eq!(shift_region("3302995602230294", 1), "3302025602230294");
        assert_eq!(shift_region("0000000000000000", 2), "0000000000000000");
        assert_eq!(shift_region("1111111111111111", 2), "1111111111111111");
        assert_eq!(shift_region("12345", 2), "12345");
        assert_eq!(shift_region("", 2), "");
    }

    #[test]
    fn shifts_dates_consistently() {
        assert_eq!(shift_date("2023-02-16", 0), "2023-02-16");
        assert_eq!(shift_date("2023-02-16", 67), "2022-12-11");
        assert_eq!(shift_date("", 67), "");
        // Girl born 2023-02-16 (day + 40).
        assert_eq!(shift_id_date("3530025602230294", 67), "3530025112220294");
        assert_eq!(shift_id_date("3530020311222153", 0), "3530020311222153");
        assert_eq!(shift_id_date("3530020399222153", 5), "3530020399222153");
        assert_eq!(shift_id_date("0000000000000000", 5), "0000000000000000");
    }

    #[test]
    fn placeholder_prefixes() {
        assert_eq!(placeholder_prefix("By Ny. Tri Setyowati"), Some("By Ny. "));
        assert_eq!(placeholder_prefix("AN. BY NY SANTI"), Some("AN. BY NY "));
        assert_eq!(placeholder_prefix("Bayi Tukiyem"), Some("Bayi "));
        assert_eq!(placeholder_prefix("BAYI  NY. ZULAIKHA"), Some("BAYI  NY. "));
        assert_eq!(placeholder_prefix("Bayu Pratama"), None);
    }

    #[test]
    fn families_take_donor_spellings_consistently() {
        let families = [0, 0, 1, 1, 2, 2];
        let names = ["Siti", "Ny. Siti", "Ani", "", "Umi", "Siti"];
        let s = Spellings::new(&families, 3, &names);
        assert_eq!(s.of_family[0], ["Siti", "Ny. Siti"]);
        let donors = s.donors(1, 7);
        for (f, &d) in donors.iter().enumerate() {
            assert_ne!(d, f);
        }
        assert_eq!(s.name(3, &donors), None);
        // Rows 0 and 1 (two spellings of one mother) get two spellings of
        // the donor (mod its count), the same for every row of a spelling.
        let d = donors[0];
        assert_eq!(s.name(0, &donors), Some(s.of_family[d][0].as_str()));
        assert_eq!(
            s.name(1, &donors),
            Some(s.of_family[d][1 % s.of_family[d].len()].as_str())
        );
    }

    #[test]
    fn pair_counts() {
        assert_eq!(c2(0), 0);
        assert_eq!(c2(1), 0);
        assert_eq!(c2(4), 6);
        assert_eq!(copy_of("C000001-c03"), "03");
        assert_eq!(copy_of("C000001"), "");
    }
}
