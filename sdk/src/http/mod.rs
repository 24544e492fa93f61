//! A small blocking HTTP client over `wasi:http/outgoing-handler`.
//!
//! ```no_run
//! use loa_sdk::http::{self, Request};
//! use std::time::Duration;
//!
//! # fn demo() -> Result<(), loa_sdk::http::HttpError> {
//! let order: serde_json::Value = http::get_json("https://shop.example.com/api/orders/A1")?;
//! let response = Request::get("https://shop.example.com/api/orders/A1")
//!     .bearer_auth("secret")
//!     .timeout(Duration::from_secs(2))
//!     .send()?;
//! if response.status == 404 { /* ... */ }
//! # Ok(()) }
//! ```
//!
//! The host decides which hosts a plugin may reach (its manifest's `capabilities.http`,
//! narrowed by the tenant); any other host fails with `HTTP-request-denied`.

mod error;
mod transport;
mod url;

use std::borrow::Cow;
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;

pub use error::HttpError;
pub use url::percent_encode;

/// Default cap on a response body: 4 MiB is far above any JSON answer a tool needs, and well
/// inside the smallest memory limit a plugin gets.
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 4 * 1024 * 1024;

/// How much of an error response's body goes into [`HttpError::Status`]: enough to see the
/// server's complaint, not so much that logs fill with HTML pages.
const ERROR_BODY_PREVIEW_CHARS: usize = 300;

/// An HTTP method.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Method {
    /// `GET`
    Get,
    /// `HEAD`
    Head,
    /// `POST`
    Post,
    /// `PUT`
    Put,
    /// `PATCH`
    Patch,
    /// `DELETE`
    Delete,
    /// `OPTIONS`
    Options,
    /// Any other method, by name.
    Other(String),
}

/// An HTTP request being built; [`send`](Request::send) sends it and waits for the answer.
#[derive(Debug, Clone)]
pub struct Request {
    method: Method,
    url: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    timeout: Option<Duration>,
    max_response_bytes: usize,
    /// A builder step that failed (JSON encoding); reported by `send` so steps can chain.
    deferred_error: Option<HttpError>,
}

impl Request {
    /// A request with this method to this absolute `http(s)` URL.
    pub fn new(method: Method, url: impl Into<String>) -> Self {
        Self {
            method,
            url: url.into(),
            headers: Vec::new(),
            body: Vec::new(),
            timeout: None,
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            deferred_error: None,
        }
    }

    /// A `GET` request.
    pub fn get(url: impl Into<String>) -> Self {
        Self::new(Method::Get, url)
    }

    /// A `POST` request.
    pub fn post(url: impl Into<String>) -> Self {
        Self::new(Method::Post, url)
    }

    /// A `PUT` request.
    pub fn put(url: impl Into<String>) -> Self {
        Self::new(Method::Put, url)
    }

    /// A `PATCH` request.
    pub fn patch(url: impl Into<String>) -> Self {
        Self::new(Method::Patch, url)
    }

    /// A `DELETE` request.
    pub fn delete(url: impl Into<String>) -> Self {
        Self::new(Method::Delete, url)
    }

    /// Adds a header (repeating a name adds another value).
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Adds `Authorization: Bearer {token}`.
    pub fn bearer_auth(self, token: &str) -> Self {
        self.header("authorization", format!("Bearer {token}"))
    }

    /// Sets the body.
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }

    /// Sets the body to `value` as JSON, with `content-type: application/json`.
    pub fn json<B: Serialize + ?Sized>(mut self, value: &B) -> Self {
        match serde_json::to_vec(value) {
            Ok(body) => {
                self.body = body;
                self.header("content-type", "application/json")
            }
            Err(error) => {
                self.deferred_error = Some(HttpError::Json {
                    url: self.url.clone(),
                    reason: error.to_string(),
                });
                self
            }
        }
    }

    /// Gives up when connecting, the first response byte, or any pause between body bytes
    /// takes longer than `timeout`. Without it only the host's limit on the whole call
    /// applies. Hosts that cannot honor it ignore it.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Caps the response body (default [`DEFAULT_MAX_RESPONSE_BYTES`]); a larger body gives
    /// [`HttpError::ResponseTooLarge`].
    pub fn max_response_bytes(mut self, limit: usize) -> Self {
        self.max_response_bytes = limit;
        self
    }

    /// Sends the request and reads the whole response, blocking until it is in.
    ///
    /// Any status counts as a response here; see [`Response::error_for_status`].
    pub fn send(self) -> Result<Response, HttpError> {
        if let Some(error) = self.deferred_error {
            return Err(error);
        }
        transport::send(&self)
    }
}

/// A complete HTTP response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// The status code, e.g. 200.
    pub status: u16,
    /// The headers, names lowercased by the host, values decoded lossily as UTF-8.
    pub headers: Vec<(String, String)>,
    /// The whole body.
    pub body: Vec<u8>,
    /// The URL requested, for error messages.
    url: String,
}

impl Response {
    /// Whether the status is 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// The body as text; invalid UTF-8 becomes `�`.
    pub fn text(&self) -> Cow<'_, str> {
        String::from_utf8_lossy(&self.body)
    }

    /// The body parsed as JSON into a `T`.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, HttpError> {
        serde_json::from_slice(&self.body).map_err(|error| HttpError::Json {
            url: self.url.clone(),
            reason: error.to_string(),
        })
    }

    /// The response itself when its status is 2xx, otherwise [`HttpError::Status`] with the
    /// start of the body.
    pub fn error_for_status(self) -> Result<Self, HttpError> {
        if self.is_success() {
            return Ok(self);
        }
        let body: String = self.text().chars().take(ERROR_BODY_PREVIEW_CHARS).collect();
        Err(HttpError::Status {
            url: self.url,
            status: self.status,
            body,
        })
    }
}

/// `GET url`, whatever the status.
pub fn get(url: &str) -> Result<Response, HttpError> {
    Request::get(url).send()
}

/// `GET url` expecting a 2xx JSON answer, parsed into a `T`.
pub fn get_json<T: DeserializeOwned>(url: &str) -> Result<T, HttpError> {
    Request::get(url)
        .header("accept", "application/json")
        .send()?
        .error_for_status()?
        .json()
}

/// `POST url` with `body` as JSON, expecting a 2xx JSON answer, parsed into a `T`.
pub fn post_json<B: Serialize + ?Sized, T: DeserializeOwned>(
    url: &str,
    body: &B,
) -> Result<T, HttpError> {
    Request::post(url)
        .header("accept", "application/json")
        .json(body)
        .send()?
        .error_for_status()?
        .json()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(status: u16, body: &str) -> Response {
        Response {
            status,
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: body.as_bytes().to_vec(),
            url: "https://api.example.com/x".into(),
        }
    }

    #[test]
    fn header_lookup_ignores_case() {
        assert_eq!(
            response(200, "").header("content-type"),
            Some("application/json")
        );
        assert_eq!(response(200, "").header("x-missing"), None);
    }

    #[test]
    fn error_for_status_keeps_success_and_reports_failure() {
        assert!(response(204, "").error_for_status().is_ok());
        let error = response(503, "down for maintenance")
            .error_for_status()
            .unwrap_err();
        assert_eq!(error.status(), Some(503));
        assert_eq!(
            error.to_string(),
            "https://api.example.com/x answered HTTP 503: down for maintenance"
        );
    }

    #[test]
    fn json_error_names_the_url() {
        let error = response(200, "<html>")
            .json::<serde_json::Value>()
            .unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("JSON from or to https://api.example.com/x")
        );
    }

    #[test]
    fn json_body_sets_content_type() {
        let request = Request::post("https://h/").json(&serde_json::json!({"a": 1}));
        assert_eq!(request.body, br#"{"a":1}"#);
        assert!(
            request
                .headers
                .contains(&("content-type".into(), "application/json".into()))
        );
    }
}
