//! A conversation's past as the console shows it: its handover history
//! (`GET …/conversations/{id}/handovers`: who moved it when and why) and the bot's turn
//! decisions (`GET …/conversations/{id}/decisions`: tier, score, what matched).

use axum::Json;
use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::caller::Caller;
use super::conversations::load_conversation;
use super::extract::ApiPath;
use crate::auth::Permission;
use crate::http::{ApiError, AppState};
use crate::store::{HandoverEvent, StoredDecision};

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(handovers))
        .routes(routes!(decisions))
}

/// A conversation's changes of hands.
#[derive(Debug, Serialize, ToSchema)]
struct HandoverHistory {
    /// Oldest first.
    events: Vec<HandoverEvent>,
}

/// A conversation's turn decisions.
#[derive(Debug, Serialize, ToSchema)]
struct DecisionTrace {
    /// Oldest first: the tier, score, candidates (matched FAQ, tool calls) and latency
    /// of every turn the bot decided.
    decisions: Vec<StoredDecision>,
}

/// The conversation's changes of hands, oldest first.
///
/// Errors: 403 `forbidden`; 404 `conversation_not_found`.
#[utoipa::path(
    get,
    operation_id = "conversations_handovers",
    path = "/v1/tenants/{tenant}/conversations/{id}/handovers",
    tag = "handover",
    params(
        ("tenant" = String, Path, description = "Tenant id"),
        ("id" = String, Path, description = "Conversation id (`cv_…`)")
    ),
    responses((status = 200, description = "The history", body = HandoverHistory))
)]
async fn handovers(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((tenant, id)): ApiPath<(String, String)>,
) -> Result<Json<HandoverHistory>, ApiError> {
    let access = caller
        .require(&state, &tenant, Permission::ConversationsRead)
        .await?;
    let conversation = load_conversation(&state, &access, &id).await?;
    let events = state
        .store
        .handover_events(&access.tenant_id, &conversation.id)
        .await?;
    Ok(Json(HandoverHistory { events }))
}

/// The bot's decision per turn of the conversation: tier, score, what matched.
///
/// Errors: 403 `forbidden`; 404 `conversation_not_found`.
#[utoipa::path(
    get,
    operation_id = "conversations_decisions",
    path = "/v1/tenants/{tenant}/conversations/{id}/decisions",
    tag = "handover",
    params(
        ("tenant" = String, Path, description = "Tenant id"),
        ("id" = String, Path, description = "Conversation id (`cv_…`)")
    ),
    responses((status = 200, description = "The trace", body = DecisionTrace))
)]
async fn decisions(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((tenant, id)): ApiPath<(String, String)>,
) -> Result<Json<DecisionTrace>, ApiError> {
    let access = caller
        .require(&state, &tenant, Permission::ConversationsRead)
        .await?;
    let conversation = load_conversation(&state, &access, &id).await?;
    let decisions = state
        .store
        .turn_decisions(&access.tenant_id, &conversation.id)
        .await?;
    Ok(Json(DecisionTrace { decisions }))
}
