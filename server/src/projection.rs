//! The server's projection: relational rows of children, measurements (with
//! WHO z-scores and Permenkes categories from the `growth` crate) and open
//! conflicts, derived from each child's Automerge document.
//!
//! The rows of a child are replaced wholesale whenever its document changed,
//! by the projection worker ([`crate::worker`]), so they always equal what
//! the document says and can be rebuilt from `changes` at any time.

use rusqlite::{Connection, OptionalExtension, params};
use sync_protocol::{
    Check, Child, ChildDocument, DocumentError, FieldConflict, MeasurementAssessment, assess_child,
    latest_status,
};

use crate::storage::{ChildDetail, ChildSummary, Conflict, MeasurementRow};

/// A child's document read out, ready to be written as rows.
pub struct ProjectedChild {
    pub id: String,
    pub posyandu: String,
    pub child: Child,
    pub conflicts: Vec<FieldConflict>,
    /// z-scores and categories per measurement, computed before the write
    /// transaction so the writer lock is held only for SQL.
    pub assessments: Vec<MeasurementAssessment>,
    /// The last change sequence number included.
    pub upto_seq: i64,
    /// A fresh `save()` of the document, when it is worth storing.
    pub saved_document: Option<Vec<u8>>,
}

/// Reads a loaded document.
pub fn project(
    id: &str,
    doc: &ChildDocument,
    upto_seq: i64,
) -> Result<ProjectedChild, DocumentError> {
    let child = doc.child()?;
    let conflicts = doc.conflicts()?;
    let assessments = assess_child(&child);
    Ok(ProjectedChild {
        assessments,
        id: id.to_string(),
        posyandu: child.profile.posyandu.clone(),
        child,
        conflicts,
        upto_seq,
        saved_document: None,
    })
}

/// Replaces the rows of one child.
pub fn write(conn: &Connection, p: &ProjectedChild) -> Result<(), rusqlite::Error> {
    let child = &p.child;
    let pr = &child.profile;
    let assessments = &p.assessments;
    let latest = latest_status(child, assessments);
    conn.prepare_cached(
        "INSERT INTO children (id, posyandu, name, sex, birth_date, mother_name, nik, no_kk, mother_nik,
            father_name, rt, rw, address, last_measured, last_haz, last_tbu, stunted, conflicts,
            desa, merged_into, birth_weight_g, birth_length_mm, consent_by, consent_on)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20,
            ?21, ?22, ?23, ?24)
         ON CONFLICT (id) DO UPDATE SET posyandu = excluded.posyandu, name = excluded.name,
            sex = excluded.sex, birth_date = excluded.birth_date, mother_name = excluded.mother_name,
            nik = excluded.nik, no_kk = excluded.no_kk, mother_nik = excluded.mother_nik,
            father_name = excluded.father_name, rt = excluded.rt, rw = excluded.rw,
            address = excluded.address, last_measured = excluded.last_measured,
            last_haz = excluded.last_haz, last_tbu = excluded.last_tbu,
            stunted = excluded.stunted, conflicts = excluded.conflicts, desa = excluded.desa,
            merged_into = excluded.merged_into, birth_weight_g = excluded.birth_weight_g,
            birth_length_mm = excluded.birth_length_mm, consent_by = excluded.consent_by,
            consent_on = excluded.consent_on",
    )?
    .execute(params![
        p.id,
        pr.posyandu,
        pr.name,
        pr.sex.code(),
        pr.birth_date.to_string(),
        pr.mother_name,
        pr.nik,
        pr.no_kk,
        pr.mother_nik,
        pr.father_name,
        pr.rt,
        pr.rw,
        pr.address,
        latest.last_measured.map(|d| d.to_string()),
        latest.last_haz.map(|(z, _)| z),
        latest.last_haz.and_then(|(_, c)| c).map(|c| c.code()),
        latest.stunted,
        p.conflicts.len() as i64,
        pr.desa,
        child.merged_into.map(|m| m.to_string()),
        pr.birth_weight.map(|g| g.0),
        pr.birth_length.map(|l| l.0),
        pr.consent_by,
        pr.consent_on.map(|d| d.to_string()),
    ])?;
    conn.prepare_cached("DELETE FROM measurements WHERE child_id = ?1")?
        .execute([&p.id])?;
    let mut insert = conn.prepare_cached(
        "INSERT INTO measurements (id, child_id, date, age_days, weight_g, length_mm, position, muac_mm,
            head_mm, oedema, void_reason, haz, waz, whz, bmiz, tbu, bbu, bbtb, imtu, implausible, gain,
            posyandu, round, merged_from)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21,
            ?22, ?23, ?24)",
    )?;
    for (m, a) in child.measurements.iter().zip(assessments) {
        let g = &a.growth;
        insert.execute(params![
            m.id.to_string(),
            p.id,
            m.input.date.to_string(),
            g.age_days,
            m.input.weight.map(|w| w.0),
            m.input.length.map(|l| l.0),
            m.input.position.map(|x| x.code()),
            m.input.muac.map(|x| x.0),
            m.input.head.map(|x| x.0),
            m.input.oedema,
            m.void.as_ref().map(|v| v.reason.as_str()),
            g.haz.map(|z| z.centi),
            g.waz.map(|z| z.centi),
            g.whz.map(|z| z.centi),
            g.bmiz.map(|z| z.centi),
            g.tbu.map(|c| c.code()),
            g.bbu.map(|c| c.code()),
            g.bbtb.map(|c| c.code()),
            g.imtu.map(|c| c.code()),
            g.implausible(),
            a.weight_gain.as_ref().map(|w| w.status.code()),
            m.input.posyandu,
            m.input.round,
            m.merged_from.map(|c| c.to_string()),
        ])?;
    }
    conn.prepare_cached("DELETE FROM verifications WHERE child_id = ?1")?
        .execute([&p.id])?;
    let mut verification = conn.prepare_cached(
        "INSERT INTO verifications (child_id, id, kind, date, sex, source, measurement_id, round,
            by_whom, recorded_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )?;
    for v in &child.verifications {
        let (date, sex, source, measurement) = match &v.check {
            Check::BirthDate { date, source } => {
                (Some(date.to_string()), None, Some(*source), None)
            }
            Check::Sex { sex, source } => (None, Some(sex.code()), Some(*source), None),
            Check::Remeasured { measurement } => (None, None, None, Some(measurement.to_string())),
            Check::Confirmed => (None, None, None, None),
        };
        verification.execute(params![
            p.id,
            v.id.to_string(),
            v.check.kind(),
            date,
            sex,
            source.map(|s| s.code()),
            measurement,
            v.round,
            v.by,
            v.recorded_at_ms,
        ])?;
    }
    conn.prepare_cached("DELETE FROM conflicts WHERE child_id = ?1")?
        .execute([&p.id])?;
    let mut conflict =
        conn.prepare_cached("INSERT INTO conflicts (child_id, field, vals) VALUES (?1, ?2, ?3)")?;
    for c in &p.conflicts {
        let vals = serde_json::to_string(&c.values).unwrap_or_else(|_| "[]".into());
        conflict.execute(params![p.id, c.field.key(), vals])?;
    }
    Ok(())
}

/// The columns [`summary_from_row`] reads, in order.
pub const SUMMARY_COLUMNS: &str = "id, posyandu, name, sex, birth_date, mother_name, last_measured, \
     last_haz, last_tbu, stunted, conflicts";

fn centi(v: Option<i64>) -> Option<f64> {
    v.map(|c| c as f64 / 100.0)
}

/// Reads a [`ChildSummary`] from a row of [`SUMMARY_COLUMNS`].
pub fn summary_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ChildSummary> {
    Ok(ChildSummary {
        id: r.get(0)?,
        posyandu: r.get(1)?,
        name: r.get(2)?,
        sex: r.get(3)?,
        birth_date: r.get(4)?,
        mother_name: r.get(5)?,
        last_measured: r.get(6)?,
        last_haz: centi(r.get(7)?),
        last_tbu: r.get(8)?,
        stunted: r.get(9)?,
        conflicts: r.get(10)?,
    })
}

/// Reads one child with its measurements and conflicts.
pub fn read_detail(conn: &Connection, id: &str) -> Result<Option<ChildDetail>, rusqlite::Error> {
    let row = conn
        .query_row(
            &format!(
                "SELECT {SUMMARY_COLUMNS}, nik, no_kk, mother_nik, father_name, rt, rw, address
                   FROM children WHERE id = ?1"
            ),
            [id],
            |r| {
                Ok(ChildDetail {
                    summary: summary_from_row(r)?,
                    nik: r.get(11)?,
                    no_kk: r.get(12)?,
                    mother_nik: r.get(13)?,
                    father_name: r.get(14)?,
                    rt: r.get(15)?,
                    rw: r.get(16)?,
                    address: r.get(17)?,
                    measurements: Vec::new(),
                    conflicting_fields: Vec::new(),
                })
            },
        )
        .optional()?;
    let Some(mut detail) = row else {
        return Ok(None);
    };
    let mut stmt = conn.prepare_cached(
        "SELECT id, date, age_days, weight_g, length_mm, position, muac_mm, oedema, haz, waz, whz, bmiz,
                tbu, bbu, bbtb, imtu, implausible, gain, void_reason
           FROM measurements WHERE child_id = ?1 ORDER BY date, id",
    )?;
    detail.measurements = stmt
        .query_map([id], |r| {
            Ok(MeasurementRow {
                id: r.get(0)?,
                date: r.get(1)?,
                age_days: r.get(2)?,
                weight_kg: r.get::<_, Option<i64>>(3)?.map(|g| g as f64 / 1000.0),
                length_cm: r.get::<_, Option<i64>>(4)?.map(|mm| mm as f64 / 10.0),
                position: r.get(5)?,
                muac_cm: r.get::<_, Option<i64>>(6)?.map(|mm| mm as f64 / 10.0),
                oedema: r.get(7)?,
                haz: centi(r.get(8)?),
                waz: centi(r.get(9)?),
                whz: centi(r.get(10)?),
                bmiz: centi(r.get(11)?),
                tbu: r.get(12)?,
                bbu: r.get(13)?,
                bbtb: r.get(14)?,
                imtu: r.get(15)?,
                implausible: r.get(16)?,
                weight_gain: r.get(17)?,
                voided: r.get(18)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    let mut stmt = conn
        .prepare_cached("SELECT field, vals FROM conflicts WHERE child_id = ?1 ORDER BY field")?;
    detail.conflicting_fields = stmt
        .query_map([id], |r| {
            let vals: String = r.get(1)?;
            Ok(Conflict {
                child_id: id.to_string(),
                posyandu: detail.summary.posyandu.clone(),
                field: r.get(0)?,
                values: serde_json::from_str(&vals).unwrap_or_default(),
            })
        })?
        .collect::<Result<_, _>>()?;
    Ok(Some(detail))
}
