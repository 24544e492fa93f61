//! The widget's WebSocket frames (see `web/widget-protocol.md`), and the parsing that
//! turns any text into either a frame or a precise error code.

use serde::{Deserialize, Serialize};

use crate::conversation::Content;
use crate::conversation::model::Message;

/// A frame from the browser.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ClientFrame {
    /// The first frame: who the visitor is and what they have already seen.
    Hello {
        /// The id the widget kept in localStorage.
        #[serde(default)]
        visitor_id: Option<String>,
        /// Highest message id already shown.
        #[serde(default)]
        last_seen_id: Option<i64>,
        /// UI language.
        #[serde(default)]
        lang: Option<String>,
        /// The shop's signed user identity.
        #[serde(default)]
        user: Option<SignedUser>,
    },
    /// The visitor wrote (or pressed a chip/button).
    Message {
        /// Unique per message, chosen by the widget; a resend reuses it.
        client_id: String,
        /// What they wrote (or the chip's title).
        text: String,
        /// The chip's or button's payload.
        #[serde(default)]
        payload: Option<String>,
    },
    /// The visitor is typing.
    Typing {
        /// Started or stopped.
        on: bool,
    },
    /// Keep-alive.
    Ping,
}

/// A user identity signed by the shop's backend.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignedUser {
    /// The shop's user id.
    pub id: String,
    /// Display name.
    #[serde(default)]
    pub name: Option<String>,
    /// `hex(HMAC-SHA256(bot widget secret, id))`.
    pub signature: String,
}

const KNOWN_TYPES: [&str; 4] = ["hello", "message", "typing", "ping"];

/// Why a frame was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameError {
    /// `not_json`, `unknown_type` or `bad_frame`.
    pub code: &'static str,
    /// What is wrong.
    pub message: String,
}

/// Parses one text frame.
pub fn parse(text: &str) -> Result<ClientFrame, FrameError> {
    let value: serde_json::Value = serde_json::from_str(text).map_err(|error| FrameError {
        code: "not_json",
        message: format!("frames are JSON objects: {error}"),
    })?;
    let kind = value.get("type").and_then(serde_json::Value::as_str);
    match kind {
        Some(kind) if KNOWN_TYPES.contains(&kind) => {}
        Some(kind) => {
            return Err(FrameError {
                code: "unknown_type",
                message: format!("unknown frame type '{kind}'; expected one of {KNOWN_TYPES:?}"),
            });
        }
        None => {
            return Err(FrameError {
                code: "bad_frame",
                message: "a frame needs a string field \"type\"".into(),
            });
        }
    }
    serde_json::from_value(value).map_err(|error| FrameError {
        code: "bad_frame",
        message: error.to_string(),
    })
}

/// A frame to the browser.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerFrame {
    /// The answer to `hello`.
    Ready {
        /// The id to keep.
        visitor_id: String,
        /// The open conversation, if any.
        conversation_id: Option<String>,
        /// Shown first, not stored.
        welcome: String,
        /// Messages after the visitor's `last_seen_id` (or the latest ones).
        messages: Vec<MessageFrame>,
    },
    /// One message.
    Message(MessageFrame),
    /// The message with this `client_id` is durable.
    Ack {
        /// The widget's id for it.
        client_id: String,
    },
    /// The bot is composing.
    Typing {
        /// Started or stopped.
        on: bool,
    },
    /// Answer to `ping`.
    Pong,
    /// Something was wrong; the connection stays open.
    Error {
        /// Stable code.
        code: &'static str,
        /// What is wrong.
        message: String,
        /// The message it concerns.
        client_id: Option<String>,
        /// When to try again.
        retry_after_ms: Option<u64>,
    },
}

impl ServerFrame {
    /// An error frame.
    pub fn error(
        code: &'static str,
        message: impl Into<String>,
        client_id: Option<String>,
    ) -> Self {
        Self::Error {
            code,
            message: message.into(),
            client_id,
            retry_after_ms: None,
        }
    }
}

/// A stored message as the widget sees it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MessageFrame {
    /// Grows within the conversation.
    pub id: i64,
    /// The conversation.
    pub conversation_id: String,
    /// `contact`, `bot`, `operator` or `system`.
    pub sender: &'static str,
    /// The visitor's own id for their message.
    pub client_id: Option<String>,
    /// What it says.
    pub content: Content,
    /// When it was stored.
    pub created_at_ms: i64,
}

impl MessageFrame {
    /// The frame for `message`; `visitor_prefix` is stripped from inbound channel ids to
    /// give the widget back its `client_id`.
    pub fn new(message: &Message, visitor_prefix: &str) -> Self {
        Self {
            id: message.id,
            conversation_id: message.conversation_id.clone(),
            sender: message.sender.kind(),
            client_id: message
                .channel_message_id
                .as_deref()
                .and_then(|id| id.strip_prefix(visitor_prefix))
                .map(str::to_owned),
            content: message.content.clone(),
            created_at_ms: message.created_at_ms,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_frame_parses() {
        let frame = parse(r#"{"type":"message","client_id":"c1","text":"chào"}"#);
        assert_eq!(
            frame,
            Ok(ClientFrame::Message {
                client_id: "c1".into(),
                text: "chào".into(),
                payload: None
            })
        );
    }

    #[test]
    fn text_that_is_not_json_is_not_json() {
        assert_eq!(parse("hello?").map_err(|e| e.code), Err("not_json"));
    }

    #[test]
    fn an_unknown_type_is_named() {
        let error = parse(r#"{"type":"dance"}"#).expect_err("refused");
        assert_eq!(error.code, "unknown_type");
        assert!(error.message.contains("dance"));
    }

    #[test]
    fn a_missing_field_is_a_bad_frame() {
        let error = parse(r#"{"type":"message","text":"x"}"#).expect_err("refused");
        assert_eq!(error.code, "bad_frame");
        assert!(error.message.contains("client_id"), "{}", error.message);
        assert_eq!(parse(r#"[1,2]"#).map_err(|e| e.code), Err("bad_frame"));
    }

    #[test]
    fn server_frames_carry_their_type() {
        let json = serde_json::to_value(ServerFrame::Ack {
            client_id: "c1".into(),
        })
        .expect("json");
        assert_eq!(json, serde_json::json!({"type": "ack", "client_id": "c1"}));
    }
}
