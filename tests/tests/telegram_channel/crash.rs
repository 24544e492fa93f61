//! `loa serve` killed (SIGKILL) while a reply is on its way to Telegram, then restarted on
//! the same data: the restarted host asks the plugin whether the reply arrived before
//! sending it again (`check-sent`). The Bot API keeps no history a bot can read, so the
//! plugin probes the chat's message ids with `editMessageText` and the reply's exact text:
//! Telegram answers "message is not modified" only for a message of the bot with that id
//! and that content, and a probe never changes a message. A reply Telegram took is found
//! that way and not sent twice; one Telegram never took is sent once. Also: the stub
//! answers `editMessageText` as Telegram does, refusals byte for byte.

use loa::delivery::dispatcher::ARRIVED_BEFORE_NOTE;

use super::*;

/// Longer than the test: the killed host never hears back from the stub.
const HELD: Duration = Duration::from_secs(120);

/// A lease and some polls: time enough for a second send, which must not come.
const AFTER_LEASE: Duration = Duration::from_millis(1500);

/// Telegram's answer when an edit would change nothing: the probe's "it is there".
const NOT_MODIFIED: &str = "Bad Request: message is not modified: specified new message \
    content and reply markup are exactly the same as a current content and reply markup of \
    the message";

impl Shop {
    /// Kills `loa serve` at once (SIGKILL) and starts it again on the same data.
    async fn crash_and_restart(&mut self) {
        self.server.crash_and_restart(self.data.path()).await;
    }

    /// The only delivery with its attempts, once it is `sent`.
    async fn sent_delivery(&self) -> Value {
        channels::only_sent_delivery(self.server.base_url(), &self.token, WAIT, || {
            self.server.stderr()
        })
        .await
    }

    /// The COD question as update `update_id`, its message numbered by the stub as
    /// Telegram numbers the bot's private chats, at the moment the customer sends it.
    fn numbered_question(&self, update_id: i64) -> Value {
        self.numbered(update_id, COD_QUESTION)
    }

    /// Update `update_id` saying `text`, numbered as [`Shop::numbered_question`].
    fn numbered(&self, update_id: i64, text: &str) -> Value {
        let mut update = text_update(update_id, CHAT, text);
        update["message"]["message_id"] = json!(self.telegram.customer_message(CHAT));
        update
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_reply_telegram_took_before_the_host_was_killed_is_found_and_not_sent_again() {
    let mut shop = Shop::launch(channels::SHORT_LEASE_HOST_CONFIG).await;
    shop.telegram.fail_next(1, Fault::TakeAndHold(HELD));
    shop.deliver(&shop.numbered_question(40)).await;
    let taken = shop.messages_in_chat(CHAT, 1).await;
    let taken_id = taken[0].message_id.expect("the stub gave the reply an id");
    shop.crash_and_restart().await;

    let delivery = shop.sent_delivery().await;
    tokio::time::sleep(AFTER_LEASE).await;
    let sends = shop.telegram.calls_of("sendMessage");
    let accepted = sends.iter().filter(|send| send.accepted()).count();
    assert_eq!(accepted, 1, "sent again: {sends:#?}");
    let attempt = channels::only_attempt_after_restart(&delivery);
    assert_eq!(attempt["result"], "sent", "{delivery:#}");
    assert_eq!(attempt["provider_message_id"], json!(taken_id.to_string()));
    let response = attempt["provider_response"].as_str().unwrap_or_default();
    assert!(response.starts_with(ARRIVED_BEFORE_NOTE), "{response}");

    // The restarted host probed the chat with the reply's exact text; the last probe hit
    // the taken reply, and no probe changed a message.
    let probes = shop.telegram.calls_of("editMessageText");
    assert!(
        !probes.is_empty(),
        "no probe: {:#?}",
        shop.telegram.requests()
    );
    for probe in &probes {
        assert_eq!(probe.chat(), Some(CHAT.to_string()), "{probe:#?}");
        assert_eq!(probe.text(), taken[0].text(), "{probe:#?}");
        assert!(probe.at > taken[0].at, "{probe:#?}");
    }
    let last = probes.last().expect("a probe");
    assert_eq!(
        (last.status, last.description.as_deref()),
        (400, Some(NOT_MODIFIED)),
        "{probes:#?}"
    );
    let edited = probes.iter().filter(|probe| probe.accepted()).count();
    assert_eq!(edited, 0, "{probes:#?}");
    let shown = shop.telegram.bot_messages_in(CHAT);
    assert_eq!(shown, [(taken_id, taken[0].text().to_owned())]);

    // The stored reply carries the id Telegram gave the copy it took.
    let messages = shop.messages().await;
    let outbound = messages
        .iter()
        .find(|message| message["direction"] == "outbound")
        .expect("the reply is stored");
    assert_eq!(outbound["channel_message_id"], json!(taken_id.to_string()));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_long_reply_whose_second_part_telegram_took_before_the_kill_is_not_sent_again() {
    let mut shop = Shop::launch(channels::SHORT_LEASE_HOST_CONFIG).await;
    let answer = super::delivery::add_promotions_faq(&shop).await;
    shop.telegram.pass_next(1);
    shop.telegram.fail_next(1, Fault::TakeAndHold(HELD));
    shop.deliver(&shop.numbered(42, super::delivery::PROMOTIONS_QUESTION))
        .await;
    let parts = shop.messages_in_chat(CHAT, 2).await;
    shop.crash_and_restart().await;

    let delivery = shop.sent_delivery().await;
    tokio::time::sleep(AFTER_LEASE).await;
    let sends = shop.telegram.calls_of("sendMessage");
    assert_eq!(sends.len(), 2, "a part sent again: {sends:#?}");
    let texts: Vec<&str> = parts.iter().map(Recorded::text).collect();
    assert_eq!(texts.join("\n"), answer);
    // The look-up counted from the first part's id, so it never tried that part's message
    // with the second part's text, and found the second.
    let first_id = parts[0].message_id.expect("an id");
    let second_id = parts[1].message_id.expect("an id");
    let probes = shop.telegram.calls_of("editMessageText");
    assert!(!probes.is_empty(), "{:#?}", shop.telegram.requests());
    for probe in &probes {
        assert_eq!(probe.text(), texts[1], "{probe:#?}");
        assert!(
            probe.body["message_id"].as_i64() > Some(first_id),
            "{probe:#?}"
        );
        assert!(!probe.accepted(), "{probe:#?}");
    }
    assert_eq!(
        probes.last().expect("a probe").body["message_id"],
        second_id
    );
    let attempt = channels::only_attempt_after_restart(&delivery);
    assert_eq!(attempt["result"], "sent", "{delivery:#}");
    assert_eq!(attempt["provider_message_id"], json!(second_id.to_string()));
    let response = attempt["provider_response"].as_str().unwrap_or_default();
    assert!(response.starts_with(ARRIVED_BEFORE_NOTE), "{response}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_reply_telegram_never_took_before_the_host_was_killed_is_sent_once_after_restart() {
    let mut shop = Shop::launch(channels::SHORT_LEASE_HOST_CONFIG).await;
    shop.telegram.fail_next(1, Fault::Stall(HELD));
    shop.deliver(&shop.numbered_question(41)).await;
    shop.telegram
        .wait_for(WAIT, |requests| {
            requests.iter().any(|r| r.method == "sendMessage")
        })
        .await;
    shop.crash_and_restart().await;

    let replies = shop.messages_in_chat(CHAT, 1).await;
    assert!(
        replies[0].text().starts_with(COD_ANSWER_START),
        "{replies:#?}"
    );
    let delivery = shop.sent_delivery().await;
    tokio::time::sleep(AFTER_LEASE).await;
    assert_eq!(
        shop.telegram.messages_to(CHAT).len(),
        1,
        "{:#?}",
        shop.telegram.requests()
    );
    // The stalled send, never answered (the stub records it on arrival, status 0, and
    // its task went with the killed host's connection), and the one after the restart.
    let sends = shop.telegram.calls_of("sendMessage");
    let statuses: Vec<u16> = sends.iter().map(|send| send.status).collect();
    assert_eq!(statuses, [0, 200], "{sends:#?}");
    let attempt = channels::only_attempt_after_restart(&delivery);
    assert_eq!(attempt["result"], "sent", "{delivery:#}");
    let reply_id = replies[0]
        .message_id
        .expect("the stub gave the reply an id");
    assert_eq!(attempt["provider_message_id"], json!(reply_id.to_string()));
    let response = attempt["provider_response"].as_str().unwrap_or_default();
    assert!(!response.starts_with(ARRIVED_BEFORE_NOTE), "{response}");
    // It probed first, found nothing, and sent.
    let probes = shop.telegram.calls_of("editMessageText");
    assert!(!probes.is_empty(), "{:#?}", shop.telegram.requests());
    assert!(
        probes.iter().all(|probe| probe.at < replies[0].at),
        "{probes:#?}"
    );
    assert!(!probes.iter().any(Recorded::accepted), "{probes:#?}");
}

/// What a plugin's probe meets: each refusal `editMessageText` can give, byte for byte as
/// Telegram writes it, and an edit that does change a message.
#[tokio::test]
async fn the_stub_answers_edit_message_text_as_telegram_does() {
    let telegram = TelegramApi::start(BOT_TOKEN).await;
    let url = |method: &str| format!("{}/bot{BOT_TOKEN}/{method}", telegram.base_url);
    let post = |method: &str, body: Value| {
        let url = url(method);
        async move {
            let headers = [("content-type", "application/json")];
            send("POST", &url, &headers, body.to_string().into_bytes()).await
        }
    };
    let keyboard = json!({"inline_keyboard": [[{"text": "M", "callback_data": "size:M"}]]});
    // One counter for the customer's messages and the bot's, across chats.
    assert_eq!(telegram.customer_message(CHAT), 1);
    let plain = post("sendMessage", json!({"chat_id": CHAT, "text": "Có ạ"})).await;
    assert_eq!(plain.json["result"]["message_id"], 2, "{}", plain.text());
    let with_keyboard = json!({"chat_id": CHAT, "text": "Size nào?", "reply_markup": keyboard});
    let asked = post("sendMessage", with_keyboard).await;
    assert_eq!(asked.json["result"]["message_id"], 3, "{}", asked.text());
    let photo = json!({"chat_id": CHAT, "photo": "https://shop.example/ao.jpg", "caption": "Áo"});
    assert_eq!(
        post("sendPhoto", photo).await.json["result"]["message_id"],
        4
    );
    let elsewhere = post("sendMessage", json!({"chat_id": 8002, "text": "Có ạ"})).await;
    assert_eq!(elsewhere.json["result"]["message_id"], 5);
    assert_eq!(telegram.customer_message(CHAT), 6);

    let refused = |description: &str| {
        format!(r#"{{"ok":false,"error_code":400,"description":"Bad Request: {description}"}}"#)
    };
    let cases = [
        (json!({"message_id": 2, "text": "Có ạ"}), "chat_id is empty"),
        (
            json!({"chat_id": CHAT, "text": "Có ạ"}),
            "message identifier is not specified",
        ),
        (
            json!({"chat_id": CHAT, "message_id": "two", "text": "Có ạ"}),
            "message identifier is not specified",
        ),
        (
            json!({"chat_id": CHAT, "message_id": 2}),
            "message text is empty",
        ),
        (
            json!({"chat_id": CHAT, "message_id": 2, "text": " "}),
            "message text is empty",
        ),
        (
            json!({"chat_id": CHAT, "message_id": 99, "text": "Có ạ"}),
            "message to edit not found",
        ),
        // Message 5 is the bot's, in another chat.
        (
            json!({"chat_id": CHAT, "message_id": 5, "text": "Có ạ"}),
            "message to edit not found",
        ),
        (
            json!({"chat_id": CHAT, "message_id": 1, "text": "Có ạ"}),
            "message can't be edited",
        ),
        (
            json!({"chat_id": CHAT, "message_id": 4, "text": "Áo"}),
            "there is no text in the message to edit",
        ),
        (
            json!({"chat_id": CHAT, "message_id": 2, "text": "Có ạ"}),
            &NOT_MODIFIED["Bad Request: ".len()..],
        ),
        // A chat id as a string, an empty keyboard: the same message, the same content.
        (
            json!({"chat_id": CHAT.to_string(), "message_id": "2", "text": "Có ạ",
                   "reply_markup": {"inline_keyboard": []}}),
            &NOT_MODIFIED["Bad Request: ".len()..],
        ),
        (
            json!({"chat_id": CHAT, "message_id": 3, "text": "Size nào?", "reply_markup": keyboard}),
            &NOT_MODIFIED["Bad Request: ".len()..],
        ),
    ];
    for (body, description) in cases {
        let answer = post("editMessageText", body.clone()).await;
        assert_eq!(answer.status, 400, "{body}: {}", answer.text());
        assert_eq!(answer.text(), refused(description), "{body}");
    }
    let forged = format!("{}/bot123456789:forged/editMessageText", telegram.base_url);
    let body = json!({"chat_id": CHAT, "message_id": 2, "text": "Có ạ"});
    let unauthorized = send("POST", &forged, &[], body.to_string().into_bytes()).await;
    assert_eq!(
        (unauthorized.status, unauthorized.text()),
        (
            401,
            r#"{"ok":false,"error_code":401,"description":"Unauthorized"}"#.to_owned()
        )
    );

    // Without its keyboard, message 3 is another message: the edit goes through.
    let unkeyed = json!({"chat_id": CHAT, "message_id": 3, "text": "Size nào?"});
    let edited = post("editMessageText", unkeyed.clone()).await;
    assert_eq!(edited.status, 200, "{}", edited.text());
    assert_eq!(edited.json["ok"], true);
    let result = &edited.json["result"];
    assert_eq!(
        (
            &result["message_id"],
            &result["text"],
            &result["chat"]["id"]
        ),
        (&json!(3), &json!("Size nào?"), &json!(CHAT))
    );
    assert!(
        result["edit_date"]
            .as_u64()
            .is_some_and(|at| at > 1_700_000_000)
    );
    assert_eq!(result.get("reply_markup"), None, "{result:#}");
    let again = post("editMessageText", unkeyed).await;
    assert!(
        again.text().contains("message is not modified"),
        "{}",
        again.text()
    );
    let text_edit = json!({"chat_id": CHAT, "message_id": 2, "text": "Có ạ, COD"});
    assert_eq!(post("editMessageText", text_edit).await.status, 200);
    assert_eq!(
        telegram.bot_messages_in(CHAT),
        [
            (2, "Có ạ, COD".to_owned()),
            (3, "Size nào?".to_owned()),
            (4, "Áo".to_owned())
        ]
    );

    // Planned faults meet an edit like any call; the record says what each got.
    telegram.fail_next(1, Fault::ServerError);
    let failed = post(
        "editMessageText",
        json!({"chat_id": CHAT, "message_id": 2, "text": "x"}),
    )
    .await;
    assert_eq!(failed.status, 500, "{}", failed.text());
    let edits = telegram.calls_of("editMessageText");
    let ids: Vec<Option<i64>> = edits.iter().map(|edit| edit.message_id).collect();
    let mut expected = vec![None; 12];
    expected.extend([None, Some(3), None, Some(2), None]);
    assert_eq!(ids, expected, "{edits:#?}");
    assert_eq!(
        edits[5].description.as_deref(),
        Some("Bad Request: message to edit not found")
    );
}
