//! Messages that leave outside a turn: a shop's own systems sending to a customer
//! (proactive messages: "your order has shipped"), and dead letters an admin puts back in
//! the queue. Both go through the outbox like every reply, so they are retried, logged
//! and kept in order with the conversation's other replies.

use std::sync::Arc;

use tokio::sync::Notify;

use crate::conversation::live::{LiveEvent, LiveHub};
use crate::conversation::model::{Bot, Channel, ChannelKind, Conversation, NewMessage};
use crate::conversation::pipeline::now_ms;
use crate::store::{ConversationOpening, QueueOutcome, QueuedMessage, Requeue, Store, StoreError};

/// A message for one customer of one channel.
#[derive(Debug, Clone, PartialEq)]
pub struct Proactive {
    /// The bot it is sent as.
    pub bot: Bot,
    /// The channel it goes out on (one of the bot's).
    pub channel: Channel,
    /// The channel's id for the customer (Zalo user id, PSID, Telegram chat id).
    pub channel_user_id: String,
    /// What is sent, and by whom.
    pub message: NewMessage,
    /// The caller's key, already scoped to the tenant: a second call with it sends nothing.
    pub idempotency_key: String,
}

/// What [`OutboundDesk::send`] did.
#[derive(Debug, Clone, PartialEq)]
pub struct ProactiveOutcome {
    /// The conversation it went into (the customer's open one, or a new one).
    pub conversation: Conversation,
    /// Stored now, or by an earlier call with the same key.
    pub queued: QueueOutcome,
}

/// Queues messages outside turns and wakes the dispatcher.
pub struct OutboundDesk {
    store: Arc<dyn Store>,
    live: Arc<LiveHub>,
    outbox_wake: Arc<Notify>,
}

impl OutboundDesk {
    /// A desk over `store`, announcing to `live`, waking the dispatcher with `outbox_wake`.
    pub fn new(store: Arc<dyn Store>, live: Arc<LiveHub>, outbox_wake: Arc<Notify>) -> Self {
        Self {
            store,
            live,
            outbox_wake,
        }
    }

    /// Stores and queues a proactive message in the customer's open conversation on the
    /// channel, opening one (and the contact) if there is none.
    pub async fn send(&self, proactive: Proactive) -> Result<ProactiveOutcome, StoreError> {
        let now = now_ms();
        let (_, conversation) = self
            .store
            .open_conversation(&ConversationOpening {
                tenant_id: proactive.bot.tenant_id.clone(),
                bot_id: proactive.bot.id.clone(),
                channel_id: proactive.channel.id.clone(),
                channel_user_id: proactive.channel_user_id.clone(),
                display_name: None,
                language: proactive.bot.settings.default_language().to_owned(),
                now_ms: now,
            })
            .await?;
        let queued = self
            .store
            .queue_message(&QueuedMessage {
                tenant_id: conversation.tenant_id.clone(),
                conversation_id: conversation.id.clone(),
                message: proactive.message,
                idempotency_key: proactive.idempotency_key,
                delivered_live: proactive.channel.kind == ChannelKind::Widget,
                now_ms: now,
            })
            .await?;
        if let QueueOutcome::Stored { message, .. } = &queued {
            self.live.publish_for(
                &message.tenant_id,
                &message.conversation_id,
                LiveEvent::Message(Arc::new(message.clone())),
            );
            self.outbox_wake.notify_one();
        }
        Ok(ProactiveOutcome {
            conversation,
            queued,
        })
    }

    /// Puts a dead letter of the tenant back in the queue, due now with a fresh retry
    /// budget, and wakes the dispatcher.
    pub async fn retry_dead(&self, tenant_id: &str, id: i64) -> Result<Requeue, StoreError> {
        let requeue = self.store.requeue_dead(tenant_id, id, now_ms()).await?;
        if matches!(requeue, Requeue::Requeued(_)) {
            self.outbox_wake.notify_one();
        }
        Ok(requeue)
    }
}
