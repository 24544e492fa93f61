//! Replies on their way to Telegram: flood control waited out, a blocked bot
//! dead-lettered (listed, and retried by an admin through the deliveries API), long answers in parts (resumed, not repeated, after a failure), and
//! quick replies whose payload is over Telegram's 64 bytes coming back intact.

use super::*;

/// An FAQ answer within the FAQ's 4,000 characters that Telegram still finds too long:
/// it counts UTF-16 units, and each emoji is two (3,974 characters, 4,274 units).
fn emoji_rich_answer() -> String {
    (1..=75)
        .map(|n| format!("🎁 Ưu đãi {n:02}: giảm 5% cho đơn từ hai món 🌿 kèm quà 👕🎀"))
        .collect::<Vec<_>>()
        .join("\n")
}

pub(super) const PROMOTIONS_QUESTION: &str = "shop đang có những ưu đãi gì?";

/// Adds an FAQ entry whose answer goes out in two parts; returns the answer.
pub(super) async fn add_promotions_faq(shop: &Shop) -> String {
    let answer = emoji_rich_answer();
    let entry = json!({"id": "faq-promotions", "question": PROMOTIONS_QUESTION, "answer": answer});
    let created = shop
        .api("POST", "/v1/tenants/may/bots/may/faq", Some(&entry))
        .await;
    assert_eq!(created.status, 201, "{}", created.text());
    answer
}

fn utf16_len(text: &str) -> usize {
    text.chars().map(char::len_utf16).sum()
}

#[tokio::test]
async fn flood_control_is_waited_out_and_the_reply_arrives_once() {
    let shop = Shop::start().await;
    shop.telegram.fail_next(
        1,
        Fault::FloodControl {
            retry_after_secs: 1,
        },
    );
    shop.deliver(&text_update(10, CHAT, COD_QUESTION)).await;
    let sent = shop.messages_in_chat(CHAT, 1).await;
    assert!(sent[0].text().starts_with(COD_ANSWER_START), "{sent:#?}");

    let attempts = shop.telegram.calls_of("sendMessage");
    assert_eq!(attempts.len(), 2, "{attempts:#?}");
    assert_eq!((attempts[0].status, attempts[1].status), (429, 200));
    assert_eq!(attempts[0].body, attempts[1].body);
    // Telegram asked for a second; the dispatcher's own backoff is 300 ms.
    let waited = attempts[1].at.duration_since(attempts[0].at);
    assert!(waited >= Duration::from_millis(950), "{waited:?}");
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert_eq!(shop.telegram.messages_to(CHAT).len(), 1);
}

#[tokio::test]
async fn a_bot_blocked_by_the_customer_is_dead_lettered_after_one_try_and_retried_by_an_admin() {
    let shop = Shop::start().await;
    shop.telegram.fail_next(1, Fault::Blocked);
    shop.deliver(&text_update(11, CHAT, COD_QUESTION)).await;
    shop.telegram
        .wait_for(WAIT, |requests| !requests.is_empty())
        .await;
    // Retries would come after 300, 600, 1200 ms: none may come.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let attempts = shop.telegram.requests();
    assert_eq!(attempts.len(), 1, "{attempts:#?}");
    assert_eq!(attempts[0].status, 403);

    // The reply is stored, but was never delivered: it has no Telegram id.
    let messages = shop.messages().await;
    let reply = messages.last().expect("the bot's reply");
    assert_eq!(reply["direction"], "outbound", "{messages:#?}");
    assert_eq!(reply["channel_message_id"], Value::Null, "{reply:#}");

    // The dead letters: this reply, with the reason and its one attempt.
    let dead = shop
        .api("GET", "/v1/tenants/may/deliveries?status=dead", None)
        .await;
    assert_eq!(dead.status, 200, "{}", dead.text());
    let letters = dead.json["deliveries"].as_array().expect("a list").clone();
    assert_eq!(letters.len(), 1, "{letters:#?}");
    let letter = &letters[0];
    assert_eq!(letter["status"], "dead");
    assert_eq!(letter["attempts"], 1);
    assert_eq!(letter["message"]["id"], reply["id"], "{letter:#}");
    assert_eq!(letter["channel_id"], CHANNEL);
    let reason = letter["last_error"].as_str().unwrap_or_default();
    assert!(reason.contains("bot was blocked by the user"), "{reason}");
    let id = letter["id"].as_i64().expect("an id");
    let path = format!("/v1/tenants/may/deliveries/{id}");
    let one = shop.api("GET", &path, None).await;
    assert_eq!(one.status, 200, "{}", one.text());
    assert_eq!(one.json["attempts"].as_array().map(Vec::len), Some(1));
    assert_eq!(one.json["attempts"][0]["result"], "dead");
    assert!(one.json["attempts"][0]["elapsed_ms"].is_u64());
    let sent_so_far = shop
        .api("GET", "/v1/tenants/may/deliveries?status=sent", None)
        .await;
    assert_eq!(
        sent_so_far.json["deliveries"],
        json!([]),
        "{}",
        sent_so_far.text()
    );

    // The customer unblocks the bot; an admin retries the letter and it arrives once.
    let retried = shop.api("POST", &format!("{path}/retry"), None).await;
    assert_eq!(retried.status, 200, "{}", retried.text());
    assert_eq!(retried.json["status"], "pending", "{}", retried.text());
    let sent = shop.messages_in_chat(CHAT, 1).await;
    assert!(sent[0].text().starts_with(COD_ANSWER_START), "{sent:#?}");
    let started = std::time::Instant::now();
    let delivered = loop {
        let one = shop.api("GET", &path, None).await;
        if one.json["delivery"]["status"] == "sent" {
            break one;
        }
        assert!(
            started.elapsed() < WAIT,
            "never marked sent: {}",
            one.text()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let results: Vec<&Value> = delivered.json["attempts"]
        .as_array()
        .expect("attempts")
        .iter()
        .map(|attempt| &attempt["result"])
        .collect();
    assert_eq!(results, [&json!("dead"), &json!("sent")]);
    assert_eq!(delivered.json["attempts"][1]["attempt"], 2);
    assert!(delivered.json["attempts"][1]["provider_message_id"].is_string());

    // Only dead letters can be retried; another tenant's or a missing one is unknown.
    let again = shop.api("POST", &format!("{path}/retry"), None).await;
    assert_eq!(
        (again.status, error_code(&again)),
        (409, "not_dead"),
        "{}",
        again.text()
    );
    let missing = shop
        .api("POST", "/v1/tenants/may/deliveries/999999/retry", None)
        .await;
    assert_eq!(
        (missing.status, error_code(&missing)),
        (404, "delivery_not_found")
    );
    let bad_status = shop
        .api("GET", "/v1/tenants/may/deliveries?status=lost", None)
        .await;
    assert_eq!(
        (bad_status.status, error_code(&bad_status)),
        (400, "invalid_query")
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(shop.telegram.messages_to(CHAT).len(), 1, "sent once");
    let audit = shop.api("GET", "/v1/tenants/may/audit", None).await;
    assert!(audit.text().contains("delivery.retry"), "{}", audit.text());
}

#[tokio::test]
async fn an_answer_too_long_for_one_message_arrives_in_parts_in_order() {
    let shop = Shop::start().await;
    let answer = add_promotions_faq(&shop).await;
    assert!(answer.chars().count() <= 4000 && utf16_len(&answer) > 4096);
    shop.deliver(&text_update(12, CHAT, PROMOTIONS_QUESTION))
        .await;
    let parts = shop.messages_in_chat(CHAT, 2).await;
    assert_eq!(parts.len(), 2, "{parts:#?}");
    assert!(parts.iter().all(|part| utf16_len(part.text()) <= 4096));
    assert!(parts[0].message_id < parts[1].message_id);
    // Cut at a line break: the lines are whole, and in order.
    let texts: Vec<&str> = parts.iter().map(Recorded::text).collect();
    assert_eq!(texts.join("\n"), answer);
    assert!(texts[1].starts_with("🎁 Ưu đãi"), "{}", texts[1]);
}

#[tokio::test]
async fn a_part_refused_by_flood_control_is_resent_without_repeating_the_part_before() {
    let shop = Shop::start().await;
    let answer = add_promotions_faq(&shop).await;
    shop.telegram.pass_next(1);
    shop.telegram.fail_next(
        1,
        Fault::FloodControl {
            retry_after_secs: 1,
        },
    );
    shop.deliver(&text_update(13, CHAT, PROMOTIONS_QUESTION))
        .await;
    let parts = shop.messages_in_chat(CHAT, 2).await;
    let texts: Vec<&str> = parts.iter().map(Recorded::text).collect();
    assert_eq!(texts.join("\n"), answer);

    let attempts = shop.telegram.calls_of("sendMessage");
    let statuses: Vec<u16> = attempts.iter().map(|attempt| attempt.status).collect();
    assert_eq!(statuses, [200, 429, 200], "{attempts:#?}");
    assert_eq!(
        attempts[1].body, attempts[2].body,
        "the retry sends the second part"
    );
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert_eq!(shop.telegram.messages_to(CHAT).len(), 2);
}

#[tokio::test]
async fn a_quick_reply_with_a_payload_over_64_bytes_comes_back_whole() {
    let shop = Shop::start().await;
    shop.deliver(&text_update(20, CHAT, "chào shop")).await;
    shop.messages_in_chat(CHAT, 1).await;
    let conversation = shop.conversations().await[0]["id"]
        .as_str()
        .expect("an id")
        .to_owned();
    let path = format!("/v1/tenants/may/conversations/{conversation}");
    let taken = shop.api("POST", &format!("{path}/take"), None).await;
    assert_eq!(taken.status, 200, "{}", taken.text());

    let long = "size:M|color:trắng|product:ao-so-mi-linen-tay-dai|note:giao giờ hành chính";
    assert!(long.len() > 64);
    let reply = json!({
        "text": "Bạn chọn size nào?",
        "quick_replies": [{"title": "M", "payload": long}, {"title": "L", "payload": "size:L"}]
    });
    let replied = shop
        .api("POST", &format!("{path}/reply"), Some(&reply))
        .await;
    assert!((200..300).contains(&replied.status), "{}", replied.text());
    let requests = shop
        .telegram
        .wait_for(WAIT, |requests| {
            requests
                .iter()
                .any(|r| r.accepted() && r.text() == "Bạn chọn size nào?")
        })
        .await;
    let asked = requests
        .iter()
        .find(|r| r.text() == "Bạn chọn size nào?")
        .expect("the operator's reply");
    let chips = &asked.body["reply_markup"]["inline_keyboard"][0];
    assert_eq!(chips[1], json!({"text": "L", "callback_data": "size:L"}));
    let data = chips[0]["callback_data"].as_str().expect("callback data");
    assert!(data.len() <= 64 && data != long, "{data}");

    shop.deliver(&button_press(21, CHAT, "cbq-21", data)).await;
    assert_eq!(shop.telegram.calls_of("answerCallbackQuery").len(), 1);
    // The operator sees the press as the payload the button was given.
    shop.until(|messages| {
        messages
            .iter()
            .any(|message| message["direction"] == "inbound" && message["content"]["text"] == long)
    })
    .await;
}
