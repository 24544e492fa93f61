//! `/v1/bots/{bot}/faq[/{id}]`: list, replace, create, read, upsert and delete a bot's FAQ
//! entries. Every entry is checked as a file import checks it (`faq_file::validate`);
//! a request with any bad entry stores nothing.

use std::collections::{HashMap, HashSet};

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::{ApiError, AppState, Refreshed, json_body, load_bot, refresh};
use crate::conversation::model::FaqEntry;
use crate::knowledge::faq_file::validate;

/// Body of `PUT /v1/bots/{bot}/faq`: the whole new FAQ.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FaqList {
    entries: Vec<FaqEntry>,
}

/// Body of `PUT /v1/bots/{bot}/faq/{id}`: an entry whose id comes from the path.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct EntryBody {
    #[serde(default)]
    id: Option<String>,
    question: String,
    #[serde(default)]
    variants: Vec<String>,
    answer: String,
    #[serde(default)]
    tags: Vec<String>,
}

/// Answer to a write of one entry.
#[derive(Serialize)]
struct EntryWritten {
    entry: FaqEntry,
    #[serde(flatten)]
    refreshed: Refreshed,
}

/// Answer to a replacement of the whole FAQ.
#[derive(Serialize)]
struct FaqReplaced {
    count: usize,
    added: usize,
    changed: usize,
    removed: usize,
    unchanged: usize,
    #[serde(flatten)]
    refreshed: Refreshed,
}

fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "invalid_faq", message)
}

fn not_found(bot_id: &str, id: &str) -> ApiError {
    ApiError::not_found(
        "faq_not_found",
        format!("bot '{bot_id}' has no FAQ entry '{id}'"),
    )
}

/// One checked entry, or 400 `invalid_faq` with what is wrong.
fn checked(entry: FaqEntry) -> Result<FaqEntry, ApiError> {
    validate(entry, &mut HashSet::new()).map_err(invalid)
}

/// `GET /v1/bots/{bot}/faq`: `{"entries": [...]}`, by id.
pub(super) async fn list(
    State(state): State<AppState>,
    Path(bot_id): Path<String>,
) -> Result<Response, ApiError> {
    let bot = load_bot(&state, &bot_id).await?;
    let entries = state.store.faq_entries(&bot.tenant_id, &bot.id).await?;
    Ok(Json(serde_json::json!({ "entries": entries })).into_response())
}

/// `PUT /v1/bots/{bot}/faq`: replaces the whole FAQ; any bad entry (named by its index)
/// and nothing is stored.
pub(super) async fn replace(
    State(state): State<AppState>,
    Path(bot_id): Path<String>,
    body: Result<Json<FaqList>, JsonRejection>,
) -> Result<Response, ApiError> {
    let bot = load_bot(&state, &bot_id).await?;
    let list = json_body(body)?;
    let mut seen = HashSet::new();
    let mut entries = Vec::with_capacity(list.entries.len());
    let mut problems = Vec::new();
    for (index, entry) in list.entries.into_iter().enumerate() {
        match validate(entry, &mut seen) {
            Ok(entry) => entries.push(entry),
            Err(problem) => problems.push(format!("entries[{index}]: {problem}")),
        }
    }
    if !problems.is_empty() {
        // The first ten: enough to fix a batch, short enough to read.
        let shown: Vec<_> = problems.iter().take(10).cloned().collect();
        let more = problems.len().saturating_sub(shown.len());
        let suffix = if more > 0 {
            format!(" (and {more} more)")
        } else {
            String::new()
        };
        return Err(invalid(format!(
            "{} bad entr{}, nothing stored: {}{suffix}",
            problems.len(),
            if problems.len() == 1 { "y" } else { "ies" },
            shown.join("; ")
        )));
    }
    let before: HashMap<String, FaqEntry> = state
        .store
        .faq_entries(&bot.tenant_id, &bot.id)
        .await?
        .into_iter()
        .map(|entry| (entry.id.clone(), entry))
        .collect();
    let added = entries
        .iter()
        .filter(|entry| !before.contains_key(&entry.id))
        .count();
    let changed = entries
        .iter()
        .filter(|entry| before.get(&entry.id).is_some_and(|old| old != *entry))
        .count();
    let removed = before.keys().filter(|id| !seen.contains(*id)).count();
    state
        .store
        .replace_faq(&bot.tenant_id, &bot.id, &entries)
        .await?;
    tracing::info!(bot = %bot.id, count = entries.len(), added, changed, removed, "FAQ replaced through the admin API");
    let refreshed = refresh(&state, &bot).await;
    Ok(Json(FaqReplaced {
        count: entries.len(),
        added,
        changed,
        removed,
        unchanged: entries.len() - added - changed,
        refreshed,
    })
    .into_response())
}

/// `POST /v1/bots/{bot}/faq`: adds one entry; 409 `faq_exists` when its id is taken.
pub(super) async fn create(
    State(state): State<AppState>,
    Path(bot_id): Path<String>,
    body: Result<Json<FaqEntry>, JsonRejection>,
) -> Result<Response, ApiError> {
    let bot = load_bot(&state, &bot_id).await?;
    let entry = checked(json_body(body)?)?;
    let existing = state.store.faq_entries(&bot.tenant_id, &bot.id).await?;
    // Checked, then written: two requests racing for one new id both succeed and the
    // last one stays; acceptable for a handful of admins until accounts arrive.
    if existing.iter().any(|old| old.id == entry.id) {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "faq_exists",
            format!(
                "bot '{}' already has an FAQ entry '{}': PUT /v1/bots/{}/faq/{} to change it",
                bot.id, entry.id, bot.id, entry.id
            ),
        ));
    }
    state
        .store
        .put_faq_entry(&bot.tenant_id, &bot.id, &entry)
        .await?;
    tracing::info!(bot = %bot.id, entry = %entry.id, "FAQ entry created through the admin API");
    let refreshed = refresh(&state, &bot).await;
    Ok((StatusCode::CREATED, Json(EntryWritten { entry, refreshed })).into_response())
}

/// `GET /v1/bots/{bot}/faq/{id}`: `{"entry": {...}}`.
pub(super) async fn get_one(
    State(state): State<AppState>,
    Path((bot_id, id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let bot = load_bot(&state, &bot_id).await?;
    let entry = state
        .store
        .faq_entries(&bot.tenant_id, &bot.id)
        .await?
        .into_iter()
        .find(|entry| entry.id == id)
        .ok_or_else(|| not_found(&bot.id, &id))?;
    Ok(Json(serde_json::json!({ "entry": entry })).into_response())
}

/// `PUT /v1/bots/{bot}/faq/{id}`: creates (201) or replaces (200) the entry `id`; an id
/// in the body must be the same.
pub(super) async fn put_one(
    State(state): State<AppState>,
    Path((bot_id, id)): Path<(String, String)>,
    body: Result<Json<EntryBody>, JsonRejection>,
) -> Result<Response, ApiError> {
    let bot = load_bot(&state, &bot_id).await?;
    let body = json_body(body)?;
    if let Some(body_id) = &body.id
        && body_id.trim() != id
    {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "faq_id_mismatch",
            format!(
                "the body's id '{body_id}' is not the path's '{id}': leave it out or make them equal"
            ),
        ));
    }
    let entry = checked(FaqEntry {
        id: id.clone(),
        question: body.question,
        variants: body.variants,
        answer: body.answer,
        tags: body.tags,
    })?;
    if entry.id != id {
        return Err(invalid(format!(
            "the id '{id}' has blank space around it; use '{}'",
            entry.id
        )));
    }
    let existed = state
        .store
        .faq_entries(&bot.tenant_id, &bot.id)
        .await?
        .iter()
        .any(|old| old.id == entry.id);
    state
        .store
        .put_faq_entry(&bot.tenant_id, &bot.id, &entry)
        .await?;
    tracing::info!(bot = %bot.id, entry = %entry.id, existed, "FAQ entry written through the admin API");
    let refreshed = refresh(&state, &bot).await;
    let status = if existed {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((status, Json(EntryWritten { entry, refreshed })).into_response())
}

/// `DELETE /v1/bots/{bot}/faq/{id}`: 204, or 404 `faq_not_found`.
pub(super) async fn delete_one(
    State(state): State<AppState>,
    Path((bot_id, id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let bot = load_bot(&state, &bot_id).await?;
    if !state
        .store
        .delete_faq_entry(&bot.tenant_id, &bot.id, &id)
        .await?
    {
        return Err(not_found(&bot.id, &id));
    }
    tracing::info!(bot = %bot.id, entry = %id, "FAQ entry deleted through the admin API");
    // 204 has no body: a failed sync is logged by `refresh` and retried on the next question.
    refresh(&state, &bot).await;
    Ok(StatusCode::NO_CONTENT.into_response())
}
