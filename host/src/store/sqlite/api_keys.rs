//! A tenant's API keys in SQLite.

use rusqlite::{Connection, OptionalExtension, Row, params};

use super::backend;
use super::cached::CachedStatements;
use crate::store::codec::{API_KEY_TOUCH_INTERVAL_MS, decode, encode};
use crate::store::{ApiKey, StoreError};

const KEY_COLUMNS: &str = "id, tenant_id, name, prefix, secret_hash, scopes_json, created_by, \
    created_at_ms, last_used_at_ms, revoked_at_ms";

/// A key with its scopes still JSON (decoded by [`with_scopes`], outside rusqlite's closure).
fn key_from_row(row: &Row<'_>) -> rusqlite::Result<(ApiKey, String)> {
    Ok((
        ApiKey {
            id: row.get(0)?,
            tenant_id: row.get(1)?,
            name: row.get(2)?,
            prefix: row.get(3)?,
            secret_hash: row.get(4)?,
            scopes: Vec::new(),
            created_by: row.get(6)?,
            created_at_ms: row.get(7)?,
            last_used_at_ms: row.get(8)?,
            revoked_at_ms: row.get(9)?,
        },
        row.get(5)?,
    ))
}

fn with_scopes((mut key, scopes): (ApiKey, String)) -> Result<ApiKey, StoreError> {
    key.scopes = decode(&scopes)?;
    Ok(key)
}

pub(super) fn create(connection: &Connection, key: &ApiKey) -> Result<(), StoreError> {
    connection
        .execute_cached(
            &format!(
                "INSERT INTO api_keys ({KEY_COLUMNS})
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"
            ),
            params![
                key.id,
                key.tenant_id,
                key.name,
                key.prefix,
                key.secret_hash,
                encode(&key.scopes)?,
                key.created_by,
                key.created_at_ms,
                key.last_used_at_ms,
                key.revoked_at_ms
            ],
        )
        .map_err(|error| match error.sqlite_error_code() {
            Some(rusqlite::ErrorCode::ConstraintViolation) => StoreError::Conflict(format!(
                "API key id '{}' is taken, or there is no tenant '{}'",
                key.id, key.tenant_id
            )),
            _ => backend(error),
        })?;
    Ok(())
}

pub(super) fn by_id(connection: &Connection, id: &str) -> Result<Option<ApiKey>, StoreError> {
    connection
        .query_row_cached(
            &format!("SELECT {KEY_COLUMNS} FROM api_keys WHERE id = ?1"),
            [id],
            key_from_row,
        )
        .optional()
        .map_err(backend)?
        .map(with_scopes)
        .transpose()
}

pub(super) fn of_tenant(
    connection: &Connection,
    tenant_id: &str,
) -> Result<Vec<ApiKey>, StoreError> {
    let mut statement = connection
        .prepare_cached(&format!(
            "SELECT {KEY_COLUMNS} FROM api_keys WHERE tenant_id = ?1
             ORDER BY created_at_ms DESC, id DESC"
        ))
        .map_err(backend)?;
    let rows = statement
        .query_map([tenant_id], key_from_row)
        .map_err(backend)?;
    rows.map(|row| with_scopes(row.map_err(backend)?)).collect()
}

pub(super) fn revoke(
    connection: &Connection,
    tenant_id: &str,
    id: &str,
    now_ms: i64,
) -> Result<bool, StoreError> {
    let revoked = connection
        .execute_cached(
            "UPDATE api_keys SET revoked_at_ms = ?3
             WHERE tenant_id = ?1 AND id = ?2 AND revoked_at_ms IS NULL",
            params![tenant_id, id, now_ms],
        )
        .map_err(backend)?;
    Ok(revoked > 0)
}

pub(super) fn touch(connection: &Connection, id: &str, now_ms: i64) -> Result<(), StoreError> {
    connection
        .execute_cached(
            "UPDATE api_keys SET last_used_at_ms = ?2
             WHERE id = ?1 AND (last_used_at_ms IS NULL OR last_used_at_ms <= ?2 - ?3)",
            params![id, now_ms, API_KEY_TOUCH_INTERVAL_MS],
        )
        .map_err(backend)?;
    Ok(())
}
