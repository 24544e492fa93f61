//! Contacts, conversations and inbound messages.

use std::sync::Arc;

use loa::conversation::model::{Direction, Sender, SessionState};
use loa::store::Store;

use crate::seed::{T0, conversation, opening, shop, text, turn};

crate::contract!(
    opening_a_conversation_creates_it_once_and_then_finds_it,
    a_closed_conversation_is_followed_by_a_new_one,
    concurrent_openings_of_one_contact_share_one_conversation,
    current_conversation_finds_without_creating,
    a_contact_is_read_within_its_tenant,
    an_inbound_message_is_stored_once,
);

async fn opening_a_conversation_creates_it_once_and_then_finds_it(store: Arc<dyn Store>) {
    let shop = shop(&*store, "may").await;
    let mut first = opening(&shop, "zalo-user-1");
    first.display_name = Some("Lan".into());
    let (contact, conversation) = store.open_conversation(&first).await.expect("open");
    assert_eq!(contact.channel_user_id, "zalo-user-1");
    assert_eq!(contact.display_name.as_deref(), Some("Lan"));
    assert_eq!(conversation.contact_id, contact.id);
    assert_eq!(conversation.state, SessionState::Bot);
    assert_eq!(
        (
            conversation.tenant_id.as_str(),
            conversation.language.as_str()
        ),
        ("may", "vi")
    );

    let mut again = opening(&shop, "zalo-user-1");
    again.now_ms = T0 + 60_000;
    let (same_contact, same) = store.open_conversation(&again).await.expect("reopen");
    assert_eq!(same.id, conversation.id);
    assert_eq!(same_contact.id, contact.id);
    assert_eq!(
        same_contact.display_name.as_deref(),
        Some("Lan"),
        "an opening without a name keeps the known one"
    );

    again.display_name = Some("Lan Nguyễn".into());
    let (renamed, _) = store.open_conversation(&again).await.expect("rename");
    assert_eq!(renamed.display_name.as_deref(), Some("Lan Nguyễn"));

    let (other, other_conversation) = store
        .open_conversation(&opening(&shop, "zalo-user-2"))
        .await
        .expect("other");
    assert_ne!(other.id, contact.id);
    assert_ne!(other_conversation.id, conversation.id);
}

async fn a_closed_conversation_is_followed_by_a_new_one(store: Arc<dyn Store>) {
    let shop = shop(&*store, "may").await;
    let first = conversation(&*store, &shop, "u1").await;
    let mut closing = turn(&first, "close", &["Tạm biệt!"]);
    closing.state = SessionState::Closed;
    store.commit_turn(&closing).await.expect("close");

    let closed = store
        .conversation("may", &first.id)
        .await
        .expect("read")
        .expect("exists");
    assert_eq!(closed.state, SessionState::Closed);
    assert_eq!(
        store
            .current_conversation("may", &shop.channel, "u1")
            .await
            .expect("current"),
        None
    );
    let next = conversation(&*store, &shop, "u1").await;
    assert_ne!(next.id, first.id);
    assert_eq!(next.contact_id, first.contact_id);
    assert_eq!(
        store
            .current_conversation("may", &shop.channel, "u1")
            .await
            .expect("current"),
        Some(next)
    );
}

async fn concurrent_openings_of_one_contact_share_one_conversation(store: Arc<dyn Store>) {
    let shop = shop(&*store, "may").await;
    let openings = (0..12).map(|_| {
        let (store, opening) = (Arc::clone(&store), opening(&shop, "busy-user"));
        tokio::spawn(async move { store.open_conversation(&opening).await })
    });
    let mut opened = Vec::new();
    for task in openings.collect::<Vec<_>>() {
        opened.push(task.await.expect("task").expect("open"));
    }
    let (contact, conversation) = &opened[0];
    for (other_contact, other) in &opened {
        assert_eq!(other_contact.id, contact.id);
        assert_eq!(other.id, conversation.id);
    }
}

async fn current_conversation_finds_without_creating(store: Arc<dyn Store>) {
    let shop = shop(&*store, "may").await;
    assert_eq!(
        store
            .current_conversation("may", &shop.channel, "u1")
            .await
            .expect("current"),
        None
    );
    assert_eq!(
        store
            .current_conversation("may", &shop.channel, "u1")
            .await
            .expect("current"),
        None,
        "looking did not create it"
    );
    let opened = conversation(&*store, &shop, "u1").await;
    assert_eq!(
        store
            .current_conversation("may", &shop.channel, "u1")
            .await
            .expect("current"),
        Some(opened)
    );
    assert_eq!(
        store
            .current_conversation("lua", &shop.channel, "u1")
            .await
            .expect("current"),
        None
    );
}

async fn a_contact_is_read_within_its_tenant(store: Arc<dyn Store>) {
    let shop = shop(&*store, "may").await;
    crate::seed::shop(&*store, "lua").await;
    let mut named = opening(&shop, "u1");
    named.display_name = Some("Lan".into());
    let (contact, _) = store.open_conversation(&named).await.expect("open");
    assert_eq!(
        store.contact("may", &contact.id).await.expect("read"),
        Some(contact.clone())
    );
    assert_eq!(store.contact("lua", &contact.id).await.expect("read"), None);
    assert_eq!(
        store.contact("may", "ct_missing").await.expect("read"),
        None
    );
}

async fn an_inbound_message_is_stored_once(store: Arc<dyn Store>) {
    let shop = shop(&*store, "may").await;
    let conversation = conversation(&*store, &shop, "u1").await;
    let (message, new) = store
        .record_inbound(
            &conversation,
            "m-1",
            &text("Shop có ship COD không?"),
            T0 + 10,
        )
        .await
        .expect("record");
    assert!(new);
    assert_eq!(message.direction, Direction::Inbound);
    assert_eq!(message.sender, Sender::Contact);
    assert_eq!(message.channel_message_id.as_deref(), Some("m-1"));
    assert_eq!(message.content, text("Shop có ship COD không?"));

    let (again, new) = store
        .record_inbound(&conversation, "m-1", &text("a replay"), T0 + 20)
        .await
        .expect("replay");
    assert!(!new);
    assert_eq!(again, message, "the first one is returned unchanged");
    let stored = store
        .latest_messages("may", &conversation.id, 10)
        .await
        .expect("read");
    assert_eq!(stored, [message]);
    let touched = store
        .conversation("may", &conversation.id)
        .await
        .expect("read")
        .expect("exists");
    assert_eq!(touched.last_activity_ms, T0 + 20);
}
