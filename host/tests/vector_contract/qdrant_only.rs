//! What only the Qdrant index has: points that outlive the client, a collection checked
//! against the embedder at start, and errors that name the server it cannot reach.

use loa::knowledge::vector::qdrant::QdrantSettings;
use loa::knowledge::vector::{IndexError, Partition, PointKind, QdrantIndex, VectorIndex};

use crate::{DIMENSION, axis, drop_collection, point, qdrant_url, test_settings};

#[tokio::test]
async fn points_outlive_the_client_that_wrote_them() {
    let Some(url) = qdrant_url(concat!(
        module_path!(),
        "::points_outlive_the_client_that_wrote_them"
    )) else {
        return;
    };
    let settings = test_settings(&url);
    let shop = Partition::new("may", "shop");
    let first = QdrantIndex::connect(&settings, DIMENSION)
        .await
        .expect("connect");
    assert!(first.is_persistent());
    first
        .upsert(&shop, vec![point("p0", PointKind::Faq, "faq", axis(0))])
        .await
        .expect("upsert");
    drop(first);

    let second = QdrantIndex::connect(&settings, DIMENSION)
        .await
        .expect("reconnect to the existing collection");
    assert_eq!(second.count(&shop).await.expect("count"), 1);
    drop_collection(&url, &settings.collection).await;
}

#[tokio::test]
async fn a_collection_of_another_dimension_is_refused_at_start() {
    let Some(url) = qdrant_url(concat!(
        module_path!(),
        "::a_collection_of_another_dimension_is_refused_at_start"
    )) else {
        return;
    };
    let settings = test_settings(&url);
    QdrantIndex::connect(&settings, DIMENSION)
        .await
        .expect("connect");

    let error = match QdrantIndex::connect(&settings, DIMENSION + 1).await {
        Ok(_) => panic!(
            "a collection of {DIMENSION} dimensions was accepted for {}",
            DIMENSION + 1
        ),
        Err(error) => error.to_string(),
    };
    assert!(error.contains(&settings.collection), "{error}");
    assert!(error.contains(&DIMENSION.to_string()), "{error}");
    drop_collection(&url, &settings.collection).await;
}

#[tokio::test]
async fn an_unreachable_server_is_a_backend_error_naming_it() {
    // Nothing listens on port 1; no server is needed for this one.
    let settings = QdrantSettings {
        timeout: std::time::Duration::from_secs(2),
        ..QdrantSettings::new("http://127.0.0.1:1")
    };
    match QdrantIndex::connect(&settings, DIMENSION).await {
        Ok(_) => panic!("connected to nothing"),
        Err(IndexError::Backend(message)) => {
            assert!(message.contains("127.0.0.1:1"), "{message}")
        }
        Err(other) => panic!("expected a backend error, got {other:?}"),
    }
}
