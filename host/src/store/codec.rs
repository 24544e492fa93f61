//! What both store implementations share: JSON columns and new ids.

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

/// The delivery-log note of a reply delivered by the store itself (the widget reads it).
pub(crate) const LIVE_DELIVERY_NOTE: &str =
    "widget: stored; pushed to the visitor's open sockets, or sent on resume";

/// The attempt result of such a reply.
pub(crate) fn live_delivery() -> super::AttemptResult {
    super::AttemptResult::Sent {
        provider_message_id: None,
    }
}
