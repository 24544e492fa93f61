//! The inbox: duplicates, leases, per-customer order, concurrent claimers.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use loa::store::{InboxInsert, Store};

use crate::seed::{T0, event, insert, shop};

crate::contract!(
    an_event_sent_twice_is_a_duplicate,
    claims_hand_out_the_oldest_events_first_within_the_limit,
    an_event_is_not_claimable_before_it_arrives,
    a_customers_next_event_waits_until_the_first_is_done,
    an_expired_lease_is_handed_out_again_with_one_more_attempt,
    a_claim_takes_expired_leases_then_fills_its_limit_with_waiting_events,
    a_released_event_comes_back_at_its_retry_time,
    giving_up_on_an_event_lets_the_customers_next_one_through,
    releasing_an_event_that_is_not_leased_changes_nothing,
    simultaneous_claims_hand_an_event_to_one_claimer,
    concurrent_claimers_never_share_an_event_nor_a_customer,
    concurrent_inserts_store_each_event_once_and_answer_every_caller,
);

/// 30 s: longer than any test runs, so leases only expire when a test moves the clock.
const LEASE: i64 = 30_000;

async fn an_event_sent_twice_is_a_duplicate(store: Arc<dyn Store>) {
    let shop = shop(&*store, "may").await;
    let first = insert(&*store, &event(&shop, "m-1", "u1")).await;
    let mut again = event(&shop, "m-1", "u1");
    again.payload = "{\"changed\":true}".into();
    assert_eq!(
        store.inbox_insert(&again).await.expect("insert"),
        InboxInsert::Duplicate(first)
    );

    let mut other_channel = event(&shop, "m-1", "u1");
    other_channel.channel_id = "may-zalo".into();
    let second = insert(&*store, &other_channel).await;
    assert!(second > first);
    let claimed = store.inbox_claim(T0, LEASE, 10).await.expect("claim");
    assert_eq!(
        claimed[0].payload,
        event(&shop, "m-1", "u1").payload,
        "the first payload is kept"
    );
    assert_eq!(store.queue_depths().await.expect("depths").inbox, 2);
}

async fn claims_hand_out_the_oldest_events_first_within_the_limit(store: Arc<dyn Store>) {
    let shop = shop(&*store, "may").await;
    let a = insert(&*store, &event(&shop, "m-a", "ua")).await;
    let b = insert(&*store, &event(&shop, "m-b", "ub")).await;
    let c = insert(&*store, &event(&shop, "m-c", "uc")).await;

    let first = store.inbox_claim(T0, LEASE, 2).await.expect("claim");
    assert_eq!(
        first.iter().map(|event| event.id).collect::<Vec<_>>(),
        [a, b]
    );
    let expected = event(&shop, "m-a", "ua");
    assert_eq!(first[0].tenant_id, "may");
    assert_eq!(first[0].channel_id, shop.channel);
    assert_eq!(first[0].channel_message_id, "m-a");
    assert_eq!(first[0].channel_user_id, "ua");
    assert_eq!(first[0].payload, expected.payload);
    assert_eq!((first[0].attempts, first[0].received_at_ms), (1, T0));

    let second = store.inbox_claim(T0, LEASE, 2).await.expect("claim");
    assert_eq!(second.iter().map(|event| event.id).collect::<Vec<_>>(), [c]);
    assert!(
        store
            .inbox_claim(T0, LEASE, 2)
            .await
            .expect("claim")
            .is_empty()
    );
}

async fn an_event_is_not_claimable_before_it_arrives(store: Arc<dyn Store>) {
    let shop = shop(&*store, "may").await;
    let mut later = event(&shop, "m-1", "u1");
    later.now_ms = T0 + 1_000;
    let id = insert(&*store, &later).await;
    assert!(
        store
            .inbox_claim(T0, LEASE, 10)
            .await
            .expect("claim")
            .is_empty()
    );
    assert_eq!(
        store
            .inbox_claim(T0 + 1_000, LEASE, 10)
            .await
            .expect("claim")[0]
            .id,
        id
    );
}

async fn a_customers_next_event_waits_until_the_first_is_done(store: Arc<dyn Store>) {
    let shop = shop(&*store, "may").await;
    let x1 = insert(&*store, &event(&shop, "x-1", "x")).await;
    let x2 = insert(&*store, &event(&shop, "x-2", "x")).await;
    let y1 = insert(&*store, &event(&shop, "y-1", "y")).await;
    let mut other_channel = event(&shop, "x-on-zalo", "x");
    other_channel.channel_id = "may-zalo".into();
    let z = insert(&*store, &other_channel).await;

    let claimed = store.inbox_claim(T0, LEASE, 10).await.expect("claim");
    assert_eq!(
        claimed.iter().map(|event| event.id).collect::<Vec<_>>(),
        [x1, y1, z],
        "one event per customer; the same user id on another channel is another customer"
    );
    assert!(
        store
            .inbox_claim(T0 + 1, LEASE, 10)
            .await
            .expect("claim")
            .is_empty()
    );

    store.inbox_finish(x1).await.expect("finish");
    let next = store.inbox_claim(T0 + 2, LEASE, 10).await.expect("claim");
    assert_eq!(next.iter().map(|event| event.id).collect::<Vec<_>>(), [x2]);
}

async fn an_expired_lease_is_handed_out_again_with_one_more_attempt(store: Arc<dyn Store>) {
    let shop = shop(&*store, "may").await;
    let x1 = insert(&*store, &event(&shop, "x-1", "x")).await;
    insert(&*store, &event(&shop, "x-2", "x")).await;
    assert_eq!(
        store.inbox_claim(T0, 1_000, 10).await.expect("claim")[0].attempts,
        1
    );
    assert!(
        store
            .inbox_claim(T0 + 999, 1_000, 10)
            .await
            .expect("claim")
            .is_empty()
    );

    let again = store
        .inbox_claim(T0 + 1_001, 1_000, 10)
        .await
        .expect("claim");
    assert_eq!(
        again.len(),
        1,
        "only the expired event, not the customer's next"
    );
    assert_eq!((again[0].id, again[0].attempts), (x1, 2));
}

async fn a_claim_takes_expired_leases_then_fills_its_limit_with_waiting_events(
    store: Arc<dyn Store>,
) {
    let shop = shop(&*store, "may").await;
    let stuck = insert(&*store, &event(&shop, "s-1", "s")).await;
    let in_flight = insert(&*store, &event(&shop, "f-1", "f")).await;
    assert_eq!(
        store.inbox_claim(T0, 1_000, 1).await.expect("claim")[0].id,
        stuck
    );
    assert_eq!(
        store.inbox_claim(T0 + 900, 1_000, 1).await.expect("claim")[0].id,
        in_flight
    );
    let a = insert(&*store, &event(&shop, "a-1", "a")).await;
    let b = insert(&*store, &event(&shop, "b-1", "b")).await;
    insert(&*store, &event(&shop, "c-1", "c")).await;

    // At T0 + 1_500 the first lease ran out, the second did not.
    let claimed = store
        .inbox_claim(T0 + 1_500, 1_000, 3)
        .await
        .expect("claim");
    assert_eq!(
        claimed.iter().map(|event| event.id).collect::<Vec<_>>(),
        [stuck, a, b],
        "the expired lease, then the oldest waiting events up to the limit"
    );
    assert_eq!(claimed[0].attempts, 2);
}

async fn a_released_event_comes_back_at_its_retry_time(store: Arc<dyn Store>) {
    let shop = shop(&*store, "may").await;
    let x1 = insert(&*store, &event(&shop, "x-1", "x")).await;
    insert(&*store, &event(&shop, "x-2", "x")).await;
    store.inbox_claim(T0, LEASE, 10).await.expect("claim");
    store
        .inbox_release(x1, "llm timed out", T0 + 5_000, false)
        .await
        .expect("release");

    assert!(
        store
            .inbox_claim(T0 + 4_999, LEASE, 10)
            .await
            .expect("claim")
            .is_empty(),
        "neither the released event before its time nor the customer's next"
    );
    let again = store
        .inbox_claim(T0 + 5_000, LEASE, 10)
        .await
        .expect("claim");
    assert_eq!(again.len(), 1);
    assert_eq!((again[0].id, again[0].attempts), (x1, 2));
}

async fn giving_up_on_an_event_lets_the_customers_next_one_through(store: Arc<dyn Store>) {
    let shop = shop(&*store, "may").await;
    let x1 = insert(&*store, &event(&shop, "x-1", "x")).await;
    let x2 = insert(&*store, &event(&shop, "x-2", "x")).await;
    store.inbox_claim(T0, LEASE, 10).await.expect("claim");
    store
        .inbox_release(x1, "plugin trapped", T0, true)
        .await
        .expect("give up");

    let next = store.inbox_claim(T0 + 1, LEASE, 10).await.expect("claim");
    assert_eq!(next.iter().map(|event| event.id).collect::<Vec<_>>(), [x2]);
    assert_eq!(
        store.queue_depths().await.expect("depths").inbox,
        1,
        "a given-up event is not waiting"
    );
    store.inbox_finish(x2).await.expect("finish");
    assert!(
        store
            .inbox_claim(T0 + 3_600_000, LEASE, 10)
            .await
            .expect("claim")
            .is_empty()
    );
}

async fn releasing_an_event_that_is_not_leased_changes_nothing(store: Arc<dyn Store>) {
    let shop = shop(&*store, "may").await;
    let x1 = insert(&*store, &event(&shop, "x-1", "x")).await;
    let x2 = insert(&*store, &event(&shop, "x-2", "x")).await;
    store.inbox_claim(T0, LEASE, 10).await.expect("claim");
    store.inbox_finish(x1).await.expect("finish");
    store
        .inbox_release(x1, "late failure", T0, false)
        .await
        .expect("release");
    // x2 is pending, never claimed: releasing it must not make it wait or give it up.
    store
        .inbox_release(x2, "confused worker", T0 + 60_000, true)
        .await
        .expect("release");

    let next = store.inbox_claim(T0 + 1, LEASE, 10).await.expect("claim");
    assert_eq!(
        next.iter()
            .map(|event| (event.id, event.attempts))
            .collect::<Vec<_>>(),
        [(x2, 1)]
    );
}

async fn simultaneous_claims_hand_an_event_to_one_claimer(store: Arc<dyn Store>) {
    let shop = shop(&*store, "may").await;
    let id = insert(&*store, &event(&shop, "m-1", "u1")).await;
    let claims: Vec<_> = (0..8)
        .map(|_| {
            let store = Arc::clone(&store);
            tokio::spawn(async move { store.inbox_claim(T0, LEASE, 10).await })
        })
        .collect();
    let mut handed_out = Vec::new();
    for claim in claims {
        handed_out.extend(claim.await.expect("task").expect("claim"));
    }
    assert_eq!(handed_out.len(), 1);
    assert_eq!((handed_out[0].id, handed_out[0].attempts), (id, 1));
}

/// What the claimers of [`concurrent_claimers_never_share_an_event_nor_a_customer`] saw.
#[derive(Default)]
struct Ledger {
    handed_out: HashSet<i64>,
    busy_customers: HashSet<String>,
    last_done: HashMap<String, i64>,
    done: usize,
}

async fn concurrent_claimers_never_share_an_event_nor_a_customer(store: Arc<dyn Store>) {
    const CUSTOMERS: usize = 6;
    const EVENTS_EACH: usize = 5;
    let shop = shop(&*store, "may").await;
    for round in 0..EVENTS_EACH {
        for customer in 0..CUSTOMERS {
            let user = format!("u{customer}");
            insert(&*store, &event(&shop, &format!("{user}-{round}"), &user)).await;
        }
    }
    let ledger = Arc::new(Mutex::new(Ledger::default()));
    let deadline = Instant::now() + Duration::from_secs(60);
    let workers: Vec<_> = (0..8)
        .map(|_| {
            let (store, ledger) = (Arc::clone(&store), Arc::clone(&ledger));
            tokio::spawn(async move {
                while ledger.lock().expect("ledger").done < CUSTOMERS * EVENTS_EACH {
                    assert!(Instant::now() < deadline, "claimers stalled");
                    let claimed = store.inbox_claim(T0, LEASE, 3).await.expect("claim");
                    {
                        let mut ledger = ledger.lock().expect("ledger");
                        for event in &claimed {
                            assert!(
                                ledger.handed_out.insert(event.id),
                                "event {} handed out twice",
                                event.id
                            );
                            assert!(
                                ledger.busy_customers.insert(event.channel_user_id.clone()),
                                "two events of {} at once",
                                event.channel_user_id
                            );
                        }
                    }
                    tokio::task::yield_now().await;
                    for event in claimed {
                        {
                            let mut ledger = ledger.lock().expect("ledger");
                            let last = ledger
                                .last_done
                                .insert(event.channel_user_id.clone(), event.id);
                            assert!(
                                last < Some(event.id),
                                "{}'s events out of order",
                                event.channel_user_id
                            );
                            ledger.busy_customers.remove(&event.channel_user_id);
                            ledger.done += 1;
                        }
                        store.inbox_finish(event.id).await.expect("finish");
                    }
                }
            })
        })
        .collect();
    for worker in workers {
        worker.await.expect("worker");
    }
    assert_eq!(
        ledger.lock().expect("ledger").handed_out.len(),
        CUSTOMERS * EVENTS_EACH
    );
    assert_eq!(store.queue_depths().await.expect("depths").inbox, 0);
}

/// 400 inserts at once, every event twice (webhooks are stored in groups, and a provider
/// retries): each event is stored once, both of its callers get its id, and one of them
/// hears it is a duplicate.
async fn concurrent_inserts_store_each_event_once_and_answer_every_caller(store: Arc<dyn Store>) {
    let shop = shop(&*store, "may").await;
    let inserts: Vec<_> = (0..400)
        .map(|call| {
            let store = Arc::clone(&store);
            let message = call / 2;
            let event = event(&shop, &format!("m-{message}"), &format!("u{}", message % 7));
            tokio::spawn(async move { (message, store.inbox_insert(&event).await) })
        })
        .collect();
    let mut outcomes: HashMap<usize, Vec<InboxInsert>> = HashMap::new();
    for insert in inserts {
        let (message, outcome) = insert.await.expect("task");
        outcomes
            .entry(message)
            .or_default()
            .push(outcome.expect("stored"));
    }
    let id = |outcome: &InboxInsert| match outcome {
        InboxInsert::Inserted(id) | InboxInsert::Duplicate(id) => *id,
    };
    let mut ids = HashSet::new();
    for (message, both) in &outcomes {
        assert_eq!(id(&both[0]), id(&both[1]), "m-{message}: {both:?}");
        let inserted = both
            .iter()
            .filter(|outcome| matches!(outcome, InboxInsert::Inserted(_)))
            .count();
        assert_eq!(inserted, 1, "m-{message}: {both:?}");
        ids.insert(id(&both[0]));
    }
    assert_eq!(ids.len(), 200, "one row per event");
    assert_eq!(store.queue_depths().await.expect("depths").inbox, 200);
}
