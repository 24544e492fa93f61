//! Planned failures: what a send meets instead of Zalo's normal answer, one plan entry
//! per send ([`super::ZaloApi::fail_next`]).

use std::time::Duration;

use serde_json::Value;

use super::zalo_error;

/// What the stub does with one planned send instead of answering it normally.
#[derive(Debug, Clone)]
pub enum Fault {
    /// HTTP 500 with an HTML page.
    ServerError,
    /// Waits this long, then answers HTTP 500 (the message was not taken; the plugin has
    /// usually given up by then).
    Stall(Duration),
    /// Takes the message (it counts as delivered, gets its `message_id` and shows in the
    /// conversation history at once) but holds the answer this long: a sender killed
    /// mid-send never learns that it arrived.
    TakeAndHold(Duration),
    /// Error -32: over the app's requests per minute.
    RateLimit,
    /// Error -213: the user does not follow the OA.
    NotFollower,
    /// Error -230: the user has not interacted with the OA in the last 7 days.
    OutsideWindow,
}

/// The answer to a fault that takes nothing.
pub(super) async fn fault_answer(fault: &Fault) -> (u16, Value) {
    match fault {
        Fault::ServerError => (
            500,
            Value::String("<html><body>500 Internal Server Error</body></html>".into()),
        ),
        // `TakeAndHold` takes the message first (in `answer`); here only for completeness.
        Fault::Stall(wait) | Fault::TakeAndHold(wait) => {
            tokio::time::sleep(*wait).await;
            (500, Value::String("<html>stalled</html>".into()))
        }
        Fault::RateLimit => (200, zalo_error(-32, "Exceed rate limit of this app")),
        Fault::NotFollower => (200, zalo_error(-213, "User has not followed OA")),
        Fault::OutsideWindow => (
            200,
            zalo_error(
                -230,
                "User has not interacted with the OA in the past 7 days",
            ),
        ),
    }
}
