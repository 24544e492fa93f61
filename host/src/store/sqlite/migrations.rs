//! Forward-only numbered migrations for SQLite, embedded from `migrations/sqlite/`.

use rusqlite::{Connection, OptionalExtension};

use super::backend;
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
    (
        8,
        "0008_queue_statuses.sql",
        include_str!("../../../../migrations/sqlite/0008_queue_statuses.sql"),
    ),
    (
        9,
        "0009_lean_queue_indexes.sql",
        include_str!("../../../../migrations/sqlite/0009_lean_queue_indexes.sql"),
    ),
    (
        10,
        "0010_outbox_doubt.sql",
        include_str!("../../../../migrations/sqlite/0010_outbox_doubt.sql"),
    ),
];

/// Applies the migrations the database has not seen, each in its own transaction, with
/// foreign keys checked before each commit rather than statement by statement: a
/// migration may rebuild a table other tables refer to, as SQLite's ALTER TABLE
/// documentation describes (the setting cannot change inside a transaction).
pub(super) fn run(connection: &mut Connection) -> Result<usize, StoreError> {
    let enforced: bool = connection
        .query_row("PRAGMA foreign_keys", [], |row| row.get(0))
        .map_err(backend)?;
    connection
        .execute_batch("PRAGMA foreign_keys = OFF")
        .map_err(backend)?;
    let applied = apply_pending(connection, MIGRATIONS);
    if enforced {
        connection
            .execute_batch("PRAGMA foreign_keys = ON")
            .map_err(backend)?;
    }
    applied
}

fn apply_pending(
    connection: &mut Connection,
    migrations: &[(u32, &'static str, &str)],
) -> Result<usize, StoreError> {
    connection
        .execute_batch(
            "CREATE TABLE IF NOT EXISTS schema_migrations (
                version INTEGER PRIMARY KEY,
                name TEXT NOT NULL,
                applied_at_ms INTEGER NOT NULL
            )",
        )
        .map_err(backend)?;
    let mut applied = 0;
    for &(version, name, sql) in migrations {
        let done: bool = connection
            .query_row(
                "SELECT EXISTS(SELECT 1 FROM schema_migrations WHERE version = ?1)",
                [version],
                |row| row.get(0),
            )
            .map_err(backend)?;
        if done {
            continue;
        }
        let failed = |message: String| StoreError::Migration {
            version,
            name,
            message,
        };
        let sqlite_failed = |error: rusqlite::Error| failed(error.to_string());
        let transaction = connection.transaction().map_err(sqlite_failed)?;
        transaction.execute_batch(sql).map_err(sqlite_failed)?;
        let broken: Option<String> = transaction
            .query_row("PRAGMA foreign_key_check", [], |row| row.get(0))
            .optional()
            .map_err(sqlite_failed)?;
        if let Some(table) = broken {
            return Err(failed(format!(
                "rows of {table} refer to rows that do not exist"
            )));
        }
        transaction
            .execute(
                "INSERT INTO schema_migrations (version, name, applied_at_ms) VALUES (?1, ?2, ?3)",
                rusqlite::params![version, name, super::now_ms()],
            )
            .map_err(sqlite_failed)?;
        transaction.commit().map_err(sqlite_failed)?;
        tracing::info!(version, name, "applied migration");
        applied += 1;
    }
    Ok(applied)
}

#[cfg(test)]
mod tests {
    use rusqlite::Connection;

    use super::{MIGRATIONS, apply_pending, run};

    fn count(connection: &Connection, sql: &str) -> i64 {
        connection
            .query_row(sql, [], |row| row.get(0))
            .expect("count")
    }

    /// Migration 8 rebuilds the inbox and the outbox: their rows, the delivery log's
    /// references to them and their ids' sequence survive; foreign keys are on again after.
    #[test]
    fn rebuilding_the_queues_keeps_their_rows_and_ids() {
        let mut connection = Connection::open_in_memory().expect("open");
        connection
            .execute_batch("PRAGMA foreign_keys = ON")
            .expect("foreign keys");
        apply_pending(&mut connection, &MIGRATIONS[..7]).expect("up to 7");
        connection
            .execute_batch(
                "INSERT INTO tenants (id, name, created_at_ms) VALUES ('may', 'May', 1);
                 INSERT INTO bots (id, tenant_id, name, settings_json, widget_secret,
                                   created_at_ms)
                 VALUES ('b1', 'may', 'Shop', '{}', 's', 1);
                 INSERT INTO channels (id, tenant_id, bot_id, kind_json, created_at_ms)
                 VALUES ('tg', 'may', 'b1', '{}', 1);
                 INSERT INTO contacts (id, tenant_id, channel_id, channel_user_id,
                                       created_at_ms)
                 VALUES ('k1', 'may', 'tg', 'u1', 1);
                 INSERT INTO conversations (id, tenant_id, bot_id, channel_id, contact_id, state,
                                            language, last_activity_ms, created_at_ms)
                 VALUES ('c1', 'may', 'b1', 'tg', 'k1', 'bot', 'vi', 1, 1);
                 INSERT INTO messages (tenant_id, conversation_id, channel_id, direction,
                                       sender_json, content_json, created_at_ms)
                 VALUES ('may', 'c1', 'tg', 'outbound', '{}', '{}', 1);
                 INSERT INTO outbox (tenant_id, channel_id, conversation_id, message_id,
                                     idempotency_key, status, next_attempt_at_ms,
                                     created_at_ms, updated_at_ms)
                 VALUES ('may', 'tg', 'c1', last_insert_rowid(), 'k1', 'sent', 1, 1, 1);
                 INSERT INTO delivery_log (outbox_id, attempt, result_json, elapsed_ms, at_ms)
                 VALUES (last_insert_rowid(), 1, '{}', 5, 1);
                 INSERT INTO inbox_events (tenant_id, channel_id, channel_message_id,
                     channel_user_id, payload_json, status, available_at_ms, received_at_ms)
                 VALUES ('may', 'tg', 'm1', 'u1', '{}', 'done', 1, 1),
                        ('may', 'tg', 'm2', 'u1', '{}', 'pending', 1, 1),
                        ('may', 'tg', 'm3', 'u1', '{}', 'pending', 1, 1);
                 DELETE FROM inbox_events WHERE channel_message_id = 'm3';",
            )
            .expect("rows at version 7");

        assert_eq!(run(&mut connection).expect("migrate"), MIGRATIONS.len() - 7);

        assert_eq!(count(&connection, "SELECT count(*) FROM inbox_events"), 2);
        assert_eq!(
            count(
                &connection,
                "SELECT count(*) FROM outbox o JOIN delivery_log d ON d.outbox_id = o.id"
            ),
            1
        );
        connection
            .execute(
                "INSERT INTO inbox_events (tenant_id, channel_id, channel_message_id,
                     channel_user_id, payload_json, available_at_ms, received_at_ms)
                 VALUES ('may', 'tg', 'm4', 'u1', '{}', 1, 1)",
                [],
            )
            .expect("insert after");
        assert_eq!(
            connection.last_insert_rowid(),
            4,
            "the id of the deleted event is not reused"
        );
        assert_eq!(count(&connection, "PRAGMA foreign_keys"), 1);
    }

    /// The statements each webhook, turn and send runs on the queues open no temporary
    /// b-tree: SQLite evaluates a list of three or more values (in a CHECK constraint or a
    /// partial index's condition) through one, opened and closed on every run.
    #[test]
    fn queue_writes_open_no_temporary_b_tree() {
        let mut connection = Connection::open_in_memory().expect("open");
        run(&mut connection).expect("migrate");
        for statement in [
            "INSERT INTO inbox_events (tenant_id, channel_id, channel_message_id,
                 channel_user_id, payload_json, available_at_ms, received_at_ms)
             VALUES ('may', 'tg', 'm1', 'u1', '{}', 1, 1)",
            "UPDATE inbox_events SET status = ?1 WHERE id = ?2",
            "INSERT INTO outbox (tenant_id, channel_id, conversation_id, message_id,
                 idempotency_key, next_attempt_at_ms, created_at_ms, updated_at_ms)
             VALUES ('may', 'tg', 'c1', 1, 'k1', 1, 1, 1)",
            "UPDATE outbox SET status = ?1, lease_until_ms = ?2 WHERE id = ?3",
        ] {
            let mut explained = connection
                .prepare(&format!("EXPLAIN {statement}"))
                .expect("explain");
            let unbound = explained.parameter_count();
            let nulls = std::iter::repeat_n(rusqlite::types::Null, unbound);
            let opcodes = explained
                .query_map(rusqlite::params_from_iter(nulls), |row| {
                    row.get::<_, String>(1)
                })
                .expect("opcodes")
                .collect::<Result<Vec<_>, _>>()
                .expect("rows");
            assert!(
                !opcodes.iter().any(|opcode| opcode == "OpenEphemeral"),
                "{statement}: {opcodes:?}"
            );
        }
    }
}
