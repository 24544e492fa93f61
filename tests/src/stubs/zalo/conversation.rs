//! The conversation history, `GET /v2.0/oa/conversation`: pages of the messages taken
//! for a user, newest first, shaped as Zalo lists them.

use std::sync::Mutex;

use serde_json::{Value, json};

use super::{Shown, State, lock, zalo_error};

/// Most messages one conversation page may list (Zalo's limit on `count`).
const MAX_PAGE: u64 = 10;
/// The OA's id in the conversation history (`from_id` of what it sent).
const OA_ID: &str = "stub-oa";

/// One page of the conversation with `data.user_id` (a number or a string), newest first:
/// `data.offset` messages skipped, at most `data.count` (1 to 10) listed; -216 for a bad
/// access token, -201 for parameters Zalo would refuse.
pub(super) fn conversation(
    state: &Mutex<State>,
    access_token: Option<&str>,
    data: &Value,
) -> (u16, Value) {
    let state = lock(state);
    if !access_token.is_some_and(|token| state.valid_access_tokens.contains(token)) {
        return (200, zalo_error(-216, "Access token is invalid"));
    }
    let user = match &data["user_id"] {
        Value::Number(id) => Some(id.to_string()),
        Value::String(id) if !id.is_empty() => Some(id.clone()),
        _ => None,
    };
    let offset = data["offset"].as_u64();
    let count = data["count"]
        .as_u64()
        .filter(|count| (1..=MAX_PAGE).contains(count));
    let (Some(user), Some(offset), Some(count)) = (user, offset, count) else {
        return (
            200,
            zalo_error(
                -201,
                &format!(
                    "Parameters are invalid: data needs user_id, offset and count (1 to \
                     {MAX_PAGE})"
                ),
            ),
        );
    };
    let listed: Vec<Value> = state
        .history
        .iter()
        .rev()
        .filter(|shown| shown.user_id == user)
        .skip(usize::try_from(offset).unwrap_or(usize::MAX))
        .take(usize::try_from(count).unwrap_or(usize::MAX))
        .map(shown_entry)
        .collect();
    (
        200,
        json!({"data": listed, "error": 0, "message": "Success"}),
    )
}

/// A message as the conversation history lists it: a text (buttons or not) with its
/// `message`, an image as a `photo` with its `url`.
fn shown_entry(shown: &Shown) -> Value {
    let mut entry = json!({
        "src": 0,
        "time": shown.time_ms,
        "message_id": shown.message_id,
        "from_id": OA_ID,
        "to_id": shown.user_id,
        "from_display_name": "Mây Shop",
        "to_display_name": Value::Null,
    });
    match shown.message["text"].as_str() {
        Some(text) => {
            entry["type"] = json!("text");
            entry["message"] = json!(text);
        }
        None => {
            entry["type"] = json!("photo");
            entry["url"] = shown.message["attachment"]["payload"]["elements"][0]["url"].clone();
        }
    }
    entry
}
