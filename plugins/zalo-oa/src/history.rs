//! Finding a reply in Zalo's record of a conversation, for `check-sent`: whether a send the
//! host lost track of (it was killed mid-send) reached the customer.
//!
//! Zalo's "messages in a conversation" API, `GET /v2.0/oa/conversation?data={"user_id",
//! "offset", "count"}` (the `data` JSON URL-encoded, `count` at most 10), answers the
//! conversation newest first: `{"data": [{"src", "time", "type", "message", "message_id",
//! …}], "error": 0}`, `src` 0 for what the OA sent, 1 for what the user sent. A reply
//! arrived when its *last* message is there (parts go out in order): a message from the OA
//! with the same text, newer than the previous reply the host knows was delivered and not
//! older than the send (less [`CLOCK_ALLOWANCE_MS`]). Seeing the previous reply or an
//! older message first means it is not there; anything that cannot be read or compared
//! (a failed call, an image as the last message) leaves it unknown, and the host sends
//! again: a repeated reply is better than a lost one.

use loa_sdk::DeliveryReceipt;
use loa_sdk::http::percent_encode;
use loa_sdk::text::cut_chars;
use serde_json::Value;

use crate::answer::ACCESS_TOKEN_INVALID;

/// Most messages one page holds: Zalo's limit on `count`.
pub const PAGE_SIZE: u32 = 10;

/// Pages read at most before giving up as unknown. The customer may have written a lot
/// while the host was down, but fifty messages newer than the send without meeting it or
/// the previous reply means the history is not what it should be.
pub const MAX_PAGES: u32 = 5;

/// How much older than the send's start (the host's clock) a message may look in Zalo's
/// `time` (Zalo's clock) and still be it. 10 s: servers in sync are well under a second
/// apart, and a wider window would only let an earlier reply with the same text pass for
/// this one when the host does not know that reply's id.
pub const CLOCK_ALLOWANCE_MS: u64 = 10_000;

/// How much of an unreadable answer a reason quotes.
const QUOTED_CHARS: usize = 200;

/// The URL of one page of the conversation with `user_id`, `offset` messages from the
/// newest. Zalo's examples give the user id as a JSON number; an id that is not one goes as
/// a string.
pub fn page_url(api_base_url: &str, user_id: &str, offset: u32) -> String {
    let user = match user_id.trim().parse::<u64>() {
        Ok(number) => number.to_string(),
        Err(_) => Value::from(user_id).to_string(),
    };
    // Written out rather than through a JSON map: the keys keep Zalo's documented order
    // whatever serde_json's features.
    let data = format!(r#"{{"user_id":{user},"offset":{offset},"count":{PAGE_SIZE}}}"#);
    format!(
        "{api_base_url}/v2.0/oa/conversation?data={}",
        percent_encode(&data)
    )
}

/// The text of a reply's last message as the renderer built it (`parts`), which is what
/// the conversation shows last when the reply arrived; why it cannot be compared when it
/// has none (an image).
pub fn last_text(parts: &[Value]) -> Result<&str, String> {
    let Some(last) = parts.last() else {
        return Err("the reply renders to no Zalo message".into());
    };
    last["text"]
        .as_str()
        .filter(|text| !text.trim().is_empty())
        .ok_or_else(|| {
            "the reply's last Zalo message has no text to look for (an image); Zalo's \
             history shows it without one"
                .into()
        })
}

/// One message of the conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Logged {
    /// `src` 0: the OA sent it.
    pub from_oa: bool,
    /// `time`, ms since the Unix epoch (Zalo's clock).
    pub time_ms: u64,
    /// `message` when it is a text.
    pub text: Option<String>,
    /// `message_id`.
    pub message_id: Option<String>,
}

/// Why a page could not be had.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PageError {
    /// Error -216: a fresh access token may do.
    AccessToken(String),
    /// Anything else: the reply's fate stays unknown.
    Unreadable(String),
}

/// The messages of one answer (`status`, `body`), newest first.
pub fn parse_page(status: u16, body: &[u8]) -> Result<Vec<Logged>, PageError> {
    let quoted = || cut_chars(&String::from_utf8_lossy(body), QUOTED_CHARS);
    if !(200..300).contains(&status) {
        return Err(PageError::Unreadable(format!(
            "Zalo answered HTTP {status}: {}",
            quoted()
        )));
    }
    let answer: Value = serde_json::from_slice(body).map_err(|_| {
        PageError::Unreadable(format!("Zalo answered without its JSON: {}", quoted()))
    })?;
    let Some(code) = answer["error"].as_i64() else {
        return Err(PageError::Unreadable(format!(
            "Zalo's answer has no error code: {}",
            quoted()
        )));
    };
    if code != 0 {
        let said = format!(
            "Zalo error {code}: {}",
            answer["message"].as_str().unwrap_or("no message")
        );
        return Err(if code == ACCESS_TOKEN_INVALID {
            PageError::AccessToken(said)
        } else {
            PageError::Unreadable(said)
        });
    }
    let entries = answer["data"].as_array().ok_or_else(|| {
        PageError::Unreadable(format!(
            "Zalo's answer has no list of messages: {}",
            quoted()
        ))
    })?;
    entries.iter().map(logged).collect()
}

/// One entry of `data`; `src` and `time` are needed to place it.
fn logged(entry: &Value) -> Result<Logged, PageError> {
    let unreadable = |field: &str| {
        PageError::Unreadable(format!(
            "a message in Zalo's answer has no readable `{field}`: {}",
            cut_chars(&entry.to_string(), QUOTED_CHARS)
        ))
    };
    let src = number(&entry["src"]).ok_or_else(|| unreadable("src"))?;
    let time_ms = number(&entry["time"]).ok_or_else(|| unreadable("time"))?;
    let message_id = match &entry["message_id"] {
        Value::String(id) => Some(id.clone()),
        Value::Number(id) => Some(id.to_string()),
        _ => None,
    };
    Ok(Logged {
        from_oa: src == 0,
        time_ms,
        text: entry["message"].as_str().map(str::to_owned),
        message_id,
    })
}

/// A JSON number, or a string of digits (Zalo is not consistent about which).
fn number(value: &Value) -> Option<u64> {
    match value {
        Value::Number(number) => number.as_u64(),
        Value::String(text) => text.trim().parse().ok(),
        _ => None,
    }
}

/// What is looked for.
#[derive(Debug, Clone, Copy)]
pub struct Sought<'a> {
    /// The text of the reply's last message.
    pub text: &'a str,
    /// The id of the reply the host knows was delivered before this one.
    pub previous_message_id: Option<&'a str>,
    /// Messages older than this (ms, Zalo's clock) cannot be the reply.
    pub since_ms: u64,
}

impl<'a> Sought<'a> {
    /// The reply whose last message reads `text`, its send begun at `started_ms`.
    pub fn new(text: &'a str, previous_message_id: Option<&'a str>, started_ms: u64) -> Self {
        Self {
            text,
            previous_message_id,
            since_ms: started_ms.saturating_sub(CLOCK_ALLOWANCE_MS),
        }
    }
}

/// What one page says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scan {
    /// The reply's last message.
    Found(Logged),
    /// Not there: the page reached the previous reply, older messages or the start of the
    /// conversation first.
    Absent,
    /// Every message of the page is newer than the send and none is it: read the next.
    ReadOn,
}

/// Looks for `sought` in one full-size page (newest first).
pub fn scan(sought: &Sought<'_>, page: &[Logged]) -> Scan {
    for message in page {
        // Checked first: the previous reply may have had the same text.
        if sought.previous_message_id.is_some()
            && message.message_id.as_deref() == sought.previous_message_id
        {
            return Scan::Absent;
        }
        if message.time_ms < sought.since_ms {
            return Scan::Absent;
        }
        if message.from_oa
            && message
                .text
                .as_deref()
                .is_some_and(|text| same(text, sought.text))
        {
            return Scan::Found(message.clone());
        }
    }
    if page.len() < PAGE_SIZE as usize {
        // A short page is the start of the conversation.
        Scan::Absent
    } else {
        Scan::ReadOn
    }
}

/// Texts are compared without the whitespace at their ends, which a chat service may
/// trim; anything else differing is another message.
fn same(shown: &str, sent: &str) -> bool {
    shown.trim() == sent.trim()
}

/// The receipt of a reply found in the history.
pub fn receipt(found: &Logged) -> DeliveryReceipt {
    DeliveryReceipt {
        provider_message_id: found.message_id.clone(),
        provider_response: Some(format!(
            "found in Zalo's conversation history: message_id {}, time {} ms",
            found.message_id.as_deref().unwrap_or("(none)"),
            found.time_ms
        )),
    }
}

#[cfg(test)]
mod tests;
