//! The deliveries API's part of the store: a tenant's deliveries listed and filtered,
//! dead letters put back in the queue with a fresh budget, messages queued outside turns
//! once per key, and nothing of one tenant reachable from another.

use std::sync::Arc;

use loa::conversation::model::{NewMessage, Sender};
use loa::store::{
    AttemptResult, DeliveryAttempt, DeliveryFilter, OutboxStatus, QueueOutcome, QueuedMessage,
    Requeue, Store, TurnCommitted,
};

use crate::seed::{T0, conversation, shop, text, turn};

crate::contract!(
    deliveries_list_newest_first_filtered_and_paged,
    a_dead_letter_requeued_gets_a_fresh_budget_and_keeps_its_log,
    only_dead_letters_are_requeued,
    a_message_queued_twice_with_one_key_is_stored_once,
    another_tenants_deliveries_are_out_of_reach,
);

const LEASE: i64 = 30_000;

fn filter(status: Option<OutboxStatus>, limit: u32) -> DeliveryFilter {
    DeliveryFilter {
        status,
        limit,
        ..DeliveryFilter::default()
    }
}

/// Claims the single due row and records `result` for it.
async fn attempt_once(store: &dyn Store, now: i64, result: AttemptResult) -> i64 {
    let claimed = store.outbox_claim(now, LEASE, 1).await.expect("claim");
    let item = claimed.first().expect("a due row");
    store
        .outbox_record_attempt(&DeliveryAttempt {
            outbox_id: item.row.id,
            attempt: item.row.attempts,
            result,
            provider_response: None,
            elapsed_ms: 3,
            at_ms: now,
        })
        .await
        .expect("record");
    item.row.id
}

fn dead(reason: &str) -> AttemptResult {
    AttemptResult::Dead {
        reason: reason.into(),
    }
}

fn queued(conversation_id: &str, tenant: &str, key: &str, words: &str) -> QueuedMessage {
    QueuedMessage {
        tenant_id: tenant.into(),
        conversation_id: conversation_id.into(),
        message: NewMessage {
            sender: Sender::Bot,
            content: text(words),
        },
        idempotency_key: key.into(),
        delivered_live: false,
        now_ms: T0,
    }
}

async fn deliveries_list_newest_first_filtered_and_paged(store: Arc<dyn Store>) {
    let shop = shop(&*store, "may").await;
    let a = conversation(&*store, &shop, "ua").await;
    let b = conversation(&*store, &shop, "ub").await;
    store
        .commit_turn(&turn(&a, "a-1", &["a one", "a two"]))
        .await
        .expect("a");
    store
        .commit_turn(&turn(&b, "b-1", &["b one"]))
        .await
        .expect("b");
    // a one: dead; b one: still pending behind nothing, a two: pending.
    let dead_id = attempt_once(&*store, T0, dead("blocked")).await;

    let all = store
        .deliveries("may", &filter(None, 10))
        .await
        .expect("list");
    let texts: Vec<_> = all
        .iter()
        .map(|item| item.message.content.text.clone().unwrap_or_default())
        .collect();
    assert_eq!(texts, ["b one", "a two", "a one"]);
    assert!(all.windows(2).all(|pair| pair[0].row.id > pair[1].row.id));

    let dead_only = store
        .deliveries("may", &filter(Some(OutboxStatus::Dead), 10))
        .await
        .expect("dead");
    assert_eq!(dead_only.len(), 1);
    assert_eq!(dead_only[0].row.id, dead_id);
    assert_eq!(dead_only[0].row.last_error.as_deref(), Some("blocked"));
    assert_eq!(dead_only[0].row.updated_at_ms, T0);

    let of_b = store
        .deliveries(
            "may",
            &DeliveryFilter {
                conversation_id: Some(b.id.clone()),
                limit: 10,
                ..DeliveryFilter::default()
            },
        )
        .await
        .expect("of b");
    assert_eq!(of_b.len(), 1);
    assert_eq!(of_b[0].row.conversation_id, b.id);

    let first_page = store
        .deliveries("may", &filter(None, 2))
        .await
        .expect("page 1");
    let second_page = store
        .deliveries(
            "may",
            &DeliveryFilter {
                before_id: Some(first_page[1].row.id),
                limit: 2,
                ..DeliveryFilter::default()
            },
        )
        .await
        .expect("page 2");
    assert_eq!(first_page.len(), 2);
    assert_eq!(second_page.len(), 1);
    assert_eq!(second_page[0].row.id, dead_id);

    let one = store
        .delivery("may", dead_id)
        .await
        .expect("one")
        .expect("exists");
    assert_eq!(one.message.content.text.as_deref(), Some("a one"));
}

async fn a_dead_letter_requeued_gets_a_fresh_budget_and_keeps_its_log(store: Arc<dyn Store>) {
    let shop = shop(&*store, "may").await;
    let a = conversation(&*store, &shop, "ua").await;
    store
        .commit_turn(&turn(&a, "a-1", &["hello"]))
        .await
        .expect("turn");
    let retry = AttemptResult::Retry {
        reason: "HTTP 503".into(),
        at_ms: T0 + 1,
        in_doubt: false,
    };
    let id = attempt_once(&*store, T0, retry).await;
    attempt_once(&*store, T0 + 1, dead("gave up")).await;
    assert!(
        store
            .outbox_claim(T0 + 10_000, LEASE, 5)
            .await
            .expect("claim")
            .is_empty(),
        "a dead row is not handed out"
    );

    let requeued = match store
        .requeue_dead("may", id, T0 + 20)
        .await
        .expect("requeue")
    {
        Requeue::Requeued(row) => row,
        other => panic!("expected a requeue, got {other:?}"),
    };
    assert_eq!(requeued.status, OutboxStatus::Pending);
    assert_eq!((requeued.attempts, requeued.attempt_base), (2, 2));
    assert_eq!(requeued.budget_attempts(), 0);
    assert_eq!(requeued.next_attempt_at_ms, T0 + 20);

    let again = store.outbox_claim(T0 + 20, LEASE, 5).await.expect("claim");
    assert_eq!(again.len(), 1);
    assert_eq!(
        (again[0].row.attempts, again[0].row.budget_attempts()),
        (3, 1)
    );
    store
        .outbox_record_attempt(&DeliveryAttempt {
            outbox_id: id,
            attempt: 3,
            result: AttemptResult::Sent {
                provider_message_id: Some("m-3".into()),
            },
            provider_response: None,
            elapsed_ms: 1,
            at_ms: T0 + 21,
        })
        .await
        .expect("sent");
    let log = store.delivery_log(id).await.expect("log");
    let numbers: Vec<u32> = log.iter().map(|attempt| attempt.attempt).collect();
    assert_eq!(numbers, [1, 2, 3]);
    let row = store.outbox_row(id).await.expect("row").expect("exists");
    assert_eq!(row.status, OutboxStatus::Sent);
}

async fn only_dead_letters_are_requeued(store: Arc<dyn Store>) {
    let shop = shop(&*store, "may").await;
    let a = conversation(&*store, &shop, "ua").await;
    store
        .commit_turn(&turn(&a, "a-1", &["hello"]))
        .await
        .expect("turn");
    let id = store
        .deliveries("may", &filter(None, 1))
        .await
        .expect("list")[0]
        .row
        .id;
    match store.requeue_dead("may", id, T0).await.expect("requeue") {
        Requeue::NotDead(row) => assert_eq!(row.status, OutboxStatus::Pending),
        other => panic!("a pending row must be left alone, got {other:?}"),
    }
    attempt_once(
        &*store,
        T0,
        AttemptResult::Sent {
            provider_message_id: None,
        },
    )
    .await;
    match store.requeue_dead("may", id, T0).await.expect("requeue") {
        Requeue::NotDead(row) => assert_eq!(row.status, OutboxStatus::Sent),
        other => panic!("a sent row must be left alone, got {other:?}"),
    }
    assert_eq!(
        store
            .requeue_dead("may", id + 1000, T0)
            .await
            .expect("none"),
        Requeue::NotFound
    );
}

async fn a_message_queued_twice_with_one_key_is_stored_once(store: Arc<dyn Store>) {
    let shop = shop(&*store, "may").await;
    let a = conversation(&*store, &shop, "ua").await;
    let first = store
        .queue_message(&queued(&a.id, "may", "api:may:order-1", "Đơn đã gửi"))
        .await
        .expect("first");
    let (message, outbox_id) = match first {
        QueueOutcome::Stored { message, outbox_id } => (message, outbox_id),
        other => panic!("expected stored, got {other:?}"),
    };
    assert_eq!(message.content.text.as_deref(), Some("Đơn đã gửi"));
    // The retry says something else: the first result stands, nothing new is queued.
    let second = store
        .queue_message(&queued(&a.id, "may", "api:may:order-1", "changed"))
        .await
        .expect("second");
    assert_eq!(
        second,
        QueueOutcome::Repeated {
            message: message.clone(),
            outbox_id
        }
    );
    let rows = store
        .deliveries("may", &filter(None, 10))
        .await
        .expect("list");
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].row.status, OutboxStatus::Pending);
    let claimed = store.outbox_claim(T0, LEASE, 5).await.expect("claim");
    assert_eq!(claimed.len(), 1);
    assert_eq!(claimed[0].row.id, outbox_id);

    assert_eq!(
        store
            .queue_message(&queued("cv_missing", "may", "api:may:order-2", "x"))
            .await
            .expect("missing"),
        QueueOutcome::NotFound
    );
}

async fn another_tenants_deliveries_are_out_of_reach(store: Arc<dyn Store>) {
    let may = shop(&*store, "may").await;
    shop(&*store, "lan").await;
    let a = conversation(&*store, &may, "ua").await;
    let committed = store
        .commit_turn(&turn(&a, "a-1", &["hello"]))
        .await
        .expect("turn");
    assert!(matches!(committed, TurnCommitted::Stored(_)));
    let id = attempt_once(&*store, T0, dead("blocked")).await;

    assert!(
        store
            .deliveries("lan", &filter(None, 10))
            .await
            .expect("lan list")
            .is_empty()
    );
    assert_eq!(store.delivery("lan", id).await.expect("lan one"), None);
    assert_eq!(
        store
            .requeue_dead("lan", id, T0)
            .await
            .expect("lan requeue"),
        Requeue::NotFound
    );
    assert_eq!(
        store
            .queue_message(&queued(&a.id, "lan", "api:lan:x", "hi"))
            .await
            .expect("lan queue"),
        QueueOutcome::NotFound
    );
    let row = store.outbox_row(id).await.expect("row").expect("exists");
    assert_eq!(
        row.status,
        OutboxStatus::Dead,
        "untouched by the other tenant"
    );
}
