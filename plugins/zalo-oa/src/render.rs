//! loa's channel-neutral message to the `message` objects of Zalo's customer-service
//! API, one per call, in the order the customer should see them:
//!
//! 1. the text, split at 2,000 UTF-16 units on a paragraph, line, sentence or word
//!    boundary; cards become numbered text after it (title, subtitle, link, picture), and
//!    files Zalo cannot take by URL become link lines;
//! 2. up to 5 buttons ride on the last text part (`attachment.payload.buttons`):
//!    `oa.query.hide` for postbacks (payload mapped through the key-value store, see
//!    `postback.rs`), `oa.open.url`, `oa.open.phone`; quick replies are postback buttons
//!    too. When buttons and quick replies together are more than 5, the links and calls
//!    stay buttons and the postback options become numbered lines ending "Trả lời 1, 2
//!    hoặc 3.", answered by number;
//! 3. each JPEG or PNG image as a media message (`template_type: media`, by URL).

use loa_sdk::{Attachment, ButtonAction, Card, Message};
use serde_json::{Value, json};

use crate::postback;
use crate::split::{MAX_TEXT_UTF16, split_text};

/// Most buttons under one message (Zalo's SDKs and docs: five).
pub const MAX_BUTTONS: usize = 5;
/// Longest button title, in characters.
pub const MAX_BUTTON_TITLE_CHARS: usize = 100;
/// The text carrying buttons when the message has none: Zalo hangs buttons on a text.
pub const PROMPT_WITHOUT_TEXT: &str = "👇";

/// The `message` objects for one loa message, and what has to be kept to read the answers.
#[derive(Debug, Default, PartialEq)]
pub struct Rendered {
    /// One `message` object per call, in order.
    pub parts: Vec<Value>,
    /// Key-value entries `(key, payload)` to write before sending: postback buttons.
    pub mappings: Vec<(String, String)>,
    /// Payloads of the numbered options, in order (empty when there are none).
    pub choices: Vec<String>,
    /// What was degraded, for the log.
    pub notes: Vec<String>,
}

/// One thing the customer can press or pick: a button, a card's button, a quick reply.
struct Offer {
    title: String,
    action: ButtonAction,
}

/// Renders `message` for the customer-service API.
pub fn render(message: &Message) -> Rendered {
    let mut rendered = Rendered::default();
    let mut options: Vec<Offer> = message
        .buttons
        .iter()
        .map(|button| Offer {
            title: button.title.clone(),
            action: button.action.clone(),
        })
        .collect();
    for (index, card) in message.cards.iter().enumerate() {
        options.extend(card.buttons.iter().map(|button| Offer {
            title: format!("{}. {}", index + 1, button.title),
            action: button.action.clone(),
        }));
    }
    options.extend(message.quick_replies.iter().map(|chip| Offer {
        title: chip.title.clone(),
        action: ButtonAction::Postback(if chip.payload.is_empty() {
            chip.title.clone()
        } else {
            chip.payload.clone()
        }),
    }));

    // Links Zalo cannot open and empty numbers are lines, whatever else happens.
    let mut lines = Vec::new();
    options.retain(|option| match &option.action {
        ButtonAction::OpenUrl(url) if !is_web_url(url) => {
            lines.push(format!("🔗 {}: {url}", option.title));
            false
        }
        ButtonAction::Call(number) if number.trim().is_empty() => false,
        _ => true,
    });
    let mut buttons = Vec::new();
    let mut numbered = Vec::new();
    if options.len() <= MAX_BUTTONS {
        buttons = options;
    } else {
        rendered.notes.push(format!(
            "{} buttons and quick replies: links and calls as buttons, postbacks as numbered options",
            options.len()
        ));
        for option in options {
            if matches!(option.action, ButtonAction::Postback(_)) {
                numbered.push(option);
            } else if buttons.len() < MAX_BUTTONS {
                buttons.push(option);
            } else if let ButtonAction::OpenUrl(target) | ButtonAction::Call(target) =
                &option.action
            {
                lines.push(format!("{}: {target}", option.title));
            }
        }
    }

    let (images, files): (Vec<&Attachment>, Vec<&Attachment>) = message
        .attachments
        .iter()
        .partition(|file| is_sendable_image(file));
    lines.extend(files.iter().map(|file| file_line(file)));
    if !files.is_empty() {
        rendered.notes.push(format!(
            "{} file(s) sent as links: Zalo takes only images by URL",
            files.len()
        ));
    }
    let mut option_lines = Vec::new();
    for (index, option) in numbered.iter().enumerate() {
        option_lines.push(format!("{}. {}", index + 1, option.title));
        if let ButtonAction::Postback(payload) = &option.action {
            rendered.choices.push(payload.clone());
        }
    }
    if !option_lines.is_empty() {
        option_lines.push(postback::reply_hint(numbered.len()));
    }

    let text = [
        message.text.clone().unwrap_or_default(),
        cards_text(&message.cards),
        lines.join("\n"),
        option_lines.join("\n"),
    ]
    .into_iter()
    .map(|part| part.trim().to_owned())
    .filter(|part| !part.is_empty())
    .collect::<Vec<_>>()
    .join("\n\n");
    let mut parts: Vec<Value> = split_text(&text, MAX_TEXT_UTF16)
        .into_iter()
        .map(|piece| json!({ "text": piece }))
        .collect();
    if parts.len() > 1 {
        rendered.notes.push(format!(
            "text split into {} messages of at most {MAX_TEXT_UTF16} UTF-16 units",
            parts.len()
        ));
    }
    if !buttons.is_empty() {
        if parts.is_empty() {
            parts.push(json!({ "text": PROMPT_WITHOUT_TEXT }));
        }
        let zalo_buttons: Vec<Value> = buttons
            .iter()
            .map(|option| button(option, &mut rendered.mappings))
            .collect();
        if let Some(last) = parts.last_mut() {
            last["attachment"] = json!({
                "type": "template",
                "payload": { "buttons": zalo_buttons }
            });
        }
    }
    parts.extend(images.iter().map(|image| image_message(&image.url)));
    rendered.parts = parts;
    rendered
}

/// One Zalo button.
fn button(option: &Offer, mappings: &mut Vec<(String, String)>) -> Value {
    let fallback = match &option.action {
        ButtonAction::Postback(target)
        | ButtonAction::OpenUrl(target)
        | ButtonAction::Call(target) => target.as_str(),
    };
    let title = if option.title.trim().is_empty() {
        fallback
    } else {
        option.title.trim()
    };
    let title = shorten(title, MAX_BUTTON_TITLE_CHARS);
    match &option.action {
        ButtonAction::Postback(payload) => {
            let encoded = postback::encode(payload);
            if !mappings.contains(&encoded.mapping) {
                mappings.push(encoded.mapping);
            }
            json!({"title": title, "type": "oa.query.hide", "payload": encoded.payload})
        }
        ButtonAction::OpenUrl(url) => {
            json!({"title": title, "type": "oa.open.url", "payload": {"url": url}})
        }
        ButtonAction::Call(number) => json!({
            "title": title,
            "type": "oa.open.phone",
            "payload": {"phone_code": number.trim()}
        }),
    }
}

/// An image Zalo fetches by URL (its media message documents JPG and PNG).
fn image_message(url: &str) -> Value {
    json!({
        "attachment": {
            "type": "template",
            "payload": {
                "template_type": "media",
                "elements": [{"media_type": "image", "url": url}]
            }
        }
    })
}

fn is_sendable_image(file: &Attachment) -> bool {
    let mime = file.mime.to_ascii_lowercase();
    is_web_url(&file.url) && matches!(mime.as_str(), "image/jpeg" | "image/jpg" | "image/png")
}

fn is_web_url(url: &str) -> bool {
    let url = url.trim().to_ascii_lowercase();
    url.starts_with("https://") || url.starts_with("http://")
}

/// `📎 bao-gia.pdf: https://…` for a file Zalo cannot take by URL (other files need
/// Zalo's upload API first).
fn file_line(file: &Attachment) -> String {
    match &file.name {
        Some(name) if !name.trim().is_empty() => format!("📎 {}: {}", name.trim(), file.url),
        _ => format!("📎 {}", file.url),
    }
}

/// Cards as numbered text: title, subtitle, link, picture.
fn cards_text(cards: &[Card]) -> String {
    cards
        .iter()
        .enumerate()
        .map(|(index, card)| {
            let mut lines = vec![format!("{}. {}", index + 1, card.title.trim())];
            lines.extend(
                card.subtitle
                    .iter()
                    .map(|subtitle| subtitle.trim().to_owned())
                    .filter(|subtitle| !subtitle.is_empty()),
            );
            lines.extend(card.buttons.iter().find_map(|button| match &button.action {
                ButtonAction::OpenUrl(url) => Some(format!("🔗 {url}")),
                _ => None,
            }));
            lines.extend(card.image_url.iter().map(|url| format!("🖼 {url}")));
            lines.join("\n")
        })
        .collect::<Vec<_>>()
        .join("\n\n")
}

/// `text` cut to `limit` characters, the last one `…` when something was cut.
pub fn shorten(text: &str, limit: usize) -> String {
    if text.chars().count() <= limit {
        return text.to_owned();
    }
    let mut short: String = text.chars().take(limit.saturating_sub(1)).collect();
    short.push('…');
    short
}

#[cfg(test)]
mod tests;
