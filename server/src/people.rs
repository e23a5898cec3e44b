//! People's sign-in: district, puskesmas and bidan staff and administrators
//! sign in with a name and password for a short session, separate from the
//! enrolment tokens of field devices.
//!
//! Why separate: a device token is a long-lived secret kept on a phone and
//! bound to that phone's Automerge actor; a person at a desk should not carry
//! one, should be able to sign out, and should lose access when they leave
//! (`user disable`) without revoking any phone. Passwords are stored only as
//! argon2id hashes (PHC strings with their own salt and cost); sessions are
//! random 256-bit tokens behind a `tmbs_` prefix, stored as SHA-256 like
//! device tokens, that expire after [`SESSION_HOURS`]. A session reads and
//! decides like a device of the same role and area, but cannot sync (it has
//! no Automerge actor). Repeated wrong passwords lock the name for
//! [`LOCK_MINUTES`]; every sign-in, failure and sign-out is audited.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use rand::RngCore;

/// The prefix of a person's session token (device tokens use `tmb_`).
pub const SESSION_PREFIX: &str = "tmbs_";
/// How long a session lasts.
pub const SESSION_HOURS: i64 = 8;
/// Wrong passwords in a row before the name is locked.
pub const MAX_FAILURES: i64 = 5;
/// How long a locked name stays locked.
pub const LOCK_MINUTES: i64 = 15;
/// The shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 10;

/// What can go wrong with a password.
#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    #[error("the password is too short: at least {MIN_PASSWORD_CHARS} characters")]
    TooShort,
    #[error("the password must not contain the user's name")]
    ContainsName,
    #[error("cannot hash the password: {0}")]
    Hash(String),
}

/// Checks the password policy (length, not the name itself).
pub fn check_policy(name: &str, password: &str) -> Result<(), PasswordError> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(PasswordError::TooShort);
    }
    let name = name.trim().to_lowercase();
    if !name.is_empty() && password.to_lowercase().contains(&name) {
        return Err(PasswordError::ContainsName);
    }
    Ok(())
}

/// The argon2id hash (PHC string) stored for a password.
pub fn hash_password(password: &str) -> Result<String, PasswordError> {
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    let salt = SaltString::encode_b64(&bytes).map_err(|e| PasswordError::Hash(e.to_string()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| PasswordError::Hash(e.to_string()))
}

/// Whether `password` matches the stored hash (a malformed hash never matches).
#[must_use]
pub fn verify_password(stored: &str, password: &str) -> bool {
    PasswordHash::new(stored).is_ok_and(|h| {
        Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

/// A hash to verify against when the name is unknown, so that an unknown
/// name takes as long to refuse as a wrong password.
pub fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash_password("decoy password that matches nothing").unwrap_or_default())
}

/// A fresh session token.
#[must_use]
pub fn new_session_token() -> String {
    crate::token::generate_with(SESSION_PREFIX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_hash_with_a_salt_and_verify_only_themselves() {
        let a = hash_password("kopi-tubruk-42").expect("hash");
        let b = hash_password("kopi-tubruk-42").expect("hash");
        assert!(a.starts_with("$argon2id$"), "{a}");
        assert_ne!(a, b, "each hash has its own salt");
        assert!(verify_password(&a, "kopi-tubruk-42"));
        assert!(!verify_password(&a, "kopi-tubruk-43"));
        assert!(!verify_password("not a hash", "kopi-tubruk-42"));
        assert!(!verify_password(decoy_hash(), ""));
    }

    #[test]
    fn the_policy_wants_length_and_not_the_name() {
        assert!(matches!(
            check_policy("sri", "pendek"),
            Err(PasswordError::TooShort)
        ));
        assert!(matches!(
            check_policy("sri", "ibu-SRI-dinkes-2024"),
            Err(PasswordError::ContainsName)
        ));
        assert!(check_policy("sri", "kopi-tubruk-42").is_ok());
    }

    #[test]
    fn session_tokens_are_random_and_marked() {
        let a = new_session_token();
        assert!(a.starts_with(SESSION_PREFIX));
        assert_eq!(a.len(), SESSION_PREFIX.len() + 64);
        assert_ne!(a, new_session_token());
    }
}
