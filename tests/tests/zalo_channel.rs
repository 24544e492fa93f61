//! The `zalo-oa` channel plugin against the real `loa serve` and a stub of Zalo's OpenAPI
//! and OAuth server on loopback: signed webhooks answered from the demo shop's FAQ and
//! delivered to the right user, Zalo's resends dropped, unsigned, forged and foreign
//! bodies refused with nothing stored, a button press back as its payload; the OA's
//! access token refreshed when Zalo rejects it or before it expires, its single-use
//! refresh token spent once even by two sends at once (`zalo_channel/tokens.rs`); and
//! outages retried into one reply, a reply outside the 7-day window dead-lettered after
//! one try, a long answer in parts, in order, once each (`zalo_channel/delivery.rs`); ZNS
//! template messages sent to a phone number through the proactive API (`zalo_channel/zns.rs`);
//! a host killed mid-send finding the reply Zalo took in the conversation history instead of
//! sending it twice, and sending the one Zalo never took (`zalo_channel/crash.rs`).
//!
//! Webhooks are signed here the way Zalo documents it (`mac=` + hex SHA-256 of app id,
//! body, the body's timestamp and the OA secret key), never with the plugin's code.

use std::time::{Duration, Instant};

use loa_e2e::accounts::{DEMO_OWNER, call, demo_shop_with_owner, login};
use loa_e2e::channels;
use loa_e2e::http::{Answer, send};
use loa_e2e::serve::Server;
use loa_e2e::stubs::zalo::{Endpoint, Fault, Recorded, ZaloApi};
use loa_e2e::{finish, loa, workspace_root};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

const CHANNEL: &str = "zalo-may";
const APP_ID: &str = "1234567890123456789";
const OA_ID: &str = "579135246801357924";
const OA_SECRET_KEY: &str = "e2e-oa-secret-key";
const APP_SECRET_KEY: &str = "e2e-app-secret-key";
const ACCESS_TOKEN: &str = "zalo-at-0-pasted";
const REFRESH_TOKEN: &str = "zalo-rt-0-pasted";
const LAN: &str = "2468135790246813579";
const COD_QUESTION: &str = "shop có ship COD không?";
/// Waiting for a reply on a busy 2-core machine: a turn, an outbox poll, a plugin call.
const REPLY_TIMEOUT: Duration = Duration::from_secs(20);
/// Long enough for the dispatcher to have retried several times with the test's backoff.
const SETTLE: Duration = Duration::from_secs(3);

/// Plugins on loopback, and deliveries polled and retried fast: 200 ms, 400 ms, 800 ms …
const HOST_CONFIG: &str = "\n[plugins]\nallow_private_network = true\n\n\
    [delivery]\npoll_ms = 50\n\n\
    [delivery.retry]\nmax_attempts = 6\nbase_delay_ms = 200\nmax_delay_ms = 1000\n";

/// The demo shop with a Zalo OA channel for bot `may` whose Zalo is the stub.
struct Oa {
    data: tempfile::TempDir,
    server: Server,
    token: String,
    zalo: ZaloApi,
}

impl Oa {
    async fn start() -> Oa {
        Oa::start_with(json!({})).await
    }

    /// With `extra` channel config on top of the usual (e.g. `access_token_expires_at`).
    async fn start_with(extra: Value) -> Oa {
        Oa::launch(HOST_CONFIG, extra).await
    }

    /// With `host_config` (`loa.toml` past the admin settings) instead of [`HOST_CONFIG`],
    /// and `extra` channel config.
    async fn launch(host_config: &str, extra: Value) -> Oa {
        let (data, password) = demo_shop_with_owner(host_config);
        let plugin = channels::plugin_for_loopback(data.path(), "zalo-oa");
        finish(loa(data.path()).args(["plugin", "install"]).arg(plugin)).success();
        let server = Server::start(data.path(), std::iter::empty::<&str>());
        let token = login(server.base_url(), DEMO_OWNER, &password).await.access;
        let zalo = ZaloApi::start(APP_ID, APP_SECRET_KEY, ACCESS_TOKEN, REFRESH_TOKEN).await;
        let mut secrets = json!({
            "app_id": APP_ID,
            "oa_secret_key": OA_SECRET_KEY,
            "app_secret_key": APP_SECRET_KEY,
            "access_token": ACCESS_TOKEN,
            "refresh_token": REFRESH_TOKEN,
            "api_base_url": zalo.base_url,
            "oauth_base_url": zalo.base_url,
            "zns_base_url": zalo.base_url,
        });
        if let (Some(secrets), Value::Object(extra)) = (secrets.as_object_mut(), extra) {
            secrets.extend(extra);
        }
        channels::connect(server.base_url(), &token, "zalo-oa", CHANNEL, secrets).await;
        Oa {
            data,
            server,
            token,
            zalo,
        }
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
    async fn post_raw(&self, body: &str, headers: &[(&str, &str)]) -> Answer {
        send("POST", &self.hook_url(), headers, body.as_bytes().to_vec()).await
    }

    /// POSTs `event` signed as Zalo does, with its own timestamp.
    async fn post_signed(&self, event: &str) -> Answer {
        let mac = sign(APP_ID, event, &timestamp_of(event), OA_SECRET_KEY);
        self.post_raw(
            event,
            &[
                ("content-type", "application/json"),
                ("X-ZEvent-Signature", &mac),
            ],
        )
        .await
    }

    /// POSTs a signed event and expects 200.
    async fn deliver(&self, event: &str) {
        let answer = self.post_signed(event).await;
        assert_eq!(answer.status, 200, "{}", answer.text());
    }

    /// Waits until `count` messages were taken for `user`; returns them.
    async fn replies(&self, user: &str, count: usize) -> Vec<Recorded> {
        let deadline = Instant::now() + REPLY_TIMEOUT;
        loop {
            let delivered = self.zalo.delivered_to(user);
            if delivered.len() >= count {
                return delivered;
            }
            assert!(
                Instant::now() < deadline,
                "{} of {count} replies to {user} within {REPLY_TIMEOUT:?}; requests: {:#?}\n{}",
                delivered.len(),
                self.zalo.requests(),
                self.server.stderr()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn sends(&self) -> Vec<Recorded> {
        self.zalo.calls_to(Endpoint::Send)
    }

    fn refreshes(&self) -> Vec<Recorded> {
        self.zalo.calls_to(Endpoint::Refresh)
    }

    async fn conversations(&self) -> Vec<Value> {
        channels::conversations(self.server.base_url(), &self.token).await
    }

    /// The messages of the only conversation, oldest first.
    async fn messages(&self) -> Vec<Value> {
        channels::only_conversation_messages(self.server.base_url(), &self.token).await
    }
}

/// `mac=` + lowercase hex SHA-256 of app id, raw body, the body's timestamp and the OA
/// secret key: Zalo's X-ZEvent-Signature.
fn sign(app_id: &str, body: &str, timestamp: &str, oa_secret_key: &str) -> String {
    let digest = Sha256::digest(format!("{app_id}{body}{timestamp}{oa_secret_key}").as_bytes());
    let hex: String = digest.iter().map(|byte| format!("{byte:02x}")).collect();
    format!("mac={hex}")
}

fn timestamp_of(event: &str) -> String {
    serde_json::from_str::<Value>(event).expect("a JSON event")["timestamp"]
        .as_str()
        .expect("a timestamp string")
        .to_owned()
}

/// `user`'s text message, as Zalo posts it (the exact bytes that get signed).
fn text_event(user: &str, msg_id: &str, text: &str) -> String {
    json!({
        "app_id": APP_ID,
        "user_id_by_app": "552177279717587730",
        "event_name": "user_send_text",
        "timestamp": "1718000100000",
        "sender": {"id": user},
        "recipient": {"id": OA_ID},
        "message": {"msg_id": msg_id, "text": text}
    })
    .to_string()
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
async fn a_signed_question_is_answered_once_even_when_zalo_resends_it() {
    let oa = Oa::start().await;
    let question = text_event(LAN, "msg-cod-1", COD_QUESTION);
    oa.deliver(&question).await;
    // Zalo resends an event it is unsure about: same msg_id, same event.
    oa.deliver(&question).await;

    let replies = oa.replies(LAN, 1).await;
    let reply = &replies[0];
    assert_eq!(reply.path, "/v3.0/oa/message/cs");
    assert_eq!(reply.access_token.as_deref(), Some(ACCESS_TOKEN));
    assert_eq!(reply.body["recipient"], json!({"user_id": LAN}));
    assert_eq!(reply.text(), faq_answer("faq-01"));

    tokio::time::sleep(SETTLE).await;
    assert_eq!(
        oa.zalo.delivered_to(LAN).len(),
        1,
        "the resent event was answered again: {:#?}",
        oa.zalo.requests()
    );
    assert!(oa.refreshes().is_empty(), "{:#?}", oa.zalo.requests());
    let messages = oa.messages().await;
    let inbound: Vec<&Value> = messages
        .iter()
        .filter(|message| message["direction"] == "inbound")
        .collect();
    assert_eq!(inbound.len(), 1, "{messages:#?}");
    assert_eq!(inbound[0]["channel_message_id"], "zalo:msg-cod-1");
    // The outbound message carries Zalo's message id once delivered.
    let outbound = messages
        .iter()
        .find(|message| message["direction"] == "outbound")
        .expect("the reply is stored");
    assert_eq!(
        outbound["channel_message_id"],
        json!(reply.message_id),
        "{outbound:#}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn unsigned_and_forged_webhooks_are_refused_with_401_and_store_nothing() {
    let oa = Oa::start().await;
    let question = text_event(LAN, "msg-forged-1", COD_QUESTION);
    let json_type = ("content-type", "application/json");

    let missing = oa.post_raw(&question, &[json_type]).await;
    assert_eq!(missing.status, 401, "{}", missing.text());
    assert_eq!(missing.json["error"]["code"], "missing_signature");

    let guessed = sign(APP_ID, &question, "1718000100000", "not-the-oa-secret");
    let forged = oa
        .post_raw(&question, &[json_type, ("x-zevent-signature", &guessed)])
        .await;
    assert_eq!(forged.status, 401, "{}", forged.text());
    assert_eq!(forged.json["error"]["code"], "invalid_signature");

    // Zalo's mac for another body, and for this body at another time.
    let other_body = text_event(LAN, "msg-forged-1", "xin chào");
    for mac in [
        sign(APP_ID, &other_body, "1718000100000", OA_SECRET_KEY),
        sign(APP_ID, &question, "1718000100001", OA_SECRET_KEY),
        "mac=not-hex".to_owned(),
    ] {
        let refused = oa
            .post_raw(&question, &[json_type, ("X-ZEvent-Signature", &mac)])
            .await;
        assert_eq!(refused.status, 401, "{mac}: {}", refused.text());
    }

    tokio::time::sleep(SETTLE).await;
    assert!(oa.conversations().await.is_empty());
    assert!(oa.zalo.requests().is_empty(), "{:#?}", oa.zalo.requests());

    // The same event, signed: now it is stored and answered.
    oa.deliver(&question).await;
    oa.replies(LAN, 1).await;
    assert_eq!(oa.conversations().await.len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn bodies_that_are_not_zalo_events_are_refused_with_the_reason() {
    let oa = Oa::start().await;
    let garbage = "<xml>hello</xml>";
    let mac = sign(APP_ID, garbage, "", OA_SECRET_KEY);
    let answer = oa
        .post_raw(garbage, &[("X-ZEvent-Signature", mac.as_str())])
        .await;
    assert_eq!(answer.status, 400, "{}", answer.text());
    assert_eq!(answer.json["error"]["code"], "not_a_zalo_event");
    assert!(answer.text().contains("not JSON"), "{}", answer.text());

    let no_event_name = json!({"app_id": APP_ID, "timestamp": "1718000100000"}).to_string();
    let refused = oa.post_signed(&no_event_name).await;
    assert_eq!(refused.status, 400, "{}", refused.text());
    assert!(refused.text().contains("event_name"), "{}", refused.text());

    // Signed with this OA's key, but for another Zalo app.
    let other_app = text_event(LAN, "msg-other-app", COD_QUESTION).replace(APP_ID, "42");
    let mac = sign("42", &other_app, "1718000100000", OA_SECRET_KEY);
    let refused = oa
        .post_raw(&other_app, &[("X-ZEvent-Signature", mac.as_str())])
        .await;
    assert_eq!(refused.status, 400, "{}", refused.text());
    assert!(refused.text().contains("app_id"), "{}", refused.text());

    let get = send("GET", &oa.hook_url(), &[], Vec::new()).await;
    assert_eq!(get.status, 405, "{}", get.text());

    tokio::time::sleep(SETTLE).await;
    assert!(oa.conversations().await.is_empty());
    assert!(oa.zalo.requests().is_empty(), "{:#?}", oa.zalo.requests());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_button_press_comes_back_as_the_payload_it_was_given() {
    let oa = Oa::start().await;
    oa.deliver(&text_event(LAN, "msg-hello", "chào shop")).await;
    oa.replies(LAN, 1).await;
    let conversation = oa.conversations().await[0]["id"]
        .as_str()
        .expect("an id")
        .to_owned();
    let path = format!("/v1/tenants/may/conversations/{conversation}");
    let taken = oa.api("POST", &format!("{path}/take"), None).await;
    assert_eq!(taken.status, 200, "{}", taken.text());

    let payload = "size:M|màu:trắng|sản phẩm:áo sơ mi linen tay dài";
    let reply = json!({
        "text": "Bạn chọn size nào?",
        "quick_replies": [{"title": "M", "payload": payload}, {"title": "L", "payload": "size:L"}]
    });
    let replied = oa.api("POST", &format!("{path}/reply"), Some(&reply)).await;
    assert!((200..300).contains(&replied.status), "{}", replied.text());
    // Taking over may tell the customer first; the operator's question follows.
    let requests = oa
        .zalo
        .wait_for(REPLY_TIMEOUT, |requests| {
            requests
                .iter()
                .any(|r| r.succeeded() && r.text() == "Bạn chọn size nào?")
        })
        .await;
    let asked = requests
        .iter()
        .find(|r| r.text() == "Bạn chọn size nào?")
        .expect("the operator's question");
    let buttons = asked.body["message"]["attachment"]["payload"]["buttons"]
        .as_array()
        .expect("buttons")
        .clone();
    assert_eq!(buttons.len(), 2);
    assert_eq!(buttons[0]["title"], "M");
    assert_eq!(buttons[0]["type"], "oa.query.hide");
    let hidden = buttons[0]["payload"]
        .as_str()
        .expect("a payload")
        .to_owned();
    assert_ne!(hidden, payload);

    // The press arrives as the customer's (hidden) text: the button's payload.
    oa.deliver(&text_event(LAN, "msg-press-1", &hidden)).await;
    let deadline = Instant::now() + REPLY_TIMEOUT;
    loop {
        let messages = oa.messages().await;
        let said: Vec<&str> = messages
            .iter()
            .filter(|message| message["direction"] == "inbound")
            .filter_map(|message| message["content"]["text"].as_str())
            .collect();
        if said.contains(&payload) {
            assert!(!said.contains(&hidden.as_str()), "{said:?}");
            break;
        }
        assert!(Instant::now() < deadline, "{messages:#?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[path = "zalo_channel/crash.rs"]
mod crash;
#[path = "zalo_channel/delivery.rs"]
mod delivery;
#[path = "zalo_channel/tokens.rs"]
mod tokens;
#[path = "zalo_channel/zns.rs"]
mod zns;
