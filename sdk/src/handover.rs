//! Asking for a person: `handover::request("the customer wants a refund over 2 triệu")`.
//!
//! For tools whose result needs staff. The host finishes the turn, then moves the
//! conversation to the operators' queue with this reason and tells the customer; the tool's
//! own result still reaches the model, so it can say a person is coming. Middleware returns
//! its `handover` verdict instead.

use crate::bindings::imports::loa::plugin::host;

/// Asks the host to hand the current conversation to a person once this turn ends. The
/// reason is shown to operators (first 500 characters); a second call in the same call keeps
/// the first reason. Outside a conversation (a `loa plugin run`) it is only reported.
pub fn request(reason: &str) {
    host::request_handover(reason);
}
