//! loa channel plugin `telegram`: a Telegram bot through the Bot API. Updates arrive by
//! webhook (checked against the channel's `webhook_secret`), replies leave through
//! `sendMessage` / `sendPhoto` / `sendDocument` with the channel's `bot_token`.
//!
//! This file is the glue to the host (config, key-value store, HTTP, log, clock); what
//! can be tested without a host lives in the modules: `update` (webhook body to
//! events), `webhook` (secret check, answers), `render` (message to API calls),
//! `split` (long text), `callback` (64-byte `callback_data`), `answer` (Bot API
//! answers to delivery results), `progress` (resuming a message sent in parts), `probe`
//! (finding a reply a stopped host may have sent; its HTTP side is `sent_check`).

mod answer;
mod callback;
mod probe;
mod progress;
mod render;
mod sent_check;
mod split;
mod update;
mod webhook;

use std::time::Duration;

use loa_sdk::http::Request;
use loa_sdk::{
    ChannelAdapter, ChannelCapabilities, ConversationRef, DeliveryError, DeliveryReceipt,
    EventKind, HttpRequest, InboundEvent, Message, PluginError, SendCheck, TransientFailure,
    UnfinishedSend, WebhookOutcome, clock, config, kv, log,
};

use crate::answer::Accepted;
use crate::progress::Progress;
use crate::render::ApiCall;

/// Where the Bot API lives unless the channel's `api_base_url` says otherwise.
const DEFAULT_API_BASE_URL: &str = "https://api.telegram.org";

/// Per-request timeout of a send: under the host's 5 s deadline for a channel call, so a
/// slow Bot API gives a transient failure (retried) rather than a killed call.
const SEND_TIMEOUT: Duration = Duration::from_millis(3000);

/// Per-request timeout of `answerCallbackQuery`: it only stops the button's spinner, and
/// Telegram waits for the webhook's answer meanwhile.
const ANSWER_CALLBACK_TIMEOUT: Duration = Duration::from_millis(1500);

/// Cap on a Bot API answer: a sent message echoed back is a few KiB at most.
pub(crate) const MAX_ANSWER_BYTES: usize = 256 * 1024;

/// The plugin; exported below.
pub struct Telegram;

impl ChannelAdapter for Telegram {
    fn capabilities() -> ChannelCapabilities {
        ChannelCapabilities {
            // In UTF-16 units, as Telegram counts; longer text is split by `send`.
            max_text_length: split::MAX_MESSAGE_UTF16 as u32,
            // Rendered as inline keyboard buttons (they stay after use, unlike chips).
            quick_replies: true,
            buttons: true,
            // Telegram takes up to 100; more than 8 rows is a wall on a phone screen.
            max_buttons: 8,
            // Degraded to numbered text.
            cards: false,
            attachments: true,
        }
    }

    fn handle_webhook(request: HttpRequest) -> Result<WebhookOutcome, PluginError> {
        let secret = config::require("webhook_secret")?;
        let checked =
            webhook::check_secret(&request, &secret).and_then(|()| webhook::check_method(&request));
        if let Err(refused) = checked {
            log::warn(
                "webhook refused",
                &[("status", &refused.status.to_string())],
            );
            return Ok(WebhookOutcome {
                events: Vec::new(),
                response: refused,
            });
        }
        let parsed = match update::parse(&request.body, clock::now_ms()) {
            Ok(parsed) => parsed,
            Err(reason) => {
                log::warn("webhook body is not an update", &[("reason", &reason)]);
                return Ok(WebhookOutcome {
                    events: Vec::new(),
                    response: webhook::error(400, "not_an_update", &reason),
                });
            }
        };
        let mut events = parsed.events;
        for event in &mut events {
            restore_mapped_payload(event)?;
        }
        // Answered here, not on the next send: the customer's button spins until it is,
        // and the bot's reply may take seconds (or never come, with a person on it).
        if let Some(query_id) = &parsed.callback_query_id {
            answer_callback_query(query_id);
        }
        log::debug(
            "update received",
            &[
                ("kind", &parsed.kind),
                ("events", &events.len().to_string()),
            ],
        );
        Ok(WebhookOutcome {
            events,
            response: webhook::accepted(),
        })
    }

    fn send(
        conversation: ConversationRef,
        message: Message,
    ) -> Result<DeliveryReceipt, DeliveryError> {
        let token = config::require("bot_token")
            .map_err(|error| DeliveryError::Permanent(error.message().to_owned()))?;
        let base = api_base_url();
        let plan = render::plan(&conversation.contact.channel_user_id, &message)
            .map_err(DeliveryError::Permanent)?;
        for (key, payload) in &plan.mappings {
            kv::set(key, payload.as_bytes()).map_err(|error| {
                DeliveryError::Transient(TransientFailure {
                    reason: format!("cannot keep a long button payload: {error}"),
                    retry_after_ms: None,
                })
            })?;
        }
        send_calls(&conversation.conversation_id, &base, &token, &plan.calls)
    }

    fn check_sent(
        conversation: ConversationRef,
        message: Message,
        unfinished: UnfinishedSend,
    ) -> SendCheck {
        let check = sent_check::look_up_sent(&conversation, &message, &unfinished)
            .unwrap_or_else(SendCheck::Unknown);
        let found = match &check {
            SendCheck::Arrived(_) => "arrived",
            SendCheck::Missing => "missing",
            SendCheck::Unknown(reason) => reason,
        };
        log::info(
            "looked for an unfinished send in the chat",
            &[
                ("conversation", &conversation.conversation_id),
                ("found", found),
            ],
        );
        check
    }
}

loa_sdk::export_channel!(Telegram);

/// Sends `calls` in order, resuming after the calls a failed try already sent.
fn send_calls(
    conversation_id: &str,
    base: &str,
    token: &str,
    calls: &[ApiCall],
) -> Result<DeliveryReceipt, DeliveryError> {
    let total = calls.len();
    // One call needs no record: it either went out or it did not.
    let tracked = total > 1;
    let key = progress::key(conversation_id);
    let fingerprint = progress::fingerprint(calls);
    let skip = if tracked {
        let stored = kv::get_json::<Progress>(&key).unwrap_or_else(|error| {
            log::warn("send progress unreadable", &[("error", &error.to_string())]);
            None
        });
        progress::already_sent(stored.as_ref(), &fingerprint, clock::now_ms())
    } else {
        0
    };
    if skip > 0 {
        log::info(
            "resuming a message sent in parts",
            &[
                ("already_sent", &skip.to_string()),
                ("parts", &total.to_string()),
            ],
        );
    }
    let mut last: Option<Accepted> = None;
    for (index, call) in calls.iter().enumerate().skip(skip) {
        match call_api(base, token, call) {
            Ok(accepted) => {
                if tracked && index + 1 < total {
                    let done = Progress {
                        fingerprint: fingerprint.clone(),
                        done: index + 1,
                        at_ms: clock::now_ms(),
                        last_message_id: accepted.message_id,
                    };
                    // Best effort: without the record a retry repeats the parts sent.
                    if let Err(error) = kv::set_json(&key, &done) {
                        log::warn("send progress not kept", &[("error", &error.to_string())]);
                    }
                }
                last = Some(accepted);
            }
            Err(error) => {
                log::warn(
                    "Bot API call failed",
                    &[
                        ("method", call.method),
                        ("part", &format!("{}/{total}", index + 1)),
                    ],
                );
                if tracked && matches!(error, DeliveryError::Permanent(_)) {
                    loa_sdk::progress::forget(&key);
                }
                return Err(in_part(error, index + 1, total));
            }
        }
    }
    if tracked {
        loa_sdk::progress::forget(&key);
    }
    Ok(DeliveryReceipt {
        provider_message_id: last
            .as_ref()
            .and_then(|accepted| accepted.message_id)
            .map(|id| id.to_string()),
        provider_response: last.map(|accepted| accepted.raw),
    })
}

/// `POST {base}/bot{token}/{method}` with the call's JSON, and what its answer means.
fn call_api(base: &str, token: &str, call: &ApiCall) -> Result<Accepted, DeliveryError> {
    let response = Request::post(format!("{base}/bot{token}/{}", call.method))
        .header("accept", "application/json")
        .json(&call.body)
        .timeout(SEND_TIMEOUT)
        .max_response_bytes(MAX_ANSWER_BYTES)
        .send()
        .map_err(|error| {
            answer::failed_request(&error, token).in_doubt_if(error.may_have_arrived())
        })?;
    answer::interpret(call.method, response.status, &response.body)
}

/// Stops the spinner on the customer's button. Best effort: a failure is logged, and the
/// press is handled all the same.
fn answer_callback_query(query_id: &str) {
    let Ok(token) = config::require("bot_token") else {
        log::warn("cannot answer a button press: no bot_token", &[]);
        return;
    };
    let url = format!("{}/bot{token}/answerCallbackQuery", api_base_url());
    let sent = Request::post(url)
        .header("accept", "application/json")
        .json(&serde_json::json!({"callback_query_id": query_id}))
        .timeout(ANSWER_CALLBACK_TIMEOUT)
        .max_response_bytes(MAX_ANSWER_BYTES)
        .send();
    let outcome = match sent {
        Ok(response) => answer::interpret("answerCallbackQuery", response.status, &response.body)
            .map(|_| ())
            .map_err(|error| format!("{error:?}")),
        Err(error) => Err(answer::redact(&error.to_string(), &token)),
    };
    if let Err(reason) = outcome {
        log::warn("button press not answered", &[("reason", &reason)]);
    }
}

/// Puts back the payload a mapped `callback_data` stands for.
fn restore_mapped_payload(event: &mut InboundEvent) -> Result<(), PluginError> {
    let EventKind::Postback(data) = &mut event.kind else {
        return Ok(());
    };
    let Some(key) = callback::mapped_key(data) else {
        return Ok(());
    };
    match kv::get(&key)? {
        Some(payload) => *data = String::from_utf8_lossy(&payload).into_owned(),
        // Only this plugin writes the prefix, so the entry was removed by hand: the bot
        // gets the data as it is rather than nothing.
        None => log::warn("button payload not found", &[("key", &key)]),
    }
    Ok(())
}

pub(crate) fn api_base_url() -> String {
    config::get_or("api_base_url", DEFAULT_API_BASE_URL)
        .trim()
        .trim_end_matches('/')
        .to_owned()
}

/// `error`, saying which part of a message in several parts failed.
fn in_part(error: DeliveryError, part: usize, total: usize) -> DeliveryError {
    if total == 1 {
        return error;
    }
    error.map_reason(|reason| format!("part {part} of {total}: {reason}"))
}
