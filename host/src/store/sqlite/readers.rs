//! The read-only connections of a file database, each held by one caller at a time. In WAL
//! mode readers wait neither for each other nor for the writer, so with a few of them a
//! webhook's channel lookup does not queue behind a turn's reads.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, TryLockError};

use rusqlite::Connection;

/// Read-only connections behind mutexes.
#[derive(Clone)]
pub(super) struct Readers {
    connections: Arc<[Mutex<Connection>]>,
    /// Where [`Self::hold`] waits next when all are taken: the waits spread round-robin.
    next: Arc<AtomicUsize>,
}

impl Readers {
    /// Read-only connections to one database (at least one).
    pub(super) fn new(connections: Vec<Connection>) -> Self {
        Self {
            connections: connections.into_iter().map(Mutex::new).collect(),
            next: Arc::default(),
        }
    }

    /// Waits for a connection (blocking: call it off the async workers).
    pub(super) fn hold(&self) -> MutexGuard<'_, Connection> {
        if let Some(held) = self.try_hold() {
            return held;
        }
        let index = self.next.fetch_add(1, Ordering::Relaxed) % self.connections.len();
        // A panic while holding the lock poisons it; the connection itself is still
        // consistent (a read changes nothing), so keep going.
        self.connections[index]
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// A connection nobody holds now, if there is one.
    pub(super) fn try_hold(&self) -> Option<MutexGuard<'_, Connection>> {
        self.connections
            .iter()
            .find_map(|connection| match connection.try_lock() {
                Ok(guard) => Some(guard),
                Err(TryLockError::Poisoned(poisoned)) => Some(poisoned.into_inner()),
                Err(TryLockError::WouldBlock) => None,
            })
    }
}
