//! The district's operations on the SQLite store: imports, merges and
//! unmerges, the dedup run's input and the review queue.
//!
//! Imports and merges are *changes the server makes* to children's Automerge
//! documents, with its own actor (`server_meta.actor`), appended to
//! `changes` like a device's upload, so they reach devices through the
//! ordinary feed and the projection worker picks them up. Each operation is
//! one write transaction: all of it or nothing.

use std::collections::HashSet;

use rusqlite::{Connection, OptionalExtension, Transaction, params};
use sync_protocol::wire::Digest;
use sync_protocol::{AreaCode, AreaLevel, ChildDocument, ChildId, DocumentChange, Scope};

use super::SqliteStorage;
use crate::storage::{
    AreasStored, ImportOutcome, IncomingRegistration, LinkInputs, MergeDecision, MergeRecord,
    NewReview, RawMeasurement, RegisterChild, ReviewItem, ReviewQuery, StorageError, pair_key,
    stored_child_id,
};

/// The `device` column of changes the server made itself.
pub(super) const SERVER_DEVICE: &str = "server";

const MERGE_COLUMNS: &str =
    "id, survivor, duplicate, source, score, evidence, at, who, undone_at, undone_by";

fn merge_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<MergeRecord> {
    Ok(MergeRecord {
        id: r.get(0)?,
        survivor: r.get(1)?,
        duplicate: r.get(2)?,
        source: r.get(3)?,
        score: r.get(4)?,
        evidence: r.get(5)?,
        at_ms: r.get(6)?,
        who: r.get(7)?,
        undone_at_ms: r.get(8)?,
        undone_by: r.get(9)?,
    })
}

/// A review pair with its priority computed now, from the current projection
/// (`?1`: the first day that counts towards the coming verval round, see
/// [`crate::review::coming_round`]): 2 per child of the pair stunted at its
/// latest measurement, 1 per child measured since the previous round. The
/// `priority` column stored with the pair (its value when queued) is not read.
const REVIEW_SELECT: &str = "SELECT r.id, r.child_a, r.child_b, r.score, r.evidence,
        2 * coalesce(ca.stunted, 0) + coalesce(ca.last_measured >= ?1, 0)
          + 2 * coalesce(cb.stunted, 0) + coalesce(cb.last_measured >= ?1, 0),
        r.status, r.created_at, r.decided_at, r.decided_by
   FROM review r
   LEFT JOIN children ca ON ca.id = r.child_a
   LEFT JOIN children cb ON cb.id = r.child_b";

fn review_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ReviewItem> {
    Ok(ReviewItem {
        id: r.get(0)?,
        child_a: r.get(1)?,
        child_b: r.get(2)?,
        score: r.get(3)?,
        evidence: r.get(4)?,
        priority: r.get(5)?,
        status: r.get(6)?,
        created_at_ms: r.get(7)?,
        decided_at_ms: r.get(8)?,
        decided_by: r.get(9)?,
    })
}

impl SqliteStorage {
    /// Appends changes the server made to `child` (in `area`) and updates
    /// its index row, as `store_upload` does for a device.
    fn append_own_changes(
        tx: &Transaction<'_>,
        child: &str,
        area: &str,
        changes: &[DocumentChange],
        now_ms: i64,
    ) -> Result<(), StorageError> {
        if changes.is_empty() {
            return Ok(());
        }
        let existing: Option<(i64, i64, i64)> = tx
            .prepare_cached("SELECT changes, xor, last_seq FROM child_index WHERE child_id = ?1")?
            .query_row([child], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .optional()?;
        let (mut digest, mut last_seq) = match existing {
            Some((n, xor, last)) => (
                Digest {
                    changes: n as u64,
                    xor: xor as u64,
                },
                last,
            ),
            None => (Digest::default(), 0),
        };
        let mut insert = tx.prepare_cached(
            "INSERT OR IGNORE INTO changes (child_id, hash, bytes, device, received_at)
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )?;
        for c in changes {
            if insert.execute(params![
                child,
                c.hash.0.as_slice(),
                c.bytes,
                SERVER_DEVICE,
                now_ms
            ])? == 1
            {
                digest.add_hash(&c.hash.0);
                last_seq = tx.last_insert_rowid();
            }
        }
        tx.prepare_cached(
            "INSERT INTO child_index (child_id, area, changes, xor, last_seq) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (child_id) DO UPDATE SET changes = excluded.changes, xor = excluded.xor,
                last_seq = excluded.last_seq",
        )?
        .execute(params![
            child,
            area,
            digest.changes as i64,
            digest.xor as i64,
            last_seq
        ])?;
        Ok(())
    }

    fn area_of(conn: &Connection, child: &str) -> Result<Option<String>, StorageError> {
        Ok(conn
            .prepare_cached("SELECT area FROM child_index WHERE child_id = ?1")?
            .query_row([child], |r| r.get(0))
            .optional()?)
    }

    pub(super) fn district_import(
        &self,
        who: &str,
        file: &str,
        registrations: &[IncomingRegistration],
        now_ms: i64,
    ) -> Result<ImportOutcome, StorageError> {
        self.with_write(|tx| {
            let mut out = ImportOutcome::default();
            let mut seen = tx.prepare_cached("SELECT 1 FROM imports WHERE external_id = ?1")?;
            let mut record = tx.prepare_cached(
                "INSERT INTO imports (external_id, child_id, measurement, file, imported_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )?;
            for reg in registrations {
                let child = reg.child.to_string();
                let mut fresh = Vec::new();
                for m in &reg.measurements {
                    if seen.exists([&m.external_id])? {
                        out.already_imported += 1;
                    } else {
                        fresh.push(m);
                    }
                }
                let mut bare = Vec::new();
                for r in &reg.bare_rows {
                    if seen.exists([r])? {
                        out.already_imported += 1;
                    } else {
                        bare.push(r);
                    }
                }
                if fresh.is_empty() && bare.is_empty() {
                    continue;
                }
                let area = match AreaCode::parse(&reg.profile.posyandu) {
                    Ok(a) if a.level() == AreaLevel::Posyandu => a.to_string(),
                    _ => {
                        return Err(StorageError::Refused(format!(
                            "registration {child}: `{}` is not a 12-digit posyandu code",
                            reg.profile.posyandu
                        )));
                    }
                };
                let (mut doc, before) = match self.load_document(tx, &child)? {
                    Some((mut doc, _)) => {
                        let heads = doc.heads();
                        out.children_updated += 1;
                        (doc, heads)
                    }
                    None => {
                        out.children_created += 1;
                        let doc = ChildDocument::create(
                            self.actor.clone(),
                            reg.child,
                            &reg.profile,
                            now_ms,
                        )
                        .map_err(|e| StorageError::Refused(format!("child {child}: {e}")))?;
                        (doc, Vec::new())
                    }
                };
                let items: Vec<_> = fresh
                    .iter()
                    .map(|m| (m.id, m.input.clone(), now_ms))
                    .collect();
                if !items.is_empty() {
                    doc.add_measurements(&items, now_ms)
                        .map_err(|e| StorageError::Refused(format!("child {child}: {e}")))?;
                }
                let changes = doc.changes_since(&before);
                Self::append_own_changes(tx, &child, &area, &changes, now_ms)?;
                for m in &fresh {
                    record.execute(params![
                        m.external_id,
                        child,
                        m.id.to_string(),
                        file,
                        now_ms
                    ])?;
                    out.measurements_stored += 1;
                }
                for r in bare {
                    record.execute(params![r, child, None::<String>, file, now_ms])?;
                }
            }
            tx.execute(
                "INSERT INTO audit (at, who, action, target, detail) VALUES (?1, ?2, 'import', ?3, ?4)",
                params![
                    now_ms,
                    who,
                    file,
                    format!(
                        "children_created={} children_updated={} measurements={} already_imported={}",
                        out.children_created,
                        out.children_updated,
                        out.measurements_stored,
                        out.already_imported
                    )
                ],
            )?;
            Ok(out)
        })
    }

    fn load_child(
        &self,
        tx: &Transaction<'_>,
        id: ChildId,
    ) -> Result<(ChildDocument, sync_protocol::Child, String), StorageError> {
        let key = id.to_string();
        let (doc, _) = self
            .load_document(tx, &key)?
            .ok_or_else(|| StorageError::NoSuchChild(key.clone()))?;
        let child = doc
            .child()
            .map_err(|e| StorageError::Corrupt(format!("child {key}: {e}")))?;
        let area = Self::area_of(tx, &key)?.unwrap_or_else(|| child.profile.posyandu.clone());
        Ok((doc, child, area))
    }

    pub(super) fn district_merge(
        &self,
        survivor: ChildId,
        duplicate: ChildId,
        decision: &MergeDecision,
        now_ms: i64,
    ) -> Result<MergeRecord, StorageError> {
        self.with_write(|tx| self.merge_in(tx, survivor, duplicate, decision, now_ms))
    }

    pub(super) fn district_merge_many(
        &self,
        merges: &[(ChildId, ChildId, MergeDecision)],
        now_ms: i64,
    ) -> Result<Vec<Result<MergeRecord, String>>, StorageError> {
        self.with_write(|tx| {
            let mut out = Vec::with_capacity(merges.len());
            for (survivor, duplicate, decision) in merges {
                // A refusal is decided before anything is written, so the
                // others can go on in the same transaction.
                match self.merge_in(tx, *survivor, *duplicate, decision, now_ms) {
                    Ok(m) => out.push(Ok(m)),
                    Err(StorageError::Refused(reason)) => out.push(Err(reason)),
                    Err(e) => return Err(e),
                }
            }
            Ok(out)
        })
    }

    /// One merge inside a write transaction; every refusal comes before the
    /// first write.
    fn merge_in(
        &self,
        tx: &Transaction<'_>,
        survivor: ChildId,
        duplicate: ChildId,
        decision: &MergeDecision,
        now_ms: i64,
    ) -> Result<MergeRecord, StorageError> {
        if survivor == duplicate {
            return Err(StorageError::Refused(
                "a child cannot be merged into itself".into(),
            ));
        }
        {
            let (mut s_doc, s_child, s_area) = self.load_child(tx, survivor)?;
            let (mut d_doc, d_child, d_area) = self.load_child(tx, duplicate)?;
            if let Some(other) = s_child.merged_into {
                return Err(StorageError::Refused(format!(
                    "child {survivor} is itself merged into {other}: merge into {other} instead"
                )));
            }
            if let Some(other) = d_child.merged_into {
                return Err(StorageError::Refused(format!(
                    "child {duplicate} is already merged into {other}"
                )));
            }
            let absorbed: bool = tx
                .prepare_cached(
                    "SELECT 1 FROM merges WHERE survivor = ?1 AND undone_at IS NULL LIMIT 1",
                )?
                .exists([duplicate.to_string()])?;
            if absorbed {
                return Err(StorageError::Refused(format!(
                    "other registrations are merged into {duplicate}: merge {survivor} into {duplicate} instead, \
                     or unmerge those first"
                )));
            }
            let s_heads = s_doc.heads();
            let d_heads = d_doc.heads();
            let copied = s_doc
                .absorb_measurements(&d_child, now_ms)
                .map_err(|e| StorageError::Corrupt(format!("child {survivor}: {e}")))?;
            d_doc
                .set_merged_into(Some(survivor), now_ms)
                .map_err(|e| StorageError::Corrupt(format!("child {duplicate}: {e}")))?;
            let s_key = survivor.to_string();
            let d_key = duplicate.to_string();
            Self::append_own_changes(tx, &s_key, &s_area, &s_doc.changes_since(&s_heads), now_ms)?;
            Self::append_own_changes(tx, &d_key, &d_area, &d_doc.changes_since(&d_heads), now_ms)?;
            tx.execute(
                "INSERT INTO merges (survivor, duplicate, source, score, evidence, at, who)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    s_key,
                    d_key,
                    decision.source,
                    decision.score,
                    decision.evidence,
                    now_ms,
                    decision.who
                ],
            )?;
            let id = tx.last_insert_rowid();
            // Open review pairs that involve the duplicate are settled by it.
            tx.execute(
                "UPDATE review SET status = 'stale' WHERE status = 'open' AND (child_a = ?1 OR child_b = ?1)",
                [&d_key],
            )?;
            tx.execute(
                "INSERT INTO audit (at, who, action, target, detail) VALUES (?1, ?2, 'child.merge', ?3, ?4)",
                params![
                    now_ms,
                    decision.who,
                    format!("{d_key} -> {s_key}"),
                    format!(
                        "merge={id} source={} score={} copied={copied} evidence: {}",
                        decision.source,
                        decision
                            .score
                            .map(|s| format!("{s:.4}"))
                            .unwrap_or_else(|| "-".into()),
                        decision.evidence
                    )
                ],
            )?;
            Ok(tx.query_row(
                &format!("SELECT {MERGE_COLUMNS} FROM merges WHERE id = ?1"),
                [id],
                merge_from_row,
            )?)
        }
    }

    pub(super) fn district_catch_up_merges(&self, now_ms: i64) -> Result<usize, StorageError> {
        self.with_write(|tx| {
            // Merged registrations that changed since the dedup last looked:
            // a device that had not yet synced the merge measured or voided.
            let pending: Vec<(String, String)> = tx
                .prepare(
                    "SELECT c.id, c.merged_into FROM children c
                       JOIN child_index i ON i.child_id = c.id
                      WHERE c.merged_into IS NOT NULL AND i.linked_seq < i.projected_seq",
                )?
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<Result<_, _>>()?;
            let mut updated = 0;
            for (dup, survivor) in pending {
                let (_, d_child, _) = self.load_child(tx, stored_child_id(&dup)?)?;
                let (mut s_doc, _, s_area) = self.load_child(tx, stored_child_id(&survivor)?)?;
                let heads = s_doc.heads();
                let n = s_doc
                    .absorb_measurements(&d_child, now_ms)
                    .map_err(|e| StorageError::Corrupt(format!("child {survivor}: {e}")))?;
                if n > 0 {
                    Self::append_own_changes(
                        tx,
                        &survivor,
                        &s_area,
                        &s_doc.changes_since(&heads),
                        now_ms,
                    )?;
                    tx.execute(
                        "INSERT INTO audit (at, who, action, target, detail)
                         VALUES (?1, 'server', 'child.merge.catch-up', ?2, ?3)",
                        params![
                            now_ms,
                            format!("{dup} -> {survivor}"),
                            format!("copied={n}")
                        ],
                    )?;
                    updated += n;
                }
            }
            Ok(updated)
        })
    }

    pub(super) fn district_unmerge(
        &self,
        merge_id: i64,
        who: &str,
        now_ms: i64,
    ) -> Result<MergeRecord, StorageError> {
        self.with_write(|tx| {
            let merge = tx
                .query_row(
                    &format!("SELECT {MERGE_COLUMNS} FROM merges WHERE id = ?1"),
                    [merge_id],
                    merge_from_row,
                )
                .optional()?
                .ok_or_else(|| StorageError::Refused(format!("no merge number {merge_id}")))?;
            if merge.undone_at_ms.is_some() {
                return Err(StorageError::Refused(format!(
                    "merge {merge_id} was already undone"
                )));
            }
            let (survivor, duplicate) = (
                stored_child_id(&merge.survivor)?,
                stored_child_id(&merge.duplicate)?,
            );
            let (mut s_doc, _, s_area) = self.load_child(tx, survivor)?;
            let (mut d_doc, _, d_area) = self.load_child(tx, duplicate)?;
            let s_heads = s_doc.heads();
            let d_heads = d_doc.heads();
            let released = s_doc
                .release_measurements(duplicate, now_ms)
                .map_err(|e| StorageError::Corrupt(format!("child {survivor}: {e}")))?;
            d_doc
                .set_merged_into(None, now_ms)
                .map_err(|e| StorageError::Corrupt(format!("child {duplicate}: {e}")))?;
            Self::append_own_changes(
                tx,
                &merge.survivor,
                &s_area,
                &s_doc.changes_since(&s_heads),
                now_ms,
            )?;
            Self::append_own_changes(
                tx,
                &merge.duplicate,
                &d_area,
                &d_doc.changes_since(&d_heads),
                now_ms,
            )?;
            tx.execute(
                "UPDATE merges SET undone_at = ?2, undone_by = ?3 WHERE id = ?1",
                params![merge_id, now_ms, who],
            )?;
            // A person said these are two children: keep them apart.
            let (a, b) = pair_key(&merge.survivor, &merge.duplicate);
            tx.execute(
                "INSERT INTO review (child_a, child_b, score, evidence, priority, created_at, status,
                        decided_at, decided_by)
                 VALUES (?1, ?2, ?3, ?4, 0, ?5, 'rejected', ?5, ?6)
                 ON CONFLICT (child_a, child_b) DO UPDATE SET status = 'rejected',
                        decided_at = excluded.decided_at, decided_by = excluded.decided_by",
                params![
                    a,
                    b,
                    merge.score.unwrap_or(0.0),
                    format!("unmerged (merge {merge_id})"),
                    now_ms,
                    who
                ],
            )?;
            tx.execute(
                "INSERT INTO audit (at, who, action, target, detail) VALUES (?1, ?2, 'child.unmerge', ?3, ?4)",
                params![
                    now_ms,
                    who,
                    format!("{} -> {}", merge.duplicate, merge.survivor),
                    format!("merge={merge_id} released={released}")
                ],
            )?;
            Ok(tx.query_row(
                &format!("SELECT {MERGE_COLUMNS} FROM merges WHERE id = ?1"),
                [merge_id],
                merge_from_row,
            )?)
        })
    }

    pub(super) fn district_verify(
        &self,
        child: ChildId,
        check: &sync_protocol::Verification,
        now_ms: i64,
    ) -> Result<(), StorageError> {
        if matches!(check.check, sync_protocol::Check::Remeasured { .. }) {
            return Err(StorageError::Refused(
                "a re-measurement is recorded in the field with its measurement (tumbuh verify --remeasure)"
                    .into(),
            ));
        }
        self.with_write(|tx| {
            let (mut doc, record, area) = self.load_child(tx, child)?;
            if let Some(survivor) = record.merged_into {
                return Err(StorageError::Refused(format!(
                    "child {child} was merged into {survivor}: record the check on {survivor}"
                )));
            }
            let heads = doc.heads();
            doc.add_verification(check)
                .map_err(|e| StorageError::Corrupt(format!("child {child}: {e}")))?;
            let key = child.to_string();
            Self::append_own_changes(tx, &key, &area, &doc.changes_since(&heads), now_ms)?;
            tx.execute(
                "INSERT INTO audit (at, who, action, target, detail) VALUES (?1, ?2, 'child.verify', ?3, ?4)",
                params![
                    now_ms,
                    check.by,
                    key,
                    format!(
                        "check={} round={}",
                        check.check.kind(),
                        check.round.as_deref().unwrap_or("-")
                    )
                ],
            )?;
            Ok(())
        })
    }

    pub(super) fn district_merges(
        &self,
        active_only: bool,
    ) -> Result<Vec<MergeRecord>, StorageError> {
        self.with_read(|tx| {
            let sql = format!(
                "SELECT {MERGE_COLUMNS} FROM merges {} ORDER BY id DESC",
                if active_only {
                    "WHERE undone_at IS NULL"
                } else {
                    ""
                }
            );
            let rows = tx
                .prepare(&sql)?
                .query_map([], merge_from_row)?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(rows)
        })
    }

    pub(super) fn district_register(
        &self,
        scope: &Scope,
    ) -> Result<Vec<RegisterChild>, StorageError> {
        use crate::verval::{RoundChild, RoundMeasurement};
        let date = |s: &str| {
            chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .map_err(|_| StorageError::Corrupt(format!("bad date in the projection: {s}")))
        };
        let centi = |v: Option<i64>| v.map(|c| c as f64 / 100.0);
        self.with_read(|tx| {
            let sql = format!(
                "SELECT c.id, c.name, c.sex, c.birth_date, c.nik, c.mother_name, c.address, c.rt,
                        c.rw, c.posyandu, c.no_kk,
                        (SELECT count(*) FROM children d WHERE d.merged_into = c.id),
                        m.id, m.date, m.round, m.posyandu, m.haz, m.waz, m.whz, m.implausible,
                        m.length_mm, m.void_reason, m.weight_g, m.position, m.muac_mm,
                        c.birth_weight_g, c.birth_length_mm, m.head_mm, m.oedema,
                        c.consent_by, c.consent_on
                   FROM children c
                   LEFT JOIN measurements m ON m.child_id = c.id
                  WHERE c.merged_into IS NULL AND {}
                  ORDER BY c.id, m.date, m.id",
                scope.sql_condition("c.posyandu")
            );
            let mut stmt = tx.prepare(&sql)?;
            let mut rows = stmt.query([])?;
            let mut out: Vec<RegisterChild> = Vec::new();
            while let Some(r) = rows.next()? {
                let id: String = r.get(0)?;
                if out.last().is_none_or(|c| c.child.id != id) {
                    let birth: String = r.get(3)?;
                    let merged: i64 = r.get(11)?;
                    out.push(RegisterChild {
                        child: RoundChild {
                            id: id.clone(),
                            name: r.get(1)?,
                            sex: r.get(2)?,
                            birth_date: date(&birth)?,
                            nik: r.get(4)?,
                            mother_name: r.get(5)?,
                            address: r.get(6)?,
                            rt: r.get(7)?,
                            rw: r.get(8)?,
                            posyandu: r.get(9)?,
                            registrations: 1 + merged as usize,
                            measurements: Vec::new(),
                        },
                        raw: Vec::new(),
                        no_kk: r.get(10)?,
                        birth_weight_g: r.get(25)?,
                        birth_length_mm: r.get(26)?,
                        registrations: Vec::new(),
                        verifications: Vec::new(),
                        review_partners: Vec::new(),
                        consent_by: r.get(29)?,
                        consent_on: r.get(30)?,
                    });
                }
                let Some(m_id) = r.get::<_, Option<String>>(12)? else {
                    continue;
                };
                let Some(entry) = out.last_mut() else {
                    continue;
                };
                let m_date: String = r.get(13)?;
                let length: Option<i64> = r.get(20)?;
                let head: Option<i64> = r.get(27)?;
                let oedema: Option<bool> = r.get(28)?;
                let posyandu: String = r.get(15)?;
                entry.child.measurements.push(RoundMeasurement {
                    id: m_id,
                    date: date(&m_date)?,
                    round: r.get(14)?,
                    posyandu: if posyandu.is_empty() {
                        entry.child.posyandu.clone()
                    } else {
                        posyandu
                    },
                    haz: centi(r.get(16)?),
                    waz: centi(r.get(17)?),
                    whz: centi(r.get(18)?),
                    implausible: r.get(19)?,
                    has_length: length.is_some(),
                    voided: r.get::<_, Option<String>>(21)?.is_some(),
                });
                entry.raw.push(RawMeasurement {
                    weight_g: r.get(22)?,
                    length_mm: length,
                    standing: r.get::<_, Option<String>>(23)?.map(|p| p == "standing"),
                    muac_mm: r.get(24)?,
                    head_mm: head,
                    oedema: oedema.unwrap_or(false),
                });
            }
            district_register_evidence(tx, &mut out)?;
            Ok(out)
        })
    }

    pub(super) fn district_link_inputs(&self) -> Result<LinkInputs, StorageError> {
        self.with_read(|tx| {
            let mut out = LinkInputs::default();
            let mut stmt = tx.prepare(
                "SELECT c.id, c.posyandu, coalesce(c.desa, ''), coalesce(c.nik, ''),
                        coalesce(c.no_kk, ''), c.name, c.sex, c.birth_date, c.mother_name,
                        coalesce(c.mother_nik, ''), coalesce(c.father_name, ''),
                        coalesce(c.rt, ''), coalesce(c.rw, ''), coalesce(c.address, ''),
                        m.id, m.date, m.posyandu, m.weight_g, m.length_mm, m.position, m.round
                   FROM children c
                   LEFT JOIN measurements m ON m.child_id = c.id AND m.void_reason IS NULL
                  WHERE c.merged_into IS NULL
                  ORDER BY c.id, m.date, m.id",
            )?;
            let mut rows = stmt.query([])?;
            while let Some(r) = rows.next()? {
                let child: String = r.get(0)?;
                let posyandu: String = r.get(1)?;
                let desa: String = r.get(2)?;
                let sex: String = r.get(6)?;
                let birth: String = r.get(7)?;
                let m_id: Option<String> = r.get(14)?;
                let m_date: Option<String> = r.get(15)?;
                let m_posyandu: Option<String> = r.get(16)?;
                let round: Option<String> = r.get(20)?;
                let measured_on = m_date
                    .as_deref()
                    .and_then(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok());
                let row_posyandu = m_posyandu.filter(|p| !p.is_empty()).unwrap_or(posyandu);
                let record = linkage::FieldRecord {
                    record_id: m_id.unwrap_or_else(|| child.clone()),
                    round: round
                        .or_else(|| m_date.as_ref().map(|d| d.chars().take(7).collect()))
                        .unwrap_or_default(),
                    measured_on,
                    desa_code: if desa.is_empty() {
                        row_posyandu.chars().take(10).collect()
                    } else {
                        desa
                    },
                    posyandu_code: row_posyandu,
                    nik: r.get(3)?,
                    no_kk: r.get(4)?,
                    name: r.get(5)?,
                    sex: match sex.as_str() {
                        "L" => Some(linkage::Sex::Male),
                        "P" => Some(linkage::Sex::Female),
                        _ => None,
                    },
                    birth_date: chrono::NaiveDate::parse_from_str(&birth, "%Y-%m-%d").ok(),
                    mother_name: r.get(8)?,
                    mother_nik: r.get(9)?,
                    father_name: r.get(10)?,
                    rt: r.get(11)?,
                    rw: r.get(12)?,
                    address: r.get(13)?,
                    weight_kg: r.get::<_, Option<i64>>(17)?.map(|g| g as f64 / 1000.0),
                    height_cm: r.get::<_, Option<i64>>(18)?.map(|mm| mm as f64 / 10.0),
                    measure_position: r.get::<_, Option<String>>(19)?.unwrap_or_default(),
                };
                out.records.push(record);
                out.child_of_record.push(child);
            }
            let mut stmt = tx.prepare(
                "SELECT i.child_id, i.projected_seq FROM child_index i
                  WHERE i.linked_seq < i.projected_seq",
            )?;
            out.changed = stmt
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<Result<_, _>>()?;
            Ok(out)
        })
    }

    pub(super) fn district_mark_linked(&self, seen: &[(String, i64)]) -> Result<(), StorageError> {
        self.with_write(|tx| {
            let mut stmt = tx.prepare_cached(
                "UPDATE child_index SET linked_seq = max(linked_seq, ?2) WHERE child_id = ?1",
            )?;
            for (child, seq) in seen {
                stmt.execute(params![child, seq])?;
            }
            Ok(())
        })
    }

    pub(super) fn district_kept_apart(&self) -> Result<Vec<(String, String)>, StorageError> {
        self.with_read(|tx| {
            let rows = tx
                .prepare("SELECT child_a, child_b FROM review WHERE status = 'rejected'")?
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(rows)
        })
    }

    /// Queues doubtful pairs (a pair already in the queue, whatever its
    /// status, is left as it is). Each pair queued is audited with who
    /// queued it (the dedup run), its score and the engine's evidence — the
    /// field-level agreement codes (`name=variant(+2.1) birth_date=equal…`),
    /// which hold no name or number of the children.
    pub(super) fn district_add_reviews(
        &self,
        items: &[NewReview],
        who: &str,
        now_ms: i64,
    ) -> Result<usize, StorageError> {
        self.with_write(|tx| {
            // The stored priority is what it was when queued; listings
            // compute their own (see `REVIEW_SELECT`).
            let mut priority = tx.prepare_cached(
                "SELECT coalesce(sum(2 * stunted), 0) FROM children WHERE id IN (?1, ?2)",
            )?;
            let mut insert = tx.prepare_cached(
                "INSERT OR IGNORE INTO review (child_a, child_b, score, evidence, priority, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?;
            let mut audit = tx.prepare_cached(
                "INSERT INTO audit (at, who, action, target, detail)
                 VALUES (?1, ?2, 'review.queue', ?3, ?4)",
            )?;
            let mut added = 0;
            let mut done = HashSet::new();
            for item in items {
                let (a, b) = pair_key(&item.child_a, &item.child_b);
                if a == b || !done.insert((a.clone(), b.clone())) {
                    continue;
                }
                let p: i64 = priority.query_row(params![a, b], |r| r.get(0))?;
                if insert.execute(params![a, b, item.score, item.evidence, p, now_ms])? == 1 {
                    added += 1;
                    let id = tx.last_insert_rowid();
                    audit.execute(params![
                        now_ms,
                        who,
                        format!("{a} {b}"),
                        format!(
                            "review={id} score={:.4} evidence: {}",
                            item.score, item.evidence
                        )
                    ])?;
                }
            }
            Ok(added)
        })
    }

    pub(super) fn district_reviews(
        &self,
        query: &ReviewQuery<'_>,
    ) -> Result<Vec<ReviewItem>, StorageError> {
        let since = crate::review::coming_round(query.today).since.to_string();
        self.with_read(|tx| {
            // The scope is checked in the query, before the limit: a page
            // is filled with pairs of the caller's area, not cut first and
            // filtered after. Both children must lie in the scope (a child
            // not projected is in none).
            let in_scope = match query.scope {
                Scope::All => "1".to_owned(),
                scope => format!(
                    "{} AND {}",
                    scope.sql_condition("ca.posyandu"),
                    scope.sql_condition("cb.posyandu")
                ),
            };
            let rows = tx
                .prepare(&format!(
                    "{REVIEW_SELECT}
                      WHERE (?2 IS NULL OR r.status = ?2) AND {in_scope}
                      ORDER BY r.status = 'open' DESC, 6 DESC, r.score DESC, r.id LIMIT ?3"
                ))?
                .query_map(
                    params![since, query.status, query.limit as i64],
                    review_from_row,
                )?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(rows)
        })
    }

    pub(super) fn district_review(
        &self,
        id: i64,
        today: chrono::NaiveDate,
    ) -> Result<Option<ReviewItem>, StorageError> {
        self.with_read(|tx| Self::review_in(tx, id, today))
    }

    fn review_in(
        tx: &Transaction<'_>,
        id: i64,
        today: chrono::NaiveDate,
    ) -> Result<Option<ReviewItem>, StorageError> {
        let since = crate::review::coming_round(today).since.to_string();
        Ok(tx
            .query_row(
                &format!("{REVIEW_SELECT} WHERE r.id = ?2"),
                params![since, id],
                review_from_row,
            )
            .optional()?)
    }

    pub(super) fn district_store_areas(
        &self,
        areas: &[crate::import::AreaEntry],
        who: &str,
        now_ms: i64,
    ) -> Result<AreasStored, StorageError> {
        self.with_write(|tx| {
            let mut out = AreasStored::default();
            let mut existing = tx.prepare_cached(
                "SELECT level, name, parent_code FROM areas WHERE code = ?1",
            )?;
            let mut upsert = tx.prepare_cached(
                "INSERT INTO areas (code, level, name, parent_code, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (code) DO UPDATE SET level = excluded.level, name = excluded.name,
                    parent_code = excluded.parent_code, updated_at = excluded.updated_at",
            )?;
            for a in areas {
                let before: Option<(String, String, Option<String>)> = existing
                    .query_row([&a.code], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                    .optional()?;
                match before {
                    Some((level, name, parent))
                        if level == a.level && name == a.name && parent == a.parent =>
                    {
                        out.unchanged += 1;
                        continue;
                    }
                    Some(_) => out.changed += 1,
                    None => out.added += 1,
                }
                upsert.execute(params![a.code, a.level, a.name, a.parent, now_ms])?;
            }
            tx.execute(
                "INSERT INTO audit (at, who, action, target, detail) VALUES (?1, ?2, 'areas.import', 'areas', ?3)",
                params![
                    now_ms,
                    who,
                    format!(
                        "added={} changed={} unchanged={}",
                        out.added, out.changed, out.unchanged
                    )
                ],
            )?;
            Ok(out)
        })
    }

    pub(super) fn district_areas(&self) -> Result<Vec<crate::import::AreaEntry>, StorageError> {
        self.with_read(|tx| {
            let rows = tx
                .prepare("SELECT code, level, name, parent_code FROM areas ORDER BY code")?
                .query_map([], |r| {
                    Ok(crate::import::AreaEntry {
                        code: r.get(0)?,
                        level: r.get(1)?,
                        name: r.get(2)?,
                        parent: r.get(3)?,
                    })
                })?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(rows)
        })
    }

    /// A person's decision on an open pair, in one transaction: the merge
    /// (when accepted), the pair's status and the audit entries commit
    /// together or not at all, so a crash never leaves a merged pair open.
    pub(super) fn district_decide_review(
        &self,
        id: i64,
        accept: Option<(ChildId, ChildId)>,
        who: &str,
        now_ms: i64,
    ) -> Result<(ReviewItem, Option<MergeRecord>), StorageError> {
        // The returned item's priority is as of the decision's day (UTC).
        let today = chrono::DateTime::from_timestamp_millis(now_ms)
            .map(|t| t.date_naive())
            .unwrap_or_default();
        self.with_write(|tx| {
            let item = Self::review_in(tx, id, today)?
                .ok_or_else(|| StorageError::Refused(format!("no review pair number {id}")))?;
            if item.status != "open" {
                return Err(StorageError::Refused(format!(
                    "review pair {id} is {} already",
                    item.status
                )));
            }
            let merge = match accept {
                Some((survivor, duplicate)) => {
                    let pair = pair_key(&survivor.to_string(), &duplicate.to_string());
                    if pair != (item.child_a.clone(), item.child_b.clone()) {
                        return Err(StorageError::Refused(format!(
                            "review pair {id} is about {} and {}",
                            item.child_a, item.child_b
                        )));
                    }
                    Some(self.merge_in(
                        tx,
                        survivor,
                        duplicate,
                        &MergeDecision {
                            who: who.to_owned(),
                            source: "review",
                            score: Some(item.score),
                            evidence: item.evidence.clone(),
                        },
                        now_ms,
                    )?)
                }
                None => None,
            };
            // `merge_in` marked the open pairs of the duplicate stale, this
            // one among them: the decision overrides that.
            let status = if merge.is_some() {
                "accepted"
            } else {
                "rejected"
            };
            tx.execute(
                "UPDATE review SET status = ?2, decided_at = ?3, decided_by = ?4 WHERE id = ?1",
                params![id, status, now_ms, who],
            )?;
            tx.execute(
                "INSERT INTO audit (at, who, action, target, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    now_ms,
                    who,
                    format!(
                        "review.{}",
                        if merge.is_some() { "accept" } else { "reject" }
                    ),
                    format!("{} {}", item.child_a, item.child_b),
                    format!(
                        "review={id} score={:.4}{}",
                        item.score,
                        merge
                            .as_ref()
                            .map(|m| format!(" merge={}", m.id))
                            .unwrap_or_default()
                    )
                ],
            )?;
            let item = Self::review_in(tx, id, today)?
                .ok_or_else(|| StorageError::Corrupt(format!("review pair {id} vanished")))?;
            Ok((item, merge))
        })
    }
}

/// Adds to each register child the evidence verval verification needs: every
/// registration folded into it (its own first, then those merged into it),
/// its recorded checks, and the children it is paired with in open review.
fn district_register_evidence(
    tx: &rusqlite::Transaction<'_>,
    out: &mut [RegisterChild],
) -> Result<(), StorageError> {
    use crate::verval::evidence::Registration;
    use sync_protocol::{Check, Verification};
    let index: std::collections::HashMap<String, usize> = out
        .iter()
        .enumerate()
        .map(|(i, c)| (c.child.id.clone(), i))
        .collect();
    let date = |s: &str| {
        chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .map_err(|_| StorageError::Corrupt(format!("bad date in the projection: {s}")))
    };
    let mut stmt = tx.prepare(
        "SELECT c.id, coalesce(c.merged_into, c.id), c.sex, c.birth_date, c.nik, c.no_kk,
                c.mother_nik,
                (SELECT count(*) FROM measurements m
                  WHERE m.child_id = c.id AND m.merged_from IS NULL AND m.void_reason IS NULL),
                (SELECT min(m.date) FROM measurements m
                  WHERE m.child_id = c.id AND m.merged_from IS NULL AND m.void_reason IS NULL)
           FROM children c
          ORDER BY c.merged_into IS NOT NULL, c.id",
    )?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        let owner: String = r.get(1)?;
        let Some(&i) = index.get(&owner) else {
            continue;
        };
        let id: String = r.get(0)?;
        let sex: String = r.get(2)?;
        let birth: String = r.get(3)?;
        let first: Option<String> = r.get(8)?;
        out[i].registrations.push(Registration {
            child_id: id,
            sex: sex.parse().map_err(|e: String| {
                StorageError::Corrupt(format!("sex in the projection: {e}"))
            })?,
            birth_date: date(&birth)?,
            nik: r.get(4)?,
            no_kk: r.get(5)?,
            mother_nik: r.get(6)?,
            measurements: r.get::<_, i64>(7)? as usize,
            first_measured: first.as_deref().map(date).transpose()?,
        });
    }
    let mut stmt = tx.prepare(
        "SELECT child_id, id, kind, date, sex, source, measurement_id, round, by_whom, recorded_at
           FROM verifications ORDER BY child_id, recorded_at, id",
    )?;
    let mut rows = stmt.query([])?;
    let corrupt =
        |what: &str, e: String| StorageError::Corrupt(format!("verification {what}: {e}"));
    while let Some(r) = rows.next()? {
        let child: String = r.get(0)?;
        let Some(&i) = index.get(&child) else {
            continue;
        };
        let kind: String = r.get(2)?;
        let text = |j: usize| -> Result<String, StorageError> {
            r.get::<_, Option<String>>(j)?.ok_or_else(|| {
                StorageError::Corrupt(format!("verification {kind} without column {j}"))
            })
        };
        let source = || -> Result<sync_protocol::DocumentSource, StorageError> {
            text(5)?.parse().map_err(|e: String| corrupt("source", e))
        };
        let check = match kind.as_str() {
            "birth_date" => Check::BirthDate {
                date: date(&text(3)?)?,
                source: source()?,
            },
            "sex" => Check::Sex {
                sex: text(4)?.parse().map_err(|e: String| corrupt("sex", e))?,
                source: source()?,
            },
            "remeasured" => Check::Remeasured {
                measurement: text(6)?.parse().map_err(|e: sync_protocol::IdParseError| {
                    corrupt("measurement", e.to_string())
                })?,
            },
            "confirmed" => Check::Confirmed,
            _ => continue,
        };
        out[i].verifications.push(Verification {
            id: r
                .get::<_, String>(1)?
                .parse()
                .map_err(|e: sync_protocol::IdParseError| corrupt("id", e.to_string()))?,
            check,
            round: r.get(7)?,
            by: r.get(8)?,
            recorded_at_ms: r.get(9)?,
        });
    }
    let mut stmt = tx.prepare("SELECT child_a, child_b FROM review WHERE status = 'open'")?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        let a: String = r.get(0)?;
        let b: String = r.get(1)?;
        if let Some(&i) = index.get(&a) {
            out[i].review_partners.push(b.clone());
        }
        if let Some(&i) = index.get(&b) {
            out[i].review_partners.push(a);
        }
    }
    Ok(())
}
