//! The plugin host: loads WebAssembly components and runs each call in a fresh sandbox
//! with a memory cap, a deadline, no files, no environment, and outbound HTTP only to
//! allowlisted hosts. A plugin that keeps failing is switched off per tenant.

// Generated code uses `unsafe` for typed function lookups; nothing hand-written does.
#[allow(unsafe_code)]
mod bindings;
pub mod breaker;
mod call;
pub mod engine;
pub mod error;
mod host_api;
mod lifecycle;
mod loaded;
pub mod manifest;
mod outbound_http;
pub(crate) use outbound_http::is_private;
pub mod registry;
mod response_size;
mod sandbox;

pub use call::{BindOptions, CallReport, TenantPlugin};
pub use engine::{EngineError, PluginEngine};
pub use error::{PluginCallError, PluginLoadError};
pub use loaded::{EffectiveLimits, LoadedPlugin, WIT_VERSION};
pub use manifest::{Manifest, PluginKind};
pub use sandbox::PluginLogLine;

/// The channel-neutral types of the `loa:plugin` contract, as Rust types.
pub mod types {
    pub use super::bindings::types::*;
}
