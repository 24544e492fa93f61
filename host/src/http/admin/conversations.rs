//! `/v1/tenants/{tenant}/conversations[/{id}[/messages]]`: a tenant's conversations,
//! newest first, filtered by bot, channel and state, and each conversation's messages,
//! oldest first. Both lists page with cursors ([`super::pages`]).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::caller::{Access, Caller};
use super::extract::{ApiPath, ApiQuery};
use super::pages::{PageQuery, encode, next_cursor};
use crate::auth::Permission;
use crate::conversation::model::{Contact, Conversation, Message, SessionState};
use crate::http::{ApiError, AppState};
use crate::store::ConversationFilter;

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(get_one))
        .routes(routes!(messages))
}

/// `?bot=&channel=&state=&limit=&cursor=`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct ConversationQuery {
    /// Only this bot's conversations.
    bot: Option<String>,
    /// Only this channel's.
    channel: Option<String>,
    /// Only in this state.
    state: Option<SessionState>,
    /// Rows per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    limit: Option<u32>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// A page of conversations.
#[derive(Debug, Serialize, ToSchema)]
struct ConversationPage {
    /// Newest first.
    conversations: Vec<Conversation>,
    /// Pass as `cursor` for the next (older) page; `null` on the last page.
    next_cursor: Option<String>,
}

/// One conversation with its contact.
#[derive(Debug, Serialize, ToSchema)]
struct ConversationAnswer {
    /// The conversation.
    conversation: Conversation,
    /// The customer, as the channel knows them.
    contact: Option<Contact>,
}

/// A page of messages.
#[derive(Debug, Serialize, ToSchema)]
struct MessagePage {
    /// Oldest first.
    messages: Vec<Message>,
    /// Pass as `cursor` for the next (newer) page; `null` on the last page.
    next_cursor: Option<String>,
    /// Where this page ended, even a short one: pass it as `cursor` later to fetch only
    /// messages written since (a console polling a conversation). `null` while the
    /// conversation has no messages.
    resume_cursor: Option<String>,
}

/// The tenant's conversations, newest first.
///
/// Errors: 400 `invalid_query` (an unknown parameter or state, a limit outside 1..=200),
/// `invalid_cursor`; 403 `forbidden`.
#[utoipa::path(
    get,
    operation_id = "conversations_list",
    path = "/v1/tenants/{tenant}/conversations",
    tag = "conversations",
    params(("tenant" = String, Path, description = "Tenant id"), ConversationQuery),
    responses((status = 200, description = "A page of conversations", body = ConversationPage))
)]
async fn list(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(tenant): ApiPath<String>,
    ApiQuery(query): ApiQuery<ConversationQuery>,
) -> Result<Json<ConversationPage>, ApiError> {
    let access = caller
        .require(&state, &tenant, Permission::ConversationsRead)
        .await?;
    let page = PageQuery {
        limit: query.limit,
        cursor: query.cursor,
    };
    let limit = page.limit()?;
    let filter = ConversationFilter {
        bot_id: query.bot,
        channel_id: query.channel,
        state: query.state,
        before: page.position()?,
        limit,
    };
    let conversations = state
        .store
        .conversations(&access.tenant_id, &filter)
        .await?;
    let next_cursor = next_cursor(&conversations, limit, |conversation| {
        (conversation.created_at_ms, conversation.id.clone())
    });
    Ok(Json(ConversationPage {
        conversations,
        next_cursor,
    }))
}

/// One conversation and its contact.
///
/// Errors: 403 `forbidden`; 404 `conversation_not_found` (also another tenant's).
#[utoipa::path(
    get,
    operation_id = "conversations_get_one",
    path = "/v1/tenants/{tenant}/conversations/{id}",
    tag = "conversations",
    params(
        ("tenant" = String, Path, description = "Tenant id"),
        ("id" = String, Path, description = "Conversation id (`cv_…`)")
    ),
    responses((status = 200, description = "The conversation", body = ConversationAnswer))
)]
async fn get_one(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((tenant, id)): ApiPath<(String, String)>,
) -> Result<Json<ConversationAnswer>, ApiError> {
    let access = caller
        .require(&state, &tenant, Permission::ConversationsRead)
        .await?;
    let conversation = load_conversation(&state, &access, &id).await?;
    let contact = state
        .store
        .contact(&access.tenant_id, &conversation.contact_id)
        .await?;
    Ok(Json(ConversationAnswer {
        conversation,
        contact,
    }))
}

/// A conversation's messages, oldest first. The cursor is a position after a message:
/// `resume_cursor` lets a client poll for messages written since its last page.
///
/// Errors: 400 `invalid_query`, `invalid_cursor`; 403 `forbidden`;
/// 404 `conversation_not_found`.
#[utoipa::path(
    get,
    operation_id = "conversations_messages",
    path = "/v1/tenants/{tenant}/conversations/{id}/messages",
    tag = "conversations",
    params(
        ("tenant" = String, Path, description = "Tenant id"),
        ("id" = String, Path, description = "Conversation id (`cv_…`)"),
        PageQuery
    ),
    responses((status = 200, description = "A page of messages", body = MessagePage))
)]
async fn messages(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((tenant, id)): ApiPath<(String, String)>,
    ApiQuery(page): ApiQuery<PageQuery>,
) -> Result<Json<MessagePage>, ApiError> {
    let access = caller
        .require(&state, &tenant, Permission::ConversationsRead)
        .await?;
    let limit = page.limit()?;
    let after: i64 = page.position()?.unwrap_or(0);
    let conversation = load_conversation(&state, &access, &id).await?;
    let messages = state
        .store
        .messages_after(&access.tenant_id, &conversation.id, after, limit)
        .await?;
    let next_cursor = next_cursor(&messages, limit, |message| message.id);
    let resume_cursor = match messages.last() {
        Some(last) => Some(encode(&last.id)),
        None => page.cursor.clone(),
    };
    Ok(Json(MessagePage {
        messages,
        next_cursor,
        resume_cursor,
    }))
}

/// The conversation if it is the tenant's; 404 `conversation_not_found` otherwise.
pub(super) async fn load_conversation(
    state: &AppState,
    access: &Access,
    id: &str,
) -> Result<Conversation, ApiError> {
    state
        .store
        .conversation(&access.tenant_id, id)
        .await?
        .filter(|conversation| conversation.tenant_id == access.tenant_id)
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "conversation_not_found",
                format!("tenant '{}' has no conversation '{id}'", access.tenant_id),
            )
        })
}
