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
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("read the body")
        .to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}
