//! The `telegram` channel plugin against the real `loa serve` and a stub Bot API on
//! loopback: updates posted to `/v1/hooks/{channel}` with the webhook's secret token are
//! answered in the chat they came from; a resent update is answered once; a wrong or
//! missing secret, a body that is not an Update and an unknown channel are refused with
//! nothing stored; a button press is answered and handled as its payload (a payload over
//! Telegram's 64 bytes included); flood control is waited out, a blocked bot is
//! dead-lettered after one try, and an answer over 4,096 UTF-16 units arrives in parts,
//! in order, a part interrupted by flood control resumed without repeating the others; a
//! host killed mid-send finding the reply Telegram took by probing the chat with
//! `editMessageText` instead of sending it twice, and sending the one Telegram never took
//! (`telegram_channel/crash.rs`).

use std::time::Duration;

use loa_e2e::accounts::{DEMO_OWNER, call, demo_shop_with_owner, login};
use loa_e2e::channels;
use loa_e2e::http::{Answer, send};
use loa_e2e::serve::Server;
use loa_e2e::stubs::telegram::{Fault, Recorded, TelegramApi};
use loa_e2e::{finish, loa, workspace_root};
use serde_json::{Value, json};

const BOT_TOKEN: &str = "123456789:AAE-e2e_stub-token";
const WEBHOOK_SECRET: &str = "tg-hook_secret-e2e";
const CHANNEL: &str = "tg-may";
const CHAT: i64 = 7001;
const COD_QUESTION: &str = "shop có ship COD không?";
const COD_ANSWER_START: &str = "Có ạ, Mây giao hàng COD";
/// A turn and its delivery on a busy 2-core machine.
const WAIT: Duration = Duration::from_secs(20);
/// Plugins may reach the stub on loopback; the dispatcher polls and retries quickly, so
/// a retried delivery takes a second, not minutes.
const HOST_CONFIG: &str = "\n[plugins]\nallow_private_network = true\n\n\
    [delivery]\npoll_ms = 100\n\n\
    [delivery.retry]\nbase_delay_ms = 300\nmax_delay_ms = 2000\n";

/// The demo shop with a Telegram channel for bot `may` pointed at the stub.
struct Shop {
    /// The server's data directory, removed when the test ends.
    data: tempfile::TempDir,
    server: Server,
    token: String,
    telegram: TelegramApi,
}

impl Shop {
    async fn start() -> Shop {
        Shop::launch(HOST_CONFIG).await
    }

    /// With `host_config` (`loa.toml` past the admin settings) instead of [`HOST_CONFIG`].
    async fn launch(host_config: &str) -> Shop {
        let (data, password) = demo_shop_with_owner(host_config);
        let plugin = workspace_root().join("plugins/telegram");
        assert!(
            plugin.join("plugin.wasm").is_file(),
            "plugins/telegram: run `cargo xtask build-plugins` first"
        );
        finish(loa(data.path()).args(["plugin", "install"]).arg(plugin)).success();
        let server = Server::start(data.path(), std::iter::empty::<&str>());
        let token = login(server.base_url(), DEMO_OWNER, &password).await.access;
        let telegram = TelegramApi::start(BOT_TOKEN).await;
        let shop = Shop {
            data,
            server,
            token,
            telegram,
        };
        let secrets = json!({
            "bot_token": BOT_TOKEN,
            "webhook_secret": WEBHOOK_SECRET,
            "api_base_url": shop.telegram.base_url,
        });
        channels::connect(
            shop.server.base_url(),
            &shop.token,
            "telegram",
            CHANNEL,
            secrets,
        )
        .await;
        shop
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

    /// Posts `body` to channel `channel`'s webhook with exactly these headers.
    async fn post_hook(&self, channel: &str, headers: &[(&str, &str)], body: Vec<u8>) -> Answer {
        let url = format!("{}/v1/hooks/{channel}", self.server.base_url());
        send("POST", &url, headers, body).await
    }

    /// Posts `update` as Telegram does: JSON, with the secret token header.
    async fn deliver(&self, update: &Value) -> Answer {
        let headers = [
            ("content-type", "application/json"),
            ("X-Telegram-Bot-Api-Secret-Token", WEBHOOK_SECRET),
        ];
        let answer = self
            .post_hook(CHANNEL, &headers, update.to_string().into_bytes())
            .await;
        assert_eq!(answer.status, 200, "{}", answer.text());
        answer
    }

    async fn conversations(&self) -> Vec<Value> {
        channels::conversations(self.server.base_url(), &self.token).await
    }

    /// The only conversation's messages, oldest first.
    async fn messages(&self) -> Vec<Value> {
        channels::only_conversation_messages(self.server.base_url(), &self.token).await
    }

    /// How many customer messages the only conversation holds.
    async fn inbound_count(&self) -> usize {
        let messages = self.messages().await;
        let inbound = messages
            .iter()
            .filter(|message| message["direction"] == "inbound");
        inbound.count()
    }

    /// Waits until the only conversation's messages satisfy `done`.
    async fn until(&self, done: impl Fn(&[Value]) -> bool) {
        let started = std::time::Instant::now();
        loop {
            let messages = self.messages().await;
            if done(&messages) {
                return;
            }
            assert!(
                started.elapsed() < WAIT,
                "messages never got there: {messages:#?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until `count` messages reached chat `chat` and returns them.
    async fn messages_in_chat(&self, chat: i64, count: usize) -> Vec<Recorded> {
        self.telegram
            .wait_for(WAIT, |requests| {
                accepted_messages(requests, chat).len() >= count
            })
            .await;
        self.telegram.messages_to(chat)
    }
}

fn accepted_messages(requests: &[Recorded], chat: i64) -> Vec<&Recorded> {
    requests
        .iter()
        .filter(|r| r.method == "sendMessage" && r.accepted() && r.body["chat_id"] == json!(chat))
        .collect()
}

/// A private chat's text message, as Telegram sends it.
fn text_update(update_id: i64, chat: i64, text: &str) -> Value {
    json!({
        "update_id": update_id,
        "message": {
            "message_id": update_id + 1000,
            "from": {"id": chat, "is_bot": false, "first_name": "Lan", "last_name": "Nguyễn", "language_code": "vi"},
            "chat": {"id": chat, "type": "private", "first_name": "Lan", "last_name": "Nguyễn"},
            "date": 1_760_000_000,
            "text": text
        }
    })
}

/// A press of an inline button carrying `data`, under a message in a private chat.
fn button_press(update_id: i64, chat: i64, query_id: &str, data: &str) -> Value {
    json!({
        "update_id": update_id,
        "callback_query": {
            "id": query_id,
            "from": {"id": chat, "is_bot": false, "first_name": "Lan"},
            "chat_instance": "-5",
            "data": data,
            "message": {
                "message_id": 1,
                "from": {"id": 100_000, "is_bot": true, "first_name": "Mây"},
                "chat": {"id": chat, "type": "private", "first_name": "Lan"},
                "date": 1_760_000_000,
                "text": "Bạn chọn size nào?"
            }
        }
    })
}

/// The answer's `error.code`.
fn error_code(answer: &Answer) -> &str {
    answer.json["error"]["code"].as_str().unwrap_or_default()
}

#[tokio::test]
async fn a_faq_question_is_answered_in_the_chat_it_came_from() {
    let shop = Shop::start().await;
    let answer = shop.deliver(&text_update(1, CHAT, COD_QUESTION)).await;
    assert_eq!(answer.json, json!({"ok": true}));

    let sent = shop.messages_in_chat(CHAT, 1).await;
    assert!(sent[0].text().starts_with(COD_ANSWER_START), "{sent:#?}");
    assert_eq!(sent[0].path, format!("/bot{BOT_TOKEN}/sendMessage"));
    // Plain text: nothing for Telegram to parse, so nothing to escape.
    assert_eq!(sent[0].body.get("parse_mode"), None, "{:#}", sent[0].body);

    let conversations = shop.conversations().await;
    assert_eq!(conversations.len(), 1, "{conversations:#?}");
    let messages = shop.messages().await;
    let reply = messages.last().expect("the bot's reply");
    assert!(
        reply["content"]["text"]
            .as_str()
            .is_some_and(|text| text.starts_with(COD_ANSWER_START)),
        "{messages:#?}"
    );
    // Once delivered, the stored reply carries Telegram's message_id for it.
    let message_id = sent[0].message_id.expect("the stub gave the message an id");
    shop.until(|messages| {
        messages
            .last()
            .is_some_and(|reply| reply["channel_message_id"] == json!(message_id.to_string()))
    })
    .await;
}

#[tokio::test]
async fn an_update_telegram_sends_twice_is_answered_once() {
    let shop = Shop::start().await;
    let update = text_update(2, CHAT, COD_QUESTION);
    shop.deliver(&update).await;
    shop.deliver(&update).await;
    shop.messages_in_chat(CHAT, 1).await;
    // Time for a second turn, had there been one.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(shop.telegram.messages_to(CHAT).len(), 1);
    let inbound = shop.inbound_count().await;
    assert_eq!(inbound, 1);
}

#[tokio::test]
async fn a_wrong_or_missing_secret_is_refused_and_nothing_is_stored() {
    let shop = Shop::start().await;
    let body = || text_update(3, 8002, COD_QUESTION).to_string().into_bytes();
    let json = ("content-type", "application/json");
    let missing = shop.post_hook(CHANNEL, &[json], body()).await;
    assert_eq!(missing.status, 401, "{}", missing.text());
    assert_eq!(error_code(&missing), "missing_secret_token");
    let wrong = [
        json,
        ("X-Telegram-Bot-Api-Secret-Token", "tg-hook_secret-e2f"),
    ];
    let refused = shop.post_hook(CHANNEL, &wrong, body()).await;
    assert_eq!(refused.status, 401, "{}", refused.text());
    assert_eq!(error_code(&refused), "invalid_secret_token");
    assert!(
        refused.json["error"]["message"]
            .as_str()
            .is_some_and(|message| message.contains("webhook_secret")),
        "{}",
        refused.text()
    );

    // A good update after them is answered; the refused ones left no trace.
    shop.deliver(&text_update(4, CHAT, COD_QUESTION)).await;
    shop.messages_in_chat(CHAT, 1).await;
    let conversations = shop.conversations().await;
    assert_eq!(conversations.len(), 1, "{conversations:#?}");
    assert!(shop.telegram.messages_to(8002).is_empty());
}

#[tokio::test]
async fn a_body_that_is_not_an_update_is_refused_with_the_reason() {
    let shop = Shop::start().await;
    let headers = [
        ("content-type", "application/json"),
        ("X-Telegram-Bot-Api-Secret-Token", WEBHOOK_SECRET),
    ];
    let garbage = shop
        .post_hook(CHANNEL, &headers, b"<xml>hello</xml>".to_vec())
        .await;
    assert_eq!(garbage.status, 400, "{}", garbage.text());
    assert_eq!(error_code(&garbage), "not_an_update");
    assert!(garbage.text().contains("not JSON"), "{}", garbage.text());
    let no_id = json!({"message": {"chat": {"id": CHAT}, "text": "hi"}});
    let refused = shop
        .post_hook(CHANNEL, &headers, no_id.to_string().into_bytes())
        .await;
    assert_eq!(refused.status, 400, "{}", refused.text());
    assert!(refused.text().contains("update_id"), "{}", refused.text());

    // An unknown channel is not found, whatever the body.
    let unknown = shop
        .post_hook(
            "tg-nobody",
            &headers,
            text_update(5, CHAT, "hi").to_string().into_bytes(),
        )
        .await;
    assert_eq!(unknown.status, 404, "{}", unknown.text());
    assert_eq!(error_code(&unknown), "channel_not_found");
    assert!(shop.conversations().await.is_empty());
    assert!(shop.telegram.requests().is_empty());
}

#[tokio::test]
async fn a_button_press_is_answered_and_handled_as_its_payload() {
    let shop = Shop::start().await;
    shop.deliver(&button_press(6, CHAT, "cbq-6", COD_QUESTION))
        .await;
    // Answered while the webhook was handled, before any reply.
    let answered = shop.telegram.calls_of("answerCallbackQuery");
    assert_eq!(answered.len(), 1, "{answered:#?}");
    assert_eq!(answered[0].body, json!({"callback_query_id": "cbq-6"}));
    let sent = shop.messages_in_chat(CHAT, 1).await;
    assert!(sent[0].text().starts_with(COD_ANSWER_START), "{sent:#?}");
}

/// Webhooks find their channel in a cache; a change made through the admin API must still
/// apply to the very next update, not seconds later.
#[tokio::test]
async fn a_secret_changed_or_a_channel_switched_off_applies_to_the_next_update() {
    let shop = Shop::start().await;
    shop.deliver(&text_update(10, CHAT, COD_QUESTION)).await;
    let path = format!("/v1/tenants/may/channels/{CHANNEL}");
    let rotated = "tg-hook_secret-rotated";
    let changed = shop
        .api(
            "PATCH",
            &path,
            Some(&json!({"secrets": {"webhook_secret": rotated}})),
        )
        .await;
    assert_eq!(changed.status, 200, "{}", changed.text());
    let json = ("content-type", "application/json");
    let update = |id: i64| text_update(id, CHAT, COD_QUESTION).to_string().into_bytes();
    let old = [json, ("X-Telegram-Bot-Api-Secret-Token", WEBHOOK_SECRET)];
    let refused = shop.post_hook(CHANNEL, &old, update(11)).await;
    assert_eq!(refused.status, 401, "{}", refused.text());
    assert_eq!(error_code(&refused), "invalid_secret_token");
    let new = [json, ("X-Telegram-Bot-Api-Secret-Token", rotated)];
    let accepted = shop.post_hook(CHANNEL, &new, update(12)).await;
    assert_eq!(accepted.status, 200, "{}", accepted.text());
    // Both answers out before the channel goes off (a switched-off channel sends nothing).
    shop.messages_in_chat(CHAT, 2).await;

    let off = shop
        .api("PATCH", &path, Some(&json!({"enabled": false})))
        .await;
    assert_eq!(off.status, 200, "{}", off.text());
    let gone = shop.post_hook(CHANNEL, &new, update(13)).await;
    assert_eq!(gone.status, 410, "{}", gone.text());
    assert_eq!(error_code(&gone), "channel_disabled");

    // Updates 10 and 12 were answered; 11 and 13 left no trace.
    assert_eq!(shop.telegram.messages_to(CHAT).len(), 2);
    let inbound = shop.inbound_count().await;
    assert_eq!(inbound, 2);
}

#[path = "telegram_channel/crash.rs"]
mod crash;
#[path = "telegram_channel/delivery.rs"]
mod delivery;
#[path = "telegram_channel/proactive.rs"]
mod proactive;
