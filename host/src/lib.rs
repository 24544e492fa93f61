//! loa: a bot runtime for businesses that talk to their customers on chat channels.
//!
//! The host owns what every bot needs (tenants, conversations, knowledge, handover,
//! delivery); everything that differs per channel or per business is a sandboxed
//! WebAssembly plugin loaded through the `loa:plugin` WIT contract (see `wit/`).
//!
//! Modules, one per concern:
//! - [`auth`]: roles and permissions, passwords, tokens, API keys, secrets at rest;
//! - [`conversation`]: tenants, bots, sessions, messages and the message pipeline;
//! - [`delivery`]: the outbox dispatcher, retries and dead letters;
//! - [`http`]: the widget, webhooks and health checks;
//! - [`knowledge`]: embeddings, vector search and hybrid retrieval over FAQ and documents;
//! - [`llm`]: the OpenAI-compatible client of the agentic tier;
//! - [`serve`]: the running host (HTTP + workers + dispatcher);
//! - [`plugins`]: the sandboxed plugin host (manifests, engine, limits, breaker, registry);
//! - [`store`]: the `Store` trait and its SQLite implementation;
//! - [`config`]: the host's own configuration (data dir, plugin limits).
#![warn(missing_docs)]
#![deny(unsafe_code)]
#![deny(rust_2018_idioms)]

pub mod auth;
pub mod config;
pub mod conversation;
pub mod delivery;
pub mod http;
pub mod knowledge;
mod leased_work;
pub mod llm;
pub mod plugins;
pub mod serve;
pub mod store;
mod work_runtime;
