//! A loa message as the Bot API calls that show it in a Telegram chat.
//!
//! - Text goes as plain text (no `parse_mode`, so nothing needs escaping), cut into
//!   several `sendMessage` calls when longer than Telegram's 4,096 UTF-16 units.
//! - Attachments follow the text: `sendPhoto` for JPEG, PNG and WebP images,
//!   `sendDocument` for anything else, by URL (or by `file_id` for a `tg-file:` URL).
//! - Buttons and quick replies become one inline keyboard on the last call: buttons one
//!   per row, quick replies three per row. A postback's payload is the `callback_data`
//!   (mapped through the key-value store when over 64 bytes, see `callback.rs`);
//!   an `open-url` opens its URL. Telegram has no call button, and opens only `http`,
//!   `https` and `tg` links: those buttons become a text line instead.
//! - Cards become numbered text (title, subtitle, picture URL) after the text; their
//!   buttons join the keyboard under the card's number.

use loa_sdk::{Attachment, Button, ButtonAction, Card, Message};
use serde_json::{Value, json};

use crate::callback;
use crate::split::{MAX_MESSAGE_UTF16, split_text};
use crate::update::FILE_URL_PREFIX;

/// Quick replies in one keyboard row: chips are short, and three still fit a phone.
const QUICK_REPLIES_PER_ROW: usize = 3;

/// Text of a message that has buttons but nothing else to hang them on (Telegram needs
/// a non-empty text under a keyboard).
const KEYBOARD_ONLY_TEXT: &str = "👇";

/// One Bot API call: `POST {api}/bot{token}/{method}` with `body` as JSON.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiCall {
    /// `sendMessage`, `sendPhoto` or `sendDocument`.
    pub method: &'static str,
    /// The JSON parameters.
    pub body: Value,
}

/// What sending one message takes.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// The calls, in the order the customer should see them.
    pub calls: Vec<ApiCall>,
    /// Key-value entries (key, payload) to write before sending: long button payloads.
    pub mappings: Vec<(String, String)>,
}

/// The calls that send `message` to chat `chat_id`; `Err` says why there is nothing to
/// send (an empty message).
pub fn plan(chat_id: &str, message: &Message) -> Result<Plan, String> {
    let chat = chat_id_value(chat_id);
    let mut mappings = Vec::new();
    let mut degraded = Vec::new();
    let mut rows: Vec<Vec<Value>> = Vec::new();
    for button in &message.buttons {
        rows.extend(keyboard_button(button, "", &mut mappings, &mut degraded).map(|b| vec![b]));
    }
    for (index, card) in message.cards.iter().enumerate() {
        let number = format!("{}. ", index + 1);
        for button in &card.buttons {
            rows.extend(
                keyboard_button(button, &number, &mut mappings, &mut degraded).map(|b| vec![b]),
            );
        }
    }
    let chips: Vec<Value> = message
        .quick_replies
        .iter()
        .map(|chip| {
            let payload = if chip.payload.is_empty() {
                &chip.title
            } else {
                &chip.payload
            };
            callback_button(&chip.title, payload, &mut mappings)
        })
        .collect();
    rows.extend(chips.chunks(QUICK_REPLIES_PER_ROW).map(<[Value]>::to_vec));

    let text = [
        message.text.clone().unwrap_or_default(),
        cards_text(&message.cards),
        degraded.join("\n"),
    ]
    .into_iter()
    .filter(|part| !part.trim().is_empty())
    .collect::<Vec<_>>()
    .join("\n\n");
    let mut calls: Vec<ApiCall> = split_text(&text, MAX_MESSAGE_UTF16)
        .into_iter()
        .map(|piece| ApiCall {
            method: "sendMessage",
            body: json!({"chat_id": chat, "text": piece}),
        })
        .collect();
    calls.extend(
        message
            .attachments
            .iter()
            .map(|file| attachment_call(&chat, file)),
    );
    if !rows.is_empty() {
        if calls.is_empty() {
            calls.push(ApiCall {
                method: "sendMessage",
                body: json!({"chat_id": chat, "text": KEYBOARD_ONLY_TEXT}),
            });
        }
        if let Some(last) = calls.last_mut() {
            last.body["reply_markup"] = json!({"inline_keyboard": rows});
        }
    }
    if calls.is_empty() {
        return Err(
            "nothing to send: the message has no text, attachments, buttons or cards".into(),
        );
    }
    Ok(Plan { calls, mappings })
}

/// A numeric chat id goes as a number, as Telegram documents it; anything else (a
/// channel's `@username`) as a string.
fn chat_id_value(chat_id: &str) -> Value {
    chat_id
        .trim()
        .parse::<i64>()
        .map_or_else(|_| Value::String(chat_id.to_owned()), Value::from)
}

/// The keyboard button for `button` (its label prefixed by `prefix`), or `None` when it
/// became a text line in `degraded`.
fn keyboard_button(
    button: &Button,
    prefix: &str,
    mappings: &mut Vec<(String, String)>,
    degraded: &mut Vec<String>,
) -> Option<Value> {
    let titled = |target: &str| format!("{prefix}{}", label(&button.title, target));
    match &button.action {
        ButtonAction::Postback(payload) => {
            let payload = if payload.is_empty() {
                &button.title
            } else {
                payload
            };
            Some(callback_button(&titled(payload), payload, mappings))
        }
        ButtonAction::OpenUrl(url) if opens_in_telegram(url) => {
            Some(json!({"text": titled(url), "url": url}))
        }
        ButtonAction::OpenUrl(url) => {
            degraded.push(format!("🔗 {}: {url}", titled(url)));
            None
        }
        ButtonAction::Call(number) => {
            // Telegram clients make a phone number in text tappable.
            degraded.push(format!("📞 {}: {number}", titled(number)));
            None
        }
    }
}

/// A button sending `payload` back; `title` is its label as shown.
fn callback_button(title: &str, payload: &str, mappings: &mut Vec<(String, String)>) -> Value {
    let encoded = callback::encode(payload);
    if let Some(mapping) = encoded.mapping
        && !mappings.contains(&mapping)
    {
        mappings.push(mapping);
    }
    json!({"text": label(title, payload), "callback_data": encoded.data})
}

/// The button's title, trimmed; Telegram refuses a button without a label, so the
/// target (payload, URL, number) stands in for a blank one.
fn label(title: &str, target: &str) -> String {
    let title = title.trim();
    if title.is_empty() { target } else { title }.to_owned()
}

/// Links an inline keyboard button may open (others make Telegram refuse the message).
fn opens_in_telegram(url: &str) -> bool {
    let lower = url.trim().to_ascii_lowercase();
    ["http://", "https://", "tg://"]
        .iter()
        .any(|scheme| lower.starts_with(scheme) && lower.len() > scheme.len())
}

/// "1. Title\nSubtitle\nhttps://picture", cards apart by a blank line.
fn cards_text(cards: &[Card]) -> String {
    cards
        .iter()
        .enumerate()
        .map(|(index, card)| {
            let mut lines = vec![format!("{}. {}", index + 1, card.title.trim())];
            lines.extend(card.subtitle.clone().filter(|line| !line.trim().is_empty()));
            lines.extend(card.image_url.clone().filter(|url| !url.trim().is_empty()));
            lines.join("\n")
        })
        .collect::<Vec<_>>()
        .join("\n\n")
}

fn attachment_call(chat: &Value, attachment: &Attachment) -> ApiCall {
    // A file received from Telegram is resent by its id; anything else by its URL.
    let source = attachment
        .url
        .strip_prefix(FILE_URL_PREFIX)
        .unwrap_or(&attachment.url);
    let mime = attachment.mime.to_ascii_lowercase();
    // What sendPhoto takes; a GIF would lose its animation and an SVG is refused.
    let photo = matches!(
        mime.as_str(),
        "image/jpeg" | "image/jpg" | "image/png" | "image/webp"
    );
    if photo {
        ApiCall {
            method: "sendPhoto",
            body: json!({"chat_id": chat, "photo": source}),
        }
    } else {
        ApiCall {
            method: "sendDocument",
            body: json!({"chat_id": chat, "document": source}),
        }
    }
}

#[cfg(test)]
#[path = "render_tests.rs"]
mod tests;
