//! The WIT vocabulary (`loa:plugin/types`) under plain Rust names, plus a few constructors.
//!
//! The types themselves are generated from `wit/types.wit`; their docs are the WIT docs.

pub use crate::bindings::types::loa::plugin::types::{
    Attachment, Button, ButtonAction, CallContext, Card, ChannelCapabilities, ContactRef,
    ConversationRef, DeliveryError, DeliveryReceipt, EventKind, HttpRequest, HttpResponse,
    InboundEvent, Message, PluginError, QuickReply, SendCheck, TemplateMessage, ToolSpec,
    TransientFailure, UnfinishedSend, Verdict, WebhookOutcome,
};

impl ToolSpec {
    /// A tool spec whose argument schema is given as JSON (usually with `serde_json::json!`).
    pub fn new(
        name: impl Into<String>,
        description: impl Into<String>,
        input_schema: &serde_json::Value,
    ) -> Self {
        Self {
            name: name.into(),
            description: description.into(),
            input_schema: input_schema.to_string(),
        }
    }
}

/// An empty message: no text, no attachments, no buttons.
impl Default for Message {
    fn default() -> Self {
        Self {
            text: None,
            attachments: Vec::new(),
            quick_replies: Vec::new(),
            buttons: Vec::new(),
            cards: Vec::new(),
        }
    }
}

impl Message {
    /// A message with only this text.
    pub fn from_text(text: impl Into<String>) -> Self {
        Self {
            text: Some(text.into()),
            ..Self::default()
        }
    }
}

impl DeliveryError {
    /// What went wrong, whatever the kind.
    pub fn reason(&self) -> &str {
        match self {
            Self::Transient(failure) | Self::InDoubt(failure) => &failure.reason,
            Self::Permanent(reason) => reason,
        }
    }

    /// The same error with its reason rewritten by `change` (to say which part of a
    /// reply in several parts failed, for instance).
    pub fn map_reason(self, change: impl FnOnce(String) -> String) -> Self {
        match self {
            Self::Transient(failure) => Self::Transient(TransientFailure {
                reason: change(failure.reason),
                retry_after_ms: failure.retry_after_ms,
            }),
            Self::InDoubt(failure) => Self::InDoubt(TransientFailure {
                reason: change(failure.reason),
                retry_after_ms: failure.retry_after_ms,
            }),
            Self::Permanent(reason) => Self::Permanent(change(reason)),
        }
    }

    /// The same error saying how far a reply in `total` parts got before it (`sent` parts
    /// out), so the delivery log tells what the customer already has. A one-part reply's
    /// error is left as it is.
    pub fn with_parts_sent(self, sent: usize, total: usize) -> Self {
        if total < 2 {
            return self;
        }
        self.map_reason(|reason| format!("{reason} ({sent} of {total} parts sent)"))
    }

    /// This error as `in-doubt` when it is `transient` and `may_have_arrived` (usually
    /// [`HttpError::may_have_arrived`](crate::http::HttpError::may_have_arrived) of the
    /// failed send): the host then asks `check-sent` before sending again, so a message
    /// the provider took without answering is not sent twice.
    pub fn in_doubt_if(self, may_have_arrived: bool) -> Self {
        match self {
            Self::Transient(failure) if may_have_arrived => Self::InDoubt(failure),
            other => other,
        }
    }
}

impl PluginError {
    /// The human-readable part of the error, whatever its kind.
    pub fn message(&self) -> &str {
        match self {
            Self::InvalidInput(message)
            | Self::NotFound(message)
            | Self::Config(message)
            | Self::Upstream(message)
            | Self::Internal(message) => message,
        }
    }

    /// The kind as its WIT case name (`invalid-input`, `not-found`, ...), for logs.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::InvalidInput(_) => "invalid-input",
            Self::NotFound(_) => "not-found",
            Self::Config(_) => "config",
            Self::Upstream(_) => "upstream",
            Self::Internal(_) => "internal",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_of_a_multi_part_reply_says_how_far_it_got() {
        let error = DeliveryError::Permanent("window".into()).with_parts_sent(1, 3);
        assert_eq!(
            error,
            DeliveryError::Permanent("window (1 of 3 parts sent)".into())
        );
        let single = DeliveryError::Permanent("window".into()).with_parts_sent(0, 1);
        assert_eq!(single, DeliveryError::Permanent("window".into()));
    }

    #[test]
    fn tool_spec_new_serializes_the_schema() {
        let spec = ToolSpec::new("t", "d", &serde_json::json!({"type": "object"}));
        assert_eq!(spec.input_schema, r#"{"type":"object"}"#);
    }

    #[test]
    fn message_from_text_has_only_text() {
        let message = Message::from_text("hi");
        assert_eq!(message.text.as_deref(), Some("hi"));
        assert_eq!(
            message,
            Message {
                text: Some("hi".into()),
                ..Message::default()
            }
        );
    }

    #[test]
    fn plugin_error_exposes_kind_and_message() {
        let error = PluginError::NotFound("order A1 not found".into());
        assert_eq!(error.kind(), "not-found");
        assert_eq!(error.message(), "order A1 not found");
    }
}
