//! The production store: PostgreSQL through a deadpool-postgres pool. Several host
//! instances may share one database: queues hand out work with `FOR UPDATE SKIP LOCKED`
//! and writes that must not interleave take advisory locks.

mod account_store;
mod accounts;
mod api_keys;
mod audit;
mod console;
mod conversations;
mod deliveries;
mod directory;
mod error;
mod handover;
mod inbox_batch;
mod knowledge;
mod kv;
mod listings;
mod migrations;
mod plugins;
mod queue;
mod relay;
mod statements;
mod tenant_scope;
mod turns;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use deadpool_postgres::tokio_postgres::{self, NoTls};
use deadpool_postgres::{Client, Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};

use tenant_scope::in_tenant;

use super::sealing::SecretValues;
use crate::auth::SecretBox;

use super::{
    BreakerTrip, InstalledPlugin, KvQuota, KvScope, Store, StoreError, TenantPluginSettings,
};

/// 10 s: long enough for a server across a slow network, short enough that a wrong host
/// fails `loa serve` at start instead of hanging it.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// 30 s: a caller waits this long for a free pooled connection before giving up.
const WAIT_TIMEOUT: Duration = Duration::from_secs(30);

/// Connections kept for channel lookups and inbox writes, one short statement or
/// transaction each: every webhook looks its channel up and every send does too; the
/// webhook events are stored a group at a time ([`inbox_batch`]). 8: 4 capped
/// acknowledgements near 2,000 a second when each event was a transaction of its own.
const WEBHOOK_CONNECTIONS: usize = 8;

/// A PostgreSQL database behind a connection pool.
#[derive(Clone)]
pub struct PostgresStore {
    pool: Pool,
    /// Connections for channel lookups and inbox writes only: with one pool, a backlog of
    /// turns and sends held every connection and acknowledgements waited seconds for one
    /// (p50 12.6 s against 1.4 s with this pool, at 2,000/s on `benches/webhooks`).
    webhooks: Pool,
    /// Webhook events waiting to be stored together (group commit).
    inbox: Arc<inbox_batch::InboxBatch>,
    /// `host:port/database`, for error messages.
    target: String,
    /// How to connect, for the live relay's own listening connection.
    config: tokio_postgres::Config,
    /// Seals channel secrets, plugin config and key-value values at rest.
    secrets: SecretValues,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("PostgresStore")
            .field("target", &self.target)
            .finish_non_exhaustive()
    }
}

impl PostgresStore {
    /// Connects to the database at `url` (`postgres://user:password@host:port/database`,
    /// or libpq's `key=value` form) with a pool of up to `pool_size` connections (and 8
    /// more kept for webhooks), and applies pending migrations. Fails at once when the
    /// server cannot be reached.
    pub async fn connect(url: &str, pool_size: usize) -> Result<Self, StoreError> {
        let mut config: tokio_postgres::Config = url
            .parse()
            .map_err(|error| StoreError::Backend(format!("invalid PostgreSQL URL: {error}")))?;
        if config.get_application_name().is_none() {
            // Shows in pg_stat_activity, so a DBA can tell loa's connections apart.
            config.application_name("loa");
        }
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        let target = error::describe_target(&config);
        let manager = Manager::from_config(config.clone(), NoTls, manager_config());
        let webhooks = pool(
            Manager::from_config(config.clone(), NoTls, manager_config()),
            WEBHOOK_CONNECTIONS,
            &target,
        )?;
        let store = Self {
            pool: pool(manager, pool_size, &target)?,
            webhooks,
            inbox: Arc::default(),
            target,
            config,
            secrets: SecretValues::default(),
        };
        store.migrate().await?;
        Ok(store)
    }

    /// Seals channel secrets, plugin config and key-value values with `secrets` on write
    /// and opens them on read. Without it they are stored as given.
    pub fn with_secrets(mut self, secrets: Arc<SecretBox>) -> Self {
        self.secrets = SecretValues::new(secrets);
        self
    }

    /// A pooled connection.
    async fn client(&self) -> Result<Client, StoreError> {
        self.pool
            .get()
            .await
            .map_err(|error| error::pool(&self.target, error))
    }

    /// A connection of the pool kept for channel lookups and inbox writes.
    async fn webhook_client(&self) -> Result<Client, StoreError> {
        self.webhooks
            .get()
            .await
            .map_err(|error| error::pool(&self.target, error))
    }
}

fn manager_config() -> ManagerConfig {
    ManagerConfig {
        // Fast: a broken connection shows on its next statement and the pool replaces
        // it; a test query on every checkout would cost a round trip.
        recycling_method: RecyclingMethod::Fast,
    }
}

fn pool(manager: Manager, size: usize, target: &str) -> Result<Pool, StoreError> {
    Pool::builder(manager)
        .max_size(size.max(1))
        .runtime(Runtime::Tokio1)
        .wait_timeout(Some(WAIT_TIMEOUT))
        .build()
        .map_err(|error| StoreError::Backend(format!("PostgreSQL pool for {target}: {error}")))
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or_default()
}

#[async_trait]
impl Store for PostgresStore {
    async fn migrate(&self) -> Result<usize, StoreError> {
        migrations::run(&mut self.client().await?).await
    }

    fn live_relay(&self) -> Option<Arc<dyn super::LiveRelay>> {
        Some(Arc::new(self.clone()))
    }

    async fn record_installed_plugin(&self, plugin: &InstalledPlugin) -> Result<(), StoreError> {
        plugins::record_installed(&self.client().await?, plugin).await
    }

    async fn installed_plugins(&self) -> Result<Vec<InstalledPlugin>, StoreError> {
        plugins::installed(&self.client().await?).await
    }

    async fn tenant_plugin(
        &self,
        tenant_id: &str,
        plugin: &str,
    ) -> Result<Option<TenantPluginSettings>, StoreError> {
        let settings: Option<TenantPluginSettings> =
            in_tenant!(self, tenant_id, |scope| plugins::tenant_plugin(
                &scope, tenant_id, plugin
            ))?;
        settings
            .map(|settings| self.secrets.open_settings(settings))
            .transpose()
    }

    async fn put_tenant_plugin(&self, settings: &TenantPluginSettings) -> Result<(), StoreError> {
        let sealed = self.secrets.seal_settings(settings)?;
        in_tenant!(self, &settings.tenant_id, |scope| {
            plugins::put_tenant_plugin(&scope, &sealed)
        })
    }

    async fn record_breaker(
        &self,
        tenant_id: &str,
        plugin: &str,
        trip: Option<&BreakerTrip>,
    ) -> Result<(), StoreError> {
        plugins::record_breaker(&self.client().await?, tenant_id, plugin, trip).await
    }

    async fn kv_get(&self, scope: &KvScope, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        kv::get(&self.client().await?, scope, key, &self.secrets).await
    }

    async fn kv_set(
        &self,
        scope: &KvScope,
        key: &str,
        value: &[u8],
        quota: &KvQuota,
    ) -> Result<(), StoreError> {
        kv::set(
            &mut self.client().await?,
            scope,
            key,
            value,
            quota,
            &self.secrets,
        )
        .await
    }

    async fn kv_delete(&self, scope: &KvScope, key: &str) -> Result<(), StoreError> {
        kv::delete(&mut self.client().await?, scope, key).await
    }

    async fn kv_list_prefix(
        &self,
        scope: &KvScope,
        prefix: &str,
        limit: u32,
    ) -> Result<Vec<String>, StoreError> {
        kv::list_prefix(&self.client().await?, scope, prefix, limit).await
    }

    async fn kv_compare_and_swap(
        &self,
        scope: &KvScope,
        key: &str,
        expected: Option<&[u8]>,
        new: Option<&[u8]>,
        quota: &KvQuota,
    ) -> Result<bool, StoreError> {
        let mut client = self.client().await?;
        kv::compare_and_swap(&mut client, scope, key, expected, new, quota, &self.secrets).await
    }
}
