//! The host's HTTP surface: the widget (script, config, WebSocket), channel webhooks,
//! health checks, the admin API (a bot's FAQ and documents), and the shop's own static
//! site when one is configured.

pub mod admin;
mod console;
pub mod error;
mod health;
mod hooks;
pub mod limits;
pub mod security;
pub mod widget;

use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{any, get};
use serde::Deserialize;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tower_http::compression::CompressionLayer;
use tower_http::services::ServeDir;
use tower_http::trace::TraceLayer;

pub use error::ApiError;

use crate::conversation::channel_directory::ChannelDirectory;
use crate::conversation::live::LiveHub;
use crate::plugins::registry::PluginRegistry;
use crate::store::Store;

/// HTTP settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpConfig {
    /// Address to listen on. Default `127.0.0.1:8080` (loopback: a bare `loa serve` is not
    /// reachable from the network until you say so, e.g. `0.0.0.0:8080`).
    pub listen: String,
    /// A folder served at `/` (the shop's page embedding the widget). Default none.
    pub site_dir: Option<PathBuf>,
    /// Largest webhook body accepted, in KiB. Default 1024 (channel events are small;
    /// this bounds what a stranger can make the host buffer).
    pub max_body_kib: usize,
    /// Seconds to wait for in-flight turns and sends on shutdown before exiting anyway.
    /// Default 20.
    pub drain_secs: u64,
    /// Origins (`https://admin.may.vn`) whose pages may call the admin API from a browser
    /// (CORS). Default none: only pages served by this host.
    pub admin_origins: Vec<String>,
    /// Rate limits of logins, token refreshes, the admin API and webhooks.
    pub rate_limits: limits::RateLimitConfig,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".into(),
            site_dir: None,
            max_body_kib: 1024,
            drain_secs: 20,
            admin_origins: Vec::new(),
            rate_limits: limits::RateLimitConfig::default(),
        }
    }
}

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    /// The store.
    pub store: Arc<dyn Store>,
    /// Installed plugins (channel webhooks), when plugins are enabled.
    pub plugins: Option<Arc<PluginRegistry>>,
    /// Live conversation events of this process.
    pub live: Arc<LiveHub>,
    /// Wakes the inbox workers after an insert.
    pub inbox_wake: Arc<Notify>,
    /// The widget's settings and per-visitor rate limiter.
    pub widget: Arc<widget::WidgetState>,
    /// FAQ and document retrieval, when the embedding model is available.
    pub knowledge: Option<Arc<crate::knowledge::Knowledge>>,
    /// Proactive messages and retried dead letters.
    pub outbound: Arc<crate::delivery::OutboundDesk>,
    /// Operators' moves and replies, and the handover timers' actions.
    pub handover: Arc<crate::conversation::handover::desk::HandoverDesk>,
    /// The turn runner (its orchestrator caches FAQs: admin writes invalidate them).
    pub turns: Arc<crate::conversation::turn::TurnRunner>,
    /// Rate limits of logins, tokens, the admin API and webhooks.
    pub limits: Arc<limits::RateLimits>,
    /// Logins, tokens and API keys of the admin API.
    pub auth: Arc<crate::auth::AuthService>,
    /// Channels by id, cached a few seconds (webhooks look theirs up on every request);
    /// the admin API drops a channel it changes.
    pub channels: Arc<ChannelDirectory>,
    /// Cancelled when the host starts shutting down.
    pub shutdown: CancellationToken,
}

/// The whole router.
pub fn router(state: AppState, config: &HttpConfig) -> Router {
    let mut router = Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/v1/hooks/{channel_id}", any(hooks::webhook))
        .merge(widget::routes())
        .merge(console::routes())
        .merge(admin::routes(config))
        .layer(DefaultBodyLimit::max(
            config.max_body_kib.saturating_mul(1024),
        ))
        .layer(CompressionLayer::new())
        .layer(axum::middleware::from_fn(security::security_headers))
        .layer(TraceLayer::new_for_http())
        .with_state(state);
    if let Some(site) = &config.site_dir {
        router = router.fallback_service(ServeDir::new(site));
    }
    router
}
