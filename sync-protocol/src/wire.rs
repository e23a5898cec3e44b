//! The sync protocol's messages and their framing on the wire.
//!
//! Transport-independent: the same bytes travel as an HTTP body
//! (`POST /v1/sync`, …) and inside a file bundle ([`crate::bundle`]). Every
//! message is framed as
//!
//! ```text
//! "TMBS" | version: u8 | kind: u8 | zstd( postcard(message) )
//! ```
//!
//! postcard is a compact, documented serde format (varints, length-prefixed
//! bytes); zstd removes what repeats between changes (actor ids, keys). The
//! decompressed size is capped ([`MAX_MESSAGE_BYTES`]) so a small hostile body
//! cannot expand into gigabytes. See `PROTOCOL.md` for the exchange itself.

use std::io::Read;

use serde::{Deserialize, Serialize};
use serde_bytes::ByteBuf;
use thiserror::Error;
use uuid::Uuid;

use crate::ids::ChildId;

/// The protocol version this crate speaks. A peer that receives another
/// version refuses the message with [`WireError::Version`].
pub const PROTOCOL_VERSION: u8 = 1;

/// Magic bytes that open every framed message.
pub const MAGIC: &[u8; 4] = b"TMBS";

/// The largest decompressed message accepted (64 MiB).
pub const MAX_MESSAGE_BYTES: usize = 64 << 20;

/// Default size budget of one page of changes sent to a device.
pub const DEFAULT_PAGE_BYTES: u32 = 2 << 20;

/// The zstd level used for messages: a good ratio at a cost well below the
/// link's transfer time.
const ZSTD_LEVEL: i32 = 9;

/// What a framed message is; the byte after the version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Kind {
    SyncRequest = 1,
    SyncResponse = 2,
    SnapshotRequest = 3,
    SnapshotResponse = 4,
    RepairRequest = 5,
    RepairResponse = 6,
}

impl Kind {
    fn from_u8(b: u8) -> Option<Kind> {
        Some(match b {
            1 => Kind::SyncRequest,
            2 => Kind::SyncResponse,
            3 => Kind::SnapshotRequest,
            4 => Kind::SnapshotResponse,
            5 => Kind::RepairRequest,
            6 => Kind::RepairResponse,
            _ => return None,
        })
    }
}

/// A message that can be framed.
pub trait Message: Serialize + for<'de> Deserialize<'de> {
    const KIND: Kind;
}

/// The Automerge changes of one child, in causal order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChildChanges {
    pub child: ChildId,
    pub changes: Vec<ByteBuf>,
}

/// The device's half of a sync: what it has that the server has not
/// acknowledged, and where it stands in the server's feed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncRequest {
    /// Idempotency key of this upload; a retry reuses it.
    pub batch: Uuid,
    /// The last server sequence number the device has received (0 = none).
    pub cursor: u64,
    /// The outbox, grouped by child, each child's changes in causal order.
    pub upload: Vec<ChildChanges>,
    /// The most bytes of changes the device wants in the answer (0 = the
    /// server's default).
    pub max_page_bytes: u32,
}

/// What the server did with one uploaded change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Ack {
    /// Stored now, or already stored before (a retry): either way, safe.
    Stored,
    /// Refused; the device keeps it and shows the reason.
    Rejected(String),
}

/// The server's half of a sync.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncResponse {
    /// The request's batch key.
    pub batch: Uuid,
    /// One per uploaded change, in the order of the request.
    pub acks: Vec<Ack>,
    /// Changes in the device's scope after its cursor, from other devices.
    pub feed: Vec<ChildChanges>,
    /// The cursor to send next time.
    pub cursor: u64,
    /// More changes wait after this page: sync again at once.
    pub more: bool,
    /// Present on the last page: the digest of everything in the device's
    /// scope, which the device compares with its own.
    pub checksum: Option<ScopeChecksum>,
}

/// A cheap digest of a set of changes: how many, and the XOR of the first 8
/// bytes of their hashes. Order-independent and incremental, so both sides
/// keep it per child and add children up in O(children).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Digest {
    pub changes: u64,
    pub xor: u64,
}

impl Digest {
    /// Adds one change by its hash.
    pub fn add_hash(&mut self, hash: &[u8]) {
        self.changes += 1;
        self.xor ^= hash_prefix(hash);
    }

    /// Adds another digest (the union of disjoint sets).
    pub fn add(&mut self, other: Digest) {
        self.changes += other.changes;
        self.xor ^= other.xor;
    }
}

/// The first 8 bytes of a change hash as a number (0 if shorter).
pub fn hash_prefix(hash: &[u8]) -> u64 {
    hash.get(..8)
        .and_then(|b| <[u8; 8]>::try_from(b).ok())
        .map_or(0, u64::from_be_bytes)
}

/// The digest of every change of every child in a device's scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ScopeChecksum {
    pub children: u64,
    pub digest: Digest,
}

/// First sync of a device: ask for a page of the area snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotRequest {
    /// 0 to start; afterwards the `upto` of the first page, so that every
    /// page belongs to the same snapshot.
    pub upto: u64,
    /// Resume after this child (children come in id order).
    pub after: Option<ChildId>,
    pub max_page_bytes: u32,
}

/// One child in a snapshot: a saved Automerge document, possibly followed by
/// changes newer than the save (Automerge loads both concatenated).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChildSnapshot {
    pub child: ChildId,
    pub document: ByteBuf,
}

/// A page of the snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotResponse {
    /// The feed position the snapshot covers: after the last page the
    /// device's cursor becomes this.
    pub upto: u64,
    pub children: Vec<ChildSnapshot>,
    /// The child to resume after, or `None` when this was the last page.
    pub next: Option<ChildId>,
    /// How many children the whole snapshot has (for progress).
    pub total_children: u64,
}

/// The per-child digest a device sends when its scope checksum disagreed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChildDigest {
    pub child: ChildId,
    pub digest: Digest,
}

/// Repair: find the children whose change sets differ.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RepairRequest {
    pub digests: Vec<ChildDigest>,
}

/// Repair answer: every change of each child that differs (the device keeps
/// what it lacks), and the children whose changes the device should upload
/// again (the server keeps what it lacks). Both sides dedupe by hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RepairResponse {
    pub children: Vec<ChildChanges>,
    pub reupload: Vec<ChildId>,
    /// The scope checksum after the device applies this answer and re-uploads.
    pub checksum: ScopeChecksum,
}

impl Message for SyncRequest {
    const KIND: Kind = Kind::SyncRequest;
}
impl Message for SyncResponse {
    const KIND: Kind = Kind::SyncResponse;
}
impl Message for SnapshotRequest {
    const KIND: Kind = Kind::SnapshotRequest;
}
impl Message for SnapshotResponse {
    const KIND: Kind = Kind::SnapshotResponse;
}
impl Message for RepairRequest {
    const KIND: Kind = Kind::RepairRequest;
}
impl Message for RepairResponse {
    const KIND: Kind = Kind::RepairResponse;
}

/// Why a framed message could not be read.
#[derive(Debug, Error)]
pub enum WireError {
    #[error("not a Tumbuh sync message (bad magic bytes)")]
    Magic,
    #[error("sync protocol version {found} is not supported (this program speaks {supported})")]
    Version { found: u8, supported: u8 },
    #[error("expected a {expected:?} message, got kind {found}")]
    Kind { expected: Kind, found: u8 },
    #[error("message is not valid zstd or larger than {max} bytes once decompressed: {reason}")]
    Decompress { max: usize, reason: String },
    #[error("message body is malformed: {0}")]
    Decode(String),
    #[error("cannot encode message: {0}")]
    Encode(String),
}

/// Frames a message: header, then zstd of its postcard encoding.
pub fn encode<M: Message>(message: &M) -> Result<Vec<u8>, WireError> {
    let body = postcard::to_stdvec(message).map_err(|e| WireError::Encode(e.to_string()))?;
    let packed =
        zstd::bulk::compress(&body, ZSTD_LEVEL).map_err(|e| WireError::Encode(e.to_string()))?;
    let mut out = Vec::with_capacity(6 + packed.len());
    out.extend_from_slice(MAGIC);
    out.push(PROTOCOL_VERSION);
    out.push(M::KIND as u8);
    out.extend_from_slice(&packed);
    Ok(out)
}

/// Reads a framed message of the expected kind, refusing anything that
/// decompresses beyond `max_bytes`.
pub fn decode<M: Message>(bytes: &[u8], max_bytes: usize) -> Result<M, WireError> {
    let Some((header, packed)) = bytes.split_at_checked(6) else {
        return Err(WireError::Magic);
    };
    if &header[..4] != MAGIC {
        return Err(WireError::Magic);
    }
    if header[4] != PROTOCOL_VERSION {
        return Err(WireError::Version {
            found: header[4],
            supported: PROTOCOL_VERSION,
        });
    }
    if Kind::from_u8(header[5]) != Some(M::KIND) {
        return Err(WireError::Kind {
            expected: M::KIND,
            found: header[5],
        });
    }
    // Streamed, so that memory follows the real size: the bulk API reserves
    // `max_bytes` up front, 64 MiB for any few hostile bytes (seen while
    // fuzzing, where it made each decode slow).
    let too_big = |reason: String| WireError::Decompress {
        max: max_bytes,
        reason,
    };
    let mut body = Vec::new();
    zstd::stream::read::Decoder::new(packed)
        .and_then(|d| {
            d.take(
                u64::try_from(max_bytes)
                    .unwrap_or(u64::MAX)
                    .saturating_add(1),
            )
            .read_to_end(&mut body)
        })
        .map_err(|e| too_big(e.to_string()))?;
    if body.len() > max_bytes {
        return Err(too_big("the limit was exceeded".into()));
    }
    postcard::from_bytes(&body).map_err(|e| WireError::Decode(e.to_string()))
}

/// Approximate encoded size of a change inside a page (for page budgets).
pub fn change_cost(bytes: &[u8]) -> usize {
    bytes.len() + 4
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request() -> SyncRequest {
        SyncRequest {
            batch: Uuid::now_v7(),
            cursor: 42,
            upload: vec![ChildChanges {
                child: ChildId::new(),
                changes: vec![ByteBuf::from(vec![1, 2, 3]), ByteBuf::from(vec![4])],
            }],
            max_page_bytes: 0,
        }
    }

    #[test]
    fn messages_round_trip() {
        let req = request();
        let bytes = encode(&req).expect("encode");
        assert_eq!(&bytes[..4], MAGIC);
        let back: SyncRequest = decode(&bytes, MAX_MESSAGE_BYTES).expect("decode");
        assert_eq!(back, req);
    }

    #[test]
    fn wrong_kind_version_and_magic_are_refused() {
        let bytes = encode(&request()).expect("encode");
        assert!(matches!(
            decode::<SyncResponse>(&bytes, MAX_MESSAGE_BYTES),
            Err(WireError::Kind { .. })
        ));
        let mut v2 = bytes.clone();
        v2[4] = 2;
        assert!(matches!(
            decode::<SyncRequest>(&v2, MAX_MESSAGE_BYTES),
            Err(WireError::Version { found: 2, .. })
        ));
        assert!(matches!(
            decode::<SyncRequest>(b"GET / HTTP/1.1", MAX_MESSAGE_BYTES),
            Err(WireError::Magic)
        ));
        let truncated = &bytes[..bytes.len() - 3];
        assert!(decode::<SyncRequest>(truncated, MAX_MESSAGE_BYTES).is_err());
    }

    #[test]
    fn decompression_is_capped() {
        let big = SyncRequest {
            upload: vec![ChildChanges {
                child: ChildId::new(),
                changes: vec![ByteBuf::from(vec![0u8; 1 << 20])],
            }],
            ..request()
        };
        let bytes = encode(&big).expect("encode");
        assert!(bytes.len() < 4096, "a megabyte of zeros compresses");
        assert!(matches!(
            decode::<SyncRequest>(&bytes, 64 << 10),
            Err(WireError::Decompress { .. })
        ));
        assert!(decode::<SyncRequest>(&bytes, 2 << 20).is_ok());
    }

    #[test]
    fn digest_is_order_independent_and_detects_a_missing_change() {
        let hashes: Vec<[u8; 32]> = (0..5u8)
            .map(|i| [i.wrapping_mul(37).wrapping_add(1); 32])
            .collect();
        let mut a = Digest::default();
        for h in &hashes {
            a.add_hash(h);
        }
        let mut b = Digest::default();
        for h in hashes.iter().rev() {
            b.add_hash(h);
        }
        assert_eq!(a, b);
        let mut c = Digest::default();
        for h in &hashes[1..] {
            c.add_hash(h);
        }
        assert_ne!(a, c);
        let mut parts = Digest::default();
        let mut first = Digest::default();
        first.add_hash(&hashes[0]);
        parts.add(first);
        parts.add(c);
        assert_eq!(parts, a);
    }
}
