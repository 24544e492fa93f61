//! The part of the [`Store`](super::Store) the operator console reads: a tenant's open
//! conversations with their contact, last message and unread count in one query, what
//! changed since a moment (a console resuming its live feed), and operators' presence.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::StoreError;
use crate::conversation::model::{Contact, Conversation, Message};

/// One row of the console's lists.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct InboxEntry {
    /// The conversation.
    pub conversation: Conversation,
    /// Its customer.
    pub contact: Contact,
    /// The latest message either way.
    pub last_message: Option<Message>,
    /// The customer's messages no person has answered yet: those since the conversation
    /// was handed over (or since its operator's last reply). 0 while the bot holds it.
    pub unread: u32,
}

/// Online or away.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PresenceStatus {
    /// Working the queue.
    Online,
    /// Signed in, not at the screen.
    Away,
}

impl PresenceStatus {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Online => "online",
            Self::Away => "away",
        }
    }

    /// Parses a stored name.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "online" => Some(Self::Online),
            "away" => Some(Self::Away),
            _ => None,
        }
    }
}

/// An operator's last heartbeat in a tenant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct OperatorPresence {
    /// The user.
    pub user_id: String,
    /// Their name.
    pub display_name: String,
    /// What they said last.
    pub status: PresenceStatus,
    /// When, ms since the Unix epoch.
    pub updated_at_ms: i64,
}

/// What the console reads.
#[async_trait]
pub trait ConsoleStore: Send + Sync {
    /// The tenant's conversations that are not closed, most recent activity first, at
    /// most `limit`.
    async fn inbox(&self, tenant_id: &str, limit: u32) -> Result<Vec<InboxEntry>, StoreError>;

    /// The tenant's conversations (closed ones too) with a message or a change of hands at
    /// or after `since_ms`, most recent first, at most `limit`.
    async fn conversations_changed_since(
        &self,
        tenant_id: &str,
        since_ms: i64,
        limit: u32,
    ) -> Result<Vec<Conversation>, StoreError>;

    /// One message of the tenant by id (an instance relaying another's live event).
    async fn message(&self, tenant_id: &str, id: i64) -> Result<Option<Message>, StoreError>;

    /// Records an operator's heartbeat; returns it as listed.
    async fn set_presence(
        &self,
        tenant_id: &str,
        user_id: &str,
        status: PresenceStatus,
        now_ms: i64,
    ) -> Result<Option<OperatorPresence>, StoreError>;

    /// The tenant's operators heard from at or after `since_ms`, by name.
    async fn presence(
        &self,
        tenant_id: &str,
        since_ms: i64,
    ) -> Result<Vec<OperatorPresence>, StoreError>;
}

/// Counts a conversation's customer messages no person answered: written after it was
/// handed over (strictly: the request that queued it is not one) and after the last
/// message an operator wrote. The same SQL on both backends; `c`
/// is the conversation row.
pub(crate) const UNREAD_SQL: &str = "CASE WHEN c.state IN ('waiting', 'human') THEN (
        SELECT count(*) FROM messages u
        WHERE u.conversation_id = c.id AND u.direction = 'inbound'
          AND u.created_at_ms > c.state_changed_at_ms
          AND u.id > coalesce((SELECT max(o.id) FROM messages o
                               WHERE o.conversation_id = c.id
                                 AND o.sender_json LIKE '{\"kind\":\"operator\"%'), 0)
    ) ELSE 0 END";
