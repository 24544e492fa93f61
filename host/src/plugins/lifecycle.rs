//! The life of one call around the plugin's own code: admission by the breaker, a fresh
//! store with limits, the deadline, and turning what happened into a [`CallReport`].

use std::sync::Arc;
use std::time::{Duration, Instant};

use wasmtime::{Store as WasmStore, Trap};

use super::bindings::types::PluginError as WitPluginError;
use super::breaker::Admission;
use super::call::{CallReport, TenantPlugin};
use super::engine::PluginEngine;
use super::error::PluginCallError;
use super::outbound_http::OutboundPolicy;
use super::response_size::ResponseSize;
use super::sandbox::CallState;

/// A call that passed admission and has its store, waiting to run.
pub(crate) struct PendingCall {
    pub(crate) store: WasmStore<CallState>,
    pub(crate) deadline: Duration,
    started: Instant,
}

/// The call's deadline fired, whether the plugin was burning CPU (it yields at every epoch
/// tick) or waiting on the host (HTTP, kv).
#[derive(Debug)]
struct DeadlineElapsed;

impl std::fmt::Display for DeadlineElapsed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("deadline elapsed")
    }
}

impl std::error::Error for DeadlineElapsed {}

/// What the plugin's code returned, before classification.
pub(crate) type RawOutcome<T> = wasmtime::Result<Result<T, WitPluginError>>;

/// Runs `call` under the wall-clock `deadline`.
pub(crate) async fn within<T>(
    deadline: Duration,
    call: impl Future<Output = RawOutcome<T>>,
) -> RawOutcome<T> {
    match tokio::time::timeout(deadline, call).await {
        Ok(outcome) => outcome,
        Err(_) => Err(wasmtime::Error::new(DeadlineElapsed)),
    }
}

impl PluginEngine {
    /// Asks the breaker, then builds the call's store with its memory cap and deadline.
    pub(crate) fn begin(&self, target: &TenantPlugin) -> Result<PendingCall, PluginCallError> {
        let plugin = &target.plugin;
        let name = &plugin.manifest.plugin.name;
        if let Admission::Open(trip) = self.breakers.admit(target.tenant_id(), name) {
            return Err(PluginCallError::BreakerOpen {
                plugin: plugin.id(),
                tenant: target.tenant_id().to_owned(),
                failures: trip.failures,
                reason: trip.reason,
            });
        }
        let limits = plugin.limits;
        let state = CallState::new(
            Arc::clone(&target.scope),
            OutboundPolicy::new(Arc::clone(&target.allowlist), limits.timeout),
            limits.memory_mib as usize * (1 << 20),
        );
        let mut store = WasmStore::new(&self.engine, state);
        store.limiter(|state| &mut state.limiter);
        // Yield to the async runtime at every epoch tick: a plugin spinning on the CPU then
        // holds a worker thread for one tick at a time, not its whole deadline, and the
        // deadline below can stop it at the next yield.
        store.set_epoch_deadline(1);
        store.epoch_deadline_async_yield_and_update(1);
        Ok(PendingCall {
            store,
            deadline: limits.timeout,
            started: Instant::now(),
        })
    }

    /// Classifies the outcome, checks its size, and tells the breaker.
    pub(crate) async fn finish<T: ResponseSize>(
        &self,
        target: &TenantPlugin,
        call: PendingCall,
        raw: RawOutcome<T>,
    ) -> CallReport<T> {
        let elapsed = call.started.elapsed();
        let mut state = call.store.into_data();
        // `name@version` is formatted only for a failure: on success it would be an
        // allocation per call for nothing.
        let plugin = || target.plugin.id();
        let limits = target.plugin.limits;
        let outcome = match raw {
            Ok(Ok(value)) => {
                let size = value.response_size();
                if size > limits.max_response_bytes {
                    Err(PluginCallError::ResponseTooLarge {
                        plugin: plugin(),
                        size,
                        limit: limits.max_response_bytes,
                    })
                } else {
                    Ok(value)
                }
            }
            Ok(Err(error)) => Err(returned_error(&state, &plugin(), error)),
            Err(error) => Err(failure(
                &state,
                &plugin(),
                limits.memory_mib,
                limits.timeout,
                error,
            )),
        };
        let name = &target.plugin.manifest.plugin.name;
        let tenant = target.tenant_id();
        match &outcome {
            Ok(_) => self.breakers.record_success(tenant, name).await,
            Err(error) if error.counts_against_plugin() => {
                tracing::warn!(tenant, plugin = %plugin(), code = error.code(), %error, "plugin call failed");
                self.breakers
                    .record_failure(tenant, name, &error.to_string())
                    .await;
            }
            Err(_) => {}
        }
        CallReport {
            outcome,
            logs: std::mem::take(&mut state.journal.logs),
            handover: state.journal.handover.take(),
            elapsed,
            memory_peak_bytes: state.limiter.peak_bytes,
        }
    }
}

/// A plugin-error the plugin returned, explained by a refusal it ran into on the way.
fn returned_error(state: &CallState, plugin: &str, error: WitPluginError) -> PluginCallError {
    if let Some(denial) = state.outbound.first_denial() {
        return PluginCallError::HttpDenied {
            plugin: plugin.to_owned(),
            host: denial.host,
            reason: denial.reason,
        };
    }
    if let Some(detail) = &state.journal.kv_quota_hit {
        return PluginCallError::KvQuotaExceeded {
            plugin: plugin.to_owned(),
            detail: detail.clone(),
        };
    }
    let (code, message) = match error {
        WitPluginError::InvalidInput(message) => ("invalid_input", message),
        WitPluginError::NotFound(message) => ("not_found", message),
        WitPluginError::Config(message) => ("config", message),
        WitPluginError::Upstream(message) => ("upstream", message),
        WitPluginError::Internal(message) => ("internal", message),
    };
    PluginCallError::Plugin {
        plugin: plugin.to_owned(),
        code,
        message,
    }
}

/// A trap, a deadline or a host failure, named for what caused it.
fn failure(
    state: &CallState,
    plugin: &str,
    memory_mib: u32,
    timeout: Duration,
    error: wasmtime::Error,
) -> PluginCallError {
    let plugin = plugin.to_owned();
    if state.limiter.refused {
        return PluginCallError::OutOfMemory {
            plugin,
            limit_mib: memory_mib,
        };
    }
    // A full pool is the host's overload, not the plugin's fault: it must not trip the breaker.
    if error.is::<wasmtime::PoolConcurrencyLimitError>() {
        return PluginCallError::Host {
            plugin,
            message: format!("{error:#}; raise plugins.max_concurrent_calls or add capacity"),
        };
    }
    let timed_out = error.is::<DeadlineElapsed>()
        || matches!(error.downcast_ref::<Trap>(), Some(Trap::Interrupt));
    if timed_out {
        return PluginCallError::Timeout {
            plugin,
            limit_ms: timeout.as_millis() as u64,
        };
    }
    match error.downcast_ref::<Trap>() {
        Some(Trap::StackOverflow) => PluginCallError::StackOverflow { plugin },
        Some(Trap::MemoryOutOfBounds) => PluginCallError::Trap {
            plugin,
            message: "out of bounds memory access (often the plugin's own stack overflowing \
                      linear memory: runaway recursion or a large local buffer)"
                .to_owned(),
        },
        Some(trap) => PluginCallError::Trap {
            plugin,
            message: panic_message(&state.printed()).unwrap_or_else(|| trap.to_string()),
        },
        None => PluginCallError::Trap {
            plugin,
            message: format!("{error:#}"),
        },
    }
}

/// Rust prints `thread '…' panicked at src/lib.rs:9:5:\n<message>` before aborting; that
/// is what the author needs, not "unreachable executed".
fn panic_message(printed: &str) -> Option<String> {
    let mut lines = printed.lines();
    let location = lines.find_map(|line| line.split_once("panicked at ").map(|(_, at)| at))?;
    let message: Vec<&str> = lines
        .take_while(|line| !line.starts_with("note: "))
        .collect();
    Some(format!(
        "panicked at {}: {}",
        location.trim_end_matches(':'),
        message.join(" ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn panic_message_keeps_location_and_text() {
        let printed = "thread '<unnamed>' panicked at src/lib.rs:9:5:\nboom: always\nnote: run with `RUST_BACKTRACE=1`\n";
        assert_eq!(
            panic_message(printed).as_deref(),
            Some("panicked at src/lib.rs:9:5: boom: always")
        );
    }

    #[test]
    fn no_panic_text_gives_none() {
        assert_eq!(panic_message("memory allocation failed"), None);
    }
}
