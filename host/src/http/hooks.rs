//! `/v1/hooks/{channel_id}`: a channel server's webhook. The channel's plugin verifies and
//! normalizes the request; each event goes into the durable inbox (a duplicate is
//! dropped) before the host answers, so an acknowledged event is never lost.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};

use super::limits::Limited;
use super::{ApiError, AppState};
use crate::conversation::model::ChannelKind;
use crate::conversation::pipeline::now_ms;
use crate::conversation::{Content, InboundEvent, InboundKind};
use crate::plugins::types as wit;
use crate::store::{InboxInsert, NewInboxEvent};

/// Hands the request to the channel's plugin and queues its events.
pub async fn webhook(
    State(state): State<AppState>,
    Path(channel_id): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    // Before anything else: a flood costs no database read and no plugin call.
    if let Err(refused) = state.limits.check(Limited::Webhook, &channel_id) {
        return Ok(refused.into_response());
    }
    let body = body.map_err(|rejection| {
        ApiError::new(rejection.status(), "bad_body", rejection.body_text())
    })?;
    let unknown = || ApiError::not_found("channel_not_found", format!("no channel '{channel_id}'"));
    let channel = state.channels.get(&channel_id).await?.ok_or_else(unknown)?;
    let ChannelKind::Plugin { plugin } = &channel.kind else {
        return Err(unknown());
    };
    if !channel.enabled {
        return Err(ApiError::new(
            StatusCode::GONE,
            "channel_disabled",
            format!("channel '{channel_id}' is disabled"),
        ));
    }
    let registry = state.plugins.as_ref().ok_or_else(|| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "plugins_disabled",
            "this host runs without plugins",
        )
    })?;
    let bound = registry
        .bind_with_overrides(&channel.tenant_id, plugin, None, &channel.secrets)
        .await
        .map_err(|error| {
            tracing::error!(channel = %channel_id, %plugin, %error, "channel plugin cannot be loaded");
            ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "channel_plugin_unavailable", error.to_string())
        })?;
    let request = wit::HttpRequest {
        method: method.to_string(),
        path_with_query: uri
            .path_and_query()
            .map(ToString::to_string)
            .unwrap_or_default(),
        headers: headers
            .iter()
            .map(|(name, value)| {
                (
                    name.to_string(),
                    String::from_utf8_lossy(value.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body: body.to_vec(),
    };
    let report = registry.engine().handle_webhook(&bound, &request).await;
    let outcome = report.outcome.map_err(|error| {
        tracing::warn!(channel = %channel_id, %plugin, %error, "channel plugin failed on a webhook");
        ApiError::new(StatusCode::BAD_GATEWAY, "channel_plugin_failed", error.to_string())
    })?;
    for event in outcome.events {
        let inbound = inbound_event(event);
        let payload = serde_json::to_string(&inbound).map_err(|error| {
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                error.to_string(),
            )
        })?;
        let inserted = state
            .store
            .inbox_insert(&NewInboxEvent {
                tenant_id: channel.tenant_id.clone(),
                channel_id: channel.id.clone(),
                channel_message_id: inbound.channel_message_id.clone(),
                channel_user_id: inbound.channel_user_id.clone(),
                payload,
                now_ms: now_ms(),
            })
            .await?;
        if let InboxInsert::Duplicate(id) = inserted {
            tracing::debug!(channel = %channel_id, event = id, "duplicate webhook event dropped");
        }
    }
    state.inbox_wake.notify_one();
    Ok(plugin_response(outcome.response))
}

fn inbound_event(event: wit::InboundEvent) -> InboundEvent {
    let kind = match event.kind {
        wit::EventKind::Message(message) => InboundKind::Message(Content::from(message)),
        wit::EventKind::Postback(payload) => InboundKind::Postback {
            title: payload.clone(),
            payload,
        },
        wit::EventKind::Follow => InboundKind::Follow,
        wit::EventKind::Unfollow => InboundKind::Unfollow,
        wit::EventKind::Read(at) => InboundKind::Read(i64::try_from(at).unwrap_or(i64::MAX)),
        wit::EventKind::Other(raw) => InboundKind::Other(raw),
    };
    InboundEvent {
        channel_message_id: event.channel_message_id,
        channel_user_id: event.contact.channel_user_id,
        display_name: event.contact.display_name,
        locale: None,
        timestamp_ms: i64::try_from(event.timestamp_ms).unwrap_or(i64::MAX),
        kind,
    }
}

/// The plugin's answer to the channel server; invalid headers from the plugin are dropped.
fn plugin_response(response: wit::HttpResponse) -> Response {
    let status = StatusCode::from_u16(response.status).unwrap_or(StatusCode::OK);
    let mut headers = HeaderMap::new();
    for (name, value) in response.headers {
        if let (Ok(name), Ok(value)) = (HeaderName::try_from(name), HeaderValue::try_from(value)) {
            headers.append(name, value);
        }
    }
    (status, headers, response.body).into_response()
}
