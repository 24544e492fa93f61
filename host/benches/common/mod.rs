//! Helpers shared by the plugin benchmarks: the built `echo` test component, an engine, a
//! binding for one tenant, a call context, and the process's resident memory.
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::Arc;

use loa::config::PluginHostConfig;
use loa::plugins::types::CallContext;
use loa::plugins::{BindOptions, LoadedPlugin, PluginEngine, TenantPlugin};
use loa::store::sqlite::SqliteStore;
use loa::store::{Store, TenantPluginSettings};

/// Tenant every benchmark call runs for.
pub const TENANT: &str = "bench";

/// `<workspace>/tests/plugins/echo`, checked to hold a built component.
pub fn echo_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/plugins/echo");
    assert!(
        dir.join("plugin.wasm").is_file(),
        "{} has no plugin.wasm: run `cargo xtask build-plugins` first",
        dir.display()
    );
    dir
}

/// An engine with `config`, its state in an in-memory SQLite store.
pub fn engine(config: PluginHostConfig) -> Arc<PluginEngine> {
    let store: Arc<dyn Store> = Arc::new(SqliteStore::in_memory().expect("in-memory store"));
    PluginEngine::new(config, store, None).expect("engine starts")
}

/// Loads `echo` and binds it to [`TENANT`] with `http_grants`. Logs are not captured: the
/// server does not capture them either, and that is the path worth measuring.
pub fn bind_echo(engine: &PluginEngine, http_grants: &[&str]) -> (Arc<LoadedPlugin>, TenantPlugin) {
    let plugin = Arc::new(engine.load(&echo_dir()).expect("echo loads"));
    let settings = TenantPluginSettings {
        tenant_id: TENANT.to_owned(),
        plugin: plugin.manifest.plugin.name.clone(),
        enabled: true,
        http_grants: http_grants.iter().map(|grant| grant.to_string()).collect(),
        ..TenantPluginSettings::default()
    };
    let target = engine.bind(Arc::clone(&plugin), &settings, BindOptions::default());
    (plugin, target)
}

/// A context like the pipeline's for a tool call in a conversation.
pub fn context() -> CallContext {
    CallContext {
        tenant_id: TENANT.to_owned(),
        bot_id: "bot".into(),
        conversation_id: Some("conversation".into()),
        channel_id: None,
        locale: Some("vi".into()),
        contact: None,
    }
}

/// `VmRSS` and `VmHWM` of this process in KiB, from `/proc/self/status` (Linux only;
/// zeros elsewhere).
pub fn resident_kib() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}
