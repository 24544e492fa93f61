//! The HTTP side of `probe`, for `check-sent`: tries the candidate ids with
//! `editMessageText` and the reply's own text until Telegram shows the reply or none is
//! left.

use std::time::Duration;

use loa_sdk::http::Request;
use loa_sdk::{
    ConversationRef, DeliveryReceipt, Message, SendCheck, UnfinishedSend, clock, config, kv, log,
};
use serde_json::json;

use crate::probe::{self, Try};
use crate::progress::{self, Progress};
use crate::render::{self, ApiCall};
use crate::{MAX_ANSWER_BYTES, answer, api_base_url};

/// Per-try timeout: a try that times out ends the look-up.
const TRY_TIMEOUT: Duration = Duration::from_millis(1000);

/// Time the tries may take together, under the host's 5 s for a channel call.
const TRIES_BUDGET_MS: u64 = 3500;

/// Whether the reply Telegram may have taken before the host stopped is in the chat;
/// `Err` says why it cannot be told.
pub fn look_up_sent(
    conversation: &ConversationRef,
    message: &Message,
    unfinished: &UnfinishedSend,
) -> Result<SendCheck, String> {
    let chat = conversation.contact.channel_user_id.as_str();
    // A group (negative id) numbers its messages itself, not with the bot's counter.
    if !chat.parse::<i64>().is_ok_and(|id| id > 0) {
        return Err("not a private chat: its ids are the group's own".into());
    }
    let token = config::require("bot_token").map_err(|error| error.message().to_owned())?;
    let plan = render::plan(chat, message)?;
    let total = plan.calls.len();
    let fingerprint = progress::fingerprint(&plan.calls);
    let key = progress::key(&conversation.conversation_id);
    // A message in parts resumes after the parts that went out: the one in doubt is the
    // next, and it counts from the last one's id (those before it have other text, and a
    // try on their ids would change them).
    let (skip, last_part) = if total > 1 {
        let stored = kv::get_json::<Progress>(&key).map_err(|error| error.to_string())?;
        let skip = progress::already_sent(stored.as_ref(), &fingerprint, clock::now_ms());
        (skip, stored.and_then(|stored| stored.last_message_id))
    } else {
        (0, None)
    };
    let floor = match (skip, last_part) {
        (0, _) => unfinished.last_message_id.clone(),
        (_, Some(id)) => Some(id.to_string()),
        (_, None) => return Err("a message in parts, some sent, the last one's id not kept".into()),
    };
    let call = plan.calls.get(skip).ok_or("every part went out")?;
    if call.method != "sendMessage" {
        return Err(format!("{} has no text to compare", call.method));
    }
    let candidates = probe::candidates(
        floor.as_deref(),
        unfinished.previous_message_id.as_deref(),
        &unfinished.channel_message_ids,
    )?;
    let Some(found) = first_found(&api_base_url(), &token, call, &candidates.ids)? else {
        if candidates.more {
            return Err(format!(
                "not among the first {} ids after the conversation's last message",
                probe::MAX_TRIES
            ));
        }
        return Ok(SendCheck::Missing);
    };
    if skip + 1 == total {
        return Ok(SendCheck::Arrived(DeliveryReceipt {
            provider_message_id: Some(found.to_string()),
            provider_response: Some(format!(
                "message {found} shows the reply (editMessageText: not modified)"
            )),
        }));
    }
    // That part arrived: the send goes on from the next.
    let done = Progress {
        fingerprint,
        done: skip + 1,
        at_ms: clock::now_ms(),
        last_message_id: Some(found),
    };
    kv::set_json(&key, &done).map_err(|error| format!("cannot keep the progress: {error}"))?;
    Ok(SendCheck::Missing)
}

/// The first of `ids` whose message in the chat is `call`'s, trying them in order.
fn first_found(
    base: &str,
    token: &str,
    call: &ApiCall,
    ids: &[i64],
) -> Result<Option<i64>, String> {
    let started = clock::now_ms();
    for (tried, &id) in ids.iter().enumerate() {
        if clock::now_ms().saturating_sub(started) > TRIES_BUDGET_MS {
            return Err(format!("out of time after {tried} tries"));
        }
        let mut body = json!({
            "chat_id": call.body["chat_id"],
            "message_id": id,
            "text": call.body["text"],
        });
        if let Some(markup) = call.body.get("reply_markup") {
            body["reply_markup"] = markup.clone();
        }
        let response = Request::post(format!("{base}/bot{token}/editMessageText"))
            .header("accept", "application/json")
            .json(&body)
            .timeout(TRY_TIMEOUT)
            .max_response_bytes(MAX_ANSWER_BYTES)
            .send()
            .map_err(|error| answer::redact(&error.to_string(), token))?;
        match probe::read_try(response.status, &response.body) {
            Try::Found => return Ok(Some(id)),
            Try::NotHere => {}
            Try::Edited => {
                // Cannot happen while the host sends one message of a conversation at a
                // time and nothing else sends as this bot; said loudly if it does.
                log::error(
                    "a look-up try changed a message of the bot's",
                    &[("message_id", &id.to_string())],
                );
                return Err(format!("message {id} was another message of the bot's"));
            }
            Try::Unreadable(reason) => return Err(reason),
        }
    }
    Ok(None)
}
