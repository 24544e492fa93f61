//! Handover as a customer on the widget sees it, against the real `loa serve`: asking for
//! a person (with or without diacritics, in English) queues the conversation with the
//! promised notice, the bot stays silent while a person is awaited, cancelling gives the
//! conversation back to the bot, and two unanswerable questions in a row hand over on
//! their own.

use loa_e2e::accounts::{DEMO_OWNER, call, demo_shop_with_owner, login};
use loa_e2e::serve::Server;
use loa_e2e::widget::{Visitor, text};
use loa_e2e::{finish, loa, workspace_root};
use serde_json::Value;

const WAITING_VI: &str = "Nhân viên đang hỗ trợ bạn, vui lòng chờ trong giây lát.";
const COD_QUESTION: &str = "shop có ship COD không?";
const COD_ANSWER_START: &str = "Có ạ, Mây giao hàng COD";

/// The demo shop served, and its owner's token.
async fn shop() -> (tempfile::TempDir, Server, String) {
    let (data, password) = demo_shop_with_owner("");
    let server = Server::start(data.path(), std::iter::empty::<&str>());
    let token = login(server.base_url(), DEMO_OWNER, &password).await.access;
    (data, server, token)
}

async fn visitor(server: &Server) -> Visitor {
    let mut visitor = Visitor::connect(server.base_url(), "may")
        .await
        .expect("the demo bot exists");
    visitor.hello(None, None).await;
    visitor
}

/// The state of the demo shop's only conversation, as the admin API tells it.
async fn state(server: &Server, token: &str) -> Value {
    let answer = call(
        server.base_url(),
        Some(token),
        "GET",
        "/v1/tenants/may/conversations",
        None,
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.text());
    let conversations = answer.json["conversations"].as_array().expect("a list");
    assert_eq!(conversations.len(), 1, "{}", answer.json);
    conversations[0]["state"].clone()
}

/// The messages the bot wrote, among the frames seen.
fn bot_messages(visitor: &Visitor) -> Vec<String> {
    visitor
        .seen()
        .iter()
        .filter(|frame| frame["type"] == "message" && frame["sender"] == "bot")
        .map(|frame| text(frame).to_owned())
        .collect()
}

#[tokio::test]
async fn asking_for_a_person_queues_the_conversation_and_silences_the_bot_until_cancelled() {
    let (_data, server, token) = shop().await;
    let mut visitor = visitor(&server).await;
    visitor.say("c-1", "cho mình gặp nhân viên").await;
    let notice = visitor.system_notice().await;
    assert_eq!(text(&notice), WAITING_VI, "{notice}");
    assert_eq!(state(&server, &token).await, "waiting");

    // A question the bot knows, while a person is awaited: no answer from the bot.
    visitor.say("c-2", COD_QUESTION).await;
    // Turns of one conversation run in order: once the cancel is answered, the question
    // before it was handled — silently.
    visitor.say("c-3", "thoi khong can nua").await;
    let cancelled = visitor.system_notice().await;
    assert!(
        text(&cancelled).starts_with("Đã hủy yêu cầu"),
        "{cancelled}"
    );
    assert_eq!(
        bot_messages(&visitor),
        Vec::<String>::new(),
        "the bot stayed silent while waiting; frames: {:#?}",
        visitor.seen()
    );
    assert_eq!(state(&server, &token).await, "bot");

    // The bot answers again.
    visitor.say("c-4", COD_QUESTION).await;
    let reply = visitor.bot_reply().await;
    assert!(text(&reply).starts_with(COD_ANSWER_START), "{reply}");
}

#[tokio::test]
async fn asking_without_diacritics_or_in_english_is_heard_too() {
    let (_data, server, token) = shop().await;
    let mut visitor = visitor(&server).await;
    visitor.say("c-1", "gap nhan vien").await;
    assert_eq!(text(&visitor.system_notice().await), WAITING_VI);
    assert_eq!(state(&server, &token).await, "waiting");

    let (_data, server, token) = shop().await;
    let mut visitor = Visitor::connect(server.base_url(), "may")
        .await
        .expect("the demo bot exists");
    visitor
        .send(serde_json::json!({"type": "hello", "lang": "en"}))
        .await;
    visitor.next_of_type("ready").await;
    visitor.say("c-1", "I want to talk to a person").await;
    let notice = visitor.system_notice().await;
    assert!(
        text(&notice).starts_with("A member of our staff will be with you"),
        "the English notice for an English conversation: {notice}"
    );
    assert_eq!(state(&server, &token).await, "waiting");
}

#[tokio::test]
async fn two_unanswerable_questions_in_a_row_hand_over_on_their_own() {
    let (_data, server, token) = shop().await;
    let mut visitor = visitor(&server).await;
    visitor.say("c-1", "hôm nay trời có mưa không?").await;
    let first = visitor.bot_reply().await;
    assert!(text(&first).contains("gặp nhân viên"), "{first}");
    assert_eq!(state(&server, &token).await, "bot");
    visitor.say("c-2", "giá vàng hôm nay thế nào?").await;
    let notice = visitor.system_notice().await;
    assert_eq!(text(&notice), WAITING_VI, "{notice}");
    assert_eq!(state(&server, &token).await, "waiting");
    assert_eq!(bot_messages(&visitor).len(), 1, "no second apology");
}

/// The handover history's (trigger, actor, reason) lines of the shop's only conversation.
async fn history(server: &Server, token: &str) -> Vec<(String, String, String)> {
    let list = call(
        server.base_url(),
        Some(token),
        "GET",
        "/v1/tenants/may/conversations",
        None,
    )
    .await;
    let id = list.json["conversations"][0]["id"]
        .as_str()
        .expect("a conversation")
        .to_owned();
    let path = format!("/v1/tenants/may/conversations/{id}/handovers");
    let answer = call(server.base_url(), Some(token), "GET", &path, None).await;
    answer.json["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|event| {
            let field = |name: &str| event[name].as_str().unwrap_or_default().to_owned();
            (field("trigger"), field("actor"), field("reason"))
        })
        .collect()
}

#[tokio::test]
async fn an_faq_entry_tagged_handover_answers_and_then_queues() {
    let (_data, server, token) = shop().await;
    let entry = serde_json::json!({
        "id": "khieu-nai",
        "question": "Tôi muốn khiếu nại về đơn hàng",
        "answer": "Dạ Mây rất tiếc về trải nghiệm của bạn, nhân viên sẽ xử lý ngay ạ.",
        "tags": ["handover"],
    });
    let put = call(
        server.base_url(),
        Some(&token),
        "PUT",
        "/v1/tenants/may/bots/may/faq/khieu-nai",
        Some(&entry),
    )
    .await;
    assert!((200..300).contains(&put.status), "{}", put.text());
    let mut visitor = visitor(&server).await;
    visitor.say("c-1", "Tôi muốn khiếu nại về đơn hàng").await;
    let answer = visitor.bot_reply().await;
    assert!(text(&answer).starts_with("Dạ Mây rất tiếc"), "{answer}");
    assert_eq!(text(&visitor.system_notice().await), WAITING_VI);
    assert_eq!(state(&server, &token).await, "waiting");
    assert_eq!(
        history(&server, &token).await,
        [(
            "customer_asked".to_owned(),
            "knowledge".to_owned(),
            "faq: khieu-nai".to_owned()
        )]
    );
}

#[tokio::test]
async fn the_knowledge_tier_hears_a_request_for_a_person_in_shorthand() {
    let (data, password) = demo_shop_with_owner("");
    let server = Server::start_with_knowledge(data.path(), std::iter::empty::<&str>());
    let token = login(server.base_url(), DEMO_OWNER, &password).await.access;
    let mut visitor = visitor(&server).await;
    // Not in the turn's phrase list: the knowledge tier's lexicon hears it.
    visitor.say("c-1", "mik muon duoc tu van truc tiep").await;
    assert_eq!(text(&visitor.system_notice().await), WAITING_VI);
    assert_eq!(state(&server, &token).await, "waiting");
    assert!(
        bot_messages(&visitor).is_empty(),
        "no bot answer besides the notice"
    );
    let lines = history(&server, &token).await;
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(lines[0].1, "knowledge", "{lines:?}");
}

/// A weekday name three days from today in Vietnam (UTC+7): hours on that day only make
/// the shop closed now, whatever the time.
fn a_closed_day() -> &'static str {
    const DAYS: [&str; 7] = ["thu", "fri", "sat", "sun", "mon", "tue", "wed"];
    let seconds = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_secs()
        + 7 * 3600;
    // 1970-01-01 was a Thursday.
    DAYS[((seconds / 86_400 + 3) % 7) as usize]
}

#[tokio::test]
async fn outside_business_hours_the_plugin_says_no_staff_now_instead_of_queueing() {
    let (data, password) = demo_shop_with_owner("");
    finish(
        loa(data.path())
            .args(["plugin", "install"])
            .arg(workspace_root().join("plugins/business-hours")),
    )
    .success();
    let server = Server::start(data.path(), std::iter::empty::<&str>());
    let token = login(server.base_url(), DEMO_OWNER, &password).await.access;
    let hours = format!("{} 08:00-21:00", a_closed_day());
    let enable = serde_json::json!({"enabled": true, "config": {"hours": hours}});
    let enabled = call(
        server.base_url(),
        Some(&token),
        "PUT",
        "/v1/tenants/may/plugins/business-hours",
        Some(&enable),
    )
    .await;
    assert!((200..300).contains(&enabled.status), "{}", enabled.text());
    let bot = call(
        server.base_url(),
        Some(&token),
        "GET",
        "/v1/tenants/may/bots/may",
        None,
    )
    .await;
    let mut settings = bot.json["bot"]["settings"].clone();
    settings["plugins"] = serde_json::json!([{"name": "business-hours"}]);
    let body = serde_json::json!({"name": bot.json["bot"]["name"], "settings": settings});
    let put = call(
        server.base_url(),
        Some(&token),
        "PUT",
        "/v1/tenants/may/bots/may",
        Some(&body),
    )
    .await;
    assert!((200..300).contains(&put.status), "{}", put.text());

    let mut visitor = visitor(&server).await;
    visitor.say("c-1", "cho mình gặp nhân viên").await;
    let closed = visitor.bot_reply().await;
    assert!(
        text(&closed).starts_with("Shop hiện đã ngoài giờ làm việc"),
        "{closed}"
    );
    assert_eq!(
        state(&server, &token).await,
        "bot",
        "not queued outside hours"
    );
    assert!(
        !visitor
            .seen()
            .iter()
            .any(|frame| frame["sender"] == "system"),
        "no waiting notice: {:#?}",
        visitor.seen()
    );
}
