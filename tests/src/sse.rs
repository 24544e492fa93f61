//! A server-sent-events client for tests: follows a `text/event-stream` answer of the
//! real server and hands out its events one by one.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper::body::Incoming;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;

/// One event as sent.
#[derive(Debug, Clone, PartialEq)]
pub struct SseEvent {
    /// `event:` (`message` when absent).
    pub name: String,
    /// `id:`.
    pub id: Option<String>,
    /// `data:` as JSON (`Null` when it is not JSON).
    pub data: Value,
}

/// An open event stream.
pub struct EventStream {
    body: Incoming,
    buffer: String,
}

impl EventStream {
    /// `GET url` with `token` as bearer and, when given, `Last-Event-ID`; panics unless
    /// the answer is a 200 event stream.
    pub async fn open(url: &str, token: &str, last_event_id: Option<&str>) -> EventStream {
        let client = Client::builder(TokioExecutor::new()).build_http::<Empty<Bytes>>();
        let mut request = hyper::Request::get(url)
            .header("authorization", format!("Bearer {token}"))
            .header("accept", "text/event-stream");
        if let Some(id) = last_event_id {
            request = request.header("last-event-id", id);
        }
        let request = request.body(Empty::new()).expect("a valid request");
        let response = client.request(request).await.expect("the server answers");
        assert_eq!(response.status(), 200, "the stream opens");
        let kind = response
            .headers()
            .get("content-type")
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        assert!(kind.starts_with("text/event-stream"), "{kind}");
        EventStream {
            body: response.into_body(),
            buffer: String::new(),
        }
    }

    /// The next event within `within`, skipping comments; `None` when none came.
    pub async fn next_within(&mut self, within: Duration) -> Option<SseEvent> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            if let Some(event) = self.parse_one() {
                return Some(event);
            }
            let frame = tokio::time::timeout_at(deadline, self.body.frame())
                .await
                .ok()??;
            if let Ok(data) = frame.expect("the stream reads").into_data() {
                self.buffer.push_str(&String::from_utf8_lossy(&data));
            }
        }
    }

    /// Reads events until one named `name` whose data satisfies `wanted`, within `within`;
    /// panics otherwise, listing what came.
    pub async fn expect(
        &mut self,
        name: &str,
        within: Duration,
        wanted: impl Fn(&Value) -> bool,
    ) -> SseEvent {
        let deadline = tokio::time::Instant::now() + within;
        let mut seen = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match self.next_within(left).await {
                Some(event) if event.name == name && wanted(&event.data) => return event,
                Some(event) => seen.push(event),
                None => panic!("no `{name}` event within {within:?}; seen: {seen:#?}"),
            }
        }
    }

    /// Takes one complete event (up to a blank line) off the buffer.
    fn parse_one(&mut self) -> Option<SseEvent> {
        loop {
            let end = self.buffer.find("\n\n")?;
            let block: String = self.buffer.drain(..end + 2).collect();
            let mut name = "message".to_owned();
            let mut id = None;
            let mut data = Vec::new();
            for line in block.lines() {
                if let Some(value) = line.strip_prefix("event:") {
                    name = value.trim().to_owned();
                } else if let Some(value) = line.strip_prefix("id:") {
                    id = Some(value.trim().to_owned());
                } else if let Some(value) = line.strip_prefix("data:") {
                    data.push(value.strip_prefix(' ').unwrap_or(value).to_owned());
                }
            }
            if data.is_empty() && id.is_none() {
                continue; // a comment (keep-alive)
            }
            let data = serde_json::from_str(&data.join("\n")).unwrap_or(Value::Null);
            return Some(SseEvent { name, id, data });
        }
    }
}
