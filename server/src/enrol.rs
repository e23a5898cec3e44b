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
    enrol_until(storage, role, scope, name, None, now_ms)
}

/// [`enrol`] with a token that stops working at `expires_at_ms`.
pub fn enrol_until(
    storage: &dyn Storage,
    role: Role,
    scope: Scope,
    name: &str,
    expires_at_ms: Option<i64>,
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
            expires_at_ms,
        },
        now_ms,
    )?;
    storage.audit(
        now_ms,
        "admin-cli",
        "device.add",
        &enrolment.id.to_string(),
        &format!("role={} area={}", role.code(), enrolment.scope.to_text()),
    )?;
    Ok((enrolment, token))
}

/// Gives a device a new token; the old one stops working at once.
pub fn rotate(
    storage: &dyn Storage,
    id: uuid::Uuid,
    expires_at_ms: Option<i64>,
    now_ms: i64,
) -> Result<(Enrolment, String), StorageError> {
    let token = token::generate();
    let enrolment =
        storage.rotate_token(id, token::hash(&token), bundle_key(&token), expires_at_ms)?;
    storage.audit(now_ms, "admin-cli", "device.rotate", &id.to_string(), "")?;
    Ok((enrolment, token))
}

/// Revokes a device: its next sync is refused; what it synced is kept.
pub fn revoke(
    storage: &dyn Storage,
    id: uuid::Uuid,
    now_ms: i64,
) -> Result<Enrolment, StorageError> {
    let enrolment = storage.revoke_device(id, now_ms)?;
    storage.audit(now_ms, "admin-cli", "device.revoke", &id.to_string(), "")?;
    Ok(enrolment)
}

/// Creates the admin enrolment if there is none; returns its token then.
pub fn ensure_admin(storage: &dyn Storage, now_ms: i64) -> Result<Option<String>, StorageError> {
    if storage
        .devices()?
        .iter()
        .any(|d| d.role == Role::Admin && d.revoked_at_ms.is_none())
    {
        return Ok(None);
    }
    let (_, token) = enrol(storage, Role::Admin, Scope::All, "admin", now_ms)?;
    Ok(Some(token))
}
