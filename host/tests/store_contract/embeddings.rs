//! Embedding vectors ([`KnowledgeStore`](loa::store::KnowledgeStore)): bit-exact round
//! trips, upserts, per-model and per-tenant separation, and retention.

use std::sync::Arc;
use std::time::Instant;

use loa::store::{Store, StoredEmbedding};

use crate::seed::{bot, shop};

crate::contract!(
    vectors_round_trip_bit_for_bit,
    putting_a_vector_again_replaces_it,
    a_batch_naming_one_text_twice_keeps_the_last_vector,
    vectors_are_kept_per_model_and_bot,
    retaining_deletes_exactly_the_others_and_counts_them,
    retaining_nothing_deletes_every_vector_of_the_model,
    vectors_of_another_tenant_are_never_read_or_deleted,
    two_thousand_vectors_of_384_dimensions_round_trip,
);

/// A 64-hex-digit hash standing for the text `name`.
fn hash(name: &str) -> String {
    format!("{name:0>64}")
}

fn embedding(name: &str, vector: &[f32]) -> StoredEmbedding {
    StoredEmbedding {
        text_sha256: hash(name),
        vector: vector.to_vec(),
    }
}

/// The vectors' bits by hash: `==` on floats would call -0.0 and 0.0 equal.
fn bits(embeddings: &[StoredEmbedding]) -> Vec<(String, Vec<u32>)> {
    let mut bits: Vec<_> = embeddings
        .iter()
        .map(|embedding| {
            let vector = embedding.vector.iter().map(|value| value.to_bits());
            (embedding.text_sha256.clone(), vector.collect())
        })
        .collect();
    bits.sort();
    bits
}

const MODEL: &str = "multilingual-e5-small";
async fn vectors_round_trip_bit_for_bit(store: Arc<dyn Store>) {
    let shop = shop(&*store, "may").await;
    let written = [
        embedding(
            "a",
            &[
                -0.0,
                0.0,
                1.0e-45, // the smallest subnormal
                f32::MIN_POSITIVE,
                f32::EPSILON,
                -f32::MAX,
                f32::MAX,
                0.1,
                -0.333_333_34,
                1.0,
            ],
        ),
        embedding("b", &[-1.5, 2.25]),
        embedding("c", &[]),
    ];
    store
        .put_embeddings("may", &shop.bot, MODEL, &written)
        .await
        .expect("put");
    let read = store
        .embeddings("may", &shop.bot, MODEL)
        .await
        .expect("read");
    assert_eq!(bits(&read), bits(&written));
}

async fn putting_a_vector_again_replaces_it(store: Arc<dyn Store>) {
    let shop = shop(&*store, "may").await;
    store
        .put_embeddings(
            "may",
            &shop.bot,
            MODEL,
            &[embedding("a", &[1.0, 2.0]), embedding("b", &[3.0, 4.0])],
        )
        .await
        .expect("put");
    store
        .put_embeddings("may", &shop.bot, MODEL, &[embedding("a", &[-1.0, -2.0])])
        .await
        .expect("upsert");
    let read = store
        .embeddings("may", &shop.bot, MODEL)
        .await
        .expect("read");
    assert_eq!(
        bits(&read),
        bits(&[embedding("a", &[-1.0, -2.0]), embedding("b", &[3.0, 4.0])])
    );
}

async fn a_batch_naming_one_text_twice_keeps_the_last_vector(store: Arc<dyn Store>) {
    let shop = shop(&*store, "may").await;
    store
        .put_embeddings(
            "may",
            &shop.bot,
            MODEL,
            &[
                embedding("a", &[1.0]),
                embedding("b", &[2.0]),
                embedding("a", &[3.0]),
            ],
        )
        .await
        .expect("put");
    let read = store
        .embeddings("may", &shop.bot, MODEL)
        .await
        .expect("read");
    assert_eq!(
        bits(&read),
        bits(&[embedding("a", &[3.0]), embedding("b", &[2.0])])
    );
}

async fn vectors_are_kept_per_model_and_bot(store: Arc<dyn Store>) {
    let shop = shop(&*store, "may").await;
    store
        .put_bot(&bot("may", "may-other"))
        .await
        .expect("second bot");
    store
        .put_embeddings("may", &shop.bot, MODEL, &[embedding("a", &[1.0])])
        .await
        .expect("small model");
    store
        .put_embeddings("may", &shop.bot, "bge-m3", &[embedding("a", &[9.0, 9.0])])
        .await
        .expect("other model, same text");
    store
        .put_embeddings("may", "may-other", MODEL, &[embedding("z", &[5.0])])
        .await
        .expect("other bot");

    let small = store
        .embeddings("may", &shop.bot, MODEL)
        .await
        .expect("read");
    assert_eq!(bits(&small), bits(&[embedding("a", &[1.0])]));
    let large = store
        .embeddings("may", &shop.bot, "bge-m3")
        .await
        .expect("read");
    assert_eq!(bits(&large), bits(&[embedding("a", &[9.0, 9.0])]));
    let other = store
        .embeddings("may", "may-other", MODEL)
        .await
        .expect("read");
    assert_eq!(bits(&other), bits(&[embedding("z", &[5.0])]));
    assert!(
        store
            .embeddings("may", &shop.bot, "unknown-model")
            .await
            .expect("read")
            .is_empty()
    );
}

async fn retaining_deletes_exactly_the_others_and_counts_them(store: Arc<dyn Store>) {
    let shop = shop(&*store, "may").await;
    let all: Vec<_> = ["a", "b", "c", "d", "e"]
        .iter()
        .map(|name| embedding(name, &[1.0]))
        .collect();
    store
        .put_embeddings("may", &shop.bot, MODEL, &all)
        .await
        .expect("put");
    store
        .put_embeddings("may", &shop.bot, "bge-m3", &all)
        .await
        .expect("other model");

    let keep = [hash("b"), hash("d"), hash("not-stored")];
    let deleted = store
        .retain_embeddings("may", &shop.bot, MODEL, &keep)
        .await
        .expect("retain");
    assert_eq!(deleted, 3, "a, c and e");
    let left = store
        .embeddings("may", &shop.bot, MODEL)
        .await
        .expect("read");
    assert_eq!(
        bits(&left),
        bits(&[embedding("b", &[1.0]), embedding("d", &[1.0])])
    );
    assert_eq!(
        store
            .retain_embeddings("may", &shop.bot, MODEL, &keep)
            .await
            .expect("again"),
        0
    );
    let other_model = store
        .embeddings("may", &shop.bot, "bge-m3")
        .await
        .expect("read");
    assert_eq!(other_model.len(), 5, "another model's vectors stay");
}

async fn retaining_nothing_deletes_every_vector_of_the_model(store: Arc<dyn Store>) {
    let shop = shop(&*store, "may").await;
    let two = [embedding("a", &[1.0]), embedding("b", &[2.0])];
    store
        .put_embeddings("may", &shop.bot, MODEL, &two)
        .await
        .expect("put");
    store
        .put_embeddings("may", &shop.bot, "bge-m3", &two)
        .await
        .expect("other model");
    assert_eq!(
        store
            .retain_embeddings("may", &shop.bot, MODEL, &[])
            .await
            .expect("retain"),
        2
    );
    assert!(
        store
            .embeddings("may", &shop.bot, MODEL)
            .await
            .expect("read")
            .is_empty()
    );
    assert_eq!(
        store
            .embeddings("may", &shop.bot, "bge-m3")
            .await
            .expect("read")
            .len(),
        2
    );
}

async fn vectors_of_another_tenant_are_never_read_or_deleted(store: Arc<dyn Store>) {
    let may = shop(&*store, "may").await;
    shop(&*store, "lua").await;
    store
        .put_embeddings("may", &may.bot, MODEL, &[embedding("a", &[1.0])])
        .await
        .expect("may's");
    store
        .put_embeddings("lua", &may.bot, MODEL, &[embedding("a", &[2.0])])
        .await
        .expect("same bot, model and text under another tenant");
    let mays = store
        .embeddings("may", &may.bot, MODEL)
        .await
        .expect("read");
    assert_eq!(bits(&mays), bits(&[embedding("a", &[1.0])]));

    assert_eq!(
        store
            .retain_embeddings("lua", &may.bot, MODEL, &[])
            .await
            .expect("retain"),
        1,
        "only the other tenant's own vector"
    );
    let mays = store
        .embeddings("may", &may.bot, MODEL)
        .await
        .expect("read");
    assert_eq!(bits(&mays), bits(&[embedding("a", &[1.0])]));
}

async fn two_thousand_vectors_of_384_dimensions_round_trip(store: Arc<dyn Store>) {
    let shop = shop(&*store, "may").await;
    let written: Vec<_> = (0..2_000u32)
        .map(|text| {
            let vector: Vec<f32> = (0..384u32)
                .map(|dimension| {
                    let value = ((text * 384 + dimension) % 997) as f32 / 997.0 - 0.5;
                    value / (1.0 + text as f32)
                })
                .collect();
            embedding(&format!("{text:x}"), &vector)
        })
        .collect();
    let started = Instant::now();
    store
        .put_embeddings("may", &shop.bot, MODEL, &written)
        .await
        .expect("put");
    let put = started.elapsed();
    let read = store
        .embeddings("may", &shop.bot, MODEL)
        .await
        .expect("read");
    let round_trip = started.elapsed();
    assert_eq!(read.len(), 2_000);
    assert_eq!(bits(&read), bits(&written));

    // Keep every other one: a keep list of a thousand hashes.
    let keep: Vec<String> = written
        .iter()
        .step_by(2)
        .map(|embedding| embedding.text_sha256.clone())
        .collect();
    let started = Instant::now();
    let deleted = store
        .retain_embeddings("may", &shop.bot, MODEL, &keep)
        .await
        .expect("retain");
    let retain = started.elapsed();
    assert_eq!(deleted, 1_000);
    let left = store
        .embeddings("may", &shop.bot, MODEL)
        .await
        .expect("read");
    let mut left_hashes: Vec<_> = left.into_iter().map(|e| e.text_sha256).collect();
    left_hashes.sort();
    let mut kept = keep;
    kept.sort();
    assert_eq!(left_hashes, kept);
    eprintln!("2,000 × 384: put {put:?}, put + read {round_trip:?}, retain 1,000 {retain:?}");
}

/// A stored vector whose bytes are not whole `f32`s is reported as corrupt, not read as a
/// shorter vector. Written behind the store's back, so one test per backend.
mod corrupt_vector {
    use loa::store::postgres::PostgresStore;
    use loa::store::sqlite::SqliteStore;
    use loa::store::{KnowledgeStore, StoreError};
    use tokio_postgres::NoTls;

    use crate::postgres_server::TestDatabase;
    use crate::seed::shop;

    const CUT_SHORT: &str = "INSERT INTO knowledge_embeddings
        (tenant_id, bot_id, model, text_sha256, vector) VALUES ('may', 'may-bot', 'm', 'h', ";

    #[tokio::test]
    async fn on_sqlite() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("loa.db");
        let store = SqliteStore::open(&path).expect("store");
        shop(&store, "may").await;
        rusqlite::Connection::open(&path)
            .expect("second connection")
            .execute(&format!("{CUT_SHORT} x'0000803f00')"), [])
            .expect("raw insert");
        let error = store
            .embeddings("may", "may-bot", "m")
            .await
            .expect_err("5 bytes");
        assert!(matches!(error, StoreError::Corrupt(_)), "{error:?}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn on_postgres() {
        let database = TestDatabase::create().await;
        let store = PostgresStore::connect(&database.url, 2)
            .await
            .expect("store");
        shop(&store, "may").await;
        let (client, connection) = tokio_postgres::connect(&database.url, NoTls)
            .await
            .expect("raw connection");
        let driver = tokio::spawn(connection);
        client
            .batch_execute(&format!("{CUT_SHORT} '\\x0000803f00'::bytea)"))
            .await
            .expect("raw insert");
        let error = store
            .embeddings("may", "may-bot", "m")
            .await
            .expect_err("5 bytes");
        assert!(matches!(error, StoreError::Corrupt(_)), "{error:?}");
        drop(client);
        let _ = driver.await;
        drop(store);
        database.finish().await;
    }
}
