//! An open-loop load generator for channel webhooks: signed Telegram updates, Messenger
//! events and Zalo OA events posted over real loopback HTTP at a fixed rate, retried like a provider retries.
//!
//! **Open loop.** Each post has a time on a schedule fixed before the run (`i / rate`
//! seconds after the start); it is queued at that time whether or not earlier posts were
//! answered, and its latency is measured *from that scheduled time*, not from when a
//! connection was free to send it. A server that stalls for 100 ms therefore shows 100 ms
//! of latency on every post scheduled meanwhile, instead of one slow post and a quiet
//! pause (the "coordinated omission" of closed-loop generators).
//!
//! **Like a provider.** A post answered with anything but 2xx, or not answered at all
//! (connection refused or reset while the server is down, a timeout), is tried again after
//! a short backoff with jitter, until it is acknowledged or its deadline passes. The
//! target's base URL may change between attempts ([`Target::set_base_url`]), so a test
//! can restart the server on another port and the retries follow it. A body may be made
//! when its webhook is first posted ([`Webhook::body_at_first_post`]: a Telegram message
//! takes its id when the customer sends it); retries and resends then send those bytes.
//!
//! **Connections.** A handful of keep-alive HTTP/1.1 connections (`connections` in
//! [`LoadConfig`]), each owned by one sender task that takes the next due post from a
//! shared queue; a broken connection is replaced at the next attempt.
//!
//! Webhooks are signed the way the providers document it, independently of the plugins'
//! code: Telegram's `X-Telegram-Bot-Api-Secret-Token` header (the `secret_token` given to
//! `setWebhook`), Meta's `X-Hub-Signature-256` (`sha256=` + hex HMAC-SHA256 of the body
//! with the app secret), Zalo's `X-ZEvent-Signature` (`mac=` + hex SHA-256 of app id, body,
//! the body's timestamp and the OA secret key).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::{Duration, Instant};

use bytes::Bytes;
use hmac::{Hmac, Mac};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1;
use hyper_util::rt::TokioIo;
use serde_json::json;
use sha2::{Digest, Sha256};
use tokio::net::TcpStream;
use tokio::sync::{Notify, mpsc};
use tokio::task::JoinSet;

/// One HTTP request a provider would send: `POST path` with these headers and body.
#[derive(Clone)]
pub struct Webhook {
    /// `/v1/hooks/<channel>`.
    pub path: String,
    /// Header names and values, as sent.
    pub headers: Vec<(String, String)>,
    /// The raw body (the signature covers exactly these bytes); not sent when the body is
    /// made at the first post ([`Webhook::body_at_first_post`]).
    pub body: Bytes,
    /// Makes the body when the webhook is first posted; shared by the webhook's clones.
    at_first_post: Option<Arc<BodyAtFirstPost>>,
}

/// A body made when its webhook is first posted, then kept for every later post of it.
struct BodyAtFirstPost {
    make: Box<dyn Fn() -> Bytes + Send + Sync>,
    made: OnceLock<Bytes>,
}

impl std::fmt::Debug for Webhook {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let made = self.at_first_post.as_ref().map(|body| body.made.get());
        formatter
            .debug_struct("Webhook")
            .field("path", &self.path)
            .field("headers", &self.headers)
            .field("body", &self.body)
            .field("made_at_first_post", &made)
            .finish()
    }
}

impl Webhook {
    /// Posts the body `make` returns when the webhook is first posted instead of
    /// [`Webhook::body`]: what it carries is decided when the provider sends it (a Telegram
    /// message's id is the bot's next one at that moment). Every later post of it, a retry
    /// or a provider's resend (the same webhook, or a clone of it), sends the very same
    /// bytes. Only for webhooks whose headers do not depend on the body: a signature over
    /// `body` would not cover what is made.
    pub fn body_at_first_post(mut self, make: impl Fn() -> Bytes + Send + Sync + 'static) -> Self {
        self.at_first_post = Some(Arc::new(BodyAtFirstPost {
            make: Box::new(make),
            made: OnceLock::new(),
        }));
        self
    }

    /// The bytes to post: [`Webhook::body`], or the body made at the first post (made now
    /// when this is it).
    fn body_to_post(&self) -> Bytes {
        match &self.at_first_post {
            Some(body) => body.made.get_or_init(|| (body.make)()).clone(),
            None => self.body.clone(),
        }
    }
}

/// Telegram's update `update_id`: a text message from private chat `chat` saying `text`,
/// posted to channel `channel` with the webhook's `secret_token` in its header.
pub fn telegram_update(
    channel: &str,
    secret: &str,
    update_id: i64,
    chat: i64,
    text: &str,
) -> Webhook {
    Webhook {
        path: format!("/v1/hooks/{channel}"),
        headers: vec![
            ("content-type".into(), "application/json".into()),
            ("x-telegram-bot-api-secret-token".into(), secret.into()),
        ],
        body: telegram_text_update(update_id, update_id, chat, text),
        at_first_post: None,
    }
}

/// Like [`telegram_update`], but the message's `message_id` is `number()` when the update
/// is first posted, as Telegram numbers a message when the customer sends it (one counter
/// for all of a bot's private chats, e.g. [`crate::stubs::telegram::TelegramApi::numbering`]).
pub fn telegram_update_numbered_by(
    channel: &str,
    secret: &str,
    update_id: i64,
    chat: i64,
    text: &str,
    number: impl Fn() -> i64 + Send + Sync + 'static,
) -> Webhook {
    let text = text.to_owned();
    telegram_update(channel, secret, update_id, chat, &text)
        .body_at_first_post(move || telegram_text_update(update_id, number(), chat, &text))
}

/// The JSON of Telegram's update `update_id`: text message `message_id` from private chat
/// `chat` saying `text`.
fn telegram_text_update(update_id: i64, message_id: i64, chat: i64, text: &str) -> Bytes {
    let update = json!({
        "update_id": update_id,
        "message": {
            "message_id": message_id,
            "from": {"id": chat, "is_bot": false, "first_name": "Lan", "language_code": "vi"},
            "chat": {"id": chat, "type": "private", "first_name": "Lan"},
            "date": 1_760_000_000,
            "text": text
        }
    });
    Bytes::from(update.to_string())
}

/// A page webhook with one text message `mid` from `psid` to page `page_id`, posted to
/// channel `channel` and signed with `app_secret` as Meta signs it.
pub fn messenger_message(
    channel: &str,
    app_secret: &str,
    page_id: &str,
    psid: &str,
    mid: &str,
    text: &str,
) -> Webhook {
    let timestamp = 1_760_000_000_000_u64;
    let body = json!({
        "object": "page",
        "entry": [{
            "id": page_id,
            "time": timestamp,
            "messaging": [{
                "sender": {"id": psid},
                "recipient": {"id": page_id},
                "timestamp": timestamp,
                "message": {"mid": mid, "text": text}
            }]
        }]
    })
    .to_string();
    let signature = hub_signature(app_secret, body.as_bytes());
    Webhook {
        path: format!("/v1/hooks/{channel}"),
        headers: vec![
            ("content-type".into(), "application/json".into()),
            ("x-hub-signature-256".into(), signature),
        ],
        body: Bytes::from(body),
        at_first_post: None,
    }
}

/// Zalo's `user_send_text` event `msg_id` from `user` to OA `oa_id` of app `app_id`, posted
/// to channel `channel` and signed with the OA secret key as Zalo signs it.
pub fn zalo_text(
    channel: &str,
    (app_id, oa_secret_key): (&str, &str),
    oa_id: &str,
    user: &str,
    msg_id: &str,
    text: &str,
) -> Webhook {
    let timestamp = "1760000000000";
    let body = json!({
        "app_id": app_id,
        "user_id_by_app": format!("app-{user}"),
        "event_name": "user_send_text",
        "timestamp": timestamp,
        "sender": {"id": user},
        "recipient": {"id": oa_id},
        "message": {"msg_id": msg_id, "text": text}
    })
    .to_string();
    let digest = Sha256::digest(format!("{app_id}{body}{timestamp}{oa_secret_key}").as_bytes());
    Webhook {
        path: format!("/v1/hooks/{channel}"),
        headers: vec![
            ("content-type".into(), "application/json".into()),
            ("x-zevent-signature".into(), format!("mac={}", hex(&digest))),
        ],
        body: Bytes::from(body),
        at_first_post: None,
    }
}

/// Lowercase hex of `bytes`.
fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// `sha256=` + lowercase hex HMAC-SHA256 of `body` keyed with `secret`: Meta's
/// `X-Hub-Signature-256`.
pub fn hub_signature(secret: &str, body: &[u8]) -> String {
    let mut mac = <Hmac<Sha256>>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(body);
    format!("sha256={}", hex(&mac.finalize().into_bytes()))
}

/// One post of the run: `webhook`, which carries distinct event `event`. A provider's
/// resend is a second post with the same `event` (and the same bytes, even when they are
/// made at the first post).
#[derive(Debug, Clone)]
pub struct Post {
    /// The distinct event it carries (an index into the caller's own list).
    pub event: usize,
    /// What is sent.
    pub webhook: Arc<Webhook>,
}

/// The posts for `webhooks` (event `i` is `webhooks[i]`), each `resend_every`-th also
/// posted a second time `resend_lag` posts later, as a provider resends an event it is
/// unsure about. `resend_every == 0` resends none.
pub fn with_resends(webhooks: Vec<Webhook>, resend_every: usize, resend_lag: usize) -> Vec<Post> {
    let webhooks: Vec<Arc<Webhook>> = webhooks.into_iter().map(Arc::new).collect();
    let mut posts: Vec<Post> = webhooks
        .iter()
        .enumerate()
        .map(|(event, webhook)| Post {
            event,
            webhook: Arc::clone(webhook),
        })
        .collect();
    if resend_every == 0 {
        return posts;
    }
    // Inserted from the back so earlier positions stay valid.
    let resent: Vec<usize> = (0..webhooks.len()).step_by(resend_every).collect();
    for &event in resent.iter().rev() {
        let at = (event + 1 + resend_lag).min(posts.len());
        posts.insert(
            at,
            Post {
                event,
                webhook: Arc::clone(&webhooks[event]),
            },
        );
    }
    posts
}

/// Where the posts go; the base URL can be changed while the load runs.
#[derive(Debug, Clone)]
pub struct Target {
    base_url: Arc<RwLock<String>>,
}

impl Target {
    /// Posts to `base_url` (`http://127.0.0.1:PORT`).
    pub fn new(base_url: &str) -> Self {
        Self {
            base_url: Arc::new(RwLock::new(base_url.trim_end_matches('/').to_owned())),
        }
    }

    /// From the next attempt on, posts go to `base_url` (a restarted server's).
    pub fn set_base_url(&self, base_url: &str) {
        *self.base_url.write().unwrap_or_else(|p| p.into_inner()) =
            base_url.trim_end_matches('/').to_owned();
    }

    /// `host:port` of the current base URL.
    fn authority(&self) -> String {
        let url = self.base_url.read().unwrap_or_else(|p| p.into_inner());
        url.strip_prefix("http://").unwrap_or(&url).to_owned()
    }
}

/// How the load runs.
#[derive(Debug, Clone)]
pub struct LoadConfig {
    /// Posts per second, on a fixed schedule.
    pub rate_per_sec: f64,
    /// Keep-alive connections, each sending one request at a time. Default 8: a handful,
    /// as a provider keeps to one host.
    pub connections: usize,
    /// Wait before the first retry; doubles each failed attempt. Default 50 ms.
    pub retry_first: Duration,
    /// Longest wait between retries. Default 1 s: a restarted server is found within a
    /// second of it listening.
    pub retry_max: Duration,
    /// A post not acknowledged this long after its scheduled time is given up. Default 60 s.
    pub deadline: Duration,
    /// One attempt waits this long for an answer. Default 10 s.
    pub request_timeout: Duration,
}

impl LoadConfig {
    /// `rate_per_sec` posts per second, the other settings at their defaults.
    pub fn at_rate(rate_per_sec: f64) -> Self {
        Self {
            rate_per_sec,
            connections: 8,
            retry_first: Duration::from_millis(50),
            retry_max: Duration::from_secs(1),
            deadline: Duration::from_secs(60),
            request_timeout: Duration::from_secs(10),
        }
    }
}

/// What happened to one post.
#[derive(Debug, Clone)]
pub struct PostRecord {
    /// The distinct event it carries.
    pub event: usize,
    /// Its scheduled time, from the start of the run.
    pub scheduled: Duration,
    /// Whether it was acknowledged (2xx) before its deadline.
    pub acked: bool,
    /// Attempts made (1 when the first was acknowledged).
    pub attempts: u32,
    /// Latency of the acknowledging attempt, from that attempt's scheduled time (the
    /// post's own for the first attempt, the end of the backoff for a retry) to the
    /// whole answer.
    pub ack_latency: Option<Duration>,
    /// From the post's scheduled time to its acknowledgement, retries included.
    pub time_to_ack: Option<Duration>,
    /// Why the last failed attempt failed (`HTTP 503`, `connect: …`).
    pub last_failure: Option<String>,
}

/// The outcome of a run.
#[derive(Debug, Clone)]
pub struct Report {
    /// One record per post, in schedule order.
    pub posts: Vec<PostRecord>,
    /// From the first scheduled post to the last acknowledgement (or give-up).
    pub duration: Duration,
}

impl Report {
    /// Posts acknowledged.
    pub fn acked(&self) -> usize {
        self.posts.iter().filter(|post| post.acked).count()
    }

    /// Attempts beyond each post's first: what the "provider" had to send again.
    pub fn resends(&self) -> u64 {
        self.posts
            .iter()
            .map(|post| u64::from(post.attempts.saturating_sub(1)))
            .sum()
    }

    /// Failed attempts (non-2xx answers, transport errors, timeouts): the resends, plus
    /// the last attempt of every post that was never acknowledged.
    pub fn errors(&self) -> u64 {
        self.resends() + self.posts.iter().filter(|post| !post.acked).count() as u64
    }

    /// Why posts had to be sent again: each retried post's last failure, counted.
    pub fn failure_reasons(&self) -> std::collections::BTreeMap<String, usize> {
        let mut reasons = std::collections::BTreeMap::new();
        for failure in self
            .posts
            .iter()
            .filter_map(|post| post.last_failure.as_ref())
        {
            *reasons.entry(failure.clone()).or_default() += 1;
        }
        reasons
    }

    /// Acknowledging attempts' latencies, sorted.
    pub fn ack_latencies(&self) -> Vec<Duration> {
        let mut latencies: Vec<Duration> = self
            .posts
            .iter()
            .filter_map(|post| post.ack_latency)
            .collect();
        latencies.sort_unstable();
        latencies
    }

    /// Posts acknowledged per second over the run.
    pub fn throughput(&self) -> f64 {
        self.acked() as f64 / self.duration.as_secs_f64().max(f64::EPSILON)
    }
}

/// The `quantile` (0 to 1) of `sorted` latencies, nearest rank; zero when there are none.
pub fn percentile(sorted: &[Duration], quantile: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = (quantile * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// One attempt waiting in the queue.
struct Attempt {
    post: usize,
    number: u32,
    due: Instant,
}

/// What the run shares between the scheduler, the senders and the retry timers.
struct Run {
    posts: Vec<Post>,
    config: LoadConfig,
    target: Target,
    started: Instant,
    records: Mutex<Vec<PostRecord>>,
    remaining: AtomicUsize,
    finished: Notify,
    queue: mpsc::UnboundedSender<Attempt>,
}

/// Posts `posts` to `target` on the open-loop schedule of `config` and returns what
/// happened to each, once every post is acknowledged or given up.
pub async fn run(target: &Target, posts: Vec<Post>, config: LoadConfig) -> Report {
    assert!(config.rate_per_sec > 0.0, "a rate above zero");
    let records = posts
        .iter()
        .enumerate()
        .map(|(index, post)| PostRecord {
            event: post.event,
            scheduled: Duration::from_secs_f64(index as f64 / config.rate_per_sec),
            acked: false,
            attempts: 0,
            ack_latency: None,
            time_to_ack: None,
            last_failure: None,
        })
        .collect();
    let (queue, receiver) = mpsc::unbounded_channel();
    let receiver = Arc::new(tokio::sync::Mutex::new(receiver));
    let total = posts.len();
    let run = Arc::new(Run {
        posts,
        config,
        target: target.clone(),
        started: Instant::now(),
        records: Mutex::new(records),
        remaining: AtomicUsize::new(total),
        finished: Notify::new(),
        queue,
    });
    let mut tasks = JoinSet::new();
    for _ in 0..run.config.connections.max(1) {
        tasks.spawn(send_loop(Arc::clone(&run), Arc::clone(&receiver)));
    }
    let scheduled = Arc::clone(&run);
    tasks.spawn_blocking(move || schedule(&scheduled));
    loop {
        let finished = run.finished.notified();
        if run.remaining.load(Ordering::Acquire) == 0 {
            break;
        }
        finished.await;
    }
    tasks.shutdown().await;
    let records = run
        .records
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone();
    let duration = records
        .iter()
        .filter_map(|record| record.time_to_ack.map(|to_ack| record.scheduled + to_ack))
        .max()
        .unwrap_or_default();
    Report {
        posts: records,
        duration,
    }
}

/// Queues each post at its scheduled time, catching up at once when behind. On a thread of
/// its own, with the OS's sleep: tokio's timer ticks in whole milliseconds, so at 2,000/s
/// it sent each post up to 1 ms late, and that wait counted as the host's latency.
fn schedule(run: &Run) {
    for next in 0..run.posts.len() {
        let due = run.started + scheduled_offset(next, run.config.rate_per_sec);
        let wait = due.saturating_duration_since(Instant::now());
        if !wait.is_zero() {
            std::thread::sleep(wait);
        }
        let _ = run.queue.send(Attempt {
            post: next,
            number: 1,
            due,
        });
    }
}

fn scheduled_offset(index: usize, rate_per_sec: f64) -> Duration {
    Duration::from_secs_f64(index as f64 / rate_per_sec)
}

/// One connection's sender: takes due attempts off the queue and sends them in turn.
async fn send_loop(
    run: Arc<Run>,
    receiver: Arc<tokio::sync::Mutex<mpsc::UnboundedReceiver<Attempt>>>,
) {
    let mut connection: Option<Connection> = None;
    loop {
        let Some(attempt) = receiver.lock().await.recv().await else {
            return;
        };
        let post = &run.posts[attempt.post];
        let outcome = tokio::time::timeout(
            run.config.request_timeout,
            send(&run.target, &mut connection, &post.webhook),
        )
        .await
        .unwrap_or_else(|_| Err("no answer within the request timeout".to_owned()));
        let answered = Instant::now();
        if outcome.is_err() {
            // A reset, a timeout or an error status may leave the connection unusable.
            connection = None;
        }
        settle(&run, attempt, outcome, answered);
    }
}

/// Records an attempt's outcome; queues a retry after a failure unless the deadline passed.
fn settle(run: &Arc<Run>, attempt: Attempt, outcome: Result<(), String>, answered: Instant) {
    let scheduled = run.started + scheduled_offset(attempt.post, run.config.rate_per_sec);
    let mut records = run.records.lock().unwrap_or_else(|p| p.into_inner());
    let record = &mut records[attempt.post];
    record.attempts = attempt.number;
    match outcome {
        Ok(()) => {
            record.acked = true;
            record.ack_latency = Some(answered.saturating_duration_since(attempt.due));
            record.time_to_ack = Some(answered.saturating_duration_since(scheduled));
        }
        Err(failure) => {
            record.last_failure = Some(failure);
            let backoff = backoff(&run.config, attempt.post, attempt.number);
            let due = Instant::now() + backoff;
            if due < scheduled + run.config.deadline {
                drop(records);
                let run = Arc::clone(run);
                let retry = Attempt {
                    post: attempt.post,
                    number: attempt.number + 1,
                    due,
                };
                tokio::spawn(async move {
                    tokio::time::sleep_until(due.into()).await;
                    let _ = run.queue.send(retry);
                });
                return;
            }
        }
    }
    drop(records);
    if run.remaining.fetch_sub(1, Ordering::AcqRel) == 1 {
        run.finished.notify_one();
    }
}

/// `retry_first` doubled per failed attempt up to `retry_max`, plus up to 25% jitter so
/// the posts a dead server refused do not all come back in the same millisecond.
fn backoff(config: &LoadConfig, post: usize, attempt: u32) -> Duration {
    let doubled = config
        .retry_first
        .saturating_mul(1 << attempt.saturating_sub(1).min(16))
        .min(config.retry_max);
    // Knuth's multiplicative hash of (post, attempt): cheap, deterministic, well spread.
    let seed = (post as u64)
        .wrapping_mul(31)
        .wrapping_add(u64::from(attempt));
    let spread = seed.wrapping_mul(2_654_435_761) % 1000;
    doubled + doubled / 4 * u32::try_from(spread).unwrap_or(0) / 1000
}

/// A keep-alive connection to one authority.
struct Connection {
    authority: String,
    sender: http1::SendRequest<Full<Bytes>>,
}

/// Sends `webhook` on `connection` (opened, or reopened to the target's current address,
/// as needed); `Ok` when it was answered 2xx.
async fn send(
    target: &Target,
    connection: &mut Option<Connection>,
    webhook: &Webhook,
) -> Result<(), String> {
    let authority = target.authority();
    let reusable = connection
        .as_ref()
        .is_some_and(|open| open.authority == authority && !open.sender.is_closed());
    if !reusable {
        *connection = Some(connect(&authority).await?);
    }
    let open = connection.as_mut().expect("just opened");
    open.sender
        .ready()
        .await
        .map_err(|error| format!("connection: {error}"))?;
    let mut request = hyper::Request::post(webhook.path.as_str()).header("host", &authority);
    for (name, value) in &webhook.headers {
        request = request.header(name, value);
    }
    let request = request
        .body(Full::new(webhook.body_to_post()))
        .map_err(|error| format!("request: {error}"))?;
    let response = open
        .sender
        .send_request(request)
        .await
        .map_err(|error| format!("send: {error}"))?;
    let status = response.status();
    // The whole answer: the connection is reusable only once the body is read.
    response
        .into_body()
        .collect()
        .await
        .map_err(|error| format!("answer body: {error}"))?;
    if status.is_success() {
        Ok(())
    } else {
        Err(format!("HTTP {}", status.as_u16()))
    }
}

async fn connect(authority: &str) -> Result<Connection, String> {
    let stream = TcpStream::connect(authority)
        .await
        .map_err(|error| format!("connect: {error}"))?;
    // Small requests answered at once: Nagle's algorithm would only add delay.
    let _ = stream.set_nodelay(true);
    let (sender, driver) = http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|error| format!("handshake: {error}"))?;
    tokio::spawn(async move {
        // Ends when the server goes away or the sender is dropped; either is expected.
        let _ = driver.await;
    });
    Ok(Connection {
        authority: authority.to_owned(),
        sender,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resends_follow_their_event_and_keep_every_event() {
        let webhooks: Vec<Webhook> = (0..10)
            .map(|index| telegram_update("tg", "s", index, index, "hi"))
            .collect();
        let posts = with_resends(webhooks, 4, 2);
        let events: Vec<usize> = posts.iter().map(|post| post.event).collect();
        assert_eq!(events, vec![0, 1, 2, 0, 3, 4, 5, 6, 4, 7, 8, 9, 8]);
    }

    #[tokio::test]
    async fn a_body_made_at_the_first_post_is_sent_again_by_retries_and_resends() {
        let received = Arc::new(Mutex::new(Vec::<Bytes>::new()));
        let server = crate::stubs::StubServer::start({
            let received = Arc::clone(&received);
            move |request: hyper::Request<hyper::body::Incoming>| {
                let received = Arc::clone(&received);
                async move {
                    let body = request.into_body().collect().await.expect("a body");
                    let mut received = received.lock().expect("not poisoned");
                    received.push(body.to_bytes());
                    // The first attempt fails: the post is retried.
                    let status = if received.len() == 1 { 503 } else { 200 };
                    crate::stubs::json_response(status, "{}".into())
                }
            }
        })
        .await;
        let made = Arc::new(AtomicUsize::new(0));
        let numbered = {
            let made = Arc::clone(&made);
            telegram_update_numbered_by("tg", "s", 1, 7, "hi", move || {
                i64::try_from(made.fetch_add(1, Ordering::SeqCst)).expect("small") + 500
            })
        };
        assert_eq!(made.load(Ordering::SeqCst), 0, "made when built");
        let posts = with_resends(vec![numbered], 1, 0);
        let target = Target::new(&format!("http://{}", server.address));
        let report = run(&target, posts, LoadConfig::at_rate(100.0)).await;

        assert_eq!(report.acked(), 2, "{report:#?}");
        assert_eq!(made.load(Ordering::SeqCst), 1, "made once");
        let received = received.lock().expect("not poisoned").clone();
        assert_eq!(
            received.len(),
            3,
            "a failed first post, its retry, the resend"
        );
        assert!(received.iter().all(|body| *body == received[0]));
        let update: serde_json::Value = serde_json::from_slice(&received[0]).expect("JSON");
        assert_eq!(update["message"]["message_id"], 500);
        assert_eq!(update["update_id"], 1);
    }

    #[test]
    fn the_signature_is_meta_s_documented_hmac() {
        // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
        assert_eq!(
            hub_signature("Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let sorted: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(percentile(&sorted, 0.5), Duration::from_millis(50));
        assert_eq!(percentile(&sorted, 0.99), Duration::from_millis(99));
        assert_eq!(percentile(&sorted, 1.0), Duration::from_millis(100));
        assert_eq!(percentile(&[], 0.99), Duration::ZERO);
    }

    #[test]
    fn backoff_doubles_up_to_the_cap_with_bounded_jitter() {
        let config = LoadConfig::at_rate(1.0);
        for post in 0..100 {
            let first = backoff(&config, post, 1);
            assert!(first >= Duration::from_millis(50) && first <= Duration::from_micros(62_500));
            let late = backoff(&config, post, 12);
            assert!(late >= Duration::from_secs(1) && late <= Duration::from_millis(1250));
        }
    }
}
