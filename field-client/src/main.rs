//! `tumbuh`: the field client binary. Parses the command line, sets up
//! logging (stderr, `TUMBUH_LOG`), and hands over to the library.

use std::process::ExitCode;

use clap::Parser;
use field_client::cli::Cli;
use field_client::commands::{self, Context};
use field_client::i18n::{Lang, UserError};
use field_client::store::Failpoint;

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("TUMBUH_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .init();
    let lang = cli.lang;
    let json = cli.json;
    let Some(db) = cli.db.clone().or_else(field_client::default_db_path) else {
        eprintln!(
            "{}",
            lang.pick(
                "tidak ada folder data di perangkat ini: beri --db PATH",
                "this device has no data folder: give --db PATH"
            )
        );
        return ExitCode::from(2);
    };
    let now = chrono::Local::now();
    let ctx = Context {
        db,
        lang,
        json,
        today: now.date_naive(),
        now_ms: now.timestamp_millis(),
        failpoint: match std::env::var("TUMBUH_FAILPOINT").as_deref() {
            Ok("abort-before-commit") => Some(Failpoint::AbortBeforeCommit),
            Ok("pause-before-commit") => Some(Failpoint::PauseBeforeCommit),
            _ => None,
        },
    };
    let mut stdout = std::io::stdout().lock();
    match commands::run(cli, &ctx, &mut stdout) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => report_error(&err, lang, json),
    }
}

fn report_error(err: &anyhow::Error, lang: Lang, json: bool) -> ExitCode {
    if let Some(user) = err.downcast_ref::<UserError>() {
        if json {
            let mut v = user.json.clone().unwrap_or_else(|| serde_json::json!({}));
            v["message"] = serde_json::Value::String(user.text(lang).to_string());
            println!("{v}");
        }
        eprintln!("{}: {}", lang.pick("galat", "error"), user.text(lang));
        return ExitCode::from(user.exit_code);
    }
    eprintln!("{}: {err:#}", lang.pick("galat", "error"));
    ExitCode::FAILURE
}
