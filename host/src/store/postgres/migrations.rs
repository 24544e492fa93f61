//! Forward-only numbered migrations for PostgreSQL, embedded from `migrations/postgres/`.
//! Safe when several host instances start at once: each step runs in a transaction that
//! first takes an advisory lock for the schema, so one instance applies and the others
//! then see it applied.

use deadpool_postgres::Client;

use super::error::database;
use super::statements::{LockSpace, execute, lock, query_one};
use crate::store::StoreError;

/// (number, file name, SQL), in order. A new migration is a new file and a new line here;
/// an applied one is never edited.
const MIGRATIONS: &[(u32, &str, &str)] = &[
    (
        1,
        "0001_plugins.sql",
        include_str!("../../../../migrations/postgres/0001_plugins.sql"),
    ),
    (
        2,
        "0002_conversations.sql",
        include_str!("../../../../migrations/postgres/0002_conversations.sql"),
    ),
    (
        3,
        "0003_knowledge.sql",
        include_str!("../../../../migrations/postgres/0003_knowledge.sql"),
    ),
    (
        4,
        "0004_accounts.sql",
        include_str!("../../../../migrations/postgres/0004_accounts.sql"),
    ),
    (
        5,
        "0005_row_level_security.sql",
        include_str!("../../../../migrations/postgres/0005_row_level_security.sql"),
    ),
    (
        6,
        "0006_handover.sql",
        include_str!("../../../../migrations/postgres/0006_handover.sql"),
    ),
    (
        7,
        "0007_presence.sql",
        include_str!("../../../../migrations/postgres/0007_presence.sql"),
    ),
    (
        8,
        "0008_deliveries.sql",
        include_str!("../../../../migrations/postgres/0008_deliveries.sql"),
    ),
    (
        9,
        "0009_queue_claims.sql",
        include_str!("../../../../migrations/postgres/0009_queue_claims.sql"),
    ),
    (
        10,
        "0010_outbox_doubt.sql",
        include_str!("../../../../migrations/postgres/0010_outbox_doubt.sql"),
    ),
];

/// The lock key: migrations of different schemas (one per test, one per deployment) do
/// not wait for each other.
const SCHEMA_KEY: &str = "SELECT current_schema()";

/// Applies the migrations the database has not seen, each in its own transaction.
pub(super) async fn run(client: &mut Client) -> Result<usize, StoreError> {
    let schema: Option<String> = query_one(&*client, SCHEMA_KEY, &[])
        .await?
        .try_get(0)
        .map_err(database)?;
    let Some(schema) = schema else {
        return Err(StoreError::Backend(
            "PostgreSQL: no schema to create tables in; \
             the search_path names no schema that exists"
                .into(),
        ));
    };
    let transaction = client.transaction().await.map_err(database)?;
    lock(&transaction, LockSpace::Migrations, &schema).await?;
    transaction
        .batch_execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (
                version       INTEGER PRIMARY KEY,
                name          TEXT NOT NULL,
                applied_at_ms BIGINT NOT NULL
            )",
        )
        .await
        .map_err(database)?;
    transaction.commit().await.map_err(database)?;

    let mut applied = 0;
    for &(version, name, sql) in MIGRATIONS {
        let failed = |error: deadpool_postgres::tokio_postgres::Error| StoreError::Migration {
            version,
            name,
            message: database(error).to_string(),
        };
        let transaction = client.transaction().await.map_err(failed)?;
        lock(&transaction, LockSpace::Migrations, &schema).await?;
        let number = i32::try_from(version).unwrap_or(i32::MAX);
        let done: bool = query_one(
            &transaction,
            "SELECT EXISTS(SELECT 1 FROM schema_migrations WHERE version = $1)",
            &[&number],
        )
        .await?
        .try_get(0)
        .map_err(database)?;
        if done {
            continue;
        }
        transaction.batch_execute(sql).await.map_err(failed)?;
        execute(
            &transaction,
            "INSERT INTO schema_migrations (version, name, applied_at_ms) VALUES ($1, $2, $3)",
            &[&number, &name, &super::now_ms()],
        )
        .await?;
        transaction.commit().await.map_err(failed)?;
        tracing::info!(version, name, "applied migration");
        applied += 1;
    }
    Ok(applied)
}
