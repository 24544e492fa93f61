//! The part of the [`Store`](super::Store) that moves conversations between the bot and
//! people: guarded state changes with their history, operator replies, and what the
//! handover timers must look at. Each write is one transaction that re-reads the
//! conversation under a lock, so two operators taking one conversation at once cannot
//! both win, and a notice is stored and queued with the move it announces.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::StoreError;
use crate::conversation::Content;
use crate::conversation::handover::{Trigger, next_state};
use crate::conversation::model::{Conversation, Message, NewMessage, SessionState};

/// Why and by whom a conversation changes hands, stored with the change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandoverNote {
    /// What moved it.
    pub trigger: Trigger,
    /// Who: `contact`, `bot`, `system`, `user:{id}` or `plugin:{name}`.
    pub actor: String,
    /// Free text for people reading the history (the phrase, the plugin's reason).
    pub reason: Option<String>,
}

/// One stored change of hands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct HandoverEvent {
    /// Grows with every change.
    pub id: i64,
    /// The conversation.
    pub conversation_id: String,
    /// State before.
    pub from_state: SessionState,
    /// State after.
    pub to_state: SessionState,
    /// What moved it (`customer_asked`, `operator_took`, …).
    pub trigger: String,
    /// Who moved it (`contact`, `bot`, `system`, `user:{id}`, `plugin:{name}`).
    pub actor: String,
    /// Why, in words, when known.
    pub reason: Option<String>,
    /// When, ms since the Unix epoch.
    pub at_ms: i64,
    /// On a take: when the operator first replied, ms since the Unix epoch.
    pub first_reply_ms: Option<i64>,
}

/// A change of hands asked for outside a turn (an operator, a timer).
#[derive(Debug, Clone, PartialEq)]
pub struct HandoverMove {
    /// The tenant.
    pub tenant_id: String,
    /// The conversation.
    pub conversation_id: String,
    /// Why and by whom.
    pub note: HandoverNote,
    /// The operator asking (user id). A take assigns the conversation to them; any other
    /// move of a conversation a person holds must come from its holder.
    pub operator: Option<String>,
    /// Told to the customer, stored and queued with the move.
    pub notice: Option<NewMessage>,
    /// Only when nothing was written in the conversation after this (ms since the Unix
    /// epoch): an idle timer must not return a conversation its operator just answered.
    pub idle_since_ms: Option<i64>,
    /// The conversation's channel delivers from the store (the widget): the notice's
    /// outbox row is stored as sent.
    pub delivered_live: bool,
    /// Now, ms since the Unix epoch.
    pub now_ms: i64,
}

/// What [`HandoverStore::move_conversation`] did.
#[derive(Debug, Clone, PartialEq)]
pub enum MoveOutcome {
    /// Moved: the conversation after, the stored notice, the history line.
    Moved {
        /// As it is now.
        conversation: Box<Conversation>,
        /// The notice with its id.
        notice: Option<Message>,
        /// The change as stored.
        event: HandoverEvent,
    },
    /// Its state does not allow the move (already taken, closed, not held): unchanged.
    Refused(Conversation),
    /// Another operator holds it: unchanged.
    HeldByOther(Conversation),
    /// No such conversation in the tenant.
    NotFound,
}

/// An operator's reply to a conversation they hold.
#[derive(Debug, Clone, PartialEq)]
pub struct OperatorReply {
    /// The tenant.
    pub tenant_id: String,
    /// The conversation.
    pub conversation_id: String,
    /// The operator (user id); must hold the conversation.
    pub operator: String,
    /// What they wrote.
    pub content: Content,
    /// The client's idempotency key: a retried request with the same key stores nothing
    /// and returns the first message.
    pub idempotency_key: Option<String>,
    /// As in [`HandoverMove::delivered_live`].
    pub delivered_live: bool,
    /// Now, ms since the Unix epoch.
    pub now_ms: i64,
}

/// What [`HandoverStore::record_operator_reply`] did.
#[derive(Debug, Clone, PartialEq)]
pub enum ReplyOutcome {
    /// Stored and queued; `first` when it is the holder's first reply since taking it
    /// (for the time-to-first-reply metric), with the time they took it.
    Stored {
        /// The message with its id.
        message: Message,
        /// The first reply of this hold.
        first: bool,
        /// When the conversation was taken, ms since the Unix epoch.
        taken_at_ms: i64,
    },
    /// The key was used before: the first message, nothing stored now.
    Repeated(Message),
    /// The operator does not hold it (someone else does, or nobody): unchanged.
    NotHolder(Conversation),
    /// No such conversation in the tenant.
    NotFound,
}

/// A conversation a handover timer may have to act on, with the columns timers read.
#[derive(Debug, Clone, PartialEq)]
pub struct PeopleConversation {
    /// The conversation.
    pub conversation: Conversation,
    /// When the busy notice went out for the current wait.
    pub busy_notified_at_ms: Option<i64>,
}

/// Moves between the bot and people.
#[async_trait]
pub trait HandoverStore: Send + Sync {
    /// Applies `change` when the conversation's current state allows it (checked in the
    /// transaction, on the locked row): state, holder, history line and notice at once.
    async fn move_conversation(&self, change: &HandoverMove) -> Result<MoveOutcome, StoreError>;

    /// Stores and queues an operator's reply when they hold the conversation.
    async fn record_operator_reply(
        &self,
        reply: &OperatorReply,
    ) -> Result<ReplyOutcome, StoreError>;

    /// A conversation's changes of hands, oldest first.
    async fn handover_events(
        &self,
        tenant_id: &str,
        conversation_id: &str,
    ) -> Result<Vec<HandoverEvent>, StoreError>;

    /// A tenant's changes of hands at or after `since_ms`, oldest first, at most `limit`
    /// (for its handover metrics).
    async fn tenant_handover_events(
        &self,
        tenant_id: &str,
        since_ms: i64,
        limit: u32,
    ) -> Result<Vec<HandoverEvent>, StoreError>;

    /// Every tenant's conversations that are `waiting` or `human` (for the timers, which
    /// run for all tenants), oldest change first, at most `limit`.
    async fn people_conversations(&self, limit: u32)
    -> Result<Vec<PeopleConversation>, StoreError>;

    /// Stores and queues the busy notice for a customer still waiting since
    /// `waiting_since_ms`, once per wait: `None` when the conversation moved or was told
    /// already.
    async fn record_busy_notice(
        &self,
        tenant_id: &str,
        conversation_id: &str,
        waiting_since_ms: i64,
        notice: &NewMessage,
        delivered_live: bool,
        now_ms: i64,
    ) -> Result<Option<Message>, StoreError>;
}

/// What a move does to a conversation that is `current`, decided in the store's
/// transaction: the new state, or why not.
pub(crate) fn decide_move(
    current: &Conversation,
    change: &HandoverMove,
) -> Result<SessionState, MoveRefusal> {
    let to = next_state(current.state, change.note.trigger).map_err(|_| MoveRefusal::State)?;
    if change
        .idle_since_ms
        .is_some_and(|idle_since| current.last_activity_ms > idle_since)
    {
        return Err(MoveRefusal::State);
    }
    if current.state == SessionState::Human
        && change.operator.is_some()
        && current.assigned_to != change.operator
    {
        return Err(MoveRefusal::HeldByOther);
    }
    Ok(to)
}

/// Why [`decide_move`] said no.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MoveRefusal {
    /// The state machine forbids it.
    State,
    /// Another operator holds the conversation.
    HeldByOther,
}

impl MoveRefusal {
    /// The outcome reporting this refusal for `conversation`.
    pub(crate) fn outcome(self, conversation: Conversation) -> MoveOutcome {
        match self {
            Self::State => MoveOutcome::Refused(conversation),
            Self::HeldByOther => MoveOutcome::HeldByOther(conversation),
        }
    }
}

/// The holder after a move to `to`: the operator on a take, nobody otherwise.
pub(crate) fn holder_after(to: SessionState, change: &HandoverMove) -> Option<String> {
    (to == SessionState::Human)
        .then(|| change.operator.clone())
        .flatten()
}

/// The outbox key of an operator reply: the client's key scoped to the conversation, or a
/// fresh one.
pub(crate) fn reply_key(reply: &OperatorReply) -> String {
    match &reply.idempotency_key {
        Some(key) => format!("reply:{}:{key}", reply.conversation_id),
        None => format!("reply:{}", super::new_id("rp")),
    }
}
