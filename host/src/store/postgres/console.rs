//! PostgreSQL side of [`ConsoleStore`](crate::store::ConsoleStore), under row-level
//! security like every tenant read.

use async_trait::async_trait;
use deadpool_postgres::tokio_postgres::Row;

use super::PostgresStore;
use super::conversations::{CONVERSATION_COLUMNS, conversation_from_row};
use super::statements::{column, limit, query, query_opt};
use super::tenant_scope::in_tenant;
use super::turns::{MESSAGE_COLUMNS, message_from_row, prefixed_message_columns};
use crate::conversation::model::{Contact, Conversation, Message};
use crate::store::console::UNREAD_SQL;
use crate::store::{ConsoleStore, InboxEntry, OperatorPresence, PresenceStatus, StoreError};

fn entry_from_row(row: &Row) -> Result<InboxEntry, StoreError> {
    let last_message_id: Option<i64> = column(row, "m_id")?;
    let unread: i64 = column(row, "unread")?;
    Ok(InboxEntry {
        conversation: conversation_from_row(row)?,
        contact: Contact {
            id: column(row, "k_id")?,
            tenant_id: column(row, "k_tenant_id")?,
            channel_id: column(row, "k_channel_id")?,
            channel_user_id: column(row, "k_channel_user_id")?,
            display_name: column(row, "k_display_name")?,
            created_at_ms: column(row, "k_created_at_ms")?,
        },
        last_message: last_message_id
            .map(|_| message_from_row(row, "m_"))
            .transpose()?,
        unread: u32::try_from(unread).unwrap_or(u32::MAX),
    })
}

const PRESENCE_COLUMNS: &str = "p.user_id, u.display_name, p.status, p.updated_at_ms";

fn presence_from_row(row: &Row) -> Result<OperatorPresence, StoreError> {
    let status: &str = column(row, "status")?;
    Ok(OperatorPresence {
        user_id: column(row, "user_id")?,
        display_name: column(row, "display_name")?,
        status: PresenceStatus::parse(status)
            .ok_or_else(|| StoreError::Corrupt(format!("presence status '{status}'")))?,
        updated_at_ms: column(row, "updated_at_ms")?,
    })
}

#[async_trait]
impl ConsoleStore for PostgresStore {
    async fn inbox(&self, tenant_id: &str, max: u32) -> Result<Vec<InboxEntry>, StoreError> {
        let rows = in_tenant!(self, tenant_id, |scope| query(
            &scope,
            &format!(
                "SELECT {CONVERSATION_COLUMNS}, k.id AS k_id, k.tenant_id AS k_tenant_id,
                        k.channel_id AS k_channel_id, k.channel_user_id AS k_channel_user_id,
                        k.display_name AS k_display_name, k.created_at_ms AS k_created_at_ms,
                        {}, {UNREAD_SQL} AS unread
                 FROM conversations c
                 JOIN contacts k ON k.id = c.contact_id
                 LEFT JOIN messages m
                   ON m.id = (SELECT max(id) FROM messages WHERE conversation_id = c.id)
                 WHERE c.tenant_id = $1 AND c.state <> 'closed'
                 ORDER BY c.last_activity_ms DESC, c.id DESC LIMIT $2",
                prefixed_message_columns()
            ),
            &[&tenant_id, &limit(max)],
        ))?;
        rows.iter().map(entry_from_row).collect()
    }

    async fn conversations_changed_since(
        &self,
        tenant_id: &str,
        since_ms: i64,
        max: u32,
    ) -> Result<Vec<Conversation>, StoreError> {
        let rows = in_tenant!(self, tenant_id, |scope| query(
            &scope,
            &format!(
                "SELECT {CONVERSATION_COLUMNS} FROM conversations c
                 WHERE c.tenant_id = $1
                   AND (c.last_activity_ms >= $2 OR c.state_changed_at_ms >= $2)
                 ORDER BY c.last_activity_ms DESC, c.id DESC LIMIT $3"
            ),
            &[&tenant_id, &since_ms, &limit(max)],
        ))?;
        rows.iter().map(conversation_from_row).collect()
    }

    async fn message(&self, tenant_id: &str, id: i64) -> Result<Option<Message>, StoreError> {
        let row = in_tenant!(self, tenant_id, |scope| query_opt(
            &scope,
            &format!("SELECT {MESSAGE_COLUMNS} FROM messages WHERE tenant_id = $1 AND id = $2"),
            &[&tenant_id, &id],
        ))?;
        row.as_ref()
            .map(|row| message_from_row(row, ""))
            .transpose()
    }

    async fn set_presence(
        &self,
        tenant_id: &str,
        user_id: &str,
        status: PresenceStatus,
        now_ms: i64,
    ) -> Result<Option<OperatorPresence>, StoreError> {
        let row = in_tenant!(self, tenant_id, |scope| query_opt(
            &scope,
            &format!(
                "WITH saved AS (
                     INSERT INTO operator_presence AS p (tenant_id, user_id, status, updated_at_ms)
                     VALUES ($1, $2, $3, $4)
                     ON CONFLICT (tenant_id, user_id) DO UPDATE
                         SET status = excluded.status, updated_at_ms = excluded.updated_at_ms
                     RETURNING p.*
                 )
                 SELECT {PRESENCE_COLUMNS} FROM saved p JOIN users u ON u.id = p.user_id"
            ),
            &[&tenant_id, &user_id, &status.as_str(), &now_ms],
        ))?;
        row.as_ref().map(presence_from_row).transpose()
    }

    async fn presence(
        &self,
        tenant_id: &str,
        since_ms: i64,
    ) -> Result<Vec<OperatorPresence>, StoreError> {
        let rows = in_tenant!(self, tenant_id, |scope| query(
            &scope,
            &format!(
                "SELECT {PRESENCE_COLUMNS} FROM operator_presence p
                 JOIN users u ON u.id = p.user_id
                 WHERE p.tenant_id = $1 AND p.updated_at_ms >= $2
                 ORDER BY u.display_name, p.user_id"
            ),
            &[&tenant_id, &since_ms],
        ))?;
        rows.iter().map(presence_from_row).collect()
    }
}
