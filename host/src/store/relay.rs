//! How host instances sharing one database hear each other's live events: a small note
//! per event (which conversation, what kind, which row), sent by one instance and heard by
//! every other, which then reads the row from the store and tells its own listeners. On
//! PostgreSQL it is `NOTIFY`/`LISTEN` (no other broker); SQLite serves one process and
//! has none.

use std::any::Any;

use async_trait::async_trait;
use tokio::sync::mpsc;

use super::StoreError;

/// A listening connection: notes arrive on `notes` until the connection fails (then the
/// channel closes and the caller listens again).
pub struct RelayListener {
    /// The notes' payloads, in the order they were sent.
    pub notes: mpsc::Receiver<String>,
    /// Keeps the listening connection open while the listener lives.
    pub _connection: Box<dyn Any + Send + Sync>,
}

/// Sends and hears notes between instances.
#[async_trait]
pub trait LiveRelay: Send + Sync {
    /// Sends one note (at most a few hundred bytes) to every listening instance.
    async fn notify(&self, payload: &str) -> Result<(), StoreError>;
    /// Opens a listening connection.
    async fn listen(&self) -> Result<RelayListener, StoreError>;
}
