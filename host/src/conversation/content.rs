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
