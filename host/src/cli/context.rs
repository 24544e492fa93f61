//! What every command needs: the host configuration and where the data lives.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context as _;
use loa::auth::{KeyOrigin, MasterKey, SecretBox};
use loa::config::HostConfig;
use loa::plugins::PluginEngine;
use loa::plugins::registry::PluginRegistry;
use loa::store::Store;
use loa::store::postgres::PostgresStore;
use loa::store::sqlite::SqliteStore;

/// The configuration as read from the file and the command line.
pub(crate) struct Context {
    pub(crate) config: HostConfig,
}

impl Context {
    pub(crate) fn new(
        config_path: &Path,
        data_dir: Option<&Path>,
        database_url: Option<&str>,
    ) -> anyhow::Result<Self> {
        let mut config = HostConfig::load(config_path)?;
        if let Some(data_dir) = data_dir {
            config.data_dir = data_dir.to_owned();
        }
        if let Some(url) = database_url {
            config.database.url = Some(url.to_owned());
        }
        Ok(Self { config })
    }

    fn sqlite_path(&self) -> PathBuf {
        self.config.data_dir.join("loa.sqlite3")
    }

    /// Where the data is, for messages: the SQLite file or the PostgreSQL server (without
    /// its password).
    pub(crate) fn database_label(&self) -> String {
        match &self.config.database.url {
            Some(url) => match url.parse::<tokio_postgres::Config>() {
                Ok(parsed) => format!(
                    "PostgreSQL database '{}' on {:?}",
                    parsed.get_dbname().unwrap_or("postgres"),
                    parsed.get_hosts()
                ),
                Err(_) => "PostgreSQL".to_owned(),
            },
            None => self.sqlite_path().display().to_string(),
        }
    }

    /// The master key: `auth.master_key`, `$LOA_MASTER_KEY`, else `<data_dir>/master.key`
    /// (created on first use). Every command that reads or writes secrets uses the same
    /// one, so on PostgreSQL every machine running `loa` must be given the same key.
    pub(crate) fn master_key(&self) -> anyhow::Result<(MasterKey, KeyOrigin)> {
        std::fs::create_dir_all(&self.config.data_dir).with_context(|| {
            format!(
                "creating the data folder {}",
                self.config.data_dir.display()
            )
        })?;
        MasterKey::load(
            self.config.auth.master_key.as_deref(),
            &self.config.data_dir,
        )
        .context("loading the master key")
    }

    /// The configured database (SQLite in the data dir, or PostgreSQL), migrated, with
    /// channel secrets and plugin config values sealed under the master key.
    pub(crate) async fn open_store(&self) -> anyhow::Result<Arc<dyn Store>> {
        let (key, _) = self.master_key()?;
        let secrets = Arc::new(SecretBox::new(&key));
        if let Some(url) = &self.config.database.url {
            let store = PostgresStore::connect(url, self.config.database.pool_size)
                .await
                .with_context(|| format!("opening {}", self.database_label()))?;
            return Ok(Arc::new(store.with_secrets(secrets)));
        }
        let path = self.sqlite_path();
        let store = SqliteStore::open(&path)
            .with_context(|| format!("opening the database {}", path.display()))?;
        Ok(Arc::new(store.with_secrets(secrets)))
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
    pub(crate) async fn registry(&self) -> anyhow::Result<PluginRegistry> {
        let engine = self.engine(self.open_store().await?)?;
        Ok(PluginRegistry::new(engine, &self.config.data_dir))
    }
}
