//! Operators' moves on a conversation: `POST …/conversations/{id}/take`, `/give-back`,
//! `/close` and `/reply`. They need a person with `conversations_answer` (owner, admin,
//! operator); a conversation another operator holds answers 409 naming the holder, and
//! nothing changes.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::audit;
use super::caller::{Access, Caller};
use super::conversations::load_conversation;
use super::extract::{ApiJson, ApiPath, idempotency_key};
use crate::auth::Permission;
use crate::conversation::Content;
use crate::conversation::content::QuickReply;
use crate::conversation::handover::Trigger;
use crate::conversation::handover::desk::Mover;
use crate::conversation::model::{Conversation, Message};
use crate::http::{ApiError, AppState};
use crate::store::{HandoverEvent, MoveOutcome, ReplyOutcome};

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(take))
        .routes(routes!(give_back))
        .routes(routes!(close))
        .routes(routes!(reply))
}

/// A conversation after a move, with the notice the customer was sent.
#[derive(Debug, Serialize, ToSchema)]
struct MoveAnswer {
    /// As it is now.
    conversation: Conversation,
    /// What the customer was told.
    notice: Option<Message>,
    /// The change as stored.
    event: HandoverEvent,
}

/// `POST …/reply`: text, optionally with quick replies.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct ReplyBody {
    /// What the customer reads (1 to 4,000 characters).
    text: String,
    /// Chips the customer can tap (at most 10).
    #[serde(default)]
    quick_replies: Vec<QuickReply>,
}

/// The reply as stored.
#[derive(Debug, Serialize, ToSchema)]
struct ReplyAnswer {
    /// The message with its id.
    message: Message,
    /// `true` when an earlier request with the same `Idempotency-Key` stored it.
    repeated: bool,
}

/// Checks the caller may answer in the tenant and is a person; returns their user id.
async fn operator(
    state: &AppState,
    caller: &Caller,
    tenant: &str,
) -> Result<(Access, String), ApiError> {
    let access = caller
        .require(state, tenant, Permission::ConversationsAnswer)
        .await?;
    let user = caller.user()?.id.clone();
    Ok((access, user))
}

/// The HTTP answer of a move, and its audit line.
async fn answer_move(
    state: &AppState,
    caller: &Caller,
    outcome: MoveOutcome,
    id: &str,
    tenant: &str,
) -> Result<Json<MoveAnswer>, ApiError> {
    match outcome {
        MoveOutcome::Moved {
            conversation,
            notice,
            event,
        } => {
            audit::record(
                state,
                Some(tenant),
                &caller.actor(),
                caller.ip_text(),
                &format!("conversation.{}", event.trigger),
                Some(conversation.id.clone()),
                json!({"from": event.from_state.as_str(), "to": event.to_state.as_str()}),
            )
            .await;
            Ok(Json(MoveAnswer {
                conversation: *conversation,
                notice,
                event,
            }))
        }
        MoveOutcome::Refused(conversation) => Err(refused(&conversation)),
        MoveOutcome::HeldByOther(conversation) => Err(held_by_other(&conversation)),
        MoveOutcome::NotFound => Err(not_found(tenant, id)),
    }
}

fn not_found(tenant: &str, id: &str) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "conversation_not_found",
        format!("tenant '{tenant}' has no conversation '{id}'"),
    )
}

/// 409 for a move the conversation's state forbids.
fn refused(conversation: &Conversation) -> ApiError {
    match (&conversation.state, &conversation.assigned_to) {
        (crate::conversation::model::SessionState::Human, Some(holder)) => ApiError::new(
            StatusCode::CONFLICT,
            "already_taken",
            format!(
                "conversation '{}' is already held by {holder}",
                conversation.id
            ),
        ),
        (state, _) => ApiError::new(
            StatusCode::CONFLICT,
            "invalid_transition",
            format!(
                "conversation '{}' is {}; that move is not possible from there",
                conversation.id,
                state.as_str()
            ),
        ),
    }
}

/// 409 for a conversation another operator holds.
fn held_by_other(conversation: &Conversation) -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        "not_holder",
        format!(
            "conversation '{}' is held by {}, not by you",
            conversation.id,
            conversation.assigned_to.as_deref().unwrap_or("nobody")
        ),
    )
}

/// Applies `trigger` for the calling operator.
async fn operator_move(
    state: &AppState,
    caller: &Caller,
    tenant: &str,
    id: &str,
    trigger: Trigger,
) -> Result<Json<MoveAnswer>, ApiError> {
    let (access, user) = operator(state, caller, tenant).await?;
    let conversation = load_conversation(state, &access, id).await?;
    let outcome = state
        .handover
        .apply(&conversation, trigger, Mover::Operator(user), None)
        .await?;
    answer_move(state, caller, outcome, id, &access.tenant_id).await
}

/// Takes the conversation over: the bot goes silent and the customer is told a person
/// joined. Possible while the bot answers or the customer waits.
///
/// Errors: 403 `forbidden` (a viewer, an API key, another tenant's operator);
/// 404 `conversation_not_found`; 409 `already_taken` (names the holder),
/// `invalid_transition` (closed).
#[utoipa::path(
    post,
    operation_id = "conversations_take",
    path = "/v1/tenants/{tenant}/conversations/{id}/take",
    tag = "handover",
    params(
        ("tenant" = String, Path, description = "Tenant id"),
        ("id" = String, Path, description = "Conversation id (`cv_…`)")
    ),
    responses((status = 200, description = "Taken", body = MoveAnswer))
)]
async fn take(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((tenant, id)): ApiPath<(String, String)>,
) -> Result<Json<MoveAnswer>, ApiError> {
    operator_move(&state, &caller, &tenant, &id, Trigger::OperatorTook).await
}

/// Gives the conversation back to the bot; the customer is told.
///
/// Errors: 403 `forbidden`; 404 `conversation_not_found`; 409 `not_holder` (another
/// operator holds it), `invalid_transition` (nobody holds it).
#[utoipa::path(
    post,
    operation_id = "conversations_give_back",
    path = "/v1/tenants/{tenant}/conversations/{id}/give-back",
    tag = "handover",
    params(
        ("tenant" = String, Path, description = "Tenant id"),
        ("id" = String, Path, description = "Conversation id (`cv_…`)")
    ),
    responses((status = 200, description = "Back with the bot", body = MoveAnswer))
)]
async fn give_back(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((tenant, id)): ApiPath<(String, String)>,
) -> Result<Json<MoveAnswer>, ApiError> {
    operator_move(&state, &caller, &tenant, &id, Trigger::OperatorGaveBack).await
}

/// Closes the conversation; the customer is told, and their next message opens a new one.
///
/// Errors: 403 `forbidden`; 404 `conversation_not_found`; 409 `not_holder`,
/// `invalid_transition` (closed already).
#[utoipa::path(
    post,
    operation_id = "conversations_close",
    path = "/v1/tenants/{tenant}/conversations/{id}/close",
    tag = "handover",
    params(
        ("tenant" = String, Path, description = "Tenant id"),
        ("id" = String, Path, description = "Conversation id (`cv_…`)")
    ),
    responses((status = 200, description = "Closed", body = MoveAnswer))
)]
async fn close(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((tenant, id)): ApiPath<(String, String)>,
) -> Result<Json<MoveAnswer>, ApiError> {
    operator_move(&state, &caller, &tenant, &id, Trigger::OperatorClosed).await
}

/// Sends the operator's reply to a conversation they hold. With an `Idempotency-Key`
/// header, a retried request stores nothing new and returns the first message.
///
/// Errors: 400 `invalid_json`, `invalid_reply` (empty, too long, too many quick replies),
/// `invalid_idempotency_key`; 403 `forbidden`; 404 `conversation_not_found`;
/// 409 `not_holder` (take it first, or another operator holds it).
#[utoipa::path(
    post,
    operation_id = "conversations_reply",
    path = "/v1/tenants/{tenant}/conversations/{id}/reply",
    tag = "handover",
    params(
        ("tenant" = String, Path, description = "Tenant id"),
        ("id" = String, Path, description = "Conversation id (`cv_…`)"),
        ("Idempotency-Key" = Option<String>, Header, description = "1 to 100 visible ASCII characters")
    ),
    request_body = ReplyBody,
    responses(
        (status = 201, description = "Stored and queued", body = ReplyAnswer),
        (status = 200, description = "Stored by an earlier request with this key", body = ReplyAnswer)
    )
)]
async fn reply(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((tenant, id)): ApiPath<(String, String)>,
    headers: HeaderMap,
    body: Result<ApiJson<ReplyBody>, ApiError>,
) -> Result<(StatusCode, Json<ReplyAnswer>), ApiError> {
    let (access, user) = operator(&state, &caller, &tenant).await?;
    let ApiJson(body) = body?;
    let content = reply_content(body)?;
    let key = idempotency_key(&headers)?;
    let conversation = load_conversation(&state, &access, &id).await?;
    match state
        .handover
        .reply(&conversation, &user, content, key)
        .await?
    {
        ReplyOutcome::Stored { message, .. } => Ok((
            StatusCode::CREATED,
            Json(ReplyAnswer {
                message,
                repeated: false,
            }),
        )),
        ReplyOutcome::Repeated(message) => Ok((
            StatusCode::OK,
            Json(ReplyAnswer {
                message,
                repeated: true,
            }),
        )),
        ReplyOutcome::NotHolder(conversation) => Err(match &conversation.assigned_to {
            Some(_) => held_by_other(&conversation),
            None => ApiError::new(
                StatusCode::CONFLICT,
                "not_holder",
                format!(
                    "conversation '{}' is {} and nobody holds it; take it over first",
                    conversation.id,
                    conversation.state.as_str()
                ),
            ),
        }),
        ReplyOutcome::NotFound => Err(not_found(&access.tenant_id, &id)),
    }
}

/// The reply's content, or 400 `invalid_reply` saying what is wrong.
fn reply_content(body: ReplyBody) -> Result<Content, ApiError> {
    let content = Content {
        text: Some(body.text.trim().to_owned()),
        quick_replies: body.quick_replies,
        ..Content::default()
    };
    content
        .check_sendable()
        .map_err(|message| ApiError::new(StatusCode::BAD_REQUEST, "invalid_reply", message))?;
    Ok(content)
}
