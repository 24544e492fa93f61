//! How big a plugin's result is, to hold it to the response size cap.

use super::bindings::types::{
    Attachment, Button, ButtonAction, Card, ChannelCapabilities, DeliveryError, DeliveryReceipt,
    EventKind, InboundEvent, Message, SendCheck, ToolSpec, Verdict, WebhookOutcome,
};

/// Bytes of text and data a result carries (strings and bodies; fixed-size fields ignored).
pub(crate) trait ResponseSize {
    fn response_size(&self) -> usize;
}

impl ResponseSize for String {
    fn response_size(&self) -> usize {
        self.len()
    }
}

impl<T: ResponseSize> ResponseSize for Vec<T> {
    fn response_size(&self) -> usize {
        self.iter().map(ResponseSize::response_size).sum()
    }
}

impl<T: ResponseSize> ResponseSize for Option<T> {
    fn response_size(&self) -> usize {
        self.as_ref().map_or(0, ResponseSize::response_size)
    }
}

impl ResponseSize for ToolSpec {
    fn response_size(&self) -> usize {
        self.name.len() + self.description.len() + self.input_schema.len()
    }
}

impl ResponseSize for Attachment {
    fn response_size(&self) -> usize {
        self.url.len() + self.mime.len() + self.name.response_size()
    }
}

impl ResponseSize for Button {
    fn response_size(&self) -> usize {
        self.title.len()
            + match &self.action {
                ButtonAction::Postback(text)
                | ButtonAction::OpenUrl(text)
                | ButtonAction::Call(text) => text.len(),
            }
    }
}

impl ResponseSize for Card {
    fn response_size(&self) -> usize {
        self.title.len()
            + self.subtitle.response_size()
            + self.image_url.response_size()
            + self.buttons.response_size()
    }
}

impl ResponseSize for Message {
    fn response_size(&self) -> usize {
        self.text.response_size()
            + self.attachments.response_size()
            + self
                .quick_replies
                .iter()
                .map(|reply| reply.title.len() + reply.payload.len())
                .sum::<usize>()
            + self.buttons.response_size()
            + self.cards.response_size()
    }
}

impl ResponseSize for Verdict {
    fn response_size(&self) -> usize {
        match self {
            Verdict::Continue(message)
            | Verdict::Reply(message)
            | Verdict::ReplyAndContinue(message) => message.response_size(),
            Verdict::Handover(text) | Verdict::Drop(text) => text.len(),
        }
    }
}

impl ResponseSize for InboundEvent {
    fn response_size(&self) -> usize {
        self.channel_message_id.len()
            + self.contact.channel_user_id.len()
            + self.contact.display_name.response_size()
            + match &self.kind {
                EventKind::Message(message) => message.response_size(),
                EventKind::Postback(text) | EventKind::Other(text) => text.len(),
                EventKind::Follow | EventKind::Unfollow | EventKind::Read(_) => 0,
            }
    }
}

impl ResponseSize for WebhookOutcome {
    fn response_size(&self) -> usize {
        self.events.response_size()
            + self.response.body.len()
            + self
                .response
                .headers
                .iter()
                .map(|(name, value)| name.len() + value.len())
                .sum::<usize>()
    }
}

impl ResponseSize for ChannelCapabilities {
    fn response_size(&self) -> usize {
        0
    }
}

impl ResponseSize for DeliveryReceipt {
    fn response_size(&self) -> usize {
        self.provider_message_id.response_size() + self.provider_response.response_size()
    }
}

impl ResponseSize for SendCheck {
    fn response_size(&self) -> usize {
        match self {
            SendCheck::Arrived(receipt) => receipt.response_size(),
            SendCheck::Missing => 0,
            SendCheck::Unknown(reason) => reason.len(),
        }
    }
}

impl ResponseSize for Result<DeliveryReceipt, DeliveryError> {
    fn response_size(&self) -> usize {
        match self {
            Ok(receipt) => receipt.response_size(),
            Err(DeliveryError::Transient(failure) | DeliveryError::InDoubt(failure)) => {
                failure.reason.len()
            }
            Err(DeliveryError::Permanent(reason)) => reason.len(),
        }
    }
}
