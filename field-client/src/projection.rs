//! Derives the relational rows (`children`, `measurements`) of one child from
//! its document, with z-scores and categories from the `growth` crate.
//!
//! The rows are replaced wholesale for the child on every write: a child has
//! at most a few dozen measurements, and recomputing keeps the derived tables
//! exactly equal to what the document says (a voided or merged-in measurement
//! can change every later N/T status).

use rusqlite::{Connection, params};
use sync_protocol::{Child, assess_child, latest_status};

/// Replaces the derived rows of `child`.
pub fn project(conn: &Connection, child: &Child, conflicts: usize) -> Result<(), rusqlite::Error> {
    let id = child.id.to_string();
    let p = &child.profile;
    let assessments = assess_child(child);
    // The latest valid measurement with a length decides "stunted".
    let latest = latest_status(child, &assessments);
    conn.execute("DELETE FROM measurements WHERE child_id = ?1", [&id])?;
    conn.execute(
        "INSERT INTO children (id, name, name_norm, sex, birth_date, mother_name, nik, no_kk, mother_nik,
            father_name, rt, rw, address, posyandu, last_measured, last_haz, last_tbu, stunted, conflicts,
            merged_into)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20)
         ON CONFLICT (id) DO UPDATE SET name = excluded.name, name_norm = excluded.name_norm,
            sex = excluded.sex, birth_date = excluded.birth_date, mother_name = excluded.mother_name,
            nik = excluded.nik, no_kk = excluded.no_kk, mother_nik = excluded.mother_nik,
            father_name = excluded.father_name, rt = excluded.rt, rw = excluded.rw,
            address = excluded.address, posyandu = excluded.posyandu,
            last_measured = excluded.last_measured, last_haz = excluded.last_haz,
            last_tbu = excluded.last_tbu, stunted = excluded.stunted, conflicts = excluded.conflicts,
            merged_into = excluded.merged_into",
        params![
            id,
            p.name,
            linkage::normalize_name(&p.name),
            p.sex.code(),
            p.birth_date.to_string(),
            p.mother_name,
            p.nik,
            p.no_kk,
            p.mother_nik,
            p.father_name,
            p.rt,
            p.rw,
            p.address,
            p.posyandu,
            latest.last_measured.map(|d| d.to_string()),
            latest.last_haz.map(|(z, _)| z),
            latest.last_haz.and_then(|(_, c)| c).map(|c| c.code()),
            latest.stunted,
            conflicts as i64,
            child.merged_into.map(|m| m.to_string()),
        ],
    )?;
    // A registration the district merged into a child this device holds
    // shows its measurements there (the survivor has copies under the same
    // ids); one whose survivor lies outside this device's area keeps them.
    if let Some(survivor) = child.merged_into {
        let survivor_here: bool = conn
            .prepare_cached("SELECT 1 FROM children WHERE id = ?1")?
            .exists([survivor.to_string()])?;
        if survivor_here {
            return Ok(());
        }
    }
    // `OR REPLACE`: a merge's copy takes over the row of its original.
    let mut insert = conn.prepare_cached(
        "INSERT OR REPLACE INTO measurements (id, child_id, date, weight_g, length_mm, position, muac_mm, head_mm,
            oedema, void_reason, haz, waz, whz, bmiz, implausible, gain, two_t)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)",
    )?;
    for (m, a) in child.measurements.iter().zip(&assessments) {
        let g = &a.growth;
        insert.execute(params![
            m.id.to_string(),
            id,
            m.input.date.to_string(),
            m.input.weight.map(|w| w.0),
            m.input.length.map(|l| l.0),
            m.input.position.map(|p| p.code()),
            m.input.muac.map(|x| x.0),
            m.input.head.map(|x| x.0),
            m.input.oedema,
            m.void.as_ref().map(|v| v.reason.as_str()),
            g.haz.map(|z| z.centi),
            g.waz.map(|z| z.centi),
            g.whz.map(|z| z.centi),
            g.bmiz.map(|z| z.centi),
            g.implausible(),
            a.weight_gain.as_ref().map(|w| w.status.code()),
            a.weight_gain.as_ref().is_some_and(|w| w.two_t),
        ])?;
    }
    Ok(())
}
