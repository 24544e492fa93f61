//! Tenant transactions: the statements of one tenant's request run in a transaction as
//! the role `loa_tenant`, with `app.tenant_id` naming the tenant, so the row-level
//! security policies of migration 0005 keep every other tenant's rows out, even from a
//! statement that forgets its `WHERE tenant_id`.

use deadpool_postgres::{Client, Transaction};

use super::PostgresStore;
use super::error::database;
use super::statements::query_one;
use crate::store::StoreError;

/// Both settings in one round trip, both transaction-local (`SET LOCAL`): they end with
/// the transaction, so the pooled connection goes back to the login role with no tenant.
const ENTER_TENANT: &str =
    "SELECT set_config('role', 'loa_tenant', true), set_config('app.tenant_id', $1, true)";

impl PostgresStore {
    /// Begins a transaction for `tenant_id` on `client`, under row-level security. Commit
    /// it when done; dropped, it rolls back.
    pub(super) async fn tenant_scope<'a>(
        &self,
        client: &'a mut Client,
        tenant_id: &str,
    ) -> Result<Transaction<'a>, StoreError> {
        let transaction = client.transaction().await.map_err(database)?;
        query_one(&transaction, ENTER_TENANT, &[&tenant_id]).await?;
        Ok(transaction)
    }
}

/// Runs `$work` (an expression awaiting to `Result<T, StoreError>`, using the transaction
/// named `$scope`) in a tenant transaction for `$tenant` on a pooled connection of
/// `$store`, and commits it. Evaluates to `Result<T, StoreError>`.
macro_rules! in_tenant {
    ($store:expr, $tenant:expr, |$scope:ident| $work:expr) => {{
        let mut client = $store.client().await?;
        let $scope = $store.tenant_scope(&mut client, $tenant).await?;
        let value = $work.await?;
        $scope
            .commit()
            .await
            .map_err($crate::store::postgres::error::database)?;
        Ok::<_, $crate::store::StoreError>(value)
    }};
}
pub(super) use in_tenant;
