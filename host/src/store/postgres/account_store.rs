//! [`PostgresStore`] as an [`AccountStore`]. Users, sessions and key lookups by id are
//! not a tenant's: they run as loa's login role. Everything that names a tenant runs in
//! a tenant transaction (see [`super::tenant_scope`]).

use async_trait::async_trait;

use super::error::database;
use super::tenant_scope::in_tenant;
use super::{PostgresStore, accounts, api_keys, audit, listings, plugins};
use crate::conversation::model::{Bot, Channel, Conversation, Tenant};
use crate::store::{
    AccountStore, ApiKey, AuditEntry, ConversationFilter, Membership, NewAuditEntry,
    RefreshSession, StoreError, TenantPluginSettings, User,
};

#[async_trait]
impl AccountStore for PostgresStore {
    async fn tenants(&self) -> Result<Vec<Tenant>, StoreError> {
        accounts::tenants(&self.client().await?).await
    }

    async fn create_user(&self, user: &User) -> Result<(), StoreError> {
        accounts::create_user(&self.client().await?, user).await
    }

    async fn user(&self, id: &str) -> Result<Option<User>, StoreError> {
        accounts::user(&self.client().await?, id).await
    }

    async fn user_by_email(&self, email: &str) -> Result<Option<User>, StoreError> {
        accounts::user_by_email(&self.client().await?, email).await
    }

    async fn set_password(
        &self,
        user_id: &str,
        password_hash: &str,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let mut client = self.client().await?;
        let transaction = client.transaction().await.map_err(database)?;
        let changed = accounts::set_password(&transaction, user_id, password_hash, now_ms).await?;
        transaction.commit().await.map_err(database)?;
        Ok(changed)
    }

    async fn put_membership(&self, membership: &Membership) -> Result<(), StoreError> {
        in_tenant!(self, &membership.tenant_id, |scope| {
            accounts::put_membership(&scope, membership)
        })
    }

    async fn delete_membership(&self, tenant_id: &str, user_id: &str) -> Result<bool, StoreError> {
        in_tenant!(self, tenant_id, |scope| accounts::delete_membership(
            &scope, tenant_id, user_id
        ))
    }

    async fn membership(
        &self,
        tenant_id: &str,
        user_id: &str,
    ) -> Result<Option<Membership>, StoreError> {
        in_tenant!(self, tenant_id, |scope| accounts::membership(
            &scope, tenant_id, user_id
        ))
    }

    async fn memberships_of_user(&self, user_id: &str) -> Result<Vec<Membership>, StoreError> {
        // Across tenants by nature (which tenants may this user enter?): the login role.
        accounts::memberships_of_user(&self.client().await?, user_id).await
    }

    async fn members(&self, tenant_id: &str) -> Result<Vec<(Membership, User)>, StoreError> {
        in_tenant!(self, tenant_id, |scope| accounts::members(
            &scope, tenant_id
        ))
    }

    async fn insert_refresh_session(&self, session: &RefreshSession) -> Result<(), StoreError> {
        accounts::insert_refresh_session(&self.client().await?, session).await
    }

    async fn refresh_session_by_hash(
        &self,
        token_hash: &str,
    ) -> Result<Option<RefreshSession>, StoreError> {
        accounts::refresh_session_by_hash(&self.client().await?, token_hash).await
    }

    async fn rotate_refresh_session(
        &self,
        old_id: &str,
        next: &RefreshSession,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let mut client = self.client().await?;
        let transaction = client.transaction().await.map_err(database)?;
        let rotated = accounts::rotate_refresh_session(&transaction, old_id, next, now_ms).await?;
        if rotated {
            transaction.commit().await.map_err(database)?;
        }
        Ok(rotated)
    }

    async fn revoke_refresh_family(&self, family_id: &str, now_ms: i64) -> Result<u64, StoreError> {
        accounts::revoke_refresh_family(&self.client().await?, family_id, now_ms).await
    }

    async fn refresh_family_live(&self, family_id: &str) -> Result<bool, StoreError> {
        accounts::refresh_family_live(&self.client().await?, family_id).await
    }

    async fn create_api_key(&self, key: &ApiKey) -> Result<(), StoreError> {
        in_tenant!(self, &key.tenant_id, |scope| api_keys::create(&scope, key))
    }

    async fn api_key(&self, id: &str) -> Result<Option<ApiKey>, StoreError> {
        // Authentication: the tenant is what this lookup finds out.
        api_keys::by_id(&self.client().await?, id).await
    }

    async fn api_keys(&self, tenant_id: &str) -> Result<Vec<ApiKey>, StoreError> {
        in_tenant!(self, tenant_id, |scope| api_keys::of_tenant(
            &scope, tenant_id
        ))
    }

    async fn revoke_api_key(
        &self,
        tenant_id: &str,
        id: &str,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        in_tenant!(self, tenant_id, |scope| api_keys::revoke(
            &scope, tenant_id, id, now_ms
        ))
    }

    async fn touch_api_key(&self, id: &str, now_ms: i64) -> Result<(), StoreError> {
        api_keys::touch(&self.client().await?, id, now_ms).await
    }

    async fn append_audit(&self, entry: &NewAuditEntry) -> Result<i64, StoreError> {
        let Some(tenant_id) = &entry.tenant_id else {
            // A line of no tenant (a failed login of an unknown email): no tenant's wall.
            return audit::append(&self.client().await?, entry).await;
        };
        in_tenant!(self, tenant_id, |scope| audit::append(&scope, entry))
    }

    async fn audit_log(
        &self,
        tenant_id: &str,
        before_id: Option<i64>,
        limit: u32,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        in_tenant!(self, tenant_id, |scope| audit::of_tenant(
            &scope, tenant_id, before_id, limit
        ))
    }

    async fn bots_of_tenant(&self, tenant_id: &str) -> Result<Vec<Bot>, StoreError> {
        let bots: Vec<Bot> = in_tenant!(self, tenant_id, |scope| listings::bots_of_tenant(
            &scope, tenant_id
        ))?;
        bots.into_iter()
            .map(|bot| self.secrets.open_bot(bot))
            .collect()
    }

    async fn channels_of_tenant(&self, tenant_id: &str) -> Result<Vec<Channel>, StoreError> {
        let channels: Vec<Channel> = in_tenant!(self, tenant_id, |scope| {
            listings::channels_of_tenant(&scope, tenant_id)
        })?;
        channels
            .into_iter()
            .map(|channel| self.secrets.open_channel(channel))
            .collect()
    }

    async fn delete_channel(&self, tenant_id: &str, channel_id: &str) -> Result<bool, StoreError> {
        in_tenant!(self, tenant_id, |scope| listings::delete_channel(
            &scope, tenant_id, channel_id
        ))
    }

    async fn tenant_plugins(
        &self,
        tenant_id: &str,
    ) -> Result<Vec<TenantPluginSettings>, StoreError> {
        let settings: Vec<TenantPluginSettings> = in_tenant!(self, tenant_id, |scope| {
            plugins::tenant_plugins(&scope, tenant_id)
        })?;
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
        in_tenant!(self, tenant_id, |scope| listings::conversations(
            &scope, tenant_id, filter
        ))
    }
}
