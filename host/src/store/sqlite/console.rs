//! SQLite side of [`ConsoleStore`](crate::store::ConsoleStore).

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, Row, params};

use super::cached::CachedStatements;
use super::conversations::{
    CONVERSATION_COLUMNS, MESSAGE_COLUMNS, RawMessage, conversation_from_row, message_from_raw,
    prefixed_conversation_columns, raw_message, with_state,
};
use super::{SqliteStore, backend};
use crate::conversation::model::{Contact, Conversation, Message};
use crate::store::console::UNREAD_SQL;
use crate::store::{ConsoleStore, InboxEntry, OperatorPresence, PresenceStatus, StoreError};

/// Where the contact's and the message's columns start in an inbox row.
const CONTACT_AT: usize = 12;
const MESSAGE_AT: usize = 18;
const UNREAD_AT: usize = 26;

type RawEntry = ((Conversation, String), Contact, Option<RawMessage>, u32);

fn raw_entry(row: &Row<'_>) -> rusqlite::Result<RawEntry> {
    let contact = Contact {
        id: row.get(CONTACT_AT)?,
        tenant_id: row.get(CONTACT_AT + 1)?,
        channel_id: row.get(CONTACT_AT + 2)?,
        channel_user_id: row.get(CONTACT_AT + 3)?,
        display_name: row.get(CONTACT_AT + 4)?,
        created_at_ms: row.get(CONTACT_AT + 5)?,
    };
    let message = match row.get::<_, Option<i64>>(MESSAGE_AT)? {
        Some(_) => Some(raw_message(row, MESSAGE_AT)?),
        None => None,
    };
    Ok((
        conversation_from_row(row)?,
        contact,
        message,
        row.get(UNREAD_AT)?,
    ))
}

fn inbox(
    connection: &Connection,
    tenant_id: &str,
    limit: u32,
) -> Result<Vec<InboxEntry>, StoreError> {
    let mut statement = connection
        .prepare_cached(&format!(
            "SELECT {}, k.id, k.tenant_id, k.channel_id, k.channel_user_id, k.display_name,
                    k.created_at_ms, {MESSAGE_COLUMNS}, {UNREAD_SQL}
             FROM conversations c
             JOIN contacts k ON k.id = c.contact_id
             LEFT JOIN messages m
               ON m.id = (SELECT max(id) FROM messages WHERE conversation_id = c.id)
             WHERE c.tenant_id = ?1 AND c.state <> 'closed'
             ORDER BY c.last_activity_ms DESC, c.id DESC LIMIT ?2",
            prefixed_conversation_columns()
        ))
        .map_err(backend)?;
    let rows = statement
        .query_map(params![tenant_id, limit], raw_entry)
        .map_err(backend)?;
    rows.map(|row| {
        let (conversation, contact, message, unread) = row.map_err(backend)?;
        Ok(InboxEntry {
            conversation: with_state(conversation)?,
            contact,
            last_message: message.map(message_from_raw).transpose()?,
            unread,
        })
    })
    .collect()
}

fn changed_since(
    connection: &Connection,
    tenant_id: &str,
    since_ms: i64,
    limit: u32,
) -> Result<Vec<Conversation>, StoreError> {
    let mut statement = connection
        .prepare_cached(&format!(
            "SELECT {CONVERSATION_COLUMNS} FROM conversations
             WHERE tenant_id = ?1 AND (last_activity_ms >= ?2 OR state_changed_at_ms >= ?2)
             ORDER BY last_activity_ms DESC, id DESC LIMIT ?3"
        ))
        .map_err(backend)?;
    let rows = statement
        .query_map(params![tenant_id, since_ms, limit], conversation_from_row)
        .map_err(backend)?;
    rows.map(|row| with_state(row.map_err(backend)?)).collect()
}

const PRESENCE_COLUMNS: &str = "p.user_id, u.display_name, p.status, p.updated_at_ms";

fn presence_from_row(row: &Row<'_>) -> rusqlite::Result<(OperatorPresence, String)> {
    Ok((
        OperatorPresence {
            user_id: row.get(0)?,
            display_name: row.get(1)?,
            status: PresenceStatus::Online,
            updated_at_ms: row.get(3)?,
        },
        row.get(2)?,
    ))
}

fn with_status(
    (mut presence, status): (OperatorPresence, String),
) -> Result<OperatorPresence, StoreError> {
    presence.status = PresenceStatus::parse(&status)
        .ok_or_else(|| StoreError::Corrupt(format!("presence status '{status}'")))?;
    Ok(presence)
}

fn set_presence(
    connection: &Connection,
    tenant_id: &str,
    user_id: &str,
    status: PresenceStatus,
    now_ms: i64,
) -> Result<Option<OperatorPresence>, StoreError> {
    connection
        .execute_cached(
            "INSERT INTO operator_presence (tenant_id, user_id, status, updated_at_ms)
             VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (tenant_id, user_id) DO UPDATE
                 SET status = excluded.status, updated_at_ms = excluded.updated_at_ms",
            params![tenant_id, user_id, status.as_str(), now_ms],
        )
        .map_err(backend)?;
    connection
        .query_row_cached(
            &format!(
                "SELECT {PRESENCE_COLUMNS} FROM operator_presence p
                 JOIN users u ON u.id = p.user_id
                 WHERE p.tenant_id = ?1 AND p.user_id = ?2"
            ),
            [tenant_id, user_id],
            presence_from_row,
        )
        .optional()
        .map_err(backend)?
        .map(with_status)
        .transpose()
}

fn presence(
    connection: &Connection,
    tenant_id: &str,
    since_ms: i64,
) -> Result<Vec<OperatorPresence>, StoreError> {
    let mut statement = connection
        .prepare_cached(&format!(
            "SELECT {PRESENCE_COLUMNS} FROM operator_presence p
             JOIN users u ON u.id = p.user_id
             WHERE p.tenant_id = ?1 AND p.updated_at_ms >= ?2
             ORDER BY u.display_name, p.user_id"
        ))
        .map_err(backend)?;
    let rows = statement
        .query_map(params![tenant_id, since_ms], presence_from_row)
        .map_err(backend)?;
    rows.map(|row| with_status(row.map_err(backend)?)).collect()
}

#[async_trait]
impl ConsoleStore for SqliteStore {
    async fn inbox(&self, tenant_id: &str, limit: u32) -> Result<Vec<InboxEntry>, StoreError> {
        let tenant_id = tenant_id.to_owned();
        self.read(move |connection| inbox(connection, &tenant_id, limit))
            .await
    }

    async fn conversations_changed_since(
        &self,
        tenant_id: &str,
        since_ms: i64,
        limit: u32,
    ) -> Result<Vec<Conversation>, StoreError> {
        let tenant_id = tenant_id.to_owned();
        self.read(move |connection| changed_since(connection, &tenant_id, since_ms, limit))
            .await
    }

    async fn message(&self, tenant_id: &str, id: i64) -> Result<Option<Message>, StoreError> {
        let tenant_id = tenant_id.to_owned();
        self.read(move |connection| {
            connection
                .query_row_cached(
                    &format!(
                        "SELECT {MESSAGE_COLUMNS} FROM messages m WHERE m.tenant_id = ?1 AND m.id = ?2"
                    ),
                    params![tenant_id, id],
                    |row| raw_message(row, 0),
                )
                .optional()
                .map_err(backend)?
                .map(message_from_raw)
                .transpose()
        })
        .await
    }

    async fn set_presence(
        &self,
        tenant_id: &str,
        user_id: &str,
        status: PresenceStatus,
        now_ms: i64,
    ) -> Result<Option<OperatorPresence>, StoreError> {
        let (tenant_id, user_id) = (tenant_id.to_owned(), user_id.to_owned());
        self.with(move |connection| set_presence(connection, &tenant_id, &user_id, status, now_ms))
            .await
    }

    async fn presence(
        &self,
        tenant_id: &str,
        since_ms: i64,
    ) -> Result<Vec<OperatorPresence>, StoreError> {
        let tenant_id = tenant_id.to_owned();
        self.read(move |connection| presence(connection, &tenant_id, since_ms))
            .await
    }
}
