//! Two `loa serve` instances on one PostgreSQL, as behind a load balancer: the customer's
//! widget on instance A, the operator's console feed and API calls on instance B. The
//! whole handover works across them, each live update relayed through LISTEN/NOTIFY.
//! Latencies are printed (the goal is under 1 s); the assertions allow far more, since a
//! shared machine is noisy and a lost event, not a slow one, is the bug.

#[path = "../../host/tests/common/postgres.rs"]
mod postgres;

use std::time::{Duration, Instant};

use loa_e2e::accounts::{Session, admin_config, call, create_user, login};
use loa_e2e::serve::Server;
use loa_e2e::sse::EventStream;
use loa_e2e::widget::{Visitor, text};
use loa_e2e::{finish, loa, workspace_root};
use serde_json::json;

const WITHIN: Duration = Duration::from_secs(10);
const COD_QUESTION: &str = "shop có ship COD không?";

/// A data dir (config and logs) for one instance on `database`.
fn instance_dir() -> tempfile::TempDir {
    let data = tempfile::tempdir().expect("temp dir");
    std::fs::write(data.path().join("loa.toml"), admin_config("")).expect("write loa.toml");
    data
}

fn on(data: &std::path::Path, database: &postgres::TestDatabase) -> std::process::Command {
    let mut command = loa(data);
    command.arg("--database-url").arg(&database.url);
    command
}

#[tokio::test]
async fn a_customer_on_one_instance_and_an_operator_on_another_see_each_other_live() {
    let database = postgres::TestDatabase::create().await;
    let (data_a, data_b) = (instance_dir(), instance_dir());
    finish(
        on(data_a.path(), &database)
            .args(["tenant", "apply"])
            .arg(workspace_root().join("samples/demo-shop/shop.toml")),
    )
    .success();
    let password = create_user(
        on(data_a.path(), &database),
        "lan@may.vn",
        "may",
        "operator",
    );
    let url = database.url.as_str();
    let a = Server::start(data_a.path(), ["--database-url", url]);
    let b = Server::start(data_b.path(), ["--database-url", url]);
    let lan: Session = login(b.base_url(), "lan@may.vn", &password).await;

    let mut feed = EventStream::open(
        &format!("{}/v1/tenants/may/live", b.base_url()),
        &lan.access,
        None,
    )
    .await;
    feed.expect("ready", WITHIN, |_| true).await;
    let mut visitor = Visitor::connect(a.base_url(), "may")
        .await
        .expect("the demo bot answers on A");
    visitor.hello(None, None).await;

    let mut latencies = Vec::new();
    let started = Instant::now();
    visitor.say("c-1", "cho mình gặp nhân viên").await;
    feed.expect("message", WITHIN, |data| {
        data["sender"]["kind"] == "contact"
    })
    .await;
    latencies.push(("customer message A → console B", started.elapsed()));
    let queued = feed
        .expect("conversation", WITHIN, |data| data["state"] == "waiting")
        .await;
    latencies.push(("queued A → console B", started.elapsed()));
    let conversation = queued.data["id"].as_str().expect("an id").to_owned();
    visitor.system_notice().await;

    let path = format!("/v1/tenants/may/conversations/{conversation}");
    let started = Instant::now();
    let taken = call(
        b.base_url(),
        Some(&lan.access),
        "POST",
        &format!("{path}/take"),
        None,
    )
    .await;
    assert_eq!(taken.status, 200, "{}", taken.text());
    let joined = visitor.system_notice().await;
    latencies.push(("take B → widget A", started.elapsed()));
    assert_eq!(text(&joined), "Nhân viên đã tham gia cuộc trò chuyện.");

    let started = Instant::now();
    visitor.say("c-2", "mình muốn đổi size").await;
    feed.expect("message", WITHIN, |data| {
        data["content"]["text"] == "mình muốn đổi size"
    })
    .await;
    latencies.push(("customer message (held) A → console B", started.elapsed()));

    let started = Instant::now();
    let reply = call(
        b.base_url(),
        Some(&lan.access),
        "POST",
        &format!("{path}/reply"),
        Some(&json!({"text": "Dạ bạn gửi mã đơn giúp mình nhé"})),
    )
    .await;
    assert_eq!(reply.status, 201, "{}", reply.text());
    let seen = visitor
        .next_matching("the operator's reply", |frame| {
            frame["sender"] == "operator"
        })
        .await;
    latencies.push(("operator reply B → widget A", started.elapsed()));
    assert_eq!(text(&seen), "Dạ bạn gửi mã đơn giúp mình nhé");

    let started = Instant::now();
    let back = call(
        b.base_url(),
        Some(&lan.access),
        "POST",
        &format!("{path}/give-back"),
        None,
    )
    .await;
    assert_eq!(back.status, 200, "{}", back.text());
    let returned = visitor.system_notice().await;
    latencies.push(("give back B → widget A", started.elapsed()));
    assert!(text(&returned).starts_with("Trợ lý tự động"), "{returned}");
    feed.expect("conversation", WITHIN, |data| data["state"] == "bot")
        .await;

    visitor.say("c-3", COD_QUESTION).await;
    let answer = visitor.bot_reply().await;
    assert!(
        text(&answer).starts_with("Có ạ, Mây giao hàng COD"),
        "{answer}"
    );

    for (what, took) in &latencies {
        println!("live update {what}: {took:?}");
        assert!(*took < WITHIN, "{what} took {took:?}");
    }
    drop((a, b));
    database.finish().await;
}
