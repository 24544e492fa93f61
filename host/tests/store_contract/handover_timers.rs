//! The handover timers on a real store after a restart: the clock is the stored
//! timestamps, so a wait or a hold that began before the restart is acted on after it,
//! once.

use std::sync::Arc;

use loa::conversation::handover::Trigger;
use loa::conversation::handover::desk::{HandoverDesk, Mover};
use loa::conversation::handover::timers::tick;
use loa::conversation::live::LiveHub;
use loa::conversation::model::{Sender, SessionState};
use loa::store::{HandoverNote, MoveOutcome, Store, TurnCommitted};
use tokio::sync::Notify;

use crate::Fixture;
use crate::seed::{T0, conversation, shop, turn};

const MINUTE: i64 = 60_000;

fn desk(store: &Arc<dyn Store>) -> HandoverDesk {
    HandoverDesk::new(Arc::clone(store), LiveHub::new(), Arc::new(Notify::new()))
}

async fn system_texts(store: &dyn Store, conversation_id: &str) -> Vec<String> {
    store
        .messages_after("may", conversation_id, 0, 100)
        .await
        .expect("messages")
        .into_iter()
        .filter(|message| message.sender == Sender::System)
        .filter_map(|message| message.content.text)
        .collect()
}

async fn timers_started_before_a_restart_fire_after_it_once(fixture: &Fixture) {
    let before: Arc<dyn Store> = fixture.reopen(None).await;
    let shop = shop(&*before, "may").await;
    // u1 asks for a person at T0; u2's conversation is taken by an operator.
    let asking = conversation(&*before, &shop, "u1").await;
    let mut commit = turn(&asking, "inbox:ask", &[]);
    commit.state = SessionState::Waiting;
    commit.handover = Some(HandoverNote {
        trigger: Trigger::CustomerAsked,
        actor: "contact".into(),
        reason: None,
    });
    assert!(matches!(
        before.commit_turn(&commit).await.expect("commit"),
        TurnCommitted::Stored(_)
    ));
    let held = conversation(&*before, &shop, "u2").await;
    let taken = desk(&before)
        .apply(
            &held,
            Trigger::OperatorTook,
            Mover::Operator("us_lan".into()),
            None,
        )
        .await
        .expect("take");
    let MoveOutcome::Moved {
        conversation: taken,
        ..
    } = taken
    else {
        panic!("taken: {taken:?}");
    };
    drop(before);

    let after = fixture.reopen(None).await;
    let desk = desk(&after);
    let held_since = taken.last_activity_ms;
    assert_eq!(
        tick(&*after, &desk, T0 + 4 * MINUTE).await.expect("tick"),
        0
    );
    assert_eq!(
        tick(&*after, &desk, T0 + 5 * MINUTE).await.expect("tick"),
        1,
        "the busy notice, five minutes into the wait"
    );
    assert_eq!(
        tick(&*after, &desk, T0 + 6 * MINUTE).await.expect("tick"),
        0,
        "once per wait"
    );
    let told = system_texts(&*after, &asking.id).await;
    assert_eq!(told.len(), 1, "{told:?}");
    assert!(told[0].starts_with("Nhân viên đang bận"), "{told:?}");

    assert_eq!(
        tick(&*after, &desk, held_since + 15 * MINUTE - 1)
            .await
            .expect("tick"),
        0
    );
    assert_eq!(
        tick(&*after, &desk, held_since + 15 * MINUTE)
            .await
            .expect("tick"),
        1,
        "fifteen idle minutes: back to the bot"
    );
    let back = after
        .conversation("may", &held.id)
        .await
        .expect("read")
        .expect("exists");
    assert_eq!((back.state, back.assigned_to), (SessionState::Bot, None));
    let notices = system_texts(&*after, &held.id).await;
    assert!(
        notices
            .last()
            .is_some_and(|last| last.starts_with("Trợ lý tự động sẽ tiếp tục")),
        "{notices:?}"
    );
    let history = after
        .handover_events("may", &held.id)
        .await
        .expect("history");
    let last = history.last().expect("events");
    assert_eq!(
        (last.trigger.as_str(), last.actor.as_str()),
        ("human_idle", "system")
    );
    assert_eq!(
        tick(&*after, &desk, held_since + 60 * MINUTE)
            .await
            .expect("tick"),
        0,
        "nothing left to do but the waiting customer, told already"
    );
}

crate::contract_with_fixture!(timers_started_before_a_restart_fire_after_it_once);
