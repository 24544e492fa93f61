//! The Send API, `POST /{version}/me/messages`: checks a message as Messenger does (text,
//! quick replies, button and generic templates) and takes it into the customer's
//! conversation.

use std::sync::Mutex;
use std::time::Duration;

use serde_json::{Value, json};

use super::conversations::graph_time_now;
use super::{Said, State, graph_error, lock};

/// A Send API call: the message taken (and put in the customer's conversation) when
/// Messenger would take it, its answer held for `hold` if planned.
pub(super) async fn send(
    state: &Mutex<State>,
    index: usize,
    body: &Value,
    hold: Option<Duration>,
) -> (u16, Value) {
    let recipient = match check_request(body) {
        Ok(recipient) => recipient,
        Err(problem) => return (400, graph_error(100, None, format!("(#100) {problem}"))),
    };
    let id = {
        let mut state = lock(state);
        state.taken += 1;
        let id = format!("m_{}", state.taken);
        let text = state.requests.get_mut(index).and_then(|recorded| {
            recorded.message_id = Some(id.clone());
            recorded.text().map(str::to_owned)
        });
        let said = Said {
            id: id.clone(),
            created_time: graph_time_now(),
            by_customer: false,
            text: text.unwrap_or_default(),
        };
        state
            .conversations
            .entry(recipient.clone())
            .or_default()
            .push(said);
        id
    };
    if let Some(wait) = hold {
        tokio::time::sleep(wait).await;
    }
    (200, json!({"recipient_id": recipient, "message_id": id}))
}

/// The recipient's PSID when the body is a message Messenger would take, else why not.
fn check_request(body: &Value) -> Result<String, String> {
    let recipient = body["recipient"]["id"]
        .as_str()
        .filter(|id| !id.is_empty())
        .ok_or("param recipient[id] must be a non-empty string")?;
    if !matches!(
        body["messaging_type"].as_str(),
        Some("RESPONSE" | "UPDATE" | "MESSAGE_TAG")
    ) {
        return Err("param messaging_type must be RESPONSE, UPDATE or MESSAGE_TAG".into());
    }
    let message = &body["message"];
    let has_text = message["text"].is_string();
    let has_attachment = message["attachment"].is_object();
    if has_text == has_attachment {
        return Err("param message must have exactly one of text or attachment".into());
    }
    if let Some(text) = message["text"].as_str() {
        check_length("message[text]", text, 2000)?;
    }
    if let Some(chips) = message.get("quick_replies") {
        let chips = chips
            .as_array()
            .ok_or("param quick_replies must be an array")?;
        if chips.is_empty() || chips.len() > 13 {
            return Err("param quick_replies must have 1 to 13 elements".into());
        }
        for chip in chips {
            check_length(
                "quick_replies[title]",
                chip["title"].as_str().unwrap_or(""),
                20,
            )?;
            check_length(
                "quick_replies[payload]",
                chip["payload"].as_str().unwrap_or(""),
                1000,
            )?;
        }
    }
    let payload = &message["attachment"]["payload"];
    match payload["template_type"].as_str() {
        Some("button") => {
            check_length("payload[text]", payload["text"].as_str().unwrap_or(""), 640)?;
            check_buttons(&payload["buttons"], 1)?;
        }
        Some("generic") => {
            let elements = payload["elements"]
                .as_array()
                .filter(|elements| (1..=10).contains(&elements.len()))
                .ok_or("param elements must have 1 to 10 elements")?;
            for element in elements {
                check_length(
                    "elements[title]",
                    element["title"].as_str().unwrap_or(""),
                    80,
                )?;
                if let Some(subtitle) = element["subtitle"].as_str() {
                    check_length("elements[subtitle]", subtitle, 80)?;
                }
                if !element["buttons"].is_null() {
                    check_buttons(&element["buttons"], 1)?;
                }
            }
        }
        _ => {}
    }
    Ok(recipient.to_owned())
}

fn check_buttons(buttons: &Value, least: usize) -> Result<(), String> {
    let buttons = buttons
        .as_array()
        .filter(|buttons| (least..=3).contains(&buttons.len()))
        .ok_or_else(|| format!("param buttons must have {least} to 3 elements"))?;
    for button in buttons {
        check_length("buttons[title]", button["title"].as_str().unwrap_or(""), 20)?;
    }
    Ok(())
}

fn check_length(name: &str, value: &str, most: usize) -> Result<(), String> {
    let length = value.chars().count();
    if length == 0 || length > most {
        return Err(format!(
            "param {name} must be 1 to {most} characters (got {length})"
        ));
    }
    Ok(())
}
