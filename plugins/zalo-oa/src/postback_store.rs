//! The key-value side of `postback`: when a reply goes out, its buttons' payloads and
//! numbered options are kept; when the customer presses a button or answers by number,
//! the postback the bot offered is restored.

use loa_sdk::{
    DeliveryError, EventKind, InboundEvent, PluginError, TransientFailure, clock, kv, log,
};

use crate::{postback, render};

/// Writes what reading the customer's answers needs: postback payloads behind the
/// buttons, and the numbered options (cleared when a reply has none, so an old list is
/// not answered by a later "2").
pub fn keep_answer_keys(
    channel_id: &str,
    user: &str,
    rendered: &render::Rendered,
    now_ms: u64,
) -> Result<(), DeliveryError> {
    let unkept = |error: kv::KvError| {
        DeliveryError::Transient(TransientFailure {
            reason: format!("cannot keep the reply's button payloads: {error}"),
            retry_after_ms: None,
        })
    };
    for (key, payload) in &rendered.mappings {
        kv::set(key, payload.as_bytes()).map_err(unkept)?;
    }
    let key = postback::choices_key(channel_id, user);
    if rendered.choices.is_empty() {
        if let Err(error) = kv::delete(&key) {
            log::warn(
                "numbered options not cleared",
                &[("error", &error.to_string())],
            );
        }
        return Ok(());
    }
    let choices = postback::Choices {
        payloads: rendered.choices.clone(),
        at_ms: now_ms,
    };
    kv::set_json(&key, &choices).map_err(unkept)
}

/// Turns a pressed button (its `#loa:` marker as text) or a reply by number back into
/// the postback the bot offered.
pub fn restore_postback(channel_id: &str, event: &mut InboundEvent) -> Result<(), PluginError> {
    let EventKind::Message(message) = &event.kind else {
        return Ok(());
    };
    let Some(text) = message
        .text
        .as_deref()
        .filter(|_| message.attachments.is_empty())
    else {
        return Ok(());
    };
    if let Some(key) = postback::mapped_key(text) {
        match kv::get(&key)? {
            Some(payload) => {
                event.kind = EventKind::Postback(String::from_utf8_lossy(&payload).into_owned());
            }
            // Only this plugin writes the prefix, so the entry was removed by hand: the bot
            // gets the text as it is rather than nothing.
            None => log::warn("button payload not found", &[("key", &key)]),
        }
        return Ok(());
    }
    if postback::is_number_reply(text) {
        let key = postback::choices_key(channel_id, &event.contact.channel_user_id);
        let picked = kv::get_json::<postback::Choices>(&key)?
            .and_then(|choices| postback::pick(&choices, text, clock::now_ms()));
        if let Some(payload) = picked {
            event.kind = EventKind::Postback(payload);
        }
    }
    Ok(())
}
