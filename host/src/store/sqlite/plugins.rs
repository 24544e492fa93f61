//! Installed plugins and tenant plugin settings in SQLite.

use rusqlite::{Connection, OptionalExtension, params};

use super::cached::CachedStatements;
use super::{backend, now_ms};
use crate::store::{BreakerTrip, InstalledPlugin, StoreError, TenantPluginSettings};

pub(super) fn record_installed(
    connection: &mut Connection,
    plugin: &InstalledPlugin,
) -> Result<(), StoreError> {
    connection
        .execute_cached(
            "INSERT INTO installed_plugins (name, version, kind, description, sha256, installed_at_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (name, version) DO UPDATE SET
                kind = excluded.kind, description = excluded.description,
                sha256 = excluded.sha256, installed_at_ms = excluded.installed_at_ms",
            params![
                plugin.name,
                plugin.version.to_string(),
                plugin.kind,
                plugin.description,
                plugin.sha256,
                plugin.installed_at_ms
            ],
        )
        .map_err(backend)?;
    Ok(())
}

pub(super) fn installed(connection: &mut Connection) -> Result<Vec<InstalledPlugin>, StoreError> {
    let mut statement = connection
        .prepare(
            "SELECT name, version, kind, description, sha256, installed_at_ms
             FROM installed_plugins ORDER BY name",
        )
        .map_err(backend)?;
    let rows = statement
        .query_map([], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, String>(2)?,
                row.get::<_, String>(3)?,
                row.get::<_, String>(4)?,
                row.get::<_, i64>(5)?,
            ))
        })
        .map_err(backend)?;
    let mut plugins = Vec::new();
    for row in rows {
        let (name, version, kind, description, sha256, installed_at_ms) = row.map_err(backend)?;
        let version = semver::Version::parse(&version)
            .map_err(|error| StoreError::Corrupt(format!("plugin {name} version: {error}")))?;
        plugins.push(InstalledPlugin {
            name,
            version,
            kind,
            description,
            sha256,
            installed_at_ms,
        });
    }
    plugins.sort_by(|a, b| a.name.cmp(&b.name).then(a.version.cmp(&b.version)));
    Ok(plugins)
}

const TENANT_PLUGIN_COLUMNS: &str =
    "tenant_id, plugin, pinned_version, enabled, config_json, http_grants, breaker_json";

/// A settings row with its JSON columns undecoded (see [`settings_from_raw`]).
type RawSettings = (
    String,
    String,
    Option<String>,
    bool,
    String,
    String,
    Option<String>,
);

fn raw_settings(row: &rusqlite::Row<'_>) -> rusqlite::Result<RawSettings> {
    Ok((
        row.get(0)?,
        row.get(1)?,
        row.get(2)?,
        row.get(3)?,
        row.get(4)?,
        row.get(5)?,
        row.get(6)?,
    ))
}

fn settings_from_raw(
    (tenant_id, plugin, pinned_version, enabled, config_json, grants_json, breaker_json): RawSettings,
) -> Result<TenantPluginSettings, StoreError> {
    let corrupt = |what: &str, error: &dyn std::fmt::Display| {
        StoreError::Corrupt(format!(
            "tenant '{tenant_id}' plugin '{plugin}' {what}: {error}"
        ))
    };
    Ok(TenantPluginSettings {
        pinned_version: pinned_version
            .map(|version| semver::Version::parse(&version))
            .transpose()
            .map_err(|error| corrupt("pinned version", &error))?,
        enabled,
        config: serde_json::from_str(&config_json).map_err(|error| corrupt("config", &error))?,
        http_grants: serde_json::from_str(&grants_json)
            .map_err(|error| corrupt("http grants", &error))?,
        breaker: breaker_json
            .map(|json| serde_json::from_str(&json))
            .transpose()
            .map_err(|error| corrupt("breaker", &error))?,
        tenant_id,
        plugin,
    })
}

pub(super) fn tenant_plugin(
    connection: &mut Connection,
    tenant_id: &str,
    plugin: &str,
) -> Result<Option<TenantPluginSettings>, StoreError> {
    connection
        .query_row_cached(
            &format!(
                "SELECT {TENANT_PLUGIN_COLUMNS} FROM tenant_plugins
                 WHERE tenant_id = ?1 AND plugin = ?2"
            ),
            params![tenant_id, plugin],
            raw_settings,
        )
        .optional()
        .map_err(backend)?
        .map(settings_from_raw)
        .transpose()
}

/// Every plugin a tenant has settings for, by plugin name.
pub(super) fn tenant_plugins(
    connection: &Connection,
    tenant_id: &str,
) -> Result<Vec<TenantPluginSettings>, StoreError> {
    let mut statement = connection
        .prepare_cached(&format!(
            "SELECT {TENANT_PLUGIN_COLUMNS} FROM tenant_plugins WHERE tenant_id = ?1
             ORDER BY plugin"
        ))
        .map_err(backend)?;
    let rows = statement
        .query_map([tenant_id], raw_settings)
        .map_err(backend)?;
    rows.map(|row| settings_from_raw(row.map_err(backend)?))
        .collect()
}

pub(super) fn put_tenant_plugin(
    connection: &mut Connection,
    settings: &TenantPluginSettings,
) -> Result<(), StoreError> {
    connection
        .execute_cached(
            "INSERT INTO tenant_plugins
                (tenant_id, plugin, pinned_version, enabled, config_json, http_grants, breaker_json, updated_at_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
             ON CONFLICT (tenant_id, plugin) DO UPDATE SET
                pinned_version = excluded.pinned_version, enabled = excluded.enabled,
                config_json = excluded.config_json, http_grants = excluded.http_grants,
                breaker_json = excluded.breaker_json, updated_at_ms = excluded.updated_at_ms",
            params![
                settings.tenant_id,
                settings.plugin,
                settings.pinned_version.as_ref().map(ToString::to_string),
                settings.enabled,
                to_json(&settings.config)?,
                to_json(&settings.http_grants)?,
                settings.breaker.as_ref().map(to_json).transpose()?,
                now_ms()
            ],
        )
        .map_err(backend)?;
    Ok(())
}

pub(super) fn record_breaker(
    connection: &mut Connection,
    tenant_id: &str,
    plugin: &str,
    trip: Option<&BreakerTrip>,
) -> Result<(), StoreError> {
    let breaker_json = trip.map(to_json).transpose()?;
    // A tenant that never configured the plugin (e.g. `loa plugin run`) still gets a row,
    // so the reason survives a restart.
    connection
        .execute_cached(
            "INSERT INTO tenant_plugins (tenant_id, plugin, breaker_json, updated_at_ms)
             VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (tenant_id, plugin) DO UPDATE SET
                breaker_json = excluded.breaker_json, updated_at_ms = excluded.updated_at_ms",
            params![tenant_id, plugin, breaker_json, now_ms()],
        )
        .map_err(backend)?;
    Ok(())
}

fn to_json<T: serde::Serialize>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|error| StoreError::Backend(error.to_string()))
}
