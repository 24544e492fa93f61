//! WAL checkpoints off the write path, and a WAL that stays bounded. SQLite's automatic
//! checkpoint runs inside the commit that crosses the threshold and fsyncs the database
//! file there, while every other write waits behind it: a latency spike for whoever is
//! queued. Here a background thread with its own connection checkpoints every 100 ms.
//!
//! A PASSIVE checkpoint never blocks the writer, but it alone lets the WAL grow without
//! end under steady load: SQLite starts the WAL over only when a write begins while every
//! frame is back in the database file and no reader still uses one, and with a commit
//! every few dozen microseconds the checkpointer never catches up with the last one (25 GB
//! in 90 s at 2,000 webhooks a second filled this machine's disk). So once the WAL passes
//! [`RESTART_FRAMES`], the checkpointer asks the writer to [`catch_up`] between two
//! batches: with no write under way, that checkpoint copies the few frames the last
//! PASSIVE one left, and the next write starts the WAL over; `journal_size_limit` then
//! trims the file. (A RESTART checkpoint from this thread instead waited for the writer's lock and
//! the readers while holding writes back: p99 186 ms.)

use std::any::Any;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use rusqlite::Connection;

use super::backend;
use crate::store::StoreError;

/// How often the WAL is folded back into the database file. 100 ms: each checkpoint's
/// copy and fsync stay small (at 1 s, under load, each held the disk long enough to delay
/// commits by tens of milliseconds), and idle it costs one short read transaction.
const INTERVAL: Duration = Duration::from_millis(100);

/// 65,536 frames (256 MB of 4 KB pages): past this the WAL is started over. Each restart
/// pauses the writer for a catch-up (the last frames copied and two fsyncs, 5 to 15 ms
/// under load, while webhook acknowledgements wait), so restarts should be rare: at 2,000
/// webhooks a second the WAL takes about 45,000 frames a second, and 16,384 frames meant
/// a pause every 0.4 s and an acknowledgement p99 of 10.5 ms over 30 s; 65,536 means one
/// every 1.5 s and 5.7 to 8.5 ms. A quarter of a gigabyte is what the WAL costs on disk
/// under such load.
const RESTART_FRAMES: i64 = 65_536;

/// What the WAL file is trimmed back to once it starts over (bytes). Above what a WAL
/// reaches between two restarts under load (about 270 MB at 2,000 webhooks a second), so
/// the file's blocks are reused rather than freed and allocated again on every restart.
const WAL_SIZE_LIMIT: i64 = 320 * 1024 * 1024;

/// Turns off automatic checkpoints on the writer's `connection` and bounds the WAL file it
/// leaves; `false` when that failed (SQLite then keeps checkpointing on its own and
/// [`start`] is not needed).
pub(super) fn turn_off_automatic(connection: &Connection) -> bool {
    let limit = format!("PRAGMA journal_size_limit = {WAL_SIZE_LIMIT};");
    if let Err(error) = connection.execute_batch(&limit) {
        tracing::warn!(%error, "cannot limit the WAL file's size");
    }
    match connection.execute_batch("PRAGMA wal_autocheckpoint = 0;") {
        Ok(()) => true,
        Err(error) => {
            tracing::warn!(%error, "cannot turn off automatic checkpoints; keeping them");
            false
        }
    }
}

/// Starts the checkpointer for `path`; it raises `wal_too_long` for the writer. It stops on
/// its own once `alive` is gone (the store's writer stopped).
pub(super) fn start(
    path: &Path,
    alive: Weak<dyn Any + Send + Sync>,
    wal_too_long: Arc<AtomicBool>,
) -> Result<(), StoreError> {
    let path: PathBuf = path.to_owned();
    std::thread::Builder::new()
        .name("loa-sqlite-checkpoint".into())
        .spawn(move || run(&path, &alive, &wal_too_long))
        .map(drop)
        .map_err(|error| {
            StoreError::Backend(format!("cannot start the checkpoint thread: {error}"))
        })
}

fn run(path: &Path, alive: &Weak<dyn Any + Send + Sync>, wal_too_long: &AtomicBool) {
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
        match checkpoint(&connection) {
            Ok(frames) if frames >= RESTART_FRAMES => {
                wal_too_long.store(true, Ordering::Relaxed);
            }
            Ok(_) => {}
            Err(error) => tracing::debug!(%error, "checkpoint skipped"),
        }
    }
}

/// On the writer's connection, between two batches of writes: copies back what the WAL
/// still holds, so that the next write starts it over (unless a reader still reads old
/// frames: the checkpointer then asks again).
pub(super) fn catch_up(connection: &Connection) {
    match checkpoint(connection) {
        Ok(frames) => tracing::debug!(frames, "WAL caught up by the writer"),
        Err(error) => tracing::debug!(%error, "WAL catch-up skipped"),
    }
}

/// Runs a PASSIVE checkpoint; the frames in the WAL when it ran.
fn checkpoint(connection: &Connection) -> Result<i64, StoreError> {
    connection
        .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |row| {
            row.get::<_, i64>(1)
        })
        .map_err(backend)
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::time::Duration;

    use rusqlite::Connection;

    use super::{catch_up, checkpoint};

    fn open(path: &Path) -> Connection {
        let connection = Connection::open(path).expect("open");
        connection
            .execute_batch(
                "PRAGMA journal_mode = WAL; PRAGMA wal_autocheckpoint = 0;
                 PRAGMA busy_timeout = 5000;
                 CREATE TABLE IF NOT EXISTS notes (body TEXT NOT NULL);",
            )
            .expect("configure");
        connection
    }

    fn write(connection: &Connection, count: usize) {
        for _ in 0..count {
            connection
                .execute("INSERT INTO notes (body) VALUES (hex(randomblob(300)))", [])
                .expect("insert");
        }
    }

    /// Frames in the WAL after one more write: a handful once it started over.
    fn frames_after_a_write(writer: &Connection, checkpointer: &Connection) -> i64 {
        write(writer, 1);
        checkpoint(checkpointer).expect("frames")
    }

    /// A reader that holds the snapshot it took for `release_after`; returns once it holds it.
    fn hold_snapshot(path: &Path, release_after: Duration) -> std::thread::JoinHandle<()> {
        let path = path.to_owned();
        let (started, reading) = std::sync::mpsc::channel();
        let reader = std::thread::spawn(move || {
            let mut reader = Connection::open(path).expect("reader");
            let snapshot = reader.transaction().expect("read transaction");
            let _: i64 = snapshot
                .query_row("SELECT count(*) FROM notes", [], |row| row.get(0))
                .expect("read");
            started.send(()).expect("started");
            std::thread::sleep(release_after);
        });
        reading.recv().expect("the reader holds its snapshot");
        reader
    }

    /// Writes while readers overlap, as under load; returns the last reader, which still
    /// holds frames written before the last writes.
    fn overlapping_writes(writer: &Connection, path: &Path) -> std::thread::JoinHandle<()> {
        let first = hold_snapshot(path, Duration::from_millis(10));
        write(writer, 200);
        first.join().expect("first reader");
        let second = hold_snapshot(path, Duration::from_millis(100));
        write(writer, 200);
        second
    }

    /// Overlapping readers keep the checkpointer from ever catching up with the writer, so
    /// the WAL is never started over; a catch-up by the writer between two writes, once the
    /// reader of old frames is done, lets the next write start the WAL from the beginning.
    #[test]
    fn a_catch_up_between_writes_starts_the_wal_over_despite_overlapping_readers() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("loa.db");
        let writer = open(&path);
        let checkpointer = open(&path);
        write(&writer, 50);

        let reader = overlapping_writes(&writer, &path);
        let frames = checkpoint(&checkpointer).expect("checkpoint");
        assert!(frames > 100, "{frames}");
        reader.join().expect("reader");
        let frames = frames_after_a_write(&writer, &checkpointer);
        assert!(
            frames > 100,
            "without a catch-up the WAL goes on growing ({frames})"
        );

        let reader = overlapping_writes(&writer, &path);
        checkpoint(&checkpointer).expect("checkpoint");
        reader.join().expect("reader");
        catch_up(&writer);
        let frames = frames_after_a_write(&writer, &checkpointer);
        assert!(frames < 10, "the WAL started over: {frames} frames");
    }
}
