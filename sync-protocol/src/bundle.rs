//! Sync by file: a framed sync message wrapped for carrying on a USB stick or
//! over WhatsApp, authenticated to one enrolled device.
//!
//! ```text
//! "TMBB" | version: u8 | direction: u8 | enrolment id: 16 bytes
//!        | HMAC-SHA256(key, everything before the MAC and everything after): 32 bytes
//!        | framed message (see `wire`)
//! ```
//!
//! The key is derived from the device's enrolment token ([`bundle_key`]);
//! the server keeps the derived key, never the token. A bundle that was
//! altered, cut short, or made for another device fails the MAC check.

use hmac::{Hmac, Mac};
use sha2::{Digest as _, Sha256};
use thiserror::Error;
use uuid::Uuid;

/// Magic bytes of a bundle file.
pub const BUNDLE_MAGIC: &[u8; 4] = b"TMBB";
/// Bundle format version.
pub const BUNDLE_VERSION: u8 = 1;

const HEADER: usize = 4 + 1 + 1 + 16;
const MAC_LEN: usize = 32;

/// Which way a bundle travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Direction {
    /// Device → server: carries a sync request.
    Upload = 1,
    /// Server → device: carries the sync response.
    Reply = 2,
}

/// Why a bundle was refused.
#[derive(Debug, Error)]
pub enum BundleError {
    #[error("not a Tumbuh bundle file")]
    Magic,
    #[error("bundle format version {0} is not supported; update Tumbuh")]
    Version(u8),
    #[error("this is a {found} bundle, expected a {expected} bundle")]
    Direction {
        expected: &'static str,
        found: &'static str,
    },
    #[error(
        "the bundle failed its integrity check: it was altered or cut short, or made for another device"
    )]
    Integrity,
}

/// A bundle's header fields, readable before the key is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BundleHeader {
    pub direction: Direction,
    pub enrolment: Uuid,
}

fn direction_name(d: Direction) -> &'static str {
    match d {
        Direction::Upload => "device-to-server",
        Direction::Reply => "server reply",
    }
}

/// The bundle key derived from an enrolment token.
pub fn bundle_key(token: &str) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"tumbuh bundle key v1\0");
    h.update(token.as_bytes());
    h.finalize().into()
}

fn mac(key: &[u8; 32], header: &[u8], message: &[u8]) -> Hmac<Sha256> {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
    m.update(header);
    m.update(message);
    m
}

/// Wraps a framed message into a bundle.
pub fn seal(direction: Direction, enrolment: Uuid, key: &[u8; 32], message: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER + MAC_LEN + message.len());
    out.extend_from_slice(BUNDLE_MAGIC);
    out.push(BUNDLE_VERSION);
    out.push(direction as u8);
    out.extend_from_slice(enrolment.as_bytes());
    let tag = mac(key, &out, message).finalize().into_bytes();
    out.extend_from_slice(&tag);
    out.extend_from_slice(message);
    out
}

/// Reads the header, to find the device (and so the key) a bundle is for.
pub fn header(bytes: &[u8]) -> Result<BundleHeader, BundleError> {
    if bytes.len() < HEADER + MAC_LEN || &bytes[..4] != BUNDLE_MAGIC {
        return Err(BundleError::Magic);
    }
    if bytes[4] != BUNDLE_VERSION {
        return Err(BundleError::Version(bytes[4]));
    }
    let direction = match bytes[5] {
        1 => Direction::Upload,
        2 => Direction::Reply,
        _ => return Err(BundleError::Magic),
    };
    let mut id = [0u8; 16];
    id.copy_from_slice(&bytes[6..HEADER]);
    Ok(BundleHeader {
        direction,
        enrolment: Uuid::from_bytes(id),
    })
}

/// Checks a bundle's direction and MAC and returns the framed message inside.
pub fn open<'a>(
    bytes: &'a [u8],
    expected: Direction,
    key: &[u8; 32],
) -> Result<&'a [u8], BundleError> {
    let h = header(bytes)?;
    if h.direction != expected {
        return Err(BundleError::Direction {
            expected: direction_name(expected),
            found: direction_name(h.direction),
        });
    }
    let (head, rest) = bytes.split_at(HEADER);
    let (tag, message) = rest.split_at(MAC_LEN);
    mac(key, head, message)
        .verify_slice(tag)
        .map_err(|_| BundleError::Integrity)?;
    Ok(message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_bundle_opens_with_its_key_only() {
        let key = bundle_key("token-a");
        let id = Uuid::now_v7();
        let sealed = seal(Direction::Upload, id, &key, b"payload");
        assert_eq!(header(&sealed).expect("header").enrolment, id);
        assert_eq!(
            open(&sealed, Direction::Upload, &key).expect("open"),
            b"payload"
        );
        assert!(matches!(
            open(&sealed, Direction::Upload, &bundle_key("token-b")),
            Err(BundleError::Integrity)
        ));
        assert!(matches!(
            open(&sealed, Direction::Reply, &key),
            Err(BundleError::Direction { .. })
        ));
    }

    #[test]
    fn any_flipped_byte_or_cut_is_detected() {
        let key = bundle_key("t");
        let sealed = seal(
            Direction::Reply,
            Uuid::now_v7(),
            &key,
            b"some message bytes",
        );
        for i in 0..sealed.len() {
            let mut bad = sealed.clone();
            bad[i] ^= 0x01;
            assert!(open(&bad, Direction::Reply, &key).is_err(), "flip at {i}");
        }
        assert!(open(&sealed[..sealed.len() - 1], Direction::Reply, &key).is_err());
    }
}
