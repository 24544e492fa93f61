//! The handover desk: moves asked for outside a customer's turn (an operator taking,
//! giving back or closing a conversation, a timer returning an idle one) and operator
//! replies. It writes the customer's notice in the bot's words, applies the move in the
//! store, tells live listeners (the widget, the console) and wakes the dispatcher.

use std::sync::Arc;

use tokio::sync::Notify;

use super::{Notice, Trigger};
use crate::conversation::Content;
use crate::conversation::live::{LiveEvent, LiveHub};
use crate::conversation::model::{ChannelKind, Conversation, Message, NewMessage};
use crate::conversation::pipeline::now_ms;
use crate::store::{
    HandoverMove, HandoverNote, MoveOutcome, OperatorReply, ReplyOutcome, Store, StoreError,
};

/// Applies moves and replies for every tenant of the process.
pub struct HandoverDesk {
    store: Arc<dyn Store>,
    live: Arc<LiveHub>,
    outbox_wake: Arc<Notify>,
}

/// Who asks for a move.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mover {
    /// An operator (user id).
    Operator(String),
    /// The host itself (a timer).
    System,
}

impl HandoverDesk {
    /// A desk over `store`, announcing to `live`, waking the dispatcher with `outbox_wake`.
    pub fn new(store: Arc<dyn Store>, live: Arc<LiveHub>, outbox_wake: Arc<Notify>) -> Self {
        Self {
            store,
            live,
            outbox_wake,
        }
    }

    /// Moves `conversation` by `trigger` for `mover`, with the bot's notice for it.
    pub async fn apply(
        &self,
        conversation: &Conversation,
        trigger: Trigger,
        mover: Mover,
        reason: Option<String>,
    ) -> Result<MoveOutcome, StoreError> {
        let idle_since_ms =
            (trigger == Trigger::HumanIdle).then_some(conversation.last_activity_ms);
        let notice = match trigger.notice() {
            Some(which) => self.notice(conversation, which).await?,
            None => None,
        };
        let (actor, operator) = match mover {
            Mover::Operator(user) => (format!("user:{user}"), Some(user)),
            Mover::System => ("system".to_owned(), None),
        };
        let outcome = self
            .store
            .move_conversation(&HandoverMove {
                tenant_id: conversation.tenant_id.clone(),
                conversation_id: conversation.id.clone(),
                note: HandoverNote {
                    trigger,
                    actor,
                    reason,
                },
                operator,
                notice,
                idle_since_ms,
                delivered_live: self.delivered_live(conversation).await?,
                now_ms: now_ms(),
            })
            .await?;
        if let MoveOutcome::Moved {
            conversation: moved,
            notice,
            event,
        } = &outcome
        {
            tracing::info!(
                conversation = %moved.id,
                tenant = %moved.tenant_id,
                from = event.from_state.as_str(),
                to = event.to_state.as_str(),
                trigger = %event.trigger,
                actor = %event.actor,
                "conversation changed hands"
            );
            self.live.publish_for(
                &moved.tenant_id,
                &moved.id,
                LiveEvent::State(Arc::new(moved.as_ref().clone())),
            );
            if let Some(notice) = notice {
                self.announce(notice);
            }
        }
        Ok(outcome)
    }

    /// Stores and sends an operator's reply to a conversation they hold.
    pub async fn reply(
        &self,
        conversation: &Conversation,
        operator: &str,
        content: Content,
        idempotency_key: Option<String>,
    ) -> Result<ReplyOutcome, StoreError> {
        let outcome = self
            .store
            .record_operator_reply(&OperatorReply {
                tenant_id: conversation.tenant_id.clone(),
                conversation_id: conversation.id.clone(),
                operator: operator.to_owned(),
                content,
                idempotency_key,
                delivered_live: self.delivered_live(conversation).await?,
                now_ms: now_ms(),
            })
            .await?;
        if let ReplyOutcome::Stored { message, .. } = &outcome {
            self.announce(message);
        }
        Ok(outcome)
    }

    /// Stores and sends the busy notice to a customer waiting since `waiting_since_ms`,
    /// once per wait.
    pub async fn tell_busy(
        &self,
        conversation: &Conversation,
        waiting_since_ms: i64,
    ) -> Result<Option<Message>, StoreError> {
        let Some(notice) = self.notice(conversation, Notice::Busy).await? else {
            return Ok(None);
        };
        let stored = self
            .store
            .record_busy_notice(
                &conversation.tenant_id,
                &conversation.id,
                waiting_since_ms,
                &notice,
                self.delivered_live(conversation).await?,
                now_ms(),
            )
            .await?;
        if let Some(message) = &stored {
            self.announce(message);
        }
        Ok(stored)
    }

    /// Tells live listeners of a stored outbound message and wakes the dispatcher.
    fn announce(&self, message: &Message) {
        self.live.publish_for(
            &message.tenant_id,
            &message.conversation_id,
            LiveEvent::Message(Arc::new(message.clone())),
        );
        self.outbox_wake.notify_one();
    }

    /// The bot's text of `which` in the conversation's language (none if the bot is gone).
    async fn notice(
        &self,
        conversation: &Conversation,
        which: Notice,
    ) -> Result<Option<NewMessage>, StoreError> {
        let bot = self.store.bot(&conversation.bot_id).await?;
        Ok(bot.map(|bot| super::notice(&bot, &conversation.language, which)))
    }

    /// Whether the conversation's channel reads replies from the store (the widget).
    async fn delivered_live(&self, conversation: &Conversation) -> Result<bool, StoreError> {
        let channel = self.store.channel(&conversation.channel_id).await?;
        Ok(channel.is_some_and(|channel| channel.kind == ChannelKind::Widget))
    }
}
