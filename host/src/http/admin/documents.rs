//! `/v1/tenants/{tenant}/bots/{bot}/documents[/{id}]`: list, read, upload and delete a
//! bot's documents. An upload is the raw file (Markdown, text or PDF, told by the id's
//! extension), split into chunks as `loa docs import` does; the same bytes again change
//! nothing. Reading needs `tenant.read`, writing `knowledge.write`; writes are audited.

use axum::Extension;
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::StatusCode;
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::caller::Caller;
use super::extract::ApiPath;
use super::{ApiError, AppState, BodyLimit, Refreshed, audit, bot_access, refresh};
use crate::auth::Permission;
use crate::conversation::pipeline::now_ms;
use crate::knowledge::documents::{DocumentError, DocumentFormat, parse_document};
use crate::store::Document;

/// Where an uploaded document came from, shown to admins beside its id.
const UPLOAD_SOURCE: &str = "admin API upload";

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(get_one, put_one, delete_one))
}

/// A document without its chunks.
#[derive(Debug, Serialize, ToSchema)]
struct Summary {
    /// Id within the bot: the file name.
    id: String,
    /// The first heading, else the id.
    title: String,
    /// Where it came from.
    source: String,
    /// SHA-256 (hex) of the file's text.
    sha256: String,
    /// How many chunks it was split into.
    chunk_count: usize,
    /// When last written, ms since the Unix epoch.
    updated_at_ms: i64,
}

impl From<&Document> for Summary {
    fn from(document: &Document) -> Self {
        Self {
            id: document.id.clone(),
            title: document.title.clone(),
            source: document.source.clone(),
            sha256: document.sha256.clone(),
            chunk_count: document.chunks.len(),
            updated_at_ms: document.updated_at_ms,
        }
    }
}

/// A bot's documents.
#[derive(Debug, Serialize, ToSchema)]
struct DocumentList {
    /// By id, without their chunks.
    documents: Vec<Summary>,
}

/// One document with its chunks.
#[derive(Debug, Serialize, ToSchema)]
struct DocumentAnswer {
    /// The document.
    document: Document,
}

/// Answer to an upload.
#[derive(Debug, Serialize, ToSchema)]
struct Uploaded {
    /// The document as stored.
    document: Summary,
    /// The stored document had the same bytes: nothing was written.
    unchanged: bool,
    /// What happened to the bot's vectors.
    #[serde(flatten)]
    refreshed: Refreshed,
}

fn not_found(bot_id: &str, id: &str) -> ApiError {
    ApiError::not_found(
        "document_not_found",
        format!("bot '{bot_id}' has no document '{id}'"),
    )
}

/// The status and code of a file that cannot become a document.
fn refused(error: DocumentError) -> ApiError {
    let (status, code) = match &error {
        DocumentError::UnsupportedFormat { .. } => {
            (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_document")
        }
        DocumentError::NotUtf8 { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "document_not_utf8"),
        DocumentError::Empty { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "document_empty"),
        DocumentError::UnreadablePdf { .. } => {
            (StatusCode::UNPROCESSABLE_ENTITY, "document_unreadable")
        }
        DocumentError::PdfWithoutText { .. } => {
            (StatusCode::UNPROCESSABLE_ENTITY, "document_without_text")
        }
        // Only `read_document` reads files; an upload never gets here.
        DocumentError::Unreadable { .. } => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
    };
    ApiError::new(status, code, error.to_string())
}

/// The bot's documents, by id, without their chunks.
#[utoipa::path(
    get,
    operation_id = "documents_list",
    path = "/v1/tenants/{tenant}/bots/{bot}/documents",
    tag = "knowledge",
    params(
        ("tenant" = String, Path, description = "Tenant id"),
        ("bot" = String, Path, description = "Bot id")
    ),
    responses((status = 200, description = "The documents", body = DocumentList))
)]
async fn list(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((tenant, bot)): ApiPath<(String, String)>,
) -> Result<Json<DocumentList>, ApiError> {
    let (_, bot) = bot_access(&state, &caller, &tenant, &bot, Permission::TenantRead).await?;
    let documents = state.store.documents(&bot.tenant_id, &bot.id).await?;
    Ok(Json(DocumentList {
        documents: documents.iter().map(Summary::from).collect(),
    }))
}

/// One document with its chunks.
///
/// Errors: 403; 404 `bot_not_found`, `document_not_found`.
#[utoipa::path(
    get,
    operation_id = "documents_get_one",
    path = "/v1/tenants/{tenant}/bots/{bot}/documents/{id}",
    tag = "knowledge",
    params(
        ("tenant" = String, Path, description = "Tenant id"),
        ("bot" = String, Path, description = "Bot id"),
        ("id" = String, Path, description = "Document id (its file name)")
    ),
    responses((status = 200, description = "The document", body = DocumentAnswer))
)]
async fn get_one(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((tenant, bot, id)): ApiPath<(String, String, String)>,
) -> Result<Json<DocumentAnswer>, ApiError> {
    let (_, bot) = bot_access(&state, &caller, &tenant, &bot, Permission::TenantRead).await?;
    let document = state
        .store
        .documents(&bot.tenant_id, &bot.id)
        .await?
        .into_iter()
        .find(|document| document.id == id)
        .ok_or_else(|| not_found(&bot.id, &id))?;
    Ok(Json(DocumentAnswer { document }))
}

/// Uploads a document: the body is the file (`.md`, `.txt` or `.pdf`, told by the id).
/// 201 when new, 200 when replaced or unchanged (same SHA-256: nothing written, nothing
/// embedded).
///
/// Errors: 403; 404 `bot_not_found`; 413 `body_too_large`; 415 `unsupported_document`;
/// 422 `document_empty`, `document_not_utf8`, `document_unreadable`,
/// `document_without_text`.
#[utoipa::path(
    put,
    operation_id = "documents_put_one",
    path = "/v1/tenants/{tenant}/bots/{bot}/documents/{id}",
    tag = "knowledge",
    params(
        ("tenant" = String, Path, description = "Tenant id"),
        ("bot" = String, Path, description = "Bot id"),
        ("id" = String, Path, description = "Document id: a file name ending .md, .txt or .pdf")
    ),
    request_body(content = Vec<u8>, description = "The file", content_type = "application/octet-stream"),
    responses(
        (status = 200, description = "Replaced or unchanged", body = Uploaded),
        (status = 201, description = "Created", body = Uploaded)
    )
)]
async fn put_one(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((tenant, bot, id)): ApiPath<(String, String, String)>,
    Extension(limit): Extension<BodyLimit>,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<Uploaded>), ApiError> {
    let (access, bot) =
        bot_access(&state, &caller, &tenant, &bot, Permission::KnowledgeWrite).await?;
    // The format first: an unsupported file is refused whatever its size.
    let format = DocumentFormat::from_file_name(&id).map_err(refused)?;
    let bytes = body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "body_too_large",
                format!(
                    "'{id}' is larger than the {} KiB this host accepts (http.max_body_kib in loa.toml)",
                    limit.kib
                ),
            )
        } else {
            ApiError::new(rejection.status(), "bad_body", rejection.body_text())
        }
    })?;
    if bytes.is_empty() {
        return Err(refused(DocumentError::Empty { id }));
    }
    let parse_id = id.clone();
    // Blocking: PDF extraction and chunking of a large file take CPU time.
    let mut document = tokio::task::spawn_blocking(move || {
        parse_document(&parse_id, UPLOAD_SOURCE, &bytes, format)
    })
    .await
    .map_err(|error| {
        tracing::error!(bot = %bot.id, document = %id, %error, "document parsing task failed");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "reading the document failed; try again",
        )
    })?
    .map_err(refused)?;
    let stored = state
        .store
        .documents(&bot.tenant_id, &bot.id)
        .await?
        .into_iter()
        .find(|stored| stored.id == id);
    if let Some(stored) = &stored
        && stored.sha256 == document.sha256
    {
        let answer = Uploaded {
            document: Summary::from(stored),
            unchanged: true,
            refreshed: Refreshed::default(),
        };
        return Ok((StatusCode::OK, Json(answer)));
    }
    document.updated_at_ms = now_ms();
    state
        .store
        .put_document(&bot.tenant_id, &bot.id, &document)
        .await?;
    tracing::info!(bot = %bot.id, document = %id, chunks = document.chunks.len(), replaced = stored.is_some(), "document stored through the admin API");
    audit::by(
        &state,
        &caller,
        &access.tenant_id,
        if stored.is_some() {
            "document.updated"
        } else {
            "document.created"
        },
        Some(format!("bot:{}", bot.id)),
        json!({"document": id, "chunks": document.chunks.len(), "sha256": document.sha256}),
    )
    .await;
    let refreshed = refresh(&state, &bot).await;
    let status = if stored.is_some() {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    let answer = Uploaded {
        document: Summary::from(&document),
        unchanged: false,
        refreshed,
    };
    Ok((status, Json(answer)))
}

/// Deletes one document.
///
/// Errors: 403; 404 `bot_not_found`, `document_not_found`.
#[utoipa::path(
    delete,
    operation_id = "documents_delete_one",
    path = "/v1/tenants/{tenant}/bots/{bot}/documents/{id}",
    tag = "knowledge",
    params(
        ("tenant" = String, Path, description = "Tenant id"),
        ("bot" = String, Path, description = "Bot id"),
        ("id" = String, Path, description = "Document id")
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
        .delete_document(&bot.tenant_id, &bot.id, &id)
        .await?
    {
        return Err(not_found(&bot.id, &id));
    }
    tracing::info!(bot = %bot.id, document = %id, "document deleted through the admin API");
    audit::by(
        &state,
        &caller,
        &access.tenant_id,
        "document.deleted",
        Some(format!("bot:{}", bot.id)),
        json!({ "document": id }),
    )
    .await;
    // 204 has no body: a failed sync is logged by `refresh` and retried on the next question.
    refresh(&state, &bot).await;
    Ok(StatusCode::NO_CONTENT)
}
