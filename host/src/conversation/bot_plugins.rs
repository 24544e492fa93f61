//! The plugins a bot runs: the ones its settings list, in order, that its tenant enabled,
//! bound with the bot's own version pins and config. Middleware and tools both start here.

use std::sync::Arc;

use super::model::Bot;
use crate::plugins::registry::PluginRegistry;
use crate::plugins::{PluginKind, TenantPlugin};

/// The bot's enabled plugins of `kind`, in the bot's order. One that cannot be loaded is
/// skipped with a warning: a broken plugin must not silence the shop's bot.
pub async fn bound(registry: &PluginRegistry, bot: &Bot, kind: PluginKind) -> Vec<TenantPlugin> {
    let mut plugins = Vec::new();
    for wanted in &bot.settings.plugins {
        let bound = registry
            .bind_enabled(
                &bot.tenant_id,
                &wanted.name,
                wanted.version.as_ref(),
                &wanted.config,
            )
            .await;
        match bound {
            Ok(Some(plugin)) if plugin.plugin.kind() == kind => plugins.push(plugin),
            Ok(Some(_)) => {}
            Ok(None) => tracing::debug!(
                tenant = %bot.tenant_id, bot = %bot.id, plugin = %wanted.name,
                "plugin skipped: the tenant has not enabled it"
            ),
            Err(error) => tracing::warn!(
                tenant = %bot.tenant_id, bot = %bot.id, plugin = %wanted.name, %error,
                "plugin skipped: cannot load it"
            ),
        }
    }
    plugins
}

/// [`bound`] when there is a registry, else nothing.
pub async fn bound_if(
    registry: Option<&Arc<PluginRegistry>>,
    bot: &Bot,
    kind: PluginKind,
) -> Vec<TenantPlugin> {
    match registry {
        Some(registry) => bound(registry, bot, kind).await,
        None => Vec::new(),
    }
}
