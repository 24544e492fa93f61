//! Structured logs through the host: `log::info("order looked up", &[("order_id", id)])`.
//!
//! Each line becomes a `tracing` event on the host, with the tenant, plugin and version added.

use crate::bindings::imports::loa::plugin::host;

/// Severity of a log line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// Very detailed tracing, usually off.
    Trace,
    /// Details useful while debugging.
    Debug,
    /// Normal operation worth recording.
    Info,
    /// Something unexpected that the plugin handled.
    Warn,
    /// Something failed.
    Error,
}

impl From<Level> for host::LogLevel {
    fn from(level: Level) -> Self {
        match level {
            Level::Trace => Self::Trace,
            Level::Debug => Self::Debug,
            Level::Info => Self::Info,
            Level::Warn => Self::Warn,
            Level::Error => Self::Error,
        }
    }
}

/// Writes one log line at `level` with `fields` as key-value pairs.
pub fn log(level: Level, message: &str, fields: &[(&str, &str)]) {
    // The generated import takes owned strings; log lines are rare enough for the copy.
    let fields: Vec<(String, String)> = fields
        .iter()
        .map(|(key, value)| ((*key).to_owned(), (*value).to_owned()))
        .collect();
    host::log(level.into(), message, &fields);
}

/// Writes a [`Level::Trace`] line.
pub fn trace(message: &str, fields: &[(&str, &str)]) {
    log(Level::Trace, message, fields);
}

/// Writes a [`Level::Debug`] line.
pub fn debug(message: &str, fields: &[(&str, &str)]) {
    log(Level::Debug, message, fields);
}

/// Writes a [`Level::Info`] line.
pub fn info(message: &str, fields: &[(&str, &str)]) {
    log(Level::Info, message, fields);
}

/// Writes a [`Level::Warn`] line.
pub fn warn(message: &str, fields: &[(&str, &str)]) {
    log(Level::Warn, message, fields);
}

/// Writes a [`Level::Error`] line.
pub fn error(message: &str, fields: &[(&str, &str)]) {
    log(Level::Error, message, fields);
}
