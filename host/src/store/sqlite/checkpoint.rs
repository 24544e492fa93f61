//! WAL checkpoints off the write path. SQLite's automatic checkpoint runs inside the commit
//! that crosses the threshold and fsyncs the database file there, while every other writer
//! waits on the store's one connection: a latency spike for whoever is behind it. Here a
//! background thread with its own connection checkpoints (PASSIVE: it never blocks writers)
//! once a second, and the main connection never does.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, Weak};
use std::time::Duration;

use rusqlite::Connection;

/// How often the WAL is folded back into the database file. 1 s keeps the WAL small (a
/// few MB at most under load) and costs one short read transaction when idle.
const INTERVAL: Duration = Duration::from_secs(1);

/// Turns off automatic checkpoints on `connection` and starts the checkpointer for `path`.
/// It stops on its own once the store (the last strong reference to `alive`) is dropped.
pub(super) fn start(connection: &Connection, path: &Path, alive: Weak<[Mutex<Connection>]>) {
    if let Err(error) = connection.execute_batch("PRAGMA wal_autocheckpoint = 0;") {
        tracing::warn!(%error, "cannot turn off automatic checkpoints; keeping them");
        return;
    }
    let path: PathBuf = path.to_owned();
    let spawned = std::thread::Builder::new()
        .name("loa-sqlite-checkpoint".into())
        .spawn(move || run(&path, &alive));
    if let Err(error) = spawned {
        tracing::warn!(%error, "cannot start the checkpoint thread");
        let _ = connection.execute_batch("PRAGMA wal_autocheckpoint = 1000;");
    }
}

fn run(path: &Path, alive: &Weak<[Mutex<Connection>]>) {
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
