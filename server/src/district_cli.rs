//! The district team's commands: import field files, run the dedup, merge
//! and unmerge by hand, work through the review queue. Thin: each command
//! parses its arguments, calls the library and prints.

use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use sync_protocol::ChildId;
use tumbuh_server::storage::{MergeDecision, MergeRecord, ReviewItem};
use tumbuh_server::{Storage, dedup, import, ingest, review};

/// Who the audit log names for commands run on the server itself.
pub const ADMIN_CLI: &str = tumbuh_server::storage::ADMIN_CLI;

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The file: the field-row CSV layout, or an e-PPGBM export (.csv,
    /// .xlsx, or the .xls that is an HTML table).
    pub file: PathBuf,
    /// Dry run: read and check every row, list the bad ones, store nothing.
    #[arg(long)]
    pub check: bool,
    /// Area names → codes (layout `code,level,name,parent_code`), for
    /// e-PPGBM files whose area columns hold names; stored in the database
    /// as `areas import` does. Without it the stored directory is used.
    #[arg(long, value_name = "areas.csv")]
    pub areas: Option<PathBuf>,
    /// Do not run the dedup after the import.
    #[arg(long)]
    pub no_dedup: bool,
}

#[derive(Debug, Subcommand)]
pub enum AreasCommand {
    /// Store the area directory (`code,level,name,parent_code`, the layout
    /// of areas.csv) in the database: e-PPGBM imports find their posyandu
    /// codes in it and reports their area names, without `--areas`. Run it
    /// again after the file changes: areas are updated by code, none removed.
    Import {
        #[arg(value_name = "areas.csv")]
        file: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum ReviewCommand {
    /// The open pairs, most important first: stunted children and children
    /// measured towards the coming verval round (February or August), then
    /// the highest score.
    List {
        /// `open` (default), `accepted`, `rejected`, `stale` or `all`.
        #[arg(long, default_value = "open")]
        status: String,
        #[arg(long, default_value_t = 50)]
        limit: usize,
    },
    /// One pair side by side with the evidence and both growth trajectories.
    Show {
        id: i64,
        /// Show NIK and KK numbers whole (audited).
        #[arg(long)]
        reveal: bool,
    },
    /// The two are one child: merge them.
    Accept {
        id: i64,
        /// Which of the two survives (default: the one measured most recently).
        #[arg(long, value_name = "CHILD")]
        survivor: Option<ChildId>,
    },
    /// The two are different children: keep them apart for good.
    Reject { id: i64 },
}

fn print_merge(m: &MergeRecord) {
    println!(
        "merge {}: {} → {} ({}, score {}){}",
        m.id,
        m.duplicate,
        m.survivor,
        m.source,
        m.score
            .map(|s| format!("{s:.3}"))
            .unwrap_or_else(|| "-".into()),
        if m.undone_at_ms.is_some() {
            "  [undone]"
        } else {
            ""
        }
    );
}

fn print_review_line(r: &ReviewItem) {
    println!(
        "#{:<5} {:<8} p={:.3} priority {}  {}  {}",
        r.id, r.status, r.score, r.priority, r.child_a, r.child_b
    );
}

fn read_area_file(path: &std::path::Path) -> anyhow::Result<import::AreaDirectory> {
    import::AreaDirectory::from_path(path)
        .with_context(|| format!("cannot read the area list {}", path.display()))
}

/// The area directory stored in the database (`None` when none was stored).
fn stored_areas(storage: &dyn Storage) -> anyhow::Result<Option<import::AreaDirectory>> {
    let entries = storage.areas()?;
    if entries.is_empty() {
        return Ok(None);
    }
    Ok(Some(import::AreaDirectory::from_entries(&entries)?))
}

pub fn areas_command(
    storage: &dyn Storage,
    cmd: &AreasCommand,
    json: bool,
    now_ms: i64,
) -> anyhow::Result<()> {
    match cmd {
        AreasCommand::Import { file } => {
            let dir = read_area_file(file)?;
            if dir.is_empty() {
                bail!("{} lists no area", file.display());
            }
            let stored = storage.store_areas(&dir.entries(), ADMIN_CLI, now_ms)?;
            if json {
                return crate::print_json(&stored);
            }
            println!(
                "area directory {}: {} areas added, {} changed, {} unchanged",
                file.display(),
                stored.added,
                stored.changed,
                stored.unchanged
            );
            Ok(())
        }
    }
}

/// A spinner on stderr for a step whose length is unknown (hidden, like the
/// reading bar, when stderr is not a terminal).
fn spinner(message: String) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new_spinner();
    bar.set_style(
        indicatif::ProgressStyle::with_template("{spinner} {msg} ({elapsed})")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
    );
    bar.set_message(message);
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    bar
}

pub fn import(
    storage: &dyn Storage,
    args: &ImportArgs,
    json: bool,
    now_ms: i64,
) -> anyhow::Result<()> {
    // A directory given now is stored (below, unless --check); otherwise
    // the stored one serves, and an e-PPGBM file without either is refused
    // by the reader with what to do.
    let areas = area_names(storage, args.areas.as_ref())?;
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{msg} [{bar:30}] {percent}% ({eta})")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar.set_message("reading");
    let parsed = import::read_file(&args.file, areas.as_ref(), &mut |done, total| {
        bar.set_length(total);
        bar.set_position(done);
    })
    .with_context(|| format!("cannot import {}", args.file.display()));
    bar.finish_and_clear();
    let parsed = parsed?;
    let rejected = parsed.rejected_rows();
    let file_name = args
        .file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if !json {
        for p in &parsed.problems {
            eprintln!("{}: {p}", args.file.display());
        }
        if !parsed.ignored_columns.is_empty() {
            eprintln!("columns not read: {}", parsed.ignored_columns.join(", "));
        }
        if !parsed.missing_columns.is_empty() {
            eprintln!(
                "columns missing (left empty): {}",
                parsed.missing_columns.join(", ")
            );
        }
    }
    let registrations = ingest::registrations(&parsed.rows);
    if args.check {
        if json {
            return crate::print_json(&serde_json::json!({
                "check": true, "format": format!("{:?}", parsed.format), "rows": parsed.total_rows,
                "valid": parsed.rows.len(), "rejected": rejected,
                "registrations": registrations.len(),
                "problems": parsed.problems.iter().map(|p| p.to_string()).collect::<Vec<_>>(),
                "ignored_columns": parsed.ignored_columns, "missing_columns": parsed.missing_columns,
            }));
        }
        println!(
            "check only, nothing stored: {} rows, {} valid ({} registrations), {} rejected",
            parsed.total_rows,
            parsed.rows.len(),
            registrations.len(),
            rejected
        );
        return Ok(());
    }
    if let (Some(_), Some(dir)) = (&args.areas, &areas) {
        storage.store_areas(&dir.entries(), ADMIN_CLI, now_ms)?;
    }
    // Storing is one transaction with no progress to report inside it, the
    // dedup a run of unknown length: spinners, so a long import does not
    // look stuck after the reading bar.
    let step = spinner(format!("storing {} registrations", registrations.len()));
    let outcome = storage.import(ADMIN_CLI, &file_name, &registrations, now_ms);
    step.finish_and_clear();
    let outcome = outcome?;
    let step = spinner("computing z-scores".into());
    let projected = storage.project_all();
    step.finish_and_clear();
    projected?;
    let dedup = if args.no_dedup {
        None
    } else {
        let step = spinner("looking for duplicate registrations".into());
        let report = dedup::run(storage, ADMIN_CLI, &linkage::LinkConfig::default(), now_ms);
        step.finish_and_clear();
        Some(report?)
    };
    if json {
        return crate::print_json(&serde_json::json!({
            "rows": parsed.total_rows, "rejected": rejected, "stored": outcome, "dedup": dedup,
        }));
    }
    println!(
        "imported {}: {} rows, {} rejected; {} measurements stored ({} rows imported before), {} new registrations, {} updated",
        args.file.display(),
        parsed.total_rows,
        rejected,
        outcome.measurements_stored,
        outcome.already_imported,
        outcome.children_created,
        outcome.children_updated
    );
    if let Some(d) = dedup {
        println!(
            "dedup: {} registrations, {} merged now, {} pairs added to the review queue",
            d.registrations, d.merged, d.review_added
        );
    }
    Ok(())
}

pub fn run_dedup(storage: &dyn Storage, full: bool, json: bool, now_ms: i64) -> anyhow::Result<()> {
    let report = dedup::run_with(
        storage,
        ADMIN_CLI,
        &linkage::LinkConfig::default(),
        full,
        now_ms,
    )?;
    if json {
        return crate::print_json(&report);
    }
    println!(
        "dedup ({}): {} registrations ({} new or changed), {} compared pairs, {} merged now, {} clusters kept apart by a person, {} pairs added to review, {:.2} s",
        if report.full {
            "weights estimated anew"
        } else {
            "incremental"
        },
        report.registrations,
        report.changed,
        report.candidate_pairs,
        report.merged,
        report.kept_apart,
        report.review_added,
        report.took.as_secs_f64()
    );
    Ok(())
}

pub fn merge(
    storage: &dyn Storage,
    survivor: ChildId,
    duplicate: ChildId,
    reason: &str,
    json: bool,
    now_ms: i64,
) -> anyhow::Result<()> {
    let m = storage.merge(
        survivor,
        duplicate,
        &MergeDecision {
            who: ADMIN_CLI.into(),
            source: "manual",
            score: None,
            evidence: reason.to_owned(),
        },
        now_ms,
    )?;
    storage.project_all()?;
    if json {
        return crate::print_json(&m);
    }
    print_merge(&m);
    Ok(())
}

pub fn unmerge(storage: &dyn Storage, id: i64, json: bool, now_ms: i64) -> anyhow::Result<()> {
    let m = storage.unmerge(id, ADMIN_CLI, now_ms)?;
    storage.project_all()?;
    if json {
        return crate::print_json(&m);
    }
    print_merge(&m);
    println!("the two are kept apart from now on");
    Ok(())
}

pub fn merges(storage: &dyn Storage, all: bool, json: bool) -> anyhow::Result<()> {
    let list = storage.merges(!all)?;
    if json {
        return crate::print_json(&list);
    }
    if list.is_empty() {
        println!("no merges");
    }
    for m in &list {
        print_merge(m);
    }
    Ok(())
}

pub fn review_command(
    storage: &dyn Storage,
    cmd: &ReviewCommand,
    json: bool,
    now_ms: i64,
) -> anyhow::Result<()> {
    match cmd {
        ReviewCommand::List { status, limit } => {
            let filter = match status.as_str() {
                "all" => None,
                "open" | "accepted" | "rejected" | "stale" => Some(status.as_str()),
                other => {
                    bail!("`{other}` is not a status: use open, accepted, rejected, stale or all")
                }
            };
            let list = storage.reviews(&tumbuh_server::storage::ReviewQuery {
                status: filter,
                scope: &sync_protocol::Scope::All,
                today: chrono::Local::now().date_naive(),
                limit: *limit,
            })?;
            if json {
                return crate::print_json(&list);
            }
            if list.is_empty() {
                println!("the review queue is empty");
            }
            for r in &list {
                print_review_line(r);
            }
            Ok(())
        }
        ReviewCommand::Show { id, reveal } => {
            let Some(v) = review::view(storage, *id, *reveal, chrono::Local::now().date_naive())?
            else {
                bail!("no review pair number {id}");
            };
            storage.audit(
                now_ms,
                ADMIN_CLI,
                "review.read",
                &format!("{} {}", v.item.child_a, v.item.child_b),
                &format!("review={id} reveal={reveal}"),
            )?;
            if json {
                return crate::print_json(&v);
            }
            print_review_line(&v.item);
            println!("evidence: {}", v.item.evidence);
            println!();
            println!("  {:<12} {:<32} {:<32}", "", "A", "B");
            for f in &v.fields {
                println!(
                    "{} {:<12} {:<32} {:<32}",
                    if f.same { " " } else { "≠" },
                    f.field,
                    f.a.as_deref().unwrap_or("-"),
                    f.b.as_deref().unwrap_or("-")
                );
            }
            for (label, d) in [("A", &v.a), ("B", &v.b)] {
                println!();
                println!("{label} measurements:");
                for m in &d.measurements {
                    println!(
                        "  {}  {:>6} kg  {:>6} cm  HAZ {:>6}{}",
                        m.date,
                        m.weight_kg
                            .map(|w| format!("{w:.1}"))
                            .unwrap_or_else(|| "-".into()),
                        m.length_cm
                            .map(|l| format!("{l:.1}"))
                            .unwrap_or_else(|| "-".into()),
                        m.haz
                            .map(|z| format!("{z:.2}"))
                            .unwrap_or_else(|| "-".into()),
                        if m.voided.is_some() { "  (voided)" } else { "" }
                    );
                }
            }
            Ok(())
        }
        ReviewCommand::Accept { id, survivor } => {
            let (item, merge) = review::accept(storage, *id, *survivor, ADMIN_CLI, now_ms)?;
            storage.project_all()?;
            if json {
                return crate::print_json(&serde_json::json!({ "review": item, "merge": merge }));
            }
            print_review_line(&item);
            if let Some(m) = &merge {
                print_merge(m);
            }
            Ok(())
        }
        ReviewCommand::Reject { id } => {
            let (item, _) = storage.decide_review(*id, None, ADMIN_CLI, now_ms)?;
            if json {
                return crate::print_json(&item);
            }
            print_review_line(&item);
            println!("the two are kept apart from now on");
            Ok(())
        }
    }
}

/// Output formats of `verval`.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum VervalFormat {
    Table,
    Csv,
    Json,
    Xlsx,
}

/// `verval`: the report, or one of its subcommands.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct VervalCommand {
    #[command(subcommand)]
    pub sub: Option<VervalSub>,
    #[command(flatten)]
    pub report: VervalArgs,
}

#[derive(Debug, Subcommand)]
pub enum VervalSub {
    /// The children whose classification a check could change (placeholder
    /// or disputed birth dates, jumps, shrinking, implausible values, …),
    /// most consequential first, with the figures as recorded and reconciled.
    Worklist(WorklistArgs),
    /// Record a check on the server (it reaches the devices at their next
    /// sync): a birth date or sex read from a document, or the record
    /// confirmed as correct. Re-measurements are taken in the field
    /// (`tumbuh verify --remeasure`).
    Verify(VerifyArgs),
}

/// Output formats of `verval worklist`.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum WorklistFormat {
    Table,
    Csv,
    Json,
}

#[derive(Debug, Args)]
pub struct WorklistArgs {
    /// The round, `YYYY-MM`.
    #[arg(long)]
    pub round: String,
    /// Only children measured in this area (a kabupaten, kecamatan, desa or posyandu code).
    #[arg(long, value_name = "CODE")]
    pub area: Option<String>,
    #[arg(long, value_enum, default_value = "table")]
    pub format: WorklistFormat,
    /// Write here instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Area names (layout `code,level,name,parent_code`); without it, the
    /// directory stored by `areas import`.
    #[arg(long, value_name = "areas.csv")]
    pub areas: Option<PathBuf>,
    /// Show NIKs whole and the free-text addresses (audited as a reveal);
    /// otherwise NIKs are masked and addresses withheld. `--reveal-nik` is
    /// the older name.
    #[arg(long, alias = "reveal-nik")]
    pub reveal: bool,
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("check").required(true).args(["birth_date", "sex", "confirmed"])))]
pub struct VerifyArgs {
    /// The child (its id, as the worklist shows it).
    pub child: ChildId,
    /// The birth date read from a document (needs --source).
    #[arg(long, value_name = "YYYY-MM-DD", requires = "source")]
    pub birth_date: Option<chrono::NaiveDate>,
    /// The sex read from a document, L or P (needs --source).
    #[arg(long, requires = "source")]
    pub sex: Option<sync_protocol::Sex>,
    /// The document: kia (buku KIA), kk (Kartu Keluarga) or akta.
    #[arg(long)]
    pub source: Option<sync_protocol::DocumentSource>,
    /// The record was checked and is correct as it stands.
    #[arg(long)]
    pub confirmed: bool,
    /// The round the check was made for, `YYYY-MM`.
    #[arg(long)]
    pub round: Option<String>,
    /// Who checked (name or role; goes to the audit log).
    #[arg(long)]
    pub by: String,
}

#[derive(Debug, Args)]
pub struct VervalArgs {
    /// The round, `YYYY-MM` (February and August are the verval months).
    #[arg(long, required = true)]
    pub round: Option<String>,
    /// Compare with this earlier round: new, still stunted, recovered, not
    /// re-measured, moved.
    #[arg(long, value_name = "YYYY-MM")]
    pub previous: Option<String>,
    /// Only this area (a kabupaten, kecamatan, desa or posyandu code).
    #[arg(long, value_name = "CODE")]
    pub area: Option<String>,
    #[arg(long, value_enum, default_value = "table")]
    pub format: VervalFormat,
    /// Write here instead of standard output (required for xlsx).
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// CSV only: also write the by-name-by-address list of stunted children here.
    #[arg(long, value_name = "FILE.csv")]
    pub list: Option<PathBuf>,
    /// Area names (layout `code,level,name,parent_code`); without it, the
    /// directory stored by `areas import`.
    #[arg(long, value_name = "areas.csv")]
    pub areas: Option<PathBuf>,
    /// Show NIKs whole and the free-text addresses in the lists (audited as
    /// a reveal); otherwise NIKs are masked and addresses withheld.
    /// `--reveal-nik` is the older name.
    #[arg(long, alias = "reveal-nik")]
    pub reveal: bool,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// One row per child measured in this round (its round measurement);
    /// without it, one row per child with its latest measurement.
    #[arg(long, value_name = "YYYY-MM")]
    pub round: Option<String>,
    /// Only this area.
    #[arg(long, value_name = "CODE")]
    pub area: Option<String>,
    /// `.csv` or `.xlsx` (by extension).
    #[arg(long, short, value_name = "FILE")]
    pub output: PathBuf,
    /// Area names (layout `code,level,name,parent_code`); without it, the
    /// directory stored by `areas import`.
    #[arg(long, value_name = "areas.csv")]
    pub areas: Option<PathBuf>,
    /// Write NIKs and street addresses in full (as an upload to e-PPGBM
    /// needs; audited). Without it NIKs are masked (`3530********0012`) and
    /// the free-text address left out: exports travel.
    #[arg(long)]
    pub reveal: bool,
}

/// The area directory for an import or a report: the file given, else the
/// stored one (`None` when neither exists: reports show codes alone).
fn area_names(
    storage: &dyn Storage,
    path: Option<&PathBuf>,
) -> anyhow::Result<Option<import::AreaDirectory>> {
    match path {
        Some(p) => Ok(Some(read_area_file(p)?)),
        None => stored_areas(storage),
    }
}

fn scope_of(area: Option<&str>) -> anyhow::Result<sync_protocol::Scope> {
    Ok(match area {
        Some(a) => sync_protocol::Scope::Areas(vec![
            sync_protocol::AreaCode::parse(a).with_context(|| format!("--area {a}"))?,
        ]),
        None => sync_protocol::Scope::All,
    })
}

/// Streams a report into `path` (buffered, via a temporary file and a
/// rename: no half-written report).
fn write_stream(
    path: &std::path::Path,
    write: impl FnOnce(&mut dyn std::io::Write) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    crate::write_via_temp(path, |tmp| {
        let mut f = std::io::BufWriter::new(
            std::fs::File::create(tmp)
                .with_context(|| format!("cannot write {}", tmp.display()))?,
        );
        write(&mut f)?;
        std::io::Write::flush(&mut f)?;
        Ok(())
    })
}

pub fn verval(
    storage: &dyn Storage,
    args: &VervalArgs,
    json: bool,
    now_ms: i64,
) -> anyhow::Result<()> {
    use tumbuh_server::verval;
    let names = area_names(storage, args.areas.as_ref())?;
    let lookup = |code: &str| names.as_ref().and_then(|n| n.name(code).map(str::to_owned));
    storage.project_all()?;
    // Children registered outside the area may be measured in it: read the
    // whole register and let the report attribute by where they were measured.
    let register = storage.register(&sync_protocol::Scope::All)?;
    let display = verval::NikDisplay::revealed_if(args.reveal);
    let Some(round) = args.round.as_deref() else {
        bail!("--round YYYY-MM is required");
    };
    let report = verval::report(
        &register,
        round,
        args.previous.as_deref(),
        args.area.as_deref(),
        display,
        &lookup,
    )?;
    // As on the API: a reveal is its own action under the read's name.
    storage.audit(
        now_ms,
        ADMIN_CLI,
        if args.reveal {
            "verval.report.reveal"
        } else {
            "verval.report"
        },
        args.area.as_deref().unwrap_or("all"),
        &format!(
            "round={} previous={} stunted_listed={} reveal={}",
            round,
            args.previous.as_deref().unwrap_or("-"),
            report.stunted_list.len(),
            if args.reveal { "nik,address" } else { "no" }
        ),
    )?;
    let to_output = |write: &dyn Fn(&mut dyn std::io::Write) -> Result<(), verval::VervalError>| -> anyhow::Result<()> {
        match &args.output {
            Some(path) => write_stream(path, |f| Ok(write(f)?)),
            None => {
                let mut out = std::io::stdout().lock();
                write(&mut out)?;
                Ok(())
            }
        }
    };
    match args.format {
        VervalFormat::Table => to_output(&|w| verval::write_table(&report, w))?,
        VervalFormat::Json => to_output(&|w| verval::write_json(&report, w))?,
        VervalFormat::Csv => {
            to_output(&|w| verval::write_csv(&report, w))?;
            if let Some(list) = &args.list {
                write_stream(list, |f| Ok(verval::write_list_csv(&report, f)?))?;
            }
        }
        VervalFormat::Xlsx => {
            let Some(path) = &args.output else {
                bail!("--format xlsx needs --output FILE.xlsx");
            };
            crate::write_via_temp(path, |tmp| Ok(verval::write_xlsx(&report, tmp)?))?;
        }
    }
    if let Some(path) = &args.output {
        if json {
            return crate::print_json(&serde_json::json!({
                "round": report.round, "written": path, "list": args.list,
                "stunted": report.total.stunted, "measured": report.total.measured,
            }));
        }
        eprintln!(
            "verval {}: {} stunted of {} measured; written to {}",
            report.round,
            report.total.stunted,
            report.total.measured,
            path.display()
        );
    }
    Ok(())
}

pub fn worklist(
    storage: &dyn Storage,
    args: &WorklistArgs,
    json: bool,
    now_ms: i64,
) -> anyhow::Result<()> {
    use tumbuh_server::verval;
    let names = area_names(storage, args.areas.as_ref())?;
    let lookup = |code: &str| names.as_ref().and_then(|n| n.name(code).map(str::to_owned));
    storage.project_all()?;
    let register = storage.register(&sync_protocol::Scope::All)?;
    let display = verval::NikDisplay::revealed_if(args.reveal);
    let list = verval::worklist::worklist(
        &register,
        &args.round,
        args.area.as_deref(),
        display,
        &lookup,
    )?;
    storage.audit(
        now_ms,
        ADMIN_CLI,
        if args.reveal {
            "verval.worklist.reveal"
        } else {
            "verval.worklist"
        },
        args.area.as_deref().unwrap_or("all"),
        &format!(
            "round={} listed={} reveal={}",
            args.round,
            list.entries.len(),
            if args.reveal { "nik,address" } else { "no" }
        ),
    )?;
    let write = |w: &mut dyn std::io::Write| -> Result<(), verval::VervalError> {
        match args.format {
            WorklistFormat::Table => verval::write_worklist_table(&list, w),
            WorklistFormat::Csv => verval::write_worklist_csv(&list, w),
            WorklistFormat::Json => {
                serde_json::to_writer_pretty(&mut *w, &list)?;
                writeln!(w)?;
                Ok(())
            }
        }
    };
    match &args.output {
        Some(path) => {
            write_stream(path, |f| Ok(write(f)?))?;
            let s = &list.summary;
            if json {
                return crate::print_json(&serde_json::json!({
                    "round": list.round, "written": path, "unverified": s.unverified,
                    "stunted_as_recorded": s.as_recorded.stunted,
                    "stunted_reconciled": s.reconciled.stunted,
                }));
            }
            eprintln!(
                "worklist {}: {} children to check (stunted as recorded {}, reconciled {}); written to {}",
                list.round,
                s.unverified,
                s.as_recorded.stunted,
                s.reconciled.stunted,
                path.display()
            );
        }
        None => write(&mut std::io::stdout().lock())?,
    }
    Ok(())
}

pub fn verify(
    storage: &dyn Storage,
    args: &VerifyArgs,
    json: bool,
    now_ms: i64,
) -> anyhow::Result<()> {
    use sync_protocol::{Check, Verification, VerificationId};
    if let Some(round) = &args.round {
        tumbuh_server::verval::Round::parse(round)?;
    }
    if args.by.trim().is_empty() {
        bail!("--by must name who checked");
    }
    let check = match (args.birth_date, args.sex, args.source, args.confirmed) {
        (Some(date), None, Some(source), false) => Check::BirthDate { date, source },
        (None, Some(sex), Some(source), false) => Check::Sex { sex, source },
        (None, None, None, true) => Check::Confirmed,
        _ => bail!(
            "record one check at a time: --birth-date D --source S, --sex L|P --source S, or --confirmed"
        ),
    };
    let v = Verification {
        id: VerificationId::new(),
        check,
        round: args.round.clone(),
        by: args.by.trim().to_owned(),
        recorded_at_ms: now_ms,
    };
    storage.verify(args.child, &v, now_ms)?;
    storage.project_all()?;
    if json {
        return crate::print_json(&serde_json::json!({
            "child": args.child.to_string(), "verification": v.id.to_string(),
            "check": v.check.kind(), "round": v.round,
        }));
    }
    println!(
        "recorded check {} ({}) on child {}; devices receive it at their next sync",
        v.id,
        v.check.kind(),
        args.child
    );
    Ok(())
}

pub fn export(
    storage: &dyn Storage,
    args: &ExportArgs,
    json: bool,
    now_ms: i64,
) -> anyhow::Result<()> {
    use tumbuh_server::verval::{self, export};
    let names = area_names(storage, args.areas.as_ref())?;
    let lookup = |code: &str| names.as_ref().and_then(|n| n.name(code).map(str::to_owned));
    // A bad round is refused before the projection runs.
    if let Some(round) = &args.round {
        verval::Round::parse(round)?;
    }
    storage.project_all()?;
    let register = storage.register(&scope_of(args.area.as_deref())?)?;
    let rows = export::export_rows(&register, args.round.as_deref(), args.reveal, &lookup)?;
    let xlsx = args
        .output
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("xlsx"));
    if xlsx {
        crate::write_via_temp(&args.output, |tmp| {
            Ok(export::write_ppgbm_xlsx(&rows, tmp)?)
        })?;
    } else {
        write_stream(&args.output, |f| Ok(export::write_ppgbm_csv(&rows, f)?))?;
    }
    storage.audit(
        now_ms,
        ADMIN_CLI,
        "export",
        args.area.as_deref().unwrap_or("all"),
        &export::audit_detail(args.round.as_deref(), rows.len(), args.reveal),
    )?;
    if json {
        return crate::print_json(
            &serde_json::json!({ "rows": rows.len(), "written": args.output }),
        );
    }
    eprintln!(
        "{} children written to {} (e-PPGBM layout)",
        rows.len(),
        args.output.display()
    );
    Ok(())
}
