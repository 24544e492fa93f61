//! Conversations: the records (tenants, bots, channels, contacts, sessions, messages),
//! the message content model, and the pipeline that turns an inbound event into replies.

pub mod agent;
pub mod bot_plugins;
pub mod cache;
pub mod channel_directory;
pub mod choices;
pub mod content;
pub mod handover;
pub mod live;
pub mod middleware;
pub mod model;
pub mod normalize;
pub mod orchestrator;
pub mod pipeline;
pub mod relay;
pub mod shop_file;
pub mod turn;

pub use content::Content;

use serde::{Deserialize, Serialize};

/// A normalized channel event as the inbox keeps it (the host-side twin of the WIT
/// `inbound-event`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InboundEvent {
    /// The channel's id for the event.
    pub channel_message_id: String,
    /// The channel's id for the customer.
    pub channel_user_id: String,
    /// Display name, when the channel tells it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Language hint (the widget's `data-lang`), when the channel has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
    /// When the channel says it happened, ms since the Unix epoch.
    pub timestamp_ms: i64,
    /// What happened.
    pub kind: InboundKind,
}

/// What an inbound event is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InboundKind {
    /// A message.
    Message(Content),
    /// A button or quick reply was pressed: its title (shown in history) and payload.
    Postback {
        /// Text shown in the conversation.
        title: String,
        /// What the button carried.
        payload: String,
    },
    /// The customer followed the account.
    Follow,
    /// The customer unfollowed or blocked the account.
    Unfollow,
    /// The customer read messages up to this time.
    Read(i64),
    /// Anything else, raw JSON.
    Other(String),
}
