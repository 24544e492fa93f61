//! A tenant's API keys in PostgreSQL.

use deadpool_postgres::GenericClient;
use deadpool_postgres::tokio_postgres::Row;
use deadpool_postgres::tokio_postgres::types::Json;

use super::error::database;
use super::statements::{column, execute, query, query_opt};
use crate::store::codec::API_KEY_TOUCH_INTERVAL_MS;
use crate::store::{ApiKey, StoreError};

const KEY_COLUMNS: &str = "id, tenant_id, name, prefix, secret_hash, scopes, created_by, \
    created_at_ms, last_used_at_ms, revoked_at_ms";

fn key_from_row(row: &Row) -> Result<ApiKey, StoreError> {
    let Json(scopes) = column(row, "scopes")?;
    Ok(ApiKey {
        id: column(row, "id")?,
        tenant_id: column(row, "tenant_id")?,
        name: column(row, "name")?,
        prefix: column(row, "prefix")?,
        secret_hash: column(row, "secret_hash")?,
        scopes,
        created_by: column(row, "created_by")?,
        created_at_ms: column(row, "created_at_ms")?,
        last_used_at_ms: column(row, "last_used_at_ms")?,
        revoked_at_ms: column(row, "revoked_at_ms")?,
    })
}

pub(super) async fn create<C: GenericClient>(client: &C, key: &ApiKey) -> Result<(), StoreError> {
    let statement = client
        .prepare_cached(&format!(
            "INSERT INTO api_keys ({KEY_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
        ))
        .await
        .map_err(database)?;
    client
        .execute(
            &statement,
            &[
                &key.id,
                &key.tenant_id,
                &key.name,
                &key.prefix,
                &key.secret_hash,
                &Json(&key.scopes),
                &key.created_by,
                &key.created_at_ms,
                &key.last_used_at_ms,
                &key.revoked_at_ms,
            ],
        )
        .await
        .map_err(
            |error| match error.as_db_error().map(|db| db.code().code()) {
                // 23505 unique_violation, 23503 foreign_key_violation.
                Some("23505" | "23503") => StoreError::Conflict(format!(
                    "API key id '{}' is taken, or there is no tenant '{}'",
                    key.id, key.tenant_id
                )),
                _ => database(error),
            },
        )?;
    Ok(())
}

pub(super) async fn by_id<C: GenericClient>(
    client: &C,
    id: &str,
) -> Result<Option<ApiKey>, StoreError> {
    let row = query_opt(
        client,
        &format!("SELECT {KEY_COLUMNS} FROM api_keys WHERE id = $1"),
        &[&id],
    )
    .await?;
    row.as_ref().map(key_from_row).transpose()
}

pub(super) async fn of_tenant<C: GenericClient>(
    client: &C,
    tenant_id: &str,
) -> Result<Vec<ApiKey>, StoreError> {
    let rows = query(
        client,
        &format!(
            "SELECT {KEY_COLUMNS} FROM api_keys WHERE tenant_id = $1
             ORDER BY created_at_ms DESC, id COLLATE \"C\" DESC"
        ),
        &[&tenant_id],
    )
    .await?;
    rows.iter().map(key_from_row).collect()
}

pub(super) async fn revoke<C: GenericClient>(
    client: &C,
    tenant_id: &str,
    id: &str,
    now_ms: i64,
) -> Result<bool, StoreError> {
    let revoked = execute(
        client,
        "UPDATE api_keys SET revoked_at_ms = $3
         WHERE tenant_id = $1 AND id = $2 AND revoked_at_ms IS NULL",
        &[&tenant_id, &id, &now_ms],
    )
    .await?;
    Ok(revoked > 0)
}

pub(super) async fn touch<C: GenericClient>(
    client: &C,
    id: &str,
    now_ms: i64,
) -> Result<(), StoreError> {
    execute(
        client,
        "UPDATE api_keys SET last_used_at_ms = $2
         WHERE id = $1 AND (last_used_at_ms IS NULL OR last_used_at_ms <= $2::bigint - $3::bigint)",
        &[&id, &now_ms, &API_KEY_TOUCH_INTERVAL_MS],
    )
    .await?;
    Ok(())
}
