//! Calling a plugin: a fresh instance per call with its memory cap and deadline, the breaker
//! consulted before and told after, and every failure turned into a [`PluginCallError`].

use std::sync::Arc;
use std::time::Duration;

use super::bindings::types::{
    CallContext, ChannelCapabilities, ConversationRef, DeliveryError, DeliveryReceipt, HttpRequest,
    Message, SendCheck, TemplateMessage, ToolSpec, UnfinishedSend, Verdict, WebhookOutcome,
};
use super::engine::PluginEngine;
use super::error::PluginCallError;
use super::lifecycle::within;
use super::loaded::{LoadedPlugin, WorldPre};
use super::outbound_http::HttpAllowlist;
use super::sandbox::{CallScope, PluginLogLine};
use crate::store::{KvQuota, KvScope, TenantPluginSettings};

/// A loaded plugin bound to one tenant: its config, HTTP grants and key-value scope.
/// Build it once per (tenant, plugin) settings; every call shares it.
pub struct TenantPlugin {
    /// The plugin.
    pub plugin: Arc<LoadedPlugin>,
    pub(crate) scope: Arc<CallScope>,
    pub(crate) allowlist: Arc<HttpAllowlist>,
}

impl TenantPlugin {
    /// The tenant.
    pub fn tenant_id(&self) -> &str {
        &self.scope.tenant_id
    }
}

/// Options for [`PluginEngine::bind`].
#[derive(Debug, Clone, Copy, Default)]
pub struct BindOptions {
    /// Keep each call's log lines in its [`CallReport`] (the CLI shows them); the server
    /// only sends them to `tracing`.
    pub capture_logs: bool,
}

/// The outcome of one call, with what the caller may want to show about it.
#[derive(Debug)]
pub struct CallReport<T> {
    /// What the plugin returned, or why the call failed.
    pub outcome: Result<T, PluginCallError>,
    /// Log lines, when captured.
    pub logs: Vec<PluginLogLine>,
    /// The plugin asked for a person (`request-handover`), with its reason.
    pub handover: Option<String>,
    /// Wall-clock time of the whole call, instance creation included.
    pub elapsed: Duration,
    /// Largest linear memory the instance reached, in bytes.
    pub memory_peak_bytes: usize,
}

/// The world a call needs and the one the plugin has did not match.
fn wrong_kind(plugin: &LoadedPlugin, needed: &str) -> PluginCallError {
    PluginCallError::Host {
        plugin: plugin.id(),
        message: format!("it is a {} plugin, not a {needed} plugin", plugin.kind()),
    }
}

/// One export call: the plugin must be of world `$world`; then admission, a fresh store,
/// `$body` (instantiate and call) under the deadline, and classification. A macro because
/// each world's bindings are distinct types and the body borrows the call's store.
macro_rules! invoke {
    ($self:ident, $target:ident, $world:ident, $needed:literal, |$store:ident, $pre:ident| $body:block) => {{
        let WorldPre::$world($pre) = &$target.plugin.pre else {
            return CallReport::refused(wrong_kind(&$target.plugin, $needed));
        };
        let mut call = match $self.begin($target) {
            Ok(call) => call,
            Err(refused) => return CallReport::refused(refused),
        };
        let $store = &mut call.store;
        let result = within(call.deadline, async $body).await;
        $self.finish($target, call, result).await
    }};
}

impl PluginEngine {
    /// Binds `plugin` to a tenant's `settings`. Config keys the tenant left out get the
    /// manifest's defaults.
    pub fn bind(
        &self,
        plugin: Arc<LoadedPlugin>,
        settings: &TenantPluginSettings,
        options: BindOptions,
    ) -> TenantPlugin {
        let mut config = settings.config.clone();
        for (key, spec) in &plugin.manifest.config {
            if let Some(default) = &spec.default {
                config.entry(key.clone()).or_insert_with(|| default.clone());
            }
        }
        self.breakers.seed(
            &settings.tenant_id,
            &plugin.manifest.plugin.name,
            settings.breaker.as_ref(),
        );
        let scope = Arc::new(CallScope {
            tenant_id: settings.tenant_id.clone(),
            plugin_id: plugin.id(),
            config,
            kv_scope: KvScope {
                tenant_id: settings.tenant_id.clone(),
                plugin: plugin.manifest.plugin.name.clone(),
            },
            kv_quota: KvQuota {
                max_keys: self.config.kv_max_keys,
                max_value_bytes: self.config.kv_max_value_kib as usize * 1024,
                ..KvQuota::default()
            },
            kv_writes_per_call: self.config.kv_writes_per_call,
            store: Arc::clone(&self.store),
            capture_logs: options.capture_logs,
        });
        let allowlist = Arc::new(HttpAllowlist {
            declared: plugin.manifest.capabilities.http.clone(),
            granted: settings.http_grants.clone(),
            allow_private_network: self.config.allow_private_network,
        });
        TenantPlugin {
            plugin,
            scope,
            allowlist,
        }
    }

    /// The tools a tool plugin offers.
    pub async fn list_tools(&self, target: &TenantPlugin) -> CallReport<Vec<ToolSpec>> {
        invoke!(self, target, Tool, "tool", |store, pre| {
            let instance = pre.instantiate_async(&mut *store).await?;
            Ok(Ok(instance
                .loa_plugin_tools()
                .call_list_tools(&mut *store)
                .await?))
        })
    }

    /// Calls tool `tool` with `args_json` (a JSON object); returns the tool's JSON result.
    pub async fn call_tool(
        &self,
        target: &TenantPlugin,
        tool: &str,
        args_json: &str,
        context: &CallContext,
    ) -> CallReport<String> {
        if let Err(message) = check_json_object(args_json) {
            return CallReport::refused(PluginCallError::InvalidArguments {
                plugin: target.plugin.id(),
                tool: tool.to_owned(),
                message,
            });
        }
        let mut report = invoke!(self, target, Tool, "tool", |store, pre| {
            let instance = pre.instantiate_async(&mut *store).await?;
            let tools = instance.loa_plugin_tools();
            tools.call_call(&mut *store, tool, args_json, context).await
        });
        if let Ok(result) = &report.outcome
            && let Err(error) = serde_json::from_str::<serde::de::IgnoredAny>(result)
        {
            report.outcome = Err(PluginCallError::Plugin {
                plugin: target.plugin.id(),
                code: "internal",
                message: format!("tool '{tool}' returned a result that is not JSON: {error}"),
            });
        }
        report
    }

    /// Runs a middleware's `on-inbound` on a customer message.
    pub async fn on_inbound(
        &self,
        target: &TenantPlugin,
        context: &CallContext,
        message: &Message,
    ) -> CallReport<Verdict> {
        invoke!(self, target, Middleware, "middleware", |store, pre| {
            let instance = pre.instantiate_async(&mut *store).await?;
            let hooks = instance.loa_plugin_hooks();
            hooks.call_on_inbound(&mut *store, context, message).await
        })
    }

    /// Runs a middleware's `on-outbound` on a reply.
    pub async fn on_outbound(
        &self,
        target: &TenantPlugin,
        context: &CallContext,
        message: &Message,
    ) -> CallReport<Message> {
        invoke!(self, target, Middleware, "middleware", |store, pre| {
            let instance = pre.instantiate_async(&mut *store).await?;
            let hooks = instance.loa_plugin_hooks();
            hooks.call_on_outbound(&mut *store, context, message).await
        })
    }

    /// What a channel plugin can render.
    pub async fn capabilities(&self, target: &TenantPlugin) -> CallReport<ChannelCapabilities> {
        invoke!(self, target, Channel, "channel", |store, pre| {
            let instance = pre.instantiate_async(&mut *store).await?;
            let channel = instance.loa_plugin_channel();
            Ok(Ok(channel.call_capabilities(&mut *store).await?))
        })
    }

    /// What a channel plugin can render, asked once per loaded plugin version and kept
    /// (the answer is a constant of the plugin; the host shapes every reply with it).
    pub async fn channel_capabilities(
        &self,
        target: &TenantPlugin,
    ) -> Result<ChannelCapabilities, PluginCallError> {
        target
            .plugin
            .capabilities
            .get_or_try_init(|| async { self.capabilities(target).await.outcome })
            .await
            .cloned()
    }

    /// Hands a webhook request to a channel plugin.
    pub async fn handle_webhook(
        &self,
        target: &TenantPlugin,
        request: &HttpRequest,
    ) -> CallReport<WebhookOutcome> {
        invoke!(self, target, Channel, "channel", |store, pre| {
            let instance = pre.instantiate_async(&mut *store).await?;
            let channel = instance.loa_plugin_channel();
            channel.call_handle_webhook(&mut *store, request).await
        })
    }

    /// Sends a message through a channel plugin. A delivery error is the plugin working as
    /// it should (the channel said no), so it is part of the outcome, not a call failure.
    pub async fn send(
        &self,
        target: &TenantPlugin,
        conversation: &ConversationRef,
        message: &Message,
    ) -> CallReport<Result<DeliveryReceipt, DeliveryError>> {
        invoke!(self, target, Channel, "channel", |store, pre| {
            let instance = pre.instantiate_async(&mut *store).await?;
            let channel = instance.loa_plugin_channel();
            Ok(Ok(channel
                .call_send(&mut *store, conversation, message)
                .await?))
        })
    }

    /// Sends a provider-approved template (Zalo ZNS) through a channel plugin; delivery
    /// errors are part of the outcome, as for [`Self::send`].
    pub async fn send_template(
        &self,
        target: &TenantPlugin,
        template: &TemplateMessage,
    ) -> CallReport<Result<DeliveryReceipt, DeliveryError>> {
        invoke!(self, target, Channel, "channel", |store, pre| {
            let instance = pre.instantiate_async(&mut *store).await?;
            let channel = instance.loa_plugin_channel();
            Ok(Ok(channel
                .call_send_template(&mut *store, template)
                .await?))
        })
    }

    /// Asks a channel plugin whether a message whose send a stopped host left unfinished
    /// reached the conversation.
    pub async fn check_sent(
        &self,
        target: &TenantPlugin,
        conversation: &ConversationRef,
        message: &Message,
        unfinished: &UnfinishedSend,
    ) -> CallReport<SendCheck> {
        invoke!(self, target, Channel, "channel", |store, pre| {
            let instance = pre.instantiate_async(&mut *store).await?;
            let channel = instance.loa_plugin_channel();
            Ok(Ok(channel
                .call_check_sent(&mut *store, conversation, message, unfinished)
                .await?))
        })
    }
}

impl<T> CallReport<T> {
    /// A call that never started.
    pub(crate) fn refused(error: PluginCallError) -> Self {
        Self {
            outcome: Err(error),
            logs: Vec::new(),
            handover: None,
            elapsed: Duration::ZERO,
            memory_peak_bytes: 0,
        }
    }
}

/// Arguments must be one JSON object, checked before the plugin spends any time on them.
fn check_json_object(args_json: &str) -> Result<(), String> {
    serde_json::from_str::<serde::de::IgnoredAny>(args_json).map_err(|error| error.to_string())?;
    if !args_json.trim_start().starts_with('{') {
        return Err("expected a JSON object like {\"order_id\": \"A123\"}".into());
    }
    Ok(())
}
