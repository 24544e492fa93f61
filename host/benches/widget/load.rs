//! The client side of the widget benchmark: many visitors on their own WebSocket, each
//! asking FAQ questions one after the other (send, wait for the bot's reply, optionally
//! pause, next), timed per message. The same harness drives the loa host and the baseline.
//!
//! Without a pause the load is a closed loop: the server is saturated and, by Little's
//! law, latency ≈ visitors / throughput. With a pause (people type) the offered rate is
//! about visitors / pause, and latency is what a visitor sees below saturation.

use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio::sync::Barrier;
use tokio_tungstenite::tungstenite::Message as Frame;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream, connect_async_with_config};

/// Questions that hit the demo shop's FAQ fast path exactly (variants of faq-01, faq-02
/// and faq-03 in `samples/demo-shop/faq.jsonl`) and how each answer starts. Visitors
/// rotate through them so the bench does not measure one cached string.
pub const QUESTIONS: [(&str, &str); 3] = [
    ("shop có ship COD không?", "Có ạ, Mây giao hàng COD"),
    ("phí ship bao nhiêu?", "Phí ship nội thành Hà Nội và TP.HCM"),
    (
        "giao hàng mất bao lâu?",
        "Nội thành Hà Nội và TP.HCM nhận hàng",
    ),
];

/// 30 s: far above any healthy reply (milliseconds), so only a lost reply or a stuck host
/// hits it, and the run still ends.
const REPLY_TIMEOUT: Duration = Duration::from_secs(30);

/// 200 sockets opening at once on 2 cores take a while, but not this long.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

/// How big a run is.
#[derive(Debug, Clone, Copy)]
pub struct Load {
    /// Visitors, each on its own socket, all sending at the same time.
    pub conversations: usize,
    /// Timed messages each visitor sends (after one untimed warm-up message).
    pub messages: usize,
    /// Mean pause between a reply and the visitor's next message (±50 %, and the first
    /// messages staggered over one pause); zero for a closed loop.
    pub pause: Duration,
}

/// The timings of one message.
#[derive(Debug, Clone, Copy)]
struct Sample {
    /// Send → `ack` (the message is durable), when the ack came before the reply.
    ack: Option<Duration>,
    /// Send → the bot's reply frame.
    reply: Duration,
}

/// What a run measured.
#[derive(Debug, Default)]
pub struct LoadReport {
    /// Timed messages that got their reply.
    pub replied: usize,
    /// Timed messages that got no (correct) reply.
    pub lost: usize,
    /// What went wrong, one line per failed conversation.
    pub problems: Vec<String>,
    /// Send → reply of every replied message, sorted.
    pub reply: Vec<Duration>,
    /// Send → ack of every acked message, sorted.
    pub ack: Vec<Duration>,
    /// From the moment every visitor was connected and warmed up to the last reply.
    pub elapsed: Duration,
}

impl LoadReport {
    /// Replies per second over the timed phase.
    pub fn messages_per_second(&self) -> f64 {
        self.replied as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// The value below which `fraction` of the `sorted` samples fall (nearest rank).
pub fn percentile(sorted: &[Duration], fraction: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = (fraction * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Drives `load` against the widget socket at `url` (`ws://host:port/v1/widget/BOT/ws`).
pub async fn drive(url: &str, load: Load) -> LoadReport {
    // Every visitor connects and sends its warm-up message first; the clock starts when
    // all have, so connection set-up and first-message work (opening the conversation)
    // are not in the figures.
    let ready = Arc::new(Barrier::new(load.conversations));
    let started = Arc::new(OnceLock::new());
    let visitors: Vec<_> = (0..load.conversations)
        .map(|visitor| {
            let (url, ready, started) = (url.to_owned(), Arc::clone(&ready), Arc::clone(&started));
            tokio::spawn(async move { visit(&url, visitor, load, &ready, &started).await })
        })
        .collect();
    let mut report = LoadReport::default();
    for visitor in visitors {
        let (samples, problem) = visitor.await.expect("visitor task panicked");
        report.replied += samples.len();
        report.lost += load.messages - samples.len();
        report
            .reply
            .extend(samples.iter().map(|sample| sample.reply));
        report
            .ack
            .extend(samples.iter().filter_map(|sample| sample.ack));
        report.problems.extend(problem);
    }
    report.elapsed = started.get().map(Instant::elapsed).unwrap_or_default();
    report.reply.sort_unstable();
    report.ack.sort_unstable();
    report
}

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// One visitor: connect, hello, warm up, wait for the others, then `load.messages` timed
/// exchanges. Returns the samples it got and, if it stopped early, why.
async fn visit(
    url: &str,
    visitor: usize,
    load: Load,
    ready: &Barrier,
    started: &OnceLock<Instant>,
) -> (Vec<Sample>, Option<String>) {
    let opened = open(url, visitor).await;
    // Always reach the barrier, even after a failure, or everyone else waits forever.
    ready.wait().await;
    started.get_or_init(Instant::now);
    let mut socket = match opened {
        Ok(socket) => socket,
        Err(problem) => return (Vec::new(), Some(format!("visitor {visitor}: {problem}"))),
    };
    // Spread the first messages over one pause, or they all arrive in the same instant.
    let stagger = load
        .pause
        .mul_f64(visitor as f64 / load.conversations as f64);
    tokio::time::sleep(stagger).await;
    let mut samples = Vec::with_capacity(load.messages);
    for message in 0..load.messages {
        if message > 0 {
            tokio::time::sleep(load.pause.mul_f64(jitter(visitor, message))).await;
        }
        match exchange(&mut socket, visitor, message + 1).await {
            Ok(sample) => samples.push(sample),
            Err(problem) => {
                return (
                    samples,
                    Some(format!("visitor {visitor}, message {message}: {problem}")),
                );
            }
        }
    }
    let _ = socket.close(None).await;
    (samples, None)
}

/// A factor in [0.5, 1.5), fixed per (visitor, message), so visitors do not fall into step.
fn jitter(visitor: usize, message: usize) -> f64 {
    let spread = visitor
        .wrapping_mul(7_919)
        .wrapping_add(message.wrapping_mul(104_729))
        % 1_000;
    0.5 + spread as f64 / 1_000.0
}

/// Connects as a new visitor and sends the untimed warm-up message.
async fn open(url: &str, visitor: usize) -> Result<Socket, String> {
    // No Nagle, as in browsers: the next frame must not wait for the last one's ACK.
    let connecting = connect_async_with_config(url, None, true);
    let (mut socket, _) = tokio::time::timeout(CONNECT_TIMEOUT, connecting)
        .await
        .map_err(|_| format!("no WebSocket within {CONNECT_TIMEOUT:?}"))?
        .map_err(|error| format!("WebSocket refused: {error}"))?;
    let hello = json!({"type": "hello", "visitor_id": null, "last_seen_id": null, "lang": "vi"});
    send(&mut socket, &hello).await?;
    loop {
        let frame = next_frame(&mut socket, Instant::now() + CONNECT_TIMEOUT).await?;
        match frame["type"].as_str() {
            Some("ready") => break,
            Some("error") => return Err(format!("hello refused: {frame}")),
            _ => {}
        }
    }
    exchange(&mut socket, visitor, 0).await?;
    Ok(socket)
}

/// Sends message number `sequence` of `visitor` and waits for the bot's reply.
async fn exchange(socket: &mut Socket, visitor: usize, sequence: usize) -> Result<Sample, String> {
    let (question, answer) = QUESTIONS[(visitor + sequence) % QUESTIONS.len()];
    let client_id = format!("bench-{visitor}-{sequence}");
    let sent = Instant::now();
    let deadline = sent + REPLY_TIMEOUT;
    let frame = json!({"type": "message", "client_id": client_id, "text": question});
    send(socket, &frame).await?;
    let mut ack = None;
    loop {
        let frame = next_frame(socket, deadline).await?;
        match (frame["type"].as_str(), frame["sender"].as_str()) {
            (Some("ack"), _) if frame["client_id"] == client_id.as_str() => {
                ack = Some(sent.elapsed());
            }
            (Some("message"), Some("bot")) => {
                let reply = sent.elapsed();
                let text = frame["content"]["text"].as_str().unwrap_or_default();
                if !text.starts_with(answer) {
                    return Err(format!(
                        "'{question}' was not answered from the FAQ: {frame}"
                    ));
                }
                return Ok(Sample { ack, reply });
            }
            (Some("error"), _) => return Err(format!("error frame: {frame}")),
            // The echo of our own message, typing indicators.
            _ => {}
        }
    }
}

async fn send(socket: &mut Socket, frame: &Value) -> Result<(), String> {
    socket
        .send(Frame::text(frame.to_string()))
        .await
        .map_err(|error| format!("send failed: {error}"))
}

/// The next JSON text frame, or why there is none before `deadline`.
async fn next_frame(socket: &mut Socket, deadline: Instant) -> Result<Value, String> {
    loop {
        let frame = tokio::time::timeout_at(deadline.into(), socket.next())
            .await
            .map_err(|_| "no reply in time".to_owned())?;
        match frame {
            Some(Ok(Frame::Text(text))) => {
                return serde_json::from_str(&text)
                    .map_err(|error| format!("frame is not JSON ({error}): {text}"));
            }
            Some(Ok(Frame::Close(close))) => return Err(format!("socket closed: {close:?}")),
            Some(Ok(_)) => {}
            Some(Err(error)) => return Err(format!("socket failed: {error}")),
            None => return Err("socket ended".to_owned()),
        }
    }
}
