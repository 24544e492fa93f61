//! The part of the [`Store`](super::Store) that keeps tenants, bots, channels, the FAQ,
//! contacts, conversations, messages and turn decisions.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::StoreError;
use super::handover::HandoverNote;
use crate::conversation::model::{
    Bot, Channel, Contact, Conversation, FaqEntry, Message, NewMessage, SessionState, Tenant,
    TurnDecision,
};

/// Who is writing, for [`ConversationStore::open_conversation`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConversationOpening {
    /// The tenant.
    pub tenant_id: String,
    /// The bot answering on the channel.
    pub bot_id: String,
    /// The channel.
    pub channel_id: String,
    /// The channel's id for the customer.
    pub channel_user_id: String,
    /// Display name, when the channel tells it (updates the contact's).
    pub display_name: Option<String>,
    /// Language for a new conversation.
    pub language: String,
    /// Now, ms since the Unix epoch.
    pub now_ms: i64,
}

impl ConversationOpening {
    /// The conversation this opening starts for `contact_id` when none is open: a new id,
    /// with the bot, no misses, active now.
    pub fn new_conversation(&self, contact_id: &str) -> Conversation {
        Conversation {
            id: super::new_id("cv"),
            tenant_id: self.tenant_id.clone(),
            bot_id: self.bot_id.clone(),
            channel_id: self.channel_id.clone(),
            contact_id: contact_id.to_owned(),
            state: SessionState::Bot,
            assigned_to: None,
            state_changed_at_ms: self.now_ms,
            language: self.language.clone(),
            consecutive_misses: 0,
            last_activity_ms: self.now_ms,
            created_at_ms: self.now_ms,
        }
    }
}

/// Everything one turn produced, committed at once so a replayed event changes nothing.
#[derive(Debug, Clone, PartialEq)]
pub struct TurnCommit {
    /// The tenant.
    pub tenant_id: String,
    /// The conversation.
    pub conversation_id: String,
    /// The channel replies go out on.
    pub channel_id: String,
    /// Unique per turn (`inbox:{event id}`): a second commit with it changes nothing.
    pub key: String,
    /// The inbox event this turn answers; marked done in the same transaction.
    pub inbox_event_id: Option<i64>,
    /// Replies, stored and queued in the outbox in this order.
    pub replies: Vec<NewMessage>,
    /// Why, when a tier ran.
    pub decision: Option<TurnDecision>,
    /// The channel delivers by reading the store (the widget): the outbox rows are stored
    /// as sent, with one delivery-log line, and no dispatcher round trip is spent on them.
    pub delivered_live: bool,
    /// The conversation's state when the turn read it: if it changed since (an operator
    /// took it while the bot thought), the turn stores nothing but its decision.
    pub state_before: SessionState,
    /// The conversation's state after the turn.
    pub state: SessionState,
    /// Why the state changed, stored in the handover history when it did.
    pub handover: Option<HandoverNote>,
    /// Misses in a row after the turn.
    pub consecutive_misses: u32,
    /// Now, ms since the Unix epoch.
    pub now_ms: i64,
}

/// What [`ConversationStore::commit_turn`] did.
#[derive(Debug, Clone, PartialEq)]
pub enum TurnCommitted {
    /// Stored now: the replies with their ids.
    Stored(Vec<Message>),
    /// A turn with this key was committed before (a replay); nothing changed.
    AlreadyCommitted,
    /// The conversation changed hands while the turn ran: only the decision was stored
    /// (and the inbox event marked done); the state it is in now.
    Superseded {
        /// The conversation's state now.
        state: SessionState,
    },
}

/// A turn decision as stored, with its place.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct StoredDecision {
    /// The turn key.
    pub key: String,
    /// The conversation.
    pub conversation_id: String,
    /// What was decided.
    pub decision: TurnDecision,
    /// When, ms since the Unix epoch.
    pub created_at_ms: i64,
}

/// Tenants, bots, channels, FAQ, contacts, conversations and messages.
#[async_trait]
pub trait ConversationStore: Send + Sync {
    /// Creates a tenant or renames it.
    async fn put_tenant(&self, tenant: &Tenant) -> Result<(), StoreError>;
    /// One tenant.
    async fn tenant(&self, id: &str) -> Result<Option<Tenant>, StoreError>;

    /// Creates a bot or replaces its settings (its tenant never changes: a bot id taken
    /// by another tenant is an error).
    async fn put_bot(&self, bot: &Bot) -> Result<(), StoreError>;
    /// A bot by its public id (the widget knows only that).
    async fn bot(&self, id: &str) -> Result<Option<Bot>, StoreError>;

    /// Creates or replaces a channel (same rule on tenants as bots).
    async fn put_channel(&self, channel: &Channel) -> Result<(), StoreError>;
    /// A channel by id (webhooks know only that).
    async fn channel(&self, id: &str) -> Result<Option<Channel>, StoreError>;

    /// Replaces a bot's whole FAQ.
    async fn replace_faq(
        &self,
        tenant_id: &str,
        bot_id: &str,
        entries: &[FaqEntry],
    ) -> Result<(), StoreError>;
    /// A bot's FAQ, by id.
    async fn faq_entries(&self, tenant_id: &str, bot_id: &str)
    -> Result<Vec<FaqEntry>, StoreError>;

    /// Finds or creates the contact and its open conversation (one that is not closed).
    async fn open_conversation(
        &self,
        opening: &ConversationOpening,
    ) -> Result<(Contact, Conversation), StoreError>;
    /// The open conversation of a channel user, if any (nothing is created).
    async fn current_conversation(
        &self,
        tenant_id: &str,
        channel_id: &str,
        channel_user_id: &str,
    ) -> Result<Option<Conversation>, StoreError>;
    /// One contact.
    async fn contact(
        &self,
        tenant_id: &str,
        contact_id: &str,
    ) -> Result<Option<Contact>, StoreError>;
    /// One conversation.
    async fn conversation(
        &self,
        tenant_id: &str,
        conversation_id: &str,
    ) -> Result<Option<Conversation>, StoreError>;

    /// Stores a customer's message once: a second call with the same
    /// `channel_message_id` on the channel returns the first (and `false`).
    async fn record_inbound(
        &self,
        conversation: &Conversation,
        channel_message_id: &str,
        content: &crate::conversation::Content,
        now_ms: i64,
    ) -> Result<(Message, bool), StoreError>;
    /// Stores a turn's replies, outbox rows, decision and conversation state, and marks
    /// its inbox event done, in one transaction.
    async fn commit_turn(&self, turn: &TurnCommit) -> Result<TurnCommitted, StoreError>;

    /// Messages of a conversation with `id > after_id`, oldest first, at most `limit`.
    async fn messages_after(
        &self,
        tenant_id: &str,
        conversation_id: &str,
        after_id: i64,
        limit: u32,
    ) -> Result<Vec<Message>, StoreError>;
    /// The latest `limit` messages of a conversation, oldest first.
    async fn latest_messages(
        &self,
        tenant_id: &str,
        conversation_id: &str,
        limit: u32,
    ) -> Result<Vec<Message>, StoreError>;
    /// A conversation's turn decisions, oldest first.
    async fn turn_decisions(
        &self,
        tenant_id: &str,
        conversation_id: &str,
    ) -> Result<Vec<StoredDecision>, StoreError>;
}
