//! The part of the [`Store`](super::Store) that keeps people and their access: users,
//! tenant memberships with a role, refresh-token sessions, API keys and the append-only
//! audit log; plus the tenant-wide listings the admin API pages through.
//!
//! Secrets are never stored: passwords as argon2id hashes, refresh tokens and API keys as
//! SHA-256 hashes of the random part.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::{StoreError, TenantPluginSettings};
use crate::auth::Role;
use crate::conversation::model::{Bot, Channel, Conversation, SessionState, Tenant};

/// A person who can log in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    /// loa's id (`us_…`).
    pub id: String,
    /// Login name, stored lower-case; unique.
    pub email: String,
    /// Shown in the console and the audit log.
    pub display_name: String,
    /// argon2id PHC string; empty while an invitation is not accepted (no login then).
    pub password_hash: String,
    /// When the password last changed, ms since the Unix epoch: access tokens issued
    /// before it are refused.
    pub password_changed_at_ms: i64,
    /// A disabled user cannot log in and their tokens are refused.
    pub disabled: bool,
    /// When created, ms since the Unix epoch.
    pub created_at_ms: i64,
}

/// A user's role in one tenant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Membership {
    /// The tenant.
    pub tenant_id: String,
    /// The user.
    pub user_id: String,
    /// What they may do there.
    pub role: Role,
    /// When they joined, ms since the Unix epoch.
    pub created_at_ms: i64,
}

/// One refresh token of a login. Rotating a token creates the next one in the same
/// family; presenting a rotated token again revokes the whole family (it was stolen).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefreshSession {
    /// loa's id (`rt_…`).
    pub id: String,
    /// Every token of one login shares it (`rf_…`); it is the access token's `sid`.
    pub family_id: String,
    /// The user.
    pub user_id: String,
    /// SHA-256 (hex) of the token's secret.
    pub token_hash: String,
    /// When issued, ms since the Unix epoch.
    pub created_at_ms: i64,
    /// When it stops working, ms since the Unix epoch.
    pub expires_at_ms: i64,
    /// Set when it was exchanged for its successor.
    pub rotated_at_ms: Option<i64>,
    /// Set when it (or its family) was revoked: logout, reuse, password change.
    pub revoked_at_ms: Option<i64>,
}

/// An API key of a tenant, for the shop's servers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKey {
    /// loa's id (`ak_…`), also the public part of the key (`loa_ak_…`).
    pub id: String,
    /// The tenant it acts for.
    pub tenant_id: String,
    /// What the admin called it (`shop backend`).
    pub name: String,
    /// The first characters of the whole key, shown in lists so a person can tell keys apart.
    pub prefix: String,
    /// SHA-256 (hex) of the secret part.
    pub secret_hash: String,
    /// What it may do (`messages:send`), as stored names.
    pub scopes: Vec<String>,
    /// Who created it (`user:us_…`).
    pub created_by: String,
    /// When created, ms since the Unix epoch.
    pub created_at_ms: i64,
    /// When it last authenticated a request, ms since the Unix epoch.
    pub last_used_at_ms: Option<i64>,
    /// Set when revoked; a revoked key authenticates nothing.
    pub revoked_at_ms: Option<i64>,
}

/// One audit-log line to append.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewAuditEntry {
    /// The tenant it concerns; `None` for events of no tenant (a failed login of an
    /// unknown email).
    pub tenant_id: Option<String>,
    /// Who: `user:us_…`, `key:ak_…`, `cli`, or `anonymous`.
    pub actor: String,
    /// What, dotted (`login.ok`, `login.failed`, `member.role_changed`, `api_key.created`,
    /// `plugin.configured`).
    pub action: String,
    /// What it was done to (`user:us_…`, `plugin:zalo-oa`), if anything.
    pub target: Option<String>,
    /// The client's IP address, when over HTTP.
    pub ip: Option<String>,
    /// Details (changed fields, old and new role); never a secret.
    pub detail: serde_json::Value,
    /// When, ms since the Unix epoch.
    pub at_ms: i64,
}

/// One stored audit-log line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// Increasing id: the cursor of the log.
    pub id: i64,
    /// The line.
    #[serde(flatten)]
    pub entry: NewAuditEntry,
}

/// Which conversations of a tenant to list, newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConversationFilter {
    /// Only this bot's.
    pub bot_id: Option<String>,
    /// Only this channel's.
    pub channel_id: Option<String>,
    /// Only in this state.
    pub state: Option<SessionState>,
    /// Cursor: only conversations strictly before this `(created_at_ms, id)` in the
    /// newest-first order (the last one of the previous page).
    pub before: Option<(i64, String)>,
    /// Page size.
    pub limit: u32,
}

/// Users, memberships, sessions, API keys, the audit log and tenant-wide listings.
///
/// Every method that names a tenant reads and writes only that tenant's rows (on
/// PostgreSQL also under row-level security with the tenant set for the transaction).
#[async_trait]
pub trait AccountStore: Send + Sync {
    /// Every tenant, by id.
    async fn tenants(&self) -> Result<Vec<Tenant>, StoreError>;

    /// Creates a user; [`StoreError::Conflict`] when the email is taken.
    async fn create_user(&self, user: &User) -> Result<(), StoreError>;
    /// A user by id.
    async fn user(&self, id: &str) -> Result<Option<User>, StoreError>;
    /// A user by email (compared lower-case).
    async fn user_by_email(&self, email: &str) -> Result<Option<User>, StoreError>;
    /// Sets a user's password hash and `password_changed_at_ms`, and revokes every
    /// refresh session of theirs, in one transaction. `false` when there is no such user.
    async fn set_password(
        &self,
        user_id: &str,
        password_hash: &str,
        now_ms: i64,
    ) -> Result<bool, StoreError>;

    /// Adds a member or changes their role.
    async fn put_membership(&self, membership: &Membership) -> Result<(), StoreError>;
    /// Removes a member; `false` when they were not one.
    async fn delete_membership(&self, tenant_id: &str, user_id: &str) -> Result<bool, StoreError>;
    /// One membership.
    async fn membership(
        &self,
        tenant_id: &str,
        user_id: &str,
    ) -> Result<Option<Membership>, StoreError>;
    /// Every tenant a user belongs to, by tenant id.
    async fn memberships_of_user(&self, user_id: &str) -> Result<Vec<Membership>, StoreError>;
    /// A tenant's members with their user records, by email.
    async fn members(&self, tenant_id: &str) -> Result<Vec<(Membership, User)>, StoreError>;

    /// Stores a new refresh session.
    async fn insert_refresh_session(&self, session: &RefreshSession) -> Result<(), StoreError>;
    /// A refresh session by the hash of its token.
    async fn refresh_session_by_hash(
        &self,
        token_hash: &str,
    ) -> Result<Option<RefreshSession>, StoreError>;
    /// Marks `old_id` rotated and stores `next`, atomically, only if `old_id` is neither
    /// rotated nor revoked. `false` when it was (the caller then revokes the family).
    async fn rotate_refresh_session(
        &self,
        old_id: &str,
        next: &RefreshSession,
        now_ms: i64,
    ) -> Result<bool, StoreError>;
    /// Revokes every session of a family (logout, reuse of a rotated token). Returns how
    /// many were still live.
    async fn revoke_refresh_family(&self, family_id: &str, now_ms: i64) -> Result<u64, StoreError>;
    /// Whether a family still has a live (unrevoked) session: an access token of a
    /// revoked family is refused.
    async fn refresh_family_live(&self, family_id: &str) -> Result<bool, StoreError>;

    /// Stores a new API key.
    async fn create_api_key(&self, key: &ApiKey) -> Result<(), StoreError>;
    /// An API key by id, whatever its tenant (authentication looks it up before it knows
    /// the tenant; the caller then checks the secret).
    async fn api_key(&self, id: &str) -> Result<Option<ApiKey>, StoreError>;
    /// A tenant's API keys, revoked ones included, newest first.
    async fn api_keys(&self, tenant_id: &str) -> Result<Vec<ApiKey>, StoreError>;
    /// Revokes one of a tenant's keys; `false` when it has no such live key.
    async fn revoke_api_key(
        &self,
        tenant_id: &str,
        id: &str,
        now_ms: i64,
    ) -> Result<bool, StoreError>;
    /// Records that a key authenticated a request (best effort, may be coarse).
    async fn touch_api_key(&self, id: &str, now_ms: i64) -> Result<(), StoreError>;

    /// Appends one audit-log line; returns its id. Lines are never changed or deleted.
    async fn append_audit(&self, entry: &NewAuditEntry) -> Result<i64, StoreError>;
    /// A tenant's audit log, newest first, ids below `before_id` when given, at most `limit`.
    async fn audit_log(
        &self,
        tenant_id: &str,
        before_id: Option<i64>,
        limit: u32,
    ) -> Result<Vec<AuditEntry>, StoreError>;

    /// A tenant's bots, by id.
    async fn bots_of_tenant(&self, tenant_id: &str) -> Result<Vec<Bot>, StoreError>;
    /// A tenant's channels, by id.
    async fn channels_of_tenant(&self, tenant_id: &str) -> Result<Vec<Channel>, StoreError>;
    /// Deletes a channel of a tenant that has no contacts yet; [`StoreError::Conflict`]
    /// when it has some (disable it instead). `false` when there is no such channel.
    async fn delete_channel(&self, tenant_id: &str, channel_id: &str) -> Result<bool, StoreError>;
    /// A tenant's plugin settings, by plugin name.
    async fn tenant_plugins(
        &self,
        tenant_id: &str,
    ) -> Result<Vec<TenantPluginSettings>, StoreError>;
    /// A page of a tenant's conversations, newest first (`created_at_ms`, then id).
    async fn conversations(
        &self,
        tenant_id: &str,
        filter: &ConversationFilter,
    ) -> Result<Vec<Conversation>, StoreError>;
}
