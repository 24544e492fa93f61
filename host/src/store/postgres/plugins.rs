//! Installed plugins and tenant plugin settings in PostgreSQL.

use deadpool_postgres::tokio_postgres::Row;
use deadpool_postgres::tokio_postgres::types::Json;
use deadpool_postgres::{Client, GenericClient};

use super::now_ms;
use super::statements::{column, execute, query, query_opt};
use crate::store::{BreakerTrip, InstalledPlugin, StoreError, TenantPluginSettings};

pub(super) async fn record_installed(
    client: &Client,
    plugin: &InstalledPlugin,
) -> Result<(), StoreError> {
    execute(
        client,
        "INSERT INTO installed_plugins (name, version, kind, description, sha256, installed_at_ms)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (name, version) DO UPDATE SET
            kind = excluded.kind, description = excluded.description,
            sha256 = excluded.sha256, installed_at_ms = excluded.installed_at_ms",
        &[
            &plugin.name,
            &plugin.version.to_string(),
            &plugin.kind,
            &plugin.description,
            &plugin.sha256,
            &plugin.installed_at_ms,
        ],
    )
    .await?;
    Ok(())
}

pub(super) async fn installed(client: &Client) -> Result<Vec<InstalledPlugin>, StoreError> {
    let rows = query(
        client,
        "SELECT name, version, kind, description, sha256, installed_at_ms
         FROM installed_plugins ORDER BY name",
        &[],
    )
    .await?;
    let mut plugins = rows
        .iter()
        .map(|row| {
            let name: String = column(row, "name")?;
            let version: &str = column(row, "version")?;
            let version = semver::Version::parse(version)
                .map_err(|error| StoreError::Corrupt(format!("plugin {name} version: {error}")))?;
            Ok(InstalledPlugin {
                name,
                version,
                kind: column(row, "kind")?,
                description: column(row, "description")?,
                sha256: column(row, "sha256")?,
                installed_at_ms: column(row, "installed_at_ms")?,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    // Versions compare as semver (1.10.0 after 1.9.0), which SQL text order does not.
    plugins.sort_by(|a, b| a.name.cmp(&b.name).then(a.version.cmp(&b.version)));
    Ok(plugins)
}

const TENANT_PLUGIN_COLUMNS: &str =
    "tenant_id, plugin, pinned_version, enabled, config, http_grants, breaker";

fn settings_from_row(row: &Row) -> Result<TenantPluginSettings, StoreError> {
    let tenant_id: String = column(row, "tenant_id")?;
    let plugin: String = column(row, "plugin")?;
    let pinned_version: Option<&str> = column(row, "pinned_version")?;
    let Json(config) = column(row, "config")?;
    let Json(http_grants) = column(row, "http_grants")?;
    let breaker: Option<Json<BreakerTrip>> = column(row, "breaker")?;
    let pinned_version = pinned_version
        .map(semver::Version::parse)
        .transpose()
        .map_err(|error| {
            StoreError::Corrupt(format!(
                "tenant '{tenant_id}' plugin '{plugin}' pinned version: {error}"
            ))
        })?;
    Ok(TenantPluginSettings {
        tenant_id,
        plugin,
        pinned_version,
        enabled: column(row, "enabled")?,
        config,
        http_grants,
        breaker: breaker.map(|Json(trip)| trip),
    })
}

pub(super) async fn tenant_plugin<C: GenericClient>(
    client: &C,
    tenant_id: &str,
    plugin: &str,
) -> Result<Option<TenantPluginSettings>, StoreError> {
    let row = query_opt(
        client,
        &format!(
            "SELECT {TENANT_PLUGIN_COLUMNS} FROM tenant_plugins
             WHERE tenant_id = $1 AND plugin = $2"
        ),
        &[&tenant_id, &plugin],
    )
    .await?;
    row.as_ref().map(settings_from_row).transpose()
}

/// Every plugin a tenant has settings for, by plugin name.
pub(super) async fn tenant_plugins<C: GenericClient>(
    client: &C,
    tenant_id: &str,
) -> Result<Vec<TenantPluginSettings>, StoreError> {
    let rows = query(
        client,
        &format!(
            "SELECT {TENANT_PLUGIN_COLUMNS} FROM tenant_plugins WHERE tenant_id = $1
             ORDER BY plugin COLLATE \"C\""
        ),
        &[&tenant_id],
    )
    .await?;
    rows.iter().map(settings_from_row).collect()
}

pub(super) async fn put_tenant_plugin<C: GenericClient>(
    client: &C,
    settings: &TenantPluginSettings,
) -> Result<(), StoreError> {
    execute(
        client,
        "INSERT INTO tenant_plugins
            (tenant_id, plugin, pinned_version, enabled, config, http_grants, breaker, updated_at_ms)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (tenant_id, plugin) DO UPDATE SET
            pinned_version = excluded.pinned_version, enabled = excluded.enabled,
            config = excluded.config, http_grants = excluded.http_grants,
            breaker = excluded.breaker, updated_at_ms = excluded.updated_at_ms",
        &[
            &settings.tenant_id,
            &settings.plugin,
            &settings.pinned_version.as_ref().map(ToString::to_string),
            &settings.enabled,
            &Json(&settings.config),
            &Json(&settings.http_grants),
            &settings.breaker.as_ref().map(Json),
            &now_ms(),
        ],
    )
    .await?;
    Ok(())
}

pub(super) async fn record_breaker(
    client: &Client,
    tenant_id: &str,
    plugin: &str,
    trip: Option<&BreakerTrip>,
) -> Result<(), StoreError> {
    // A tenant that never configured the plugin (e.g. `loa plugin run`) still gets a row,
    // so the reason survives a restart.
    execute(
        client,
        "INSERT INTO tenant_plugins (tenant_id, plugin, breaker, updated_at_ms)
         VALUES ($1, $2, $3, $4)
         ON CONFLICT (tenant_id, plugin) DO UPDATE SET
            breaker = excluded.breaker, updated_at_ms = excluded.updated_at_ms",
        &[&tenant_id, &plugin, &trip.map(Json), &now_ms()],
    )
    .await?;
    Ok(())
}
