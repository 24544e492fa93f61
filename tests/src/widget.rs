//! A widget visitor in Rust: a WebSocket client speaking the widget protocol
//! (`host/src/web/widget-protocol.md`) to a running `loa serve`.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream, connect_async};

/// How long any single expected frame may take (a cold server on a busy machine).
pub const FRAME_TIMEOUT: Duration = Duration::from_secs(20);

/// One open widget socket.
pub struct Visitor {
    socket: WebSocketStream<MaybeTlsStream<TcpStream>>,
    /// Frames read while waiting for another one, in order.
    pub seen: Vec<Value>,
}

/// What connecting to an unknown bot returned instead of a socket.
#[derive(Debug)]
pub struct Refused {
    /// HTTP status.
    pub status: u16,
    /// JSON body.
    pub body: Value,
}

impl Visitor {
    /// Opens `/v1/widget/{bot}/ws` on `base_url` (`http://…`).
    pub async fn connect(base_url: &str, bot: &str) -> Result<Visitor, Refused> {
        let url = format!("{}/v1/widget/{bot}/ws", base_url.replacen("http", "ws", 1));
        match connect_async(url).await {
            Ok((socket, _)) => Ok(Visitor {
                socket,
                seen: Vec::new(),
            }),
            Err(tokio_tungstenite::tungstenite::Error::Http(response)) => Err(Refused {
                status: response.status().as_u16(),
                body: response
                    .body()
                    .as_deref()
                    .and_then(|body| serde_json::from_slice(body).ok())
                    .unwrap_or(Value::Null),
            }),
            Err(error) => panic!("cannot connect to the widget socket: {error}"),
        }
    }

    /// Sends one frame.
    pub async fn send(&mut self, frame: Value) {
        self.send_raw(frame.to_string()).await;
    }

    /// Sends any text as a frame.
    pub async fn send_raw(&mut self, text: String) {
        self.socket
            .send(Message::Text(text.into()))
            .await
            .expect("send a frame");
    }

    /// Sends binary data.
    pub async fn send_binary(&mut self, bytes: Vec<u8>) {
        self.socket
            .send(Message::Binary(bytes.into()))
            .await
            .expect("send a binary frame");
    }

    /// `hello`, then the `ready` frame.
    pub async fn hello(&mut self, visitor_id: Option<&str>, last_seen_id: Option<i64>) -> Value {
        self.send(json!({"type": "hello", "visitor_id": visitor_id, "last_seen_id": last_seen_id, "lang": "vi"}))
            .await;
        self.next_of_type("ready").await
    }

    /// Sends a text message.
    pub async fn say(&mut self, client_id: &str, text: &str) {
        self.send(json!({"type": "message", "client_id": client_id, "text": text}))
            .await;
    }

    /// The next frame, or `None` when the server closed the socket.
    pub async fn next(&mut self) -> Option<Value> {
        loop {
            let frame = tokio::time::timeout(FRAME_TIMEOUT, self.socket.next())
                .await
                .expect("a frame within the timeout");
            match frame {
                Some(Ok(Message::Text(text))) => {
                    let value: Value =
                        serde_json::from_str(text.as_str()).expect("server frames are JSON");
                    self.seen.push(value.clone());
                    return Some(value);
                }
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return None,
                Some(Ok(_)) => {}
            }
        }
    }

    /// Reads until a frame matching `wanted` arrives.
    pub async fn next_matching(&mut self, what: &str, wanted: impl Fn(&Value) -> bool) -> Value {
        loop {
            match self.next().await {
                Some(frame) if wanted(&frame) => return frame,
                Some(_) => {}
                None => panic!(
                    "socket closed while waiting for {what}; frames seen: {:#?}",
                    self.seen
                ),
            }
        }
    }

    /// Reads until a frame of `kind` arrives.
    pub async fn next_of_type(&mut self, kind: &str) -> Value {
        self.next_matching(kind, |frame| frame["type"] == kind)
            .await
    }

    /// Every frame read so far, in order.
    pub fn seen(&self) -> &[Value] {
        &self.seen
    }

    /// Reads until the host's next notice (a `system` message: handover and the like).
    pub async fn system_notice(&mut self) -> Value {
        self.next_matching("a system notice", |frame| {
            frame["type"] == "message" && frame["sender"] == "system"
        })
        .await
    }

    /// Reads until the bot's next message.
    pub async fn bot_reply(&mut self) -> Value {
        self.next_matching("a bot message", |frame| {
            frame["type"] == "message" && frame["sender"] == "bot"
        })
        .await
    }
}

/// The text of a message frame.
pub fn text(frame: &Value) -> &str {
    frame["content"]["text"].as_str().unwrap_or_default()
}
