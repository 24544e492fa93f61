//! The host side of the WIT `loa:plugin/host` interface: log, key-value store, config, clock.
//! Every function acts within the (tenant, plugin) scope of the current call.

use super::bindings::host::{self, KvError, LogLevel};
use super::bindings::types;
use super::sandbox::{CallState, PluginLogLine};
use crate::store::StoreError;

impl types::Host for CallState {}

impl CallState {
    /// Counts a write against the per-call cap; a plugin past it is in a runaway loop.
    fn admit_kv_write(&mut self) -> Result<(), KvError> {
        self.journal.kv_writes += 1;
        let cap = self.scope.kv_writes_per_call;
        if self.journal.kv_writes > cap {
            let detail = format!("more than {cap} key-value writes in one call");
            self.journal.kv_quota_hit = Some(detail.clone());
            return Err(KvError::QuotaExceeded(detail));
        }
        Ok(())
    }

    /// Maps a store failure to the guest's error, remembering quota hits for the report.
    fn kv_failure(&mut self, error: StoreError) -> KvError {
        match error {
            StoreError::QuotaExceeded(detail) => {
                self.journal.kv_quota_hit = Some(detail.clone());
                KvError::QuotaExceeded(detail)
            }
            StoreError::InvalidKey(detail) => KvError::InvalidKey(detail),
            other => {
                tracing::warn!(
                    tenant = %self.scope.tenant_id,
                    plugin = %self.scope.plugin_id,
                    error = %other,
                    "plugin key-value store unavailable"
                );
                KvError::Unavailable(other.to_string())
            }
        }
    }
}

fn level_name(level: LogLevel) -> &'static str {
    match level {
        LogLevel::Trace => "trace",
        LogLevel::Debug => "debug",
        LogLevel::Info => "info",
        LogLevel::Warn => "warn",
        LogLevel::Error => "error",
    }
}

impl host::Host for CallState {
    async fn log(
        &mut self,
        level: LogLevel,
        message: String,
        fields: Vec<(String, String)>,
    ) -> wasmtime::Result<()> {
        let tenant = self.scope.tenant_id.as_str();
        let plugin = self.scope.plugin_id.as_str();
        // tracing needs field names at compile time, so the plugin's own fields travel as one
        // `plugin_fields` value.
        let plugin_fields = PluginFields(&fields);
        match level {
            LogLevel::Trace => {
                tracing::trace!(tenant, plugin, %plugin_fields, message = %message)
            }
            LogLevel::Debug => {
                tracing::debug!(tenant, plugin, %plugin_fields, message = %message)
            }
            LogLevel::Info => tracing::info!(tenant, plugin, %plugin_fields, message = %message),
            LogLevel::Warn => tracing::warn!(tenant, plugin, %plugin_fields, message = %message),
            LogLevel::Error => {
                tracing::error!(tenant, plugin, %plugin_fields, message = %message)
            }
        }
        self.capture_log(PluginLogLine {
            level: level_name(level),
            message,
            fields,
        });
        Ok(())
    }

    async fn kv_get(&mut self, key: String) -> wasmtime::Result<Result<Option<Vec<u8>>, KvError>> {
        let scope = &self.scope;
        let result = scope.store.kv_get(&scope.kv_scope, &key).await;
        Ok(result.map_err(|error| self.kv_failure(error)))
    }

    async fn kv_set(
        &mut self,
        key: String,
        value: Vec<u8>,
    ) -> wasmtime::Result<Result<(), KvError>> {
        if let Err(error) = self.admit_kv_write() {
            return Ok(Err(error));
        }
        let scope = &self.scope;
        let result = scope
            .store
            .kv_set(&scope.kv_scope, &key, &value, &scope.kv_quota)
            .await;
        Ok(result.map_err(|error| self.kv_failure(error)))
    }

    async fn kv_delete(&mut self, key: String) -> wasmtime::Result<Result<(), KvError>> {
        if let Err(error) = self.admit_kv_write() {
            return Ok(Err(error));
        }
        let scope = &self.scope;
        let result = scope.store.kv_delete(&scope.kv_scope, &key).await;
        Ok(result.map_err(|error| self.kv_failure(error)))
    }

    async fn kv_list_prefix(
        &mut self,
        prefix: String,
        limit: u32,
    ) -> wasmtime::Result<Result<Vec<String>, KvError>> {
        let scope = &self.scope;
        // 1,000 keys a page: a plugin wanting more pages by the last key it saw.
        let limit = limit.min(1_000);
        let result = scope
            .store
            .kv_list_prefix(&scope.kv_scope, &prefix, limit)
            .await;
        Ok(result.map_err(|error| self.kv_failure(error)))
    }

    async fn kv_compare_and_swap(
        &mut self,
        key: String,
        expected: Option<Vec<u8>>,
        new: Option<Vec<u8>>,
    ) -> wasmtime::Result<Result<bool, KvError>> {
        if let Err(error) = self.admit_kv_write() {
            return Ok(Err(error));
        }
        let scope = &self.scope;
        let result = scope
            .store
            .kv_compare_and_swap(
                &scope.kv_scope,
                &key,
                expected.as_deref(),
                new.as_deref(),
                &scope.kv_quota,
            )
            .await;
        Ok(result.map_err(|error| self.kv_failure(error)))
    }

    async fn config_get(&mut self, key: String) -> wasmtime::Result<Option<String>> {
        Ok(self.scope.config.get(&key).cloned())
    }

    async fn config_all(&mut self) -> wasmtime::Result<Vec<(String, String)>> {
        Ok(self
            .scope
            .config
            .iter()
            .map(|(key, value)| (key.clone(), value.clone()))
            .collect())
    }

    async fn now_ms(&mut self) -> wasmtime::Result<u64> {
        Ok(std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|elapsed| elapsed.as_millis() as u64)
            .unwrap_or_default())
    }

    async fn request_handover(&mut self, reason: String) -> wasmtime::Result<()> {
        tracing::info!(
            tenant = %self.scope.tenant_id,
            plugin = %self.scope.plugin_id,
            %reason,
            "plugin asked for a person"
        );
        if self.journal.handover.is_none() {
            self.journal.handover = Some(reason.chars().take(HANDOVER_REASON_CHARS).collect());
        }
        Ok(())
    }
}

/// Characters of a plugin's handover reason kept: it is a line in the operators' queue,
/// not a document.
const HANDOVER_REASON_CHARS: usize = 500;

/// Displays a plugin's fields as `k=v k2=v2` for the `plugin_fields` tracing value.
struct PluginFields<'a>(&'a [(String, String)]);

impl std::fmt::Display for PluginFields<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (index, (key, value)) in self.0.iter().enumerate() {
            if index > 0 {
                f.write_str(" ")?;
            }
            write!(f, "{key}={value:?}")?;
        }
        Ok(())
    }
}
