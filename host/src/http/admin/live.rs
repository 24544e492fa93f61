//! `GET /v1/tenants/{tenant}/live`: the console's live feed as server-sent events. Every
//! message and change of hands in the tenant's conversations, and operators' presence,
//! as they happen on this instance (and, on PostgreSQL, on the others). A console that
//! reconnects sends the last event id it saw (`Last-Event-ID`) and first gets a
//! `conversation` snapshot of everything that changed since, so it misses nothing; one
//! that falls behind gets the same catch-up.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::Stream;
use serde::Serialize;
use tokio::sync::broadcast::Receiver;
use tokio::sync::broadcast::error::RecvError;
use tokio_util::sync::CancellationToken;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::caller::Caller;
use super::extract::ApiPath;
use crate::auth::Permission;
use crate::conversation::live::{LiveEvent, TenantEvent};
use crate::conversation::model::Conversation;
use crate::conversation::pipeline::now_ms;
use crate::http::{ApiError, AppState};
use crate::store::{Store, StoreError};

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(live))
}

/// How far before the client's last event id a catch-up reaches back: writes commit a
/// little after their timestamp, and instances' clocks differ by a little.
const CATCH_UP_SLACK_MS: i64 = 5_000;
/// Most conversations in one catch-up.
const CATCH_UP_LIMIT: u32 = 500;
/// A comment line this often keeps proxies from closing a quiet stream.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// The tenant's live events.
///
/// Events: `conversation` (a Conversation: it changed hands, or a catch-up snapshot),
/// `message` (a Message), `presence` (an operator's status), and `ready` (`{"now_ms"}`,
/// once the stream is live). Each has an `id`; send the last one seen as `Last-Event-ID`
/// when reconnecting. Errors: 403 `forbidden`.
#[utoipa::path(
    get,
    operation_id = "console_live",
    path = "/v1/tenants/{tenant}/live",
    tag = "handover",
    params(
        ("tenant" = String, Path, description = "Tenant id"),
        ("Last-Event-ID" = Option<String>, Header, description = "The last event id seen, to catch up")
    ),
    responses((status = 200, description = "An event stream", content_type = "text/event-stream", body = String))
)]
async fn live(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(tenant): ApiPath<String>,
    headers: HeaderMap,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let access = caller
        .require(&state, &tenant, Permission::ConversationsRead)
        .await?;
    // Subscribe before reading the catch-up, so nothing falls between the two.
    let receiver = state.live.subscribe_tenant(&access.tenant_id);
    let since = headers
        .get("last-event-id")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.trim().parse::<i64>().ok());
    let mut pending = VecDeque::new();
    if let Some(since) = since {
        pending.extend(catch_up(state.store.as_ref(), &access.tenant_id, since).await?);
    }
    let now = now_ms();
    pending.push_back(event("ready", now, &serde_json::json!({ "now_ms": now })));
    let feed = Feed {
        tenant_id: access.tenant_id,
        store: std::sync::Arc::clone(&state.store),
        shutdown: state.shutdown.clone(),
        receiver,
        pending,
        last_id: now,
    };
    let stream = futures_util::stream::unfold(feed, |mut feed| async move {
        let next = feed.next().await?;
        Some((Ok(next), feed))
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(KEEP_ALIVE)))
}

/// One console's stream: queued events first, then the tenant's feed.
struct Feed {
    tenant_id: String,
    store: std::sync::Arc<dyn Store>,
    /// Ends the stream when the host drains, so it does not hold the shutdown up.
    shutdown: CancellationToken,
    receiver: Receiver<TenantEvent>,
    pending: VecDeque<Event>,
    /// The newest id sent, where a catch-up after a lag starts.
    last_id: i64,
}

impl Feed {
    /// The next event, `None` when the stream ends (the host shuts down).
    async fn next(&mut self) -> Option<Event> {
        loop {
            if let Some(queued) = self.pending.pop_front() {
                return Some(queued);
            }
            let received = tokio::select! {
                () = self.shutdown.cancelled() => return None,
                received = self.receiver.recv() => received,
            };
            match received {
                Ok(tenant_event) => {
                    if let Some((id, sent)) = encode(&tenant_event) {
                        self.last_id = self.last_id.max(id);
                        return Some(sent);
                    }
                }
                Err(RecvError::Lagged(missed)) => {
                    tracing::warn!(tenant = %self.tenant_id, missed, "console feed lagged; catching up from the store");
                    match catch_up(self.store.as_ref(), &self.tenant_id, self.last_id).await {
                        Ok(events) => self.pending.extend(events),
                        Err(error) => {
                            tracing::warn!(%error, "console catch-up failed; ending the stream");
                            return None;
                        }
                    }
                }
                Err(RecvError::Closed) => return None,
            }
        }
    }
}

/// A `conversation` event for each conversation of the tenant changed since `since_ms`.
async fn catch_up(
    store: &dyn Store,
    tenant_id: &str,
    since_ms: i64,
) -> Result<Vec<Event>, StoreError> {
    let changed = store
        .conversations_changed_since(tenant_id, since_ms - CATCH_UP_SLACK_MS, CATCH_UP_LIMIT)
        .await?;
    // Oldest first, so a client applying them in order ends with the newest state.
    Ok(changed
        .iter()
        .rev()
        .map(|conversation| {
            event(
                "conversation",
                conversation_id_ms(conversation),
                conversation,
            )
        })
        .collect())
}

/// A conversation's event id: when it last changed either way.
fn conversation_id_ms(conversation: &Conversation) -> i64 {
    conversation
        .last_activity_ms
        .max(conversation.state_changed_at_ms)
}

/// The SSE form of a feed event, with its id; typing is not sent.
fn encode(tenant_event: &TenantEvent) -> Option<(i64, Event)> {
    match tenant_event {
        TenantEvent::Conversation { event: live, .. } => match live {
            LiveEvent::Message(message) => Some((
                message.created_at_ms,
                event("message", message.created_at_ms, message.as_ref()),
            )),
            LiveEvent::State(conversation) => {
                let id = conversation_id_ms(conversation);
                Some((id, event("conversation", id, conversation.as_ref())))
            }
            LiveEvent::Typing(_) => None,
        },
        TenantEvent::Presence(presence) => Some((
            presence.updated_at_ms,
            event("presence", presence.updated_at_ms, presence.as_ref()),
        )),
    }
}

/// An SSE event named `name` with id `id` and `data` as JSON.
fn event(name: &str, id: i64, data: &impl Serialize) -> Event {
    let json = serde_json::to_string(data).unwrap_or_else(|_| "null".to_owned());
    Event::default().event(name).id(id.to_string()).data(json)
}
