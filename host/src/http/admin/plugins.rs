//! Plugins over the admin API: `GET /v1/plugins` (what this host has installed), and per
//! tenant `GET /v1/tenants/{tenant}/plugins` (its settings), `PUT …/plugins/{name}` (turn
//! on or off, pin a version, config, HTTP grants) and `DELETE …/plugins/{name}/breaker`
//! (switch a plugin the circuit breaker turned off back on). Config values of keys the
//! plugin's manifest marks secret are write-only: answers show `"********"`.

use std::collections::{BTreeMap, BTreeSet};

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
use super::masked;
use crate::auth::Permission;
use crate::http::{ApiError, AppState};
use crate::plugins::registry::PluginRegistry;
use crate::plugins::{Manifest, PluginLoadError};
use crate::store::{InstalledPlugin, TenantPluginSettings};

/// Longest host name (RFC 1035), the bound of one HTTP grant.
const MAX_HOST_LEN: usize = 253;

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(installed))
        .routes(routes!(list))
        .routes(routes!(configure))
        .routes(routes!(reset_breaker))
}

/// One installed plugin version.
#[derive(Debug, Serialize, ToSchema)]
struct InstalledBody {
    /// Plugin name.
    name: String,
    /// Version.
    version: String,
    /// `tool`, `middleware` or `channel`.
    kind: String,
    /// From its manifest.
    description: String,
    /// When installed, ms since the Unix epoch.
    installed_at_ms: i64,
}

impl From<InstalledPlugin> for InstalledBody {
    fn from(plugin: InstalledPlugin) -> Self {
        Self {
            name: plugin.name,
            version: plugin.version.to_string(),
            kind: plugin.kind,
            description: plugin.description,
            installed_at_ms: plugin.installed_at_ms,
        }
    }
}

/// The host's installed plugins.
#[derive(Debug, Serialize, ToSchema)]
struct InstalledList {
    /// By name, then version.
    plugins: Vec<InstalledBody>,
}

/// Why the breaker switched a plugin off for the tenant.
#[derive(Debug, Serialize, ToSchema)]
struct BreakerBody {
    /// The last failure.
    reason: String,
    /// Failures in a row that tripped it.
    failures: u32,
    /// When, ms since the Unix epoch.
    opened_at_ms: i64,
}

/// A tenant's settings for one plugin.
#[derive(Debug, Serialize, ToSchema)]
struct TenantPluginBody {
    /// Plugin name.
    plugin: String,
    /// Whether the tenant turned it on.
    enabled: bool,
    /// The version the tenant runs; `null`: the newest installed.
    pinned_version: Option<String>,
    /// Config; values of secret keys (and of keys the manifest does not know) show as
    /// `"********"`.
    config: BTreeMap<String, String>,
    /// Hosts the tenant lets the plugin call (on top of what its manifest declares).
    http_grants: Vec<String>,
    /// Set while the circuit breaker has the plugin switched off for this tenant.
    breaker: Option<BreakerBody>,
}

/// A tenant's plugins.
#[derive(Debug, Serialize, ToSchema)]
struct TenantPluginList {
    /// By plugin name.
    plugins: Vec<TenantPluginBody>,
}

/// Body of `PUT …/plugins/{name}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct PluginSettingsBody {
    /// Turn the plugin on or off for the tenant.
    enabled: bool,
    /// An installed version to run; `null` or left out: the newest installed.
    #[serde(default)]
    pinned_version: Option<String>,
    /// The whole config (keys from the plugin's manifest); `"********"` keeps a stored
    /// value. Left out: the stored config stays.
    #[serde(default)]
    config: Option<BTreeMap<String, String>>,
    /// Hosts the plugin may call (`api.zalo.me`, `*.zalo.me`, `*`). Left out: the stored
    /// grants stay.
    #[serde(default)]
    http_grants: Option<Vec<String>>,
}

/// Installed plugins (any authenticated caller).
///
/// Errors: 401 only.
#[utoipa::path(
    get,
    operation_id = "plugins_installed",
    path = "/v1/plugins",
    tag = "plugins",
    responses((status = 200, description = "Installed plugin versions", body = InstalledList))
)]
async fn installed(
    State(state): State<AppState>,
    _caller: Caller,
) -> Result<Json<InstalledList>, ApiError> {
    let plugins = state
        .store
        .installed_plugins()
        .await?
        .into_iter()
        .map(InstalledBody::from)
        .collect();
    Ok(Json(InstalledList { plugins }))
}

/// The tenant's plugin settings, secrets masked.
///
/// Errors: 403 `forbidden`.
#[utoipa::path(
    get,
    operation_id = "plugins_list",
    path = "/v1/tenants/{tenant}/plugins",
    tag = "plugins",
    params(("tenant" = String, Path, description = "Tenant id")),
    responses((status = 200, description = "The tenant's plugins", body = TenantPluginList))
)]
async fn list(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(tenant): ApiPath<String>,
) -> Result<Json<TenantPluginList>, ApiError> {
    let access = caller
        .require(&state, &tenant, Permission::TenantRead)
        .await?;
    let plugins = state
        .store
        .tenant_plugins(&access.tenant_id)
        .await?
        .into_iter()
        .map(|settings| {
            let manifest = state.plugins.as_deref().and_then(|registry| {
                registry
                    .manifest(&settings.plugin, settings.pinned_version.as_ref())
                    .ok()
            });
            shown(settings, manifest.as_ref())
        })
        .collect();
    Ok(Json(TenantPluginList { plugins }))
}

/// Sets the tenant's settings for an installed plugin.
///
/// Errors: 400 `invalid_version`, `version_not_installed`, `unknown_config_keys` (the
/// message names them and the known ones), `masked_value_without_stored_value`,
/// `invalid_grant`; 403 `forbidden`; 404 `plugin_not_installed`; 503
/// `plugins_unavailable` (plugins are off on this host).
#[utoipa::path(
    put,
    operation_id = "plugins_configure",
    path = "/v1/tenants/{tenant}/plugins/{name}",
    tag = "plugins",
    params(
        ("tenant" = String, Path, description = "Tenant id"),
        ("name" = String, Path, description = "Plugin name")
    ),
    request_body = PluginSettingsBody,
    responses((status = 200, description = "The settings as stored, secrets masked", body = TenantPluginBody))
)]
async fn configure(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((tenant, name)): ApiPath<(String, String)>,
    body: Result<ApiJson<PluginSettingsBody>, ApiError>,
) -> Result<Json<TenantPluginBody>, ApiError> {
    let access = caller
        .require(&state, &tenant, Permission::PluginsWrite)
        .await?;
    let ApiJson(body) = body?;
    let Some(registry) = state.plugins.as_deref() else {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "plugins_unavailable",
            "plugins are off on this host, so there is nothing to configure",
        ));
    };
    let pinned_version = checked_version(registry, &name, body.pinned_version.as_deref())?;
    let manifest = registry
        .manifest(&name, pinned_version.as_ref())
        .map_err(|error| unreadable(&name, error))?;
    let stored = state
        .store
        .tenant_plugin(&access.tenant_id, &name)
        .await?
        .unwrap_or_else(|| TenantPluginSettings {
            tenant_id: access.tenant_id.clone(),
            plugin: name.clone(),
            ..TenantPluginSettings::default()
        });
    let (config, config_changes) = match &body.config {
        Some(sent) => {
            check_config_keys(&manifest, sent.keys())?;
            masked::replace(&stored.config, sent)?
        }
        None => (stored.config.clone(), masked::KeyChanges::default()),
    };
    let http_grants = match &body.http_grants {
        Some(grants) => checked_grants(grants)?,
        None => stored.http_grants.clone(),
    };
    let settings = TenantPluginSettings {
        tenant_id: access.tenant_id.clone(),
        plugin: name.clone(),
        pinned_version,
        enabled: body.enabled,
        config,
        http_grants,
        breaker: stored.breaker.clone(),
    };
    state.store.put_tenant_plugin(&settings).await?;
    registry.forget_settings(&access.tenant_id, &name);
    tracing::info!(tenant = %access.tenant_id, plugin = %name, enabled = settings.enabled, pinned = ?settings.pinned_version, "plugin configured");
    audit::by(
        &state,
        &caller,
        &access.tenant_id,
        "plugin.configured",
        Some(format!("plugin:{name}")),
        json!({
            "enabled": settings.enabled,
            "pinned_version": settings.pinned_version.as_ref().map(ToString::to_string),
            "config_keys_set": config_changes.set,
            "config_keys_removed": config_changes.removed,
        }),
    )
    .await;
    if settings.http_grants != stored.http_grants {
        let (before, after): (BTreeSet<&String>, BTreeSet<&String>) = (
            stored.http_grants.iter().collect(),
            settings.http_grants.iter().collect(),
        );
        audit::by(
            &state,
            &caller,
            &access.tenant_id,
            "plugin.granted",
            Some(format!("plugin:{name}")),
            json!({
                "http_grants": settings.http_grants,
                "added": after.difference(&before).collect::<Vec<_>>(),
                "removed": before.difference(&after).collect::<Vec<_>>(),
            }),
        )
        .await;
    }
    Ok(Json(shown(settings, Some(&manifest))))
}

/// Switches a plugin the circuit breaker turned off back on for the tenant (its next
/// call runs). Resetting a closed breaker changes nothing and is no error.
///
/// Errors: 403 `forbidden`; 404 `plugin_not_installed` (neither installed nor ever
/// configured by the tenant).
#[utoipa::path(
    delete,
    operation_id = "plugins_reset_breaker",
    path = "/v1/tenants/{tenant}/plugins/{name}/breaker",
    tag = "plugins",
    params(
        ("tenant" = String, Path, description = "Tenant id"),
        ("name" = String, Path, description = "Plugin name")
    ),
    responses((status = 204, description = "The breaker is closed"))
)]
async fn reset_breaker(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((tenant, name)): ApiPath<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let access = caller
        .require(&state, &tenant, Permission::PluginsWrite)
        .await?;
    let stored = state.store.tenant_plugin(&access.tenant_id, &name).await?;
    let installed = state
        .plugins
        .as_deref()
        .is_some_and(|registry| !registry.versions(&name).is_empty());
    if stored.is_none() && !installed {
        return Err(not_installed(&name));
    }
    let persisted_open = stored.is_some_and(|settings| settings.breaker.is_some());
    let failures = state.plugins.as_deref().map_or(0, |registry| {
        registry
            .engine()
            .breakers()
            .failures(&access.tenant_id, &name)
    });
    let was_open = persisted_open || failures > 0;
    if was_open {
        match state.plugins.as_deref() {
            // The engine forgets its in-memory state and persists the reset.
            Some(registry) => {
                registry
                    .engine()
                    .breakers()
                    .reset(&access.tenant_id, &name)
                    .await
            }
            None => {
                state
                    .store
                    .record_breaker(&access.tenant_id, &name, None)
                    .await?
            }
        }
        tracing::info!(tenant = %access.tenant_id, plugin = %name, "plugin breaker reset through the admin API");
    }
    audit::by(
        &state,
        &caller,
        &access.tenant_id,
        "plugin.breaker_reset",
        Some(format!("plugin:{name}")),
        json!({ "was_open": persisted_open, "failures": failures }),
    )
    .await;
    Ok(StatusCode::NO_CONTENT)
}

/// The settings as answers show them: values of secret keys masked. Without the manifest
/// (plugins off, or the version gone) every value is masked: nothing says which are safe.
fn shown(settings: TenantPluginSettings, manifest: Option<&Manifest>) -> TenantPluginBody {
    let visible = |key: &str| {
        manifest
            .and_then(|manifest| manifest.config.get(key))
            .is_some_and(|config_key| !config_key.secret)
    };
    TenantPluginBody {
        config: masked::mask(&settings.config, |key| !visible(key)),
        plugin: settings.plugin,
        enabled: settings.enabled,
        pinned_version: settings.pinned_version.map(|version| version.to_string()),
        http_grants: settings.http_grants,
        breaker: settings.breaker.map(|trip| BreakerBody {
            reason: trip.reason,
            failures: trip.failures,
            opened_at_ms: trip.opened_at_ms,
        }),
    }
}

fn not_installed(name: &str) -> ApiError {
    ApiError::not_found(
        "plugin_not_installed",
        format!("no plugin '{name}' is installed on this host"),
    )
}

fn unreadable(name: &str, error: PluginLoadError) -> ApiError {
    match error {
        PluginLoadError::NotInstalled { .. } => not_installed(name),
        error => {
            tracing::error!(plugin = name, %error, "installed plugin's manifest is unreadable");
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "plugin_unreadable",
                format!(
                    "plugin '{name}' is installed but its manifest cannot be read; reinstall it"
                ),
            )
        }
    }
}

/// The pinned version, which must be installed: 404 `plugin_not_installed` when no
/// version is, 400 `invalid_version` / `version_not_installed` otherwise.
fn checked_version(
    registry: &PluginRegistry,
    name: &str,
    pinned: Option<&str>,
) -> Result<Option<semver::Version>, ApiError> {
    let versions = registry.versions(name);
    if versions.is_empty() {
        return Err(not_installed(name));
    }
    let Some(pinned) = pinned else {
        return Ok(None);
    };
    let version = semver::Version::parse(pinned.trim()).map_err(|error| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_version",
            format!("pinned_version '{pinned}' is not a version like 1.2.0: {error}"),
        )
    })?;
    if !versions.contains(&version) {
        let installed: Vec<String> = versions.iter().map(ToString::to_string).collect();
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "version_not_installed",
            format!(
                "plugin '{name}' {version} is not installed; installed: {}",
                installed.join(", ")
            ),
        ));
    }
    Ok(Some(version))
}

/// 400 `unknown_config_keys` naming every key the manifest does not declare.
fn check_config_keys<'a>(
    manifest: &Manifest,
    keys: impl Iterator<Item = &'a String>,
) -> Result<(), ApiError> {
    let unknown: Vec<&str> = keys
        .filter(|key| !manifest.config.contains_key(*key))
        .map(String::as_str)
        .collect();
    if unknown.is_empty() {
        return Ok(());
    }
    let known: Vec<&str> = manifest.config.keys().map(String::as_str).collect();
    Err(ApiError::new(
        StatusCode::BAD_REQUEST,
        "unknown_config_keys",
        format!(
            "plugin '{}' {} has no config key {}; its keys are: {}",
            manifest.plugin.name,
            manifest.plugin.version,
            unknown
                .iter()
                .map(|key| format!("'{key}'"))
                .collect::<Vec<_>>()
                .join(", "),
            if known.is_empty() {
                "(none)".to_owned()
            } else {
                known.join(", ")
            }
        ),
    ))
}

/// The grants lower-cased, each once: a host (`api.zalo.me`), a wildcard over its
/// subdomains (`*.zalo.me`) or `*`; 400 `invalid_grant` otherwise.
fn checked_grants(grants: &[String]) -> Result<Vec<String>, ApiError> {
    let mut checked: Vec<String> = Vec::with_capacity(grants.len());
    for grant in grants {
        let host = grant.trim().to_ascii_lowercase();
        let name = host.strip_prefix("*.").unwrap_or(&host);
        let valid = host == "*"
            || (!name.is_empty()
                && host.len() <= MAX_HOST_LEN
                && name.split('.').all(|label| {
                    !label.is_empty()
                        && label.len() <= 63
                        && !label.starts_with('-')
                        && !label.ends_with('-')
                        && label
                            .bytes()
                            .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-')
                }));
        if !valid {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_grant",
                format!(
                    "'{grant}' is not a host: use a name like api.zalo.me, *.zalo.me, or * (no scheme, port or path)"
                ),
            ));
        }
        if !checked.contains(&host) {
            checked.push(host);
        }
    }
    Ok(checked)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::auth::MASKED;
    use crate::store::BreakerTrip;

    fn manifest() -> Manifest {
        Manifest::parse(
            r#"
[plugin]
name = "zalo-oa"
version = "1.2.0"
kind = "channel"

[config.oa_secret]
secret = true

[config.oa_id]
"#,
            Path::new("plugin.toml"),
        )
        .expect("valid manifest")
    }

    fn settings() -> TenantPluginSettings {
        TenantPluginSettings {
            tenant_id: "may".into(),
            plugin: "zalo-oa".into(),
            config: BTreeMap::from([
                ("oa_secret".to_owned(), "s3cr3t".to_owned()),
                ("oa_id".to_owned(), "123".to_owned()),
                ("legacy".to_owned(), "old-token".to_owned()),
            ]),
            breaker: Some(BreakerTrip {
                reason: "trap".into(),
                failures: 5,
                opened_at_ms: 1,
            }),
            ..TenantPluginSettings::default()
        }
    }

    #[test]
    fn secret_and_unknown_keys_are_masked_and_the_rest_shown() {
        let body = shown(settings(), Some(&manifest()));
        assert_eq!(body.config["oa_secret"], MASKED);
        assert_eq!(
            body.config["legacy"], MASKED,
            "a key the manifest does not know"
        );
        assert_eq!(body.config["oa_id"], "123");
        assert_eq!(body.breaker.as_ref().map(|trip| trip.failures), Some(5));
        let json = serde_json::to_string(&body).expect("serializes");
        assert!(
            !json.contains("s3cr3t") && !json.contains("old-token"),
            "{json}"
        );
    }

    #[test]
    fn without_a_manifest_every_value_is_masked() {
        let body = shown(settings(), None);
        assert!(
            body.config.values().all(|value| value == MASKED),
            "{body:?}"
        );
    }

    #[test]
    fn unknown_config_keys_are_all_named() {
        let keys = ["oa_id".to_owned(), "token".to_owned(), "region".to_owned()];
        let error = check_config_keys(&manifest(), keys.iter()).expect_err("unknown");
        assert_eq!(error.code, "unknown_config_keys");
        assert!(
            error.message.contains("'token'") && error.message.contains("'region'"),
            "{}",
            error.message
        );
        assert!(error.message.contains("oa_secret"), "{}", error.message);
        assert!(check_config_keys(&manifest(), keys[..1].iter()).is_ok());
    }

    #[test]
    fn grants_are_hosts_or_wildcards() {
        let grants = ["API.zalo.me", "*.zalo.me", "*", "api.zalo.me"].map(String::from);
        assert_eq!(
            checked_grants(&grants).expect("valid"),
            ["api.zalo.me", "*.zalo.me", "*"]
        );
        for bad in [
            "https://api.zalo.me",
            "api.zalo.me:443",
            "api.zalo.me/x",
            "",
            "*.",
            "a..b",
            "-a.vn",
            "zalo.*",
        ] {
            let error = checked_grants(&[bad.to_owned()]).expect_err(bad);
            assert_eq!(error.code, "invalid_grant", "{bad}");
        }
    }
}
