//! Proactive messages: a shop's own system (an API key with `messages:send`) sends a
//! message to a Telegram chat through `POST /v1/bots/{bot}/messages`; it arrives once
//! however often the request is retried with its `Idempotency-Key`, is followed through
//! the deliveries API, and the customer's answer lands in the same conversation. Bad
//! requests are refused with the reason, and nothing reaches Telegram.

use loa_e2e::accounts::call_with_headers;

use super::*;

const SHIPPED: &str = "Đơn C123 của bạn đã được giao cho đơn vị vận chuyển 🚚";

impl Shop {
    /// A new API key of tenant `may` with `scopes`; returns the secret.
    async fn api_key(&self, scopes: &[&str]) -> String {
        let body = json!({"name": "shop backend", "scopes": scopes});
        let created = self
            .api("POST", "/v1/tenants/may/api-keys", Some(&body))
            .await;
        assert_eq!(created.status, 201, "{}", created.text());
        created.json["key"].as_str().expect("the key").to_owned()
    }

    /// `POST /v1/bots/{bot}/messages` as `token` with `idempotency_key` (if any).
    async fn send_message(
        &self,
        bot: &str,
        token: &str,
        idempotency_key: Option<&str>,
        body: &Value,
    ) -> Answer {
        let headers: Vec<(&str, &str)> = idempotency_key
            .map(|key| ("idempotency-key", key))
            .into_iter()
            .collect();
        let path = format!("/v1/bots/{bot}/messages");
        call_with_headers(
            self.server.base_url(),
            Some(token),
            "POST",
            &path,
            Some(body),
            &headers,
        )
        .await
    }
}

/// A bad request: bot, `Idempotency-Key`, body, bearer token, expected status and code.
type Case<'a> = (&'a str, Option<&'a str>, Value, &'a str, u16, &'a str);

fn shipped_notice(text: &str) -> Value {
    json!({
        "channel_id": CHANNEL,
        "to": {"channel_user_id": CHAT.to_string()},
        "message": {
            "text": text,
            "buttons": [{"title": "Theo dõi đơn", "action": {"open_url": "https://may.vn/track/C123"}}]
        }
    })
}

#[tokio::test]
async fn a_shop_system_sends_a_message_to_a_chat_once_per_key() {
    let shop = Shop::start().await;
    let key = shop.api_key(&["messages:send"]).await;

    let first = shop
        .send_message(
            "may",
            &key,
            Some("order-C123-shipped"),
            &shipped_notice(SHIPPED),
        )
        .await;
    assert_eq!(first.status, 202, "{}", first.text());
    assert_eq!(first.json["repeated"], false);
    assert_eq!(
        first.json["message"]["sender"]["kind"],
        "bot",
        "{}",
        first.text()
    );
    let delivery_id = first.json["delivery_id"].as_i64().expect("a delivery id");
    let conversation_id = first.json["conversation_id"].as_str().expect("an id");

    let sent = shop.messages_in_chat(CHAT, 1).await;
    assert_eq!(sent[0].text(), SHIPPED, "{sent:#?}");
    let keyboard = &sent[0].body["reply_markup"]["inline_keyboard"];
    assert_eq!(
        keyboard[0][0],
        json!({"text": "Theo dõi đơn", "url": "https://may.vn/track/C123"}),
        "{:#}",
        sent[0].body
    );

    // The client timed out and retries, even with another text: the first result stands.
    let retried = shop
        .send_message(
            "may",
            &key,
            Some("order-C123-shipped"),
            &shipped_notice("changed"),
        )
        .await;
    assert_eq!(retried.status, 200, "{}", retried.text());
    assert_eq!(retried.json["repeated"], true);
    assert_eq!(retried.json["delivery_id"], delivery_id);
    assert_eq!(retried.json["message"]["content"]["text"], SHIPPED);

    let path = format!("/v1/tenants/may/deliveries/{delivery_id}");
    let started = std::time::Instant::now();
    loop {
        let delivery = shop.api("GET", &path, None).await;
        if delivery.json["delivery"]["status"] == "sent" {
            assert_eq!(delivery.json["attempts"].as_array().map(Vec::len), Some(1));
            break;
        }
        assert!(started.elapsed() < WAIT, "never sent: {}", delivery.text());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // The customer answers in the chat: the same conversation, and the bot answers.
    shop.deliver(&text_update(40, CHAT, COD_QUESTION)).await;
    let replies = shop.messages_in_chat(CHAT, 2).await;
    assert!(
        replies[1].text().starts_with(COD_ANSWER_START),
        "{replies:#?}"
    );
    let conversations = shop.conversations().await;
    assert_eq!(conversations.len(), 1, "{conversations:#?}");
    assert_eq!(conversations[0]["id"], conversation_id);
    assert_eq!(
        shop.telegram.messages_to(CHAT).len(),
        2,
        "the notice went out once"
    );

    let audit = shop.api("GET", "/v1/tenants/may/audit", None).await;
    assert_eq!(
        audit.text().matches("message.send").count(),
        1,
        "{}",
        audit.text()
    );
}

#[tokio::test]
async fn bad_proactive_requests_are_refused_with_the_reason_and_nothing_is_sent() {
    let shop = Shop::start().await;
    let key = shop.api_key(&["messages:send"]).await;
    let reader = shop.api_key(&["conversations:read"]).await;
    let good = shipped_notice(SHIPPED);
    let with = |change: &dyn Fn(&mut Value)| {
        let mut body = good.clone();
        change(&mut body);
        body
    };
    let cases: Vec<Case> = vec![
        (
            "may",
            None,
            good.clone(),
            &key,
            400,
            "missing_idempotency_key",
        ),
        (
            "may",
            Some("k 1"),
            good.clone(),
            &key,
            400,
            "invalid_idempotency_key",
        ),
        (
            "may",
            Some("k2"),
            with(&|b| b["message"] = json!({})),
            &key,
            400,
            "invalid_message",
        ),
        (
            "may",
            Some("k3"),
            with(&|b| b["message"]["text"] = json!("x".repeat(4001))),
            &key,
            400,
            "invalid_message",
        ),
        (
            "may",
            Some("k4"),
            with(&|b| {
                b["message"]["buttons"][0]["action"] = json!({"open_url": "javascript:alert(1)"})
            }),
            &key,
            400,
            "invalid_message",
        ),
        (
            "may",
            Some("k5"),
            with(&|b| b["extra"] = json!(1)),
            &key,
            400,
            "invalid_json",
        ),
        (
            "may",
            Some("k6"),
            with(&|b| b["to"]["channel_user_id"] = json!("  ")),
            &key,
            400,
            "invalid_recipient",
        ),
        (
            "may",
            Some("k7"),
            with(&|b| b["channel_id"] = json!("nope")),
            &key,
            404,
            "channel_not_found",
        ),
        ("nobody", Some("k8"), good.clone(), &key, 403, "forbidden"),
        ("may", Some("k9"), good.clone(), &reader, 403, "forbidden"),
        (
            "may",
            Some("k10"),
            good.clone(),
            "loa_ak_not-a-key",
            401,
            "invalid_token",
        ),
    ];
    for (bot, idempotency_key, body, token, status, code) in cases {
        let answer = shop.send_message(bot, token, idempotency_key, &body).await;
        assert_eq!(
            (answer.status, error_code(&answer)),
            (status, code),
            "{bot} {idempotency_key:?} {body}: {}",
            answer.text()
        );
        assert!(
            answer.json["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "{}",
            answer.text()
        );
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        shop.telegram.requests().is_empty(),
        "nothing reached Telegram"
    );
    let deliveries = shop.api("GET", "/v1/tenants/may/deliveries", None).await;
    assert_eq!(
        deliveries.json["deliveries"],
        json!([]),
        "{}",
        deliveries.text()
    );
}

#[tokio::test]
async fn cards_telegram_cannot_show_arrive_as_numbered_choices_and_a_number_picks_one() {
    let shop = Shop::start().await;
    let key = shop.api_key(&["messages:send"]).await;
    let card = |title: &str, payload: &str| {
        json!({"title": title, "subtitle": "Mây", "buttons": [
            {"title": "Chọn", "action": {"postback": payload}},
            {"title": "Xem", "action": {"open_url": "https://may.vn/faq"}}
        ]})
    };
    let body = json!({
        "channel_id": CHANNEL,
        "to": {"channel_user_id": CHAT.to_string()},
        "message": {
            "text": "Bạn muốn hỏi gì ạ?",
            "cards": [card("Đổi trả thế nào?", "FAQ:returns"), card(COD_QUESTION, "FAQ:cod")]
        }
    });
    let sent = shop.send_message("may", &key, Some("menu-1"), &body).await;
    assert_eq!(sent.status, 202, "{}", sent.text());

    // Telegram declares no cards: the host numbers them, links stay as lines.
    let menu = shop.messages_in_chat(CHAT, 1).await;
    assert_eq!(
        menu[0].text(),
        format!(
            "Bạn muốn hỏi gì ạ?\n1. Đổi trả thế nào? — Mây\n   Xem: https://may.vn/faq\n\
             2. {COD_QUESTION} — Mây\n   Xem: https://may.vn/faq\nTrả lời 1 hoặc 2 để chọn."
        ),
        "{menu:#?}"
    );

    // "2" is the second card chosen: the bot answers its question.
    shop.deliver(&text_update(50, CHAT, "2")).await;
    let replies = shop.messages_in_chat(CHAT, 2).await;
    assert!(
        replies[1].text().starts_with(COD_ANSWER_START),
        "{replies:#?}"
    );
    // The history keeps what the customer typed.
    let messages = shop.messages().await;
    let typed: Vec<&Value> = messages
        .iter()
        .filter(|message| message["direction"] == "inbound")
        .map(|message| &message["content"]["text"])
        .collect();
    assert_eq!(typed, [&json!("2")], "{messages:#?}");

    // A number with no such choice is just a message.
    shop.deliver(&text_update(51, CHAT, "7")).await;
    let replies = shop.messages_in_chat(CHAT, 3).await;
    assert!(
        !replies[2].text().starts_with(COD_ANSWER_START),
        "{replies:#?}"
    );
}
