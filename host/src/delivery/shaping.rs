//! Shaping a reply to what its channel says it can render (`capabilities()`), so every
//! channel plugin gets messages it can send as they are: cards it cannot show become
//! numbered lines, buttons and chips over its limits (or that it lacks) become numbered
//! choices with "Reply 1, 2 or 3", files it cannot send become links. A customer who then
//! answers with a number has pressed that choice: [`chosen_option`] maps it back.
//!
//! Shaping is a pure function of the stored message, the capabilities and the language, so
//! the numbers of a sent reply can be worked out again when the answer comes, with nothing
//! stored beside the message.

use crate::conversation::Content;
use crate::conversation::content::{Button, ButtonAction, Card, QuickReply};
use crate::plugins::types::ChannelCapabilities;

/// A reply as its channel can send it, with the choices it was given by number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shaped {
    /// What is handed to the channel plugin.
    pub content: Content,
    /// Choice `n` (1-based) is `options[n - 1]`: what the customer picks by answering `n`.
    pub options: Vec<QuickReply>,
}

/// `content` reshaped for a channel with `capabilities`; `language` words the prompt.
/// Unchanged (and no options) when the channel renders everything in it.
pub fn shape(content: &Content, capabilities: &ChannelCapabilities, language: &str) -> Shaped {
    let mut builder = Builder {
        lines: Vec::new(),
        options: Vec::new(),
        buttons: Vec::new(),
        button_room: if capabilities.buttons {
            capabilities.max_buttons as usize
        } else {
            0
        },
    };
    let mut shaped = Content {
        text: None,
        attachments: Vec::new(),
        quick_replies: Vec::new(),
        buttons: Vec::new(),
        cards: Vec::new(),
        // The provider renders a template; there is nothing to shape.
        template: content.template.clone(),
    };
    if capabilities.attachments {
        shaped.attachments = content.attachments.clone();
    } else {
        for attachment in &content.attachments {
            let name = attachment.name.as_deref().unwrap_or("📎");
            builder.lines.push(format!("{name}: {}", attachment.url));
        }
    }
    if capabilities.cards {
        shaped.cards = content.cards.clone();
        for card in &mut shaped.cards {
            card.buttons.truncate(capabilities.max_buttons as usize);
        }
    } else {
        for card in &content.cards {
            builder.card(card);
        }
    }
    for button in &content.buttons {
        builder.button(button);
    }
    if capabilities.quick_replies {
        shaped.quick_replies = content.quick_replies.clone();
    } else {
        for quick in &content.quick_replies {
            builder.button(&Button {
                title: quick.title.clone(),
                action: ButtonAction::Postback(quick.payload.clone()),
            });
        }
    }
    shaped.buttons = builder.buttons;
    let mut text: Vec<String> = content.text.iter().cloned().collect();
    text.extend(builder.lines);
    if !builder.options.is_empty() {
        text.push(prompt(language, builder.options.len()));
    }
    shaped.text = (!text.is_empty()).then(|| text.join("\n"));
    Shaped {
        content: shaped,
        options: builder.options,
    }
}

/// The number an answer consists of ("2", "số 2", "#2", "2."), if that is all it is.
pub fn choice_number(answer: &str) -> Option<usize> {
    let lowered = answer.trim().to_lowercase();
    let number = ["số", "so", "chọn", "chon", "option", "#"]
        .iter()
        .fold(lowered.as_str(), |rest, word| {
            rest.strip_prefix(word).map_or(rest, str::trim_start)
        })
        .trim_end_matches(['.', ')', '!']);
    number.parse().ok()
}

/// The choice a customer's answer picks, when the answer is only its number and there is
/// such a choice.
pub fn chosen_option<'a>(answer: &str, options: &'a [QuickReply]) -> Option<&'a QuickReply> {
    options.get(choice_number(answer)?.checked_sub(1)?)
}

/// Collects what the channel cannot show natively as lines and numbered choices.
struct Builder {
    lines: Vec<String>,
    options: Vec<QuickReply>,
    buttons: Vec<Button>,
    button_room: usize,
}

impl Builder {
    /// A button: native while there is room, else a numbered choice (postbacks) or a line
    /// (links, calls).
    fn button(&mut self, button: &Button) {
        if self.buttons.len() < self.button_room {
            self.buttons.push(button.clone());
            return;
        }
        match &button.action {
            ButtonAction::Postback(payload) => self.choice(&button.title, &button.title, payload),
            ButtonAction::OpenUrl(url) => self.lines.push(format!("{}: {url}", button.title)),
            ButtonAction::Call(number) => self.lines.push(format!("{}: {number}", button.title)),
        }
    }

    /// A card as lines: its first postback button makes the card itself a choice.
    fn card(&mut self, card: &Card) {
        let heading = match &card.subtitle {
            Some(subtitle) => format!("{} — {subtitle}", card.title),
            None => card.title.clone(),
        };
        let first_postback = card
            .buttons
            .iter()
            .position(|button| matches!(button.action, ButtonAction::Postback(_)));
        match first_postback.map(|at| &card.buttons[at]) {
            Some(Button {
                action: ButtonAction::Postback(payload),
                ..
            }) => self.choice(&heading, &card.title, payload),
            _ => self.lines.push(format!("• {heading}")),
        }
        for (at, button) in card.buttons.iter().enumerate() {
            if Some(at) == first_postback {
                continue;
            }
            match &button.action {
                ButtonAction::Postback(payload) => self.choice(
                    &format!("{}: {}", card.title, button.title),
                    &button.title,
                    payload,
                ),
                ButtonAction::OpenUrl(url) => {
                    self.lines.push(format!("   {}: {url}", button.title));
                }
                ButtonAction::Call(number) => {
                    self.lines.push(format!("   {}: {number}", button.title));
                }
            }
        }
    }

    /// Numbered line `label`; answering its number sends `title` with `payload`.
    fn choice(&mut self, label: &str, title: &str, payload: &str) {
        self.options.push(QuickReply {
            title: title.to_owned(),
            payload: payload.to_owned(),
        });
        self.lines.push(format!("{}. {label}", self.options.len()));
    }
}

/// "Trả lời 1, 2 hoặc 3 để chọn." in the conversation's language (Vietnamese unless
/// English).
fn prompt(language: &str, count: usize) -> String {
    let english = language.starts_with("en");
    let numbers: Vec<String> = (1..=count).map(|n| n.to_string()).collect();
    let (or, before, after) = if english {
        (" or ", "Reply ", " to choose.")
    } else {
        (" hoặc ", "Trả lời ", " để chọn.")
    };
    let listed = match numbers.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{}{or}{last}", rest.join(", ")),
        _ => numbers.join(""),
    };
    format!("{before}{listed}{after}")
}

#[cfg(test)]
#[path = "shaping_tests.rs"]
mod tests;
