//! The plugin's own key-value store on the host, scoped to (tenant, plugin).
//!
//! Values are bytes; [`get_json`] and [`set_json`] store serde types as JSON.

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::bindings::imports::loa::plugin::host;
use crate::types::PluginError;

/// Why a key-value operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KvError {
    /// The key is empty or longer than the host allows.
    #[error("invalid key: {0}")]
    InvalidKey(String),
    /// A value, the number of keys or the total size is over this plugin's quota.
    #[error("quota exceeded: {0}")]
    QuotaExceeded(String),
    /// The store could not be reached; retrying later may help.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// A JSON value could not be encoded, or the stored bytes are not the expected JSON.
    #[error("value under key '{key}' is not the expected JSON: {reason}")]
    Json {
        /// The key read or written.
        key: String,
        /// serde's explanation.
        reason: String,
    },
}

impl From<host::KvError> for KvError {
    fn from(error: host::KvError) -> Self {
        match error {
            host::KvError::InvalidKey(message) => Self::InvalidKey(message),
            host::KvError::QuotaExceeded(message) => Self::QuotaExceeded(message),
            host::KvError::Unavailable(message) => Self::Unavailable(message),
        }
    }
}

/// An unreachable store may come back, so the caller may retry ([`PluginError::Upstream`]);
/// anything else is the plugin's own doing ([`PluginError::Internal`]).
impl From<KvError> for PluginError {
    fn from(error: KvError) -> Self {
        match error {
            KvError::Unavailable(_) => Self::Upstream(format!("kv: {error}")),
            _ => Self::Internal(format!("kv: {error}")),
        }
    }
}

/// Reads the value under `key`; `None` when there is none.
pub fn get(key: &str) -> Result<Option<Vec<u8>>, KvError> {
    Ok(host::kv_get(key)?)
}

/// Writes `value` under `key`, replacing any previous value.
pub fn set(key: &str, value: &[u8]) -> Result<(), KvError> {
    Ok(host::kv_set(key, value)?)
}

/// Deletes the value under `key`; deleting a missing key is not an error.
pub fn delete(key: &str) -> Result<(), KvError> {
    Ok(host::kv_delete(key)?)
}

/// Keys starting with `prefix`, in byte order, at most `limit` of them.
pub fn list_prefix(prefix: &str, limit: u32) -> Result<Vec<String>, KvError> {
    Ok(host::kv_list_prefix(prefix, limit)?)
}

/// Sets `key` to `new` (deletes it when `new` is `None`) only if its current value is
/// `expected` (`None` = absent); returns whether it swapped. Atomic across host instances,
/// so it is the tool for single-use tokens and locks.
pub fn compare_and_swap(
    key: &str,
    expected: Option<&[u8]>,
    new: Option<&[u8]>,
) -> Result<bool, KvError> {
    Ok(host::kv_compare_and_swap(key, expected, new)?)
}

/// Reads the JSON value under `key` as a `T`; `None` when there is none.
pub fn get_json<T: DeserializeOwned>(key: &str) -> Result<Option<T>, KvError> {
    get(key)?.map(|bytes| decode_json(key, &bytes)).transpose()
}

/// Writes `value` as JSON under `key`.
pub fn set_json<T: Serialize + ?Sized>(key: &str, value: &T) -> Result<(), KvError> {
    set(key, &encode_json(key, value)?)
}

fn decode_json<T: DeserializeOwned>(key: &str, bytes: &[u8]) -> Result<T, KvError> {
    serde_json::from_slice(bytes).map_err(|error| KvError::Json {
        key: key.to_owned(),
        reason: error.to_string(),
    })
}

fn encode_json<T: Serialize + ?Sized>(key: &str, value: &T) -> Result<Vec<u8>, KvError> {
    serde_json::to_vec(value).map_err(|error| KvError::Json {
        key: key.to_owned(),
        reason: error.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_round_trips_through_bytes() {
        let bytes = encode_json("k", &vec![1, 2, 3]).unwrap();
        assert_eq!(decode_json::<Vec<i32>>("k", &bytes).unwrap(), vec![1, 2, 3]);
    }

    #[test]
    fn wrong_json_names_the_key() {
        let error = decode_json::<Vec<i32>>("cart", b"{}").unwrap_err();
        assert!(
            error.to_string().starts_with("value under key 'cart'"),
            "{error}"
        );
    }

    #[test]
    fn unavailable_store_is_an_upstream_error() {
        let error: PluginError = KvError::Unavailable("db down".into()).into();
        assert_eq!(
            error,
            PluginError::Upstream("kv: store unavailable: db down".into())
        );
    }

    #[test]
    fn quota_exceeded_is_an_internal_error() {
        let error: PluginError = KvError::QuotaExceeded("100 keys".into()).into();
        assert_eq!(error.kind(), "internal");
    }
}
