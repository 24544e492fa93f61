//! The `VectorIndex` contract: every behaviour written once against `Arc<dyn VectorIndex>`
//! and run against each implementation, the in-memory index and Qdrant (a collection of its
//! own per test). A test `name` runs as `<area>::memory::name` and `<area>::qdrant::name`.
//!
//! The Qdrant tests need a server: set `LOA_TEST_QDRANT_URL` to its gRPC address
//! (`http://127.0.0.1:6334`). Without it each Qdrant test prints one line saying it was
//! skipped and passes: no package registry this project can use ships the Qdrant server,
//! so there is nothing to start on the fly as the store tests do with PostgreSQL.

mod isolation;
mod qdrant_only;
mod search;
mod writes;

use std::sync::Arc;

use loa::knowledge::vector::qdrant::QdrantSettings;
use loa::knowledge::vector::{MemoryIndex, PointKind, QdrantIndex, VectorIndex, VectorPoint};

/// Where a Qdrant server for the tests can be named.
pub const QDRANT_URL_VARIABLE: &str = "LOA_TEST_QDRANT_URL";

/// The tests' vector length: small enough to write by hand, and not a multiple of 8 so the
/// in-memory index's unrolled dot product runs its tail too.
pub const DIMENSION: usize = 20;

/// An index for one test and what must be cleaned up after it.
pub struct Fixture {
    pub index: Arc<dyn VectorIndex>,
    /// The Qdrant collection made for this test, dropped when it passed.
    qdrant_collection: Option<(String, String)>,
}

impl Fixture {
    /// An empty in-memory index.
    pub fn memory() -> Fixture {
        Fixture {
            index: Arc::new(MemoryIndex::new(DIMENSION)),
            qdrant_collection: None,
        }
    }

    /// An index in a new collection on the test server, or `None` (after saying so) when
    /// no server is configured.
    pub async fn qdrant(test: &str) -> Option<Fixture> {
        let url = qdrant_url(test)?;
        let settings = test_settings(&url);
        let index = QdrantIndex::connect(&settings, DIMENSION)
            .await
            .unwrap_or_else(|error| panic!("cannot reach the Qdrant test server: {error}"));
        Some(Fixture {
            index: Arc::new(index),
            qdrant_collection: Some((url, settings.collection)),
        })
    }

    /// Drops the test's Qdrant collection once the test passed (a failed test keeps it,
    /// to look at).
    pub async fn finish(self) {
        drop(self.index);
        if let Some((url, collection)) = self.qdrant_collection {
            drop_collection(&url, &collection).await;
        }
    }
}

/// The Qdrant server's address, or `None` after printing that `test` is skipped.
pub fn qdrant_url(test: &str) -> Option<String> {
    match std::env::var(QDRANT_URL_VARIABLE) {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ => {
            eprintln!(
                "skipped {test}: no Qdrant server (set {QDRANT_URL_VARIABLE}, e.g. \
                 http://127.0.0.1:6334)"
            );
            None
        }
    }
}

/// Settings for a collection no other test uses.
pub fn test_settings(url: &str) -> QdrantSettings {
    QdrantSettings {
        collection: format!("loa_contract_{}", uuid::Uuid::new_v4().simple()),
        ..QdrantSettings::new(url)
    }
}

/// Deletes `collection` on the server at `url`.
pub async fn drop_collection(url: &str, collection: &str) {
    let client = qdrant_client::Qdrant::from_url(url)
        .skip_compatibility_check()
        .build()
        .expect("qdrant client");
    client
        .delete_collection(collection)
        .await
        .unwrap_or_else(|error| panic!("cannot drop collection {collection}: {error}"));
}

/// Instantiates each named `async fn(Arc<dyn VectorIndex>)` of the calling module once per
/// backend, as `memory::name` and `qdrant::name`.
#[macro_export]
macro_rules! contract {
    ($($test:ident),+ $(,)?) => {
        mod memory {
            $(
                #[tokio::test]
                async fn $test() {
                    let fixture = $crate::Fixture::memory();
                    super::$test(std::sync::Arc::clone(&fixture.index)).await;
                    fixture.finish().await;
                }
            )+
        }
        mod qdrant {
            $(
                #[tokio::test]
                async fn $test() {
                    let name = concat!(module_path!(), "::", stringify!($test));
                    let Some(fixture) = $crate::Fixture::qdrant(name).await else {
                        return;
                    };
                    super::$test(std::sync::Arc::clone(&fixture.index)).await;
                    fixture.finish().await;
                }
            )+
        }
    };
}

/// A point with the given parts.
pub fn point(id: &str, kind: PointKind, item_id: &str, vector: Vec<f32>) -> VectorPoint {
    VectorPoint {
        id: id.to_owned(),
        kind,
        item_id: item_id.to_owned(),
        vector,
    }
}

/// `values` (padded with zeros to [`DIMENSION`]) scaled to unit length, as the embedder
/// hands them over.
pub fn unit(values: &[f32]) -> Vec<f32> {
    let mut vector = values.to_vec();
    vector.resize(DIMENSION, 0.0);
    let length = vector.iter().map(|x| x * x).sum::<f32>().sqrt();
    assert!(length > 0.0, "a zero vector has no direction");
    vector.iter().map(|x| x / length).collect()
}

/// The unit vector along dimension `axis`.
pub fn axis(axis: usize) -> Vec<f32> {
    let mut vector = vec![0.0; DIMENSION];
    vector[axis] = 1.0;
    vector
}

/// Scores from the two backends differ in the last float bits (Qdrant normalises again
/// and may sum in another order).
pub const SCORE_TOLERANCE: f32 = 1e-4;

/// Asserts `actual` is `expected` within [`SCORE_TOLERANCE`].
#[track_caller]
pub fn assert_score(actual: f32, expected: f32) {
    assert!(
        (actual - expected).abs() < SCORE_TOLERANCE,
        "score {actual}, expected {expected}"
    );
}

/// A small deterministic generator (SplitMix64), so a failing random test fails the same way
/// every run.
pub struct Random(u64);

impl Random {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [-1, 1).
    pub fn next_signed(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 / (1u64 << 23) as f32 - 1.0
    }

    /// A random direction.
    pub fn unit_vector(&mut self) -> Vec<f32> {
        loop {
            let values: Vec<f32> = (0..DIMENSION).map(|_| self.next_signed()).collect();
            if values.iter().any(|x| x.abs() > 1e-3) {
                return unit(&values);
            }
        }
    }
}

/// The exact answer, computed in f64 over every point: the `limit` points of `kind` with
/// the highest cosine to `query`, best first, as (id, score).
pub fn brute_force(
    points: &[VectorPoint],
    query: &[f32],
    kind: Option<PointKind>,
    limit: usize,
) -> Vec<(String, f64)> {
    let norm = |v: &[f32]| v.iter().map(|x| f64::from(*x).powi(2)).sum::<f64>().sqrt();
    let mut scored: Vec<(String, f64)> = points
        .iter()
        .filter(|point| kind.is_none_or(|kind| point.kind == kind))
        .map(|point| {
            let dot: f64 = point
                .vector
                .iter()
                .zip(query)
                .map(|(a, b)| f64::from(*a) * f64::from(*b))
                .sum();
            (point.id.clone(), dot / (norm(&point.vector) * norm(query)))
        })
        .collect();
    scored.sort_by(|a, b| b.1.total_cmp(&a.1));
    scored.truncate(limit);
    scored
}
