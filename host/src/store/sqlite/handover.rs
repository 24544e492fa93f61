//! SQLite side of [`HandoverStore`](crate::store::HandoverStore). Every write runs in one
//! transaction on the single writer connection, so the state read and the state written
//! cannot be interleaved with another move.

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, Row, params};

use super::cached::CachedStatements;
use super::conversations::{
    CONVERSATION_COLUMNS, conversation, conversation_from_row, message_by_id, queue_outbound,
    with_state,
};
use super::{SqliteStore, backend};
use crate::conversation::model::{Conversation, Message, NewMessage, Sender, SessionState};
use crate::store::handover::{decide_move, holder_after, reply_key};
use crate::store::{
    HandoverEvent, HandoverMove, HandoverNote, HandoverStore, MoveOutcome, OperatorReply,
    PeopleConversation, ReplyOutcome, StoreError,
};

/// Appends one line to the conversation's handover history.
pub(super) fn insert_event(
    connection: &Connection,
    from: &Conversation,
    to: SessionState,
    note: &HandoverNote,
    now_ms: i64,
) -> Result<HandoverEvent, StoreError> {
    connection
        .execute_cached(
            "INSERT INTO handover_events (tenant_id, conversation_id, from_state, to_state,
                                          trigger, actor, reason, at_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                from.tenant_id,
                from.id,
                from.state.as_str(),
                to.as_str(),
                note.trigger.as_str(),
                note.actor,
                note.reason,
                now_ms
            ],
        )
        .map_err(backend)?;
    Ok(HandoverEvent {
        id: connection.last_insert_rowid(),
        conversation_id: from.id.clone(),
        from_state: from.state,
        to_state: to,
        trigger: note.trigger.as_str().to_owned(),
        actor: note.actor.clone(),
        reason: note.reason.clone(),
        at_ms: now_ms,
        first_reply_ms: None,
    })
}

fn move_conversation(
    connection: &mut Connection,
    change: &HandoverMove,
) -> Result<MoveOutcome, StoreError> {
    let transaction = connection.savepoint().map_err(backend)?;
    let Some(current) = conversation(&transaction, &change.tenant_id, &change.conversation_id)?
    else {
        return Ok(MoveOutcome::NotFound);
    };
    let to = match decide_move(&current, change) {
        Ok(to) => to,
        Err(refusal) => return Ok(refusal.outcome(current)),
    };
    transaction
        .execute_cached(
            "UPDATE conversations SET state = ?2, assigned_to = ?3, state_changed_at_ms = ?4,
                 consecutive_misses = 0, busy_notified_at_ms = NULL,
                 last_activity_ms = max(last_activity_ms, ?4)
             WHERE id = ?1",
            params![
                current.id,
                to.as_str(),
                holder_after(to, change),
                change.now_ms
            ],
        )
        .map_err(backend)?;
    let event = insert_event(&transaction, &current, to, &change.note, change.now_ms)?;
    let notice = change
        .notice
        .as_ref()
        .map(|notice| {
            queue_outbound(
                &transaction,
                &current.tenant_id,
                &current.id,
                &current.channel_id,
                notice,
                &format!("handover:{}", event.id),
                change.delivered_live,
                change.now_ms,
            )
        })
        .transpose()?;
    let conversation = conversation(&transaction, &change.tenant_id, &current.id)?
        .ok_or_else(|| StoreError::Backend("the moved conversation vanished".into()))?;
    transaction.commit().map_err(backend)?;
    Ok(MoveOutcome::Moved {
        conversation: Box::new(conversation),
        notice,
        event,
    })
}

/// Marks the time of the first reply on the take that started the current hold; changes
/// nothing (0 rows) when it was marked already.
const FIRST_REPLY: &str = "UPDATE handover_events SET first_reply_ms = ?2
     WHERE id = (SELECT max(id) FROM handover_events WHERE conversation_id = ?1)
       AND to_state = 'human' AND first_reply_ms IS NULL";

fn record_operator_reply(
    connection: &mut Connection,
    reply: &OperatorReply,
) -> Result<ReplyOutcome, StoreError> {
    let transaction = connection.savepoint().map_err(backend)?;
    let Some(current) = conversation(&transaction, &reply.tenant_id, &reply.conversation_id)?
    else {
        return Ok(ReplyOutcome::NotFound);
    };
    let key = reply_key(reply);
    let earlier: Option<i64> = transaction
        .query_row_cached(
            "SELECT message_id FROM outbox WHERE idempotency_key = ?1",
            [&key],
            |row| row.get(0),
        )
        .optional()
        .map_err(backend)?;
    if let Some(message_id) = earlier {
        return Ok(ReplyOutcome::Repeated(message_by_id(
            &transaction,
            message_id,
        )?));
    }
    if current.state != SessionState::Human
        || current.assigned_to.as_deref() != Some(reply.operator.as_str())
    {
        return Ok(ReplyOutcome::NotHolder(current));
    }
    let message = queue_outbound(
        &transaction,
        &current.tenant_id,
        &current.id,
        &current.channel_id,
        &NewMessage {
            sender: Sender::Operator(reply.operator.clone()),
            content: reply.content.clone(),
        },
        &key,
        reply.delivered_live,
        reply.now_ms,
    )?;
    transaction
        .execute_cached(
            "UPDATE conversations SET last_activity_ms = max(last_activity_ms, ?2) WHERE id = ?1",
            params![current.id, reply.now_ms],
        )
        .map_err(backend)?;
    let first = transaction
        .execute_cached(FIRST_REPLY, params![current.id, reply.now_ms])
        .map_err(backend)?
        == 1;
    transaction.commit().map_err(backend)?;
    Ok(ReplyOutcome::Stored {
        message,
        first,
        taken_at_ms: current.state_changed_at_ms,
    })
}

fn event_from_row(row: &Row<'_>) -> rusqlite::Result<(HandoverEvent, String, String)> {
    let from: String = row.get(2)?;
    let to: String = row.get(3)?;
    Ok((
        HandoverEvent {
            id: row.get(0)?,
            conversation_id: row.get(1)?,
            from_state: SessionState::Bot,
            to_state: SessionState::Bot,
            trigger: row.get(4)?,
            actor: row.get(5)?,
            reason: row.get(6)?,
            at_ms: row.get(7)?,
            first_reply_ms: row.get(8)?,
        },
        from,
        to,
    ))
}

fn parse_state(name: &str) -> Result<SessionState, StoreError> {
    SessionState::parse(name).ok_or_else(|| StoreError::Corrupt(format!("handover state '{name}'")))
}

const EVENT_COLUMNS: &str =
    "id, conversation_id, from_state, to_state, trigger, actor, reason, at_ms, first_reply_ms";

/// A tenant's events, of one conversation or (`None`) all since `since_ms`.
fn handover_events(
    connection: &Connection,
    tenant_id: &str,
    conversation_id: Option<&str>,
    since_ms: i64,
    limit: u32,
) -> Result<Vec<HandoverEvent>, StoreError> {
    let mut statement = connection
        .prepare_cached(&format!(
            "SELECT {EVENT_COLUMNS} FROM handover_events
             WHERE tenant_id = ?1 AND (?2 IS NULL OR conversation_id = ?2) AND at_ms >= ?3
             ORDER BY id LIMIT ?4"
        ))
        .map_err(backend)?;
    let rows = statement
        .query_map(
            params![tenant_id, conversation_id, since_ms, limit],
            event_from_row,
        )
        .map_err(backend)?;
    rows.map(|row| {
        let (mut event, from, to) = row.map_err(backend)?;
        event.from_state = parse_state(&from)?;
        event.to_state = parse_state(&to)?;
        Ok(event)
    })
    .collect()
}

fn people_conversations(
    connection: &Connection,
    limit: u32,
) -> Result<Vec<PeopleConversation>, StoreError> {
    let mut statement = connection
        .prepare_cached(&format!(
            "SELECT {CONVERSATION_COLUMNS}, busy_notified_at_ms FROM conversations
             WHERE state IN ('waiting', 'human') ORDER BY state_changed_at_ms LIMIT ?1"
        ))
        .map_err(backend)?;
    let rows = statement
        .query_map([limit], |row| {
            Ok((conversation_from_row(row)?, row.get::<_, Option<i64>>(12)?))
        })
        .map_err(backend)?;
    rows.map(|row| {
        let (raw, busy_notified_at_ms) = row.map_err(backend)?;
        Ok(PeopleConversation {
            conversation: with_state(raw)?,
            busy_notified_at_ms,
        })
    })
    .collect()
}

fn record_busy_notice(
    connection: &mut Connection,
    tenant_id: &str,
    conversation_id: &str,
    waiting_since_ms: i64,
    notice: &NewMessage,
    delivered_live: bool,
    now_ms: i64,
) -> Result<Option<Message>, StoreError> {
    let transaction = connection.savepoint().map_err(backend)?;
    let claimed = transaction
        .execute_cached(
            "UPDATE conversations SET busy_notified_at_ms = ?4
             WHERE tenant_id = ?1 AND id = ?2 AND state = 'waiting'
               AND state_changed_at_ms = ?3 AND busy_notified_at_ms IS NULL",
            params![tenant_id, conversation_id, waiting_since_ms, now_ms],
        )
        .map_err(backend)?;
    if claimed == 0 {
        return Ok(None);
    }
    let Some(current) = conversation(&transaction, tenant_id, conversation_id)? else {
        return Ok(None);
    };
    let message = queue_outbound(
        &transaction,
        tenant_id,
        conversation_id,
        &current.channel_id,
        notice,
        &format!("busy:{conversation_id}:{waiting_since_ms}"),
        delivered_live,
        now_ms,
    )?;
    transaction.commit().map_err(backend)?;
    Ok(Some(message))
}

#[async_trait]
impl HandoverStore for SqliteStore {
    async fn move_conversation(&self, change: &HandoverMove) -> Result<MoveOutcome, StoreError> {
        let change = change.clone();
        self.with(move |connection| move_conversation(connection, &change))
            .await
    }

    async fn record_operator_reply(
        &self,
        reply: &OperatorReply,
    ) -> Result<ReplyOutcome, StoreError> {
        let reply = reply.clone();
        self.with(move |connection| record_operator_reply(connection, &reply))
            .await
    }

    async fn handover_events(
        &self,
        tenant_id: &str,
        conversation_id: &str,
    ) -> Result<Vec<HandoverEvent>, StoreError> {
        let (tenant_id, conversation_id) = (tenant_id.to_owned(), conversation_id.to_owned());
        self.read(move |connection| {
            handover_events(connection, &tenant_id, Some(&conversation_id), 0, u32::MAX)
        })
        .await
    }

    async fn tenant_handover_events(
        &self,
        tenant_id: &str,
        since_ms: i64,
        limit: u32,
    ) -> Result<Vec<HandoverEvent>, StoreError> {
        let tenant_id = tenant_id.to_owned();
        self.read(move |connection| handover_events(connection, &tenant_id, None, since_ms, limit))
            .await
    }

    async fn people_conversations(
        &self,
        limit: u32,
    ) -> Result<Vec<PeopleConversation>, StoreError> {
        self.read(move |connection| people_conversations(connection, limit))
            .await
    }

    async fn record_busy_notice(
        &self,
        tenant_id: &str,
        conversation_id: &str,
        waiting_since_ms: i64,
        notice: &NewMessage,
        delivered_live: bool,
        now_ms: i64,
    ) -> Result<Option<Message>, StoreError> {
        let (tenant_id, conversation_id, notice) = (
            tenant_id.to_owned(),
            conversation_id.to_owned(),
            notice.clone(),
        );
        self.with(move |connection| {
            record_busy_notice(
                connection,
                &tenant_id,
                &conversation_id,
                waiting_since_ms,
                &notice,
                delivered_live,
                now_ms,
            )
        })
        .await
    }
}
