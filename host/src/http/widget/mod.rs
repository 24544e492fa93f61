//! The built-in web widget channel: the script (`/widget.js`, embedded in the binary), the
//! bot's public settings (`/v1/widget/{bot}`) and the visitor's WebSocket
//! (`/v1/widget/{bot}/ws`). The protocol is in `web/widget-protocol.md`.

pub mod frames;
pub mod identity;
mod socket;

use std::num::NonZeroU32;
use std::sync::atomic::AtomicU64;

use axum::Json;
use axum::Router;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use serde::Deserialize;
use serde_json::json;

use super::security::{cross_origin, origin_allowed};
use super::{ApiError, AppState};
use crate::conversation::model::{Bot, BotTexts, Channel};

/// The widget script, served as is (no build step).
const WIDGET_JS: &str = include_str!("../../web/widget.js");

/// Widget settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WidgetConfig {
    /// Longest message a visitor may send, in characters. Default 4000.
    pub max_text_chars: usize,
    /// Messages per second one visitor may send, sustained. Default 2 (faster than anyone
    /// types; a script flooding the bot is slowed down).
    pub messages_per_second: u32,
    /// Messages one visitor may send in a burst. Default 10.
    pub burst: u32,
    /// Messages sent on open to a visitor with no `last_seen_id`. Default 50.
    pub history_limit: u32,
    /// Most messages sent to catch a reconnecting visitor up. Default 500.
    pub resume_limit: u32,
    /// Testing only: drop the visitor's socket right before pushing every Nth bot reply
    /// (the reply stays stored and arrives on resume). Default 0 = never.
    pub fault_drop_every_nth_reply: u64,
}

impl Default for WidgetConfig {
    fn default() -> Self {
        Self {
            max_text_chars: 4000,
            messages_per_second: 2,
            burst: 10,
            history_limit: 50,
            resume_limit: 500,
            fault_drop_every_nth_reply: 0,
        }
    }
}

/// The widget's shared state: its config and the per-visitor rate limiter (shared by all
/// of a visitor's sockets, so reconnecting does not reset it).
pub struct WidgetState {
    /// Settings.
    pub config: WidgetConfig,
    limiter: DefaultKeyedRateLimiter<String>,
    replies_pushed: AtomicU64,
}

impl WidgetState {
    /// State for `config`.
    pub fn new(config: WidgetConfig) -> Self {
        let per_second = NonZeroU32::new(config.messages_per_second).unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new(config.burst).unwrap_or(NonZeroU32::MIN);
        Self {
            limiter: RateLimiter::keyed(Quota::per_second(per_second).allow_burst(burst)),
            config,
            replies_pushed: AtomicU64::new(0),
        }
    }
}

/// The widget's routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/widget.js", get(script))
        .route("/v1/widget/{bot_id}", get(settings))
        .route("/v1/widget/{bot_id}/ws", get(connect))
}

async fn script() -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                "application/javascript; charset=utf-8",
            ),
            // 5 minutes: a new release reaches visitors soon; repeat visits hit the cache.
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        WIDGET_JS,
    )
        .into_response()
}

/// The bot and its widget channel, or the 404 the widget shows; 403 `origin_not_allowed`
/// when a browser calls from a site the bot does not list in `allowed_origins`.
async fn widget_bot(
    state: &AppState,
    bot_id: &str,
    headers: &HeaderMap,
) -> Result<(Bot, Channel), ApiError> {
    let unknown = || ApiError::not_found("bot_not_found", format!("no bot '{bot_id}'"));
    let bot = state.store.bot(bot_id).await?.ok_or_else(unknown)?;
    let channel = state
        .store
        .channel(&Channel::widget_id(bot_id))
        .await?
        .filter(|channel| channel.enabled && channel.bot_id == bot.id)
        .ok_or_else(|| {
            ApiError::not_found(
                "widget_disabled",
                format!("bot '{bot_id}' has no web widget"),
            )
        })?;
    if let Some(origin) = cross_origin(headers)
        && !origin_allowed(&bot.settings.allowed_origins, origin)
    {
        tracing::info!(bot = %bot.id, origin, "widget request from an origin the bot does not allow");
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "origin_not_allowed",
            format!(
                "bot '{bot_id}' does not allow its widget on {origin}; add it to the bot's allowed_origins"
            ),
        ));
    }
    Ok((bot, channel))
}

async fn settings(
    State(state): State<AppState>,
    Path(bot_id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (bot, _) = widget_bot(&state, &bot_id, &headers).await?;
    let lang = bot.settings.default_language().to_owned();
    let mut response = Json(json!({
        "bot_id": bot.id,
        "title": bot.name,
        "welcome": BotTexts::pick(&bot.settings.texts.welcome, &lang),
        "lang": lang,
        "languages": bot.settings.languages,
        "max_text_chars": state.widget.config.max_text_chars,
    }))
    .into_response();
    // An allowed page on another site reads the answer (CORS); `Vary` keeps caches from
    // handing one site's answer to another.
    if let Some(origin) =
        cross_origin(&headers).and_then(|origin| HeaderValue::from_str(origin).ok())
    {
        let response_headers = response.headers_mut();
        response_headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        response_headers.insert(header::VARY, HeaderValue::from_static("Origin"));
    }
    Ok(response)
}

async fn connect(
    State(state): State<AppState>,
    Path(bot_id): Path<String>,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Result<Response, ApiError> {
    // Browsers do not apply CORS to WebSockets: the origin check here is the only one.
    let (bot, channel) = widget_bot(&state, &bot_id, &headers).await?;
    // 64 KiB: 4,000 characters of Vietnamese are at most ~12 KiB of JSON.
    Ok(upgrade
        .max_message_size(64 * 1024)
        .on_upgrade(move |socket| socket::run(state, bot, channel, socket)))
}
