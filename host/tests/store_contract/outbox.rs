//! The outbox and the delivery log.

use std::collections::HashSet;
use std::sync::Arc;

use loa::conversation::model::Conversation;
use loa::store::{
    AttemptResult, DeliveryAttempt, OutboxItem, OutboxStatus, ProviderIdsBefore, Store,
    TurnCommitted,
};

use crate::seed::{Shop, T0, channel, conversation, event, insert, shop, text, turn};

crate::contract!(
    the_outbox_hands_out_one_row_per_conversation_in_order,
    a_retried_row_comes_back_at_its_time_then_is_sent,
    a_dead_row_lets_its_conversations_next_reply_through,
    an_expired_outbox_lease_is_handed_out_again,
    delivered_before_names_the_last_reply_the_provider_took,
    provider_ids_before_start_at_the_conversations_last_message_and_stay_on_its_channel,
    a_retry_in_doubt_hands_its_start_to_the_next_claims_until_an_answer_settles_it,
    an_outbox_claim_takes_expired_leases_then_fills_its_limit_with_ready_rows,
    queue_depths_count_waiting_and_dead_work,
    simultaneous_outbox_claims_never_share_a_conversation,
);

const LEASE: i64 = 30_000;

/// Commits a turn of `conversation` with `replies`; returns their message ids.
async fn replies(
    store: &dyn Store,
    conversation: &Conversation,
    key: &str,
    replies: &[&str],
) -> Vec<i64> {
    match store
        .commit_turn(&turn(conversation, key, replies))
        .await
        .expect("commit")
    {
        TurnCommitted::Stored(messages) => messages.iter().map(|message| message.id).collect(),
        other => panic!("expected stored replies, got {other:?}"),
    }
}

fn attempt(item: &OutboxItem, result: AttemptResult, at_ms: i64) -> DeliveryAttempt {
    DeliveryAttempt {
        outbox_id: item.row.id,
        attempt: item.row.attempts,
        result,
        provider_response: Some(r#"{"error":0}"#.into()),
        elapsed_ms: 42,
        at_ms,
    }
}

fn contents(items: &[OutboxItem]) -> Vec<String> {
    items
        .iter()
        .filter_map(|item| item.message.content.text.clone())
        .collect()
}

async fn the_outbox_hands_out_one_row_per_conversation_in_order(store: Arc<dyn Store>) {
    let shop = shop(&*store, "may").await;
    let a = conversation(&*store, &shop, "ua").await;
    let b = conversation(&*store, &shop, "ub").await;
    let a_messages = replies(&*store, &a, "a-1", &["a first", "a second"]).await;
    replies(&*store, &b, "b-1", &["b first"]).await;

    let claimed = store.outbox_claim(T0, LEASE, 10).await.expect("claim");
    assert_eq!(contents(&claimed), ["a first", "b first"]);
    let first = &claimed[0];
    assert_eq!(
        (first.row.status, first.row.attempts),
        (OutboxStatus::Sending, 1)
    );
    assert_eq!(first.row.message_id, a_messages[0]);
    assert_eq!(first.message.id, a_messages[0]);
    assert_eq!(
        (
            first.row.tenant_id.as_str(),
            first.row.conversation_id.as_str()
        ),
        ("may", a.id.as_str())
    );
    assert_eq!(first.row.channel_id, shop.channel);
    assert_eq!(
        store.outbox_row(first.row.id).await.expect("row"),
        Some(first.row.clone())
    );
    assert!(
        store
            .outbox_claim(T0, LEASE, 10)
            .await
            .expect("claim")
            .is_empty()
    );

    let sent = AttemptResult::Sent {
        provider_message_id: Some("zalo-msg-1".into()),
    };
    store
        .outbox_record_attempt(&attempt(first, sent, T0 + 5))
        .await
        .expect("sent");
    let next = store.outbox_claim(T0 + 6, LEASE, 10).await.expect("claim");
    assert_eq!(contents(&next), ["a second"]);
    assert_eq!(next[0].message.content, text("a second"));
}

async fn a_retried_row_comes_back_at_its_time_then_is_sent(store: Arc<dyn Store>) {
    let shop = shop(&*store, "may").await;
    let a = conversation(&*store, &shop, "ua").await;
    let ids = replies(&*store, &a, "a-1", &["hello"]).await;
    let first = store
        .outbox_claim(T0, LEASE, 10)
        .await
        .expect("claim")
        .remove(0);
    let retry = AttemptResult::Retry {
        reason: "HTTP 503".into(),
        at_ms: T0 + 2_000,
        in_doubt: false,
    };
    store
        .outbox_record_attempt(&attempt(&first, retry.clone(), T0 + 10))
        .await
        .expect("retry");

    let row = store
        .outbox_row(first.row.id)
        .await
        .expect("row")
        .expect("exists");
    assert_eq!((row.status, row.attempts), (OutboxStatus::Failed, 1));
    assert_eq!(
        (row.last_error.as_deref(), row.next_attempt_at_ms),
        (Some("HTTP 503"), T0 + 2_000)
    );
    assert!(
        store
            .outbox_claim(T0 + 1_999, LEASE, 10)
            .await
            .expect("claim")
            .is_empty()
    );

    let second = store
        .outbox_claim(T0 + 2_000, LEASE, 10)
        .await
        .expect("claim")
        .remove(0);
    assert_eq!((second.row.id, second.row.attempts), (first.row.id, 2));
    let sent = AttemptResult::Sent {
        provider_message_id: Some("zalo-msg-9".into()),
    };
    store
        .outbox_record_attempt(&attempt(&second, sent.clone(), T0 + 2_050))
        .await
        .expect("sent");

    let row = store
        .outbox_row(first.row.id)
        .await
        .expect("row")
        .expect("exists");
    assert_eq!((row.status, row.last_error), (OutboxStatus::Sent, None));
    let message = store
        .latest_messages("may", &a.id, 1)
        .await
        .expect("read")
        .remove(0);
    assert_eq!(
        (message.id, message.channel_message_id.as_deref()),
        (ids[0], Some("zalo-msg-9"))
    );

    let log = store.delivery_log(first.row.id).await.expect("log");
    assert_eq!(
        log,
        [
            attempt(&first, retry, T0 + 10),
            attempt(&second, sent, T0 + 2_050)
        ]
    );
    assert!(
        store
            .delivery_log(first.row.id + 1_000)
            .await
            .expect("log")
            .is_empty()
    );
    assert!(
        store
            .outbox_claim(T0 + 3_600_000, LEASE, 10)
            .await
            .expect("claim")
            .is_empty()
    );
}

async fn a_dead_row_lets_its_conversations_next_reply_through(store: Arc<dyn Store>) {
    let shop = shop(&*store, "may").await;
    let a = conversation(&*store, &shop, "ua").await;
    replies(&*store, &a, "a-1", &["doomed", "next"]).await;
    let first = store
        .outbox_claim(T0, LEASE, 10)
        .await
        .expect("claim")
        .remove(0);
    let dead = AttemptResult::Dead {
        reason: "user blocked the OA".into(),
    };
    store
        .outbox_record_attempt(&attempt(&first, dead, T0 + 1))
        .await
        .expect("dead");

    let row = store
        .outbox_row(first.row.id)
        .await
        .expect("row")
        .expect("exists");
    assert_eq!(
        (row.status, row.last_error.as_deref()),
        (OutboxStatus::Dead, Some("user blocked the OA"))
    );
    assert_eq!(
        contents(&store.outbox_claim(T0 + 2, LEASE, 10).await.expect("claim")),
        ["next"]
    );
    assert_eq!(
        store
            .outbox_row(first.row.id)
            .await
            .expect("row")
            .expect("exists")
            .status,
        OutboxStatus::Dead
    );
}

async fn an_expired_outbox_lease_is_handed_out_again(store: Arc<dyn Store>) {
    let shop = shop(&*store, "may").await;
    let a = conversation(&*store, &shop, "ua").await;
    replies(&*store, &a, "a-1", &["one", "two"]).await;
    let first = store
        .outbox_claim(T0, 1_000, 10)
        .await
        .expect("claim")
        .remove(0);
    assert!(
        store
            .outbox_claim(T0 + 1_000, 1_000, 10)
            .await
            .expect("claim")
            .is_empty()
    );
    let again = store
        .outbox_claim(T0 + 1_001, 1_000, 10)
        .await
        .expect("claim");
    assert_eq!(
        again.len(),
        1,
        "only the expired row, not the conversation's next"
    );
    assert_eq!((again[0].row.id, again[0].row.attempts), (first.row.id, 2));
    assert_eq!(
        first.lost_send_started_ms, None,
        "a first claim lost nothing"
    );
    assert_eq!(
        again[0].lost_send_started_ms,
        Some(T0),
        "taken from an expired lease: the send that began at the first claim may have arrived"
    );
    // Recorded, failed and claimed again at its time: that send's outcome is known.
    let retry = AttemptResult::Retry {
        reason: "HTTP 503".into(),
        at_ms: T0 + 2_000,
        in_doubt: false,
    };
    store
        .outbox_record_attempt(&attempt(&again[0], retry, T0 + 1_100))
        .await
        .expect("retry");
    let retried = store
        .outbox_claim(T0 + 2_000, 1_000, 10)
        .await
        .expect("claim");
    assert_eq!(retried[0].row.id, first.row.id);
    assert_eq!(retried[0].lost_send_started_ms, None);
}

async fn delivered_before_names_the_last_reply_the_provider_took(store: Arc<dyn Store>) {
    let shop = shop(&*store, "may").await;
    let a = conversation(&*store, &shop, "ua").await;
    let b = conversation(&*store, &shop, "ub").await;
    let ids = replies(&*store, &a, "a-1", &["one", "two", "three"]).await;
    let b_ids = replies(&*store, &b, "b-1", &["b one"]).await;
    let before = |message_id| {
        let store = Arc::clone(&store);
        let conversation = a.id.clone();
        async move {
            store
                .delivered_before("may", &conversation, message_id)
                .await
                .expect("delivered before")
        }
    };
    assert_eq!(before(ids[1]).await, None, "nothing delivered yet");

    let claimed = store.outbox_claim(T0, LEASE, 10).await.expect("claim");
    for (item, provider_id) in claimed.iter().zip(["m_a1", "m_b1"]) {
        let sent = AttemptResult::Sent {
            provider_message_id: Some(provider_id.into()),
        };
        store
            .outbox_record_attempt(&attempt(item, sent, T0 + 5))
            .await
            .expect("sent");
    }
    assert_eq!(before(ids[1]).await.as_deref(), Some("m_a1"));
    assert_eq!(before(ids[2]).await.as_deref(), Some("m_a1"));
    assert_eq!(
        before(ids[0]).await,
        None,
        "only replies before the message"
    );
    assert_eq!(
        store
            .delivered_before("other-tenant", &a.id, ids[2])
            .await
            .expect("delivered before"),
        None,
        "another tenant's conversation"
    );
    assert_eq!(
        store
            .delivered_before("may", &b.id, b_ids[0] + 1)
            .await
            .expect("delivered before")
            .as_deref(),
        Some("m_b1")
    );
}

async fn provider_ids_before_start_at_the_conversations_last_message_and_stay_on_its_channel(
    store: Arc<dyn Store>,
) {
    let shop = shop(&*store, "may").await;
    let elsewhere = Shop {
        channel: "may-tg".into(),
        ..shop.clone()
    };
    store
        .put_channel(&channel(&shop.tenant, &shop.bot, &elsewhere.channel))
        .await
        .expect("put channel");
    let a = conversation(&*store, &shop, "ua").await;
    let b = conversation(&*store, &shop, "ub").await;
    let other = conversation(&*store, &elsewhere, "ua").await;
    let said = |conversation: Conversation, provider_id: &'static str, at: i64| {
        let store = Arc::clone(&store);
        async move {
            store
                .record_inbound(&conversation, provider_id, &text("hi"), at)
                .await
                .expect("inbound")
                .0
                .id
        }
    };
    said(b.clone(), "10", T0).await;
    said(other.clone(), "900", T0 + 1).await;
    insert(&*store, &event(&shop, "11", "ua")).await;
    let asked = said(a.clone(), "11", T0 + 2).await;
    // Received after a's question, not answered yet: only in the inbox.
    insert(&*store, &event(&shop, "14", "uc")).await;
    insert(&*store, &event(&elsewhere, "901", "ua")).await;
    let ids = replies(&*store, &a, "a-1", &["one", "two"]).await;
    replies(&*store, &b, "b-1", &["b one"]).await;
    let before = |message_id| {
        let store = Arc::clone(&store);
        let conversation = a.id.clone();
        async move {
            store
                .provider_ids_before("may", &conversation, message_id)
                .await
                .expect("provider ids")
        }
    };
    let strings = |ids: &[&str]| ids.iter().map(|id| (*id).to_owned()).collect::<Vec<_>>();
    let sorted = |mut ids: Vec<String>| {
        ids.sort();
        ids
    };
    let first = before(ids[0]).await;
    assert_eq!(
        first.last.as_deref(),
        Some("11"),
        "the customer's message it answers"
    );
    assert_eq!(
        sorted(first.channel),
        strings(&["10", "11", "11", "14"]),
        "the channel's messages stored a little before it, and those received since"
    );
    assert_eq!(
        before(asked).await,
        ProviderIdsBefore::default(),
        "nothing before a conversation's first message"
    );

    // a's first reply and b's go out; a's second is next.
    let claimed = store.outbox_claim(T0, LEASE, 10).await.expect("claim");
    assert_eq!(claimed.len(), 2);
    for (item, provider_id) in claimed.iter().zip(["12", "13"]) {
        let sent = AttemptResult::Sent {
            provider_message_id: Some(provider_id.into()),
        };
        store
            .outbox_record_attempt(&attempt(item, sent, T0 + 5))
            .await
            .expect("sent");
    }
    let second = before(ids[1]).await;
    assert_eq!(second.last.as_deref(), Some("12"));
    assert_eq!(
        sorted(second.channel),
        strings(&["10", "11", "11", "12", "13", "14"]),
        "every delivered message of the channel, none of another channel's"
    );
    assert_eq!(
        store
            .provider_ids_before("other-tenant", &a.id, ids[1])
            .await
            .expect("provider ids"),
        ProviderIdsBefore::default(),
        "another tenant's conversation"
    );
}

async fn an_outbox_claim_takes_expired_leases_then_fills_its_limit_with_ready_rows(
    store: Arc<dyn Store>,
) {
    let shop = shop(&*store, "may").await;
    let stuck = conversation(&*store, &shop, "us").await;
    replies(&*store, &stuck, "s-1", &["stuck"]).await;
    let stuck_row = store.outbox_claim(T0, 1_000, 1).await.expect("claim")[0]
        .row
        .id;
    let flying = conversation(&*store, &shop, "uf").await;
    replies(&*store, &flying, "f-1", &["in flight"]).await;
    assert_eq!(
        store
            .outbox_claim(T0 + 900, 1_000, 1)
            .await
            .expect("claim")
            .len(),
        1
    );
    let mut ready = Vec::new();
    for user in ["ua", "ub", "uc"] {
        let waiting = conversation(&*store, &shop, user).await;
        replies(&*store, &waiting, &format!("{user}-1"), &["ready"]).await;
        ready.push(waiting.id);
    }

    // At T0 + 1_500 the first lease ran out, the second did not.
    let claimed = store
        .outbox_claim(T0 + 1_500, 1_000, 3)
        .await
        .expect("claim");
    assert_eq!(claimed[0].row.id, stuck_row, "the expired lease first");
    assert_eq!(claimed[0].row.attempts, 2);
    assert_eq!(
        claimed[1..]
            .iter()
            .map(|item| item.row.conversation_id.as_str())
            .collect::<Vec<_>>(),
        [ready[0].as_str(), ready[1].as_str()],
        "then the oldest ready rows up to the limit"
    );
}

async fn queue_depths_count_waiting_and_dead_work(store: Arc<dyn Store>) {
    let shop = shop(&*store, "may").await;
    assert_eq!(
        store.queue_depths().await.expect("depths"),
        Default::default()
    );
    for user in ["u1", "u2"] {
        crate::seed::insert(
            &*store,
            &crate::seed::event(&shop, &format!("{user}-m"), user),
        )
        .await;
    }
    let done = crate::seed::insert(&*store, &crate::seed::event(&shop, "u3-m", "u3")).await;
    store.inbox_finish(done).await.expect("finish");
    let a = conversation(&*store, &shop, "ua").await;
    let b = conversation(&*store, &shop, "ub").await;
    replies(&*store, &a, "a-1", &["one", "two"]).await;
    replies(&*store, &b, "b-1", &["three"]).await;
    let claimed = store.outbox_claim(T0, LEASE, 10).await.expect("claim");
    let dead = AttemptResult::Dead {
        reason: "gone".into(),
    };
    store
        .outbox_record_attempt(&attempt(&claimed[1], dead, T0))
        .await
        .expect("dead");
    let sent = AttemptResult::Sent {
        provider_message_id: None,
    };
    store
        .outbox_record_attempt(&attempt(&claimed[0], sent, T0))
        .await
        .expect("sent");

    let depths = store.queue_depths().await.expect("depths");
    assert_eq!((depths.inbox, depths.outbox, depths.dead), (2, 1, 1));
}

async fn simultaneous_outbox_claims_never_share_a_conversation(store: Arc<dyn Store>) {
    let shop = shop(&*store, "may").await;
    let mut conversations = Vec::new();
    for user in 0..5 {
        let conversation = conversation(&*store, &shop, &format!("u{user}")).await;
        replies(
            &*store,
            &conversation,
            &format!("turn-{user}"),
            &["one", "two", "three"],
        )
        .await;
        conversations.push(conversation.id);
    }
    let claims: Vec<_> = (0..8)
        .map(|_| {
            let store = Arc::clone(&store);
            tokio::spawn(async move { store.outbox_claim(T0, LEASE, 2).await })
        })
        .collect();
    let mut rows = HashSet::new();
    let mut busy = HashSet::new();
    for claim in claims {
        for item in claim.await.expect("task").expect("claim") {
            assert!(
                rows.insert(item.row.id),
                "row {} handed out twice",
                item.row.id
            );
            assert!(
                busy.insert(item.row.conversation_id.clone()),
                "two rows of one conversation"
            );
            assert_eq!(item.message.content, text("one"));
        }
    }
    assert_eq!(busy.len(), conversations.len());
}

async fn a_retry_in_doubt_hands_its_start_to_the_next_claims_until_an_answer_settles_it(
    store: Arc<dyn Store>,
) {
    let shop = shop(&*store, "may").await;
    let a = conversation(&*store, &shop, "ua").await;
    replies(&*store, &a, "a-1", &["one"]).await;
    let retry = |in_doubt, at_ms| AttemptResult::Retry {
        reason: "no answer".into(),
        at_ms,
        in_doubt,
    };
    let record = |item: &OutboxItem, result, at_ms| {
        let mut attempt = attempt(item, result, at_ms);
        attempt.elapsed_ms = 4_000;
        let store = Arc::clone(&store);
        async move { store.outbox_record_attempt(&attempt).await.expect("record") }
    };
    let claim = |at_ms| {
        let store = Arc::clone(&store);
        async move {
            store
                .outbox_claim(at_ms, LEASE, 10)
                .await
                .expect("claim")
                .remove(0)
        }
    };

    // A timed-out send that began at T0 + 1,000 (ended 4 s later).
    let first = claim(T0 + 1_000).await;
    assert_eq!(first.lost_send_started_ms, None);
    record(&first, retry(true, T0 + 6_000), T0 + 5_000).await;
    let second = claim(T0 + 6_000).await;
    assert_eq!(second.lost_send_started_ms, Some(T0 + 1_000));
    // In doubt again: the first unsettled send is still the one to look from.
    record(&second, retry(true, T0 + 12_000), T0 + 11_000).await;
    let third = claim(T0 + 12_000).await;
    assert_eq!(third.lost_send_started_ms, Some(T0 + 1_000));
    // Its lease runs out too: still looked for from the first.
    let fourth = store
        .outbox_claim(T0 + 12_000 + LEASE + 1, LEASE, 10)
        .await
        .expect("claim")
        .remove(0);
    assert_eq!(fourth.lost_send_started_ms, Some(T0 + 1_000));
    // An answered failure (a 5xx) settles it.
    record(&fourth, retry(false, T0 + 50_000), T0 + 48_000).await;
    let fifth = claim(T0 + 50_000).await;
    assert_eq!(fifth.lost_send_started_ms, None);
    record(&fifth, retry(true, T0 + 60_000), T0 + 55_000).await;
    let sixth = claim(T0 + 60_000).await;
    assert_eq!(sixth.lost_send_started_ms, Some(T0 + 51_000));
    let sent = AttemptResult::Sent {
        provider_message_id: Some("m_1".into()),
    };
    record(&sixth, sent, T0 + 61_000).await;
    let row = store
        .outbox_row(sixth.row.id)
        .await
        .expect("row")
        .expect("exists");
    assert_eq!(row.status, OutboxStatus::Sent);
    let log = store.delivery_log(sixth.row.id).await.expect("log");
    assert_eq!(log.len(), 5);
    assert_eq!(
        log[0].result,
        retry(true, T0 + 6_000),
        "in doubt, as recorded"
    );
}
