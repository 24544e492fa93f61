//! PostgreSQL side of [`DeliveryStore`](crate::store::DeliveryStore). Every statement runs
//! in a tenant transaction, under row-level security.

use async_trait::async_trait;
use deadpool_postgres::GenericClient;

use super::PostgresStore;
use super::queue::{OUTBOX_COLUMNS, outbox_from_row};
use super::statements::{execute, limit, query, query_opt};
use super::tenant_scope::in_tenant;
use super::turns::{Outbound, locked, message_from_row, prefixed_message_columns, queue_outbound};
use crate::store::deliveries::{
    DeliveryFilter, DeliveryStore, QueueOutcome, QueuedMessage, Requeue,
};
use crate::store::{OutboxItem, StoreError};

/// The outbox's columns as `o.…`, then the message's as `m_…`.
fn item_columns() -> String {
    format!(
        "o.{}, {}",
        OUTBOX_COLUMNS.replace(", ", ", o."),
        prefixed_message_columns()
    )
}

fn item_from_row(row: &deadpool_postgres::tokio_postgres::Row) -> Result<OutboxItem, StoreError> {
    Ok(OutboxItem {
        row: outbox_from_row(row)?,
        message: message_from_row(row, "m_")?,
        lost_send_started_ms: None,
    })
}

async fn deliveries<C: GenericClient>(
    client: &C,
    tenant_id: &str,
    filter: &DeliveryFilter,
) -> Result<Vec<OutboxItem>, StoreError> {
    let rows = query(
        client,
        &format!(
            "SELECT {} FROM outbox o JOIN messages m ON m.id = o.message_id
             WHERE o.tenant_id = $1
               AND ($2::text IS NULL OR o.status = $2)
               AND ($3::text IS NULL OR o.channel_id = $3)
               AND ($4::text IS NULL OR o.conversation_id = $4)
               AND ($5::bigint IS NULL OR o.id < $5)
             ORDER BY o.id DESC LIMIT $6",
            item_columns()
        ),
        &[
            &tenant_id,
            &filter.status.map(|status| status.as_str()),
            &filter.channel_id,
            &filter.conversation_id,
            &filter.before_id,
            &limit(filter.limit),
        ],
    )
    .await?;
    rows.iter().map(item_from_row).collect()
}

async fn delivery<C: GenericClient>(
    client: &C,
    tenant_id: &str,
    id: i64,
) -> Result<Option<OutboxItem>, StoreError> {
    let row = query_opt(
        client,
        &format!(
            "SELECT {} FROM outbox o JOIN messages m ON m.id = o.message_id
             WHERE o.tenant_id = $1 AND o.id = $2",
            item_columns()
        ),
        &[&tenant_id, &id],
    )
    .await?;
    row.as_ref().map(item_from_row).transpose()
}

async fn requeue_dead<C: GenericClient>(
    client: &C,
    tenant_id: &str,
    id: i64,
    now_ms: i64,
) -> Result<Requeue, StoreError> {
    let changed = execute(
        client,
        "UPDATE outbox SET status = 'pending', attempt_base = attempts,
             next_attempt_at_ms = $3, lease_until_ms = 0, updated_at_ms = $3
         WHERE tenant_id = $1 AND id = $2 AND status = 'dead'",
        &[&tenant_id, &id, &now_ms],
    )
    .await?;
    let row = query_opt(
        client,
        &format!("SELECT {OUTBOX_COLUMNS} FROM outbox WHERE tenant_id = $1 AND id = $2"),
        &[&tenant_id, &id],
    )
    .await?;
    Ok(match row.as_ref().map(outbox_from_row).transpose()? {
        None => Requeue::NotFound,
        Some(row) if changed == 1 => Requeue::Requeued(row),
        Some(row) => Requeue::NotDead(row),
    })
}

async fn queue_message<C: GenericClient>(
    client: &C,
    queued: &QueuedMessage,
) -> Result<QueueOutcome, StoreError> {
    // The conversation's row lock serializes two calls with one key (same conversation).
    let Some(current) = locked(client, &queued.tenant_id, &queued.conversation_id).await? else {
        return Ok(QueueOutcome::NotFound);
    };
    let earlier = query_opt(
        client,
        &format!(
            "SELECT o.id AS outbox_id, {} FROM outbox o JOIN messages m ON m.id = o.message_id
             WHERE o.idempotency_key = $1",
            prefixed_message_columns()
        ),
        &[&queued.idempotency_key],
    )
    .await?;
    if let Some(row) = earlier {
        return Ok(QueueOutcome::Repeated {
            message: message_from_row(&row, "m_")?,
            outbox_id: super::statements::column(&row, "outbox_id")?,
        });
    }
    let to = Outbound {
        tenant_id: &current.tenant_id,
        conversation_id: &current.id,
        channel_id: &current.channel_id,
        key: &queued.idempotency_key,
        delivered_live: queued.delivered_live,
        now_ms: queued.now_ms,
    };
    let message = queue_outbound(client, &to, &queued.message).await?;
    execute(
        client,
        "UPDATE conversations SET last_activity_ms = greatest(last_activity_ms, $2) WHERE id = $1",
        &[&current.id, &queued.now_ms],
    )
    .await?;
    let row = query_opt(
        client,
        "SELECT id FROM outbox WHERE idempotency_key = $1",
        &[&queued.idempotency_key],
    )
    .await?
    .ok_or_else(|| StoreError::Corrupt("the outbox row just queued is missing".into()))?;
    Ok(QueueOutcome::Stored {
        message,
        outbox_id: super::statements::column(&row, "id")?,
    })
}

#[async_trait]
impl DeliveryStore for PostgresStore {
    async fn deliveries(
        &self,
        tenant_id: &str,
        filter: &DeliveryFilter,
    ) -> Result<Vec<OutboxItem>, StoreError> {
        in_tenant!(self, tenant_id, |scope| deliveries(
            &scope, tenant_id, filter
        ))
    }

    async fn delivery(&self, tenant_id: &str, id: i64) -> Result<Option<OutboxItem>, StoreError> {
        in_tenant!(self, tenant_id, |scope| delivery(&scope, tenant_id, id))
    }

    async fn requeue_dead(
        &self,
        tenant_id: &str,
        id: i64,
        now_ms: i64,
    ) -> Result<Requeue, StoreError> {
        in_tenant!(self, tenant_id, |scope| requeue_dead(
            &scope, tenant_id, id, now_ms
        ))
    }

    async fn queue_message(&self, queued: &QueuedMessage) -> Result<QueueOutcome, StoreError> {
        in_tenant!(self, &queued.tenant_id, |scope| queue_message(
            &scope, queued
        ))
    }
}
