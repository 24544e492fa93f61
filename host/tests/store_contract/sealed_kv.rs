//! Plugin key-value values at rest: sealed with the master key's `SecretBox` (the Zalo OA
//! plugin keeps its live tokens there), compared opened by compare-and-swap, counted by
//! their plaintext in quotas; values from before the key still read and swap.

use std::sync::Arc;

use loa::auth::SecretBox;
use loa::auth::master_key::MasterKey;
use loa::store::{KvQuota, KvScope, Store, StoreError};

use crate::Fixture;

crate::contract_with_fixture!(
    kv_values_are_sealed_at_rest_and_read_back_as_given,
    a_sealed_value_copied_to_another_key_is_refused,
    compare_and_swap_compares_the_opened_value,
    plaintext_kv_value_from_before_the_key_reads_swaps_and_is_sealed,
    without_the_key_sealed_kv_values_are_refused_not_leaked,
    kv_quota_counts_the_plaintext_not_the_sealed_bytes,
    concurrent_compare_and_swap_spends_a_sealed_token_once,
);

const ACCESS_TOKEN: &[u8] = b"zalo-access-token-7731";
const REFRESH_TOKEN: &[u8] = b"zalo-refresh-token-5521";
const NEXT_REFRESH_TOKEN: &[u8] = b"zalo-refresh-token-9902";

fn secret_box(seed: u8) -> Arc<SecretBox> {
    Arc::new(SecretBox::new(&MasterKey::from_bytes([seed; 32])))
}

fn zalo() -> KvScope {
    KvScope {
        tenant_id: "may".into(),
        plugin: "zalo-oa".into(),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02X}")).collect()
}

/// The stored bytes of `key` in hex (upper case), read directly from the database.
async fn raw_value_hex(fixture: &Fixture, key: &str) -> String {
    let sql = match fixture.backend_name() {
        "sqlite" => format!("SELECT hex(value) FROM plugin_kv WHERE key = '{key}'"),
        _ => format!("SELECT upper(encode(value, 'hex')) FROM plugin_kv WHERE key = '{key}'"),
    };
    let mut rows = fixture.query_raw_text(&sql).await;
    assert_eq!(rows.len(), 1, "{key}: {rows:?}");
    rows.remove(0)
}

/// Inserts `value` for `key` directly, as a loa from before kv sealing wrote it.
async fn insert_raw(fixture: &Fixture, key: &str, value: &[u8]) {
    let bytes = match fixture.backend_name() {
        "sqlite" => format!("X'{}'", hex(value)),
        _ => format!("decode('{}', 'hex')", hex(value)),
    };
    fixture
        .execute_raw(&format!(
            "INSERT INTO plugin_kv (tenant_id, plugin, key, value) \
             VALUES ('may', 'zalo-oa', '{key}', {bytes})"
        ))
        .await
        .expect("raw insert");
}

/// Asserts the stored bytes of `key` are sealed and hold no trace of `plaintext`.
async fn assert_sealed(fixture: &Fixture, key: &str, plaintext: &[u8]) {
    let raw = raw_value_hex(fixture, key).await;
    assert!(raw.starts_with(&hex(b"enc:v1b:")), "{key}: {raw}");
    // Every string contains the empty one: for an empty value the prefix is the proof.
    assert!(
        plaintext.is_empty() || !raw.contains(&hex(plaintext)),
        "{key}: plaintext in {raw}"
    );
}

async fn kv_values_are_sealed_at_rest_and_read_back_as_given(fixture: &Fixture) {
    let store = fixture.reopen(Some(secret_box(1))).await;
    let quota = KvQuota::default();
    store
        .kv_set(&zalo(), "token:42:access", ACCESS_TOKEN, &quota)
        .await
        .expect("set");
    let binary = [0_u8, 255, 1, 0, 128];
    store
        .kv_set(&zalo(), "token:42:binary", &binary, &quota)
        .await
        .expect("set");
    store
        .kv_set(&zalo(), "token:42:empty", b"", &quota)
        .await
        .expect("set");

    assert_sealed(fixture, "token:42:access", ACCESS_TOKEN).await;
    assert_sealed(fixture, "token:42:empty", b"").await;
    assert_eq!(
        store.kv_get(&zalo(), "token:42:access").await.expect("get"),
        Some(ACCESS_TOKEN.to_vec())
    );
    assert_eq!(
        store.kv_get(&zalo(), "token:42:binary").await.expect("get"),
        Some(binary.to_vec())
    );
    assert_eq!(
        store.kv_get(&zalo(), "token:42:empty").await.expect("get"),
        Some(Vec::new())
    );
    // Keys stay in the clear: listing by prefix is unchanged.
    assert_eq!(
        store
            .kv_list_prefix(&zalo(), "token:42:", 10)
            .await
            .expect("list"),
        ["token:42:access", "token:42:binary", "token:42:empty"]
    );
}

/// Someone who can write the database but lacks the key cannot move a sealed value (a
/// live token) to a key where the plugin would read it for something else.
async fn a_sealed_value_copied_to_another_key_is_refused(fixture: &Fixture) {
    let store = fixture.reopen(Some(secret_box(1))).await;
    store
        .kv_set(
            &zalo(),
            "token:42:access",
            ACCESS_TOKEN,
            &KvQuota::default(),
        )
        .await
        .expect("set");
    let raw = raw_value_hex(fixture, "token:42:access").await;
    let sealed: Vec<u8> = (0..raw.len())
        .step_by(2)
        .map(|at| u8::from_str_radix(&raw[at..at + 2], 16).expect("hex"))
        .collect();
    insert_raw(fixture, "token:43:access", &sealed).await;
    let error = store
        .kv_get(&zalo(), "token:43:access")
        .await
        .expect_err("bound to its own key");
    assert!(
        matches!(&error, StoreError::Corrupt(message) if message.contains("token:43:access")),
        "{error:?}"
    );
    assert_eq!(
        store.kv_get(&zalo(), "token:42:access").await.expect("get"),
        Some(ACCESS_TOKEN.to_vec()),
        "the original still opens"
    );
}

async fn compare_and_swap_compares_the_opened_value(fixture: &Fixture) {
    let store = fixture.reopen(Some(secret_box(1))).await;
    let quota = KvQuota::default();
    let cas = |expected: Option<&'static [u8]>, new: Option<&'static [u8]>| {
        let store = Arc::clone(&store);
        async move {
            store
                .kv_compare_and_swap(&zalo(), "refresh", expected, new, &quota)
                .await
                .expect("cas")
        }
    };
    assert!(cas(None, Some(REFRESH_TOKEN)).await, "create");
    assert_sealed(fixture, "refresh", REFRESH_TOKEN).await;
    assert!(!cas(None, Some(ACCESS_TOKEN)).await, "exists already");
    assert!(
        !cas(Some(ACCESS_TOKEN), Some(NEXT_REFRESH_TOKEN)).await,
        "wrong expected"
    );
    assert_eq!(
        store.kv_get(&zalo(), "refresh").await.expect("get"),
        Some(REFRESH_TOKEN.to_vec())
    );
    assert!(
        cas(Some(REFRESH_TOKEN), Some(NEXT_REFRESH_TOKEN)).await,
        "right expected, though its stored bytes differ from a new sealing"
    );
    assert_sealed(fixture, "refresh", NEXT_REFRESH_TOKEN).await;
    assert_eq!(
        store.kv_get(&zalo(), "refresh").await.expect("get"),
        Some(NEXT_REFRESH_TOKEN.to_vec())
    );
    assert!(!cas(Some(REFRESH_TOKEN), None).await, "spent token");
    assert!(cas(Some(NEXT_REFRESH_TOKEN), None).await, "delete");
    assert_eq!(store.kv_get(&zalo(), "refresh").await.expect("get"), None);
}

async fn plaintext_kv_value_from_before_the_key_reads_swaps_and_is_sealed(fixture: &Fixture) {
    insert_raw(fixture, "refresh", REFRESH_TOKEN).await;
    insert_raw(fixture, "access", ACCESS_TOKEN).await;
    assert_eq!(
        raw_value_hex(fixture, "refresh").await,
        hex(REFRESH_TOKEN),
        "legacy: plaintext"
    );

    let store = fixture.reopen(Some(secret_box(1))).await;
    let quota = KvQuota::default();
    assert_eq!(
        store.kv_get(&zalo(), "refresh").await.expect("get"),
        Some(REFRESH_TOKEN.to_vec())
    );
    assert!(
        !store
            .kv_compare_and_swap(
                &zalo(),
                "refresh",
                Some(ACCESS_TOKEN),
                Some(NEXT_REFRESH_TOKEN),
                &quota
            )
            .await
            .expect("cas"),
        "wrong expected against plaintext"
    );
    assert!(
        store
            .kv_compare_and_swap(
                &zalo(),
                "refresh",
                Some(REFRESH_TOKEN),
                Some(NEXT_REFRESH_TOKEN),
                &quota
            )
            .await
            .expect("cas"),
        "right expected against plaintext"
    );
    assert_sealed(fixture, "refresh", NEXT_REFRESH_TOKEN).await;
    assert_eq!(
        store.kv_get(&zalo(), "refresh").await.expect("get"),
        Some(NEXT_REFRESH_TOKEN.to_vec())
    );

    store
        .kv_set(&zalo(), "access", ACCESS_TOKEN, &quota)
        .await
        .expect("rewrite");
    assert_sealed(fixture, "access", ACCESS_TOKEN).await;
    assert_eq!(
        store.kv_get(&zalo(), "access").await.expect("get"),
        Some(ACCESS_TOKEN.to_vec())
    );
}

async fn without_the_key_sealed_kv_values_are_refused_not_leaked(fixture: &Fixture) {
    fixture
        .reopen(Some(secret_box(1)))
        .await
        .kv_set(&zalo(), "refresh", REFRESH_TOKEN, &KvQuota::default())
        .await
        .expect("set");
    let refused = |error: StoreError| {
        assert!(
            matches!(&error, StoreError::Corrupt(message) if message.contains("'refresh'")),
            "{error:?}"
        );
        error.to_string()
    };
    let no_key = fixture.reopen(None).await;
    let message = refused(no_key.kv_get(&zalo(), "refresh").await.expect_err("no key"));
    assert!(message.contains("master key"), "{message}");
    refused(
        no_key
            .kv_compare_and_swap(
                &zalo(),
                "refresh",
                Some(REFRESH_TOKEN),
                None,
                &KvQuota::default(),
            )
            .await
            .expect_err("no key"),
    );
    let other_key = fixture.reopen(Some(secret_box(2))).await;
    refused(
        other_key
            .kv_get(&zalo(), "refresh")
            .await
            .expect_err("other key"),
    );
    assert_sealed(fixture, "refresh", REFRESH_TOKEN).await;
}

async fn kv_quota_counts_the_plaintext_not_the_sealed_bytes(fixture: &Fixture) {
    let store = fixture.reopen(Some(secret_box(1))).await;
    // Sealing makes 8 bytes 44: a quota on stored bytes would refuse all of these.
    let quota = KvQuota {
        max_value_bytes: 8,
        ..KvQuota::default()
    };
    store
        .kv_set(&zalo(), "k", b"12345678", &quota)
        .await
        .expect("at the value limit");
    assert!(
        store
            .kv_compare_and_swap(&zalo(), "k", Some(b"12345678"), Some(b"87654321"), &quota)
            .await
            .expect("cas at the value limit")
    );
    let error = store
        .kv_set(&zalo(), "k", b"123456789", &quota)
        .await
        .expect_err("over the value limit");
    assert!(matches!(error, StoreError::QuotaExceeded(_)), "{error:?}");
    let error = store
        .kv_compare_and_swap(&zalo(), "k", Some(b"87654321"), Some(b"123456789"), &quota)
        .await
        .expect_err("over the value limit");
    assert!(matches!(error, StoreError::QuotaExceeded(_)), "{error:?}");
    assert_eq!(
        store.kv_get(&zalo(), "k").await.expect("get"),
        Some(b"87654321".to_vec())
    );
}

async fn concurrent_compare_and_swap_spends_a_sealed_token_once(fixture: &Fixture) {
    const ROUNDS: usize = 5;
    // Three stores on one database: three loa instances sharing the Zalo token.
    let mut stores: Vec<Arc<dyn Store>> = Vec::new();
    for _ in 0..3 {
        stores.push(fixture.reopen(Some(secret_box(1))).await);
    }
    let quota = KvQuota::default();
    stores[0]
        .kv_set(&zalo(), "refresh", b"r0", &quota)
        .await
        .expect("set");
    for round in 0..ROUNDS {
        let spent = format!("r{round}").into_bytes();
        let attempts: Vec<_> = (0..6)
            .map(|attempt| {
                let store = Arc::clone(&stores[attempt % stores.len()]);
                let spent = spent.clone();
                tokio::spawn(async move {
                    let next = format!("r{}-{attempt}", round + 1).into_bytes();
                    store
                        .kv_compare_and_swap(&zalo(), "refresh", Some(&spent), Some(&next), &quota)
                        .await
                        .expect("cas")
                        .then_some(next)
                })
            })
            .collect();
        let mut winners = Vec::new();
        for attempt in attempts {
            winners.extend(attempt.await.expect("task"));
        }
        assert_eq!(winners.len(), 1, "round {round}: {winners:?}");
        assert_eq!(
            stores[1].kv_get(&zalo(), "refresh").await.expect("get"),
            Some(winners[0].clone())
        );
        // The next round spends the winner's token under a simple name.
        let next = format!("r{}", round + 1).into_bytes();
        assert!(
            stores[2]
                .kv_compare_and_swap(&zalo(), "refresh", Some(&winners[0]), Some(&next), &quota)
                .await
                .expect("cas")
        );
    }
    assert_sealed(fixture, "refresh", format!("r{ROUNDS}").as_bytes()).await;
}
