//! The part of the [`Store`](super::Store) that makes the pipeline durable: the inbox
//! (events waiting for a worker), the outbox (replies waiting for delivery) and the
//! delivery log. Both queues hand out work by lease, oldest first, and never two items of
//! the same conversation at once, so order holds across workers and host instances.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::StoreError;
use crate::conversation::model::Message;

/// An event about to enter the inbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewInboxEvent {
    /// The tenant.
    pub tenant_id: String,
    /// The channel it came from.
    pub channel_id: String,
    /// The channel's id for the event; `(channel_id, channel_message_id)` is unique.
    pub channel_message_id: String,
    /// The channel's id for the customer; events of one customer are handled in order.
    pub channel_user_id: String,
    /// The normalized event ([`crate::conversation::InboundEvent`]) as JSON.
    pub payload: String,
    /// Now, ms since the Unix epoch.
    pub now_ms: i64,
}

/// What inserting into the inbox did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InboxInsert {
    /// A new event with this id.
    Inserted(i64),
    /// The channel sent this event before; it is already in the inbox with this id.
    Duplicate(i64),
}

/// An inbox event handed to a worker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboxEvent {
    /// Its id; grows with arrival.
    pub id: i64,
    /// The tenant.
    pub tenant_id: String,
    /// The channel.
    pub channel_id: String,
    /// The channel's id for the event.
    pub channel_message_id: String,
    /// The channel's id for the customer.
    pub channel_user_id: String,
    /// The normalized event as JSON.
    pub payload: String,
    /// Times handed out so far, this one included.
    pub attempts: u32,
    /// When it arrived, ms since the Unix epoch.
    pub received_at_ms: i64,
}

/// State of an outbox row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutboxStatus {
    /// Waiting for its first attempt.
    Pending,
    /// Leased to a dispatcher.
    Sending,
    /// Sent.
    Sent,
    /// The last attempt failed; retried at `next_attempt_at_ms`.
    Failed,
    /// Given up (permanent failure or too many attempts).
    Dead,
}

impl OutboxStatus {
    /// The name stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Sending => "sending",
            Self::Sent => "sent",
            Self::Failed => "failed",
            Self::Dead => "dead",
        }
    }

    /// Parses a stored name.
    pub fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "pending" => Self::Pending,
            "sending" => Self::Sending,
            "sent" => Self::Sent,
            "failed" => Self::Failed,
            "dead" => Self::Dead,
            _ => return None,
        })
    }
}

/// One reply to deliver.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutboxRow {
    /// Its id.
    pub id: i64,
    /// The tenant.
    pub tenant_id: String,
    /// The channel it goes out on.
    pub channel_id: String,
    /// Its conversation.
    pub conversation_id: String,
    /// The stored message it delivers.
    pub message_id: i64,
    /// Unique; a second insert with it is dropped.
    pub idempotency_key: String,
    /// Where it stands.
    pub status: OutboxStatus,
    /// Attempts so far.
    pub attempts: u32,
    /// Earliest next attempt, ms since the Unix epoch.
    pub next_attempt_at_ms: i64,
    /// The last failure.
    pub last_error: Option<String>,
    /// Attempts already spent when the current retry budget began: 0, or the attempts
    /// made before an admin retried the row as a dead letter. Backoff and giving up count
    /// `attempts - attempt_base`.
    pub attempt_base: u32,
    /// When it was queued, ms since the Unix epoch.
    pub created_at_ms: i64,
    /// When its status last changed, ms since the Unix epoch.
    pub updated_at_ms: i64,
}

impl OutboxRow {
    /// Attempts in the current retry budget (this one included while it is being sent).
    pub fn budget_attempts(&self) -> u32 {
        self.attempts.saturating_sub(self.attempt_base)
    }
}

/// An outbox row handed to a dispatcher, with the message it delivers.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxItem {
    /// The row (status `sending`, `attempts` counting this one).
    pub row: OutboxRow,
    /// The message.
    pub message: Message,
    /// Set by a claim when an earlier send's outcome is not known: when the first such
    /// send began (ms since the Unix epoch). Either a host stopped during it without
    /// recording how it ended (the claim took the row from an expired lease), or it ended
    /// in doubt ([`AttemptResult::Retry`] `in_doubt`). The provider may already have the
    /// message. `None` elsewhere.
    pub lost_send_started_ms: Option<i64>,
}

/// How one delivery attempt ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "result")]
pub enum AttemptResult {
    /// The channel accepted it.
    Sent {
        /// The channel's id for the message.
        provider_message_id: Option<String>,
    },
    /// Failed; will be retried at this time.
    Retry {
        /// What went wrong.
        reason: String,
        /// Next attempt, ms since the Unix epoch.
        at_ms: i64,
        /// No answer came to a request that may have reached the provider: the next
        /// attempt asks the channel whether it arrived before sending again.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        in_doubt: bool,
    },
    /// Failed for good.
    Dead {
        /// Why.
        reason: String,
    },
}

/// One row of the delivery log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryAttempt {
    /// The outbox row.
    pub outbox_id: i64,
    /// 1 for the first attempt.
    pub attempt: u32,
    /// How it ended.
    pub result: AttemptResult,
    /// The provider's raw response, when it sent one.
    pub provider_response: Option<String>,
    /// How long the attempt took, ms.
    pub elapsed_ms: u64,
    /// When it ended, ms since the Unix epoch.
    pub at_ms: i64,
}

impl DeliveryAttempt {
    /// When it began, ms since the Unix epoch.
    pub fn started_ms(&self) -> i64 {
        self.at_ms
            .saturating_sub(i64::try_from(self.elapsed_ms).unwrap_or(i64::MAX))
    }
}

/// What the provider ids stored on a channel say of where a message's own id can be
/// ([`QueueStore::provider_ids_before`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProviderIdsBefore {
    /// The provider's id of the conversation's last message before it that has one,
    /// whichever way it went.
    pub last: Option<String>,
    /// The provider ids of the channel's messages, every conversation and both ways: the
    /// messages stored from [`STORED_BEFORE_LAST`] rows before `last`'s on, then the
    /// customer messages received (in the inbox, turned into messages or not yet) from the
    /// conversation's last one before it on; at most [`MAX_CHANNEL_IDS`] of each, within
    /// [`MAX_ROWS_READ`] rows, some possibly twice. Empty when there is no `last`.
    pub channel: Vec<String>,
}

/// How many rows before the conversation's last message the channel's ids start: a reply
/// is stored when its turn ends and gets its provider id when it is delivered, so replies
/// stored a little earlier may have been delivered (numbered) after that message.
pub const STORED_BEFORE_LAST: i64 = 2_000;

/// The most channel ids handed over: an operator answering hours later on a busy channel
/// would otherwise mean every message since.
pub const MAX_CHANNEL_IDS: i64 = 20_000;

/// The most rows (of every channel) read past the first one, in messages and in the
/// inbox each: the look-up runs after a crash for every send in doubt, and a quiet
/// channel's old message on a busy database must not mean reading all rows since. Ids
/// beyond are not listed; a provider then has more ids to try, or cannot tell.
pub const MAX_ROWS_READ: i64 = 200_000;

/// How much work is waiting (for `/readyz` and metrics).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct QueueDepths {
    /// Inbox events not yet done.
    pub inbox: u64,
    /// Outbox rows not yet sent or dead.
    pub outbox: u64,
    /// Outbox rows given up on.
    pub dead: u64,
}

/// The inbox, the outbox and the delivery log.
#[async_trait]
pub trait QueueStore: Send + Sync {
    /// Adds an event unless the channel sent it before.
    async fn inbox_insert(&self, event: &NewInboxEvent) -> Result<InboxInsert, StoreError>;
    /// Leases up to `limit` events, oldest first: only the oldest unfinished event of each
    /// customer, and only when no other worker holds a live lease on it.
    async fn inbox_claim(
        &self,
        now_ms: i64,
        lease_ms: i64,
        limit: u32,
    ) -> Result<Vec<InboxEvent>, StoreError>;
    /// Gives a leased event back after a failure: retried at `retry_at_ms`, or given up
    /// (status `failed`, so later events of the customer go on) when `give_up`.
    async fn inbox_release(
        &self,
        id: i64,
        error: &str,
        retry_at_ms: i64,
        give_up: bool,
    ) -> Result<(), StoreError>;
    /// Marks an event done without a turn (nothing to answer).
    async fn inbox_finish(&self, id: i64) -> Result<(), StoreError>;

    /// Leases up to `limit` due outbox rows, oldest first, one per conversation.
    async fn outbox_claim(
        &self,
        now_ms: i64,
        lease_ms: i64,
        limit: u32,
    ) -> Result<Vec<OutboxItem>, StoreError>;
    /// Logs an attempt and moves the row to `sent`, `failed` (retry) or `dead`.
    async fn outbox_record_attempt(&self, attempt: &DeliveryAttempt) -> Result<(), StoreError>;
    /// One outbox row.
    async fn outbox_row(&self, id: i64) -> Result<Option<OutboxRow>, StoreError>;
    /// The channel's id of the last reply of a conversation delivered before message
    /// `message_id`: where the provider's history of that conversation stood before it.
    async fn delivered_before(
        &self,
        tenant_id: &str,
        conversation_id: &str,
        message_id: i64,
    ) -> Result<Option<String>, StoreError>;
    /// The provider ids stored around conversation `conversation_id`'s last message before
    /// `message_id`, for a channel whose provider numbers messages across conversations.
    async fn provider_ids_before(
        &self,
        tenant_id: &str,
        conversation_id: &str,
        message_id: i64,
    ) -> Result<ProviderIdsBefore, StoreError>;
    /// The outbox rows of a conversation, oldest first.
    async fn outbox_of_conversation(
        &self,
        tenant_id: &str,
        conversation_id: &str,
    ) -> Result<Vec<OutboxRow>, StoreError>;
    /// The delivery log of one outbox row, oldest first.
    async fn delivery_log(&self, outbox_id: i64) -> Result<Vec<DeliveryAttempt>, StoreError>;
    /// How much work is waiting.
    async fn queue_depths(&self) -> Result<QueueDepths, StoreError>;
}

/// SQL true when `row` (an alias of `outbox`) is the oldest unfinished row of its
/// conversation: both stores' outbox claims take only such rows.
pub(super) fn first_open_of_conversation(row: &str) -> String {
    format!(
        "NOT EXISTS (
             SELECT 1 FROM outbox p
             WHERE p.conversation_id = {row}.conversation_id
               AND p.status NOT IN ('sent', 'dead') AND p.id < {row}.id)"
    )
}

/// Where each caller of a group-committed inbox write waits for its answer.
pub(super) type InboxAnswer = tokio::sync::oneshot::Sender<Result<InboxInsert, StoreError>>;

/// Answers the callers of a group of inbox writes, in order: each its outcome, or all the
/// group's error (none of the events was stored). Both stores group webhook events.
pub(super) fn answer_inbox_callers(
    answers: Vec<InboxAnswer>,
    outcomes: Result<Vec<InboxInsert>, StoreError>,
) {
    // A caller that gave up waiting (its request was dropped) needs no answer.
    match outcomes {
        Ok(outcomes) => {
            for (answer, outcome) in answers.into_iter().zip(outcomes) {
                let _ = answer.send(Ok(outcome));
            }
        }
        Err(error) => {
            let reason = error.to_string();
            for answer in answers {
                let _ = answer.send(Err(StoreError::Backend(reason.clone())));
            }
        }
    }
}
