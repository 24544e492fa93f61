//! Handover: guarded moves with their history and notice, operator replies (holder only,
//! once per key), the timers' scan and busy notice, and a turn superseded by a move.

use std::sync::Arc;

use loa::conversation::handover::Trigger;
use loa::conversation::model::{Conversation, NewMessage, Sender, SessionState};
use loa::store::{
    HandoverMove, HandoverNote, MoveOutcome, OperatorReply, ReplyOutcome, Store, TurnCommitted,
};

use crate::seed::{T0, conversation, shop, text, turn};

crate::contract!(
    a_customer_request_queues_and_an_operator_takes_with_history_and_notices,
    of_two_concurrent_takes_exactly_one_wins,
    only_the_holder_moves_or_answers_a_held_conversation,
    a_retried_reply_with_the_same_key_is_stored_once,
    closed_is_final_and_the_next_message_opens_a_new_conversation,
    the_timers_see_waiting_and_held_conversations_and_tell_busy_once_per_wait,
    a_turn_superseded_by_a_take_stores_no_reply,
    another_tenant_can_neither_move_nor_read_the_history,
);

fn note(trigger: Trigger, actor: &str) -> HandoverNote {
    HandoverNote {
        trigger,
        actor: actor.to_owned(),
        reason: None,
    }
}

fn notice(words: &str) -> NewMessage {
    NewMessage {
        sender: Sender::System,
        content: text(words),
    }
}

fn change(conversation: &Conversation, trigger: Trigger, operator: Option<&str>) -> HandoverMove {
    HandoverMove {
        tenant_id: conversation.tenant_id.clone(),
        conversation_id: conversation.id.clone(),
        note: note(
            trigger,
            &operator.map_or("system".to_owned(), |user| format!("user:{user}")),
        ),
        operator: operator.map(str::to_owned),
        notice: Some(notice(trigger.as_str())),
        idle_since_ms: None,
        delivered_live: false,
        now_ms: T0 + 1_000,
    }
}

fn reply(conversation: &Conversation, operator: &str, key: Option<&str>) -> OperatorReply {
    OperatorReply {
        tenant_id: conversation.tenant_id.clone(),
        conversation_id: conversation.id.clone(),
        operator: operator.to_owned(),
        content: text("Dạ, em Lan đây ạ"),
        idempotency_key: key.map(str::to_owned),
        delivered_live: false,
        now_ms: T0 + 2_000,
    }
}

/// Commits a turn in which the customer asked for a person.
async fn ask_for_person(store: &dyn Store, conversation: &Conversation) -> Conversation {
    let mut commit = turn(conversation, "inbox:ask", &["Nhân viên đang hỗ trợ bạn…"]);
    commit.state = SessionState::Waiting;
    commit.handover = Some(HandoverNote {
        trigger: Trigger::CustomerAsked,
        actor: "contact".into(),
        reason: Some("asked: gặp nhân viên".into()),
    });
    commit.now_ms = T0 + 500;
    assert!(matches!(
        store.commit_turn(&commit).await.expect("commit"),
        TurnCommitted::Stored(_)
    ));
    store
        .conversation(&conversation.tenant_id, &conversation.id)
        .await
        .expect("read")
        .expect("exists")
}

async fn moved(store: &dyn Store, change: &HandoverMove) -> Conversation {
    match store.move_conversation(change).await.expect("move") {
        MoveOutcome::Moved { conversation, .. } => *conversation,
        other => panic!("expected a move, got {other:?}"),
    }
}

async fn a_customer_request_queues_and_an_operator_takes_with_history_and_notices(
    store: Arc<dyn Store>,
) {
    let shop = shop(&*store, "may").await;
    let start = conversation(&*store, &shop, "u1").await;
    assert_eq!(start.state_changed_at_ms, T0);
    let waiting = ask_for_person(&*store, &start).await;
    assert_eq!(
        (waiting.state, waiting.state_changed_at_ms),
        (SessionState::Waiting, T0 + 500)
    );

    let outcome = store
        .move_conversation(&change(&waiting, Trigger::OperatorTook, Some("us_lan")))
        .await
        .expect("take");
    let MoveOutcome::Moved {
        conversation: taken,
        notice,
        event,
    } = outcome
    else {
        panic!("the take wins: {outcome:?}");
    };
    assert_eq!(taken.state, SessionState::Human);
    assert_eq!(taken.assigned_to.as_deref(), Some("us_lan"));
    assert_eq!(taken.state_changed_at_ms, T0 + 1_000);
    let notice = notice.expect("a notice");
    assert_eq!(notice.sender, Sender::System);
    assert_eq!(
        notice.content.text.as_deref(),
        Some(Trigger::OperatorTook.as_str())
    );
    assert_eq!(
        (event.from_state, event.to_state),
        (SessionState::Waiting, SessionState::Human)
    );
    assert_eq!(
        store.queue_depths().await.expect("depths").outbox,
        2,
        "the notice is queued like any reply, after the waiting notice"
    );

    let back = moved(
        &*store,
        &change(&taken, Trigger::OperatorGaveBack, Some("us_lan")),
    )
    .await;
    assert_eq!((back.state, back.assigned_to), (SessionState::Bot, None));

    let history = store
        .handover_events("may", &start.id)
        .await
        .expect("history");
    let lines: Vec<_> = history
        .iter()
        .map(|event| {
            (
                event.from_state,
                event.to_state,
                event.trigger.as_str(),
                event.actor.as_str(),
            )
        })
        .collect();
    assert_eq!(
        lines,
        [
            (
                SessionState::Bot,
                SessionState::Waiting,
                "customer_asked",
                "contact"
            ),
            (
                SessionState::Waiting,
                SessionState::Human,
                "operator_took",
                "user:us_lan"
            ),
            (
                SessionState::Human,
                SessionState::Bot,
                "operator_gave_back",
                "user:us_lan"
            ),
        ]
    );
    assert_eq!(history[0].reason.as_deref(), Some("asked: gặp nhân viên"));
    let all = store
        .tenant_handover_events("may", T0 + 600, 100)
        .await
        .expect("tenant events");
    assert_eq!(all.len(), 2, "events since a time: {all:?}");
}

async fn of_two_concurrent_takes_exactly_one_wins(store: Arc<dyn Store>) {
    let shop = shop(&*store, "may").await;
    let waiting = ask_for_person(&*store, &conversation(&*store, &shop, "u1").await).await;
    let operators = ["us_lan", "us_minh", "us_hoa", "us_tuan"];
    let takes = operators.map(|operator| {
        let store = Arc::clone(&store);
        let change = change(&waiting, Trigger::OperatorTook, Some(operator));
        tokio::spawn(async move { store.move_conversation(&change).await.expect("take") })
    });
    let mut winners = Vec::new();
    let mut losers = 0;
    for take in takes {
        match take.await.expect("task") {
            MoveOutcome::Moved { conversation, .. } => {
                winners.push(conversation.assigned_to.clone())
            }
            MoveOutcome::Refused(conversation) => {
                assert_eq!(conversation.state, SessionState::Human);
                assert!(
                    conversation.assigned_to.is_some(),
                    "the loser learns the holder"
                );
                losers += 1;
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!((winners.len(), losers), (1, 3));
    let history = store
        .handover_events("may", &waiting.id)
        .await
        .expect("history");
    assert_eq!(
        history
            .iter()
            .filter(|event| event.trigger == "operator_took")
            .count(),
        1
    );
}

async fn only_the_holder_moves_or_answers_a_held_conversation(store: Arc<dyn Store>) {
    let shop = shop(&*store, "may").await;
    let start = conversation(&*store, &shop, "u1").await;
    match store
        .record_operator_reply(&reply(&start, "us_lan", None))
        .await
        .expect("reply")
    {
        ReplyOutcome::NotHolder(conversation) => assert_eq!(conversation.state, SessionState::Bot),
        other => panic!("nobody holds it yet: {other:?}"),
    }
    let taken = moved(
        &*store,
        &change(&start, Trigger::OperatorTook, Some("us_lan")),
    )
    .await;
    for trigger in [Trigger::OperatorGaveBack, Trigger::OperatorClosed] {
        match store
            .move_conversation(&change(&taken, trigger, Some("us_minh")))
            .await
            .expect("move")
        {
            MoveOutcome::HeldByOther(conversation) => {
                assert_eq!(conversation.assigned_to.as_deref(), Some("us_lan"));
            }
            other => panic!("{trigger:?} by another operator: {other:?}"),
        }
    }
    match store
        .record_operator_reply(&reply(&taken, "us_minh", None))
        .await
        .expect("reply")
    {
        ReplyOutcome::NotHolder(conversation) => {
            assert_eq!(conversation.assigned_to.as_deref(), Some("us_lan"));
        }
        other => panic!("another operator's reply: {other:?}"),
    }
    match store
        .record_operator_reply(&reply(&taken, "us_lan", None))
        .await
        .expect("reply")
    {
        ReplyOutcome::Stored { message, first, .. } => {
            assert_eq!(message.sender, Sender::Operator("us_lan".into()));
            assert!(first, "the first reply of the hold");
        }
        other => panic!("the holder's reply: {other:?}"),
    }
    let ReplyOutcome::Stored { first, .. } = store
        .record_operator_reply(&reply(&taken, "us_lan", None))
        .await
        .expect("reply")
    else {
        panic!("a second reply is stored too");
    };
    assert!(!first);
    let history = store
        .handover_events("may", &start.id)
        .await
        .expect("history");
    assert_eq!(history.len(), 1, "refused moves leave no history");
    assert_eq!(history[0].first_reply_ms, Some(T0 + 2_000));
}

async fn a_retried_reply_with_the_same_key_is_stored_once(store: Arc<dyn Store>) {
    let shop = shop(&*store, "may").await;
    let start = conversation(&*store, &shop, "u1").await;
    let taken = moved(
        &*store,
        &change(&start, Trigger::OperatorTook, Some("us_lan")),
    )
    .await;
    let ReplyOutcome::Stored { message: first, .. } = store
        .record_operator_reply(&reply(&taken, "us_lan", Some("k-1")))
        .await
        .expect("reply")
    else {
        panic!("stored");
    };
    let ReplyOutcome::Repeated(again) = store
        .record_operator_reply(&reply(&taken, "us_lan", Some("k-1")))
        .await
        .expect("retry")
    else {
        panic!("a retry with the same key is a repeat");
    };
    assert_eq!(again, first);
    let messages = store
        .messages_after("may", &start.id, 0, 100)
        .await
        .expect("messages");
    let operator_messages = messages
        .iter()
        .filter(|message| matches!(message.sender, Sender::Operator(_)))
        .count();
    assert_eq!(operator_messages, 1);
}

async fn closed_is_final_and_the_next_message_opens_a_new_conversation(store: Arc<dyn Store>) {
    let shop = shop(&*store, "may").await;
    let start = conversation(&*store, &shop, "u1").await;
    let closed = moved(
        &*store,
        &change(&start, Trigger::OperatorClosed, Some("us_lan")),
    )
    .await;
    assert_eq!(closed.state, SessionState::Closed);
    for trigger in [
        Trigger::OperatorTook,
        Trigger::CustomerAsked,
        Trigger::OperatorClosed,
    ] {
        assert!(matches!(
            store
                .move_conversation(&change(&closed, trigger, Some("us_lan")))
                .await
                .expect("move"),
            MoveOutcome::Refused(_)
        ));
    }
    let next = conversation(&*store, &shop, "u1").await;
    assert_ne!(next.id, start.id);
    assert_eq!(next.state, SessionState::Bot);
}

async fn the_timers_see_waiting_and_held_conversations_and_tell_busy_once_per_wait(
    store: Arc<dyn Store>,
) {
    let shop = shop(&*store, "may").await;
    let waiting = ask_for_person(&*store, &conversation(&*store, &shop, "u1").await).await;
    let held = moved(
        &*store,
        &change(
            &conversation(&*store, &shop, "u2").await,
            Trigger::OperatorTook,
            Some("us_lan"),
        ),
    )
    .await;
    conversation(&*store, &shop, "u3").await;
    let people = store.people_conversations(100).await.expect("scan");
    let mut ids: Vec<_> = people
        .iter()
        .map(|candidate| candidate.conversation.id.clone())
        .collect();
    ids.sort();
    let mut expected = vec![waiting.id.clone(), held.id.clone()];
    expected.sort();
    assert_eq!(ids, expected, "only waiting and held conversations");

    let busy = notice("busy");
    let told = store
        .record_busy_notice(
            "may",
            &waiting.id,
            waiting.state_changed_at_ms,
            &busy,
            false,
            T0 + 9_000,
        )
        .await
        .expect("notice");
    assert_eq!(
        told.expect("told once").content.text.as_deref(),
        Some("busy")
    );
    let again = store
        .record_busy_notice(
            "may",
            &waiting.id,
            waiting.state_changed_at_ms,
            &busy,
            false,
            T0 + 9_500,
        )
        .await
        .expect("notice");
    assert_eq!(again, None, "once per wait");
    let scanned = store.people_conversations(100).await.expect("scan");
    let entry = scanned
        .iter()
        .find(|candidate| candidate.conversation.id == waiting.id)
        .expect("still waiting");
    assert_eq!(entry.busy_notified_at_ms, Some(T0 + 9_000));
    let stale = store
        .record_busy_notice(
            "may",
            &held.id,
            held.state_changed_at_ms,
            &busy,
            false,
            T0 + 9_000,
        )
        .await
        .expect("notice");
    assert_eq!(stale, None, "a held conversation is not waiting");

    let mut idle = change(&held, Trigger::HumanIdle, None);
    idle.idle_since_ms = Some(held.last_activity_ms - 1);
    assert!(
        matches!(
            store.move_conversation(&idle).await.expect("move"),
            MoveOutcome::Refused(_)
        ),
        "written since the timer looked: not idle"
    );
    idle.idle_since_ms = Some(held.last_activity_ms);
    let back = moved(&*store, &idle).await;
    assert_eq!((back.state, back.assigned_to), (SessionState::Bot, None));
}

async fn a_turn_superseded_by_a_take_stores_no_reply(store: Arc<dyn Store>) {
    let shop = shop(&*store, "may").await;
    let start = conversation(&*store, &shop, "u1").await;
    // The bot reads the conversation (with the bot), then an operator takes it.
    let commit = turn(&start, "inbox:late", &["Shop có ship COD ạ"]);
    moved(
        &*store,
        &change(&start, Trigger::OperatorTook, Some("us_lan")),
    )
    .await;
    let outcome = store.commit_turn(&commit).await.expect("commit");
    assert_eq!(
        outcome,
        TurnCommitted::Superseded {
            state: SessionState::Human
        }
    );
    let messages = store
        .messages_after("may", &start.id, 0, 100)
        .await
        .expect("messages");
    assert!(
        messages.iter().all(|message| message.sender != Sender::Bot),
        "no bot reply after the take: {messages:?}"
    );
    let now = store
        .conversation("may", &start.id)
        .await
        .expect("read")
        .expect("exists");
    assert_eq!(now.assigned_to.as_deref(), Some("us_lan"));
}

async fn another_tenant_can_neither_move_nor_read_the_history(store: Arc<dyn Store>) {
    let may = shop(&*store, "may").await;
    shop(&*store, "other").await;
    let waiting = ask_for_person(&*store, &conversation(&*store, &may, "u1").await).await;
    let mut foreign = change(&waiting, Trigger::OperatorTook, Some("us_x"));
    foreign.tenant_id = "other".into();
    assert_eq!(
        store.move_conversation(&foreign).await.expect("move"),
        MoveOutcome::NotFound
    );
    let mut foreign_reply = reply(&waiting, "us_x", None);
    foreign_reply.tenant_id = "other".into();
    assert_eq!(
        store
            .record_operator_reply(&foreign_reply)
            .await
            .expect("reply"),
        ReplyOutcome::NotFound
    );
    assert!(
        store
            .handover_events("other", &waiting.id)
            .await
            .expect("history")
            .is_empty()
    );
    let still = store
        .conversation("may", &waiting.id)
        .await
        .expect("read")
        .expect("exists");
    assert_eq!(still.state, SessionState::Waiting);
}
