//! Enrolling devices and the first admin.

use sync_protocol::Scope;
use sync_protocol::bundle::bundle_key;

use crate::storage::{Enrolment, NewEnrolment, Role, Storage, StorageError};
use crate::token;

/// Enrols a device and returns it with its token (shown once, never stored).
pub fn enrol(
    storage: &dyn Storage,
    role: Role,
    scope: Scope,
    name: &str,
    now_ms: i64,
) -> Result<(Enrolment, String), StorageError> {
    let token = token::generate();
    let enrolment = storage.add_device(
        NewEnrolment {
            name: name.to_string(),
            role,
            scope,
            token_hash: token::hash(&token),
            bundle_key: bundle_key(&token),
        },
        now_ms,
    )?;
    Ok((enrolment, token))
}

/// Creates the admin enrolment if there is none; returns its token then.
pub fn ensure_admin(storage: &dyn Storage, now_ms: i64) -> Result<Option<String>, StorageError> {
    if storage.devices()?.iter().any(|d| d.role == Role::Admin) {
        return Ok(None);
    }
    let (_, token) = enrol(storage, Role::Admin, Scope::All, "admin", now_ms)?;
    Ok(Some(token))
}
