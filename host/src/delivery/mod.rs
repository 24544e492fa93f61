//! Delivery: the dispatcher that takes replies from the durable outbox and sends them on
//! their channel (the widget's live sockets, or a channel plugin's `send`), retrying
//! transient failures with backoff, dead-lettering permanent ones, logging every attempt;
//! and the desk that queues messages outside turns (proactive messages, retried dead
//! letters).

pub mod dispatcher;
pub mod outbound;
pub mod retry;
pub mod shaping;

pub use dispatcher::{DeliveryConfig, Dispatcher};
pub use outbound::{OutboundDesk, Proactive, ProactiveOutcome};
pub use retry::RetryPolicy;
