//! Write loa plugins (WebAssembly components for `wasm32-wasip2`) in plain Rust.
//!
//! A plugin is one crate that implements one of three traits and exports it with the
//! matching macro:
//!
//! | kind         | trait              | macro                | sdk feature  | WIT world         |
//! |--------------|--------------------|----------------------|--------------|-------------------|
//! | `tool`       | [`Tool`]           | [`export_tool!`]       | `tool`       | `tool-provider`   |
//! | `middleware` | [`Middleware`]     | [`export_middleware!`] | `middleware` | `middleware`      |
//! | `channel`    | [`ChannelAdapter`] | [`export_channel!`]    | `channel`    | `channel-adapter` |
//!
//! Enable exactly one feature: a component carries the type of one world, and a second one
//! would make the linker look for exports the plugin does not have.
//!
//! Whatever the kind, a plugin can call the host: [`log`], [`kv`] (its own key-value store),
//! [`config`] (the tenant's settings), [`clock`], [`handover`] (ask for a person), and
//! [`http`] (outbound HTTP to the hosts its manifest names and the tenant allows). Channel
//! plugins cut long replies with [`text`].
//!
//! # Example: a tool plugin
//!
//! `Cargo.toml`:
//!
//! ```toml
//! [package]
//! name = "order-status"
//! version = "0.1.0"
//! edition = "2024"
//!
//! [lib]
//! crate-type = ["cdylib", "rlib"]
//!
//! [dependencies]
//! loa-sdk = { path = "../../sdk", features = ["tool"] }
//! serde = { version = "1", features = ["derive"] }
//! serde_json = "1"
//! ```
//!
//! `plugin.toml`, next to it:
//!
//! ```toml
//! [plugin]
//! name = "order-status"
//! version = "0.1.0"
//! kind = "tool"
//! description = "Looks up an order's status in the shop's order API"
//!
//! [capabilities]
//! http = ["*"]
//!
//! [config.api_base_url]
//! description = "Base URL of the shop's order API, e.g. https://shop.example.com/api"
//! required = true
//!
//! [config.api_key]
//! description = "API key sent as a Bearer token"
//! secret = true
//! required = true
//! ```
//!
//! `src/lib.rs`:
//!
//! ```no_run
//! use loa_sdk::http::{self, Request};
//! use loa_sdk::{CallContext, PluginError, Tool, ToolSpec, config, log};
//!
//! struct OrderStatus;
//!
//! #[derive(serde::Deserialize)]
//! struct Args {
//!     order_id: String,
//! }
//!
//! impl Tool for OrderStatus {
//!     fn list_tools() -> Vec<ToolSpec> {
//!         vec![ToolSpec::new(
//!             "get_order_status",
//!             "Looks up the status of an order by its id.",
//!             &serde_json::json!({
//!                 "type": "object",
//!                 "properties": { "order_id": { "type": "string" } },
//!                 "required": ["order_id"]
//!             }),
//!         )]
//!     }
//!
//!     fn call(name: String, args_json: String, _ctx: CallContext) -> Result<String, PluginError> {
//!         if name != "get_order_status" {
//!             return Err(PluginError::NotFound(format!("no tool named '{name}'")));
//!         }
//!         let args: Args = loa_sdk::parse_args(&args_json)?;
//!         let base = config::require("api_base_url")?;
//!         let url = format!("{base}/orders/{}", http::percent_encode(&args.order_id));
//!         log::info("looking up order", &[("order_id", &args.order_id)]);
//!         let response = Request::get(url)
//!             .bearer_auth(&config::require("api_key")?)
//!             .send()?;
//!         match response.status {
//!             200 => Ok(response.text().into_owned()),
//!             404 => Err(PluginError::NotFound(format!("order {} not found", args.order_id))),
//!             status => Err(PluginError::Upstream(format!("order API answered HTTP {status}"))),
//!         }
//!     }
//! }
//!
//! loa_sdk::export_tool!(OrderStatus);
//! ```
//!
//! Build it with `cargo build -p order-status --release --target wasm32-wasip2`; the
//! `.wasm` in `target/wasm32-wasip2/release/` is the component. On a native target the
//! crate builds too (the host imports are stubs that panic when called), so the plugin's
//! pure logic can have ordinary unit tests.
#![warn(missing_docs)]
// `deny`, not `forbid`: the generated bindings (and only they) need `unsafe`.
#![deny(unsafe_code)]

// Two worlds in one component cannot link (see the crate docs); say so plainly instead.
#[cfg(all(
    target_arch = "wasm32",
    any(
        all(feature = "tool", feature = "middleware"),
        all(feature = "tool", feature = "channel"),
        all(feature = "middleware", feature = "channel"),
    )
))]
compile_error!(
    "enable exactly one of loa-sdk's features `tool`, `middleware`, `channel` for a wasm plugin \
     (build plugins one at a time: cargo features are unified within one cargo invocation)"
);

#[doc(hidden)]
#[allow(missing_docs, unsafe_code)]
pub mod bindings;

mod channel;
pub mod clock;
pub mod config;
pub mod handover;
pub mod http;
pub mod kv;
pub mod log;
mod middleware;
#[cfg(feature = "channel")]
pub mod progress;
pub mod text;
mod tool;
pub mod types;

/// Re-exported so plugins can build JSON (`loa_sdk::serde_json::json!`) without their own
/// dependency on it.
#[doc(no_inline)]
pub use serde_json;

pub use channel::ChannelAdapter;
pub use middleware::Middleware;
pub use tool::{Tool, parse_args, to_json};
pub use types::{
    Attachment, Button, ButtonAction, CallContext, Card, ChannelCapabilities, ContactRef,
    ConversationRef, DeliveryError, DeliveryReceipt, EventKind, HttpRequest, HttpResponse,
    InboundEvent, Message, PluginError, QuickReply, SendCheck, TemplateMessage, ToolSpec,
    TransientFailure, UnfinishedSend, Verdict, WebhookOutcome,
};
