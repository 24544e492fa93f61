//! Delivery: the dispatcher that takes replies from the durable outbox and sends them on
//! their channel (the widget's live sockets, or a channel plugin's `send`), retrying
//! transient failures with backoff, dead-lettering permanent ones, logging every attempt.

pub mod dispatcher;
pub mod retry;

pub use dispatcher::{DeliveryConfig, Dispatcher};
pub use retry::RetryPolicy;
