//! Channel plugins: the [`ChannelAdapter`] trait and [`export_channel!`](crate::export_channel).

use crate::types::{
    ChannelCapabilities, ConversationRef, DeliveryError, DeliveryReceipt, HttpRequest, Message,
    PluginError, SendCheck, TemplateMessage, UnfinishedSend, WebhookOutcome,
};

/// A plugin that connects a chat platform (WIT interface `loa:plugin/channel`).
///
/// Like [`Tool`](crate::Tool), the functions take no `self`: state between calls lives in
/// [`kv`](crate::kv).
pub trait ChannelAdapter {
    /// What this channel can render; the host shapes replies to fit.
    fn capabilities() -> ChannelCapabilities;

    /// Verifies and parses one webhook request from the channel's servers.
    fn handle_webhook(request: HttpRequest) -> Result<WebhookOutcome, PluginError>;

    /// Sends one message to a conversation.
    fn send(
        conversation: ConversationRef,
        message: Message,
    ) -> Result<DeliveryReceipt, DeliveryError>;

    /// Sends a provider-approved template (Zalo ZNS). Channels without templates keep this
    /// default, which refuses for good.
    fn send_template(template: TemplateMessage) -> Result<DeliveryReceipt, DeliveryError> {
        Err(DeliveryError::Permanent(format!(
            "this channel sends no template messages (template '{}')",
            template.template_id
        )))
    }

    /// Whether `message`, whose send the host lost track of when it stopped mid-send
    /// (`unfinished` says when it began and what the conversation had before it), reached
    /// the conversation. The host asks before sending it again. Answer
    /// [`SendCheck::Arrived`] only when the provider shows all of it, and
    /// [`SendCheck::Missing`] only when it shows it is not there; channels whose provider
    /// keeps no history the plugin can read keep this default, and the host sends again.
    fn check_sent(
        conversation: ConversationRef,
        message: Message,
        unfinished: UnfinishedSend,
    ) -> SendCheck {
        let _ = (conversation, message, unfinished);
        SendCheck::Unknown("this channel cannot look up what it sent".into())
    }
}

/// Exports a type implementing [`ChannelAdapter`] as this component's `loa:plugin/channel`
/// interface: `loa_sdk::export_channel!(MyChannel);`. Needs the sdk's `channel` feature.
#[cfg(feature = "channel")]
#[macro_export]
macro_rules! export_channel {
    ($ty:ident) => {
        impl $crate::bindings::channel::exports::loa::plugin::channel::Guest for $ty {
            fn capabilities() -> $crate::ChannelCapabilities {
                <$ty as $crate::ChannelAdapter>::capabilities()
            }

            fn handle_webhook(
                request: $crate::HttpRequest,
            ) -> ::core::result::Result<$crate::WebhookOutcome, $crate::PluginError> {
                <$ty as $crate::ChannelAdapter>::handle_webhook(request)
            }

            fn send(
                conversation: $crate::ConversationRef,
                message: $crate::Message,
            ) -> ::core::result::Result<$crate::DeliveryReceipt, $crate::DeliveryError> {
                <$ty as $crate::ChannelAdapter>::send(conversation, message)
            }

            fn send_template(
                template: $crate::TemplateMessage,
            ) -> ::core::result::Result<$crate::DeliveryReceipt, $crate::DeliveryError> {
                <$ty as $crate::ChannelAdapter>::send_template(template)
            }

            fn check_sent(
                conversation: $crate::ConversationRef,
                message: $crate::Message,
                unfinished: $crate::UnfinishedSend,
            ) -> $crate::SendCheck {
                <$ty as $crate::ChannelAdapter>::check_sent(conversation, message, unfinished)
            }
        }

        // Only wasm gets the export glue: its symbol names (`loa:plugin/tools@0.3.0#call`)
        // are not valid in a native linker's version script, and nothing native calls them.
        #[cfg(target_arch = "wasm32")]
        $crate::__export_channel_adapter_impl!($ty with_types_in $crate::bindings::channel);
    };
}

/// Exports a type implementing [`ChannelAdapter`] as this component's `loa:plugin/channel`
/// interface.
///
/// The sdk's `channel` feature is off, so this does nothing on a native build and fails the
/// build for `wasm32`.
#[cfg(not(feature = "channel"))]
#[macro_export]
macro_rules! export_channel {
    ($ty:ident) => {
        #[cfg(target_arch = "wasm32")]
        compile_error!(
            "loa_sdk::export_channel! needs the sdk's `channel` feature: \
             loa-sdk = { path = \"...\", features = [\"channel\"] }"
        );
    };
}
