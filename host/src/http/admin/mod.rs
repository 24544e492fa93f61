//! The admin API: a bot's FAQ (`/v1/bots/{bot}/faq`) and documents
//! (`/v1/bots/{bot}/documents`), read and written over HTTP. Every route sits behind one
//! bearer token ([`auth`]) until accounts and roles replace it. A write goes to the store
//! first, then this process forgets its cached copy of the bot's knowledge and embeds what
//! changed, so the next question is answered from the new content.

mod auth;
mod documents;
mod faq;

use std::sync::Arc;

use axum::extract::rejection::JsonRejection;
use axum::http::StatusCode;
use axum::middleware::from_fn_with_state;
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;

use super::{ApiError, AppState, HttpConfig};
use crate::conversation::model::Bot;
use crate::knowledge::SyncReport;

/// The admin routes, guarded by the configured token (or answering 503 without one).
pub fn routes(config: &HttpConfig) -> Router<AppState> {
    let guard = Arc::new(auth::AdminGuard::new(config.admin_token().as_deref()));
    if guard.is_enabled() {
        tracing::info!("admin API on (bearer token)");
    } else {
        tracing::info!("admin API off: no http.admin_token / LOA_ADMIN_TOKEN");
    }
    Router::new()
        .route(
            "/v1/bots/{bot}/faq",
            get(faq::list).put(faq::replace).post(faq::create),
        )
        .route(
            "/v1/bots/{bot}/faq/{id}",
            get(faq::get_one).put(faq::put_one).delete(faq::delete_one),
        )
        .route("/v1/bots/{bot}/documents", get(documents::list))
        .route(
            "/v1/bots/{bot}/documents/{id}",
            get(documents::get_one)
                .put(documents::put_one)
                .delete(documents::delete_one),
        )
        // A route layer: paths that are not admin routes still answer 404, not 401.
        .route_layer(from_fn_with_state(guard, auth::require_token))
        .layer(axum::Extension(BodyLimit {
            kib: config.max_body_kib,
        }))
}

/// The configured `http.max_body_kib`, for the message of a refused upload.
#[derive(Debug, Clone, Copy)]
struct BodyLimit {
    kib: usize,
}

/// The bot named in the path, or 404 `bot_not_found`.
async fn load_bot(state: &AppState, bot_id: &str) -> Result<Bot, ApiError> {
    state
        .store
        .bot(bot_id)
        .await?
        .ok_or_else(|| ApiError::not_found("bot_not_found", format!("no bot '{bot_id}'")))
}

/// A JSON body, or 400 `invalid_json` with serde's message (413 when it is too big).
fn json_body<T>(body: Result<Json<T>, JsonRejection>) -> Result<T, ApiError> {
    match body {
        Ok(Json(value)) => Ok(value),
        Err(JsonRejection::MissingJsonContentType(rejection)) => Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "json_required",
            rejection.body_text(),
        )),
        Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => Err(
            ApiError::new(rejection.status(), "body_too_large", rejection.body_text()),
        ),
        // Syntax and data errors alike: the client sent JSON loa cannot use.
        Err(rejection) => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_json",
            rejection.body_text(),
        )),
    }
}

/// What happened to the bot's vectors after a write, flattened into the write's answer.
#[derive(Debug, Default, Serialize)]
struct Refreshed {
    /// The sync's report, when the knowledge tier runs in this process and succeeded.
    #[serde(skip_serializing_if = "Option::is_none")]
    sync: Option<SyncReport>,
    /// Why the sync failed; the write is stored and the next question retries the sync.
    #[serde(skip_serializing_if = "Option::is_none")]
    sync_error: Option<String>,
}

/// After a write: drop this process's cached FAQ and knowledge of the bot, then embed what
/// changed. A failed sync does not undo the write (the store is the truth; a question
/// syncs again), so it is reported in the answer instead of failing it.
async fn refresh(state: &AppState, bot: &Bot) -> Refreshed {
    state.turns.orchestrator().invalidate(&bot.id);
    let Some(knowledge) = &state.knowledge else {
        return Refreshed::default();
    };
    match knowledge.sync(bot, &|_, _| {}).await {
        Ok(report) => Refreshed {
            sync: Some(report),
            sync_error: None,
        },
        Err(error) => {
            tracing::warn!(bot = %bot.id, tenant = %bot.tenant_id, %error, "admin write stored, but embedding it failed; retried on the next question");
            Refreshed {
                sync: None,
                sync_error: Some(error.to_string()),
            }
        }
    }
}
