//! The compact encoding of an uploaded Automerge change.
//!
//! An Automerge change chunk is
//! `magic(4) | checksum(4) | type(1) | uLEB length | body`, and its body
//! starts with the dependencies: a uLEB count and 32-byte hashes. Hashes and
//! checksum are random bytes that no compressor can shrink — 36+ bytes of
//! every ~90-byte compressed measurement. But a device's change almost always
//! depends on changes the server already holds (or that come just before it
//! in the same upload), and the checksum can be recomputed. So uploads send
//!
//! ```text
//! 0 | the change's bytes unchanged                              (full)
//! 1 | uLEB count | count × first 8 bytes of each dependency | body after the dependencies   (compact)
//! ```
//!
//! and the server rebuilds the exact original bytes: it resolves each 8-byte
//! prefix to the full hash among the changes of the same child, rebuilds the
//! body and chunk header, and Automerge then verifies the result against
//! the hash as for any change. A device sends a change in full whenever one
//! of its dependencies is not known to be on the server.

use std::io::{Cursor, Read};

use sha2::{Digest as _, Sha256};
use thiserror::Error;

/// Automerge's chunk magic bytes.
const MAGIC: [u8; 4] = [0x85, 0x6f, 0x4a, 0x83];
/// Chunk type of an uncompressed change.
const CHANGE: u8 = 1;
/// Bytes of a dependency hash kept in the compact form.
pub const PREFIX: usize = 8;

const FULL: u8 = 0;
const COMPACT: u8 = 1;

/// Why a compact change could not be rebuilt.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum CompactError {
    #[error("the change is cut short or malformed")]
    Malformed,
    #[error("it depends on change {0} which the server does not have")]
    UnknownDependency(String),
}

/// A change split at its dependencies.
struct Parts<'a> {
    chunk_type: u8,
    deps: Vec<[u8; 32]>,
    rest: &'a [u8],
}

fn split(bytes: &[u8]) -> Option<Parts<'_>> {
    if bytes.len() < 9 || bytes[..4] != MAGIC {
        return None;
    }
    let chunk_type = bytes[8];
    let mut cur = Cursor::new(&bytes[9..]);
    let len = leb128::read::unsigned(&mut cur).ok()? as usize;
    let body_start = 9 + cur.position() as usize;
    let body = bytes.get(body_start..body_start.checked_add(len)?)?;
    if body_start + len != bytes.len() {
        return None;
    }
    let mut cur = Cursor::new(body);
    let count = leb128::read::unsigned(&mut cur).ok()? as usize;
    let mut deps = Vec::with_capacity(count.min(64));
    for _ in 0..count {
        let mut hash = [0u8; 32];
        cur.read_exact(&mut hash).ok()?;
        deps.push(hash);
    }
    let rest = &body[cur.position() as usize..];
    Some(Parts {
        chunk_type,
        deps,
        rest,
    })
}

/// Encodes a change for upload: compact when `known(dep)` holds for every
/// dependency (the server has it or it comes earlier in the same upload),
/// in full otherwise.
pub fn compact(bytes: &[u8], mut known: impl FnMut(&[u8; 32]) -> bool) -> Vec<u8> {
    match split(bytes) {
        Some(p) if p.chunk_type == CHANGE && p.deps.iter().all(&mut known) => {
            let mut out = Vec::with_capacity(bytes.len());
            out.push(COMPACT);
            // Writing to a Vec cannot fail.
            let _ = leb128::write::unsigned(&mut out, p.deps.len() as u64);
            for d in &p.deps {
                out.extend_from_slice(&d[..PREFIX]);
            }
            out.extend_from_slice(p.rest);
            out
        }
        _ => {
            let mut out = Vec::with_capacity(bytes.len() + 1);
            out.push(FULL);
            out.extend_from_slice(bytes);
            out
        }
    }
}

/// Rebuilds a change's original bytes; `resolve` maps an 8-byte prefix to
/// the full hash of a change of the same child.
pub fn expand(
    encoded: &[u8],
    mut resolve: impl FnMut(&[u8; PREFIX]) -> Option<[u8; 32]>,
) -> Result<Vec<u8>, CompactError> {
    let (&tag, rest) = encoded.split_first().ok_or(CompactError::Malformed)?;
    match tag {
        FULL => Ok(rest.to_vec()),
        COMPACT => {
            let mut cur = Cursor::new(rest);
            let count =
                leb128::read::unsigned(&mut cur).map_err(|_| CompactError::Malformed)? as usize;
            // Untrusted: a count the bytes cannot hold is refused before any
            // allocation is sized by it (found by the decoder fuzz test).
            if count > rest.len() / PREFIX {
                return Err(CompactError::Malformed);
            }
            let mut body = Vec::with_capacity(rest.len() + count * 32);
            let _ = leb128::write::unsigned(&mut body, count as u64);
            for _ in 0..count {
                let mut prefix = [0u8; PREFIX];
                cur.read_exact(&mut prefix)
                    .map_err(|_| CompactError::Malformed)?;
                let hash = resolve(&prefix)
                    .ok_or_else(|| CompactError::UnknownDependency(format!("{}…", hex(&prefix))))?;
                body.extend_from_slice(&hash);
            }
            body.extend_from_slice(&rest[cur.position() as usize..]);
            let mut head = vec![CHANGE];
            let _ = leb128::write::unsigned(&mut head, body.len() as u64);
            let mut hasher = Sha256::new();
            hasher.update(&head);
            hasher.update(&body);
            let hash = hasher.finalize();
            let mut out = Vec::with_capacity(8 + head.len() + body.len());
            out.extend_from_slice(&MAGIC);
            out.extend_from_slice(&hash[..4]);
            out.extend_from_slice(&head);
            out.extend_from_slice(&body);
            Ok(out)
        }
        _ => Err(CompactError::Malformed),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::ids::DeviceId;
    use crate::record::{MeasurementInput, Position, Profile, Sex};
    use crate::units::{Grams, Millimetres};
    use crate::{ChildDocument, ChildId, MeasurementId};
    use chrono::NaiveDate;

    fn changes() -> Vec<crate::DocumentChange> {
        let profile = Profile {
            name: "Siti".into(),
            sex: Sex::P,
            birth_date: NaiveDate::from_ymd_opt(2023, 5, 17).unwrap(),
            mother_name: "Sri".into(),
            nik: None,
            no_kk: None,
            mother_nik: None,
            father_name: None,
            rt: None,
            rw: None,
            address: None,
            posyandu: "353001200205".into(),
            desa: None,
            birth_weight: None,
            birth_length: None,
            consent_by: None,
            consent_on: None,
        };
        let mut doc =
            ChildDocument::create(DeviceId::new().actor(), ChildId::new(), &profile, 1).unwrap();
        for day in 1..4 {
            let m = MeasurementInput {
                date: NaiveDate::from_ymd_opt(2024, 8, day).unwrap(),
                weight: Some(Grams(9000)),
                length: Some(Millimetres(800)),
                position: Some(Position::Lying),
                muac: None,
                head: None,
                oedema: false,
                posyandu: "353001200205".into(),
                by: "Sri".into(),
                round: None,
            };
            doc.add_measurement(MeasurementId::new(), &m, 2).unwrap();
        }
        doc.changes_since(&[])
    }

    #[test]
    fn compact_changes_expand_to_the_exact_original_bytes() {
        let all = changes();
        for (i, c) in all.iter().enumerate() {
            let encoded = compact(&c.bytes, |_| true);
            if i > 0 {
                assert_eq!(encoded[0], COMPACT);
                assert!(
                    encoded.len() < c.bytes.len() - 20,
                    "dependency hashes shrink"
                );
            }
            let resolve = |p: &[u8; PREFIX]| {
                all.iter()
                    .find(|o| o.hash.0[..PREFIX] == p[..])
                    .map(|o| o.hash.0)
            };
            let back = expand(&encoded, resolve).unwrap();
            assert_eq!(back, c.bytes);
            let parsed = automerge::Change::from_bytes(back).unwrap();
            assert_eq!(parsed.hash(), c.hash);
        }
    }

    #[test]
    fn unknown_dependencies_are_sent_in_full_or_refused() {
        let all = changes();
        let encoded = compact(&all[1].bytes, |_| false);
        assert_eq!(encoded[0], FULL);
        assert_eq!(expand(&encoded, |_| None).unwrap(), all[1].bytes);
        let compacted = compact(&all[1].bytes, |_| true);
        assert!(matches!(
            expand(&compacted, |_| None),
            Err(CompactError::UnknownDependency(_))
        ));
        assert_eq!(expand(&[], |_| None), Err(CompactError::Malformed));
        assert_eq!(
            expand(&compacted[..3], |_| None),
            Err(CompactError::Malformed)
        );
    }
}
