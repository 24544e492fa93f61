//! loa's channel-neutral message to the Send API's `message` objects, one per call, in the
//! order the customer should see them. Whatever Messenger cannot show is degraded, never
//! dropped silently:
//!
//! - text over 2,000 characters is split on a paragraph, line or word boundary;
//! - up to 3 buttons go in a button template under the (last part of the) text; more
//!   postback buttons become quick replies, the rest numbered lines under the text
//!   (`4. Website: https://…`);
//! - up to 10 cards go in a generic-template carousel; more become numbered lines after it;
//!   a card keeps its first 3 buttons;
//! - up to 13 quick replies ride on the last message; more become numbered lines;
//! - titles are cut to Messenger's lengths with `…`.

use loa_sdk::{Attachment, Button, ButtonAction, Card, Message};
use serde_json::{Map, Value, json};

use crate::split::split_text;

/// Longest text of one message, in characters.
pub const MAX_TEXT_CHARS: usize = 2000;
/// Most quick replies on one message.
pub const MAX_QUICK_REPLIES: usize = 13;
/// Longest quick-reply title, in characters.
pub const MAX_QUICK_REPLY_TITLE_CHARS: usize = 20;
/// Most buttons in a button template or on one card.
pub const MAX_BUTTONS: usize = 3;
/// Longest button title, in characters.
pub const MAX_BUTTON_TITLE_CHARS: usize = 20;
/// Longest text of a button template, in characters.
pub const MAX_BUTTON_TEXT_CHARS: usize = 640;
/// Most elements in a generic template.
pub const MAX_CARDS: usize = 10;
/// Longest card title or subtitle, in characters.
pub const MAX_CARD_LINE_CHARS: usize = 80;
/// Longest postback or quick-reply payload, in characters.
pub const MAX_PAYLOAD_CHARS: usize = 1000;

/// The text of a button template or quick replies when the message has none: both need
/// one, and a pointing hand needs no translation.
pub const PROMPT_WITHOUT_TEXT: &str = "👇";

/// The Send API `message` objects for one loa message, and what had to be degraded.
#[derive(Debug, Default, PartialEq)]
pub struct Rendered {
    /// One `message` object per Send API call, in order.
    pub parts: Vec<Value>,
    /// What was degraded or cut, for the log.
    pub notes: Vec<String>,
}

/// A quick reply being prepared: title and payload.
struct Chip {
    title: String,
    payload: String,
}

/// Renders `message` for the Send API.
pub fn render(message: &Message) -> Rendered {
    let mut rendered = Rendered::default();
    let kept_buttons = &message.buttons[..message.buttons.len().min(MAX_BUTTONS)];
    let mut chips: Vec<Chip> = message
        .quick_replies
        .iter()
        .map(|chip| Chip {
            title: chip.title.clone(),
            payload: chip.payload.clone(),
        })
        .collect();
    // Options Messenger cannot show as buttons or chips, as lines under the text.
    let mut options = Vec::new();
    for button in message.buttons.iter().skip(MAX_BUTTONS) {
        match &button.action {
            ButtonAction::Postback(payload) => chips.push(Chip {
                title: button.title.clone(),
                payload: payload.clone(),
            }),
            ButtonAction::OpenUrl(target) | ButtonAction::Call(target) => {
                options.push(format!("{}: {target}", button.title));
            }
        }
    }
    if message.buttons.len() > MAX_BUTTONS {
        rendered.notes.push(format!(
            "{} buttons: {MAX_BUTTONS} in a button template, the rest as quick replies or lines",
            message.buttons.len()
        ));
    }
    if chips.len() > MAX_QUICK_REPLIES {
        rendered.notes.push(format!(
            "{} quick replies: {MAX_QUICK_REPLIES} shown, the rest as lines",
            chips.len()
        ));
        options.extend(chips.drain(MAX_QUICK_REPLIES..).map(|chip| chip.title));
    }
    // Numbered on from the buttons shown, so "4." follows the template's three.
    let lines: Vec<String> = options
        .iter()
        .enumerate()
        .map(|(index, option)| format!("{}. {option}", kept_buttons.len() + index + 1))
        .collect();

    let text = message
        .text
        .as_deref()
        .map(str::trim)
        .filter(|text| !text.is_empty());
    let full_text = match (text, lines.is_empty()) {
        (Some(text), true) => Some(text.to_owned()),
        (Some(text), false) => Some(format!("{text}\n\n{}", lines.join("\n"))),
        (None, false) => Some(lines.join("\n")),
        (None, true) => None,
    };
    let mut text_parts = full_text
        .map(|text| split_text(&text, MAX_TEXT_CHARS))
        .unwrap_or_default();
    if text_parts.len() > 1 {
        rendered.notes.push(format!(
            "text split into {} messages of at most {MAX_TEXT_CHARS} characters",
            text_parts.len()
        ));
    }
    if !kept_buttons.is_empty() {
        // The button template's text is shorter than a message's: the last part carries
        // the buttons, so it alone is cut again.
        match text_parts.pop() {
            Some(last) => text_parts.extend(split_text(&last, MAX_BUTTON_TEXT_CHARS)),
            None => text_parts.push(PROMPT_WITHOUT_TEXT.to_owned()),
        }
    }
    let last_text = text_parts.len().checked_sub(1);
    for (index, part) in text_parts.into_iter().enumerate() {
        if Some(index) == last_text && !kept_buttons.is_empty() {
            rendered.parts.push(button_template(&part, kept_buttons));
        } else {
            rendered.parts.push(json!({ "text": part }));
        }
    }

    for attachment in &message.attachments {
        rendered.parts.push(attachment_message(attachment));
    }

    if !message.cards.is_empty() {
        let (carousel, card_notes) = carousel(&message.cards);
        rendered.parts.push(carousel);
        rendered.notes.extend(card_notes);
        let extra: Vec<String> = message
            .cards
            .iter()
            .enumerate()
            .skip(MAX_CARDS)
            .map(|(index, card)| card_line(index + 1, card))
            .collect();
        if !extra.is_empty() {
            for part in split_text(&extra.join("\n"), MAX_TEXT_CHARS) {
                rendered.parts.push(json!({ "text": part }));
            }
        }
    }

    if !chips.is_empty() {
        if rendered.parts.is_empty() {
            rendered.parts.push(json!({ "text": PROMPT_WITHOUT_TEXT }));
        }
        let quick_replies: Vec<Value> = chips.iter().map(quick_reply).collect();
        if let Some(Value::Object(last)) = rendered.parts.last_mut() {
            last.insert("quick_replies".into(), Value::Array(quick_replies));
        }
    }
    rendered
}

/// `text` with `buttons` under it (Send API button template).
fn button_template(text: &str, buttons: &[Button]) -> Value {
    json!({
        "attachment": {
            "type": "template",
            "payload": {
                "template_type": "button",
                "text": text,
                "buttons": buttons.iter().map(button).collect::<Vec<_>>(),
            }
        }
    })
}

fn button(button: &Button) -> Value {
    let title = shorten(&button.title, MAX_BUTTON_TITLE_CHARS);
    match &button.action {
        ButtonAction::Postback(payload) => json!({
            "type": "postback",
            "title": title,
            "payload": payload_of(payload, &button.title),
        }),
        ButtonAction::OpenUrl(url) => json!({"type": "web_url", "title": title, "url": url}),
        ButtonAction::Call(number) => {
            json!({"type": "phone_number", "title": title, "payload": number})
        }
    }
}

fn quick_reply(chip: &Chip) -> Value {
    json!({
        "content_type": "text",
        "title": shorten(&chip.title, MAX_QUICK_REPLY_TITLE_CHARS),
        "payload": payload_of(&chip.payload, &chip.title),
    })
}

/// Messenger refuses an empty payload; the title is the next best thing to post back.
fn payload_of(payload: &str, title: &str) -> String {
    let payload = if payload.is_empty() { title } else { payload };
    payload.chars().take(MAX_PAYLOAD_CHARS).collect()
}

/// A file by URL; Messenger fetches it. `is_reusable` lets the Page send it again
/// without another upload. A URL Messenger cannot fetch (a `geo:` location) goes as text.
fn attachment_message(attachment: &Attachment) -> Value {
    let url = attachment.url.as_str();
    if !(url.starts_with("https://") || url.starts_with("http://")) {
        let text = match &attachment.name {
            Some(name) => format!("{name}: {url}"),
            None => url.to_owned(),
        };
        return json!({ "text": shorten(&text, MAX_TEXT_CHARS) });
    }
    let family = attachment.mime.split('/').next().unwrap_or_default();
    let kind = match family {
        "image" | "video" | "audio" => family,
        _ => "file",
    };
    json!({
        "attachment": {
            "type": kind,
            "payload": {"url": url, "is_reusable": true}
        }
    })
}

/// The first [`MAX_CARDS`] cards as a generic template, and what was cut.
fn carousel(cards: &[Card]) -> (Value, Vec<String>) {
    let mut notes = Vec::new();
    if cards.len() > MAX_CARDS {
        notes.push(format!(
            "{} cards: {MAX_CARDS} in the carousel, the rest as lines",
            cards.len()
        ));
    }
    let elements: Vec<Value> = cards
        .iter()
        .take(MAX_CARDS)
        .map(|card| {
            if card.buttons.len() > MAX_BUTTONS {
                notes.push(format!(
                    "card '{}' has {} buttons; Messenger shows {MAX_BUTTONS}",
                    card.title,
                    card.buttons.len()
                ));
            }
            element(card)
        })
        .collect();
    let carousel = json!({
        "attachment": {
            "type": "template",
            "payload": {"template_type": "generic", "elements": elements}
        }
    });
    (carousel, notes)
}

fn element(card: &Card) -> Value {
    let subtitle = card
        .subtitle
        .as_deref()
        .filter(|text| !text.trim().is_empty());
    // A title is required; a card with only a subtitle shows it as the title.
    let title = match (card.title.trim(), subtitle) {
        ("", Some(subtitle)) => subtitle,
        ("", None) => "…",
        (title, _) => title,
    };
    let mut element = Map::new();
    element.insert("title".into(), shorten(title, MAX_CARD_LINE_CHARS).into());
    if let Some(subtitle) = subtitle.filter(|subtitle| *subtitle != title) {
        let subtitle = shorten(subtitle, MAX_CARD_LINE_CHARS);
        element.insert("subtitle".into(), subtitle.into());
    }
    if let Some(image_url) = &card.image_url {
        element.insert("image_url".into(), image_url.clone().into());
    }
    if !card.buttons.is_empty() {
        let buttons = card.buttons.iter().take(MAX_BUTTONS).map(button).collect();
        element.insert("buttons".into(), Value::Array(buttons));
    }
    Value::Object(element)
}

/// `11. Title — Subtitle: https://…` for a card beyond the carousel.
fn card_line(number: usize, card: &Card) -> String {
    let mut line = format!("{number}. {}", card.title);
    if let Some(subtitle) = &card.subtitle {
        line.push_str(" — ");
        line.push_str(subtitle);
    }
    let link = card.buttons.iter().find_map(|button| match &button.action {
        ButtonAction::OpenUrl(url) => Some(url),
        _ => None,
    });
    if let Some(url) = link {
        line.push_str(": ");
        line.push_str(url);
    }
    line
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
