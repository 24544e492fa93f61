//! The console's data over the real `loa serve`: the live feed (server-sent events) shows
//! a customer's messages and changes of hands as they happen, and a console that
//! reconnects with its last event id catches up on what it missed; the inbox lists open
//! conversations with their last message and unread count; presence goes live to the
//! other consoles. Latencies are printed, not asserted (the machine is shared).

use std::time::{Duration, Instant};

use loa_e2e::accounts::{
    DEMO_OWNER, Session, add_member, assert_error, call, demo_shop_with_owner, login,
};
use loa_e2e::serve::Server;
use loa_e2e::sse::EventStream;
use loa_e2e::widget::Visitor;
use serde_json::{Value, json};

/// Far above the 1 s the feed aims at: a failure here is a lost event, not a slow one.
const WITHIN: Duration = Duration::from_secs(10);

async fn member(server: &Server, owner: &Session, email: &str, role: &str) -> Session {
    add_member(server.base_url(), owner, "may", email, role).await
}

async fn inbox(server: &Server, who: &Session) -> Value {
    let answer = call(
        server.base_url(),
        Some(&who.access),
        "GET",
        "/v1/tenants/may/inbox",
        None,
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.text());
    answer.json
}

fn live_url(server: &Server) -> String {
    format!("{}/v1/tenants/may/live", server.base_url())
}

#[tokio::test]
async fn the_feed_shows_messages_and_moves_live_and_a_reconnect_catches_up() {
    let (data, password) = demo_shop_with_owner("");
    let server = Server::start(data.path(), std::iter::empty::<&str>());
    let owner = login(server.base_url(), DEMO_OWNER, &password).await;
    let lan = member(&server, &owner, "lan@may.vn", "operator").await;
    let viewer = member(&server, &owner, "xem@may.vn", "viewer").await;

    let mut feed = EventStream::open(&live_url(&server), &viewer.access, None).await;
    feed.expect("ready", WITHIN, |_| true).await;

    let mut visitor = Visitor::connect(server.base_url(), "may")
        .await
        .expect("the demo bot exists");
    visitor.hello(None, None).await;
    let asked = Instant::now();
    visitor.say("c-1", "cho mình gặp nhân viên").await;
    let message = feed
        .expect("message", WITHIN, |data| {
            data["sender"]["kind"] == "contact"
        })
        .await;
    let first_message = asked.elapsed();
    let queued = feed
        .expect("conversation", WITHIN, |data| data["state"] == "waiting")
        .await;
    println!(
        "feed latency: customer message {first_message:?}, queued {:?}",
        asked.elapsed()
    );
    let conversation = queued.data["id"].as_str().expect("an id").to_owned();
    assert_eq!(message.data["conversation_id"], conversation);
    feed.expect("message", WITHIN, |data| data["sender"]["kind"] == "system")
        .await;

    visitor.say("c-2", "mình cần đổi size áo").await;
    feed.expect("message", WITHIN, |data| {
        data["content"]["text"] == "mình cần đổi size áo"
    })
    .await;
    let listed = inbox(&server, &viewer).await;
    let entries = listed["conversations"].as_array().expect("conversations");
    assert_eq!(entries.len(), 1, "{listed}");
    assert_eq!(entries[0]["conversation"]["state"], "waiting");
    assert_eq!(entries[0]["unread"], 1, "one message since it was queued");
    assert_eq!(
        entries[0]["last_message"]["content"]["text"],
        "mình cần đổi size áo"
    );
    assert!(listed["now_ms"].as_i64().is_some());

    // Presence goes out live, and into the inbox.
    let online = call(
        server.base_url(),
        Some(&lan.access),
        "PUT",
        "/v1/tenants/may/presence",
        Some(&json!({"status": "online"})),
    )
    .await;
    assert_eq!(online.status, 204, "{}", online.text());
    feed.expect("presence", WITHIN, |data| {
        data["user_id"] == lan.user_id && data["status"] == "online"
    })
    .await;
    let operators = inbox(&server, &viewer).await["operators"].clone();
    assert_eq!(operators[0]["status"], "online", "{operators}");

    let take = call(
        server.base_url(),
        Some(&lan.access),
        "POST",
        &format!("/v1/tenants/may/conversations/{conversation}/take"),
        None,
    )
    .await;
    assert_eq!(take.status, 200, "{}", take.text());
    let taken = feed
        .expect("conversation", WITHIN, |data| data["state"] == "human")
        .await;
    assert_eq!(taken.data["assigned_to"], lan.user_id);
    let last_id = taken.id.clone().expect("events have ids");

    // Disconnected while the customer writes: the reconnect catches up.
    drop(feed);
    visitor.say("c-3", "bạn ơi còn đó không?").await;
    visitor
        .next_matching("the echo", |frame| {
            frame["content"]["text"] == "bạn ơi còn đó không?"
        })
        .await;
    let mut resumed = EventStream::open(&live_url(&server), &viewer.access, Some(&last_id)).await;
    let snapshot = resumed
        .expect("conversation", WITHIN, |data| data["id"] == conversation)
        .await;
    assert_eq!(snapshot.data["state"], "human");
    resumed.expect("ready", WITHIN, |_| true).await;
    let listed = inbox(&server, &viewer).await;
    assert_eq!(
        listed["conversations"][0]["last_message"]["content"]["text"],
        "bạn ơi còn đó không?"
    );
    assert_eq!(listed["conversations"][0]["unread"], 1, "since the take");
}

#[tokio::test]
async fn callers_without_the_right_get_no_feed_no_inbox_and_no_presence() {
    let (data, password) = demo_shop_with_owner("");
    let server = Server::start(data.path(), std::iter::empty::<&str>());
    let owner = login(server.base_url(), DEMO_OWNER, &password).await;
    let viewer = member(&server, &owner, "xem@may.vn", "viewer").await;
    let base = server.base_url();

    let no_token = call(base, None, "GET", "/v1/tenants/may/live", None).await;
    assert_eq!(no_token.status, 401, "{}", no_token.text());
    let elsewhere = call(
        base,
        Some(&owner.access),
        "GET",
        "/v1/tenants/other/live",
        None,
    )
    .await;
    assert_error(&elsewhere, 403, "forbidden");
    let foreign_inbox = call(
        base,
        Some(&owner.access),
        "GET",
        "/v1/tenants/other/inbox",
        None,
    )
    .await;
    assert_error(&foreign_inbox, 403, "forbidden");
    let viewer_presence = call(
        base,
        Some(&viewer.access),
        "PUT",
        "/v1/tenants/may/presence",
        Some(&json!({"status": "online"})),
    )
    .await;
    assert_error(&viewer_presence, 403, "forbidden");
    let bad_status = call(
        base,
        Some(&owner.access),
        "PUT",
        "/v1/tenants/may/presence",
        Some(&json!({"status": "busy"})),
    )
    .await;
    assert_error(&bad_status, 400, "invalid_json");
    let listed = inbox(&server, &owner).await;
    assert_eq!(
        listed["operators"],
        json!([]),
        "nobody was recorded: {listed}"
    );
}
