//! Plain HTTP requests to a running `loa serve`, answers read as JSON.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;

/// Sends `method url` with `body`; returns the status and the body as JSON (`Null` when
/// it is not JSON).
pub async fn request(method: &str, url: &str, body: &str) -> (u16, Value) {
    request_with_headers(
        method,
        url,
        &[("content-type", "application/json")],
        body.as_bytes().to_vec(),
    )
    .await
}

/// Sends `method url` with exactly these `headers` and the raw `body` (any bytes: an
/// uploaded file); returns the status and the body as JSON (`Null` when it is not JSON).
pub async fn request_with_headers(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: impl Into<Bytes>,
) -> (u16, Value) {
    let answer = send(method, url, headers, body).await;
    (answer.status, answer.json)
}

/// A whole answer: what [`request_with_headers`] returns, with the headers and raw bytes.
#[derive(Debug)]
pub struct Answer {
    /// HTTP status.
    pub status: u16,
    /// Response headers.
    pub headers: hyper::HeaderMap,
    /// The body as sent.
    pub bytes: Bytes,
    /// The body as JSON (`Null` when it is not JSON).
    pub json: Value,
}

impl Answer {
    /// A header's value as text, when present and visible ASCII.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|value| value.to_str().ok())
    }

    /// The body as text (lossy), for failure messages and HTML.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes).into_owned()
    }
}

/// Sends `method url` with exactly these `headers` and the raw `body`; returns the whole
/// answer (only the head of a `text/event-stream`).
pub async fn send(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: impl Into<Bytes>,
) -> Answer {
    let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let mut request = hyper::Request::builder().method(method).uri(url);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let request = request
        .body(Full::new(body.into()))
        .expect("a valid request");
    let response = client.request(request).await.expect("the server answers");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let streaming = headers
        .get("content-type")
        .and_then(|value| value.to_str().ok())
        .is_some_and(|kind| kind.starts_with("text/event-stream"));
    if streaming {
        // An event stream never ends: the answer is its head (`sse::EventStream` reads it).
        return Answer {
            status,
            headers,
            bytes: Bytes::new(),
            json: Value::Null,
        };
    }
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("read the body")
        .to_bytes();
    let json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    Answer {
        status,
        headers,
        bytes,
        json,
    }
}
