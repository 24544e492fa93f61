//! The state of one call's wasmtime store: a WASI context with nothing in it, the outbound
//! HTTP policy, the memory limiter, and what the call did (logs, kv writes, refusals).

use std::collections::BTreeMap;
use std::sync::Arc;

use wasmtime::ResourceLimiter;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

use super::outbound_http::OutboundPolicy;
use crate::store::{KvQuota, KvScope, Store};

/// 64 KiB of captured stdout/stderr: enough for a panic message and a backtrace line or
/// two; a plugin printing more is cut off, not the host's memory.
const STDIO_CAPTURE_BYTES: usize = 64 * 1024;
/// Log lines kept per call for `loa plugin run`; the rest still go to `tracing`.
const CAPTURED_LOG_LINES: usize = 1_000;

/// Who a call runs for: the tenant, the plugin, its config. Built once per (tenant, plugin)
/// settings and shared by every call.
pub(crate) struct CallScope {
    pub(crate) tenant_id: String,
    pub(crate) plugin_id: String,
    pub(crate) config: BTreeMap<String, String>,
    pub(crate) kv_scope: KvScope,
    pub(crate) kv_quota: KvQuota,
    pub(crate) kv_writes_per_call: u32,
    pub(crate) store: Arc<dyn Store>,
    pub(crate) capture_logs: bool,
}

/// One log line a plugin wrote.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PluginLogLine {
    /// `trace` .. `error`.
    pub level: &'static str,
    /// The message.
    pub message: String,
    /// Structured fields, in the order the plugin gave them.
    pub fields: Vec<(String, String)>,
}

/// What happened during a call besides its result; read after the call to explain a failure.
#[derive(Default)]
pub(crate) struct CallJournal {
    pub(crate) logs: Vec<PluginLogLine>,
    pub(crate) kv_writes: u32,
    pub(crate) kv_quota_hit: Option<String>,
    /// The first reason the plugin gave when it asked for a person.
    pub(crate) handover: Option<String>,
}

/// The `T` of the call's `wasmtime::Store`.
pub(crate) struct CallState {
    wasi: WasiCtx,
    http: WasiHttpCtx,
    table: ResourceTable,
    pub(crate) outbound: OutboundPolicy,
    pub(crate) limiter: MemoryLimiter,
    pub(crate) scope: Arc<CallScope>,
    pub(crate) journal: CallJournal,
    pub(crate) stderr: MemoryOutputPipe,
}

impl CallState {
    pub(crate) fn new(
        scope: Arc<CallScope>,
        outbound: OutboundPolicy,
        memory_limit_bytes: usize,
    ) -> Self {
        let stderr = MemoryOutputPipe::new(STDIO_CAPTURE_BYTES);
        // The defaults already mean: no preopened directories, no environment, no
        // arguments, stdin closed. Sockets are switched off outright; the only way out is
        // wasi:http through `outbound`.
        let wasi = WasiCtx::builder()
            .stdout(stderr.clone())
            .stderr(stderr.clone())
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false)
            .build();
        Self {
            wasi,
            http: WasiHttpCtx::new(),
            table: ResourceTable::new(),
            outbound,
            limiter: MemoryLimiter::new(memory_limit_bytes),
            scope,
            journal: CallJournal::default(),
            stderr,
        }
    }

    /// Keeps a log line for the caller when it asked for them.
    pub(crate) fn capture_log(&mut self, line: PluginLogLine) {
        if self.scope.capture_logs && self.journal.logs.len() < CAPTURED_LOG_LINES {
            self.journal.logs.push(line);
        }
    }

    /// What the plugin printed to stdout/stderr, lossily decoded.
    pub(crate) fn printed(&self) -> String {
        String::from_utf8_lossy(&self.stderr.contents()).into_owned()
    }
}

impl WasiView for CallState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for CallState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: &mut self.outbound,
        }
    }
}

/// Caps linear memory per call and remembers whether the cap was hit and the peak.
pub(crate) struct MemoryLimiter {
    limit_bytes: usize,
    pub(crate) peak_bytes: usize,
    pub(crate) refused: bool,
}

impl MemoryLimiter {
    fn new(limit_bytes: usize) -> Self {
        Self {
            limit_bytes,
            peak_bytes: 0,
            refused: false,
        }
    }
}

/// 100,000 table entries: far above what any compiled Rust or Go plugin needs.
const MAX_TABLE_ELEMENTS: usize = 100_000;

impl ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.limit_bytes {
            // Refuse the grow (the guest sees memory.grow fail and its allocator aborts);
            // remember why so the failure is reported as out-of-memory, not a crash.
            self.refused = true;
            return Ok(false);
        }
        self.peak_bytes = self.peak_bytes.max(desired);
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= MAX_TABLE_ELEMENTS)
    }
}
