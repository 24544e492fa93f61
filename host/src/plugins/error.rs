//! What can go wrong loading a plugin or calling it, in words a plugin author can act on.

use std::path::PathBuf;

use serde::Serialize;

/// A plugin could not be loaded. Each variant names the file and the problem.
#[derive(Debug, thiserror::Error)]
pub enum PluginLoadError {
    /// A file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// What the OS said.
        source: std::io::Error,
    },
    /// `plugin.toml` is malformed or invalid.
    #[error("invalid manifest {path}: {problem}")]
    Manifest {
        /// The manifest.
        path: PathBuf,
        /// What is wrong.
        problem: String,
    },
    /// The file is larger than the host accepts.
    #[error(
        "{path} is {size_mib:.1} MiB, over the {limit_mib} MiB limit (plugins.max_component_mib)"
    )]
    TooLarge {
        /// The component.
        path: PathBuf,
        /// Its size.
        size_mib: f64,
        /// The limit.
        limit_mib: u32,
    },
    /// The file is a core wasm module or not wasm at all.
    #[error(
        "{path} is not a WebAssembly component ({found}); build the plugin for wasm32-wasip2 with `loa plugin build`"
    )]
    NotAComponent {
        /// The file.
        path: PathBuf,
        /// What it is instead.
        found: &'static str,
    },
    /// wasmtime refused to compile the component.
    #[error("cannot compile {path}: {message}")]
    Compile {
        /// The component.
        path: PathBuf,
        /// wasmtime's explanation.
        message: String,
    },
    /// The component was built against another, incompatible `loa:plugin` version.
    #[error(
        "{path} was built against loa:plugin@{built_against}, but this host speaks loa:plugin@{host}; rebuild it with a loa-sdk for {host}"
    )]
    IncompatibleVersion {
        /// The component.
        path: PathBuf,
        /// The version its exports or imports name.
        built_against: String,
        /// The host's version.
        host: &'static str,
    },
    /// The component's exports do not match the kind its manifest declares.
    #[error(
        "{path}: manifest says kind = \"{kind}\" (world {world}), so the component must export loa:plugin/{expected}, but it exports [{found}]"
    )]
    WrongWorld {
        /// The component.
        path: PathBuf,
        /// Kind from the manifest.
        kind: String,
        /// World of that kind.
        world: &'static str,
        /// The interface it should export.
        expected: &'static str,
        /// What it exports instead.
        found: String,
    },
    /// The component imports something the sandbox does not provide.
    #[error("{path} cannot be linked in the loa sandbox: {message}")]
    Link {
        /// The component.
        path: PathBuf,
        /// wasmtime's explanation (usually the missing import).
        message: String,
    },
    /// No such plugin (or version) is installed.
    #[error("plugin {name}{} is not installed", version.as_ref().map(|v| format!("@{v}")).unwrap_or_default())]
    NotInstalled {
        /// Plugin name.
        name: String,
        /// Version asked for, if one was.
        version: Option<String>,
    },
    /// The store failed while recording or reading the plugin.
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

/// Why one call into a plugin failed. Only that call fails; the host goes on.
#[derive(Debug, Clone, thiserror::Error, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PluginCallError {
    /// The call ran past its deadline (an endless loop, or a slow upstream).
    #[error("{plugin} ran past its {limit_ms} ms deadline and was stopped")]
    Timeout {
        /// `name@version`.
        plugin: String,
        /// The deadline.
        limit_ms: u64,
    },
    /// The call tried to use more memory than its cap.
    #[error("{plugin} tried to use more than its {limit_mib} MiB memory cap and was stopped")]
    OutOfMemory {
        /// `name@version`.
        plugin: String,
        /// The cap.
        limit_mib: u32,
    },
    /// Unbounded recursion exhausted the call stack.
    #[error("{plugin} exhausted its call stack (runaway recursion?) and was stopped")]
    StackOverflow {
        /// `name@version`.
        plugin: String,
    },
    /// The plugin panicked or hit a WebAssembly trap.
    #[error("{plugin} crashed: {message}")]
    Trap {
        /// `name@version`.
        plugin: String,
        /// The panic message when the plugin printed one, else the trap.
        message: String,
    },
    /// The result is larger than the host accepts.
    #[error("{plugin} returned {size} bytes, over the {limit} byte response limit")]
    ResponseTooLarge {
        /// `name@version`.
        plugin: String,
        /// Size of the result.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// The plugin called a host it may not reach, and the call failed.
    #[error("{plugin} was refused outbound HTTP to {host}: {reason}")]
    HttpDenied {
        /// `name@version`.
        plugin: String,
        /// The host it tried.
        host: String,
        /// Why it was refused.
        reason: String,
    },
    /// The plugin went over its key-value quota, and the call failed.
    #[error("{plugin} went over its key-value quota: {detail}")]
    KvQuotaExceeded {
        /// `name@version`.
        plugin: String,
        /// Which quota.
        detail: String,
    },
    /// The plugin returned an error on purpose.
    #[error("{plugin} returned {code}: {message}")]
    Plugin {
        /// `name@version`.
        plugin: String,
        /// `invalid_input`, `not_found`, `config`, `upstream` or `internal`.
        code: &'static str,
        /// The plugin's message.
        message: String,
    },
    /// The arguments given to a tool are not a JSON object.
    #[error("arguments for {plugin} tool '{tool}' are not valid JSON: {message}")]
    InvalidArguments {
        /// `name@version`.
        plugin: String,
        /// The tool.
        tool: String,
        /// Where the JSON is broken.
        message: String,
    },
    /// The plugin is switched off for this tenant after repeated failures.
    #[error(
        "{plugin} is switched off for tenant '{tenant}' after {failures} failures in a row (last: {reason}); it gets a trial call after the cool-off, or re-enable it with `loa plugin enable`"
    )]
    BreakerOpen {
        /// `name@version`.
        plugin: String,
        /// The tenant.
        tenant: String,
        /// Consecutive failures that opened it.
        failures: u32,
        /// The last failure.
        reason: String,
    },
    /// The host could not set the call up (pool exhausted, store down ...).
    #[error("{plugin} could not be started: {message}")]
    Host {
        /// `name@version`.
        plugin: String,
        /// What failed.
        message: String,
    },
}

impl PluginCallError {
    /// A stable machine-readable code, e.g. `timeout`, used in JSON and metrics.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Timeout { .. } => "timeout",
            Self::OutOfMemory { .. } => "out_of_memory",
            Self::StackOverflow { .. } => "stack_overflow",
            Self::Trap { .. } => "trap",
            Self::ResponseTooLarge { .. } => "response_too_large",
            Self::HttpDenied { .. } => "http_denied",
            Self::KvQuotaExceeded { .. } => "kv_quota_exceeded",
            Self::Plugin { .. } => "plugin_error",
            Self::InvalidArguments { .. } => "invalid_arguments",
            Self::BreakerOpen { .. } => "breaker_open",
            Self::Host { .. } => "host_error",
        }
    }

    /// Whether this failure counts towards switching the plugin off. A plugin saying
    /// "not found" or "bad input" is working as it should; the caller's input is at fault.
    pub fn counts_against_plugin(&self) -> bool {
        match self {
            Self::Plugin { code, .. } => !matches!(*code, "invalid_input" | "not_found"),
            Self::InvalidArguments { .. } | Self::BreakerOpen { .. } | Self::Host { .. } => false,
            _ => true,
        }
    }
}
