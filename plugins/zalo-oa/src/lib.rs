//! loa channel plugin `zalo-oa`: a Zalo Official Account's conversations through Zalo's
//! OpenAPI. Webhooks come in signed (`X-ZEvent-Signature`, checked with the OA secret
//! key) and become loa events; replies go out through the customer-service message API
//! (`/v3.0/oa/message/cs`) and templates through ZNS (`/message/template`) with the OA's
//! access token, which the plugin refreshes itself before it expires or when Zalo rejects
//! it, spending each single-use refresh token once.
//!
//! This file is the glue to the host (config, key-value store, HTTP, log, clock); what
//! can be tested without a host lives in the modules: `webhook` (the gate), `signature`
//! (the mac), `inbound` (events), `postback` (button payloads and numbered options),
//! `render` and `split` (messages out), `answer` (Zalo's answers to delivery results),
//! `oauth` and `token` (refreshing the token pair), `history` (finding a reply whose send a
//! killed host left unfinished in Zalo's record of the conversation); the SDK's `progress`
//! resumes a reply sent in parts. `credentials` is the kv and HTTP side of `token`.

mod answer;
mod credentials;
mod history;
mod inbound;
mod oauth;
mod postback;
mod render;
mod signature;
mod split;
mod token;
mod webhook;

use std::hash::BuildHasher;
use std::time::Duration;

use loa_sdk::http::Request;
use loa_sdk::serde_json::{Value, json};
use loa_sdk::{
    ChannelAdapter, ChannelCapabilities, ConversationRef, DeliveryError, DeliveryReceipt,
    EventKind, HttpRequest, InboundEvent, Message, PluginError, SendCheck, TemplateMessage,
    TransientFailure, UnfinishedSend, WebhookOutcome, clock, config, kv, log,
};

use crate::answer::{Accepted, Refused};
use crate::credentials::Credentials;
use crate::history::{Logged, PageError, Scan, Sought};
use crate::token::{Configured, TokenRecord};
use loa_sdk::progress::{self, Progress};

/// Zalo's OpenAPI host, when the channel sets no `api_base_url`.
const DEFAULT_API_BASE_URL: &str = "https://openapi.zalo.me";

/// Zalo's ZNS (template message) host, when the channel sets no `zns_base_url`.
const DEFAULT_ZNS_BASE_URL: &str = "https://business.openapi.zalo.me";

/// Longest wait for one message call: under the host's 5 s channel deadline, so a stalled
/// Zalo gives a clear, retried failure instead of the host killing the call.
const REQUEST_TIMEOUT_MS: u64 = 3_000;

/// Time for all of one message's calls, a token refresh included. A message whose parts
/// do not fit ends early as a transient failure; what went out is recorded
/// ([`progress`]) and the retry sends the rest.
const SEND_BUDGET_MS: u64 = 4_500;

/// A call is not started with less time than this left: it would only time out.
const MIN_REQUEST_MS: u64 = 500;

/// Cap on Zalo's answer to a send: a few hundred bytes of JSON.
const MAX_ANSWER_BYTES: usize = 256 * 1024;

/// The plugin; exported below.
pub struct ZaloOa;

impl ChannelAdapter for ZaloOa {
    fn capabilities() -> ChannelCapabilities {
        ChannelCapabilities {
            // Zalo's 2,000 characters, applied in UTF-16 units by the splitter.
            max_text_length: u32::try_from(split::MAX_TEXT_UTF16).unwrap_or(u32::MAX),
            // Zalo has no chips: the host turns quick replies into postback buttons (and
            // numbered choices past five). `send` still renders any it gets as buttons.
            quick_replies: false,
            buttons: true,
            max_buttons: u32::try_from(render::MAX_BUTTONS).unwrap_or(u32::MAX),
            // Degraded to numbered text.
            cards: false,
            // Images by URL; other files as links.
            attachments: true,
        }
    }

    fn handle_webhook(request: HttpRequest) -> Result<WebhookOutcome, PluginError> {
        let app_id = config::require("app_id")?;
        let oa_secret_key = config::require("oa_secret_key")?;
        let keys = webhook::Keys {
            app_id: &app_id,
            oa_secret_key: &oa_secret_key,
        };
        let handled = webhook::receive(&request, &keys, clock::now_ms());
        for note in &handled.notes {
            log::info("zalo webhook", &[("note", note)]);
        }
        let mut outcome = handled.outcome;
        let channel_id = webhook::channel_id(&request.path_with_query);
        for event in &mut outcome.events {
            restore_postback(channel_id, event)?;
        }
        log::debug(
            "zalo webhook",
            &[("events", &outcome.events.len().to_string())],
        );
        Ok(outcome)
    }

    fn send(
        conversation: ConversationRef,
        message: Message,
    ) -> Result<DeliveryReceipt, DeliveryError> {
        let started = clock::now_ms();
        let settings = Settings::load().map_err(DeliveryError::Permanent)?;
        let rendered = render::render(&message);
        for note in &rendered.notes {
            log::info(
                "reply adapted to Zalo",
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
        let user = conversation.contact.channel_user_id.as_str();
        keep_answer_keys(&conversation.channel_id, user, &rendered, started)?;
        let credentials = settings.credentials(
            &conversation.channel_id,
            &conversation.conversation_id,
            started,
        );
        let url = format!("{}/v3.0/oa/message/cs", settings.api_base_url);
        let key = progress::key(&conversation.conversation_id);
        send_parts(&url, user, &rendered.parts, &key, &credentials)
    }

    fn send_template(template: TemplateMessage) -> Result<DeliveryReceipt, DeliveryError> {
        let started = clock::now_ms();
        let settings = Settings::load().map_err(DeliveryError::Permanent)?;
        let credentials =
            settings.credentials(&template.channel_id, &template.tracking_id, started);
        let url = format!("{}/message/template", settings.zns_base_url);
        let data: serde_json::Map<String, Value> = template
            .params
            .iter()
            .map(|(name, value)| (name.clone(), Value::String(value.clone())))
            .collect();
        let body = json!({
            "phone": template.recipient,
            "template_id": template.template_id,
            "template_data": data,
            "tracking_id": template.tracking_id,
        });
        let mut token = credentials.current()?;
        let mut refreshed = false;
        loop {
            let left = credentials.deadline_ms.saturating_sub(clock::now_ms());
            let response = Request::post(&url)
                .header("access_token", &token.access_token)
                .header("accept", "application/json")
                .json(&body)
                .timeout(Duration::from_millis(
                    left.clamp(MIN_REQUEST_MS, REQUEST_TIMEOUT_MS),
                ))
                .max_response_bytes(MAX_ANSWER_BYTES)
                .send()
                .map_err(|error| answer::transport_failure("sending a ZNS template", &error))?;
            let answer = answer::interpret_for(
                answer::Api::Template,
                response.status,
                &response.body,
                response.header("retry-after"),
            );
            match answer {
                Ok(accepted) => {
                    return Ok(DeliveryReceipt {
                        provider_message_id: accepted.message_id,
                        provider_response: Some(accepted.raw),
                    });
                }
                Err(Refused::AccessToken(reason)) if !refreshed => {
                    log::info(
                        "ZNS rejected the access token; refreshing",
                        &[("answer", &reason)],
                    );
                    refreshed = true;
                    token = credentials.after_rejection(&token)?;
                }
                Err(Refused::AccessToken(reason)) => {
                    return Err(DeliveryError::Permanent(format!(
                        "{reason}, even with a freshly refreshed token: reconnect the OA"
                    )));
                }
                Err(Refused::Delivery(error)) => return Err(error),
            }
        }
    }

    fn check_sent(
        conversation: ConversationRef,
        message: Message,
        unfinished: UnfinishedSend,
    ) -> SendCheck {
        let check =
            look_up_sent(&conversation, &message, &unfinished).unwrap_or_else(SendCheck::Unknown);
        let found = match &check {
            SendCheck::Arrived(_) => "arrived",
            SendCheck::Missing => "missing",
            SendCheck::Unknown(reason) => reason,
        };
        log::info(
            "looked for an unfinished send in Zalo's conversation history",
            &[
                ("conversation", &conversation.conversation_id),
                ("found", found),
            ],
        );
        check
    }
}

loa_sdk::export_channel!(ZaloOa);

/// The channel's configuration, read once per send.
struct Settings {
    app_id: String,
    app_secret_key: String,
    configured: Configured,
    api_base_url: String,
    oauth_base_url: String,
    zns_base_url: String,
}

impl Settings {
    /// The tokens of `channel_id` for one call named `call` (a conversation, a template's
    /// tracking id) that began at `started` and has [`SEND_BUDGET_MS`].
    fn credentials(&self, channel_id: &str, call: &str, started: u64) -> Credentials {
        Credentials {
            channel_id: channel_id.to_owned(),
            app_id: self.app_id.clone(),
            app_secret_key: self.app_secret_key.clone(),
            oauth_base_url: self.oauth_base_url.clone(),
            configured: self.configured.clone(),
            holder: holder_id(call, started),
            deadline_ms: started.saturating_add(SEND_BUDGET_MS),
        }
    }

    fn load() -> Result<Self, String> {
        let required = |key: &str| {
            config::require(key)
                .map(|value| value.trim().to_owned())
                .map_err(|error| format!("{} (see the zalo-oa plugin's README)", error.message()))
        };
        let expires_at_ms = config::get("access_token_expires_at")
            .filter(|value| !value.trim().is_empty())
            .and_then(|value| {
                token::parse_expires_at(&value)
                    .inspect_err(|reason| {
                        log::warn(
                            "access_token_expires_at ignored",
                            &[("reason", reason.as_str())],
                        );
                    })
                    .ok()
            });
        Ok(Self {
            app_id: required("app_id")?,
            app_secret_key: required("app_secret_key")?,
            configured: Configured {
                access_token: config::get("access_token").unwrap_or_default(),
                refresh_token: required("refresh_token")?,
                expires_at_ms,
            },
            api_base_url: base_url("api_base_url", DEFAULT_API_BASE_URL),
            oauth_base_url: base_url("oauth_base_url", oauth::DEFAULT_OAUTH_BASE_URL),
            zns_base_url: base_url("zns_base_url", DEFAULT_ZNS_BASE_URL),
        })
    }
}

fn base_url(key: &str, default: &str) -> String {
    config::get_or(key, default)
        .trim()
        .trim_end_matches('/')
        .to_owned()
}

/// Writes what reading the customer's answers needs: postback payloads behind the
/// buttons, and the numbered options (cleared when a reply has none, so an old list is
/// not answered by a later "2").
fn keep_answer_keys(
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
fn restore_postback(channel_id: &str, event: &mut InboundEvent) -> Result<(), PluginError> {
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

/// Sends `parts` in order with the OA's token, resuming a half-sent message recorded
/// under `key`; a rejected access token is refreshed, and the part sent again, once.
fn send_parts(
    url: &str,
    user: &str,
    parts: &[Value],
    key: &str,
    credentials: &Credentials,
) -> Result<DeliveryReceipt, DeliveryError> {
    let several = parts.len() > 1;
    let fingerprint = progress::fingerprint(user, parts);
    let mut progress = if several {
        Progress::resume(load_progress(key), fingerprint, clock::now_ms())
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
    let failed = |error: DeliveryError, progress: &Progress| {
        // A retry resumes from the record; after a permanent failure none comes.
        if several && matches!(error, DeliveryError::Permanent(_)) {
            forget_progress(key);
        }
        with_parts_sent(error, progress.sent, parts.len())
    };
    let mut token = credentials
        .current()
        .map_err(|error| failed(error, &progress))?;
    let mut refreshed = false;
    for part in parts.iter().skip(progress.sent) {
        let accepted = loop {
            let left = credentials.deadline_ms.saturating_sub(clock::now_ms());
            if left < MIN_REQUEST_MS {
                return Err(failed(
                    DeliveryError::Transient(TransientFailure {
                        reason: "this call's time ran out; the retry sends the rest".into(),
                        retry_after_ms: None,
                    }),
                    &progress,
                ));
            }
            match post_part(url, &token, user, part, left.min(REQUEST_TIMEOUT_MS)) {
                Ok(accepted) => break accepted,
                Err(Refused::AccessToken(reason)) if !refreshed => {
                    log::info(
                        "Zalo rejected the access token; refreshing",
                        &[("answer", &reason)],
                    );
                    refreshed = true;
                    token = credentials
                        .after_rejection(&token)
                        .map_err(|error| failed(error, &progress))?;
                }
                Err(Refused::AccessToken(reason)) => {
                    let error = DeliveryError::Permanent(format!(
                        "{reason}, even with a freshly refreshed token: check that the \
                         channel's app_id, access_token and refresh_token belong to this OA, \
                         or reconnect the OA"
                    ));
                    return Err(failed(error, &progress));
                }
                Err(Refused::Delivery(error)) => return Err(failed(error, &progress)),
            }
        };
        progress.record(accepted.message_id, accepted.raw, clock::now_ms());
        if several && progress.sent < parts.len() {
            save_progress(key, &progress);
        }
    }
    if several {
        forget_progress(key);
    }
    Ok(DeliveryReceipt {
        provider_message_id: progress.last_message_id.clone(),
        provider_response: progress.provider_response(),
    })
}

/// One customer-service call with one `message` object.
fn post_part(
    url: &str,
    token: &TokenRecord,
    user: &str,
    part: &Value,
    timeout_ms: u64,
) -> Result<Accepted, Refused> {
    let body = json!({"recipient": {"user_id": user}, "message": part});
    let response = Request::post(url)
        .header("access_token", &token.access_token)
        .header("accept", "application/json")
        .json(&body)
        .timeout(Duration::from_millis(timeout_ms))
        .max_response_bytes(MAX_ANSWER_BYTES)
        .send()
        .map_err(|error| {
            let failure = answer::transport_failure("sending to Zalo", &error);
            Refused::Delivery(failure.in_doubt_if(error.may_have_arrived()))
        })?;
    answer::interpret(
        response.status,
        &response.body,
        response.header("retry-after"),
    )
}

/// Whether `message`'s last Zalo message is in the conversation's history since the
/// unfinished send began (`history`); `Err` says why Zalo's history cannot tell.
fn look_up_sent(
    conversation: &ConversationRef,
    message: &Message,
    unfinished: &UnfinishedSend,
) -> Result<SendCheck, String> {
    let started = clock::now_ms();
    let settings = Settings::load()?;
    let rendered = render::render(message);
    let text = history::last_text(&rendered.parts)?;
    let sought = Sought::new(
        text,
        unfinished.previous_message_id.as_deref(),
        unfinished.started_ms,
    );
    let credentials = settings.credentials(
        &conversation.channel_id,
        &conversation.conversation_id,
        started,
    );
    let no_token = |error: DeliveryError| {
        format!(
            "no usable Zalo access token to read the conversation: {}",
            error.reason()
        )
    };
    let user = conversation.contact.channel_user_id.as_str();
    let mut token = credentials.current().map_err(no_token)?;
    let mut refreshed = false;
    for page_number in 0..history::MAX_PAGES {
        let offset = page_number * history::PAGE_SIZE;
        let page = loop {
            match read_history_page(&settings.api_base_url, user, offset, &token, &credentials) {
                Ok(page) => break page,
                Err(PageError::AccessToken(reason)) if !refreshed => {
                    log::info(
                        "Zalo rejected the access token; refreshing",
                        &[("answer", &reason)],
                    );
                    refreshed = true;
                    token = credentials.after_rejection(&token).map_err(no_token)?;
                }
                Err(PageError::AccessToken(reason)) => {
                    return Err(format!("{reason}, even with a freshly refreshed token"));
                }
                Err(PageError::Unreadable(reason)) => {
                    return Err(format!("reading Zalo's conversation history: {reason}"));
                }
            }
        };
        match history::scan(&sought, &page) {
            Scan::Found(found) => {
                // The send got to its end at Zalo: a record of its parts would make the same
                // text, sent again within the hour, start half-way.
                if rendered.parts.len() > 1 {
                    forget_progress(&progress::key(&conversation.conversation_id));
                }
                return Ok(SendCheck::Arrived(history::receipt(&found)));
            }
            Scan::Absent => return Ok(SendCheck::Missing),
            Scan::ReadOn => {}
        }
    }
    Err(format!(
        "the conversation's last {} messages on Zalo are all newer than the send, and none \
         is it; not reading further",
        history::MAX_PAGES * history::PAGE_SIZE
    ))
}

/// One page of the conversation with `user`, newest first.
fn read_history_page(
    api_base_url: &str,
    user: &str,
    offset: u32,
    token: &TokenRecord,
    credentials: &Credentials,
) -> Result<Vec<Logged>, PageError> {
    let left = credentials.deadline_ms.saturating_sub(clock::now_ms());
    if left < MIN_REQUEST_MS {
        return Err(PageError::Unreadable("this call's time ran out".into()));
    }
    let response = Request::get(history::page_url(api_base_url, user, offset))
        .header("access_token", &token.access_token)
        .header("accept", "application/json")
        .timeout(Duration::from_millis(left.min(REQUEST_TIMEOUT_MS)))
        .max_response_bytes(MAX_ANSWER_BYTES)
        .send()
        .map_err(|error| PageError::Unreadable(error.to_string()))?;
    history::parse_page(response.status, &response.body)
}

/// Names one send in a refresh lease: the conversation, the time and a random number
/// (two instances may send at the same millisecond).
fn holder_id(conversation_id: &str, now_ms: u64) -> String {
    let random = std::collections::hash_map::RandomState::new().hash_one(now_ms);
    format!("{conversation_id}@{now_ms}#{random:016x}")
}

/// The reason says how much of a multi-part reply the customer already got.
fn with_parts_sent(error: DeliveryError, sent: usize, total: usize) -> DeliveryError {
    if total < 2 {
        return error;
    }
    error.map_reason(|reason| format!("{reason} ({sent} of {total} parts sent)"))
}

// The record is a help, not a must: if the store fails, the retry sends the whole reply
// again (a repeated part beats a lost reply), so failures are only logged.

fn load_progress(key: &str) -> Option<Progress> {
    kv::get_json(key)
        .inspect_err(|error| {
            log::warn(
                "cannot read send progress",
                &[("error", &error.to_string())],
            )
        })
        .ok()
        .flatten()
}

fn save_progress(key: &str, progress: &Progress) {
    if let Err(error) = kv::set_json(key, progress) {
        log::warn(
            "cannot record send progress",
            &[("error", &error.to_string())],
        );
    }
}

fn forget_progress(key: &str) {
    if let Err(error) = kv::delete(key) {
        log::warn(
            "cannot clear send progress",
            &[("error", &error.to_string())],
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capabilities_match_what_the_renderer_enforces() {
        let capabilities = ZaloOa::capabilities();
        assert_eq!(capabilities.max_text_length, 2000);
        assert_eq!(capabilities.max_buttons, 5);
        assert!(!capabilities.quick_replies && capabilities.buttons);
        assert!(!capabilities.cards && capabilities.attachments);
    }

    #[test]
    fn a_failure_of_a_multi_part_reply_says_how_far_it_got() {
        let error = with_parts_sent(DeliveryError::Permanent("window".into()), 1, 3);
        assert_eq!(
            error,
            DeliveryError::Permanent("window (1 of 3 parts sent)".into())
        );
        let single = with_parts_sent(DeliveryError::Permanent("window".into()), 0, 1);
        assert_eq!(single, DeliveryError::Permanent("window".into()));
    }

    #[test]
    fn lease_holders_differ_between_sends() {
        assert_ne!(holder_id("cv_1", 5), holder_id("cv_2", 5));
        assert!(holder_id("cv_1", 5).starts_with("cv_1@5#"));
    }
}
