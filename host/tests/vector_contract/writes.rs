//! Writing: upserts that replace, deletes by id, by item and by partition, vectors of the
//! wrong length, and ids that are not plain ASCII.

use std::sync::Arc;

use loa::knowledge::vector::{IndexError, Partition, PointKind, VectorIndex};

use crate::{DIMENSION, assert_score, axis, point, unit};

crate::contract!(
    upserting_an_existing_id_replaces_the_point,
    delete_removes_the_named_ids_and_ignores_unknown_ones,
    delete_item_removes_every_point_of_that_item_and_only_those,
    drop_partition_removes_all_its_points_and_allows_new_ones,
    a_vector_of_the_wrong_length_is_refused_and_nothing_is_stored,
    unicode_and_long_ids_come_back_exactly,
);

fn shop() -> Partition {
    Partition::new("may", "shop")
}

async fn ids_near(index: &dyn VectorIndex, partition: &Partition, query: &[f32]) -> Vec<String> {
    let mut ids: Vec<String> = index
        .search(partition, query, None, 100)
        .await
        .expect("search")
        .into_iter()
        .map(|hit| hit.id)
        .collect();
    ids.sort();
    ids
}

async fn upserting_an_existing_id_replaces_the_point(index: Arc<dyn VectorIndex>) {
    index
        .upsert(
            &shop(),
            vec![
                point("faq:opening:0", PointKind::Faq, "opening", axis(0)),
                point("faq:price:0", PointKind::Faq, "price", axis(2)),
            ],
        )
        .await
        .expect("upsert");
    index
        .upsert(
            &shop(),
            vec![point(
                "faq:opening:0",
                PointKind::Chunk,
                "hours-doc",
                axis(1),
            )],
        )
        .await
        .expect("replace");

    assert_eq!(index.count(&shop()).await.expect("count"), 2);
    let hits = index
        .search(&shop(), &axis(1), None, 1)
        .await
        .expect("search");
    assert_eq!(hits[0].id, "faq:opening:0");
    assert_eq!(hits[0].kind, PointKind::Chunk);
    assert_eq!(hits[0].item_id, "hours-doc");
    assert_score(hits[0].score, 1.0);

    // The old vector is gone: nothing lies along the first axis any more.
    let old = index
        .search(&shop(), &axis(0), None, 1)
        .await
        .expect("search");
    assert_score(old[0].score, 0.0);
}

async fn delete_removes_the_named_ids_and_ignores_unknown_ones(index: Arc<dyn VectorIndex>) {
    let points = (0..4)
        .map(|i| point(&format!("p{i}"), PointKind::Chunk, "doc", axis(i)))
        .collect();
    index.upsert(&shop(), points).await.expect("upsert");

    index
        .delete(&shop(), &["p1".into(), "p3".into(), "never-there".into()])
        .await
        .expect("delete");

    assert_eq!(index.count(&shop()).await.expect("count"), 2);
    assert_eq!(
        ids_near(index.as_ref(), &shop(), &axis(0)).await,
        ["p0", "p2"]
    );
    index
        .delete(&shop(), &[])
        .await
        .expect("deleting no ids is fine");
    index
        .delete(&shop(), &["p1".into()])
        .await
        .expect("deleting twice is fine");
    assert_eq!(index.count(&shop()).await.expect("count"), 2);
}

async fn delete_item_removes_every_point_of_that_item_and_only_those(index: Arc<dyn VectorIndex>) {
    let points = vec![
        // Three variants of one FAQ entry.
        point("faq:ship:0", PointKind::Faq, "ship", axis(0)),
        point("faq:ship:1", PointKind::Faq, "ship", unit(&[1.0, 1.0])),
        point("faq:ship:2", PointKind::Faq, "ship", axis(1)),
        // Another entry, and a document chunk whose item id happens to be the same.
        point("faq:pay:0", PointKind::Faq, "pay", axis(2)),
        point("chunk:ship:0", PointKind::Chunk, "ship", axis(3)),
    ];
    index.upsert(&shop(), points).await.expect("upsert");

    index
        .delete_item(&shop(), PointKind::Faq, "ship")
        .await
        .expect("delete item");

    assert_eq!(index.count(&shop()).await.expect("count"), 2);
    assert_eq!(
        ids_near(index.as_ref(), &shop(), &axis(0)).await,
        ["chunk:ship:0", "faq:pay:0"]
    );
    index
        .delete_item(&shop(), PointKind::Chunk, "no-such-document")
        .await
        .expect("an unknown item is fine");
    assert_eq!(index.count(&shop()).await.expect("count"), 2);
}

async fn drop_partition_removes_all_its_points_and_allows_new_ones(index: Arc<dyn VectorIndex>) {
    let support = Partition::new("may", "support");
    for partition in [shop(), support.clone()] {
        let points = (0..3)
            .map(|i| point(&format!("p{i}"), PointKind::Faq, "faq", axis(i)))
            .collect();
        index.upsert(&partition, points).await.expect("upsert");
    }

    index.drop_partition(&shop()).await.expect("drop");

    assert_eq!(index.count(&shop()).await.expect("count"), 0);
    assert!(ids_near(index.as_ref(), &shop(), &axis(0)).await.is_empty());
    assert_eq!(index.count(&support).await.expect("count"), 3);
    index
        .drop_partition(&shop())
        .await
        .expect("dropping twice is fine");

    index
        .upsert(
            &shop(),
            vec![point("again", PointKind::Chunk, "doc", axis(4))],
        )
        .await
        .expect("upsert after drop");
    assert_eq!(ids_near(index.as_ref(), &shop(), &axis(4)).await, ["again"]);
}

async fn a_vector_of_the_wrong_length_is_refused_and_nothing_is_stored(
    index: Arc<dyn VectorIndex>,
) {
    let short = vec![1.0; DIMENSION - 1];
    let error = index
        .upsert(
            &shop(),
            vec![
                point("good", PointKind::Faq, "faq", axis(0)),
                point("short", PointKind::Faq, "faq", short),
            ],
        )
        .await
        .expect_err("a short vector is refused");
    assert!(
        matches!(error, IndexError::Dimension { expected: DIMENSION, got } if got == DIMENSION - 1),
        "{error:?}"
    );
    assert_eq!(index.count(&shop()).await.expect("count"), 0);

    index
        .upsert(&shop(), vec![point("good", PointKind::Faq, "faq", axis(0))])
        .await
        .expect("upsert");
    let error = index
        .search(&shop(), &[0.5; DIMENSION + 3], None, 5)
        .await
        .expect_err("a long query is refused");
    assert!(
        matches!(error, IndexError::Dimension { expected: DIMENSION, got } if got == DIMENSION + 3),
        "{error:?}"
    );
    assert_eq!(index.count(&shop()).await.expect("count"), 1);
}

async fn unicode_and_long_ids_come_back_exactly(index: Arc<dyn VectorIndex>) {
    let long = "chunk:".to_owned() + &"tài-liệu-".repeat(120);
    let ids = [
        "faq:giờ-mở-cửa:0".to_owned(),
        "faq:🙂 emoji / slash : colon".to_owned(),
        "chunk:価格表:3".to_owned(),
        long.clone(),
        String::new(),
    ];
    let unicode_bot = Partition::new("cửa-hàng-mây", "trợ lý 🙂");
    let points = ids
        .iter()
        .enumerate()
        .map(|(i, id)| point(id, PointKind::Chunk, &format!("mục-{i}-ü"), axis(i)))
        .collect();
    index.upsert(&unicode_bot, points).await.expect("upsert");

    for (i, id) in ids.iter().enumerate() {
        let hits = index
            .search(&unicode_bot, &axis(i), None, 1)
            .await
            .expect("search");
        assert_eq!(&hits[0].id, id);
        assert_eq!(hits[0].item_id, format!("mục-{i}-ü"));
        assert_score(hits[0].score, 1.0);
    }

    index
        .delete(&unicode_bot, &[long, ids[1].clone()])
        .await
        .expect("delete");
    assert_eq!(index.count(&unicode_bot).await.expect("count"), 3);
    index
        .delete_item(&unicode_bot, PointKind::Chunk, "mục-0-ü")
        .await
        .expect("delete item");
    assert_eq!(index.count(&unicode_bot).await.expect("count"), 2);
}
