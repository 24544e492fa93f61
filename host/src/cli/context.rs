//! What every command needs: the host configuration and where the data lives.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context as _;
use loa::config::HostConfig;
use loa::plugins::PluginEngine;
use loa::plugins::registry::PluginRegistry;
use loa::store::Store;
use loa::store::sqlite::SqliteStore;

/// The configuration as read from the file and the command line.
pub(crate) struct Context {
    pub(crate) config: HostConfig,
}

impl Context {
    pub(crate) fn new(config_path: &Path, data_dir: Option<&Path>) -> anyhow::Result<Self> {
        let mut config = HostConfig::load(config_path)?;
        if let Some(data_dir) = data_dir {
            config.data_dir = data_dir.to_owned();
        }
        Ok(Self { config })
    }

    pub(crate) fn database_path(&self) -> PathBuf {
        self.config.data_dir.join("loa.sqlite3")
    }

    /// The data directory's database, migrated.
    pub(crate) fn open_store(&self) -> anyhow::Result<Arc<dyn Store>> {
        let path = self.database_path();
        let store = SqliteStore::open(&path)
            .with_context(|| format!("opening the database {}", path.display()))?;
        Ok(Arc::new(store))
    }

    /// Compiled plugin code is cached here between runs (compiling takes a second or two).
    pub(crate) fn compile_cache_dir(&self) -> PathBuf {
        std::env::var_os("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache")))
            .unwrap_or_else(std::env::temp_dir)
            .join("loa")
            .join("compiled")
    }

    /// An engine over `store`, with this configuration's limits.
    pub(crate) fn engine(&self, store: Arc<dyn Store>) -> anyhow::Result<Arc<PluginEngine>> {
        let cache = self.compile_cache_dir();
        let cache = std::fs::create_dir_all(&cache).ok().map(|()| cache);
        Ok(PluginEngine::new(
            self.config.plugins.clone(),
            store,
            cache.as_deref(),
        )?)
    }

    /// The installed plugins of the data directory.
    pub(crate) fn registry(&self) -> anyhow::Result<PluginRegistry> {
        let engine = self.engine(self.open_store()?)?;
        Ok(PluginRegistry::new(engine, &self.config.data_dir))
    }
}
