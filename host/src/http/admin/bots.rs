//! `/v1/tenants/{tenant}/bots[/{bot}]`: a tenant's bots, created and replaced over HTTP.
//! A new bot gets a random widget secret (the shop signs its visitors' identities with
//! it) and its web widget channel, enabled. The secret is shown in the answer that
//! creates the bot and by `GET …/widget-secret`, nowhere else. Changes reach running
//! conversations within the 5 s the host caches a bot's settings.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::audit;
use super::caller::Caller;
use super::extract::{ApiJson, ApiPath};
use super::load_bot;
use super::masked;
use crate::auth::Permission;
use crate::conversation::model::{Bot, BotSettings, Channel, ChannelKind};
use crate::conversation::pipeline::now_ms;
use crate::http::{ApiError, AppState};
use crate::store::StoreError;

/// Bytes of a widget secret: 32, the size of the HMAC-SHA256 key it is.
const WIDGET_SECRET_BYTES: usize = 32;
/// Longest bot name, in characters (it is the widget's default title).
const MAX_NAME_CHARS: usize = 100;

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(get_one, replace))
        .routes(routes!(widget_secret))
}

/// A bot as the API shows it (without its widget secret).
#[derive(Debug, Serialize, ToSchema)]
struct BotBody {
    /// Globally unique id, the widget's `data-bot`.
    id: String,
    /// Display name, the widget's default title.
    name: String,
    /// Languages, texts, thresholds and plugins.
    settings: BotSettings,
    /// The id of its web widget channel.
    widget_channel_id: String,
    /// When created, ms since the Unix epoch.
    created_at_ms: i64,
}

impl From<Bot> for BotBody {
    fn from(bot: Bot) -> Self {
        Self {
            widget_channel_id: Channel::widget_id(&bot.id),
            id: bot.id,
            name: bot.name,
            settings: masked::mask_bot_settings(bot.settings),
            created_at_ms: bot.created_at_ms,
        }
    }
}

/// A tenant's bots.
#[derive(Debug, Serialize, ToSchema)]
struct BotList {
    /// By id.
    bots: Vec<BotBody>,
}

/// Answer with one bot.
#[derive(Debug, Serialize, ToSchema)]
struct BotAnswer {
    /// The bot.
    bot: BotBody,
}

/// Body of `POST …/bots`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct NewBot {
    /// Its id: 2 to 40 of `a-z`, `0-9`, `-`; unique on this host, never changed.
    id: String,
    /// Display name.
    name: String,
    /// Settings; every field has a default.
    #[serde(default)]
    settings: Option<BotSettings>,
}

/// Answer to `POST …/bots`.
#[derive(Debug, Serialize, ToSchema)]
struct BotCreated {
    /// The bot.
    bot: BotBody,
    /// Key for signed visitor identities (hex). Also at `GET …/bots/{bot}/widget-secret`.
    widget_secret: String,
}

/// Body of `PUT …/bots/{bot}`: the bot's whole new name and settings.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct BotReplacement {
    /// Display name.
    name: String,
    /// Settings (fields left out take their defaults).
    settings: BotSettings,
}

/// Answer of `GET …/bots/{bot}/widget-secret`.
#[derive(Debug, Serialize, ToSchema)]
struct WidgetSecret {
    /// Key for signed visitor identities: the shop's server signs its user id with
    /// HMAC-SHA256 under it.
    widget_secret: String,
}

/// The tenant's bots.
///
/// Errors: 403 `forbidden`.
#[utoipa::path(
    get,
    operation_id = "bots_list",
    path = "/v1/tenants/{tenant}/bots",
    tag = "bots",
    params(("tenant" = String, Path, description = "Tenant id")),
    responses((status = 200, description = "The bots", body = BotList))
)]
async fn list(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(tenant): ApiPath<String>,
) -> Result<Json<BotList>, ApiError> {
    let access = caller
        .require(&state, &tenant, Permission::TenantRead)
        .await?;
    let bots = state
        .store
        .bots_of_tenant(&access.tenant_id)
        .await?
        .into_iter()
        .map(BotBody::from)
        .collect();
    Ok(Json(BotList { bots }))
}

/// Creates a bot with its widget channel (enabled). The answer holds the widget secret.
///
/// Errors: 400 `invalid_bot_id`, `invalid_name`, `invalid_settings`; 403 `forbidden`;
/// 409 `bot_exists` (the id is taken on this host, by this tenant or another).
#[utoipa::path(
    post,
    operation_id = "bots_create",
    path = "/v1/tenants/{tenant}/bots",
    tag = "bots",
    params(("tenant" = String, Path, description = "Tenant id")),
    request_body = NewBot,
    responses((status = 201, description = "Created", body = BotCreated))
)]
async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(tenant): ApiPath<String>,
    body: Result<ApiJson<NewBot>, ApiError>,
) -> Result<(StatusCode, Json<BotCreated>), ApiError> {
    let access = caller
        .require(&state, &tenant, Permission::BotsWrite)
        .await?;
    let ApiJson(body) = body?;
    check_bot_id(&body.id)?;
    let name = checked_name(&body.name)?;
    let mut settings = body.settings.unwrap_or_default();
    masked::keep_bot_secrets(&mut settings, None)?;
    check_settings(&settings)?;
    let bot_exists = || {
        // Whose it is stays unsaid: bot ids are global, tenants are not to learn of others.
        ApiError::new(
            StatusCode::CONFLICT,
            "bot_exists",
            format!("the bot id '{}' is taken; choose another", body.id),
        )
    };
    let widget_id = Channel::widget_id(&body.id);
    if state.store.bot(&body.id).await?.is_some()
        || state.store.channel(&widget_id).await?.is_some()
    {
        return Err(bot_exists());
    }
    let now = now_ms();
    let bot = Bot {
        id: body.id.clone(),
        tenant_id: access.tenant_id.clone(),
        name,
        settings,
        widget_secret: new_widget_secret()?,
        created_at_ms: now,
    };
    state
        .store
        .put_bot(&bot)
        .await
        .map_err(|error| match error {
            StoreError::Conflict(_) => bot_exists(),
            error => error.into(),
        })?;
    let widget = Channel {
        id: widget_id,
        tenant_id: access.tenant_id.clone(),
        bot_id: bot.id.clone(),
        kind: ChannelKind::Widget,
        secrets: Default::default(),
        enabled: true,
        created_at_ms: now,
    };
    if let Err(error) = state.store.put_channel(&widget).await {
        // The bot stands; its widget channel can be created with POST …/channels.
        tracing::error!(bot = %bot.id, %error, "bot created, but its widget channel was not");
        return Err(match error {
            StoreError::Conflict(_) => bot_exists(),
            error => error.into(),
        });
    }
    tracing::info!(tenant = %access.tenant_id, bot = %bot.id, "bot created");
    audit::by(
        &state,
        &caller,
        &access.tenant_id,
        "bot.created",
        Some(format!("bot:{}", bot.id)),
        json!({"name": bot.name}),
    )
    .await;
    let widget_secret = bot.widget_secret.clone();
    Ok((
        StatusCode::CREATED,
        Json(BotCreated {
            bot: BotBody::from(bot),
            widget_secret,
        }),
    ))
}

/// One bot.
///
/// Errors: 403 `forbidden`; 404 `bot_not_found` (also for another tenant's bot).
#[utoipa::path(
    get,
    operation_id = "bots_get_one",
    path = "/v1/tenants/{tenant}/bots/{bot}",
    tag = "bots",
    params(
        ("tenant" = String, Path, description = "Tenant id"),
        ("bot" = String, Path, description = "Bot id")
    ),
    responses((status = 200, description = "The bot", body = BotAnswer))
)]
async fn get_one(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((tenant, bot_id)): ApiPath<(String, String)>,
) -> Result<Json<BotAnswer>, ApiError> {
    let access = caller
        .require(&state, &tenant, Permission::TenantRead)
        .await?;
    let bot = load_bot(&state, &access, &bot_id).await?;
    Ok(Json(BotAnswer {
        bot: BotBody::from(bot),
    }))
}

/// Replaces a bot's name and settings (its id, widget secret and channels stay).
///
/// Errors: 400 `invalid_name`, `invalid_settings`; 403 `forbidden`; 404 `bot_not_found`.
#[utoipa::path(
    put,
    operation_id = "bots_replace",
    path = "/v1/tenants/{tenant}/bots/{bot}",
    tag = "bots",
    params(
        ("tenant" = String, Path, description = "Tenant id"),
        ("bot" = String, Path, description = "Bot id")
    ),
    request_body = BotReplacement,
    responses((status = 200, description = "The bot as stored", body = BotAnswer))
)]
async fn replace(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((tenant, bot_id)): ApiPath<(String, String)>,
    body: Result<ApiJson<BotReplacement>, ApiError>,
) -> Result<Json<BotAnswer>, ApiError> {
    let access = caller
        .require(&state, &tenant, Permission::BotsWrite)
        .await?;
    let ApiJson(body) = body?;
    let old = load_bot(&state, &access, &bot_id).await?;
    let name = checked_name(&body.name)?;
    let mut settings = body.settings;
    masked::keep_bot_secrets(&mut settings, Some(&old.settings))?;
    check_settings(&settings)?;
    let bot = Bot {
        name,
        settings,
        ..old.clone()
    };
    let changed = changed_fields(&old, &bot);
    if !changed.is_empty() {
        state.store.put_bot(&bot).await?;
        // The next turn reads the new settings (and rebuilds the FAQ index).
        state.turns.forget_bot(&bot.id);
        tracing::info!(tenant = %access.tenant_id, bot = %bot.id, ?changed, "bot updated");
        audit::by(
            &state,
            &caller,
            &access.tenant_id,
            "bot.updated",
            Some(format!("bot:{}", bot.id)),
            json!({ "changed": changed }),
        )
        .await;
    }
    Ok(Json(BotAnswer {
        bot: BotBody::from(bot),
    }))
}

/// A bot's widget secret, for the shop's server to sign visitor identities.
///
/// Errors: 403 `forbidden` (needs `bots_write`: readers do not see secrets);
/// 404 `bot_not_found`.
#[utoipa::path(
    get,
    operation_id = "bots_widget_secret",
    path = "/v1/tenants/{tenant}/bots/{bot}/widget-secret",
    tag = "bots",
    params(
        ("tenant" = String, Path, description = "Tenant id"),
        ("bot" = String, Path, description = "Bot id")
    ),
    responses((status = 200, description = "The secret", body = WidgetSecret))
)]
async fn widget_secret(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((tenant, bot_id)): ApiPath<(String, String)>,
) -> Result<Json<WidgetSecret>, ApiError> {
    let access = caller
        .require(&state, &tenant, Permission::BotsWrite)
        .await?;
    let bot = load_bot(&state, &access, &bot_id).await?;
    Ok(Json(WidgetSecret {
        widget_secret: bot.widget_secret,
    }))
}

/// 400 `invalid_bot_id` unless the id is 2 to 40 of `a-z`, `0-9` and `-`.
fn check_bot_id(id: &str) -> Result<(), ApiError> {
    let valid = (2..=40).contains(&id.len())
        && id
            .bytes()
            .all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'-');
    if valid {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_bot_id",
            format!("bot id '{id}' must be 2 to 40 characters of a-z, 0-9 and '-'"),
        ))
    }
}

/// The trimmed name, or 400 `invalid_name`.
fn checked_name(name: &str) -> Result<String, ApiError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_name",
            format!("a bot's name must be 1 to {MAX_NAME_CHARS} characters"),
        ));
    }
    Ok(name.to_owned())
}

/// 400 `invalid_settings` for settings the bot could not run with.
fn check_settings(settings: &BotSettings) -> Result<(), ApiError> {
    let invalid = |message: String| {
        Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_settings",
            message,
        ))
    };
    if settings.languages.is_empty() {
        return invalid(
            "languages must name at least one language (the first is the default)".into(),
        );
    }
    if let Some(language) = settings.languages.iter().find(|language| {
        !(2..=16).contains(&language.len())
            || !language
                .bytes()
                .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-')
    }) {
        return invalid(format!(
            "'{language}' is not a language code (like 'vi' or 'en')"
        ));
    }
    let thresholds = [
        ("faq", settings.thresholds.faq),
        ("faq_margin", settings.thresholds.faq_margin),
        ("knowledge", settings.thresholds.knowledge),
    ];
    if let Some((name, value)) = thresholds
        .iter()
        .find(|(_, value)| !(0.0..=1.0).contains(value))
    {
        return invalid(format!(
            "thresholds.{name} is {value}; it must be between 0 and 1"
        ));
    }
    if let Some(problem) = settings.llm.as_ref().and_then(|llm| llm.problem()) {
        return invalid(problem);
    }
    if let Some(plugin) = settings
        .plugins
        .iter()
        .find(|plugin| plugin.name.trim().is_empty())
    {
        return invalid(format!("a plugin entry has no name: {plugin:?}"));
    }
    Ok(())
}

/// The top-level fields a replacement changed (`name`, `settings.thresholds` …), for the
/// audit log.
fn changed_fields(old: &Bot, new: &Bot) -> Vec<String> {
    let mut changed = Vec::new();
    if old.name != new.name {
        changed.push("name".to_owned());
    }
    let as_object = |settings: &BotSettings| match serde_json::to_value(settings) {
        Ok(serde_json::Value::Object(fields)) => fields,
        _ => serde_json::Map::new(),
    };
    let (before, after) = (as_object(&old.settings), as_object(&new.settings));
    for (field, value) in &after {
        if before.get(field) != Some(value) {
            changed.push(format!("settings.{field}"));
        }
    }
    changed
}

/// 32 random bytes as hex.
fn new_widget_secret() -> Result<String, ApiError> {
    let mut bytes = [0u8; WIDGET_SECRET_BYTES];
    crate::auth::master_key::fill_random(&mut bytes).map_err(|error| {
        tracing::error!(%error, "no random bytes for a widget secret");
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "random_unavailable",
            "the server cannot generate a secret right now; try again",
        )
    })?;
    Ok(hex::encode(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bot_ids_are_short_lowercase_and_url_safe() {
        for good in ["may", "ab", "shop-2", &"a".repeat(40)] {
            assert!(check_bot_id(good).is_ok(), "{good}");
        }
        for bad in [
            "a",
            "May",
            "shop_2",
            "shop 2",
            "ả",
            "../x",
            &"a".repeat(41),
            "",
        ] {
            assert_eq!(
                check_bot_id(bad).expect_err(bad).code,
                "invalid_bot_id",
                "{bad}"
            );
        }
    }

    #[test]
    fn settings_out_of_range_are_refused_with_the_field() {
        assert!(check_settings(&BotSettings::default()).is_ok());
        let mut settings = BotSettings::default();
        settings.thresholds.faq = 1.5;
        let error = check_settings(&settings).expect_err("out of range");
        assert_eq!(error.code, "invalid_settings");
        assert!(
            error.message.contains("thresholds.faq"),
            "{}",
            error.message
        );
        let mut settings = BotSettings::default();
        settings.thresholds.knowledge = f32::NAN;
        assert!(check_settings(&settings).is_err(), "NaN is no threshold");
        let settings = BotSettings {
            languages: Vec::new(),
            ..BotSettings::default()
        };
        assert!(check_settings(&settings).is_err());
    }

    #[test]
    fn a_replacement_names_the_fields_it_changed() {
        let old = Bot {
            id: "may".into(),
            tenant_id: "may".into(),
            name: "Mây".into(),
            settings: BotSettings::default(),
            widget_secret: "s".into(),
            created_at_ms: 0,
        };
        assert!(changed_fields(&old, &old).is_empty());
        let mut new = old.clone();
        new.name = "Mây shop".into();
        new.settings.thresholds.faq = 0.7;
        assert_eq!(changed_fields(&old, &new), ["name", "settings.thresholds"]);
    }

    #[test]
    fn widget_secrets_are_64_hex_characters_and_differ() {
        let first = new_widget_secret().expect("random");
        assert_eq!(first.len(), 64);
        assert!(first.bytes().all(|byte| byte.is_ascii_hexdigit()));
        assert_ne!(first, new_widget_secret().expect("random"));
    }
}
