//! The embedded default store: one SQLite file in the data dir (WAL), nothing to install.

mod account_store;
mod accounts;
mod api_keys;
mod audit;
mod batch;
mod cached;
mod checkpoint;
mod claims;
mod console;
mod conversations;
mod deliveries;
mod group_commit;
mod handover;
mod knowledge;
mod kv;
mod listings;
mod migrations;
mod plugins;
mod queue;
mod readers;
mod traits;
mod writer;

use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use rusqlite::Connection;

use crate::auth::SecretBox;
use readers::Readers;
use writer::Writer;

use super::sealing::SecretValues;
use super::{
    BreakerTrip, InstalledPlugin, KvQuota, KvScope, Store, StoreError, TenantPluginSettings,
};

/// A SQLite database: the writes run one after another on a thread of their own (SQLite
/// allows one writer anyway), the reads on a few read-only connections (a file database in
/// WAL mode lets them read while the writer writes), so a widget catching up never queues
/// behind a turn's commit.
#[derive(Clone)]
pub struct SqliteStore {
    /// The thread that owns the connection that writes.
    writer: Writer,
    /// `None` for an in-memory database (a second connection would see another database):
    /// its reads run on the writer.
    readers: Option<Readers>,
    /// Seals channel secrets, plugin config and key-value values at rest.
    secrets: SecretValues,
}

impl SqliteStore {
    /// Opens (creating if needed) the database file at `path` and applies pending migrations.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|error| {
                StoreError::Backend(format!("cannot create {}: {error}", parent.display()))
            })?;
        }
        let connection = Connection::open(path).map_err(|error| {
            StoreError::Backend(format!("cannot open {}: {error}", path.display()))
        })?;
        let connection = Self::configure(connection)?;
        let readers = (0..READERS)
            .map(|_| open_reader(path))
            .collect::<Result<Vec<_>, _>>()?;
        let checkpoint_on = checkpoint::turn_off_automatic(&connection);
        let mut store = Self::start(connection)?;
        store.readers = Some(Readers::new(readers));
        if checkpoint_on {
            checkpoint::start(path, store.writer.liveness(), store.writer.wal_too_long())?;
        }
        Ok(store)
    }

    /// A private database in memory, gone when dropped (`loa plugin run`, tests).
    pub fn in_memory() -> Result<Self, StoreError> {
        let connection = Connection::open_in_memory().map_err(backend)?;
        Self::start(Self::configure(connection)?)
    }

    fn start(connection: Connection) -> Result<Self, StoreError> {
        Ok(Self {
            writer: Writer::start(connection)?,
            readers: None,
            secrets: SecretValues::default(),
        })
    }

    /// Sets the connection up and brings its schema up to date.
    fn configure(mut connection: Connection) -> Result<Connection, StoreError> {
        // WAL: readers never wait for the writer. busy_timeout: a second process (the CLI
        // while the server runs) waits for the lock instead of failing at once.
        connection
            .execute_batch(
                "PRAGMA journal_mode = WAL;
                 PRAGMA synchronous = NORMAL;
                 PRAGMA foreign_keys = ON;
                 PRAGMA busy_timeout = 5000;",
            )
            .map_err(backend)?;
        migrations::run(&mut connection)?;
        connection.set_prepared_statement_cache_capacity(cached::STATEMENT_CACHE_CAPACITY);
        Ok(connection)
    }

    /// Seals channel secrets, plugin config and key-value values with `secrets` on write
    /// and opens them on read. Without it they are stored as given.
    pub fn with_secrets(mut self, secrets: Arc<SecretBox>) -> Self {
        self.secrets = SecretValues::new(secrets);
        self
    }

    /// Runs `work` on the writer.
    async fn with<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    {
        self.writer.run(work).await
    }

    /// Runs read-only `work` on a reader connection (on the writer for an in-memory
    /// database), on the blocking pool. It sees every write that returned before it started.
    async fn read<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let Some(readers) = &self.readers else {
            return self.writer.run(work).await;
        };
        let readers = readers.clone();
        tokio::task::spawn_blocking(move || work(&mut readers.hold()))
            .await
            .map_err(|error| StoreError::Backend(format!("store task failed: {error}")))?
    }

    /// [`Self::read`] for a lookup by key: run at once on the calling thread when a reader
    /// is free, as a few microseconds of SQLite cost less than the two thread hand-offs of
    /// the blocking pool (those were a third of the host's CPU under webhook load).
    async fn read_short<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    {
        if let Some(mut free) = self.readers.as_ref().and_then(Readers::try_hold) {
            return work(&mut free);
        }
        self.read(work).await
    }
}

/// Read-only connections of a file database: the channel lookups of webhooks, the turns'
/// reads and the widgets' catch-ups each take one. More than the cores: a reader is often
/// held by a thread the kernel has paused.
const READERS: usize = 4;

fn open_reader(path: &Path) -> Result<Connection, StoreError> {
    Connection::open_with_flags(
        path,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .and_then(|reader| {
        reader.execute_batch("PRAGMA busy_timeout = 5000;")?;
        reader.set_prepared_statement_cache_capacity(cached::STATEMENT_CACHE_CAPACITY);
        Ok(reader)
    })
    .map_err(|error| {
        StoreError::Backend(format!(
            "cannot open {} for reading: {error}",
            path.display()
        ))
    })
}

fn backend(error: rusqlite::Error) -> StoreError {
    StoreError::Backend(error.to_string())
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| elapsed.as_millis() as i64)
        .unwrap_or_default()
}

#[async_trait]
impl Store for SqliteStore {
    async fn migrate(&self) -> Result<usize, StoreError> {
        self.writer.run_alone(migrations::run).await
    }

    async fn record_installed_plugin(&self, plugin: &InstalledPlugin) -> Result<(), StoreError> {
        let plugin = plugin.clone();
        self.with(move |connection| plugins::record_installed(connection, &plugin))
            .await
    }

    async fn installed_plugins(&self) -> Result<Vec<InstalledPlugin>, StoreError> {
        self.with(plugins::installed).await
    }

    async fn tenant_plugin(
        &self,
        tenant_id: &str,
        plugin: &str,
    ) -> Result<Option<TenantPluginSettings>, StoreError> {
        let (tenant_id, plugin) = (tenant_id.to_owned(), plugin.to_owned());
        self.read_short(move |connection| plugins::tenant_plugin(connection, &tenant_id, &plugin))
            .await?
            .map(|settings| self.secrets.open_settings(settings))
            .transpose()
    }

    async fn put_tenant_plugin(&self, settings: &TenantPluginSettings) -> Result<(), StoreError> {
        let settings = self.secrets.seal_settings(settings)?;
        self.with(move |connection| plugins::put_tenant_plugin(connection, &settings))
            .await
    }

    async fn record_breaker(
        &self,
        tenant_id: &str,
        plugin: &str,
        trip: Option<&BreakerTrip>,
    ) -> Result<(), StoreError> {
        let (tenant_id, plugin, trip) = (tenant_id.to_owned(), plugin.to_owned(), trip.cloned());
        self.with(move |connection| {
            plugins::record_breaker(connection, &tenant_id, &plugin, trip.as_ref())
        })
        .await
    }

    async fn kv_get(&self, scope: &KvScope, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let (scope, key, secrets) = (scope.clone(), key.to_owned(), self.secrets.clone());
        self.read_short(move |connection| kv::get(connection, &scope, &key, &secrets))
            .await
    }

    async fn kv_set(
        &self,
        scope: &KvScope,
        key: &str,
        value: &[u8],
        quota: &KvQuota,
    ) -> Result<(), StoreError> {
        let (scope, key, value, quota) = (scope.clone(), key.to_owned(), value.to_vec(), *quota);
        let secrets = self.secrets.clone();
        self.with(move |connection| kv::set(connection, &scope, &key, &value, &quota, &secrets))
            .await
    }

    async fn kv_delete(&self, scope: &KvScope, key: &str) -> Result<(), StoreError> {
        let (scope, key) = (scope.clone(), key.to_owned());
        self.with(move |connection| kv::delete(connection, &scope, &key))
            .await
    }

    async fn kv_list_prefix(
        &self,
        scope: &KvScope,
        prefix: &str,
        limit: u32,
    ) -> Result<Vec<String>, StoreError> {
        let (scope, prefix) = (scope.clone(), prefix.to_owned());
        self.read(move |connection| kv::list_prefix(connection, &scope, &prefix, limit))
            .await
    }

    async fn kv_compare_and_swap(
        &self,
        scope: &KvScope,
        key: &str,
        expected: Option<&[u8]>,
        new: Option<&[u8]>,
        quota: &KvQuota,
    ) -> Result<bool, StoreError> {
        let (scope, key, quota) = (scope.clone(), key.to_owned(), *quota);
        let (expected, new) = (expected.map(<[u8]>::to_vec), new.map(<[u8]>::to_vec));
        let secrets = self.secrets.clone();
        self.with(move |connection| {
            kv::compare_and_swap(
                connection,
                &scope,
                &key,
                expected.as_deref(),
                new.as_deref(),
                &quota,
                &secrets,
            )
        })
        .await
    }
}
