//! Sync by file on the server side: read a device's upload bundle, run the
//! same exchange as `POST /v1/sync`, and seal the reply for that device.
//!
//! Importing the same bundle twice stores nothing twice (changes dedupe by
//! hash) and yields an equivalent reply.

use sync_protocol::bundle::{self, BundleError, Direction};
use sync_protocol::wire::{self, SyncRequest, SyncResponse, WireError};
use thiserror::Error;

use crate::storage::{Enrolment, Storage, StorageError};

/// Largest reply page carried by a bundle (a file has no round trips to save).
const BUNDLE_PAGE_BYTES: usize = 32 << 20;

/// Why a bundle could not be imported.
#[derive(Debug, Error)]
pub enum BundleImportError {
    #[error(transparent)]
    Bundle(#[from] BundleError),
    #[error(
        "the bundle was made by a device that is not enrolled here, was revoked or whose token expired: {0}"
    )]
    UnknownDevice(uuid::Uuid),
    #[error("the bundle's content is unreadable: {0}")]
    Wire(#[from] WireError),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// What an import did.
#[derive(Debug)]
pub struct BundleImport {
    pub device: Enrolment,
    pub response: SyncResponse,
    /// The sealed reply bundle for the device.
    pub reply: Vec<u8>,
}

/// Imports an upload bundle and builds the reply.
pub fn import(
    storage: &dyn Storage,
    bytes: &[u8],
    now_ms: i64,
) -> Result<BundleImport, BundleImportError> {
    let header = bundle::header(bytes)?;
    let (device, key) = storage
        .bundle_key(header.enrolment)?
        .ok_or(BundleImportError::UnknownDevice(header.enrolment))?;
    if device.expires_at_ms.is_some_and(|at| at <= now_ms) {
        return Err(BundleImportError::UnknownDevice(header.enrolment));
    }
    let message = bundle::open(bytes, Direction::Upload, &key)?;
    let request: SyncRequest = wire::decode(message, wire::MAX_MESSAGE_BYTES)?;
    let response = storage.sync(&device, &request, BUNDLE_PAGE_BYTES, now_ms)?;
    let framed = wire::encode(&response)?;
    let reply = bundle::seal(Direction::Reply, device.id, &key, &framed);
    let stored = response
        .acks
        .iter()
        .filter(|a| matches!(a, sync_protocol::wire::Ack::Stored))
        .count();
    storage.audit(
        now_ms,
        &device.id.to_string(),
        "bundle.import",
        &device.id.to_string(),
        &format!(
            "acknowledged={stored} sent={}",
            response.feed.iter().map(|g| g.changes.len()).sum::<usize>()
        ),
    )?;
    Ok(BundleImport {
        device,
        response,
        reply,
    })
}
