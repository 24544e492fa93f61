//! What the operator console loads: `GET /v1/tenants/{tenant}/inbox` (every open
//! conversation with its contact, last message and unread count, and the operators
//! present), `PUT /v1/tenants/{tenant}/presence` (an operator's heartbeat, online or
//! away, shown to the others live) and `GET /v1/tenants/{tenant}/handover-metrics`.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::caller::Caller;
use super::extract::{ApiJson, ApiPath, ApiQuery};
use crate::auth::Permission;
use crate::conversation::handover::metrics::{HandoverMetrics, compute};
use crate::conversation::live::TenantEvent;
use crate::conversation::pipeline::now_ms;
use crate::http::{ApiError, AppState};
use crate::store::{InboxEntry, OperatorPresence, PresenceStatus};

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(inbox))
        .routes(routes!(presence))
        .routes(routes!(metrics))
}

/// Most conversations in one inbox: more than a shop's staff can watch at once.
const INBOX_LIMIT: u32 = 500;

/// An operator not heard from for this long is offline. 90 s: three missed heartbeats of
/// the console (one every 30 s).
pub const PRESENCE_TTL_MS: i64 = 90_000;

/// The console's lists.
#[derive(Debug, Serialize, ToSchema)]
struct Inbox {
    /// The server's clock, ms since the Unix epoch (wait times are counted from it).
    now_ms: i64,
    /// Every conversation that is not closed, most recent activity first (at most 500).
    conversations: Vec<InboxEntry>,
    /// Operators heard from in the last 90 s.
    operators: Vec<OperatorPresence>,
}

/// `PUT …/presence`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct PresenceBody {
    /// `online` or `away`.
    status: PresenceStatus,
}

/// The tenant's open conversations and the operators present.
///
/// Errors: 403 `forbidden`.
#[utoipa::path(
    get,
    operation_id = "console_inbox",
    path = "/v1/tenants/{tenant}/inbox",
    tag = "handover",
    params(("tenant" = String, Path, description = "Tenant id")),
    responses((status = 200, description = "The inbox", body = Inbox))
)]
async fn inbox(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(tenant): ApiPath<String>,
) -> Result<Json<Inbox>, ApiError> {
    let access = caller
        .require(&state, &tenant, Permission::ConversationsRead)
        .await?;
    let now_ms = now_ms();
    let conversations = state.store.inbox(&access.tenant_id, INBOX_LIMIT).await?;
    let operators = state
        .store
        .presence(&access.tenant_id, now_ms - PRESENCE_TTL_MS)
        .await?;
    Ok(Json(Inbox {
        now_ms,
        conversations,
        operators,
    }))
}

/// Says the calling operator is online or away; other consoles of the tenant see it live.
/// The console repeats it every 30 s; after 90 s of silence an operator counts as gone.
///
/// Errors: 400 `invalid_json` (a status other than `online` or `away`); 403 `forbidden`
/// (a viewer, an API key).
#[utoipa::path(
    put,
    operation_id = "console_presence",
    path = "/v1/tenants/{tenant}/presence",
    tag = "handover",
    params(("tenant" = String, Path, description = "Tenant id")),
    request_body = PresenceBody,
    responses((status = 204, description = "Recorded"))
)]
async fn presence(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(tenant): ApiPath<String>,
    body: Result<ApiJson<PresenceBody>, ApiError>,
) -> Result<StatusCode, ApiError> {
    let access = caller
        .require(&state, &tenant, Permission::ConversationsAnswer)
        .await?;
    let user = caller.user()?.id.clone();
    let ApiJson(body) = body?;
    let saved = state
        .store
        .set_presence(&access.tenant_id, &user, body.status, now_ms())
        .await?;
    if let Some(saved) = saved {
        state
            .live
            .publish_tenant(&access.tenant_id, TenantEvent::Presence(Arc::new(saved)));
    }
    Ok(StatusCode::NO_CONTENT)
}

/// `?since_ms=`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct MetricsQuery {
    /// Start of the period, ms since the Unix epoch (default: 30 days ago).
    since_ms: Option<i64>,
}

/// Most history lines one figure reads: a busy shop's month.
const METRICS_EVENTS: u32 = 100_000;

/// Handover figures since a moment: count by trigger, waiting time, time to first reply.
///
/// Errors: 400 `invalid_query`; 403 `forbidden`.
#[utoipa::path(
    get,
    operation_id = "handover_metrics",
    path = "/v1/tenants/{tenant}/handover-metrics",
    tag = "handover",
    params(("tenant" = String, Path, description = "Tenant id"), MetricsQuery),
    responses((status = 200, description = "The figures", body = HandoverMetrics))
)]
async fn metrics(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(tenant): ApiPath<String>,
    ApiQuery(query): ApiQuery<MetricsQuery>,
) -> Result<Json<HandoverMetrics>, ApiError> {
    let access = caller
        .require(&state, &tenant, Permission::ConversationsRead)
        .await?;
    let since = query.since_ms.unwrap_or_else(|| now_ms() - 30 * 86_400_000);
    let events = state
        .store
        .tenant_handover_events(&access.tenant_id, since, METRICS_EVENTS)
        .await?;
    Ok(Json(compute(&events)))
}
