//! `tumbuh`: the field client binary. Parses the command line, sets up
//! logging (stderr, `TUMBUH_LOG`), reads the PIN (stdin, `TUMBUH_PIN`, or a
//! hidden prompt), and hands over to the library.

use std::io::{BufRead, IsTerminal};
use std::process::ExitCode;

use clap::Parser;
use field_client::cli::{Cli, PinNeed};
use field_client::commands::{self, Context};
use field_client::i18n::{Lang, UserError};
use field_client::pin::{KdfParams, Pin};
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
    let need = cli.command.pin_need(field_client::store::inspect(&db));
    let (pin, new_pin) = match read_pins(need, cli.pin_stdin, lang) {
        Ok(pins) => pins,
        Err(err) => return report_error(&anyhow::Error::new(err), lang, json),
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
        pin,
        new_pin,
        // Test hook, like TUMBUH_FAILPOINT: the end-to-end tests create
        // thousands of stores and unlock them on every command.
        kdf: if std::env::var_os("TUMBUH_INSECURE_TEST_KDF").is_some_and(|v| v == "1") {
            KdfParams::INSECURE_TEST
        } else {
            KdfParams::PHONE
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

/// Reads the PINs `need` asks for. Each comes from, in order: the next line
/// of stdin with `--pin-stdin`; `TUMBUH_PIN` (the new PIN of `pin change`:
/// `TUMBUH_NEW_PIN`); a hidden prompt when stdin is a terminal (a new PIN is
/// asked twice). A PIN found nowhere stays `None` and the command says so.
fn read_pins(
    need: PinNeed,
    pin_stdin: bool,
    lang: Lang,
) -> Result<(Option<Pin>, Option<Pin>), UserError> {
    let mut stdin = pin_stdin.then(|| std::io::stdin().lock());
    let mut next =
        |env: &str, prompt: (&str, &str), confirm: bool| -> Result<Option<Pin>, UserError> {
            if let Some(lines) = stdin.as_mut() {
                let mut line = zeroize::Zeroizing::new(String::new());
                return match lines.read_line(&mut line) {
                    Ok(n) if n > 0 => Ok(Some(Pin::new(&line))),
                    _ => Err(UserError::new(
                        "--pin-stdin: PIN tidak terbaca dari stdin",
                        "--pin-stdin: no PIN could be read from stdin",
                    )),
                };
            }
            if let Ok(text) = std::env::var(env) {
                return Ok(Some(Pin::new(&text)));
            }
            if !std::io::stdin().is_terminal() {
                return Ok(None);
            }
            let ask = |text: &str| {
                rpassword::prompt_password(text)
                    .map(|typed| Pin::new(&zeroize::Zeroizing::new(typed)))
                    .map_err(|e| {
                        UserError::new(
                            format!("PIN tidak terbaca: {e}"),
                            format!("cannot read the PIN: {e}"),
                        )
                    })
            };
            let pin = ask(lang.pick(prompt.0, prompt.1))?;
            if confirm {
                let again = ask(lang.pick("Ulangi PIN: ", "Repeat the PIN: "))?;
                if again != pin {
                    return Err(UserError::new(
                        "kedua PIN tidak sama; tidak ada yang diubah",
                        "the two PINs differ; nothing was changed",
                    ));
                }
            }
            Ok(Some(pin))
        };
    let current = ("PIN: ", "PIN: ");
    let new = (
        "PIN baru (minimal 6 angka): ",
        "New PIN (at least 6 digits): ",
    );
    Ok(match need {
        PinNeed::None => (None, None),
        PinNeed::Current => (next("TUMBUH_PIN", current, false)?, None),
        PinNeed::New => (next("TUMBUH_PIN", new, true)?, None),
        PinNeed::CurrentAndNew => {
            let pin = next("TUMBUH_PIN", current, false)?;
            (pin, next("TUMBUH_NEW_PIN", new, true)?)
        }
    })
}
