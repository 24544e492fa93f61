//! Tenant transactions: the statements of one tenant's request run in a transaction that
//! names the tenant, so the database itself can keep other tenants' rows out.

use deadpool_postgres::{Client, Transaction};

use super::PostgresStore;
use super::error::database;
use crate::store::StoreError;

impl PostgresStore {
    /// Begins a transaction for `tenant_id` on `client`. Commit it when done; dropped, it
    /// rolls back. (For now a plain transaction; row-level security comes with migration
    /// 0005.)
    pub(super) async fn tenant_scope<'a>(
        &self,
        client: &'a mut Client,
        tenant_id: &str,
    ) -> Result<Transaction<'a>, StoreError> {
        let _ = tenant_id;
        client.transaction().await.map_err(database)
    }
}
