//! SQLite side of [`QueueStore`](crate::store::QueueStore): inbox, outbox, delivery log.

use rusqlite::{Connection, OptionalExtension, Row, params};

use super::backend;
use super::cached::CachedStatements;
use super::claims::{Claimable, claimable};
use super::conversations::{MESSAGE_COLUMNS, message_from_raw, raw_message};
use crate::store::codec::{decode, encode};
use crate::store::queue::{
    MAX_CHANNEL_IDS, MAX_ROWS_READ, STORED_BEFORE_LAST, first_open_of_conversation,
};
use crate::store::{
    AttemptResult, DeliveryAttempt, InboxEvent, InboxInsert, NewInboxEvent, OutboxItem, OutboxRow,
    OutboxStatus, ProviderIdsBefore, QueueDepths, StoreError,
};

pub(super) fn inbox_insert(
    connection: &Connection,
    event: &NewInboxEvent,
) -> Result<InboxInsert, StoreError> {
    let inserted = connection
        .execute_cached(
            "INSERT INTO inbox_events (tenant_id, channel_id, channel_message_id, channel_user_id,
                                       payload_json, available_at_ms, received_at_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)
             ON CONFLICT (channel_id, channel_message_id) DO NOTHING",
            params![
                event.tenant_id,
                event.channel_id,
                event.channel_message_id,
                event.channel_user_id,
                event.payload,
                event.now_ms
            ],
        )
        .map_err(backend)?;
    if inserted == 1 {
        return Ok(InboxInsert::Inserted(connection.last_insert_rowid()));
    }
    let id = connection
        .query_row_cached(
            "SELECT id FROM inbox_events WHERE channel_id = ?1 AND channel_message_id = ?2",
            [&event.channel_id, &event.channel_message_id],
            |row| row.get(0),
        )
        .map_err(backend)?;
    Ok(InboxInsert::Duplicate(id))
}

/// Inbox events whose lease ran out (a host stopped mid-turn), oldest lease first
/// (`inbox_leases`); then events waiting for a worker, oldest first (`inbox_ready`).
pub(super) const INBOX_CLAIMABLE: [Claimable; 2] = [
    Claimable {
        condition: "e.status = 'processing' AND e.lease_until_ms < ?1",
        order: "e.lease_until_ms",
    },
    Claimable {
        condition: "e.status = 'pending' AND e.available_at_ms <= ?1",
        order: "e.id",
    },
];

pub(super) fn inbox_claim(
    connection: &mut Connection,
    now_ms: i64,
    lease_ms: i64,
    limit: u32,
) -> Result<Vec<InboxEvent>, StoreError> {
    let transaction = connection.savepoint().map_err(backend)?;
    // Only the oldest open event of each customer is eligible: their messages stay in order.
    let events = claimable(
        &transaction,
        "SELECT e.id, e.tenant_id, e.channel_id, e.channel_message_id, e.channel_user_id,
                e.payload_json, e.attempts + 1, e.received_at_ms
         FROM inbox_events e",
        "NOT EXISTS (
             SELECT 1 FROM inbox_events p
             WHERE p.channel_id = e.channel_id AND p.channel_user_id = e.channel_user_id
               AND p.status IN ('pending', 'processing') AND p.id < e.id)",
        INBOX_CLAIMABLE,
        now_ms,
        limit as usize,
        |row| {
            Ok(InboxEvent {
                id: row.get(0)?,
                tenant_id: row.get(1)?,
                channel_id: row.get(2)?,
                channel_message_id: row.get(3)?,
                channel_user_id: row.get(4)?,
                payload: row.get(5)?,
                attempts: row.get(6)?,
                received_at_ms: row.get(7)?,
            })
        },
    )?;
    for event in &events {
        transaction
            .execute_cached(
                "UPDATE inbox_events SET status = 'processing', attempts = attempts + 1,
                     lease_until_ms = ?2 WHERE id = ?1",
                params![event.id, now_ms + lease_ms],
            )
            .map_err(backend)?;
    }
    transaction.commit().map_err(backend)?;
    Ok(events)
}

pub(super) fn inbox_release(
    connection: &Connection,
    id: i64,
    error: &str,
    retry_at_ms: i64,
    give_up: bool,
) -> Result<(), StoreError> {
    connection
        .execute_cached(
            "UPDATE inbox_events SET status = ?2, last_error = ?3, available_at_ms = ?4,
                 lease_until_ms = 0
             WHERE id = ?1 AND status = 'processing'",
            params![
                id,
                if give_up { "failed" } else { "pending" },
                error,
                retry_at_ms
            ],
        )
        .map_err(backend)?;
    Ok(())
}

pub(super) fn mark_inbox_done(connection: &Connection, id: i64) -> Result<(), StoreError> {
    connection
        .execute_cached(
            "UPDATE inbox_events SET status = 'done', lease_until_ms = 0 WHERE id = ?1",
            [id],
        )
        .map_err(backend)?;
    Ok(())
}

pub(super) const OUTBOX_COLUMNS: &str = "o.id, o.tenant_id, o.channel_id, o.conversation_id, o.message_id, \
    o.idempotency_key, o.status, o.attempts, o.next_attempt_at_ms, o.last_error, o.attempt_base, \
    o.created_at_ms, o.updated_at_ms";

/// Columns of [`OUTBOX_COLUMNS`]: a message's columns follow from this index.
pub(super) const OUTBOX_COLUMN_COUNT: usize = 13;

pub(super) type RawOutbox = (OutboxRow, String);

pub(super) fn raw_outbox(row: &Row<'_>) -> rusqlite::Result<RawOutbox> {
    Ok((
        OutboxRow {
            id: row.get(0)?,
            tenant_id: row.get(1)?,
            channel_id: row.get(2)?,
            conversation_id: row.get(3)?,
            message_id: row.get(4)?,
            idempotency_key: row.get(5)?,
            status: OutboxStatus::Pending,
            attempts: row.get(7)?,
            next_attempt_at_ms: row.get(8)?,
            last_error: row.get(9)?,
            attempt_base: row.get(10)?,
            created_at_ms: row.get(11)?,
            updated_at_ms: row.get(12)?,
        },
        row.get(6)?,
    ))
}

pub(super) fn outbox_from_raw((mut row, status): RawOutbox) -> Result<OutboxRow, StoreError> {
    row.status = OutboxStatus::parse(&status)
        .ok_or_else(|| StoreError::Corrupt(format!("outbox status '{status}'")))?;
    Ok(row)
}

/// Outbox rows whose lease ran out (a host stopped mid-send), oldest lease first
/// (`outbox_leases`); then rows waiting for their first or next attempt, oldest first
/// (`outbox_ready`).
const OUTBOX_CLAIMABLE: [Claimable; 2] = [
    Claimable {
        condition: "o.status = 'sending' AND o.lease_until_ms < ?1",
        order: "o.lease_until_ms",
    },
    Claimable {
        condition: "o.status IN ('pending', 'failed') AND o.next_attempt_at_ms <= ?1",
        order: "o.id",
    },
];

pub(super) fn outbox_claim(
    connection: &mut Connection,
    now_ms: i64,
    lease_ms: i64,
    limit: u32,
) -> Result<Vec<OutboxItem>, StoreError> {
    let transaction = connection.savepoint().map_err(backend)?;
    // One row per conversation, the oldest unfinished one: replies arrive in order.
    let raws = claimable(
        &transaction,
        &format!(
            "SELECT {OUTBOX_COLUMNS}, o.doubt_since_ms, {MESSAGE_COLUMNS}
             FROM outbox o JOIN messages m ON m.id = o.message_id"
        ),
        &first_open_of_conversation("o"),
        OUTBOX_CLAIMABLE,
        now_ms,
        limit as usize,
        |row| {
            Ok((
                raw_outbox(row)?,
                row.get::<_, Option<i64>>(OUTBOX_COLUMN_COUNT)?,
                raw_message(row, OUTBOX_COLUMN_COUNT + 1)?,
            ))
        },
    )?;
    let mut items = Vec::with_capacity(raws.len());
    for (outbox, doubt_since_ms, message) in raws {
        let mut row = outbox_from_raw(outbox)?;
        // A row still `sending` was claimed before and its lease ran out: the claim set
        // `updated_at_ms` when that send began, and nothing has touched the row since
        // (unless an earlier send already ended in doubt: that one began before).
        let lost_send_started_ms = if row.status == OutboxStatus::Sending {
            Some(doubt_since_ms.unwrap_or(row.updated_at_ms))
        } else {
            doubt_since_ms
        };
        transaction
            .execute_cached(
                "UPDATE outbox SET status = 'sending', attempts = attempts + 1,
                     lease_until_ms = ?2, updated_at_ms = ?3 WHERE id = ?1",
                params![row.id, now_ms + lease_ms, now_ms],
            )
            .map_err(backend)?;
        row.status = OutboxStatus::Sending;
        row.attempts += 1;
        row.updated_at_ms = now_ms;
        items.push(OutboxItem {
            row,
            message: message_from_raw(message)?,
            lost_send_started_ms,
        });
    }
    transaction.commit().map_err(backend)?;
    Ok(items)
}

pub(super) fn outbox_record_attempt(
    connection: &mut Connection,
    attempt: &DeliveryAttempt,
) -> Result<(), StoreError> {
    let transaction = connection.savepoint().map_err(backend)?;
    transaction
        .execute_cached(
            "INSERT INTO delivery_log (outbox_id, attempt, result_json, provider_response, elapsed_ms, at_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                attempt.outbox_id,
                attempt.attempt,
                encode(&attempt.result)?,
                attempt.provider_response,
                attempt.elapsed_ms as i64,
                attempt.at_ms
            ],
        )
        .map_err(backend)?;
    match &attempt.result {
        AttemptResult::Sent {
            provider_message_id,
        } => {
            transaction
                .execute_cached(
                    "UPDATE outbox SET status = 'sent', last_error = NULL, lease_until_ms = 0,
                         doubt_since_ms = NULL, updated_at_ms = ?2 WHERE id = ?1",
                    params![attempt.outbox_id, attempt.at_ms],
                )
                .map_err(backend)?;
            transaction
                .execute_cached(
                    "UPDATE messages SET channel_message_id = ?2
                     WHERE id = (SELECT message_id FROM outbox WHERE id = ?1)",
                    params![attempt.outbox_id, provider_message_id],
                )
                .map_err(backend)?;
        }
        AttemptResult::Retry {
            reason,
            at_ms,
            in_doubt,
        } => {
            // In doubt since the first send whose outcome is not known (kept over later
            // ones); an answered failure settles it.
            transaction
                .execute_cached(
                    "UPDATE outbox SET status = 'failed', last_error = ?2, next_attempt_at_ms = ?3,
                         lease_until_ms = 0, updated_at_ms = ?4,
                         doubt_since_ms = CASE WHEN ?5 THEN coalesce(doubt_since_ms, ?6) END
                     WHERE id = ?1",
                    params![
                        attempt.outbox_id,
                        reason,
                        at_ms,
                        attempt.at_ms,
                        in_doubt,
                        attempt.started_ms()
                    ],
                )
                .map_err(backend)?;
        }
        AttemptResult::Dead { reason } => {
            transaction
                .execute_cached(
                    "UPDATE outbox SET status = 'dead', last_error = ?2, lease_until_ms = 0,
                         doubt_since_ms = NULL, updated_at_ms = ?3 WHERE id = ?1",
                    params![attempt.outbox_id, reason, attempt.at_ms],
                )
                .map_err(backend)?;
        }
    }
    transaction.commit().map_err(backend)
}

pub(super) fn outbox_row(
    connection: &Connection,
    id: i64,
) -> Result<Option<OutboxRow>, StoreError> {
    connection
        .query_row_cached(
            &format!("SELECT {OUTBOX_COLUMNS} FROM outbox o WHERE o.id = ?1"),
            [id],
            raw_outbox,
        )
        .optional()
        .map_err(backend)?
        .map(outbox_from_raw)
        .transpose()
}

pub(super) fn delivered_before(
    connection: &Connection,
    tenant_id: &str,
    conversation_id: &str,
    message_id: i64,
) -> Result<Option<String>, StoreError> {
    connection
        .query_row_cached(
            DELIVERED_BEFORE,
            params![tenant_id, conversation_id, message_id],
            |row| row.get(0),
        )
        .optional()
        .map_err(backend)
}

/// Walks the conversation's messages back from `message_id` (`messages_by_conversation`).
pub(super) const DELIVERED_BEFORE: &str = "SELECT channel_message_id FROM messages
     WHERE conversation_id = ?2 AND id < ?3 AND tenant_id = ?1
       AND direction = 'outbound' AND channel_message_id IS NOT NULL
     ORDER BY id DESC LIMIT 1";

pub(super) fn provider_ids_before(
    connection: &Connection,
    tenant_id: &str,
    conversation_id: &str,
    message_id: i64,
) -> Result<ProviderIdsBefore, StoreError> {
    let last = connection
        .query_row_cached(
            LAST_WITH_PROVIDER_ID,
            params![tenant_id, conversation_id, message_id],
            |row| {
                Ok((
                    row.get::<_, i64>(0)?,
                    row.get::<_, String>(1)?,
                    row.get::<_, String>(2)?,
                ))
            },
        )
        .optional()
        .map_err(backend)?;
    let Some((row_id, channel_id, provider_id)) = last else {
        return Ok(ProviderIdsBefore::default());
    };
    let strings = |sql: &str, from: i64| -> Result<Vec<String>, StoreError> {
        let mut statement = connection.prepare_cached(sql).map_err(backend)?;
        let rows = statement
            .query_map(
                params![
                    tenant_id,
                    channel_id,
                    from,
                    MAX_CHANNEL_IDS,
                    from + MAX_ROWS_READ
                ],
                |row| row.get(0),
            )
            .map_err(backend)?;
        rows.collect::<Result<Vec<String>, _>>().map_err(backend)
    };
    let mut channel = strings(CHANNEL_IDS_FROM, row_id - STORED_BEFORE_LAST)?;
    let received_from = connection
        .query_row_cached(
            LAST_INBOUND_INBOX_ID,
            params![tenant_id, conversation_id, message_id, channel_id],
            |row| row.get::<_, i64>(0),
        )
        .optional()
        .map_err(backend)?;
    if let Some(inbox_id) = received_from {
        channel.extend(strings(INBOX_IDS_FROM, inbox_id)?);
    }
    Ok(ProviderIdsBefore {
        last: Some(provider_id),
        channel,
    })
}

/// The inbox row of the conversation's last customer message before `?3`.
const LAST_INBOUND_INBOX_ID: &str = "SELECT i.id FROM inbox_events i
     WHERE i.channel_id = ?4 AND i.channel_message_id = (
         SELECT m.channel_message_id FROM messages m
         WHERE m.conversation_id = ?2 AND m.id < ?3 AND m.tenant_id = ?1
           AND m.direction = 'inbound'
         ORDER BY m.id DESC LIMIT 1)";

/// A channel's received provider ids in inbox rows `?3` to `?5`, turned into messages or
/// not yet (a range of the primary key).
const INBOX_IDS_FROM: &str = "SELECT channel_message_id FROM inbox_events
     WHERE id >= ?3 AND id < ?5 AND channel_id = ?2 AND tenant_id = ?1
     ORDER BY id LIMIT ?4";

/// The conversation's last message before `?3` with a provider id (`messages_by_conversation`).
const LAST_WITH_PROVIDER_ID: &str = "SELECT id, channel_id, channel_message_id FROM messages
     WHERE conversation_id = ?2 AND id < ?3 AND tenant_id = ?1
       AND channel_message_id IS NOT NULL
     ORDER BY id DESC LIMIT 1";

/// A channel's provider ids in rows `?3` to `?5` (a range of the primary key).
const CHANNEL_IDS_FROM: &str = "SELECT channel_message_id FROM messages
     WHERE id >= ?3 AND id < ?5 AND channel_id = ?2 AND tenant_id = ?1
       AND channel_message_id IS NOT NULL
     ORDER BY id LIMIT ?4";

pub(super) fn outbox_of_conversation(
    connection: &Connection,
    tenant_id: &str,
    conversation_id: &str,
) -> Result<Vec<OutboxRow>, StoreError> {
    let mut statement = connection
        .prepare_cached(&format!(
            "SELECT {OUTBOX_COLUMNS} FROM outbox o
             WHERE o.tenant_id = ?1 AND o.conversation_id = ?2 ORDER BY o.id"
        ))
        .map_err(backend)?;
    let rows = statement
        .query_map([tenant_id, conversation_id], raw_outbox)
        .map_err(backend)?;
    rows.map(|raw| outbox_from_raw(raw.map_err(backend)?))
        .collect()
}

pub(super) fn delivery_log(
    connection: &Connection,
    outbox_id: i64,
) -> Result<Vec<DeliveryAttempt>, StoreError> {
    let mut statement = connection
        .prepare_cached(
            "SELECT outbox_id, attempt, result_json, provider_response, elapsed_ms, at_ms
             FROM delivery_log WHERE outbox_id = ?1 ORDER BY id",
        )
        .map_err(backend)?;
    let rows = statement
        .query_map([outbox_id], |row| {
            Ok((
                row.get::<_, i64>(0)?,
                row.get::<_, u32>(1)?,
                row.get::<_, String>(2)?,
                row.get::<_, Option<String>>(3)?,
                row.get::<_, i64>(4)?,
                row.get::<_, i64>(5)?,
            ))
        })
        .map_err(backend)?;
    rows.map(|row| {
        let (outbox_id, attempt, result, provider_response, elapsed_ms, at_ms) =
            row.map_err(backend)?;
        Ok(DeliveryAttempt {
            outbox_id,
            attempt,
            result: decode(&result)?,
            provider_response,
            elapsed_ms: elapsed_ms.max(0) as u64,
            at_ms,
        })
    })
    .collect()
}

/// Each count reads one partial index: those of the claims, and the dead letters'.
pub(super) const QUEUE_DEPTHS: &str = "SELECT
        (SELECT count(*) FROM inbox_events WHERE status = 'pending')
            + (SELECT count(*) FROM inbox_events WHERE status = 'processing'),
        (SELECT count(*) FROM outbox WHERE status IN ('pending', 'failed'))
            + (SELECT count(*) FROM outbox WHERE status = 'sending'),
        (SELECT count(*) FROM outbox WHERE status = 'dead')";

pub(super) fn queue_depths(connection: &Connection) -> Result<QueueDepths, StoreError> {
    connection
        .query_row_cached(QUEUE_DEPTHS, [], |row| {
            Ok(QueueDepths {
                inbox: row.get::<_, i64>(0)?.max(0) as u64,
                outbox: row.get::<_, i64>(1)?.max(0) as u64,
                dead: row.get::<_, i64>(2)?.max(0) as u64,
            })
        })
        .map_err(backend)
}
