//! Searching: best first with cosine scores, the limit, the kind filter, an empty index and
//! agreement with a brute-force reference over a thousand random points.

use std::sync::Arc;

use loa::knowledge::vector::{Partition, PointKind, VectorIndex};

use crate::{DIMENSION, Random, assert_score, axis, brute_force, point, unit};

crate::contract!(
    results_come_best_first_with_their_cosine_scores,
    the_limit_caps_the_results_to_the_best_ones,
    the_kind_filter_keeps_only_that_kind,
    an_empty_index_finds_nothing_and_counts_zero,
    top_ten_of_a_thousand_random_points_matches_brute_force,
    filtered_top_ten_matches_brute_force_over_that_kind,
);

fn shop() -> Partition {
    Partition::new("may", "shop")
}

async fn results_come_best_first_with_their_cosine_scores(index: Arc<dyn VectorIndex>) {
    let half = 60f32.to_radians();
    let points = vec![
        point("opposite", PointKind::Faq, "f4", unit(&[-1.0])),
        point("orthogonal", PointKind::Faq, "f3", axis(1)),
        point("same", PointKind::Faq, "f1", axis(0)),
        point(
            "sixty",
            PointKind::Chunk,
            "d1",
            unit(&[half.cos(), half.sin()]),
        ),
    ];
    index.upsert(&shop(), points).await.expect("upsert");

    let hits = index
        .search(&shop(), &axis(0), None, 10)
        .await
        .expect("search");

    let ids: Vec<&str> = hits.iter().map(|hit| hit.id.as_str()).collect();
    assert_eq!(ids, ["same", "sixty", "orthogonal", "opposite"]);
    for (hit, expected) in hits.iter().zip([1.0, 0.5, 0.0, -1.0]) {
        assert_score(hit.score, expected);
    }
    assert_eq!(hits[1].kind, PointKind::Chunk);
    assert_eq!(hits[1].item_id, "d1");
    assert_eq!(hits[0].kind, PointKind::Faq);
    assert_eq!(hits[0].item_id, "f1");
}

async fn the_limit_caps_the_results_to_the_best_ones(index: Arc<dyn VectorIndex>) {
    // Point i is at angle 10·i degrees from the query: closeness falls with i.
    let points = (0..6)
        .map(|i| {
            let angle = (10.0 * i as f32).to_radians();
            point(
                &format!("p{i}"),
                PointKind::Chunk,
                "doc",
                unit(&[angle.cos(), angle.sin()]),
            )
        })
        .collect();
    index.upsert(&shop(), points).await.expect("upsert");

    let three = index
        .search(&shop(), &axis(0), None, 3)
        .await
        .expect("search");
    let ids: Vec<&str> = three.iter().map(|hit| hit.id.as_str()).collect();
    assert_eq!(ids, ["p0", "p1", "p2"]);

    let all = index
        .search(&shop(), &axis(0), None, 100)
        .await
        .expect("search");
    assert_eq!(all.len(), 6, "a limit above the count returns every point");

    let none = index
        .search(&shop(), &axis(0), None, 0)
        .await
        .expect("search");
    assert!(none.is_empty(), "limit 0 returns nothing: {none:?}");
}

async fn the_kind_filter_keeps_only_that_kind(index: Arc<dyn VectorIndex>) {
    // The chunks are closer to the query than the FAQ entries, so a filter that leaked would
    // show them first.
    let points = vec![
        point("chunk-near", PointKind::Chunk, "doc", axis(0)),
        point("chunk-mid", PointKind::Chunk, "doc", unit(&[1.0, 0.5])),
        point("faq-mid", PointKind::Faq, "faq-1", unit(&[1.0, 1.0])),
        point("faq-far", PointKind::Faq, "faq-2", axis(1)),
    ];
    index.upsert(&shop(), points).await.expect("upsert");

    let faqs = index
        .search(&shop(), &axis(0), Some(PointKind::Faq), 10)
        .await
        .expect("search");
    let ids: Vec<&str> = faqs.iter().map(|hit| hit.id.as_str()).collect();
    assert_eq!(ids, ["faq-mid", "faq-far"]);
    assert!(faqs.iter().all(|hit| hit.kind == PointKind::Faq));

    let chunks = index
        .search(&shop(), &axis(0), Some(PointKind::Chunk), 1)
        .await
        .expect("search");
    let ids: Vec<&str> = chunks.iter().map(|hit| hit.id.as_str()).collect();
    assert_eq!(ids, ["chunk-near"]);

    let any = index
        .search(&shop(), &axis(0), None, 10)
        .await
        .expect("search");
    assert_eq!(any.len(), 4);
}

async fn an_empty_index_finds_nothing_and_counts_zero(index: Arc<dyn VectorIndex>) {
    let hits = index
        .search(&shop(), &axis(0), None, 10)
        .await
        .expect("search");
    assert!(hits.is_empty());
    assert_eq!(index.count(&shop()).await.expect("count"), 0);

    index
        .upsert(&shop(), Vec::new())
        .await
        .expect("upserting nothing is fine");
    assert_eq!(index.count(&shop()).await.expect("count"), 0);
}

/// A thousand random FAQ and chunk points in the partition, and as many closer decoys in
/// another tenant's partition that must not show up.
async fn random_points(
    index: &dyn VectorIndex,
    seed: u64,
) -> Vec<loa::knowledge::vector::VectorPoint> {
    let mut random = Random::new(seed);
    let points: Vec<_> = (0..1000)
        .map(|i| {
            let kind = if i % 3 == 0 {
                PointKind::Faq
            } else {
                PointKind::Chunk
            };
            point(
                &format!("p{i}"),
                kind,
                &format!("item-{}", i / 4),
                random.unit_vector(),
            )
        })
        .collect();
    index.upsert(&shop(), points.clone()).await.expect("upsert");
    let decoys = points
        .iter()
        .map(|original| {
            point(
                &original.id,
                original.kind,
                "decoy",
                original.vector.clone(),
            )
        })
        .collect();
    index
        .upsert(&Partition::new("lua", "shop"), decoys)
        .await
        .expect("upsert decoys");
    assert_eq!(index.count(&shop()).await.expect("count"), 1000);
    points
}

async fn top_ten_of_a_thousand_random_points_matches_brute_force(index: Arc<dyn VectorIndex>) {
    let points = random_points(index.as_ref(), 7).await;
    let mut random = Random::new(99);
    for _ in 0..5 {
        let query = random.unit_vector();
        let expected = brute_force(&points, &query, None, 11);
        assert_top_ten(index.as_ref(), &query, None, &expected).await;
    }
}

async fn filtered_top_ten_matches_brute_force_over_that_kind(index: Arc<dyn VectorIndex>) {
    let points = random_points(index.as_ref(), 11).await;
    let mut random = Random::new(5);
    for kind in [PointKind::Faq, PointKind::Chunk] {
        let query = random.unit_vector();
        let expected = brute_force(&points, &query, Some(kind), 11);
        assert_top_ten(index.as_ref(), &query, Some(kind), &expected).await;
    }
}

/// Checks the index's top ten against the reference's first eleven (the eleventh shows that
/// the cut is not a near tie, which float rounding could resolve either way).
async fn assert_top_ten(
    index: &dyn VectorIndex,
    query: &[f32],
    kind: Option<PointKind>,
    expected: &[(String, f64)],
) {
    assert_eq!(query.len(), DIMENSION);
    assert!(
        expected[9].1 - expected[10].1 > 1e-4,
        "the test data has a near tie at the cut; pick another seed"
    );
    let hits = index
        .search(&shop(), query, kind, 10)
        .await
        .expect("search");
    assert_eq!(hits.len(), 10);
    for (position, (hit, (id, score))) in hits.iter().zip(expected).enumerate() {
        assert_score(hit.score, *score as f32);
        assert!(hit.item_id != "decoy", "another tenant's point came back");
        if let Some(kind) = kind {
            assert_eq!(hit.kind, kind);
        }
        // Neighbours whose scores are within rounding of each other may swap places.
        let tied = expected
            .iter()
            .take(10)
            .filter(|(_, other)| (other - score).abs() < 1e-5)
            .count()
            > 1;
        if !tied {
            assert_eq!(&hit.id, id, "position {position}");
        }
    }
    for pair in hits.windows(2) {
        assert!(pair[0].score >= pair[1].score, "not best first: {hits:?}");
    }
    let mut got: Vec<&str> = hits.iter().map(|hit| hit.id.as_str()).collect();
    let mut want: Vec<&str> = expected[..10].iter().map(|(id, _)| id.as_str()).collect();
    got.sort_unstable();
    want.sort_unstable();
    assert_eq!(got, want);
}
