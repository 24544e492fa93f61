//! The writer: one thread owns the connection that writes and runs the store's writes one
//! after another, as SQLite allows one writer anyway. Callers queue a job and await its
//! answer, so no thread blocks waiting for the writer: with a mutex, every turn and send
//! in flight (128 by default) parked a blocking-pool thread on it, and handing it from
//! thread to thread cost more CPU than the writes. Webhook events go ahead of the queue:
//! before each job the thread commits every event queued by then in one transaction
//! ([`InboxBatch`]), so an acknowledgement waits for at most the job running when it
//! arrived.

use std::any::Any;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Weak};

use rusqlite::Connection;
use tokio::sync::oneshot;

use super::checkpoint;
use super::group_commit::InboxBatch;
use crate::store::{InboxInsert, NewInboxEvent, StoreError};

/// A write to run on the writer's thread.
type Job = Box<dyn FnOnce(&mut Connection) + Send>;

/// A handle on the writer thread; it stops once every handle is dropped and the jobs queued
/// by then are done.
#[derive(Clone)]
pub(super) struct Writer {
    /// `None` asks the thread only to commit the webhook events.
    jobs: Sender<Option<Job>>,
    inbox: Arc<InboxBatch>,
    /// Raised by the checkpoint thread when the WAL should start over (see
    /// [`checkpoint`]): the writer then checkpoints between two jobs.
    wal_too_long: Arc<AtomicBool>,
}

impl Writer {
    /// Starts the thread that owns `connection`.
    pub(super) fn start(connection: Connection) -> Result<Self, StoreError> {
        let (jobs, queue) = mpsc::channel();
        let inbox = Arc::new(InboxBatch::default());
        let batch = Arc::clone(&inbox);
        let wal_too_long = Arc::new(AtomicBool::new(false));
        let catch_up = Arc::clone(&wal_too_long);
        std::thread::Builder::new()
            .name("loa-sqlite-writer".into())
            .spawn(move || run(connection, &queue, &batch, &catch_up))
            .map_err(|error| {
                StoreError::Backend(format!("cannot start the SQLite writer thread: {error}"))
            })?;
        Ok(Self {
            jobs,
            inbox,
            wal_too_long,
        })
    }

    /// Runs `work` on the writer and returns its answer.
    pub(super) async fn run<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let (answer, answered) = oneshot::channel();
        let job: Job = Box::new(move |connection| {
            // A caller that stopped waiting needs no answer; the write stands.
            let _ = answer.send(work(connection));
        });
        self.jobs.send(Some(job)).map_err(|_| stopped())?;
        answered.await.map_err(|_| {
            StoreError::Backend("the write failed on the writer thread (it panicked)".into())
        })?
    }

    /// Stores `event` with the next batch of webhook events and returns where it went.
    pub(super) async fn store_inbox_event(
        &self,
        event: NewInboxEvent,
    ) -> Result<InboxInsert, StoreError> {
        let answer = self.inbox.push(event);
        self.jobs.send(None).map_err(|_| stopped())?;
        answer.await.map_err(|_| {
            StoreError::Backend("the inbox batch was dropped before it was stored".into())
        })?
    }

    /// The flag the checkpoint thread raises when the WAL should start over.
    pub(super) fn wal_too_long(&self) -> Arc<AtomicBool> {
        Arc::clone(&self.wal_too_long)
    }

    /// Alive while any handle is: the checkpoint thread stops with the writer.
    pub(super) fn liveness(&self) -> Weak<dyn Any + Send + Sync> {
        let alive: Arc<dyn Any + Send + Sync> = Arc::clone(&self.inbox) as _;
        Arc::downgrade(&alive)
    }
}

fn stopped() -> StoreError {
    StoreError::Backend("the SQLite writer thread has stopped".into())
}

/// The writer thread: webhook events first, then the next job, until every handle is gone.
fn run(
    mut connection: Connection,
    queue: &Receiver<Option<Job>>,
    inbox: &InboxBatch,
    wal_too_long: &AtomicBool,
) {
    while let Ok(job) = queue.recv() {
        inbox.commit_pending(&mut connection);
        if wal_too_long.swap(false, Ordering::Relaxed) {
            checkpoint::catch_up(&connection);
        }
        let Some(job) = job else { continue };
        // A panicking job fails its own caller (its answer is dropped), not the writer; its
        // transaction was rolled back while unwinding.
        if std::panic::catch_unwind(AssertUnwindSafe(|| job(&mut connection))).is_err() {
            tracing::error!("a write panicked on the SQLite writer thread");
        }
    }
}

#[cfg(test)]
mod tests {
    use futures_util::FutureExt;
    use rusqlite::Connection;

    use crate::store::sqlite::SqliteStore;
    use crate::store::{InboxInsert, NewInboxEvent, QueueStore, StoreError};

    fn event(message: &str) -> NewInboxEvent {
        NewInboxEvent {
            tenant_id: "may".into(),
            channel_id: "tg-may".into(),
            channel_message_id: message.into(),
            channel_user_id: "u1".into(),
            payload: "{}".into(),
            now_ms: 1,
        }
    }

    fn inbox_rows(connection: &mut Connection) -> Result<i64, StoreError> {
        connection
            .query_row("SELECT COUNT(*) FROM inbox_events", [], |row| row.get(0))
            .map_err(super::super::backend)
    }

    /// A webhook event queued behind a running write and a waiting one is stored as soon
    /// as the running one ends, before the waiting one starts.
    #[tokio::test]
    async fn webhook_events_go_ahead_of_queued_writes() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = SqliteStore::open(&dir.path().join("loa.db")).expect("store");
        let (started, running) = std::sync::mpsc::channel::<()>();
        let (release, released) = std::sync::mpsc::channel::<()>();
        // Polled by hand: the first poll queues the job, and this test's thread can then
        // block until the writer runs it.
        let mut running_write = Box::pin(store.with(move |_| {
            let _ = started.send(());
            let _ = released.recv();
            Ok(())
        }));
        assert!(running_write.as_mut().now_or_never().is_none(), "queued");
        running.recv().expect("the first write runs");
        let mut waiting_write = Box::pin(store.with(inbox_rows));
        assert!(waiting_write.as_mut().now_or_never().is_none(), "queued");
        let event = event("m1");
        let mut insert = Box::pin(store.inbox_insert(&event));
        assert!(insert.as_mut().now_or_never().is_none(), "queued");
        release.send(()).expect("release the first write");
        running_write.await.expect("first write");
        assert_eq!(
            waiting_write.await.expect("count"),
            1,
            "the event went first"
        );
        let inserted = insert.await.expect("stored");
        assert!(matches!(inserted, InboxInsert::Inserted(_)), "{inserted:?}");
    }

    /// A write that panics fails its own caller; the writer goes on with the next ones.
    #[tokio::test]
    async fn a_panicking_write_fails_its_caller_only() {
        let store = SqliteStore::in_memory().expect("store");
        let failed = store
            .with(|_| -> Result<(), StoreError> { panic!("a bug in one write") })
            .await;
        assert!(
            matches!(&failed, Err(StoreError::Backend(message)) if message.contains("panicked")),
            "{failed:?}"
        );
        let inserted = store.inbox_insert(&event("m1")).await.expect("stored");
        assert!(matches!(inserted, InboxInsert::Inserted(_)), "{inserted:?}");
        assert_eq!(store.with(inbox_rows).await.expect("count"), 1);
    }
}
