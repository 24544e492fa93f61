//! Knowledge documents and their chunks ([`KnowledgeStore`](loa::store::KnowledgeStore));
//! embedding vectors are in `embeddings.rs`, edits of one FAQ entry in `faq_edits.rs`.

use std::sync::Arc;

use loa::store::{Document, DocumentChunk, Store};

use crate::seed::{T0, shop};

crate::contract!(
    a_document_round_trips_with_its_chunks,
    putting_a_document_again_replaces_it,
    deleting_a_document_says_whether_it_existed,
    documents_are_listed_by_id,
    documents_of_another_tenant_are_never_read_or_deleted,
);

fn document(id: &str, title: &str) -> Document {
    Document {
        id: id.into(),
        title: title.into(),
        source: format!("docs/{id}"),
        sha256: format!("{:0>64}", id.len()),
        chunks: vec![
            DocumentChunk {
                headings: vec![title.into()],
                text: format!("Nội dung của {id}."),
            },
            DocumentChunk {
                headings: vec![title.into(), "Chi tiết".into()],
                text: "Đổi trả trong 7 ngày ✅ — 退货 \"quoted\" \\ tab\tend".into(),
            },
        ],
        updated_at_ms: T0,
    }
}

fn ids(documents: &[Document]) -> Vec<&str> {
    documents
        .iter()
        .map(|document| document.id.as_str())
        .collect()
}
async fn a_document_round_trips_with_its_chunks(store: Arc<dyn Store>) {
    let shop = shop(&*store, "may").await;
    let policy = document("chính-sách-đổi-trả.md", "Chính sách đổi trả 🛍️");
    store
        .put_document("may", &shop.bot, &policy)
        .await
        .expect("put");
    assert_eq!(
        store.documents("may", &shop.bot).await.expect("read"),
        [policy]
    );
}

async fn putting_a_document_again_replaces_it(store: Arc<dyn Store>) {
    let shop = shop(&*store, "may").await;
    store
        .put_document("may", &shop.bot, &document("ship.md", "Giao hàng"))
        .await
        .expect("put");
    let mut edited = document("ship.md", "Giao hàng toàn quốc");
    edited.source = "https://may.vn/ship".into();
    edited.sha256 = "e".repeat(64);
    edited.chunks.truncate(1);
    edited.updated_at_ms = T0 + 60_000;
    store
        .put_document("may", &shop.bot, &edited)
        .await
        .expect("replace");
    assert_eq!(
        store.documents("may", &shop.bot).await.expect("read"),
        [edited]
    );
}

async fn deleting_a_document_says_whether_it_existed(store: Arc<dyn Store>) {
    let shop = shop(&*store, "may").await;
    for id in ["a.md", "b.md"] {
        store
            .put_document("may", &shop.bot, &document(id, id))
            .await
            .expect("put");
    }
    assert!(
        store
            .delete_document("may", &shop.bot, "a.md")
            .await
            .expect("delete")
    );
    assert!(
        !store
            .delete_document("may", &shop.bot, "a.md")
            .await
            .expect("delete again")
    );
    assert!(
        !store
            .delete_document("may", &shop.bot, "never.md")
            .await
            .expect("delete unknown")
    );
    let left = store.documents("may", &shop.bot).await.expect("read");
    assert_eq!(ids(&left), ["b.md"]);
}

async fn documents_are_listed_by_id(store: Arc<dyn Store>) {
    let shop = shop(&*store, "may").await;
    for id in ["đổi-trả.md", "b.md", "B.md", "a-z.md", "a.md"] {
        store
            .put_document("may", &shop.bot, &document(id, id))
            .await
            .expect("put");
    }
    let listed = store.documents("may", &shop.bot).await.expect("read");
    assert_eq!(
        ids(&listed),
        ["B.md", "a-z.md", "a.md", "b.md", "đổi-trả.md"],
        "byte order of the ids on every backend, whatever the locale"
    );
}

async fn documents_of_another_tenant_are_never_read_or_deleted(store: Arc<dyn Store>) {
    let may = shop(&*store, "may").await;
    shop(&*store, "lua").await;
    store
        .put_document("may", &may.bot, &document("ship.md", "Mây ships"))
        .await
        .expect("may's");
    store
        .put_document("lua", &may.bot, &document("ship.md", "Lụa ships"))
        .await
        .expect("same bot and document ids under another tenant");

    let seen = store.documents("may", &may.bot).await.expect("read");
    assert_eq!(seen, [document("ship.md", "Mây ships")]);
    assert!(
        store
            .delete_document("lua", &may.bot, "ship.md")
            .await
            .expect("delete")
    );
    assert_eq!(
        store.documents("may", &may.bot).await.expect("read"),
        [document("ship.md", "Mây ships")],
        "the other tenant's delete left this one"
    );
    assert!(
        store
            .documents("lua", &may.bot)
            .await
            .expect("read")
            .is_empty()
    );
    assert!(
        store
            .documents("may", "lua-bot")
            .await
            .expect("read")
            .is_empty()
    );
}
