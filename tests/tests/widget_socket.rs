//! The widget channel over a real WebSocket to the real `loa serve` with the demo shop:
//! answers, resume without loss or duplicates, bad input, rate limits, and crashes.

use std::collections::HashMap;
use std::path::Path;

use loa_e2e::serve::Server;
use loa_e2e::widget::{Visitor, text};
use loa_e2e::{finish, loa, workspace_root};
use serde_json::{Value, json};

const COD_QUESTION: &str = "shop có ship COD không?";
/// Replays wait for the crashed host's leases (2 s in these tests) to expire.
const REPLAY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(15);
const COD_ANSWER_START: &str = "Có ạ, Mây giao hàng COD";

/// A data dir with the demo shop applied, and `loa.toml` holding `config`.
fn demo_shop(config: &str) -> tempfile::TempDir {
    let data = tempfile::tempdir().expect("temp dir");
    std::fs::write(data.path().join("loa.toml"), config).expect("write loa.toml");
    finish(
        loa(data.path())
            .arg("--data-dir")
            .arg(data.path())
            .args(["tenant", "apply"])
            .arg(workspace_root().join("samples/demo-shop/shop.toml")),
    )
    .success();
    data
}

/// A new socket to the demo bot.
async fn visit(server: &Server) -> Visitor {
    Visitor::connect(server.base_url(), "may")
        .await
        .expect("the demo bot exists")
}

fn serve(data: &Path) -> Server {
    Server::start(data, std::iter::empty::<&str>())
}

/// Every message frame with an id, by id, failing on an id seen twice.
fn messages_by_id(frames: &[Value]) -> HashMap<i64, Value> {
    let mut by_id = HashMap::new();
    for frame in frames {
        if let Some(id) = frame["id"].as_i64() {
            assert!(
                by_id.insert(id, frame.clone()).is_none(),
                "message {id} delivered twice"
            );
        }
    }
    by_id
}

#[tokio::test]
async fn the_cod_question_gets_the_faq_answer() {
    let data = demo_shop("");
    let server = serve(data.path());
    let mut visitor = visit(&server).await;
    let ready = visitor.hello(None, None).await;
    assert!(
        ready["visitor_id"]
            .as_str()
            .is_some_and(|id| id.starts_with("v_"))
    );
    assert!(text(&json!({"content": {"text": ready["welcome"]}})).starts_with("Chào bạn"));
    visitor.say("c-1", COD_QUESTION).await;
    visitor.next_of_type("ack").await;
    let echo = visitor
        .next_matching("the echo", |frame| frame["sender"] == "contact")
        .await;
    assert_eq!(echo["client_id"], "c-1");
    assert_eq!(text(&echo), COD_QUESTION);
    let reply = visitor.bot_reply().await;
    assert!(text(&reply).starts_with(COD_ANSWER_START), "{reply}");
    assert!(reply["id"].as_i64() > echo["id"].as_i64());
}

#[tokio::test]
async fn an_unknown_question_gets_i_dont_know_and_an_offer_of_a_person_not_a_wrong_answer() {
    let data = demo_shop("");
    let server = serve(data.path());
    let mut visitor = visit(&server).await;
    visitor.hello(None, None).await;
    visitor.say("c-1", "hôm nay trời có mưa không?").await;
    let reply = visitor.bot_reply().await;
    assert!(text(&reply).contains("gặp nhân viên"), "{reply}");
}

#[tokio::test]
async fn an_unknown_bot_is_a_404_json_error() {
    let data = demo_shop("");
    let server = serve(data.path());
    let refused = Visitor::connect(server.base_url(), "no-such-bot")
        .await
        .err()
        .expect("refused");
    assert_eq!(refused.status, 404);
    assert_eq!(refused.body["error"]["code"], "bot_not_found");
}

#[tokio::test]
async fn bad_frames_get_clear_errors_and_the_connection_survives() {
    let data = demo_shop("");
    let server = serve(data.path());
    let mut visitor = visit(&server).await;
    visitor.say("early", "before hello").await;
    assert_eq!(
        visitor.next_of_type("error").await["code"],
        "hello_required"
    );
    visitor.hello(None, None).await;
    let cases: Vec<(&str, String)> = vec![
        ("not_json", "this is not json".into()),
        ("unknown_type", json!({"type": "dance"}).to_string()),
        (
            "bad_frame",
            json!({"type": "message", "text": "no client id"}).to_string(),
        ),
        (
            "bad_frame",
            json!({"type": "message", "client_id": "a/b", "text": "x"}).to_string(),
        ),
        (
            "empty_message",
            json!({"type": "message", "client_id": "e", "text": "   "}).to_string(),
        ),
        (
            "text_too_long",
            json!({"type": "message", "client_id": "l", "text": "ạ".repeat(4001)}).to_string(),
        ),
    ];
    for (code, frame) in cases {
        visitor.send_raw(frame).await;
        let error = visitor.next_of_type("error").await;
        assert_eq!(error["code"], code, "{error}");
        assert!(error["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    visitor.send_binary(vec![0, 159, 146, 150]).await;
    assert_eq!(visitor.next_of_type("error").await["code"], "bad_frame");
    // 4,000 characters is still fine, and the socket still works.
    visitor.say("ok", &"ạ".repeat(4000)).await;
    assert_eq!(visitor.next_of_type("ack").await["client_id"], "ok");
    visitor.bot_reply().await;
}

#[tokio::test]
async fn a_visitor_over_the_rate_limit_is_told_to_wait_and_keeps_the_connection() {
    let data = demo_shop("[widget]\nmessages_per_second = 1\nburst = 2\n");
    let server = serve(data.path());
    let mut visitor = visit(&server).await;
    visitor.hello(None, None).await;
    for index in 0..4 {
        visitor.say(&format!("m{index}"), COD_QUESTION).await;
    }
    let limited = visitor
        .next_matching("rate_limited", |frame| frame["code"] == "rate_limited")
        .await;
    assert!(limited["retry_after_ms"].as_u64().is_some_and(|ms| ms > 0));
    assert!(limited["client_id"].as_str().is_some());
    visitor.send(json!({"type": "ping"})).await;
    visitor.next_of_type("pong").await;
}

#[tokio::test]
async fn a_resent_message_is_stored_and_answered_once() {
    let data = demo_shop("");
    let server = serve(data.path());
    let mut visitor = visit(&server).await;
    let ready = visitor.hello(None, None).await;
    let visitor_id = ready["visitor_id"].as_str().expect("visitor id").to_owned();
    visitor.say("same", COD_QUESTION).await;
    visitor.next_of_type("ack").await;
    visitor.bot_reply().await;
    // The widget lost the ack and resends after reconnecting.
    let mut again = visit(&server).await;
    again.hello(Some(&visitor_id), None).await;
    again.say("same", COD_QUESTION).await;
    again.next_of_type("ack").await;
    let mut fresh = visit(&server).await;
    let history = fresh.hello(Some(&visitor_id), None).await;
    let senders: Vec<&str> = history["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .map(|message| message["sender"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(senders, ["contact", "bot"]);
}

#[tokio::test]
async fn a_reconnecting_visitor_gets_what_it_missed_exactly_once() {
    let data = demo_shop("");
    let server = serve(data.path());
    let mut visitor = visit(&server).await;
    let ready = visitor.hello(None, None).await;
    let visitor_id = ready["visitor_id"].as_str().expect("visitor id").to_owned();
    visitor.say("q1", COD_QUESTION).await;
    let first = visitor.bot_reply().await;
    let last_seen = first["id"].as_i64().expect("id");
    // The lid closes right after the second question leaves: its answer is missed.
    visitor.say("q2", "Đặt hàng bao lâu thì nhận được?").await;
    visitor.next_of_type("ack").await;
    drop(visitor);
    let mut back = visit(&server).await;
    let mut ready = back.hello(Some(&visitor_id), Some(last_seen)).await;
    let mut frames: Vec<Value> = ready["messages"].as_array().cloned().unwrap_or_default();
    // The question may not be stored yet and the answer may still be on its way: then
    // they arrive live, not in `ready` (every message frame counts, not only the bot's).
    while !frames.iter().any(|frame| frame["sender"] == "bot") {
        frames.push(back.next_of_type("message").await);
    }
    let by_id = messages_by_id(&frames);
    assert!(by_id.keys().all(|&id| id > last_seen), "{frames:#?}");
    assert_eq!(by_id.len(), 2, "the question and its answer: {frames:#?}");
    // A second resume from the newest id has nothing new.
    let newest = by_id.keys().max().copied();
    let mut again = visit(&server).await;
    ready = again.hello(Some(&visitor_id), newest).await;
    assert_eq!(ready["messages"], json!([]));
}

/// Sends `count` questions from each of `visitors` visitors, returning their ids.
async fn send_questions(server: &Server, visitors: usize, count: usize) -> Vec<String> {
    let mut ids = Vec::new();
    for _ in 0..visitors {
        let mut visitor = visit(server).await;
        let ready = visitor.hello(None, None).await;
        for index in 0..count {
            visitor.say(&format!("q{index}"), COD_QUESTION).await;
            visitor.next_of_type("ack").await;
        }
        ids.push(ready["visitor_id"].as_str().expect("visitor id").to_owned());
    }
    ids
}

/// Waits until each visitor's history holds `count` questions and `count` answers, and
/// checks none is there twice.
async fn assert_all_answered_once(server: &Server, visitors: &[String], count: usize) {
    for visitor_id in visitors {
        let mut visitor = visit(server).await;
        let ready = visitor.hello(Some(visitor_id), None).await;
        let mut frames: Vec<Value> = ready["messages"].as_array().cloned().unwrap_or_default();
        let answers = |frames: &[Value]| frames.iter().filter(|f| f["sender"] == "bot").count();
        let waited = tokio::time::timeout(REPLAY_TIMEOUT, async {
            while answers(&frames) < count {
                frames.push(visitor.bot_reply().await);
            }
        })
        .await;
        assert!(
            waited.is_ok(),
            "{visitor_id} got {} of {count} answers: {frames:#?}\nserver log:\n{}",
            answers(&frames),
            server.stderr()
        );
        frames.extend(
            visitor
                .seen
                .iter()
                .filter(|f| f["type"] == "message" && f["sender"] == "contact")
                .cloned(),
        );
        let by_id = messages_by_id(&frames);
        let mut client_ids: Vec<&str> = by_id
            .values()
            .filter_map(|frame| frame["client_id"].as_str())
            .collect();
        client_ids.sort_unstable();
        let expected: Vec<String> = (0..count).map(|index| format!("q{index}")).collect();
        assert_eq!(
            client_ids, expected,
            "each question stored once: {frames:#?}"
        );
        assert_eq!(
            answers(&frames),
            count,
            "each question answered once: {frames:#?}"
        );
    }
}

#[tokio::test]
async fn a_crash_after_the_acks_loses_nothing_and_answers_nothing_twice() {
    // Short leases: what the crashed host held is replayed after 2 s, not 15.
    let data = demo_shop("[pipeline]\nworkers = 1\nlease_secs = 2\n[delivery]\nlease_secs = 2\n");
    let mut server = serve(data.path());
    let visitors = send_questions(&server, 3, 5).await;
    // Acked means durable: kill -9 now, with most turns still queued.
    server.crash();
    let restarted = serve(data.path());
    assert_all_answered_once(&restarted, &visitors, 5).await;
}

#[tokio::test]
async fn sigterm_drains_acknowledged_messages_before_exiting() {
    let data = demo_shop("");
    let mut server = serve(data.path());
    let visitors = send_questions(&server, 2, 3).await;
    assert!(
        server.stop(),
        "loa serve exits 0 on SIGTERM:\n{}",
        server.stderr()
    );
    let restarted = serve(data.path());
    assert_all_answered_once(&restarted, &visitors, 3).await;
}

#[tokio::test]
async fn health_settings_and_webhooks_answer_in_json() {
    use loa_e2e::http::request;
    let data = demo_shop("");
    let server = serve(data.path());
    let base = server.base_url();
    let (status, health) = request("GET", &format!("{base}/healthz"), "").await;
    assert_eq!((status, health["status"].as_str()), (200, Some("ok")));
    let (status, ready) = request("GET", &format!("{base}/readyz"), "").await;
    assert_eq!(status, 200);
    assert_eq!(ready["queues"]["inbox"], 0);
    let (status, settings) = request("GET", &format!("{base}/v1/widget/may"), "").await;
    assert_eq!(status, 200);
    assert_eq!(settings["title"], "Thời Trang Mây");
    assert_eq!(settings["max_text_chars"], 4000);
    let (status, error) = request("GET", &format!("{base}/v1/widget/nope"), "").await;
    assert_eq!(
        (status, error["error"]["code"].as_str()),
        (404, Some("bot_not_found"))
    );
    // Webhooks go to channel plugins; an unknown channel and the widget channel are 404.
    for channel in ["no-such-channel", "widget-may"] {
        let (status, error) = request("POST", &format!("{base}/v1/hooks/{channel}"), "{}").await;
        assert_eq!(status, 404, "{channel}: {error}");
        assert_eq!(error["error"]["code"], "channel_not_found");
    }
    let oversized = "x".repeat(2 * 1024 * 1024);
    let (status, error) = request(
        "POST",
        &format!("{base}/v1/hooks/no-such-channel"),
        &oversized,
    )
    .await;
    assert_eq!(status, 413, "{error}");
    assert_eq!(error["error"]["code"], "bad_body");
}
