//! PostgreSQL side of [`QueueStore`]: inbox, outbox, delivery log.
//!
//! Claims select with `FOR UPDATE SKIP LOCKED`: concurrent claimers (workers, host
//! instances) skip the rows another is taking instead of waiting for them or taking them
//! twice. An event is claimable only while it is its customer's oldest open event, so a
//! customer's second event waits until the first is done or given up. Inserts of one
//! customer's events are serialized by an advisory lock, so their ids commit in order and
//! no claimer can see a newer event while an older one is still invisible to it.

use async_trait::async_trait;
use deadpool_postgres::tokio_postgres::Row;
use deadpool_postgres::{GenericClient, Transaction};

use super::PostgresStore;
use super::error::database;
use super::statements::{column, counter, execute, limit, query, query_one, query_opt};
use super::turns::{message_from_row, prefixed_message_columns};
use crate::store::codec::{decode, encode};
use crate::store::queue::{
    MAX_CHANNEL_IDS, MAX_ROWS_READ, STORED_BEFORE_LAST, first_open_of_conversation,
};
use crate::store::{
    AttemptResult, DeliveryAttempt, InboxEvent, InboxInsert, NewInboxEvent, OutboxItem, OutboxRow,
    OutboxStatus, ProviderIdsBefore, QueueDepths, QueueStore, StoreError,
};

/// The `channel_message_id`s `sql` selects with `$1` tenant, `$2` channel, `$3` first row
/// id, `$4` [`MAX_CHANNEL_IDS`] and `$5` the row id [`MAX_ROWS_READ`] after `$3`.
async fn provider_ids<C: GenericClient>(
    client: &C,
    sql: &str,
    (tenant_id, channel_id, from): (&str, &str, i64),
) -> Result<Vec<String>, StoreError> {
    let rows = query(
        client,
        sql,
        &[
            &tenant_id,
            &channel_id,
            &from,
            &MAX_CHANNEL_IDS,
            &(from + MAX_ROWS_READ),
        ],
    )
    .await?;
    rows.iter()
        .map(|row| column(row, "channel_message_id"))
        .collect()
}

/// Marks an inbox event done (inside a turn's transaction or on its own).
pub(super) async fn mark_inbox_done<C: GenericClient>(
    client: &C,
    id: i64,
) -> Result<(), StoreError> {
    execute(
        client,
        "UPDATE inbox_events SET status = 'done', lease_until_ms = 0 WHERE id = $1",
        &[&id],
    )
    .await?;
    Ok(())
}

fn inbox_event_from_row(row: &Row) -> Result<InboxEvent, StoreError> {
    Ok(InboxEvent {
        id: column(row, "id")?,
        tenant_id: column(row, "tenant_id")?,
        channel_id: column(row, "channel_id")?,
        channel_message_id: column(row, "channel_message_id")?,
        channel_user_id: column(row, "channel_user_id")?,
        payload: column(row, "payload_json")?,
        attempts: counter(row, "attempts")?,
        received_at_ms: column(row, "received_at_ms")?,
    })
}

pub(super) const OUTBOX_COLUMNS: &str = "id, tenant_id, channel_id, conversation_id, message_id, \
    idempotency_key, status, attempts, next_attempt_at_ms, last_error, attempt_base, \
    created_at_ms, updated_at_ms";

pub(super) fn outbox_from_row(row: &Row) -> Result<OutboxRow, StoreError> {
    let status: &str = column(row, "status")?;
    Ok(OutboxRow {
        id: column(row, "id")?,
        tenant_id: column(row, "tenant_id")?,
        channel_id: column(row, "channel_id")?,
        conversation_id: column(row, "conversation_id")?,
        message_id: column(row, "message_id")?,
        idempotency_key: column(row, "idempotency_key")?,
        status: OutboxStatus::parse(status)
            .ok_or_else(|| StoreError::Corrupt(format!("outbox status '{status}'")))?,
        attempts: counter(row, "attempts")?,
        next_attempt_at_ms: column(row, "next_attempt_at_ms")?,
        last_error: column(row, "last_error")?,
        attempt_base: counter(row, "attempt_base")?,
        created_at_ms: column(row, "created_at_ms")?,
        updated_at_ms: column(row, "updated_at_ms")?,
    })
}

/// Logs an attempt and moves its row, inside `transaction`.
async fn record_attempt(
    transaction: &Transaction<'_>,
    attempt: &DeliveryAttempt,
) -> Result<(), StoreError> {
    execute(
        transaction,
        "INSERT INTO delivery_log (outbox_id, attempt, result_json, provider_response, elapsed_ms, at_ms)
         VALUES ($1, $2, $3, $4, $5, $6)",
        &[
            &attempt.outbox_id,
            &i64::from(attempt.attempt),
            &encode(&attempt.result)?,
            &attempt.provider_response,
            &i64::try_from(attempt.elapsed_ms).unwrap_or(i64::MAX),
            &attempt.at_ms,
        ],
    )
    .await?;
    match &attempt.result {
        AttemptResult::Sent {
            provider_message_id,
        } => {
            execute(
                transaction,
                "UPDATE outbox SET status = 'sent', last_error = NULL, lease_until_ms = 0,
                     doubt_since_ms = NULL, updated_at_ms = $2 WHERE id = $1",
                &[&attempt.outbox_id, &attempt.at_ms],
            )
            .await?;
            execute(
                transaction,
                "UPDATE messages SET channel_message_id = $2
                 WHERE id = (SELECT message_id FROM outbox WHERE id = $1)",
                &[&attempt.outbox_id, provider_message_id],
            )
            .await?;
        }
        AttemptResult::Retry {
            reason,
            at_ms,
            in_doubt,
        } => {
            // In doubt since the first send whose outcome is not known (kept over later
            // ones); an answered failure settles it.
            execute(
                transaction,
                "UPDATE outbox SET status = 'failed', last_error = $2, next_attempt_at_ms = $3,
                     lease_until_ms = 0, updated_at_ms = $4,
                     doubt_since_ms = CASE WHEN $5 THEN coalesce(doubt_since_ms, $6) END
                 WHERE id = $1",
                &[
                    &attempt.outbox_id,
                    reason,
                    at_ms,
                    &attempt.at_ms,
                    in_doubt,
                    &attempt.started_ms(),
                ],
            )
            .await?;
        }
        AttemptResult::Dead { reason } => {
            execute(
                transaction,
                "UPDATE outbox SET status = 'dead', last_error = $2, lease_until_ms = 0,
                     doubt_since_ms = NULL, updated_at_ms = $3 WHERE id = $1",
                &[&attempt.outbox_id, reason, &attempt.at_ms],
            )
            .await?;
        }
    }
    Ok(())
}

#[async_trait]
impl QueueStore for PostgresStore {
    async fn inbox_insert(&self, event: &NewInboxEvent) -> Result<InboxInsert, StoreError> {
        self.inbox.insert(self, event.clone()).await
    }

    async fn inbox_claim(
        &self,
        now_ms: i64,
        lease_ms: i64,
        max: u32,
    ) -> Result<Vec<InboxEvent>, StoreError> {
        let rows = query(
            &self.client().await?,
            // Only the oldest open event of each customer: their messages stay in order.
            // Leases that ran out and events waiting for a worker are found apart, each on
            // an index of its own (migration 0009), so the events in flight are not walked.
            &format!(
                "WITH expired AS (
                     SELECT e.id FROM inbox_events e
                     WHERE e.status = 'processing' AND e.lease_until_ms < $1 AND {head}
                     ORDER BY e.lease_until_ms LIMIT $2
                     FOR UPDATE SKIP LOCKED),
                 ready AS (
                     SELECT e.id FROM inbox_events e
                     WHERE e.status = 'pending' AND e.available_at_ms <= $1 AND {head}
                     ORDER BY e.id LIMIT $2
                     FOR UPDATE SKIP LOCKED),
                 claimable AS (
                     SELECT id FROM expired UNION ALL SELECT id FROM ready
                     ORDER BY id LIMIT $2)
                 UPDATE inbox_events e
                 SET status = 'processing', attempts = e.attempts + 1, lease_until_ms = $1 + $3
                 FROM claimable WHERE e.id = claimable.id
                 RETURNING e.id, e.tenant_id, e.channel_id, e.channel_message_id,
                           e.channel_user_id, e.payload_json, e.attempts, e.received_at_ms",
                head = "NOT EXISTS (
                    SELECT 1 FROM inbox_events p
                    WHERE p.channel_id = e.channel_id AND p.channel_user_id = e.channel_user_id
                      AND p.status IN ('pending', 'processing') AND p.id < e.id)",
            ),
            &[&now_ms, &limit(max), &lease_ms],
        )
        .await?;
        let mut events = rows
            .iter()
            .map(inbox_event_from_row)
            .collect::<Result<Vec<_>, _>>()?;
        // RETURNING follows no order; callers get the oldest first.
        events.sort_by_key(|event| event.id);
        Ok(events)
    }

    async fn inbox_release(
        &self,
        id: i64,
        error: &str,
        retry_at_ms: i64,
        give_up: bool,
    ) -> Result<(), StoreError> {
        let status = if give_up { "failed" } else { "pending" };
        execute(
            &self.client().await?,
            "UPDATE inbox_events SET status = $2, last_error = $3, available_at_ms = $4,
                 lease_until_ms = 0
             WHERE id = $1 AND status = 'processing'",
            &[&id, &status, &error, &retry_at_ms],
        )
        .await?;
        Ok(())
    }

    async fn inbox_finish(&self, id: i64) -> Result<(), StoreError> {
        mark_inbox_done(&self.client().await?, id).await
    }

    async fn outbox_claim(
        &self,
        now_ms: i64,
        lease_ms: i64,
        max: u32,
    ) -> Result<Vec<OutboxItem>, StoreError> {
        // One row per conversation, the oldest unfinished one: replies arrive in order.
        // Leases that ran out and rows ready to send are found apart, each on an index of
        // its own (migration 0009), so the rows in flight are never walked.
        let message_columns = prefixed_message_columns();
        let rows = query(
            &self.client().await?,
            &format!(
                "WITH expired AS (
                     SELECT e.id, coalesce(e.doubt_since_ms, e.updated_at_ms) AS lost_send_started_ms
                     FROM outbox e
                     WHERE e.status = 'sending' AND e.lease_until_ms < $1
                       AND {expired_first}
                     ORDER BY e.id LIMIT $2
                     FOR UPDATE SKIP LOCKED),
                 ready AS (
                     SELECT r.id, r.doubt_since_ms AS lost_send_started_ms FROM outbox r
                     WHERE r.status IN ('pending', 'failed') AND r.next_attempt_at_ms <= $1
                       AND {ready_first}
                     ORDER BY r.id LIMIT $2
                     FOR UPDATE SKIP LOCKED),
                 claimable AS (
                     SELECT * FROM expired UNION ALL SELECT * FROM ready
                     ORDER BY id LIMIT $2),
                 claimed AS (
                     UPDATE outbox o
                     SET status = 'sending', attempts = o.attempts + 1,
                         lease_until_ms = $1 + $3, updated_at_ms = $1
                     FROM claimable WHERE o.id = claimable.id
                     RETURNING o.{}, claimable.lost_send_started_ms)
                 SELECT c.*, {message_columns}
                 FROM claimed c JOIN messages m ON m.id = c.message_id
                 ORDER BY c.id",
                OUTBOX_COLUMNS.replace(", ", ", o."),
                expired_first = first_open_of_conversation("e"),
                ready_first = first_open_of_conversation("r"),
            ),
            &[&now_ms, &limit(max), &lease_ms],
        )
        .await?;
        rows.iter()
            .map(|row| {
                Ok(OutboxItem {
                    row: outbox_from_row(row)?,
                    message: message_from_row(row, "m_")?,
                    lost_send_started_ms: column(row, "lost_send_started_ms")?,
                })
            })
            .collect()
    }

    async fn outbox_record_attempt(&self, attempt: &DeliveryAttempt) -> Result<(), StoreError> {
        let mut client = self.client().await?;
        let transaction = client.transaction().await.map_err(database)?;
        record_attempt(&transaction, attempt).await?;
        transaction.commit().await.map_err(database)
    }

    async fn outbox_row(&self, id: i64) -> Result<Option<OutboxRow>, StoreError> {
        let row = query_opt(
            &self.client().await?,
            &format!("SELECT {OUTBOX_COLUMNS} FROM outbox WHERE id = $1"),
            &[&id],
        )
        .await?;
        row.as_ref().map(outbox_from_row).transpose()
    }

    async fn delivered_before(
        &self,
        tenant_id: &str,
        conversation_id: &str,
        message_id: i64,
    ) -> Result<Option<String>, StoreError> {
        let row = query_opt(
            &self.client().await?,
            "SELECT channel_message_id FROM messages
             WHERE conversation_id = $2 AND id < $3 AND tenant_id = $1
               AND direction = 'outbound' AND channel_message_id IS NOT NULL
             ORDER BY id DESC LIMIT 1",
            &[&tenant_id, &conversation_id, &message_id],
        )
        .await?;
        row.as_ref()
            .map(|row| column(row, "channel_message_id"))
            .transpose()
    }

    async fn provider_ids_before(
        &self,
        tenant_id: &str,
        conversation_id: &str,
        message_id: i64,
    ) -> Result<ProviderIdsBefore, StoreError> {
        let client = self.client().await?;
        let last = query_opt(
            &client,
            "SELECT id, channel_id, channel_message_id FROM messages
             WHERE conversation_id = $2 AND id < $3 AND tenant_id = $1
               AND channel_message_id IS NOT NULL
             ORDER BY id DESC LIMIT 1",
            &[&tenant_id, &conversation_id, &message_id],
        )
        .await?;
        let Some(last) = last else {
            return Ok(ProviderIdsBefore::default());
        };
        let (row_id, channel_id): (i64, String) =
            (column(&last, "id")?, column(&last, "channel_id")?);
        let mut channel = provider_ids(
            &client,
            "SELECT channel_message_id FROM messages
             WHERE id >= $3 AND id < $5 AND channel_id = $2 AND tenant_id = $1
               AND channel_message_id IS NOT NULL
             ORDER BY id LIMIT $4",
            (tenant_id, &channel_id, row_id - STORED_BEFORE_LAST),
        )
        .await?;
        // The customer messages received since, turned into messages or not yet.
        let received_from = query_opt(
            &client,
            "SELECT i.id FROM inbox_events i
             WHERE i.channel_id = $4 AND i.channel_message_id = (
                 SELECT m.channel_message_id FROM messages m
                 WHERE m.conversation_id = $2 AND m.id < $3 AND m.tenant_id = $1
                   AND m.direction = 'inbound'
                 ORDER BY m.id DESC LIMIT 1)",
            &[&tenant_id, &conversation_id, &message_id, &channel_id],
        )
        .await?;
        if let Some(received_from) = received_from {
            let inbox_id: i64 = column(&received_from, "id")?;
            let received = provider_ids(
                &client,
                "SELECT channel_message_id FROM inbox_events
                 WHERE id >= $3 AND id < $5 AND channel_id = $2 AND tenant_id = $1
                 ORDER BY id LIMIT $4",
                (tenant_id, &channel_id, inbox_id),
            )
            .await?;
            channel.extend(received);
        }
        Ok(ProviderIdsBefore {
            last: Some(column(&last, "channel_message_id")?),
            channel,
        })
    }

    async fn outbox_of_conversation(
        &self,
        tenant_id: &str,
        conversation_id: &str,
    ) -> Result<Vec<OutboxRow>, StoreError> {
        let rows = query(
            &self.client().await?,
            &format!(
                "SELECT {OUTBOX_COLUMNS} FROM outbox
                 WHERE tenant_id = $1 AND conversation_id = $2 ORDER BY id"
            ),
            &[&tenant_id, &conversation_id],
        )
        .await?;
        rows.iter().map(outbox_from_row).collect()
    }

    async fn delivery_log(&self, outbox_id: i64) -> Result<Vec<DeliveryAttempt>, StoreError> {
        let rows = query(
            &self.client().await?,
            "SELECT outbox_id, attempt, result_json, provider_response, elapsed_ms, at_ms
             FROM delivery_log WHERE outbox_id = $1 ORDER BY id",
            &[&outbox_id],
        )
        .await?;
        rows.iter()
            .map(|row| {
                let elapsed_ms: i64 = column(row, "elapsed_ms")?;
                Ok(DeliveryAttempt {
                    outbox_id: column(row, "outbox_id")?,
                    attempt: counter(row, "attempt")?,
                    result: decode(column(row, "result_json")?)?,
                    provider_response: column(row, "provider_response")?,
                    elapsed_ms: u64::try_from(elapsed_ms).unwrap_or_default(),
                    at_ms: column(row, "at_ms")?,
                })
            })
            .collect()
    }

    async fn queue_depths(&self) -> Result<QueueDepths, StoreError> {
        let row = query_one(
            &self.client().await?,
            "SELECT
                (SELECT count(*) FROM inbox_events WHERE status IN ('pending', 'processing')) AS inbox,
                (SELECT count(*) FROM outbox WHERE status NOT IN ('sent', 'dead')) AS outbox,
                (SELECT count(*) FROM outbox WHERE status = 'dead') AS dead",
            &[],
        )
        .await?;
        let depth = |name: &str| -> Result<u64, StoreError> {
            let count: i64 = column(&row, name)?;
            Ok(u64::try_from(count).unwrap_or_default())
        };
        Ok(QueueDepths {
            inbox: depth("inbox")?,
            outbox: depth("outbox")?,
            dead: depth("dead")?,
        })
    }
}
