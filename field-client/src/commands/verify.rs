//! `tumbuh verify`: record the result of a verval check on a child — the
//! birth date or sex read from the KIA book, KK or birth certificate, a
//! re-measurement, or the record confirmed as correct. The check is a change
//! in the child's document like any edit: it syncs to the server, whose
//! verified figures and worklist take it into account. Nothing entered
//! before is overwritten.

use std::io::Write;

use chrono::Datelike;
use serde_json::json;
use sync_protocol::{
    Check, DocumentSource, MeasurementId, MeasurementInput, Sex, Verification, VerificationId,
};

use super::Context;
use super::measure::{Values, check_after_birth, parse_values};
use crate::cli::VerifyArgs;
use crate::dates::parse_date;
use crate::i18n::user_error;

/// Checks `YYYY-MM`.
fn parse_round(text: &str) -> anyhow::Result<String> {
    let ok = text.len() == 7
        && text.as_bytes().get(4) == Some(&b'-')
        && text
            .get(0..4)
            .is_some_and(|y| y.bytes().all(|b| b.is_ascii_digit()))
        && text
            .get(5..7)
            .and_then(|m| m.parse::<u32>().ok())
            .is_some_and(|m| (1..=12).contains(&m));
    if ok {
        Ok(text.to_owned())
    } else {
        Err(user_error(
            format!("--round: `{text}` bukan bulan; pakai YYYY-MM, mis. 2024-08"),
            format!("--round: `{text}` is not a month; use YYYY-MM, e.g. 2024-08"),
        ))
    }
}

fn parse_source(text: Option<&str>) -> anyhow::Result<DocumentSource> {
    let text = text.unwrap_or_default();
    text.parse::<DocumentSource>().map_err(|_| {
        user_error(
            format!("--source: `{text}` tidak dikenal; pakai kia (buku KIA), kk (Kartu Keluarga) atau akta"),
            format!("--source: `{text}` is unknown; use kia (KIA book), kk (family card) or akta (birth certificate)"),
        )
    })
}

pub fn run(args: &VerifyArgs, ctx: &Context, out: &mut dyn Write) -> anyhow::Result<()> {
    let lang = ctx.lang;
    let round = match &args.round {
        Some(r) => parse_round(r.trim())?,
        None => format!("{:04}-{:02}", ctx.today.year(), ctx.today.month()),
    };
    let mut store = ctx.open_store()?;
    let child_id = store
        .resolve_child(&args.id)
        .map_err(|e| ctx.store_error(e))?;
    let device = store.device().clone();
    let id = VerificationId::new();
    let mut remeasurement: Option<(MeasurementId, MeasurementInput)> = None;
    let check = if let Some(text) = &args.birth_date {
        let date = parse_date(text).ok_or_else(|| {
            user_error(
                format!("--birth-date: `{text}` bukan tanggal; pakai YYYY-MM-DD, DD-MM-YYYY atau DD/MM/YYYY"),
                format!("--birth-date: `{text}` is not a date; use YYYY-MM-DD, DD-MM-YYYY or DD/MM/YYYY"),
            )
        })?;
        if date > ctx.today {
            return Err(user_error(
                format!("--birth-date: {date} masih di masa depan"),
                format!("--birth-date: {date} is in the future"),
            ));
        }
        Check::BirthDate {
            date,
            source: parse_source(args.source.as_deref())?,
        }
    } else if let Some(text) = &args.sex {
        let sex = text.parse::<Sex>().map_err(|_| {
            user_error(
                format!("--sex: `{text}` tidak dikenal; pakai L atau P"),
                format!("--sex: `{text}` is unknown; use L or P"),
            )
        })?;
        Check::Sex {
            sex,
            source: parse_source(args.source.as_deref())?,
        }
    } else if args.remeasure {
        let parsed = parse_values(
            &Values {
                date: args.date.as_deref(),
                weight: args.weight,
                height: args.height,
                position: args.position.as_deref(),
                muac: None,
                head: None,
            },
            ctx,
        )?;
        let mid = MeasurementId::new();
        remeasurement = Some((mid, parsed.input(&device, false, Some(round.clone()))));
        Check::Remeasured { measurement: mid }
    } else {
        Check::Confirmed
    };
    let v = Verification {
        id,
        check,
        round: Some(round.clone()),
        by: device.kader.clone(),
        recorded_at_ms: ctx.now_ms,
    };
    store.write(|w| -> anyhow::Result<()> {
        let mut doc = w.load_child(child_id)?;
        let child = doc.child()?;
        if let Some(survivor) = child.merged_into {
            return Err(user_error(
                format!("anak ini sudah digabung oleh dinas ke {survivor}: catat pemeriksaan pada anak itu"),
                format!("this registration was merged by the district into {survivor}: record the check there"),
            ));
        }
        let heads = doc.heads();
        match &remeasurement {
            Some((mid, input)) => {
                check_after_birth(input.date, child.profile.birth_date)?;
                doc.add_remeasurement(*mid, input, &v)?;
            }
            None => doc.add_verification(&v)?,
        }
        w.save_child(&mut doc, &heads, ctx.now_ms)?;
        Ok(())
    })?;
    tracing::info!(child = %child_id, verification = %id, check = v.check.kind(), "verification recorded");
    if ctx.json {
        return ctx.print_json(
            out,
            &json!({
                "child_id": child_id.to_string(),
                "verification": id.to_string(),
                "check": v.check.kind(),
                "round": round,
                "measurement": remeasurement.as_ref().map(|(m, _)| m.to_string()),
            }),
        );
    }
    let (id_text, en_text) = match &v.check {
        Check::BirthDate { date, source } => (
            format!("tanggal lahir {date} menurut {}", source.label_id()),
            format!("birth date {date} from the {}", source.code()),
        ),
        Check::Sex { sex, source } => (
            format!("jenis kelamin {} menurut {}", sex.code(), source.label_id()),
            format!("sex {} from the {}", sex.code(), source.code()),
        ),
        Check::Remeasured { measurement } => (
            format!("ukur ulang (pengukuran {measurement})"),
            format!("re-measurement (measurement {measurement})"),
        ),
        Check::Confirmed => (
            "data dikonfirmasi benar".to_owned(),
            "record confirmed as correct".to_owned(),
        ),
    };
    let what = lang.pick(&id_text, &en_text);
    writeln!(
        out,
        "{} {what} — {} {round}. {}",
        lang.pick("Pemeriksaan tersimpan:", "Check recorded:"),
        lang.pick("verval", "round"),
        lang.pick(
            "Terkirim ke server saat sinkronisasi berikutnya.",
            "It reaches the server at the next sync."
        )
    )?;
    Ok(())
}
