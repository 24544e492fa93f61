//! Why an event got more than one reply: when the stub took each reply, and what the store
//! says about the reply's outbox row(s) and their delivery log, next to when `loa serve`
//! was killed. Read straight from the database after the run (SQLite file or PostgreSQL
//! schema), so it shows what a restarted host would find.

use std::fmt::Write as _;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use super::Database;

/// Converts the stubs' `Instant`s into the store's clock (ms since the Unix epoch).
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    instant: Instant,
    epoch_ms: i64,
}

impl Clock {
    /// Now, on both clocks.
    pub fn start() -> Self {
        let epoch_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|since| i64::try_from(since.as_millis()).unwrap_or(i64::MAX))
            .unwrap_or_default();
        Self {
            instant: Instant::now(),
            epoch_ms,
        }
    }

    /// `at` in ms since the Unix epoch.
    pub fn epoch_ms(&self, at: Instant) -> i64 {
        let since = at.saturating_duration_since(self.instant).as_millis();
        self.epoch_ms + i64::try_from(since).unwrap_or(i64::MAX)
    }
}

/// Columns of [`HISTORY`], in order.
const COLUMNS: [&str; 11] = [
    "outbox",
    "user",
    "status",
    "attempts",
    "key",
    "created",
    "updated",
    "attempt",
    "result",
    "elapsed_ms",
    "log_at",
];

/// Every outbox row for the contacts `{users}` and its delivery log, oldest first.
const HISTORY: &str = "SELECT CAST(o.id AS TEXT), c.channel_user_id, o.status,
        CAST(o.attempts AS TEXT), o.idempotency_key, CAST(o.created_at_ms AS TEXT),
        CAST(o.updated_at_ms AS TEXT), COALESCE(CAST(d.attempt AS TEXT), '-'),
        COALESCE(CAST(d.result_json AS TEXT), '-'), COALESCE(CAST(d.elapsed_ms AS TEXT), '-'),
        COALESCE(CAST(d.at_ms AS TEXT), '-')
    FROM outbox o
    JOIN conversations v ON v.id = o.conversation_id
    JOIN contacts c ON c.id = v.contact_id
    LEFT JOIN delivery_log d ON d.outbox_id = o.id
    WHERE c.channel_user_id IN ({users})
    ORDER BY o.id, d.id";

/// The outbox rows and delivery log of the contacts `users` (their ids on the channel:
/// chat ids, PSIDs), one line per log entry.
pub async fn outbox_history(
    database: &Database,
    data_dir: &std::path::Path,
    users: &[String],
) -> String {
    let quoted: Vec<String> = users
        .iter()
        .map(|user| format!("'{}'", user.replace('\'', "''")))
        .collect();
    let query = HISTORY.replace("{users}", &quoted.join(", "));
    let rows = match database {
        Database::Sqlite => sqlite_rows(&data_dir.join("loa.sqlite3"), &query, COLUMNS.len()),
        Database::Postgres(database) => postgres_rows(&database.url, &query, COLUMNS.len()).await,
    };
    let mut table = COLUMNS.join(" | ");
    for row in rows {
        let _ = write!(table, "\n{}", row.join(" | "));
    }
    table
}

/// The rows of `query`, whose `columns` columns are all text.
fn sqlite_rows(path: &std::path::Path, query: &str, columns: usize) -> Vec<Vec<String>> {
    let connection =
        rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .expect("open the SQLite store");
    let mut statement = connection.prepare(query).expect("query the store");
    statement
        .query_map([], |row| {
            (0..columns)
                .map(|index| row.get::<_, String>(index))
                .collect::<Result<Vec<_>, _>>()
        })
        .expect("rows of the store")
        .map(|row| row.expect("a row"))
        .collect()
}

/// The rows of `query`, whose `columns` columns are all text.
async fn postgres_rows(url: &str, query: &str, columns: usize) -> Vec<Vec<String>> {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .expect("connect to the PostgreSQL store");
    tokio::spawn(connection);
    client
        .query(query, &[])
        .await
        .expect("rows of the store")
        .iter()
        .map(|row| {
            (0..columns)
                .map(|index| row.get::<_, String>(index))
                .collect()
        })
        .collect()
}

/// The outbox as a whole.
#[derive(Debug, Clone, Copy)]
pub struct OutboxTotals {
    /// Outbox rows (replies to deliver).
    pub rows: u64,
    /// Attempts the rows count: each lease of a row by a dispatcher is one.
    pub attempts: u64,
    /// Entries of the delivery log: attempts whose outcome was committed.
    pub logged: u64,
}

impl OutboxTotals {
    /// Attempts whose outcome never reached the log: the row was leased (and maybe sent)
    /// when the host was killed. Only these can have been sent twice.
    pub fn unrecorded_attempts(&self) -> u64 {
        self.attempts.saturating_sub(self.logged)
    }
}

/// Counts the outbox rows, their attempts and the delivery log's entries.
pub async fn outbox_totals(database: &Database, data_dir: &std::path::Path) -> OutboxTotals {
    const TOTALS: &str = "SELECT CAST(count(*) AS TEXT),
            CAST(COALESCE(sum(attempts), 0) AS TEXT),
            CAST((SELECT count(*) FROM delivery_log) AS TEXT)
        FROM outbox";
    let rows = match database {
        Database::Sqlite => sqlite_rows(&data_dir.join("loa.sqlite3"), TOTALS, 3),
        Database::Postgres(database) => postgres_rows(&database.url, TOTALS, 3).await,
    };
    let number = |index: usize| rows[0][index].parse().expect("a count");
    OutboxTotals {
        rows: number(0),
        attempts: number(1),
        logged: number(2),
    }
}

/// The lines of `log` that name outbox row `id` (warnings and errors of its deliveries).
pub fn log_lines_about(log: &str, id: &str) -> Vec<String> {
    let needles = [format!("outbox={id} "), format!("\"outbox\":{id},")];
    log.lines()
        .filter(|line| needles.iter().any(|needle| line.contains(needle.as_str())))
        .map(str::to_owned)
        .collect()
}
