//! Partitions: the same ids and vectors in two tenants, or two bots of one tenant, never
//! meet; every operation stays inside the partition it names.

use std::sync::Arc;

use loa::knowledge::vector::{Partition, PointKind, VectorIndex};

use crate::{axis, point};

crate::contract!(
    searches_and_counts_see_only_their_own_partition,
    writes_to_one_partition_leave_the_others_untouched,
    an_unknown_partition_is_empty_and_can_be_cleared,
);

/// Two tenants, two bots of one tenant, and a tenant whose id is a prefix of another's.
fn partitions() -> [Partition; 4] {
    [
        Partition::new("may", "shop"),
        Partition::new("lua", "shop"),
        Partition::new("may", "support"),
        Partition::new("ma", "shop"),
    ]
}

/// The item id that says which partition a point came from.
fn owner(partition: &Partition) -> String {
    format!("{}/{}", partition.tenant_id, partition.bot_id)
}

/// The same three ids and vectors in every partition, plus `extra` points in the first.
async fn fill(index: &dyn VectorIndex, extra: usize) {
    for (n, partition) in partitions().iter().enumerate() {
        let mut points: Vec<_> = (0..3)
            .map(|i| point(&format!("p{i}"), PointKind::Faq, &owner(partition), axis(i)))
            .collect();
        if n == 0 {
            points.extend(
                (0..extra).map(|i| point(&format!("x{i}"), PointKind::Chunk, "extra", axis(5))),
            );
        }
        index.upsert(partition, points).await.expect("upsert");
    }
}

async fn searches_and_counts_see_only_their_own_partition(index: Arc<dyn VectorIndex>) {
    fill(index.as_ref(), 2).await;

    for (n, partition) in partitions().iter().enumerate() {
        let expected_count = if n == 0 { 5 } else { 3 };
        assert_eq!(
            index.count(partition).await.expect("count"),
            expected_count,
            "{partition:?}"
        );
        let hits = index
            .search(partition, &axis(0), None, 100)
            .await
            .expect("search");
        assert_eq!(hits.len(), expected_count, "{partition:?}: {hits:?}");
        let owned = owner(partition);
        assert!(
            hits.iter()
                .all(|hit| hit.item_id == owned || hit.item_id == "extra"),
            "{partition:?} saw another partition's points: {hits:?}"
        );
        assert_eq!(hits[0].id, "p0");
    }
}

async fn writes_to_one_partition_leave_the_others_untouched(index: Arc<dyn VectorIndex>) {
    fill(index.as_ref(), 0).await;
    let [may_shop, lua_shop, may_support, ma_shop] = partitions();

    // Same id in another partition: a new point there, not a replacement here.
    index
        .upsert(
            &lua_shop,
            vec![point("p0", PointKind::Chunk, "moved", axis(4))],
        )
        .await
        .expect("upsert");
    let hits = index
        .search(&may_shop, &axis(0), None, 1)
        .await
        .expect("search");
    assert_eq!(hits[0].item_id, owner(&may_shop));
    assert_eq!(hits[0].kind, PointKind::Faq);

    index
        .delete(&may_shop, &["p1".into()])
        .await
        .expect("delete");
    index
        .delete_item(&may_support, PointKind::Faq, &owner(&may_support))
        .await
        .expect("delete item");
    // The other partitions' items carry their own owner; this one names may/shop's item
    // but runs in ma/shop, which has no such item.
    index
        .delete_item(&ma_shop, PointKind::Faq, &owner(&may_shop))
        .await
        .expect("delete item");
    index.drop_partition(&lua_shop).await.expect("drop");

    assert_eq!(index.count(&may_shop).await.expect("count"), 2);
    assert_eq!(index.count(&lua_shop).await.expect("count"), 0);
    assert_eq!(index.count(&may_support).await.expect("count"), 0);
    assert_eq!(index.count(&ma_shop).await.expect("count"), 3);
    let ids: Vec<String> = index
        .search(&ma_shop, &axis(1), None, 1)
        .await
        .expect("search")
        .into_iter()
        .map(|hit| hit.id)
        .collect();
    assert_eq!(ids, ["p1"], "a delete in may/shop reached ma/shop");
}

async fn an_unknown_partition_is_empty_and_can_be_cleared(index: Arc<dyn VectorIndex>) {
    fill(index.as_ref(), 0).await;
    let stranger = Partition::new("nobody", "shop");

    assert!(
        index
            .search(&stranger, &axis(0), None, 10)
            .await
            .expect("search")
            .is_empty()
    );
    assert_eq!(index.count(&stranger).await.expect("count"), 0);
    index
        .delete(&stranger, &["p0".into()])
        .await
        .expect("delete");
    index
        .delete_item(&stranger, PointKind::Faq, "may/shop")
        .await
        .expect("delete item");
    index.drop_partition(&stranger).await.expect("drop");

    for partition in partitions() {
        assert_eq!(index.count(&partition).await.expect("count"), 3);
    }
}
