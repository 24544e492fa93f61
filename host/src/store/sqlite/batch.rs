//! One transaction for the writes queued together. Under load the writer runs about ten
//! thousand jobs a second (a turn is five of them), and a commit per job wrote the pages
//! they share (the queues' index leaves, the tables' last pages) to the WAL again and again:
//! hundreds of megabytes a second, which the checkpoints then copied back. So the writer
//! begins one IMMEDIATE transaction, runs the jobs queued by then each in its own savepoint
//! (the store's functions open one where they write more than once), and commits them
//! together; each caller's answer waits for that commit, so nobody reads a write that could
//! still be lost. A batch ends when the queue is empty, when it is full, or as soon as it
//! carries webhook events: an acknowledgement waits for at most the job running when its
//! event arrived.

use std::panic::AssertUnwindSafe;

use rusqlite::Connection;
use tokio::sync::oneshot;

use crate::store::StoreError;

/// The most jobs in one transaction: enough that the commits stop mattering (a few
/// milliseconds of work), few enough that the first caller is not kept waiting for long.
/// No time limit: the jobs behind a slow one waited for it anyway, and webhook events end
/// a batch as they come.
const MOST_JOBS: usize = 64;

/// How a caller is answered once the transaction that carried its write has committed (or
/// failed, which turns a success into the commit's error: the write is gone).
pub(super) trait Reply: Send {
    /// Sends the answer; `committed` is the transaction's fate.
    fn send(self: Box<Self>, committed: Result<(), &str>);
}

/// The answer of a job run for [`super::writer::Writer::run`].
pub(super) struct Answer<T> {
    to: oneshot::Sender<Result<T, StoreError>>,
    result: Result<T, StoreError>,
}

impl<T> Answer<T> {
    /// `result`, to be sent `to` its caller after the commit.
    pub(super) fn new(
        to: oneshot::Sender<Result<T, StoreError>>,
        result: Result<T, StoreError>,
    ) -> Self {
        Self { to, result }
    }
}

impl<T: Send> Reply for Answer<T> {
    fn send(self: Box<Self>, committed: Result<(), &str>) {
        let result = match (self.result, committed) {
            (Ok(_), Err(reason)) => Err(not_committed(reason)),
            (result, _) => result,
        };
        // A caller that stopped waiting needs no answer; the write stands.
        let _ = self.to.send(result);
    }
}

/// The error of a write whose transaction did not commit.
pub(super) fn not_committed(reason: &str) -> StoreError {
    StoreError::Backend(format!("the write was not committed: {reason}"))
}

/// The writes of one transaction and the answers they wait to send.
pub(super) struct Batch<'c> {
    connection: &'c mut Connection,
    replies: Vec<Box<dyn Reply>>,
    /// Whether the transaction began (at the first write).
    began: bool,
    /// Why SQLite rolled the whole transaction back under a job (a full disk, an I/O
    /// error): every write so far is gone.
    rolled_back: Option<String>,
}

impl<'c> Batch<'c> {
    /// A batch on the writer's `connection`; the transaction begins with the first write.
    pub(super) fn new(connection: &'c mut Connection) -> Self {
        Self {
            connection,
            replies: Vec::new(),
            began: false,
            rolled_back: None,
        }
    }

    /// Whether it should commit now rather than take another job.
    pub(super) fn is_full(&self) -> bool {
        self.rolled_back.is_some() || self.replies.len() >= MOST_JOBS
    }

    /// Runs `write` in the transaction and keeps its answer for the commit. A write that
    /// panics fails its own caller (its answer is dropped while unwinding, and its savepoint
    /// rolled back), not the batch.
    pub(super) fn run(&mut self, write: impl FnOnce(&mut Connection) -> Box<dyn Reply>) {
        let in_batch = match self.begin() {
            Ok(()) => true,
            Err(error) => {
                // Another process holding the lock past the busy timeout, say: the write
                // runs on its own and meets the same trouble, as it did before batches.
                tracing::warn!(%error, "cannot begin a batch of writes; this one runs alone");
                false
            }
        };
        let reply = std::panic::catch_unwind(AssertUnwindSafe(|| write(self.connection)));
        match reply {
            Ok(reply) if in_batch => self.replies.push(reply),
            Ok(reply) => reply.send(Ok(())),
            Err(_) => tracing::error!("a write panicked on the SQLite writer thread"),
        }
        if in_batch && self.rolled_back.is_none() && self.connection.is_autocommit() {
            // SQLite ends the transaction itself on some errors (a full disk, an I/O error);
            // what the job returned says which, to its caller.
            tracing::error!(
                writes = self.replies.len(),
                "SQLite rolled a batch of writes back"
            );
            self.rolled_back = Some("SQLite rolled the transaction back after an error".into());
        }
    }

    /// Commits and answers every caller.
    pub(super) fn commit(self) {
        if !self.began {
            return;
        }
        let committed = match self.rolled_back {
            Some(reason) => Err(reason),
            None => commit(self.connection),
        };
        if let Err(reason) = &committed {
            tracing::error!(writes = self.replies.len(), %reason, "a batch of writes was not committed");
        }
        for reply in self.replies {
            reply.send(committed.as_ref().map(|_| ()).map_err(String::as_str));
        }
    }

    fn begin(&mut self) -> Result<(), rusqlite::Error> {
        if !self.began {
            self.connection
                .prepare_cached("BEGIN IMMEDIATE")?
                .execute([])?;
            self.began = true;
        }
        Ok(())
    }
}

/// Commits the open transaction; when that fails, rolls it back so the next batch starts
/// clean.
fn commit(connection: &Connection) -> Result<(), String> {
    let committed = connection
        .prepare_cached("COMMIT")
        .and_then(|mut commit| commit.execute([]).map(drop));
    committed.map_err(|error| {
        if !connection.is_autocommit() {
            let _ = connection.execute_batch("ROLLBACK");
        }
        error.to_string()
    })
}

#[cfg(test)]
mod tests {
    use std::future::Future;
    use std::pin::Pin;

    use futures_util::FutureExt;
    use rusqlite::{Connection, OptionalExtension};

    use crate::store::StoreError;
    use crate::store::sqlite::{SqliteStore, backend};

    type Pending<T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send>>;

    fn note(connection: &Connection, key: &str) -> Result<(), StoreError> {
        connection
            .execute(
                "INSERT INTO plugin_kv (tenant_id, plugin, key, value)
                 VALUES ('may', 'notes', ?1, x'00')",
                [key],
            )
            .map(drop)
            .map_err(backend)
    }

    fn has_note(connection: &Connection, key: &str) -> Result<bool, StoreError> {
        connection
            .query_row(
                "SELECT 1 FROM plugin_kv WHERE plugin = 'notes' AND key = ?1",
                [key],
                |_| Ok(()),
            )
            .optional()
            .map(|found| found.is_some())
            .map_err(backend)
    }

    /// Queues `write` and returns it still waiting (the writer is held by the caller).
    fn queue<T: Send + 'static>(
        store: &SqliteStore,
        write: impl FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Pending<T> {
        let mut pending: Pending<T> = Box::pin({
            let store = store.clone();
            async move { store.with(write).await }
        });
        assert!(pending.as_mut().now_or_never().is_none(), "queued");
        pending
    }

    /// A store whose writer is busy until the returned sender is used, so that the writes
    /// queued meanwhile meet in one batch.
    fn held_store() -> (
        tempfile::TempDir,
        SqliteStore,
        std::sync::mpsc::Sender<()>,
        Pending<()>,
    ) {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = SqliteStore::open(&dir.path().join("loa.db")).expect("store");
        let (started, running) = std::sync::mpsc::channel::<()>();
        let (release, released) = std::sync::mpsc::channel::<()>();
        let holder = queue(&store, move |_| {
            let _ = started.send(());
            let _ = released.recv();
            Ok(())
        });
        running.recv().expect("the holding write runs");
        (dir, store, release, holder)
    }

    /// Writes queued together commit together: a later one sees an earlier one's row on the
    /// writer while another connection does not yet, and every answer comes after the
    /// commit, when any reader sees all of them.
    #[tokio::test]
    async fn queued_writes_commit_together_and_answer_after_the_commit() {
        let (dir, store, release, holder) = held_store();
        let path = dir.path().join("loa.db");
        let first = queue(&store, |connection| note(connection, "a"));
        let second = queue(&store, move |connection| {
            let other = Connection::open(&path).map_err(backend)?;
            Ok((
                connection.is_autocommit(),
                has_note(connection, "a")?,
                has_note(&other, "a")?,
            ))
        });
        release.send(()).expect("release");
        holder.await.expect("holder");
        first.await.expect("first");
        let (autocommit, writer_sees, other_sees) = second.await.expect("second");
        assert!(
            !autocommit,
            "the second write ran inside the batch's transaction"
        );
        assert!(writer_sees, "the batch sees its own writes");
        assert!(!other_sees, "nothing is visible before the commit");
        let reader = Connection::open(dir.path().join("loa.db")).expect("reader");
        assert!(
            has_note(&reader, "a").expect("read"),
            "committed once answered"
        );
    }

    /// A write that fails takes back only what it wrote (its savepoint); the writes queued
    /// with it commit, and each caller hears its own outcome.
    #[tokio::test]
    async fn a_failed_write_undoes_only_itself() {
        let (_dir, store, release, holder) = held_store();
        let before = queue(&store, |connection| note(connection, "before"));
        let failing = queue(&store, |connection| -> Result<(), StoreError> {
            let savepoint = connection.savepoint().map_err(backend)?;
            note(&savepoint, "failed")?;
            Err(StoreError::Conflict("refused after writing".into()))
        });
        let after = queue(&store, |connection| note(connection, "after"));
        release.send(()).expect("release");
        holder.await.expect("holder");
        before.await.expect("before");
        assert!(matches!(failing.await, Err(StoreError::Conflict(_))));
        after.await.expect("after");
        let kept = store
            .with(|connection| {
                Ok([
                    has_note(connection, "before")?,
                    has_note(connection, "failed")?,
                    has_note(connection, "after")?,
                ])
            })
            .await
            .expect("read");
        assert_eq!(kept, [true, false, true]);
    }

    /// When SQLite ends the transaction under a write (as it does on a full disk), every
    /// caller of that batch hears its write was not committed, none of it stays, and the
    /// writes queued behind start a new batch.
    #[tokio::test]
    async fn a_transaction_ended_by_sqlite_fails_every_write_of_its_batch() {
        let (_dir, store, release, holder) = held_store();
        let before = queue(&store, |connection| note(connection, "before"));
        let ending = queue(&store, |connection| {
            note(connection, "ending")?;
            connection.execute_batch("ROLLBACK").map_err(backend)
        });
        let pending: Vec<_> = (0..super::MOST_JOBS)
            .map(|n| {
                queue(&store, move |connection| {
                    note(connection, &format!("later{n}"))
                })
            })
            .collect();
        release.send(()).expect("release");
        // The holding write ran first in the same batch.
        for outcome in [holder.await, before.await, ending.await] {
            assert!(
                matches!(&outcome, Err(StoreError::Backend(reason)) if reason.contains("not committed")),
                "{outcome:?}"
            );
        }
        for later in pending {
            later.await.expect("a later write");
        }
        let kept = store
            .with(|connection| {
                Ok((
                    has_note(connection, "before")?,
                    has_note(connection, "ending")?,
                    has_note(connection, &format!("later{}", super::MOST_JOBS - 1))?,
                ))
            })
            .await
            .expect("read");
        assert_eq!(kept, (false, false, true));
    }
}
