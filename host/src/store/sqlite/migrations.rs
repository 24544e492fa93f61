//! Forward-only numbered migrations for SQLite, embedded from `migrations/sqlite/`.

use rusqlite::Connection;

use crate::store::StoreError;

/// (number, file name, SQL), in order. A new migration is a new file and a new line here;
/// an applied one is never edited.
const MIGRATIONS: &[(u32, &str, &str)] = &[
    (
        1,
        "0001_plugins.sql",
        include_str!("../../../../migrations/sqlite/0001_plugins.sql"),
    ),
    (
        2,
        "0002_conversations.sql",
        include_str!("../../../../migrations/sqlite/0002_conversations.sql"),
    ),
    (
        3,
        "0003_knowledge.sql",
        include_str!("../../../../migrations/sqlite/0003_knowledge.sql"),
    ),
    (
        4,
        "0004_accounts.sql",
        include_str!("../../../../migrations/sqlite/0004_accounts.sql"),
    ),
    (
        5,
        "0005_handover.sql",
        include_str!("../../../../migrations/sqlite/0005_handover.sql"),
    ),
    (
        6,
        "0006_presence.sql",
        include_str!("../../../../migrations/sqlite/0006_presence.sql"),
    ),
    (
        7,
        "0007_deliveries.sql",
        include_str!("../../../../migrations/sqlite/0007_deliveries.sql"),
    ),
];

/// Applies the migrations the database has not seen, each in its own transaction.
pub(super) fn run(connection: &mut Connection) -> Result<usize, StoreError> {
    connection
        .execute_batch(
            "CREATE TABLE IF NOT EXISTS schema_migrations (
                version INTEGER PRIMARY KEY,
                name TEXT NOT NULL,
                applied_at_ms INTEGER NOT NULL
            )",
        )
        .map_err(|error| StoreError::Backend(error.to_string()))?;
    let mut applied = 0;
    for &(version, name, sql) in MIGRATIONS {
        let done: bool = connection
            .query_row(
                "SELECT EXISTS(SELECT 1 FROM schema_migrations WHERE version = ?1)",
                [version],
                |row| row.get(0),
            )
            .map_err(|error| StoreError::Backend(error.to_string()))?;
        if done {
            continue;
        }
        let failed = |error: rusqlite::Error| StoreError::Migration {
            version,
            name,
            message: error.to_string(),
        };
        let transaction = connection.transaction().map_err(failed)?;
        transaction.execute_batch(sql).map_err(failed)?;
        transaction
            .execute(
                "INSERT INTO schema_migrations (version, name, applied_at_ms) VALUES (?1, ?2, ?3)",
                rusqlite::params![version, name, super::now_ms()],
            )
            .map_err(failed)?;
        transaction.commit().map_err(failed)?;
        tracing::info!(version, name, "applied migration");
        applied += 1;
    }
    Ok(applied)
}
