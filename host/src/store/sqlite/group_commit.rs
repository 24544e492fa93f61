//! Group commit of webhook events. Every acknowledged webhook must be durable before its
//! answer, and SQLite has one writer: one transaction per event made the writer the
//! bottleneck at about 1,400 webhooks a second. Instead each caller queues its event, and
//! the writer thread stores every event queued by then as one write of its batch
//! ([`super::batch`]), which then commits at once, and answers each caller. Under load one
//! commit carries many events; alone, an event commits at once.

use std::sync::Mutex;

use rusqlite::Connection;
use tokio::sync::oneshot;

use super::batch::{Reply, not_committed};
use super::{backend, queue};
use crate::store::{InboxInsert, NewInboxEvent, StoreError};

/// Where each caller's answer goes.
type Answer = oneshot::Sender<Result<InboxInsert, StoreError>>;

/// Events waiting for the next commit.
#[derive(Default)]
pub(super) struct InboxBatch {
    pending: Mutex<Vec<(NewInboxEvent, Answer)>>,
}

impl InboxBatch {
    /// Queues `event`; the answer arrives once a commit carried it.
    pub(super) fn push(
        &self,
        event: NewInboxEvent,
    ) -> oneshot::Receiver<Result<InboxInsert, StoreError>> {
        let (answer, receiver) = oneshot::channel();
        self.lock().push((event, answer));
        receiver
    }

    /// Takes the events queued so far, to be stored with [`QueuedEvents::store`].
    pub(super) fn take(&self) -> QueuedEvents {
        QueuedEvents(std::mem::take(&mut *self.lock()))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<(NewInboxEvent, Answer)>> {
        self.pending
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Events taken from the queue, not yet stored.
pub(super) struct QueuedEvents(Vec<(NewInboxEvent, Answer)>);

impl QueuedEvents {
    /// Whether there is nothing to store.
    pub(super) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// On the writer connection: stores every event, all or none, and returns how to answer
    /// their callers after the commit.
    pub(super) fn store(self, connection: &mut Connection) -> Box<dyn Reply> {
        let (events, answers): (Vec<_>, Vec<_>) = self.0.into_iter().unzip();
        let outcomes = insert_all(connection, &events);
        if let Err(error) = &outcomes {
            tracing::error!(events = events.len(), %error, "inbox batch not stored");
        }
        Box::new(InboxAnswers { answers, outcomes })
    }
}

fn insert_all(
    connection: &mut Connection,
    events: &[NewInboxEvent],
) -> Result<Vec<InboxInsert>, StoreError> {
    let transaction = connection.savepoint().map_err(backend)?;
    let outcomes = events
        .iter()
        .map(|event| queue::inbox_insert(&transaction, event))
        .collect::<Result<Vec<_>, _>>()?;
    transaction.commit().map_err(backend)?;
    Ok(outcomes)
}

/// Each caller's answer: where its event went, or why none was stored.
struct InboxAnswers {
    answers: Vec<Answer>,
    outcomes: Result<Vec<InboxInsert>, StoreError>,
}

impl Reply for InboxAnswers {
    fn send(self: Box<Self>, committed: Result<(), &str>) {
        // A caller that gave up waiting (its request was dropped) needs no answer.
        match (self.outcomes, committed) {
            (Ok(outcomes), Ok(())) => {
                for (answer, outcome) in self.answers.into_iter().zip(outcomes) {
                    let _ = answer.send(Ok(outcome));
                }
            }
            (Ok(_), Err(reason)) => {
                for answer in self.answers {
                    let _ = answer.send(Err(not_committed(reason)));
                }
            }
            (Err(error), _) => {
                let reason = error.to_string();
                for answer in self.answers {
                    let _ = answer.send(Err(StoreError::Backend(reason.clone())));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::store::QueueStore;
    use crate::store::sqlite::SqliteStore;

    fn event(message: usize) -> NewInboxEvent {
        NewInboxEvent {
            tenant_id: "may".into(),
            channel_id: "tg-may".into(),
            channel_message_id: format!("m{message}"),
            channel_user_id: format!("u{}", message % 7),
            payload: "{}".into(),
            now_ms: 1,
        }
    }

    /// 400 inserts at once from 8 threads, every event twice: each event is stored once,
    /// both of its callers get its id, and the second learns it is a duplicate, whether the
    /// two went in one batch or in two.
    #[tokio::test(flavor = "multi_thread", worker_threads = 8)]
    async fn concurrent_inserts_store_each_event_once_and_answer_every_caller() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = SqliteStore::open(&dir.path().join("loa.db")).expect("store");
        let tasks: Vec<_> = (0..400)
            .map(|call| {
                let store = store.clone();
                tokio::spawn(async move {
                    let message = call / 2;
                    (message, store.inbox_insert(&event(message)).await)
                })
            })
            .collect();
        let mut ids: HashMap<usize, Vec<InboxInsert>> = HashMap::new();
        for task in tasks {
            let (message, outcome) = task.await.expect("task");
            ids.entry(message)
                .or_default()
                .push(outcome.expect("stored"));
        }
        assert_eq!(ids.len(), 200);
        let mut distinct = std::collections::HashSet::new();
        for (message, outcomes) in &ids {
            let id = |outcome: &InboxInsert| match outcome {
                InboxInsert::Inserted(id) | InboxInsert::Duplicate(id) => *id,
            };
            assert_eq!(
                id(&outcomes[0]),
                id(&outcomes[1]),
                "message {message}: {outcomes:?}"
            );
            let inserted = outcomes
                .iter()
                .filter(|outcome| matches!(outcome, InboxInsert::Inserted(_)))
                .count();
            assert_eq!(inserted, 1, "message {message}: {outcomes:?}");
            distinct.insert(id(&outcomes[0]));
        }
        assert_eq!(distinct.len(), 200, "one row per event");
        let depths = store.queue_depths().await.expect("depths");
        assert_eq!(depths.inbox, 200, "{depths:?}");
    }
}
