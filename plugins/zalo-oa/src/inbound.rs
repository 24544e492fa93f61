//! A Zalo OA webhook body to loa's channel-neutral events.
//!
//! Zalo posts one event per request: `{"app_id", "event_name", "timestamp", "sender",
//! "recipient", "message", …}`, `timestamp` a string of ms. The envelope is checked
//! first (it is what the signature covers); then the event becomes at most one loa event,
//! with an id that stays the same when Zalo resends it, so the host drops the copy.

use loa_sdk::{Attachment, ContactRef, EventKind, InboundEvent, Message};
use serde_json::{Map, Value};

/// Prefix of every event id this plugin gives the host.
pub const ID_PREFIX: &str = "zalo:";

/// Why a body is not a Zalo OA event at all (answered 400).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotAZaloEvent(pub String);

/// The parts of a Zalo event that the signature and routing need.
#[derive(Debug, Clone, PartialEq)]
pub struct Envelope {
    /// The whole event.
    pub fields: Map<String, Value>,
    /// `event_name`, e.g. `user_send_text`.
    pub event_name: String,
    /// `timestamp` exactly as written in the body (the signature covers this text).
    pub timestamp: String,
}

/// What one webhook came to.
#[derive(Debug, Clone, PartialEq)]
pub struct Parsed {
    /// Zero or one event for the host.
    pub events: Vec<InboundEvent>,
    /// Why nothing came of it, when nothing did (for the log).
    pub ignored: Option<String>,
}

/// Checks that `body` is a Zalo OA event for the app `app_id`.
pub fn envelope(body: &[u8], app_id: &str) -> Result<Envelope, NotAZaloEvent> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|error| NotAZaloEvent(format!("the body is not JSON: {error}")))?;
    let Value::Object(fields) = value else {
        return Err(NotAZaloEvent(
            "the body is not a Zalo OA event: not a JSON object".into(),
        ));
    };
    let event_name = fields
        .get("event_name")
        .and_then(Value::as_str)
        .filter(|name| !name.trim().is_empty())
        .ok_or_else(|| NotAZaloEvent("the body is not a Zalo OA event: no \"event_name\"".into()))?
        .to_owned();
    let event_app = fields
        .get("app_id")
        .and_then(scalar_text)
        .ok_or_else(|| NotAZaloEvent("the body is not a Zalo OA event: no \"app_id\"".into()))?;
    if event_app != app_id.trim() {
        return Err(NotAZaloEvent(format!(
            "the event is for Zalo app {event_app}, not this channel's app_id"
        )));
    }
    let timestamp = fields
        .get("timestamp")
        .and_then(scalar_text)
        .filter(|text| !text.is_empty() && text.bytes().all(|byte| byte.is_ascii_digit()))
        .ok_or_else(|| {
            NotAZaloEvent(
                "the body is not a Zalo OA event: no \"timestamp\" of milliseconds".into(),
            )
        })?;
    Ok(Envelope {
        fields,
        event_name,
        timestamp,
    })
}

/// The event `envelope` stands for. `now_ms` stands in for an unreadable timestamp.
pub fn events(envelope: &Envelope, now_ms: u64) -> Parsed {
    let name = envelope.event_name.as_str();
    let fields = &envelope.fields;
    let timestamp_ms = envelope.timestamp.parse::<u64>().unwrap_or(now_ms);
    let ignored = |why: &str| Parsed {
        events: Vec::new(),
        ignored: Some(format!("{name}: {why}")),
    };
    if name.starts_with("oa_send_") {
        return ignored("the OA's own message, echoed");
    }
    let (user, kind) = match name {
        "user_click_chatnow" => return ignored("the customer opened the chat; nothing said yet"),
        // Delivered to the phone is not read; loa has no delivery event.
        "user_received_message" => return ignored("a delivery receipt"),
        "user_seen_message" => (id_at(fields, "recipient"), EventKind::Read(timestamp_ms)),
        "follow" => (follower(fields), EventKind::Follow),
        "unfollow" => (follower(fields), EventKind::Unfollow),
        _ if is_message(name) => (
            id_at(fields, "sender"),
            message_kind(name, fields.get("message"), fields),
        ),
        _ if name.starts_with("user_") => (
            id_at(fields, "sender"),
            EventKind::Other(Value::Object(fields.clone()).to_string()),
        ),
        _ => (
            follower(fields),
            EventKind::Other(Value::Object(fields.clone()).to_string()),
        ),
    };
    let Some(user) = user else {
        return ignored("no user id in the event");
    };
    let message_id = fields
        .get("message")
        .and_then(|message| message.get("msg_id").or_else(|| message.get("mid")))
        .and_then(scalar_text)
        .filter(|id| !id.is_empty() && !matches!(kind, EventKind::Read(_)));
    let channel_message_id = match message_id {
        Some(id) => format!("{ID_PREFIX}{id}"),
        // Follows, reads …: the event, its time and its user are as stable across resends.
        None => format!("{ID_PREFIX}{name}:{}:{user}", envelope.timestamp),
    };
    Parsed {
        events: vec![InboundEvent {
            channel_message_id,
            contact: ContactRef {
                channel_user_id: user,
                display_name: None,
            },
            timestamp_ms,
            kind,
        }],
        ignored: None,
    }
}

/// The events a customer's message arrives as.
fn is_message(name: &str) -> bool {
    matches!(
        name,
        "user_send_text"
            | "user_send_image"
            | "user_send_gif"
            | "user_send_sticker"
            | "user_send_file"
            | "user_send_audio"
            | "user_send_video"
            | "user_send_link"
            | "user_send_location"
    )
}

/// A customer's message: its text and files. A location has no place in loa's message
/// model, so it becomes text with the coordinates; a message with nothing readable is
/// passed on raw.
fn message_kind(name: &str, message: Option<&Value>, fields: &Map<String, Value>) -> EventKind {
    let empty = Map::new();
    let message = message.and_then(Value::as_object).unwrap_or(&empty);
    let mut attachments = Vec::new();
    let mut location = None;
    for item in message
        .get("attachments")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let kind = item.get("type").and_then(Value::as_str).unwrap_or_default();
        let payload = item.get("payload").unwrap_or(&Value::Null);
        if kind == "location" {
            location = location.or_else(|| coordinates(payload.get("coordinates")));
            continue;
        }
        attachments.extend(attachment_of(kind, payload));
    }
    if name == "user_send_location" {
        location = location.or_else(|| coordinates(message.get("location")));
    }
    let text = message
        .get("text")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .filter(|text| !text.trim().is_empty())
        .or(location);
    if text.is_none() && attachments.is_empty() {
        return EventKind::Other(Value::Object(fields.clone()).to_string());
    }
    EventKind::Message(Message {
        text,
        attachments,
        ..Message::default()
    })
}

/// A file as loa models it. Zalo gives a type, not a MIME type, so the MIME type is the
/// type's family (`image/*`); a shared link is a web page.
fn attachment_of(kind: &str, payload: &Value) -> Option<Attachment> {
    let url = payload
        .get("url")
        .and_then(Value::as_str)
        .filter(|url| !url.is_empty())?
        .to_owned();
    let text_of = |key: &str| {
        payload
            .get(key)
            .and_then(Value::as_str)
            .filter(|text| !text.trim().is_empty())
            .map(str::to_owned)
    };
    let (mime, name) = match kind {
        "image" | "sticker" => ("image/*", None),
        "gif" => ("image/gif", None),
        "audio" | "voice" => ("audio/*", None),
        "video" => ("video/*", text_of("description")),
        "file" => ("application/octet-stream", text_of("name")),
        "link" => (
            "text/html",
            text_of("description").or_else(|| text_of("title")),
        ),
        _ => ("application/octet-stream", text_of("name")),
    };
    Some(Attachment {
        url,
        mime: mime.to_owned(),
        name,
    })
}

/// `📍 10.762622, 106.660172` from `{"latitude", "longitude"}` (strings in Zalo's
/// samples; numbers accepted too).
fn coordinates(value: Option<&Value>) -> Option<String> {
    let value = value?;
    let number = |keys: &[&str]| {
        keys.iter()
            .find_map(|key| value.get(*key))
            .and_then(|field| match field {
                Value::Number(number) => number.as_f64(),
                Value::String(text) => text.trim().parse::<f64>().ok(),
                _ => None,
            })
            .filter(|number| number.is_finite())
    };
    let latitude = number(&["latitude", "lat"])?;
    let longitude = number(&["longitude", "long", "lng"])?;
    Some(format!("📍 {latitude:.6}, {longitude:.6}"))
}

/// `fields[key].id`: the sender or recipient.
fn id_at(fields: &Map<String, Value>, key: &str) -> Option<String> {
    fields
        .get(key)
        .and_then(|party| party.get("id"))
        .and_then(scalar_text)
        .filter(|id| !id.is_empty())
}

/// Who followed or unfollowed: `follower.id` in Zalo's samples, `sender.id` in others.
fn follower(fields: &Map<String, Value>) -> Option<String> {
    id_at(fields, "follower").or_else(|| id_at(fields, "sender"))
}

/// A string as it is, a number as written: Zalo sends ids and times as strings, and a
/// number would lose digits in a float.
fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.trim().to_owned()),
        Value::Number(number) => Some(number.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests;
