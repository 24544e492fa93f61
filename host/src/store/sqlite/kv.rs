//! The plugin key-value store in SQLite, with quotas checked in the same transaction and
//! values sealed at rest (see `store::sealing`).

use rusqlite::{Connection, OptionalExtension, params};

use super::backend;
use super::cached::CachedStatements;
use crate::store::sealing::SecretValues;
use crate::store::{KvQuota, KvScope, StoreError};

pub(super) fn get(
    connection: &mut Connection,
    scope: &KvScope,
    key: &str,
    secrets: &SecretValues,
) -> Result<Option<Vec<u8>>, StoreError> {
    connection
        .prepare_cached(
            "SELECT value FROM plugin_kv WHERE tenant_id = ?1 AND plugin = ?2 AND key = ?3",
        )
        .and_then(|mut statement| {
            statement
                .query_row(params![scope.tenant_id, scope.plugin, key], |row| {
                    row.get(0)
                })
                .optional()
        })
        .map_err(backend)?
        .map(|stored| secrets.open_kv_value(scope, key, stored))
        .transpose()
}

/// Writes `value` sealed inside an open transaction, refusing what would break the quota.
fn write_within_quota(
    transaction: &Connection,
    scope: &KvScope,
    key: &str,
    value: &[u8],
    quota: &KvQuota,
    secrets: &SecretValues,
) -> Result<(), StoreError> {
    quota.check_key(key)?;
    // The quota counts the plaintext, so it means the same with or without a master key
    // (sealing adds a fixed 36 bytes: prefix, nonce and tag). No quota sums stored bytes.
    quota.check_value(key, value)?;
    let stored = secrets.seal_kv_value(scope, key, value)?;
    let exists: bool = transaction
        .query_row_cached(
            "SELECT EXISTS(SELECT 1 FROM plugin_kv WHERE tenant_id = ?1 AND plugin = ?2 AND key = ?3)",
            params![scope.tenant_id, scope.plugin, key],
            |row| row.get(0),
        )
        .map_err(backend)?;
    if !exists {
        let keys: i64 = transaction
            .query_row_cached(
                "SELECT COUNT(*) FROM plugin_kv WHERE tenant_id = ?1 AND plugin = ?2",
                params![scope.tenant_id, scope.plugin],
                |row| row.get(0),
            )
            .map_err(backend)?;
        quota.check_key_count(keys.max(0) as u64)?;
    }
    transaction
        .execute_cached(
            "INSERT INTO plugin_kv (tenant_id, plugin, key, value) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (tenant_id, plugin, key) DO UPDATE SET value = excluded.value",
            params![scope.tenant_id, scope.plugin, key, &*stored],
        )
        .map_err(backend)?;
    Ok(())
}

pub(super) fn set(
    connection: &mut Connection,
    scope: &KvScope,
    key: &str,
    value: &[u8],
    quota: &KvQuota,
    secrets: &SecretValues,
) -> Result<(), StoreError> {
    let transaction = connection.savepoint().map_err(backend)?;
    write_within_quota(&transaction, scope, key, value, quota, secrets)?;
    transaction.commit().map_err(backend)
}

pub(super) fn delete(
    connection: &mut Connection,
    scope: &KvScope,
    key: &str,
) -> Result<(), StoreError> {
    connection
        .execute_cached(
            "DELETE FROM plugin_kv WHERE tenant_id = ?1 AND plugin = ?2 AND key = ?3",
            params![scope.tenant_id, scope.plugin, key],
        )
        .map_err(backend)?;
    Ok(())
}

pub(super) fn list_prefix(
    connection: &mut Connection,
    scope: &KvScope,
    prefix: &str,
    limit: u32,
) -> Result<Vec<String>, StoreError> {
    // substr() instead of LIKE: a prefix may contain '%' or '_'.
    let mut statement = connection
        .prepare_cached(
            "SELECT key FROM plugin_kv
             WHERE tenant_id = ?1 AND plugin = ?2 AND substr(key, 1, length(?3)) = ?3
             ORDER BY key LIMIT ?4",
        )
        .map_err(backend)?;
    let keys = statement
        .query_map(
            params![scope.tenant_id, scope.plugin, prefix, limit],
            |row| row.get(0),
        )
        .map_err(backend)?
        .collect::<Result<Vec<String>, _>>()
        .map_err(backend)?;
    Ok(keys)
}

pub(super) fn compare_and_swap(
    connection: &mut Connection,
    scope: &KvScope,
    key: &str,
    expected: Option<&[u8]>,
    new: Option<&[u8]>,
    quota: &KvQuota,
    secrets: &SecretValues,
) -> Result<bool, StoreError> {
    quota.check_key(key)?;
    // The writer's batch took the write lock before this read (BEGIN IMMEDIATE), so two
    // processes cannot both see the old value and both swap (a Zalo refresh token must be
    // spent once). Run on its own, a stale read cannot turn into a write in WAL mode.
    let transaction = connection.savepoint().map_err(backend)?;
    let current: Option<Vec<u8>> = transaction
        .query_row_cached(
            "SELECT value FROM plugin_kv WHERE tenant_id = ?1 AND plugin = ?2 AND key = ?3",
            params![scope.tenant_id, scope.plugin, key],
            |row| row.get(0),
        )
        .optional()
        .map_err(backend)?;
    // Compared opened, still under the write lock: a sealed value has a random nonce, so
    // its stored bytes never equal another sealing of the same plaintext.
    let current = current
        .map(|stored| secrets.open_kv_value(scope, key, stored))
        .transpose()?;
    if current.as_deref() != expected {
        return Ok(false);
    }
    match new {
        Some(value) => write_within_quota(&transaction, scope, key, value, quota, secrets)?,
        None => {
            transaction
                .execute_cached(
                    "DELETE FROM plugin_kv WHERE tenant_id = ?1 AND plugin = ?2 AND key = ?3",
                    params![scope.tenant_id, scope.plugin, key],
                )
                .map_err(backend)?;
        }
    }
    transaction.commit().map_err(backend)?;
    Ok(true)
}
