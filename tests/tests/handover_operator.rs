//! Operators over the admin API against the real `loa serve`, with a customer on the
//! widget watching: taking a waiting conversation (the customer is told), replying (seen
//! live, once even when the request is retried), giving it back (the bot answers again),
//! closing it (the next message opens a new conversation), the history and the bot's
//! trace. Two operators taking at once: one wins, the other is told who has it. A viewer,
//! a logged-out caller, another operator and bad bodies change nothing.

use loa_e2e::accounts::{
    DEMO_OWNER, Session, add_member, assert_error, call, demo_shop_with_owner, login,
};
use loa_e2e::http::Answer;
use loa_e2e::serve::Server;
use loa_e2e::widget::{Visitor, text};
use serde_json::{Value, json};

const COD_QUESTION: &str = "shop có ship COD không?";
const COD_ANSWER_START: &str = "Có ạ, Mây giao hàng COD";
const CONVERSATIONS: &str = "/v1/tenants/may/conversations";

/// The demo shop served, with its owner and a member of each `roles` logged in.
async fn shop(roles: &[&str]) -> (tempfile::TempDir, Server, Session, Vec<Session>) {
    let (data, password) = demo_shop_with_owner("");
    let server = Server::start(data.path(), std::iter::empty::<&str>());
    let owner = login(server.base_url(), DEMO_OWNER, &password).await;
    let mut members = Vec::new();
    for (index, role) in roles.iter().enumerate() {
        let email = format!("{role}{index}@may.vn");
        members.push(add_member(server.base_url(), &owner, "may", &email, role).await);
    }
    (data, server, owner, members)
}

/// A visitor who asked for a person; returns them and the conversation's id.
async fn waiting_customer(server: &Server, owner: &Session) -> (Visitor, String) {
    let mut visitor = Visitor::connect(server.base_url(), "may")
        .await
        .expect("the demo bot exists");
    visitor.hello(None, None).await;
    visitor.say("c-1", "cho mình gặp nhân viên").await;
    visitor.system_notice().await;
    let waiting = call(
        server.base_url(),
        Some(&owner.access),
        "GET",
        &format!("{CONVERSATIONS}?state=waiting"),
        None,
    )
    .await;
    let id = waiting.json["conversations"][0]["id"]
        .as_str()
        .expect("the waiting conversation is listed")
        .to_owned();
    (visitor, id)
}

async fn post(server: &Server, who: Option<&Session>, path: &str, body: Option<&Value>) -> Answer {
    call(
        server.base_url(),
        who.map(|session| session.access.as_str()),
        "POST",
        path,
        body,
    )
    .await
}

async fn get(server: &Server, who: &Session, path: &str) -> Value {
    let answer = call(server.base_url(), Some(&who.access), "GET", path, None).await;
    assert_eq!(answer.status, 200, "{}", answer.text());
    answer.json
}

/// A reply with an `Idempotency-Key`.
async fn reply_with_key(
    server: &Server,
    who: &Session,
    path: &str,
    words: &str,
    key: &str,
) -> Answer {
    loa_e2e::http::send(
        "POST",
        &format!("{}{path}", server.base_url()),
        &[
            ("authorization", &format!("Bearer {}", who.access)),
            ("content-type", "application/json"),
            ("idempotency-key", key),
        ],
        json!({"text": words, "quick_replies": [{"title": "Size M", "payload": "size-m"}]})
            .to_string(),
    )
    .await
}

#[tokio::test]
async fn an_operator_takes_answers_gives_back_and_closes_while_the_customer_watches() {
    let (_data, server, owner, members) = shop(&["operator"]).await;
    let lan = &members[0];
    let (mut visitor, id) = waiting_customer(&server, &owner).await;
    let path = format!("{CONVERSATIONS}/{id}");

    let taken = post(&server, Some(lan), &format!("{path}/take"), None).await;
    assert_eq!(taken.status, 200, "{}", taken.text());
    assert_eq!(taken.json["conversation"]["state"], "human");
    let joined = visitor.system_notice().await;
    assert_eq!(text(&joined), "Nhân viên đã tham gia cuộc trò chuyện.");

    // The owner cannot take it too, nor answer in it.
    let again = post(&server, Some(&owner), &format!("{path}/take"), None).await;
    let message = assert_error(&again, 409, "already_taken");
    assert!(message.contains("us_"), "names the holder: {message}");
    let other = post(
        &server,
        Some(&owner),
        &format!("{path}/reply"),
        Some(&json!({"text": "Chào bạn"})),
    )
    .await;
    assert_error(&other, 409, "not_holder");

    // While a person holds it, the customer's question is for them: no bot reply.
    visitor.say("c-2", COD_QUESTION).await;
    visitor
        .next_matching("the echo", |frame| text(frame) == COD_QUESTION)
        .await;

    let first = reply_with_key(
        &server,
        lan,
        &format!("{path}/reply"),
        "Dạ có ạ, shop ship COD toàn quốc",
        "r-1",
    )
    .await;
    assert_eq!(first.status, 201, "{}", first.text());
    let seen = visitor
        .next_matching("the operator's reply", |frame| {
            frame["sender"] == "operator"
        })
        .await;
    assert_eq!(text(&seen), "Dạ có ạ, shop ship COD toàn quốc");
    assert_eq!(seen["content"]["quick_replies"][0]["title"], "Size M");
    let retried = reply_with_key(
        &server,
        lan,
        &format!("{path}/reply"),
        "Dạ có ạ, shop ship COD toàn quốc",
        "r-1",
    )
    .await;
    assert_eq!(retried.status, 200, "{}", retried.text());
    assert_eq!(retried.json["repeated"], true);
    assert_eq!(retried.json["message"]["id"], first.json["message"]["id"]);

    let back = post(&server, Some(lan), &format!("{path}/give-back"), None).await;
    assert_eq!(back.status, 200, "{}", back.text());
    let returned = visitor.system_notice().await;
    assert!(
        text(&returned).starts_with("Trợ lý tự động sẽ tiếp tục"),
        "{returned}"
    );
    visitor.say("c-3", COD_QUESTION).await;
    let answer = visitor.bot_reply().await;
    assert!(text(&answer).starts_with(COD_ANSWER_START), "{answer}");

    let messages = get(&server, &owner, &format!("{path}/messages")).await;
    let senders: Vec<&str> = messages["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .map(|message| message["sender"]["kind"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(
        senders,
        [
            "contact", "system", "system", "contact", "operator", "system", "contact", "bot"
        ],
        "one operator reply despite the retry, and no bot reply while held"
    );
    let history = get(&server, &owner, &format!("{path}/handovers")).await;
    let moves: Vec<(&str, &str)> = history["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|event| {
            (
                event["trigger"].as_str().unwrap_or_default(),
                event["actor"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    let lan_actor = format!(
        "user:{}",
        taken.json["conversation"]["assigned_to"]
            .as_str()
            .unwrap_or_default()
    );
    assert_eq!(
        moves,
        [
            ("customer_asked", "contact"),
            ("operator_took", lan_actor.as_str()),
            ("operator_gave_back", lan_actor.as_str()),
        ]
    );
    let trace = get(&server, &owner, &format!("{path}/decisions")).await;
    let tiers: Vec<&str> = trace["decisions"]
        .as_array()
        .expect("decisions")
        .iter()
        .map(|entry| entry["decision"]["tier"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(tiers.first(), Some(&"handover"), "{trace}");
    assert_ne!(
        tiers.last(),
        Some(&"handover"),
        "the bot's own answer last: {trace}"
    );

    let closed = post(&server, Some(lan), &format!("{path}/close"), None).await;
    assert_eq!(closed.status, 200, "{}", closed.text());
    let bye = visitor.system_notice().await;
    assert_eq!(text(&bye), "Cuộc trò chuyện đã kết thúc. Cảm ơn bạn!");
    let reopen = post(&server, Some(lan), &format!("{path}/take"), None).await;
    assert_error(&reopen, 409, "invalid_transition");
    visitor.say("c-4", COD_QUESTION).await;
    visitor.bot_reply().await;
    let all = get(&server, &owner, CONVERSATIONS).await;
    let states: Vec<&str> = all["conversations"]
        .as_array()
        .expect("list")
        .iter()
        .map(|conversation| conversation["state"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(
        states,
        ["bot", "closed"],
        "a new conversation after the close"
    );

    let figures = get(&server, &owner, "/v1/tenants/may/handover-metrics").await;
    for trigger in [
        "customer_asked",
        "operator_took",
        "operator_gave_back",
        "operator_closed",
    ] {
        assert_eq!(figures["by_trigger"][trigger], 1, "{trigger}: {figures}");
    }
    assert_eq!(figures["waiting"]["count"], 1, "{figures}");
    assert_eq!(figures["first_reply"]["count"], 1, "{figures}");
    assert!(
        figures["first_reply"]["max_ms"]
            .as_i64()
            .is_some_and(|ms| ms >= 0)
    );
}

#[tokio::test]
async fn of_two_operators_taking_at_once_one_wins_and_bad_callers_change_nothing() {
    let (_data, server, owner, members) = shop(&["operator", "operator", "viewer"]).await;
    let (lan, minh, viewer) = (&members[0], &members[1], &members[2]);
    let (_visitor, id) = waiting_customer(&server, &owner).await;
    let path = format!("{CONVERSATIONS}/{id}");
    let before = get(&server, &owner, &path).await;

    let refused = [
        (
            post(&server, Some(viewer), &format!("{path}/take"), None).await,
            403,
            "forbidden",
        ),
        (
            post(&server, None, &format!("{path}/take"), None).await,
            401,
            "unauthorized",
        ),
        (
            post(
                &server,
                Some(viewer),
                &format!("{path}/reply"),
                Some(&json!({"text": "hi"})),
            )
            .await,
            403,
            "forbidden",
        ),
        (
            post(
                &server,
                Some(lan),
                &format!("{path}/reply"),
                Some(&json!({"text": "hi"})),
            )
            .await,
            409,
            "not_holder",
        ),
        (
            post(&server, Some(lan), &format!("{path}/give-back"), None).await,
            409,
            "invalid_transition",
        ),
        (
            post(
                &server,
                Some(lan),
                &format!("{CONVERSATIONS}/cv_nope/take"),
                None,
            )
            .await,
            404,
            "conversation_not_found",
        ),
        (
            post(
                &server,
                Some(lan),
                "/v1/tenants/other/conversations/x/take",
                None,
            )
            .await,
            403,
            "forbidden",
        ),
    ];
    for (answer, status, code) in &refused {
        if *status == 401 {
            assert_eq!(answer.status, 401, "{}", answer.text());
        } else {
            assert_error(answer, *status, code);
        }
    }
    assert_eq!(
        get(&server, &owner, &path).await,
        before,
        "refused calls change nothing"
    );

    let take = format!("{path}/take");
    let (first, second) = tokio::join!(
        post(&server, Some(lan), &take, None),
        post(&server, Some(minh), &take, None),
    );
    let mut statuses = [first.status, second.status];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 409], "{} / {}", first.text(), second.text());
    let (winner, loser) = if first.status == 200 {
        (lan, &second)
    } else {
        (minh, &first)
    };
    let message = assert_error(loser, 409, "already_taken");
    let holder = get(&server, &owner, &path).await["conversation"]["assigned_to"].clone();
    assert!(
        message.contains(holder.as_str().expect("held")),
        "{message}"
    );

    let bad_bodies = [
        (json!({"text": "   "}), "invalid_reply"),
        (json!({"text": "x".repeat(4_001)}), "invalid_reply"),
        (
            json!({"text": "ok", "quick_replies": [{"title": " ", "payload": "p"}]}),
            "invalid_reply",
        ),
        (json!({"texte": "typo"}), "invalid_json"),
    ];
    for (body, code) in bad_bodies {
        let answer = post(&server, Some(winner), &format!("{path}/reply"), Some(&body)).await;
        assert_error(&answer, 400, code);
    }
    let bad_key = loa_e2e::http::send(
        "POST",
        &format!("{}{path}/reply", server.base_url()),
        &[
            ("authorization", &format!("Bearer {}", winner.access)),
            ("content-type", "application/json"),
            ("idempotency-key", &"k".repeat(101)),
        ],
        json!({"text": "ok"}).to_string(),
    )
    .await;
    assert_error(&bad_key, 400, "invalid_idempotency_key");
    let messages = get(&server, &owner, &format!("{path}/messages")).await;
    assert!(
        messages["messages"]
            .as_array()
            .expect("messages")
            .iter()
            .all(|message| message["sender"]["kind"] != "operator"),
        "no bad reply was stored: {messages}"
    );
}
