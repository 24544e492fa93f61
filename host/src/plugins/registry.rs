//! Installed plugins: `<data>/plugins/<name>/<version>/{plugin.toml,plugin.wasm}`, several
//! versions side by side, loaded on first use so a new version needs no restart.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::call::{BindOptions, TenantPlugin};
use super::engine::PluginEngine;
use super::error::PluginLoadError;
use super::loaded::LoadedPlugin;
use super::manifest::{Manifest, PluginDir};
use crate::conversation::cache::TtlCache;
use crate::store::{InstalledPlugin, StoreError, TenantPluginSettings};

/// How long a tenant's settings of a plugin are trusted before they are read again. Every
/// webhook, send and turn binds a plugin; 5 s spares them a store read (and the opening of
/// the sealed config) each, while a change made elsewhere (the CLI, another instance)
/// applies within seconds. This process's admin API drops its entry at once.
const SETTINGS_TTL: Duration = Duration::from_secs(5);

/// Where installed plugins live and the ones loaded so far.
pub struct PluginRegistry {
    engine: Arc<PluginEngine>,
    root: PathBuf,
    loaded: Mutex<HashMap<(String, semver::Version), Arc<LoadedPlugin>>>,
    /// Tenants' settings of plugins, by [`settings_key`].
    settings: TtlCache<TenantPluginSettings>,
}

/// The settings cache's key of a (tenant, plugin): a NUL cannot occur in either name.
fn settings_key(tenant_id: &str, plugin: &str) -> String {
    format!("{tenant_id}\0{plugin}")
}

impl PluginRegistry {
    /// The engine plugins run on.
    pub fn engine(&self) -> &Arc<PluginEngine> {
        &self.engine
    }

    /// Plugins under `<data_dir>/plugins`.
    pub fn new(engine: Arc<PluginEngine>, data_dir: &Path) -> Self {
        Self {
            engine,
            root: data_dir.join("plugins"),
            loaded: Mutex::default(),
            settings: TtlCache::new(SETTINGS_TTL),
        }
    }

    fn loaded(
        &self,
    ) -> std::sync::MutexGuard<'_, HashMap<(String, semver::Version), Arc<LoadedPlugin>>> {
        self.loaded
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn version_dir(&self, name: &str, version: &semver::Version) -> PathBuf {
        self.root.join(name).join(version.to_string())
    }

    /// Checks the plugin in `source` fully (it must load), then copies it in and records it.
    /// Installing a version again replaces it.
    pub async fn install(&self, source: &Path) -> Result<Arc<LoadedPlugin>, PluginLoadError> {
        let checked = self.engine.load(source)?;
        let manifest = &checked.manifest;
        let target = self.version_dir(&manifest.plugin.name, &manifest.plugin.version);
        let from = PluginDir::new(source);
        let to = PluginDir::new(&target);
        let io_error = |path: &Path| {
            let path = path.to_owned();
            move |source| PluginLoadError::Read { path, source }
        };
        std::fs::create_dir_all(&target).map_err(io_error(&target))?;
        std::fs::copy(from.manifest_path(), to.manifest_path())
            .map_err(io_error(&to.manifest_path()))?;
        std::fs::copy(from.wasm_path(), to.wasm_path()).map_err(io_error(&to.wasm_path()))?;
        let installed = self.engine.load(&target)?;
        self.engine
            .store()
            .record_installed_plugin(&InstalledPlugin {
                name: installed.manifest.plugin.name.clone(),
                version: installed.manifest.plugin.version.clone(),
                kind: installed.kind().to_string(),
                description: installed.manifest.plugin.description.clone(),
                sha256: installed.sha256.clone(),
                installed_at_ms: std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|elapsed| elapsed.as_millis() as i64)
                    .unwrap_or_default(),
            })
            .await?;
        let installed = Arc::new(installed);
        self.loaded().insert(
            (
                installed.manifest.plugin.name.clone(),
                installed.manifest.plugin.version.clone(),
            ),
            Arc::clone(&installed),
        );
        tracing::info!(plugin = %installed.id(), sha256 = %installed.sha256, "plugin installed");
        Ok(installed)
    }

    /// Installed versions of `name`, oldest first, read from disk (another process may
    /// have installed one).
    pub fn versions(&self, name: &str) -> Vec<semver::Version> {
        let mut versions: Vec<semver::Version> = std::fs::read_dir(self.root.join(name))
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|entry| semver::Version::parse(&entry.file_name().to_string_lossy()).ok())
            .collect();
        versions.sort();
        versions
    }

    /// The plugin at `version`, or the newest installed; loaded from disk on first use.
    pub fn get(
        &self,
        name: &str,
        version: Option<&semver::Version>,
    ) -> Result<Arc<LoadedPlugin>, PluginLoadError> {
        let not_installed = || PluginLoadError::NotInstalled {
            name: name.to_owned(),
            version: version.map(ToString::to_string),
        };
        let version = match version {
            Some(version) => version.clone(),
            None => self.versions(name).pop().ok_or_else(not_installed)?,
        };
        let key = (name.to_owned(), version);
        if let Some(plugin) = self.loaded().get(&key) {
            return Ok(Arc::clone(plugin));
        }
        let dir = self.version_dir(name, &key.1);
        if !dir.is_dir() {
            return Err(not_installed());
        }
        // Compiling happens outside the lock; two callers racing both compile once, and the
        // second insert wins harmlessly.
        let plugin = Arc::new(self.engine.load(&dir)?);
        self.loaded().insert(key, Arc::clone(&plugin));
        Ok(plugin)
    }

    /// The manifest of `name` at `version`, or of the newest installed version, read from
    /// its `plugin.toml` alone: unlike [`PluginRegistry::get`] nothing is compiled, so the
    /// admin API can show which config keys are secret cheaply.
    pub fn manifest(
        &self,
        name: &str,
        version: Option<&semver::Version>,
    ) -> Result<Manifest, PluginLoadError> {
        let not_installed = || PluginLoadError::NotInstalled {
            name: name.to_owned(),
            version: version.map(ToString::to_string),
        };
        let version = match version {
            Some(version) => version.clone(),
            None => self.versions(name).pop().ok_or_else(not_installed)?,
        };
        if let Some(plugin) = self.loaded().get(&(name.to_owned(), version.clone())) {
            return Ok(plugin.manifest.clone());
        }
        let dir = self.version_dir(name, &version);
        if !dir.is_dir() {
            return Err(not_installed());
        }
        Manifest::load(&PluginDir::new(dir).manifest_path())
    }

    /// The plugin as `tenant_id` has it: its pinned version, config and grants.
    pub async fn bind_for_tenant(
        &self,
        tenant_id: &str,
        name: &str,
    ) -> Result<TenantPlugin, PluginLoadError> {
        self.bind_with_overrides(tenant_id, name, None, &BTreeMap::new())
            .await
    }

    /// The plugin as a bot runs it, when its tenant enabled it (`None` otherwise): a
    /// plugin the shop switched off stays off even where a bot still lists it.
    pub async fn bind_enabled(
        &self,
        tenant_id: &str,
        name: &str,
        version: Option<&semver::Version>,
        config: &BTreeMap<String, String>,
    ) -> Result<Option<TenantPlugin>, PluginLoadError> {
        match self.tenant_settings(tenant_id, name).await? {
            Some(settings) if settings.enabled => self
                .bind_settings(&settings, name, version, config)
                .map(Some),
            _ => Ok(None),
        }
    }

    /// A tenant's settings of a plugin, from the cache when read in the last 5 s.
    async fn tenant_settings(
        &self,
        tenant_id: &str,
        name: &str,
    ) -> Result<Option<Arc<TenantPluginSettings>>, StoreError> {
        self.settings
            .get_or_load(
                &settings_key(tenant_id, name),
                self.engine.store().tenant_plugin(tenant_id, name),
            )
            .await
    }

    /// Drops the cached settings of a (tenant, plugin) after this process changed them, so
    /// the next call uses the change.
    pub fn forget_settings(&self, tenant_id: &str, name: &str) {
        self.settings.invalidate(&settings_key(tenant_id, name));
    }

    /// The plugin with the tenant's settings, with a version pin and config keys on top
    /// (a channel's own secrets).
    pub async fn bind_with_overrides(
        &self,
        tenant_id: &str,
        name: &str,
        version: Option<&semver::Version>,
        config: &BTreeMap<String, String>,
    ) -> Result<TenantPlugin, PluginLoadError> {
        let settings = self
            .tenant_settings(tenant_id, name)
            .await?
            .unwrap_or_else(|| {
                Arc::new(TenantPluginSettings {
                    tenant_id: tenant_id.to_owned(),
                    plugin: name.to_owned(),
                    ..TenantPluginSettings::default()
                })
            });
        self.bind_settings(&settings, name, version, config)
    }

    /// Binds with `config` on top of the settings' config (a copy only when there is any).
    fn bind_settings(
        &self,
        settings: &TenantPluginSettings,
        name: &str,
        version: Option<&semver::Version>,
        config: &BTreeMap<String, String>,
    ) -> Result<TenantPlugin, PluginLoadError> {
        let plugin = self.get(name, version.or(settings.pinned_version.as_ref()))?;
        if config.is_empty() {
            return Ok(self.engine.bind(plugin, settings, BindOptions::default()));
        }
        let mut settings = settings.clone();
        settings.config.extend(
            config
                .iter()
                .map(|(key, value)| (key.clone(), value.clone())),
        );
        Ok(self.engine.bind(plugin, &settings, BindOptions::default()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::sqlite::SqliteStore;

    fn registry(data_dir: &Path) -> PluginRegistry {
        let store: Arc<dyn crate::store::Store> =
            Arc::new(SqliteStore::in_memory().expect("in-memory store"));
        let engine = PluginEngine::new(crate::config::PluginHostConfig::default(), store, None)
            .expect("engine");
        PluginRegistry::new(engine, data_dir)
    }

    /// Whether the registry sees tenant `may`'s `catalog` enabled (`None`: no settings).
    async fn catalog_enabled(registry: &PluginRegistry) -> Option<bool> {
        let settings = registry.tenant_settings("may", "catalog").await;
        settings.expect("read").map(|settings| settings.enabled)
    }

    #[tokio::test]
    async fn a_tenants_settings_are_read_once_until_forgotten() {
        let data = tempfile::tempdir().expect("temp dir");
        let registry = registry(data.path());
        let store = registry.engine().store();
        let mut settings = TenantPluginSettings {
            tenant_id: "may".into(),
            plugin: "catalog".into(),
            enabled: true,
            ..TenantPluginSettings::default()
        };
        assert_eq!(catalog_enabled(&registry).await, None, "nothing stored yet");
        store.put_tenant_plugin(&settings).await.expect("put");
        // An absent entry was not remembered: the new settings are read at once.
        assert_eq!(catalog_enabled(&registry).await, Some(true));
        settings.enabled = false;
        store.put_tenant_plugin(&settings).await.expect("put");
        assert_eq!(
            catalog_enabled(&registry).await,
            Some(true),
            "a change made behind the registry's back shows after the TTL"
        );
        registry.forget_settings("may", "catalog");
        assert_eq!(catalog_enabled(&registry).await, Some(false));
    }

    fn write_manifest(data_dir: &Path, version: &str, secret_key: &str) {
        let dir = data_dir.join("plugins").join("zalo-oa").join(version);
        std::fs::create_dir_all(&dir).expect("plugin dir");
        let manifest = format!(
            "[plugin]\nname = \"zalo-oa\"\nversion = \"{version}\"\nkind = \"channel\"\n\n\
             [config.{secret_key}]\nsecret = true\n"
        );
        std::fs::write(dir.join("plugin.toml"), manifest).expect("manifest");
    }

    #[test]
    fn a_manifest_is_read_without_compiling_the_plugin() {
        let data = tempfile::tempdir().expect("temp dir");
        write_manifest(data.path(), "1.0.0", "token");
        write_manifest(data.path(), "1.2.0", "oa_secret");
        let registry = registry(data.path());
        // No plugin.wasm anywhere: only plugin.toml is read.
        let newest = registry.manifest("zalo-oa", None).expect("newest");
        assert_eq!(newest.plugin.version, semver::Version::new(1, 2, 0));
        assert_eq!(newest.secret_keys().collect::<Vec<_>>(), ["oa_secret"]);
        let pinned = registry
            .manifest("zalo-oa", Some(&semver::Version::new(1, 0, 0)))
            .expect("pinned");
        assert_eq!(pinned.secret_keys().collect::<Vec<_>>(), ["token"]);
    }

    #[test]
    fn a_missing_plugin_or_version_is_not_installed() {
        let data = tempfile::tempdir().expect("temp dir");
        write_manifest(data.path(), "1.0.0", "token");
        let registry = registry(data.path());
        assert!(matches!(
            registry.manifest("messenger", None),
            Err(PluginLoadError::NotInstalled { .. })
        ));
        assert!(matches!(
            registry.manifest("zalo-oa", Some(&semver::Version::new(9, 0, 0))),
            Err(PluginLoadError::NotInstalled { .. })
        ));
    }
}
