//! `tumbuh child add|list|show|edit`: registering children and reading their records.

use std::io::Write;

use chrono::NaiveDate;
use rusqlite::params;
use serde_json::{Value, json};
use sync_protocol::{ChildDocument, ChildId, Profile, ProfileField, Sex, assess_child};

use super::Context;
use crate::chart;
use crate::cli::{ChildAddArgs, ChildEditArgs, ChildListArgs, ChildShowArgs, ProfileArgs};
use crate::dates::{parse_date, parse_month};
use crate::i18n::{Lang, UserError, user_error};
use crate::report;

/// The oldest child Tumbuh assesses: WHO 2007 ends at 19 years.
const MAX_AGE_DAYS: i64 = 6939;

/// A row of the `children` table, as listed and searched.
#[derive(Debug, Clone)]
pub(super) struct ChildRow {
    pub id: String,
    pub name: String,
    pub sex: String,
    pub birth_date: String,
    pub mother_name: String,
    pub nik: Option<String>,
    pub posyandu: String,
    pub last_measured: Option<String>,
    pub last_haz: Option<i32>,
    pub last_tbu: Option<String>,
    pub stunted: bool,
}

pub(super) fn all_children(conn: &rusqlite::Connection) -> anyhow::Result<Vec<ChildRow>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, name, sex, birth_date, mother_name, nik, posyandu, last_measured, last_haz, last_tbu, stunted
         FROM children
         WHERE merged_into IS NULL OR merged_into NOT IN (SELECT id FROM children)
         ORDER BY name_norm, id",
    )?;
    let rows = stmt
        .query_map([], |r| {
            Ok(ChildRow {
                id: r.get(0)?,
                name: r.get(1)?,
                sex: r.get(2)?,
                birth_date: r.get(3)?,
                mother_name: r.get(4)?,
                nik: r.get(5)?,
                posyandu: r.get(6)?,
                last_measured: r.get(7)?,
                last_haz: r.get(8)?,
                last_tbu: r.get(9)?,
                stunted: r.get(10)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

impl ChildRow {
    pub(super) fn json(&self) -> Value {
        json!({
            "id": self.id, "name": self.name, "sex": self.sex, "birth_date": self.birth_date,
            "mother_name": self.mother_name, "posyandu": self.posyandu,
            "last_measured": self.last_measured,
            "last_haz": self.last_haz.map(|c| f64::from(c) / 100.0),
            "last_tbu_cat": self.last_tbu, "stunted": self.stunted,
        })
    }

    /// One line of a listing; `id_len` is how much of the id to show.
    pub(super) fn line(&self, lang: Lang, id_len: usize) -> String {
        let haz = self
            .last_haz
            .map(|c| format!("{:.2}", f64::from(c) / 100.0))
            .unwrap_or_else(|| "-".into());
        format!(
            "{:<id_len$}  {:<28} {:<2} {}  {:<10} {:>6} {}",
            &self.id[..id_len.min(self.id.len())],
            truncate(&self.name, 28),
            self.sex,
            self.birth_date,
            self.last_measured.as_deref().unwrap_or("-"),
            haz,
            if self.stunted {
                lang.pick("STUNTING", "STUNTED")
            } else {
                ""
            }
        )
    }
}

/// The shortest prefix length (at least 8) that tells every id apart.
/// UUIDv7 ids begin with their creation time, so ids made the same minute
/// share many leading digits.
pub(super) fn unique_prefix_len<'a>(ids: impl IntoIterator<Item = &'a str>) -> usize {
    let mut ids: Vec<&str> = ids.into_iter().collect();
    ids.sort_unstable();
    let common = |a: &str, b: &str| a.bytes().zip(b.bytes()).take_while(|(x, y)| x == y).count();
    ids.windows(2)
        .map(|w| common(w[0], w[1]) + 1)
        .max()
        .unwrap_or(8)
        .max(8)
}

fn truncate(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

fn key_of(row: &ChildRow) -> (Option<linkage::Sex>, Option<NaiveDate>) {
    let sex = match row.sex.as_str() {
        "L" => Some(linkage::Sex::Male),
        "P" => Some(linkage::Sex::Female),
        _ => None,
    };
    (
        sex,
        NaiveDate::parse_from_str(&row.birth_date, "%Y-%m-%d").ok(),
    )
}

fn linkage_sex(s: Sex) -> linkage::Sex {
    match s {
        Sex::L => linkage::Sex::Male,
        Sex::P => linkage::Sex::Female,
    }
}

/// A value given for a field: trimmed; empty means "clear".
fn given(v: &Option<String>) -> Option<Option<String>> {
    v.as_ref().map(|s| {
        let t = s.trim();
        if t.is_empty() {
            None
        } else {
            Some(t.to_string())
        }
    })
}

fn parse_sex(s: &str) -> anyhow::Result<Sex> {
    s.parse::<Sex>().map_err(|_| {
        user_error(
            format!("--sex: `{s}` bukan jenis kelamin; pakai L (laki-laki) atau P (perempuan)"),
            format!("--sex: `{s}` is not a sex; use L (male) or P (female)"),
        )
    })
}

fn parse_birth_date(s: &str, today: NaiveDate) -> anyhow::Result<NaiveDate> {
    let d = parse_date(s).ok_or_else(|| {
        user_error(
            format!(
                "--birth-date: `{s}` bukan tanggal; pakai YYYY-MM-DD, DD-MM-YYYY atau DD/MM/YYYY"
            ),
            format!("--birth-date: `{s}` is not a date; use YYYY-MM-DD, DD-MM-YYYY or DD/MM/YYYY"),
        )
    })?;
    if d > today {
        return Err(user_error(
            format!("--birth-date: {d} masih di masa depan"),
            format!("--birth-date: {d} is in the future"),
        ));
    }
    if growth::age_in_days(d, today) > MAX_AGE_DAYS {
        return Err(user_error(
            format!("--birth-date: {d} berarti umur lebih dari 19 tahun; periksa tahunnya"),
            format!("--birth-date: {d} means older than 19 years; check the year"),
        ));
    }
    Ok(d)
}

/// The edits asked for by the flags, validated (`Some(None)` clears a field).
fn edits_from(
    args: &ProfileArgs,
    today: NaiveDate,
) -> anyhow::Result<Vec<(ProfileField, Option<String>)>> {
    let mut edits = Vec::new();
    let required = |field: &str, v: Option<Option<String>>| -> anyhow::Result<Option<String>> {
        match v {
            Some(None) => Err(user_error(
                format!("--{field} tidak boleh kosong"),
                format!("--{field} must not be empty"),
            )),
            Some(Some(s)) => Ok(Some(s)),
            None => Ok(None),
        }
    };
    if let Some(name) = required("name", given(&args.name))? {
        edits.push((ProfileField::Name, Some(name)));
    }
    if let Some(sex) = required("sex", given(&args.sex))? {
        edits.push((ProfileField::Sex, Some(parse_sex(&sex)?.code().to_string())));
    }
    if let Some(bd) = required("birth-date", given(&args.birth_date))? {
        edits.push((
            ProfileField::BirthDate,
            Some(parse_birth_date(&bd, today)?.to_string()),
        ));
    }
    if let Some(mother) = required("mother-name", given(&args.mother_name))? {
        edits.push((ProfileField::MotherName, Some(mother)));
    }
    match given(&args.consent_by) {
        Some(Some(by)) => {
            let on = match args.consent_on.as_deref() {
                None => today,
                Some(s) => parse_date(s).filter(|d| *d <= today).ok_or_else(|| {
                    user_error(
                        format!(
                            "--consent-on: `{s}` bukan tanggal yang sudah lewat; pakai YYYY-MM-DD"
                        ),
                        format!("--consent-on: `{s}` is not a past date; use YYYY-MM-DD"),
                    )
                })?,
            };
            edits.push((ProfileField::ConsentBy, Some(by)));
            edits.push((ProfileField::ConsentOn, Some(on.to_string())));
        }
        // Withdrawn: both cleared.
        Some(None) => {
            edits.push((ProfileField::ConsentBy, None));
            edits.push((ProfileField::ConsentOn, None));
        }
        None => {}
    }
    for (field, v) in [
        (ProfileField::Nik, &args.nik),
        (ProfileField::NoKk, &args.no_kk),
        (ProfileField::MotherNik, &args.mother_nik),
        (ProfileField::FatherName, &args.father_name),
        (ProfileField::Rt, &args.rt),
        (ProfileField::Rw, &args.rw),
        (ProfileField::Address, &args.address),
    ] {
        if let Some(value) = given(v) {
            // Numbers are stored without the spaces or dots people type in them.
            let value = match field {
                ProfileField::Nik | ProfileField::NoKk | ProfileField::MotherNik => {
                    value.map(|s| {
                        s.chars()
                            .filter(|c| !c.is_whitespace() && *c != '.')
                            .collect()
                    })
                }
                _ => value,
            };
            edits.push((field, value));
        }
    }
    Ok(edits)
}

fn apply(profile: &mut Profile, edits: &[(ProfileField, Option<String>)]) {
    for (field, value) in edits {
        let v = value.clone();
        match field {
            ProfileField::Name => profile.name = v.unwrap_or_default(),
            ProfileField::Sex => {
                if let Some(s) = v.and_then(|s| s.parse().ok()) {
                    profile.sex = s;
                }
            }
            ProfileField::BirthDate => {
                if let Some(d) = v.and_then(|s| NaiveDate::parse_from_str(&s, "%Y-%m-%d").ok()) {
                    profile.birth_date = d;
                }
            }
            ProfileField::MotherName => profile.mother_name = v.unwrap_or_default(),
            ProfileField::Nik => profile.nik = v,
            ProfileField::NoKk => profile.no_kk = v,
            ProfileField::MotherNik => profile.mother_nik = v,
            ProfileField::FatherName => profile.father_name = v,
            ProfileField::Rt => profile.rt = v,
            ProfileField::Rw => profile.rw = v,
            ProfileField::Address => profile.address = v,
            ProfileField::Posyandu => profile.posyandu = v.unwrap_or_default(),
            ProfileField::Desa => profile.desa = v,
            ProfileField::BirthWeight => {
                profile.birth_weight = v.and_then(|t| t.parse().ok()).map(sync_protocol::Grams)
            }
            ProfileField::BirthLength => {
                profile.birth_length = v
                    .and_then(|t| t.parse().ok())
                    .map(sync_protocol::Millimetres)
            }
            ProfileField::ConsentBy => profile.consent_by = v,
            ProfileField::ConsentOn => {
                profile.consent_on = v.and_then(|s| NaiveDate::parse_from_str(&s, "%Y-%m-%d").ok())
            }
        }
    }
}

/// Warnings about identity numbers (never refusals: NIKs are often typed wrong).
fn number_warnings(p: &Profile, lang: Lang) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(nik) = &p.nik {
        match linkage::Nik::parse(nik) {
            Ok(parsed) => {
                for w in linkage::check_nik_against_record(
                    &parsed,
                    linkage_sex(p.sex),
                    p.birth_date,
                    Some(&p.posyandu),
                ) {
                    out.push(lang.pick(&w.to_string(), &w.en()).to_string());
                }
            }
            Err(e) => out.push(format!(
                "NIK: {}",
                lang.pick(&e.to_string(), &e.to_string())
            )),
        }
    }
    for (label, v) in [
        ("No. KK", &p.no_kk),
        (lang.pick("NIK ibu", "mother's NIK"), &p.mother_nik),
    ] {
        if let Some(v) = v
            && (v.len() != 16 || !v.bytes().all(|b| b.is_ascii_digit()))
        {
            out.push(format!(
                "{label}: {}",
                lang.pick(
                    "harus 16 angka; periksa lagi",
                    "must be 16 digits; check it again"
                )
            ));
        }
    }
    out
}

/// Warnings go to stderr, so that stdout stays the data (the new id).
fn print_warnings(warnings: &[String], lang: Lang) {
    for w in warnings {
        eprintln!("{}: {w}", lang.pick("Peringatan", "Warning"));
    }
}

/// Likely existing registrations of the same child.
fn duplicate_candidates(
    conn: &rusqlite::Connection,
    p: &Profile,
) -> anyhow::Result<Vec<(ChildRow, f64)>> {
    let new = linkage::ChildKey {
        name: &p.name,
        sex: Some(linkage_sex(p.sex)),
        birth_date: Some(p.birth_date),
        mother_name: Some(&p.mother_name),
        nik: p.nik.as_deref(),
    };
    let mut found = Vec::new();
    for row in all_children(conn)? {
        let (sex, birth_date) = key_of(&row);
        let existing = linkage::ChildKey {
            name: &row.name,
            sex,
            birth_date,
            mother_name: Some(&row.mother_name),
            nik: row.nik.as_deref(),
        };
        let l = linkage::likeness(&new, &existing);
        if linkage::is_likely_same_child(&l) {
            found.push((row, l.score));
        }
    }
    found.sort_by(|a, b| b.1.total_cmp(&a.1));
    Ok(found)
}

pub fn add(args: &ChildAddArgs, ctx: &Context, out: &mut dyn Write) -> anyhow::Result<()> {
    let lang = ctx.lang;
    let a = &args.profile;
    for (flag, v) in [
        ("name", &a.name),
        ("sex", &a.sex),
        ("birth-date", &a.birth_date),
        ("mother-name", &a.mother_name),
    ] {
        if given(v).flatten().is_none() {
            return Err(user_error(
                format!("--{flag} wajib diisi"),
                format!("--{flag} is required"),
            ));
        }
    }
    let edits = edits_from(a, ctx.today)?;
    let mut store = ctx.open_store()?;
    let device = store.device().clone();
    let mut profile = Profile {
        name: String::new(),
        sex: Sex::L,
        birth_date: ctx.today,
        mother_name: String::new(),
        nik: None,
        no_kk: None,
        mother_nik: None,
        father_name: None,
        rt: None,
        rw: None,
        address: None,
        posyandu: device.posyandu.clone(),
        desa: None,
        birth_weight: None,
        birth_length: None,
        consent_by: None,
        consent_on: None,
    };
    apply(&mut profile, &edits);
    if !args.new {
        let candidates = duplicate_candidates(store.conn(), &profile)?;
        if !candidates.is_empty() {
            let id_len = unique_prefix_len(candidates.iter().map(|(r, _)| r.id.as_str()));
            let list: Vec<String> = candidates
                .iter()
                .map(|(r, _)| format!("  {}", r.line(lang, id_len)))
                .collect();
            let mut err = UserError::new(
                format!(
                    "mungkin anak ini sudah terdaftar:\n{}\nPeriksa dengan `tumbuh child show ID`; jika memang anak lain, ulangi dengan --new",
                    list.join("\n")
                ),
                format!(
                    "this child may already be registered:\n{}\nCheck with `tumbuh child show ID`; if it really is another child, repeat with --new",
                    list.join("\n")
                ),
            );
            err.exit_code = 3;
            err.json = Some(json!({
                "error": "possible_duplicate",
                "candidates": candidates.iter().map(|(r, s)| {
                    let mut v = r.json();
                    v["score"] = json!(s);
                    v
                }).collect::<Vec<_>>(),
            }));
            return Err(anyhow::Error::new(err));
        }
    }
    let warnings = number_warnings(&profile, lang);
    let id = ChildId::new();
    store.write(|w| -> anyhow::Result<()> {
        let mut doc = ChildDocument::create(device.id.actor(), id, &profile, ctx.now_ms)?;
        w.save_child(&mut doc, &[], ctx.now_ms)?;
        Ok(())
    })?;
    tracing::info!(child = %id, "child registered");
    if ctx.json {
        return ctx.print_json(out, &json!({"id": id.to_string(), "warnings": warnings}));
    }
    writeln!(out, "{id}")?;
    print_warnings(&warnings, lang);
    Ok(())
}

pub fn edit(args: &ChildEditArgs, ctx: &Context, out: &mut dyn Write) -> anyhow::Result<()> {
    let lang = ctx.lang;
    let edits = edits_from(&args.profile, ctx.today)?;
    if edits.is_empty() {
        return Err(user_error(
            "tidak ada yang diubah: sebutkan misalnya --name, --birth-date atau --nik",
            "nothing to change: give e.g. --name, --birth-date or --nik",
        ));
    }
    let mut store = ctx.open_store()?;
    let id = store
        .resolve_child(&args.id)
        .map_err(|e| ctx.store_error(e))?;
    let (profile, warnings) = store.write(|w| -> anyhow::Result<(Profile, Vec<String>)> {
        let mut doc = w.load_child(id)?;
        let current = doc.child()?;
        let mut profile = current.profile.clone();
        apply(&mut profile, &edits);
        for m in current.valid_measurements() {
            if m.input.date < profile.birth_date {
                return Err(user_error(
                    format!(
                        "--birth-date: {} lebih lambat dari pengukuran tanggal {}",
                        profile.birth_date, m.input.date
                    ),
                    format!(
                        "--birth-date: {} is after the measurement of {}",
                        profile.birth_date, m.input.date
                    ),
                ));
            }
        }
        let heads = doc.heads();
        doc.set_fields(&edits, ctx.now_ms)?;
        w.save_child(&mut doc, &heads, ctx.now_ms)?;
        let warnings = number_warnings(&profile, lang);
        Ok((profile, warnings))
    })?;
    tracing::info!(child = %id, fields = edits.len(), "child edited");
    if ctx.json {
        return ctx.print_json(
            out,
            &json!({"id": id.to_string(), "name": profile.name, "warnings": warnings}),
        );
    }
    writeln!(out, "{} {id}", lang.pick("Diubah:", "Updated:"))?;
    print_warnings(&warnings, lang);
    Ok(())
}

pub fn list(args: &ChildListArgs, ctx: &Context, out: &mut dyn Write) -> anyhow::Result<()> {
    let lang = ctx.lang;
    let store = ctx.open_store()?;
    let month = match &args.not_measured_in {
        None => None,
        Some(m) => Some(parse_month(m).ok_or_else(|| {
            user_error(
                format!("--not-measured-in: `{m}` bukan bulan; pakai YYYY-MM"),
                format!("--not-measured-in: `{m}` is not a month; use YYYY-MM"),
            )
        })?),
    };
    // The month as [first, next): a child born on or after `next` cannot be due.
    let window = month.map(|first| {
        (
            first,
            first
                .checked_add_months(chrono::Months::new(1))
                .unwrap_or(first),
        )
    });
    let measured_in: std::collections::HashSet<String> = match window {
        None => Default::default(),
        Some((first, next)) => {
            let mut stmt = store.conn().prepare(
                "SELECT DISTINCT child_id FROM measurements WHERE void_reason IS NULL AND date >= ?1 AND date < ?2",
            )?;
            stmt.query_map(params![first.to_string(), next.to_string()], |r| {
                r.get::<_, String>(0)
            })?
            .collect::<Result<_, _>>()?
        }
    };
    let rows: Vec<ChildRow> = all_children(store.conn())?
        .into_iter()
        .filter(|r| !args.stunted || r.stunted)
        .filter(|r| match window {
            Some((_, next)) => !measured_in.contains(&r.id) && r.birth_date < next.to_string(),
            None => true,
        })
        .collect();
    if ctx.json {
        return ctx.print_json(
            out,
            &Value::Array(rows.iter().map(ChildRow::json).collect()),
        );
    }
    if rows.is_empty() {
        writeln!(out, "{}", lang.pick("Tidak ada anak.", "No children."))?;
        return Ok(());
    }
    let id_len = unique_prefix_len(rows.iter().map(|r| r.id.as_str()));
    writeln!(
        out,
        "{:<id_len$}  {:<28} {:<2} {:<10}  {:<10} {:>6}",
        "ID",
        lang.pick("NAMA", "NAME"),
        lang.pick("JK", "S"),
        lang.pick("LAHIR", "BORN"),
        lang.pick("UKUR AKHIR", "MEASURED"),
        lang.pick("TB/U", "HAZ"),
    )?;
    for r in &rows {
        writeln!(out, "{}", r.line(lang, id_len))?;
    }
    writeln!(out, "{} {}", rows.len(), lang.pick("anak", "children"))?;
    Ok(())
}

pub fn show(args: &ChildShowArgs, ctx: &Context, out: &mut dyn Write) -> anyhow::Result<()> {
    let lang = ctx.lang;
    let store = ctx.open_store()?;
    let id = store
        .resolve_child(&args.id)
        .map_err(|e| ctx.store_error(e))?;
    let doc = store.load_child(id).map_err(|e| ctx.store_error(e))?;
    let child = doc.child()?;
    let conflicts = doc.conflicts()?;
    let assessments = assess_child(&child);
    let p = &child.profile;
    let warnings = number_warnings(p, lang);
    if ctx.json {
        let measurements: Vec<Value> = child
            .measurements
            .iter()
            .zip(&assessments)
            .map(|(m, a)| {
                json!({
                    "id": m.id.to_string(),
                    "date": m.input.date.to_string(),
                    "weight_kg": m.input.weight.map(|w| w.kg()),
                    "height_cm": m.input.length.map(|l| l.cm()),
                    "position": m.input.position.map(|p| p.code()),
                    "muac_cm": m.input.muac.map(|x| x.cm()),
                    "head_cm": m.input.head.map(|x| x.cm()),
                    "oedema": m.input.oedema,
                    "posyandu": m.input.posyandu,
                    "by": m.input.by,
                    "voided": m.void.as_ref().map(|v| json!({"reason": v.reason, "by": v.by, "at_ms": v.at_ms})),
                    "assessment": report::assessment_json(a),
                })
            })
            .collect();
        return ctx.print_json(
            out,
            &json!({
                "id": child.id.to_string(),
                "profile": {
                    "name": p.name, "sex": p.sex.code(), "birth_date": p.birth_date.to_string(),
                    "mother_name": p.mother_name, "nik": p.nik, "no_kk": p.no_kk, "mother_nik": p.mother_nik,
                    "father_name": p.father_name, "rt": p.rt, "rw": p.rw, "address": p.address, "posyandu": p.posyandu,
                    "consent_by": p.consent_by, "consent_on": p.consent_on.map(|d| d.to_string()),
                },
                "conflicts": conflicts.iter().map(|c| json!({"field": c.field.key(), "values": c.values})).collect::<Vec<_>>(),
                "merged_into": child.merged_into.map(|m| m.to_string()),
                "verifications": child.verifications.iter().map(|v| json!({
                    "id": v.id.to_string(), "check": v.check.kind(), "round": v.round,
                    "by": v.by, "at_ms": v.recorded_at_ms,
                    "birth_date": match &v.check { sync_protocol::Check::BirthDate { date, .. } => Some(date.to_string()), _ => None },
                    "sex": match &v.check { sync_protocol::Check::Sex { sex, .. } => Some(sex.code()), _ => None },
                    "source": match &v.check {
                        sync_protocol::Check::BirthDate { source, .. } | sync_protocol::Check::Sex { source, .. } => Some(source.code()),
                        _ => None,
                    },
                    "measurement": match &v.check { sync_protocol::Check::Remeasured { measurement } => Some(measurement.to_string()), _ => None },
                })).collect::<Vec<_>>(),
                "warnings": warnings,
                "measurements": measurements,
            }),
        );
    }
    let age_now = growth::completed_months(p.birth_date, ctx.today);
    writeln!(out, "{}  ({})", p.name, child.id)?;
    writeln!(
        out,
        "  {}: {}   {}: {} ({} {})",
        lang.pick("Jenis kelamin", "Sex"),
        p.sex.code(),
        lang.pick("Lahir", "Born"),
        p.birth_date,
        age_now,
        lang.pick("bulan", "months")
    )?;
    writeln!(out, "  {}: {}", lang.pick("Ibu", "Mother"), p.mother_name)?;
    let optional = [
        ("NIK", &p.nik),
        ("No. KK", &p.no_kk),
        (lang.pick("NIK ibu", "Mother's NIK"), &p.mother_nik),
        (lang.pick("Ayah", "Father"), &p.father_name),
        ("RT", &p.rt),
        ("RW", &p.rw),
        (lang.pick("Alamat", "Address"), &p.address),
    ];
    for (label, v) in optional {
        if let Some(v) = v {
            writeln!(out, "  {label}: {v}")?;
        }
    }
    writeln!(out, "  Posyandu: {}", p.posyandu)?;
    match (&p.consent_by, p.consent_on) {
        (Some(by), on) => writeln!(
            out,
            "  {}: {by}{}",
            lang.pick("Persetujuan orang tua", "Parental consent"),
            on.map(|d| format!(", {d}")).unwrap_or_default()
        )?,
        (None, _) => writeln!(
            out,
            "  {}",
            lang.pick(
                "⚠ Persetujuan orang tua belum dicatat (--consent-by)",
                "⚠ No parental consent recorded yet (--consent-by)"
            )
        )?,
    }
    for v in &child.verifications {
        writeln!(
            out,
            "  {} {} ({}, {})",
            lang.pick("✓ Diperiksa:", "✓ Checked:"),
            v.check.kind(),
            v.round.as_deref().unwrap_or("-"),
            v.by
        )?;
    }
    if let Some(survivor) = child.merged_into {
        writeln!(
            out,
            "  {} {survivor}",
            lang.pick(
                "⚠ Pendaftaran ganda: digabung oleh dinas ke anak",
                "⚠ Duplicate registration: merged by the district into child"
            )
        )?;
    }
    for c in &conflicts {
        writeln!(
            out,
            "  {} `{}`: {}",
            lang.pick(
                "⚠ Isian berbeda dari dua perangkat untuk",
                "⚠ Two devices disagree on"
            ),
            c.field.key(),
            c.values.join(" | ")
        )?;
    }
    for w in &warnings {
        writeln!(out, "  {}: {w}", lang.pick("Peringatan", "Warning"))?;
    }
    writeln!(out)?;
    if child.measurements.is_empty() {
        writeln!(
            out,
            "{}",
            lang.pick("Belum ada pengukuran.", "No measurements yet.")
        )?;
        return Ok(());
    }
    writeln!(out, "{}", lang.pick("Pengukuran:", "Measurements:"))?;
    for (m, a) in child.measurements.iter().zip(&assessments) {
        let months = growth::completed_months(p.birth_date, m.input.date);
        let mut what = Vec::new();
        if let Some(w) = m.input.weight {
            what.push(format!("BB {} kg", w.kg()));
        }
        if let Some(l) = m.input.length {
            let pos = m.input.position.map(|p| match p {
                sync_protocol::Position::Lying => lang.pick("berbaring", "lying"),
                sync_protocol::Position::Standing => lang.pick("berdiri", "standing"),
            });
            what.push(format!(
                "{} {} cm ({})",
                if a.growth.age_days < 731 { "PB" } else { "TB" },
                l.cm(),
                pos.unwrap_or("?")
            ));
        }
        if let Some(x) = m.input.muac {
            what.push(format!("LiLA {} cm", x.cm()));
        }
        if m.input.oedema {
            what.push(lang.pick("edema", "oedema").to_string());
        }
        writeln!(
            out,
            "- {}  {}  ({} {}, {} {})\n    id {}",
            m.input.date,
            what.join(", "),
            months,
            lang.pick("bln", "mo"),
            a.growth.age_days,
            lang.pick("hari", "days"),
            m.id
        )?;
        if let Some(v) = &m.void {
            writeln!(
                out,
                "    {}: {}",
                lang.pick("DIBATALKAN", "VOIDED"),
                v.reason
            )?;
            continue;
        }
        write!(
            out,
            "{}",
            report::assessment_text(a, lang)
                .replace("\n  ", "\n    ")
                .replacen("  ", "    ", 1)
        )?;
    }
    let points: Vec<chart::Point> = child
        .measurements
        .iter()
        .zip(&assessments)
        .filter(|(m, _)| m.void.is_none())
        .map(|(m, a)| chart::Point {
            date: m.input.date,
            haz: a.growth.haz.filter(|z| !z.implausible).map(|z| z.centi),
            waz: a.growth.waz.filter(|z| !z.implausible).map(|z| z.centi),
        })
        .collect();
    let chart = chart::render(
        &points,
        lang.pick(
            "H = TB/U (PB/U), W = BB/U, * = keduanya; garis -2/-3 = batas pendek/sangat pendek",
            "H = height-for-age, W = weight-for-age, * = both; lines at -2/-3 = stunting cut-offs",
        ),
    );
    if !chart.is_empty() {
        writeln!(out)?;
        write!(out, "{chart}")?;
    }
    Ok(())
}
