//! ZNS template messages: a shop's system sends an approved template to a phone number
//! through `POST /v1/bots/{bot}/messages`; the plugin calls ZNS with the OA's token
//! (refreshed once when ZNS rejects it), the send is recorded and followed through the
//! deliveries API, a retried request sends nothing new, and a number ZNS refuses is a dead
//! letter with ZNS's reason.

use super::*;

const TEMPLATE_ID: &str = "231456";

impl Oa {
    /// A new API key of tenant `may` with `messages:send`; returns the secret.
    async fn sender_key(&self) -> String {
        let body = json!({"name": "order system", "scopes": ["messages:send"]});
        let created = self
            .api("POST", "/v1/tenants/may/api-keys", Some(&body))
            .await;
        assert_eq!(created.status, 201, "{}", created.text());
        created.json["key"].as_str().expect("the key").to_owned()
    }

    /// `POST /v1/bots/may/messages` with `key` and `idempotency_key`.
    async fn send_message(&self, key: &str, idempotency_key: &str, body: &Value) -> Answer {
        loa_e2e::accounts::call_with_headers(
            self.server.base_url(),
            Some(key),
            "POST",
            "/v1/bots/may/messages",
            Some(body),
            &[("idempotency-key", idempotency_key)],
        )
        .await
    }

    fn templates(&self) -> Vec<Recorded> {
        self.zalo.calls_to(Endpoint::Template)
    }

    /// Waits until delivery `id` is in `status`; returns its answer.
    async fn delivery_in(&self, id: i64, status: &str) -> Value {
        let path = format!("/v1/tenants/may/deliveries/{id}");
        let deadline = Instant::now() + REPLY_TIMEOUT;
        loop {
            let answer = self.api("GET", &path, None).await;
            if answer.json["delivery"]["status"] == status {
                return answer.json;
            }
            assert!(
                Instant::now() < deadline,
                "delivery {id} never {status}: {}\n{:#?}",
                answer.text(),
                self.zalo.requests()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

fn shipped(phone: &str) -> Value {
    json!({
        "channel_id": CHANNEL,
        "to": {"phone": phone},
        "template": {"id": TEMPLATE_ID, "params": {"order_code": "C123", "customer_name": "Lan"}}
    })
}

#[tokio::test]
async fn a_zns_template_reaches_a_phone_number_once_with_a_rejected_token_refreshed() {
    let oa = Oa::start().await;
    let key = oa.sender_key().await;
    // ZNS no longer takes the pasted token: the plugin must refresh it once and resend.
    oa.zalo.expire_access_tokens();

    let sent = oa
        .send_message(&key, "zns-C123", &shipped("0912 345 678"))
        .await;
    assert_eq!(sent.status, 202, "{}", sent.text());
    let id = sent.json["delivery_id"].as_i64().expect("a delivery id");
    let delivered = oa.delivery_in(id, "sent").await;

    let calls = oa.templates();
    assert_eq!(calls.len(), 2, "{calls:#?}");
    assert_eq!(calls[0].error, Some(-124), "{calls:#?}");
    assert!(calls[1].succeeded(), "{calls:#?}");
    let body = &calls[1].body;
    assert_eq!(body["phone"], "84912345678", "{body:#}");
    assert_eq!(body["template_id"], TEMPLATE_ID);
    assert_eq!(
        body["template_data"],
        json!({"customer_name": "Lan", "order_code": "C123"})
    );
    assert_eq!(body["tracking_id"], format!("loa-{id}"));
    assert_eq!(oa.refreshes().len(), 1, "one refresh");
    assert_ne!(calls[1].access_token, calls[0].access_token);
    assert_eq!(
        delivered["attempts"][0]["provider_message_id"].as_str(),
        calls[1].message_id.as_deref(),
        "{delivered:#}"
    );

    // The order system retries: the first result, nothing sent again.
    let again = oa
        .send_message(&key, "zns-C123", &shipped("0912 345 678"))
        .await;
    assert_eq!(again.status, 200, "{}", again.text());
    assert_eq!(again.json["repeated"], true);
    assert_eq!(again.json["delivery_id"], id);
    tokio::time::sleep(SETTLE).await;
    assert_eq!(oa.templates().len(), 2);
    // The phone number's conversation shows the template as sent.
    let conversations = oa.conversations().await;
    assert_eq!(conversations.len(), 1, "{conversations:#?}");
    let message = &again.json["message"]["content"]["template"];
    assert_eq!(message["id"], TEMPLATE_ID, "{}", again.text());
}

#[tokio::test]
async fn a_number_zns_refuses_is_a_dead_letter_and_bad_requests_send_nothing() {
    let oa = Oa::start().await;
    let key = oa.sender_key().await;
    // Thirteen digits: a phone number to loa, not to ZNS (-108).
    let sent = oa
        .send_message(&key, "zns-bad-phone", &shipped("8412345678901"))
        .await;
    assert_eq!(sent.status, 202, "{}", sent.text());
    let id = sent.json["delivery_id"].as_i64().expect("a delivery id");
    let dead = oa.delivery_in(id, "dead").await;
    let reason = dead["delivery"]["last_error"].as_str().unwrap_or_default();
    assert!(reason.contains("-108"), "{reason}");
    assert_eq!(
        oa.templates().len(),
        1,
        "a permanent refusal is not retried"
    );

    let refused = [
        (
            json!({"channel_id": CHANNEL, "to": {"channel_user_id": LAN}, "template": {"id": TEMPLATE_ID}}),
            "invalid_recipient",
        ),
        (
            json!({"channel_id": CHANNEL, "to": {"phone": "not a phone"}, "template": {"id": TEMPLATE_ID}}),
            "invalid_recipient",
        ),
        (
            json!({"channel_id": CHANNEL, "to": {"phone": "0912345678"}, "template": {"id": ""}}),
            "invalid_message",
        ),
        (
            json!({"channel_id": CHANNEL, "to": {"phone": "0912345678"},
                   "template": {"id": TEMPLATE_ID}, "message": {"text": "hi"}}),
            "invalid_message",
        ),
        (
            json!({"channel_id": "widget-may", "to": {"phone": "0912345678"}, "template": {"id": TEMPLATE_ID}}),
            "invalid_message",
        ),
        (
            json!({"channel_id": CHANNEL, "to": {"phone": "0912345678"}, "message": {"text": "hi"}}),
            "invalid_recipient",
        ),
    ];
    for (n, (body, code)) in refused.iter().enumerate() {
        let answer = oa.send_message(&key, &format!("bad-{n}"), body).await;
        assert_eq!(
            (answer.status, answer.json["error"]["code"].as_str()),
            (400, Some(*code)),
            "{body}: {}",
            answer.text()
        );
    }
    tokio::time::sleep(SETTLE).await;
    assert_eq!(oa.templates().len(), 1, "nothing more reached ZNS");
}
