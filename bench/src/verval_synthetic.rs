//! `verval-synthetic`: how many children look stunted in a round of the
//! synthetic dev set (`../shared/synthetic`), counted four ways, per desa and
//! in total — what duplicate registrations do to the verval figure and how
//! much of that the server's dedup takes back.
//!
//! Every column goes through the same counting rule, [`verval::compute`]
//! (one child, one round measurement — plausible with a length first, then at
//! the home posyandu, then the latest — attributed to the desa of the posyandu
//! where it was taken; stunted = plausible HAZ, rounded to 2 decimals, < −2).
//! The columns differ only in what a "child" is and which birth date and sex
//! its z-scores use:
//!
//! * **rows**: every row of `measurements.csv` (as parsed by the server's
//!   importer) is its own child, with the birth date and sex entered on that
//!   row. So each round row with a plausible HAZ < −2 counts.
//! * **tumbuh**: the real pipeline in-process: import into a fresh SQLite
//!   database, project, `dedup::run` with the default link config, project
//!   again, then the register (survivors, holding copies of their merged
//!   registrations' measurements, z-scored with the survivor's profile).
//! * **perfect**: the rows grouped by their true child (`truth.csv`), z-scores
//!   from the birth date and sex of the child's first registration as entered.
//! * **truth**: the same groups, z-scores from the true birth date and sex
//!   (`children_truth.csv`); the measured values stay as entered.
//!
//! z-scores for rows/perfect/truth are computed exactly as the server's
//! projection does: a `sync_protocol::Child` run through `assess_child`
//! (WHO ±0.7 cm lying/standing adjustment and the 9-month rule inside
//! `growth::assess`), HAZ taken as its rounded centi value, `implausible` =
//! a WHO flag on any index.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use chrono::NaiveDate;
use sync_protocol::{Child, ChildId, Measurement, Profile, Sex, assess_child};
use tumbuh_server::Storage as _;
use tumbuh_server::import::ImportRow;
use tumbuh_server::storage::IncomingRegistration;
use tumbuh_server::verval::{self, Level, RoundChild, RoundMeasurement};

use crate::sys;

/// Options of the `verval-synthetic` report.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Folder with measurements.csv, truth.csv, children_truth.csv and areas.csv
    /// (default: `../shared/synthetic` beside the repository).
    #[arg(long, value_name = "DIR")]
    data: Option<PathBuf>,
    /// The verval round, `YYYY-MM`.
    #[arg(long, default_value = "2024-08")]
    round: String,
}

/// Reads a CSV into maps of column → value.
fn read_csv(path: &Path) -> anyhow::Result<Vec<HashMap<String, String>>> {
    let mut reader =
        csv::Reader::from_path(path).with_context(|| format!("cannot read {}", path.display()))?;
    let headers = reader.headers()?.clone();
    let mut out = Vec::new();
    for record in reader.records() {
        let record = record.with_context(|| format!("bad row in {}", path.display()))?;
        out.push(
            headers
                .iter()
                .zip(record.iter())
                .map(|(h, v)| (h.to_owned(), v.to_owned()))
                .collect(),
        );
    }
    Ok(out)
}

fn field<'a>(row: &'a HashMap<String, String>, key: &str) -> anyhow::Result<&'a str> {
    row.get(key)
        .map(String::as_str)
        .with_context(|| format!("column `{key}` missing"))
}

/// The round measurements of one child with the given sex and birth date,
/// z-scored the way the server's projection does (`assess_child`).
fn assessed(sex: Sex, birth_date: NaiveDate, rows: &[&ImportRow]) -> Vec<RoundMeasurement> {
    let mut measurements: Vec<Measurement> = rows
        .iter()
        .filter_map(|r| {
            Some(Measurement {
                id: tumbuh_server::ingest::measurement_id(&r.external_id),
                input: tumbuh_server::ingest::measurement_input(r)?,
                recorded_at_ms: 0,
                void: None,
                merged_from: None,
            })
        })
        .collect();
    measurements.sort_by_key(|m| (m.input.date, m.id));
    let child = Child {
        id: ChildId::from_uuid(uuid::Uuid::nil()),
        profile: Profile {
            name: String::new(),
            sex,
            birth_date,
            mother_name: String::new(),
            nik: None,
            no_kk: None,
            mother_nik: None,
            father_name: None,
            rt: None,
            rw: None,
            address: None,
            posyandu: String::new(),
            desa: None,
            birth_weight: None,
            birth_length: None,
            consent_by: None,
            consent_on: None,
        },
        measurements,
        merged_into: None,
        verifications: Vec::new(),
    };
    let assessments = assess_child(&child);
    child
        .measurements
        .iter()
        .zip(&assessments)
        .map(|(m, a)| {
            let g = &a.growth;
            let centi = |z: Option<growth::ZScore>| z.map(|z| f64::from(z.centi) / 100.0);
            RoundMeasurement {
                id: m.id.to_string(),
                date: m.input.date,
                round: m.input.round.clone(),
                posyandu: m.input.posyandu.clone(),
                haz: centi(g.haz),
                waz: centi(g.waz),
                whz: centi(g.whz),
                implausible: g.implausible(),
                has_length: m.input.length.is_some(),
                voided: false,
            }
        })
        .collect()
}

fn round_child(
    id: String,
    posyandu: &str,
    sex: Sex,
    birth_date: NaiveDate,
    rows: &[&ImportRow],
) -> RoundChild {
    RoundChild {
        id,
        name: String::new(),
        sex: sex.code().to_owned(),
        birth_date,
        nik: None,
        mother_name: String::new(),
        address: None,
        rt: None,
        rw: None,
        posyandu: posyandu.to_owned(),
        registrations: 1,
        measurements: assessed(sex, birth_date, rows),
    }
}

/// Stunted children per desa code, and in total, of one column.
struct Column {
    by_desa: BTreeMap<String, usize>,
    total: usize,
    children_measured: usize,
    /// Measurement id of each listed (stunted) child's round measurement.
    listed: Vec<String>,
}

fn column(
    children: &[RoundChild],
    round: &str,
    names: &dyn Fn(&str) -> Option<String>,
) -> anyhow::Result<Column> {
    let report = verval::compute(
        children,
        round,
        None,
        None,
        verval::NikDisplay::Masked,
        names,
    )?;
    let by_desa = report
        .levels
        .iter()
        .filter(|t| t.level == Level::Desa)
        .flat_map(|t| t.rows.iter().map(|r| (r.code.clone(), r.stunted)))
        .collect();
    Ok(Column {
        by_desa,
        total: report.total.stunted,
        children_measured: report.total.measured,
        listed: report
            .stunted_list
            .iter()
            .map(|c| c.measurement_id.clone())
            .collect(),
    })
}

fn ms(d: Duration) -> String {
    format!("{:.0} ms", d.as_secs_f64() * 1000.0)
}

fn ratio(a: usize, b: usize) -> String {
    if b == 0 {
        "-".into()
    } else {
        format!("{:.3}", a as f64 / b as f64)
    }
}

pub fn run(args: &Args, dir: Option<&Path>) -> anyhow::Result<()> {
    let data = args
        .data
        .clone()
        .unwrap_or_else(|| crate::sys::repo_root().join("../shared/synthetic"));
    let measurements_csv = data.join("measurements.csv");
    if !measurements_csv.is_file() {
        bail!(
            "{} is missing: pass --data DIR (the synthetic folder)",
            measurements_csv.display()
        );
    }
    verval::Round::parse(&args.round)?;
    println!(
        "== verval-synthetic: stunted children in round {} ==",
        args.round
    );
    println!("data: {}", data.display());
    let mut phases: Vec<(&str, Duration)> = Vec::new();

    // --- inputs ---------------------------------------------------------
    let t = Instant::now();
    let parsed = tumbuh_server::import::read_file(&measurements_csv, None, &mut |_, _| {})
        .with_context(|| format!("cannot import {}", measurements_csv.display()))?;
    let areas = read_csv(&data.join("areas.csv"))?;
    let mut area_names: HashMap<String, String> = HashMap::new();
    let mut desa_codes: BTreeSet<String> = BTreeSet::new();
    for a in &areas {
        let code = field(a, "code")?.to_owned();
        if field(a, "level")? == "desa" || field(a, "level")? == "kelurahan" || code.len() == 10 {
            desa_codes.insert(code.clone());
        }
        area_names.insert(code, field(a, "name")?.to_owned());
    }
    let names = |code: &str| area_names.get(code).cloned();
    let mut child_of: HashMap<String, String> = HashMap::new();
    for r in read_csv(&data.join("truth.csv"))? {
        child_of.insert(
            field(&r, "record_id")?.to_owned(),
            field(&r, "child_id")?.to_owned(),
        );
    }
    let mut true_profile: BTreeMap<String, (Sex, NaiveDate, String)> = BTreeMap::new();
    for r in read_csv(&data.join("children_truth.csv"))? {
        let sex: Sex = field(&r, "sex")?
            .parse()
            .map_err(|e: String| anyhow::anyhow!(e))?;
        let birth = NaiveDate::parse_from_str(field(&r, "birth_date")?, "%Y-%m-%d")?;
        true_profile.insert(
            field(&r, "child_id")?.to_owned(),
            (sex, birth, field(&r, "home_posyandu_code")?.to_owned()),
        );
    }
    let regs = tumbuh_server::ingest::registrations(&parsed.rows);
    phases.push(("read and parse the CSVs", t.elapsed()));
    let round_rows = parsed
        .rows
        .iter()
        .filter(|r| r.measurement.is_some() && r.round.as_deref() == Some(args.round.as_str()))
        .count();
    println!(
        "measurements.csv: {} data rows, {} parsed ({} rejected by the importer), {} registrations \
         (identical identity fields), {} rows in round {}",
        parsed.total_rows,
        parsed.rows.len(),
        parsed.rejected_rows(),
        regs.len(),
        round_rows,
        args.round
    );

    // --- 1. rows --------------------------------------------------------
    let t = Instant::now();
    let per_row: Vec<RoundChild> = parsed
        .rows
        .iter()
        .filter(|r| r.measurement.is_some())
        .map(|r| {
            round_child(
                r.external_id.clone(),
                &r.posyandu,
                r.sex,
                r.birth_date,
                &[r],
            )
        })
        .collect();
    let rows = column(&per_row, &args.round, &names)?;
    phases.push(("rows: z-scores + count", t.elapsed()));

    // --- 2. tumbuh ------------------------------------------------------
    let scratch = sys::scratch_dir(dir, "tumbuh-verval-synthetic-")?;
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    let t = Instant::now();
    let storage = tumbuh_server::SqliteStorage::open(&scratch.path().join("server.db"))?;
    let outcome = storage.import("bench", "measurements.csv", &regs, now_ms)?;
    phases.push(("tumbuh: import into SQLite", t.elapsed()));
    let t = Instant::now();
    storage.project_all()?;
    phases.push(("tumbuh: project", t.elapsed()));
    let t = Instant::now();
    let dedup =
        tumbuh_server::dedup::run(&storage, "bench", &linkage::LinkConfig::default(), now_ms)?;
    // dedup::run projects its own merges before it returns.
    phases.push(("tumbuh: dedup::run", t.elapsed()));
    let t = Instant::now();
    let full_register = storage.register(&sync_protocol::Scope::All)?;
    let register: Vec<RoundChild> = full_register.iter().map(|r| r.child.clone()).collect();
    let tumbuh = column(&register, &args.round, &names)?;
    phases.push(("tumbuh: register + verval::compute", t.elapsed()));
    let t = Instant::now();
    let work = verval::worklist::worklist(
        &full_register,
        &args.round,
        None,
        verval::NikDisplay::Masked,
        &names,
    )?;
    phases.push(("tumbuh: reconcile + flags + worklist", t.elapsed()));
    let round_end = verval::Round::parse(&args.round)?;
    let (y, m) = round_end.year_month();
    let today = NaiveDate::from_ymd_opt(y, m, 28).unwrap_or(NaiveDate::MIN);
    let reconciled_children: Vec<RoundChild> = full_register
        .iter()
        .map(|rc| {
            verval::worklist::reconcile(rc, today).map_or_else(|| rc.child.clone(), |r| r.child)
        })
        .collect();
    let reconciled = column(&reconciled_children, &args.round, &names)?;
    println!(
        "tumbuh: imported {} registrations, {} measurements; dedup linked {} registrations \
         ({} candidate pairs), merged {}, {} pairs to review; register {} children",
        outcome.children_created,
        outcome.measurements_stored,
        dedup.registrations,
        dedup.candidate_pairs,
        dedup.merged,
        dedup.review_added,
        register.len()
    );

    // --- 3. perfect dedup, birth dates as entered -----------------------
    let t = Instant::now();
    let rows_by_id: HashMap<&str, &ImportRow> = parsed
        .rows
        .iter()
        .map(|r| (r.external_id.as_str(), r))
        .collect();
    // True child → its registrations (index into `regs`) and rows.
    let mut groups: BTreeMap<&str, (BTreeSet<usize>, Vec<&ImportRow>)> = BTreeMap::new();
    let mut unmatched = 0usize;
    for (i, reg) in regs.iter().enumerate() {
        let ids = reg
            .measurements
            .iter()
            .map(|m| m.external_id.as_str())
            .chain(reg.bare_rows.iter().map(String::as_str));
        for id in ids {
            let (Some(child), Some(row)) = (child_of.get(id), rows_by_id.get(id)) else {
                unmatched += 1;
                continue;
            };
            let g = groups.entry(child.as_str()).or_default();
            g.0.insert(i);
            g.1.push(row);
        }
    }
    if unmatched > 0 {
        println!(
            "warning: {unmatched} rows have no child in truth.csv and are left out of perfect/truth"
        );
    }
    // Which registration's birth date and sex: the child's *first* one — the
    // registration with the earliest measurement (ties: the first in file
    // order). It is the record the child was created from; every later
    // registration is a re-typing, and "perfect dedup" means keeping the
    // original record and folding the re-typings into it. (The server's
    // dedup keeps instead the most recently measured registration as the
    // survivor; the `perfect(surv)` column applies that rule to the true
    // groups, to separate survivor choice from linkage errors.)
    let first_date =
        |reg: &IncomingRegistration| reg.measurements.iter().map(|m| m.input.date).min();
    let latest_date =
        |reg: &IncomingRegistration| reg.measurements.iter().map(|m| m.input.date).max();
    let mut perfect_children = Vec::new();
    let mut survivor_children = Vec::new();
    for (child, (reg_ids, child_rows)) in &groups {
        let Some(&first) = reg_ids
            .iter()
            .min_by_key(|&&i| (first_date(&regs[i]).unwrap_or(NaiveDate::MAX), i))
        else {
            continue;
        };
        let p = &regs[first].profile;
        perfect_children.push(round_child(
            (*child).to_owned(),
            &p.posyandu,
            p.sex,
            p.birth_date,
            child_rows,
        ));
        // The server's survivor rule (dedup.rs): latest measurement, then most
        // rows, then the smallest child id.
        let Some(&surv) = reg_ids.iter().max_by(|&&a, &&b| {
            let (ra, rb) = (&regs[a], &regs[b]);
            latest_date(ra)
                .cmp(&latest_date(rb))
                .then(ra.measurements.len().cmp(&rb.measurements.len()))
                .then(rb.child.to_string().cmp(&ra.child.to_string()))
        }) else {
            continue;
        };
        let s = &regs[surv].profile;
        survivor_children.push(round_child(
            (*child).to_owned(),
            &s.posyandu,
            s.sex,
            s.birth_date,
            child_rows,
        ));
    }
    let perfect = column(&perfect_children, &args.round, &names)?;
    let perfect_surv = column(&survivor_children, &args.round, &names)?;
    phases.push((
        "perfect: group by truth + z-scores + count (both rules)",
        t.elapsed(),
    ));

    // --- 4. truth -------------------------------------------------------
    let t = Instant::now();
    let mut truth_children = Vec::new();
    let mut missing_truth = 0usize;
    for (child, (_, child_rows)) in &groups {
        let Some((sex, birth, home)) = true_profile.get(*child) else {
            missing_truth += 1;
            continue;
        };
        truth_children.push(round_child(
            (*child).to_owned(),
            home,
            *sex,
            *birth,
            child_rows,
        ));
    }
    if missing_truth > 0 {
        println!("warning: {missing_truth} true children missing from children_truth.csv");
    }
    let truth = column(&truth_children, &args.round, &names)?;
    phases.push(("truth: z-scores + count", t.elapsed()));

    // --- table ----------------------------------------------------------
    println!();
    println!(
        "children measured in the round (any z): rows {}, tumbuh {}, perfect {}, truth {}",
        rows.children_measured,
        tumbuh.children_measured,
        perfect.children_measured,
        truth.children_measured
    );
    println!();
    println!(
        "| desa | name | rows | tumbuh | tumbuh reconciled | perfect (as entered) | perfect(surv) | truth |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|---:|");
    let mut codes = desa_codes;
    for c in [&rows, &tumbuh, &reconciled, &perfect, &perfect_surv, &truth] {
        codes.extend(c.by_desa.keys().cloned());
    }
    let get = |c: &Column, code: &str| c.by_desa.get(code).copied().unwrap_or(0);
    for code in &codes {
        println!(
            "| {code} | {} | {} | {} | {} | {} | {} | {} |",
            names(code).unwrap_or_default(),
            get(&rows, code),
            get(&tumbuh, code),
            get(&reconciled, code),
            get(&perfect, code),
            get(&perfect_surv, code),
            get(&truth, code)
        );
    }
    println!(
        "| **total** | | **{}** | **{}** | **{}** | **{}** | **{}** | **{}** |",
        rows.total, tumbuh.total, reconciled.total, perfect.total, perfect_surv.total, truth.total
    );
    println!();
    println!(
        "overcount vs truth: rows/truth {}, tumbuh/truth {}, perfect/truth {}, perfect(surv)/truth {}",
        ratio(rows.total, truth.total),
        ratio(tumbuh.total, truth.total),
        ratio(perfect.total, truth.total),
        ratio(perfect_surv.total, truth.total)
    );
    let dup = rows.total as i64 - perfect.total as i64;
    let removed = rows.total as i64 - tumbuh.total as i64;
    println!(
        "duplicate-caused overcount (rows − perfect) = {dup}; removed by dedup (rows − tumbuh) = {removed}; \
         share removed (rows − tumbuh)/(rows − perfect) = {}",
        if dup == 0 {
            "-".to_owned()
        } else {
            format!("{:.1} %", 100.0 * removed as f64 / dup as f64)
        }
    );
    // Who is on each list, by true child: duplicates (one true child listed
    // twice), children not stunted by their true birth date and sex, and
    // truly stunted children the column misses.
    let true_of_measurement: HashMap<String, &str> = parsed
        .rows
        .iter()
        .filter_map(|r| {
            let child = child_of.get(&r.external_id)?;
            Some((
                tumbuh_server::ingest::measurement_id(&r.external_id).to_string(),
                child.as_str(),
            ))
        })
        .collect();
    let true_children = |c: &Column| -> Vec<&str> {
        c.listed
            .iter()
            .filter_map(|m| true_of_measurement.get(m).copied())
            .collect()
    };
    let truly: BTreeSet<&str> = true_children(&truth).into_iter().collect();
    println!();
    println!(
        "by true child (listed = stunted total; truth list = {} children):",
        truly.len()
    );
    for (label, c) in [
        ("rows", &rows),
        ("tumbuh", &tumbuh),
        ("reconciled", &reconciled),
        ("perfect", &perfect),
        ("perfect(surv)", &perfect_surv),
    ] {
        let listed = true_children(c);
        let distinct: BTreeSet<&str> = listed.iter().copied().collect();
        println!(
            "  {label:<14} listed {:>4}, distinct true children {:>4}, listed twice+ {:>3}, \
             not stunted in truth {:>3}, truly stunted missed {:>3}",
            listed.len(),
            distinct.len(),
            listed.len() - distinct.len(),
            distinct.difference(&truly).count(),
            truly.difference(&distinct).count()
        );
    }
    // The worklist against the truth: of the children the reconciled figure
    // misclassifies (stunted by it and not in truth, or the reverse), how
    // many the worklist asks to check.
    let sum = &work.summary;
    println!();
    println!(
        "verification: as recorded {} stunted, reconciled {} (truth {}); birth dates changed {}, \
         sexes changed {}; flagged {}, worklist {} (may leave {}, may join {})",
        sum.as_recorded.stunted,
        sum.reconciled.stunted,
        truth.total,
        sum.birth_dates_changed,
        sum.sexes_changed,
        sum.flagged,
        sum.unverified,
        sum.may_leave,
        sum.may_join
    );
    let listed: BTreeSet<&str> = true_children(&reconciled).into_iter().collect();
    let wrong: BTreeSet<&str> = listed.symmetric_difference(&truly).copied().collect();
    let on_worklist: BTreeSet<&str> = work
        .entries
        .iter()
        .filter_map(|e| true_of_measurement.get(&e.measurement_id).copied())
        .collect();
    println!(
        "misclassified by the reconciled figure: {} true children ({} false stunted, {} missed); \
         on the worklist: {}",
        wrong.len(),
        listed.difference(&truly).count(),
        truly.difference(&listed).count(),
        wrong.intersection(&on_worklist).count()
    );
    let before: BTreeSet<&str> = true_children(&tumbuh).into_iter().collect();
    let wrong_before: BTreeSet<&str> = before.symmetric_difference(&truly).copied().collect();
    println!(
        "misclassified as recorded: {} true children; on the worklist: {}",
        wrong_before.len(),
        wrong_before.intersection(&on_worklist).count()
    );
    println!("flags (children, resolved or not):");
    for (code, n) in &sum.flag_counts {
        println!("  {code:<30} {n}");
    }
    println!();
    println!("time per phase:");
    for (what, d) in &phases {
        println!("  {what:<58} {}", ms(*d));
    }
    Ok(())
}
