//! Planned failures: what a Send API call meets instead of Graph's normal answer, one plan
//! entry per call ([`super::GraphApi::fail_next`]).

use std::time::Duration;

use serde_json::Value;

use super::graph_error;

/// What the stub does with one planned Send API call instead of answering it normally.
#[derive(Debug, Clone)]
pub enum Fault {
    /// HTTP 500, Graph error 2 ("Service temporarily unavailable").
    ServerError,
    /// HTTP 400, Graph error 613 ("Calls to this api have exceeded the rate limit").
    RateLimit,
    /// HTTP 400, Graph error 10 / subcode 2018278: outside the 24-hour window.
    OutsideWindow,
    /// Waits this long, then answers HTTP 500 (the message was not taken; the client has
    /// usually given up by then).
    Stall(Duration),
    /// Takes the message at once (it gets its id, counts as delivered and shows in the
    /// Conversations API) but holds the 200 answer this long: a host killed meanwhile
    /// never learns that it went out.
    TakeAndHold(Duration),
}

pub(super) async fn fault_answer(fault: &Fault) -> (u16, Value) {
    match fault {
        Fault::ServerError => (
            500,
            graph_error(
                2,
                None,
                "An unexpected error has occurred. Please retry your request later.".into(),
            ),
        ),
        Fault::RateLimit => (
            400,
            graph_error(
                613,
                None,
                "Calls to this api have exceeded the rate limit.".into(),
            ),
        ),
        Fault::OutsideWindow => (
            400,
            graph_error(
                10,
                Some(2_018_278),
                "(#10) This message is sent outside of allowed window.".into(),
            ),
        ),
        Fault::Stall(wait) => {
            tokio::time::sleep(*wait).await;
            (500, graph_error(2, None, "stalled".into()))
        }
        // Never met here: `answer` passes a hold on to `send`.
        Fault::TakeAndHold(_) => (500, graph_error(1, None, "a hold is not a failure".into())),
    }
}
