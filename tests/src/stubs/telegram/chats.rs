//! What the chats hold: every message the bot sent and every message a customer sent,
//! numbered by the bot's one counter, and `editMessageText` answered from them with
//! Telegram's wording.

use std::collections::HashMap;

use serde_json::{Value, json};

use super::{failure, message, too_long};

/// Every message of every chat, by chat id, and the bot's message counter.
pub(super) struct Chats {
    /// The id the next message takes, sent or received: Telegram numbers the messages of
    /// all of a bot's private chats in one sequence per bot
    /// (<https://telegramplayground.github.io/pyrogram/topics/message-identifiers.html>).
    next_message_id: i64,
    /// By `chat_id` as text (Telegram takes it as a number or a string), oldest first.
    messages: HashMap<String, Vec<Kept>>,
}

impl Default for Chats {
    fn default() -> Self {
        Self {
            next_message_id: 1,
            messages: HashMap::new(),
        }
    }
}

/// One message as its chat holds it.
struct Kept {
    message_id: i64,
    /// Whether the bot sent it (else the customer did; the bot cannot edit those).
    by_bot: bool,
    content: Content,
    /// The inline keyboard; `None` when it has none, or one without buttons.
    reply_markup: Option<Value>,
}

/// What a message shows.
pub(super) enum Content {
    /// A text message (`sendMessage`), its text.
    Text(String),
    /// A photo or document, with its caption when it has one: no text to edit.
    Media {
        /// The `caption` it was sent with.
        caption: Option<String>,
    },
    /// A customer's message; what it says matters to no test.
    FromCustomer,
}

impl Chats {
    /// Keeps a message a customer sent in private chat `chat`; returns its id.
    pub(super) fn customer_message(&mut self, chat: i64) -> i64 {
        self.keep(chat.to_string(), false, Content::FromCustomer, None)
    }

    /// Keeps a message the bot sent in chat `chat`; returns its id.
    pub(super) fn bot_message(
        &mut self,
        chat: String,
        content: Content,
        reply_markup: Option<Value>,
    ) -> i64 {
        self.keep(chat, true, content, reply_markup)
    }

    /// The bot's messages in `chat` as they stand: id and text (or caption), oldest first.
    pub(super) fn bot_messages_in(&self, chat: &str) -> Vec<(i64, String)> {
        let messages = self.messages.get(chat).into_iter().flatten();
        messages
            .filter(|kept| kept.by_bot)
            .map(|kept| {
                let text = match &kept.content {
                    Content::Text(text) => text.clone(),
                    Content::Media { caption } => caption.clone().unwrap_or_default(),
                    Content::FromCustomer => String::new(),
                };
                (kept.message_id, text)
            })
            .collect()
    }

    fn keep(
        &mut self,
        chat: String,
        by_bot: bool,
        content: Content,
        reply_markup: Option<Value>,
    ) -> i64 {
        let message_id = self.next_message_id;
        self.next_message_id += 1;
        self.messages.entry(chat).or_default().push(Kept {
            message_id,
            by_bot,
            content,
            reply_markup,
        });
        message_id
    }
}

/// `chat_id` as the key of its chat: a number as its digits, a string as it is; `None`
/// when it is missing or empty.
pub(super) fn chat_key(chat_id: &Value) -> Option<String> {
    match chat_id {
        Value::Number(number) if number.is_i64() => Some(number.to_string()),
        Value::String(text) if !text.trim().is_empty() => Some(text.clone()),
        _ => None,
    }
}

/// The body's `reply_markup`, `None` when it has none or one without any button (Telegram
/// shows no keyboard for `{"inline_keyboard": []}`).
pub(super) fn markup_of(body: &Value) -> Option<Value> {
    let markup = body
        .get("reply_markup")
        .filter(|markup| !markup.is_null())?;
    let rows = markup["inline_keyboard"].as_array();
    let buttonless = rows.is_some_and(|rows| {
        rows.iter()
            .all(|row| row.as_array().is_none_or(Vec::is_empty))
    });
    (!buttonless).then(|| markup.clone())
}

/// `editMessageText` (`chat_id`, `message_id`, `text`, optional `reply_markup`), checked
/// and answered as Telegram does; an edit replaces the text and the keyboard (none when
/// the body has none).
pub(super) fn edit_message_text(chats: &mut Chats, body: &Value) -> (u16, Value) {
    let Some(chat) = chat_key(&body["chat_id"]) else {
        return failure(400, "Bad Request: chat_id is empty", None);
    };
    let message_id = match &body["message_id"] {
        Value::Number(number) => number.as_i64(),
        Value::String(text) => text.trim().parse().ok(),
        _ => None,
    };
    let Some(message_id) = message_id.filter(|id| *id > 0) else {
        return failure(
            400,
            "Bad Request: message identifier is not specified",
            None,
        );
    };
    let Some(text) = body["text"].as_str().filter(|text| !text.trim().is_empty()) else {
        return failure(400, "Bad Request: message text is empty", None);
    };
    if too_long(&body["text"]) {
        return failure(400, "Bad Request: message is too long", None);
    }
    let kept = chats
        .messages
        .get_mut(&chat)
        .and_then(|messages| messages.iter_mut().find(|m| m.message_id == message_id));
    let Some(kept) = kept else {
        return failure(400, "Bad Request: message to edit not found", None);
    };
    if !kept.by_bot {
        return failure(400, "Bad Request: message can't be edited", None);
    }
    let Content::Text(current) = &kept.content else {
        return failure(
            400,
            "Bad Request: there is no text in the message to edit",
            None,
        );
    };
    let markup = markup_of(body);
    if current == text && kept.reply_markup == markup {
        return failure(
            400,
            "Bad Request: message is not modified: specified new message content and reply \
             markup are exactly the same as a current content and reply markup of the message",
            None,
        );
    }
    kept.content = Content::Text(text.to_owned());
    kept.reply_markup = markup.clone();
    let mut result = message(message_id, &body["chat_id"]);
    result["edit_date"] = json!(unix_seconds());
    result["text"] = json!(text);
    if let Some(markup) = markup {
        result["reply_markup"] = markup;
    }
    (200, json!({"ok": true, "result": result}))
}

fn unix_seconds() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| since.as_secs())
}
