//! Tenants, bots, channels and the FAQ in PostgreSQL.

use deadpool_postgres::tokio_postgres::Row;
use deadpool_postgres::tokio_postgres::types::Json;
use deadpool_postgres::{Client, GenericClient};

use super::error::{database, is_unique_violation};
use super::statements::{column, execute, query, query_opt};
use crate::conversation::model::{Bot, Channel, FaqEntry, Tenant};
use crate::store::StoreError;

/// An upsert guarded by `WHERE tenant_id = excluded.tenant_id` touched nothing: the id
/// belongs to another tenant.
fn owned_by_another_tenant(id: &str) -> StoreError {
    StoreError::Conflict(format!("id '{id}' is taken by another tenant"))
}

pub(super) async fn put_tenant(client: &Client, tenant: &Tenant) -> Result<(), StoreError> {
    execute(
        client,
        "INSERT INTO tenants (id, name, created_at_ms) VALUES ($1, $2, $3)
         ON CONFLICT (id) DO UPDATE SET name = excluded.name",
        &[&tenant.id, &tenant.name, &tenant.created_at_ms],
    )
    .await?;
    Ok(())
}

pub(super) async fn tenant(client: &Client, id: &str) -> Result<Option<Tenant>, StoreError> {
    let row = query_opt(
        client,
        "SELECT id, name, created_at_ms FROM tenants WHERE id = $1",
        &[&id],
    )
    .await?;
    row.map(|row| {
        Ok(Tenant {
            id: column(&row, "id")?,
            name: column(&row, "name")?,
            created_at_ms: column(&row, "created_at_ms")?,
        })
    })
    .transpose()
}

pub(super) async fn put_bot(client: &Client, bot: &Bot) -> Result<(), StoreError> {
    let touched = execute(
        client,
        "INSERT INTO bots (id, tenant_id, name, settings, widget_secret, created_at_ms)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (id) DO UPDATE SET name = excluded.name,
             settings = excluded.settings, widget_secret = excluded.widget_secret
         WHERE bots.tenant_id = excluded.tenant_id",
        &[
            &bot.id,
            &bot.tenant_id,
            &bot.name,
            &Json(&bot.settings),
            &bot.widget_secret,
            &bot.created_at_ms,
        ],
    )
    .await?;
    match touched {
        0 => Err(owned_by_another_tenant(&bot.id)),
        _ => Ok(()),
    }
}

pub(super) const BOT_COLUMNS: &str = "id, tenant_id, name, settings, widget_secret, created_at_ms";

pub(super) fn bot_from_row(row: &Row) -> Result<Bot, StoreError> {
    let Json(settings) = column(row, "settings")?;
    Ok(Bot {
        id: column(row, "id")?,
        tenant_id: column(row, "tenant_id")?,
        name: column(row, "name")?,
        settings,
        widget_secret: column(row, "widget_secret")?,
        created_at_ms: column(row, "created_at_ms")?,
    })
}

pub(super) async fn bot(client: &Client, id: &str) -> Result<Option<Bot>, StoreError> {
    let row = query_opt(
        client,
        &format!("SELECT {BOT_COLUMNS} FROM bots WHERE id = $1"),
        &[&id],
    )
    .await?;
    row.as_ref().map(bot_from_row).transpose()
}

pub(super) async fn put_channel(client: &Client, channel: &Channel) -> Result<(), StoreError> {
    let touched = execute(
        client,
        "INSERT INTO channels (id, tenant_id, bot_id, kind, secrets, enabled, created_at_ms)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (id) DO UPDATE SET bot_id = excluded.bot_id, kind = excluded.kind,
             secrets = excluded.secrets, enabled = excluded.enabled
         WHERE channels.tenant_id = excluded.tenant_id",
        &[
            &channel.id,
            &channel.tenant_id,
            &channel.bot_id,
            &Json(&channel.kind),
            &Json(&channel.secrets),
            &channel.enabled,
            &channel.created_at_ms,
        ],
    )
    .await?;
    match touched {
        0 => Err(owned_by_another_tenant(&channel.id)),
        _ => Ok(()),
    }
}

pub(super) const CHANNEL_COLUMNS: &str =
    "id, tenant_id, bot_id, kind, secrets, enabled, created_at_ms";

pub(super) fn channel_from_row(row: &Row) -> Result<Channel, StoreError> {
    let (Json(kind), Json(secrets)) = (column(row, "kind")?, column(row, "secrets")?);
    Ok(Channel {
        id: column(row, "id")?,
        tenant_id: column(row, "tenant_id")?,
        bot_id: column(row, "bot_id")?,
        kind,
        secrets,
        enabled: column(row, "enabled")?,
        created_at_ms: column(row, "created_at_ms")?,
    })
}

pub(super) async fn channel(client: &Client, id: &str) -> Result<Option<Channel>, StoreError> {
    let row = query_opt(
        client,
        &format!("SELECT {CHANNEL_COLUMNS} FROM channels WHERE id = $1"),
        &[&id],
    )
    .await?;
    row.as_ref().map(channel_from_row).transpose()
}

/// Runs in the caller's transaction: the delete and the inserts commit together.
pub(super) async fn replace_faq<C: GenericClient>(
    transaction: &C,
    tenant_id: &str,
    bot_id: &str,
    entries: &[FaqEntry],
) -> Result<(), StoreError> {
    execute(
        transaction,
        "DELETE FROM faq_entries WHERE tenant_id = $1 AND bot_id = $2",
        &[&tenant_id, &bot_id],
    )
    .await?;
    let insert = transaction
        .prepare_cached(
            "INSERT INTO faq_entries (tenant_id, bot_id, id, position, entry)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .await
        .map_err(database)?;
    for (position, entry) in entries.iter().enumerate() {
        let position = i32::try_from(position).unwrap_or(i32::MAX);
        transaction
            .execute(
                &insert,
                &[&tenant_id, &bot_id, &entry.id, &position, &Json(entry)],
            )
            .await
            .map_err(|error| match is_unique_violation(&error) {
                true => StoreError::Conflict(format!("FAQ id '{}' appears twice", entry.id)),
                false => database(error),
            })?;
    }
    Ok(())
}

pub(super) async fn faq_entries<C: GenericClient>(
    client: &C,
    tenant_id: &str,
    bot_id: &str,
) -> Result<Vec<FaqEntry>, StoreError> {
    let rows = query(
        client,
        "SELECT entry FROM faq_entries WHERE tenant_id = $1 AND bot_id = $2 ORDER BY position",
        &[&tenant_id, &bot_id],
    )
    .await?;
    rows.iter()
        .map(|row| column(row, "entry").map(|Json(entry)| entry))
        .collect()
}
