//! What a claim may take from the inbox or the outbox: the rows whose lease ran out, then
//! the rows ready for work, each only when it is the oldest open row of its customer or
//! conversation (so their order holds). Each kind is read on an index of its own: one index
//! of all open rows starts with the rows in flight, and every claim walked past them.

use rusqlite::{Connection, Row};

use super::backend;
use crate::store::StoreError;

/// One kind of row a claim takes: a condition (`?1` is now) and the order the rows are
/// taken in, both served by one index.
pub(super) struct Claimable {
    /// The SQL condition.
    pub(super) condition: &'static str,
    /// The SQL order; an index gives it, so no statement sorts.
    pub(super) order: &'static str,
}

/// Up to `limit` rows of `kinds`, in turn: `select` is the statement's `SELECT ... FROM ...`
/// and `head` the SQL condition true for the oldest open row of its customer or
/// conversation.
pub(super) fn claimable<T>(
    connection: &Connection,
    select: &str,
    head: &str,
    kinds: [Claimable; 2],
    now_ms: i64,
    limit: usize,
    mut map: impl FnMut(&Row<'_>) -> rusqlite::Result<T>,
) -> Result<Vec<T>, StoreError> {
    let mut found = Vec::new();
    for Claimable { condition, order } in kinds {
        let wanted = limit.saturating_sub(found.len());
        if wanted == 0 {
            break;
        }
        // No LIMIT: SQLite plans with the value of a LIMIT bound as a parameter, so it
        // re-prepared the statement on every run. The rows come in index order, and SQLite
        // stops stepping where the iteration stops.
        let mut statement = connection
            .prepare_cached(&format!(
                "{select} WHERE {condition} AND {head} ORDER BY {order}"
            ))
            .map_err(backend)?;
        let rows = statement.query_map([now_ms], &mut map).map_err(backend)?;
        for row in rows.take(wanted) {
            found.push(row.map_err(backend)?);
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use rusqlite::{Connection, StatementStatus};

    use super::super::queue::INBOX_CLAIMABLE;
    use super::{Claimable, claimable};

    /// Claims run thousands of times a second: their statements stay prepared from one run
    /// to the next (a LIMIT bound as a parameter made SQLite prepare them again each time),
    /// and they take no more than asked.
    #[test]
    fn claims_reuse_their_prepared_statements() {
        let mut connection = Connection::open_in_memory().expect("open");
        super::super::migrations::run(&mut connection).expect("migrate");
        connection
            .execute_batch(
                "INSERT INTO inbox_events (tenant_id, channel_id, channel_message_id,
                     channel_user_id, payload_json, available_at_ms, received_at_ms)
                 VALUES ('may', 'tg', 'm1', 'u1', '{}', 1, 1),
                        ('may', 'tg', 'm2', 'u2', '{}', 1, 1),
                        ('may', 'tg', 'm3', 'u3', '{}', 1, 1)",
            )
            .expect("events");
        let select = "SELECT e.id FROM inbox_events e";
        for (now_ms, limit) in [(5, 2), (6, 1), (7, 3)] {
            let ids = claimable(
                &connection,
                select,
                "1 = 1",
                INBOX_CLAIMABLE,
                now_ms,
                limit,
                |row| row.get::<_, i64>(0),
            )
            .expect("claimable");
            assert_eq!(ids, (1..=3).take(limit).collect::<Vec<i64>>());
        }
        for Claimable { condition, order } in INBOX_CLAIMABLE {
            let statement = connection
                .prepare_cached(&format!(
                    "{select} WHERE {condition} AND 1 = 1 ORDER BY {order}"
                ))
                .expect("cached");
            assert_eq!(statement.get_status(StatementStatus::RePrepare), 0);
            assert!(
                statement.get_status(StatementStatus::Run) >= 2,
                "{condition}"
            );
        }
    }
}
