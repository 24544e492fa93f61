//! The writer: one thread owns the connection that writes and runs the store's writes one
//! after another, as SQLite allows one writer anyway. Callers queue a job and await its
//! answer, so no thread blocks waiting for the writer: with a mutex, every turn and send
//! in flight (128 by default) parked a blocking-pool thread on it, and handing it from
//! thread to thread cost more CPU than the writes. The jobs queued together commit together
//! ([`Batch`]). Webhook events go ahead of the queue: after each job the thread stores every
//! event queued by then ([`InboxBatch`]) and commits, so an acknowledgement waits for at
//! most the job running when it arrived.

use std::any::Any;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Weak};

use rusqlite::Connection;
use tokio::sync::oneshot;

use super::batch::{Answer, Batch, Reply};
use super::checkpoint;
use super::group_commit::InboxBatch;
use crate::store::{InboxInsert, NewInboxEvent, StoreError};

/// A write to run on the writer's thread; it returns its caller's answer, sent once the
/// transaction that carried it committed.
type Job = Box<dyn FnOnce(&mut Connection) -> Box<dyn Reply> + Send>;

/// What the writer thread is asked to do.
enum Request {
    /// Store the queued webhook events.
    InboxEvents,
    /// Run a write with the others queued.
    Write(Job),
    /// Run a job outside any transaction (migrations: they switch foreign keys off, which
    /// SQLite ignores inside a transaction).
    Alone(Job),
}

/// A handle on the writer thread; it stops once every handle is dropped and the jobs queued
/// by then are done.
#[derive(Clone)]
pub(super) struct Writer {
    requests: Sender<Request>,
    inbox: Arc<InboxBatch>,
    /// Raised by the checkpoint thread when the WAL should start over (see
    /// [`checkpoint`]): the writer then checkpoints between two batches.
    wal_too_long: Arc<AtomicBool>,
}

impl Writer {
    /// Starts the thread that owns `connection`.
    pub(super) fn start(connection: Connection) -> Result<Self, StoreError> {
        let (requests, queue) = mpsc::channel();
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
            requests,
            inbox,
            wal_too_long,
        })
    }

    /// Runs `work` on the writer, in a transaction with the writes queued with it, and
    /// returns its answer once that committed.
    pub(super) async fn run<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    {
        self.ask(work, Request::Write).await
    }

    /// Runs `work` on the writer outside any transaction.
    pub(super) async fn run_alone<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    {
        self.ask(work, Request::Alone).await
    }

    async fn ask<T, F>(&self, work: F, request: fn(Job) -> Request) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let (answer, answered) = oneshot::channel();
        let job: Job = Box::new(move |connection| Box::new(Answer::new(answer, work(connection))));
        self.requests.send(request(job)).map_err(|_| stopped())?;
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
        self.requests
            .send(Request::InboxEvents)
            .map_err(|_| stopped())?;
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

/// The writer thread: a batch at a time, until every handle is gone.
fn run(
    mut connection: Connection,
    queue: &Receiver<Request>,
    inbox: &InboxBatch,
    wal_too_long: &AtomicBool,
) {
    let mut next = None;
    loop {
        let request = match next.take() {
            Some(request) => request,
            None => match queue.recv() {
                Ok(request) => request,
                Err(_) => return,
            },
        };
        if wal_too_long.swap(false, Ordering::Relaxed) {
            checkpoint::catch_up(&connection);
        }
        next = match request {
            Request::Alone(job) => {
                // Its own transactions, if any, commit as it runs.
                match std::panic::catch_unwind(AssertUnwindSafe(|| job(&mut connection))) {
                    Ok(reply) => reply.send(Ok(())),
                    Err(_) => tracing::error!("a write panicked on the SQLite writer thread"),
                }
                None
            }
            request => run_batch(&mut connection, queue, inbox, request),
        };
    }
}

/// Runs `first` and the writes queued behind it in one transaction and commits; returns
/// the request it stopped at, not yet run.
fn run_batch(
    connection: &mut Connection,
    queue: &Receiver<Request>,
    inbox: &InboxBatch,
    first: Request,
) -> Option<Request> {
    let mut batch = Batch::new(connection);
    let mut request = Some(first);
    loop {
        let events = inbox.take();
        if !events.is_empty() {
            // Their callers wait for this commit: nothing more goes in.
            batch.run(|connection| events.store(connection));
            break;
        }
        if batch.is_full() {
            break;
        }
        match request.take() {
            Some(Request::Write(job)) => batch.run(job),
            Some(Request::InboxEvents) => {}
            Some(alone @ Request::Alone(_)) => {
                request = Some(alone);
                break;
            }
            None => break,
        }
        request = queue.try_recv().ok();
    }
    batch.commit();
    request
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
