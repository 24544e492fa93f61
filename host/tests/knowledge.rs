//! The knowledge service with the real embedding model (`cargo xtask fetch-model`): only
//! changed texts are embedded, retrieval finds the right entry however the customer types,
//! tenants never see each other's knowledge, and the orchestrator answers, declines or
//! quotes a document by its real rule.

#[path = "store_contract/seed.rs"]
mod seed;

use std::sync::{Arc, OnceLock};

use loa::conversation::model::FaqEntry;
use loa::conversation::orchestrator::Orchestrator;
use loa::knowledge::Knowledge;
use loa::knowledge::embedder::{DIMENSION, Embedder, EmbedderPaths, Role};
use loa::knowledge::vector::MemoryIndex;
use loa::store::sqlite::SqliteStore;
use loa::store::{Document, DocumentChunk, Store};

fn entry(id: &str, question: &str, answer: &str) -> FaqEntry {
    FaqEntry {
        id: id.into(),
        question: question.into(),
        variants: vec![],
        answer: answer.into(),
        tags: vec![],
    }
}

fn faq() -> Vec<FaqEntry> {
    vec![
        entry(
            "cod",
            "Shop có giao hàng thu tiền tận nơi (COD) không?",
            "Có, Mây giao COD toàn quốc.",
        ),
        entry(
            "fee",
            "Phí ship bao nhiêu?",
            "Phí ship nội thành 20.000đ, tỉnh khác 30.000đ.",
        ),
        entry(
            "return",
            "Mua rồi thì được đổi trả trong bao lâu?",
            "Đổi trả trong 7 ngày kể từ khi nhận hàng.",
        ),
        entry(
            "pay",
            "Shop nhận những hình thức thanh toán nào?",
            "COD, chuyển khoản, thẻ Visa/Master, ví MoMo.",
        ),
        entry(
            "hours",
            "Cửa hàng mở cửa mấy giờ?",
            "Cửa hàng mở 9:00–21:30 mỗi ngày.",
        ),
    ]
}

fn care_document() -> Document {
    Document {
        id: "care.md".into(),
        title: "Bảo quản sản phẩm".into(),
        source: "care.md".into(),
        sha256: "x".into(),
        chunks: vec![
            DocumentChunk {
                headings: vec!["Bảo quản sản phẩm".into(), "Áo len".into()],
                text:
                    "Áo len giặt tay bằng nước lạnh, phơi nằm ngang trong bóng râm để không bị dãn."
                        .into(),
            },
            DocumentChunk {
                headings: vec!["Bảo quản sản phẩm".into(), "Lụa".into()],
                text: "Đồ lụa ủi ở nhiệt độ thấp, dưới 110 độ C, mặt trái của vải.".into(),
            },
        ],
        updated_at_ms: 0,
    }
}

/// One model per test process: loading takes seconds and ~1 GB.
fn paths() -> EmbedderPaths {
    let paths = EmbedderPaths::from_env();
    if let Err(error) = paths.check() {
        panic!("{error}");
    }
    paths
}

async fn setup(tenants: &[&str]) -> (Arc<dyn Store>, Arc<Knowledge>, Vec<seed::Shop>) {
    let store: Arc<dyn Store> = Arc::new(SqliteStore::in_memory().expect("store"));
    let mut shops = Vec::new();
    for tenant in tenants {
        let shop = seed::shop(&*store, tenant).await;
        store
            .replace_faq(&shop.tenant, &shop.bot, &faq())
            .await
            .expect("faq");
        shops.push(shop);
    }
    let knowledge = Arc::new(Knowledge::new(
        Arc::clone(&store),
        Arc::new(MemoryIndex::new(DIMENSION)),
        paths(),
    ));
    (store, knowledge, shops)
}

async fn bot(store: &Arc<dyn Store>, shop: &seed::Shop) -> loa::conversation::model::Bot {
    store.bot(&shop.bot).await.expect("read").expect("bot")
}

#[tokio::test]
async fn only_new_or_changed_texts_are_embedded() {
    let (store, knowledge, shops) = setup(&["may"]).await;
    let bot = bot(&store, &shops[0]).await;
    let first = knowledge.sync(&bot, &|_, _| {}).await.expect("sync");
    assert_eq!(first.units, 10, "question + question-and-answer per entry");
    assert_eq!(first.embedded, 10);
    let again = knowledge.sync(&bot, &|_, _| {}).await.expect("sync");
    assert_eq!(again.embedded, 0);
    assert_eq!(again.indexed, 0);

    // A changed answer re-embeds only its question-and-answer text.
    let mut changed = faq();
    changed[1].answer = "Phí ship đồng giá 25.000đ.".into();
    changed.pop();
    store
        .replace_faq(&bot.tenant_id, &bot.id, &changed)
        .await
        .expect("faq");
    let after = knowledge.sync(&bot, &|_, _| {}).await.expect("sync");
    assert_eq!(after.embedded, 1);
    assert_eq!(after.removed, 2, "the deleted entry's two points");

    // A second service over the same store (another process) embeds nothing: the vectors
    // are in the store.
    let fresh = Knowledge::new(
        Arc::clone(&store),
        Arc::new(MemoryIndex::new(DIMENSION)),
        paths(),
    );
    let reloaded = fresh.sync(&bot, &|_, _| {}).await.expect("sync");
    assert_eq!(reloaded.embedded, 0);
    assert_eq!(reloaded.indexed, 8);
}

#[tokio::test]
async fn retrieval_finds_the_entry_with_or_without_accents_in_shorthand_or_english() {
    let (store, knowledge, shops) = setup(&["may"]).await;
    let bot = bot(&store, &shops[0]).await;
    for (question, expected) in [
        ("ship cod được không shop", "cod"),
        ("phi ship bao nhieu vay", "fee"),
        ("mik mua r đổi trả trong mấy ngày dc k", "return"),
        ("What payment methods do you accept?", "pay"),
        ("cua hang may gio mo cua", "hours"),
    ] {
        let retrieval = knowledge.retrieve(&bot, question).await.expect("retrieve");
        assert_eq!(
            retrieval.faq[0].id, expected,
            "{question}: {:?}",
            retrieval.faq
        );
    }
}

#[tokio::test]
async fn a_tenant_never_retrieves_another_tenants_knowledge() {
    let (store, knowledge, shops) = setup(&["may", "lua"]).await;
    store
        .put_document(&shops[0].tenant, &shops[0].bot, &care_document())
        .await
        .expect("document");
    let may = bot(&store, &shops[0]).await;
    let lua = bot(&store, &shops[1]).await;
    let question = "áo len phơi thế nào cho khỏi dãn";
    let mine = knowledge.retrieve(&may, question).await.expect("retrieve");
    assert_eq!(mine.chunks[0].document.as_deref(), Some("care.md"));
    let theirs = knowledge.retrieve(&lua, question).await.expect("retrieve");
    assert!(theirs.chunks.is_empty(), "{:?}", theirs.chunks);
}

#[tokio::test]
async fn the_orchestrator_answers_declines_and_quotes_documents() {
    let (store, knowledge, shops) = setup(&["may"]).await;
    store
        .put_document(&shops[0].tenant, &shops[0].bot, &care_document())
        .await
        .expect("document");
    let bot = bot(&store, &shops[0]).await;
    let conversation = seed::conversation(&*store, &shops[0], "visitor").await;
    let orchestrator = Orchestrator::new(Arc::clone(&store), Some(knowledge));

    let answer = orchestrator
        .answer(&bot, &conversation, "shop co ship cod ko")
        .await
        .expect("answer");
    assert_eq!(
        answer.grounds.faq.as_deref(),
        Some("cod"),
        "{:?}",
        answer.decision
    );

    let answer = orchestrator
        .answer(&bot, &conversation, "Giá vàng hôm nay bao nhiêu?")
        .await
        .expect("answer");
    assert_eq!(answer.grounds.faq, None, "{:?}", answer.decision);
    assert_eq!(answer.decision.tier, "fallback");
    assert!(
        answer
            .reply
            .text
            .as_deref()
            .unwrap_or_default()
            .contains("nhân viên"),
        "{:?}",
        answer.reply
    );

    let answer = orchestrator
        .answer(&bot, &conversation, "Áo lụa thì ủi ở nhiệt độ bao nhiêu?")
        .await
        .expect("answer");
    assert_eq!(answer.decision.tier, "knowledge", "{:?}", answer.decision);
    assert_eq!(answer.grounds.documents, ["care.md"]);
    assert!(
        answer
            .reply
            .text
            .as_deref()
            .unwrap_or_default()
            .contains("110"),
        "{:?}",
        answer.reply
    );

    let answer = orchestrator
        .answer(&bot, &conversation, "cho mình gặp nhân viên")
        .await
        .expect("answer");
    assert!(answer.grounds.wants_human);

    for empty in ["", "   ", "???"] {
        let answer = orchestrator
            .answer(&bot, &conversation, empty)
            .await
            .expect("answer");
        assert_eq!(answer.decision.tier, "fallback", "{empty:?}");
    }
    let huge = "áo ".repeat(20_000);
    let answer = orchestrator
        .answer(&bot, &conversation, &huge)
        .await
        .expect("answer");
    assert_eq!(answer.grounds.faq, None);
}

#[test]
fn similar_questions_are_closer_than_unrelated_ones() {
    static EMBEDDER: OnceLock<Embedder> = OnceLock::new();
    let embedder = EMBEDDER.get_or_init(|| Embedder::load(&paths()).expect("model"));
    let vectors = embedder
        .embed(
            &[
                "shop có ship COD không".to_owned(),
                "có giao hàng thu tiền tận nơi không".to_owned(),
                "hôm nay trời mưa to quá".to_owned(),
            ],
            Role::Query,
        )
        .expect("embed");
    assert!(vectors.iter().all(|vector| vector.len() == DIMENSION));
    let norm: f32 = vectors[0].iter().map(|x| x * x).sum::<f32>().sqrt();
    assert!((norm - 1.0).abs() < 1e-3, "unit length, got {norm}");
    let dot = |a: &[f32], b: &[f32]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f32>();
    assert!(dot(&vectors[0], &vectors[1]) > dot(&vectors[0], &vectors[2]));
}
