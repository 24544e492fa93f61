//! The records the store keeps, independent of the database behind it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::StoreError;

/// One installed plugin version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstalledPlugin {
    /// Plugin name.
    pub name: String,
    /// Its version.
    pub version: semver::Version,
    /// `tool`, `middleware` or `channel`.
    pub kind: String,
    /// From the manifest.
    pub description: String,
    /// SHA-256 of `plugin.wasm`, hex.
    pub sha256: String,
    /// When it was installed, ms since the Unix epoch.
    pub installed_at_ms: i64,
}

/// A tenant's settings for one plugin.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TenantPluginSettings {
    /// The tenant.
    pub tenant_id: String,
    /// The plugin name.
    pub plugin: String,
    /// The version this tenant runs; `None` means the newest installed.
    pub pinned_version: Option<semver::Version>,
    /// Whether the tenant turned it on.
    pub enabled: bool,
    /// The tenant's config for this plugin, secrets included.
    pub config: BTreeMap<String, String>,
    /// Hosts the tenant lets this plugin call (on top of the manifest's own list).
    pub http_grants: Vec<String>,
    /// Set while the breaker has the plugin switched off for this tenant.
    pub breaker: Option<BreakerTrip>,
}

/// Why and when the breaker switched a plugin off for a tenant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BreakerTrip {
    /// The last failure, as the error message.
    pub reason: String,
    /// Consecutive failures that tripped it.
    pub failures: u32,
    /// When, ms since the Unix epoch.
    pub opened_at_ms: i64,
}

/// Whose key-value store: one per (tenant, plugin), shared by all its versions.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct KvScope {
    /// The tenant.
    pub tenant_id: String,
    /// The plugin name.
    pub plugin: String,
}

/// How much one (tenant, plugin) may keep.
#[derive(Debug, Clone, Copy)]
pub struct KvQuota {
    /// Most keys.
    pub max_keys: u64,
    /// Largest value in bytes.
    pub max_value_bytes: usize,
    /// Longest key in bytes.
    pub max_key_bytes: usize,
}

impl Default for KvQuota {
    fn default() -> Self {
        Self {
            max_keys: 10_000,
            max_value_bytes: 256 * 1024,
            // 512 bytes: room for namespaced keys like `token:{oa_id}:{user_id}`.
            max_key_bytes: 512,
        }
    }
}

impl KvQuota {
    /// Refuses an empty key or one longer than `max_key_bytes`.
    pub fn check_key(&self, key: &str) -> Result<(), StoreError> {
        if key.is_empty() {
            return Err(StoreError::InvalidKey("key is empty".into()));
        }
        if key.len() > self.max_key_bytes {
            return Err(StoreError::InvalidKey(format!(
                "key is {} bytes, over the {} byte limit",
                key.len(),
                self.max_key_bytes
            )));
        }
        Ok(())
    }

    /// Refuses a value for `key` larger than `max_value_bytes`.
    pub fn check_value(&self, key: &str, value: &[u8]) -> Result<(), StoreError> {
        if value.len() > self.max_value_bytes {
            return Err(StoreError::QuotaExceeded(format!(
                "value for '{key}' is {} bytes, over the {} byte limit",
                value.len(),
                self.max_value_bytes
            )));
        }
        Ok(())
    }

    /// Refuses a new key when the store already holds `keys` keys.
    pub fn check_key_count(&self, keys: u64) -> Result<(), StoreError> {
        if keys >= self.max_keys {
            return Err(StoreError::QuotaExceeded(format!(
                "already {keys} keys, the limit is {}",
                self.max_keys
            )));
        }
        Ok(())
    }
}
