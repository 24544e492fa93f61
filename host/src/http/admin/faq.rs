//! `/v1/tenants/{tenant}/bots/{bot}/faq[/{id}]`: list, replace, create, read, upsert and
//! delete a bot's FAQ entries. Every entry is checked as a file import checks it
//! (`faq_file::validate`); a request with any bad entry stores nothing. Reading needs
//! `tenant.read`, writing `knowledge.write`; every write goes into the audit log.

use std::collections::{HashMap, HashSet};

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::caller::Caller;
use super::extract::{ApiJson, ApiPath};
use super::{ApiError, AppState, Refreshed, audit, bot_access, refresh};
use crate::auth::Permission;
use crate::conversation::model::FaqEntry;
use crate::knowledge::faq_file::validate;

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, replace, create))
        .routes(routes!(get_one, put_one, delete_one))
}

/// A bot's FAQ: the answer of `GET …/faq` and the body of `PUT …/faq`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct FaqList {
    /// The entries, by id.
    entries: Vec<FaqEntry>,
}

/// Body of `PUT …/faq/{id}`: an entry whose id comes from the path.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct EntryBody {
    /// Optional; when given it must equal the path's id.
    #[serde(default)]
    id: Option<String>,
    /// The question as customers ask it.
    question: String,
    /// Other ways to ask it.
    #[serde(default)]
    variants: Vec<String>,
    /// The answer.
    answer: String,
    /// Free labels.
    #[serde(default)]
    tags: Vec<String>,
}

/// One entry.
#[derive(Debug, Serialize, ToSchema)]
struct EntryAnswer {
    /// The entry.
    entry: FaqEntry,
}

/// Answer to a write of one entry.
#[derive(Debug, Serialize, ToSchema)]
struct EntryWritten {
    /// The entry as stored.
    entry: FaqEntry,
    /// What happened to the bot's vectors.
    #[serde(flatten)]
    refreshed: Refreshed,
}

/// Answer to a replacement of the whole FAQ.
#[derive(Debug, Serialize, ToSchema)]
struct FaqReplaced {
    /// Entries now.
    count: usize,
    /// New ids.
    added: usize,
    /// Ids whose entry changed.
    changed: usize,
    /// Ids no longer there.
    removed: usize,
    /// Ids left as they were.
    unchanged: usize,
    /// What happened to the bot's vectors.
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

/// Every entry checked, or 400 `invalid_faq` naming the first ten bad ones by index.
fn checked_all(entries: Vec<FaqEntry>) -> Result<(Vec<FaqEntry>, HashSet<String>), ApiError> {
    let mut seen = HashSet::new();
    let mut good = Vec::with_capacity(entries.len());
    let mut problems = Vec::new();
    for (index, entry) in entries.into_iter().enumerate() {
        match validate(entry, &mut seen) {
            Ok(entry) => good.push(entry),
            Err(problem) => problems.push(format!("entries[{index}]: {problem}")),
        }
    }
    if problems.is_empty() {
        return Ok((good, seen));
    }
    // The first ten: enough to fix a batch, short enough to read.
    let shown: Vec<_> = problems.iter().take(10).cloned().collect();
    let more = problems.len().saturating_sub(shown.len());
    let suffix = if more > 0 {
        format!(" (and {more} more)")
    } else {
        String::new()
    };
    Err(invalid(format!(
        "{} bad entr{}, nothing stored: {}{suffix}",
        problems.len(),
        if problems.len() == 1 { "y" } else { "ies" },
        shown.join("; ")
    )))
}

/// The bot's FAQ entries, by id.
#[utoipa::path(
    get,
    operation_id = "faq_list",
    path = "/v1/tenants/{tenant}/bots/{bot}/faq",
    tag = "knowledge",
    params(
        ("tenant" = String, Path, description = "Tenant id"),
        ("bot" = String, Path, description = "Bot id")
    ),
    responses((status = 200, description = "The FAQ", body = FaqList))
)]
async fn list(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((tenant, bot)): ApiPath<(String, String)>,
) -> Result<Json<FaqList>, ApiError> {
    let (_, bot) = bot_access(&state, &caller, &tenant, &bot, Permission::TenantRead).await?;
    let entries = state.store.faq_entries(&bot.tenant_id, &bot.id).await?;
    Ok(Json(FaqList { entries }))
}

/// Replaces the whole FAQ. Any bad entry (named by its index) and nothing is stored.
///
/// Errors: 400 `invalid_faq`, `invalid_json`; 403; 404 `bot_not_found`.
#[utoipa::path(
    put,
    operation_id = "faq_replace",
    path = "/v1/tenants/{tenant}/bots/{bot}/faq",
    tag = "knowledge",
    params(
        ("tenant" = String, Path, description = "Tenant id"),
        ("bot" = String, Path, description = "Bot id")
    ),
    request_body = FaqList,
    responses((status = 200, description = "Replaced", body = FaqReplaced))
)]
async fn replace(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((tenant, bot)): ApiPath<(String, String)>,
    body: Result<ApiJson<FaqList>, ApiError>,
) -> Result<Json<FaqReplaced>, ApiError> {
    let (access, bot) =
        bot_access(&state, &caller, &tenant, &bot, Permission::KnowledgeWrite).await?;
    let ApiJson(list) = body?;
    let (entries, seen) = checked_all(list.entries)?;
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
    audit::by(
        &state,
        &caller,
        &access.tenant_id,
        "faq.replaced",
        Some(format!("bot:{}", bot.id)),
        json!({"count": entries.len(), "added": added, "changed": changed, "removed": removed}),
    )
    .await;
    let refreshed = refresh(&state, &bot).await;
    Ok(Json(FaqReplaced {
        count: entries.len(),
        added,
        changed,
        removed,
        unchanged: entries.len() - added - changed,
        refreshed,
    }))
}

/// Adds one entry.
///
/// Errors: 400 `invalid_faq`; 403; 404 `bot_not_found`; 409 `faq_exists` (the id is
/// taken: `PUT …/faq/{id}` changes it).
#[utoipa::path(
    post,
    operation_id = "faq_create",
    path = "/v1/tenants/{tenant}/bots/{bot}/faq",
    tag = "knowledge",
    params(
        ("tenant" = String, Path, description = "Tenant id"),
        ("bot" = String, Path, description = "Bot id")
    ),
    request_body = FaqEntry,
    responses((status = 201, description = "Created", body = EntryWritten))
)]
async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((tenant, bot)): ApiPath<(String, String)>,
    body: Result<ApiJson<FaqEntry>, ApiError>,
) -> Result<(StatusCode, Json<EntryWritten>), ApiError> {
    let (access, bot) =
        bot_access(&state, &caller, &tenant, &bot, Permission::KnowledgeWrite).await?;
    let ApiJson(entry) = body?;
    let entry = checked(entry)?;
    let existing = state.store.faq_entries(&bot.tenant_id, &bot.id).await?;
    // Checked, then written: two requests racing for one new id both succeed and the
    // last one stays, as two PUTs would.
    if existing.iter().any(|old| old.id == entry.id) {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "faq_exists",
            format!(
                "bot '{}' already has an FAQ entry '{}': PUT …/faq/{} to change it",
                bot.id, entry.id, entry.id
            ),
        ));
    }
    state
        .store
        .put_faq_entry(&bot.tenant_id, &bot.id, &entry)
        .await?;
    tracing::info!(bot = %bot.id, entry = %entry.id, "FAQ entry created through the admin API");
    audit_entry(
        &state,
        &caller,
        &access.tenant_id,
        "faq.created",
        &bot.id,
        &entry.id,
    )
    .await;
    let refreshed = refresh(&state, &bot).await;
    Ok((StatusCode::CREATED, Json(EntryWritten { entry, refreshed })))
}

/// One audit line about one entry.
async fn audit_entry(
    state: &AppState,
    caller: &Caller,
    tenant_id: &str,
    action: &str,
    bot_id: &str,
    entry_id: &str,
) {
    audit::by(
        state,
        caller,
        tenant_id,
        action,
        Some(format!("bot:{bot_id}")),
        json!({ "entry": entry_id }),
    )
    .await;
}

/// One entry.
///
/// Errors: 403; 404 `bot_not_found`, `faq_not_found`.
#[utoipa::path(
    get,
    operation_id = "faq_get_one",
    path = "/v1/tenants/{tenant}/bots/{bot}/faq/{id}",
    tag = "knowledge",
    params(
        ("tenant" = String, Path, description = "Tenant id"),
        ("bot" = String, Path, description = "Bot id"),
        ("id" = String, Path, description = "Entry id")
    ),
    responses((status = 200, description = "The entry", body = EntryAnswer))
)]
async fn get_one(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((tenant, bot, id)): ApiPath<(String, String, String)>,
) -> Result<Json<EntryAnswer>, ApiError> {
    let (_, bot) = bot_access(&state, &caller, &tenant, &bot, Permission::TenantRead).await?;
    let entry = state
        .store
        .faq_entries(&bot.tenant_id, &bot.id)
        .await?
        .into_iter()
        .find(|entry| entry.id == id)
        .ok_or_else(|| not_found(&bot.id, &id))?;
    Ok(Json(EntryAnswer { entry }))
}

/// Creates (201) or replaces (200) the entry `id`; an id in the body must be the same.
///
/// Errors: 400 `invalid_faq`, `faq_id_mismatch`; 403; 404 `bot_not_found`.
#[utoipa::path(
    put,
    operation_id = "faq_put_one",
    path = "/v1/tenants/{tenant}/bots/{bot}/faq/{id}",
    tag = "knowledge",
    params(
        ("tenant" = String, Path, description = "Tenant id"),
        ("bot" = String, Path, description = "Bot id"),
        ("id" = String, Path, description = "Entry id")
    ),
    request_body = EntryBody,
    responses(
        (status = 200, description = "Replaced", body = EntryWritten),
        (status = 201, description = "Created", body = EntryWritten)
    )
)]
async fn put_one(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((tenant, bot, id)): ApiPath<(String, String, String)>,
    body: Result<ApiJson<EntryBody>, ApiError>,
) -> Result<(StatusCode, Json<EntryWritten>), ApiError> {
    let (access, bot) =
        bot_access(&state, &caller, &tenant, &bot, Permission::KnowledgeWrite).await?;
    let ApiJson(body) = body?;
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
    let action = if existed {
        "faq.updated"
    } else {
        "faq.created"
    };
    audit_entry(
        &state,
        &caller,
        &access.tenant_id,
        action,
        &bot.id,
        &entry.id,
    )
    .await;
    let refreshed = refresh(&state, &bot).await;
    let status = if existed {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((status, Json(EntryWritten { entry, refreshed })))
}

/// Deletes one entry.
///
/// Errors: 403; 404 `bot_not_found`, `faq_not_found`.
#[utoipa::path(
    delete,
    operation_id = "faq_delete_one",
    path = "/v1/tenants/{tenant}/bots/{bot}/faq/{id}",
    tag = "knowledge",
    params(
        ("tenant" = String, Path, description = "Tenant id"),
        ("bot" = String, Path, description = "Bot id"),
        ("id" = String, Path, description = "Entry id")
    ),
    responses((status = 204, description = "Deleted"))
)]
async fn delete_one(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((tenant, bot, id)): ApiPath<(String, String, String)>,
) -> Result<StatusCode, ApiError> {
    let (access, bot) =
        bot_access(&state, &caller, &tenant, &bot, Permission::KnowledgeWrite).await?;
    if !state
        .store
        .delete_faq_entry(&bot.tenant_id, &bot.id, &id)
        .await?
    {
        return Err(not_found(&bot.id, &id));
    }
    tracing::info!(bot = %bot.id, entry = %id, "FAQ entry deleted through the admin API");
    audit_entry(
        &state,
        &caller,
        &access.tenant_id,
        "faq.deleted",
        &bot.id,
        &id,
    )
    .await;
    // 204 has no body: a failed sync is logged by `refresh` and retried on the next question.
    refresh(&state, &bot).await;
    Ok(StatusCode::NO_CONTENT)
}
