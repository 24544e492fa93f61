//! The part of the [`Store`](super::Store) behind the deliveries API: a tenant's outbox
//! rows with their messages (the dead-letter list among them), putting a dead letter back
//! in the queue, and queueing a message the shop's own systems send (proactive messages,
//! idempotent by the caller's key). Every method is scoped to one tenant.

use async_trait::async_trait;

use super::StoreError;
use super::queue::{OutboxItem, OutboxRow, OutboxStatus};
use crate::conversation::model::{Message, NewMessage};

/// Which deliveries to list, newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeliveryFilter {
    /// Only rows in this state (`dead` for the dead letters).
    pub status: Option<OutboxStatus>,
    /// Only this channel's.
    pub channel_id: Option<String>,
    /// Only this conversation's.
    pub conversation_id: Option<String>,
    /// Only rows older than this outbox id (the page cursor).
    pub before_id: Option<i64>,
    /// At most this many.
    pub limit: u32,
}

/// What [`DeliveryStore::requeue_dead`] did.
#[derive(Debug, Clone, PartialEq)]
pub enum Requeue {
    /// Back in the queue (status `pending`, due now, a fresh retry budget).
    Requeued(OutboxRow),
    /// Not a dead letter (sent, or still being tried): unchanged.
    NotDead(OutboxRow),
    /// No such row in the tenant.
    NotFound,
}

/// A message to queue in an existing conversation, outside a turn.
#[derive(Debug, Clone, PartialEq)]
pub struct QueuedMessage {
    /// The tenant.
    pub tenant_id: String,
    /// The conversation it goes to.
    pub conversation_id: String,
    /// What is sent, and by whom.
    pub message: NewMessage,
    /// Unique outbox key: a second call with it stores nothing and returns the first.
    pub idempotency_key: String,
    /// The conversation's channel delivers from the store (the widget): the row is
    /// stored as sent.
    pub delivered_live: bool,
    /// Now, ms since the Unix epoch.
    pub now_ms: i64,
}

/// What [`DeliveryStore::queue_message`] did.
#[derive(Debug, Clone, PartialEq)]
pub enum QueueOutcome {
    /// Stored and queued.
    Stored {
        /// The message with its id.
        message: Message,
        /// Its outbox row.
        outbox_id: i64,
    },
    /// The key was used before: the first message and row, nothing stored now.
    Repeated {
        /// The message stored by the first call.
        message: Message,
        /// Its outbox row.
        outbox_id: i64,
    },
    /// No such conversation in the tenant.
    NotFound,
}

/// Deliveries of one tenant: read, retry, queue.
#[async_trait]
pub trait DeliveryStore: Send + Sync {
    /// The tenant's outbox rows with their messages, newest first.
    async fn deliveries(
        &self,
        tenant_id: &str,
        filter: &DeliveryFilter,
    ) -> Result<Vec<OutboxItem>, StoreError>;
    /// One outbox row of the tenant with its message.
    async fn delivery(&self, tenant_id: &str, id: i64) -> Result<Option<OutboxItem>, StoreError>;
    /// Puts a dead letter back in the queue: due at `now_ms`, with a fresh retry budget;
    /// the delivery log keeps its earlier attempts. Anything but a dead row is left alone.
    async fn requeue_dead(
        &self,
        tenant_id: &str,
        id: i64,
        now_ms: i64,
    ) -> Result<Requeue, StoreError>;
    /// Stores `queued.message` as an outbound message of the conversation and queues it,
    /// unless a row with the same key exists.
    async fn queue_message(&self, queued: &QueuedMessage) -> Result<QueueOutcome, StoreError>;
}
