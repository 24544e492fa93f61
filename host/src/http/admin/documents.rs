//! `/v1/bots/{bot}/documents[/{id}]`: list, read, upload and delete a bot's documents.
//! An upload is the raw file (Markdown, text or PDF, told by the id's extension), split
//! into chunks as `loa docs import` does; the same bytes again change nothing.

use axum::Extension;
use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::{ApiError, AppState, BodyLimit, Refreshed, load_bot, refresh};
use crate::conversation::pipeline::now_ms;
use crate::knowledge::documents::{DocumentError, DocumentFormat, parse_document};
use crate::store::Document;

/// Where an uploaded document came from, shown to admins beside its id.
const UPLOAD_SOURCE: &str = "admin API upload";

/// A document without its chunks.
#[derive(Debug, Serialize)]
struct Summary {
    id: String,
    title: String,
    source: String,
    sha256: String,
    chunk_count: usize,
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

/// Answer to an upload.
#[derive(Serialize)]
struct Uploaded {
    document: Summary,
    /// The stored document had the same bytes: nothing was written.
    unchanged: bool,
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

/// `GET /v1/bots/{bot}/documents`: `{"documents": [summary...]}`, by id.
pub(super) async fn list(
    State(state): State<AppState>,
    Path(bot_id): Path<String>,
) -> Result<Response, ApiError> {
    let bot = load_bot(&state, &bot_id).await?;
    let documents = state.store.documents(&bot.tenant_id, &bot.id).await?;
    let summaries: Vec<Summary> = documents.iter().map(Summary::from).collect();
    Ok(Json(serde_json::json!({ "documents": summaries })).into_response())
}

/// `GET /v1/bots/{bot}/documents/{id}`: `{"document": {...}}` with its chunks.
pub(super) async fn get_one(
    State(state): State<AppState>,
    Path((bot_id, id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let bot = load_bot(&state, &bot_id).await?;
    let document = state
        .store
        .documents(&bot.tenant_id, &bot.id)
        .await?
        .into_iter()
        .find(|document| document.id == id)
        .ok_or_else(|| not_found(&bot.id, &id))?;
    Ok(Json(serde_json::json!({ "document": document })).into_response())
}

/// `PUT /v1/bots/{bot}/documents/{id}`: the body is the file; 201 when new, 200 when
/// replaced or unchanged (same SHA-256: nothing written, nothing embedded).
pub(super) async fn put_one(
    State(state): State<AppState>,
    Path((bot_id, id)): Path<(String, String)>,
    Extension(limit): Extension<BodyLimit>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let bot = load_bot(&state, &bot_id).await?;
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
        return Ok(Json(Uploaded {
            document: Summary::from(stored),
            unchanged: true,
            refreshed: Refreshed::default(),
        })
        .into_response());
    }
    document.updated_at_ms = now_ms();
    state
        .store
        .put_document(&bot.tenant_id, &bot.id, &document)
        .await?;
    tracing::info!(bot = %bot.id, document = %id, chunks = document.chunks.len(), replaced = stored.is_some(), "document stored through the admin API");
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
    Ok((status, Json(answer)).into_response())
}

/// `DELETE /v1/bots/{bot}/documents/{id}`: 204, or 404 `document_not_found`.
pub(super) async fn delete_one(
    State(state): State<AppState>,
    Path((bot_id, id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let bot = load_bot(&state, &bot_id).await?;
    if !state
        .store
        .delete_document(&bot.tenant_id, &bot.id, &id)
        .await?
    {
        return Err(not_found(&bot.id, &id));
    }
    tracing::info!(bot = %bot.id, document = %id, "document deleted through the admin API");
    // 204 has no body: a failed sync is logged by `refresh` and retried on the next question.
    refresh(&state, &bot).await;
    Ok(StatusCode::NO_CONTENT.into_response())
}
