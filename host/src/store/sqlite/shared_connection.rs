//! Connections each held by one caller at a time: the writer, or a few readers (in WAL
//! mode readers never wait for each other nor for the writer, so a webhook's channel lookup
//! does not queue behind a turn's reads). The writer also carries the webhook events
//! waiting to be stored ([`InboxBatch`]): whoever holds the writer commits them when it
//! takes it and again before it lets go, so an acknowledgement waits for at most the one
//! statement running when it arrived, not for every turn and send queued on the lock.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, TryLockError, Weak};

use rusqlite::Connection;

use super::group_commit::InboxBatch;

/// Connections behind mutexes; on the writer (one connection), with the events riding
/// along.
#[derive(Clone)]
pub(super) struct SharedConnection {
    connections: Arc<[Mutex<Connection>]>,
    /// Where [`Self::hold`] waits next when all are taken: the waits spread round-robin.
    next: Arc<AtomicUsize>,
    /// `Some` on the writer only: a read-only connection cannot store them.
    inbox: Option<Arc<InboxBatch>>,
}

impl SharedConnection {
    /// The writer: holders commit the queued webhook events.
    pub(super) fn writer(connection: Connection) -> Self {
        Self {
            connections: Arc::new([Mutex::new(connection)]),
            next: Arc::default(),
            inbox: Some(Arc::default()),
        }
    }

    /// Read-only connections to the same database (at least one).
    pub(super) fn readers(connections: Vec<Connection>) -> Self {
        Self {
            connections: connections.into_iter().map(Mutex::new).collect(),
            next: Arc::default(),
            inbox: None,
        }
    }

    /// The webhook events waiting for the writer (`None` on a reader).
    pub(super) fn inbox(&self) -> Option<&InboxBatch> {
        self.inbox.as_deref()
    }

    /// A handle that does not keep the connection open (the checkpoint thread stops when
    /// the store is gone).
    pub(super) fn downgrade(&self) -> Weak<[Mutex<Connection>]> {
        Arc::downgrade(&self.connections)
    }

    /// Waits for a connection (blocking: call it off the async workers).
    pub(super) fn hold(&self) -> Held<'_> {
        if let Some(held) = self.try_hold() {
            return held;
        }
        let index = self.next.fetch_add(1, Ordering::Relaxed) % self.connections.len();
        // A panic while holding the lock poisons it; the connection itself is still
        // consistent (SQLite rolled back), so keep going.
        let guard = self.connections[index]
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        Held::new(self, guard)
    }

    /// A connection nobody holds now, if there is one.
    pub(super) fn try_hold(&self) -> Option<Held<'_>> {
        self.connections
            .iter()
            .find_map(try_lock)
            .map(|guard| Held::new(self, guard))
    }

    /// After a holder let go: events queued while it held the connection but after its
    /// last commit have nobody else to store them (their callers saw the lock taken and
    /// wait), so store them now — unless another holder got in first, which will.
    fn store_left_over(&self, inbox: &InboxBatch) {
        while inbox.has_pending() {
            // The writer has one connection.
            let Some(mut guard) = self.connections.iter().find_map(try_lock) else {
                return;
            };
            inbox.commit_pending(&mut guard);
        }
    }
}

/// The connection if it is free (a poisoned one too, as in [`SharedConnection::hold`]).
fn try_lock(connection: &Mutex<Connection>) -> Option<MutexGuard<'_, Connection>> {
    match connection.try_lock() {
        Ok(guard) => Some(guard),
        Err(TryLockError::Poisoned(poisoned)) => Some(poisoned.into_inner()),
        Err(TryLockError::WouldBlock) => None,
    }
}

/// The held connection; letting go stores the events queued meanwhile.
pub(super) struct Held<'a> {
    shared: &'a SharedConnection,
    guard: Option<MutexGuard<'a, Connection>>,
}

impl<'a> Held<'a> {
    fn new(shared: &'a SharedConnection, mut guard: MutexGuard<'a, Connection>) -> Self {
        // Acknowledgements first: they are what a provider is waiting on.
        if let Some(inbox) = shared.inbox() {
            inbox.commit_pending(&mut guard);
        }
        Self {
            shared,
            guard: Some(guard),
        }
    }

    /// The connection.
    pub(super) fn connection(&mut self) -> &mut Connection {
        self.guard
            .as_mut()
            .expect("the guard is only taken on drop")
    }
}

impl Drop for Held<'_> {
    fn drop(&mut self) {
        let Some(mut guard) = self.guard.take() else {
            return;
        };
        let Some(inbox) = self.shared.inbox() else {
            return;
        };
        inbox.commit_pending(&mut guard);
        drop(guard);
        self.shared.store_left_over(inbox);
    }
}

#[cfg(test)]
mod tests {
    use futures_util::FutureExt;

    use crate::store::sqlite::SqliteStore;
    use crate::store::{InboxInsert, NewInboxEvent, QueueStore};

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

    /// A webhook that finds the writer taken waits for nobody but its holder: the event is
    /// stored when the holder lets go, and no thread of its own ever took the lock.
    #[tokio::test]
    async fn an_event_queued_while_the_writer_is_held_is_stored_by_its_holder() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = SqliteStore::open(&dir.path().join("loa.db")).expect("store");
        let mut held = store.writer.hold();
        let event = event("m1");
        let mut insert = Box::pin(store.inbox_insert(&event));
        assert!(
            insert.as_mut().now_or_never().is_none(),
            "stored while the writer was held"
        );
        // The holder's own statement runs before the events that came in meanwhile.
        held.connection()
            .execute_batch("CREATE TABLE holder_work (x INTEGER)")
            .expect("holder's statement");
        drop(held);
        let inserted = insert
            .as_mut()
            .now_or_never()
            .expect("answered when the holder let go")
            .expect("stored");
        assert!(matches!(inserted, InboxInsert::Inserted(_)), "{inserted:?}");
        let depths = store.queue_depths().await.expect("depths");
        assert_eq!(depths.inbox, 1, "{depths:?}");
    }

    /// With the writer free the caller commits its own event at once.
    #[tokio::test]
    async fn an_event_with_the_writer_free_is_stored_at_once() {
        let store = SqliteStore::in_memory().expect("store");
        let first = store.inbox_insert(&event("m1")).now_or_never();
        assert!(
            matches!(first, Some(Ok(InboxInsert::Inserted(_)))),
            "{first:?}"
        );
        let again = store.inbox_insert(&event("m1")).now_or_never();
        assert!(
            matches!(again, Some(Ok(InboxInsert::Duplicate(_)))),
            "{again:?}"
        );
    }
}
