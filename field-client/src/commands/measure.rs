//! `tumbuh measure`: record a weighing/measuring and show the assessment at
//! once; `tumbuh measure void`: mark a wrong one (it is never deleted).

use std::io::Write;

use serde_json::json;
use sync_protocol::{
    Grams, MeasurementId, MeasurementInput, Millimetres, Position, UnitError, assess_child,
};

use super::Context;
use crate::cli::{MeasureAction, MeasureArgs, VoidArgs};
use crate::dates::parse_date;
use crate::i18n::user_error;
use crate::report;

/// Limits beyond which a value cannot be a child's (refused, not flagged).
const MAX_WEIGHT_KG: f64 = 60.0;
const MIN_LENGTH_CM: f64 = 38.0;
const MAX_LENGTH_CM: f64 = 150.0;
const MIN_MUAC_CM: f64 = 5.0;
const MAX_MUAC_CM: f64 = 40.0;
const MIN_HEAD_CM: f64 = 20.0;
const MAX_HEAD_CM: f64 = 70.0;

pub fn run(args: &MeasureArgs, ctx: &Context, out: &mut dyn Write) -> anyhow::Result<()> {
    match &args.action {
        Some(MeasureAction::Void(v)) => void(v, ctx, out),
        None => measure(args, ctx, out),
    }
}

fn unit_refusal(flag: &str, what_id: &str, what_en: &str, e: UnitError) -> anyhow::Error {
    match e {
        UnitError::NotANumber(v) => user_error(
            format!("--{flag}: `{v}` bukan angka"),
            format!("--{flag}: `{v}` is not a number"),
        ),
        UnitError::OutOfRange {
            value,
            unit,
            min,
            max,
        } => user_error(
            format!(
                "--{flag}: {what_id} {value} {unit} tidak mungkin (harus antara {min} dan {max} {unit}); periksa lagi"
            ),
            format!(
                "--{flag}: a {what_en} of {value} {unit} is impossible (must be between {min} and {max} {unit}); check it"
            ),
        ),
    }
}

/// The values of a measurement as typed on the command line (`measure` and
/// `verify --remeasure` take the same flags).
pub(crate) struct Values<'a> {
    pub date: Option<&'a str>,
    pub weight: Option<f64>,
    pub height: Option<f64>,
    pub position: Option<&'a str>,
    pub muac: Option<f64>,
    pub head: Option<f64>,
}

/// The parsed and range-checked values: date and the units.
pub(crate) struct Parsed {
    pub date: chrono::NaiveDate,
    pub weight: Option<Grams>,
    pub length: Option<Millimetres>,
    pub position: Option<Position>,
    pub muac: Option<Millimetres>,
    pub head: Option<Millimetres>,
}

/// Checks typed values: a real date not in the future, and weights and
/// lengths a child can have; refusals name the flag and say why.
pub(crate) fn parse_values(v: &Values<'_>, ctx: &Context) -> anyhow::Result<Parsed> {
    let date = match v.date {
        None => ctx.today,
        Some(s) => parse_date(s).ok_or_else(|| {
            user_error(
                format!(
                    "--date: `{s}` bukan tanggal; pakai YYYY-MM-DD, DD-MM-YYYY atau DD/MM/YYYY"
                ),
                format!("--date: `{s}` is not a date; use YYYY-MM-DD, DD-MM-YYYY or DD/MM/YYYY"),
            )
        })?,
    };
    if date > ctx.today {
        return Err(user_error(
            format!(
                "--date: {date} masih di masa depan (hari ini {})",
                ctx.today
            ),
            format!("--date: {date} is in the future (today is {})", ctx.today),
        ));
    }
    let weight = v
        .weight
        .map(|kg| Grams::from_kg(kg, MAX_WEIGHT_KG))
        .transpose()
        .map_err(|e| unit_refusal("weight", "berat", "weight", e))?;
    let cm = |value: Option<f64>, min: f64, max: f64, flag: &str, what_id: &str, what_en: &str| {
        value
            .map(|x| Millimetres::from_cm(x, min, max))
            .transpose()
            .map_err(|e| unit_refusal(flag, what_id, what_en, e))
    };
    let length = cm(
        v.height,
        MIN_LENGTH_CM,
        MAX_LENGTH_CM,
        "height",
        "panjang/tinggi",
        "length/height",
    )?;
    let position = v
        .position
        .map(|p| {
            p.parse::<Position>().map_err(|_| {
                user_error(
                    format!("--position: `{p}` tidak dikenal; pakai lying (berbaring) atau standing (berdiri)"),
                    format!("--position: `{p}` is unknown; use lying or standing"),
                )
            })
        })
        .transpose()?;
    let muac = cm(v.muac, MIN_MUAC_CM, MAX_MUAC_CM, "muac", "LiLA", "MUAC")?;
    let head = cm(
        v.head,
        MIN_HEAD_CM,
        MAX_HEAD_CM,
        "head",
        "lingkar kepala",
        "head circumference",
    )?;
    Ok(Parsed {
        date,
        weight,
        length,
        position,
        muac,
        head,
    })
}

impl Parsed {
    /// The measurement as recorded by this device (`round` only for a check's re-measurement).
    pub(crate) fn input(
        &self,
        device: &crate::store::Device,
        oedema: bool,
        round: Option<String>,
    ) -> MeasurementInput {
        MeasurementInput {
            date: self.date,
            weight: self.weight,
            length: self.length,
            position: self.position,
            muac: self.muac,
            head: self.head,
            oedema,
            posyandu: device.posyandu.clone(),
            by: device.kader.clone(),
            round,
        }
    }
}

/// Refuses a measurement dated before the child's birth.
pub(crate) fn check_after_birth(
    date: chrono::NaiveDate,
    birth: chrono::NaiveDate,
) -> anyhow::Result<()> {
    if date < birth {
        return Err(user_error(
            format!("--date: {date} sebelum tanggal lahir anak ({birth})"),
            format!("--date: {date} is before the child's birth date ({birth})"),
        ));
    }
    Ok(())
}

fn measure(args: &MeasureArgs, ctx: &Context, out: &mut dyn Write) -> anyhow::Result<()> {
    let lang = ctx.lang;
    let id_text = args.id.as_deref().unwrap_or_default();
    let parsed = parse_values(
        &Values {
            date: args.date.as_deref(),
            weight: args.weight,
            height: args.height,
            position: args.position.as_deref(),
            muac: args.muac,
            head: args.head,
        },
        ctx,
    )?;
    let date = parsed.date;
    let mut store = ctx.open_store()?;
    let child_id = store
        .resolve_child(id_text)
        .map_err(|e| ctx.store_error(e))?;
    let device = store.device().clone();
    let mid = MeasurementId::new();
    let child = store.write(|w| -> anyhow::Result<sync_protocol::Child> {
        let mut doc = w.load_child(child_id)?;
        check_after_birth(parsed.date, doc.child()?.profile.birth_date)?;
        let input = parsed.input(&device, args.oedema, None);
        let heads = doc.heads();
        doc.add_measurement(mid, &input, ctx.now_ms)?;
        Ok(w.save_child(&mut doc, &heads, ctx.now_ms)?)
    })?;
    tracing::info!(child = %child_id, measurement = %mid, "measurement recorded");
    let assessments = assess_child(&child);
    let Some(a) = assessments.iter().find(|a| a.id == mid) else {
        anyhow::bail!("measurement {mid} missing after saving");
    };
    if ctx.json {
        let mut v = report::assessment_json(a);
        v["id"] = json!(mid.to_string());
        v["child_id"] = json!(child_id.to_string());
        v["date"] = json!(date.to_string());
        return ctx.print_json(out, &v);
    }
    let p = &child.profile;
    let months = growth::completed_months(p.birth_date, date);
    writeln!(
        out,
        "{} {mid}",
        lang.pick("Pengukuran tersimpan:", "Measurement saved:")
    )?;
    writeln!(
        out,
        "{} ({}), {} ({} {})",
        p.name,
        p.sex.code(),
        report::age_text(months, days_after_months(p.birth_date, date, months), lang),
        a.growth.age_days,
        lang.pick("hari", "days")
    )?;
    write!(out, "{}", report::assessment_text(a, lang))?;
    if a.growth.implausible() {
        writeln!(
            out,
            "{}",
            lang.pick(
                "PERIKSA: ada nilai yang tidak wajar menurut WHO. Ukur ulang (timbang/ukur sekali lagi) sebelum anak pulang.",
                "CHECK: a value is implausible by WHO's rules. Re-measure before the child leaves."
            )
        )?;
    }
    if a.growth.is_stunted()
        || a.growth.is_wasted()
        || a.muac.is_some_and(|m| m.is_alarm())
        || a.weight_gain
            .as_ref()
            .is_some_and(report::gain_needs_attention)
    {
        writeln!(
            out,
            "{}",
            lang.pick(
                "PERHATIAN: anak ini perlu ditindaklanjuti (konseling / rujuk ke puskesmas).",
                "ATTENTION: this child needs follow-up (counselling / referral to the puskesmas)."
            )
        )?;
    }
    Ok(())
}

/// Days past the last completed month, for "10 bulan 3 hari".
fn days_after_months(birth: chrono::NaiveDate, on: chrono::NaiveDate, months: i64) -> i64 {
    u32::try_from(months)
        .ok()
        .and_then(|m| birth.checked_add_months(chrono::Months::new(m)))
        .map(|anniversary| (on - anniversary).num_days())
        .unwrap_or(0)
}

fn void(args: &VoidArgs, ctx: &Context, out: &mut dyn Write) -> anyhow::Result<()> {
    let lang = ctx.lang;
    let reason = args.reason.trim();
    if reason.is_empty() {
        return Err(user_error(
            "--reason wajib diisi: mengapa pengukuran ini salah?",
            "--reason is required: why is this measurement wrong?",
        ));
    }
    let mut store = ctx.open_store()?;
    let (child_id, mid) = store
        .resolve_measurement(&args.id)
        .map_err(|e| ctx.store_error(e))?;
    let by = store.device().kader.clone();
    store.write(|w| -> anyhow::Result<()> {
        let mut doc = w.load_child(child_id)?;
        let child = doc.child()?;
        if let Some(m) = child.measurements.iter().find(|m| m.id == mid)
            && let Some(v) = &m.void
        {
            return Err(user_error(
                format!(
                    "pengukuran {mid} sudah dibatalkan sebelumnya ({})",
                    v.reason
                ),
                format!("measurement {mid} was already voided ({})", v.reason),
            ));
        }
        let heads = doc.heads();
        doc.void_measurement(mid, reason, &by, ctx.now_ms)?;
        w.save_child(&mut doc, &heads, ctx.now_ms)?;
        Ok(())
    })?;
    tracing::info!(child = %child_id, measurement = %mid, "measurement voided");
    if ctx.json {
        return ctx.print_json(
            out,
            &json!({"id": mid.to_string(), "child_id": child_id.to_string(), "voided": true}),
        );
    }
    writeln!(out, "{} {mid}", lang.pick("Dibatalkan:", "Voided:"))?;
    Ok(())
}
