//! The same binary on PostgreSQL: `loa tenant apply` and `loa serve` with `--database-url`
//! behave as on SQLite: the FAQ answer, and nothing lost or doubled across a crash.

// Shared with the host's store tests (one throwaway server helper, not two).
#[path = "../../host/tests/common/postgres.rs"]
mod postgres;

use loa_e2e::serve::Server;
use loa_e2e::widget::{Visitor, text};
use loa_e2e::{finish, loa, workspace_root};

const COD_QUESTION: &str = "shop có ship COD không?";

/// A data dir (for the config and logs only) and a fresh schema with the demo shop.
async fn demo_shop_on_postgres(config: &str) -> (tempfile::TempDir, postgres::TestDatabase) {
    let database = postgres::TestDatabase::create().await;
    let data = tempfile::tempdir().expect("temp dir");
    std::fs::write(data.path().join("loa.toml"), config).expect("write loa.toml");
    let applied = finish(
        loa(data.path())
            .arg("--database-url")
            .arg(&database.url)
            .args(["tenant", "apply"])
            .arg(workspace_root().join("samples/demo-shop/shop.toml")),
    )
    .success();
    assert!(applied.contains("50 FAQ entries"), "{applied}");
    (data, database)
}

fn serve(data: &std::path::Path, database: &postgres::TestDatabase) -> Server {
    Server::start(data, ["--database-url", database.url.as_str()])
}

#[tokio::test]
async fn the_cod_question_is_answered_on_postgres() {
    let (data, database) = demo_shop_on_postgres("").await;
    let server = serve(data.path(), &database);
    let mut visitor = Visitor::connect(server.base_url(), "may")
        .await
        .expect("bot exists");
    visitor.hello(None, None).await;
    visitor.say("c-1", COD_QUESTION).await;
    let reply = visitor.bot_reply().await;
    assert!(
        text(&reply).starts_with("Có ạ, Mây giao hàng COD"),
        "{reply}\n{}",
        server.stderr()
    );
    drop(server);
    database.finish().await;
}

#[tokio::test]
async fn a_crash_on_postgres_loses_nothing_and_answers_nothing_twice() {
    let (data, database) = demo_shop_on_postgres(
        "[pipeline]\nworkers = 1\nlease_secs = 2\n[delivery]\nlease_secs = 2\n",
    )
    .await;
    let mut server = serve(data.path(), &database);
    let mut visitor = Visitor::connect(server.base_url(), "may")
        .await
        .expect("bot exists");
    let ready = visitor.hello(None, None).await;
    let visitor_id = ready["visitor_id"].as_str().expect("visitor id").to_owned();
    for index in 0..6 {
        visitor.say(&format!("q{index}"), COD_QUESTION).await;
        visitor.next_of_type("ack").await;
    }
    server.crash();
    let restarted = serve(data.path(), &database);
    let mut back = Visitor::connect(restarted.base_url(), "may")
        .await
        .expect("bot exists");
    let ready = back.hello(Some(&visitor_id), None).await;
    let mut frames: Vec<serde_json::Value> =
        ready["messages"].as_array().cloned().unwrap_or_default();
    while frames.iter().filter(|f| f["sender"] == "bot").count() < 6 {
        frames.push(back.bot_reply().await);
    }
    frames.extend(
        back.seen
            .iter()
            .filter(|f| f["type"] == "message" && f["sender"] == "contact")
            .cloned(),
    );
    let mut ids: Vec<i64> = frames.iter().filter_map(|f| f["id"].as_i64()).collect();
    ids.sort_unstable();
    let before = ids.len();
    ids.dedup();
    assert_eq!(before, ids.len(), "a message delivered twice: {frames:#?}");
    assert_eq!(ids.len(), 12, "six questions and six answers: {frames:#?}");
    drop(restarted);
    database.finish().await;
}
