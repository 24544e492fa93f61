//! Helpers shared by the host's integration tests: real components from `plugins/` and
//! `tests/plugins/` (built by `cargo xtask build-plugins`), engines with small pools.
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::Arc;

use loa::config::PluginHostConfig;
use loa::plugins::types::CallContext;
use loa::plugins::{BindOptions, PluginEngine, TenantPlugin};
use loa::store::sqlite::SqliteStore;
use loa::store::{Store, TenantPluginSettings};

/// `<workspace>/<relative>`, checked to hold a built plugin.
pub fn plugin_dir(relative: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(relative);
    assert!(
        dir.join("plugin.wasm").is_file(),
        "{} has no plugin.wasm: run `cargo xtask build-plugins` first",
        dir.display()
    );
    dir
}

/// Host limits for tests: a small pool and short deadlines so hostile plugins fail fast.
pub fn test_config() -> PluginHostConfig {
    PluginHostConfig {
        max_concurrent_calls: 32,
        tool_timeout_ms: 500,
        max_memory_mib: 32,
        kv_writes_per_call: 100,
        ..PluginHostConfig::default()
    }
}

pub fn engine_with(config: PluginHostConfig) -> (Arc<PluginEngine>, Arc<dyn Store>) {
    let store: Arc<dyn Store> = Arc::new(SqliteStore::in_memory().expect("in-memory store"));
    let engine = PluginEngine::new(config, Arc::clone(&store), None).expect("engine");
    (engine, store)
}

pub fn engine() -> Arc<PluginEngine> {
    engine_with(test_config()).0
}

/// Loads the plugin at `relative` and binds it to `tenant` with `config` and `grants`.
pub fn bind(
    engine: &PluginEngine,
    relative: &str,
    tenant: &str,
    config: &[(&str, &str)],
    grants: &[&str],
) -> TenantPlugin {
    let plugin = Arc::new(engine.load(&plugin_dir(relative)).expect("plugin loads"));
    let settings = TenantPluginSettings {
        tenant_id: tenant.to_owned(),
        plugin: plugin.manifest.plugin.name.clone(),
        enabled: true,
        config: config
            .iter()
            .map(|(key, value)| (key.to_string(), value.to_string()))
            .collect(),
        http_grants: grants.iter().map(|grant| grant.to_string()).collect(),
        ..TenantPluginSettings::default()
    };
    engine.bind(plugin, &settings, BindOptions { capture_logs: true })
}

pub fn context(tenant: &str) -> CallContext {
    CallContext {
        tenant_id: tenant.to_owned(),
        bot_id: "bot".into(),
        conversation_id: Some("conversation".into()),
        channel_id: None,
        locale: Some("vi".into()),
        contact: None,
    }
}
