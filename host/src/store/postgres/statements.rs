//! Running statements on a pooled connection or a transaction: cached prepared
//! statements, typed column reads, and advisory locks.

use deadpool_postgres::GenericClient;
use deadpool_postgres::tokio_postgres::Row;
use deadpool_postgres::tokio_postgres::types::{FromSql, ToSql};

use super::error::database;
use crate::store::StoreError;

/// Parameters of a statement.
pub(super) type Params<'a> = [&'a (dyn ToSql + Sync)];

/// Rows of `sql`, prepared once per connection.
pub(super) async fn query<C: GenericClient>(
    client: &C,
    sql: &str,
    params: &Params<'_>,
) -> Result<Vec<Row>, StoreError> {
    let statement = client.prepare_cached(sql).await.map_err(database)?;
    client.query(&statement, params).await.map_err(database)
}

/// The row of `sql`, if any.
pub(super) async fn query_opt<C: GenericClient>(
    client: &C,
    sql: &str,
    params: &Params<'_>,
) -> Result<Option<Row>, StoreError> {
    let statement = client.prepare_cached(sql).await.map_err(database)?;
    client.query_opt(&statement, params).await.map_err(database)
}

/// The one row of `sql`.
pub(super) async fn query_one<C: GenericClient>(
    client: &C,
    sql: &str,
    params: &Params<'_>,
) -> Result<Row, StoreError> {
    let statement = client.prepare_cached(sql).await.map_err(database)?;
    client.query_one(&statement, params).await.map_err(database)
}

/// Runs `sql`; returns how many rows it touched.
pub(super) async fn execute<C: GenericClient>(
    client: &C,
    sql: &str,
    params: &Params<'_>,
) -> Result<u64, StoreError> {
    let statement = client.prepare_cached(sql).await.map_err(database)?;
    client.execute(&statement, params).await.map_err(database)
}

/// Named families of advisory locks. The two-key form keeps them apart from each other
/// and from any single-key lock another application on the database takes.
#[derive(Debug, Clone, Copy)]
#[repr(i32)]
pub(super) enum LockSpace {
    /// Applying migrations to one schema.
    Migrations = 0x6c6f_6101,
    /// Writing one (tenant, plugin) key-value store: quotas and compare-and-swap.
    KeyValue = 0x6c6f_6102,
    /// Adding an event of one customer to the inbox: ids commit in order.
    InboxCustomer = 0x6c6f_6103,
}

/// Takes the advisory lock `(space, hash of key)` until the transaction ends.
pub(super) async fn lock<C: GenericClient>(
    client: &C,
    space: LockSpace,
    key: &str,
) -> Result<(), StoreError> {
    execute(
        client,
        "SELECT pg_advisory_xact_lock($1, hashtext($2))",
        &[&(space as i32), &key],
    )
    .await?;
    Ok(())
}

/// Reads column `name`; a missing or mistyped value is corrupt data.
pub(super) fn column<'a, T: FromSql<'a>>(row: &'a Row, name: &str) -> Result<T, StoreError> {
    row.try_get(name)
        .map_err(|error| StoreError::Corrupt(format!("column {name}: {error}")))
}

/// Reads a counter stored as BIGINT into the `u32` the model uses.
pub(super) fn counter(row: &Row, name: &str) -> Result<u32, StoreError> {
    let value: i64 = column(row, name)?;
    u32::try_from(value)
        .map_err(|_| StoreError::Corrupt(format!("column {name}: {value} is not a count")))
}

/// A limit as the BIGINT PostgreSQL compares it with.
pub(super) fn limit(value: u32) -> i64 {
    i64::from(value)
}
