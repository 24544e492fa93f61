//! Live updates of conversations inside one host process: a stored message, the bot
//! typing, a change of hands. The widget's sockets subscribe per conversation; the
//! operator console subscribes to a whole tenant. Nothing here is durable: a subscriber
//! that misses an event catches up from the store.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use tokio::sync::{broadcast, mpsc};

use super::model::{Conversation, Message};
use crate::store::OperatorPresence;

/// Something that happened in a conversation.
#[derive(Debug, Clone, PartialEq)]
pub enum LiveEvent {
    /// A message was stored (the customer's) or delivered (a reply).
    Message(Arc<Message>),
    /// The bot started or stopped composing.
    Typing(bool),
    /// The conversation changed hands (or was closed): as it is now.
    State(Arc<Conversation>),
}

/// Something that happened in a tenant, for the console's feed.
#[derive(Debug, Clone, PartialEq)]
pub enum TenantEvent {
    /// In one of its conversations (messages and changes of hands; typing stays per
    /// conversation).
    Conversation {
        /// The conversation.
        conversation_id: String,
        /// What happened.
        event: LiveEvent,
    },
    /// An operator came online, went away or sent a heartbeat.
    Presence(Arc<OperatorPresence>),
}

/// Events a slow console may lag behind before it reloads from the store. 1,024: a busy
/// tenant's whole minute of messages.
const TENANT_BUFFER: usize = 1024;

/// Events a slow subscriber may lag behind before it is told to catch up from the store.
/// 64: far more than one conversation produces between two reads of a healthy socket.
const BUFFER: usize = 64;

/// Per-conversation broadcast channels, created on first subscribe, dropped when the last
/// subscriber has gone.
#[derive(Default)]
pub struct LiveHub {
    channels: Mutex<HashMap<String, broadcast::Sender<LiveEvent>>>,
    tenants: Mutex<HashMap<String, broadcast::Sender<TenantEvent>>>,
    /// Where events published here go to reach other instances (PostgreSQL only).
    relay: OnceLock<mpsc::UnboundedSender<RelayNote>>,
}

/// What another instance needs to replay an event of this one: the row to read, not the
/// row itself (notifications are small; the store has it).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "k", rename_all = "snake_case")]
pub enum RelayNote {
    /// A message was stored or delivered.
    Message {
        /// Tenant.
        t: String,
        /// Conversation.
        c: String,
        /// Message id.
        i: i64,
    },
    /// The conversation changed hands.
    State {
        /// Tenant.
        t: String,
        /// Conversation.
        c: String,
    },
    /// The bot started or stopped composing.
    Typing {
        /// Tenant.
        t: String,
        /// Conversation.
        c: String,
        /// Composing.
        on: bool,
    },
    /// An operator's presence changed.
    Presence {
        /// Tenant.
        t: String,
        /// User.
        u: String,
    },
}

impl LiveHub {
    /// A hub with no subscribers.
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, broadcast::Sender<LiveEvent>>> {
        lock(&self.channels)
    }

    /// Receives the events of `conversation_id` from now on.
    pub fn subscribe(&self, conversation_id: &str) -> broadcast::Receiver<LiveEvent> {
        self.lock()
            .entry(conversation_id.to_owned())
            .or_insert_with(|| broadcast::channel(BUFFER).0)
            .subscribe()
    }

    /// Receives the messages and changes of hands of every conversation of `tenant_id`
    /// from now on.
    pub fn subscribe_tenant(&self, tenant_id: &str) -> broadcast::Receiver<TenantEvent> {
        lock(&self.tenants)
            .entry(tenant_id.to_owned())
            .or_insert_with(|| broadcast::channel(TENANT_BUFFER).0)
            .subscribe()
    }

    /// Sends a note of every event published from now on to `relay` (for the other
    /// instances sharing the database). Set once, at start.
    pub fn relay_to(&self, relay: mpsc::UnboundedSender<RelayNote>) {
        if self.relay.set(relay).is_err() {
            tracing::warn!("the live hub already relays; ignoring a second relay");
        }
    }

    /// Sends `event` to the subscribers of `conversation_id` of `tenant_id`, unless it is
    /// typing to the tenant's feed, and to the other instances.
    pub fn publish_for(&self, tenant_id: &str, conversation_id: &str, event: LiveEvent) {
        if let Some(relay) = self.relay.get() {
            let (t, c) = (tenant_id.to_owned(), conversation_id.to_owned());
            let note = match &event {
                LiveEvent::Message(message) => RelayNote::Message {
                    t,
                    c,
                    i: message.id,
                },
                LiveEvent::State(_) => RelayNote::State { t, c },
                LiveEvent::Typing(on) => RelayNote::Typing { t, c, on: *on },
            };
            // Closed only when the host stops.
            let _ = relay.send(note);
        }
        self.deliver_for(tenant_id, conversation_id, event);
    }

    /// Like [`Self::publish_for`], for this instance's listeners only (an event relayed
    /// from another instance).
    pub fn deliver_for(&self, tenant_id: &str, conversation_id: &str, event: LiveEvent) {
        if !matches!(event, LiveEvent::Typing(_)) {
            self.publish_tenant(
                tenant_id,
                TenantEvent::Conversation {
                    conversation_id: conversation_id.to_owned(),
                    event: event.clone(),
                },
            );
        }
        self.publish(conversation_id, event);
    }

    /// Sends `event` to the feed of `tenant_id` and to the other instances.
    pub fn publish_tenant(&self, tenant_id: &str, event: TenantEvent) {
        if let (Some(relay), TenantEvent::Presence(presence)) = (self.relay.get(), &event) {
            let _ = relay.send(RelayNote::Presence {
                t: tenant_id.to_owned(),
                u: presence.user_id.clone(),
            });
        }
        self.deliver_tenant(tenant_id, event);
    }

    /// Sends `event` to the feed of `tenant_id` on this instance only, if anyone follows it.
    pub fn deliver_tenant(&self, tenant_id: &str, event: TenantEvent) {
        let mut tenants = lock(&self.tenants);
        if let Some(sender) = tenants.get(tenant_id)
            && sender.send(event).is_err()
        {
            tenants.remove(tenant_id);
        }
    }

    /// Sends `event` to this instance's subscribers of `conversation_id`, if any.
    fn publish(&self, conversation_id: &str, event: LiveEvent) {
        let mut channels = self.lock();
        if let Some(sender) = channels.get(conversation_id)
            && sender.send(event).is_err()
        {
            // Nobody listens any more.
            channels.remove(conversation_id);
        }
    }

    /// Conversations with at least one subscriber channel (for metrics and tests).
    pub fn open_channels(&self) -> usize {
        self.lock().len()
    }
}

/// The map behind `mutex`; a panic elsewhere never leaves it inconsistent (every update
/// is one insert or remove), so a poisoned lock is used as is.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn only_subscribers_of_the_conversation_receive_its_events() {
        let hub = LiveHub::new();
        let mut mine = hub.subscribe("a");
        let mut other = hub.subscribe("b");
        hub.publish_for("t", "a", LiveEvent::Typing(true));
        assert_eq!(mine.recv().await.ok(), Some(LiveEvent::Typing(true)));
        assert!(other.try_recv().is_err());
    }

    #[tokio::test]
    async fn the_tenant_feed_gets_messages_and_moves_of_its_conversations_only() {
        let hub = LiveHub::new();
        let mut may = hub.subscribe_tenant("may");
        let mut other = hub.subscribe_tenant("other");
        hub.publish_for("may", "a", LiveEvent::Typing(true));
        hub.publish_for("may", "a", LiveEvent::Typing(false));
        let conversation = Arc::new(Conversation {
            id: "a".into(),
            tenant_id: "may".into(),
            bot_id: "b".into(),
            channel_id: "c".into(),
            contact_id: "k".into(),
            state: crate::conversation::model::SessionState::Waiting,
            assigned_to: None,
            state_changed_at_ms: 1,
            language: "vi".into(),
            consecutive_misses: 0,
            last_activity_ms: 1,
            created_at_ms: 1,
        });
        hub.publish_for("may", "a", LiveEvent::State(Arc::clone(&conversation)));
        let got = may.recv().await.expect("an event");
        assert_eq!(
            got,
            TenantEvent::Conversation {
                conversation_id: "a".into(),
                event: LiveEvent::State(conversation),
            }
        );
        assert!(may.try_recv().is_err(), "typing stays off the tenant feed");
        assert!(other.try_recv().is_err());
    }

    #[test]
    fn a_channel_without_subscribers_is_dropped_on_publish() {
        let hub = LiveHub::new();
        drop(hub.subscribe("a"));
        hub.publish_for("t", "a", LiveEvent::Typing(false));
        assert_eq!(hub.open_channels(), 0);
    }
}
