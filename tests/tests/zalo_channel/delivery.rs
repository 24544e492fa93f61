//! Replies on their way to Zalo: outages, rate limits and stalls retried into one reply,
//! a reply outside the 7-day window dead-lettered after one try, and a long answer in
//! parts, in order, a part interrupted by an outage resumed without repeating the others.

use loa::store::sqlite::SqliteStore;
use loa::store::{OutboxStatus, QueueStore};

use super::*;

#[tokio::test(flavor = "multi_thread")]
async fn outages_rate_limits_and_stalls_are_retried_into_one_reply() {
    let oa = Oa::start().await;
    oa.zalo.fail_next(1, Fault::ServerError);
    oa.zalo.fail_next(1, Fault::RateLimit);
    // Longer than the plugin waits for one call (3 s).
    oa.zalo.fail_next(1, Fault::Stall(Duration::from_secs(4)));
    oa.deliver(&text_event(LAN, "msg-retry-1", COD_QUESTION))
        .await;

    let replies = oa.replies(LAN, 1).await;
    assert_eq!(replies[0].text(), faq_answer("faq-01"));
    tokio::time::sleep(SETTLE).await;
    let sends = oa.sends();
    let outcomes: Vec<(u16, Option<i64>)> =
        sends.iter().map(|send| (send.status, send.error)).collect();
    // The stalled request gets no answer out (0: the plugin hung up first) or a late 500;
    // either way the message was not taken.
    assert!(
        matches!(
            outcomes.as_slice(),
            [
                (500, None),
                (200, Some(-32)),
                (0 | 500, None),
                (200, Some(0))
            ]
        ),
        "{sends:#?}"
    );
    assert!(sends.windows(2).all(|pair| pair[0].body == pair[1].body));
    assert_eq!(oa.zalo.delivered_to(LAN).len(), 1);
    assert!(oa.refreshes().is_empty());
    // The stall left its outcome in doubt: the conversation was read (and showed no
    // reply) before the last send.
    let reads = oa.zalo.calls_to(Endpoint::Conversation);
    assert!(!reads.is_empty(), "{:#?}", oa.zalo.requests());
    assert!(reads.iter().all(|read| read.at < sends[3].at));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_reply_outside_the_interaction_window_is_dead_lettered_after_one_try() {
    let mut oa = Oa::start().await;
    oa.zalo.fail_next(1, Fault::OutsideWindow);
    oa.deliver(&text_event(LAN, "msg-window-1", COD_QUESTION))
        .await;
    oa.zalo
        .wait_for(REPLY_TIMEOUT, |requests| !requests.is_empty())
        .await;
    // With the test's backoff a transient failure would have been retried 3 times by now.
    tokio::time::sleep(SETTLE).await;
    let sends = oa.sends();
    assert_eq!(sends.len(), 1, "retried: {sends:#?}");
    assert_eq!(sends[0].error, Some(-230));

    // The reply is stored, but was never delivered: it has no Zalo message id.
    let messages = oa.messages().await;
    let reply = messages
        .iter()
        .find(|message| message["direction"] == "outbound")
        .expect("the reply is stored");
    assert!(reply["channel_message_id"].is_null(), "{reply:#}");

    // The admin API shows no delivery state; the database does.
    let conversation = reply["conversation_id"].as_str().expect("an id").to_owned();
    assert!(oa.server.stop(), "loa serve stops cleanly");
    let store = SqliteStore::open(&oa.data.path().join("loa.sqlite3")).expect("database opens");
    let outbox = store
        .outbox_of_conversation("may", &conversation)
        .await
        .expect("outbox rows");
    assert_eq!(outbox.len(), 1, "{outbox:#?}");
    assert_eq!(outbox[0].status, OutboxStatus::Dead);
    assert_eq!(outbox[0].attempts, 1);
    let reason = outbox[0].last_error.clone().unwrap_or_default();
    assert!(
        reason.contains("-230") && reason.contains("window"),
        "{reason}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_long_answer_arrives_in_parts_in_order_once_each_even_when_a_part_fails() {
    let oa = Oa::start().await;
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
    let created = oa
        .api("POST", "/v1/tenants/may/bots/may/faq", Some(&entry))
        .await;
    assert_eq!(created.status, 201, "{}", created.text());

    // Part 1 goes through, part 2 meets an outage: the retry must not resend part 1.
    oa.zalo.pass_next(1);
    oa.zalo.fail_next(1, Fault::ServerError);
    oa.deliver(&text_event(
        LAN,
        "msg-long-1",
        "chính sách bảo hành chi tiết thế nào?",
    ))
    .await;

    oa.replies(LAN, 3).await;
    tokio::time::sleep(SETTLE).await;
    let parts = oa.zalo.delivered_to(LAN);
    let texts: Vec<&str> = parts.iter().map(Recorded::text).collect();
    // Cut between paragraphs, nothing lost, repeated or reordered.
    assert_eq!(texts, paragraphs);
    assert!(texts.iter().all(|text| text.chars().count() <= 2000));
    assert_eq!(oa.sends().len(), parts.len() + 1);
}
