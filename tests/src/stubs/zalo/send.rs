//! The customer-service message API, `POST /v3.0/oa/message/cs`: checks a message as
//! Zalo does (text length, buttons, an image template) and takes it into the
//! conversation history.

use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

use super::{Shown, State, lock, zalo_error};

/// Zalo's limit on a message's text, in characters.
const MAX_TEXT_CHARS: usize = 2000;
/// Most buttons under one message.
const MAX_BUTTONS: usize = 5;
/// Longest button title, in characters.
const MAX_BUTTON_TITLE_CHARS: usize = 100;
/// Longest `oa.query.*` payload, in characters.
const MAX_QUERY_PAYLOAD_CHARS: usize = 1000;

/// A customer-service message, checked as Zalo checks it.
pub(super) fn send(state: &Mutex<State>, access_token: Option<&str>, body: &Value) -> (u16, Value) {
    let token_valid =
        access_token.is_some_and(|token| lock(state).valid_access_tokens.contains(token));
    if !token_valid {
        return (200, zalo_error(-216, "Access token is invalid"));
    }
    let user = match check_message(body) {
        Ok(user) => user,
        Err(problem) => {
            return (
                200,
                zalo_error(-201, &format!("Parameters are invalid: {problem}")),
            );
        }
    };
    let message_id = {
        let mut state = lock(state);
        state.taken += 1;
        let message_id = format!("{:032x}", 0x5a10_0000_u64 + state.taken);
        state.history.push(Shown {
            user_id: user.clone(),
            time_ms: wall_clock_ms(),
            message_id: message_id.clone(),
            message: body["message"].clone(),
        });
        message_id
    };
    (
        200,
        json!({
            "data": {"message_id": message_id, "user_id": user},
            "error": 0,
            "message": "Success"
        }),
    )
}

fn wall_clock_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|since| u64::try_from(since.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or_default()
}

/// The recipient when `body` is a message Zalo would take, else why not.
fn check_message(body: &Value) -> Result<String, String> {
    let user = body["recipient"]["user_id"]
        .as_str()
        .filter(|id| !id.is_empty())
        .ok_or("recipient.user_id must be a non-empty string")?;
    let message = body["message"]
        .as_object()
        .ok_or("message must be an object")?;
    let text = message.get("text");
    let attachment = message.get("attachment");
    if text.is_none() && attachment.is_none() {
        return Err("message needs a text or an attachment".into());
    }
    if let Some(text) = text {
        let text = text.as_str().ok_or("message.text must be a string")?;
        check_length("message.text", text, MAX_TEXT_CHARS)?;
    }
    let Some(attachment) = attachment else {
        return Ok(user.to_owned());
    };
    if attachment["type"] != "template" {
        return Err("message.attachment.type must be template".into());
    }
    let payload = &attachment["payload"];
    match payload["template_type"].as_str() {
        None => {
            if text.is_none() {
                return Err("buttons need a message.text".into());
            }
            check_buttons(&payload["buttons"])?;
        }
        Some("media") => {
            let elements = payload["elements"]
                .as_array()
                .filter(|elements| elements.len() == 1)
                .ok_or("media elements must hold one element")?;
            let element = &elements[0];
            if element["media_type"] != "image" {
                return Err("media_type must be image".into());
            }
            let url = element["url"].as_str().unwrap_or_default();
            if !(url.starts_with("https://") || url.starts_with("http://")) {
                return Err("media url must be an http(s) URL".into());
            }
        }
        Some(other) => return Err(format!("template_type {other} is not supported here")),
    }
    Ok(user.to_owned())
}

fn check_buttons(buttons: &Value) -> Result<(), String> {
    let buttons = buttons
        .as_array()
        .filter(|buttons| (1..=MAX_BUTTONS).contains(&buttons.len()))
        .ok_or_else(|| format!("buttons must hold 1 to {MAX_BUTTONS} buttons"))?;
    for button in buttons {
        check_length(
            "buttons.title",
            button["title"].as_str().unwrap_or_default(),
            MAX_BUTTON_TITLE_CHARS,
        )?;
        let payload = &button["payload"];
        match button["type"].as_str().unwrap_or_default() {
            "oa.query.hide" | "oa.query.show" => check_length(
                "buttons.payload",
                payload.as_str().unwrap_or_default(),
                MAX_QUERY_PAYLOAD_CHARS,
            )?,
            "oa.open.url" => {
                let url = payload["url"].as_str().unwrap_or_default();
                if !(url.starts_with("https://") || url.starts_with("http://")) {
                    return Err("oa.open.url needs payload.url".into());
                }
            }
            "oa.open.phone" | "oa.open.sms" => {
                if payload["phone_code"].as_str().is_none_or(str::is_empty) {
                    return Err("a phone button needs payload.phone_code".into());
                }
            }
            other => return Err(format!("button type '{other}' is not supported")),
        }
    }
    Ok(())
}

fn check_length(name: &str, value: &str, most: usize) -> Result<(), String> {
    let length = value.chars().count();
    if length == 0 || length > most {
        return Err(format!(
            "{name} must be 1 to {most} characters (got {length})"
        ));
    }
    Ok(())
}
