//! What both store implementations share: JSON columns, new ids, stored emails.

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::StoreError;

/// A value as the JSON stored in a text column.
pub(crate) fn encode<T: Serialize + ?Sized>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|error| StoreError::Corrupt(error.to_string()))
}

/// A JSON column back as a value.
pub(crate) fn decode<T: DeserializeOwned>(json: &str) -> Result<T, StoreError> {
    serde_json::from_str(json).map_err(|error| StoreError::Corrupt(error.to_string()))
}

/// A new id with a kind prefix (`cv_0192…`): time-ordered (UUID v7), so ids sort by
/// creation and index well, and the prefix tells a reader what it names.
pub fn new_id(prefix: &str) -> String {
    format!("{prefix}_{}", uuid::Uuid::now_v7().simple())
}

/// The stored form of an email: trimmed and lower-case, so the UNIQUE index on it is
/// case-insensitive and a lookup finds `Owner@May.vn` as `owner@may.vn`.
pub(crate) fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}

/// The delivery-log note of a reply delivered by the store itself (the widget reads it).
pub(crate) const LIVE_DELIVERY_NOTE: &str =
    "widget: stored; pushed to the visitor's open sockets, or sent on resume";

/// The attempt result of such a reply.
pub(crate) fn live_delivery() -> super::AttemptResult {
    super::AttemptResult::Sent {
        provider_message_id: None,
    }
}

/// 60 s: how stale an API key's `last_used_at_ms` may get. A key used many times a second
/// then costs one write a minute instead of one per request; a person reading "last used"
/// needs no finer clock.
pub(crate) const API_KEY_TOUCH_INTERVAL_MS: i64 = 60_000;
