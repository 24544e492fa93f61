//! How the stub takes a request: reads it (headers, JSON body or form fields), records it
//! on arrival, hands it to its endpoint or to the fault planned for it, and writes the
//! answer into the record.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response};
use serde_json::{Map, Value, json};

use super::conversation::conversation;
use super::faults::{Fault, fault_answer};
use super::refresh::refresh;
use super::send::send;
use super::template::template;
use super::{Endpoint, Recorded, State, lock};
use crate::stubs::json_response;

pub(super) async fn answer(
    state: Arc<Mutex<State>>,
    request: Request<Incoming>,
) -> Response<Full<Bytes>> {
    let at = Instant::now();
    let path = request.uri().path().to_owned();
    let query = request.uri().query().unwrap_or_default().to_owned();
    let method = request.method().clone();
    let header = |name: &str| {
        request
            .headers()
            .get(name)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned)
    };
    let (access_token, secret_key) = (header("access_token"), header("secret_key"));
    let bytes = request
        .into_body()
        .collect()
        .await
        .map(|collected| collected.to_bytes())
        .unwrap_or_default();
    let endpoint = match (method, path.as_str()) {
        (hyper::Method::POST, "/v3.0/oa/message/cs") => Endpoint::Send,
        (hyper::Method::POST, "/v4/oa/access_token") => Endpoint::Refresh,
        (hyper::Method::POST, "/message/template") => Endpoint::Template,
        (hyper::Method::GET, "/v2.0/oa/conversation") => Endpoint::Conversation,
        _ => Endpoint::Unknown,
    };
    let body = match endpoint {
        Endpoint::Refresh => form_fields(&bytes),
        Endpoint::Conversation => form_fields(query.as_bytes())["data"]
            .as_str()
            .and_then(|data| serde_json::from_str(data).ok())
            .unwrap_or(Value::Null),
        _ => serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    };
    // Recorded on arrival, so the order is the order of requests even when one stalls.
    let (index, fault, refresh_delay) = {
        let mut state = lock(&state);
        state.requests.push(Recorded {
            endpoint,
            path: path.clone(),
            access_token: access_token.clone(),
            secret_key: secret_key.clone(),
            body: body.clone(),
            status: 0,
            error: None,
            message_id: None,
            at,
        });
        let fault = if matches!(endpoint, Endpoint::Send | Endpoint::Template) {
            state.plan.pop_front().flatten()
        } else {
            None
        };
        (state.requests.len() - 1, fault, state.refresh_delay)
    };
    let take = |endpoint| match endpoint {
        Endpoint::Template => template(&state, access_token.as_deref(), &body),
        _ => send(&state, access_token.as_deref(), &body),
    };
    let (status, answer) = match endpoint {
        Endpoint::Send | Endpoint::Template => match fault {
            Some(Fault::TakeAndHold(hold)) => {
                let (status, answer) = take(endpoint);
                // Recorded before the hold: the sender may never get the answer (killed,
                // or gone after its timeout), and then this task is dropped with it.
                settle(&state, index, status, &answer);
                tokio::time::sleep(hold).await;
                (status, answer)
            }
            Some(fault) => fault_answer(&fault).await,
            None => take(endpoint),
        },
        Endpoint::Conversation => conversation(&state, access_token.as_deref(), &body),
        Endpoint::Refresh => {
            let answer = refresh(&state, secret_key.as_deref(), &body);
            tokio::time::sleep(refresh_delay).await;
            answer
        }
        Endpoint::Unknown => (
            404,
            json!({"error": 404, "message": format!("no API at {path}")}),
        ),
    };
    settle(&state, index, status, &answer);
    match answer {
        Value::String(html) => Response::builder()
            .status(status)
            .header("content-type", "text/html")
            .body(Full::new(Bytes::from(html)))
            .unwrap_or_else(|_| Response::new(Full::new(Bytes::new()))),
        answer => json_response(status, answer.to_string()),
    }
}

/// Writes the answer into request `index`'s record.
fn settle(state: &Mutex<State>, index: usize, status: u16, answer: &Value) {
    if let Some(recorded) = lock(state).requests.get_mut(index) {
        recorded.status = status;
        recorded.error = answer["error"].as_i64();
        recorded.message_id = answer["data"]["message_id"]
            .as_str()
            .or(answer["data"]["msg_id"].as_str())
            .map(str::to_owned);
    }
}

/// `a=1&b=2` as `{"a": "1", "b": "2"}`, `%XX` and `+` decoded.
fn form_fields(bytes: &[u8]) -> Value {
    let fields: Map<String, Value> = form_urlencoded::parse(bytes)
        .map(|(name, value)| (name.into_owned(), Value::String(value.into_owned())))
        .collect();
    Value::Object(fields)
}
