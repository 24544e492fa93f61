//! A message's content as stored and sent to clients: the WIT message model as JSON with
//! stable snake_case names, and the conversions to and from the generated WIT types.

use serde::{Deserialize, Serialize};

use crate::plugins::types as wit;

/// What a message says: text, files, chips, buttons, cards. Every part is optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Content {
    /// Plain text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Files and images.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<Attachment>,
    /// Chips under the message.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub quick_replies: Vec<QuickReply>,
    /// Buttons under the text.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub buttons: Vec<Button>,
    /// A carousel of cards.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cards: Vec<Card>,
    /// A provider-approved template (Zalo ZNS) instead of a free message: sent through the
    /// channel's `send-template`, to a recipient addressed by phone number.
    /// (Boxed: most messages have none, and every message carries the field.)
    #[serde(skip_serializing_if = "Option::is_none")]
    pub template: Option<Box<Template>>,
}

/// A provider-approved template and its parameters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Template {
    /// The provider's id of the template (ZNS: the template id from the ZNS console).
    pub id: String,
    /// Its parameters by name (`{"order_code": "C123", "customer_name": "Lan"}`).
    #[serde(default)]
    pub params: std::collections::BTreeMap<String, String>,
}

/// A file sent with a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Attachment {
    /// Where the file can be fetched.
    pub url: String,
    /// MIME type.
    pub mime: String,
    /// File name shown to the reader.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// A chip the customer can tap.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuickReply {
    /// Text on the chip.
    pub title: String,
    /// Payload returned when tapped.
    pub payload: String,
}

/// What pressing a button does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ButtonAction {
    /// Sends this payload back as a postback.
    Postback(String),
    /// Opens this URL.
    OpenUrl(String),
    /// Calls this number.
    Call(String),
}

/// A button under a message or a card.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Button {
    /// Text on the button.
    pub title: String,
    /// What pressing it does.
    pub action: ButtonAction,
}

/// A rich card.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Card {
    /// Bold first line.
    pub title: String,
    /// Second line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subtitle: Option<String>,
    /// Picture on top.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_url: Option<String>,
    /// Buttons on the card.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub buttons: Vec<Button>,
}

impl Content {
    /// A text-only message.
    pub fn text(text: impl Into<String>) -> Self {
        Self {
            text: Some(text.into()),
            ..Self::default()
        }
    }

    /// Whether there is nothing to show.
    pub fn is_empty(&self) -> bool {
        self.text.as_deref().is_none_or(str::is_empty)
            && self.attachments.is_empty()
            && self.cards.is_empty()
            && self.buttons.is_empty()
            && self.quick_replies.is_empty()
            && self.template.is_none()
    }
}

/// Longest text a person or a shop's system may send in one message, in characters: what
/// every channel carries (split into parts by the channel plugin where it must).
pub const MAX_SENT_TEXT_CHARS: usize = 4_000;
/// Most chips, buttons, cards or attachments in one sent message.
pub const MAX_SENT_PARTS: usize = 10;

impl Content {
    /// Whether a message written outside the bot (an operator, the API) can be sent:
    /// something to show, text within [`MAX_SENT_TEXT_CHARS`], at most [`MAX_SENT_PARTS`]
    /// of each kind of part, titles not empty, links `https://` or `http://`. The error
    /// says what is wrong, for a 400 answer.
    pub fn check_sendable(&self) -> Result<(), String> {
        if let Some(template) = &self.template {
            return self.check_template(template);
        }
        let has_text = self
            .text
            .as_deref()
            .is_some_and(|text| !text.trim().is_empty());
        // Chips and buttons hang under something; on their own no channel shows them.
        if !has_text && self.attachments.is_empty() && self.cards.is_empty() {
            return Err("the message is empty: give text, attachments or cards".into());
        }
        if let Some(text) = &self.text {
            let chars = text.chars().count();
            if chars > MAX_SENT_TEXT_CHARS {
                return Err(format!(
                    "text has {chars} characters; at most {MAX_SENT_TEXT_CHARS}"
                ));
            }
        }
        let counts = [
            ("quick_replies", self.quick_replies.len()),
            ("buttons", self.buttons.len()),
            ("cards", self.cards.len()),
            ("attachments", self.attachments.len()),
        ];
        if let Some((name, count)) = counts.iter().find(|(_, count)| *count > MAX_SENT_PARTS) {
            return Err(format!("{count} {name}; at most {MAX_SENT_PARTS}"));
        }
        if self
            .quick_replies
            .iter()
            .any(|quick| quick.title.trim().is_empty())
        {
            return Err("a quick reply has an empty title".into());
        }
        for attachment in &self.attachments {
            check_link("attachments[].url", &attachment.url)?;
            if attachment.mime.trim().is_empty() {
                return Err("an attachment has an empty mime type".into());
            }
        }
        check_buttons("buttons", &self.buttons)?;
        for card in &self.cards {
            if card.title.trim().is_empty() {
                return Err("a card has an empty title".into());
            }
            if let Some(url) = &card.image_url {
                check_link("cards[].image_url", url)?;
            }
            check_buttons("cards[].buttons", &card.buttons)?;
        }
        Ok(())
    }
}

/// Most parameters of one template, and the longest name and value: ZNS templates have a
/// handful, each value a short field (a name, an order code, an amount).
const MAX_TEMPLATE_PARAMS: usize = 50;
const MAX_TEMPLATE_PARAM_CHARS: usize = 500;

impl Content {
    /// A template message is the template alone: the provider renders it.
    fn check_template(&self, template: &Template) -> Result<(), String> {
        let alone = Content {
            template: None,
            ..self.clone()
        };
        if !alone.is_empty() {
            return Err(
                "a template message carries only the template: no text, buttons or other parts"
                    .into(),
            );
        }
        let id = template.id.trim();
        if id.is_empty() || id.chars().count() > 100 {
            return Err("template.id must be 1 to 100 characters".into());
        }
        if template.params.len() > MAX_TEMPLATE_PARAMS {
            return Err(format!(
                "{} template parameters; at most {MAX_TEMPLATE_PARAMS}",
                template.params.len()
            ));
        }
        for (name, value) in &template.params {
            if name.trim().is_empty() || name.chars().count() > 100 {
                return Err("a template parameter name must be 1 to 100 characters".into());
            }
            if value.chars().count() > MAX_TEMPLATE_PARAM_CHARS {
                return Err(format!(
                    "template parameter '{name}' is over {MAX_TEMPLATE_PARAM_CHARS} characters"
                ));
            }
        }
        Ok(())
    }
}

fn check_buttons(field: &str, buttons: &[Button]) -> Result<(), String> {
    if buttons.len() > MAX_SENT_PARTS {
        return Err(format!(
            "{} {field}; at most {MAX_SENT_PARTS}",
            buttons.len()
        ));
    }
    for button in buttons {
        if button.title.trim().is_empty() {
            return Err(format!("a button in {field} has an empty title"));
        }
        match &button.action {
            ButtonAction::OpenUrl(url) => check_link(&format!("{field}[].action.open_url"), url)?,
            ButtonAction::Postback(payload) | ButtonAction::Call(payload)
                if payload.trim().is_empty() =>
            {
                return Err(format!("a button in {field} has an empty action"));
            }
            _ => {}
        }
    }
    Ok(())
}

fn check_link(field: &str, url: &str) -> Result<(), String> {
    match reqwest::Url::parse(url) {
        Ok(parsed) if matches!(parsed.scheme(), "https" | "http") && parsed.host().is_some() => {
            Ok(())
        }
        _ => Err(format!("{field} must be an http(s) URL, not '{url}'")),
    }
}

impl From<wit::ButtonAction> for ButtonAction {
    fn from(action: wit::ButtonAction) -> Self {
        match action {
            wit::ButtonAction::Postback(payload) => Self::Postback(payload),
            wit::ButtonAction::OpenUrl(url) => Self::OpenUrl(url),
            wit::ButtonAction::Call(number) => Self::Call(number),
        }
    }
}

impl From<ButtonAction> for wit::ButtonAction {
    fn from(action: ButtonAction) -> Self {
        match action {
            ButtonAction::Postback(payload) => Self::Postback(payload),
            ButtonAction::OpenUrl(url) => Self::OpenUrl(url),
            ButtonAction::Call(number) => Self::Call(number),
        }
    }
}

impl From<wit::Button> for Button {
    fn from(button: wit::Button) -> Self {
        Self {
            title: button.title,
            action: button.action.into(),
        }
    }
}

impl From<Button> for wit::Button {
    fn from(button: Button) -> Self {
        Self {
            title: button.title,
            action: button.action.into(),
        }
    }
}

impl From<wit::Message> for Content {
    fn from(message: wit::Message) -> Self {
        Self {
            text: message.text,
            attachments: message
                .attachments
                .into_iter()
                .map(|file| Attachment {
                    url: file.url,
                    mime: file.mime,
                    name: file.name,
                })
                .collect(),
            quick_replies: message
                .quick_replies
                .into_iter()
                .map(|chip| QuickReply {
                    title: chip.title,
                    payload: chip.payload,
                })
                .collect(),
            buttons: message.buttons.into_iter().map(Into::into).collect(),
            cards: message
                .cards
                .into_iter()
                .map(|card| Card {
                    title: card.title,
                    subtitle: card.subtitle,
                    image_url: card.image_url,
                    buttons: card.buttons.into_iter().map(Into::into).collect(),
                })
                .collect(),
            template: None,
        }
    }
}

impl From<Content> for wit::Message {
    fn from(content: Content) -> Self {
        Self {
            text: content.text,
            attachments: content
                .attachments
                .into_iter()
                .map(|file| wit::Attachment {
                    url: file.url,
                    mime: file.mime,
                    name: file.name,
                })
                .collect(),
            quick_replies: content
                .quick_replies
                .into_iter()
                .map(|chip| wit::QuickReply {
                    title: chip.title,
                    payload: chip.payload,
                })
                .collect(),
            buttons: content.buttons.into_iter().map(Into::into).collect(),
            cards: content
                .cards
                .into_iter()
                .map(|card| wit::Card {
                    title: card.title,
                    subtitle: card.subtitle,
                    image_url: card.image_url,
                    buttons: card.buttons.into_iter().map(Into::into).collect(),
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_survives_a_round_trip_through_the_wit_model() {
        let content = Content {
            text: Some("Chọn size".into()),
            quick_replies: vec![QuickReply {
                title: "M".into(),
                payload: "size:M".into(),
            }],
            cards: vec![Card {
                title: "Áo linen".into(),
                subtitle: Some("390.000đ".into()),
                image_url: None,
                buttons: vec![Button {
                    title: "Xem".into(),
                    action: ButtonAction::OpenUrl("https://may.vn/linen".into()),
                }],
            }],
            ..Content::default()
        };
        let back = Content::from(wit::Message::from(content.clone()));
        assert_eq!(back, content);
    }

    #[test]
    fn json_leaves_out_empty_parts() {
        let json = serde_json::to_string(&Content::text("chào")).expect("serializes");
        assert_eq!(json, r#"{"text":"chào"}"#);
    }
}
