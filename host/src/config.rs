//! The host's own configuration: where its data lives and how far plugins may go.
//!
//! Read from `loa.toml` (path from `--config` or `LOA_CONFIG`) when present; every field
//! has a default so `loa` runs on a bare machine with no file at all.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

/// Why the configuration could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file exists but could not be read.
    #[error("cannot read config file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// What the OS said.
        source: std::io::Error,
    },
    /// The file is not valid TOML or has unknown / mistyped fields.
    #[error("invalid config file {path}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// What is wrong, with line and column.
        message: String,
    },
}

/// The whole host configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HostConfig {
    /// Directory for the SQLite database, installed plugins and keys.
    /// Default: `$LOA_DATA_DIR`, else `./loa-data`.
    pub data_dir: PathBuf,
    /// Limits and policies of the plugin sandbox.
    pub plugins: PluginHostConfig,
    /// Which database: the embedded SQLite file (default) or a PostgreSQL server.
    pub database: DatabaseConfig,
    /// Listening address, static site, body limits, drain time.
    pub http: crate::http::HttpConfig,
    /// The web widget: message limits, rate limits, history.
    pub widget: crate::http::widget::WidgetConfig,
    /// The inbox workers.
    pub pipeline: crate::conversation::pipeline::PipelineConfig,
    /// The outbox dispatcher: concurrency, retries, dead letters.
    pub delivery: crate::delivery::DeliveryConfig,
    /// The embedding model and the vector index.
    pub knowledge: crate::knowledge::KnowledgeConfig,
    /// Accounts and keys: the master key, token lifetimes, password policy.
    pub auth: crate::auth::AuthConfig,
    /// Bots' LLM endpoints: which addresses they may reach.
    pub llm: crate::llm::LlmHostConfig,
}

/// The database behind the store.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DatabaseConfig {
    /// `postgres://user:password@host:port/db` to use PostgreSQL; none (default) for the
    /// SQLite file `<data_dir>/loa.db`. Also `--database-url` / `LOA_DATABASE_URL`.
    pub url: Option<String>,
    /// PostgreSQL connections in the pool, besides 8 kept for channel lookups and inbox
    /// writes. Default 16: two per core on a small server, well under PostgreSQL's default
    /// limit of 100 even with several instances.
    pub pool_size: usize,
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        Self {
            url: None,
            pool_size: 16,
        }
    }
}

impl Default for HostConfig {
    fn default() -> Self {
        Self {
            data_dir: std::env::var_os("LOA_DATA_DIR")
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from("loa-data")),
            plugins: PluginHostConfig::default(),
            database: DatabaseConfig::default(),
            http: crate::http::HttpConfig::default(),
            widget: crate::http::widget::WidgetConfig::default(),
            pipeline: crate::conversation::pipeline::PipelineConfig::default(),
            delivery: crate::delivery::DeliveryConfig::default(),
            knowledge: crate::knowledge::KnowledgeConfig::default(),
            auth: crate::auth::AuthConfig::default(),
            llm: crate::llm::LlmHostConfig::default(),
        }
    }
}

impl HostConfig {
    /// Reads `path`; a missing file gives the defaults.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        match std::fs::read_to_string(path) {
            Ok(text) => toml::from_str(&text).map_err(|error| ConfigError::Parse {
                path: path.to_owned(),
                message: error.to_string(),
            }),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(Self::default()),
            Err(source) => Err(ConfigError::Read {
                path: path.to_owned(),
                source,
            }),
        }
    }
}

/// Limits of the plugin sandbox. A manifest may lower them, never raise them.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PluginHostConfig {
    /// Most linear memory one call may use, in MiB. Default 64: enough for JSON work and an
    /// HTTP client, small enough that 1,000 calls in flight fit in a few GiB.
    pub max_memory_mib: u32,
    /// Deadline of a tool call, in ms. Default 2,000: a tool waits on a shop API at most this
    /// long while the customer waits for the answer.
    pub tool_timeout_ms: u64,
    /// Deadline of a middleware call, in ms. Default 300: middleware runs on every message,
    /// in line, so it must be quick.
    pub middleware_timeout_ms: u64,
    /// Deadline of a channel call (send, webhook), in ms. Default 5,000: channel APIs are
    /// slow at times and a send is retried by the outbox anyway.
    pub channel_timeout_ms: u64,
    /// Largest result a call may return, in KiB. Default 1,024.
    pub max_response_kib: u32,
    /// Largest `plugin.wasm` accepted, in MiB. Default 32.
    pub max_component_mib: u32,
    /// Let plugins reach loopback, private and link-local addresses. Default false: a
    /// plugin must not probe the shop's internal network. Tests and local development set it.
    pub allow_private_network: bool,
    /// Calls in flight at once across all plugins; sizes the pooling allocator. Default 1,000.
    pub max_concurrent_calls: u32,
    /// Consecutive failures that switch a plugin off for a tenant. Default 5.
    pub breaker_failure_threshold: u32,
    /// How long a switched-off plugin stays off before one trial call, in seconds. Default 300:
    /// long enough for a flaky upstream to recover, short enough that nobody has to step in.
    pub breaker_cool_off_secs: u64,
    /// Most key-value writes one call may make. Default 1,000: a plugin storing tokens or a
    /// cache needs a handful; thousands in one call is a runaway loop.
    pub kv_writes_per_call: u32,
    /// Most keys one (tenant, plugin) may store. Default 10,000.
    pub kv_max_keys: u64,
    /// Largest value, in KiB. Default 256.
    pub kv_max_value_kib: u32,
}

impl Default for PluginHostConfig {
    fn default() -> Self {
        Self {
            max_memory_mib: 64,
            tool_timeout_ms: 2_000,
            middleware_timeout_ms: 300,
            channel_timeout_ms: 5_000,
            max_response_kib: 1_024,
            max_component_mib: 32,
            allow_private_network: false,
            max_concurrent_calls: 1_000,
            breaker_failure_threshold: 5,
            breaker_cool_off_secs: 300,
            kv_writes_per_call: 1_000,
            kv_max_keys: 10_000,
            kv_max_value_kib: 256,
        }
    }
}

impl PluginHostConfig {
    /// The breaker's cool-off as a duration.
    pub fn breaker_cool_off(&self) -> Duration {
        Duration::from_secs(self.breaker_cool_off_secs)
    }
}
