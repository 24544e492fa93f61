//! `POST /v1/bots/{bot}/messages`: a shop's own systems send a message to a customer
//! through one of the bot's channels ("your order has shipped"), outside any turn. Needs a
//! person with `conversations_answer` in the bot's tenant or an API key with
//! `messages:send`, and an `Idempotency-Key`: a request retried with the same key sends
//! nothing new and answers with the first result. The message goes through the outbox like
//! every reply (retried, logged, in order with the conversation's other messages); its
//! progress is at `GET /v1/tenants/{tenant}/deliveries/{delivery_id}`. Instead of a
//! message, a provider-approved template (Zalo ZNS) can go to a phone number; its
//! conversation is the phone number's (contact `phone:84…` on the channel).

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::audit;
use super::caller::{Caller, Who, forbidden};
use super::extract::{ApiJson, ApiPath, idempotency_key};
use crate::auth::Permission;
use crate::conversation::Content;
use crate::conversation::content::Template;
use crate::conversation::model::{
    Bot, Channel, ChannelKind, Message, NewMessage, PHONE_PREFIX, Sender,
};
use crate::delivery::{Proactive, ProactiveOutcome};
use crate::http::{ApiError, AppState};
use crate::store::QueueOutcome;

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(send))
}

/// Longest channel user id accepted: every channel's ids are far shorter.
const MAX_USER_ID_CHARS: usize = 200;

/// Who receives the message: `channel_user_id` for a message, `phone` for a template.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct Recipient {
    /// The channel's id for the customer: a Zalo user id, a Messenger PSID, a Telegram
    /// chat id, a widget visitor id.
    channel_user_id: Option<String>,
    /// A phone number, for a template message (Zalo ZNS): `84912345678`, `+84 912 345 678`
    /// or `0912345678` (a Vietnamese number).
    phone: Option<String>,
}

/// `POST /v1/bots/{bot}/messages`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct SendBody {
    /// One of the bot's channels (`GET /v1/tenants/{tenant}/channels`).
    channel_id: String,
    /// The customer on that channel.
    to: Recipient,
    /// What to send: text up to 4,000 characters, and up to 10 each of quick replies,
    /// buttons, cards and attachments. The channel renders what it can and degrades the
    /// rest (cards become numbered text, buttons "reply 1, 2 or 3").
    message: Option<Content>,
    /// Instead of `message`: a template the provider approved (Zalo ZNS), to `to.phone`,
    /// on a channel whose plugin sends templates (`zalo-oa`).
    template: Option<Template>,
}

/// What was queued.
#[derive(Debug, Serialize, ToSchema)]
struct SendAnswer {
    /// Follow it at `GET /v1/tenants/{tenant}/deliveries/{delivery_id}`.
    delivery_id: i64,
    /// The conversation it went into (the customer's open one, or a new one).
    conversation_id: String,
    /// The message as stored.
    message: Message,
    /// `true` when an earlier request with the same `Idempotency-Key` queued it; nothing
    /// was sent again.
    repeated: bool,
}

/// Sends a message to a customer on one of the bot's channels.
///
/// Errors: 400 `invalid_json`, `invalid_message` (empty, too long, too many parts, a bad
/// link), `invalid_recipient`, `missing_idempotency_key`, `invalid_idempotency_key`;
/// 403 `forbidden` (no right to send, or not a bot of the caller's tenants, existing or
/// not); 404 `channel_not_found` (not one of the bot's channels); 409 `channel_disabled`,
/// `conversation_gone`.
#[utoipa::path(
    post,
    operation_id = "messages_send",
    path = "/v1/bots/{bot}/messages",
    tag = "messages",
    params(
        ("bot" = String, Path, description = "Bot id"),
        ("Idempotency-Key" = String, Header, description = "1 to 100 visible ASCII characters, unique per message: a retry with the same key sends nothing new")
    ),
    request_body = SendBody,
    responses(
        (status = 202, description = "Queued for delivery", body = SendAnswer),
        (status = 200, description = "Queued by an earlier request with this key", body = SendAnswer)
    )
)]
async fn send(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(bot_id): ApiPath<String>,
    headers: HeaderMap,
    body: Result<ApiJson<SendBody>, ApiError>,
) -> Result<(StatusCode, Json<SendAnswer>), ApiError> {
    let bot = sender_bot(&state, &caller, &bot_id).await?;
    let ApiJson(body) = body?;
    let key = idempotency_key(&headers)?.ok_or_else(|| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "missing_idempotency_key",
            "send an Idempotency-Key header (unique per message), so a retried request cannot send twice",
        )
    })?;
    let (content, channel_user_id) = match (body.message, body.template) {
        (Some(message), None) => (message, recipient(body.to.channel_user_id, body.to.phone)?),
        (None, Some(template)) => (
            Content {
                template: Some(Box::new(template)),
                ..Content::default()
            },
            phone_recipient(body.to.channel_user_id, body.to.phone)?,
        ),
        _ => {
            return Err(invalid_message(
                "give exactly one of `message` and `template`".into(),
            ));
        }
    };
    content.check_sendable().map_err(invalid_message)?;
    let channel = bot_channel(&state, &bot, &body.channel_id).await?;
    if content.template.is_some() && channel.kind == ChannelKind::Widget {
        return Err(invalid_message(
            "the web widget has no template messages; send a message instead".into(),
        ));
    }
    let sender = match &caller.who {
        Who::User { user, .. } => Sender::Operator(user.id.clone()),
        // A shop's system speaks as its bot.
        Who::Key(_) => Sender::Bot,
    };
    let ProactiveOutcome {
        conversation,
        queued,
    } = state
        .outbound
        .send(Proactive {
            // Scoped to the tenant: two shops choosing the same key never collide.
            idempotency_key: format!("api:{}:{key}", bot.tenant_id),
            bot: bot.clone(),
            channel,
            channel_user_id,
            message: NewMessage { sender, content },
        })
        .await?;
    let (status, message, delivery_id, repeated) = match queued {
        QueueOutcome::Stored { message, outbox_id } => {
            (StatusCode::ACCEPTED, message, outbox_id, false)
        }
        QueueOutcome::Repeated { message, outbox_id } => (StatusCode::OK, message, outbox_id, true),
        QueueOutcome::NotFound => {
            // Only if the conversation was deleted between opening and queueing.
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "conversation_gone",
                format!(
                    "conversation '{}' was removed while the message was queued; send again",
                    conversation.id
                ),
            ));
        }
    };
    if !repeated {
        audit::by(
            &state,
            &caller,
            &bot.tenant_id,
            "message.send",
            Some(delivery_id.to_string()),
            json!({"bot": bot.id, "channel": conversation.channel_id, "conversation": conversation.id}),
        )
        .await;
    }
    Ok((
        status,
        Json(SendAnswer {
            delivery_id,
            conversation_id: message.conversation_id.clone(),
            message,
            repeated,
        }),
    ))
}

/// The bot if the caller may send in its tenant. A bot of a tenant the caller is not in
/// is refused like a missing one (403, same words), as every tenant route refuses another
/// tenant whether it exists or not: bot ids of other shops cannot be probed.
async fn sender_bot(state: &AppState, caller: &Caller, bot_id: &str) -> Result<Bot, ApiError> {
    match state.store.bot(bot_id).await? {
        Some(bot) if caller_belongs(state, caller, &bot.tenant_id).await => {
            // A member or key of the tenant lacking the right learns which it lacks.
            caller
                .require(state, &bot.tenant_id, Permission::ConversationsAnswer)
                .await?;
            Ok(bot)
        }
        _ => Err(forbidden(format!(
            "you cannot send messages as bot '{bot_id}': it is not a bot of a tenant of yours"
        ))),
    }
}

/// Whether the caller is a member or key of `tenant_id` at all, whatever its rights.
async fn caller_belongs(state: &AppState, caller: &Caller, tenant_id: &str) -> bool {
    match &caller.who {
        Who::Key(key) => key.tenant_id == tenant_id,
        Who::User { user, .. } => matches!(
            state.store.membership(tenant_id, &user.id).await,
            Ok(Some(_))
        ),
    }
}

/// The channel if it is one of the bot's and enabled.
async fn bot_channel(state: &AppState, bot: &Bot, channel_id: &str) -> Result<Channel, ApiError> {
    let channel = state
        .store
        .channel(channel_id)
        .await?
        .filter(|channel| channel.bot_id == bot.id && channel.tenant_id == bot.tenant_id)
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "channel_not_found",
                format!("bot '{}' has no channel '{channel_id}'", bot.id),
            )
        })?;
    if !channel.enabled {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "channel_disabled",
            format!("channel '{channel_id}' is disabled; enable it to send"),
        ));
    }
    Ok(channel)
}

/// 400 `invalid_message` saying what is wrong.
fn invalid_message(message: String) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "invalid_message", message)
}

/// 400 `invalid_recipient` saying what is wrong.
fn invalid_recipient(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "invalid_recipient", message)
}

/// A message's recipient: the channel user id, or 400 `invalid_recipient`.
fn recipient(channel_user_id: Option<String>, phone: Option<String>) -> Result<String, ApiError> {
    if phone.is_some() {
        return Err(invalid_recipient(
            "to.phone is for template messages; a message goes to to.channel_user_id",
        ));
    }
    let id = channel_user_id.unwrap_or_default();
    let id = id.trim();
    if id.is_empty()
        || id.chars().count() > MAX_USER_ID_CHARS
        || id.chars().any(char::is_control)
        || id.starts_with(PHONE_PREFIX)
    {
        return Err(invalid_recipient(format!(
            "to.channel_user_id must be 1 to {MAX_USER_ID_CHARS} characters without control characters"
        )));
    }
    Ok(id.to_owned())
}

/// A template's recipient as a contact id (`phone:84912345678`), or 400 `invalid_recipient`.
fn phone_recipient(
    channel_user_id: Option<String>,
    phone: Option<String>,
) -> Result<String, ApiError> {
    if channel_user_id.is_some() {
        return Err(invalid_recipient(
            "a template goes to to.phone, not to.channel_user_id",
        ));
    }
    let phone = phone.ok_or_else(|| invalid_recipient("a template needs to.phone"))?;
    let digits: String = phone
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '.' | '(' | ')'))
        .collect();
    let digits = digits.strip_prefix('+').unwrap_or(&digits);
    // A Vietnamese number as dialled at home: 0912… is 84912… in international form.
    let international = match digits.strip_prefix('0') {
        Some(national) => format!("84{national}"),
        None => digits.to_owned(),
    };
    if !(9..=15).contains(&international.len())
        || !international.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(invalid_recipient(format!(
            "to.phone '{phone}' is not a phone number (digits, e.g. 84912345678)"
        )));
    }
    Ok(format!("{PHONE_PREFIX}{international}"))
}
