//! Users, tenant memberships and refresh-token sessions in PostgreSQL.

use deadpool_postgres::GenericClient;
use deadpool_postgres::tokio_postgres::Row;

use super::error::{database, is_unique_violation};
use super::statements::{column, execute, query, query_one, query_opt};
use crate::auth::Role;
use crate::conversation::model::Tenant;
use crate::store::codec::normalize_email;
use crate::store::{Membership, RefreshSession, StoreError, User};

pub(super) async fn tenants<C: GenericClient>(client: &C) -> Result<Vec<Tenant>, StoreError> {
    let rows = query(
        client,
        "SELECT id, name, created_at_ms FROM tenants ORDER BY id COLLATE \"C\"",
        &[],
    )
    .await?;
    rows.iter()
        .map(|row| {
            Ok(Tenant {
                id: column(row, "id")?,
                name: column(row, "name")?,
                created_at_ms: column(row, "created_at_ms")?,
            })
        })
        .collect()
}

const USER_COLUMNS: &str =
    "id, email, display_name, password_hash, password_changed_at_ms, disabled, created_at_ms";

/// A user from a row with [`USER_COLUMNS`], each name after `prefix`.
fn user_from_row(row: &Row, prefix: &str) -> Result<User, StoreError> {
    let named = |name: &str| format!("{prefix}{name}");
    Ok(User {
        id: column(row, &named("id"))?,
        email: column(row, &named("email"))?,
        display_name: column(row, &named("display_name"))?,
        password_hash: column(row, &named("password_hash"))?,
        password_changed_at_ms: column(row, &named("password_changed_at_ms"))?,
        disabled: column(row, &named("disabled"))?,
        created_at_ms: column(row, &named("created_at_ms"))?,
    })
}

pub(super) async fn create_user<C: GenericClient>(
    client: &C,
    user: &User,
) -> Result<(), StoreError> {
    let email = normalize_email(&user.email);
    let statement = client
        .prepare_cached(&format!(
            "INSERT INTO users ({USER_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)"
        ))
        .await
        .map_err(database)?;
    client
        .execute(
            &statement,
            &[
                &user.id,
                &email,
                &user.display_name,
                &user.password_hash,
                &user.password_changed_at_ms,
                &user.disabled,
                &user.created_at_ms,
            ],
        )
        .await
        .map_err(|error| {
            let constraint = error.as_db_error().and_then(|db| db.constraint());
            match is_unique_violation(&error) {
                true if constraint == Some("users_email_key") => {
                    StoreError::Conflict(format!("a user with email '{email}' exists"))
                }
                true => StoreError::Conflict(format!("user id '{}' is taken", user.id)),
                false => database(error),
            }
        })?;
    Ok(())
}

pub(super) async fn user<C: GenericClient>(
    client: &C,
    id: &str,
) -> Result<Option<User>, StoreError> {
    let row = query_opt(
        client,
        &format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1"),
        &[&id],
    )
    .await?;
    row.map(|row| user_from_row(&row, "")).transpose()
}

pub(super) async fn user_by_email<C: GenericClient>(
    client: &C,
    email: &str,
) -> Result<Option<User>, StoreError> {
    let row = query_opt(
        client,
        &format!("SELECT {USER_COLUMNS} FROM users WHERE email = $1"),
        &[&normalize_email(email)],
    )
    .await?;
    row.map(|row| user_from_row(&row, "")).transpose()
}

/// Runs in the caller's transaction: the new hash and the revocations commit together.
pub(super) async fn set_password<C: GenericClient>(
    client: &C,
    user_id: &str,
    password_hash: &str,
    now_ms: i64,
) -> Result<bool, StoreError> {
    let changed = execute(
        client,
        "UPDATE users SET password_hash = $2, password_changed_at_ms = $3 WHERE id = $1",
        &[&user_id, &password_hash, &now_ms],
    )
    .await?;
    if changed == 0 {
        return Ok(false);
    }
    execute(
        client,
        "UPDATE refresh_sessions SET revoked_at_ms = $2
         WHERE user_id = $1 AND revoked_at_ms IS NULL",
        &[&user_id, &now_ms],
    )
    .await?;
    Ok(true)
}

const MEMBERSHIP_COLUMNS: &str = "m.tenant_id, m.user_id, m.role, m.created_at_ms";

fn membership_from_row(row: &Row) -> Result<Membership, StoreError> {
    let role: &str = column(row, "role")?;
    Ok(Membership {
        tenant_id: column(row, "tenant_id")?,
        user_id: column(row, "user_id")?,
        role: Role::parse(role)
            .ok_or_else(|| StoreError::Corrupt(format!("membership role '{role}'")))?,
        created_at_ms: column(row, "created_at_ms")?,
    })
}

pub(super) async fn put_membership<C: GenericClient>(
    client: &C,
    membership: &Membership,
) -> Result<(), StoreError> {
    let statement = client
        .prepare_cached(
            "INSERT INTO memberships (tenant_id, user_id, role, created_at_ms)
             VALUES ($1, $2, $3, $4)
             ON CONFLICT (tenant_id, user_id) DO UPDATE SET role = excluded.role",
        )
        .await
        .map_err(database)?;
    client
        .execute(
            &statement,
            &[
                &membership.tenant_id,
                &membership.user_id,
                &membership.role.as_str(),
                &membership.created_at_ms,
            ],
        )
        .await
        .map_err(
            |error| match error.as_db_error().map(|db| db.code().code()) {
                // 23503: foreign_key_violation.
                Some("23503") => StoreError::Conflict(format!(
                    "no tenant '{}' or no user '{}'",
                    membership.tenant_id, membership.user_id
                )),
                _ => database(error),
            },
        )?;
    Ok(())
}

pub(super) async fn delete_membership<C: GenericClient>(
    client: &C,
    tenant_id: &str,
    user_id: &str,
) -> Result<bool, StoreError> {
    let deleted = execute(
        client,
        "DELETE FROM memberships WHERE tenant_id = $1 AND user_id = $2",
        &[&tenant_id, &user_id],
    )
    .await?;
    Ok(deleted > 0)
}

pub(super) async fn membership<C: GenericClient>(
    client: &C,
    tenant_id: &str,
    user_id: &str,
) -> Result<Option<Membership>, StoreError> {
    let row = query_opt(
        client,
        &format!(
            "SELECT {MEMBERSHIP_COLUMNS} FROM memberships m
             WHERE m.tenant_id = $1 AND m.user_id = $2"
        ),
        &[&tenant_id, &user_id],
    )
    .await?;
    row.as_ref().map(membership_from_row).transpose()
}

pub(super) async fn memberships_of_user<C: GenericClient>(
    client: &C,
    user_id: &str,
) -> Result<Vec<Membership>, StoreError> {
    let rows = query(
        client,
        &format!(
            "SELECT {MEMBERSHIP_COLUMNS} FROM memberships m
             WHERE m.user_id = $1 ORDER BY m.tenant_id COLLATE \"C\""
        ),
        &[&user_id],
    )
    .await?;
    rows.iter().map(membership_from_row).collect()
}

pub(super) async fn members<C: GenericClient>(
    client: &C,
    tenant_id: &str,
) -> Result<Vec<(Membership, User)>, StoreError> {
    let rows = query(
        client,
        &format!(
            "SELECT {MEMBERSHIP_COLUMNS}, u.id AS u_id, u.email AS u_email,
                    u.display_name AS u_display_name, u.password_hash AS u_password_hash,
                    u.password_changed_at_ms AS u_password_changed_at_ms,
                    u.disabled AS u_disabled, u.created_at_ms AS u_created_at_ms
             FROM memberships m JOIN users u ON u.id = m.user_id
             WHERE m.tenant_id = $1 ORDER BY u.email COLLATE \"C\""
        ),
        &[&tenant_id],
    )
    .await?;
    rows.iter()
        .map(|row| Ok((membership_from_row(row)?, user_from_row(row, "u_")?)))
        .collect()
}

const SESSION_COLUMNS: &str = "id, family_id, user_id, token_hash, created_at_ms, \
    expires_at_ms, rotated_at_ms, revoked_at_ms";

pub(super) async fn insert_refresh_session<C: GenericClient>(
    client: &C,
    session: &RefreshSession,
) -> Result<(), StoreError> {
    let statement = client
        .prepare_cached(&format!(
            "INSERT INTO refresh_sessions ({SESSION_COLUMNS})
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
        ))
        .await
        .map_err(database)?;
    client
        .execute(
            &statement,
            &[
                &session.id,
                &session.family_id,
                &session.user_id,
                &session.token_hash,
                &session.created_at_ms,
                &session.expires_at_ms,
                &session.rotated_at_ms,
                &session.revoked_at_ms,
            ],
        )
        .await
        .map_err(|error| match is_unique_violation(&error) {
            true => StoreError::Conflict(format!(
                "refresh session '{}' or its token exists",
                session.id
            )),
            false => database(error),
        })?;
    Ok(())
}

pub(super) async fn refresh_session_by_hash<C: GenericClient>(
    client: &C,
    token_hash: &str,
) -> Result<Option<RefreshSession>, StoreError> {
    let row = query_opt(
        client,
        &format!("SELECT {SESSION_COLUMNS} FROM refresh_sessions WHERE token_hash = $1"),
        &[&token_hash],
    )
    .await?;
    row.map(|row| {
        Ok(RefreshSession {
            id: column(&row, "id")?,
            family_id: column(&row, "family_id")?,
            user_id: column(&row, "user_id")?,
            token_hash: column(&row, "token_hash")?,
            created_at_ms: column(&row, "created_at_ms")?,
            expires_at_ms: column(&row, "expires_at_ms")?,
            rotated_at_ms: column(&row, "rotated_at_ms")?,
            revoked_at_ms: column(&row, "revoked_at_ms")?,
        })
    })
    .transpose()
}

/// Runs in the caller's transaction. The UPDATE locks the old session's row: a concurrent
/// rotation of the same token waits for this transaction, then finds it rotated.
pub(super) async fn rotate_refresh_session<C: GenericClient>(
    client: &C,
    old_id: &str,
    next: &RefreshSession,
    now_ms: i64,
) -> Result<bool, StoreError> {
    let rotated = execute(
        client,
        "UPDATE refresh_sessions SET rotated_at_ms = $2
         WHERE id = $1 AND rotated_at_ms IS NULL AND revoked_at_ms IS NULL",
        &[&old_id, &now_ms],
    )
    .await?;
    if rotated == 0 {
        return Ok(false);
    }
    insert_refresh_session(client, next).await?;
    Ok(true)
}

pub(super) async fn revoke_refresh_family<C: GenericClient>(
    client: &C,
    family_id: &str,
    now_ms: i64,
) -> Result<u64, StoreError> {
    execute(
        client,
        "UPDATE refresh_sessions SET revoked_at_ms = $2
         WHERE family_id = $1 AND revoked_at_ms IS NULL",
        &[&family_id, &now_ms],
    )
    .await
}

pub(super) async fn refresh_family_live<C: GenericClient>(
    client: &C,
    family_id: &str,
) -> Result<bool, StoreError> {
    query_one(
        client,
        "SELECT EXISTS(SELECT 1 FROM refresh_sessions
                       WHERE family_id = $1 AND revoked_at_ms IS NULL) AS live",
        &[&family_id],
    )
    .await
    .and_then(|row| column(&row, "live"))
}
