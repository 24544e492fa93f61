//! Statements through the connection's prepared-statement cache. The hot paths (webhook
//! inbox writes, turn commits, delivery attempts) run the same few dozen statements
//! thousands of times a second; parsing each one again cost about a tenth of the host's CPU
//! under webhook load (perf on `cargo bench -p loa-e2e --bench webhooks`).

use rusqlite::{Connection, Params, Row};

/// How many prepared statements a connection keeps (rusqlite's default of 16 is fewer than
/// one turn uses, so they evicted each other).
pub(super) const STATEMENT_CACHE_CAPACITY: usize = 256;

/// `execute` and `query_row` that prepare through the cache.
pub(super) trait CachedStatements {
    /// Runs one statement; the number of rows it changed.
    fn execute_cached<P: Params>(&self, sql: &str, params: P) -> rusqlite::Result<usize>;

    /// The first row of a query, mapped by `map` (`QueryReturnedNoRows` when there is none).
    fn query_row_cached<T, P, F>(&self, sql: &str, params: P, map: F) -> rusqlite::Result<T>
    where
        P: Params,
        F: FnOnce(&Row<'_>) -> rusqlite::Result<T>;
}

impl CachedStatements for Connection {
    fn execute_cached<P: Params>(&self, sql: &str, params: P) -> rusqlite::Result<usize> {
        self.prepare_cached(sql)?.execute(params)
    }

    fn query_row_cached<T, P, F>(&self, sql: &str, params: P, map: F) -> rusqlite::Result<T>
    where
        P: Params,
        F: FnOnce(&Row<'_>) -> rusqlite::Result<T>,
    {
        self.prepare_cached(sql)?.query_row(params, map)
    }
}
