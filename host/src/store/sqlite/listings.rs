//! A tenant's bots, channels and conversations as the admin API lists them, and deleting
//! an unused channel, in SQLite.

use rusqlite::{Connection, params};

use super::backend;
use super::cached::CachedStatements;
use super::conversations::{
    BOT_COLUMNS, CHANNEL_COLUMNS, CONVERSATION_COLUMNS, bot_from_raw, channel_from_raw,
    conversation_from_row, raw_bot, raw_channel, with_state,
};
use crate::conversation::model::{Bot, Channel, Conversation};
use crate::store::{ConversationFilter, StoreError};

pub(super) fn bots_of_tenant(
    connection: &Connection,
    tenant_id: &str,
) -> Result<Vec<Bot>, StoreError> {
    let mut statement = connection
        .prepare_cached(&format!(
            "SELECT {BOT_COLUMNS} FROM bots WHERE tenant_id = ?1 ORDER BY id"
        ))
        .map_err(backend)?;
    let rows = statement.query_map([tenant_id], raw_bot).map_err(backend)?;
    rows.map(|row| bot_from_raw(row.map_err(backend)?))
        .collect()
}

pub(super) fn channels_of_tenant(
    connection: &Connection,
    tenant_id: &str,
) -> Result<Vec<Channel>, StoreError> {
    let mut statement = connection
        .prepare_cached(&format!(
            "SELECT {CHANNEL_COLUMNS} FROM channels WHERE tenant_id = ?1 ORDER BY id"
        ))
        .map_err(backend)?;
    let rows = statement
        .query_map([tenant_id], raw_channel)
        .map_err(backend)?;
    rows.map(|row| channel_from_raw(row.map_err(backend)?))
        .collect()
}

pub(super) fn delete_channel(
    connection: &mut Connection,
    tenant_id: &str,
    channel_id: &str,
) -> Result<bool, StoreError> {
    // One transaction: no contact can arrive between the check and the delete (SQLite
    // has one writer).
    let transaction = connection.savepoint().map_err(backend)?;
    let has_contacts: bool = transaction
        .query_row_cached(
            "SELECT EXISTS(SELECT 1 FROM contacts WHERE channel_id = ?1)",
            [channel_id],
            |row| row.get(0),
        )
        .map_err(backend)?;
    let exists: bool = transaction
        .query_row_cached(
            "SELECT EXISTS(SELECT 1 FROM channels WHERE tenant_id = ?1 AND id = ?2)",
            [tenant_id, channel_id],
            |row| row.get(0),
        )
        .map_err(backend)?;
    if !exists {
        return Ok(false);
    }
    if has_contacts {
        return Err(StoreError::Conflict(format!(
            "channel '{channel_id}' has contacts; disable it instead of deleting it"
        )));
    }
    transaction
        .execute_cached(
            "DELETE FROM channels WHERE tenant_id = ?1 AND id = ?2",
            [tenant_id, channel_id],
        )
        .map_err(backend)?;
    transaction.commit().map_err(backend)?;
    Ok(true)
}

pub(super) fn conversations(
    connection: &Connection,
    tenant_id: &str,
    filter: &ConversationFilter,
) -> Result<Vec<Conversation>, StoreError> {
    let (before_ms, before_id) = match &filter.before {
        Some((created_at_ms, id)) => (Some(*created_at_ms), Some(id.as_str())),
        None => (None, None),
    };
    let mut statement = connection
        .prepare_cached(&format!(
            "SELECT {CONVERSATION_COLUMNS} FROM conversations
             WHERE tenant_id = ?1
               AND (?2 IS NULL OR bot_id = ?2)
               AND (?3 IS NULL OR channel_id = ?3)
               AND (?4 IS NULL OR state = ?4)
               AND (?5 IS NULL OR created_at_ms < ?5 OR (created_at_ms = ?5 AND id < ?6))
             ORDER BY created_at_ms DESC, id DESC
             LIMIT ?7"
        ))
        .map_err(backend)?;
    let rows = statement
        .query_map(
            params![
                tenant_id,
                filter.bot_id,
                filter.channel_id,
                filter.state.map(|state| state.as_str()),
                before_ms,
                before_id,
                filter.limit
            ],
            conversation_from_row,
        )
        .map_err(backend)?;
    rows.map(|row| with_state(row.map_err(backend)?)).collect()
}
