//! Live updates of conversations inside one host process: a stored message, the bot
//! typing. The widget's sockets (and later the console) subscribe per conversation.
//! Nothing here is durable: a subscriber that misses an event catches up from the store.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::broadcast;

use super::model::Message;

/// Something that happened in a conversation.
#[derive(Debug, Clone, PartialEq)]
pub enum LiveEvent {
    /// A message was stored (the customer's) or delivered (a reply).
    Message(Arc<Message>),
    /// The bot started or stopped composing.
    Typing(bool),
}

/// Events a slow subscriber may lag behind before it is told to catch up from the store.
/// 64: far more than one conversation produces between two reads of a healthy socket.
const BUFFER: usize = 64;

/// Per-conversation broadcast channels, created on first subscribe, dropped when the last
/// subscriber has gone.
#[derive(Default)]
pub struct LiveHub {
    channels: Mutex<HashMap<String, broadcast::Sender<LiveEvent>>>,
}

impl LiveHub {
    /// A hub with no subscribers.
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, broadcast::Sender<LiveEvent>>> {
        self.channels
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Receives the events of `conversation_id` from now on.
    pub fn subscribe(&self, conversation_id: &str) -> broadcast::Receiver<LiveEvent> {
        self.lock()
            .entry(conversation_id.to_owned())
            .or_insert_with(|| broadcast::channel(BUFFER).0)
            .subscribe()
    }

    /// Sends `event` to the subscribers of `conversation_id`, if any.
    pub fn publish(&self, conversation_id: &str, event: LiveEvent) {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn only_subscribers_of_the_conversation_receive_its_events() {
        let hub = LiveHub::new();
        let mut mine = hub.subscribe("a");
        let mut other = hub.subscribe("b");
        hub.publish("a", LiveEvent::Typing(true));
        assert_eq!(mine.recv().await.ok(), Some(LiveEvent::Typing(true)));
        assert!(other.try_recv().is_err());
    }

    #[test]
    fn a_channel_without_subscribers_is_dropped_on_publish() {
        let hub = LiveHub::new();
        drop(hub.subscribe("a"));
        hub.publish("a", LiveEvent::Typing(false));
        assert_eq!(hub.open_channels(), 0);
    }
}
