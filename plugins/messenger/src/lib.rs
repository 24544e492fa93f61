//! loa channel plugin `messenger`: a Facebook Page's Messenger conversations through the
//! Graph API. Webhooks come in signed (`X-Hub-Signature-256`) and are turned into loa's
//! events; replies go out through the Send API, rendered to what Messenger shows and split
//! or degraded where it cannot; after a host crash mid-send, the Page's conversation
//! (Conversations API, [`history`]) says whether a reply already arrived. The pure parts
//! live in their own modules so they are tested natively (`cargo test -p messenger`);
//! this file is the glue to the host.

pub mod graph;
pub mod history;
pub mod inbound;
pub mod render;
pub mod signature;
pub mod split;
pub mod webhook;

use std::time::Duration;

use loa_sdk::http::Request;
use loa_sdk::serde_json::{Value, json};
use loa_sdk::{
    ChannelAdapter, ChannelCapabilities, ConversationRef, DeliveryError, DeliveryReceipt,
    HttpRequest, Message, PluginError, SendCheck, TransientFailure, UnfinishedSend, WebhookOutcome,
    clock, config, log,
};

use crate::graph::Accepted;
use loa_sdk::progress::{self, Progress};

/// Longest wait for one Send API call: under the host's 5 s channel deadline, so a stalled
/// Graph API gives a clear, retried failure instead of the host killing the call.
const REQUEST_TIMEOUT_MS: u64 = 4_000;

/// Time for all of one message's calls. A message whose parts do not fit ends early as a
/// transient failure; what went out is recorded ([`progress`]) and the retry sends the rest.
const SEND_BUDGET_MS: u64 = 4_500;

/// A call is not started with less time than this left: it would only time out.
const MIN_REQUEST_MS: u64 = 500;

/// Time for all of one `check_sent`'s look-ups (two, then one per candidate message):
/// under the host's 5 s channel deadline, so running out gives a clear "unknown".
const CHECK_BUDGET_MS: u64 = 4_500;

/// The plugin; exported below.
pub struct Messenger;

impl ChannelAdapter for Messenger {
    fn capabilities() -> ChannelCapabilities {
        ChannelCapabilities {
            max_text_length: u32::try_from(render::MAX_TEXT_CHARS).unwrap_or(u32::MAX),
            quick_replies: true,
            buttons: true,
            max_buttons: u32::try_from(render::MAX_BUTTONS).unwrap_or(u32::MAX),
            cards: true,
            attachments: true,
        }
    }

    fn handle_webhook(request: HttpRequest) -> Result<WebhookOutcome, PluginError> {
        let handled = match request.method.to_ascii_uppercase().as_str() {
            "GET" => webhook::verify_subscription(
                &request.path_with_query,
                &config::require("verify_token")?,
            ),
            "POST" => {
                webhook::receive_events(&request, &config::require("app_secret")?, clock::now_ms())
            }
            other => webhook::method_not_allowed(other),
        };
        for note in &handled.notes {
            log::warn("messenger webhook", &[("note", note)]);
        }
        let events = handled.outcome.events.len().to_string();
        log::debug("messenger webhook", &[("events", &events)]);
        Ok(handled.outcome)
    }

    fn send(
        conversation: ConversationRef,
        message: Message,
    ) -> Result<DeliveryReceipt, DeliveryError> {
        let token = config::require("page_access_token")
            .map_err(|error| DeliveryError::Permanent(error.message().to_owned()))?;
        let url = graph::messages_url(
            &config::get_or("api_base_url", graph::DEFAULT_API_BASE_URL),
            &config::get_or("api_version", graph::DEFAULT_API_VERSION),
            &token,
        );
        let recipient = conversation.contact.channel_user_id.as_str();
        let rendered = render::render(&message);
        for note in &rendered.notes {
            log::info(
                "reply adapted to Messenger",
                &[
                    ("conversation", &conversation.conversation_id),
                    ("note", note),
                ],
            );
        }
        if rendered.parts.is_empty() {
            return Err(DeliveryError::Permanent(
                "nothing to send: the reply has no text, attachments, buttons or cards".into(),
            ));
        }
        let key = progress::key(&conversation.conversation_id);
        send_parts(&url, recipient, &rendered.parts, &key)
    }

    fn check_sent(
        conversation: ConversationRef,
        message: Message,
        unfinished: UnfinishedSend,
    ) -> SendCheck {
        let token = match config::require("page_access_token") {
            Ok(token) => token,
            Err(error) => return SendCheck::Unknown(error.message().to_owned()),
        };
        let lookup = history::Lookup {
            api_base_url: config::get_or("api_base_url", graph::DEFAULT_API_BASE_URL),
            api_version: config::get_or("api_version", graph::DEFAULT_API_VERSION),
            page_access_token: token,
            psid: conversation.contact.channel_user_id.clone(),
        };
        let parts = render::render(&message).parts;
        let started = clock::now_ms();
        let mut get = |url: &str| get_within(url, started);
        let check = history::check(&lookup, &parts, &unfinished, &mut get);
        let outcome = match &check {
            SendCheck::Arrived(_) => "arrived".to_owned(),
            SendCheck::Missing => "missing".to_owned(),
            SendCheck::Unknown(reason) => format!("unknown: {reason}"),
        };
        log::info(
            "looked for a reply a stopped host left unfinished",
            &[
                ("conversation", &conversation.conversation_id),
                ("outcome", &outcome),
            ],
        );
        check
    }
}

/// One Graph API GET of a `check_sent` that began at `started`, with what is left of
/// [`CHECK_BUDGET_MS`]; a reason without the URL when no answer came.
fn get_within(url: &str, started: u64) -> Result<(u16, Vec<u8>), String> {
    let left = CHECK_BUDGET_MS.saturating_sub(clock::now_ms().saturating_sub(started));
    if left < MIN_REQUEST_MS {
        return Err(format!(
            "the look-ups took longer than {CHECK_BUDGET_MS} ms"
        ));
    }
    Request::get(url)
        .header("accept", "application/json")
        .timeout(Duration::from_millis(left.min(REQUEST_TIMEOUT_MS)))
        .send()
        .map(|response| (response.status, response.body))
        .map_err(|error| history::transport_reason(&error))
}

/// Sends `parts` in order, resuming a half-sent message recorded under `key`.
fn send_parts(
    url: &str,
    recipient: &str,
    parts: &[Value],
    key: &str,
) -> Result<DeliveryReceipt, DeliveryError> {
    let started = clock::now_ms();
    let several = parts.len() > 1;
    let fingerprint = progress::fingerprint(recipient, parts);
    let mut progress = if several {
        Progress::resume(progress::load(key), fingerprint, started)
    } else {
        Progress::start(fingerprint)
    };
    if progress.sent > 0 {
        log::info(
            "resuming a reply sent in parts",
            &[
                ("sent", &progress.sent.to_string()),
                ("parts", &parts.len().to_string()),
            ],
        );
    }
    for part in parts.iter().skip(progress.sent) {
        let left = SEND_BUDGET_MS.saturating_sub(clock::now_ms().saturating_sub(started));
        if left < MIN_REQUEST_MS {
            return Err(DeliveryError::Transient(TransientFailure {
                reason: format!(
                    "{} of {} parts sent before this call's time ran out; the retry sends the rest",
                    progress.sent,
                    parts.len()
                ),
                retry_after_ms: None,
            }));
        }
        match post_part(url, recipient, part, left.min(REQUEST_TIMEOUT_MS)) {
            Ok(Accepted { message_id, raw }) => {
                progress.record(message_id, raw, clock::now_ms());
                if several && progress.sent < parts.len() {
                    progress::save(key, &progress);
                }
            }
            Err(error) => {
                let error = error.with_parts_sent(progress.sent, parts.len());
                // A retry resumes from the record; after a permanent failure none comes.
                if several && matches!(error, DeliveryError::Permanent(_)) {
                    progress::forget(key);
                }
                return Err(error);
            }
        }
    }
    if several {
        progress::forget(key);
    }
    Ok(progress.receipt())
}

/// One Send API call with one `message` object.
fn post_part(
    url: &str,
    recipient: &str,
    part: &Value,
    timeout_ms: u64,
) -> Result<Accepted, DeliveryError> {
    let body = json!({
        "recipient": {"id": recipient},
        // A reply to the customer's message, inside the 24-hour window; outside it Meta
        // refuses (code 10/2018278), which is permanent: message tags are not used.
        "messaging_type": "RESPONSE",
        "message": part,
    });
    let response = Request::post(url)
        .json(&body)
        .timeout(Duration::from_millis(timeout_ms))
        .send()
        .map_err(|error| graph::transport_failure(&error).in_doubt_if(error.may_have_arrived()))?;
    graph::interpret(
        response.status,
        &response.body,
        response.header("retry-after"),
    )
}

loa_sdk::export_channel!(Messenger);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capabilities_match_what_the_renderer_enforces() {
        let capabilities = Messenger::capabilities();
        assert_eq!(capabilities.max_text_length, 2000);
        assert_eq!(capabilities.max_buttons, 3);
        assert!(capabilities.quick_replies && capabilities.buttons);
        assert!(capabilities.cards && capabilities.attachments);
    }
}
