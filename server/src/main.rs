//! `tumbuh-server`: the central server binary. Parses the command line and
//! hands over to the library; every command that uses the database takes
//! `--db` (env `TUMBUH_SERVER_DB`).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use sync_protocol::{AreaCode, Scope};
use tumbuh_server::{Limits, Role, SqliteStorage, Storage, bundle, enrol};

mod district_cli;
mod user_cli;

/// Tumbuh central server: sync for field devices, area-scoped, with WHO z-scores.
#[derive(Debug, Parser)]
#[command(name = "tumbuh-server", version, propagate_version = true)]
struct Cli {
    /// The server database (created on first start).
    #[arg(
        long,
        global = true,
        env = "TUMBUH_SERVER_DB",
        value_name = "PATH",
        default_value = "tumbuh-server.db"
    )]
    db: PathBuf,
    /// Print data as JSON.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the server.
    Serve {
        /// Address to listen on (port 0 picks a free port).
        #[arg(long, default_value = "127.0.0.1:8080", value_name = "ADDR")]
        listen: String,
        /// Serve HTTPS with this certificate chain (PEM).
        #[arg(long, value_name = "PEM", requires = "tls_key")]
        tls_cert: Option<PathBuf>,
        /// The certificate's private key (PEM).
        #[arg(long, value_name = "PEM", requires = "tls_cert")]
        tls_key: Option<PathBuf>,
        /// Requests per second allowed per token (bursts of 5x are allowed).
        #[arg(long, value_name = "N", default_value_t = 20)]
        rate_limit: u32,
        /// Run the dedup in the background this often (seconds) while new or
        /// changed registrations wait; 0 = only by `tumbuh-server dedup`.
        #[arg(long, value_name = "SECONDS", default_value_t = 300)]
        dedup_every: u64,
    },
    /// Deduplicate children: link field rows (measurements CSV) into clusters.
    Link {
        /// Measurements CSV (layout of the synced field rows).
        #[arg(long, value_name = "FILE.csv")]
        input: PathBuf,
        /// Output `record_id,cluster_id`.
        #[arg(long, value_name = "FILE.csv")]
        output: PathBuf,
        /// Also write the doubtful pairs for review.
        #[arg(long, value_name = "FILE.csv")]
        review: Option<PathBuf>,
    },
    /// Enrol and list devices.
    #[command(subcommand)]
    Device(DeviceCommand),
    /// People who sign in with a password (district, puskesmas, bidan
    /// staff, admins), separate from device tokens.
    #[command(subcommand)]
    User(user_cli::UserCommand),
    /// List open conflicts (fields two devices set to different values).
    Conflicts,
    /// Sync by file: import a device's bundle and write the reply.
    #[command(subcommand)]
    Bundle(BundleCommand),
    /// Counts: children, changes, projection backlog, devices.
    Status,
    /// The audit log: enrolments, revocations, bundle imports, by-name reads.
    Audit {
        /// Only entries from this day on (YYYY-MM-DD).
        #[arg(long, value_name = "DATE")]
        since: Option<chrono::NaiveDate>,
        /// Only entries by this enrolment id (or `admin-cli`).
        #[arg(long)]
        who: Option<String>,
        /// Only this action (e.g. `device.revoke`) or family (`device`).
        #[arg(long)]
        action: Option<String>,
    },
    /// Import field data (field-row CSV or e-PPGBM .csv/.xlsx/.xls): all
    /// valid rows in one transaction, bad rows reported; then the dedup.
    Import(district_cli::ImportArgs),
    /// The area directory the server keeps (codes, names, parents): what
    /// e-PPGBM imports and reports use when no `--areas` is given.
    #[command(subcommand)]
    Areas(district_cli::AreasCommand),
    /// Find the same child across registrations: merge the sure pairs,
    /// queue the doubtful ones for review. Compares only new or changed
    /// registrations with their blocks.
    Dedup {
        /// Estimate the weights anew from every blocked pair (they are
        /// otherwise reused until the register grows by a quarter).
        #[arg(long)]
        full: bool,
    },
    /// Merge a duplicate registration into a surviving one by hand.
    Merge {
        /// The registration that stays.
        survivor: sync_protocol::ChildId,
        /// The registration merged into it.
        duplicate: sync_protocol::ChildId,
        /// Why (goes to the audit log).
        #[arg(long, default_value = "merged by hand")]
        reason: String,
    },
    /// Undo a merge exactly (see `merges` for the numbers).
    Unmerge { merge: i64 },
    /// The merges made (active ones; `--all` includes undone ones).
    Merges {
        #[arg(long)]
        all: bool,
    },
    /// The verval report of a round: per area level, prevalence with 95%
    /// Wilson intervals, the by-name list of stunted children, the changes
    /// since a previous round, and the figures as recorded and reconciled.
    /// `verval worklist` lists the children to check; `verval verify` records
    /// a check.
    Verval(district_cli::VervalCommand),
    /// The register (or a round) in the e-PPGBM column layout, CSV or xlsx.
    Export(district_cli::ExportArgs),
    /// The review queue of doubtful pairs.
    #[command(subcommand)]
    Review(district_cli::ReviewCommand),
    /// Seed a small made-up district (two posyandu, 30 children, a year of
    /// measurements) and print tokens for two kader devices and the district.
    Demo,
}

#[derive(Debug, Subcommand)]
enum DeviceCommand {
    /// Enrol a device and print its token (shown once).
    Add {
        /// kader, bidan, puskesmas, district or admin.
        #[arg(long)]
        role: Role,
        /// Area code(s): a posyandu (kader), desa (bidan), desa list (puskesmas,
        /// comma-separated or repeated), kabupaten (district).
        #[arg(
            long,
            value_name = "CODE",
            required_unless_present = "all_areas",
            value_delimiter = ','
        )]
        area: Vec<String>,
        /// Admin only: every area.
        #[arg(long)]
        all_areas: bool,
        /// A name to recognise the device by (e.g. the kader's name).
        #[arg(long, default_value = "")]
        name: String,
        /// The token stops working after this many days (default: 365; 0 = never).
        #[arg(long, value_name = "DAYS", default_value_t = 365)]
        expires_days: u32,
    },
    /// List enrolled devices (revoked ones marked).
    List,
    /// Revoke a lost or stolen device: its next sync is refused; what it
    /// synced before is kept.
    Revoke {
        /// The device's enrolment id (from `device list`).
        id: uuid::Uuid,
    },
    /// Give a device a new token; the old one stops working at once.
    Rotate {
        id: uuid::Uuid,
        #[arg(long, value_name = "DAYS", default_value_t = 365)]
        expires_days: u32,
    },
}

#[derive(Debug, Subcommand)]
enum BundleCommand {
    /// Import a device's bundle and write the reply bundle for it.
    Import {
        /// The bundle file from `tumbuh bundle export`.
        file: PathBuf,
        /// Where to write the reply (give it back to the device).
        #[arg(long, value_name = "REPLY")]
        reply: PathBuf,
    },
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// The expiry time of a token valid for `days` (0 = never).
fn expiry(days: u32) -> Option<i64> {
    (days > 0).then(|| now_ms() + i64::from(days) * 86_400_000)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("TUMBUH_SERVER_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn open(cli: &Cli) -> anyhow::Result<Arc<SqliteStorage>> {
    let storage = SqliteStorage::open(&cli.db)
        .with_context(|| format!("cannot open the server database {}", cli.db.display()))?;
    Ok(Arc::new(storage))
}

fn print_json(value: &impl serde::Serialize) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer(&mut out, value)?;
    writeln!(out)?;
    out.flush()?;
    Ok(())
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match &cli.command {
        Command::Serve {
            listen,
            tls_cert,
            tls_key,
            rate_limit,
            dedup_every,
        } => {
            let tls = tls_cert
                .clone()
                .zip(tls_key.clone())
                .map(|(cert, key)| tumbuh_server::TlsFiles { cert, key });
            let limits = Limits {
                requests_per_second: *rate_limit,
                burst: rate_limit.saturating_mul(5),
                dedup_every: (*dedup_every > 0)
                    .then(|| std::time::Duration::from_secs(*dedup_every)),
                ..Limits::default()
            };
            serve(&cli, listen, tls, limits)
        }
        Command::Device(DeviceCommand::Add {
            role,
            area,
            all_areas,
            name,
            expires_days,
        }) => {
            let storage = open(&cli)?;
            let scope = if *all_areas {
                if *role != Role::Admin {
                    bail!("--all-areas is for admin only");
                }
                Scope::All
            } else {
                Scope::Areas(
                    area.iter()
                        .map(|a| AreaCode::parse(a))
                        .collect::<Result<Vec<_>, _>>()?,
                )
            };
            role.check_scope(&scope).map_err(anyhow::Error::msg)?;
            let (device, token) = enrol::enrol_until(
                storage.as_ref(),
                *role,
                scope,
                name,
                expiry(*expires_days),
                now_ms(),
            )?;
            if cli.json {
                print_json(&serde_json::json!({ "token": token, "device": device }))?;
            } else {
                println!(
                    "enrolled {} device {} ({}), area {}",
                    device.role.code(),
                    device.id,
                    if device.name.is_empty() {
                        "-"
                    } else {
                        &device.name
                    },
                    device.scope.to_text()
                );
                println!("token (shown once; give it to the device for `tumbuh login`):");
                println!("{token}");
            }
            Ok(())
        }
        Command::Device(DeviceCommand::List) => {
            let devices = open(&cli)?.devices()?;
            if cli.json {
                return print_json(&devices);
            }
            for d in devices {
                println!(
                    "{}  {:<9} {:<30} {}{}",
                    d.id,
                    d.role.code(),
                    d.scope.to_text(),
                    d.name,
                    if d.revoked_at_ms.is_some() {
                        "  (revoked)"
                    } else {
                        ""
                    }
                );
            }
            Ok(())
        }
        Command::Device(DeviceCommand::Revoke { id }) => {
            let device = enrol::revoke(open(&cli)?.as_ref(), *id, now_ms())?;
            if cli.json {
                return print_json(&device);
            }
            println!(
                "device {} ({} {}) revoked: its next sync is refused; what it synced is kept",
                device.id,
                device.role.code(),
                device.scope.to_text()
            );
            Ok(())
        }
        Command::Device(DeviceCommand::Rotate { id, expires_days }) => {
            let (device, token) =
                enrol::rotate(open(&cli)?.as_ref(), *id, expiry(*expires_days), now_ms())?;
            if cli.json {
                return print_json(&serde_json::json!({ "token": token, "device": device }));
            }
            println!(
                "new token for device {} (shown once; the old one no longer works):",
                device.id
            );
            println!("{token}");
            Ok(())
        }
        Command::Audit { since, who, action } => {
            let filter = tumbuh_server::storage::AuditFilter {
                since_ms: since
                    .and_then(|d| d.and_hms_opt(0, 0, 0))
                    .map(|t| t.and_utc().timestamp_millis()),
                who: who.clone(),
                action: action.clone(),
                limit: 0,
            };
            let entries = open(&cli)?.audit_log(&filter)?;
            if cli.json {
                return print_json(&entries);
            }
            for e in entries {
                let at = chrono::DateTime::from_timestamp_millis(e.at_ms)
                    .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
                    .unwrap_or_default();
                println!(
                    "{at}  {:<36}  {:<15} {} {}",
                    e.who, e.action, e.target, e.detail
                );
            }
            Ok(())
        }
        Command::Link {
            input,
            output,
            review,
        } => {
            let started = std::time::Instant::now();
            let out = tumbuh_server::link::run(input, output, review.as_deref())?;
            let l = &out.linkage;
            eprintln!(
                "link: {} rows, {} registrations, {} compared pairs, {} clusters, {} auto-merged pairs, {} review pairs, {:.2} s",
                out.records.len(),
                l.registrations,
                l.candidate_pairs,
                l.clusters,
                l.auto_merged,
                l.review.len(),
                started.elapsed().as_secs_f64()
            );
            Ok(())
        }
        Command::User(command) => user_cli::run(open(&cli)?.as_ref(), command, cli.json, now_ms()),
        Command::Conflicts => {
            let conflicts = open(&cli)?.conflicts(&Scope::All)?;
            if cli.json {
                return print_json(&serde_json::json!({ "conflicts": conflicts }));
            }
            if conflicts.is_empty() {
                println!("no open conflicts");
            }
            for c in conflicts {
                println!(
                    "child {} (posyandu {}): {} = {}",
                    c.child_id,
                    c.posyandu,
                    c.field,
                    c.values.join(" | ")
                );
            }
            Ok(())
        }
        Command::Bundle(BundleCommand::Import { file, reply }) => {
            let storage = open(&cli)?;
            let bytes = std::fs::read(file)
                .with_context(|| format!("cannot read bundle {}", file.display()))?;
            let done = bundle::import(storage.as_ref(), &bytes, now_ms())
                .with_context(|| format!("bundle {} refused", file.display()))?;
            write_atomically(reply, &done.reply)?;
            // Bring the projection up to date before returning: the command
            // runs without the server's worker.
            storage.project_all()?;
            let stored = done
                .response
                .acks
                .iter()
                .filter(|a| matches!(a, sync_protocol::wire::Ack::Stored))
                .count();
            let rejected = done.response.acks.len() - stored;
            let sent: usize = done.response.feed.iter().map(|g| g.changes.len()).sum();
            if cli.json {
                print_json(&serde_json::json!({
                    "device": done.device.id, "received": stored, "rejected": rejected,
                    "sent": sent, "more": done.response.more, "reply": reply,
                }))?;
            } else {
                println!(
                    "bundle from device {}: {stored} changes acknowledged, {rejected} rejected; reply with {sent} changes written to {}",
                    done.device.id,
                    reply.display()
                );
                if done.response.more {
                    println!(
                        "more changes wait for this device: import its next bundle to send them"
                    );
                }
            }
            Ok(())
        }
        Command::Demo => {
            let storage = open(&cli)?;
            if storage.stats()?.children > 0 {
                bail!(
                    "{} already holds children; the demo needs a new database (e.g. --db demo.db)",
                    cli.db.display()
                );
            }
            let demo = tumbuh_server::demo::seed(
                storage.as_ref(),
                chrono::Local::now().date_naive(),
                now_ms(),
            )?;
            if cli.json {
                return print_json(&demo);
            }
            println!(
                "demo district seeded in {}: {} children, {} measurements in posyandu {}",
                cli.db.display(),
                demo.children,
                demo.measurements,
                tumbuh_server::demo::POSYANDU.join(" and ")
            );
            for (role, area, token) in &demo.tokens {
                println!("  {role:<8} {area:<12}  {token}");
            }
            println!(
                "next: `tumbuh-server --db {} serve`, then on a device:",
                cli.db.display()
            );
            println!(
                "  tumbuh --db kader1.db init --posyandu {} --kader \"Kader 1\"",
                tumbuh_server::demo::POSYANDU[0]
            );
            println!(
                "  tumbuh --db kader1.db login --server http://127.0.0.1:8080 --token <kader token above>"
            );
            println!("  tumbuh --db kader1.db sync && tumbuh --db kader1.db child list --stunted");
            Ok(())
        }
        Command::Import(args) => {
            district_cli::import(open(&cli)?.as_ref(), args, cli.json, now_ms())
        }
        Command::Verval(command) => {
            let storage = open(&cli)?;
            match &command.sub {
                Some(district_cli::VervalSub::Worklist(args)) => {
                    district_cli::worklist(storage.as_ref(), args, cli.json, now_ms())
                }
                Some(district_cli::VervalSub::Verify(args)) => {
                    district_cli::verify(storage.as_ref(), args, cli.json, now_ms())
                }
                None => district_cli::verval(storage.as_ref(), &command.report, cli.json, now_ms()),
            }
        }
        Command::Export(args) => {
            district_cli::export(open(&cli)?.as_ref(), args, cli.json, now_ms())
        }
        Command::Dedup { full } => {
            district_cli::run_dedup(open(&cli)?.as_ref(), *full, cli.json, now_ms())
        }
        Command::Merge {
            survivor,
            duplicate,
            reason,
        } => district_cli::merge(
            open(&cli)?.as_ref(),
            *survivor,
            *duplicate,
            reason,
            cli.json,
            now_ms(),
        ),
        Command::Unmerge { merge } => {
            district_cli::unmerge(open(&cli)?.as_ref(), *merge, cli.json, now_ms())
        }
        Command::Merges { all } => district_cli::merges(open(&cli)?.as_ref(), *all, cli.json),
        Command::Review(cmd) => {
            district_cli::review_command(open(&cli)?.as_ref(), cmd, cli.json, now_ms())
        }
        Command::Areas(cmd) => {
            district_cli::areas_command(open(&cli)?.as_ref(), cmd, cli.json, now_ms())
        }
        Command::Status => {
            let stats = open(&cli)?.stats()?;
            if cli.json {
                return print_json(&stats);
            }
            println!(
                "{} children, {} changes (last #{}), {} devices, {} children waiting for projection",
                stats.children,
                stats.changes,
                stats.last_seq,
                stats.devices,
                stats.pending_projection
            );
            Ok(())
        }
    }
}

/// Writes a file via a temporary file and rename, so a crash never leaves
/// half a file under the final name.
fn write_atomically(path: &std::path::Path, bytes: &[u8]) -> anyhow::Result<()> {
    write_via_temp(path, |tmp| {
        std::fs::write(tmp, bytes).with_context(|| format!("cannot write {}", tmp.display()))
    })
}

/// Lets `write` fill a temporary file beside `path`, then renames it into
/// place: `path` is either complete or untouched.
fn write_via_temp(
    path: &std::path::Path,
    write: impl FnOnce(&std::path::Path) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let tmp = path.with_extension("partial");
    write(&tmp)?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))
}

fn serve(
    cli: &Cli,
    listen: &str,
    tls: Option<tumbuh_server::TlsFiles>,
    limits: Limits,
) -> anyhow::Result<()> {
    let storage = open(cli)?;
    let admin = enrol::ensure_admin(storage.as_ref(), now_ms())?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async {
        let listener = std::net::TcpListener::bind(listen)
            .with_context(|| format!("cannot listen on {listen}"))?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let scheme = if tls.is_some() { "https" } else { "http" };
        if cli.json {
            print_json(&serde_json::json!({
                "listening": format!("{scheme}://{addr}"), "db": cli.db, "admin_token": admin,
            }))?;
        } else {
            println!(
                "tumbuh-server listening on {scheme}://{addr} (database {})",
                cli.db.display()
            );
            if let Some(token) = &admin {
                println!("admin token (shown once, keep it safe): {token}");
            }
            std::io::stdout().flush()?;
        }
        match tls {
            Some(files) => {
                tumbuh_server::serve_tls(listener, storage, limits, &files, shutdown_signal())
                    .await?
            }
            None => {
                let listener = tokio::net::TcpListener::from_std(listener)?;
                tumbuh_server::serve(listener, storage, limits, shutdown_signal()).await?
            }
        }
        tracing::info!("stopped");
        Ok(())
    })
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}
