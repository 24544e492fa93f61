//! A Telegram `Update` (the webhook body) as loa events.
//!
//! - `message`: one message event from the chat (text, or caption plus attachments).
//! - `callback_query` (an inline button pressed): one postback event with the button's
//!   `callback_data`, and the query's id to answer.
//! - `edited_message` and every other kind (`my_chat_member`, `channel_post`, polls …):
//!   no event. The bot answered the original message already; answering an edit too
//!   would answer the same question twice.
//!
//! The event id is `tg:<update_id>:<message_id>` (`tg:<update_id>` for a button press):
//! Telegram resends an update it got no 2xx for, and the host drops the second event with
//! the same id. The message id is kept for `check-sent` (`probe`).

use loa_sdk::{Attachment, ContactRef, EventKind, InboundEvent, Message};
use serde::Deserialize;
use serde_json::Value;

/// Prefix of the attachment URLs of files received from Telegram, followed by the
/// `file_id`. Telegram's own download URL carries the bot token, so it is never stored:
/// `getFile` turns the id into a download when someone needs the file, and `send` accepts
/// such a URL back (Telegram resends a file by its id).
pub const FILE_URL_PREFIX: &str = "tg-file:";

/// What one update asks of the plugin.
#[derive(Debug, Clone, PartialEq)]
pub struct Parsed {
    /// Events for the host (none for updates the bot ignores).
    pub events: Vec<InboundEvent>,
    /// The id of a callback query to answer, so the customer's button stops spinning.
    pub callback_query_id: Option<String>,
    /// The update's kind, for the log: `message`, `callback_query`, `edited_message` …
    pub kind: String,
}

#[derive(Deserialize)]
struct User {
    id: i64,
    #[serde(default)]
    first_name: Option<String>,
    #[serde(default)]
    last_name: Option<String>,
    #[serde(default)]
    username: Option<String>,
}

#[derive(Deserialize)]
struct Chat {
    id: i64,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    first_name: Option<String>,
    #[serde(default)]
    last_name: Option<String>,
    #[serde(default)]
    username: Option<String>,
}

#[derive(Deserialize)]
struct File {
    file_id: String,
    #[serde(default)]
    file_name: Option<String>,
    #[serde(default)]
    mime_type: Option<String>,
}

#[derive(Deserialize)]
struct Sticker {
    file_id: String,
    #[serde(default)]
    is_animated: bool,
    #[serde(default)]
    is_video: bool,
}

#[derive(Deserialize)]
struct Location {
    latitude: f64,
    longitude: f64,
}

#[derive(Deserialize)]
struct SharedContact {
    phone_number: String,
    #[serde(default)]
    first_name: Option<String>,
}

#[derive(Deserialize)]
struct TelegramMessage {
    message_id: i64,
    #[serde(default)]
    from: Option<User>,
    chat: Chat,
    date: i64,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    caption: Option<String>,
    #[serde(default)]
    photo: Vec<File>,
    #[serde(default)]
    document: Option<File>,
    #[serde(default)]
    video: Option<File>,
    #[serde(default)]
    audio: Option<File>,
    #[serde(default)]
    voice: Option<File>,
    #[serde(default)]
    sticker: Option<Sticker>,
    #[serde(default)]
    location: Option<Location>,
    #[serde(default)]
    contact: Option<SharedContact>,
}

/// The chat of a callback query's message: all that is needed of it (an inaccessible
/// message still has its chat).
#[derive(Deserialize)]
struct CallbackMessage {
    chat: Chat,
}

#[derive(Deserialize)]
struct CallbackQuery {
    id: String,
    from: User,
    #[serde(default)]
    message: Option<CallbackMessage>,
    #[serde(default)]
    data: Option<String>,
}

/// Parses the webhook body. `Err` says why it is not an Update (not JSON, not an object,
/// no integer `update_id`); an Update whose content cannot be read is `Ok` with no
/// events, so Telegram does not resend it forever.
pub fn parse(body: &[u8], now_ms: u64) -> Result<Parsed, String> {
    let update: Value =
        serde_json::from_slice(body).map_err(|error| format!("the body is not JSON: {error}"))?;
    let Value::Object(fields) = update else {
        return Err("the body is not a Telegram Update: not a JSON object".into());
    };
    let update_id = fields
        .get("update_id")
        .and_then(Value::as_i64)
        .ok_or("the body is not a Telegram Update: no integer update_id")?;
    let kind = fields
        .keys()
        .find(|key| *key != "update_id")
        .cloned()
        .unwrap_or_else(|| "empty".into());
    let event_id = format!("tg:{update_id}");
    let mut parsed = Parsed {
        events: Vec::new(),
        callback_query_id: None,
        kind,
    };
    if let Some(message) = fields.get("message") {
        let message = TelegramMessage::deserialize(message).ok();
        parsed.events.extend(message.and_then(|message| {
            // The message's id, kept with the update's: a reply's id counts on from it
            // (`probe`).
            let event_id = format!("{event_id}:{}", message.message_id);
            message_event(event_id, message)
        }));
    } else if let Some(query) = fields.get("callback_query")
        && let Ok(query) = CallbackQuery::deserialize(query)
    {
        parsed.callback_query_id = Some(query.id.clone());
        parsed
            .events
            .extend(postback_event(event_id, query, now_ms));
    }
    Ok(parsed)
}

fn message_event(event_id: String, message: TelegramMessage) -> Option<InboundEvent> {
    let contact = contact(&message.chat, message.from.as_ref());
    let timestamp_ms = u64::try_from(message.date)
        .unwrap_or(0)
        .saturating_mul(1000);
    let content = content(message)?;
    Some(InboundEvent {
        channel_message_id: event_id,
        contact,
        timestamp_ms,
        kind: EventKind::Message(content),
    })
}

fn postback_event(event_id: String, query: CallbackQuery, now_ms: u64) -> Option<InboundEvent> {
    // A game button carries no data: nothing for the bot to act on.
    let data = query.data?;
    let contact = match &query.message {
        Some(message) => contact(&message.chat, Some(&query.from)),
        // A button under an inline-mode message has no chat; the presser's private chat
        // with the bot has their user id.
        None => contact(
            &Chat {
                id: query.from.id,
                title: None,
                first_name: None,
                last_name: None,
                username: None,
            },
            Some(&query.from),
        ),
    };
    Some(InboundEvent {
        channel_message_id: event_id,
        contact,
        // A callback query has no date of its own: it happened now.
        timestamp_ms: now_ms,
        kind: EventKind::Postback(data),
    })
}

/// The chat is the conversation: replies go to `chat.id` (a group's id, in a group).
fn contact(chat: &Chat, from: Option<&User>) -> ContactRef {
    let chat_name = chat.title.clone().or_else(|| {
        full_name(
            chat.first_name.as_deref(),
            chat.last_name.as_deref(),
            chat.username.as_deref(),
        )
    });
    let user_name = from.and_then(|user| {
        full_name(
            user.first_name.as_deref(),
            user.last_name.as_deref(),
            user.username.as_deref(),
        )
    });
    ContactRef {
        channel_user_id: chat.id.to_string(),
        display_name: chat_name.or(user_name),
    }
}

/// "First Last", else "First", else "@username".
fn full_name(first: Option<&str>, last: Option<&str>, username: Option<&str>) -> Option<String> {
    let names: Vec<&str> = [first, last]
        .into_iter()
        .flatten()
        .map(str::trim)
        .filter(|name| !name.is_empty())
        .collect();
    if names.is_empty() {
        username.map(|username| format!("@{username}"))
    } else {
        Some(names.join(" "))
    }
}

/// The message's text and files; `None` when it carries nothing the bot can read (a
/// service message: someone joined, a pinned message …).
fn content(message: TelegramMessage) -> Option<Message> {
    let mut attachments = Vec::new();
    // Telegram sends each photo in several sizes, smallest first.
    if let Some(photo) = message.photo.last() {
        attachments.push(file_attachment(photo, "image/jpeg"));
    }
    for (file, default_mime) in [
        (&message.document, "application/octet-stream"),
        (&message.video, "video/mp4"),
        (&message.audio, "audio/mpeg"),
        (&message.voice, "audio/ogg"),
    ] {
        attachments.extend(
            file.as_ref()
                .map(|file| file_attachment(file, default_mime)),
        );
    }
    if let Some(sticker) = &message.sticker {
        let mime = if sticker.is_video {
            "video/webm"
        } else if sticker.is_animated {
            "application/x-tgsticker"
        } else {
            "image/webp"
        };
        attachments.push(Attachment {
            url: format!("{FILE_URL_PREFIX}{}", sticker.file_id),
            mime: mime.into(),
            name: None,
        });
    }
    // The message model has no place for a location or a shared contact: they become
    // text a person (or the bot) can read.
    let placeholder = match (&message.location, &message.contact) {
        (Some(location), _) => Some(format!(
            "📍 {:.6}, {:.6}",
            location.latitude, location.longitude
        )),
        (None, Some(shared)) => Some(match &shared.first_name {
            Some(name) => format!("📞 {name}: {}", shared.phone_number),
            None => format!("📞 {}", shared.phone_number),
        }),
        (None, None) => None,
    };
    let text = message
        .text
        .or(message.caption)
        .or(placeholder)
        .filter(|text| !text.trim().is_empty());
    if text.is_none() && attachments.is_empty() {
        return None;
    }
    Some(Message {
        text,
        attachments,
        ..Message::default()
    })
}

fn file_attachment(file: &File, default_mime: &str) -> Attachment {
    Attachment {
        url: format!("{FILE_URL_PREFIX}{}", file.file_id),
        mime: file
            .mime_type
            .clone()
            .unwrap_or_else(|| default_mime.to_owned()),
        name: file.file_name.clone(),
    }
}

#[cfg(test)]
#[path = "update_tests.rs"]
mod tests;
