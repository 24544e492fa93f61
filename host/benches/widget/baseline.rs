//! The baseline of the widget benchmark: the least a server speaking the widget protocol
//! can do. Same WebSocket stack as the host (axum on hyper), same frames (`ready`; then
//! per message `ack`, the echo, the answer), but no store, no inbox, no workers, no
//! outbox: each answer is written straight back. The host's latency over this one is
//! what loa's durable pipeline costs.

use std::net::SocketAddr;

use axum::Router;
use axum::extract::WebSocketUpgrade;
use axum::extract::ws::{Message as Frame, WebSocket};
use axum::response::Response;
use axum::routing::get;
use axum::serve::ListenerExt;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use super::load::QUESTIONS;

/// Starts the baseline on `listener`; it stops when `shutdown` is cancelled.
pub fn spawn(listener: tokio::net::TcpListener, shutdown: CancellationToken) -> SocketAddr {
    let address = listener.local_addr().expect("baseline address");
    let app = Router::new().route("/ws", get(upgrade));
    // No Nagle: the answer must not wait for the client to acknowledge the ack frame.
    let listener = listener.tap_io(|stream| {
        let _ = stream.set_nodelay(true);
    });
    tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(shutdown.cancelled_owned())
            .await
            .expect("baseline server");
    });
    address
}

async fn upgrade(upgrade: WebSocketUpgrade) -> Response {
    upgrade.on_upgrade(answer)
}

/// Answers `hello` with `ready` and every `message` with its ack, its echo and the FAQ
/// answer, as the host would.
async fn answer(mut socket: WebSocket) {
    let mut id = 0i64;
    while let Some(Ok(frame)) = socket.recv().await {
        let Frame::Text(text) = frame else { continue };
        let Ok(frame) = serde_json::from_str::<Value>(&text) else {
            return;
        };
        let replies = match frame["type"].as_str() {
            Some("hello") => vec![json!({
                "type": "ready", "visitor_id": "v_baseline", "conversation_id": null,
                "welcome": "", "messages": [],
            })],
            Some("message") => {
                let question = frame["text"].as_str().unwrap_or_default();
                let answer = QUESTIONS
                    .iter()
                    .find(|(asked, _)| *asked == question)
                    .map_or("", |(_, answer)| answer);
                let client_id = &frame["client_id"];
                id += 2;
                vec![
                    json!({"type": "ack", "client_id": client_id}),
                    message(id - 1, "contact", client_id, question),
                    message(id, "bot", &Value::Null, answer),
                ]
            }
            _ => Vec::new(),
        };
        for reply in replies {
            if socket
                .send(Frame::Text(reply.to_string().into()))
                .await
                .is_err()
            {
                return;
            }
        }
    }
}

fn message(id: i64, sender: &str, client_id: &Value, text: &str) -> Value {
    json!({
        "type": "message", "id": id, "conversation_id": "c_baseline", "sender": sender,
        "client_id": client_id, "content": {"text": text}, "created_at_ms": 0,
    })
}
