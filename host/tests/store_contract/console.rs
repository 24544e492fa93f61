//! What the console reads: the inbox (open conversations with contact, last message and
//! unread count, most recent first), conversations changed since a moment, and operators'
//! presence — each for its own tenant only.

use std::sync::Arc;

use loa::auth::Role;
use loa::conversation::handover::Trigger;
use loa::conversation::model::{Conversation, NewMessage, Sender, SessionState};
use loa::store::{
    HandoverMove, HandoverNote, Membership, MoveOutcome, OperatorReply, PresenceStatus, Store,
    TurnCommitted,
};

use crate::seed::{T0, conversation, shop, text, turn};

crate::contract!(
    the_inbox_lists_open_conversations_with_last_message_and_unread_count,
    changed_since_finds_messages_and_moves_closed_ones_too,
    presence_is_per_tenant_and_expires_by_time,
);

async fn say(store: &dyn Store, conversation: &Conversation, id: &str, words: &str, at: i64) {
    store
        .record_inbound(conversation, id, &text(words), at)
        .await
        .expect("inbound");
}

async fn move_by(store: &dyn Store, conversation: &Conversation, trigger: Trigger, at: i64) {
    let outcome = store
        .move_conversation(&HandoverMove {
            tenant_id: conversation.tenant_id.clone(),
            conversation_id: conversation.id.clone(),
            note: HandoverNote {
                trigger,
                actor: "user:us_lan".into(),
                reason: None,
            },
            operator: Some("us_lan".into()),
            notice: Some(NewMessage {
                sender: Sender::System,
                content: text(trigger.as_str()),
            }),
            idle_since_ms: None,
            delivered_live: true,
            now_ms: at,
        })
        .await
        .expect("move");
    assert!(matches!(outcome, MoveOutcome::Moved { .. }), "{outcome:?}");
}

async fn the_inbox_lists_open_conversations_with_last_message_and_unread_count(
    store: Arc<dyn Store>,
) {
    let shop = shop(&*store, "may").await;
    // u1: the bot answers; nothing for people to read.
    let answered = conversation(&*store, &shop, "u1").await;
    say(&*store, &answered, "a-1", "shop có ship COD không?", T0 + 1).await;
    let mut reply = turn(&answered, "inbox:a-1", &["Có ạ"]);
    reply.now_ms = T0 + 2;
    assert!(matches!(
        store.commit_turn(&reply).await.expect("commit"),
        TurnCommitted::Stored(_)
    ));
    // u2: queued, then two more customer messages.
    let queued = conversation(&*store, &shop, "u2").await;
    say(&*store, &queued, "b-1", "gặp nhân viên", T0 + 3).await;
    let mut ask = turn(&queued, "inbox:b-1", &["Nhân viên đang hỗ trợ bạn…"]);
    ask.state = SessionState::Waiting;
    ask.now_ms = T0 + 4;
    store.commit_turn(&ask).await.expect("commit");
    say(&*store, &queued, "b-2", "alo", T0 + 5).await;
    say(&*store, &queued, "b-3", "có ai không", T0 + 6).await;
    // u3: taken and answered by an operator, then one more customer message.
    let held = conversation(&*store, &shop, "u3").await;
    move_by(&*store, &held, Trigger::OperatorTook, T0 + 7).await;
    say(&*store, &held, "c-1", "cảm ơn", T0 + 8).await;
    store
        .record_operator_reply(&OperatorReply {
            tenant_id: "may".into(),
            conversation_id: held.id.clone(),
            operator: "us_lan".into(),
            content: text("Dạ"),
            idempotency_key: None,
            delivered_live: true,
            now_ms: T0 + 9,
        })
        .await
        .expect("reply");
    say(&*store, &held, "c-2", "size M nhé", T0 + 10).await;
    // u4: closed: not in the inbox.
    let closed = conversation(&*store, &shop, "u4").await;
    move_by(&*store, &closed, Trigger::OperatorClosed, T0 + 11).await;
    // Another tenant's conversation never shows.
    let other = crate::seed::shop(&*store, "other").await;
    conversation(&*store, &other, "x1").await;

    let inbox = store.inbox("may", 100).await.expect("inbox");
    let rows: Vec<_> = inbox
        .iter()
        .map(|entry| {
            (
                entry.contact.channel_user_id.as_str(),
                entry.conversation.state,
                entry.unread,
                entry
                    .last_message
                    .as_ref()
                    .and_then(|message| message.content.text.clone()),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            ("u3", SessionState::Human, 1, Some("size M nhé".to_owned())),
            (
                "u2",
                SessionState::Waiting,
                2,
                Some("có ai không".to_owned())
            ),
            ("u1", SessionState::Bot, 0, Some("Có ạ".to_owned())),
        ]
    );
    assert_eq!(store.inbox("may", 1).await.expect("inbox").len(), 1);
    let fresh = conversation(&*store, &other, "x2").await;
    let theirs = store.inbox("other", 100).await.expect("inbox");
    assert_eq!(theirs.len(), 2);
    assert!(
        theirs
            .iter()
            .any(|entry| entry.conversation.id == fresh.id && entry.last_message.is_none()),
        "a conversation without messages is listed with none"
    );
}

async fn changed_since_finds_messages_and_moves_closed_ones_too(store: Arc<dyn Store>) {
    let shop = shop(&*store, "may").await;
    let quiet = conversation(&*store, &shop, "u1").await;
    let talking = conversation(&*store, &shop, "u2").await;
    let closing = conversation(&*store, &shop, "u3").await;
    say(&*store, &quiet, "q-1", "hi", T0 + 10).await;
    say(&*store, &talking, "t-1", "hi", T0 + 100).await;
    move_by(&*store, &closing, Trigger::OperatorClosed, T0 + 200).await;
    let changed = store
        .conversations_changed_since("may", T0 + 50, 100)
        .await
        .expect("changed");
    let ids: Vec<_> = changed
        .iter()
        .map(|conversation| conversation.id.clone())
        .collect();
    assert_eq!(
        ids,
        [closing.id.clone(), talking.id.clone()],
        "newest first"
    );
    assert_eq!(changed[0].state, SessionState::Closed);
    assert!(
        store
            .conversations_changed_since("other", T0, 100)
            .await
            .expect("changed")
            .is_empty()
    );
}

async fn presence_is_per_tenant_and_expires_by_time(store: Arc<dyn Store>) {
    shop(&*store, "may").await;
    shop(&*store, "other").await;
    let lan = "us_lan".to_owned();
    store
        .create_user(&crate::accounts::user(&lan, "lan@may.vn"))
        .await
        .expect("user");
    store
        .put_membership(&Membership {
            tenant_id: "may".into(),
            user_id: lan.clone(),
            role: Role::Operator,
            created_at_ms: T0,
        })
        .await
        .expect("membership");
    let saved = store
        .set_presence("may", &lan, PresenceStatus::Online, T0)
        .await
        .expect("presence")
        .expect("listed");
    assert_eq!(
        (saved.status, saved.updated_at_ms),
        (PresenceStatus::Online, T0)
    );
    store
        .set_presence("may", &lan, PresenceStatus::Away, T0 + 30_000)
        .await
        .expect("presence");
    let present = store.presence("may", T0).await.expect("presence");
    assert_eq!(present.len(), 1);
    assert_eq!(present[0].status, PresenceStatus::Away);
    assert_eq!(present[0].display_name, "User us_lan");
    assert!(
        store
            .presence("may", T0 + 30_001)
            .await
            .expect("presence")
            .is_empty(),
        "not heard from since: gone"
    );
    assert!(
        store
            .presence("other", 0)
            .await
            .expect("presence")
            .is_empty()
    );
}
