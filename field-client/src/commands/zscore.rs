//! `tumbuh zscore`: the batch mode, with a progress bar on long files and an
//! output file that appears only when the whole run succeeded.

use std::fs::File;
use std::io::{BufReader, BufWriter, Write};

use anyhow::Context as _;
use serde_json::json;

use super::Context;
use crate::batch::{BatchError, zscore_csv};
use crate::cli::ZscoreArgs;
use crate::i18n::user_error;

pub fn run(args: &ZscoreArgs, ctx: &Context, out: &mut dyn Write) -> anyhow::Result<()> {
    let lang = ctx.lang;
    let input = File::open(&args.input).map_err(|e| {
        user_error(
            format!("tidak bisa membuka {}: {e}", args.input.display()),
            format!("cannot open {}: {e}", args.input.display()),
        )
    })?;
    let total = input.metadata().map(|m| m.len()).unwrap_or(0);
    let dir = args
        .output
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    // Written beside the target and renamed at the end: a failed run leaves no half file.
    let tmp = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("cannot create a file in {}", dir.display()))?;
    let bar = indicatif::ProgressBar::with_draw_target(
        Some(total),
        indicatif::ProgressDrawTarget::stderr(),
    );
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:40} {bytes}/{total_bytes} {eta}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let result = zscore_csv(
        BufReader::with_capacity(1 << 16, input),
        BufWriter::with_capacity(1 << 16, tmp.as_file()),
        args.skip_bad,
        |bytes| bar.set_position(bytes),
    );
    bar.finish_and_clear();
    let summary = match result {
        Ok(s) => s,
        Err(BatchError::BadCell {
            line,
            column,
            value,
            problem,
        }) => {
            return Err(user_error(
                format!(
                    "{}: baris {line}, kolom `{column}`: `{value}` {} (pakai --skip-bad untuk melewati baris yang salah)",
                    args.input.display(),
                    problem.id()
                ),
                format!(
                    "{}: line {line}, column `{column}`: `{value}` {} (use --skip-bad to pass over bad rows)",
                    args.input.display(),
                    problem.en()
                ),
            ));
        }
        Err(BatchError::MissingColumn(c)) => {
            return Err(user_error(
                format!(
                    "{}: tidak ada kolom `{c}` (wajib: sex, dob, measure_date)",
                    args.input.display()
                ),
                format!("{}: {}", args.input.display(), BatchError::MissingColumn(c)),
            ));
        }
        Err(e) => return Err(anyhow::Error::new(e).context(format!("{}", args.input.display()))),
    };
    tmp.persist(&args.output)
        .with_context(|| format!("cannot write {}", args.output.display()))?;
    if ctx.json {
        return ctx.print_json(
            out,
            &json!({"rows": summary.rows, "bad_rows": summary.bad_rows, "output": args.output.display().to_string()}),
        );
    }
    writeln!(
        out,
        "{} {} {} → {}{}",
        summary.rows,
        lang.pick("baris dihitung", "rows computed"),
        args.input.display(),
        args.output.display(),
        if summary.bad_rows > 0 {
            format!(
                " ({} {})",
                summary.bad_rows,
                lang.pick(
                    "baris salah, lihat kolom `error`",
                    "bad rows, see the `error` column"
                )
            )
        } else {
            String::new()
        }
    )?;
    Ok(())
}
