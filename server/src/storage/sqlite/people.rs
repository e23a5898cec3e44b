//! The SQLite side of people's sign-in (`crate::people`): the `users` and
//! `sessions` tables of migration 7. Each function runs inside the caller's
//! transaction; the audit entries are written in the same transaction as
//! the change they record.

use rusqlite::{OptionalExtension, Transaction, params};
use sync_protocol::Scope;
use uuid::Uuid;

use crate::people::{LOCK_MINUTES, MAX_FAILURES};
use crate::storage::{Enrolment, Role, StorageError, User};

const USER_COLUMNS: &str =
    "id, name, role, scope, created_at, disabled_at, failed_signins, locked_until";

fn user_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<User> {
    let conv = |i: usize, e: String| {
        rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, e.into())
    };
    let id: String = r.get(0)?;
    let role: String = r.get(2)?;
    let scope: String = r.get(3)?;
    Ok(User {
        id: id
            .parse()
            .map_err(|e: uuid::Error| conv(0, e.to_string()))?,
        name: r.get(1)?,
        role: Role::from_code(&role).ok_or_else(|| conv(2, format!("role {role}")))?,
        scope: Scope::from_text(&scope).map_err(|e| conv(3, e.to_string()))?,
        created_at_ms: r.get(4)?,
        disabled_at_ms: r.get(5)?,
        failed_signins: r.get(6)?,
        locked_until_ms: r.get(7)?,
    })
}

fn audit(
    tx: &Transaction<'_>,
    at: i64,
    who: &str,
    action: &str,
    target: &str,
    detail: &str,
) -> Result<(), StorageError> {
    tx.execute(
        "INSERT INTO audit (at, who, action, target, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![at, who, action, target, detail],
    )?;
    Ok(())
}

fn by_name(tx: &Transaction<'_>, name: &str) -> Result<User, StorageError> {
    tx.query_row(
        &format!("SELECT {USER_COLUMNS} FROM users WHERE name = ?1"),
        [name],
        user_from_row,
    )
    .optional()?
    .ok_or_else(|| StorageError::Refused(format!("no user named `{name}`")))
}

pub(super) fn add_user(
    tx: &Transaction<'_>,
    name: &str,
    role: Role,
    scope: &Scope,
    password_hash: &str,
    now_ms: i64,
) -> Result<User, StorageError> {
    let taken: bool = tx
        .prepare_cached("SELECT 1 FROM users WHERE name = ?1")?
        .exists([name])?;
    if taken {
        return Err(StorageError::Refused(format!(
            "a user named `{name}` exists already"
        )));
    }
    let id = Uuid::now_v7();
    tx.execute(
        "INSERT INTO users (id, name, role, scope, password, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            id.to_string(),
            name,
            role.code(),
            scope.to_text(),
            password_hash,
            now_ms
        ],
    )?;
    audit(
        tx,
        now_ms,
        crate::storage::ADMIN_CLI,
        "user.add",
        &id.to_string(),
        &format!("role={} scope={}", role.code(), scope.to_text()),
    )?;
    by_name(tx, name)
}

pub(super) fn users(tx: &Transaction<'_>) -> Result<Vec<User>, StorageError> {
    let mut stmt = tx.prepare(&format!("SELECT {USER_COLUMNS} FROM users ORDER BY name"))?;
    let rows = stmt
        .query_map([], user_from_row)?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

pub(super) fn credentials(
    tx: &Transaction<'_>,
    name: &str,
) -> Result<Option<(User, String)>, StorageError> {
    Ok(tx
        .query_row(
            &format!("SELECT {USER_COLUMNS}, password FROM users WHERE name = ?1"),
            [name],
            |r| Ok((user_from_row(r)?, r.get::<_, String>(8)?)),
        )
        .optional()?)
}

pub(super) fn set_password(
    tx: &Transaction<'_>,
    name: &str,
    password_hash: &str,
    now_ms: i64,
) -> Result<User, StorageError> {
    let user = by_name(tx, name)?;
    tx.execute(
        "UPDATE users SET password = ?2, failed_signins = 0, locked_until = NULL WHERE id = ?1",
        params![user.id.to_string(), password_hash],
    )?;
    // A new password ends the sessions opened with the old one.
    tx.execute(
        "UPDATE sessions SET ended_at = ?2 WHERE user_id = ?1 AND ended_at IS NULL",
        params![user.id.to_string(), now_ms],
    )?;
    audit(
        tx,
        now_ms,
        crate::storage::ADMIN_CLI,
        "user.password",
        &user.id.to_string(),
        "",
    )?;
    by_name(tx, name)
}

pub(super) fn disable(tx: &Transaction<'_>, name: &str, now_ms: i64) -> Result<User, StorageError> {
    let user = by_name(tx, name)?;
    tx.execute(
        "UPDATE users SET disabled_at = coalesce(disabled_at, ?2) WHERE id = ?1",
        params![user.id.to_string(), now_ms],
    )?;
    tx.execute(
        "UPDATE sessions SET ended_at = ?2 WHERE user_id = ?1 AND ended_at IS NULL",
        params![user.id.to_string(), now_ms],
    )?;
    audit(
        tx,
        now_ms,
        crate::storage::ADMIN_CLI,
        "user.disable",
        &user.id.to_string(),
        "",
    )?;
    by_name(tx, name)
}

pub(super) fn record_signin(
    tx: &Transaction<'_>,
    user: &User,
    session: Option<([u8; 32], i64)>,
    now_ms: i64,
) -> Result<(), StorageError> {
    let id = user.id.to_string();
    match session {
        Some((hash, expires_at)) => {
            tx.execute(
                "UPDATE users SET failed_signins = 0, locked_until = NULL WHERE id = ?1",
                [&id],
            )?;
            tx.execute(
                "INSERT INTO sessions (token_hash, user_id, created_at, expires_at)
                 VALUES (?1, ?2, ?3, ?4)",
                params![hash.as_slice(), id, now_ms, expires_at],
            )?;
            audit(tx, now_ms, &id, "session.signin", &id, "ok")?;
        }
        None => {
            let failures: i64 = tx.query_row(
                "UPDATE users SET failed_signins = failed_signins + 1 WHERE id = ?1
                 RETURNING failed_signins",
                [&id],
                |r| r.get(0),
            )?;
            let locked = failures >= MAX_FAILURES;
            if locked {
                tx.execute(
                    "UPDATE users SET locked_until = ?2, failed_signins = 0 WHERE id = ?1",
                    params![id, now_ms + LOCK_MINUTES * 60_000],
                )?;
            }
            audit(
                tx,
                now_ms,
                &id,
                "session.signin",
                &id,
                if locked {
                    "wrong password; locked"
                } else {
                    "wrong password"
                },
            )?;
        }
    }
    Ok(())
}

pub(super) fn end_session(
    tx: &Transaction<'_>,
    token_hash: &[u8; 32],
    now_ms: i64,
) -> Result<bool, StorageError> {
    let user: Option<String> = tx
        .query_row(
            "UPDATE sessions SET ended_at = ?2 WHERE token_hash = ?1 AND ended_at IS NULL
             RETURNING user_id",
            params![token_hash.as_slice(), now_ms],
            |r| r.get(0),
        )
        .optional()?;
    if let Some(id) = &user {
        audit(tx, now_ms, id, "session.signout", id, "")?;
    }
    Ok(user.is_some())
}

/// The session a token hash opens, as the caller's identity: the user's
/// role and area, expiring with the session, revoked when the session was
/// ended or the user disabled.
pub(super) fn session(
    tx: &Transaction<'_>,
    token_hash: &[u8; 32],
) -> Result<Option<Enrolment>, StorageError> {
    let found = tx
        .query_row(
            &format!(
                "SELECT u.{}, s.created_at, s.expires_at, s.ended_at
                   FROM sessions s JOIN users u ON u.id = s.user_id
                  WHERE s.token_hash = ?1",
                USER_COLUMNS.replace(", ", ", u.")
            ),
            [token_hash.as_slice()],
            |r| {
                Ok((
                    user_from_row(r)?,
                    r.get::<_, i64>(8)?,
                    r.get::<_, i64>(9)?,
                    r.get::<_, Option<i64>>(10)?,
                ))
            },
        )
        .optional()?;
    Ok(found.map(|(user, created, expires, ended)| Enrolment {
        id: user.id,
        name: user.name,
        role: user.role,
        scope: user.scope,
        actor: None,
        created_at_ms: created,
        last_sync_ms: None,
        expires_at_ms: Some(expires),
        revoked_at_ms: ended.or(user.disabled_at_ms),
        person: true,
    }))
}
