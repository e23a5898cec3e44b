//! The device's sync bookkeeping in the local store: which server, where the
//! device stands in its feed, the outbox, and the digests for checksums.

use rusqlite::{Connection, OptionalExtension, params};
use serde_bytes::ByteBuf;
use sync_protocol::compact;
use sync_protocol::wire::{ChildChanges, ChildDigest, Digest, ScopeChecksum};
use sync_protocol::{ChildId, Scope};
use uuid::Uuid;

/// The server this device is signed in to.
#[derive(Debug, Clone)]
pub struct ServerState {
    pub url: String,
    pub token: String,
    pub enrolment: Uuid,
    pub role: String,
    pub scope: Scope,
    pub cursor: u64,
    pub snapshot_upto: u64,
    pub snapshot_after: Option<ChildId>,
    pub snapshot_done: bool,
    pub last_sync_at: Option<i64>,
    pub last_attempt_at: Option<i64>,
    pub last_error: Option<String>,
    /// Extra CA certificate(s), PEM, trusted for this server.
    pub ca_cert: Option<Vec<u8>>,
}

/// Reads the server row, if the device has signed in.
pub fn server(conn: &Connection) -> Result<Option<ServerState>, rusqlite::Error> {
    conn.query_row(
        "SELECT url, token, enrolment, role, scope, cursor, snapshot_upto, snapshot_after,
                snapshot_done, last_sync_at, last_attempt_at, last_error, ca_cert
           FROM server WHERE id = 1",
        [],
        |r| {
            let enrolment: String = r.get(2)?;
            let scope: String = r.get(4)?;
            let after: Option<String> = r.get(7)?;
            Ok(ServerState {
                url: r.get(0)?,
                token: r.get(1)?,
                enrolment: enrolment.parse().unwrap_or_default(),
                role: r.get(3)?,
                scope: Scope::from_text(&scope).unwrap_or(Scope::Areas(Vec::new())),
                cursor: r.get::<_, i64>(5)? as u64,
                snapshot_upto: r.get::<_, i64>(6)? as u64,
                snapshot_after: after.and_then(|a| a.parse().ok()),
                snapshot_done: r.get(8)?,
                last_sync_at: r.get(9)?,
                last_attempt_at: r.get(10)?,
                last_error: r.get(11)?,
                ca_cert: r.get(12)?,
            })
        },
    )
    .optional()
}

/// Records a sign-in. Signing in to another enrolment (or server) starts the
/// sync over: the new server may lack everything, so every change goes back
/// into the outbox and the feed restarts.
pub fn login(
    conn: &Connection,
    url: &str,
    token: &str,
    enrolment: Uuid,
    role: &str,
    scope: &Scope,
    ca_cert: Option<&[u8]>,
) -> Result<bool, rusqlite::Error> {
    let previous = server(conn)?;
    let same = previous
        .as_ref()
        .is_some_and(|p| p.enrolment == enrolment && p.url == url);
    if same {
        conn.execute(
            "UPDATE server SET token = ?1, role = ?2, scope = ?3, ca_cert = ?4 WHERE id = 1",
            params![token, role, scope.to_text(), ca_cert],
        )?;
    } else {
        conn.execute("DELETE FROM server", [])?;
        conn.execute(
            "INSERT INTO server (id, url, token, enrolment, role, scope, ca_cert)
             VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                url,
                token,
                enrolment.to_string(),
                role,
                scope.to_text(),
                ca_cert
            ],
        )?;
        conn.execute("UPDATE changes SET synced = 0, rejected = NULL", [])?;
    }
    Ok(!same)
}

/// One change waiting in the outbox.
#[derive(Debug, Clone)]
pub struct Pending {
    pub seq: i64,
    pub child: ChildId,
    pub bytes: Vec<u8>,
}

/// The outbox in upload encoding ([`compact`]), child by child in causal order, up to about `max_bytes`
/// (always whole children, and at least one child).
pub fn outbox(
    conn: &Connection,
    max_bytes: usize,
) -> Result<(Vec<ChildChanges>, Vec<i64>, bool), rusqlite::Error> {
    let mut stmt = conn.prepare_cached(
        "SELECT seq, child_id, bytes FROM changes WHERE synced = 0 AND rejected IS NULL
          ORDER BY child_id, seq",
    )?;
    let mut rows = stmt.query([])?;
    let mut groups: Vec<ChildChanges> = Vec::new();
    let mut seqs = Vec::new();
    let mut used = 0usize;
    let mut truncated = false;
    let mut group_hashes: Vec<[u8; 32]> = Vec::new();
    while let Some(row) = rows.next()? {
        let seq: i64 = row.get(0)?;
        let child_text: String = row.get(1)?;
        let Ok(child) = child_text.parse::<ChildId>() else {
            continue;
        };
        let bytes: Vec<u8> = row.get(2)?;
        let new_child = groups.last().is_none_or(|g| g.child != child);
        if new_child && used + bytes.len() > max_bytes && !groups.is_empty() {
            truncated = true;
            break;
        }
        used += bytes.len();
        if new_child {
            group_hashes.clear();
            groups.push(ChildChanges {
                child,
                changes: Vec::new(),
            });
        }
        if let Some(g) = groups.last_mut() {
            // Dependencies the server has, or that go up just before in this
            // group, travel as 8-byte prefixes (see `compact`).
            let encoded = {
                let earlier = &group_hashes;
                let mut synced =
                    conn.prepare_cached("SELECT 1 FROM changes WHERE hash = ?1 AND synced = 1")?;
                let known = |dep: &[u8; 32]| -> bool {
                    earlier.contains(dep) || synced.exists([dep.as_slice()]).unwrap_or(false)
                };
                compact::compact(&bytes, known)
            };
            if let Ok(change) = automerge::Change::from_bytes(bytes) {
                group_hashes.push(change.hash().0);
            }
            g.changes.push(ByteBuf::from(encoded));
        }
        seqs.push(seq);
    }
    Ok((groups, seqs, truncated))
}

/// How many changes wait to be sent, and for how many children.
pub fn outbox_size(conn: &Connection) -> Result<(u64, u64, u64), rusqlite::Error> {
    conn.query_row(
        "SELECT count(*), count(DISTINCT child_id),
                (SELECT count(*) FROM changes WHERE synced = 0 AND rejected IS NOT NULL)
           FROM changes WHERE synced = 0 AND rejected IS NULL",
        [],
        |r| {
            Ok((
                r.get::<_, i64>(0)? as u64,
                r.get::<_, i64>(1)? as u64,
                r.get::<_, i64>(2)? as u64,
            ))
        },
    )
}

/// The digest of each child in `scope`, over the changes the server has
/// (acknowledged or received from it).
pub fn child_digests(
    conn: &Connection,
    scope: &Scope,
) -> Result<Vec<ChildDigest>, rusqlite::Error> {
    let mut stmt = conn.prepare(&format!(
        "SELECT c.child_id, c.hash FROM changes c JOIN children ch ON ch.id = c.child_id
          WHERE c.synced = 1 AND {} ORDER BY c.child_id",
        scope.sql_condition("ch.posyandu")
    ))?;
    let mut rows = stmt.query([])?;
    let mut out: Vec<ChildDigest> = Vec::new();
    while let Some(row) = rows.next()? {
        let child_text: String = row.get(0)?;
        let Ok(child) = child_text.parse::<ChildId>() else {
            continue;
        };
        let hash = row.get_ref(1)?.as_blob().map_err(rusqlite::Error::from)?;
        match out.last_mut() {
            Some(d) if d.child == child => d.digest.add_hash(hash),
            _ => {
                let mut digest = Digest::default();
                digest.add_hash(hash);
                out.push(ChildDigest { child, digest });
            }
        }
    }
    Ok(out)
}

/// The scope checksum as this device sees it.
pub fn scope_checksum(conn: &Connection, scope: &Scope) -> Result<ScopeChecksum, rusqlite::Error> {
    let mut sum = ScopeChecksum::default();
    for d in child_digests(conn, scope)? {
        sum.children += 1;
        sum.digest.add(d.digest);
    }
    Ok(sum)
}
