//! `/v1/tenants/{tenant}/channels[/{channel}]`: the channels a tenant's bots talk on (the
//! web widget, or a channel plugin such as `zalo-oa`), each with the webhook URL to give
//! the provider. Channel secrets (tokens, app secrets) are write-only: answers show their
//! keys with the value `"********"`. Changes reach the pipeline within the 5 s the host
//! caches a channel.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::audit;
use super::caller::{Access, Caller};
use super::extract::{ApiJson, ApiPath};
use super::{load_bot, masked};
use crate::auth::Permission;
use crate::conversation::model::{Channel, ChannelKind};
use crate::conversation::pipeline::now_ms;
use crate::http::{ApiError, AppState};
use crate::plugins::{PluginKind, PluginLoadError};
use crate::store::StoreError;

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(get_one, update, delete))
}

/// A channel as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
struct ChannelBody {
    /// Globally unique id.
    id: String,
    /// The bot answering on it.
    bot_id: String,
    /// Widget or plugin.
    kind: ChannelKind,
    /// Its credentials' keys; every value shows as `"********"`.
    secrets: BTreeMap<String, String>,
    /// Whether it accepts and sends messages.
    enabled: bool,
    /// Where the provider (Zalo, Messenger, Telegram) sends events: absolute when the
    /// request named its host, else a path. `null` for the widget, which uses its socket.
    webhook_url: Option<String>,
    /// When created, ms since the Unix epoch.
    created_at_ms: i64,
}

impl ChannelBody {
    fn new(channel: Channel, headers: &HeaderMap) -> Self {
        let webhook_url = match channel.kind {
            ChannelKind::Widget => None,
            ChannelKind::Plugin { .. } => Some(webhook_url(headers, &channel.id)),
        };
        Self {
            secrets: masked::mask(&channel.secrets, |_| true),
            id: channel.id,
            bot_id: channel.bot_id,
            kind: channel.kind,
            enabled: channel.enabled,
            webhook_url,
            created_at_ms: channel.created_at_ms,
        }
    }
}

/// A tenant's channels.
#[derive(Debug, Serialize, ToSchema)]
struct ChannelList {
    /// By id.
    channels: Vec<ChannelBody>,
}

/// Answer with one channel.
#[derive(Debug, Serialize, ToSchema)]
struct ChannelAnswer {
    /// The channel.
    channel: ChannelBody,
}

/// Body of `POST …/channels`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct NewChannel {
    /// Its id, 2 to 64 of `a-z`, `0-9`, `-`; unique on this host. Webhooks arrive at
    /// `/v1/hooks/{id}`.
    id: String,
    /// The tenant's bot that answers on it.
    bot_id: String,
    /// `{"type": "plugin", "plugin": "zalo-oa"}`; `{"type": "widget"}` only to recreate a
    /// bot's widget channel (`widget-{bot}`).
    kind: ChannelKind,
    /// Credentials handed to the channel plugin as config.
    #[serde(default)]
    secrets: BTreeMap<String, String>,
    /// Default true.
    #[serde(default)]
    enabled: Option<bool>,
}

/// Body of `PATCH …/channels/{channel}`: only what changes.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct ChannelChange {
    /// Turn the channel on or off.
    #[serde(default)]
    enabled: Option<bool>,
    /// Secrets to change: a value sets the key, `"********"` keeps the stored value,
    /// `null` removes the key; keys not named stay.
    #[serde(default)]
    secrets: Option<BTreeMap<String, Option<String>>>,
}

/// The tenant's channels.
///
/// Errors: 403 `forbidden`.
#[utoipa::path(
    get,
    operation_id = "channels_list",
    path = "/v1/tenants/{tenant}/channels",
    tag = "channels",
    params(("tenant" = String, Path, description = "Tenant id")),
    responses((status = 200, description = "The channels, secrets masked", body = ChannelList))
)]
async fn list(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    ApiPath(tenant): ApiPath<String>,
) -> Result<Json<ChannelList>, ApiError> {
    let access = caller
        .require(&state, &tenant, Permission::TenantRead)
        .await?;
    let channels = state
        .store
        .channels_of_tenant(&access.tenant_id)
        .await?
        .into_iter()
        .map(|channel| ChannelBody::new(channel, &headers))
        .collect();
    Ok(Json(ChannelList { channels }))
}

/// Creates a channel for one of the tenant's bots.
///
/// Errors: 400 `invalid_channel_id`, `invalid_channel_kind`, `plugin_not_installed`,
/// `not_a_channel_plugin`, `invalid_secrets`; 403 `forbidden`; 404 `bot_not_found`;
/// 409 `channel_exists` (the id is taken on this host).
#[utoipa::path(
    post,
    operation_id = "channels_create",
    path = "/v1/tenants/{tenant}/channels",
    tag = "channels",
    params(("tenant" = String, Path, description = "Tenant id")),
    request_body = NewChannel,
    responses((status = 201, description = "Created", body = ChannelAnswer))
)]
async fn create(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    ApiPath(tenant): ApiPath<String>,
    body: Result<ApiJson<NewChannel>, ApiError>,
) -> Result<(StatusCode, Json<ChannelAnswer>), ApiError> {
    let access = caller
        .require(&state, &tenant, Permission::BotsWrite)
        .await?;
    let ApiJson(body) = body?;
    check_channel_id(&body.id)?;
    let bot = load_bot(&state, &access, &body.bot_id).await?;
    match &body.kind {
        ChannelKind::Widget if body.id != Channel::widget_id(&bot.id) => {
            return Err(bad_request(
                "invalid_channel_kind",
                format!(
                    "a bot has one widget channel, '{}', made with the bot; other channels are plugins",
                    Channel::widget_id(&bot.id)
                ),
            ));
        }
        ChannelKind::Widget => {}
        ChannelKind::Plugin { plugin } => check_channel_plugin(&state, plugin)?,
    }
    check_secret_keys(body.secrets.keys())?;
    // Nothing is stored yet, so a masked value has nothing to keep: refused.
    let (secrets, _) = masked::replace(&BTreeMap::new(), &body.secrets)?;
    let exists = || {
        ApiError::new(
            StatusCode::CONFLICT,
            "channel_exists",
            format!("the channel id '{}' is taken; choose another", body.id),
        )
    };
    if state.store.channel(&body.id).await?.is_some() {
        return Err(exists());
    }
    let channel = Channel {
        id: body.id.clone(),
        tenant_id: access.tenant_id.clone(),
        bot_id: bot.id.clone(),
        kind: body.kind,
        secrets,
        enabled: body.enabled.unwrap_or(true),
        created_at_ms: now_ms(),
    };
    state
        .store
        .put_channel(&channel)
        .await
        .map_err(|error| match error {
            StoreError::Conflict(_) => exists(),
            error => error.into(),
        })?;
    tracing::info!(tenant = %access.tenant_id, channel = %channel.id, bot = %bot.id, "channel created");
    audit::by(
        &state,
        &caller,
        &access.tenant_id,
        "channel.created",
        Some(format!("channel:{}", channel.id)),
        json!({
            "bot_id": channel.bot_id,
            "kind": channel.kind,
            "enabled": channel.enabled,
            "secret_keys": channel.secrets.keys().collect::<Vec<_>>(),
        }),
    )
    .await;
    Ok((
        StatusCode::CREATED,
        Json(ChannelAnswer {
            channel: ChannelBody::new(channel, &headers),
        }),
    ))
}

/// One channel.
///
/// Errors: 403 `forbidden`; 404 `channel_not_found` (also for another tenant's channel).
#[utoipa::path(
    get,
    operation_id = "channels_get_one",
    path = "/v1/tenants/{tenant}/channels/{channel}",
    tag = "channels",
    params(
        ("tenant" = String, Path, description = "Tenant id"),
        ("channel" = String, Path, description = "Channel id")
    ),
    responses((status = 200, description = "The channel, secrets masked", body = ChannelAnswer))
)]
async fn get_one(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    ApiPath((tenant, channel_id)): ApiPath<(String, String)>,
) -> Result<Json<ChannelAnswer>, ApiError> {
    let access = caller
        .require(&state, &tenant, Permission::TenantRead)
        .await?;
    let channel = load_channel(&state, &access, &channel_id).await?;
    Ok(Json(ChannelAnswer {
        channel: ChannelBody::new(channel, &headers),
    }))
}

/// Turns a channel on or off and changes its secrets.
///
/// Errors: 400 `invalid_secrets`, `masked_value_without_stored_value`; 403 `forbidden`;
/// 404 `channel_not_found`.
#[utoipa::path(
    patch,
    operation_id = "channels_update",
    path = "/v1/tenants/{tenant}/channels/{channel}",
    tag = "channels",
    params(
        ("tenant" = String, Path, description = "Tenant id"),
        ("channel" = String, Path, description = "Channel id")
    ),
    request_body = ChannelChange,
    responses((status = 200, description = "The channel as stored, secrets masked", body = ChannelAnswer))
)]
async fn update(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    ApiPath((tenant, channel_id)): ApiPath<(String, String)>,
    body: Result<ApiJson<ChannelChange>, ApiError>,
) -> Result<Json<ChannelAnswer>, ApiError> {
    let access = caller
        .require(&state, &tenant, Permission::BotsWrite)
        .await?;
    let ApiJson(body) = body?;
    let old = load_channel(&state, &access, &channel_id).await?;
    let changes = body.secrets.unwrap_or_default();
    check_secret_keys(changes.keys())?;
    let (secrets, changed_keys) = masked::patch(&old.secrets, &changes)?;
    let enabled = body.enabled.unwrap_or(old.enabled);
    let channel = Channel {
        secrets,
        enabled,
        ..old.clone()
    };
    if enabled != old.enabled || !changed_keys.is_empty() {
        state.store.put_channel(&channel).await?;
        state.channels.forget(&channel.id);
        tracing::info!(tenant = %access.tenant_id, channel = %channel.id, enabled, secrets_changed = changed_keys.set.len() + changed_keys.removed.len(), "channel updated");
        let mut detail = json!({
            "secrets_set": changed_keys.set,
            "secrets_removed": changed_keys.removed,
        });
        if enabled != old.enabled {
            detail["enabled"] = json!({"from": old.enabled, "to": enabled});
        }
        audit::by(
            &state,
            &caller,
            &access.tenant_id,
            "channel.updated",
            Some(format!("channel:{}", channel.id)),
            detail,
        )
        .await;
    }
    Ok(Json(ChannelAnswer {
        channel: ChannelBody::new(channel, &headers),
    }))
}

/// Deletes a channel nobody has written on yet.
///
/// Errors: 403 `forbidden`; 404 `channel_not_found`; 409 `channel_has_contacts` (its
/// conversations keep it: disable it with PATCH `{"enabled": false}` instead).
#[utoipa::path(
    delete,
    operation_id = "channels_delete",
    path = "/v1/tenants/{tenant}/channels/{channel}",
    tag = "channels",
    params(
        ("tenant" = String, Path, description = "Tenant id"),
        ("channel" = String, Path, description = "Channel id")
    ),
    responses((status = 204, description = "Deleted"))
)]
async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((tenant, channel_id)): ApiPath<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let access = caller
        .require(&state, &tenant, Permission::BotsWrite)
        .await?;
    let deleted = match state
        .store
        .delete_channel(&access.tenant_id, &channel_id)
        .await
    {
        Ok(deleted) => deleted,
        Err(StoreError::Conflict(_)) => {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "channel_has_contacts",
                format!(
                    "channel '{channel_id}' has conversations and cannot be deleted; disable it with PATCH {{\"enabled\": false}}"
                ),
            ));
        }
        Err(error) => return Err(error.into()),
    };
    if !deleted {
        return Err(channel_not_found(&access.tenant_id, &channel_id));
    }
    state.channels.forget(&channel_id);
    tracing::info!(tenant = %access.tenant_id, channel = %channel_id, "channel deleted");
    audit::by(
        &state,
        &caller,
        &access.tenant_id,
        "channel.deleted",
        Some(format!("channel:{channel_id}")),
        json!({}),
    )
    .await;
    Ok(StatusCode::NO_CONTENT)
}

/// The channel if it is the tenant's; 404 `channel_not_found` otherwise.
async fn load_channel(
    state: &AppState,
    access: &Access,
    channel_id: &str,
) -> Result<Channel, ApiError> {
    state
        .store
        .channel(channel_id)
        .await?
        .filter(|channel| channel.tenant_id == access.tenant_id)
        .ok_or_else(|| channel_not_found(&access.tenant_id, channel_id))
}

fn channel_not_found(tenant_id: &str, channel_id: &str) -> ApiError {
    ApiError::not_found(
        "channel_not_found",
        format!("tenant '{tenant_id}' has no channel '{channel_id}'"),
    )
}

fn bad_request(code: &'static str, message: String) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, code, message)
}

/// 400 `invalid_channel_id` unless the id is 2 to 64 of `a-z`, `0-9` and `-`.
fn check_channel_id(id: &str) -> Result<(), ApiError> {
    let valid = (2..=64).contains(&id.len())
        && id
            .bytes()
            .all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'-');
    if valid {
        Ok(())
    } else {
        Err(bad_request(
            "invalid_channel_id",
            format!("channel id '{id}' must be 2 to 64 characters of a-z, 0-9 and '-'"),
        ))
    }
}

/// 400 `invalid_secrets` for an empty or oversized key name.
fn check_secret_keys<'a>(mut keys: impl Iterator<Item = &'a String>) -> Result<(), ApiError> {
    match keys.find(|key| key.trim().is_empty() || key.len() > 128) {
        Some(key) => Err(bad_request(
            "invalid_secrets",
            format!("secret key '{key}' must be 1 to 128 bytes and not blank"),
        )),
        None => Ok(()),
    }
}

/// With plugins on, the plugin must be installed and be a channel adapter.
fn check_channel_plugin(state: &AppState, plugin: &str) -> Result<(), ApiError> {
    let Some(registry) = &state.plugins else {
        // Plugins are off on this host: nothing to check against (the channel will not
        // run until they are on and the plugin is installed).
        return Ok(());
    };
    let manifest = registry
        .manifest(plugin, None)
        .map_err(|error| match error {
            PluginLoadError::NotInstalled { .. } => bad_request(
                "plugin_not_installed",
                format!("no plugin '{plugin}' is installed on this host (loa plugin install)"),
            ),
            error => {
                tracing::warn!(plugin, %error, "installed plugin's manifest is unreadable");
                bad_request(
                    "plugin_not_installed",
                    format!("plugin '{plugin}' is not installed properly: {error}"),
                )
            }
        })?;
    if manifest.plugin.kind != PluginKind::Channel {
        return Err(bad_request(
            "not_a_channel_plugin",
            format!(
                "plugin '{plugin}' is a {} plugin, not a channel adapter",
                manifest.plugin.kind
            ),
        ));
    }
    Ok(())
}

/// `/v1/hooks/{id}`, made absolute with the request's `Host` (and `X-Forwarded-Proto`
/// behind a TLS proxy) when it has a plausible one.
fn webhook_url(headers: &HeaderMap, channel_id: &str) -> String {
    let path = format!("/v1/hooks/{}", percent_encode(channel_id));
    let host = headers
        .get(header::HOST)
        .and_then(|value| value.to_str().ok())
        .filter(|host| {
            !host.is_empty()
                && host.len() <= 255
                && host
                    .bytes()
                    .all(|byte| byte.is_ascii_alphanumeric() || b".-:[]".contains(&byte))
        });
    let Some(host) = host else {
        return path;
    };
    let scheme = headers
        .get("x-forwarded-proto")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(',').next())
        .map(str::trim)
        .filter(|scheme| *scheme == "https" || *scheme == "http")
        .unwrap_or("http");
    format!("{scheme}://{host}{path}")
}

/// A path segment: bytes outside RFC 3986's unreserved set as `%XX` (ids made through
/// this API need none; older ones might).
fn percent_encode(segment: &str) -> String {
    let mut encoded = String::with_capacity(segment.len());
    for byte in segment.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;
    use crate::auth::MASKED;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.insert(*name, HeaderValue::from_str(value).expect("valid header"));
        }
        headers
    }

    #[test]
    fn the_webhook_url_is_absolute_with_a_host_and_a_path_without() {
        assert_eq!(
            webhook_url(&headers(&[("host", "bot.may.vn")]), "zalo-may"),
            "http://bot.may.vn/v1/hooks/zalo-may"
        );
        assert_eq!(
            webhook_url(
                &headers(&[("host", "127.0.0.1:8080"), ("x-forwarded-proto", "https")]),
                "zalo-may"
            ),
            "https://127.0.0.1:8080/v1/hooks/zalo-may"
        );
        assert_eq!(
            webhook_url(&HeaderMap::new(), "zalo-may"),
            "/v1/hooks/zalo-may"
        );
    }

    #[test]
    fn a_strange_host_or_scheme_is_not_echoed() {
        assert_eq!(
            webhook_url(&headers(&[("host", "evil.com/x?")]), "c1"),
            "/v1/hooks/c1"
        );
        assert_eq!(
            webhook_url(
                &headers(&[("host", "may.vn"), ("x-forwarded-proto", "javascript")]),
                "c1"
            ),
            "http://may.vn/v1/hooks/c1"
        );
        assert_eq!(percent_encode("a b/ư"), "a%20b%2F%C6%B0");
    }

    #[test]
    fn answers_mask_every_secret_and_widgets_have_no_webhook() {
        let channel = Channel {
            id: "zalo-may".into(),
            tenant_id: "may".into(),
            bot_id: "may".into(),
            kind: ChannelKind::Plugin {
                plugin: "zalo-oa".into(),
            },
            secrets: BTreeMap::from([("oa_secret".to_owned(), "s3cr3t".to_owned())]),
            enabled: true,
            created_at_ms: 0,
        };
        let body = ChannelBody::new(channel.clone(), &HeaderMap::new());
        assert_eq!(body.secrets["oa_secret"], MASKED);
        let json = serde_json::to_string(&body).expect("serializes");
        assert!(!json.contains("s3cr3t"), "{json}");
        let widget = Channel {
            kind: ChannelKind::Widget,
            ..channel
        };
        assert_eq!(
            ChannelBody::new(widget, &HeaderMap::new()).webhook_url,
            None
        );
    }

    #[test]
    fn channel_ids_and_secret_keys_are_checked() {
        assert!(check_channel_id("zalo-may-1").is_ok());
        for bad in ["z", "Zalo", "zalo_may", "zalo/may", ""] {
            assert_eq!(
                check_channel_id(bad).expect_err(bad).code,
                "invalid_channel_id"
            );
        }
        let keys = ["token".to_owned(), " ".to_owned()];
        assert_eq!(
            check_secret_keys(keys.iter()).expect_err("blank").code,
            "invalid_secrets"
        );
    }
}
