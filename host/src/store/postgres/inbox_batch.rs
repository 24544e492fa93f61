//! Group commit of webhook events on PostgreSQL. Each acknowledged webhook must be
//! committed before its answer; one transaction per event (lock, insert, commit: four round
//! trips and a WAL flush) made the PostgreSQL server the limit well below 2,000 webhooks a
//! second on a small machine. Instead each caller queues its event and waits its turn to
//! lead: the leader takes every event queued by then and stores them in one transaction,
//! answering each caller; the events queued meanwhile go with the next leader. No task
//! lives between calls, so the store works on whatever runtime calls it.

use std::collections::HashMap;
use std::sync::Mutex;

use tokio::sync::oneshot;

use super::PostgresStore;
use super::error::database;
use super::statements::{LockSpace, column, execute, query};
use crate::store::queue::{InboxAnswer as Answer, answer_inbox_callers};
use crate::store::{InboxInsert, NewInboxEvent, StoreError};

/// Events waiting for the next leader, and the turn to lead.
#[derive(Default)]
pub(super) struct InboxBatch {
    pending: Mutex<Vec<(NewInboxEvent, Answer)>>,
    leader: tokio::sync::Mutex<()>,
}

impl InboxBatch {
    /// Stores `event` with the events queued alongside and returns where it went.
    pub(super) async fn insert(
        &self,
        store: &PostgresStore,
        event: NewInboxEvent,
    ) -> Result<InboxInsert, StoreError> {
        let (answer, mut answered) = oneshot::channel();
        self.lock().push((event, answer));
        tokio::select! {
            // Stored by the leader that took it along: no need to lead a batch of others.
            answer = &mut answered => return received(answer),
            _turn = self.leader.lock() => {
                // The event is still in `pending`, or a leader took it (and answers it).
                let events = std::mem::take(&mut *self.lock());
                if !events.is_empty() {
                    // A task of its own: a caller that goes away (its request dropped) must
                    // not take the others' events with it.
                    let store = store.clone();
                    let stored = tokio::spawn(async move { store_all(&store, events).await });
                    if stored.await.is_err() {
                        tracing::error!("storing a batch of webhook events panicked");
                    }
                }
            }
        }
        received(answered.await)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<(NewInboxEvent, Answer)>> {
        self.pending
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

fn received(
    answer: Result<Result<InboxInsert, StoreError>, oneshot::error::RecvError>,
) -> Result<InboxInsert, StoreError> {
    answer.map_err(|_| {
        StoreError::Backend("the inbox batch was dropped before it was stored".into())
    })?
}

/// Stores `events` in one transaction and answers their callers (all with the error when
/// it failed: none was stored).
async fn store_all(store: &PostgresStore, events: Vec<(NewInboxEvent, Answer)>) {
    let (events, answers): (Vec<_>, Vec<_>) = events.into_iter().unzip();
    let outcomes = insert_all(store, &events).await;
    if let Err(error) = &outcomes {
        tracing::error!(events = events.len(), %error, "inbox batch not stored");
    }
    answer_inbox_callers(answers, outcomes);
}

async fn insert_all(
    store: &PostgresStore,
    events: &[NewInboxEvent],
) -> Result<Vec<InboxInsert>, StoreError> {
    let mut client = store.webhook_client().await?;
    let transaction = client.transaction().await.map_err(database)?;
    // Each customer's events get their ids in the order they commit: a claim must not see a
    // later one before an earlier one still being written by another server. Locked in
    // order, so two servers' batches cannot deadlock.
    let mut customers: Vec<String> = events.iter().map(customer).collect();
    customers.sort_unstable();
    customers.dedup();
    execute(
        &transaction,
        "SELECT pg_advisory_xact_lock($1, hashtext(customer))
         FROM unnest($2::text[]) WITH ORDINALITY AS c (customer, position)
         ORDER BY position",
        &[&(LockSpace::InboxCustomer as i32), &customers],
    )
    .await?;
    let column_of =
        |pick: fn(&NewInboxEvent) -> &str| -> Vec<&str> { events.iter().map(pick).collect() };
    let received_at: Vec<i64> = events.iter().map(|event| event.now_ms).collect();
    let inserted = query(
        &transaction,
        "INSERT INTO inbox_events (tenant_id, channel_id, channel_message_id, channel_user_id,
                                   payload_json, available_at_ms, received_at_ms)
         SELECT tenant_id, channel_id, channel_message_id, channel_user_id, payload_json,
                received_at_ms, received_at_ms
         FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::int8[])
              WITH ORDINALITY AS e (tenant_id, channel_id, channel_message_id, channel_user_id,
                                    payload_json, received_at_ms, position)
         ORDER BY position
         ON CONFLICT (channel_id, channel_message_id) DO NOTHING
         RETURNING id, channel_id, channel_message_id",
        &[
            &column_of(|event| event.tenant_id.as_str()),
            &column_of(|event| event.channel_id.as_str()),
            &column_of(|event| event.channel_message_id.as_str()),
            &column_of(|event| event.channel_user_id.as_str()),
            &column_of(|event| event.payload.as_str()),
            &received_at,
        ],
    )
    .await?;
    let mut new_ids = ids_by_event(&inserted)?;
    let mut earlier_ids = HashMap::new();
    if events.len() > new_ids.len() {
        let earlier = query(
            &transaction,
            "SELECT i.id, i.channel_id, i.channel_message_id
             FROM inbox_events i
             JOIN unnest($1::text[], $2::text[]) AS e (channel_id, channel_message_id)
               ON i.channel_id = e.channel_id AND i.channel_message_id = e.channel_message_id",
            &[
                &column_of(|event| event.channel_id.as_str()),
                &column_of(|event| event.channel_message_id.as_str()),
            ],
        )
        .await?;
        earlier_ids = ids_by_event(&earlier)?;
    }
    transaction.commit().await.map_err(database)?;
    events
        .iter()
        .map(|event| {
            let key = (event.channel_id.clone(), event.channel_message_id.clone());
            // The first of an event's copies in the batch inserted it; the others, and copies
            // stored before, are duplicates of it.
            if let Some(id) = new_ids.remove(&key) {
                earlier_ids.insert(key, id);
                return Ok(InboxInsert::Inserted(id));
            }
            earlier_ids
                .get(&key)
                .map(|id| InboxInsert::Duplicate(*id))
                .ok_or_else(|| {
                    StoreError::Corrupt(format!(
                        "inbox event {} of channel {} neither stored nor found",
                        event.channel_message_id, event.channel_id
                    ))
                })
        })
        .collect()
}

/// The lock key of an event's customer. U+001F between the parts: ("ab", "c") and ("a",
/// "bc") are different customers.
fn customer(event: &NewInboxEvent) -> String {
    format!("{}\u{1f}{}", event.channel_id, event.channel_user_id)
}

fn ids_by_event(
    rows: &[tokio_postgres::Row],
) -> Result<HashMap<(String, String), i64>, StoreError> {
    rows.iter()
        .map(|row| {
            Ok((
                (
                    column(row, "channel_id")?,
                    column(row, "channel_message_id")?,
                ),
                column(row, "id")?,
            ))
        })
        .collect()
}
