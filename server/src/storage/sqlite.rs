//! The embedded default storage: one SQLite file (WAL, `synchronous=FULL`).
//!
//! Tables, by role:
//! - `changes`: every Automerge change received, numbered by `seq` (the
//!   feed's monotonic sequence), unique by hash. Source of truth; append-only.
//! - `child_index`: one row per child, written in the same transaction as its
//!   changes: the child's area (for scope checks and the feed), its change
//!   digest (for checksums) and how far its projection has caught up.
//! - `documents`: a saved Automerge document per child (the "snapshot" that
//!   first syncs download and the projection loads from), refreshed by the
//!   projection when enough new changes accumulated.
//! - `children`, `measurements`, `conflicts`: the projection, derived.
//! - `devices`, `batches`: enrolments and the batch keys seen.
//!
//! One writer connection behind a mutex (SQLite has one writer anyway) and a
//! small pool of readers, so reads never wait for writes.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use automerge::ActorId;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use serde_bytes::ByteBuf;
use sync_protocol::compact;
use sync_protocol::wire::{
    Ack, ChildChanges, ChildDigest, ChildSnapshot, Digest, RepairRequest, RepairResponse,
    ScopeChecksum, SnapshotRequest, SnapshotResponse, SyncRequest, SyncResponse, change_cost,
};
use sync_protocol::{AreaCode, AreaLevel, ChildDocument, ChildId, DeviceId, Scope};
use uuid::Uuid;

use super::{
    AreasStored, AuditEntry, AuditFilter, ChildDetail, ChildSummary, Conflict, Enrolment,
    ImportOutcome, IncomingRegistration, LinkInputs, MergeDecision, MergeRecord, NewEnrolment,
    NewReview, RegisterChild, ReviewItem, ReviewQuery, Role, Stats, Storage, StorageError, User,
};
use crate::projection::{self, ProjectedChild};

mod district;
mod people;

/// Schema migrations, applied in order (`PRAGMA user_version` counts them).
/// Append only.
const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE devices (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    role         TEXT NOT NULL,
    scope        TEXT NOT NULL,
    token_hash   BLOB NOT NULL UNIQUE,
    bundle_key   BLOB NOT NULL,
    actor        TEXT,
    created_at   INTEGER NOT NULL,
    revoked_at   INTEGER,
    last_sync_at INTEGER
);
CREATE TABLE changes (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    child_id     TEXT NOT NULL,
    hash         BLOB NOT NULL UNIQUE,
    bytes        BLOB NOT NULL,
    device       TEXT NOT NULL,
    received_at  INTEGER NOT NULL
);
CREATE INDEX changes_by_child ON changes (child_id, seq);
CREATE TABLE child_index (
    child_id      TEXT PRIMARY KEY,
    area          TEXT NOT NULL,
    changes       INTEGER NOT NULL,
    xor           INTEGER NOT NULL,
    last_seq      INTEGER NOT NULL,
    projected_seq INTEGER NOT NULL DEFAULT 0,
    error         TEXT
);
CREATE INDEX child_index_by_area ON child_index (area);
CREATE INDEX child_index_pending ON child_index (last_seq) WHERE projected_seq < last_seq;
CREATE TABLE batches (
    device       TEXT NOT NULL,
    batch        BLOB NOT NULL,
    received_at  INTEGER NOT NULL,
    changes      INTEGER NOT NULL,
    PRIMARY KEY (device, batch)
) WITHOUT ROWID;
CREATE TABLE documents (
    child_id     TEXT PRIMARY KEY,
    upto_seq     INTEGER NOT NULL,
    bytes        BLOB NOT NULL
);
CREATE TABLE children (
    id            TEXT PRIMARY KEY,
    posyandu      TEXT NOT NULL,
    name          TEXT NOT NULL,
    sex           TEXT NOT NULL,
    birth_date    TEXT NOT NULL,
    mother_name   TEXT NOT NULL,
    nik           TEXT,
    no_kk         TEXT,
    mother_nik    TEXT,
    father_name   TEXT,
    rt            TEXT,
    rw            TEXT,
    address       TEXT,
    last_measured TEXT,
    last_haz      INTEGER,
    last_tbu      TEXT,
    stunted       INTEGER NOT NULL,
    conflicts     INTEGER NOT NULL
);
CREATE INDEX children_by_posyandu ON children (posyandu);
CREATE TABLE measurements (
    id           TEXT PRIMARY KEY,
    child_id     TEXT NOT NULL,
    date         TEXT NOT NULL,
    age_days     INTEGER NOT NULL,
    weight_g     INTEGER,
    length_mm    INTEGER,
    position     TEXT,
    muac_mm      INTEGER,
    head_mm      INTEGER,
    oedema       INTEGER NOT NULL,
    void_reason  TEXT,
    haz          INTEGER,
    waz          INTEGER,
    whz          INTEGER,
    bmiz         INTEGER,
    tbu          TEXT,
    bbu          TEXT,
    bbtb         TEXT,
    imtu         TEXT,
    implausible  INTEGER NOT NULL,
    gain         TEXT
);
CREATE INDEX measurements_by_child ON measurements (child_id, date);
CREATE TABLE conflicts (
    child_id     TEXT NOT NULL,
    field        TEXT NOT NULL,
    vals         TEXT NOT NULL,
    PRIMARY KEY (child_id, field)
);
"#,
    r#"
-- Access control (migration 2): token expiry and the append-only audit log.
ALTER TABLE devices ADD COLUMN expires_at INTEGER;
CREATE TABLE audit (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    at      INTEGER NOT NULL,
    who     TEXT NOT NULL,
    action  TEXT NOT NULL,
    target  TEXT NOT NULL,
    detail  TEXT NOT NULL
);
CREATE INDEX audit_by_time ON audit (at);
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
"#,
    r#"
-- District reconciliation (migration 3): domicile desa, merges, imports,
-- the review queue; measurement rows keyed by child (a merge's copy keeps
-- its original id in the survivor) and with where and for which round they
-- were taken.
ALTER TABLE children ADD COLUMN desa TEXT;
ALTER TABLE children ADD COLUMN merged_into TEXT;
CREATE INDEX children_merged ON children (merged_into) WHERE merged_into IS NOT NULL;
CREATE TABLE measurements_v3 (
    id           TEXT NOT NULL,
    child_id     TEXT NOT NULL,
    date         TEXT NOT NULL,
    age_days     INTEGER NOT NULL,
    weight_g     INTEGER,
    length_mm    INTEGER,
    position     TEXT,
    muac_mm      INTEGER,
    head_mm      INTEGER,
    oedema       INTEGER NOT NULL,
    void_reason  TEXT,
    haz          INTEGER,
    waz          INTEGER,
    whz          INTEGER,
    bmiz         INTEGER,
    tbu          TEXT,
    bbu          TEXT,
    bbtb         TEXT,
    imtu         TEXT,
    implausible  INTEGER NOT NULL,
    gain         TEXT,
    posyandu     TEXT NOT NULL DEFAULT '',
    round        TEXT,
    merged_from  TEXT,
    PRIMARY KEY (child_id, id)
) WITHOUT ROWID;
INSERT INTO measurements_v3 (id, child_id, date, age_days, weight_g, length_mm, position, muac_mm,
    head_mm, oedema, void_reason, haz, waz, whz, bmiz, tbu, bbu, bbtb, imtu, implausible, gain)
  SELECT id, child_id, date, age_days, weight_g, length_mm, position, muac_mm, head_mm, oedema,
    void_reason, haz, waz, whz, bmiz, tbu, bbu, bbtb, imtu, implausible, gain FROM measurements;
DROP TABLE measurements;
ALTER TABLE measurements_v3 RENAME TO measurements;
CREATE INDEX measurements_by_date ON measurements (date);
-- Re-project every child so the new columns are filled.
UPDATE child_index SET projected_seq = 0;
ALTER TABLE child_index ADD COLUMN linked_seq INTEGER NOT NULL DEFAULT 0;
CREATE TABLE server_meta (
    key    TEXT PRIMARY KEY,
    value  BLOB NOT NULL
);
-- The Automerge actor of changes the server itself makes (imports, merges).
INSERT INTO server_meta (key, value) VALUES ('actor', randomblob(16));
CREATE TABLE imports (
    external_id   TEXT PRIMARY KEY,
    child_id      TEXT NOT NULL,
    measurement   TEXT,
    file          TEXT NOT NULL,
    imported_at   INTEGER NOT NULL
);
CREATE TABLE merges (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    survivor     TEXT NOT NULL,
    duplicate    TEXT NOT NULL,
    source       TEXT NOT NULL,
    score        REAL,
    evidence     TEXT NOT NULL,
    at           INTEGER NOT NULL,
    who          TEXT NOT NULL,
    undone_at    INTEGER,
    undone_by    TEXT
);
CREATE UNIQUE INDEX merges_active ON merges (duplicate) WHERE undone_at IS NULL;
CREATE TABLE review (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    child_a      TEXT NOT NULL,
    child_b      TEXT NOT NULL,
    score        REAL NOT NULL,
    evidence     TEXT NOT NULL,
    priority     INTEGER NOT NULL,
    created_at   INTEGER NOT NULL,
    status       TEXT NOT NULL DEFAULT 'open',
    decided_at   INTEGER,
    decided_by   TEXT,
    UNIQUE (child_a, child_b)
);
CREATE INDEX review_open ON review (priority DESC, score DESC) WHERE status = 'open';
"#,
    r#"
-- Birth weight and length (migration 4), for the e-PPGBM columns.
ALTER TABLE children ADD COLUMN birth_weight_g INTEGER;
ALTER TABLE children ADD COLUMN birth_length_mm INTEGER;
UPDATE child_index SET projected_seq = 0;
"#,
    r#"
-- Verval checks (migration 5), projected from each document's
-- `verifications` map like measurements are.
CREATE TABLE verifications (
    child_id       TEXT NOT NULL,
    id             TEXT NOT NULL,
    kind           TEXT NOT NULL,
    date           TEXT,
    sex            TEXT,
    source         TEXT,
    measurement_id TEXT,
    round          TEXT,
    by_whom        TEXT NOT NULL,
    recorded_at    INTEGER NOT NULL,
    PRIMARY KEY (child_id, id)
);
"#,
    r#"
-- Parental consent (migration 6), shown in exports.
ALTER TABLE children ADD COLUMN consent_by TEXT;
ALTER TABLE children ADD COLUMN consent_on TEXT;
UPDATE child_index SET projected_seq = 0;
"#,
    r#"
-- People who sign in with a password (migration 7), and their sessions;
-- separate from the devices' enrolment tokens (see people.rs).
CREATE TABLE users (
    id              TEXT PRIMARY KEY,
    name            TEXT NOT NULL UNIQUE,
    role            TEXT NOT NULL,
    scope           TEXT NOT NULL,
    password        TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    disabled_at     INTEGER,
    failed_signins  INTEGER NOT NULL DEFAULT 0,
    locked_until    INTEGER
);
CREATE TABLE sessions (
    token_hash  BLOB PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users (id),
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    ended_at    INTEGER
);
"#,
    r#"
-- The area directory (migration 8): codes, level words, names and parents
-- (`tumbuh-server areas import`), so e-PPGBM imports and reports find area
-- names without an areas.csv each time. Upserted by code.
CREATE TABLE areas (
    code         TEXT PRIMARY KEY,
    level        TEXT NOT NULL,
    name         TEXT NOT NULL,
    parent_code  TEXT,
    updated_at   INTEGER NOT NULL
);
"#,
];

/// Rebuild a child's saved document once this many changes came after it.
const RESAVE_AFTER_CHANGES: usize = 8;

/// A child's stored state, as read by `SqliteStorage::document_bytes`.
struct StoredDocument {
    bytes: Vec<u8>,
    max_seq: i64,
    after: usize,
    had_saved: bool,
}

/// SQLite-backed [`Storage`].
pub struct SqliteStorage {
    path: PathBuf,
    writer: Mutex<Connection>,
    readers: Mutex<Vec<Connection>>,
    /// The server's own Automerge actor: documents are loaded with it, and
    /// the changes the server makes (imports, merges) carry it. Random per
    /// database, made by migration 3.
    actor: ActorId,
}

fn configure(conn: &Connection) -> Result<(), rusqlite::Error> {
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.busy_timeout(std::time::Duration::from_secs(30))?;
    Ok(())
}

/// The audit action of an uploaded change that edits or voids what was
/// recorded (by the message the document layer commits it with; ordinary
/// registrations and measurements are in `changes` already, with their
/// device). A device could lie in the message: the change itself, kept in
/// `changes`, is the record of what it did.
fn audited_edit(message: Option<&str>) -> Option<&'static str> {
    match message? {
        "edit profile" => Some("child.edit"),
        "void measurement" => Some("measurement.void"),
        m if m.starts_with("verify") => Some("child.verify"),
        _ => None,
    }
}

/// Why a device of `scope` may not store changes that take a child's
/// profile posyandu from `before` to `after` (`None`: it may). The
/// projection moves a child to the posyandu its profile names, so the scope
/// check on the child's present area is not enough: without this an
/// in-scope device could move a child into any area, out of its own sight.
/// An unchanged posyandu is left to that area check (a record imported with
/// an odd code stays editable); an admin may set anything.
fn move_refusal(
    child: &str,
    before: Result<Option<String>, sync_protocol::DocumentError>,
    after: Result<Option<String>, sync_protocol::DocumentError>,
    scope: &Scope,
) -> Option<String> {
    if matches!(scope, Scope::All) {
        return None;
    }
    let after = after.ok();
    if before.ok() == after {
        return None;
    }
    match after.flatten().as_deref().map(AreaCode::parse) {
        Some(Ok(area)) if area.level() == AreaLevel::Posyandu && scope.covers(&area) => None,
        Some(Ok(area)) if area.level() == AreaLevel::Posyandu => Some(format!(
            "the changes would move child {child} to posyandu {area}, outside this device's area"
        )),
        // The value itself is not echoed: it is whatever the device sent.
        _ => Some(format!(
            "the changes would leave child {child} without a valid 12-digit posyandu code"
        )),
    }
}

fn blob32(v: Vec<u8>) -> Result<[u8; 32], StorageError> {
    <[u8; 32]>::try_from(v.as_slice()).map_err(|_| StorageError::Corrupt("bad key length".into()))
}

fn enrolment_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(Enrolment, Vec<u8>)> {
    let id: String = r.get(0)?;
    let role: String = r.get(2)?;
    let scope: String = r.get(3)?;
    let conv = |i: usize, e: String| {
        rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, e.into())
    };
    Ok((
        Enrolment {
            id: id
                .parse()
                .map_err(|e: uuid::Error| conv(0, e.to_string()))?,
            name: r.get(1)?,
            role: Role::from_code(&role).ok_or_else(|| conv(2, format!("role {role}")))?,
            scope: Scope::from_text(&scope).map_err(|e| conv(3, e.to_string()))?,
            actor: r.get(4)?,
            created_at_ms: r.get(5)?,
            last_sync_ms: r.get(6)?,
            expires_at_ms: r.get(8)?,
            revoked_at_ms: r.get(9)?,
            person: false,
        },
        r.get(7)?,
    ))
}

const ENROLMENT_COLUMNS: &str =
    "id, name, role, scope, actor, created_at, last_sync_at, bundle_key, expires_at, revoked_at";

impl SqliteStorage {
    fn enrolment(conn: &Connection, id: Uuid) -> Result<Enrolment, StorageError> {
        conn.query_row(
            &format!("SELECT {ENROLMENT_COLUMNS} FROM devices WHERE id = ?1"),
            [id.to_string()],
            enrolment_from_row,
        )
        .optional()?
        .map(|(e, _)| e)
        .ok_or_else(|| StorageError::NoSuchDevice(id.to_string()))
    }

    /// Opens (creating if needed) the database at `path`.
    pub fn open(path: &Path) -> Result<SqliteStorage, StorageError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| {
                StorageError::Corrupt(format!("cannot create {}: {e}", dir.display()))
            })?;
        }
        let mut conn = Connection::open(path)?;
        configure(&conn)?;
        let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        if version > MIGRATIONS.len() as i64 {
            return Err(StorageError::TooNew {
                path: path.display().to_string(),
                found: version,
                known: MIGRATIONS.len(),
            });
        }
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(version.max(0) as usize) {
            tx.execute_batch(sql)?;
            tx.pragma_update(None, "user_version", (i + 1) as i64)?;
        }
        let actor: Vec<u8> = tx.query_row(
            "SELECT value FROM server_meta WHERE key = 'actor'",
            [],
            |r| r.get(0),
        )?;
        tx.commit()?;
        Ok(SqliteStorage {
            path: path.to_path_buf(),
            writer: Mutex::new(conn),
            readers: Mutex::new(Vec::new()),
            actor: ActorId::from(actor),
        })
    }

    /// Where the database lives.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn with_read<T>(
        &self,
        f: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<T, StorageError>,
    ) -> Result<T, StorageError> {
        let pooled = self.readers.lock().ok().and_then(|mut p| p.pop());
        let mut conn = match pooled {
            Some(c) => c,
            None => {
                let c = Connection::open(&self.path)?;
                configure(&c)?;
                c
            }
        };
        // A deferred transaction: every read inside sees one snapshot.
        let result = {
            let tx = conn.transaction()?;
            let value = f(&tx)?;
            tx.commit()?;
            value
        };
        if let Ok(mut p) = self.readers.lock()
            && p.len() < 8
        {
            p.push(conn);
        }
        Ok(result)
    }

    fn with_write<T>(
        &self,
        f: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<T, StorageError>,
    ) -> Result<T, StorageError> {
        let mut conn = self
            .writer
            .lock()
            .map_err(|_| StorageError::Corrupt("writer lock poisoned".into()))?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let value = f(&tx)?;
        tx.commit()?;
        Ok(value)
    }

    /// The area of a child that is new to the server, read from its own
    /// changes in the upload; an error text if they do not make a child.
    fn new_child_area(
        &self,
        child: ChildId,
        changes: &[Result<automerge::Change, String>],
    ) -> Result<String, String> {
        let mut bytes = Vec::new();
        for c in changes.iter().flatten() {
            bytes.extend_from_slice(c.raw_bytes());
        }
        let doc = ChildDocument::load(self.actor.clone(), &bytes)
            .map_err(|e| format!("the changes of a new child do not make a child record: {e}"))?;
        if doc.id() != child {
            return Err("the changes belong to another child".into());
        }
        let child = doc
            .child()
            .map_err(|e| format!("the new child's record is incomplete: {e}"))?;
        match AreaCode::parse(&child.profile.posyandu) {
            Ok(a) if a.level() == AreaLevel::Posyandu => Ok(a.to_string()),
            _ => Err("the new child has no valid 12-digit posyandu code".into()),
        }
    }

    /// A child's stored state as bytes Automerge loads: its saved document
    /// (if any) followed by every change newer than the save. Also returns
    /// the last sequence number included, how many changes followed the
    /// save, and whether there was a save. `None` for an unknown child.
    fn document_bytes(
        conn: &Connection,
        child: &str,
    ) -> Result<Option<StoredDocument>, StorageError> {
        let saved: Option<(i64, Vec<u8>)> = conn
            .prepare_cached("SELECT upto_seq, bytes FROM documents WHERE child_id = ?1")?
            .query_row([child], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        let (upto, mut bytes) = saved.unwrap_or((0, Vec::new()));
        let had_saved = !bytes.is_empty();
        let mut max_seq = upto;
        let mut after = 0usize;
        {
            let mut stmt = conn.prepare_cached(
                "SELECT seq, bytes FROM changes WHERE child_id = ?1 AND seq > ?2 ORDER BY seq",
            )?;
            let mut rows = stmt.query(params![child, upto])?;
            while let Some(row) = rows.next()? {
                max_seq = row.get(0)?;
                bytes.extend_from_slice(row.get_ref(1)?.as_blob().map_err(rusqlite::Error::from)?);
                after += 1;
            }
        }
        Ok((!bytes.is_empty()).then_some(StoredDocument {
            bytes,
            max_seq,
            after,
            had_saved,
        }))
    }

    fn load_document(
        &self,
        conn: &Connection,
        child: &str,
    ) -> Result<Option<(ChildDocument, StoredDocument)>, StorageError> {
        let Some(stored) = Self::document_bytes(conn, child)? else {
            return Ok(None);
        };
        let doc = ChildDocument::load(self.actor.clone(), &stored.bytes)
            .map_err(|e| StorageError::Corrupt(format!("child {child}: {e}")))?;
        Ok(Some((doc, stored)))
    }

    fn scope_checksum(conn: &Connection, scope: &Scope) -> Result<ScopeChecksum, StorageError> {
        let sql = format!(
            "SELECT changes, xor FROM child_index WHERE {}",
            scope.sql_condition("area")
        );
        let mut stmt = conn.prepare_cached(&sql)?;
        let mut rows = stmt.query([])?;
        let mut sum = ScopeChecksum::default();
        while let Some(row) = rows.next()? {
            sum.children += 1;
            sum.digest.add(Digest {
                changes: row.get::<_, i64>(0)? as u64,
                xor: row.get::<_, i64>(1)? as u64,
            });
        }
        Ok(sum)
    }

    /// One page of the feed for `who` after `cursor`.
    fn feed(
        conn: &Connection,
        who: &Enrolment,
        cursor: u64,
        max_bytes: usize,
    ) -> Result<(Vec<ChildChanges>, u64, bool), StorageError> {
        let sql = format!(
            "SELECT c.seq, c.child_id, c.bytes FROM changes c
               JOIN child_index i ON i.child_id = c.child_id
              WHERE c.seq > ?1 AND c.device <> ?2 AND {}
              ORDER BY c.seq",
            who.scope.sql_condition("i.area")
        );
        let mut stmt = conn.prepare_cached(&sql)?;
        let mut rows = stmt.query(params![cursor as i64, who.id.to_string()])?;
        let mut feed: Vec<ChildChanges> = Vec::new();
        let mut used = 0usize;
        let mut last = cursor;
        let mut more = false;
        while let Some(row) = rows.next()? {
            let bytes = row.get_ref(2)?.as_blob().map_err(rusqlite::Error::from)?;
            let cost = change_cost(bytes) + 16;
            if used + cost > max_bytes && used > 0 {
                more = true;
                break;
            }
            used += cost;
            let seq: i64 = row.get(0)?;
            let child: ChildId = row
                .get_ref(1)?
                .as_str()
                .map_err(rusqlite::Error::from)?
                .parse()
                .map_err(|_| StorageError::Corrupt("bad child id in changes".into()))?;
            match feed.last_mut() {
                Some(group) if group.child == child => group.changes.push(ByteBuf::from(bytes)),
                _ => feed.push(ChildChanges {
                    child,
                    changes: vec![ByteBuf::from(bytes)],
                }),
            }
            last = seq as u64;
        }
        if !more {
            let max: i64 =
                conn.query_row("SELECT coalesce(max(seq), 0) FROM changes", [], |r| {
                    r.get(0)
                })?;
            last = last.max(max as u64);
        }
        Ok((feed, last, more))
    }

    fn store_upload(
        &self,
        tx: &rusqlite::Transaction<'_>,
        who: &Enrolment,
        request: &SyncRequest,
        now_ms: i64,
    ) -> Result<Vec<Ack>, StorageError> {
        let me = who.id.to_string();
        let mut acks = Vec::new();
        let mut insert = tx.prepare_cached(
            "INSERT OR IGNORE INTO changes (child_id, hash, bytes, device, received_at)
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )?;
        let mut index_get = tx.prepare_cached(
            "SELECT area, changes, xor, last_seq FROM child_index WHERE child_id = ?1",
        )?;
        let mut index_put = tx.prepare_cached(
            "INSERT INTO child_index (child_id, area, changes, xor, last_seq) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (child_id) DO UPDATE SET changes = excluded.changes, xor = excluded.xor,
                last_seq = excluded.last_seq",
        )?;
        let mut by_prefix = tx.prepare_cached(
            "SELECT hash FROM changes WHERE hash >= ?1 AND hash < ?2 AND child_id = ?3 LIMIT 2",
        )?;
        let mut has_change =
            tx.prepare_cached("SELECT 1 FROM changes WHERE hash = ?1 AND child_id = ?2")?;
        let mut audit = tx.prepare_cached(
            "INSERT INTO audit (at, who, action, target, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
        )?;
        // A device uploads only what it wrote: a change the server does not
        // have yet must carry the actor the device bound at login, so it
        // cannot write in the name of another device or of the server
        // (merges, imports). Changes the server already holds may come back
        // (a repair asks for a child's whole history again). An admin token
        // may relay others' changes (restoring a server from devices).
        let own_actor: Option<automerge::ActorId> = who
            .actor
            .as_deref()
            .and_then(|a| a.parse::<sync_protocol::DeviceId>().ok())
            .map(|d| d.actor())
            .filter(|_| who.role != crate::storage::Role::Admin);
        for group in &request.upload {
            let child = group.child.to_string();
            let child_known: bool = index_get.exists([&child])?;
            // Rebuild and parse every change of the group first (their
            // dependencies resolve against this child's stored changes and
            // the ones before them in the group).
            let mut earlier: Vec<[u8; 32]> = Vec::new();
            let mut parsed: Vec<Result<automerge::Change, String>> = Vec::new();
            for encoded in &group.changes {
                let resolve = |prefix: &[u8; compact::PREFIX]| -> Option<[u8; 32]> {
                    if let Some(h) = earlier.iter().find(|h| h[..compact::PREFIX] == prefix[..]) {
                        return Some(*h);
                    }
                    let high = u64::from_be_bytes(*prefix)
                        .checked_add(1)
                        .map(|n| n.to_be_bytes().to_vec())
                        .unwrap_or_else(|| vec![0xff; 33]);
                    let found: Vec<Vec<u8>> = by_prefix
                        .query_map(params![prefix.as_slice(), high, child], |r| r.get(0))
                        .ok()?
                        .collect::<Result<_, _>>()
                        .ok()?;
                    match found.as_slice() {
                        [one] => <[u8; 32]>::try_from(one.as_slice()).ok(),
                        _ => None,
                    }
                };
                let change = compact::expand(encoded, resolve)
                    .map_err(|e| format!("change refused: {e}"))
                    .and_then(|bytes| {
                        automerge::Change::from_bytes(bytes)
                            .map_err(|e| format!("not a valid Automerge change: {e}"))
                    })
                    .and_then(|c| {
                        if let Some(actor) = &own_actor
                            && c.actor_id() != actor
                            && !has_change
                                .exists(params![c.hash().0.as_slice(), child])
                                .unwrap_or(false)
                        {
                            return Err(format!(
                                "written by another author ({}) than this device",
                                c.actor_id()
                            ));
                        }
                        // A change must build on this child's own history:
                        // every dependency known (stored or earlier in the
                        // upload), and only the registering change may have
                        // none. A change of another document filed under
                        // this child would otherwise poison its record.
                        if c.deps().is_empty() && (!earlier.is_empty() || child_known) {
                            let stored = has_change
                                .exists(params![c.hash().0.as_slice(), child])
                                .unwrap_or(false);
                            if !stored {
                                return Err(
                                    "a second registering change for an existing child".into()
                                );
                            }
                        }
                        for d in c.deps() {
                            let known = earlier.contains(&d.0)
                                || has_change
                                    .exists(params![d.0.as_slice(), child])
                                    .unwrap_or(false);
                            if !known {
                                return Err(format!(
                                    "it depends on change {d} which this child does not have"
                                ));
                            }
                        }
                        Ok(c)
                    });
                if let Ok(c) = &change {
                    earlier.push(c.hash().0);
                }
                parsed.push(change);
            }
            let existing: Option<(String, i64, i64, i64)> = index_get
                .query_row([&child], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
                })
                .optional()?;
            let (area, mut digest, mut last_seq) = match existing {
                Some((area, n, xor, last)) => (
                    area,
                    Digest {
                        changes: n as u64,
                        xor: xor as u64,
                    },
                    last,
                ),
                None => match self.new_child_area(group.child, &parsed) {
                    Ok(area) => (area, Digest::default(), 0),
                    Err(reason) => {
                        acks.extend(group.changes.iter().map(|_| Ack::Rejected(reason.clone())));
                        continue;
                    }
                },
            };
            if !who.scope.contains(&area) {
                let reason =
                    format!("child {child} belongs to posyandu {area}, outside this device's area");
                acks.extend(group.changes.iter().map(|_| Ack::Rejected(reason.clone())));
                continue;
            }
            // The new changes must apply to the child's document as it is
            // stored, and the result must save and load again: a change
            // Automerge cannot process would otherwise make the child
            // unreadable for every device (found by fuzzing).
            let fresh: Vec<&automerge::Change> = parsed
                .iter()
                .filter_map(|c| c.as_ref().ok())
                .filter(|c| {
                    !has_change
                        .exists(params![c.hash().0.as_slice(), child])
                        .unwrap_or(false)
                })
                .collect();
            if !fresh.is_empty() {
                let mut moved = None;
                let verdict = match self.load_document(tx, &child)? {
                    Some((mut doc, _)) => {
                        let before = doc.posyandu();
                        let applied = doc.apply_changes(fresh.iter().map(|c| c.raw_bytes()));
                        if applied.is_ok() {
                            moved = move_refusal(&child, before, doc.posyandu(), &who.scope);
                        }
                        applied
                    }
                    // A new child's area was checked above on the same
                    // changes (`new_child_area` reads the final posyandu).
                    None => {
                        let bytes: Vec<u8> = fresh
                            .iter()
                            .flat_map(|c| c.raw_bytes().iter().copied())
                            .collect();
                        // Loading leaves out a change it cannot apply; a
                        // new child's upload must come through whole.
                        ChildDocument::load(self.actor.clone(), &bytes).and_then(|mut doc| {
                            let have: std::collections::HashSet<_> =
                                doc.changes_since(&[]).into_iter().map(|c| c.hash).collect();
                            if fresh.iter().all(|c| have.contains(&c.hash())) {
                                Ok(())
                            } else {
                                Err(sync_protocol::DocumentError::Invalid {
                                    field: "change".into(),
                                    reason: "a change of the new child could not be applied".into(),
                                })
                            }
                        })
                    }
                };
                if let Err(e) = verdict {
                    let reason = format!("the changes do not apply to child {child}: {e}");
                    acks.extend(group.changes.iter().map(|_| Ack::Rejected(reason.clone())));
                    continue;
                }
                if let Some(reason) = moved {
                    acks.extend(group.changes.iter().map(|_| Ack::Rejected(reason.clone())));
                    continue;
                }
            }
            let mut stored = 0;
            for change in parsed {
                let change = match change {
                    Ok(c) => c,
                    Err(reason) => {
                        acks.push(Ack::Rejected(reason));
                        continue;
                    }
                };
                let hash = change.hash();
                let n = insert.execute(params![
                    child,
                    hash.0.as_slice(),
                    change.raw_bytes(),
                    me,
                    now_ms
                ])?;
                if n == 1 {
                    digest.add_hash(&hash.0);
                    last_seq = tx.last_insert_rowid();
                    stored += 1;
                    if let Some(action) = audited_edit(change.message()) {
                        audit.execute(params![
                            now_ms,
                            me,
                            action,
                            child,
                            format!("change {}", hex::encode(&hash.0[..8]))
                        ])?;
                    }
                }
                acks.push(Ack::Stored);
            }
            if stored > 0 {
                index_put.execute(params![
                    child,
                    area,
                    digest.changes as i64,
                    digest.xor as i64,
                    last_seq
                ])?;
            }
        }
        Ok(acks)
    }

    fn write_projection(
        tx: &rusqlite::Transaction<'_>,
        p: &ProjectedChild,
    ) -> Result<(), StorageError> {
        projection::write(tx, p)?;
        if let Some(doc) = &p.saved_document {
            tx.prepare_cached(
                "INSERT INTO documents (child_id, upto_seq, bytes) VALUES (?1, ?2, ?3)
                 ON CONFLICT (child_id) DO UPDATE SET upto_seq = excluded.upto_seq, bytes = excluded.bytes",
            )?
            .execute(params![p.id, p.upto_seq, doc])?;
        }
        let area = AreaCode::parse(&p.posyandu)
            .ok()
            .filter(|a| a.level() == AreaLevel::Posyandu);
        tx.prepare_cached(
            "UPDATE child_index SET projected_seq = max(projected_seq, ?2), area = coalesce(?3, area),
                    error = NULL
              WHERE child_id = ?1",
        )?
        .execute(params![p.id, p.upto_seq, area.map(|a| a.to_string())])?;
        Ok(())
    }
}

impl Storage for SqliteStorage {
    fn add_device(&self, new: NewEnrolment, now_ms: i64) -> Result<Enrolment, StorageError> {
        let id = Uuid::now_v7();
        self.with_write(|tx| {
            tx.execute(
                "INSERT INTO devices (id, name, role, scope, token_hash, bundle_key, created_at, expires_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![
                    id.to_string(),
                    new.name,
                    new.role.code(),
                    new.scope.to_text(),
                    new.token_hash.as_slice(),
                    new.bundle_key.as_slice(),
                    now_ms,
                    new.expires_at_ms
                ],
            )?;
            Ok(())
        })?;
        Ok(Enrolment {
            id,
            name: new.name,
            role: new.role,
            scope: new.scope,
            actor: None,
            created_at_ms: now_ms,
            last_sync_ms: None,
            expires_at_ms: new.expires_at_ms,
            revoked_at_ms: None,
            person: false,
        })
    }

    fn devices(&self) -> Result<Vec<Enrolment>, StorageError> {
        self.with_read(|tx| {
            let mut stmt = tx.prepare(&format!(
                "SELECT {ENROLMENT_COLUMNS} FROM devices ORDER BY created_at, id"
            ))?;
            let rows = stmt
                .query_map([], enrolment_from_row)?
                .map(|r| r.map(|(e, _)| e))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(rows)
        })
    }

    fn authenticate(&self, token_hash: &[u8; 32]) -> Result<Option<Enrolment>, StorageError> {
        self.with_read(|tx| {
            let device = tx
                .prepare_cached(&format!(
                    "SELECT {ENROLMENT_COLUMNS} FROM devices WHERE token_hash = ?1"
                ))?
                .query_row([token_hash.as_slice()], enrolment_from_row)
                .optional()?
                .map(|(e, _)| e);
            match device {
                Some(e) => Ok(Some(e)),
                None => people::session(tx, token_hash),
            }
        })
    }

    fn add_user(
        &self,
        name: &str,
        role: Role,
        scope: &Scope,
        password_hash: &str,
        now_ms: i64,
    ) -> Result<User, StorageError> {
        self.with_write(|tx| people::add_user(tx, name, role, scope, password_hash, now_ms))
    }

    fn users(&self) -> Result<Vec<User>, StorageError> {
        self.with_read(people::users)
    }

    fn user_credentials(&self, name: &str) -> Result<Option<(User, String)>, StorageError> {
        self.with_read(|tx| people::credentials(tx, name))
    }

    fn set_user_password(
        &self,
        name: &str,
        password_hash: &str,
        now_ms: i64,
    ) -> Result<User, StorageError> {
        self.with_write(|tx| people::set_password(tx, name, password_hash, now_ms))
    }

    fn disable_user(&self, name: &str, now_ms: i64) -> Result<User, StorageError> {
        self.with_write(|tx| people::disable(tx, name, now_ms))
    }

    fn record_signin(
        &self,
        user: &User,
        session: Option<([u8; 32], i64)>,
        now_ms: i64,
    ) -> Result<(), StorageError> {
        self.with_write(|tx| people::record_signin(tx, user, session, now_ms))
    }

    fn end_session(&self, token_hash: &[u8; 32], now_ms: i64) -> Result<bool, StorageError> {
        self.with_write(|tx| people::end_session(tx, token_hash, now_ms))
    }

    fn bundle_key(&self, id: Uuid) -> Result<Option<(Enrolment, [u8; 32])>, StorageError> {
        let row = self.with_read(|tx| {
            Ok(tx
                .prepare_cached(&format!(
                    "SELECT {ENROLMENT_COLUMNS} FROM devices WHERE id = ?1 AND revoked_at IS NULL"
                ))?
                .query_row([id.to_string()], enrolment_from_row)
                .optional()?)
        })?;
        row.map(|(e, key)| Ok((e, blob32(key)?))).transpose()
    }

    fn revoke_device(&self, id: Uuid, now_ms: i64) -> Result<Enrolment, StorageError> {
        self.with_write(|tx| {
            tx.execute(
                "UPDATE devices SET revoked_at = coalesce(revoked_at, ?2) WHERE id = ?1",
                params![id.to_string(), now_ms],
            )?;
            Self::enrolment(tx, id)
        })
    }

    fn rotate_token(
        &self,
        id: Uuid,
        token_hash: [u8; 32],
        bundle_key: [u8; 32],
        expires_at_ms: Option<i64>,
    ) -> Result<Enrolment, StorageError> {
        self.with_write(|tx| {
            let e = Self::enrolment(tx, id)?;
            if e.revoked_at_ms.is_some() {
                return Err(StorageError::NoSuchDevice(format!("{id} (revoked)")));
            }
            tx.execute(
                "UPDATE devices SET token_hash = ?2, bundle_key = ?3, expires_at = ?4 WHERE id = ?1",
                params![
                    id.to_string(),
                    token_hash.as_slice(),
                    bundle_key.as_slice(),
                    expires_at_ms
                ],
            )?;
            Self::enrolment(tx, id)
        })
    }

    fn audit(
        &self,
        at_ms: i64,
        who: &str,
        action: &str,
        target: &str,
        detail: &str,
    ) -> Result<(), StorageError> {
        self.with_write(|tx| {
            tx.prepare_cached(
                "INSERT INTO audit (at, who, action, target, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![at_ms, who, action, target, detail])?;
            Ok(())
        })
    }

    fn audit_log(&self, filter: &AuditFilter) -> Result<Vec<AuditEntry>, StorageError> {
        self.with_read(|tx| {
            let mut stmt = tx.prepare(
                "SELECT id, at, who, action, target, detail FROM audit
                  WHERE at >= ?1 AND (?2 IS NULL OR who = ?2)
                    AND (?3 IS NULL OR action = ?3 OR action LIKE ?3 || '.%')
                  ORDER BY id LIMIT ?4",
            )?;
            let rows = stmt
                .query_map(
                    params![
                        filter.since_ms.unwrap_or(i64::MIN),
                        filter.who,
                        filter.action,
                        if filter.limit == 0 {
                            -1
                        } else {
                            filter.limit as i64
                        }
                    ],
                    |r| {
                        Ok(AuditEntry {
                            id: r.get(0)?,
                            at_ms: r.get(1)?,
                            who: r.get(2)?,
                            action: r.get(3)?,
                            target: r.get(4)?,
                            detail: r.get(5)?,
                        })
                    },
                )?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(rows)
        })
    }

    fn bind_actor(&self, id: Uuid, actor: DeviceId) -> Result<(), StorageError> {
        self.with_write(|tx| {
            let n = tx.execute(
                "UPDATE devices SET actor = ?2 WHERE id = ?1",
                params![id.to_string(), actor.to_string()],
            )?;
            if n == 0 {
                return Err(StorageError::NoSuchDevice(id.to_string()));
            }
            Ok(())
        })
    }

    fn sync(
        &self,
        who: &Enrolment,
        request: &SyncRequest,
        max_page_bytes: usize,
        now_ms: i64,
    ) -> Result<SyncResponse, StorageError> {
        let answer = |conn: &Connection, acks: Vec<Ack>| -> Result<SyncResponse, StorageError> {
            let (feed, cursor, more) = Self::feed(conn, who, request.cursor, max_page_bytes)?;
            let checksum = if more {
                None
            } else {
                Some(Self::scope_checksum(conn, &who.scope)?)
            };
            Ok(SyncResponse {
                batch: request.batch,
                acks,
                feed,
                cursor,
                more,
                checksum,
            })
        };
        if request.upload.is_empty() {
            return self.with_read(|tx| answer(tx, Vec::new()));
        }
        self.with_write(|tx| {
            let seen: bool = tx
                .prepare_cached("SELECT 1 FROM batches WHERE device = ?1 AND batch = ?2")?
                .exists(params![who.id.to_string(), request.batch.as_bytes().as_slice()])?;
            if seen {
                tracing::debug!(device = %who.id, batch = %request.batch, "batch seen before (a retry)");
            }
            let acks = self.store_upload(tx, who, request, now_ms)?;
            let stored = acks.iter().filter(|a| matches!(a, Ack::Stored)).count();
            tx.prepare_cached(
                "INSERT OR IGNORE INTO batches (device, batch, received_at, changes) VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![
                who.id.to_string(),
                request.batch.as_bytes().as_slice(),
                now_ms,
                stored as i64
            ])?;
            tx.prepare_cached("UPDATE devices SET last_sync_at = ?2 WHERE id = ?1")?
                .execute(params![who.id.to_string(), now_ms])?;
            answer(tx, acks)
        })
    }

    fn snapshot(
        &self,
        who: &Enrolment,
        request: &SnapshotRequest,
        max_page_bytes: usize,
    ) -> Result<SnapshotResponse, StorageError> {
        self.with_read(|tx| {
            let upto = if request.upto == 0 {
                tx.query_row("SELECT coalesce(max(seq), 0) FROM changes", [], |r| {
                    r.get::<_, i64>(0)
                })? as u64
            } else {
                request.upto
            };
            let scope = who.scope.sql_condition("area");
            let total: i64 = tx.query_row(
                &format!("SELECT count(*) FROM child_index WHERE {scope}"),
                [],
                |r| r.get(0),
            )?;
            let after = request.after.map(|c| c.to_string()).unwrap_or_default();
            let mut stmt = tx.prepare_cached(&format!(
                "SELECT child_id FROM child_index WHERE child_id > ?1 AND {scope} ORDER BY child_id"
            ))?;
            let mut rows = stmt.query([after])?;
            let mut children = Vec::new();
            let mut used = 0usize;
            let mut next = None;
            while let Some(row) = rows.next()? {
                let id: String = row.get(0)?;
                let child: ChildId = id
                    .parse()
                    .map_err(|_| StorageError::Corrupt("bad child id in child_index".into()))?;
                if used >= max_page_bytes && !children.is_empty() {
                    next = children.last().map(|c: &ChildSnapshot| c.child);
                    break;
                }
                let bytes = Self::document_bytes(tx, &id)?
                    .map(|d| d.bytes)
                    .unwrap_or_default();
                // Saved documents are stored without Automerge's DEFLATE so
                // that zstd compresses a whole page at once (~1.7x smaller
                // than per-document DEFLATE); they shrink about 4-6x on the
                // wire, so a quarter of their size is the page cost.
                used += bytes.len() / 4 + 24;
                children.push(ChildSnapshot {
                    child,
                    document: ByteBuf::from(bytes),
                });
            }
            Ok(SnapshotResponse {
                upto,
                children,
                next,
                total_children: total as u64,
            })
        })
    }

    fn repair(
        &self,
        who: &Enrolment,
        request: &RepairRequest,
    ) -> Result<RepairResponse, StorageError> {
        self.with_read(|tx| {
            let mut server: HashMap<ChildId, Digest> = HashMap::new();
            {
                let mut stmt = tx.prepare(&format!(
                    "SELECT child_id, changes, xor FROM child_index WHERE {}",
                    who.scope.sql_condition("area")
                ))?;
                let mut rows = stmt.query([])?;
                while let Some(r) = rows.next()? {
                    let id: String = r.get(0)?;
                    if let Ok(child) = id.parse::<ChildId>() {
                        server.insert(
                            child,
                            Digest {
                                changes: r.get::<_, i64>(1)? as u64,
                                xor: r.get::<_, i64>(2)? as u64,
                            },
                        );
                    }
                }
            }
            let device: HashMap<ChildId, Digest> = request
                .digests
                .iter()
                .map(|ChildDigest { child, digest }| (*child, *digest))
                .collect();
            let mut differ: Vec<ChildId> = server
                .iter()
                .filter(|(c, d)| device.get(c) != Some(d))
                .map(|(c, _)| *c)
                .chain(
                    device
                        .iter()
                        .filter(|(c, d)| d.changes > 0 && server.get(c) != Some(d))
                        .map(|(c, _)| *c),
                )
                .collect();
            differ.sort();
            differ.dedup();
            let mut children = Vec::new();
            let mut reupload = Vec::new();
            let mut stmt =
                tx.prepare_cached("SELECT bytes FROM changes WHERE child_id = ?1 ORDER BY seq")?;
            for child in differ {
                if server.contains_key(&child) {
                    let changes = stmt
                        .query_map([child.to_string()], |r| r.get::<_, Vec<u8>>(0))?
                        .map(|b| b.map(ByteBuf::from))
                        .collect::<Result<Vec<_>, _>>()?;
                    children.push(ChildChanges { child, changes });
                }
                if device.get(&child).is_some_and(|d| d.changes > 0) {
                    reupload.push(child);
                }
            }
            Ok(RepairResponse {
                children,
                reupload,
                checksum: Self::scope_checksum(tx, &who.scope)?,
            })
        })
    }

    fn children(
        &self,
        scope: &Scope,
        area: Option<&AreaCode>,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<ChildSummary>, StorageError> {
        let area_sql = match area {
            Some(a) => Scope::Areas(vec![a.clone()]).sql_condition("posyandu"),
            None => "1".into(),
        };
        self.with_read(|tx| {
            let mut stmt = tx.prepare(&format!(
                "SELECT {} FROM children WHERE id > ?1 AND merged_into IS NULL AND {} AND {}
                  ORDER BY id LIMIT ?2",
                projection::SUMMARY_COLUMNS,
                scope.sql_condition("posyandu"),
                area_sql
            ))?;
            let rows = stmt
                .query_map(
                    params![after.unwrap_or(""), limit as i64],
                    projection::summary_from_row,
                )?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(rows)
        })
    }

    fn child(&self, id: ChildId) -> Result<Option<ChildDetail>, StorageError> {
        self.with_read(|tx| projection::read_detail(tx, &id.to_string()).map_err(Into::into))
    }

    fn document(&self, id: ChildId) -> Result<Option<(String, Vec<u8>)>, StorageError> {
        self.with_read(|tx| {
            let child = id.to_string();
            let area: Option<String> = tx
                .query_row(
                    "SELECT area FROM child_index WHERE child_id = ?1",
                    [&child],
                    |r| r.get(0),
                )
                .optional()?;
            let Some(area) = area else {
                return Ok(None);
            };
            Ok(self
                .load_document(tx, &child)?
                .map(|(mut doc, ..)| (area, doc.save())))
        })
    }

    fn conflicts(&self, scope: &Scope) -> Result<Vec<Conflict>, StorageError> {
        self.with_read(|tx| {
            let mut stmt = tx.prepare(&format!(
                "SELECT c.child_id, ch.posyandu, c.field, c.vals FROM conflicts c
                   JOIN children ch ON ch.id = c.child_id
                  WHERE {} ORDER BY ch.posyandu, c.child_id, c.field",
                scope.sql_condition("ch.posyandu")
            ))?;
            let rows = stmt
                .query_map([], |r| {
                    let vals: String = r.get(3)?;
                    Ok(Conflict {
                        child_id: r.get(0)?,
                        posyandu: r.get(1)?,
                        field: r.get(2)?,
                        values: serde_json::from_str(&vals).unwrap_or_default(),
                    })
                })?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(rows)
        })
    }

    fn project_pending(&self, limit: usize) -> Result<usize, StorageError> {
        let (projected, failed) = self.with_read(|tx| {
            let ids: Vec<String> = tx
                .prepare_cached(
                    "SELECT child_id FROM child_index WHERE projected_seq < last_seq ORDER BY last_seq LIMIT ?1",
                )?
                .query_map([limit as i64], |r| r.get(0))?
                .collect::<Result<_, _>>()?;
            let mut out = Vec::with_capacity(ids.len());
            let mut failed = Vec::new();
            for id in ids {
                match self.load_document(tx, &id) {
                    Ok(Some((mut doc, stored))) => {
                        let upto_seq = stored.max_seq;
                        match projection::project(&id, &doc, upto_seq) {
                            Ok(mut p) => {
                                if !stored.had_saved || stored.after >= RESAVE_AFTER_CHANGES {
                                    p.saved_document = Some(doc.save_uncompressed());
                                }
                                out.push(p);
                            }
                            Err(e) => failed.push((id, upto_seq, e.to_string())),
                        }
                    }
                    Ok(None) => {}
                    Err(e) => {
                        let last: i64 = tx.query_row(
                            "SELECT last_seq FROM child_index WHERE child_id = ?1",
                            [&id],
                            |r| r.get(0),
                        )?;
                        failed.push((id, last, e.to_string()));
                    }
                }
            }
            Ok((out, failed))
        })?;
        if projected.is_empty() && failed.is_empty() {
            return Ok(0);
        }
        let n = projected.len() + failed.len();
        self.with_write(|tx| {
            for p in &projected {
                Self::write_projection(tx, p)?;
            }
            for (id, seq, error) in &failed {
                // The child id is a random UUID, not personal data.
                tracing::warn!(child = %id, %error, "cannot project child");
                tx.execute(
                    "UPDATE child_index SET projected_seq = max(projected_seq, ?2), error = ?3 WHERE child_id = ?1",
                    params![id, seq, error],
                )?;
            }
            Ok(())
        })?;
        Ok(n)
    }

    fn stats(&self) -> Result<Stats, StorageError> {
        self.with_read(|tx| {
            let one = |sql: &str| -> Result<u64, StorageError> {
                Ok(tx.query_row(sql, [], |r| r.get::<_, i64>(0))? as u64)
            };
            Ok(Stats {
                children: one("SELECT count(*) FROM child_index")?,
                changes: one("SELECT count(*) FROM changes")?,
                last_seq: one("SELECT coalesce(max(seq), 0) FROM changes")?,
                pending_projection: one(
                    "SELECT count(*) FROM child_index WHERE projected_seq < last_seq",
                )?,
                devices: one("SELECT count(*) FROM devices WHERE revoked_at IS NULL")?,
            })
        })
    }

    fn import(
        &self,
        who: &str,
        file: &str,
        registrations: &[IncomingRegistration],
        now_ms: i64,
    ) -> Result<ImportOutcome, StorageError> {
        self.district_import(who, file, registrations, now_ms)
    }

    fn merge(
        &self,
        survivor: ChildId,
        duplicate: ChildId,
        decision: &MergeDecision,
        now_ms: i64,
    ) -> Result<MergeRecord, StorageError> {
        self.district_merge(survivor, duplicate, decision, now_ms)
    }

    fn merge_many(
        &self,
        merges: &[(ChildId, ChildId, MergeDecision)],
        now_ms: i64,
    ) -> Result<Vec<Result<MergeRecord, String>>, StorageError> {
        self.district_merge_many(merges, now_ms)
    }

    fn catch_up_merges(&self, now_ms: i64) -> Result<usize, StorageError> {
        self.district_catch_up_merges(now_ms)
    }

    fn unmerge(&self, merge_id: i64, who: &str, now_ms: i64) -> Result<MergeRecord, StorageError> {
        self.district_unmerge(merge_id, who, now_ms)
    }

    fn merges(&self, active_only: bool) -> Result<Vec<MergeRecord>, StorageError> {
        self.district_merges(active_only)
    }

    fn register(&self, scope: &Scope) -> Result<Vec<RegisterChild>, StorageError> {
        self.district_register(scope)
    }

    fn meta(&self, key: &str) -> Result<Option<Vec<u8>>, StorageError> {
        self.with_read(|tx| {
            Ok(tx
                .query_row("SELECT value FROM server_meta WHERE key = ?1", [key], |r| {
                    r.get(0)
                })
                .optional()?)
        })
    }

    fn set_meta(&self, key: &str, value: &[u8]) -> Result<(), StorageError> {
        self.with_write(|tx| {
            tx.execute(
                "INSERT INTO server_meta (key, value) VALUES (?1, ?2)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                params![key, value],
            )?;
            Ok(())
        })
    }

    fn unlinked(&self) -> Result<u64, StorageError> {
        self.with_read(|tx| {
            Ok(tx.query_row(
                "SELECT count(*) FROM child_index WHERE linked_seq < projected_seq",
                [],
                |r| r.get::<_, i64>(0),
            )? as u64)
        })
    }

    fn link_inputs(&self) -> Result<LinkInputs, StorageError> {
        self.district_link_inputs()
    }

    fn mark_linked(&self, seen: &[(String, i64)]) -> Result<(), StorageError> {
        self.district_mark_linked(seen)
    }

    fn mark_linked_as_projected(&self, children: &[String]) -> Result<(), StorageError> {
        self.with_write(|tx| {
            let mut stmt = tx.prepare_cached(
                "UPDATE child_index SET linked_seq = max(linked_seq, projected_seq)
                  WHERE child_id = ?1 AND projected_seq >= last_seq",
            )?;
            for child in children {
                stmt.execute([child])?;
            }
            Ok(())
        })
    }

    fn kept_apart(&self) -> Result<Vec<(String, String)>, StorageError> {
        self.district_kept_apart()
    }

    fn add_reviews(
        &self,
        items: &[NewReview],
        who: &str,
        now_ms: i64,
    ) -> Result<usize, StorageError> {
        self.district_add_reviews(items, who, now_ms)
    }

    fn reviews(&self, query: &ReviewQuery<'_>) -> Result<Vec<ReviewItem>, StorageError> {
        self.district_reviews(query)
    }

    fn review(
        &self,
        id: i64,
        today: chrono::NaiveDate,
    ) -> Result<Option<ReviewItem>, StorageError> {
        self.district_review(id, today)
    }

    fn decide_review(
        &self,
        id: i64,
        accept: Option<(ChildId, ChildId)>,
        who: &str,
        now_ms: i64,
    ) -> Result<(ReviewItem, Option<MergeRecord>), StorageError> {
        self.district_decide_review(id, accept, who, now_ms)
    }

    fn verify(
        &self,
        child: ChildId,
        check: &sync_protocol::Verification,
        now_ms: i64,
    ) -> Result<(), StorageError> {
        self.district_verify(child, check, now_ms)
    }

    fn store_areas(
        &self,
        areas: &[crate::import::AreaEntry],
        who: &str,
        now_ms: i64,
    ) -> Result<AreasStored, StorageError> {
        self.district_store_areas(areas, who, now_ms)
    }

    fn areas(&self) -> Result<Vec<crate::import::AreaEntry>, StorageError> {
        self.district_areas()
    }
}
