//! Finding a reply a stopped host may have sent, for `check-sent`: which message ids to
//! try, and what the Bot API's answer to a try says.
//!
//! The Bot API takes no idempotency key and keeps no history a bot can read. What it
//! does have: a bot's private chats are numbered by one counter of the bot's (every
//! message it receives or sends, in any private chat, takes the next id), and
//! `editMessageText` with a message's very text and buttons changes nothing and answers
//! `400 message is not modified`, while an id with no message of the bot's in that chat
//! answers `message to edit not found` (or `can't be edited`, a customer's message).
//!
//! So the reply in doubt, if Telegram took it, has an id after the conversation's last
//! message before it (the customer's question, most often) and is not one of the ids
//! the host stored since on the same channel (`channel-message-ids`): those belong to
//! other messages. The ids left (other replies whose answer was lost too, messages not
//! stored yet, then a few ids past the newest one known) are tried in order with the
//! reply's own text. Only this reply can be a message of the bot's in this chat after
//! that last message: the host sends one message of a conversation at a time, and for a
//! message in parts, the part in doubt counts from the id of the last part that went out
//! (kept in the progress record), so the parts before it are never tried.

use std::collections::HashSet;

use serde_json::Value;

/// Ids tried past the newest one the host knows: when nothing happened on the channel
/// since, the reply in doubt is the very next message.
pub const AHEAD: i64 = 8;

/// The most ids tried for one reply. Each try is a request (the tries' time budget ends
/// a look-up at Telegram's pace first); a stopped host leaves up to `[delivery]
/// concurrency` sends in doubt at once, each an id unknown to it, next to the customer
/// messages that were on their way.
pub const MAX_TRIES: usize = 64;

/// The ids to try, oldest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidates {
    /// Ids the reply may have, at most [`MAX_TRIES`].
    pub ids: Vec<i64>,
    /// There were more than [`MAX_TRIES`]: not finding it among `ids` proves nothing.
    pub more: bool,
}

/// The Telegram message id in a provider id as loa stores it: a sent message's
/// `message_id` (`"4711"`), or the `tg:<update_id>:<message_id>` of a customer's message.
/// `None` for ids that name no message (`tg:<update_id>` of a button press).
pub fn message_number(provider_id: &str) -> Option<i64> {
    match provider_id.strip_prefix("tg:") {
        Some(rest) => rest.split_once(':')?.1.parse().ok(),
        None => provider_id.parse().ok(),
    }
}

/// Which ids the reply may have: after `last` (the conversation's last message before
/// it; else `previous`, its last delivered reply), not any of `known`.
pub fn candidates(
    last: Option<&str>,
    previous: Option<&str>,
    known: &[String],
) -> Result<Candidates, String> {
    let floor = last
        .and_then(message_number)
        .or_else(|| previous.and_then(message_number))
        .ok_or("no earlier message of the conversation has a Telegram id to count from")?;
    let known: HashSet<i64> = known.iter().filter_map(|id| message_number(id)).collect();
    let newest = known.iter().copied().max().unwrap_or(floor).max(floor);
    let mut ids = ((floor + 1)..=newest.saturating_add(AHEAD)).filter(|id| !known.contains(id));
    let tried: Vec<i64> = ids.by_ref().take(MAX_TRIES).collect();
    Ok(Candidates {
        more: ids.next().is_some(),
        ids: tried,
    })
}

/// What the answer to one `editMessageText` try says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Try {
    /// The bot's message with this id has exactly the reply's text and buttons.
    Found,
    /// No message of the bot's with this id in the chat.
    NotHere,
    /// Telegram changed a message: the id held another message of the bot's.
    Edited,
    /// Any other answer (flood control, a bad token, an outage): the look-up stops.
    Unreadable(String),
}

/// Reads Telegram's answer to an `editMessageText` try.
pub fn read_try(status: u16, body: &[u8]) -> Try {
    let answer: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    if status == 200 && answer["ok"] == true {
        return Try::Edited;
    }
    let description = answer["description"].as_str().unwrap_or_default();
    if status == 400 {
        if description.contains("message is not modified") {
            return Try::Found;
        }
        let elsewhere = [
            "message to edit not found",
            "message can't be edited",
            "there is no text in the message to edit",
            "MESSAGE_ID_INVALID",
        ];
        if elsewhere.iter().any(|answer| description.contains(answer)) {
            return Try::NotHere;
        }
    }
    Try::Unreadable(if description.is_empty() {
        format!("HTTP {status}")
    } else {
        format!("HTTP {status}: {description}")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(ids: &[&str]) -> Vec<String> {
        ids.iter().map(|id| (*id).to_owned()).collect()
    }

    #[test]
    fn ids_are_read_from_sent_messages_and_customer_messages_but_not_button_presses() {
        assert_eq!(message_number("4711"), Some(4711));
        assert_eq!(message_number("tg:900:4712"), Some(4712));
        assert_eq!(message_number("tg:900"), None);
        assert_eq!(message_number("tg:900:x"), None);
        assert_eq!(message_number("m_abc"), None);
    }

    #[test]
    fn on_a_quiet_channel_the_next_ids_are_tried() {
        let found = candidates(Some("tg:5:10"), None, &ids(&["tg:5:10"])).expect("ids");
        assert_eq!(found.ids, (11..=18).collect::<Vec<_>>());
        assert!(!found.more);
    }

    #[test]
    fn ids_the_host_stored_since_are_skipped_and_the_newest_extends_the_range() {
        let known = ids(&["tg:4:9", "tg:5:10", "11", "tg:6:12", "14", "tg:7", "15"]);
        let found = candidates(Some("tg:5:10"), Some("3"), &known).expect("ids");
        assert_eq!(found.ids, vec![13, 16, 17, 18, 19, 20, 21, 22, 23]);
    }

    #[test]
    fn without_the_last_message_the_last_delivered_reply_is_the_floor() {
        let found = candidates(Some("tg:5"), Some("40"), &[]).expect("ids");
        assert_eq!(found.ids.first(), Some(&41));
        assert!(candidates(None, None, &[]).is_err());
        assert!(candidates(Some("tg:5"), Some("m_x"), &[]).is_err());
    }

    #[test]
    fn a_busy_channel_is_tried_up_to_the_limit_and_says_there_was_more() {
        let found = candidates(Some("1"), None, &ids(&["500"])).expect("ids");
        assert_eq!(found.ids.len(), MAX_TRIES);
        assert_eq!(found.ids[0], 2);
        assert!(found.more);
    }

    #[test]
    fn telegram_answers_to_a_try_are_read() {
        let error = |description: &str| {
            format!(r#"{{"ok":false,"error_code":400,"description":"Bad Request: {description}"}}"#)
        };
        let unchanged = error(
            "message is not modified: specified new message content and reply markup are \
             exactly the same as a current content and reply markup of the message",
        );
        assert_eq!(read_try(400, unchanged.as_bytes()), Try::Found);
        for elsewhere in [
            "message to edit not found",
            "message can't be edited",
            "there is no text in the message to edit",
        ] {
            assert_eq!(read_try(400, error(elsewhere).as_bytes()), Try::NotHere);
        }
        let edited = br#"{"ok":true,"result":{"message_id":12,"edit_date":1}}"#;
        assert_eq!(read_try(200, edited), Try::Edited);
        let flood = br#"{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 3","parameters":{"retry_after":3}}"#;
        assert!(
            matches!(read_try(429, flood), Try::Unreadable(reason) if reason.contains("retry after 3"))
        );
        assert_eq!(read_try(502, b"<html>"), Try::Unreadable("HTTP 502".into()));
    }
}
