//! Messages and turns in PostgreSQL: inbound messages stored once, a turn's replies,
//! outbox rows, decision and state committed at once, and reading a conversation back.
//!
//! Both writers lock the conversation's row first, so message ids of one conversation
//! become visible in id order: a widget resuming after id N never skips a message that
//! was still uncommitted with a smaller id.

use deadpool_postgres::tokio_postgres::Row;
use deadpool_postgres::{Client, GenericClient};

use super::conversations::{CONVERSATION_COLUMNS, conversation_from_row};
use super::error::database;
use super::queue::mark_inbox_done;
use super::statements::{column, execute, limit, query, query_one, query_opt};
use crate::conversation::Content;
use crate::conversation::model::{Conversation, Direction, Message, NewMessage, Sender};
use crate::store::codec::{LIVE_DELIVERY_NOTE, decode, encode, live_delivery};
use crate::store::{StoreError, StoredDecision, TurnCommit, TurnCommitted};

/// The columns [`message_from_row`] reads, for `SELECT` and `RETURNING`.
pub(super) const MESSAGE_COLUMNS: &str = "id, tenant_id, conversation_id, direction, \
    sender_json, content_json, channel_message_id, created_at_ms";

/// [`MESSAGE_COLUMNS`] of the table aliased `m`, each renamed `m_{column}` (for rows that
/// join messages to other tables).
pub(super) fn prefixed_message_columns() -> String {
    MESSAGE_COLUMNS
        .split(", ")
        .map(|column| format!("m.{column} AS m_{column}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A message from a row with [`MESSAGE_COLUMNS`], each name after `prefix`.
pub(super) fn message_from_row(row: &Row, prefix: &str) -> Result<Message, StoreError> {
    let named = |name: &str| format!("{prefix}{name}");
    let direction: &str = column(row, &named("direction"))?;
    Ok(Message {
        id: column(row, &named("id"))?,
        tenant_id: column(row, &named("tenant_id"))?,
        conversation_id: column(row, &named("conversation_id"))?,
        direction: match direction {
            "inbound" => Direction::Inbound,
            "outbound" => Direction::Outbound,
            other => return Err(StoreError::Corrupt(format!("message direction '{other}'"))),
        },
        sender: decode(column(row, &named("sender_json"))?)?,
        content: decode(column(row, &named("content_json"))?)?,
        channel_message_id: column(row, &named("channel_message_id"))?,
        created_at_ms: column(row, &named("created_at_ms"))?,
    })
}

/// Locks the conversation's row for the transaction and moves its activity forward.
async fn touch_conversation<C: GenericClient>(
    client: &C,
    conversation_id: &str,
    now_ms: i64,
) -> Result<(), StoreError> {
    execute(
        client,
        "UPDATE conversations SET last_activity_ms = greatest(last_activity_ms, $2) WHERE id = $1",
        &[&conversation_id, &now_ms],
    )
    .await?;
    Ok(())
}

pub(super) async fn record_inbound(
    client: &mut Client,
    conversation: &Conversation,
    channel_message_id: &str,
    content: &Content,
    now_ms: i64,
) -> Result<(Message, bool), StoreError> {
    let transaction = client.transaction().await.map_err(database)?;
    touch_conversation(&transaction, &conversation.id, now_ms).await?;
    let inserted = query_opt(
        &transaction,
        &format!(
            "INSERT INTO messages (tenant_id, conversation_id, channel_id, direction, sender_json,
                                   content_json, channel_message_id, created_at_ms)
             VALUES ($1, $2, $3, 'inbound', $4, $5, $6, $7)
             ON CONFLICT (channel_id, channel_message_id) WHERE direction = 'inbound' DO NOTHING
             RETURNING {MESSAGE_COLUMNS}"
        ),
        &[
            &conversation.tenant_id,
            &conversation.id,
            &conversation.channel_id,
            &encode(&Sender::Contact)?,
            &encode(content)?,
            &channel_message_id,
            &now_ms,
        ],
    )
    .await?;
    let (row, new) = match inserted {
        Some(row) => (row, true),
        None => {
            let row = query_one(
                &transaction,
                &format!(
                    "SELECT {MESSAGE_COLUMNS} FROM messages
                     WHERE channel_id = $1 AND channel_message_id = $2 AND direction = 'inbound'"
                ),
                &[&conversation.channel_id, &channel_message_id],
            )
            .await?;
            (row, false)
        }
    };
    let message = message_from_row(&row, "")?;
    transaction.commit().await.map_err(database)?;
    Ok((message, new))
}

/// The conversation's row, locked until the transaction ends: moves, turns and replies
/// of one conversation queue here instead of interleaving.
pub(super) async fn locked<C: GenericClient>(
    client: &C,
    tenant_id: &str,
    conversation_id: &str,
) -> Result<Option<Conversation>, StoreError> {
    let row = query_opt(
        client,
        &format!(
            "SELECT {CONVERSATION_COLUMNS} FROM conversations c
             WHERE c.tenant_id = $1 AND c.id = $2 FOR UPDATE"
        ),
        &[&tenant_id, &conversation_id],
    )
    .await?;
    row.as_ref().map(conversation_from_row).transpose()
}

/// Where an outbound message goes and under which outbox key.
pub(super) struct Outbound<'a> {
    /// The tenant.
    pub tenant_id: &'a str,
    /// The conversation.
    pub conversation_id: &'a str,
    /// Its channel.
    pub channel_id: &'a str,
    /// Unique outbox key.
    pub key: &'a str,
    /// Stored as sent (the widget reads the store).
    pub delivered_live: bool,
    /// Now, ms since the Unix epoch.
    pub now_ms: i64,
}

/// Stores `reply` as an outbound message and queues it in the outbox, inside the caller's
/// transaction.
pub(super) async fn queue_outbound<C: GenericClient>(
    client: &C,
    to: &Outbound<'_>,
    reply: &NewMessage,
) -> Result<Message, StoreError> {
    let row = query_one(
        client,
        &format!(
            "INSERT INTO messages (tenant_id, conversation_id, channel_id, direction,
                                   sender_json, content_json, channel_message_id, created_at_ms)
             VALUES ($1, $2, $3, 'outbound', $4, $5, NULL, $6)
             RETURNING {MESSAGE_COLUMNS}"
        ),
        &[
            &to.tenant_id,
            &to.conversation_id,
            &to.channel_id,
            &encode(&reply.sender)?,
            &encode(&reply.content)?,
            &to.now_ms,
        ],
    )
    .await?;
    let message = message_from_row(&row, "")?;
    let outbox = query_one(
        client,
        "INSERT INTO outbox (tenant_id, channel_id, conversation_id, message_id,
                             idempotency_key, status, attempts, next_attempt_at_ms,
                             created_at_ms, updated_at_ms)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $8)
         RETURNING id",
        &[
            &to.tenant_id,
            &to.channel_id,
            &to.conversation_id,
            &message.id,
            &to.key,
            &if to.delivered_live { "sent" } else { "pending" },
            &i64::from(to.delivered_live),
            &to.now_ms,
        ],
    )
    .await?;
    if to.delivered_live {
        let outbox_id: i64 = outbox.try_get(0).map_err(database)?;
        execute(
            client,
            "INSERT INTO delivery_log (outbox_id, attempt, result_json, provider_response,
                                       elapsed_ms, at_ms)
             VALUES ($1, 1, $2, $3, 0, $4)",
            &[
                &outbox_id,
                &encode(&live_delivery())?,
                &LIVE_DELIVERY_NOTE,
                &to.now_ms,
            ],
        )
        .await?;
    }
    Ok(message)
}

pub(super) async fn commit_turn(
    client: &mut Client,
    turn: &TurnCommit,
) -> Result<TurnCommitted, StoreError> {
    let transaction = client.transaction().await.map_err(database)?;
    // The key's row is the turn's claim: a concurrent commit with the same key waits here,
    // then finds it taken.
    let inserted = execute(
        &transaction,
        "INSERT INTO turn_decisions (turn_key, tenant_id, conversation_id, decision_json, created_at_ms)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (turn_key) DO NOTHING",
        &[
            &turn.key,
            &turn.tenant_id,
            &turn.conversation_id,
            &turn.decision.as_ref().map(encode).transpose()?,
            &turn.now_ms,
        ],
    )
    .await?;
    if inserted == 0 {
        if let Some(event) = turn.inbox_event_id {
            mark_inbox_done(&transaction, event).await?;
        }
        transaction.commit().await.map_err(database)?;
        return Ok(TurnCommitted::AlreadyCommitted);
    }
    let current = locked(&transaction, &turn.tenant_id, &turn.conversation_id)
        .await?
        .ok_or_else(|| {
            StoreError::Conflict(format!("no conversation '{}'", turn.conversation_id))
        })?;
    if current.state != turn.state_before {
        // An operator moved the conversation while the bot thought: the bot's words are
        // not wanted any more. The decision stays, for the trace.
        if let Some(event) = turn.inbox_event_id {
            mark_inbox_done(&transaction, event).await?;
        }
        transaction.commit().await.map_err(database)?;
        return Ok(TurnCommitted::Superseded {
            state: current.state,
        });
    }
    let moved = turn.state != current.state;
    execute(
        &transaction,
        "UPDATE conversations SET state = $2, consecutive_misses = $3,
             last_activity_ms = greatest(last_activity_ms, $4),
             state_changed_at_ms = CASE WHEN $6 THEN $4 ELSE state_changed_at_ms END,
             assigned_to = CASE WHEN $6 THEN NULL ELSE assigned_to END,
             busy_notified_at_ms = CASE WHEN $6 THEN NULL ELSE busy_notified_at_ms END
         WHERE id = $1 AND tenant_id = $5",
        &[
            &turn.conversation_id,
            &turn.state.as_str(),
            &i64::from(turn.consecutive_misses),
            &turn.now_ms,
            &turn.tenant_id,
            &moved,
        ],
    )
    .await?;
    if moved && let Some(note) = &turn.handover {
        super::handover::insert_event(&transaction, &current, turn.state, note, turn.now_ms)
            .await?;
    }
    let mut stored = Vec::with_capacity(turn.replies.len());
    for (index, reply) in turn.replies.iter().enumerate() {
        let key = format!("{}:{index}", turn.key);
        let to = Outbound {
            tenant_id: &turn.tenant_id,
            conversation_id: &turn.conversation_id,
            channel_id: &turn.channel_id,
            key: &key,
            delivered_live: turn.delivered_live,
            now_ms: turn.now_ms,
        };
        stored.push(queue_outbound(&transaction, &to, reply).await?);
    }
    if let Some(event) = turn.inbox_event_id {
        mark_inbox_done(&transaction, event).await?;
    }
    transaction.commit().await.map_err(database)?;
    Ok(TurnCommitted::Stored(stored))
}

pub(super) async fn messages_after<C: GenericClient>(
    client: &C,
    tenant_id: &str,
    conversation_id: &str,
    after_id: i64,
    max: u32,
) -> Result<Vec<Message>, StoreError> {
    let rows = query(
        client,
        &format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages
             WHERE tenant_id = $1 AND conversation_id = $2 AND id > $3
             ORDER BY id LIMIT $4"
        ),
        &[&tenant_id, &conversation_id, &after_id, &limit(max)],
    )
    .await?;
    rows.iter().map(|row| message_from_row(row, "")).collect()
}

pub(super) async fn latest_messages<C: GenericClient>(
    client: &C,
    tenant_id: &str,
    conversation_id: &str,
    max: u32,
) -> Result<Vec<Message>, StoreError> {
    let rows = query(
        client,
        &format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages
             WHERE tenant_id = $1 AND conversation_id = $2
             ORDER BY id DESC LIMIT $3"
        ),
        &[&tenant_id, &conversation_id, &limit(max)],
    )
    .await?;
    let mut messages = rows
        .iter()
        .map(|row| message_from_row(row, ""))
        .collect::<Result<Vec<_>, _>>()?;
    messages.reverse();
    Ok(messages)
}

pub(super) async fn turn_decisions<C: GenericClient>(
    client: &C,
    tenant_id: &str,
    conversation_id: &str,
) -> Result<Vec<StoredDecision>, StoreError> {
    let rows = query(
        client,
        "SELECT turn_key, conversation_id, decision_json, created_at_ms FROM turn_decisions
         WHERE tenant_id = $1 AND conversation_id = $2 AND decision_json IS NOT NULL
         ORDER BY created_at_ms, id",
        &[&tenant_id, &conversation_id],
    )
    .await?;
    rows.iter()
        .map(|row| {
            Ok(StoredDecision {
                key: column(row, "turn_key")?,
                conversation_id: column(row, "conversation_id")?,
                decision: decode(column(row, "decision_json")?)?,
                created_at_ms: column(row, "created_at_ms")?,
            })
        })
        .collect()
}
