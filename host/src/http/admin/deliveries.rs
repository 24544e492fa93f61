//! `/v1/tenants/{tenant}/deliveries[/{id}[/retry]]`: a tenant's outgoing messages as the
//! outbox holds them, newest first and filtered by status (`?status=dead` is the
//! dead-letter list), channel and conversation; one delivery with every attempt of its
//! log; and putting a dead letter back in the queue.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::audit;
use super::caller::Caller;
use super::extract::{ApiPath, ApiQuery};
use super::pages::{PageQuery, next_cursor};
use crate::auth::Permission;
use crate::conversation::model::Message;
use crate::http::{ApiError, AppState};
use crate::store::{
    AttemptResult, DeliveryAttempt, DeliveryFilter, OutboxItem, OutboxStatus, Requeue,
};

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(get_one))
        .routes(routes!(retry))
}

/// Longest provider response shown per attempt; the log keeps the whole of it.
const RESPONSE_EXCERPT_CHARS: usize = 500;

/// `?status=&channel=&conversation=&limit=&cursor=`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct DeliveryQuery {
    /// Only in this state: `pending`, `sending`, `sent`, `failed` (waiting for a retry) or
    /// `dead` (given up: the dead letters).
    #[param(value_type = Option<String>)]
    status: Option<OutboxStatus>,
    /// Only this channel's.
    channel: Option<String>,
    /// Only this conversation's.
    conversation: Option<String>,
    /// Rows per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    limit: Option<u32>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// One outgoing message and where its delivery stands.
#[derive(Debug, Serialize, ToSchema)]
struct Delivery {
    /// The outbox row's id (the path of `…/deliveries/{id}`).
    id: i64,
    /// `pending`, `sending`, `sent`, `failed` (retried at `next_attempt_at_ms`) or `dead`.
    #[schema(value_type = String)]
    status: OutboxStatus,
    /// The channel it goes out on.
    channel_id: String,
    /// Its conversation.
    conversation_id: String,
    /// Attempts so far, all retry budgets together.
    attempts: u32,
    /// Why the last attempt failed (for `failed` and `dead`, and kept after a retry).
    last_error: Option<String>,
    /// Earliest next attempt, ms since the Unix epoch (for `pending` and `failed`).
    next_attempt_at_ms: i64,
    /// When it was queued, ms since the Unix epoch.
    created_at_ms: i64,
    /// When its status last changed, ms since the Unix epoch.
    updated_at_ms: i64,
    /// The message it delivers.
    message: Message,
}

impl From<OutboxItem> for Delivery {
    fn from(item: OutboxItem) -> Self {
        let row = item.row;
        Self {
            id: row.id,
            status: row.status,
            channel_id: row.channel_id,
            conversation_id: row.conversation_id,
            attempts: row.attempts,
            last_error: row.last_error,
            next_attempt_at_ms: row.next_attempt_at_ms,
            created_at_ms: row.created_at_ms,
            updated_at_ms: row.updated_at_ms,
            message: item.message,
        }
    }
}

/// A page of deliveries.
#[derive(Debug, Serialize, ToSchema)]
struct DeliveryPage {
    /// Newest first.
    deliveries: Vec<Delivery>,
    /// Pass as `cursor` for the next (older) page; `null` on the last page.
    next_cursor: Option<String>,
}

/// One attempt of the delivery log.
#[derive(Debug, Serialize, ToSchema)]
struct Attempt {
    /// 1 for the first; numbering goes on after an admin's retry.
    attempt: u32,
    /// `sent`, `retry` (failed, tried again later), `in_doubt` (no answer to a request
    /// that may have reached the provider: the next attempt asks it whether the message
    /// arrived before sending again) or `dead` (given up).
    result: &'static str,
    /// Why it failed, as the channel plugin said (provider codes included).
    reason: Option<String>,
    /// For `retry` and `in_doubt`: when the next attempt was due, ms since the Unix epoch.
    retry_at_ms: Option<i64>,
    /// For `sent`: the channel's id for the message.
    provider_message_id: Option<String>,
    /// The start of the provider's response, when the plugin passed it on.
    provider_response: Option<String>,
    /// How long the attempt took, ms.
    elapsed_ms: u64,
    /// When it ended, ms since the Unix epoch.
    at_ms: i64,
}

impl From<DeliveryAttempt> for Attempt {
    fn from(attempt: DeliveryAttempt) -> Self {
        let (result, reason, retry_at_ms, provider_message_id) = match attempt.result {
            AttemptResult::Sent {
                provider_message_id,
            } => ("sent", None, None, provider_message_id),
            AttemptResult::Retry {
                reason,
                at_ms,
                in_doubt,
            } => {
                let result = if in_doubt { "in_doubt" } else { "retry" };
                (result, Some(reason), Some(at_ms), None)
            }
            AttemptResult::Dead { reason } => ("dead", Some(reason), None, None),
        };
        Self {
            attempt: attempt.attempt,
            result,
            reason,
            retry_at_ms,
            provider_message_id,
            provider_response: attempt
                .provider_response
                .map(|response| response.chars().take(RESPONSE_EXCERPT_CHARS).collect()),
            elapsed_ms: attempt.elapsed_ms,
            at_ms: attempt.at_ms,
        }
    }
}

/// One delivery with its log.
#[derive(Debug, Serialize, ToSchema)]
struct DeliveryAnswer {
    /// The delivery.
    delivery: Delivery,
    /// Every attempt, oldest first.
    attempts: Vec<Attempt>,
}

/// The tenant's outgoing messages, newest first; `?status=dead` lists the dead letters.
///
/// Errors: 400 `invalid_query` (an unknown parameter or status, a limit outside 1..=200),
/// `invalid_cursor`; 403 `forbidden`.
#[utoipa::path(
    get,
    operation_id = "deliveries_list",
    path = "/v1/tenants/{tenant}/deliveries",
    tag = "deliveries",
    params(("tenant" = String, Path, description = "Tenant id"), DeliveryQuery),
    responses((status = 200, description = "A page of deliveries", body = DeliveryPage))
)]
async fn list(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(tenant): ApiPath<String>,
    ApiQuery(query): ApiQuery<DeliveryQuery>,
) -> Result<Json<DeliveryPage>, ApiError> {
    let access = caller
        .require(&state, &tenant, Permission::ConversationsRead)
        .await?;
    let page = PageQuery {
        limit: query.limit,
        cursor: query.cursor,
    };
    let limit = page.limit()?;
    let filter = DeliveryFilter {
        status: query.status,
        channel_id: query.channel,
        conversation_id: query.conversation,
        before_id: page.position()?,
        limit,
    };
    let items = state.store.deliveries(&access.tenant_id, &filter).await?;
    let next_cursor = next_cursor(&items, limit, |item| item.row.id);
    Ok(Json(DeliveryPage {
        deliveries: items.into_iter().map(Delivery::from).collect(),
        next_cursor,
    }))
}

/// One delivery and every attempt of its log.
///
/// Errors: 403 `forbidden`; 404 `delivery_not_found` (also another tenant's).
#[utoipa::path(
    get,
    operation_id = "deliveries_get_one",
    path = "/v1/tenants/{tenant}/deliveries/{id}",
    tag = "deliveries",
    params(
        ("tenant" = String, Path, description = "Tenant id"),
        ("id" = i64, Path, description = "Delivery id")
    ),
    responses((status = 200, description = "The delivery and its log", body = DeliveryAnswer))
)]
async fn get_one(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((tenant, id)): ApiPath<(String, i64)>,
) -> Result<Json<DeliveryAnswer>, ApiError> {
    let access = caller
        .require(&state, &tenant, Permission::ConversationsRead)
        .await?;
    let item = state
        .store
        .delivery(&access.tenant_id, id)
        .await?
        .ok_or_else(|| not_found(&access.tenant_id, id))?;
    let attempts = state.store.delivery_log(item.row.id).await?;
    Ok(Json(DeliveryAnswer {
        delivery: item.into(),
        attempts: attempts.into_iter().map(Attempt::from).collect(),
    }))
}

/// Puts a dead letter back in the queue: it is tried again at once, with a fresh retry
/// budget, after any older undelivered message of its conversation. Fix the cause first
/// (a channel's token, a plugin's grant): a permanent failure fails again.
///
/// Errors: 403 `forbidden`; 404 `delivery_not_found`; 409 `not_dead` (sent, or still
/// being tried).
#[utoipa::path(
    post,
    operation_id = "deliveries_retry",
    path = "/v1/tenants/{tenant}/deliveries/{id}/retry",
    tag = "deliveries",
    params(
        ("tenant" = String, Path, description = "Tenant id"),
        ("id" = i64, Path, description = "Delivery id")
    ),
    responses((status = 200, description = "Queued again", body = Delivery))
)]
async fn retry(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((tenant, id)): ApiPath<(String, i64)>,
) -> Result<Json<Delivery>, ApiError> {
    let access = caller
        .require(&state, &tenant, Permission::ConversationsAnswer)
        .await?;
    match state.outbound.retry_dead(&access.tenant_id, id).await? {
        Requeue::Requeued(row) => {
            audit::by(
                &state,
                &caller,
                &access.tenant_id,
                "delivery.retry",
                Some(id.to_string()),
                json!({"attempts_before": row.attempt_base, "last_error": row.last_error}),
            )
            .await;
            let item = state
                .store
                .delivery(&access.tenant_id, id)
                .await?
                .ok_or_else(|| not_found(&access.tenant_id, id))?;
            // The row as the requeue left it (`pending`): the dispatcher may already have
            // taken it by now, and the answer says what this call did.
            Ok(Json(OutboxItem { row, ..item }.into()))
        }
        Requeue::NotDead(row) => Err(ApiError::new(
            StatusCode::CONFLICT,
            "not_dead",
            format!(
                "delivery {id} is {}, not dead; only dead letters can be retried",
                row.status.as_str()
            ),
        )),
        Requeue::NotFound => Err(not_found(&access.tenant_id, id)),
    }
}

fn not_found(tenant_id: &str, id: i64) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "delivery_not_found",
        format!("tenant '{tenant_id}' has no delivery {id}"),
    )
}
