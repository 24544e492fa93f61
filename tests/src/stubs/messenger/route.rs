//! How the stub takes a request: records it on arrival, finds what it asks for (a Send API
//! call, a Conversations API read), checks the token and writes the answer into the record.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response};
use serde_json::Value;

use super::conversations::{conversations, node};
use super::faults::{Fault, fault_answer};
use super::send::send;
use super::{Recorded, State, graph_error, lock};
use crate::stubs::json_response;

pub(super) async fn answer(
    state: Arc<Mutex<State>>,
    token: String,
    request: Request<Incoming>,
) -> Response<Full<Bytes>> {
    let at = Instant::now();
    let path = request.uri().path().to_owned();
    let query = request.uri().query().unwrap_or_default().to_owned();
    let method = request.method().clone();
    let bytes = request
        .into_body()
        .collect()
        .await
        .map(|collected| collected.to_bytes())
        .unwrap_or_default();
    let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    let access_token = query_value(&query, "access_token");
    let route = Route::of(&method, &path);
    // Recorded on arrival, so the order is the order of requests even when one stalls.
    let (index, fault) = {
        let mut state = lock(&state);
        state.requests.push(Recorded {
            method: method.to_string(),
            path: path.clone(),
            query: query.clone(),
            access_token: access_token.clone(),
            body: body.clone(),
            status: 0,
            message_id: None,
            at,
        });
        let fault = match route {
            Route::Send => state.plan.pop_front().flatten(),
            _ => None,
        };
        (state.requests.len() - 1, fault)
    };
    // A hold is no failure: the call goes on to be taken, its answer late.
    let (hold, failure) = match fault {
        Some(Fault::TakeAndHold(wait)) => (Some(wait), None),
        other => (None, other),
    };
    let (status, answer) = match (failure, route) {
        (Some(fault), _) => fault_answer(&fault).await,
        (None, Route::Unknown) => (
            404,
            graph_error(2500, None, format!("Unknown path components: {path}")),
        ),
        _ if access_token.as_deref() != Some(token.as_str()) => (
            400,
            graph_error(
                190,
                None,
                "Invalid OAuth access token - Cannot parse access token".into(),
            ),
        ),
        (None, Route::Send) => send(&state, index, &body, hold).await,
        (None, Route::Conversations { page }) => conversations(&lock(&state), &page, &query),
        (None, Route::Node(id)) => node(&lock(&state), &id, &query),
    };
    if let Some(recorded) = lock(&state).requests.get_mut(index) {
        recorded.status = status;
    }
    json_response(status, answer.to_string())
}

/// What a request asks for.
enum Route {
    /// `POST /{version}/me/messages`.
    Send,
    /// `GET /{version}/{page}/conversations`.
    Conversations {
        page: String,
    },
    /// `GET /{version}/{id}`: a conversation or a message.
    Node(String),
    Unknown,
}

impl Route {
    fn of(method: &hyper::Method, path: &str) -> Route {
        let mut segments = path.trim_start_matches('/').split('/');
        if !segments.next().is_some_and(is_version) {
            return Route::Unknown;
        }
        match (method, segments.collect::<Vec<_>>().as_slice()) {
            (&hyper::Method::POST, ["me", "messages"]) => Route::Send,
            (&hyper::Method::GET, [page, "conversations"]) if !page.is_empty() => {
                Route::Conversations {
                    page: (*page).to_owned(),
                }
            }
            (&hyper::Method::GET, [id]) if !id.is_empty() => Route::Node(percent_decode(id)),
            _ => Route::Unknown,
        }
    }
}

/// `v<major>.<minor>`.
fn is_version(segment: &str) -> bool {
    segment
        .strip_prefix('v')
        .and_then(|number| number.split_once('.'))
        .is_some_and(|(major, minor)| {
            [major, minor]
                .iter()
                .all(|part| !part.is_empty() && part.bytes().all(|byte| byte.is_ascii_digit()))
        })
}

/// The value of `name` in a query string, `%XX`-decoded.
pub(super) fn query_value(query: &str, name: &str) -> Option<String> {
    form_urlencoded::parse(query.as_bytes())
        .find_map(|(key, value)| (key == name).then(|| value.into_owned()))
}

/// A path segment with its `%XX` escapes decoded.
fn percent_decode(text: &str) -> String {
    percent_encoding::percent_decode_str(text)
        .decode_utf8_lossy()
        .into_owned()
}
