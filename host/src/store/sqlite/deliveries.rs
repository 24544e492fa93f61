//! SQLite side of [`DeliveryStore`](crate::store::DeliveryStore).

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, params};

use super::cached::CachedStatements;
use super::conversations::{
    MESSAGE_COLUMNS, conversation, message_by_id, message_from_raw, queue_outbound, raw_message,
};
use super::queue::{OUTBOX_COLUMN_COUNT, OUTBOX_COLUMNS, outbox_from_raw, raw_outbox};
use super::{SqliteStore, backend};
use crate::store::deliveries::{
    DeliveryFilter, DeliveryStore, QueueOutcome, QueuedMessage, Requeue,
};
use crate::store::{OutboxItem, OutboxStatus, StoreError};

/// The listing's SELECT. The dead letters have an index of their own, which SQLite uses
/// only when the query names the status itself (?2 is still bound: it is 'dead').
fn deliveries_query(status: Option<OutboxStatus>) -> String {
    let status = match status {
        Some(OutboxStatus::Dead) => "o.status = 'dead' AND ?2 = 'dead'",
        _ => "(?2 IS NULL OR o.status = ?2)",
    };
    format!(
        "SELECT {OUTBOX_COLUMNS}, {MESSAGE_COLUMNS}
         FROM outbox o JOIN messages m ON m.id = o.message_id
         WHERE o.tenant_id = ?1
           AND {status}
           AND (?3 IS NULL OR o.channel_id = ?3)
           AND (?4 IS NULL OR o.conversation_id = ?4)
           AND (?5 IS NULL OR o.id < ?5)
         ORDER BY o.id DESC LIMIT ?6"
    )
}

fn deliveries(
    connection: &Connection,
    tenant_id: &str,
    filter: &DeliveryFilter,
) -> Result<Vec<OutboxItem>, StoreError> {
    let mut statement = connection
        .prepare_cached(&deliveries_query(filter.status))
        .map_err(backend)?;
    let rows = statement
        .query_map(
            params![
                tenant_id,
                filter.status.map(|status| status.as_str()),
                filter.channel_id,
                filter.conversation_id,
                filter.before_id,
                filter.limit
            ],
            |row| Ok((raw_outbox(row)?, raw_message(row, OUTBOX_COLUMN_COUNT)?)),
        )
        .map_err(backend)?;
    rows.map(|row| {
        let (outbox, message) = row.map_err(backend)?;
        Ok(OutboxItem {
            row: outbox_from_raw(outbox)?,
            message: message_from_raw(message)?,
            lost_send_started_ms: None,
        })
    })
    .collect()
}

fn delivery(
    connection: &Connection,
    tenant_id: &str,
    id: i64,
) -> Result<Option<OutboxItem>, StoreError> {
    let raw = connection
        .query_row_cached(
            &format!(
                "SELECT {OUTBOX_COLUMNS}, {MESSAGE_COLUMNS}
                 FROM outbox o JOIN messages m ON m.id = o.message_id
                 WHERE o.tenant_id = ?1 AND o.id = ?2"
            ),
            params![tenant_id, id],
            |row| Ok((raw_outbox(row)?, raw_message(row, OUTBOX_COLUMN_COUNT)?)),
        )
        .optional()
        .map_err(backend)?;
    raw.map(|(outbox, message)| {
        Ok(OutboxItem {
            row: outbox_from_raw(outbox)?,
            message: message_from_raw(message)?,
            lost_send_started_ms: None,
        })
    })
    .transpose()
}

fn requeue_dead(
    connection: &mut Connection,
    tenant_id: &str,
    id: i64,
    now_ms: i64,
) -> Result<Requeue, StoreError> {
    let transaction = connection.savepoint().map_err(backend)?;
    let changed = transaction
        .execute_cached(
            "UPDATE outbox SET status = 'pending', attempt_base = attempts,
                 next_attempt_at_ms = ?3, lease_until_ms = 0, updated_at_ms = ?3
             WHERE tenant_id = ?1 AND id = ?2 AND status = 'dead'",
            params![tenant_id, id, now_ms],
        )
        .map_err(backend)?;
    let row = transaction
        .query_row_cached(
            &format!("SELECT {OUTBOX_COLUMNS} FROM outbox o WHERE o.tenant_id = ?1 AND o.id = ?2"),
            params![tenant_id, id],
            raw_outbox,
        )
        .optional()
        .map_err(backend)?
        .map(outbox_from_raw)
        .transpose()?;
    transaction.commit().map_err(backend)?;
    Ok(match row {
        None => Requeue::NotFound,
        Some(row) if changed == 1 => Requeue::Requeued(row),
        Some(row) => Requeue::NotDead(row),
    })
}

fn queue_message(
    connection: &mut Connection,
    queued: &QueuedMessage,
) -> Result<QueueOutcome, StoreError> {
    // The writer's batch holds the write lock (BEGIN IMMEDIATE): the key check and the
    // insert are one step for concurrent callers.
    let transaction = connection.savepoint().map_err(backend)?;
    let earlier: Option<(i64, i64, String)> = transaction
        .query_row_cached(
            "SELECT id, message_id, tenant_id FROM outbox WHERE idempotency_key = ?1",
            [&queued.idempotency_key],
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
        )
        .optional()
        .map_err(backend)?;
    if let Some((outbox_id, message_id, tenant_id)) = earlier {
        if tenant_id != queued.tenant_id {
            return Err(StoreError::Conflict(
                "the idempotency key is another tenant's".into(),
            ));
        }
        return Ok(QueueOutcome::Repeated {
            message: message_by_id(&transaction, message_id)?,
            outbox_id,
        });
    }
    let Some(current) = conversation(&transaction, &queued.tenant_id, &queued.conversation_id)?
    else {
        return Ok(QueueOutcome::NotFound);
    };
    let message = queue_outbound(
        &transaction,
        &current.tenant_id,
        &current.id,
        &current.channel_id,
        &queued.message,
        &queued.idempotency_key,
        queued.delivered_live,
        queued.now_ms,
    )?;
    let outbox_id: i64 = transaction
        .query_row_cached(
            "SELECT id FROM outbox WHERE idempotency_key = ?1",
            [&queued.idempotency_key],
            |row| row.get(0),
        )
        .map_err(backend)?;
    transaction
        .execute_cached(
            "UPDATE conversations SET last_activity_ms = max(last_activity_ms, ?2) WHERE id = ?1",
            params![current.id, queued.now_ms],
        )
        .map_err(backend)?;
    transaction.commit().map_err(backend)?;
    Ok(QueueOutcome::Stored { message, outbox_id })
}

#[async_trait]
impl DeliveryStore for SqliteStore {
    async fn deliveries(
        &self,
        tenant_id: &str,
        filter: &DeliveryFilter,
    ) -> Result<Vec<OutboxItem>, StoreError> {
        let (tenant_id, filter) = (tenant_id.to_owned(), filter.clone());
        self.read(move |connection| deliveries(connection, &tenant_id, &filter))
            .await
    }

    async fn delivery(&self, tenant_id: &str, id: i64) -> Result<Option<OutboxItem>, StoreError> {
        let tenant_id = tenant_id.to_owned();
        self.read(move |connection| delivery(connection, &tenant_id, id))
            .await
    }

    async fn requeue_dead(
        &self,
        tenant_id: &str,
        id: i64,
        now_ms: i64,
    ) -> Result<Requeue, StoreError> {
        let tenant_id = tenant_id.to_owned();
        self.with(move |connection| requeue_dead(connection, &tenant_id, id, now_ms))
            .await
    }

    async fn queue_message(&self, queued: &QueuedMessage) -> Result<QueueOutcome, StoreError> {
        let queued = queued.clone();
        self.with(move |connection| queue_message(connection, &queued))
            .await
    }
}

#[cfg(test)]
mod tests {
    use rusqlite::Connection;

    use super::deliveries_query;
    use crate::store::OutboxStatus;
    use crate::store::sqlite::{migrations, queue};

    /// What SQLite plans to read for `sql`, one step per line.
    fn plan(connection: &Connection, sql: &str) -> Vec<String> {
        let mut explained = connection
            .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
            .expect("explain");
        let nulls = std::iter::repeat_n(rusqlite::types::Null, explained.parameter_count());
        explained
            .query_map(rusqlite::params_from_iter(nulls), |row| {
                row.get::<_, String>(3)
            })
            .expect("plan")
            .collect::<Result<_, _>>()
            .expect("steps")
    }

    /// The queues lost the indexes a status change moved but no claim reads; the listing of
    /// deliveries, the dead letters and the queue depths still read an index each, never a
    /// whole table (both grow with every message sent).
    #[test]
    fn listings_and_depths_read_indexes_not_whole_tables() {
        let mut connection = Connection::open_in_memory().expect("open");
        migrations::run(&mut connection).expect("migrate");
        let dead_letters = deliveries_query(Some(OutboxStatus::Dead));
        for sql in [
            deliveries_query(None),
            deliveries_query(Some(OutboxStatus::Failed)),
            dead_letters.clone(),
            queue::QUEUE_DEPTHS.to_owned(),
            queue::DELIVERED_BEFORE.to_owned(),
        ] {
            let steps = plan(&connection, &sql);
            assert!(
                steps.iter().all(|step| !step.starts_with("SCAN")
                    || step.contains("INDEX")
                    || step == "SCAN CONSTANT ROW"),
                "{sql}\n{steps:#?}"
            );
        }
        let steps = plan(&connection, &dead_letters);
        assert!(
            steps.iter().any(|step| step.contains("outbox_dead")),
            "{steps:#?}"
        );
        let steps = plan(&connection, queue::DELIVERED_BEFORE);
        assert!(
            steps
                .iter()
                .any(|step| step.contains("messages_by_conversation")),
            "{steps:#?}"
        );
    }
}
