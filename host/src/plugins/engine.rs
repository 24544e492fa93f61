//! The wasmtime engine every plugin runs on: pooling allocator, epoch ticker, one linker.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use wasmtime::component::{HasSelf, Linker};
use wasmtime::{Config, Enabled, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

use super::bindings;
use super::breaker::Breakers;
use super::sandbox::CallState;
use crate::config::PluginHostConfig;
use crate::store::Store;

/// 10 ms: a CPU-bound plugin yields its worker thread this often (fair scheduling between
/// tenants), and the ticker thread costs nothing measurable.
pub(crate) const EPOCH_TICK: Duration = Duration::from_millis(10);

/// Why the engine could not start.
#[derive(Debug, thiserror::Error)]
#[error("cannot start the plugin engine: {0}")]
pub struct EngineError(String);

/// Compiles, caches and runs plugins. Cheap to share: clone the `Arc`.
pub struct PluginEngine {
    pub(crate) engine: Engine,
    pub(crate) linker: Linker<CallState>,
    pub(crate) config: PluginHostConfig,
    pub(crate) store: Arc<dyn Store>,
    pub(crate) breakers: Breakers,
    ticker_stop: Arc<AtomicBool>,
}

impl PluginEngine {
    /// An engine with `config`'s limits, persisting plugin state (kv, breaker) in `store`.
    /// `compile_cache` keeps compiled code between runs (`None`: compile every time).
    pub fn new(
        config: PluginHostConfig,
        store: Arc<dyn Store>,
        compile_cache: Option<&Path>,
    ) -> Result<Arc<Self>, EngineError> {
        let engine = Engine::new(&wasmtime_config(&config, compile_cache)?)
            .map_err(|error| EngineError(format!("{error:#}")))?;
        let linker = sandbox_linker(&engine).map_err(|error| EngineError(format!("{error:#}")))?;
        let ticker_stop = Arc::new(AtomicBool::new(false));
        spawn_epoch_ticker(&engine, Arc::clone(&ticker_stop))?;
        let breakers = Breakers::new(
            config.breaker_failure_threshold,
            config.breaker_cool_off(),
            Arc::clone(&store),
        );
        Ok(Arc::new(Self {
            engine,
            linker,
            config,
            store,
            breakers,
            ticker_stop,
        }))
    }

    /// The host limits this engine enforces.
    pub fn config(&self) -> &PluginHostConfig {
        &self.config
    }

    /// The store plugin state lives in.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// The underlying wasmtime engine (benchmarks compare against bare wasmtime on it).
    pub fn wasmtime_engine(&self) -> &Engine {
        &self.engine
    }

    /// The circuit breakers, one per (tenant, plugin).
    pub fn breakers(&self) -> &Breakers {
        &self.breakers
    }
}

impl Drop for PluginEngine {
    fn drop(&mut self) {
        self.ticker_stop.store(true, Ordering::Relaxed);
    }
}

fn wasmtime_config(
    config: &PluginHostConfig,
    compile_cache: Option<&Path>,
) -> Result<Config, EngineError> {
    let mut wasmtime = Config::new();
    wasmtime.wasm_component_model(true);
    wasmtime.epoch_interruption(true);
    // 1 MiB of wasm stack: deep enough for serde on nested JSON, shallow enough that runaway
    // recursion stops in microseconds.
    wasmtime.max_wasm_stack(1 << 20);
    wasmtime.allocation_strategy(InstanceAllocationStrategy::Pooling(pooling(config)));
    if let Some(directory) = compile_cache {
        let directory = std::path::absolute(directory)
            .map_err(|error| EngineError(format!("compile cache dir: {error}")))?;
        let mut cache = wasmtime::CacheConfig::new();
        cache.with_directory(directory);
        let cache =
            wasmtime::Cache::new(cache).map_err(|error| EngineError(format!("{error:#}")))?;
        wasmtime.cache(Some(cache));
    }
    Ok(wasmtime)
}

/// Pool slots for `max_concurrent_calls` instances in flight. A Rust component holds a few
/// core instances (its code, the WASI adapter, shims) and tables, and one memory.
fn pooling(config: &PluginHostConfig) -> PoolingAllocationConfig {
    let calls = config.max_concurrent_calls.max(1);
    let mut pooling = PoolingAllocationConfig::new();
    pooling.total_component_instances(calls);
    pooling.total_core_instances(calls * 8);
    pooling.total_memories(calls * 2);
    pooling.total_tables(calls * 4);
    pooling.total_stacks(calls);
    pooling.max_core_instances_per_component(16);
    pooling.max_memories_per_component(4);
    pooling.max_tables_per_component(8);
    pooling.max_memory_size(config.max_memory_mib as usize * (1 << 20));
    if PoolingAllocationConfig::is_pagemap_scan_available() {
        // Linux 6.7+: a freed slot resets only the pages the call dirtied (PAGEMAP_SCAN),
        // up to 1 MiB of them in place, so the next call reuses warm pages instead of
        // faulting them in again. An `echo` call drops from ~65 µs to ~20 µs.
        pooling.pagemap_scan(Enabled::Yes);
        pooling.linear_memory_keep_resident(1 << 20);
    } else {
        // Without the scan, "keep resident" means memset the *first* N bytes on every call:
        // a Rust guest's shadow stack, almost all untouched, while the pages the call did
        // dirty (data, heap) are decommitted anyway. Decommitting everything is cheaper.
        pooling.linear_memory_keep_resident(0);
    }
    pooling.table_keep_resident(1 << 16);
    pooling
}

/// The one linker: WASI without files, environment or sockets; wasi:http behind the
/// outbound policy; and loa's `host` interface.
fn sandbox_linker(engine: &Engine) -> wasmtime::Result<Linker<CallState>> {
    let mut linker = Linker::new(engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
    wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker)?;
    bindings::host::add_to_linker::<CallState, HasSelf<CallState>>(&mut linker, |state| state)?;
    bindings::types::add_to_linker::<CallState, HasSelf<CallState>>(&mut linker, |state| state)?;
    Ok(linker)
}

/// Advances the engine's epoch every [`EPOCH_TICK`]; each tick makes running plugins yield.
/// Without it no deadline would ever fire, so failing to start it fails the engine.
fn spawn_epoch_ticker(engine: &Engine, stop: Arc<AtomicBool>) -> Result<(), EngineError> {
    let engine = engine.weak();
    std::thread::Builder::new()
        .name("loa-plugin-epoch".into())
        .spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                std::thread::sleep(EPOCH_TICK);
                match engine.upgrade() {
                    Some(engine) => engine.increment_epoch(),
                    None => break,
                }
            }
        })
        .map(drop)
        .map_err(|error| EngineError(format!("cannot start the epoch ticker: {error}")))
}
