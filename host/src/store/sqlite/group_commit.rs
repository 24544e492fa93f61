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
use crate::store::queue::{InboxAnswer as Answer, answer_inbox_callers};
use crate::store::{InboxInsert, NewInboxEvent, StoreError};

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
        let outcomes = match (self.outcomes, committed) {
            (Ok(_), Err(reason)) => Err(not_committed(reason)),
            (outcomes, _) => outcomes,
        };
        answer_inbox_callers(self.answers, outcomes);
    }
}
