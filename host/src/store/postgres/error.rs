//! PostgreSQL and pool errors as [`StoreError`]s that say what to check.

use deadpool_postgres::{PoolError, tokio_postgres};
use tokio_postgres::config::Host;
use tokio_postgres::error::SqlState;

use crate::store::StoreError;

/// `host:port/database` for messages; never the user's password.
pub(super) fn describe_target(config: &tokio_postgres::Config) -> String {
    let host = match config.get_hosts().first() {
        Some(Host::Tcp(name)) => name.clone(),
        Some(Host::Unix(path)) => path.display().to_string(),
        None => "localhost".to_owned(),
    };
    // 5432: PostgreSQL's default when the URL names no port.
    let port = config.get_ports().first().copied().unwrap_or(5432);
    let database = config
        .get_dbname()
        .or(config.get_user())
        .unwrap_or("postgres");
    format!("{host}:{port}/{database}")
}

/// A failure to get a pooled connection to `target`.
pub(super) fn pool(target: &str, error: PoolError) -> StoreError {
    match error {
        PoolError::Backend(error) => connect(target, &error),
        PoolError::Timeout(kind) => StoreError::Backend(format!(
            "PostgreSQL at {target}: timed out ({kind:?}) waiting for a connection; \
             is the server reachable, and is the pool large enough for the load?"
        )),
        other => StoreError::Backend(format!("PostgreSQL at {target}: {other}")),
    }
}

/// A failure while opening a connection to `target`.
pub(super) fn connect(target: &str, error: &tokio_postgres::Error) -> StoreError {
    if let Some(code) = error.code() {
        let advice = match *code {
            SqlState::INVALID_PASSWORD | SqlState::INVALID_AUTHORIZATION_SPECIFICATION => {
                "; check the user and password in the URL"
            }
            SqlState::UNDEFINED_DATABASE => "; create the database (createdb) or fix the URL",
            SqlState::TOO_MANY_CONNECTIONS => {
                "; lower the pool size or raise the server's max_connections"
            }
            _ => "",
        };
        return StoreError::Backend(format!(
            "PostgreSQL at {target} refused the connection: {}{advice}",
            describe(error)
        ));
    }
    let io_kind = source_chain(error)
        .find_map(|source| source.downcast_ref::<std::io::Error>())
        .map(std::io::Error::kind);
    let reason = match io_kind {
        Some(std::io::ErrorKind::ConnectionRefused) => {
            "connection refused; is the server running and listening on that host and port?"
                .to_owned()
        }
        Some(std::io::ErrorKind::TimedOut) => {
            "timed out; check the host, the port and any firewall".to_owned()
        }
        _ => describe(error),
    };
    StoreError::Backend(format!(
        "cannot connect to PostgreSQL at {target}: {reason}"
    ))
}

/// A failed statement.
pub(super) fn database(error: tokio_postgres::Error) -> StoreError {
    StoreError::Backend(describe(&error))
}

/// Whether the statement broke a unique constraint.
pub(super) fn is_unique_violation(error: &tokio_postgres::Error) -> bool {
    error.code() == Some(&SqlState::UNIQUE_VIOLATION)
}

/// The server's own words (message, detail, hint) or the error and its causes.
fn describe(error: &tokio_postgres::Error) -> String {
    let Some(db) = error.as_db_error() else {
        return source_chain(error)
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(": ");
    };
    let mut text = format!("PostgreSQL: {}", db.message());
    if let Some(detail) = db.detail() {
        text.push_str(&format!(" ({detail})"));
    }
    if *db.code() == SqlState::CHARACTER_NOT_IN_REPERTOIRE {
        // PostgreSQL text cannot hold NUL; say so instead of leaving the reader guessing.
        text.push_str(" (PostgreSQL cannot store the NUL character in text)");
    } else if let Some(hint) = db.hint() {
        text.push_str(&format!("; {hint}"));
    }
    text
}

fn source_chain(
    error: &tokio_postgres::Error,
) -> impl Iterator<Item = &(dyn std::error::Error + 'static)> {
    std::iter::successors(
        Some(error as &(dyn std::error::Error + 'static)),
        |error: &&(dyn std::error::Error + 'static)| (*error).source(),
    )
}
