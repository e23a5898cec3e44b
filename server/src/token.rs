//! Enrolment tokens: random, shown once, stored only as a hash.
//!
//! A token is 32 random bytes in hex behind a `tmb_` prefix (256 bits, so a
//! plain SHA-256 is the right hash: there is nothing to brute-force, unlike a
//! password, and lookups stay one index probe). The server keeps
//! `SHA-256(token)` for sign-in and a separate derived key for bundles
//! ([`sync_protocol::bundle::bundle_key`]); neither gives the token back.

use rand::RngCore;
use sha2::{Digest, Sha256};

/// The prefix that makes a Tumbuh token recognisable (e.g. by secret scanners).
pub const TOKEN_PREFIX: &str = "tmb_";

/// A fresh random device token.
pub fn generate() -> String {
    generate_with(TOKEN_PREFIX)
}

/// 32 random bytes in hex behind `prefix` (device tokens and people's
/// session tokens differ only in it).
pub fn generate_with(prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("{prefix}{}", hex::encode(bytes))
}

/// The hash stored for a token.
pub fn hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.trim().as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_long() {
        let a = generate();
        let b = generate();
        assert_ne!(a, b);
        assert!(a.starts_with(TOKEN_PREFIX));
        assert_eq!(a.len(), TOKEN_PREFIX.len() + 64);
        assert_ne!(hash(&a), hash(&b));
        assert_eq!(hash(&a), hash(&format!(" {a}\n")));
    }
}
