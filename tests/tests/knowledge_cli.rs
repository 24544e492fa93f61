//! Knowledge end to end with the real `loa` binary and the real embedding model: FAQ and
//! document imports (idempotent, bad lines refused with their number), a customer on the
//! widget asking without accents, about a document, and off-topic, and `loa eval` on the
//! demo shop's public query set.

use std::path::Path;

use loa_e2e::serve::Server;
use loa_e2e::widget::{Visitor, text};
use loa_e2e::{finish, loa, workspace_root};
use serde_json::Value;

fn shop_dir(name: &str) -> std::path::PathBuf {
    workspace_root().join("samples/demo-shop").join(name)
}

fn loa_in(data: &Path) -> std::process::Command {
    let mut command = loa(data);
    command.arg("--data-dir").arg(data);
    command
}

/// A data dir with the demo shop, its FAQ and documents imported.
fn imported_shop() -> tempfile::TempDir {
    let data = tempfile::tempdir().expect("temp dir");
    finish(
        loa_in(data.path())
            .args(["tenant", "apply"])
            .arg(shop_dir("shop.toml")),
    )
    .success();
    let faq = finish(
        loa_in(data.path())
            .args(["faq", "import", "--bot", "may"])
            .arg(shop_dir("faq.jsonl")),
    )
    .success();
    assert!(faq.contains("50 FAQ entries"), "{faq}");
    let docs = finish(
        loa_in(data.path())
            .args(["docs", "import", "--bot", "may"])
            .arg(shop_dir("docs")),
    )
    .success();
    assert!(docs.contains("3 documents (3 new or changed"), "{docs}");
    data
}

#[test]
fn a_second_import_embeds_nothing_and_a_bad_file_changes_nothing() {
    let data = imported_shop();
    let again = finish(
        loa_in(data.path())
            .args(["faq", "import", "--bot", "may"])
            .arg(shop_dir("faq.jsonl")),
    )
    .success();
    assert!(again.contains("0 texts embedded"), "{again}");
    let docs = finish(
        loa_in(data.path())
            .args(["docs", "import", "--bot", "may"])
            .arg(shop_dir("docs")),
    )
    .success();
    assert!(
        docs.contains("0 new or changed") && docs.contains("0 texts embedded"),
        "{docs}"
    );

    let bad = data.path().join("bad.jsonl");
    std::fs::write(
        &bad,
        "{\"id\":\"x\",\"question\":\"Q?\",\"answer\":\"A.\"}\n{broken\n{\"id\":\"y\",\"question\":\"\",\"answer\":\"A\"}\n",
    )
    .expect("write");
    let refused = finish(
        loa_in(data.path())
            .args(["faq", "import", "--bot", "may"])
            .arg(&bad),
    )
    .failure();
    assert!(
        refused.contains("bad.jsonl:2:") && refused.contains("bad.jsonl:3:"),
        "{refused}"
    );
    assert!(refused.contains("nothing imported"), "{refused}");
    let listed = finish(loa_in(data.path()).args(["faq", "list", "--bot", "may"])).success();
    assert_eq!(listed.lines().count(), 50, "the FAQ is untouched");

    let latin1 = data.path().join("latin1.md");
    std::fs::write(&latin1, b"# Gi\xe1 \n\nv\xe0ng").expect("write");
    let refused = finish(
        loa_in(data.path())
            .args(["docs", "import", "--bot", "may"])
            .arg(&latin1),
    )
    .failure();
    assert!(refused.contains("UTF-8"), "{refused}");
}

#[tokio::test]
async fn the_widget_answers_from_faq_and_documents_and_declines_the_rest() {
    let data = imported_shop();
    let server = Server::start_with_knowledge(data.path(), std::iter::empty::<&str>());
    let mut visitor = Visitor::connect(server.base_url(), "may")
        .await
        .expect("bot");
    visitor.hello(None, None).await;

    visitor.say("q1", "shop co ship cod ko").await;
    let reply = visitor.bot_reply().await;
    assert!(
        text(&reply).starts_with("Có ạ, Mây giao hàng COD"),
        "{reply}"
    );

    visitor
        .say("q2", "Áo lụa thì ủi ở nhiệt độ bao nhiêu?")
        .await;
    let reply = visitor.bot_reply().await;
    assert!(
        text(&reply).contains("Lụa") || text(&reply).contains("lụa"),
        "{reply}"
    );

    visitor.say("q3", "Giá vàng hôm nay thế nào rồi?").await;
    let reply = visitor.bot_reply().await;
    assert!(text(&reply).contains("gặp nhân viên"), "{reply}");
}

#[test]
fn eval_on_the_public_queries_meets_the_targets() {
    let data = tempfile::tempdir().expect("temp dir");
    let output = finish(
        loa_in(data.path())
            .arg("eval")
            .arg("--faq")
            .arg(shop_dir("eval/shop-faq.jsonl"))
            .arg("--queries")
            .arg(shop_dir("eval/faq-eval-public.jsonl"))
            .arg("--docs")
            .arg(shop_dir("docs"))
            .arg("--json"),
    )
    .success();
    let report: Value = serde_json::from_str(output.trim()).expect("one JSON object");
    let metric = |key: &str| {
        report[key]
            .as_f64()
            .unwrap_or_else(|| panic!("{key} in {report}"))
    };
    eprintln!("loa eval: {report}");
    assert!(metric("top1") >= 0.90, "{report}");
    assert!(metric("answered_correct") >= 0.75, "{report}");
    assert!(metric("false_answer_rate") <= 0.05, "{report}");
    assert!(metric("knowledge_hit") >= 0.80, "{report}");
    for style in ["diacritics", "no-diacritics", "teencode", "english"] {
        let top1 = report["by_style"][style]["top1"]
            .as_f64()
            .expect("per style top1");
        assert!(top1 >= 0.80, "{style}: {report}");
    }
}
