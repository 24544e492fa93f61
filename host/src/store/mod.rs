//! Storage: one [`Store`] trait for everything the host keeps, with a SQLite implementation
//! (the embedded default) and a PostgreSQL one. One contract test suite runs against each.

mod accounts;
pub(crate) mod codec;
pub(crate) mod console;
mod conversations;
mod deliveries;
mod handover;
mod knowledge;
mod model;
pub mod postgres;
mod queue;
pub mod relay;
mod sealing;
pub mod sqlite;

use async_trait::async_trait;

pub use accounts::{
    AccountStore, ApiKey, AuditEntry, ConversationFilter, Membership, NewAuditEntry,
    RefreshSession, User,
};
pub use codec::new_id;
pub use console::{ConsoleStore, InboxEntry, OperatorPresence, PresenceStatus};
pub use conversations::{
    ConversationOpening, ConversationStore, StoredDecision, TurnCommit, TurnCommitted,
};
pub use deliveries::{DeliveryFilter, DeliveryStore, QueueOutcome, QueuedMessage, Requeue};
pub use handover::{
    HandoverEvent, HandoverMove, HandoverNote, HandoverStore, MoveOutcome, OperatorReply,
    PeopleConversation, ReplyOutcome,
};
pub use knowledge::{Document, DocumentChunk, KnowledgeStore, StoredEmbedding};
pub use model::{BreakerTrip, InstalledPlugin, KvQuota, KvScope, TenantPluginSettings};
pub use queue::{
    AttemptResult, DeliveryAttempt, InboxEvent, InboxInsert, NewInboxEvent, OutboxItem, OutboxRow,
    OutboxStatus, ProviderIdsBefore, QueueDepths, QueueStore,
};
pub use relay::{LiveRelay, RelayListener};

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database could not be opened, read or written.
    #[error("database error: {0}")]
    Backend(String),
    /// A migration failed; the database is left at the last one that succeeded.
    #[error("migration {version} ({name}) failed: {message}")]
    Migration {
        /// Its number.
        version: u32,
        /// Its file name.
        name: &'static str,
        /// What the database said.
        message: String,
    },
    /// A stored row does not decode (written by a newer loa, or edited by hand).
    #[error("stored data is unreadable: {0}")]
    Corrupt(String),
    /// A key-value quota would be exceeded; nothing was written.
    #[error("{0}")]
    QuotaExceeded(String),
    /// A key-value key is empty or too long.
    #[error("{0}")]
    InvalidKey(String),
    /// The write clashes with what is stored (an id owned by another tenant, a duplicate).
    #[error("{0}")]
    Conflict(String),
}

/// Everything the host persists. Every tenant-scoped method takes the tenant explicitly.
/// Conversations, handover, the console's reads, the pipeline's queues, the deliveries API,
/// knowledge and accounts are in the supertraits.
#[async_trait]
pub trait Store:
    ConversationStore
    + HandoverStore
    + ConsoleStore
    + QueueStore
    + DeliveryStore
    + KnowledgeStore
    + AccountStore
    + Send
    + Sync
    + 'static
{
    /// Applies the migrations not yet applied; returns how many ran.
    async fn migrate(&self) -> Result<usize, StoreError>;

    /// How this instance hears the live events of others sharing the database
    /// (PostgreSQL); `None` when no other instance can share it (SQLite).
    fn live_relay(&self) -> Option<std::sync::Arc<dyn LiveRelay>> {
        None
    }

    /// Records that a plugin version was installed (idempotent).
    async fn record_installed_plugin(&self, plugin: &InstalledPlugin) -> Result<(), StoreError>;
    /// Every installed plugin version, by name then version.
    async fn installed_plugins(&self) -> Result<Vec<InstalledPlugin>, StoreError>;

    /// A tenant's settings for one plugin, if it ever enabled it.
    async fn tenant_plugin(
        &self,
        tenant_id: &str,
        plugin: &str,
    ) -> Result<Option<TenantPluginSettings>, StoreError>;
    /// Creates or replaces a tenant's settings for one plugin.
    async fn put_tenant_plugin(&self, settings: &TenantPluginSettings) -> Result<(), StoreError>;
    /// Records the breaker tripping (`Some`) or being reset (`None`) for (tenant, plugin).
    async fn record_breaker(
        &self,
        tenant_id: &str,
        plugin: &str,
        trip: Option<&BreakerTrip>,
    ) -> Result<(), StoreError>;

    /// Reads one value of a plugin's key-value store.
    async fn kv_get(&self, scope: &KvScope, key: &str) -> Result<Option<Vec<u8>>, StoreError>;
    /// Writes one value, within `quota`.
    async fn kv_set(
        &self,
        scope: &KvScope,
        key: &str,
        value: &[u8],
        quota: &KvQuota,
    ) -> Result<(), StoreError>;
    /// Deletes one value; a missing key is fine.
    async fn kv_delete(&self, scope: &KvScope, key: &str) -> Result<(), StoreError>;
    /// Keys starting with `prefix`, in byte order, at most `limit`.
    async fn kv_list_prefix(
        &self,
        scope: &KvScope,
        prefix: &str,
        limit: u32,
    ) -> Result<Vec<String>, StoreError>;
    /// Sets `key` to `new` (deletes it when `None`) only if it currently holds `expected`
    /// (`None` = absent), atomically. Returns whether it swapped.
    async fn kv_compare_and_swap(
        &self,
        scope: &KvScope,
        key: &str,
        expected: Option<&[u8]>,
        new: Option<&[u8]>,
        quota: &KvQuota,
    ) -> Result<bool, StoreError>;
}
