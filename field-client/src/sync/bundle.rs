//! Sync by file on the device: `tumbuh bundle export` writes the outbox as a
//! bundle for the server; `tumbuh bundle import` applies the server's reply.
//!
//! The exported batch keys and the outbox entries they carried are kept
//! (`bundle_exports`) so a reply can be matched to its bundle. Importing a
//! reply twice changes nothing the second time.

use rusqlite::{OptionalExtension, params};
use sync_protocol::bundle::{self, BundleError, Direction, bundle_key};
use sync_protocol::wire::{self, SyncResponse};

use super::{SyncError, SyncSummary, apply_response, next_request, state};
use crate::store::Store;

/// Why a bundle could not be made or applied.
#[derive(Debug, thiserror::Error)]
pub enum BundleFileError {
    #[error(transparent)]
    Bundle(#[from] BundleError),
    #[error(transparent)]
    Sync(#[from] SyncError),
    #[error("this reply is for a bundle this device did not export (or for another device)")]
    UnknownBatch,
}

/// What `bundle export` wrote.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Export {
    pub changes: usize,
    pub children: usize,
    pub bytes: usize,
}

/// Builds the upload bundle of everything not yet acknowledged.
pub fn export(store: &Store, now_ms: i64) -> Result<(Vec<u8>, Export), BundleFileError> {
    let server = state::server(store.conn())
        .map_err(SyncError::from)?
        .ok_or(SyncError::NotLoggedIn)?;
    let (request, seqs, _) = next_request(store, usize::MAX, 0)?;
    let framed = wire::encode(&request).map_err(SyncError::from)?;
    let sealed = bundle::seal(
        Direction::Upload,
        server.enrolment,
        &bundle_key(&server.token),
        &framed,
    );
    let seqs_json = serde_json::to_string(&seqs).unwrap_or_else(|_| "[]".into());
    store
        .conn()
        .execute(
            "INSERT INTO bundle_exports (batch, seqs, created_at) VALUES (?1, ?2, ?3)",
            params![request.batch.as_bytes().as_slice(), seqs_json, now_ms],
        )
        .map_err(SyncError::from)?;
    Ok((
        sealed.clone(),
        Export {
            changes: seqs.len(),
            children: request.upload.len(),
            bytes: sealed.len(),
        },
    ))
}

/// Applies a reply bundle from the server.
pub fn import(
    store: &mut Store,
    bytes: &[u8],
    now_ms: i64,
) -> Result<SyncSummary, BundleFileError> {
    let server = state::server(store.conn())
        .map_err(SyncError::from)?
        .ok_or(SyncError::NotLoggedIn)?;
    let header = bundle::header(bytes)?;
    if header.enrolment != server.enrolment {
        return Err(BundleFileError::UnknownBatch);
    }
    let message = bundle::open(bytes, Direction::Reply, &bundle_key(&server.token))?;
    let response: SyncResponse =
        wire::decode(message, wire::MAX_MESSAGE_BYTES).map_err(SyncError::from)?;
    let seqs: Option<String> = store
        .conn()
        .query_row(
            "SELECT seqs FROM bundle_exports WHERE batch = ?1",
            [response.batch.as_bytes().as_slice()],
            |r| r.get(0),
        )
        .optional()
        .map_err(SyncError::from)?;
    let seqs: Vec<i64> = seqs
        .and_then(|s| serde_json::from_str(&s).ok())
        .ok_or(BundleFileError::UnknownBatch)?;
    let mut summary = SyncSummary {
        round_trips: 1,
        bytes_received: bytes.len() as u64,
        ..SyncSummary::default()
    };
    apply_response(store, &seqs, &response, now_ms, &mut summary)?;
    summary.conflicts = store
        .conn()
        .query_row(
            "SELECT count(*) FROM children WHERE conflicts > 0",
            [],
            |r| r.get::<_, i64>(0),
        )
        .map_err(SyncError::from)? as u64;
    Ok(summary)
}
