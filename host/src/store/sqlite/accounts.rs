//! Users, tenant memberships and refresh-token sessions in SQLite.

use rusqlite::{Connection, OptionalExtension, Row, params};

use super::backend;
use super::cached::CachedStatements;
use crate::auth::Role;
use crate::conversation::model::Tenant;
use crate::store::codec::normalize_email;
use crate::store::{Membership, RefreshSession, StoreError, User};

/// A UNIQUE or PRIMARY KEY constraint failed.
fn is_unique_violation(error: &rusqlite::Error) -> bool {
    matches!(
        error,
        rusqlite::Error::SqliteFailure(failure, _)
            if failure.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
                || failure.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY
    )
}

pub(super) fn tenants(connection: &Connection) -> Result<Vec<Tenant>, StoreError> {
    let mut statement = connection
        .prepare_cached("SELECT id, name, created_at_ms FROM tenants ORDER BY id")
        .map_err(backend)?;
    let rows = statement
        .query_map([], |row| {
            Ok(Tenant {
                id: row.get(0)?,
                name: row.get(1)?,
                created_at_ms: row.get(2)?,
            })
        })
        .map_err(backend)?;
    rows.map(|row| row.map_err(backend)).collect()
}

const USER_COLUMNS: &str =
    "id, email, display_name, password_hash, password_changed_at_ms, disabled, created_at_ms";

/// A user from [`USER_COLUMNS`] starting at column `offset`.
fn user_from_row(row: &Row<'_>, offset: usize) -> rusqlite::Result<User> {
    Ok(User {
        id: row.get(offset)?,
        email: row.get(offset + 1)?,
        display_name: row.get(offset + 2)?,
        password_hash: row.get(offset + 3)?,
        password_changed_at_ms: row.get(offset + 4)?,
        disabled: row.get(offset + 5)?,
        created_at_ms: row.get(offset + 6)?,
    })
}

pub(super) fn create_user(connection: &Connection, user: &User) -> Result<(), StoreError> {
    let email = normalize_email(&user.email);
    connection
        .execute_cached(
            &format!("INSERT INTO users ({USER_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"),
            params![
                user.id,
                email,
                user.display_name,
                user.password_hash,
                user.password_changed_at_ms,
                user.disabled,
                user.created_at_ms
            ],
        )
        .map_err(|error| match is_unique_violation(&error) {
            true if error.to_string().contains("users.email") => {
                StoreError::Conflict(format!("a user with email '{email}' exists"))
            }
            true => StoreError::Conflict(format!("user id '{}' is taken", user.id)),
            false => backend(error),
        })?;
    Ok(())
}

pub(super) fn user(connection: &Connection, id: &str) -> Result<Option<User>, StoreError> {
    connection
        .query_row_cached(
            &format!("SELECT {USER_COLUMNS} FROM users WHERE id = ?1"),
            [id],
            |row| user_from_row(row, 0),
        )
        .optional()
        .map_err(backend)
}

pub(super) fn user_by_email(
    connection: &Connection,
    email: &str,
) -> Result<Option<User>, StoreError> {
    connection
        .query_row_cached(
            &format!("SELECT {USER_COLUMNS} FROM users WHERE email = ?1"),
            [normalize_email(email)],
            |row| user_from_row(row, 0),
        )
        .optional()
        .map_err(backend)
}

pub(super) fn set_password(
    connection: &mut Connection,
    user_id: &str,
    password_hash: &str,
    now_ms: i64,
) -> Result<bool, StoreError> {
    let transaction = connection.savepoint().map_err(backend)?;
    let changed = transaction
        .execute_cached(
            "UPDATE users SET password_hash = ?2, password_changed_at_ms = ?3 WHERE id = ?1",
            params![user_id, password_hash, now_ms],
        )
        .map_err(backend)?;
    if changed == 0 {
        return Ok(false);
    }
    transaction
        .execute_cached(
            "UPDATE refresh_sessions SET revoked_at_ms = ?2
             WHERE user_id = ?1 AND revoked_at_ms IS NULL",
            params![user_id, now_ms],
        )
        .map_err(backend)?;
    transaction.commit().map_err(backend)?;
    Ok(true)
}

/// A membership from `tenant_id, user_id, role, created_at_ms` starting at `offset`; the
/// role is checked by the caller (see [`with_role`]).
fn membership_from_row(row: &Row<'_>, offset: usize) -> rusqlite::Result<(Membership, String)> {
    Ok((
        Membership {
            tenant_id: row.get(offset)?,
            user_id: row.get(offset + 1)?,
            role: Role::Viewer,
            created_at_ms: row.get(offset + 3)?,
        },
        row.get(offset + 2)?,
    ))
}

fn with_role((mut membership, role): (Membership, String)) -> Result<Membership, StoreError> {
    membership.role = Role::parse(&role)
        .ok_or_else(|| StoreError::Corrupt(format!("membership role '{role}'")))?;
    Ok(membership)
}

pub(super) fn put_membership(
    connection: &Connection,
    membership: &Membership,
) -> Result<(), StoreError> {
    connection
        .execute_cached(
            "INSERT INTO memberships (tenant_id, user_id, role, created_at_ms)
             VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (tenant_id, user_id) DO UPDATE SET role = excluded.role",
            params![
                membership.tenant_id,
                membership.user_id,
                membership.role.as_str(),
                membership.created_at_ms
            ],
        )
        .map_err(|error| match error.sqlite_error_code() {
            Some(rusqlite::ErrorCode::ConstraintViolation) => StoreError::Conflict(format!(
                "no tenant '{}' or no user '{}'",
                membership.tenant_id, membership.user_id
            )),
            _ => backend(error),
        })?;
    Ok(())
}

pub(super) fn delete_membership(
    connection: &Connection,
    tenant_id: &str,
    user_id: &str,
) -> Result<bool, StoreError> {
    let deleted = connection
        .execute_cached(
            "DELETE FROM memberships WHERE tenant_id = ?1 AND user_id = ?2",
            [tenant_id, user_id],
        )
        .map_err(backend)?;
    Ok(deleted > 0)
}

pub(super) fn membership(
    connection: &Connection,
    tenant_id: &str,
    user_id: &str,
) -> Result<Option<Membership>, StoreError> {
    connection
        .query_row_cached(
            "SELECT tenant_id, user_id, role, created_at_ms FROM memberships
             WHERE tenant_id = ?1 AND user_id = ?2",
            [tenant_id, user_id],
            |row| membership_from_row(row, 0),
        )
        .optional()
        .map_err(backend)?
        .map(with_role)
        .transpose()
}

pub(super) fn memberships_of_user(
    connection: &Connection,
    user_id: &str,
) -> Result<Vec<Membership>, StoreError> {
    let mut statement = connection
        .prepare_cached(
            "SELECT tenant_id, user_id, role, created_at_ms FROM memberships
             WHERE user_id = ?1 ORDER BY tenant_id",
        )
        .map_err(backend)?;
    let rows = statement
        .query_map([user_id], |row| membership_from_row(row, 0))
        .map_err(backend)?;
    rows.map(|row| with_role(row.map_err(backend)?)).collect()
}

pub(super) fn members(
    connection: &Connection,
    tenant_id: &str,
) -> Result<Vec<(Membership, User)>, StoreError> {
    let mut statement = connection
        .prepare_cached(
            "SELECT m.tenant_id, m.user_id, m.role, m.created_at_ms, u.id, u.email,
                    u.display_name, u.password_hash, u.password_changed_at_ms, u.disabled,
                    u.created_at_ms
             FROM memberships m JOIN users u ON u.id = m.user_id
             WHERE m.tenant_id = ?1 ORDER BY u.email",
        )
        .map_err(backend)?;
    let rows = statement
        .query_map([tenant_id], |row| {
            Ok((membership_from_row(row, 0)?, user_from_row(row, 4)?))
        })
        .map_err(backend)?;
    rows.map(|row| {
        let (membership, user) = row.map_err(backend)?;
        Ok((with_role(membership)?, user))
    })
    .collect()
}

const SESSION_COLUMNS: &str = "id, family_id, user_id, token_hash, created_at_ms, \
    expires_at_ms, rotated_at_ms, revoked_at_ms";

pub(super) fn insert_refresh_session(
    connection: &Connection,
    session: &RefreshSession,
) -> Result<(), StoreError> {
    connection
        .execute_cached(
            &format!(
                "INSERT INTO refresh_sessions ({SESSION_COLUMNS})
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
            ),
            params![
                session.id,
                session.family_id,
                session.user_id,
                session.token_hash,
                session.created_at_ms,
                session.expires_at_ms,
                session.rotated_at_ms,
                session.revoked_at_ms
            ],
        )
        .map_err(|error| match is_unique_violation(&error) {
            true => StoreError::Conflict(format!(
                "refresh session '{}' or its token exists",
                session.id
            )),
            false => backend(error),
        })?;
    Ok(())
}

pub(super) fn refresh_session_by_hash(
    connection: &Connection,
    token_hash: &str,
) -> Result<Option<RefreshSession>, StoreError> {
    connection
        .query_row_cached(
            &format!("SELECT {SESSION_COLUMNS} FROM refresh_sessions WHERE token_hash = ?1"),
            [token_hash],
            |row| {
                Ok(RefreshSession {
                    id: row.get(0)?,
                    family_id: row.get(1)?,
                    user_id: row.get(2)?,
                    token_hash: row.get(3)?,
                    created_at_ms: row.get(4)?,
                    expires_at_ms: row.get(5)?,
                    rotated_at_ms: row.get(6)?,
                    revoked_at_ms: row.get(7)?,
                })
            },
        )
        .optional()
        .map_err(backend)
}

pub(super) fn rotate_refresh_session(
    connection: &mut Connection,
    old_id: &str,
    next: &RefreshSession,
    now_ms: i64,
) -> Result<bool, StoreError> {
    let transaction = connection.savepoint().map_err(backend)?;
    let rotated = transaction
        .execute_cached(
            "UPDATE refresh_sessions SET rotated_at_ms = ?2
             WHERE id = ?1 AND rotated_at_ms IS NULL AND revoked_at_ms IS NULL",
            params![old_id, now_ms],
        )
        .map_err(backend)?;
    if rotated == 0 {
        return Ok(false);
    }
    insert_refresh_session(&transaction, next)?;
    transaction.commit().map_err(backend)?;
    Ok(true)
}

pub(super) fn revoke_refresh_family(
    connection: &Connection,
    family_id: &str,
    now_ms: i64,
) -> Result<u64, StoreError> {
    let revoked = connection
        .execute_cached(
            "UPDATE refresh_sessions SET revoked_at_ms = ?2
             WHERE family_id = ?1 AND revoked_at_ms IS NULL",
            params![family_id, now_ms],
        )
        .map_err(backend)?;
    Ok(revoked as u64)
}

pub(super) fn refresh_family_live(
    connection: &Connection,
    family_id: &str,
) -> Result<bool, StoreError> {
    connection
        .query_row_cached(
            "SELECT EXISTS(SELECT 1 FROM refresh_sessions
                           WHERE family_id = ?1 AND revoked_at_ms IS NULL)",
            [family_id],
            |row| row.get(0),
        )
        .map_err(backend)
}
