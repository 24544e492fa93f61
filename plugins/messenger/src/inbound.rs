//! A Messenger webhook body (`{"object":"page","entry":[{"messaging":[…]}]}`) to loa's
//! channel-neutral events.
//!
//! Facebook batches events and retries a batch it got no 200 for, so one odd event is
//! skipped (and reported) rather than failing the whole batch, and every event gets an id
//! that stays the same across retries: the host drops the second copy.

use loa_sdk::{Attachment, ContactRef, EventKind, InboundEvent, Message};
use serde::Deserialize;
use serde_json::Value;

/// Why a body is not a Messenger webhook at all (answered 400).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotAPageWebhook(pub String);

/// The events of one webhook body, and what was left out and why (for the log).
#[derive(Debug, Default, PartialEq)]
pub struct Parsed {
    /// Events to hand to the host, in the order Facebook sent them.
    pub events: Vec<InboundEvent>,
    /// Items skipped because they are malformed, one line each.
    pub skipped: Vec<String>,
}

#[derive(Deserialize)]
struct Webhook {
    object: Option<String>,
    entry: Option<Vec<Entry>>,
}

#[derive(Deserialize)]
struct Entry {
    /// Absent in entries of other fields (`changes`, `standby`): nothing for this bot.
    #[serde(default)]
    messaging: Vec<Value>,
}

#[derive(Deserialize)]
struct Messaging {
    sender: Party,
    timestamp: Option<u64>,
    message: Option<InMessage>,
    postback: Option<Postback>,
    read: Option<Read>,
    delivery: Option<Value>,
}

#[derive(Deserialize)]
struct Party {
    id: String,
}

#[derive(Deserialize)]
struct InMessage {
    mid: Option<String>,
    text: Option<String>,
    #[serde(default)]
    is_echo: bool,
    quick_reply: Option<QuickReplyPress>,
    #[serde(default)]
    attachments: Vec<InAttachment>,
}

#[derive(Deserialize)]
struct QuickReplyPress {
    payload: String,
}

#[derive(Deserialize)]
struct InAttachment {
    #[serde(rename = "type")]
    kind: String,
    payload: Option<AttachmentPayload>,
}

#[derive(Deserialize)]
struct AttachmentPayload {
    url: Option<String>,
    title: Option<String>,
    coordinates: Option<Coordinates>,
}

#[derive(Deserialize)]
struct Coordinates {
    lat: f64,
    long: f64,
}

#[derive(Deserialize)]
struct Postback {
    mid: Option<String>,
    title: Option<String>,
    payload: Option<String>,
}

#[derive(Deserialize)]
struct Read {
    watermark: u64,
}

/// The events in `body`. `now_ms` stands in for a missing timestamp.
pub fn parse(body: &[u8], now_ms: u64) -> Result<Parsed, NotAPageWebhook> {
    let webhook: Webhook = serde_json::from_slice(body)
        .map_err(|error| NotAPageWebhook(format!("the body is not a JSON object: {error}")))?;
    match webhook.object.as_deref() {
        Some("page") => {}
        Some(other) => {
            return Err(NotAPageWebhook(format!(
                "\"object\" is \"{other}\"; a Messenger webhook has \"page\""
            )));
        }
        None => {
            return Err(NotAPageWebhook(
                "no \"object\": a Messenger webhook has \"object\": \"page\"".into(),
            ));
        }
    }
    let entries = webhook.entry.ok_or_else(|| {
        NotAPageWebhook("no \"entry\" list: a Messenger webhook has \"entry\": [...]".into())
    })?;
    let mut parsed = Parsed::default();
    for raw in entries.into_iter().flat_map(|entry| entry.messaging) {
        match serde_json::from_value::<Messaging>(raw.clone()) {
            Ok(item) => parsed.events.extend(event_of(item, &raw, now_ms)),
            Err(error) => parsed.skipped.push(format!("messaging item: {error}")),
        }
    }
    Ok(parsed)
}

/// The one event an item stands for, or none for what the bot ignores: the Page's own
/// messages echoed back and delivery receipts.
fn event_of(item: Messaging, raw: &Value, now_ms: u64) -> Option<InboundEvent> {
    let sender = item.sender.id;
    let timestamp_ms = item.timestamp.unwrap_or(now_ms);
    let (id, kind) = if let Some(message) = item.message {
        if message.is_echo {
            return None;
        }
        let id = message
            .mid
            .clone()
            .unwrap_or_else(|| format!("msg:{sender}:{timestamp_ms}"));
        (id, message_kind(message, raw))
    } else if let Some(postback) = item.postback {
        // Postbacks carry a mid in current API versions; older ones do not, and the sender
        // and time are as stable across retries.
        let id = postback
            .mid
            .unwrap_or_else(|| format!("pb:{sender}:{timestamp_ms}"));
        let payload = postback
            .payload
            .filter(|payload| !payload.is_empty())
            .or(postback.title)
            .unwrap_or_default();
        (id, EventKind::Postback(payload))
    } else if let Some(read) = item.read {
        let id = format!("read:{sender}:{}", read.watermark);
        (id, EventKind::Read(read.watermark))
    } else if item.delivery.is_some() {
        return None;
    } else {
        // Reactions, referrals, opt-ins …: kept raw for middleware.
        let field = raw
            .as_object()
            .and_then(|fields| {
                fields
                    .keys()
                    .find(|key| !matches!(key.as_str(), "sender" | "recipient" | "timestamp"))
            })
            .map_or("event", String::as_str);
        let id = format!("{field}:{sender}:{timestamp_ms}");
        (id, EventKind::Other(raw.to_string()))
    };
    Some(InboundEvent {
        channel_message_id: id,
        contact: ContactRef {
            channel_user_id: sender,
            display_name: None,
        },
        timestamp_ms,
        kind,
    })
}

/// A customer's message. A quick-reply press arrives as a message whose text is the chip's
/// title; the payload is what the bot chose, so it becomes a postback (WIT's postback has
/// room for the payload only, so the title is not passed on).
fn message_kind(message: InMessage, raw: &Value) -> EventKind {
    if let Some(press) = message.quick_reply {
        return EventKind::Postback(press.payload);
    }
    let attachments: Vec<Attachment> = message
        .attachments
        .into_iter()
        .filter_map(attachment_of)
        .collect();
    let text = message.text.filter(|text| !text.trim().is_empty());
    if text.is_none() && attachments.is_empty() {
        // A sticker without URL, a shared post … nothing the bot can read.
        return EventKind::Other(raw.to_string());
    }
    EventKind::Message(Message {
        text,
        attachments,
        ..Message::default()
    })
}

/// An attachment as loa models it. Messenger gives a type, not a MIME type, so the MIME
/// type is the type's family (`image/*`); a location becomes a `geo:` URI.
fn attachment_of(attachment: InAttachment) -> Option<Attachment> {
    let payload = attachment.payload?;
    let (url, mime) = match attachment.kind.as_str() {
        "image" => (payload.url?, "image/*"),
        "video" => (payload.url?, "video/*"),
        "audio" => (payload.url?, "audio/*"),
        "file" => (payload.url?, "application/octet-stream"),
        "location" => {
            let url = match payload.coordinates {
                Some(at) => format!("geo:{},{}", at.lat, at.long),
                None => payload.url?,
            };
            (url, GEO_URI_MIME)
        }
        // A shared link ("fallback") or anything newer with a URL: a web page.
        _ => (payload.url?, "text/html"),
    };
    Some(Attachment {
        url,
        mime: mime.to_owned(),
        name: payload.title,
    })
}

/// MIME type given to a shared location (`url` is `geo:lat,long`, RFC 5870); there is no
/// registered type for a bare geo URI.
pub const GEO_URI_MIME: &str = "application/x-geo-uri";

#[cfg(test)]
mod tests;
