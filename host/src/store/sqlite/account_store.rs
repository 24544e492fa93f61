//! [`SqliteStore`] as an [`AccountStore`]: each method moves its arguments into a job and
//! runs the matching function. Writes go to the writer thread, reads to a reader.

use async_trait::async_trait;

use super::{SqliteStore, accounts, api_keys, audit, listings, plugins};
use crate::conversation::model::{Bot, Channel, Conversation, Tenant};
use crate::store::{
    AccountStore, ApiKey, AuditEntry, ConversationFilter, Membership, NewAuditEntry,
    RefreshSession, StoreError, TenantPluginSettings, User,
};

#[async_trait]
impl AccountStore for SqliteStore {
    async fn tenants(&self) -> Result<Vec<Tenant>, StoreError> {
        self.read(|connection| accounts::tenants(connection)).await
    }

    async fn create_user(&self, user: &User) -> Result<(), StoreError> {
        let user = user.clone();
        self.with(move |connection| accounts::create_user(connection, &user))
            .await
    }

    async fn user(&self, id: &str) -> Result<Option<User>, StoreError> {
        let id = id.to_owned();
        self.read(move |connection| accounts::user(connection, &id))
            .await
    }

    async fn user_by_email(&self, email: &str) -> Result<Option<User>, StoreError> {
        let email = email.to_owned();
        self.read(move |connection| accounts::user_by_email(connection, &email))
            .await
    }

    async fn set_password(
        &self,
        user_id: &str,
        password_hash: &str,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let (user_id, hash) = (user_id.to_owned(), password_hash.to_owned());
        self.with(move |connection| accounts::set_password(connection, &user_id, &hash, now_ms))
            .await
    }

    async fn put_membership(&self, membership: &Membership) -> Result<(), StoreError> {
        let membership = membership.clone();
        self.with(move |connection| accounts::put_membership(connection, &membership))
            .await
    }

    async fn delete_membership(&self, tenant_id: &str, user_id: &str) -> Result<bool, StoreError> {
        let (tenant_id, user_id) = (tenant_id.to_owned(), user_id.to_owned());
        self.with(move |connection| accounts::delete_membership(connection, &tenant_id, &user_id))
            .await
    }

    async fn membership(
        &self,
        tenant_id: &str,
        user_id: &str,
    ) -> Result<Option<Membership>, StoreError> {
        let (tenant_id, user_id) = (tenant_id.to_owned(), user_id.to_owned());
        self.read(move |connection| accounts::membership(connection, &tenant_id, &user_id))
            .await
    }

    async fn memberships_of_user(&self, user_id: &str) -> Result<Vec<Membership>, StoreError> {
        let user_id = user_id.to_owned();
        self.read(move |connection| accounts::memberships_of_user(connection, &user_id))
            .await
    }

    async fn members(&self, tenant_id: &str) -> Result<Vec<(Membership, User)>, StoreError> {
        let tenant_id = tenant_id.to_owned();
        self.read(move |connection| accounts::members(connection, &tenant_id))
            .await
    }

    async fn insert_refresh_session(&self, session: &RefreshSession) -> Result<(), StoreError> {
        let session = session.clone();
        self.with(move |connection| accounts::insert_refresh_session(connection, &session))
            .await
    }

    async fn refresh_session_by_hash(
        &self,
        token_hash: &str,
    ) -> Result<Option<RefreshSession>, StoreError> {
        let hash = token_hash.to_owned();
        self.read(move |connection| accounts::refresh_session_by_hash(connection, &hash))
            .await
    }

    async fn rotate_refresh_session(
        &self,
        old_id: &str,
        next: &RefreshSession,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let (old_id, next) = (old_id.to_owned(), next.clone());
        self.with(move |connection| {
            accounts::rotate_refresh_session(connection, &old_id, &next, now_ms)
        })
        .await
    }

    async fn revoke_refresh_family(&self, family_id: &str, now_ms: i64) -> Result<u64, StoreError> {
        let family_id = family_id.to_owned();
        self.with(move |connection| accounts::revoke_refresh_family(connection, &family_id, now_ms))
            .await
    }

    async fn refresh_family_live(&self, family_id: &str) -> Result<bool, StoreError> {
        let family_id = family_id.to_owned();
        self.read(move |connection| accounts::refresh_family_live(connection, &family_id))
            .await
    }

    async fn create_api_key(&self, key: &ApiKey) -> Result<(), StoreError> {
        let key = key.clone();
        self.with(move |connection| api_keys::create(connection, &key))
            .await
    }

    async fn api_key(&self, id: &str) -> Result<Option<ApiKey>, StoreError> {
        let id = id.to_owned();
        self.read(move |connection| api_keys::by_id(connection, &id))
            .await
    }

    async fn api_keys(&self, tenant_id: &str) -> Result<Vec<ApiKey>, StoreError> {
        let tenant_id = tenant_id.to_owned();
        self.read(move |connection| api_keys::of_tenant(connection, &tenant_id))
            .await
    }

    async fn revoke_api_key(
        &self,
        tenant_id: &str,
        id: &str,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let (tenant_id, id) = (tenant_id.to_owned(), id.to_owned());
        self.with(move |connection| api_keys::revoke(connection, &tenant_id, &id, now_ms))
            .await
    }

    async fn touch_api_key(&self, id: &str, now_ms: i64) -> Result<(), StoreError> {
        let id = id.to_owned();
        self.with(move |connection| api_keys::touch(connection, &id, now_ms))
            .await
    }

    async fn append_audit(&self, entry: &NewAuditEntry) -> Result<i64, StoreError> {
        let entry = entry.clone();
        self.with(move |connection| audit::append(connection, &entry))
            .await
    }

    async fn audit_log(
        &self,
        tenant_id: &str,
        before_id: Option<i64>,
        limit: u32,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        let tenant_id = tenant_id.to_owned();
        self.read(move |connection| audit::of_tenant(connection, &tenant_id, before_id, limit))
            .await
    }

    async fn bots_of_tenant(&self, tenant_id: &str) -> Result<Vec<Bot>, StoreError> {
        let tenant_id = tenant_id.to_owned();
        self.read(move |connection| listings::bots_of_tenant(connection, &tenant_id))
            .await?
            .into_iter()
            .map(|bot| self.secrets.open_bot(bot))
            .collect()
    }

    async fn channels_of_tenant(&self, tenant_id: &str) -> Result<Vec<Channel>, StoreError> {
        let tenant_id = tenant_id.to_owned();
        let channels = self
            .read(move |connection| listings::channels_of_tenant(connection, &tenant_id))
            .await?;
        channels
            .into_iter()
            .map(|channel| self.secrets.open_channel(channel))
            .collect()
    }

    async fn delete_channel(&self, tenant_id: &str, channel_id: &str) -> Result<bool, StoreError> {
        let (tenant_id, channel_id) = (tenant_id.to_owned(), channel_id.to_owned());
        self.with(move |connection| listings::delete_channel(connection, &tenant_id, &channel_id))
            .await
    }

    async fn tenant_plugins(
        &self,
        tenant_id: &str,
    ) -> Result<Vec<TenantPluginSettings>, StoreError> {
        let tenant_id = tenant_id.to_owned();
        let settings = self
            .read(move |connection| plugins::tenant_plugins(connection, &tenant_id))
            .await?;
        settings
            .into_iter()
            .map(|settings| self.secrets.open_settings(settings))
            .collect()
    }

    async fn conversations(
        &self,
        tenant_id: &str,
        filter: &ConversationFilter,
    ) -> Result<Vec<Conversation>, StoreError> {
        let (tenant_id, filter) = (tenant_id.to_owned(), filter.clone());
        self.read(move |connection| listings::conversations(connection, &tenant_id, &filter))
            .await
    }
}
