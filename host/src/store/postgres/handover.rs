//! PostgreSQL side of [`HandoverStore`](crate::store::HandoverStore). Every write locks
//! the conversation's row first (`SELECT … FOR UPDATE`), so two operators taking one
//! conversation on two instances queue there and the second sees the first's take.
//! Tenant work runs under row-level security; the timers' scan is every tenant's.

use async_trait::async_trait;
use deadpool_postgres::GenericClient;
use deadpool_postgres::tokio_postgres::Row;

use super::PostgresStore;
use super::conversations::{CONVERSATION_COLUMNS, conversation_from_row};
use super::error::database;
use super::statements::{column, execute, limit, query, query_one, query_opt};
use super::turns::{Outbound, locked, message_from_row, prefixed_message_columns, queue_outbound};
use crate::conversation::model::{Conversation, Message, NewMessage, Sender, SessionState};
use crate::store::handover::{decide_move, holder_after, reply_key};
use crate::store::{
    HandoverEvent, HandoverMove, HandoverNote, HandoverStore, MoveOutcome, OperatorReply,
    PeopleConversation, ReplyOutcome, StoreError,
};

/// Appends one line to the conversation's handover history.
pub(super) async fn insert_event<C: GenericClient>(
    client: &C,
    from: &Conversation,
    to: SessionState,
    note: &HandoverNote,
    now_ms: i64,
) -> Result<HandoverEvent, StoreError> {
    let row = query_one(
        client,
        "INSERT INTO handover_events (tenant_id, conversation_id, from_state, to_state,
                                      trigger, actor, reason, at_ms)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        &[
            &from.tenant_id,
            &from.id,
            &from.state.as_str(),
            &to.as_str(),
            &note.trigger.as_str(),
            &note.actor,
            &note.reason,
            &now_ms,
        ],
    )
    .await?;
    Ok(HandoverEvent {
        id: column(&row, "id")?,
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

fn state_column(row: &Row, name: &str) -> Result<SessionState, StoreError> {
    let state: &str = column(row, name)?;
    SessionState::parse(state)
        .ok_or_else(|| StoreError::Corrupt(format!("handover state '{state}'")))
}

fn event_from_row(row: &Row) -> Result<HandoverEvent, StoreError> {
    Ok(HandoverEvent {
        id: column(row, "id")?,
        conversation_id: column(row, "conversation_id")?,
        from_state: state_column(row, "from_state")?,
        to_state: state_column(row, "to_state")?,
        trigger: column(row, "trigger")?,
        actor: column(row, "actor")?,
        reason: column(row, "reason")?,
        at_ms: column(row, "at_ms")?,
        first_reply_ms: column(row, "first_reply_ms")?,
    })
}

async fn move_locked<C: GenericClient>(
    client: &C,
    change: &HandoverMove,
) -> Result<MoveOutcome, StoreError> {
    let Some(current) = locked(client, &change.tenant_id, &change.conversation_id).await? else {
        return Ok(MoveOutcome::NotFound);
    };
    let to = match decide_move(&current, change) {
        Ok(to) => to,
        Err(refusal) => return Ok(refusal.outcome(current)),
    };
    let row = query_one(
        client,
        &format!(
            "UPDATE conversations c SET state = $2, assigned_to = $3, state_changed_at_ms = $4,
                 consecutive_misses = 0, busy_notified_at_ms = NULL,
                 last_activity_ms = greatest(last_activity_ms, $4)
             WHERE c.id = $1 RETURNING {CONVERSATION_COLUMNS}"
        ),
        &[
            &current.id,
            &to.as_str(),
            &holder_after(to, change),
            &change.now_ms,
        ],
    )
    .await?;
    let conversation = conversation_from_row(&row)?;
    let event = insert_event(client, &current, to, &change.note, change.now_ms).await?;
    let notice = match &change.notice {
        Some(notice) => {
            let key = format!("handover:{}", event.id);
            let to = Outbound {
                tenant_id: &current.tenant_id,
                conversation_id: &current.id,
                channel_id: &current.channel_id,
                key: &key,
                delivered_live: change.delivered_live,
                now_ms: change.now_ms,
            };
            Some(queue_outbound(client, &to, notice).await?)
        }
        None => None,
    };
    Ok(MoveOutcome::Moved {
        conversation: Box::new(conversation),
        notice,
        event,
    })
}

async fn reply_locked<C: GenericClient>(
    client: &C,
    reply: &OperatorReply,
) -> Result<ReplyOutcome, StoreError> {
    let Some(current) = locked(client, &reply.tenant_id, &reply.conversation_id).await? else {
        return Ok(ReplyOutcome::NotFound);
    };
    let key = reply_key(reply);
    let earlier = query_opt(
        client,
        &format!(
            "SELECT {} FROM outbox o JOIN messages m ON m.id = o.message_id
             WHERE o.idempotency_key = $1",
            prefixed_message_columns()
        ),
        &[&key],
    )
    .await?;
    if let Some(row) = earlier {
        return Ok(ReplyOutcome::Repeated(message_from_row(&row, "m_")?));
    }
    if current.state != SessionState::Human
        || current.assigned_to.as_deref() != Some(reply.operator.as_str())
    {
        return Ok(ReplyOutcome::NotHolder(current));
    }
    execute(
        client,
        "UPDATE conversations SET last_activity_ms = greatest(last_activity_ms, $2) WHERE id = $1",
        &[&current.id, &reply.now_ms],
    )
    .await?;
    // Marks the time of the first reply on the take that started the current hold.
    let first = execute(
        client,
        "UPDATE handover_events SET first_reply_ms = $2
         WHERE id = (SELECT max(id) FROM handover_events WHERE conversation_id = $1)
           AND to_state = 'human' AND first_reply_ms IS NULL",
        &[&current.id, &reply.now_ms],
    )
    .await?
        == 1;
    let to = Outbound {
        tenant_id: &current.tenant_id,
        conversation_id: &current.id,
        channel_id: &current.channel_id,
        key: &key,
        delivered_live: reply.delivered_live,
        now_ms: reply.now_ms,
    };
    let message = NewMessage {
        sender: Sender::Operator(reply.operator.clone()),
        content: reply.content.clone(),
    };
    let message = queue_outbound(client, &to, &message).await?;
    Ok(ReplyOutcome::Stored {
        message,
        first,
        taken_at_ms: current.state_changed_at_ms,
    })
}

impl PostgresStore {
    /// A tenant's events, of one conversation or (`None`) all since `since_ms`.
    async fn events(
        &self,
        tenant_id: &str,
        conversation_id: Option<&str>,
        since_ms: i64,
        max: u32,
    ) -> Result<Vec<HandoverEvent>, StoreError> {
        let mut client = self.client().await?;
        let scope = self.tenant_scope(&mut client, tenant_id).await?;
        let rows = query(
            &scope,
            "SELECT id, conversation_id, from_state, to_state, trigger, actor, reason, at_ms,
                    first_reply_ms
             FROM handover_events
             WHERE tenant_id = $1 AND ($2::TEXT IS NULL OR conversation_id = $2) AND at_ms >= $3
             ORDER BY id LIMIT $4",
            &[&tenant_id, &conversation_id, &since_ms, &limit(max)],
        )
        .await?;
        scope.commit().await.map_err(database)?;
        rows.iter().map(event_from_row).collect()
    }
}

#[async_trait]
impl HandoverStore for PostgresStore {
    async fn move_conversation(&self, change: &HandoverMove) -> Result<MoveOutcome, StoreError> {
        let mut client = self.client().await?;
        let scope = self.tenant_scope(&mut client, &change.tenant_id).await?;
        let outcome = move_locked(&scope, change).await?;
        scope.commit().await.map_err(database)?;
        Ok(outcome)
    }

    async fn record_operator_reply(
        &self,
        reply: &OperatorReply,
    ) -> Result<ReplyOutcome, StoreError> {
        let mut client = self.client().await?;
        let scope = self.tenant_scope(&mut client, &reply.tenant_id).await?;
        let outcome = reply_locked(&scope, reply).await?;
        scope.commit().await.map_err(database)?;
        Ok(outcome)
    }

    async fn handover_events(
        &self,
        tenant_id: &str,
        conversation_id: &str,
    ) -> Result<Vec<HandoverEvent>, StoreError> {
        self.events(tenant_id, Some(conversation_id), 0, u32::MAX)
            .await
    }

    async fn tenant_handover_events(
        &self,
        tenant_id: &str,
        since_ms: i64,
        max: u32,
    ) -> Result<Vec<HandoverEvent>, StoreError> {
        self.events(tenant_id, None, since_ms, max).await
    }

    async fn people_conversations(&self, max: u32) -> Result<Vec<PeopleConversation>, StoreError> {
        let client = self.client().await?;
        let rows = query(
            &client,
            &format!(
                "SELECT {CONVERSATION_COLUMNS}, c.busy_notified_at_ms FROM conversations c
                 WHERE c.state IN ('waiting', 'human') ORDER BY c.state_changed_at_ms LIMIT $1"
            ),
            &[&limit(max)],
        )
        .await?;
        rows.iter()
            .map(|row| {
                Ok(PeopleConversation {
                    conversation: conversation_from_row(row)?,
                    busy_notified_at_ms: column(row, "busy_notified_at_ms")?,
                })
            })
            .collect()
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
        let mut client = self.client().await?;
        let scope = self.tenant_scope(&mut client, tenant_id).await?;
        let claimed = query_opt(
            &scope,
            "UPDATE conversations SET busy_notified_at_ms = $4
             WHERE tenant_id = $1 AND id = $2 AND state = 'waiting'
               AND state_changed_at_ms = $3 AND busy_notified_at_ms IS NULL
             RETURNING channel_id",
            &[&tenant_id, &conversation_id, &waiting_since_ms, &now_ms],
        )
        .await?;
        let Some(row) = claimed else {
            return Ok(None);
        };
        let channel_id: String = column(&row, "channel_id")?;
        let key = format!("busy:{conversation_id}:{waiting_since_ms}");
        let to = Outbound {
            tenant_id,
            conversation_id,
            channel_id: &channel_id,
            key: &key,
            delivered_live,
            now_ms,
        };
        let message = queue_outbound(&scope, &to, notice).await?;
        scope.commit().await.map_err(database)?;
        Ok(Some(message))
    }
}
