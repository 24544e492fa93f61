//! The `messenger` channel plugin against the real `loa serve` and a stub of the Graph
//! API's Send API on loopback: Meta's handshake, signed webhooks answered from the demo
//! shop's FAQ and delivered to the right PSID, Facebook's resends dropped, forged and
//! foreign bodies refused with nothing stored, quick replies and postbacks, rate limits and
//! outages retried into exactly one reply, a reply outside the 24-hour window given up at
//! once, a long answer split into parts that arrive in order, once each, and a reply whose
//! send a `kill -9` interrupted looked up in the Page's conversation (the Conversations
//! API) after the restart: found and not sent again when Meta took it, sent once when not
//! (`messenger_channel/crash.rs`).
//!
//! Webhooks are signed here the way Meta documents it (HMAC-SHA256 of the body with the
//! app secret), never with the plugin's code.

use std::time::{Duration, Instant};

use hmac::{Hmac, Mac};
use loa_e2e::accounts::{DEMO_OWNER, call, demo_shop_with_owner, login};
use loa_e2e::channels;
use loa_e2e::http::{Answer, send};
use loa_e2e::serve::Server;
use loa_e2e::stubs::messenger::{Fault, GraphApi, Recorded};
use loa_e2e::{finish, loa, workspace_root};
use serde_json::{Value, json};
use sha2::Sha256;

const CHANNEL: &str = "fb-may";
const PAGE_ID: &str = "1029384756";
const PAGE_TOKEN: &str = "EAAGtestpagetoken";
const APP_SECRET: &str = "e2e-app-secret";
const VERIFY_TOKEN: &str = "may-verify-2024";
/// Waiting for a reply on a busy 2-core machine: a turn, an outbox poll, a plugin call.
const REPLY_TIMEOUT: Duration = Duration::from_secs(20);
/// Long enough for the dispatcher to have retried several times with the test's backoff.
const SETTLE: Duration = Duration::from_secs(3);

/// Plugins on loopback, and deliveries polled and retried fast: 200 ms, 400 ms, 800 ms …
const HOST_CONFIG: &str = "\n[plugins]\nallow_private_network = true\n\n\
    [delivery]\npoll_ms = 50\n\n\
    [delivery.retry]\nmax_attempts = 6\nbase_delay_ms = 200\nmax_delay_ms = 1000\n";

/// The demo shop with a Messenger channel for bot `may` whose Graph API is the stub.
struct Page {
    data: tempfile::TempDir,
    server: Server,
    token: String,
    graph: GraphApi,
}

impl Page {
    async fn start() -> Page {
        Page::start_with(HOST_CONFIG).await
    }

    /// [`Page::start`] with this host configuration.
    async fn start_with(host_config: &str) -> Page {
        let (data, password) = demo_shop_with_owner(host_config);
        let plugin = channels::plugin_for_loopback(data.path(), "messenger");
        finish(loa(data.path()).args(["plugin", "install"]).arg(plugin)).success();
        let server = Server::start(data.path(), std::iter::empty::<&str>());
        let token = login(server.base_url(), DEMO_OWNER, &password).await.access;
        let graph = GraphApi::start_for_page(PAGE_TOKEN, PAGE_ID).await;
        let page = Page {
            data,
            server,
            token,
            graph,
        };
        let secrets = json!({
            "page_access_token": PAGE_TOKEN,
            "app_secret": APP_SECRET,
            "verify_token": VERIFY_TOKEN,
            "api_base_url": page.graph.base_url,
        });
        channels::connect(
            page.server.base_url(),
            &page.token,
            "messenger",
            CHANNEL,
            secrets,
        )
        .await;
        page
    }

    async fn api(&self, method: &str, path: &str, body: Option<&Value>) -> Answer {
        call(
            self.server.base_url(),
            Some(&self.token),
            method,
            path,
            body,
        )
        .await
    }

    fn hook_url(&self) -> String {
        format!("{}/v1/hooks/{CHANNEL}", self.server.base_url())
    }

    /// POSTs `body` to the webhook with these headers (none added).
    async fn post_raw(&self, body: &[u8], headers: &[(&str, &str)]) -> Answer {
        send("POST", &self.hook_url(), headers, body.to_vec()).await
    }

    /// POSTs `body` signed with the app secret, as Facebook does.
    async fn post_signed(&self, body: &Value) -> Answer {
        let bytes = body.to_string().into_bytes();
        let signature = sign(APP_SECRET, &bytes);
        self.post_raw(
            &bytes,
            &[
                ("content-type", "application/json"),
                ("x-hub-signature-256", &signature),
            ],
        )
        .await
    }

    /// POSTs a signed batch and expects Meta's 200 `EVENT_RECEIVED`.
    async fn deliver(&self, body: &Value) {
        let answer = self.post_signed(body).await;
        assert_eq!(answer.status, 200, "{}", answer.text());
        assert_eq!(answer.text(), "EVENT_RECEIVED");
    }

    /// Waits until `count` messages were taken for `psid`; returns them.
    async fn replies(&self, psid: &str, count: usize) -> Vec<Recorded> {
        let deadline = Instant::now() + REPLY_TIMEOUT;
        loop {
            let delivered = self.graph.delivered_to(psid);
            if delivered.len() >= count {
                return delivered;
            }
            assert!(
                Instant::now() < deadline,
                "{} of {count} replies to {psid} within {REPLY_TIMEOUT:?}; requests: {:#?}\n{}",
                delivered.len(),
                self.graph.requests(),
                self.server.stderr()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The customer `psid` writes `text` (message `mid`): the signed webhook, and the
    /// message in their conversation at the stub, as Meta has it.
    async fn ask(&self, psid: &str, mid: &str, text: &str) {
        self.graph.customer_wrote(psid, mid, text);
        self.deliver(&text_message(psid, mid, text)).await;
    }

    /// The Send API calls so far (the Conversations API's `GET`s left out).
    fn sends(&self) -> Vec<Recorded> {
        let requests = self.graph.requests().into_iter();
        requests
            .filter(|request| request.method == "POST")
            .collect()
    }

    async fn conversations(&self) -> Vec<Value> {
        channels::conversations(self.server.base_url(), &self.token).await
    }

    /// The messages of the only conversation, oldest first.
    async fn messages(&self) -> Vec<Value> {
        channels::only_conversation_messages(self.server.base_url(), &self.token).await
    }
}

/// `sha256=` + hex HMAC-SHA256 of `body` with `secret`: Meta's X-Hub-Signature-256.
fn sign(secret: &str, body: &[u8]) -> String {
    let mut mac = <Hmac<Sha256>>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(body);
    let hex: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    format!("sha256={hex}")
}

/// A page webhook with one messaging item from `psid`.
fn webhook(psid: &str, timestamp: u64, item: Value) -> Value {
    let mut messaging = json!({
        "sender": {"id": psid},
        "recipient": {"id": PAGE_ID},
        "timestamp": timestamp,
    });
    if let (Some(fields), Value::Object(item)) = (messaging.as_object_mut(), item) {
        fields.extend(item);
    }
    json!({
        "object": "page",
        "entry": [{"id": PAGE_ID, "time": timestamp, "messaging": [messaging]}]
    })
}

fn text_message(psid: &str, mid: &str, text: &str) -> Value {
    webhook(
        psid,
        1_700_000_000_000,
        json!({"message": {"mid": mid, "text": text}}),
    )
}

/// The demo shop's FAQ answer with this id.
fn faq_answer(id: &str) -> String {
    let faq = std::fs::read_to_string(workspace_root().join("samples/demo-shop/faq.jsonl"))
        .expect("the demo FAQ");
    faq.lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .find(|entry| entry["id"] == id)
        .and_then(|entry| entry["answer"].as_str().map(str::to_owned))
        .unwrap_or_else(|| panic!("no FAQ entry {id}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn the_handshake_echoes_the_challenge_and_a_wrong_verify_token_is_refused() {
    let page = Page::start().await;
    let url = format!(
        "{}?hub.mode=subscribe&hub.verify_token={VERIFY_TOKEN}&hub.challenge=1158201444",
        page.hook_url()
    );
    let answer = send("GET", &url, &[], Vec::new()).await;
    assert_eq!(answer.status, 200, "{}", answer.text());
    assert_eq!(answer.text(), "1158201444");

    let url = format!(
        "{}?hub.mode=subscribe&hub.verify_token=guessed&hub.challenge=1158201444",
        page.hook_url()
    );
    let answer = send("GET", &url, &[], Vec::new()).await;
    assert_eq!(answer.status, 403, "{}", answer.text());
    assert_eq!(answer.json["error"]["code"], "invalid_verify_token");
    assert!(!answer.text().contains("1158201444"));
    assert!(page.conversations().await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_signed_question_gets_the_faq_answer_once_even_when_facebook_resends_it() {
    let page = Page::start().await;
    let question = text_message("PSID_LAN", "m_question_1", "shop có ship COD không?");
    page.deliver(&question).await;
    // Facebook resends a batch it is unsure about: same mid, same event.
    page.deliver(&question).await;

    let replies = page.replies("PSID_LAN", 1).await;
    let reply = &replies[0];
    assert_eq!(reply.path, "/v21.0/me/messages");
    assert_eq!(reply.access_token.as_deref(), Some(PAGE_TOKEN));
    assert_eq!(reply.body["recipient"], json!({"id": "PSID_LAN"}));
    assert_eq!(reply.body["messaging_type"], "RESPONSE");
    assert_eq!(reply.text(), Some(faq_answer("faq-01").as_str()));

    tokio::time::sleep(SETTLE).await;
    assert_eq!(
        page.graph.delivered_to("PSID_LAN").len(),
        1,
        "the resent event was answered again: {:#?}",
        page.graph.requests()
    );
    let messages = page.messages().await;
    let inbound: Vec<&Value> = messages
        .iter()
        .filter(|message| message["direction"] == "inbound")
        .collect();
    assert_eq!(inbound.len(), 1, "{messages:#?}");
    assert_eq!(inbound[0]["channel_message_id"], "m_question_1");
    // The outbound message carries the Send API's message id once delivered.
    let outbound = messages
        .iter()
        .find(|message| message["direction"] == "outbound")
        .expect("the reply is stored");
    assert_eq!(outbound["channel_message_id"], "m_1", "{outbound:#}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_quick_reply_press_and_a_postback_are_answered_from_their_payloads() {
    let page = Page::start().await;
    // The chip's title is what the customer saw; its payload is what the bot chose.
    let press = webhook(
        "PSID_MAI",
        1_700_000_000_100,
        json!({"message": {
            "mid": "m_chip_1",
            "text": "COD?",
            "quick_reply": {"payload": "có ship cod không"}
        }}),
    );
    page.deliver(&press).await;
    let replies = page.replies("PSID_MAI", 1).await;
    assert_eq!(replies[0].text(), Some(faq_answer("faq-01").as_str()));

    let postback = webhook(
        "PSID_MAI",
        1_700_000_000_200,
        json!({"postback": {"mid": "m_pb_1", "title": "Phí ship", "payload": "phí ship bao nhiêu?"}}),
    );
    page.deliver(&postback).await;
    let replies = page.replies("PSID_MAI", 2).await;
    assert_eq!(replies[1].text(), Some(faq_answer("faq-02").as_str()));

    let messages = page.messages().await;
    let said: Vec<&str> = messages
        .iter()
        .filter(|message| message["direction"] == "inbound")
        .filter_map(|message| message["content"]["text"].as_str())
        .collect();
    assert_eq!(said, vec!["có ship cod không", "phí ship bao nhiêu?"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn unsigned_forged_and_foreign_webhooks_are_refused_and_store_nothing() {
    let page = Page::start().await;
    let question = text_message("PSID_EVE", "m_forged_1", "shop có ship COD không?");
    let bytes = question.to_string().into_bytes();

    let missing = page
        .post_raw(&bytes, &[("content-type", "application/json")])
        .await;
    assert_eq!(missing.status, 401, "{}", missing.text());
    assert_eq!(missing.json["error"]["code"], "missing_signature");

    let forged = sign("not-the-app-secret", &bytes);
    let wrong = page
        .post_raw(&bytes, &[("X-Hub-Signature-256", forged.as_str())])
        .await;
    assert_eq!(wrong.status, 401, "{}", wrong.text());
    assert_eq!(wrong.json["error"]["code"], "invalid_signature");

    // Signed, but with the signature of another body.
    let other = sign(APP_SECRET, b"{}");
    let replayed = page
        .post_raw(&bytes, &[("x-hub-signature-256", other.as_str())])
        .await;
    assert_eq!(replayed.status, 401, "{}", replayed.text());

    let instagram = json!({"object": "instagram", "entry": []});
    let foreign = page.post_signed(&instagram).await;
    assert_eq!(foreign.status, 400, "{}", foreign.text());
    assert_eq!(foreign.json["error"]["code"], "not_a_page_webhook");
    let reason = foreign.json["error"]["message"]
        .as_str()
        .unwrap_or_default();
    assert!(reason.contains("\"instagram\""), "{reason}");

    let not_json = page
        .post_raw(
            b"hello",
            &[("x-hub-signature-256", &sign(APP_SECRET, b"hello"))],
        )
        .await;
    assert_eq!(not_json.status, 400, "{}", not_json.text());

    tokio::time::sleep(SETTLE).await;
    assert!(page.conversations().await.is_empty());
    assert!(
        page.graph.requests().is_empty(),
        "{:#?}",
        page.graph.requests()
    );

    // The same event, signed: now it is stored and answered.
    page.deliver(&question).await;
    page.replies("PSID_EVE", 1).await;
    assert_eq!(page.conversations().await.len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn rate_limits_outages_and_stalls_are_retried_into_one_reply() {
    let page = Page::start().await;
    page.graph.fail_next(1, Fault::RateLimit);
    page.graph.fail_next(1, Fault::ServerError);
    // Longer than the plugin waits for one call (4 s).
    page.graph
        .fail_next(1, Fault::Stall(Duration::from_secs(6)));
    page.deliver(&text_message(
        "PSID_HOA",
        "m_retry_1",
        "shop có ship COD không?",
    ))
    .await;

    let replies = page.replies("PSID_HOA", 1).await;
    assert_eq!(replies[0].text(), Some(faq_answer("faq-01").as_str()));
    tokio::time::sleep(SETTLE).await;
    let sends = page.sends();
    let statuses: Vec<u16> = sends.iter().map(|request| request.status).collect();
    // The stalled request gets no answer out (0: the plugin hung up first) or a late 500;
    // either way the message was not taken.
    assert!(
        matches!(statuses.as_slice(), [400, 500, 0 | 500, 200]),
        "{sends:#?}"
    );
    assert_eq!(page.graph.delivered_to("PSID_HOA").len(), 1);
    // The stall left its outcome in doubt: the Page's conversation was read (and showed
    // no reply) before the last send.
    let lookups = page.graph.lookups();
    assert!(!lookups.is_empty(), "{:#?}", page.graph.requests());
    assert!(lookups.iter().all(|lookup| lookup.at < sends[3].at));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_reply_outside_the_24_hour_window_is_not_retried() {
    let page = Page::start().await;
    page.graph.fail_next(1, Fault::OutsideWindow);
    page.deliver(&text_message(
        "PSID_OLD",
        "m_window_1",
        "shop có ship COD không?",
    ))
    .await;

    let deadline = Instant::now() + REPLY_TIMEOUT;
    while page.graph.requests().is_empty() {
        assert!(
            Instant::now() < deadline,
            "no send attempt\n{}",
            page.server.stderr()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // With the test's backoff a transient failure would have been retried 3 times by now.
    tokio::time::sleep(SETTLE).await;
    let requests = page.graph.requests();
    assert_eq!(requests.len(), 1, "retried: {requests:#?}");
    assert!(page.graph.delivered_to("PSID_OLD").is_empty());

    // The admin API has no dead-letter view; the stored reply stays without a channel id
    // and the server's log says why it was given up.
    let messages = page.messages().await;
    let outbound = messages
        .iter()
        .find(|message| message["direction"] == "outbound")
        .expect("the reply is stored");
    assert!(outbound["channel_message_id"].is_null(), "{outbound:#}");
    let log = page.server.stderr();
    assert!(
        log.contains("dead letter") && log.contains("2018278"),
        "no dead letter logged:\n{log}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_long_answer_arrives_in_parts_in_order_once_each_even_when_a_part_fails() {
    let page = Page::start().await;
    // Three paragraphs of about 1,100 characters: the first fits a message alone, the next
    // two do not fit one together, so the answer goes in three parts cut between them.
    let sentence = "Sản phẩm được bảo hành kể từ ngày nhận hàng, bạn giữ hoá đơn và tem bảo hành giúp Mây nhé.";
    let paragraphs: Vec<String> = (1..=3)
        .map(|n| format!("Điều {n}. {}", [sentence; 12].join(" ")))
        .collect();
    let answer = paragraphs.join("\n\n");
    let length = answer.chars().count();
    assert!((3000..=4000).contains(&length), "{length}");
    let entry = json!({
        "id": "faq-warranty",
        "question": "chính sách bảo hành chi tiết thế nào?",
        "answer": answer,
    });
    let created = page
        .api("POST", "/v1/tenants/may/bots/may/faq", Some(&entry))
        .await;
    assert_eq!(created.status, 201, "{}", created.text());

    // Part 1 goes through, part 2 meets an outage: the retry must not resend part 1.
    page.graph.pass_next(1);
    page.graph.fail_next(1, Fault::ServerError);
    page.deliver(&text_message(
        "PSID_LONG",
        "m_long_1",
        "chính sách bảo hành chi tiết thế nào?",
    ))
    .await;

    let parts = page.replies("PSID_LONG", 3).await;
    tokio::time::sleep(SETTLE).await;
    let parts = {
        let settled = page.graph.delivered_to("PSID_LONG");
        assert_eq!(settled.len(), parts.len(), "{settled:#?}");
        settled
    };
    let texts: Vec<&str> = parts.iter().filter_map(Recorded::text).collect();
    // Cut between paragraphs, nothing lost, repeated or reordered.
    assert_eq!(texts, paragraphs);
    assert_eq!(page.graph.requests().len(), parts.len() + 1);
}

#[path = "messenger_channel/crash.rs"]
mod crash;
