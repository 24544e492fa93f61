//! loa channel plugin `zalo-oa`: a Zalo Official Account's conversations through Zalo's
//! OpenAPI. Webhooks come in signed (`X-ZEvent-Signature`, checked with the OA secret
//! key) and become loa events; replies go out through the customer-service message API
//! (`/v3.0/oa/message/cs`) and templates through ZNS (`/message/template`) with the OA's
//! access token, which the plugin refreshes itself before it expires or when Zalo rejects
//! it, spending each single-use refresh token once.
//!
//! What can be tested without a host lives in its own modules: `webhook` (the gate),
//! `signature` (the mac), `inbound` (events), `postback` (button payloads and numbered
//! options), `render` and `split` (messages out), `answer` (Zalo's answers to delivery
//! results), `oauth` and `token` (refreshing the token pair), `history` (finding a reply
//! whose send a killed host left unfinished in Zalo's record of the conversation); the
//! SDK's `progress` resumes a reply sent in parts. Their glue to the host (config,
//! key-value store, HTTP, log, clock) sits next to them: `settings` (the channel's
//! config), `credentials` (the kv and HTTP side of `token`), `postback_store` (of
//! `postback`), `outbound` (customer-service sends), `zns` (template sends),
//! `history_lookup` (of `history`). This file holds the plugin's entry points.

mod answer;
mod credentials;
mod history;
mod history_lookup;
mod inbound;
mod oauth;
mod outbound;
mod postback;
mod postback_store;
mod render;
mod settings;
mod signature;
mod split;
mod token;
mod webhook;
mod zns;

use loa_sdk::{
    ChannelAdapter, ChannelCapabilities, ConversationRef, DeliveryError, DeliveryReceipt,
    HttpRequest, Message, PluginError, SendCheck, TemplateMessage, UnfinishedSend, WebhookOutcome,
    clock, config, log,
};

use crate::history_lookup::look_up_sent;
use crate::outbound::send_parts;
use crate::postback_store::{keep_answer_keys, restore_postback};
use crate::settings::Settings;
use loa_sdk::progress;

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
        zns::send_template(template)
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
}
