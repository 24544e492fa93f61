//! The plugin key-value store: values, prefixes, quotas, compare-and-swap.

use std::sync::Arc;

use loa::store::{KvQuota, KvScope, Store, StoreError};

crate::contract!(
    values_are_set_read_replaced_and_deleted_per_scope,
    prefixes_list_in_byte_order_within_the_limit,
    quotas_bound_keys_values_and_key_length,
    compare_and_swap_swaps_only_on_the_expected_value,
    concurrent_compare_and_swap_loses_no_update,
    concurrent_writes_never_exceed_the_key_quota,
);

fn scope(tenant: &str, plugin: &str) -> KvScope {
    KvScope {
        tenant_id: tenant.into(),
        plugin: plugin.into(),
    }
}

async fn values_are_set_read_replaced_and_deleted_per_scope(store: Arc<dyn Store>) {
    let (may, lua, other_plugin) = (
        scope("may", "zalo-oa"),
        scope("lua", "zalo-oa"),
        scope("may", "telegram"),
    );
    let quota = KvQuota::default();
    assert_eq!(store.kv_get(&may, "token").await.expect("get"), None);
    let binary = [0_u8, 255, 1, 0, 128];
    store
        .kv_set(&may, "token", &binary, &quota)
        .await
        .expect("set");
    assert_eq!(
        store.kv_get(&may, "token").await.expect("get").as_deref(),
        Some(&binary[..])
    );
    assert_eq!(store.kv_get(&lua, "token").await.expect("get"), None);
    assert_eq!(
        store.kv_get(&other_plugin, "token").await.expect("get"),
        None
    );

    store
        .kv_set(&may, "token", b"", &quota)
        .await
        .expect("replace with empty");
    assert_eq!(
        store.kv_get(&may, "token").await.expect("get").as_deref(),
        Some(&b""[..])
    );
    store.kv_delete(&may, "token").await.expect("delete");
    assert_eq!(store.kv_get(&may, "token").await.expect("get"), None);
    store
        .kv_delete(&may, "token")
        .await
        .expect("deleting a missing key is fine");
}

async fn prefixes_list_in_byte_order_within_the_limit(store: Arc<dyn Store>) {
    let may = scope("may", "zalo-oa");
    let quota = KvQuota::default();
    for key in ["b", "a", "B", "a%", "a_", "ab", "é", "a b", "Zz"] {
        store
            .kv_set(&may, key, key.as_bytes(), &quota)
            .await
            .expect("set");
    }
    store
        .kv_set(&scope("lua", "zalo-oa"), "a-lua", b"x", &quota)
        .await
        .expect("set");
    let list = |prefix: &'static str, limit: u32| {
        let store = Arc::clone(&store);
        let may = may.clone();
        async move {
            store
                .kv_list_prefix(&may, prefix, limit)
                .await
                .expect("list")
        }
    };
    assert_eq!(
        list("", 100).await,
        ["B", "Zz", "a", "a b", "a%", "a_", "ab", "b", "é"]
    );
    assert_eq!(list("a", 100).await, ["a", "a b", "a%", "a_", "ab"]);
    assert_eq!(list("a", 2).await, ["a", "a b"]);
    assert_eq!(list("a_", 100).await, ["a_"], "'_' is not a wildcard");
    assert_eq!(list("a%", 100).await, ["a%"], "'%' is not a wildcard");
    assert_eq!(list("é", 100).await, ["é"]);
    assert!(list("c", 100).await.is_empty());
}

async fn quotas_bound_keys_values_and_key_length(store: Arc<dyn Store>) {
    let may = scope("may", "zalo-oa");
    let quota = KvQuota {
        max_keys: 2,
        max_value_bytes: 8,
        max_key_bytes: 5,
    };
    store
        .kv_set(&may, "k1", b"12345678", &quota)
        .await
        .expect("at the value limit");
    store
        .kv_set(&may, "k2", b"x", &quota)
        .await
        .expect("second key");
    let error = store
        .kv_set(&may, "k3", b"x", &quota)
        .await
        .expect_err("third key");
    assert!(matches!(error, StoreError::QuotaExceeded(_)), "{error:?}");
    store
        .kv_set(&may, "k1", b"replaced", &quota)
        .await
        .expect("replacing is no new key");
    let error = store
        .kv_set(&may, "k1", b"123456789", &quota)
        .await
        .expect_err("value too big");
    assert!(matches!(error, StoreError::QuotaExceeded(_)), "{error:?}");
    assert_eq!(
        store.kv_get(&may, "k1").await.expect("get").as_deref(),
        Some(&b"replaced"[..])
    );
    for key in ["", "123456"] {
        let error = store
            .kv_set(&may, key, b"x", &quota)
            .await
            .expect_err("bad key");
        assert!(matches!(error, StoreError::InvalidKey(_)), "{error:?}");
    }
    store
        .kv_set(&scope("lua", "zalo-oa"), "k3", b"x", &quota)
        .await
        .expect("another tenant's own quota");
    store.kv_delete(&may, "k2").await.expect("delete");
    store
        .kv_set(&may, "k3", b"x", &quota)
        .await
        .expect("room again");
    assert_eq!(
        store.kv_list_prefix(&may, "", 10).await.expect("list"),
        ["k1", "k3"]
    );
}

async fn compare_and_swap_swaps_only_on_the_expected_value(store: Arc<dyn Store>) {
    let may = scope("may", "zalo-oa");
    let quota = KvQuota {
        max_keys: 1,
        ..KvQuota::default()
    };
    let cas = |key: &'static str, expected: Option<&'static [u8]>, new: Option<&'static [u8]>| {
        let (store, may) = (Arc::clone(&store), may.clone());
        async move {
            store
                .kv_compare_and_swap(&may, key, expected, new, &quota)
                .await
        }
    };
    assert!(cas("refresh", None, Some(b"r1")).await.expect("create"));
    assert!(
        !cas("refresh", None, Some(b"r2"))
            .await
            .expect("exists already")
    );
    assert!(
        !cas("refresh", Some(b"r0"), Some(b"r2"))
            .await
            .expect("stale")
    );
    assert_eq!(
        store.kv_get(&may, "refresh").await.expect("get").as_deref(),
        Some(&b"r1"[..])
    );
    assert!(
        cas("refresh", Some(b"r1"), Some(b"r2"))
            .await
            .expect("swap")
    );
    assert_eq!(
        store.kv_get(&may, "refresh").await.expect("get").as_deref(),
        Some(&b"r2"[..])
    );

    let error = cas("other", None, Some(b"x"))
        .await
        .expect_err("over the key quota");
    assert!(matches!(error, StoreError::QuotaExceeded(_)), "{error:?}");
    let error = cas("", None, Some(b"x")).await.expect_err("empty key");
    assert!(matches!(error, StoreError::InvalidKey(_)), "{error:?}");
    assert!(
        !cas("missing", Some(b"r2"), None)
            .await
            .expect("nothing to delete")
    );
    assert!(cas("refresh", Some(b"r2"), None).await.expect("delete"));
    assert_eq!(store.kv_get(&may, "refresh").await.expect("get"), None);
}

async fn concurrent_compare_and_swap_loses_no_update(store: Arc<dyn Store>) {
    const WRITERS: u64 = 6;
    const INCREMENTS: u64 = 5;
    let may = scope("may", "counter");
    let writers: Vec<_> = (0..WRITERS)
        .map(|_| {
            let (store, may) = (Arc::clone(&store), may.clone());
            tokio::spawn(async move {
                let quota = KvQuota::default();
                for _ in 0..INCREMENTS {
                    loop {
                        let current = store.kv_get(&may, "n").await.expect("get");
                        let value = current.as_deref().map_or(0, |bytes| {
                            u64::from_be_bytes(bytes.try_into().expect("8 bytes"))
                        });
                        let next = (value + 1).to_be_bytes();
                        let swapped = store
                            .kv_compare_and_swap(&may, "n", current.as_deref(), Some(&next), &quota)
                            .await
                            .expect("cas");
                        if swapped {
                            break;
                        }
                    }
                }
            })
        })
        .collect();
    for writer in writers {
        writer.await.expect("writer");
    }
    let total = store.kv_get(&may, "n").await.expect("get").expect("set");
    assert_eq!(
        u64::from_be_bytes(total.try_into().expect("8 bytes")),
        WRITERS * INCREMENTS
    );
}

async fn concurrent_writes_never_exceed_the_key_quota(store: Arc<dyn Store>) {
    let may = scope("may", "zalo-oa");
    let quota = KvQuota {
        max_keys: 4,
        ..KvQuota::default()
    };
    let writes: Vec<_> = (0..12)
        .map(|index| {
            let (store, may) = (Arc::clone(&store), may.clone());
            tokio::spawn(async move {
                let key = format!("key-{index:02}");
                match index % 2 {
                    0 => store.kv_set(&may, &key, b"v", &quota).await.map(|()| true),
                    _ => {
                        store
                            .kv_compare_and_swap(&may, &key, None, Some(b"v"), &quota)
                            .await
                    }
                }
            })
        })
        .collect();
    let mut written = 0;
    for write in writes {
        match write.await.expect("task") {
            Ok(true) => written += 1,
            Ok(false) => panic!("a new key's compare-and-swap found it taken"),
            Err(StoreError::QuotaExceeded(_)) => {}
            Err(other) => panic!("unexpected error {other:?}"),
        }
    }
    assert_eq!(written, 4);
    assert_eq!(
        store
            .kv_list_prefix(&may, "key-", 100)
            .await
            .expect("list")
            .len(),
        4
    );
}
