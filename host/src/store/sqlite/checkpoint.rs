//! WAL checkpoints off the write path. SQLite's automatic checkpoint runs inside the commit
//! that crosses the threshold and fsyncs the database file there, while every other write
//! waits behind it: a latency spike for whoever is queued. Here a background thread with
//! its own connection checkpoints (PASSIVE: it never blocks writers) once a second, and
//! the writer never does.

use std::any::Any;
use std::path::{Path, PathBuf};
use std::sync::Weak;
use std::time::Duration;

use rusqlite::Connection;

use crate::store::StoreError;

/// How often the WAL is folded back into the database file. 1 s keeps the WAL small (a
/// few MB at most under load) and costs one short read transaction when idle.
const INTERVAL: Duration = Duration::from_secs(1);

/// Turns off automatic checkpoints on the writer's `connection`; `false` when that failed
/// (SQLite then keeps checkpointing on its own and [`start`] is not needed).
pub(super) fn turn_off_automatic(connection: &Connection) -> bool {
    match connection.execute_batch("PRAGMA wal_autocheckpoint = 0;") {
        Ok(()) => true,
        Err(error) => {
            tracing::warn!(%error, "cannot turn off automatic checkpoints; keeping them");
            false
        }
    }
}

/// Starts the checkpointer for `path`. It stops on its own once `alive` is gone (the
/// store's writer stopped).
pub(super) fn start(path: &Path, alive: Weak<dyn Any + Send + Sync>) -> Result<(), StoreError> {
    let path: PathBuf = path.to_owned();
    std::thread::Builder::new()
        .name("loa-sqlite-checkpoint".into())
        .spawn(move || run(&path, &alive))
        .map(drop)
        .map_err(|error| {
            StoreError::Backend(format!("cannot start the checkpoint thread: {error}"))
        })
}

fn run(path: &Path, alive: &Weak<dyn Any + Send + Sync>) {
    let connection = match Connection::open(path) {
        Ok(connection) => connection,
        Err(error) => {
            tracing::warn!(%error, "checkpoint thread cannot open the database");
            return;
        }
    };
    let _ = connection.execute_batch("PRAGMA busy_timeout = 5000;");
    loop {
        std::thread::sleep(INTERVAL);
        if alive.strong_count() == 0 {
            return;
        }
        if let Err(error) = connection.execute_batch("PRAGMA wal_checkpoint(PASSIVE);") {
            tracing::debug!(%error, "checkpoint skipped");
        }
    }
}
