//! Turns: replies, outbox rows, decisions and state committed at once; reading a
//! conversation back.

use std::sync::Arc;

use loa::conversation::model::{Direction, Sender, SessionState, TurnDecision};
use loa::store::{AttemptResult, InboxInsert, OutboxStatus, Store, TurnCommitted};

use crate::seed::{T0, conversation, event, insert, shop, text, turn};

crate::contract!(
    a_turn_stores_replies_outbox_rows_decision_and_state,
    a_replayed_turn_changes_nothing_and_still_finishes_its_event,
    messages_page_forward_and_from_the_end_in_id_order,
    another_tenant_sees_none_of_a_conversation,
    text_with_a_nul_character_round_trips,
    replies_delivered_live_are_sent_at_once_with_one_log_line,
);

fn decision(tier: &str) -> TurnDecision {
    TurnDecision {
        tier: tier.into(),
        confident: true,
        score: Some(0.875),
        candidates: serde_json::json!([{"faq": "ship-cod", "score": 0.875}]),
        latency_ms: 12,
        tokens: 0,
    }
}

async fn a_turn_stores_replies_outbox_rows_decision_and_state(store: Arc<dyn Store>) {
    let shop = shop(&*store, "may").await;
    let conversation = conversation(&*store, &shop, "u1").await;
    let event_id = insert(&*store, &event(&shop, "m-1", "u1")).await;
    store.inbox_claim(T0, 30_000, 10).await.expect("claim");
    let (inbound, _) = store
        .record_inbound(&conversation, "m-1", &text("gặp nhân viên"), T0)
        .await
        .expect("record");

    let mut commit = turn(
        &conversation,
        "inbox:m-1",
        &["Dạ, chờ chút ạ", "Nhân viên đang hỗ trợ bạn…"],
    );
    commit.inbox_event_id = Some(event_id);
    commit.decision = Some(decision("fast_path"));
    commit.state = SessionState::Waiting;
    commit.consecutive_misses = 2;
    commit.now_ms = T0 + 100;
    let TurnCommitted::Stored(replies) = store.commit_turn(&commit).await.expect("commit") else {
        panic!("a first commit stores");
    };
    assert_eq!(replies.len(), 2);
    assert!(inbound.id < replies[0].id && replies[0].id < replies[1].id);
    for (reply, words) in replies
        .iter()
        .zip(["Dạ, chờ chút ạ", "Nhân viên đang hỗ trợ bạn…"])
    {
        assert_eq!(
            (reply.direction, &reply.sender),
            (Direction::Outbound, &Sender::Bot)
        );
        assert_eq!(reply.content, text(words));
        assert_eq!(reply.channel_message_id, None);
    }

    let outbox = store
        .outbox_of_conversation("may", &conversation.id)
        .await
        .expect("outbox");
    let keys: Vec<_> = outbox
        .iter()
        .map(|row| row.idempotency_key.as_str())
        .collect();
    assert_eq!(keys, ["inbox:m-1:0", "inbox:m-1:1"]);
    let message_ids: Vec<_> = outbox.iter().map(|row| row.message_id).collect();
    assert_eq!(message_ids, [replies[0].id, replies[1].id]);
    assert!(
        outbox
            .iter()
            .all(|row| row.status == loa::store::OutboxStatus::Pending
                && row.attempts == 0
                && row.next_attempt_at_ms == T0 + 100
                && row.channel_id == shop.channel)
    );

    let decisions = store
        .turn_decisions("may", &conversation.id)
        .await
        .expect("decisions");
    assert_eq!(decisions.len(), 1);
    assert_eq!(decisions[0].key, "inbox:m-1");
    assert_eq!(decisions[0].decision, decision("fast_path"));
    assert_eq!(decisions[0].created_at_ms, T0 + 100);

    let after = store
        .conversation("may", &conversation.id)
        .await
        .expect("read")
        .expect("exists");
    assert_eq!(
        (after.state, after.consecutive_misses),
        (SessionState::Waiting, 2)
    );
    assert_eq!(after.last_activity_ms, T0 + 100);
    let depths = store.queue_depths().await.expect("depths");
    assert_eq!(
        (depths.inbox, depths.outbox),
        (0, 2),
        "the event is done, the replies wait"
    );
}

async fn a_replayed_turn_changes_nothing_and_still_finishes_its_event(store: Arc<dyn Store>) {
    let shop = shop(&*store, "may").await;
    let conversation = conversation(&*store, &shop, "u1").await;
    let mut first = turn(&conversation, "inbox:m-1", &["first answer"]);
    first.decision = Some(decision("fast_path"));
    first.consecutive_misses = 1;
    assert!(matches!(
        store.commit_turn(&first).await.expect("commit"),
        TurnCommitted::Stored(_)
    ));
    let messages = store
        .latest_messages("may", &conversation.id, 50)
        .await
        .expect("read");
    let outbox = store
        .outbox_of_conversation("may", &conversation.id)
        .await
        .expect("outbox");

    // A worker whose lease ran out redoes the turn for a second delivery of the event.
    let event_id = insert(&*store, &event(&shop, "m-1-again", "u1")).await;
    assert_eq!(
        store
            .inbox_claim(T0, 30_000, 10)
            .await
            .expect("claim")
            .len(),
        1
    );
    let mut replay = turn(&conversation, "inbox:m-1", &["another answer", "and more"]);
    replay.inbox_event_id = Some(event_id);
    replay.decision = Some(decision("agentic"));
    replay.state = SessionState::Human;
    replay.consecutive_misses = 7;
    assert_eq!(
        store.commit_turn(&replay).await.expect("replay"),
        TurnCommitted::AlreadyCommitted
    );

    assert_eq!(
        store
            .latest_messages("may", &conversation.id, 50)
            .await
            .expect("read"),
        messages
    );
    assert_eq!(
        store
            .outbox_of_conversation("may", &conversation.id)
            .await
            .expect("outbox"),
        outbox
    );
    let decisions = store
        .turn_decisions("may", &conversation.id)
        .await
        .expect("decisions");
    assert_eq!(decisions.len(), 1);
    assert_eq!(decisions[0].decision, decision("fast_path"));
    let after = store
        .conversation("may", &conversation.id)
        .await
        .expect("read")
        .expect("exists");
    assert_eq!(
        (after.state, after.consecutive_misses),
        (SessionState::Bot, 1)
    );
    assert_eq!(
        store.queue_depths().await.expect("depths").inbox,
        0,
        "the event is done"
    );
    assert!(
        store
            .inbox_claim(T0 + 3_600_000, 30_000, 10)
            .await
            .expect("claim")
            .is_empty()
    );
    assert_eq!(
        store
            .inbox_insert(&event(&shop, "m-1-again", "u1"))
            .await
            .expect("insert"),
        InboxInsert::Duplicate(event_id)
    );
}

async fn messages_page_forward_and_from_the_end_in_id_order(store: Arc<dyn Store>) {
    let shop = shop(&*store, "may").await;
    let conversation = conversation(&*store, &shop, "u1").await;
    let mut all = Vec::new();
    for round in 0..2 {
        let (inbound, _) = store
            .record_inbound(
                &conversation,
                &format!("m-{round}"),
                &text(&format!("q{round}")),
                T0,
            )
            .await
            .expect("record");
        all.push(inbound);
        let replies = [format!("a{round}"), format!("b{round}")];
        let replies: Vec<&str> = replies.iter().map(String::as_str).collect();
        let TurnCommitted::Stored(stored) = store
            .commit_turn(&turn(&conversation, &format!("turn-{round}"), &replies))
            .await
            .expect("commit")
        else {
            panic!("stored");
        };
        all.extend(stored);
    }
    let words = |messages: &[loa::conversation::model::Message]| -> Vec<String> {
        messages
            .iter()
            .filter_map(|message| message.content.text.clone())
            .collect()
    };
    assert_eq!(words(&all), ["q0", "a0", "b0", "q1", "a1", "b1"]);

    let first_page = store
        .messages_after("may", &conversation.id, 0, 2)
        .await
        .expect("page");
    assert_eq!(first_page, all[..2]);
    let rest = store
        .messages_after("may", &conversation.id, first_page[1].id, 100)
        .await
        .expect("rest");
    assert_eq!(rest, all[2..]);
    assert!(
        store
            .messages_after("may", &conversation.id, all[5].id, 10)
            .await
            .expect("none")
            .is_empty()
    );
    assert_eq!(
        store
            .latest_messages("may", &conversation.id, 3)
            .await
            .expect("latest"),
        all[3..]
    );
    assert_eq!(
        store
            .latest_messages("may", &conversation.id, 100)
            .await
            .expect("latest"),
        all
    );
}

async fn another_tenant_sees_none_of_a_conversation(store: Arc<dyn Store>) {
    let shop = shop(&*store, "may").await;
    crate::seed::shop(&*store, "lua").await;
    let conversation = conversation(&*store, &shop, "u1").await;
    store
        .record_inbound(&conversation, "m-1", &text("hi"), T0)
        .await
        .expect("record");
    let mut commit = turn(&conversation, "turn-1", &["hello"]);
    commit.decision = Some(decision("fast_path"));
    store.commit_turn(&commit).await.expect("commit");

    assert_eq!(
        store
            .conversation("lua", &conversation.id)
            .await
            .expect("read"),
        None
    );
    assert!(
        store
            .messages_after("lua", &conversation.id, 0, 10)
            .await
            .expect("read")
            .is_empty()
    );
    assert!(
        store
            .latest_messages("lua", &conversation.id, 10)
            .await
            .expect("read")
            .is_empty()
    );
    assert!(
        store
            .turn_decisions("lua", &conversation.id)
            .await
            .expect("read")
            .is_empty()
    );
    assert!(
        store
            .outbox_of_conversation("lua", &conversation.id)
            .await
            .expect("read")
            .is_empty()
    );
    assert_eq!(
        store
            .latest_messages("may", &conversation.id, 10)
            .await
            .expect("read")
            .len(),
        2
    );
}

async fn text_with_a_nul_character_round_trips(store: Arc<dyn Store>) {
    let shop = shop(&*store, "may").await;
    let conversation = conversation(&*store, &shop, "u1").await;
    let odd = "before\u{0}after \u{1f600}";
    let (inbound, _) = store
        .record_inbound(&conversation, "m-1", &text(odd), T0)
        .await
        .expect("record");
    let mut commit = turn(&conversation, "turn-1", &[odd]);
    let mut odd_decision = decision("agentic");
    odd_decision.candidates = serde_json::json!({ "tool_args": odd });
    commit.decision = Some(odd_decision.clone());
    store.commit_turn(&commit).await.expect("commit");

    let stored = store
        .latest_messages("may", &conversation.id, 10)
        .await
        .expect("read");
    assert_eq!(stored[0], inbound);
    assert_eq!(stored[0].content, text(odd));
    assert_eq!(stored[1].content, text(odd));
    let decisions = store
        .turn_decisions("may", &conversation.id)
        .await
        .expect("decisions");
    assert_eq!(decisions[0].decision, odd_decision);
}

async fn replies_delivered_live_are_sent_at_once_with_one_log_line(store: Arc<dyn Store>) {
    let shop = shop(&*store, "may").await;
    let conversation = conversation(&*store, &shop, "u1").await;
    let mut commit = turn(&conversation, "inbox:live", &["Có ạ"]);
    commit.delivered_live = true;
    store.commit_turn(&commit).await.expect("commit");
    let rows = store
        .outbox_of_conversation(&shop.tenant, &conversation.id)
        .await
        .expect("outbox");
    assert_eq!(rows.len(), 1);
    assert_eq!((rows[0].status, rows[0].attempts), (OutboxStatus::Sent, 1));
    let log = store.delivery_log(rows[0].id).await.expect("log");
    assert_eq!(log.len(), 1);
    assert!(matches!(log[0].result, AttemptResult::Sent { .. }));
    assert!(
        store
            .outbox_claim(T0 + 1, 30_000, 10)
            .await
            .expect("claim")
            .is_empty(),
        "nothing left for the dispatcher"
    );
}
