//! A tenant's bots, channels and conversations as the admin API lists them, and deleting
//! an unused channel, in PostgreSQL.

use deadpool_postgres::GenericClient;

use super::conversations::{CONVERSATION_COLUMNS, conversation_from_row};
use super::directory::{BOT_COLUMNS, CHANNEL_COLUMNS, bot_from_row, channel_from_row};
use super::error::database;
use super::statements::{column, limit, query, query_one};
use crate::conversation::model::{Bot, Channel, Conversation};
use crate::store::{ConversationFilter, StoreError};

pub(super) async fn bots_of_tenant<C: GenericClient>(
    client: &C,
    tenant_id: &str,
) -> Result<Vec<Bot>, StoreError> {
    let rows = query(
        client,
        &format!("SELECT {BOT_COLUMNS} FROM bots WHERE tenant_id = $1 ORDER BY id COLLATE \"C\""),
        &[&tenant_id],
    )
    .await?;
    rows.iter().map(bot_from_row).collect()
}

pub(super) async fn channels_of_tenant<C: GenericClient>(
    client: &C,
    tenant_id: &str,
) -> Result<Vec<Channel>, StoreError> {
    let rows = query(
        client,
        &format!(
            "SELECT {CHANNEL_COLUMNS} FROM channels WHERE tenant_id = $1 ORDER BY id COLLATE \"C\""
        ),
        &[&tenant_id],
    )
    .await?;
    rows.iter().map(channel_from_row).collect()
}

fn has_contacts(channel_id: &str) -> StoreError {
    StoreError::Conflict(format!(
        "channel '{channel_id}' has contacts; disable it instead of deleting it"
    ))
}

/// Runs in the caller's transaction. A contact arriving between the check and the delete
/// makes the foreign key refuse the delete: the same conflict.
pub(super) async fn delete_channel<C: GenericClient>(
    client: &C,
    tenant_id: &str,
    channel_id: &str,
) -> Result<bool, StoreError> {
    let row = query_one(
        client,
        "SELECT EXISTS(SELECT 1 FROM channels WHERE tenant_id = $1 AND id = $2) AS found,
                EXISTS(SELECT 1 FROM contacts WHERE channel_id = $2) AS used",
        &[&tenant_id, &channel_id],
    )
    .await?;
    let (found, used): (bool, bool) = (column(&row, "found")?, column(&row, "used")?);
    if !found {
        return Ok(false);
    }
    if used {
        return Err(has_contacts(channel_id));
    }
    let statement = client
        .prepare_cached("DELETE FROM channels WHERE tenant_id = $1 AND id = $2")
        .await
        .map_err(database)?;
    let deleted = client
        .execute(&statement, &[&tenant_id, &channel_id])
        .await
        .map_err(
            |error| match error.as_db_error().map(|db| db.code().code()) {
                // 23503: foreign_key_violation.
                Some("23503") => has_contacts(channel_id),
                _ => database(error),
            },
        )?;
    Ok(deleted > 0)
}

pub(super) async fn conversations<C: GenericClient>(
    client: &C,
    tenant_id: &str,
    filter: &ConversationFilter,
) -> Result<Vec<Conversation>, StoreError> {
    let (before_ms, before_id) = match &filter.before {
        Some((created_at_ms, id)) => (Some(*created_at_ms), Some(id.as_str())),
        None => (None, None),
    };
    let rows = query(
        client,
        &format!(
            "SELECT {CONVERSATION_COLUMNS} FROM conversations c
             WHERE c.tenant_id = $1
               AND ($2::text IS NULL OR c.bot_id = $2)
               AND ($3::text IS NULL OR c.channel_id = $3)
               AND ($4::text IS NULL OR c.state = $4)
               AND ($5::bigint IS NULL OR c.created_at_ms < $5
                    OR (c.created_at_ms = $5 AND c.id COLLATE \"C\" < $6::text COLLATE \"C\"))
             ORDER BY c.created_at_ms DESC, c.id COLLATE \"C\" DESC
             LIMIT $7"
        ),
        &[
            &tenant_id,
            &filter.bot_id,
            &filter.channel_id,
            &filter.state.map(|state| state.as_str()),
            &before_ms,
            &before_id,
            &limit(filter.limit),
        ],
    )
    .await?;
    rows.iter().map(conversation_from_row).collect()
}
