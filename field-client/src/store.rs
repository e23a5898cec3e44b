//! The field device's local store: one SQLite file.
//!
//! The Automerge changes of every child document are the source of truth
//! (table `changes`, append-only; it is also the sync outbox). The tables
//! `children` and `measurements` are *derived* from the documents after every
//! write, for listing and search, and can be rebuilt from `changes` at any time.
//!
//! Every command runs in one `BEGIN IMMEDIATE` transaction ([`Store::write`]):
//! the changes and the derived rows commit together or not at all, so a power
//! cut or a killed process never leaves half a record. WAL journaling with
//! `synchronous=FULL` makes a committed command durable.
//!
//! The whole file is encrypted at rest (SQLCipher: AES-256 pages with an
//! HMAC each, the WAL too) under a key derived from the kader's PIN
//! ([`crate::pin`]); opening it without the right PIN reads nothing and
//! writes nothing. A store made before PINs (plain SQLite) is refused until
//! [`Store::encrypt_plain`] (`tumbuh pin set`) has encrypted it.

use std::path::{Path, PathBuf};

use automerge::ChangeHash;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use sync_protocol::{Child, ChildDocument, ChildId, DeviceId, DocumentError, MeasurementId};
use thiserror::Error;
use zeroize::Zeroizing;

use crate::pin::{KdfParams, KeyFile, KeyFileError, Pin, key_pragma, sync_folder};
use crate::projection;

/// Schema migrations, applied in order; `PRAGMA user_version` counts how many
/// ran. Append only: a shipped migration is never edited.
const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE device (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    device_id   TEXT NOT NULL,
    posyandu    TEXT NOT NULL,
    kader       TEXT NOT NULL,
    created_at  INTEGER NOT NULL
);
-- Source of truth: every Automerge change of every child document, in the
-- order this device learnt of it. `synced` = the server has acknowledged it.
CREATE TABLE changes (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    child_id   TEXT NOT NULL,
    hash       BLOB NOT NULL UNIQUE,
    bytes      BLOB NOT NULL,
    made_at    INTEGER NOT NULL,
    synced     INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX changes_by_child ON changes (child_id, seq);
-- Derived from the documents (see projection.rs).
CREATE TABLE children (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    name_norm     TEXT NOT NULL,
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
    posyandu      TEXT NOT NULL,
    last_measured TEXT,
    last_haz      INTEGER,
    last_tbu      TEXT,
    stunted       INTEGER NOT NULL DEFAULT 0,
    conflicts     INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX children_by_name ON children (name_norm);
CREATE TABLE measurements (
    id            TEXT PRIMARY KEY,
    child_id      TEXT NOT NULL REFERENCES children (id),
    date          TEXT NOT NULL,
    weight_g      INTEGER,
    length_mm     INTEGER,
    position      TEXT,
    muac_mm       INTEGER,
    head_mm       INTEGER,
    oedema        INTEGER NOT NULL,
    void_reason   TEXT,
    haz           INTEGER,
    waz           INTEGER,
    whz           INTEGER,
    bmiz          INTEGER,
    implausible   INTEGER NOT NULL,
    gain          TEXT,
    two_t         INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX measurements_by_child ON measurements (child_id, date);
CREATE INDEX measurements_by_date ON measurements (date);
"#,
    r#"
-- Sync (migration 2). The server this device syncs with, and where it stands.
CREATE TABLE server (
    id              INTEGER PRIMARY KEY CHECK (id = 1),
    url             TEXT NOT NULL,
    token           TEXT NOT NULL,
    enrolment       TEXT NOT NULL,
    role            TEXT NOT NULL,
    scope           TEXT NOT NULL,
    cursor          INTEGER NOT NULL DEFAULT 0,
    snapshot_upto   INTEGER NOT NULL DEFAULT 0,
    snapshot_after  TEXT,
    snapshot_done   INTEGER NOT NULL DEFAULT 0,
    last_sync_at    INTEGER,
    last_attempt_at INTEGER,
    last_error      TEXT
);
-- Why the server refused a change (it stays here, out of the outbox).
ALTER TABLE changes ADD COLUMN rejected TEXT;
CREATE INDEX changes_outbox ON changes (child_id, seq) WHERE synced = 0;
-- Bundles written by `tumbuh bundle export`, to match their replies.
CREATE TABLE bundle_exports (
    batch       BLOB PRIMARY KEY,
    seqs        TEXT NOT NULL,
    created_at  INTEGER NOT NULL
);
"#,
    r#"
-- The CA certificate (PEM) the device trusts for its server (migration 3).
ALTER TABLE server ADD COLUMN ca_cert BLOB;
"#,
    r#"
-- Registrations the district merged into another child (migration 4):
-- kept, but left out of lists.
ALTER TABLE children ADD COLUMN merged_into TEXT;
"#,
];

/// What can go wrong with the local store.
#[derive(Debug, Error)]
pub enum StoreError {
    #[error("no Tumbuh store at {0}: run `tumbuh init --posyandu CODE --kader NAME` first")]
    NotInitialised(PathBuf),
    #[error("a Tumbuh store already exists at {0}")]
    AlreadyInitialised(PathBuf),
    #[error(
        "the store at {path} was made by a newer Tumbuh (schema {found}, this program knows {known}); update Tumbuh"
    )]
    TooNew {
        path: PathBuf,
        found: i64,
        known: usize,
    },
    #[error("cannot create the folder for the store {path}: {source}")]
    Folder {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("wrong PIN for the store at {0} (nothing was read or changed)")]
    WrongPin(PathBuf),
    #[error(
        "the store at {0} is not encrypted (made before PINs): run `tumbuh pin set` to encrypt it"
    )]
    Unencrypted(PathBuf),
    #[error("the store at {0} is already encrypted with a PIN: use `tumbuh pin change`")]
    AlreadyEncrypted(PathBuf),
    #[error(transparent)]
    KeyFile(#[from] KeyFileError),
    #[error("cannot derive the key: {0}")]
    Kdf(String),
    #[error("cannot read or write the store file {path}: {source}")]
    File {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("child {child}: {source}")]
    Document {
        child: ChildId,
        source: DocumentError,
    },
    #[error("no child with id {0}")]
    NoSuchChild(String),
    #[error("id prefix `{prefix}` matches {count} records; type more characters")]
    Ambiguous { prefix: String, count: usize },
    #[error("no measurement with id {0}")]
    NoSuchMeasurement(String),
    #[error("test failpoint `{0}` reached")]
    Failpoint(String),
}

/// Who this device is.
#[derive(Debug, Clone)]
pub struct Device {
    pub id: DeviceId,
    /// 12-digit posyandu code.
    pub posyandu: String,
    pub kader: String,
}

/// A test hook that stops the process half-way through a write, to prove that
/// nothing half-written survives. Set by the binary from `TUMBUH_FAILPOINT`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failpoint {
    /// Abort the process after writing, before `COMMIT`.
    AbortBeforeCommit,
    /// Announce `FAILPOINT before-commit` on stderr, then wait forever
    /// before `COMMIT` (the test kills the process with SIGKILL).
    PauseBeforeCommit,
}

/// The open local store.
pub struct Store {
    conn: Connection,
    path: PathBuf,
    device: Device,
    failpoint: Option<Failpoint>,
}

fn configure(conn: &Connection) -> Result<(), rusqlite::Error> {
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    Ok(())
}

fn migrate(conn: &mut Connection, path: &Path) -> Result<(), StoreError> {
    let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if version > MIGRATIONS.len() as i64 {
        return Err(StoreError::TooNew {
            path: path.to_path_buf(),
            found: version,
            known: MIGRATIONS.len(),
        });
    }
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(version.max(0) as usize) {
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", (i + 1) as i64)?;
    }
    tx.commit()?;
    Ok(())
}

/// The first 16 bytes of every plain SQLite file. A SQLCipher file starts
/// with its random salt instead.
const PLAIN_HEADER: &[u8; 16] = b"SQLite format 3\0";

/// Whether the file at `path` is a plain (unencrypted) SQLite database.
fn is_plain_sqlite(path: &Path) -> Result<bool, StoreError> {
    use std::io::Read;
    let mut head = [0u8; 16];
    let mut file = std::fs::File::open(path).map_err(|source| StoreError::File {
        path: path.to_path_buf(),
        source,
    })?;
    let mut read = 0;
    while read < head.len() {
        match file.read(&mut head[read..]) {
            Ok(0) => break,
            Ok(n) => read += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(source) => {
                return Err(StoreError::File {
                    path: path.to_path_buf(),
                    source,
                });
            }
        }
    }
    Ok(read == head.len() && &head == PLAIN_HEADER)
}

/// What is at a store's path, before any PIN is asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreFile {
    /// Nothing.
    Missing,
    /// A plain SQLite store, made before PINs.
    Plain,
    /// Anything else: an encrypted store (or a file that opening will
    /// report on).
    Encrypted,
}

/// Looks at the file at `path` without opening it as a database.
pub fn inspect(path: &Path) -> StoreFile {
    if !path.exists() {
        StoreFile::Missing
    } else if is_plain_sqlite(path).unwrap_or(false) {
        StoreFile::Plain
    } else {
        StoreFile::Encrypted
    }
}

/// Opens the existing encrypted store at `path` with `pin` and checks the key
/// (reading the first page) before anything else runs: a wrong PIN fails
/// here with [`StoreError::WrongPin`], having written nothing. No pragmas
/// are set and no migration runs: [`Store::open`] does that. Tools and tests
/// use it to look inside a store.
pub fn open_connection(path: &Path, pin: &Pin) -> Result<Connection, StoreError> {
    if !path.exists() {
        return Err(StoreError::NotInitialised(path.to_path_buf()));
    }
    if is_plain_sqlite(path)? {
        return Err(StoreError::Unencrypted(path.to_path_buf()));
    }
    let key = KeyFile::read(path)?.derive(pin).map_err(StoreError::Kdf)?;
    let conn = Connection::open_with_flags(
        path,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    // SQLCipher would log a wrong key's failed page check on stderr; the
    // caller reports it in the user's language instead.
    conn.pragma_update(None, "cipher_log_level", "NONE")?;
    conn.execute_batch(&key_pragma("key", &key))?;
    match conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
        r.get::<_, i64>(0)
    }) {
        Ok(_) => Ok(conn),
        Err(rusqlite::Error::SqliteFailure(e, _))
            if e.code == rusqlite::ErrorCode::NotADatabase =>
        {
            Err(StoreError::WrongPin(path.to_path_buf()))
        }
        Err(e) => Err(e.into()),
    }
}

impl Store {
    /// Creates a new store for this device, encrypted under `pin` with the
    /// Argon2id cost `kdf` (the PIN's strength is the caller's to check).
    /// Refuses to touch an existing one.
    pub fn create(
        path: &Path,
        pin: &Pin,
        kdf: KdfParams,
        posyandu: &str,
        kader: &str,
        now_ms: i64,
    ) -> Result<Store, StoreError> {
        if path.exists() {
            return Err(StoreError::AlreadyInitialised(path.to_path_buf()));
        }
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| StoreError::Folder {
                path: dir.to_path_buf(),
                source,
            })?;
        }
        // The sidecar first: a crash before the store exists leaves only a
        // sidecar, which the next `init` replaces.
        let key_file = KeyFile::new(kdf);
        let key = key_file.derive(pin).map_err(StoreError::Kdf)?;
        key_file.write(path)?;
        let mut conn = Connection::open(path)?;
        conn.execute_batch(&key_pragma("key", &key))?;
        configure(&conn)?;
        migrate(&mut conn, path)?;
        let device = Device {
            id: DeviceId::new(),
            posyandu: posyandu.to_string(),
            kader: kader.to_string(),
        };
        conn.execute(
            "INSERT INTO device (id, device_id, posyandu, kader, created_at) VALUES (1, ?1, ?2, ?3, ?4)",
            params![device.id.to_string(), device.posyandu, device.kader, now_ms],
        )?;
        Ok(Store {
            conn,
            path: path.to_path_buf(),
            device,
            failpoint: None,
        })
    }

    /// Opens an existing store with the kader's PIN.
    pub fn open(path: &Path, pin: &Pin) -> Result<Store, StoreError> {
        let mut conn = open_connection(path, pin)?;
        configure(&conn)?;
        migrate(&mut conn, path)?;
        let device = conn
            .query_row(
                "SELECT device_id, posyandu, kader FROM device WHERE id = 1",
                [],
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                    ))
                },
            )
            .optional()?
            .ok_or_else(|| StoreError::NotInitialised(path.to_path_buf()))?;
        let id = device
            .0
            .parse::<DeviceId>()
            .map_err(|_| StoreError::NotInitialised(path.to_path_buf()))?;
        Ok(Store {
            conn,
            path: path.to_path_buf(),
            device: Device {
                id,
                posyandu: device.1,
                kader: device.2,
            },
            failpoint: None,
        })
    }

    /// Changes the PIN: the whole file is re-encrypted under the key of
    /// `new` (`PRAGMA rekey`, one transaction: a power cut leaves the old PIN
    /// or the new one working, never neither). The salt and cost stay.
    pub fn change_pin(&mut self, new: &Pin) -> Result<(), StoreError> {
        let key = KeyFile::read(&self.path)?
            .derive(new)
            .map_err(StoreError::Kdf)?;
        self.conn.execute_batch(&key_pragma("rekey", &key))?;
        // Move the re-encrypted pages from the WAL into the file now.
        self.conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        Ok(())
    }

    /// Encrypts a store made before PINs (plain SQLite) under `pin`, then
    /// opens it. Everything is copied into a new encrypted file
    /// (`sqlcipher_export`) beside it, flushed, and renamed over the old
    /// one: a crash before the rename leaves the plain store as it was, after
    /// it the encrypted one. The old plain bytes are unlinked, not wiped: on
    /// flash storage they may survive until the blocks are reused.
    pub fn encrypt_plain(path: &Path, pin: &Pin, kdf: KdfParams) -> Result<Store, StoreError> {
        if !path.exists() {
            return Err(StoreError::NotInitialised(path.to_path_buf()));
        }
        if !is_plain_sqlite(path)? {
            return Err(StoreError::AlreadyEncrypted(path.to_path_buf()));
        }
        let mut tmp = path.as_os_str().to_os_string();
        tmp.push(".encrypting");
        let tmp = PathBuf::from(tmp);
        for leftover in ["", "-wal", "-shm", "-journal"] {
            let mut p = tmp.as_os_str().to_os_string();
            p.push(leftover);
            let _ = std::fs::remove_file(PathBuf::from(p));
        }
        let key_file = KeyFile::new(kdf);
        let key = key_file.derive(pin).map_err(StoreError::Kdf)?;
        {
            // CREATE: an attached database is opened with the main one's
            // flags, and the encrypted copy does not exist yet.
            let plain = Connection::open_with_flags(
                path,
                rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE
                    | rusqlite::OpenFlags::SQLITE_OPEN_CREATE,
            )?;
            plain.busy_timeout(std::time::Duration::from_secs(10))?;
            let version: i64 = plain.pragma_query_value(None, "user_version", |r| r.get(0))?;
            // The raw key as SQLCipher reads it: the text x'<64 hex digits>'.
            let mut raw = Zeroizing::new(String::from("x'"));
            raw.push_str(&hex::encode_upper(key.as_slice()));
            raw.push('\'');
            plain.execute(
                "ATTACH DATABASE ?1 AS encrypted KEY ?2",
                params![tmp.to_string_lossy(), raw.as_str()],
            )?;
            plain.query_row("SELECT sqlcipher_export('encrypted')", [], |_| Ok(()))?;
            plain.pragma_update(Some("encrypted"), "user_version", version)?;
            plain.execute_batch("DETACH DATABASE encrypted")?;
            // Fold the plain WAL into the plain file, so that no -wal of the
            // old file is left to be applied to the new one.
            plain.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        }
        let replace = |source| StoreError::File {
            path: path.to_path_buf(),
            source,
        };
        std::fs::File::open(&tmp)
            .and_then(|f| f.sync_all())
            .map_err(replace)?;
        key_file.write(path)?;
        std::fs::rename(&tmp, path).map_err(replace)?;
        for leftover in ["-wal", "-shm", "-journal"] {
            let mut p = path.as_os_str().to_os_string();
            p.push(leftover);
            let _ = std::fs::remove_file(PathBuf::from(p));
        }
        sync_folder(path).map_err(replace)?;
        Store::open(path, pin)
    }

    /// Arms a test failpoint for the next write.
    pub fn set_failpoint(&mut self, failpoint: Option<Failpoint>) {
        self.failpoint = failpoint;
    }

    /// This device.
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// Where the store lives.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The read-only connection, for queries.
    pub fn conn(&self) -> &Connection {
        &self.conn
    }

    /// Runs `f` in one immediate transaction and commits it; on error nothing
    /// of it is kept.
    pub fn write<T, E>(&mut self, f: impl FnOnce(&mut Writer<'_>) -> Result<T, E>) -> Result<T, E>
    where
        E: From<StoreError>,
    {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(StoreError::from)?;
        let mut writer = Writer {
            tx,
            device: &self.device,
        };
        let value = f(&mut writer)?;
        match self.failpoint {
            Some(Failpoint::AbortBeforeCommit) => std::process::abort(),
            Some(Failpoint::PauseBeforeCommit) => {
                eprintln!("FAILPOINT before-commit");
                loop {
                    std::thread::park();
                }
            }
            None => {}
        }
        writer.tx.commit().map_err(StoreError::from)?;
        Ok(value)
    }

    /// Resolves a child id or unique prefix of one.
    pub fn resolve_child(&self, prefix: &str) -> Result<ChildId, StoreError> {
        resolve_child(&self.conn, prefix)
    }

    /// Resolves a measurement id or unique prefix: returns it and its child.
    pub fn resolve_measurement(
        &self,
        prefix: &str,
    ) -> Result<(ChildId, MeasurementId), StoreError> {
        if prefix.trim().is_empty() {
            return Err(StoreError::NoSuchMeasurement(prefix.to_string()));
        }
        let ids = prefix_matches(
            &self.conn,
            "SELECT id, child_id FROM measurements WHERE id >= ?1 AND id < ?2 LIMIT 2",
            prefix,
        )?;
        match ids.as_slice() {
            [(m, c)] => Ok((
                parse_id(c)?,
                m.parse()
                    .map_err(|_| StoreError::NoSuchMeasurement(prefix.into()))?,
            )),
            [] => Err(StoreError::NoSuchMeasurement(prefix.to_string())),
            _ => Err(StoreError::Ambiguous {
                prefix: prefix.to_string(),
                count: ids.len(),
            }),
        }
    }

    /// Loads a child's document from its changes.
    pub fn load_child(&self, id: ChildId) -> Result<ChildDocument, StoreError> {
        load_child(&self.conn, &self.device, id)
    }
}

fn parse_id(s: &str) -> Result<ChildId, StoreError> {
    s.parse()
        .map_err(|_| StoreError::NoSuchChild(s.to_string()))
}

/// Runs `sql` with the range `[prefix, prefix + "~")`: every id starting with
/// the prefix (ids are lowercase hex and hyphens, all sorting below `~`). A
/// range, unlike `LIKE 'x%'`, is answered from the primary-key index.
fn prefix_matches(
    conn: &Connection,
    sql: &str,
    prefix: &str,
) -> Result<Vec<(String, String)>, StoreError> {
    let low = prefix.trim().to_ascii_lowercase();
    let high = format!("{low}~");
    let mut stmt = conn.prepare_cached(sql)?;
    let rows = stmt
        .query_map([low, high], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

fn resolve_child(conn: &Connection, prefix: &str) -> Result<ChildId, StoreError> {
    if prefix.trim().is_empty() {
        return Err(StoreError::NoSuchChild(prefix.to_string()));
    }
    let ids = prefix_matches(
        conn,
        "SELECT id, id FROM children WHERE id >= ?1 AND id < ?2 LIMIT 2",
        prefix,
    )?;
    match ids.as_slice() {
        [(id, _)] => parse_id(id),
        [] => Err(StoreError::NoSuchChild(prefix.to_string())),
        _ => Err(StoreError::Ambiguous {
            prefix: prefix.to_string(),
            count: ids.len(),
        }),
    }
}

fn load_child(
    conn: &Connection,
    device: &Device,
    id: ChildId,
) -> Result<ChildDocument, StoreError> {
    let mut stmt =
        conn.prepare_cached("SELECT bytes FROM changes WHERE child_id = ?1 ORDER BY seq")?;
    let mut rows = stmt.query([id.to_string()])?;
    let mut bytes = Vec::new();
    while let Some(row) = rows.next()? {
        bytes.extend_from_slice(row.get_ref(0)?.as_blob().map_err(rusqlite::Error::from)?);
    }
    if bytes.is_empty() {
        return Err(StoreError::NoSuchChild(id.to_string()));
    }
    ChildDocument::load(device.id.actor(), &bytes)
        .map_err(|source| StoreError::Document { child: id, source })
}

/// The write side of one command's transaction.
pub struct Writer<'a> {
    tx: rusqlite::Transaction<'a>,
    device: &'a Device,
}

impl<'a> Writer<'a> {
    /// This device.
    pub fn device(&self) -> &Device {
        self.device
    }

    /// Loads a child's document inside the transaction.
    pub fn load_child(&self, id: ChildId) -> Result<ChildDocument, StoreError> {
        load_child(&self.tx, self.device, id)
    }

    /// The transaction, for the sync bookkeeping in [`crate::sync`].
    pub(crate) fn tx(&self) -> &rusqlite::Transaction<'a> {
        &self.tx
    }

    /// Stores changes received from the server (marked as synced) and
    /// refreshes the derived rows of the child. Returns how many were new.
    pub fn apply_remote(
        &mut self,
        child: ChildId,
        changes: &[&[u8]],
        now_ms: i64,
    ) -> Result<usize, StoreError> {
        let child_id = child.to_string();
        let mut new = 0;
        {
            let mut insert = self.tx.prepare_cached(
                "INSERT OR IGNORE INTO changes (child_id, hash, bytes, made_at, synced) VALUES (?1, ?2, ?3, ?4, 1)",
            )?;
            for bytes in changes {
                let change = automerge::Change::from_bytes(bytes.to_vec()).map_err(|e| {
                    StoreError::Document {
                        child,
                        source: DocumentError::Invalid {
                            field: "change".into(),
                            reason: e.to_string(),
                        },
                    }
                })?;
                new +=
                    insert.execute(params![child_id, change.hash().0.as_slice(), bytes, now_ms])?;
            }
        }
        if new > 0 {
            self.reproject(child)?;
        }
        Ok(new)
    }

    /// Stores every change of a whole document received in a snapshot.
    pub fn apply_document(
        &mut self,
        child: ChildId,
        bytes: &[u8],
        now_ms: i64,
    ) -> Result<usize, StoreError> {
        let mut doc = ChildDocument::load(self.device.id.actor(), bytes)
            .map_err(|source| StoreError::Document { child, source })?;
        if doc.id() != child {
            return Err(StoreError::Document {
                child,
                source: DocumentError::Invalid {
                    field: "id".into(),
                    reason: format!("the snapshot holds child {} under {child}", doc.id()),
                },
            });
        }
        let child_id = child.to_string();
        let known: i64 = self.tx.query_row(
            "SELECT count(*) FROM changes WHERE child_id = ?1",
            [&child_id],
            |r| r.get(0),
        )?;
        let mut new = 0;
        {
            let mut insert = self.tx.prepare_cached(
                "INSERT OR IGNORE INTO changes (child_id, hash, bytes, made_at, synced) VALUES (?1, ?2, ?3, ?4, 1)",
            )?;
            for change in doc.changes_since(&[]) {
                new += insert.execute(params![
                    child_id,
                    change.hash.0.as_slice(),
                    change.bytes,
                    now_ms
                ])?;
            }
        }
        if known == 0 {
            // Nothing of this child was here: the snapshot is the whole record.
            self.project_document(&doc)?;
        } else if new > 0 {
            self.reproject(child)?;
        }
        Ok(new)
    }

    /// Rebuilds the derived rows of a child from its stored changes.
    fn reproject(&mut self, child: ChildId) -> Result<(), StoreError> {
        let doc = self.load_child(child)?;
        self.project_document(&doc)?;
        Ok(())
    }

    /// Stores the changes `doc` made after `heads_before` and refreshes the
    /// derived rows of that child. Returns the record as saved, so callers
    /// need not read the document again.
    pub fn save_child(
        &mut self,
        doc: &mut ChildDocument,
        heads_before: &[ChangeHash],
        now_ms: i64,
    ) -> Result<Child, StoreError> {
        let child_id = doc.id().to_string();
        {
            let mut insert = self.tx.prepare_cached(
                "INSERT OR IGNORE INTO changes (child_id, hash, bytes, made_at) VALUES (?1, ?2, ?3, ?4)",
            )?;
            for change in doc.changes_since(heads_before) {
                insert.execute(params![
                    child_id,
                    change.hash.0.as_slice(),
                    change.bytes,
                    now_ms
                ])?;
            }
        }
        self.project_document(doc)
    }

    /// Replaces the derived rows of a child with what `doc` says; returns
    /// the record.
    fn project_document(&self, doc: &ChildDocument) -> Result<Child, StoreError> {
        let document_error = |source| StoreError::Document {
            child: doc.id(),
            source,
        };
        let record = doc.child().map_err(document_error)?;
        let conflicts = doc.conflicts().map_err(document_error)?;
        projection::project(&self.tx, &record, conflicts.len())?;
        Ok(record)
    }
}
