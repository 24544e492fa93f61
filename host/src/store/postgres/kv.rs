//! The plugin key-value store in PostgreSQL. Every write to a (tenant, plugin) store holds
//! that store's advisory lock, so quotas count exactly and compare-and-swap is atomic
//! across host instances. Values are sealed at rest (see `store::sealing`).

use deadpool_postgres::{Client, GenericClient};

use super::error::database;
use super::statements::{LockSpace, column, execute, limit, lock, query, query_opt};
use crate::store::sealing::SecretValues;
use crate::store::{KvQuota, KvScope, StoreError};

const SELECT_VALUE: &str =
    "SELECT value FROM plugin_kv WHERE tenant_id = $1 AND plugin = $2 AND key = $3";
const DELETE_VALUE: &str =
    "DELETE FROM plugin_kv WHERE tenant_id = $1 AND plugin = $2 AND key = $3";

pub(super) async fn get(
    client: &Client,
    scope: &KvScope,
    key: &str,
    secrets: &SecretValues,
) -> Result<Option<Vec<u8>>, StoreError> {
    read_opened(client, scope, key, secrets).await
}

/// The value of `key`, opened.
async fn read_opened<C: GenericClient>(
    client: &C,
    scope: &KvScope,
    key: &str,
    secrets: &SecretValues,
) -> Result<Option<Vec<u8>>, StoreError> {
    query_opt(
        client,
        SELECT_VALUE,
        &[&scope.tenant_id, &scope.plugin, &key],
    )
    .await?
    .map(|row| column(&row, "value"))
    .transpose()?
    .map(|stored| secrets.open_kv_value(scope, key, stored))
    .transpose()
}

/// Takes the scope's write lock for the rest of the transaction.
async fn lock_scope<C: GenericClient>(client: &C, scope: &KvScope) -> Result<(), StoreError> {
    // U+001F between the parts: ("ab", "c") and ("a", "bc") are different stores.
    let key = format!("{}\u{1f}{}", scope.tenant_id, scope.plugin);
    lock(client, LockSpace::KeyValue, &key).await
}

/// Writes `value` sealed under the scope's lock, refusing what would break the quota.
async fn write_within_quota<C: GenericClient>(
    client: &C,
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
    let exists = query_opt(
        client,
        SELECT_VALUE,
        &[&scope.tenant_id, &scope.plugin, &key],
    )
    .await?
    .is_some();
    if !exists {
        let rows = query(
            client,
            "SELECT count(*) AS keys FROM plugin_kv WHERE tenant_id = $1 AND plugin = $2",
            &[&scope.tenant_id, &scope.plugin],
        )
        .await?;
        let keys: i64 = match rows.first() {
            Some(row) => column(row, "keys")?,
            None => 0,
        };
        quota.check_key_count(u64::try_from(keys).unwrap_or_default())?;
    }
    execute(
        client,
        "INSERT INTO plugin_kv (tenant_id, plugin, key, value) VALUES ($1, $2, $3, $4)
         ON CONFLICT (tenant_id, plugin, key) DO UPDATE SET value = excluded.value",
        &[&scope.tenant_id, &scope.plugin, &key, &&*stored],
    )
    .await?;
    Ok(())
}

pub(super) async fn set(
    client: &mut Client,
    scope: &KvScope,
    key: &str,
    value: &[u8],
    quota: &KvQuota,
    secrets: &SecretValues,
) -> Result<(), StoreError> {
    quota.check_key(key)?;
    let transaction = client.transaction().await.map_err(database)?;
    lock_scope(&transaction, scope).await?;
    write_within_quota(&transaction, scope, key, value, quota, secrets).await?;
    transaction.commit().await.map_err(database)
}

pub(super) async fn delete(
    client: &mut Client,
    scope: &KvScope,
    key: &str,
) -> Result<(), StoreError> {
    let transaction = client.transaction().await.map_err(database)?;
    lock_scope(&transaction, scope).await?;
    execute(
        &transaction,
        DELETE_VALUE,
        &[&scope.tenant_id, &scope.plugin, &key],
    )
    .await?;
    transaction.commit().await.map_err(database)
}

pub(super) async fn list_prefix(
    client: &Client,
    scope: &KvScope,
    prefix: &str,
    max: u32,
) -> Result<Vec<String>, StoreError> {
    // starts_with() instead of LIKE: a prefix may contain '%' or '_'. The key column is
    // COLLATE "C", so ORDER BY is byte order.
    let rows = query(
        client,
        "SELECT key FROM plugin_kv
         WHERE tenant_id = $1 AND plugin = $2 AND starts_with(key, $3)
         ORDER BY key LIMIT $4",
        &[&scope.tenant_id, &scope.plugin, &prefix, &limit(max)],
    )
    .await?;
    rows.iter().map(|row| column(row, "key")).collect()
}

pub(super) async fn compare_and_swap(
    client: &mut Client,
    scope: &KvScope,
    key: &str,
    expected: Option<&[u8]>,
    new: Option<&[u8]>,
    quota: &KvQuota,
    secrets: &SecretValues,
) -> Result<bool, StoreError> {
    quota.check_key(key)?;
    // Under the scope's lock nobody else writes between the read and the write, so two
    // instances cannot both see the old value and both swap (a Zalo refresh token must
    // be spent once). The value is compared opened, still under the lock: a sealed value
    // has a random nonce, so its stored bytes never equal another sealing of the same
    // plaintext.
    let transaction = client.transaction().await.map_err(database)?;
    lock_scope(&transaction, scope).await?;
    let current = read_opened(&transaction, scope, key, secrets).await?;
    if current.as_deref() != expected {
        return Ok(false);
    }
    match new {
        Some(value) => {
            write_within_quota(&transaction, scope, key, value, quota, secrets).await?;
        }
        None => {
            execute(
                &transaction,
                DELETE_VALUE,
                &[&scope.tenant_id, &scope.plugin, &key],
            )
            .await?;
        }
    }
    transaction.commit().await.map_err(database)?;
    Ok(true)
}
